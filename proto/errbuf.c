/*
 * The caller's error buffer (errbuf.h): one printf wrapper for every
 * parser in proto/ instead of one per file.
 */
#include "proto/errbuf.h"

#include <stdio.h>
#include <string.h>

int
err_vset(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	return -1;
}

int
err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_wipe(void *obj, size_t size, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, errlen, fmt, ap);
	va_end(ap);
	memset(obj, 0, size);
	return -1;
}
