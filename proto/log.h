/*
 * Logging for every onionmesh process, in the style of OpenBSD's log.h:
 * a process-name prefix, warn (adds strerror) / warnx, info, debug, and
 * fatal / fatalx for broken invariants in daemons. Library code in proto/
 * never calls fatal*: it returns an error to its caller.
 *
 * Never pass a secret (key, token, session key) to any of these.
 */
#ifndef OM_LOG_H
#define OM_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

/* name: process prefix ("linkd"); level: most verbose level printed;
 * to_syslog: 0 writes to stderr (tests, foreground), 1 to syslog. */
void log_init(const char *name, int level, int to_syslog);
void log_setlevel(int level);
int log_getlevel(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Rate-limited warning: at most one line per `key` every 10 s, so a peer
 * sending garbage cannot fill the disk. key is any stable pointer. */
void log_warnx_rl(const void *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
