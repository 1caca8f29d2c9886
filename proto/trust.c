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

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/conf.h"
#include "proto/errbuf.h"


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
	char a4[PREFIX_STRLEN] = "", a6[PREFIX_STRLEN], p[PREFIX_STRLEN];
	size_t n;
	int i, k;

	if (!name_valid(r->name) || r->ipv6.family != 6 ||
	    (r->ipv4.family != 0 && r->ipv4.family != 4) ||
	    (r->role != ROLE_MEMBER && r->role != ROLE_ADMIN) ||
	    r->nadmitted_subnets < 0 ||
	    r->nadmitted_subnets > RECORD_MAX_SUBNETS)
		return -1;
	if (r->ipv4.family == 4)
		prefix_fmt(&r->ipv4, a4, sizeof(a4), 0);
	prefix_fmt(&r->ipv6, a6, sizeof(a6), 0);
	/* Without subnets the v1 bytes, so older admissions verify. */
	if ((k = signed_head(out, cap, r->nadmitted_subnets > 0 ?
	    ADMISSION_CONTEXT2 : ADMISSION_CONTEXT, netid)) < 0 ||
	    cap < (size_t)k + MEMBER_ID_BYTES)
		return -1;
	memcpy(out + k, r->id, MEMBER_ID_BYTES);
	n = (size_t)k + MEMBER_ID_BYTES;
	/* No trailing newline after the role: the design's byte string. */
	k = snprintf((char *)out + n, cap - n, "%s\n%s\n%s\n%s", r->name, a4,
	    a6, role_name(r->role));
	for (i = 0; k >= 0 && (size_t)k < cap - n &&
	    i < r->nadmitted_subnets; i++) {
		n += (size_t)k;
		prefix_fmt(&r->admitted_subnets[i], p, sizeof(p), 1);
		k = snprintf((char *)out + n, cap - n, "\n%s", p);
	}
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
	n = admission_signed_bytes(r, netid, buf, sizeof(buf));
	return signed_verify(r->admission, buf, n, r->admitted_by);
}

/* The chain */

int
trust_members_invite(const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], trust_lookup_fn lookup, void *arg)
{
	const struct record *r;

	r = lookup != NULL ? lookup(arg, root) : NULL;
	/* The root's self-signature is the whole statement. */
	return r != NULL && r->members_invite &&
	    sodium_memcmp(r->id, root, MEMBER_ID_BYTES) == 0 &&
	    record_verify(r, netid) == 0;
}

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

	if (record_verify(r, netid) != 0)
		return err_set(why, whylen, "%s: its own signature does not "
		    "verify for this network", r->name);
	/* A member admitted by the root is one step away; TRUST_MAX_DEPTH
	 * steps at most. */
	for (depth = 0; depth < TRUST_MAX_DEPTH; depth++) {
		if (revoked != NULL && revoked(arg, cur->id)) {
			if (cur == r)
				err_set(why, whylen, "%s is revoked",
				    r->name);
			else
				err_set(why, whylen, "%s was admitted through"
				    " %s, which is revoked", r->name,
				    cur->name);
			return -1;
		}
		if (sodium_memcmp(cur->id, root, MEMBER_ID_BYTES) == 0)
			return 0;
		if (!cur->admitted)
			return err_set(why, whylen, "%s has no admission and "
			    "is not the network's root%s", cur->name,
			    cur == r ? "" : " (in the chain)");
		if (admission_verify(cur, netid) != 0) {
			short_id(hid, cur->admitted_by);
			err_set(why, whylen, "%s: its admission by %s... does"
			    " not verify (its name, addresses or role are not"
			    " what it was admitted as)", cur->name, hid);
			return -1;
		}
		if (sodium_memcmp(cur->admitted_by, root,
		    MEMBER_ID_BYTES) == 0) {
			/* The root may admit anyone; revoked only if the
			 * whole network is. */
			if (revoked != NULL && revoked(arg, root))
				return err_set(why, whylen, "the root is "
				    "revoked");
			return 0;
		}
		if (sodium_memcmp(cur->admitted_by, cur->id,
		    MEMBER_ID_BYTES) == 0)
			return err_set(why, whylen, "%s admitted itself and "
			    "is not the root", cur->name);
		a = lookup != NULL ? lookup(arg, cur->admitted_by) : NULL;
		if (a == NULL) {
			short_id(hid, cur->admitted_by);
			err_set(why, whylen, "%s was admitted by %s..., whose"
			    " record is not held", cur->name, hid);
			return -1;
		}
		if (sodium_memcmp(a->id, cur->admitted_by,
		    MEMBER_ID_BYTES) != 0 || record_verify(a, netid) != 0)
			return err_set(why, whylen, "%s was admitted by %s, "
			    "whose record does not verify", cur->name,
			    a->name);
		if (cur->role == ROLE_ADMIN && a->role != ROLE_ADMIN)
			return err_set(why, whylen, "%s was made an admin by "
			    "%s, which is not an admin (only the root or an "
			    "admin may make one)", cur->name, a->name);
		if (a->role != ROLE_ADMIN && !trust_members_invite(root,
		    netid, lookup, arg))
			return err_set(why, whylen, "%s was admitted by %s, "
			    "a plain member, and the root's record does not "
			    "let members invite (members_invite = yes on the "
			    "root)", cur->name, a->name);
		cur = a;
	}
	return err_set(why, whylen, "%s: its admission chain is longer "
	    "than %d steps", r->name, TRUST_MAX_DEPTH);
}

