/*
 * Building and comparing forwarding tables and tund routes (fib.h).
 *
 * A table is rebuilt whole from the graph on every change and compared
 * with the one linkd holds; only a different table is pushed. Rebuilding
 * is cheaper to get right than patching: it cannot drift from the graph,
 * and a restarted linkd gets the same whole table as a running one.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/array.h"
#include "routed/accept.h"
#include "routed/fib.h"

void
routed_fib_init(struct routed_fib *f)
{
	memset(f, 0, sizeof(*f));
}

void
routed_fib_free(struct routed_fib *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void
routed_fib_clear(struct routed_fib *f)
{
	f->n = 0;
}

static int
prefix_is(const struct prefix *a, const struct prefix *b)
{
	return prefix_cmp(a, b) == 0;
}

int
routed_prefix_norm(struct prefix *out, const struct prefix *in, int host)
{
	if (in->family != 4 && in->family != 6)
		return -1;
	*out = *in;
	if (host)
		out->len = in->family == 4 ? 32 : 128;
	if (out->family == 4)
		memset(out->addr + 4, 0, sizeof(out->addr) - 4);
	prefix_mask(out);
	return 0;
}

/* Every prefix member m owns and a (NULL: no rule) lets us take,
 * normalised; returns how many. */
static size_t
member_prefixes(const struct graph_member *m,
    struct prefix out[2 + GRAPH_MAX_SUBNETS], const struct routed_accept *a)
{
	size_t n = 0;
	int k;

	if (routed_prefix_norm(&out[n], &m->ipv4, 1) == 0)
		n++;
	if (routed_prefix_norm(&out[n], &m->ipv6, 1) == 0)
		n++;
	for (k = 0; k < m->nsubnets && k < GRAPH_MAX_SUBNETS; k++)
		if (routed_prefix_norm(&out[n], &m->subnets[k], 0) == 0 &&
		    (a == NULL || routed_subnet_verdict(a, m,
		    &out[n]) == ROUTED_TAKEN))
			n++;
	return n;
}

int
routed_fib_add(struct routed_fib *f, const struct routed_fib_entry *e)
{
	struct routed_fib_entry *nv;

	if ((nv = array_room(f->v, f->n, &f->cap, sizeof(*nv), 32)) == NULL)
		return -1;
	f->v = nv;
	f->v[f->n++] = *e;
	return 0;
}

static int
rfib_entry_order(const void *pa, const void *pb)
{
	const struct routed_fib_entry *a = pa, *b = pb;
	int c;

	if ((c = prefix_cmp(&a->dst, &b->dst)) != 0)
		return c;
	/* A contested prefix: the nearer owner first, then the lower id,
	 * so every member settles the same dispute the same way. */
	if (a->cost != b->cost)
		return a->cost < b->cost ? -1 : 1;
	return memcmp(a->dest, b->dest, MEMBER_ID_BYTES);
}

int
routed_fib_build(struct routed_fib *f, const struct graph *g,
    const struct routed_accept *a)
{
	struct prefix own[2 + GRAPH_MAX_SUBNETS], pre[2 + GRAPH_MAX_SUBNETS];
	const struct graph_member *m, *hop;
	struct routed_fib_entry e;
	size_t i, k, j, nown = 0, npre, w;
	int s, mine;

	routed_fib_clear(f);
	if (!g->has_self)
		return 0;
	s = graph_member_index(g, g->self);
	if (s >= 0 && g->m[s].has_record)
		nown = member_prefixes(&g->m[s], own, NULL);

	for (i = 0; i < g->n; i++) {
		m = &g->m[i];
		if ((int)i == s || !m->has_record || !m->reachable ||
		    m->next_hop < 0 || (size_t)m->next_hop >= g->n)
			continue;
		hop = &g->m[m->next_hop];
		memset(&e, 0, sizeof(e));
		memcpy(e.dest, m->id, MEMBER_ID_BYTES);
		memcpy(e.next_hop, hop->id, MEMBER_ID_BYTES);
		e.cost = m->dist > UINT32_MAX ? UINT32_MAX : (uint32_t)m->dist;
		npre = member_prefixes(m, pre, a);
		for (k = 0; k < npre; k++) {
			/* Nobody else routes our own addresses. */
			for (mine = 0, j = 0; j < nown; j++)
				if (prefix_is(&pre[k], &own[j]))
					mine = 1;
			if (mine)
				continue;
			e.dst = pre[k];
			if (routed_fib_add(f, &e) == -1)
				return -1;
		}
	}

	if (f->n == 0)
		return 0;
	qsort(f->v, f->n, sizeof(f->v[0]), rfib_entry_order);
	for (w = 1, i = 1; i < f->n; i++)
		if (!prefix_is(&f->v[i].dst, &f->v[w - 1].dst))
			f->v[w++] = f->v[i];
	f->n = w;
	return 0;
}

