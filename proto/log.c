/*
 * Logging: one line per event, "name: message", to stderr or syslog.
 * Kept tiny and dependency-free because every process and every unit
 * test links it. A daemon's stderr is a log file (time and level on
 * each line) or systemd's journal (a level prefix only; the journal
 * keeps the time): see log_style in log.h.
 */
#include "proto/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_name = "onionmesh";
static int log_level = LOG_LVL_INFO;
static int log_syslog;
static enum log_style log_style = LOG_STYLE_PLAIN;

static const char *const log_levels[] = {
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

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

const char *
log_getname(void)
{
	return log_name;
}

int
log_getlevel(void)
{
	return log_level;
}

const char *
log_level_name(int level)
{
	if (level < LOG_LVL_WARN || level > LOG_LVL_DEBUG)
		return NULL;
	return log_levels[level];
}

int
log_level_parse(const char *name)
{
	int i;

	for (i = LOG_LVL_WARN; i <= LOG_LVL_DEBUG; i++)
		if (strcasecmp(name, log_levels[i]) == 0)
			return i;
	return -1;
}

void
log_set_style(enum log_style style)
{
	log_style = style;
}

enum log_style
log_style_detect(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (js == NULL || sscanf(js, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    js[n] != '\0')
		return LOG_STYLE_TIME;
	if (fstat(STDERR_FILENO, &st) == -1 ||
	    (unsigned long long)st.st_dev != dev ||
	    (unsigned long long)st.st_ino != ino)
		return LOG_STYLE_TIME;
	return LOG_STYLE_JOURNAL;
}

static const char *
log_pri_name(int pri)
{
	switch (pri) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warn";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

size_t
log_format(char *out, size_t cap, enum log_style style, int pri,
    const char *name, const char *msg, const struct timespec *now)
{
	struct tm tm;
	int n;

	if (cap < 2) {
		if (cap == 1)
			out[0] = '\0';
		return 0;
	}
	switch (style) {
	case LOG_STYLE_JOURNAL:
		/* The journal names the process and adds the time. */
		n = snprintf(out, cap, "<%d>%s\n", pri & 7, msg);
		break;
	case LOG_STYLE_TIME:
		if (now == NULL || gmtime_r(&now->tv_sec, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ "
		    "%s %s: %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    now != NULL ? now->tv_nsec / 1000000 : 0L,
		    log_pri_name(pri), name, msg);
		break;
	default:
		n = snprintf(out, cap, "%s: %s\n", name, msg);
		break;
	}
	if (n < 0) {
		out[0] = '\0';
		return 0;
	}
	if ((size_t)n >= cap) {
		/* Cut: still one whole line. */
		out[cap - 2] = '\n';
		out[cap - 1] = '\0';
		return cap - 1;
	}
	return (size_t)n;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024], line[1280];
	struct timespec now;
	size_t n;

	n = (size_t)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", suffix);
	if (log_syslog) {
		syslog(pri, "%s", msg);
		return;
	}
	if (log_style != LOG_STYLE_TIME ||
	    clock_gettime(CLOCK_REALTIME, &now) == -1)
		memset(&now, 0, sizeof(now));
	n = log_format(line, sizeof(line), log_style, pri, log_name, msg,
	    &now);
	/* One write per line, so lines of two threads never mix. */
	fwrite(line, 1, n, stderr);
	fflush(stderr);
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
	vlog(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, NULL);
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
