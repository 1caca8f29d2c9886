/*
 * Sorted sets of prefixes (prefixset.h): routed's subnet routes and
 * tund's routes on the device, one definition for both.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/array.h"
#include "proto/prefixset.h"

static size_t
prefix_bytes(const struct prefix *p)
{
	return p->family == 4 ? 4 : 16;
}

static int
prefix_order(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

void
prefix_set_init(struct prefix_set *s)
{
	memset(s, 0, sizeof(*s));
}

void
prefix_set_free(struct prefix_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
prefix_set_clear(struct prefix_set *s)
{
	s->n = 0;
}

int
prefix_set_add(struct prefix_set *s, const struct prefix *p)
{
	struct prefix *nv;

	if ((nv = array_room(s->v, s->n, &s->cap, sizeof(*nv), 16)) == NULL)
		return -1;
	s->v = nv;
	/* Only family, length and the address bytes that family has
	 * matter; the rest is zeroed so sets compare bytewise. */
	memset(&nv[s->n], 0, sizeof(nv[s->n]));
	nv[s->n].family = p->family;
	nv[s->n].len = p->len;
	memcpy(nv[s->n].addr, p->addr, prefix_bytes(p));
	s->n++;
	return 0;
}

void
prefix_set_sort(struct prefix_set *s)
{
	size_t i, w;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), prefix_order);
	for (w = 1, i = 1; i < s->n; i++)
		if (prefix_cmp(&s->v[i], &s->v[w - 1]) != 0)
			s->v[w++] = s->v[i];
	s->n = w;
}

int
prefix_set_has(const struct prefix_set *s, const struct prefix *p)
{
	if (s->n == 0)
		return 0;
	return bsearch(p, s->v, s->n, sizeof(s->v[0]), prefix_order) !=
	    NULL;
}

int
prefix_set_equal(const struct prefix_set *a, const struct prefix_set *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (prefix_cmp(&a->v[i], &b->v[i]) != 0)
			return 0;
	return 1;
}
