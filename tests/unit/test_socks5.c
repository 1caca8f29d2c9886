/*
 * socks5.c: the exact bytes of each request, every truncation of every
 * reply (the parser must say "more" and the client must not move on),
 * every way the proxy can refuse, and that the client consumes exactly
 * the SOCKS bytes and leaves the peer's first bytes to the caller.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/socks5.h"

#define HOST "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"

static const uint8_t method_ok[] = {0x05, 0x02};
static const uint8_t auth_ok[] = {0x01, 0x00};
static const uint8_t conn_ok4[] = {0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
static const uint8_t conn_ok6[] = {0x05, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1f, 0x90};
static const uint8_t conn_okd[] = {0x05, 0x00, 0x00, 0x03, 3, 'a', 'b', 'c',
	0x00, 0x50};

static void
test_requests(void **state)
{
	uint8_t b[SOCKS5_REQUEST_MAX];
	char big[300];
	int n;

	assert_int_equal(socks5_greeting(b, sizeof(b)), 3);
	assert_memory_equal(b, "\x05\x01\x02", 3);
	assert_int_equal(socks5_greeting(b, 2), -1);

	n = socks5_auth_request(b, sizeof(b), "link-7", "x");
	assert_int_equal(n, 10);
	assert_memory_equal(b, "\x01\x06link-7\x01x", 10);
	assert_int_equal(socks5_auth_request(b, 9, "link-7", "x"), -1);
	assert_int_equal(socks5_auth_request(b, sizeof(b), "", "x"), -1);
	assert_int_equal(socks5_auth_request(b, sizeof(b), "u", ""), -1);
	memset(big, 'u', 255);
	big[255] = '\0';
	assert_int_equal(socks5_auth_request(b, sizeof(b), big, big), 513);
	assert_int_equal(b[1], 255);
	assert_int_equal(b[257], 255);
	big[255] = 'u';
	big[256] = '\0';
	assert_int_equal(socks5_auth_request(b, sizeof(b), big, "p"), -1);
	assert_int_equal(socks5_auth_request(b, sizeof(b), "u", big), -1);

	n = socks5_connect_request(b, sizeof(b), HOST, 8080);
	assert_int_equal(n, 7 + 62);
	assert_memory_equal(b, "\x05\x01\x00\x03\x3e", 5);
	assert_memory_equal(b + 5, HOST, 62);
	assert_int_equal(b[67], 0x1f);
	assert_int_equal(b[68], 0x90);
	assert_int_equal(socks5_connect_request(b, 68, HOST, 80), -1);
	assert_int_equal(socks5_connect_request(b, sizeof(b), HOST, 0), -1);
	assert_int_equal(socks5_connect_request(b, sizeof(b), "", 80), -1);
	assert_int_equal(socks5_connect_request(b, sizeof(b), "a b", 80), -1);
	assert_int_equal(socks5_connect_request(b, sizeof(b), "a\nb", 80),
	    -1);
	assert_int_equal(socks5_connect_request(b, sizeof(b), big, 80), -1);
}

static void
test_reply_words(void **state)
{
	static const struct {
		uint8_t code;
		const char *words;
	} t[] = {
		{0x00, "succeeded"},
		{0x01, "general SOCKS server failure"},
		{0x02, "connection not allowed by ruleset"},
		{0x03, "network unreachable"},
		{0x04, "host unreachable"},
		{0x05, "connection refused"},
		{0x06, "TTL expired"},
		{0x07, "command not supported"},
		{0x08, "address type not supported"},
		{0xf0, "onion service descriptor can not be found"},
		{0xf1, "onion service descriptor is invalid"},
		{0xf2, "onion service introduction failed"},
		{0xf3, "onion service rendezvous failed"},
		{0xf4, "onion service missing client authorization"},
		{0xf5, "onion service wrong client authorization"},
		{0xf6, "onion service invalid address"},
		{0xf7, "onion service introduction timed out"},
		{0x09, "unknown SOCKS5 reply code"},
		{0xf8, "unknown SOCKS5 reply code"},
		{0xff, "unknown SOCKS5 reply code"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(socks5_reply_str(t[i].code), t[i].words);
}

typedef int (*parse_fn)(const uint8_t *, size_t, uint8_t *);

/* Every proper prefix says "more"; the whole says its length, also with
 * trailing bytes after it. */
static void
check_truncations(parse_fn f, const uint8_t *r, size_t len, uint8_t want)
{
	uint8_t buf[SOCKS5_REPLY_MAX + 8], code = 0xee;
	size_t k;

	for (k = 0; k < len; k++)
		assert_int_equal(f(r, k, &code), 0);
	assert_int_equal(code, 0xee);
	assert_int_equal(f(r, len, &code), (int)len);
	assert_int_equal(code, want);
	memcpy(buf, r, len);
	memcpy(buf + len, "PEER", 4);
	assert_int_equal(f(buf, len + 4, &code), (int)len);
}

