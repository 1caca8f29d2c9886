/*
 * Fuzz target: the tor control protocol, pure half (proto/torctl.c):
 * what keyd reads from tor's ControlPort, or from whatever answers on the
 * path the config names.
 *
 * Input: one mode byte, then
 *   mode bit 0 clear: the byte stream from tor. It is parsed twice, once
 *     in chunks of (mode >> 1) + 1 bytes and once whole; both must find
 *     the same replies (hashed: codes, separators, texts, data blocks)
 *     and fail, if they fail, at the same byte, because a read may split
 *     tor's output anywhere. Every reply goes through every reply parser
 *     (PROTOCOLINFO, AUTHCHALLENGE, ADD_ONION, GETINFO bootstrap) and
 *     every line through the event parsers (bootstrap status, HS_DESC)
 *     and the tokenizer.
 *   mode bit 0 set: a string for torctl_quote; torctl_unquote must give
 *     it back, and torctl_unquote also reads the input raw.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/torctl.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN_MAX (TORCTL_LINE_MAX + 1)

static struct torctl_parser *pa, *pb;
static char *tok_key, *tok_val;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	pa = malloc(sizeof(*pa));
	pb = malloc(sizeof(*pb));
	tok_key = malloc(TOKEN_MAX);
	tok_val = malloc(TOKEN_MAX);
	if (pa == NULL || pb == NULL || tok_key == NULL || tok_val == NULL)
		abort();
	return 0;
}

static void
check_line(const struct torctl_line *l)
{
	struct torctl_bootstrap b;
	char action[32], addr[ONION_ADDR_LEN + 1];
	const char *cur;
	int has_val, n, r;

	FUZZ_CHECK(l->code >= 0 && l->code <= 999);
	FUZZ_CHECK(l->sep == '-' || l->sep == ' ' || l->sep == '+');
	FUZZ_CHECK(l->text != NULL && strlen(l->text) == l->len);
	FUZZ_CHECK(l->len <= TORCTL_LINE_MAX);
	if (l->sep == '+')
		FUZZ_CHECK(l->data != NULL &&
		    strlen(l->data) == l->data_len);
	else
		FUZZ_CHECK(l->data == NULL);

	r = torctl_parse_bootstrap(l->text, &b);
	FUZZ_CHECK(r >= -1 && r <= 1);
	if (r == 0) {
		FUZZ_CHECK(b.progress >= 0 && b.progress <= 100);
		FUZZ_CHECK(memchr(b.tag, '\0', sizeof(b.tag)) != NULL);
		FUZZ_CHECK(memchr(b.summary, '\0', sizeof(b.summary)) != NULL);
		FUZZ_CHECK(memchr(b.warning, '\0', sizeof(b.warning)) != NULL);
	}
	r = torctl_parse_hs_desc(l->text, action, sizeof(action), addr);
	FUZZ_CHECK(r >= -1 && r <= 1);
	if (r == 0) {
		FUZZ_CHECK(memchr(action, '\0', sizeof(action)) != NULL);
		FUZZ_CHECK(addr[0] == '\0' || onion_addr_valid(addr));
	}
	/* The tokenizer always advances or stops. */
	cur = l->text;
	for (n = 0; n <= TORCTL_LINE_MAX; n++) {
		const char *before = cur;

		r = torctl_next_token(&cur, tok_key, TOKEN_MAX, tok_val,
		    TOKEN_MAX, &has_val);
		if (r != 1)
			break;
		FUZZ_CHECK(cur > before && cur <= l->text + l->len);
		FUZZ_CHECK(tok_key[0] != '\0');
		FUZZ_CHECK(has_val || tok_val[0] == '\0');
	}
	FUZZ_CHECK(n <= TORCTL_LINE_MAX);
}

/* Issue 15: the circuit ids given back are each 1..15 digits, at most
 * cap of them, for tor's test-vector address (in the dictionary). */
static void
check_rend_circuits(const struct torctl_reply *r)
{
	char ids[8][TORCTL_CIRC_ID_MAX + 1], err[TORCTL_ERRLEN];
	size_t k, len;
	int n;

	err[0] = '\0';
	n = torctl_parse_rend_circuits(r, "25njqamcweflpvkl73j4szahhihoc4xt3"
	    "ktcgjnpaingr5yhkenl5sid.onion", ids, 8, err, sizeof(err));
	if (n < 0) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(n <= 8);
	for (k = 0; k < (size_t)n; k++) {
		len = strlen(ids[k]);
		FUZZ_CHECK(len >= 1 && len <= TORCTL_CIRC_ID_MAX &&
		    strspn(ids[k], "0123456789") == len);
	}
}

