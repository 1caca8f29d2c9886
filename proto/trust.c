/*
 * Trust: admissions, the chain check and revocations.
 *
 * An admission is the admitter's signature over what the new member was
 * admitted as (netid, id, name, addresses, role), so a member cannot
 * rename itself or take another address without a new admission, and an
 * admission for one network is worthless in another. The chain check
 * walks admitted-by links from a record to the root, re-verifying every
 * signature on the way: the caller's set of records is only a cache of
 * claims, never trusted by itself. The walk is bounded (TRUST_MAX_DEPTH),
 * which also ends any cycle.
 *
 * A revocation is canonical text like a record (fixed field order, one
 * spelling, strict parse), so its signature covers exactly the bytes that
 * are stored and gossiped.
 */
#include "proto/trust.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/conf.h"

static void
why_set(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

const char *
role_name(int role)
{
	return role == ROLE_ADMIN ? "admin" : "member";
}

/* Admissions */

int
admission_signed_bytes(const struct record *r,
    const uint8_t netid[NETID_BYTES], uint8_t *out, size_t cap)
{
	char a4[PREFIX_STRLEN] = "", a6[PREFIX_STRLEN];
	size_t ctx = sizeof(ADMISSION_CONTEXT) - 1, n;
	int k;

	if (!name_valid(r->name) || r->ipv6.family != 6 ||
	    (r->ipv4.family != 0 && r->ipv4.family != 4) ||
	    (r->role != ROLE_MEMBER && r->role != ROLE_ADMIN))
		return -1;
	if (r->ipv4.family == 4)
		prefix_fmt(&r->ipv4, a4, sizeof(a4), 0);
	prefix_fmt(&r->ipv6, a6, sizeof(a6), 0);
	n = ctx + NETID_BYTES + MEMBER_ID_BYTES;
	if (cap < n)
		return -1;
	memcpy(out, ADMISSION_CONTEXT, ctx);
	memcpy(out + ctx, netid, NETID_BYTES);
	memcpy(out + ctx + NETID_BYTES, r->id, MEMBER_ID_BYTES);
	/* No trailing newline after the role: the design's byte string. */
	k = snprintf((char *)out + n, cap - n, "%s\n%s\n%s\n%s", r->name, a4,
	    a6, role_name(r->role));
	if (k < 0 || (size_t)k >= cap - n)
		return -1;
	return (int)(n + (size_t)k);
}

int
admission_verify(const struct record *r, const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[ADMISSION_SIGNED_MAX];
	int n;

	if (!r->admitted || sodium_init() < 0)
		return -1;
	if ((n = admission_signed_bytes(r, netid, buf, sizeof(buf))) < 0)
		return -1;
	if (crypto_sign_verify_detached(r->admission, buf, (size_t)n,
	    r->admitted_by) != 0)
		return -1;
	return 0;
}

/* The chain */

static void
short_id(char out[17], const uint8_t id[MEMBER_ID_BYTES])
{
	hex_encode(out, id, 8);
}

int
trust_check(const struct record *r, const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], trust_lookup_fn lookup,
    trust_revoked_fn revoked, void *arg, char *why, size_t whylen)
{
	const struct record *cur = r, *a;
	char hid[17];
	int depth;

	if (record_verify(r, netid) != 0) {
		why_set(why, whylen, "%s: its own signature does not verify"
		    " for this network", r->name);
		return -1;
	}
	/* A member admitted by the root is one step away; TRUST_MAX_DEPTH
	 * steps at most. */
	for (depth = 0; depth < TRUST_MAX_DEPTH; depth++) {
		if (revoked != NULL && revoked(arg, cur->id)) {
			if (cur == r)
				why_set(why, whylen, "%s is revoked",
				    r->name);
			else
				why_set(why, whylen, "%s was admitted through"
				    " %s, which is revoked", r->name,
				    cur->name);
			return -1;
		}
		if (sodium_memcmp(cur->id, root, MEMBER_ID_BYTES) == 0)
			return 0;
		if (!cur->admitted) {
			why_set(why, whylen, "%s has no admission and is not"
			    " the network's root%s", cur->name, cur == r ? "" :
			    " (in the chain)");
			return -1;
		}
		if (admission_verify(cur, netid) != 0) {
			short_id(hid, cur->admitted_by);
			why_set(why, whylen, "%s: its admission by %s... does"
			    " not verify (its name, addresses or role are not"
			    " what it was admitted as)", cur->name, hid);
			return -1;
		}
		if (sodium_memcmp(cur->admitted_by, root,
		    MEMBER_ID_BYTES) == 0) {
			/* The root may admit anyone; revoked only if the
			 * whole network is. */
			if (revoked != NULL && revoked(arg, root)) {
				why_set(why, whylen, "the root is revoked");
				return -1;
			}
			return 0;
		}
		if (sodium_memcmp(cur->admitted_by, cur->id,
		    MEMBER_ID_BYTES) == 0) {
			why_set(why, whylen, "%s admitted itself and is not"
			    " the root", cur->name);
			return -1;
		}
		a = lookup != NULL ? lookup(arg, cur->admitted_by) : NULL;
		if (a == NULL) {
			short_id(hid, cur->admitted_by);
			why_set(why, whylen, "%s was admitted by %s..., whose"
			    " record is not held", cur->name, hid);
			return -1;
		}
		if (sodium_memcmp(a->id, cur->admitted_by,
		    MEMBER_ID_BYTES) != 0 || record_verify(a, netid) != 0) {
			why_set(why, whylen, "%s was admitted by %s, whose"
			    " record does not verify", cur->name, a->name);
			return -1;
		}
		if (cur->role == ROLE_ADMIN && a->role != ROLE_ADMIN) {
			why_set(why, whylen, "%s was made an admin by %s,"
			    " which is not an admin (only the root or an admin"
			    " may make one)", cur->name, a->name);
			return -1;
		}
		cur = a;
	}
	why_set(why, whylen, "%s: its admission chain is longer than %d"
	    " steps", r->name, TRUST_MAX_DEPTH);
	return -1;
}

