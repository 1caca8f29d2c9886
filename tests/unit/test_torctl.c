/*
 * torctl.c: the control-port reply parser under every way bytes can
 * arrive (whole, split at every offset, one at a time, several replies
 * in one read), its limits, and the parsers and formatters keyd uses.
 * The SAFECOOKIE values were computed independently with Python's hmac.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/torctl.h"

#define RFC_ID   "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid"
#define RFC_BLOB "ED25519-V3:MHyDhk8oM8tCei7xwAoBPP3/J2jZgMCjpSD" \
    "wBpBN6U+bTwr+KAt0aneGhOdUQlAgV7dHOgPwj5b1o46Sh+Afjw=="

#define PROTOCOLINFO_REPLY \
	"250-PROTOCOLINFO 1\r\n" \
	"250-AUTH METHODS=COOKIE,SAFECOOKIE,HASHEDPASSWORD " \
	"COOKIEFILE=\"/run/tor/a \\\"b\\\"\\\\c\\303\\251\"\r\n" \
	"250-VERSION Tor=\"0.4.9.11\"\r\n" \
	"250 OK\r\n"

static struct torctl_parser *
parser_new(void)
{
	struct torctl_parser *p = malloc(sizeof(*p));

	assert_non_null(p);
	torctl_parser_init(p);
	return p;
}

/* Feed all of s in one call; expect exactly one reply using all bytes. */
static void
feed_one(struct torctl_parser *p, const char *s)
{
	size_t used = 0;

	assert_int_equal(torctl_parser_feed(p, s, strlen(s), &used), 1);
	assert_int_equal(used, strlen(s));
}

static void
test_simple(void **state)
{
	struct torctl_parser *p = parser_new();

	feed_one(p, "250 OK\r\n");
	assert_int_equal(p->reply.code, 250);
	assert_false(p->reply.async);
	assert_int_equal(p->reply.n, 1);
	assert_int_equal(p->reply.line[0].sep, ' ');
	assert_string_equal(p->reply.line[0].text, "OK");
	assert_int_equal(p->reply.line[0].len, 2);
	/* Bare LF is accepted too; the next reply replaces the last. */
	feed_one(p, "552 Unrecognized key \"x\"\n");
	assert_int_equal(p->reply.code, 552);
	assert_string_equal(p->reply.line[0].text, "Unrecognized key \"x\"");
	free(p);
}

/* Render a reply to a comparable string. */
static void
render(const struct torctl_reply *r, char *out, size_t cap)
{
	size_t i, o = 0;
	int n;

	n = snprintf(out, cap, "%d/%d/%zu|", r->code, r->async, r->n);
	o = (size_t)n;
	for (i = 0; i < r->n && o < cap; i++) {
		n = snprintf(out + o, cap - o, "%c%s[%s]|", r->line[i].sep,
		    r->line[i].text,
		    r->line[i].data ? r->line[i].data : "-");
		o += (size_t)n;
	}
	assert_true(o < cap);
}

/* Feed s split at every offset and byte by byte: the same replies. */
static void
check_splits(const char *s, const char *want)
{
	struct torctl_parser *p = parser_new();
	char got[8192], all[8192];
	size_t len = strlen(s), cut, used, off, i;
	int rc;

	for (cut = 0; cut <= len; cut++) {
		torctl_parser_init(p);
		all[0] = '\0';
		/* Two pieces: each may end any number of replies. */
		off = 0;
		while (off < cut) {
			rc = torctl_parser_feed(p, s + off, cut - off, &used);
			assert_true(rc >= 0);
			off += used;
			if (rc == 1) {
				render(&p->reply, got, sizeof(got));
				strcat(all, got);
			}
		}
		while (off < len) {
			rc = torctl_parser_feed(p, s + off, len - off, &used);
			assert_true(rc >= 0);
			off += used;
			if (rc == 1) {
				render(&p->reply, got, sizeof(got));
				strcat(all, got);
			}
		}
		assert_string_equal(all, want);
	}
	torctl_parser_init(p);
	all[0] = '\0';
	for (i = 0; i < len; i++) {
		rc = torctl_parser_feed(p, s + i, 1, &used);
		assert_true(rc >= 0);
		assert_int_equal(used, 1);
		if (rc == 1) {
			render(&p->reply, got, sizeof(got));
			strcat(all, got);
		}
	}
	assert_string_equal(all, want);
	free(p);
}

static void
test_splits(void **state)
{
	check_splits(PROTOCOLINFO_REPLY,
	    "250/0/4|-PROTOCOLINFO 1[-]|-AUTH METHODS=COOKIE,SAFECOOKIE,"
	    "HASHEDPASSWORD COOKIEFILE=\"/run/tor/a \\\"b\\\"\\\\c\\303\\251"
	    "\"[-]|-VERSION Tor=\"0.4.9.11\"[-]| OK[-]|");
	/* Data block with dot-stuffing, an async event, then a reply. */
	check_splits("250+onions/current=\r\nabc\r\n..dot\r\n.\r\n"
	    "250 OK\r\n"
	    "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=5\r\n"
	    "250-a=1\r\n250 OK\r\n",
	    "250/0/2|+onions/current=[abc\n.dot]| OK[-]|"
	    "650/1/1| STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=5[-]|"
	    "250/0/2|-a=1[-]| OK[-]|");
	/* Empty data block; data line that is only a stuffed dot. */
	check_splits("250+x=\r\n.\r\n250+y=\r\n..\r\n\r\n.\r\n250 OK\r\n",
	    "250/0/3|+x=[]|+y=[.\n]| OK[-]|");
	/* Multi-line event. */
	check_splits("650-CONF_CHANGED\r\n650-Foo=1\r\n650 OK\r\n",
	    "650/1/3|-CONF_CHANGED[-]|-Foo=1[-]| OK[-]|");
}

