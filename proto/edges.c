/*
 * Edge announcements: parse, format, sign and verify (edges.h has the
 * form).
 *
 * Shaped like record.c and for the same reason: what is signed is the
 * text, so the text must have one spelling. edges_parse accepts exactly
 * what edges_format writes and refuses everything else with the line
 * and the reason; verification re-formats the parsed struct, so the
 * bytes checked are the bytes acted on. Peers are kept sorted by id,
 * which makes the spelling unique and lets routed ask "does B list A?"
 * with a binary search.
 *
 * The parser walks the text once, line by line, without copying it:
 * an announcement may be 48 KiB and every member parses every other's
 * whenever it changes.
 */
#include "proto/edges.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/record.h" /* hex_encode */

/* The longest announcement there can be (most peers, every number at
 * its longest) fits EDGES_MAX_LEN, so edges_format never refuses a
 * valid struct for its length alone. */
#define EDGES_LONGEST (sizeof("edges = \n") - 1 + 64 +                     \
	sizeof("serial = 18446744073709551615\n") - 1 +                    \
	EDGES_MAX_PEERS * (sizeof("peer =  4294967295 4294967295\n") - 1 +  \
	64) + sizeof("signature = \n") - 1 + 128)
_Static_assert(EDGES_LONGEST <= EDGES_MAX_LEN,
    "the longest edge announcement must fit EDGES_MAX_LEN");