/* Revocations: strict canonical text */

enum { RV_REVOKED, RV_BY, RV_SERIAL, RV_SIGNATURE, RV_COUNT };
static const char *const rv_keys[RV_COUNT] = {
	"revoked", "by", "serial", "signature",
};

static int
hex_lower(uint8_t *out, size_t n, const char *v)
{
	size_t i, len = strlen(v);

	for (i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f')))
			return -1;
	if (len != 2 * n)
		return -1;
	return hex_decode(out, n, v);
}

static int
rv_fail(struct revocation *v, char *err, size_t errlen, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
rv_fail(struct revocation *v, char *err, size_t errlen, const char *fmt,
    ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	memset(v, 0, sizeof(*v));
	return -1;
}

int
revocation_parse(struct revocation *v, const char *text, size_t len,
    char *err, size_t errlen)
{
	char line[REVOCATION_MAX_LEN + 1];
	const char *p = text, *end = text + len, *nl, *val;
	char *eq;
	size_t n;
	int f;

	memset(v, 0, sizeof(*v));
	if (len > REVOCATION_MAX_LEN)
		return rv_fail(v, err, errlen, "revocation is %zu bytes (max"
		    " %d)", len, REVOCATION_MAX_LEN);
	if (memchr(text, '\0', len) != NULL)
		return rv_fail(v, err, errlen, "revocation holds a NUL byte");
	for (f = 0; f < RV_COUNT; f++) {
		if (p >= end)
			return rv_fail(v, err, errlen, "line %d: %s missing",
			    f + 1, rv_keys[f]);
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return rv_fail(v, err, errlen, "line %d: no newline"
			    " at the end", f + 1);
		n = (size_t)(nl - p);
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		eq = strstr(line, " = ");
		if (eq == NULL)
			return rv_fail(v, err, errlen, "line %d: '%.80s': not"
			    " in the form 'key = value'", f + 1, line);
		*eq = '\0';
		val = eq + 3;
		if (strcmp(line, rv_keys[f]) != 0)
			return rv_fail(v, err, errlen, "line %d: '%.40s' where"
			    " %s belongs (fields: revoked, by, serial,"
			    " signature)", f + 1, line, rv_keys[f]);
		switch (f) {
		case RV_REVOKED:
		case RV_BY:
			if (hex_lower(f == RV_BY ? v->by : v->revoked,
			    MEMBER_ID_BYTES, val) == -1)
				return rv_fail(v, err, errlen, "line %d: %s ="
				    " %.80s: not 64 lower-case hex digits",
				    f + 1, rv_keys[f], val);
			break;
		case RV_SERIAL:
			if (dec_u64(&v->serial, val) == -1)
				return rv_fail(v, err, errlen, "line %d: "
				    "serial = %.40s: not a decimal number"
				    " without leading zeros", f + 1, val);
			break;
		case RV_SIGNATURE:
			if (hex_lower(v->signature, sizeof(v->signature),
			    val) == -1)
				return rv_fail(v, err, errlen, "line %d: "
				    "signature = %.140s: not 128 lower-case"
				    " hex digits", f + 1, val);
			break;
		}
	}
	if (p != end)
		return rv_fail(v, err, errlen, "line 5: text after the"
		    " signature");
	return 0;
}

int
revocation_format(const struct revocation *v, char *out, size_t cap,
    int with_sig)
{
	char r[2 * MEMBER_ID_BYTES + 1], b[2 * MEMBER_ID_BYTES + 1];
	char s[2 * 64 + 1];
	int k;

	if (cap == 0)
		return -1;
	hex_encode(r, v->revoked, MEMBER_ID_BYTES);
	hex_encode(b, v->by, MEMBER_ID_BYTES);
	hex_encode(s, v->signature, sizeof(v->signature));
	if (with_sig)
		k = snprintf(out, cap, "revoked = %s\nby = %s\nserial = %llu\n"
		    "signature = %s\n", r, b, (unsigned long long)v->serial,
		    s);
	else
		k = snprintf(out, cap, "revoked = %s\nby = %s\nserial ="
		    " %llu\n", r, b, (unsigned long long)v->serial);
	if (k < 0 || (size_t)k >= cap) {
		out[0] = '\0';
		return -1;
	}
	return k;
}

int
revocation_signed_bytes(const struct revocation *v,
    const uint8_t netid[NETID_BYTES], uint8_t *out, size_t cap)
{
	size_t ctx = sizeof(REVOCATION_CONTEXT) - 1;
	int n;

	if (cap < ctx + NETID_BYTES + 1)
		return -1;
	memcpy(out, REVOCATION_CONTEXT, ctx);
	memcpy(out + ctx, netid, NETID_BYTES);
	n = revocation_format(v, (char *)out + ctx + NETID_BYTES,
	    cap - ctx - NETID_BYTES, 0);
	if (n < 0)
		return -1;
	return (int)(ctx + NETID_BYTES + (size_t)n);
}

int
revocation_verify(const struct revocation *v,
    const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[REVOCATION_SIGNED_MAX];
	int n;

	if (sodium_init() < 0)
		return -1;
	if ((n = revocation_signed_bytes(v, netid, buf, sizeof(buf))) < 0)
		return -1;
	if (crypto_sign_verify_detached(v->signature, buf, (size_t)n,
	    v->by) != 0)
		return -1;
	return 0;
}

int
revocation_check(const struct revocation *v,
    const uint8_t root[MEMBER_ID_BYTES], const uint8_t netid[NETID_BYTES],
    trust_lookup_fn lookup, trust_revoked_fn revoked, void *arg, char *why,
    size_t whylen)
{
	const struct record *by;
	char hid[17], w[256];

	short_id(hid, v->revoked);
	if (sodium_memcmp(v->revoked, root, MEMBER_ID_BYTES) == 0) {
		why_set(why, whylen, "a revocation of the root (%s...) is"
		    " never valid", hid);
		return -1;
	}
	if (revocation_verify(v, netid) != 0) {
		why_set(why, whylen, "revocation of %s...: the signature does"
		    " not verify for this network", hid);
		return -1;
	}
	if (sodium_memcmp(v->by, root, MEMBER_ID_BYTES) == 0)
		return 0;
	by = lookup != NULL ? lookup(arg, v->by) : NULL;
	if (by == NULL) {
		short_id(hid, v->by);
		why_set(why, whylen, "revocation signed by %s..., a member"
		    " whose record is not held", hid);
		return -1;
	}
	if (by->role != ROLE_ADMIN) {
		why_set(why, whylen, "revocation signed by %s, which is not"
		    " an admin (only the root or an admin may revoke)",
		    by->name);
		return -1;
	}
	if (trust_check(by, root, netid, lookup, revoked, arg, w,
	    sizeof(w)) != 0) {
		why_set(why, whylen, "revocation signed by %s, which is not"
		    " a valid member: %s", by->name, w);
		return -1;
	}
	return 0;
}
