/*
 * array_grow() (array.h): the doubling step of every growing table.
 */
#include <stdlib.h>

#include "proto/array.h"

void *
array_grow(void *p, size_t *cap, size_t elem, size_t first)
{
	void *np;
	size_t ncap;

	ncap = *cap ? *cap * 2 : first;
	if ((np = reallocarray(p, ncap, elem)) == NULL)
		return NULL;
	*cap = ncap;
	return np;
}