static void
test_used_stops_at_reply(void **state)
{
	/* Offsets, not strlen() of an advanced pointer: gcc 12 at -O2
	 * folds strlen(lit + a + b) wrongly (as 40 - 2b). */
	struct torctl_parser *p = parser_new();
	static const char s[] = "250 OK\r\n515 Authentication failed\r\n"
	    "250 O";
	size_t used, off = 0, len = sizeof(s) - 1;

	assert_int_equal(torctl_parser_feed(p, s, len, &used), 1);
	assert_int_equal(used, 8);
	assert_int_equal(p->reply.code, 250);
	off += used;
	assert_int_equal(torctl_parser_feed(p, s + off, len - off, &used), 1);
	assert_int_equal(used, 27);
	assert_int_equal(p->reply.code, 515);
	off += used;
	assert_int_equal(torctl_parser_feed(p, s + off, len - off, &used), 0);
	assert_int_equal(used, 5);
	assert_int_equal(torctl_parser_feed(p, "K\r\n", 3, &used), 1);
	assert_string_equal(p->reply.line[0].text, "OK");
	free(p);
}

static void
expect_error(const char *s, size_t len, const char *what)
{
	struct torctl_parser *p = parser_new();
	size_t used, off = 0;
	int rc;

	do {
		rc = torctl_parser_feed(p, s + off, len - off, &used);
		off += used;
	} while (rc == 1);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(p->err, what));
	/* Sticky. */
	assert_int_equal(torctl_parser_feed(p, "250 OK\r\n", 8, &used), -1);
	torctl_parser_init(p);
	assert_int_equal(torctl_parser_feed(p, "250 OK\r\n", 8, &used), 1);
	free(p);
}

static void
test_errors(void **state)
{
	char *big, what[64];
	size_t i, o;

	expect_error("25 OK\r\n", 7, "malformed");
	expect_error("250xOK\r\n", 8, "malformed");
	expect_error("2a0 OK\r\n", 8, "malformed");
	expect_error("\r\n", 2, "malformed");
	expect_error("250-a\r\n550 b\r\n", 14, "mixes");
	expect_error("250 O\0K\r\n", 9, "NUL");
	expect_error("250+x\r\na\0\r\n", 11, "NUL");

	big = malloc(2 * TORCTL_REPLY_MAX);
	assert_non_null(big);
	/* A line of exactly the limit passes, one byte more fails. */
	memcpy(big, "250 ", 4);
	memset(big + 4, 'a', TORCTL_LINE_MAX - 4);
	memcpy(big + TORCTL_LINE_MAX, "\r\n", 2);
	{
		struct torctl_parser *p = parser_new();
		size_t used;

		assert_int_equal(torctl_parser_feed(p, big,
		    TORCTL_LINE_MAX + 2, &used), 1);
		assert_int_equal(p->reply.line[0].len, TORCTL_LINE_MAX - 4);
		free(p);
	}
	memset(big + 4, 'a', TORCTL_LINE_MAX - 3);
	memcpy(big + TORCTL_LINE_MAX + 1, "\r\n", 2);
	expect_error(big, TORCTL_LINE_MAX + 3, "longer than 4096");
	/* Without any newline at all. */
	memset(big + 4, 'a', TORCTL_REPLY_MAX);
	expect_error(big, TORCTL_REPLY_MAX, "longer than 4096");
	/* The same in a data block. */
	memcpy(big, "250+x\r\n", 7);
	memset(big + 7, 'a', TORCTL_LINE_MAX + 1);
	memcpy(big + 7 + TORCTL_LINE_MAX + 1, "\r\n", 2);
	expect_error(big, 7 + TORCTL_LINE_MAX + 3, "longer than 4096");

	/* Total size: 33 lines of 4000 bytes is more than 128 KiB. */
	for (o = 0, i = 0; i < 33; i++) {
		memcpy(big + o, "250-", 4);
		memset(big + o + 4, 'b', 4000);
		memcpy(big + o + 4004, "\r\n", 2);
		o += 4006;
	}
	expect_error(big, o, "longer than 131072");
	/* And in a data block. */
	memcpy(big, "250+x\r\n", 7);
	for (o = 7, i = 0; i < 33; i++) {
		memset(big + o, 'c', 4000);
		memcpy(big + o + 4000, "\r\n", 2);
		o += 4002;
	}
	expect_error(big, o, "longer than 131072");

	/* Line count. */
	for (o = 0, i = 0; i <= TORCTL_LINES_MAX; i++) {
		memcpy(big + o, "250-x\r\n", 7);
		o += 7;
	}
	snprintf(what, sizeof(what), "more than %d lines",
	    (int)TORCTL_LINES_MAX);
	expect_error(big, o, what);
	free(big);
}

