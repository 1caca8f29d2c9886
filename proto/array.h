/*
 * Growing an array one element at a time, written once. The tables the
 * daemons build (members, forwarding entries, prefix sets, records)
 * grow by doubling; the step that finds room for one more, and keeps
 * the old block when there is no memory, is the same for all of them.
 * The test for room is inline: it runs for every element added, the
 * growing only now and then.
 */
#ifndef OM_ARRAY_H
#define OM_ARRAY_H

#include <stddef.h>

/* p grown to twice *cap elements of elem bytes (first when *cap is 0),
 * *cap updated; NULL when out of memory, p and *cap as they were. */
void *array_grow(void *p, size_t *cap, size_t elem, size_t first)
    __attribute__((warn_unused_result));

/* p holds n elements of elem bytes in room for *cap. Returns a block
 * with room for at least one more: p itself while it has room, else p
 * grown (doubling, from first) with *cap updated. NULL when out of
 * memory: p and *cap stay as they were, so the caller's array is
 * whole. */
static inline void *
array_room(void *p, size_t n, size_t *cap, size_t elem, size_t first)
{
	return n < *cap ? p : array_grow(p, cap, elem, first);
}

#endif