static int
rfib_entry_same(const struct routed_fib_entry *a,
    const struct routed_fib_entry *b)
{
	return prefix_is(&a->dst, &b->dst) &&
	    memcmp(a->dest, b->dest, MEMBER_ID_BYTES) == 0 &&
	    memcmp(a->next_hop, b->next_hop, MEMBER_ID_BYTES) == 0 &&
	    a->cost == b->cost;
}

int
routed_fib_equal(const struct routed_fib *a, const struct routed_fib *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!rfib_entry_same(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

void
routed_fib_diff(const struct routed_fib *old, const struct routed_fib *cur,
    struct routed_fib_diff *d)
{
	size_t i = 0, j = 0;
	int c;

	memset(d, 0, sizeof(*d));
	while (i < old->n || j < cur->n) {
		if (i == old->n)
			c = 1;
		else if (j == cur->n)
			c = -1;
		else
			c = prefix_cmp(&old->v[i].dst,
			    &cur->v[j].dst);
		if (c < 0) {
			d->removed++;
			i++;
		} else if (c > 0) {
			d->added++;
			j++;
		} else {
			if (!rfib_entry_same(&old->v[i], &cur->v[j]))
				d->changed++;
			i++;
			j++;
		}
	}
}

const struct routed_fib_entry *
routed_fib_lookup(const struct routed_fib *f, int family, const uint8_t *addr)
{
	const struct routed_fib_entry *best = NULL;
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (f->v[i].dst.family != family ||
		    !prefix_contains(&f->v[i].dst, family, addr))
			continue;
		if (best == NULL || f->v[i].dst.len > best->dst.len)
			best = &f->v[i];
	}
	return best;
}

int
routed_routes_build(struct prefix_set *s, const struct graph *g,
    const struct routed_accept *a)
{
	const struct graph_member *m, *self = NULL;
	struct prefix p;
	size_t i;
	int k, j, mine;

	prefix_set_clear(s);
	if (g->has_self)
		self = graph_member_get(g, g->self);
	for (i = 0; i < g->n; i++) {
		m = &g->m[i];
		if (m == self || !m->has_record)
			continue;
		for (k = 0; k < m->nsubnets && k < GRAPH_MAX_SUBNETS; k++) {
			if (routed_prefix_norm(&p, &m->subnets[k], 0) == -1 ||
			    (a != NULL && routed_subnet_verdict(a, m, &p) !=
			    ROUTED_TAKEN))
				continue;
			mine = 0;
			for (j = 0; self != NULL && self->has_record &&
			    j < self->nsubnets; j++) {
				struct prefix q;

				if (routed_prefix_norm(&q, &self->subnets[j],
				    0) == 0 && prefix_is(&p, &q))
					mine = 1;
			}
			if (!mine && prefix_set_add(s, &p) == -1)
				return -1;
		}
	}
	prefix_set_sort(s);
	return 0;
}
