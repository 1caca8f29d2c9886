/*
 * Unit tests for the shared contracts every daemon answers through:
 * the message and ctl tables (proto/dispatch.c), the JSON of ctl
 * replies (proto/json.c) and the endpoint parser and dialler
 * (proto/endpoint.c), the last on real sockets on loopback and in a
 * temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/dispatch.h"
#include "proto/endpoint.h"
#include "proto/json.h"

static int calls_record, calls_fib;

static void
on_record(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	(void)p;
	assert_ptr_equal(ctx, &calls_record);
	assert_int_equal(h->type, MSG_RECORD);
	calls_record++;
}

static void
on_fib(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	(void)ctx;
	(void)h;
	(void)p;
	calls_fib++;
}

static const struct msg_handler good[] = {
	{MSG_RECORD, D_KEYD, on_record},
	{MSG_FIB_ENTRY, D_ROUTED, on_fib},
};

static void
test_msg_table(void **state)
{
	/* RECORD comes from keyd only: a row taking it from linkd is a
	 * table that disagrees with the catalogue. */
	const struct msg_handler wrong_sender[] = {
		{MSG_RECORD, D_LINKD, on_record},
	};
	const struct msg_handler unknown[] = {
		{0x7777, D_KEYD, on_record},
	};
	const struct msg_handler twice[] = {
		{MSG_RECORD, D_KEYD, on_record},
		{MSG_RECORD, D_KEYD, on_fib},
	};
	const struct msg_handler no_fn[] = {
		{MSG_RECORD, D_KEYD, NULL},
	};

	(void)state;
	assert_int_equal(msg_table_check(good, TABLE_LEN(good), "t"), 0);
	assert_int_equal(msg_table_check(wrong_sender, 1, "t"), -1);
	assert_int_equal(msg_table_check(unknown, 1, "t"), -1);
	assert_int_equal(msg_table_check(twice, 2, "t"), -1);
	assert_int_equal(msg_table_check(no_fn, 1, "t"), -1);
}

static void
test_msg_dispatch(void **state)
{
	struct msg_hdr h;

	(void)state;
	calls_record = calls_fib = 0;
	memset(&h, 0, sizeof(h));
	h.type = MSG_RECORD;
	assert_int_equal(msg_dispatch(good, TABLE_LEN(good), D_KEYD,
	    &calls_record, &h, NULL), 0);
	assert_int_equal(calls_record, 1);
	/* The right type from the wrong sender runs nothing. */
	assert_int_equal(msg_dispatch(good, TABLE_LEN(good), D_ROUTED,
	    &calls_record, &h, NULL), -1);
	h.type = MSG_SELF;
	assert_int_equal(msg_dispatch(good, TABLE_LEN(good), D_KEYD,
	    &calls_record, &h, NULL), -1);
	assert_int_equal(calls_record, 1);
	assert_int_equal(calls_fib, 0);
}

static json_t *
ctl_x(void *ctx, json_t *req)
{
	(void)ctx;
	(void)req;
	return json_ok();
}

static void
test_ctl_table(void **state)
{
	static const struct ctl_cmd tab[] = {
		{"status", CTL_READ, NULL, ctl_x},
		{"reload", CTL_CHANGE, NULL, ctl_x},
		{"log", CTL_CHANGE_WITH, "level", ctl_x},
	};
	json_t *plain, *with;

	(void)state;
	plain = json_pack("{s:s}", "cmd", "log");
	with = json_pack("{s:s, s:s}", "cmd", "log", "level", "debug");
	assert_null(ctl_cmd_find(tab, TABLE_LEN(tab), "nope"));
	assert_null(ctl_cmd_find(tab, TABLE_LEN(tab), NULL));
	assert_ptr_equal(ctl_cmd_find(tab, TABLE_LEN(tab), "reload"),
	    &tab[1]);
	assert_int_equal(ctl_cmd_changes(&tab[0], with), 0);
	assert_int_equal(ctl_cmd_changes(&tab[1], plain), 1);
	assert_int_equal(ctl_cmd_changes(&tab[2], plain), 0);
	assert_int_equal(ctl_cmd_changes(&tab[2], with), 1);
	json_decref(plain);
	json_decref(with);
}

static void
test_json(void **state)
{
	uint8_t id[32];
	json_t *e, *h;
	char bad[] = "name \xe2\x82 cut";

	(void)state;
	e = json_error("value %d is not %s", 7, "1..5");
	assert_true(json_is_false(json_object_get(e, "ok")));
	assert_string_equal(json_string_value(json_object_get(e, "error")),
	    "value 7 is not 1..5");
	json_decref(e);
	/* A cut UTF-8 sequence would make jansson refuse the string and
	 * the reply vanish; it becomes '?' instead. */
	e = json_error_msg(bad);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "error")),
	    "name ?? cut");
	json_decref(e);
	e = json_ok();
	assert_true(json_is_true(json_object_get(e, "ok")));
	json_decref(e);
	memset(id, 0xab, sizeof(id));
	h = json_hex(id, sizeof(id));
	assert_int_equal(json_string_length(h), 64);
	assert_memory_equal(json_string_value(h), "abab", 4);
	json_decref(h);
}

static void
test_endpoint_split(void **state)
{
	struct endpoint ep;
	char err[256];

	(void)state;
	assert_int_equal(endpoint_split("unix:/run/tor/control", &ep, err,
	    sizeof(err)), 0);
	assert_true(ep.is_unix);
	assert_string_equal(ep.path, "/run/tor/control");
	assert_int_equal(endpoint_split("127.0.0.1:9051", &ep, err,
	    sizeof(err)), 0);
	assert_false(ep.is_unix);
	assert_string_equal(ep.host, "127.0.0.1");
	assert_int_equal(ep.port, 9051);
	assert_int_equal(endpoint_split("[::1]:655", &ep, err, sizeof(err)),
	    0);
	assert_string_equal(ep.host, "::1");
	assert_int_equal(endpoint_split("unix:relative", &ep, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "unix:relative"));
	assert_int_equal(endpoint_split("host:0", &ep, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "\"host:0\""));
	assert_non_null(strstr(err, "1..65535"));
	assert_int_equal(endpoint_split("::1:80", &ep, err, sizeof(err)),
	    -1);
}

static void
test_endpoint_connect(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	socklen_t len = sizeof(sin);
	char dir[] = "/tmp/om-ep-XXXXXX", s[160], remote[64], err[256];
	int lfd, ufd, fd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(s, sizeof(s), "127.0.0.1:%u", ntohs(sin.sin_port));
	fd = endpoint_connect(s, EP_NUMERIC | EP_LOOPBACK, remote,
	    sizeof(remote), err, sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(remote, s);
	close(fd);
	/* Names are refused when only numbers may be used. */
	assert_int_equal(endpoint_connect("example.invalid:80", EP_NUMERIC,
	    NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a name"));

	assert_non_null(mkdtemp(dir));
	ufd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	assert_int_equal(bind(ufd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(ufd, 4), 0);
	snprintf(s, sizeof(s), "unix:%s/s", dir);
	fd = endpoint_connect(s, EP_NONBLOCK, NULL, 0, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	snprintf(s, sizeof(s), "unix:%s/none", dir);
	assert_int_equal(endpoint_connect(s, 0, NULL, 0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "none"));
	close(ufd);
	close(lfd);
	snprintf(s, sizeof(s), "%s/s", dir);
	unlink(s);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_table),
		cmocka_unit_test(test_msg_dispatch),
		cmocka_unit_test(test_ctl_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_endpoint_split),
		cmocka_unit_test(test_endpoint_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