static int
edges_fail(struct edges *e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
edges_fail(struct edges *e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	memset(e, 0, sizeof(*e));
	return -1;
}

/* Exactly 2n lower-case hex digits. */
static int
lhex(uint8_t *out, size_t n, const char *v, size_t vlen)
{
	size_t i;
	unsigned hi, lo;

	if (vlen != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = (unsigned char)v[2 * i];
		lo = (unsigned char)v[2 * i + 1];
		hi = hi >= '0' && hi <= '9' ? hi - '0' :
		    hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : 16;
		lo = lo >= '0' && lo <= '9' ? lo - '0' :
		    lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : 16;
		if (hi > 15 || lo > 15)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Decimal, no leading zero, at most max. */
static int
ldec(uint64_t *out, const char *v, size_t vlen, uint64_t max)
{
	uint64_t x = 0;
	size_t i;
	unsigned d;

	if (vlen == 0 || (v[0] == '0' && vlen > 1))
		return -1;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		d = (unsigned)(v[i] - '0');
		if (x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* "key = " at the start of the line [p, p + n): the value's offset. */
static int
line_key(const char *p, size_t n, const char *key, size_t *voff)
{
	size_t k = strlen(key);

	if (n < k + 3 || memcmp(p, key, k) != 0 || memcmp(p + k, " = ", 3))
		return 0;
	*voff = k + 3;
	return 1;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MEMBER_ID_BYTES);
}

int
edges_parse(struct edges *e, const char *text, size_t len, char *err,
    size_t errlen)
{
	const char *p = text, *end = text + len, *nl, *v, *sp;
	size_t n, voff, vlen;
	uint64_t x;
	int lineno = 0, have_sig = 0;

	memset(e, 0, sizeof(*e));
	if (len > EDGES_MAX_LEN)
		return edges_fail(e, err, errlen, "announcement is %zu bytes "
		    "(max %d)", len, EDGES_MAX_LEN);
	if (memchr(text, '\0', len) != NULL)
		return edges_fail(e, err, errlen, "announcement holds a NUL "
		    "byte");
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return edges_fail(e, err, errlen, "line %d: no newline "
			    "at the end", lineno);
		n = (size_t)(nl - p);
		if (have_sig)
			return edges_fail(e, err, errlen, "line %d: text after "
			    "the signature line", lineno);
		if (lineno == 1) {
			if (!line_key(p, n, "edges", &voff) ||
			    lhex(e->id, sizeof(e->id), p + voff, n - voff))
				return edges_fail(e, err, errlen, "line 1: want "
				    "'edges = <64 lower-case hex digits>'");
		} else if (lineno == 2) {
			if (!line_key(p, n, "serial", &voff) ||
			    ldec(&e->serial, p + voff, n - voff,
			    UINT64_MAX) == -1)
				return edges_fail(e, err, errlen, "line 2: want "
				    "'serial = N' (decimal, no leading zeros)");
		} else if (line_key(p, n, "peer", &voff)) {
			struct edges_peer *pe;
			const char *sp2;

			if (e->npeers == EDGES_MAX_PEERS)
				return edges_fail(e, err, errlen, "line %d: "
				    "more than %d peers", lineno,
				    EDGES_MAX_PEERS);
			pe = &e->peers[e->npeers];
			/* "<id> <rtt> <rate>": split at the first two
			 * spaces; a third space lands in the rate and
			 * fails ldec. */
			v = p + voff;
			vlen = n - voff;
			sp = memchr(v, ' ', vlen);
			sp2 = sp == NULL ? NULL :
			    memchr(sp + 1, ' ', (size_t)(v + vlen - sp - 1));
			if (sp2 == NULL || lhex(pe->id, sizeof(pe->id), v,
			    (size_t)(sp - v)) == -1 ||
			    ldec(&x, sp + 1, (size_t)(sp2 - sp - 1),
			    UINT32_MAX) == -1)
				return edges_fail(e, err, errlen, "line %d: want "
				    "'peer = <64 lower-case hex digits> "
				    "<rtt in us, 0..%u> <rate in kbit/s>'",
				    lineno, UINT32_MAX);
			pe->rtt_us = (uint32_t)x;
			if (ldec(&x, sp2 + 1, (size_t)(v + vlen - sp2 - 1),
			    UINT32_MAX) == -1)
				return edges_fail(e, err, errlen, "line %d: "
				    "bad rate: want kbit/s in decimal, "
				    "0..%u, no leading zeros", lineno,
				    UINT32_MAX);
			pe->rate_kbps = (uint32_t)x;
			if (memcmp(pe->id, e->id, MEMBER_ID_BYTES) == 0)
				return edges_fail(e, err, errlen, "line %d: a "
				    "member is not its own peer", lineno);
			if (e->npeers > 0 && id_cmp(e->peers[e->npeers - 1].id,
			    pe->id) >= 0)
				return edges_fail(e, err, errlen, "line %d: "
				    "peers must be sorted by id, each once",
				    lineno);
			e->npeers++;
		} else if (line_key(p, n, "signature", &voff)) {
			if (lhex(e->signature, sizeof(e->signature),
			    p + voff, n - voff) == -1)
				return edges_fail(e, err, errlen, "line %d: want "
				    "'signature = <128 lower-case hex "
				    "digits>'", lineno);
			have_sig = 1;
		} else
			return edges_fail(e, err, errlen, "line %d: '%.*s': "
			    "not a peer or signature line", lineno,
			    (int)(n < 40 ? n : 40), p);
		p = nl + 1;
	}
	if (lineno < 2)
		return edges_fail(e, err, errlen, "%s missing",
		    lineno == 0 ? "edges and serial lines" : "serial line");
	if (!have_sig)
		return edges_fail(e, err, errlen, "signature line missing");
	return 0;
}

static int
edges_valid(const struct edges *e)
{
	size_t i;

	if (e->npeers > EDGES_MAX_PEERS)
		return -1;
	for (i = 0; i < e->npeers; i++) {
		if (id_cmp(e->peers[i].id, e->id) == 0)
			return -1;
		if (i > 0 && id_cmp(e->peers[i - 1].id, e->peers[i].id) >= 0)
			return -1;
	}
	return 0;
}

int
edges_format(const struct edges *e, char *out, size_t cap, int with_sig)
{
	char hex[2 * 64 + 1];
	size_t len = 0, i;
	int k;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (edges_valid(e) == -1)
		return -1;
#define PUT(...) do {                                                     \
		k = snprintf(out + len, cap - len, __VA_ARGS__);          \
		if (k < 0 || (size_t)k >= cap - len)                      \
			goto toolong;                                     \
		len += (size_t)k;                                         \
	} while (0)
	hex_encode(hex, e->id, MEMBER_ID_BYTES);
	PUT("edges = %s\n", hex);
	PUT("serial = %llu\n", (unsigned long long)e->serial);
	for (i = 0; i < e->npeers; i++) {
		hex_encode(hex, e->peers[i].id, MEMBER_ID_BYTES);
		PUT("peer = %s %u %u\n", hex, (unsigned)e->peers[i].rtt_us,
		    (unsigned)e->peers[i].rate_kbps);
	}
	if (with_sig) {
		hex_encode(hex, e->signature, sizeof(e->signature));
		PUT("signature = %s\n", hex);
	}
#undef PUT
	if (len > EDGES_MAX_LEN)
		goto toolong;
	return (int)len;
toolong:
	out[0] = '\0';
	return -1;
}

int
edges_sort(struct edges *e)
{
	size_t i;

	if (e->npeers > EDGES_MAX_PEERS)
		return -1;
	/* id first in struct edges_peer: id_cmp orders the entries. */
	qsort(e->peers, e->npeers, sizeof(e->peers[0]), id_cmp);
	for (i = 0; i < e->npeers; i++) {
		if (id_cmp(e->peers[i].id, e->id) == 0)
			return -1;
		if (i > 0 && id_cmp(e->peers[i - 1].id, e->peers[i].id) == 0)
			return -1;
	}
	return 0;
}

int
edges_signed_bytes(const struct edges *e, const uint8_t netid[NETID_BYTES],
    uint8_t *buf, size_t cap)
{
	size_t ctx = sizeof(EDGES_SIG_CONTEXT) - 1;
	int n;

	if (cap < ctx + NETID_BYTES + 1)
		return -1;
	memcpy(buf, EDGES_SIG_CONTEXT, ctx);
	memcpy(buf + ctx, netid, NETID_BYTES);
	n = edges_format(e, (char *)buf + ctx + NETID_BYTES,
	    cap - ctx - NETID_BYTES, 0);
	if (n < 0)
		return -1;
	return (int)(ctx + NETID_BYTES + (size_t)n);
}

int
edges_sign(struct edges *e, const uint8_t sk[64],
    const uint8_t netid[NETID_BYTES])
{
	static uint8_t buf[EDGES_SIGNED_MAX + 1];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	int n;

	if (sodium_init() < 0)
		return -1;
	if (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
	    sodium_memcmp(pk, e->id, sizeof(pk)) != 0)
		return -1;
	if ((n = edges_signed_bytes(e, netid, buf, sizeof(buf))) < 0)
		return -1;
	if (crypto_sign_detached(e->signature, NULL, buf, (size_t)n,
	    sk) != 0)
		return -1;
	return 0;
}

int
edges_verify(const struct edges *e, const uint8_t netid[NETID_BYTES])
{
	static uint8_t buf[EDGES_SIGNED_MAX + 1];
	int n;

	if (sodium_init() < 0)
		return -1;
	if ((n = edges_signed_bytes(e, netid, buf, sizeof(buf))) < 0)
		return -1;
	if (crypto_sign_verify_detached(e->signature, buf, (size_t)n,
	    e->id) != 0)
		return -1;
	return 0;
}

const struct edges_peer *
edges_find(const struct edges *e, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t lo = 0, hi = e->npeers, mid;
	int c;

	if (hi > EDGES_MAX_PEERS)
		hi = EDGES_MAX_PEERS;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = id_cmp(id, e->peers[mid].id);
		if (c == 0)
			return &e->peers[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
edges_rate_step(uint32_t kbps)
{
	/* The position of the highest bit, 1-based: 0 stays 0. */
	return kbps == 0 ? 0 : 32 - __builtin_clz(kbps);
}

uint32_t
edges_rate_bucket(uint32_t kbps)
{
	return kbps == 0 ? 0 : UINT32_C(1) << (edges_rate_step(kbps) - 1);
}
