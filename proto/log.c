/*
 * Logging: one line per event, "name: message", to stderr or syslog.
 * Kept tiny and dependency-free because every process and every unit
 * test links it.
 */
#include "proto/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *log_name = "onionmesh";
static int log_level = LOG_LVL_INFO;
static int log_syslog;

void
log_init(const char *name, int level, int to_syslog)
{
	log_name = name;
	log_level = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (suffix)
			syslog(pri, "%s: %s", msg, suffix);
		else
			syslog(pri, "%s", msg);
		return;
	}
	if (suffix)
		fprintf(stderr, "%s: %s: %s\n", log_name, msg, suffix);
	else
		fprintf(stderr, "%s: %s\n", log_name, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

#define RL_SLOTS 16
static struct {
	const void *key;
	time_t last;
} rl[RL_SLOTS];

void
log_warnx_rl(const void *key, const char *fmt, ...)
{
	va_list ap;
	time_t now = time(NULL);
	size_t i = ((size_t)key >> 4) % RL_SLOTS;

	if (rl[i].key == key && now - rl[i].last < 10)
		return;
	rl[i].key = key;
	rl[i].last = now;
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}