static void
check_reply(const struct torctl_reply *r)
{
	struct torctl_protocolinfo pi;
	struct torctl_safecookie sc;
	struct torctl_bootstrap b;
	char err[TORCTL_ERRLEN], d[160], addr[ONION_ADDR_LEN + 1];
	size_t i;

	FUZZ_CHECK(r->n >= 1 && r->n <= TORCTL_LINES_MAX);
	FUZZ_CHECK(r->line[r->n - 1].sep == ' ');
	for (i = 0; i < r->n; i++) {
		FUZZ_CHECK(r->line[i].code == r->code);
		FUZZ_CHECK(i == r->n - 1 || r->line[i].sep != ' ');
		check_line(&r->line[i]);
	}
	FUZZ_CHECK(r->async == (r->code == 650));
	torctl_reply_describe(r, d, sizeof(d));
	FUZZ_CHECK(strlen(d) < sizeof(d));

	err[0] = '\0';
	if (torctl_parse_protocolinfo(r, &pi, err, sizeof(err)) == 0) {
		FUZZ_CHECK(pi.methods != 0);
		FUZZ_CHECK(pi.cookie_file[0] == '\0' ||
		    pi.cookie_file[0] == '/');
		FUZZ_CHECK(memchr(pi.version, '\0', sizeof(pi.version)));
	} else
		FUZZ_CHECK(err[0] != '\0');

	memset(&sc, 0, sizeof(sc));
	err[0] = '\0';
	if (torctl_parse_authchallenge(r, &sc, err, sizeof(err)) == 0) {
		static const uint8_t cookie[TORCTL_COOKIE_BYTES];
		char out[256];

		/* A made-up SERVERHASH never verifies. */
		if (torctl_safecookie_answer(out, sizeof(out), &sc, cookie,
		    err, sizeof(err)) == 0)
			FUZZ_CHECK(torctl_safecookie_verify(&sc, cookie) == 0);
	} else
		FUZZ_CHECK(err[0] != '\0');

	err[0] = '\0';
	if (torctl_parse_add_onion(r, addr, err, sizeof(err)) == 0)
		FUZZ_CHECK(onion_addr_valid(addr));
	else
		FUZZ_CHECK(err[0] != '\0');

	err[0] = '\0';
	if (torctl_parse_getinfo_bootstrap(r, &b, err, sizeof(err)) == 0)
		FUZZ_CHECK(b.progress >= 0 && b.progress <= 100);
	else
		FUZZ_CHECK(err[0] != '\0');
	check_rend_circuits(r);
}

static void
hash_reply(crypto_generichash_state *st, const struct torctl_reply *r)
{
	uint8_t hdr[5];
	size_t i;

	hdr[0] = (uint8_t)(r->code >> 8);
	hdr[1] = (uint8_t)r->code;
	hdr[2] = (uint8_t)r->async;
	hdr[3] = (uint8_t)(r->n >> 8);
	hdr[4] = (uint8_t)r->n;
	crypto_generichash_update(st, hdr, sizeof(hdr));
	for (i = 0; i < r->n; i++) {
		const struct torctl_line *l = &r->line[i];

		crypto_generichash_update(st, (const uint8_t *)&l->sep, 1);
		crypto_generichash_update(st, (const uint8_t *)l->text,
		    l->len + 1);
		if (l->data != NULL)
			crypto_generichash_update(st,
			    (const uint8_t *)l->data, l->data_len + 1);
	}
}

/* Parse all of p in chunks; returns the byte where it failed, or len.
 * *h: hash of every reply; *nr: how many. */
static size_t
run(struct torctl_parser *ps, const char *p, size_t len, size_t chunk,
    int check, uint8_t h[32], size_t *nr)
{
	crypto_generichash_state st;
	size_t off = 0, n, used, fail = len;
	int r;

	crypto_generichash_init(&st, NULL, 0, 32);
	torctl_parser_init(ps);
	*nr = 0;
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		r = torctl_parser_feed(ps, p + off, n, &used);
		FUZZ_CHECK(used <= n);
		off += used;
		if (r == -1) {
			FUZZ_CHECK(used >= 1 && ps->err[0] != '\0');
			fail = off;
			/* Sticky. */
			FUZZ_CHECK(torctl_parser_feed(ps, "250 OK\r\n", 8,
			    &used) == -1);
			break;
		}
		if (r == 1) {
			FUZZ_CHECK(used >= 1);
			(*nr)++;
			hash_reply(&st, &ps->reply);
			if (check)
				check_reply(&ps->reply);
			continue;
		}
		FUZZ_CHECK(r == 0 && used == n);
	}
	crypto_generichash_final(&st, h, 32);
	return fail;
}

static void
mode_stream(size_t chunk, const char *p, size_t len)
{
	uint8_t ha[32], hb[32];
	size_t fa, fb, na, nb;

	fa = run(pa, p, len, chunk, 1, ha, &na);
	fb = run(pb, p, len, len ? len : 1, 0, hb, &nb);
	FUZZ_CHECK(fa == fb);
	FUZZ_CHECK(na == nb);
	FUZZ_CHECK(memcmp(ha, hb, sizeof(ha)) == 0);
}

static void
mode_quote(const char *s, size_t len)
{
	const char *end;
	size_t cap = 4 * len + 3, slen = strlen(s);
	char *q = malloc(cap), *u = malloc(len + 1);

	if (q == NULL || u == NULL)
		abort();
	/* Every string with no NUL quotes, and comes back unchanged. */
	FUZZ_CHECK(torctl_quote(q, cap, s) == 0);
	FUZZ_CHECK(q[0] == '"');
	FUZZ_CHECK(torctl_unquote(q, &end, u, slen + 1) == 0);
	FUZZ_CHECK(strcmp(u, s) == 0);
	FUZZ_CHECK(*end == '\0');
	/* One byte short of room is refused, not overrun. */
	if (strlen(q) > 0)
		FUZZ_CHECK(torctl_quote(q, strlen(q), s) == -1);
	/* The raw input as a quoted string. */
	if (s[0] == '"' && torctl_unquote(s, &end, u, len + 1) == 0) {
		FUZZ_CHECK(end > s && end <= s + slen);
		FUZZ_CHECK(strlen(u) <= len);
	}
	free(q);
	free(u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_strdup(data + 1, size - 1);
	if (data[0] & 1)
		mode_quote(s, size - 1);
	else
		mode_stream((size_t)(data[0] >> 1) + 1, s, size - 1);
	free(s);
	return 0;
}
