/*
 * Grants (issue 14): subnets the root or an admin gives a member after
 * its admission, so that a member owns only the subnets someone allowed
 * to give them gave it (proto/trust.h has the text and what is signed).
 *
 * Like a revocation, a grant is canonical text: fixed field order, one
 * spelling for every value, a strict parse, so its signature covers
 * exactly the bytes that are stored and gossiped.
 */
#include "proto/trust.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/errbuf.h"

enum { GR_GRANT, GR_SUBNET, GR_BY, GR_SERIAL, GR_SIGNATURE, GR_COUNT };
static const char *const gr_keys[GR_COUNT] = {
	"grant", "subnet", "by", "serial", "signature",
};

/* A parse error: nothing half-filled is left in g. */
#define gr_fail(g, ...) err_wipe((g), sizeof(*(g)), __VA_ARGS__)

/* The value of line f (a subnet line: one more subnet). 0 or -1 with
 * why. */
static int
gr_value(struct grant *g, int f, const char *v, char *why, size_t whylen)
{
	switch (f) {
	case GR_GRANT:
	case GR_BY:
		if (hex_decode_lower(f == GR_BY ? g->by : g->member, MEMBER_ID_BYTES,
		    v) == -1)
			return err_set(why, whylen, "not 64 lower-case hex "
			    "digits");
		return 0;
	case GR_SUBNET:
		return subnet_list_add(g->subnets, &g->nsubnets,
		    RECORD_MAX_SUBNETS, v, why, whylen);
	case GR_SERIAL:
		if (dec_u64(&g->serial, v) == -1)
			return err_set(why, whylen, "not a decimal number "
			    "without leading zeros");
		return 0;
	default:
		if (hex_decode_lower(g->signature, sizeof(g->signature), v) == -1)
			return err_set(why, whylen, "not 128 lower-case hex "
			    "digits");
		return 0;
	}
}

int
grant_parse(struct grant *g, const char *text, size_t len, char *err,
    size_t errlen)
{
	char line[GRANT_MAX_LEN + 1], why[160];
	const char *p = text, *end = text + len;
	char *val;
	int f = GR_GRANT, lineno = 0, rc;

	memset(g, 0, sizeof(*g));
	if (text_check(text, len, GRANT_MAX_LEN, "grant", err, errlen) == -1)
		return -1;
	while ((rc = kv_line(&p, end, line, sizeof(line), &val)) == 1) {
		lineno++;
		if (f == GR_COUNT)
			return gr_fail(g, err, errlen, "line %d: text after "
			    "the signature", lineno);
		if (val == NULL)
			return gr_fail(g, err, errlen, "line %d: '%.80s': not"
			    " in the form 'key = value'", lineno, line);
		/* After the first subnet line, more subnets or by. */
		if (f == GR_BY && strcmp(line, "subnet") == 0 &&
		    g->nsubnets > 0)
			f = GR_SUBNET;
		if (strcmp(line, gr_keys[f]) != 0)
			return gr_fail(g, err, errlen, "line %d: '%.40s' where"
			    " %s belongs (fields: grant, subnet (1..%d), by,"
			    " serial, signature)", lineno, line, gr_keys[f],
			    RECORD_MAX_SUBNETS);
		if (gr_value(g, f, val, why, sizeof(why)) == -1)
			return gr_fail(g, err, errlen, "line %d: %s = %.140s: "
			    "%s", lineno, gr_keys[f], val, why);
		f++;
	}
	if (rc == -1)
		return gr_fail(g, err, errlen, "line %d: no newline at the "
		    "end", lineno + 1);
	if (f != GR_COUNT)
		return gr_fail(g, err, errlen, "line %d: %s missing",
		    lineno + 1, gr_keys[f]);
	return 0;
}

int
grant_format(const struct grant *g, char *out, size_t cap, int with_sig)
{
	struct kv_out o;
	char h[2 * 64 + 1], s[PREFIX_STRLEN], num[24];
	struct prefix m;
	int i;

	if (kv_open(&o, out, cap) == -1)
		return -1;
	if (g->nsubnets < 1 || g->nsubnets > RECORD_MAX_SUBNETS)
		return -1;
	hex_encode(h, g->member, MEMBER_ID_BYTES);
	kv_put(&o, "grant", h);
	for (i = 0; i < g->nsubnets; i++) {
		m = g->subnets[i];
		prefix_mask(&m);
		if ((m.family != 4 && m.family != 6) ||
		    !prefix_equal(&m, &g->subnets[i]))
			return -1;
		prefix_fmt(&m, s, sizeof(s), 1);
		kv_put(&o, "subnet", s);
	}
	hex_encode(h, g->by, MEMBER_ID_BYTES);
	kv_put(&o, "by", h);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)g->serial);
	kv_put(&o, "serial", num);
	if (with_sig) {
		hex_encode(h, g->signature, sizeof(g->signature));
		kv_put(&o, "signature", h);
	}
	return kv_close(&o, GRANT_MAX_LEN);
}

int
grant_signed_bytes(const struct grant *g, const uint8_t netid[NETID_BYTES],
    uint8_t *out, size_t cap)
{
	int k, n;

	if ((k = signed_head(out, cap, GRANT_CONTEXT, netid)) < 0 ||
	    (n = grant_format(g, (char *)out + k, cap - (size_t)k, 0)) < 0)
		return -1;
	return k + n;
}

int
grant_verify(const struct grant *g, const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[GRANT_SIGNED_MAX];
	int n;

	if (sodium_init() < 0)
		return -1;
	n = grant_signed_bytes(g, netid, buf, sizeof(buf));
	return signed_verify(g->signature, buf, n, g->by);
}

int
grant_check(const struct grant *g, const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], trust_lookup_fn lookup,
    trust_revoked_fn revoked, void *arg, char *why, size_t whylen)
{
	char hid[17], what[64];

	hex_encode(hid, g->member, 8);
	if (sodium_memcmp(g->member, root, MEMBER_ID_BYTES) == 0)
		return err_set(why, whylen, "a grant to the root (%s...) is "
		    "never needed nor taken", hid);
	if (grant_verify(g, netid) != 0)
		return err_set(why, whylen, "grant to %s...: the signature "
		    "does not verify for this network", hid);
	if (sodium_memcmp(g->by, root, MEMBER_ID_BYTES) == 0)
		return 0;
	snprintf(what, sizeof(what), "grant to %s...", hid);
	return trust_signer_check(g->by, what, root, netid, lookup, revoked,
	    arg, why, whylen);
}

int
grant_covers(const struct grant *g, const struct prefix *p)
{
	int i;

	for (i = 0; i < g->nsubnets && i < RECORD_MAX_SUBNETS; i++)
		if (prefix_covers(&g->subnets[i], p))
			return 1;
	return 0;
}
