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
#include <stddef.h>
#include <time.h>

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

/* name: process prefix ("linkd"); level: most verbose level printed;
 * to_syslog: 0 writes to stderr (tests, foreground), 1 to syslog. */
void log_init(const char *name, int level, int to_syslog);
void log_setlevel(int level);
int log_getlevel(void);
/* The name given to log_init ("keyd", ...). */
const char *log_getname(void);
/* "warn", "info", "debug" (NULL for a level out of range), and back
 * (-1 for a name that is none of them; either case). */
const char *log_level_name(int level);
int log_level_parse(const char *name);

/*
 * How a line on stderr looks. PLAIN "linkd: msg" (the command, tests);
 * TIME "2026-12-07T12:40:29.123Z info linkd: msg" for a log file (the
 * `onionmesh up` supervisor appends a daemon's stderr to run/NAME.log);
 * JOURNAL "<6>msg": stderr is systemd's journal stream, which adds the
 * time and the process name and reads the level from the sd-daemon(3)
 * prefix (<3> error .. <7> debug).
 */
enum log_style { LOG_STYLE_PLAIN, LOG_STYLE_TIME, LOG_STYLE_JOURNAL };
void log_set_style(enum log_style style);
/* JOURNAL when $JOURNAL_STREAM names the device and inode of fd 2
 * (systemd.exec(5): only then is stderr the journal; a child that
 * inherited the variable but writes elsewhere gets TIME), else TIME. */
enum log_style log_style_detect(void);
/* One line (with its newline) into out, as style says: pri is a
 * syslog priority (LOG_ERR .. LOG_DEBUG), msg the message with any
 * strerror suffix already added, now the time for TIME. Returns the
 * length (cut to fit cap, still ending in a newline). */
size_t log_format(char *out, size_t cap, enum log_style style, int pri,
    const char *name, const char *msg, const struct timespec *now);

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
