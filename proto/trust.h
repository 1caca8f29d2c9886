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
 * Subnets (issue 14): a member owns only the subnets its admission
 * grants (the record's admitted-subnet lines, which the admission
 * signs) and those a grant gives it later (below); proto/claims.c
 * refuses a record announcing any other. An admission that grants no
 * subnet is signed exactly as before (v1), so every admission made
 * before subnets were granted stays valid and its member simply owns
 * no subnet; one that grants subnets is signed in the v2 form.
 *
 * Pure functions over lookup callbacks, so keyd, the joiner and the unit
 * tests run the same check on whatever set of records they hold.
 **/
#ifndef OM_TRUST_H
#define OM_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"
#include "proto/record.h"

enum { ROLE_MEMBER = 0, ROLE_ADMIN = 1 };

#define ADMISSION_CONTEXT  "onionmesh admission v1\n"
#define ADMISSION_CONTEXT2 "onionmesh admission v2\n"
#define REVOCATION_CONTEXT "onionmesh revocation v1\n"
#define GRANT_CONTEXT      "onionmesh grant v1\n"
#define GRANT_MAX_LEN      2048 /* its text, generously */
#define TRUST_MAX_DEPTH    16
#define REVOCATION_MAX_LEN 512  /* its text, generously */
/* Bytes admission_signed_bytes writes at most. */
#define ADMISSION_SIGNED_MAX (sizeof(ADMISSION_CONTEXT2) - 1 + \
	NETID_BYTES + MEMBER_ID_BYTES + NAME_MAX_LEN + 1 + 2 * 64 + 2 + 8 + \
	RECORD_MAX_SUBNETS * 64)
#define GRANT_SIGNED_MAX (sizeof(GRANT_CONTEXT) - 1 + NETID_BYTES + \
	GRANT_MAX_LEN)
#define REVOCATION_SIGNED_MAX (sizeof(REVOCATION_CONTEXT) - 1 + \
	NETID_BYTES + REVOCATION_MAX_LEN)

/* "member" or "admin". */
const char *role_name(int role);

/* "onionmesh admission v1\n" || netid || id || name\n ipv4\n ipv6\n role
 * (ipv4 text empty when the record has none) when the record has no
 * admitted-subnet line; with them, "onionmesh admission v2\n" || netid ||
 * id || name\n ipv4\n ipv6\n role, then "\n" PREFIX for each admitted
 * subnet in the record's order (canonical ADDR/LEN, host bits clear; no
 * newline at the end). Length, or -1 when cap is too small or the
 * record cannot be written. */
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

/* May by_id (not the root: the caller checks that first) sign
 * revocations and grants? Only a held, valid admin. 0, or -1 with why
 * starting with what ("revocation", "grant to X...") it signed. */
int trust_signer_check(const uint8_t by_id[MEMBER_ID_BYTES],
    const char *what, const uint8_t root[MEMBER_ID_BYTES],
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

/*
 * A grant (issue 14): subnets given to a member after it was admitted,
 * canonical text (strict parse like a revocation):
 *   grant = <64 hex: the member's id>
 *   subnet = PREFIX       (1..16, canonical, host bits clear, each once)
 *   by = <64 hex>
 *   serial = N            (unix time in ms when made)
 *   signature = <128 hex>
 * Ed25519 by `by` over "onionmesh grant v1\n" || netid || the text up to
 * the signature line. Valid when by is the root or a valid admin
 * (grant_check), and never for the root itself (it needs none). Meant
 * to be held one per member like a record: a grant with a higher serial
 * replaces the one held and lists every subnet given since the
 * admission (keyd/grants.c).
 */
struct grant {
	uint8_t member[MEMBER_ID_BYTES];
	struct prefix subnets[RECORD_MAX_SUBNETS];
	int nsubnets;
	uint8_t by[MEMBER_ID_BYTES];
	uint64_t serial;
	uint8_t signature[64];
};

int grant_parse(struct grant *g, const char *text, size_t len, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Length, or -1 when cap is too small or g cannot be written. */
int grant_format(const struct grant *g, char *out, size_t cap,
    int with_sig) __attribute__((warn_unused_result));
int grant_signed_bytes(const struct grant *g,
    const uint8_t netid[NETID_BYTES], uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));
/* The signature only: 0 when it verifies by g->by. */
int grant_verify(const struct grant *g, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
/* Signature, not for the root, plus by == root or by is a valid admin
 * record (trust_check through the callbacks). 0 or -1 with why. */
int grant_check(const struct grant *g, const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], trust_lookup_fn lookup,
    trust_revoked_fn revoked, void *arg, char *why, size_t whylen)
    __attribute__((warn_unused_result));
/* Does g give p (p inside one of its subnets)? 1 or 0. */
int grant_covers(const struct grant *g, const struct prefix *p);

#endif