static void
test_parsers(void **state)
{
	uint8_t r[SOCKS5_REPLY_MAX], code;
	size_t i;

	check_truncations(socks5_parse_method, method_ok, 2, 0x02);
	check_truncations(socks5_parse_method,
	    (const uint8_t *)"\x05\xff", 2, 0xff);
	check_truncations(socks5_parse_auth, auth_ok, 2, 0x00);
	check_truncations(socks5_parse_auth, (const uint8_t *)"\x01\x01", 2,
	    0x01);
	check_truncations(socks5_parse_connect, conn_ok4, sizeof(conn_ok4), 0);
	check_truncations(socks5_parse_connect, conn_ok6, sizeof(conn_ok6), 0);
	check_truncations(socks5_parse_connect, conn_okd, sizeof(conn_okd), 0);
	/* tor's onion errors come with an IPv4 zero address. */
	for (i = 0xf0; i <= 0xf7; i++) {
		uint8_t e[10] = {0x05, (uint8_t)i, 0, 0x01};

		check_truncations(socks5_parse_connect, e, sizeof(e),
		    (uint8_t)i);
	}
	/* Longest reply: a 255-byte domain. */
	memset(r, 'x', sizeof(r));
	memcpy(r, "\x05\x00\x00\x03\xff", 5);
	check_truncations(socks5_parse_connect, r, SOCKS5_REPLY_MAX, 0);
	/* Zero-length domain. */
	check_truncations(socks5_parse_connect,
	    (const uint8_t *)"\x05\x00\x00\x03\x00\x00\x50", 7, 0);

	/* Malformed, detected as early as possible. */
	assert_int_equal(socks5_parse_method((const uint8_t *)"\x04", 1,
	    &code), -1);
	assert_int_equal(socks5_parse_auth((const uint8_t *)"\x05", 1, &code),
	    -1);
	assert_int_equal(socks5_parse_connect((const uint8_t *)"\x04", 1,
	    &code), -1);
	assert_int_equal(socks5_parse_connect((const uint8_t *)"\x05\x00\x01",
	    3, &code), -1);
	assert_int_equal(socks5_parse_connect(
	    (const uint8_t *)"\x05\x00\x00\x02", 4, &code), -1);
	assert_int_equal(socks5_parse_connect(
	    (const uint8_t *)"\x05\x00\x00\x05", 4, &code), -1);
}

struct run {
	struct socks5_client c;
	uint8_t sent[2 * SOCKS5_REQUEST_MAX];
	size_t sent_len;
};

static void
run_init(struct run *r, const char *user)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(socks5_client_init(&r->c, HOST, 8080, user,
	    "pass-1"), 0);
	assert_int_equal(r->c.state, SOCKS5_WAIT_METHOD);
}

/* What the caller does after each call: send c.out. */
static void
drain(struct run *r)
{
	assert_true(r->sent_len + r->c.out_len <= sizeof(r->sent));
	memcpy(r->sent + r->sent_len, r->c.out, r->c.out_len);
	r->sent_len += r->c.out_len;
	r->c.out_len = 0;
}

static void
test_client_happy(void **state)
{
	struct run r;
	uint8_t in[64], auth[64], conn[128];
	size_t used;
	int alen, clen;

	alen = socks5_auth_request(auth, sizeof(auth), "link-1", "pass-1");
	clen = socks5_connect_request(conn, sizeof(conn), HOST, 8080);
	run_init(&r, "link-1");
	drain(&r);
	assert_int_equal(r.sent_len, 3);

	assert_int_equal(socks5_client_input(&r.c, method_ok, 2, &used),
	    SOCKS5_MORE);
	assert_int_equal(used, 2);
	assert_int_equal(r.c.state, SOCKS5_WAIT_AUTH);
	drain(&r);
	assert_int_equal(socks5_client_input(&r.c, auth_ok, 2, &used),
	    SOCKS5_MORE);
	assert_int_equal(r.c.state, SOCKS5_WAIT_CONNECT);
	drain(&r);
	assert_int_equal(r.sent_len, 3 + (size_t)alen + (size_t)clen);
	assert_memory_equal(r.sent + 3, auth, (size_t)alen);
	assert_memory_equal(r.sent + 3 + alen, conn, (size_t)clen);

	/* The reply and the peer's first bytes in one read. */
	memcpy(in, conn_ok4, sizeof(conn_ok4));
	memcpy(in + sizeof(conn_ok4), "NOISE", 5);
	assert_int_equal(socks5_client_input(&r.c, in, sizeof(conn_ok4) + 5,
	    &used), SOCKS5_OK);
	assert_int_equal(used, sizeof(conn_ok4));
	assert_int_equal(r.c.state, SOCKS5_DONE);
	assert_int_equal(r.c.rep, 0);
	assert_int_equal(r.c.out_len, 0);
	/* Credentials are gone, from the fields and the request buffer. */
	assert_true(sodium_is_zero((unsigned char *)r.c.user,
	    sizeof(r.c.user)));
	assert_true(sodium_is_zero((unsigned char *)r.c.pass,
	    sizeof(r.c.pass)));
	assert_true(sodium_is_zero(r.c.out, sizeof(r.c.out)));
	/* Done stays done and takes nothing more. */
	assert_int_equal(socks5_client_input(&r.c, in, 5, &used), SOCKS5_OK);
	assert_int_equal(used, 0);
}

