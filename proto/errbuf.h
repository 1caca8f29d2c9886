/*
 * The caller's error buffer: every parser and checker in proto/ takes
 * (char *err, size_t errlen) and fills it with a message that names the
 * offending value and what would be right. Written once here so that
 * each file does not carry its own printf wrapper.
 */
#ifndef OM_ERRBUF_H
#define OM_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* Format into err (nothing when err is NULL or errlen 0). Returns -1, so
 * a failing path reads `return err_set(err, errlen, "...", v);`. */
int err_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_vset(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* The same, after zeroing obj (size bytes): a parser that fails leaves
 * no half-filled struct behind. */
int err_wipe(void *obj, size_t size, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
