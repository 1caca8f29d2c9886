/*
 * log.c and logctl.c: what a daemon's log lines look like where they
 * land. Under systemd ($JOURNAL_STREAM naming stderr's device and
 * inode) each line is "<N>message" with N the sd-daemon(3) level (3
 * error .. 7 debug) and no time; in a log file each line starts with
 * the UTC time and the level; a $JOURNAL_STREAM that names another file
 * is not the journal. The "log" ctl request reads the level, and
 * changes it only for a caller that may change things.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "proto/log.h"
#include "proto/logctl.h"

struct fx {
	char path[64];
	int saved;        /* the real stderr */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	strcpy(f->path, "/tmp/om-test-log.XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	fflush(stderr);
	f->saved = dup(STDERR_FILENO);
	assert_true(f->saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_init("linkd", LOG_LVL_INFO, 0);
	log_set_style(LOG_STYLE_PLAIN);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	fflush(stderr);
	dup2(f->saved, STDERR_FILENO);
	close(f->saved);
	unlink(f->path);
	unsetenv("JOURNAL_STREAM");
	log_set_style(LOG_STYLE_PLAIN);
	log_init("test_log", LOG_LVL_WARN, 0);
	free(f);
	return 0;
}

/* What the redirected stderr holds so far. */
static const char *
written(struct fx *f)
{
	static char buf[4096];
	FILE *fp;
	size_t n;

	fflush(stderr);
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
set_journal_stream(const char *path, int off_by_one)
{
	struct stat st;
	char v[64];

	assert_int_equal(stat(path, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (off_by_one ? 1 : 0));
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static void
test_format_styles(void **state)
{
	/* 1970-01-02 01:01:01.005 UTC */
	struct timespec ts = { 86400 + 3661, 5999999 };
	char line[128];
	size_t n;

	(void)state;
	n = log_format(line, sizeof(line), LOG_STYLE_PLAIN, LOG_INFO, "keyd",
	    "ready", &ts);
	assert_string_equal(line, "keyd: ready\n");
	assert_int_equal(n, strlen(line));

	log_format(line, sizeof(line), LOG_STYLE_TIME, LOG_INFO, "keyd",
	    "ready", &ts);
	assert_string_equal(line, "1970-01-02T01:01:01.005Z info keyd: "
	    "ready\n");
	log_format(line, sizeof(line), LOG_STYLE_TIME, LOG_WARNING, "tund",
	    "x", &ts);
	assert_string_equal(line, "1970-01-02T01:01:01.005Z warn tund: x\n");
	log_format(line, sizeof(line), LOG_STYLE_TIME, LOG_ERR, "tund",
	    "x", &ts);
	assert_string_equal(line, "1970-01-02T01:01:01.005Z error tund: x\n");
	log_format(line, sizeof(line), LOG_STYLE_TIME, LOG_DEBUG, "tund",
	    "x", &ts);
	assert_string_equal(line, "1970-01-02T01:01:01.005Z debug tund: x\n");

	/* The journal: level prefix, no time, no name (it has both). */
	log_format(line, sizeof(line), LOG_STYLE_JOURNAL, LOG_ERR, "keyd",
	    "cannot", &ts);
	assert_string_equal(line, "<3>cannot\n");
	log_format(line, sizeof(line), LOG_STYLE_JOURNAL, LOG_WARNING,
	    "keyd", "w", &ts);
	assert_string_equal(line, "<4>w\n");
	log_format(line, sizeof(line), LOG_STYLE_JOURNAL, LOG_INFO, "keyd",
	    "i", &ts);
	assert_string_equal(line, "<6>i\n");
	log_format(line, sizeof(line), LOG_STYLE_JOURNAL, LOG_DEBUG, "keyd",
	    "d", &ts);
	assert_string_equal(line, "<7>d\n");
}

/* A message longer than the buffer is cut, and is still one line. */
static void
test_format_cut(void **state)
{
	char line[16], msg[100];
	size_t n;

	(void)state;
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = log_format(line, sizeof(line), LOG_STYLE_JOURNAL, LOG_INFO, "k",
	    msg, NULL);
	assert_int_equal(n, sizeof(line) - 1);
	assert_int_equal(strlen(line), n);
	assert_int_equal(line[n - 1], '\n');
	assert_memory_equal(line, "<6>mmm", 6);
	assert_ptr_equal(strchr(line, '\n'), line + n - 1);
}

static void
test_detect(void **state)
{
	struct fx *f = *state;

	unsetenv("JOURNAL_STREAM");
	assert_int_equal(log_style_detect(), LOG_STYLE_TIME);
	set_journal_stream(f->path, 0);
	assert_int_equal(log_style_detect(), LOG_STYLE_JOURNAL);
	/* Inherited from a parent whose stderr was the journal, but ours
	 * is another file: not the journal. */
	set_journal_stream(f->path, 1);
	assert_int_equal(log_style_detect(), LOG_STYLE_TIME);
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_int_equal(log_style_detect(), LOG_STYLE_TIME);
	setenv("JOURNAL_STREAM", "", 1);
	assert_int_equal(log_style_detect(), LOG_STYLE_TIME);
}

/* The whole path: log_warnx etc. write what the style says, and the
 * level filters. */
static void
test_lines_journal(void **state)
{
	struct fx *f = *state;

	set_journal_stream(f->path, 0);
	log_set_style(log_style_detect());
	log_setlevel(LOG_LVL_INFO);
	log_warnx("link to %s lost", "bob");
	log_info("up");
	log_debug("hidden at info");
	log_setlevel(LOG_LVL_DEBUG);
	log_debug("shown at debug");
	assert_string_equal(written(f), "<4>link to bob lost\n<6>up\n"
	    "<7>shown at debug\n");
}

static void
test_lines_file(void **state)
{
	struct fx *f = *state;
	regex_t re;

	log_set_style(log_style_detect());  /* no JOURNAL_STREAM */
	log_setlevel(LOG_LVL_WARN);
	log_info("hidden at warn");
	log_warnx("disk %d%% full", 91);
	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z warn linkd: disk 91% full\n$",
	    REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, written(f), 0, NULL, 0), 0);
	regfree(&re);
}

static void
test_level_names(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("warn"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("INFO"), LOG_LVL_INFO);
	assert_int_equal(log_level_parse("Debug"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("verbose"), -1);
	assert_int_equal(log_level_parse(""), -1);
	assert_string_equal(log_level_name(LOG_LVL_DEBUG), "debug");
	assert_null(log_level_name(3));
	assert_null(log_level_name(-1));
}

static json_t *
req(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
test_logctl(void **state)
{
	json_t *q, *r;

	(void)state;
	log_init("routed", LOG_LVL_INFO, 0);
	q = req("{\"cmd\": \"log\"}");
	r = logctl_cmd(NULL, q);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "level")),
	    "info");
	assert_string_equal(json_string_value(json_object_get(r, "daemon")),
	    "routed");
	json_decref(r);
	json_decref(q);

	/* Reading is open, setting changes state: the row says so, and
	 * the ctl door (test_ipc) refuses a reader before this runs. */
	q = req("{\"cmd\": \"log\", \"level\": \"debug\"}");
	{
		const struct ctl_cmd row = LOGCTL_ROW;
		json_t *plain = req("{\"cmd\": \"log\"}");

		assert_int_equal(ctl_cmd_changes(&row, q), 1);
		assert_int_equal(ctl_cmd_changes(&row, plain), 0);
		json_decref(plain);
	}
	r = logctl_cmd(NULL, q);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "level")),
	    "debug");
	assert_string_equal(json_string_value(json_object_get(r, "was")),
	    "info");
	assert_int_equal(log_getlevel(), LOG_LVL_DEBUG);
	json_decref(r);
	json_decref(q);

	/* Not a level: refused, naming it, level unchanged. */
	q = req("{\"cmd\": \"log\", \"level\": \"loud\"}");
	r = logctl_cmd(NULL, q);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(r,
	    "error")), "\"loud\""));
	assert_int_equal(log_getlevel(), LOG_LVL_DEBUG);
	json_decref(r);
	json_decref(q);
	q = req("{\"cmd\": \"log\", \"level\": 2}");
	r = logctl_cmd(NULL, q);
	assert_true(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	json_decref(q);
	log_setlevel(LOG_LVL_WARN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_styles),
		cmocka_unit_test(test_format_cut),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_journal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lines_file, setup,
		    teardown),
		cmocka_unit_test(test_level_names),
		cmocka_unit_test_setup_teardown(test_logctl, setup, teardown),
	};

	log_init("test_log", LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
