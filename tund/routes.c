/*
 * The set of routes tund puts on its TUN device, and the walk that
 * brings the kernel from what is installed to what routed last
 * committed.
 *
 * Why this shape:
 *  - routed pushes whole tables (a restarted routed, or tund, is whole
 *    again after one push), so tund compares the committed set with what
 *    it installed and changes only the difference: a member coming or
 *    going moves its own prefixes, not every route.
 *  - The sets are plain sorted arrays and the walk calls back for every
 *    kernel change (route_set_sync's op), so the unit tests run it with
 *    a fake kernel; dispatch.c passes the rtnetlink one.
 *  - A route the kernel would not take (a prefix someone else routes
 *    already: EEXIST) is not installed and is tried again with the next
 *    table; a delete that finds the route gone (ESRCH) counts as done,
 *    so a set never keeps a route that is not there.
 */
#include "tund/tund.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
route_cmp(const void *pa, const void *pb)
{
	const struct prefix *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

void
route_set_init(struct route_set *s)
{
	memset(s, 0, sizeof(*s));
}

void
route_set_free(struct route_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
route_set_clear(struct route_set *s)
{
	s->n = 0;
}

const char *
route_check(const struct prefix *p)
{
	struct prefix m;
	unsigned max;

	if (p->family == 4)
		max = 32;
	else if (p->family == 6)
		max = 128;
	else
		return "family is neither IPv4 nor IPv6";
	if (p->len == 0)
		return "a default route (length 0); a gateway's default "
		    "arrives as two halves (/1)";
	if (p->len > max)
		return "prefix length is longer than the address";
	m = *p;
	prefix_mask(&m);
	if (memcmp(m.addr, p->addr, p->family == 4 ? 4 : 16) != 0)
		return "host bits are set";
	return NULL;
}

int
route_set_add(struct route_set *s, const struct prefix *p)
{
	struct prefix *nv, q;
	size_t ncap;

	if (s->n >= TUND_ROUTES_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (s->n == s->cap) {
		ncap = s->cap ? s->cap * 2 : 16;
		if (ncap > TUND_ROUTES_MAX)
			ncap = TUND_ROUTES_MAX;
		nv = reallocarray(s->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	/* Only family, length and the address bytes that family has
	 * matter; the rest is zeroed so sets compare bytewise. */
	memset(&q, 0, sizeof(q));
	q.family = p->family;
	q.len = p->len;
	memcpy(q.addr, p->addr, p->family == 4 ? 4 : 16);
	s->v[s->n++] = q;
	return 0;
}

void
route_set_sort(struct route_set *s)
{
	size_t i, w;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), route_cmp);
	for (w = 1, i = 1; i < s->n; i++)
		if (route_cmp(&s->v[i], &s->v[w - 1]) != 0)
			s->v[w++] = s->v[i];
	s->n = w;
}

int
route_set_has(const struct route_set *s, const struct prefix *p)
{
	if (s->n == 0)
		return 0;
	return bsearch(p, s->v, s->n, sizeof(s->v[0]), route_cmp) != NULL;
}

int
route_set_equal(const struct route_set *a, const struct route_set *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (route_cmp(&a->v[i], &b->v[i]) != 0)
			return 0;
	return 1;
}

int
route_set_sync(struct route_set *have, const struct route_set *want,
    route_op_fn op, void *arg, struct route_sync_stats *st)
{
	struct route_set next;
	size_t i;
	int r;

	memset(st, 0, sizeof(*st));
	route_set_init(&next);
	/* Room for the worst case up front: no allocation can fail in the
	 * middle, after the kernel has changed. */
	if (have->n + want->n > 0) {
		next.cap = have->n + want->n;
		if ((next.v = calloc(next.cap, sizeof(*next.v))) == NULL)
			return -1;
	}

	/* Deletes first: a prefix moving between two members' subnets is
	 * never routed twice. */
	for (i = 0; i < have->n; i++) {
		if (route_set_has(want, &have->v[i])) {
			next.v[next.n++] = have->v[i];
			continue;
		}
		r = op(arg, &have->v[i], 0);
		if (r == 0 || r == -ESRCH) {
			st->removed++;
			continue;
		}
		st->failed++;
		next.v[next.n++] = have->v[i]; /* still there: retry */
	}
	for (i = 0; i < want->n; i++) {
		if (route_set_has(have, &want->v[i]))
			continue;
		r = op(arg, &want->v[i], 1);
		if (r == 0) {
			st->added++;
			next.v[next.n++] = want->v[i];
		} else
			st->failed++;
	}
	route_set_sort(&next);
	route_set_free(have);
	*have = next;
	return 0;
}