/* Revocations: strict canonical text */

enum { RV_REVOKED, RV_BY, RV_SERIAL, RV_SIGNATURE, RV_COUNT };
static const char *const rv_keys[RV_COUNT] = {
	"revoked", "by", "serial", "signature",
};

/* A parse error: nothing half-filled is left in v. */
#define rv_fail(v, ...) err_wipe((v), sizeof(*(v)), __VA_ARGS__)

int
revocation_parse(struct revocation *v, const char *text, size_t len,
    char *err, size_t errlen)
{
	char line[REVOCATION_MAX_LEN + 1];
	const char *p = text, *end = text + len, *l, *val;
	char *eq;
	size_t n;
	int f, rc;

	memset(v, 0, sizeof(*v));
	if (text_check(text, len, REVOCATION_MAX_LEN, "revocation", err,
	    errlen) == -1)
		return -1;
	for (f = 0; f < RV_COUNT; f++) {
		if ((rc = text_line(&p, end, &l, &n)) == 0)
			return rv_fail(v, err, errlen, "line %d: %s missing",
			    f + 1, rv_keys[f]);
		if (rc == -1)
			return rv_fail(v, err, errlen, "line %d: no newline"
			    " at the end", f + 1);
		memcpy(line, l, n);
		line[n] = '\0';
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
			if (hex_decode_lower(f == RV_BY ? v->by : v->revoked,
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
			if (hex_decode_lower(v->signature, sizeof(v->signature),
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
	int k = signed_head(out, cap, REVOCATION_CONTEXT, netid);
	int n = k < 0 ? -1 : revocation_format(v, (char *)out + k,
	    cap - (size_t)k, 0);

	return n < 0 ? -1 : k + n;
}

int
revocation_verify(const struct revocation *v,
    const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[REVOCATION_SIGNED_MAX];
	int n;

	if (sodium_init() < 0)
		return -1;
	n = revocation_signed_bytes(v, netid, buf, sizeof(buf));
	return signed_verify(v->signature, buf, n, v->by);
}

int
trust_signer_check(const uint8_t by_id[MEMBER_ID_BYTES], const char *what,
    const uint8_t root[MEMBER_ID_BYTES], const uint8_t netid[NETID_BYTES],
    trust_lookup_fn lookup, trust_revoked_fn revoked, void *arg, char *why,
    size_t whylen)
{
	const struct record *by;
	char hid[17], w[256];

	by = lookup != NULL ? lookup(arg, by_id) : NULL;
	if (by == NULL) {
		short_id(hid, by_id);
		return err_set(why, whylen, "%s signed by %s..., a member "
		    "whose record is not held", what, hid);
	}
	if (by->role != ROLE_ADMIN)
		return err_set(why, whylen, "%s signed by %s, which is not an"
		    " admin (only the root or an admin may sign one)", what,
		    by->name);
	if (trust_check(by, root, netid, lookup, revoked, arg, w,
	    sizeof(w)) != 0)
		return err_set(why, whylen, "%s signed by %s, which is not a"
		    " valid member: %s", what, by->name, w);
	return 0;
}

int
revocation_check(const struct revocation *v,
    const uint8_t root[MEMBER_ID_BYTES], const uint8_t netid[NETID_BYTES],
    trust_lookup_fn lookup, trust_revoked_fn revoked, void *arg, char *why,
    size_t whylen)
{
	char hid[17];

	short_id(hid, v->revoked);
	if (sodium_memcmp(v->revoked, root, MEMBER_ID_BYTES) == 0) {
		err_set(why, whylen, "a revocation of the root (%s...) is"
		    " never valid", hid);
		return -1;
	}
	if (revocation_verify(v, netid) != 0) {
		err_set(why, whylen, "revocation of %s...: the signature does"
		    " not verify for this network", hid);
		return -1;
	}
	if (sodium_memcmp(v->by, root, MEMBER_ID_BYTES) == 0)
		return 0;
	return trust_signer_check(v->by, "revocation", root, netid, lookup,
	    revoked, arg, why, whylen);
}