/* Feed one reply split at k: the first part changes nothing. */
static void
step_split(struct run *r, const uint8_t *rep, size_t len, size_t k,
    enum socks5_state before, enum socks5_state after, int final_rc)
{
	size_t used;

	if (k > 0) {
		assert_int_equal(socks5_client_input(&r->c, rep, k, &used),
		    SOCKS5_MORE);
		assert_int_equal(used, k);
		assert_int_equal(r->c.state, before);
		assert_int_equal(r->c.out_len, 0);
	}
	assert_int_equal(socks5_client_input(&r->c, rep + k, len - k, &used),
	    final_rc);
	assert_int_equal(used, len - k);
	assert_int_equal(r->c.state, after);
	drain(r);
}

static void
test_client_every_truncation(void **state)
{
	const struct {
		const uint8_t *b;
		size_t len;
	} conn[] = {
		{conn_ok4, sizeof(conn_ok4)},
		{conn_ok6, sizeof(conn_ok6)},
		{conn_okd, sizeof(conn_okd)},
	};
	struct run r;
	size_t k, i;

	for (k = 0; k < 2; k++) {
		run_init(&r, "u");
		drain(&r);
		step_split(&r, method_ok, 2, k, SOCKS5_WAIT_METHOD,
		    SOCKS5_WAIT_AUTH, SOCKS5_MORE);
		step_split(&r, auth_ok, 2, k, SOCKS5_WAIT_AUTH,
		    SOCKS5_WAIT_CONNECT, SOCKS5_MORE);
	}
	for (i = 0; i < 3; i++) {
		for (k = 0; k < conn[i].len; k++) {
			run_init(&r, "u");
			drain(&r);
			step_split(&r, method_ok, 2, 0, SOCKS5_WAIT_METHOD,
			    SOCKS5_WAIT_AUTH, SOCKS5_MORE);
			step_split(&r, auth_ok, 2, 0, SOCKS5_WAIT_AUTH,
			    SOCKS5_WAIT_CONNECT, SOCKS5_MORE);
			step_split(&r, conn[i].b, conn[i].len, k,
			    SOCKS5_WAIT_CONNECT, SOCKS5_DONE, SOCKS5_OK);
		}
	}
}

static void
test_client_byte_by_byte(void **state)
{
	uint8_t all[2 + 2 + sizeof(conn_okd) + 3];
	struct run r;
	size_t i, used;
	int rc = SOCKS5_MORE;

	memcpy(all, method_ok, 2);
	memcpy(all + 2, auth_ok, 2);
	memcpy(all + 4, conn_okd, sizeof(conn_okd));
	memcpy(all + 4 + sizeof(conn_okd), "xyz", 3);
	run_init(&r, "u");
	drain(&r);
	for (i = 0; i < sizeof(all) && rc == SOCKS5_MORE; i++) {
		rc = socks5_client_input(&r.c, all + i, 1, &used);
		assert_int_equal(used, 1);
		drain(&r);
	}
	assert_int_equal(rc, SOCKS5_OK);
	assert_int_equal(i, 4 + sizeof(conn_okd));
}

/* Run to the CONNECT stage, then feed bad; expect an error naming why. */
static void
expect_fail(int stage, const uint8_t *bad, size_t len, const char *why)
{
	struct run r;
	size_t used;

	run_init(&r, "u");
	drain(&r);
	if (stage > 0) {
		assert_int_equal(socks5_client_input(&r.c, method_ok, 2,
		    &used), SOCKS5_MORE);
		drain(&r);
	}
	if (stage > 1) {
		assert_int_equal(socks5_client_input(&r.c, auth_ok, 2, &used),
		    SOCKS5_MORE);
		drain(&r);
	}
	assert_int_equal(socks5_client_input(&r.c, bad, len, &used),
	    SOCKS5_ERROR);
	assert_int_equal(r.c.state, SOCKS5_FAILED);
	assert_non_null(strstr(r.c.err, why));
	assert_int_equal(r.c.out_len, 0);
	assert_true(sodium_is_zero((unsigned char *)r.c.pass,
	    sizeof(r.c.pass)));
	assert_int_equal(socks5_client_input(&r.c, method_ok, 2, &used),
	    SOCKS5_ERROR);
	assert_int_equal(used, 0);
}