static void
test_line_limit_exact_count(void **state)
{
	/* TORCTL_LINES_MAX lines in one reply are fine. */
	struct torctl_parser *p = parser_new();
	char *s = malloc(TORCTL_LINES_MAX * 7 + 1);
	size_t o = 0, i, used;

	assert_non_null(s);
	for (i = 0; i + 1 < TORCTL_LINES_MAX; i++) {
		memcpy(s + o, "250-x\r\n", 7);
		o += 7;
	}
	memcpy(s + o, "250 x\r\n", 7);
	o += 7;
	assert_int_equal(torctl_parser_feed(p, s, o, &used), 1);
	assert_int_equal(p->reply.n, TORCTL_LINES_MAX);
	free(s);
	free(p);
}

static void
test_random_bytes(void **state)
{
	/* Arbitrary input never crashes, never reads out of bounds (run
	 * under ASan), and gives the same outcome however it is split. */
	struct torctl_parser *a = parser_new(), *b = parser_new();
	static const char alpha[] = "0256+- .\r\n\"\\=OKab";
	char in[600], ra[16384], rb[16384], tmp[8192];
	size_t len, off, used, step;
	int i, rca, rcb;

	for (i = 0; i < 300; i++) {
		len = randombytes_uniform(sizeof(in));
		for (off = 0; off < len; off++)
			in[off] = (i % 3 == 0) ?
			    (char)randombytes_uniform(256) :
			    alpha[randombytes_uniform(sizeof(alpha) - 1)];
		torctl_parser_init(a);
		torctl_parser_init(b);
		ra[0] = rb[0] = '\0';
		for (off = 0, rca = 0; off < len;) {
			rca = torctl_parser_feed(a, in + off, len - off,
			    &used);
			off += used;
			if (rca < 0)
				break;
			if (rca == 1) {
				render(&a->reply, tmp, sizeof(tmp));
				if (strlen(ra) + strlen(tmp) < sizeof(ra))
					strcat(ra, tmp);
			}
		}
		step = 1 + randombytes_uniform(7);
		for (off = 0, rcb = 0; off < len;) {
			size_t n = len - off < step ? len - off : step;

			rcb = torctl_parser_feed(b, in + off, n, &used);
			off += used;
			if (rcb < 0)
				break;
			if (rcb == 1) {
				render(&b->reply, tmp, sizeof(tmp));
				if (strlen(rb) + strlen(tmp) < sizeof(rb))
					strcat(rb, tmp);
			}
		}
		assert_int_equal(rca < 0, rcb < 0);
		assert_string_equal(ra, rb);
	}
	free(a);
	free(b);
}

static void
test_unquote(void **state)
{
	char out[64];
	const char *end;

	assert_int_equal(torctl_unquote("\"a\\\"b\\\\c\\n\\t\\r\\'\" x", &end,
	    out, sizeof(out)), 0);
	assert_string_equal(out, "a\"b\\c\n\t\r'");
	assert_string_equal(end, " x");
	assert_int_equal(torctl_unquote("\"\\303\\251\\x41\"", &end, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "\xc3\xa9" "A");
	assert_int_equal(torctl_unquote("\"\"", &end, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* Refused: unterminated, bad escapes, NUL, not quoted, too long. */
	assert_int_equal(torctl_unquote("\"abc", &end, out, sizeof(out)), -1);
	assert_int_equal(torctl_unquote("\"a\\", &end, out, sizeof(out)), -1);
	assert_int_equal(torctl_unquote("\"\\q\"", &end, out, sizeof(out)),
	    -1);
	assert_int_equal(torctl_unquote("\"\\000\"", &end, out, sizeof(out)),
	    -1);
	assert_int_equal(torctl_unquote("\"\\x00\"", &end, out, sizeof(out)),
	    -1);
	assert_int_equal(torctl_unquote("\"\\x4\"", &end, out, sizeof(out)),
	    -1);
	assert_int_equal(torctl_unquote("\"\\400\"", &end, out, sizeof(out)),
	    -1);
	assert_int_equal(torctl_unquote("\"\\12\"", &end, out, sizeof(out)),
	    -1);
	assert_int_equal(torctl_unquote("abc", &end, out, sizeof(out)), -1);
	assert_int_equal(torctl_unquote("\"abcd\"", &end, out, 4), -1);
	assert_int_equal(torctl_unquote("\"abc\"", &end, out, 4), 0);
}

static void
test_quote_roundtrip(void **state)
{
	char in[256], q[1200], back[256];
	const char *end;
	int c;

	for (c = 1; c < 256; c++)
		in[c - 1] = (char)c;
	in[255] = '\0';
	assert_int_equal(torctl_quote(q, sizeof(q), in), 0);
	assert_null(strchr(q, '\r'));
	assert_null(strchr(q, '\n'));
	assert_int_equal(torctl_unquote(q, &end, back, sizeof(back)), 0);
	assert_string_equal(back, in);
	assert_int_equal(*end, '\0');
	assert_int_equal(torctl_quote(q, 4, "ab"), -1);
	assert_int_equal(torctl_quote(q, 5, "ab"), 0);
	assert_string_equal(q, "\"ab\"");
}

static void
test_tokens(void **state)
{
	const char *cur = "  WORD K=v Q=\"a b\" E= X=\"unterminated";
	char k[16], v[16];
	int hv;

	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), 1);
	assert_string_equal(k, "WORD");
	assert_false(hv);
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), 1);
	assert_string_equal(k, "K");
	assert_string_equal(v, "v");
	assert_true(hv);
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), 1);
	assert_string_equal(v, "a b");
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), 1);
	assert_string_equal(k, "E");
	assert_string_equal(v, "");
	assert_true(hv);
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), -1);
	cur = "   ";
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), 0);
	cur = "=x";
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), -1);
	cur = "Q=\"a\"b";
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), -1);
	cur = "VERYLONGKEYNAMEXX=1";
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), -1);
	cur = "K=VERYLONGVALUEXXX";
	assert_int_equal(torctl_next_token(&cur, k, sizeof(k), v, sizeof(v),
	    &hv), -1);
}

