/*
 * Multipath scheduling (see multipath.h for the policies and why).
 *
 * The per-packet cost matters more than cleverness here: a peer has a
 * handful of links, so each choice is one pass over a short array of
 * pointers with no allocation. The sticky choice is remembered as a
 * pointer to the chosen path (not an index) because the peer's array
 * shifts when a link closes; the peer calls mp_forget() before that.
 */
#include "linkd/multipath.h"

#include <string.h>

void
mp_init(struct mp_sched *m, enum mp_policy policy)
{
	memset(m, 0, sizeof(*m));
	m->policy = policy;
}

void
mp_forget(struct mp_sched *m, const struct mp_path *p)
{
	if (m->current == p)
		m->current = NULL;
}

/* The up path that became established first (lowest index on a tie). */
static int
first_established(struct mp_path *const *paths, size_t n)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!paths[i]->up)
			continue;
		if (best == -1 || paths[i]->t_up < paths[best]->t_up)
			best = (int)i;
	}
	return best;
}

static int
select_sticky(struct mp_sched *m, struct mp_path *const *paths, size_t n)
{
	size_t i;
	int best;

	if (m->current != NULL) {
		for (i = 0; i < n; i++)
			if (paths[i] == m->current && paths[i]->up)
				return (int)i;
	}
	best = first_established(paths, n);
	m->current = best == -1 ? NULL : paths[best];
	return best;
}

static int
select_stripe(struct mp_sched *m, struct mp_path *const *paths, size_t n)
{
	int best = -1;
	size_t i, j;

	/* Start the scan at a rotating offset so equal backlogs (idle
	 * links) take turns instead of all landing on the first. */
	for (j = 0; j < n; j++) {
		i = (m->rr + j) % n;
		if (!paths[i]->up)
			continue;
		if (best == -1 || paths[i]->backlog < paths[best]->backlog)
			best = (int)i;
	}
	m->rr++;
	return best;
}

int
mp_select(struct mp_sched *m, struct mp_path *const *paths, size_t n)
{
	int i;

	if (n == 0)
		return -1;
	if (m->policy == MP_STRIPE)
		i = select_stripe(m, paths, n);
	else
		i = select_sticky(m, paths, n);
	if (i >= 0)
		paths[i]->sent++;
	return i;
}