static void
test_client_failures(void **state)
{
	uint8_t e[10] = {0x05, 0x00, 0x00, 0x01};
	int code;

	expect_fail(0, (const uint8_t *)"\x05\xff", 2,
	    "does not accept username/password");
	expect_fail(0, (const uint8_t *)"\x05\x00", 2,
	    "method 0x00, which we did not offer");
	expect_fail(0, (const uint8_t *)"\x04\x5a", 2, "malformed");
	expect_fail(1, (const uint8_t *)"\x01\x01", 2,
	    "refused the username/password");
	expect_fail(1, (const uint8_t *)"\x05\x00", 2, "malformed");
	expect_fail(2, (const uint8_t *)"\x05\x00\x00\x09", 4, "malformed");
	/* Every error code gives its words and keeps the code. */
	for (code = 0x01; code <= 0xff; code++) {
		struct run r;
		size_t used;

		if (code > 0x08 && code < 0xf0)
			continue;
		e[1] = (uint8_t)code;
		run_init(&r, "u");
		drain(&r);
		assert_int_equal(socks5_client_input(&r.c, method_ok, 2,
		    &used), SOCKS5_MORE);
		drain(&r);
		assert_int_equal(socks5_client_input(&r.c, auth_ok, 2, &used),
		    SOCKS5_MORE);
		drain(&r);
		assert_int_equal(socks5_client_input(&r.c, e, sizeof(e),
		    &used), SOCKS5_ERROR);
		assert_int_equal(used, sizeof(e));
		assert_int_equal(r.c.rep, code);
		assert_non_null(strstr(r.c.err,
		    socks5_reply_str((uint8_t)code)));
		assert_non_null(strstr(r.c.err, HOST));
	}
}

static void
test_client_early_reply(void **state)
{
	/* A proxy that answers the greeting and the auth before we sent
	 * the auth is not following the protocol. */
	struct run r;
	size_t used;

	run_init(&r, "u");
	drain(&r);
	assert_int_equal(socks5_client_input(&r.c,
	    (const uint8_t *)"\x05\x02\x01\x00", 4, &used), SOCKS5_ERROR);
	assert_non_null(strstr(r.c.err, "before our request was sent"));
	/* And one that answers before the greeting itself went out. */
	run_init(&r, "u");
	assert_int_equal(socks5_client_input(&r.c, method_ok, 2, &used),
	    SOCKS5_ERROR);
}

static void
test_client_init_checks(void **state)
{
	struct socks5_client c;
	char big[300];

	memset(big, 'a', 256);
	big[256] = '\0';
	assert_int_equal(socks5_client_init(&c, HOST, 80, "", "p"), -1);
	assert_non_null(strstr(c.err, "username"));
	assert_int_equal(socks5_client_init(&c, HOST, 80, "u", ""), -1);
	assert_int_equal(socks5_client_init(&c, HOST, 80, big, "p"), -1);
	assert_int_equal(socks5_client_init(&c, HOST, 80, "u", big), -1);
	assert_int_equal(socks5_client_init(&c, HOST, 80, "<torS0X>0", "p"),
	    -1);
	assert_non_null(strstr(c.err, "<torS0X>"));
	assert_int_equal(socks5_client_init(&c, "bad host", 80, "u", "p"),
	    -1);
	assert_non_null(strstr(c.err, "host"));
	assert_int_equal(socks5_client_init(&c, big, 80, "u", "p"), -1);
	assert_int_equal(socks5_client_init(&c, HOST, 0, "u", "p"), -1);
	assert_non_null(strstr(c.err, "port"));
	/* A failed init leaves a client that refuses input. */
	{
		size_t used;

		assert_int_equal(socks5_client_input(&c, method_ok, 2, &used),
		    SOCKS5_ERROR);
	}
	big[255] = '\0';
	assert_int_equal(socks5_client_init(&c, big, 80, big, big), 0);
	assert_int_equal(c.out_len, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_reply_words),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_client_happy),
		cmocka_unit_test(test_client_every_truncation),
		cmocka_unit_test(test_client_byte_by_byte),
		cmocka_unit_test(test_client_failures),
		cmocka_unit_test(test_client_early_reply),
		cmocka_unit_test(test_client_init_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