static void
parse_text(struct torctl_parser *p, const char *s)
{
	torctl_parser_init(p);
	feed_one(p, s);
}

static void
test_protocolinfo(void **state)
{
	struct torctl_parser *p = parser_new();
	struct torctl_protocolinfo pi;
	char err[TORCTL_ERRLEN];

	parse_text(p, PROTOCOLINFO_REPLY);
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), 0);
	assert_int_equal(pi.methods, TORCTL_AUTH_COOKIE |
	    TORCTL_AUTH_SAFECOOKIE | TORCTL_AUTH_HASHEDPASSWORD);
	assert_string_equal(pi.cookie_file, "/run/tor/a \"b\"\\c\xc3\xa9");
	assert_string_equal(pi.version, "0.4.9.11");

	/* NULL only, an unknown method ignored, unknown lines skipped. */
	parse_text(p, "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL,FUTURE\r\n"
	    "250-SOMETHING new\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), 0);
	assert_int_equal(pi.methods, TORCTL_AUTH_NULL);
	assert_string_equal(pi.cookie_file, "");
	assert_string_equal(pi.version, "");

	/* Cookie methods without a cookie file are no methods. */
	parse_text(p, "250-AUTH METHODS=COOKIE,SAFECOOKIE\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no authentication method"));

	parse_text(p, "250-AUTH METHODS=COOKIE COOKIEFILE=\"rel\"\r\n"
	    "250 OK\r\n");
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));

	parse_text(p, "250-AUTH METHODS=COOKIE COOKIEFILE=\"/x\r\n"
	    "250 OK\r\n");
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed AUTH"));

	parse_text(p, "250-PROTOCOLINFO 1\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no AUTH"));

	parse_text(p, "514 Authentication required.\r\n");
	assert_int_equal(torctl_parse_protocolinfo(&p->reply, &pi, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "tor refused PROTOCOLINFO: 514 "
	    "Authentication required.");
	free(p);
}

static void
safecookie_fixture(struct torctl_safecookie *sc, uint8_t cookie[32])
{
	size_t i;

	for (i = 0; i < 32; i++)
		cookie[i] = (uint8_t)i;
	memset(sc->client_nonce, 0xaa, 32);
}

static void
test_safecookie(void **state)
{
	struct torctl_parser *p = parser_new();
	struct torctl_safecookie sc, sc2;
	uint8_t cookie[32];
	char cmd[TORCTL_CMD_MAX], err[TORCTL_ERRLEN];

	/* The challenge carries a fresh nonce each time. */
	assert_int_equal(torctl_safecookie_begin(&sc, cmd, sizeof(cmd)), 0);
	assert_int_equal(strncmp(cmd, "AUTHCHALLENGE SAFECOOKIE ", 25), 0);
	assert_int_equal(strlen(cmd), 25 + 64 + 2);
	assert_int_equal(torctl_safecookie_begin(&sc2, cmd, sizeof(cmd)), 0);
	assert_memory_not_equal(sc.client_nonce, sc2.client_nonce, 32);
	assert_int_equal(torctl_safecookie_begin(&sc, cmd, 80), -1);

	safecookie_fixture(&sc, cookie);
	parse_text(p, "250 AUTHCHALLENGE SERVERHASH=5F7CB5569957C99373E32925"
	    "8545940F029AF175DA225F4A3125EEBF30C24BBA SERVERNONCE="
	    "5555555555555555555555555555555555555555555555555555555555555555"
	    "\r\n");
	assert_int_equal(torctl_parse_authchallenge(&p->reply, &sc, err,
	    sizeof(err)), 0);
	assert_int_equal(torctl_safecookie_verify(&sc, cookie), 0);
	assert_int_equal(torctl_safecookie_answer(cmd, sizeof(cmd), &sc,
	    cookie, err, sizeof(err)), 0);
	assert_string_equal(cmd, "AUTHENTICATE 9f99f2c4b75c91123ca5c6c6e3f76a"
	    "9ef7fbd9471053cbe34454a4269cc39f7c\r\n");
	assert_int_equal(torctl_safecookie_answer(cmd, 60, &sc, cookie, err,
	    sizeof(err)), -1);

	/* Any other cookie, nonce or hash fails the check. */
	cookie[31] ^= 1;
	assert_int_equal(torctl_safecookie_verify(&sc, cookie), -1);
	assert_int_equal(torctl_safecookie_answer(cmd, sizeof(cmd), &sc,
	    cookie, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "server hash is wrong"));
	cookie[31] ^= 1;
	sc.server_nonce[0] ^= 1;
	assert_int_equal(torctl_safecookie_verify(&sc, cookie), -1);
	sc.server_nonce[0] ^= 1;
	sc.client_nonce[5] ^= 1;
	assert_int_equal(torctl_safecookie_verify(&sc, cookie), -1);
	sc.client_nonce[5] ^= 1;
	sc.server_hash[0] ^= 1;
	assert_int_equal(torctl_safecookie_verify(&sc, cookie), -1);

	/* Malformed challenges. */
	parse_text(p, "250 AUTHCHALLENGE SERVERHASH=5F7C SERVERNONCE=55\r\n");
	assert_int_equal(torctl_parse_authchallenge(&p->reply, &sc, err,
	    sizeof(err)), -1);
	parse_text(p, "250 AUTHCHALLENGE SERVERHASH=5F7CB5569957C99373E32925"
	    "8545940F029AF175DA225F4A3125EEBF30C24BBA\r\n");
	assert_int_equal(torctl_parse_authchallenge(&p->reply, &sc, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "SERVERNONCE"));
	parse_text(p, "250 AUTHCHALLENGE SERVERHASH=ZZ7CB5569957C99373E32925"
	    "8545940F029AF175DA225F4A3125EEBF30C24BBA SERVERNONCE="
	    "5555555555555555555555555555555555555555555555555555555555555555"
	    "\r\n");
	assert_int_equal(torctl_parse_authchallenge(&p->reply, &sc, err,
	    sizeof(err)), -1);
	parse_text(p, "513 Invalid base16 client nonce\r\n");
	assert_int_equal(torctl_parse_authchallenge(&p->reply, &sc, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "513 Invalid"));
	free(p);
}

