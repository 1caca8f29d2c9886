/*
 * array_grow() (array.h): the doubling step of every growing table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/array.h"

void *
array_grow(void *p, size_t *cap, size_t elem, size_t first)
{
	void *np;
	size_t ncap;

	ncap = *cap ? *cap * 2 : first;
	/* Checked here, not left to reallocarray: a size that cannot be
	 * is "no memory" for the caller, never a question for malloc. */
	if (ncap < *cap || (elem != 0 && ncap > SIZE_MAX / elem)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((np = reallocarray(p, ncap, elem)) == NULL)
		return NULL;
	*cap = ncap;
	return np;
}
