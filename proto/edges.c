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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/errbuf.h"
#include "proto/record.h" /* hex_encode, signed_head */

/* The longest announcement there can be (most peers, every number at
 * its longest) fits EDGES_MAX_LEN, so edges_format never refuses a
 * valid struct for its length alone. */
#define EDGES_LONGEST (sizeof("edges = \n") - 1 + 64 +                     \
	sizeof("serial = 18446744073709551615\n") - 1 +                    \
	EDGES_MAX_PEERS * (sizeof("peer =  4294967295 4294967295\n") - 1 +  \
	64) + sizeof("signature = \n") - 1 + 128)
_Static_assert(EDGES_LONGEST <= EDGES_MAX_LEN,
    "the longest edge announcement must fit EDGES_MAX_LEN");

/* A parse error: nothing half-filled is left in e. */
#define edges_fail(e, ...) err_wipe((e), sizeof(*(e)), __VA_ARGS__)

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

/* "peer = <id> <rtt> <rate>" (the value v, vlen bytes): the next peer,
 * after the last and not e itself. */
static int
edges_peer(struct edges *e, const char *v, size_t vlen, int lineno,
    char *err, size_t errlen)
{
	struct edges_peer *pe;
	const char *sp, *sp2;
	uint64_t x;

	if (e->npeers == EDGES_MAX_PEERS)
		return edges_fail(e, err, errlen, "line %d: more than %d "
		    "peers", lineno, EDGES_MAX_PEERS);
	pe = &e->peers[e->npeers];
	/* Split at the first two spaces; a third space lands in the rate
	 * and fails ldec. */
	sp = memchr(v, ' ', vlen);
	sp2 = sp == NULL ? NULL :
	    memchr(sp + 1, ' ', (size_t)(v + vlen - sp - 1));
	if (sp2 == NULL || lhex(pe->id, sizeof(pe->id), v,
	    (size_t)(sp - v)) == -1 ||
	    ldec(&x, sp + 1, (size_t)(sp2 - sp - 1), UINT32_MAX) == -1)
		return edges_fail(e, err, errlen, "line %d: want 'peer = "
		    "<64 lower-case hex digits> <rtt in us, 0..%u> <rate in "
		    "kbit/s>'", lineno, UINT32_MAX);
	pe->rtt_us = (uint32_t)x;
	if (ldec(&x, sp2 + 1, (size_t)(v + vlen - sp2 - 1),
	    UINT32_MAX) == -1)
		return edges_fail(e, err, errlen, "line %d: bad rate: want "
		    "kbit/s in decimal, 0..%u, no leading zeros", lineno,
		    UINT32_MAX);
	pe->rate_kbps = (uint32_t)x;
	if (memcmp(pe->id, e->id, MEMBER_ID_BYTES) == 0)
		return edges_fail(e, err, errlen, "line %d: a member is not "
		    "its own peer", lineno);
	if (e->npeers > 0 && id_cmp(e->peers[e->npeers - 1].id,
	    pe->id) >= 0)
		return edges_fail(e, err, errlen, "line %d: peers must be "
		    "sorted by id, each once", lineno);
	e->npeers++;
	return 0;
}

/* One line (p, n bytes, without its newline) of the announcement. */
static int
edges_line(struct edges *e, const char *p, size_t n, int lineno,
    int *have_sig, char *err, size_t errlen)
{
	size_t voff;

	if (*have_sig)
		return edges_fail(e, err, errlen, "line %d: text after the "
		    "signature line", lineno);
	if (lineno == 1) {
		if (!line_key(p, n, "edges", &voff) ||
		    lhex(e->id, sizeof(e->id), p + voff, n - voff))
			return edges_fail(e, err, errlen, "line 1: want "
			    "'edges = <64 lower-case hex digits>'");
	} else if (lineno == 2) {
		if (!line_key(p, n, "serial", &voff) ||
		    ldec(&e->serial, p + voff, n - voff, UINT64_MAX) == -1)
			return edges_fail(e, err, errlen, "line 2: want "
			    "'serial = N' (decimal, no leading zeros)");
	} else if (line_key(p, n, "peer", &voff))
		return edges_peer(e, p + voff, n - voff, lineno, err,
		    errlen);
	else if (line_key(p, n, "signature", &voff)) {
		if (lhex(e->signature, sizeof(e->signature), p + voff,
		    n - voff) == -1)
			return edges_fail(e, err, errlen, "line %d: want "
			    "'signature = <128 lower-case hex digits>'",
			    lineno);
		*have_sig = 1;
	} else
		return edges_fail(e, err, errlen, "line %d: '%.*s': not a "
		    "peer or signature line", lineno, (int)(n < 40 ? n : 40),
		    p);
	return 0;
}

int
edges_parse(struct edges *e, const char *text, size_t len, char *err,
    size_t errlen)
{
	const char *p = text, *end = text + len, *line;
	int lineno = 0, have_sig = 0, rc;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (text_check(text, len, EDGES_MAX_LEN, "announcement", err,
	    errlen) == -1)
		return -1;
	while ((rc = text_line(&p, end, &line, &n)) == 1)
		if (edges_line(e, line, n, ++lineno, &have_sig, err,
		    errlen) == -1)
			return -1;
	if (rc == -1)
		return edges_fail(e, err, errlen, "line %d: no newline at "
		    "the end", lineno + 1);
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
	char hex[2 * 64 + 1], v[2 * 64 + 1 + 24];
	struct kv_out o;
	size_t i;

	if (kv_open(&o, out, cap) == -1 || edges_valid(e) == -1)
		return -1;
	hex_encode(hex, e->id, MEMBER_ID_BYTES);
	kv_put(&o, "edges", hex);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)e->serial);
	kv_put(&o, "serial", v);
	for (i = 0; i < e->npeers; i++) {
		hex_encode(hex, e->peers[i].id, MEMBER_ID_BYTES);
		snprintf(v, sizeof(v), "%s %u %u", hex,
		    (unsigned)e->peers[i].rtt_us,
		    (unsigned)e->peers[i].rate_kbps);
		kv_put(&o, "peer", v);
	}
	if (with_sig) {
		hex_encode(hex, e->signature, sizeof(e->signature));
		kv_put(&o, "signature", hex);
	}
	return kv_close(&o, EDGES_MAX_LEN);
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
	int k = signed_head(buf, cap, EDGES_SIG_CONTEXT, netid);
	int n = k < 0 ? -1 : edges_format(e, (char *)buf + k,
	    cap - (size_t)k, 0);

	return n < 0 ? -1 : k + n;
}

int
edges_sign(struct edges *e, const uint8_t sk[64],
    const uint8_t netid[NETID_BYTES])
{
	static uint8_t buf[EDGES_SIGNED_MAX + 1];
	int n = edges_signed_bytes(e, netid, buf, sizeof(buf));

	return signed_sign(e->signature, buf, n, sk, e->id);
}

int
edges_verify(const struct edges *e, const uint8_t netid[NETID_BYTES])
{
	static uint8_t buf[EDGES_SIGNED_MAX + 1];
	int n;

	if (sodium_init() < 0)
		return -1;
	n = edges_signed_bytes(e, netid, buf, sizeof(buf));
	return signed_verify(e->signature, buf, n, e->id);
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