static void
test_auth_commands(void **state)
{
	uint8_t cookie[32];
	char cmd[TORCTL_CMD_MAX];
	struct torctl_safecookie sc;

	safecookie_fixture(&sc, cookie);
	assert_int_equal(torctl_fmt_auth_cookie(cmd, sizeof(cmd), cookie), 0);
	assert_string_equal(cmd, "AUTHENTICATE 000102030405060708090a0b0c0d0e"
	    "0f101112131415161718191a1b1c1d1e1f\r\n");
	assert_int_equal(torctl_fmt_auth_cookie(cmd, 20, cookie), -1);
	assert_int_equal(torctl_fmt_auth_password(cmd, sizeof(cmd),
	    "pa\"ss\\w\r\nQUIT"), 0);
	assert_string_equal(cmd,
	    "AUTHENTICATE \"pa\\\"ss\\\\w\\r\\nQUIT\"\r\n");
	assert_int_equal(torctl_fmt_auth_password(cmd, 16, "password"), -1);
}

static void
test_target(void **state)
{
	char err[TORCTL_ERRLEN];
	char longpath[200];

	assert_int_equal(torctl_target_check("unix:/run/om/linkd.onion", err,
	    sizeof(err)), 0);
	assert_int_equal(torctl_target_check("127.0.0.1:9050", err,
	    sizeof(err)), 0);
	assert_int_equal(torctl_target_check("[::1]:65535", err,
	    sizeof(err)), 0);
	assert_int_equal(torctl_target_check("unix:rel/path", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "\"unix:rel/path\""));
	assert_int_equal(torctl_target_check("unix:/a b", err, sizeof(err)),
	    -1);
	assert_int_equal(torctl_target_check("unix:/a,b", err, sizeof(err)),
	    -1);
	assert_int_equal(torctl_target_check("unix:/a\r\nQUIT", err,
	    sizeof(err)), -1);
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(torctl_target_check(longpath, err, sizeof(err)), -1);
	assert_int_equal(torctl_target_check("127.0.0.1:0", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "1..65535"));
	assert_int_equal(torctl_target_check("127.0.0.1:65536", err,
	    sizeof(err)), -1);
	assert_int_equal(torctl_target_check("127.0.0.1:08", err,
	    sizeof(err)), -1);
	assert_int_equal(torctl_target_check("127.0.0.1", err, sizeof(err)),
	    -1);
	assert_int_equal(torctl_target_check("localhost:80", err,
	    sizeof(err)), -1);
	assert_int_equal(torctl_target_check("::1:80", err, sizeof(err)), -1);
	assert_int_equal(torctl_target_check("[::1]80", err, sizeof(err)),
	    -1);
	assert_int_equal(torctl_target_check("", err, sizeof(err)), -1);
}

/* Issue 15: the service takes only the clients named; our tor gets
 * our secret for a member's service. */
