/*
 * Trust: who is a member. Every network has a root (its founder's id);
 * every other member's record carries an admission, an Ed25519 signature
 * by the member that admitted it over what it was admitted as. A record
 * is valid when its own signature verifies, it is not revoked, and its
 * admission chain reaches the root through valid records of members that
 * were allowed to admit it: the root or an admin may admit anyone;
 * a plain member may admit a plain member only when the root's own
 * record says so (its "invite = members" line, set by the root's
 * members_invite = yes), a statement every member verifies by the
 * root's signature (issue 14). Revocations are signed objects by the
 * root or an admin and are permanent.
 *
 * Pure functions over lookup callbacks, so keyd, the joiner and the unit
 * tests run the same check on whatever set of records they hold.
 *
 * Subnets stay self-claimed (the admission does not cover them); that is
 * a known gap, not solved here.
 */
#ifndef OM_TRUST_H
#define OM_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"
#include "proto/record.h"

enum { ROLE_MEMBER = 0, ROLE_ADMIN = 1 };

#define ADMISSION_CONTEXT  "onionmesh admission v1\n"
#define REVOCATION_CONTEXT "onionmesh revocation v1\n"
#define TRUST_MAX_DEPTH    16
#define REVOCATION_MAX_LEN 512  /* its text, generously */
/* Bytes admission_signed_bytes writes at most. */
#define ADMISSION_SIGNED_MAX (sizeof(ADMISSION_CONTEXT) - 1 + NETID_BYTES + \
	MEMBER_ID_BYTES + NAME_MAX_LEN + 1 + 2 * 64 + 2 + 8)
#define REVOCATION_SIGNED_MAX (sizeof(REVOCATION_CONTEXT) - 1 + \
	NETID_BYTES + REVOCATION_MAX_LEN)

/* "member" or "admin". */
const char *role_name(int role);

/* "onionmesh admission v1\n" || netid || id || name\n ipv4\n ipv6\n role
 * (ipv4 text empty when the record has none). Length, or -1 when cap
 * is too small or the record cannot be written. */
int admission_signed_bytes(const struct record *r,
    const uint8_t netid[NETID_BYTES], uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));
/* 0 when r carries an admission whose signature by r->admitted_by
 * verifies; -1 otherwise (no admission included). */
int admission_verify(const struct record *r,
    const uint8_t netid[NETID_BYTES]) __attribute__((warn_unused_result));

typedef const struct record *(*trust_lookup_fn)(void *arg,
    const uint8_t id[MEMBER_ID_BYTES]);
typedef int (*trust_revoked_fn)(void *arg,
    const uint8_t id[MEMBER_ID_BYTES]);
/* Does the root's record (held: lookup, and verifying) let plain
 * members admit plain members? 1 or 0 (not held: 0). */
int trust_members_invite(const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], trust_lookup_fn lookup, void *arg);
/*
 * Is r a valid member? Its self-signature, its revocation state and its
 * chain: each link's admission verifies, the admitter is held (lookup),
 * not revoked, valid in turn and allowed to admit that role (an admin
 * only by the root or an admin; a member also by a plain member when
 * trust_members_invite), within
 * TRUST_MAX_DEPTH steps to the root. lookup returns the held record of
 * an id or NULL; revoked (may be NULL) says 1 when an id is revoked.
 * 0 valid, or -1 with the reason in why.
 */
int trust_check(const struct record *r, const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], trust_lookup_fn lookup,
    trust_revoked_fn revoked, void *arg, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * A revocation, canonical text (strict parse like record.c):
 *   revoked = <64 hex>
 *   by = <64 hex>
 *   serial = N            (unix time in ms when made)
 *   signature = <128 hex>
 * Ed25519 by `by` over "onionmesh revocation v1\n" || netid || the text
 * up to the signature line.
 */
struct revocation {
	uint8_t revoked[MEMBER_ID_BYTES];
	uint8_t by[MEMBER_ID_BYTES];
	uint64_t serial;
	uint8_t signature[64];
};

int revocation_parse(struct revocation *v, const char *text, size_t len,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Length, or -1 when cap is too small. */
int revocation_format(const struct revocation *v, char *out, size_t cap,
    int with_sig) __attribute__((warn_unused_result));
int revocation_signed_bytes(const struct revocation *v,
    const uint8_t netid[NETID_BYTES], uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));
/* The signature only: 0 when it verifies by v->by. Whether `by` may
 * revoke is the caller's question (revocation_allowed). */
int revocation_verify(const struct revocation *v,
    const uint8_t netid[NETID_BYTES]) __attribute__((warn_unused_result));
/* Signature, plus by == root or by is a valid admin record (trust_check
 * through the same callbacks). 0 or -1 with why. */
int revocation_check(const struct revocation *v,
    const uint8_t root[MEMBER_ID_BYTES], const uint8_t netid[NETID_BYTES],
    trust_lookup_fn lookup, trust_revoked_fn revoked, void *arg, char *why,
    size_t whylen) __attribute__((warn_unused_result));

#endif
