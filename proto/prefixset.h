/*
 * A set of IP prefixes as a sorted array, the shape routed builds the
 * subnet routes in and tund keeps them in (what routed sent, what is on
 * the device): two sets built from the same input are equal element by
 * element, membership is a binary search, and two sets are compared or
 * walked side by side in one pass.
 *
 * Order (prefix_cmp): family, then the address bytes the family has,
 * then the length. Elements are stored normalised (the address bytes a
 * family does not use are zero), so equal prefixes compare equal
 * whatever their source left there; host bits are the caller's to
 * clear (prefix_mask).
 */
#ifndef OM_PREFIXSET_H
#define OM_PREFIXSET_H

#include <stddef.h>
#include <string.h>

#include "proto/addr.h"

struct prefix_set {
	struct prefix *v;
	size_t n;
	size_t cap;
};

/* <0, 0, >0 in the order above. Inline: sorting and merging tables
 * call it for every pair they look at. */
static inline int
prefix_cmp(const struct prefix *a, const struct prefix *b)
{
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

void prefix_set_init(struct prefix_set *s);
void prefix_set_free(struct prefix_set *s);
/* Empty it, keeping the memory. */
void prefix_set_clear(struct prefix_set *s);
/* Append p, normalised (unsorted until prefix_set_sort). -1 out of
 * memory, the set unchanged. */
int prefix_set_add(struct prefix_set *s, const struct prefix *p)
    __attribute__((warn_unused_result));
/* Sort and drop repeats. */
void prefix_set_sort(struct prefix_set *s);
/* In a sorted set? */
int prefix_set_has(const struct prefix_set *s, const struct prefix *p);
/* Two sorted sets with the same prefixes? */
int prefix_set_equal(const struct prefix_set *a,
    const struct prefix_set *b);

#endif