static void
test_client_auth_cmds(void **state)
{
	uint8_t keys[2][ONION_AUTH_KEY_BYTES], sk[ONION_AUTH_KEY_BYTES];
	char b32[2][ONION_AUTH_B32_LEN + 1], want[2048], err[TORCTL_ERRLEN];
	char *cmd;
	size_t cap = TORCTL_ADD_ONION_MAX(2);

	memset(keys[0], 0x11, sizeof(keys[0]));
	memset(keys[1], 0xee, sizeof(keys[1]));
	onion_auth_pk_encode(b32[0], keys[0]);
	onion_auth_pk_encode(b32[1], keys[1]);
	assert_int_equal(strlen(b32[0]), ONION_AUTH_B32_LEN);
	assert_non_null(cmd = malloc(cap));
	assert_int_equal(torctl_fmt_add_onion(cmd, cap, RFC_BLOB, 80,
	    "unix:/run/om/onion", (const uint8_t (*)[32])keys, 2, err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want), "ADD_ONION %s Flags=V3Auth "
	    "Port=80,unix:/run/om/onion ClientAuthV3=%s ClientAuthV3=%s\r\n",
	    RFC_BLOB, b32[0], b32[1]);
	assert_string_equal(cmd, want);
	/* One byte short: refused, and nothing of the key left behind. */
	assert_int_equal(torctl_fmt_add_onion(cmd, strlen(want), RFC_BLOB,
	    80, "unix:/run/om/onion", (const uint8_t (*)[32])keys, 2, err,
	    sizeof(err)), -1);
	assert_true(sodium_is_zero((unsigned char *)cmd, strlen(want)));
	assert_int_equal(torctl_fmt_add_onion(cmd, cap, RFC_BLOB, 80,
	    "unix:/run/om/onion", (const uint8_t (*)[32])keys,
	    TORCTL_AUTH_CLIENTS_MAX + 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));
	free(cmd);

	/* tor's own example key (x25519, base64 with padding). */
	memset(sk, 0, sizeof(sk));
	sk[0] = 0x40;
	char line[TORCTL_CMD_MAX];
	assert_int_equal(torctl_fmt_client_auth_add(line, sizeof(line),
	    RFC_ID ".onion", sk), 0);
	assert_string_equal(line, "ONION_CLIENT_AUTH_ADD " RFC_ID
	    " x25519:QAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n");
	assert_int_equal(torctl_fmt_client_auth_add(line, sizeof(line),
	    RFC_ID, sk), 0);
	assert_int_equal(torctl_fmt_client_auth_add(line, 40, RFC_ID, sk),
	    -1);
	assert_true(sodium_is_zero((unsigned char *)line, 40));
	assert_int_equal(torctl_fmt_client_auth_add(line, sizeof(line),
	    RFC_ID "x", sk), -1);
	assert_int_equal(torctl_fmt_client_auth_add(line, sizeof(line),
	    RFC_ID " x25519:AAAA\r\nSIGNAL HALT", sk), -1);
	assert_int_equal(torctl_fmt_client_auth_remove(line, sizeof(line),
	    RFC_ID ".onion"), 0);
	assert_string_equal(line, "ONION_CLIENT_AUTH_REMOVE " RFC_ID "\r\n");
	assert_int_equal(torctl_fmt_client_auth_remove(line, sizeof(line),
	    "example.onion"), -1);
}

/* Issue 15: our service's rendezvous circuits, from circuit-status. */
static void
test_rend_circuits(void **state)
{
	struct torctl_parser *p = parser_new();
	char ids[4][TORCTL_CIRC_ID_MAX + 1], err[TORCTL_ERRLEN];
	char cmd[64];

	parse_text(p, "250+circuit-status=\r\n"
	    "7 BUILT $AA~r0,$BB~r1 BUILD_FLAGS=IS_INTERNAL,NEED_CAPACITY "
	    "PURPOSE=HS_SERVICE_REND HS_STATE=HSSR_JOINED REND_QUERY=" RFC_ID
	    " TIME_CREATED=2026-01-01T00:00:00.000000\r\n"
	    "8 BUILT $AA~r0 PURPOSE=HS_SERVICE_INTRO REND_QUERY=" RFC_ID "\r\n"
	    "9 LAUNCHED PURPOSE=HS_SERVICE_REND REND_QUERY=" RFC_ID "\r\n"
	    "10 BUILT $AA~r0 PURPOSE=HS_SERVICE_REND REND_QUERY=" RFC_ID "x\r\n"
	    "11 BUILT $AA~r0 PURPOSE=HS_CLIENT_REND REND_QUERY=" RFC_ID "\r\n"
	    "x12 BUILT PURPOSE=HS_SERVICE_REND REND_QUERY=" RFC_ID "\r\n"
	    "1234567890123456 BUILT PURPOSE=HS_SERVICE_REND REND_QUERY="
	    RFC_ID "\r\n"
	    "13 BUILT REND_QUERY=\"unterminated PURPOSE=HS_SERVICE_REND\r\n"
	    ".\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, RFC_ID
	    ".onion", ids, 4, err, sizeof(err)), 2);
	assert_string_equal(ids[0], "7");
	assert_string_equal(ids[1], "9");
	/* at most cap */
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, RFC_ID, ids,
	    1, err, sizeof(err)), 1);
	/* one circuit: on the status line itself; none: nothing */
	parse_text(p, "250-circuit-status=5 BUILT PURPOSE=HS_SERVICE_REND "
	    "REND_QUERY=" RFC_ID "\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, RFC_ID, ids,
	    4, err, sizeof(err)), 1);
	assert_string_equal(ids[0], "5");
	parse_text(p, "250-circuit-status=\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, RFC_ID, ids,
	    4, err, sizeof(err)), 0);
	parse_text(p, "250 OK\r\n");
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, RFC_ID, ids,
	    4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "circuit-status"));
	parse_text(p, "552 Unrecognized key\r\n");
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, RFC_ID, ids,
	    4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "552"));
	parse_text(p, "250-circuit-status=\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_rend_circuits(&p->reply, "x.onion",
	    ids, 4, err, sizeof(err)), -1);

	assert_int_equal(torctl_fmt_close_circuit(cmd, sizeof(cmd), "42"), 0);
	assert_string_equal(cmd, "CLOSECIRCUIT 42\r\n");
	assert_int_equal(torctl_fmt_close_circuit(cmd, sizeof(cmd), ""), -1);
	assert_int_equal(torctl_fmt_close_circuit(cmd, sizeof(cmd),
	    "4 IfUnused"), -1);
	assert_int_equal(torctl_fmt_close_circuit(cmd, sizeof(cmd),
	    "1234567890123456"), -1);
	assert_int_equal(torctl_fmt_close_circuit(cmd, 10, "42"), -1);
	free(p);
}

static void
test_add_onion(void **state)
{
	struct torctl_parser *p = parser_new();
	char cmd[TORCTL_CMD_MAX], err[TORCTL_ERRLEN];
	char addr[ONION_ADDR_LEN + 1];

	assert_int_equal(torctl_fmt_add_onion(cmd, sizeof(cmd), RFC_BLOB, 80,
	    "unix:/run/om/onion", NULL, 0, err, sizeof(err)), 0);
	assert_string_equal(cmd, "ADD_ONION " RFC_BLOB
	    " Port=80,unix:/run/om/onion\r\n");
	assert_int_equal(torctl_fmt_add_onion(cmd, 64, RFC_BLOB, 80,
	    "unix:/run/om/onion", NULL, 0, err, sizeof(err)), -1);
	assert_true(sodium_is_zero((unsigned char *)cmd, 64));
	assert_int_equal(torctl_fmt_add_onion(cmd, sizeof(cmd), RFC_BLOB, 0,
	    "127.0.0.1:1", NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port 0"));
	assert_int_equal(torctl_fmt_add_onion(cmd, sizeof(cmd), RFC_BLOB, 80,
	    "unix:/x y", NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unix:/x y"));
	assert_int_equal(torctl_fmt_add_onion(cmd, sizeof(cmd),
	    "ED25519-V3:short", 80, "127.0.0.1:1", NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "onion key"));
	assert_null(strstr(err, "short"));
	assert_int_equal(torctl_fmt_add_onion(cmd, sizeof(cmd),
	    RFC_BLOB " Port=1,127.0.0.1:22", 80, "127.0.0.1:1", NULL, 0, err,
	    sizeof(err)), -1);

	parse_text(p, "250-ServiceID=" RFC_ID "\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_add_onion(&p->reply, addr, err,
	    sizeof(err)), 0);
	assert_string_equal(addr, RFC_ID ".onion");
	/* A new-key reply carries PrivateKey too: ignored. */
	parse_text(p, "250-ServiceID=" RFC_ID "\r\n250-PrivateKey=ED25519-V3:"
	    "xx\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_add_onion(&p->reply, addr, err,
	    sizeof(err)), 0);
	parse_text(p, "250-ServiceID=" RFC_ID "x\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_add_onion(&p->reply, addr, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no valid ServiceID"));
	assert_string_equal(addr, "");
	parse_text(p, "250-ServiceID=35njqamcweflpvkl73j4szahhihoc4xt3ktcgjn"
	    "paingr5yhkenl5sid\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_add_onion(&p->reply, addr, err,
	    sizeof(err)), -1);
	parse_text(p, "250 OK\r\n");
	assert_int_equal(torctl_parse_add_onion(&p->reply, addr, err,
	    sizeof(err)), -1);
	parse_text(p, "550 Onion address collision\r\n");
	assert_int_equal(torctl_parse_add_onion(&p->reply, addr, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "tor refused ADD_ONION: 550 Onion address "
	    "collision");
	free(p);
}

static void
test_del_onion(void **state)
{
	char cmd[128];

	assert_int_equal(torctl_fmt_del_onion(cmd, sizeof(cmd), RFC_ID), 0);
	assert_string_equal(cmd, "DEL_ONION " RFC_ID "\r\n");
	assert_int_equal(torctl_fmt_del_onion(cmd, sizeof(cmd),
	    RFC_ID ".onion"), 0);
	assert_string_equal(cmd, "DEL_ONION " RFC_ID "\r\n");
	assert_int_equal(torctl_fmt_del_onion(cmd, sizeof(cmd), "x"), -1);
	assert_int_equal(torctl_fmt_del_onion(cmd, sizeof(cmd),
	    RFC_ID ".onion\r\nQUIT"), -1);
	assert_int_equal(torctl_fmt_del_onion(cmd, 20, RFC_ID), -1);
}

static void
test_bootstrap(void **state)
{
	struct torctl_parser *p = parser_new();
	struct torctl_bootstrap b;
	char err[TORCTL_ERRLEN];

	parse_text(p, "250-status/bootstrap-phase=NOTICE BOOTSTRAP "
	    "PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_getinfo_bootstrap(&p->reply, &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.progress, 100);
	assert_string_equal(b.tag, "done");
	assert_string_equal(b.summary, "Done");
	assert_false(b.warn);

	parse_text(p, "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=14 "
	    "TAG=handshake SUMMARY=\"Handshaking with a relay\"\r\n");
	assert_true(p->reply.async);
	assert_int_equal(torctl_parse_bootstrap(p->reply.line[0].text, &b), 0);
	assert_int_equal(b.progress, 14);
	assert_string_equal(b.tag, "handshake");
	assert_string_equal(b.summary, "Handshaking with a relay");

	assert_int_equal(torctl_parse_bootstrap("STATUS_CLIENT WARN BOOTSTRAP "
	    "PROGRESS=0 TAG=starting SUMMARY=\"Starting\" "
	    "WARNING=\"Connection refused\" REASON=CONNECTREFUSED COUNT=3 "
	    "RECOMMENDATION=warn", &b), 0);
	assert_true(b.warn);
	assert_string_equal(b.warning, "Connection refused");

	/* Other status events are not bootstrap. */
	assert_int_equal(torctl_parse_bootstrap("STATUS_CLIENT NOTICE "
	    "CIRCUIT_ESTABLISHED", &b), 1);
	assert_int_equal(torctl_parse_bootstrap("NOTICE ENOUGH_DIR_INFO", &b),
	    1);
	/* Malformed. */
	assert_int_equal(torctl_parse_bootstrap("NOTICE BOOTSTRAP", &b), -1);
	assert_int_equal(torctl_parse_bootstrap("NOTICE BOOTSTRAP "
	    "PROGRESS=101", &b), -1);
	assert_int_equal(torctl_parse_bootstrap("NOTICE BOOTSTRAP "
	    "PROGRESS=-1", &b), -1);
	assert_int_equal(torctl_parse_bootstrap("NOTICE BOOTSTRAP "
	    "PROGRESS=1x", &b), -1);
	assert_int_equal(torctl_parse_bootstrap("NOTICE BOOTSTRAP "
	    "PROGRESS=0000000000050", &b), -1);
	assert_int_equal(torctl_parse_bootstrap("LOUD BOOTSTRAP PROGRESS=5",
	    &b), -1);
	assert_int_equal(torctl_parse_bootstrap("", &b), -1);
	assert_int_equal(torctl_parse_bootstrap("NOTICE BOOTSTRAP PROGRESS=5 "
	    "SUMMARY=\"x", &b), -1);
	/* Long human text is cut, not refused. */
	{
		char t[800];

		snprintf(t, sizeof(t), "NOTICE BOOTSTRAP PROGRESS=5 TAG=%0300d"
		    " SUMMARY=\"%0400d\"", 0, 0);
		assert_int_equal(torctl_parse_bootstrap(t, &b), 0);
		assert_int_equal(strlen(b.tag), sizeof(b.tag) - 1);
		assert_int_equal(strlen(b.summary), sizeof(b.summary) - 1);
	}

	parse_text(p, "552 Unrecognized key\r\n");
	assert_int_equal(torctl_parse_getinfo_bootstrap(&p->reply, &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "552"));
	parse_text(p, "250-status/bootstrap-phase=garbage\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_getinfo_bootstrap(&p->reply, &b, err,
	    sizeof(err)), -1);
	parse_text(p, "250+status/bootstrap-phase=\r\nNOTICE BOOTSTRAP "
	    "PROGRESS=50 TAG=loading_descriptors\r\n.\r\n250 OK\r\n");
	assert_int_equal(torctl_parse_getinfo_bootstrap(&p->reply, &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.progress, 50);
	free(p);
}

static void
test_hs_desc(void **state)
{
	char action[32], addr[ONION_ADDR_LEN + 1];

	assert_int_equal(torctl_parse_hs_desc("HS_DESC UPLOADED " RFC_ID
	    " UNKNOWN $AAAA~relay0 HSDIR_INDEX=00", action, sizeof(action),
	    addr), 0);
	assert_string_equal(action, "UPLOADED");
	assert_string_equal(addr, RFC_ID ".onion");
	assert_int_equal(torctl_parse_hs_desc("HS_DESC UPLOAD UNKNOWN "
	    "UNKNOWN", action, sizeof(action), addr), 0);
	assert_string_equal(action, "UPLOAD");
	assert_string_equal(addr, "");
	assert_int_equal(torctl_parse_hs_desc("STATUS_CLIENT NOTICE x",
	    action, sizeof(action), addr), 1);
	assert_int_equal(torctl_parse_hs_desc("HS_DESC", action,
	    sizeof(action), addr), -1);
	assert_int_equal(torctl_parse_hs_desc("HS_DESC UPLOADED", action,
	    sizeof(action), addr), -1);
	assert_int_equal(torctl_parse_hs_desc("HS_DESC VERYLONGACTIONNAME x",
	    action, 8, addr), -1);
}

static void
test_describe(void **state)
{
	struct torctl_parser *p = parser_new();
	char d[16];

	parse_text(p, "551 a\tb\x01 long enough to be cut\r\n");
	torctl_reply_describe(&p->reply, d, sizeof(d));
	assert_string_equal(d, "551 a?b? long e");
	torctl_reply_describe(&p->reply, d, 3);
	assert_string_equal(d, "55");
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_used_stops_at_reply),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line_limit_exact_count),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_quote_roundtrip),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_protocolinfo),
		cmocka_unit_test(test_safecookie),
		cmocka_unit_test(test_auth_commands),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_add_onion),
		cmocka_unit_test(test_client_auth_cmds),
		cmocka_unit_test(test_rend_circuits),
		cmocka_unit_test(test_del_onion),
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_hs_desc),
		cmocka_unit_test(test_describe),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
