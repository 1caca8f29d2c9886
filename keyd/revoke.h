/*
 * keyd's revocations: the set of revoked ids (loaded from STATE/revoked
 * at start, grown by ctl "revoke" and by gossip), and what a revocation
 * does: the revoked member's record goes, so do the records whose
 * admission chain ran through it, and linkd and routed are told
 * (MSG_RECORD_DEL) so live sessions end and handshakes are refused.
 */
#ifndef OM_KEYD_REVOKE_H
#define OM_KEYD_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "keyd/keyd.h"
#include "proto/trust.h"

int revoked_is(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES]);
size_t revoked_count(const struct keyd *k);
/* The i-th revocation's canonical signed text (NULL past the end). */
const char *revoked_text(const struct keyd *k, size_t i, size_t *len);
/* a record's chain check against what keyd holds (for join/gossip) */
int keyd_trust_check(const struct keyd *k, const struct record *r,
    char *why, size_t whylen) __attribute__((warn_unused_result));
/* Does the root's held record let plain members invite? */
int keyd_members_invite(const struct keyd *k);

/* Load STATE/revoked (each file checked; bad ones logged and skipped)
 * and drop held records that are revoked or whose chain broke. 0, or -1
 * when the directory cannot be read. */
int revoke_load(struct keyd *k, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void revoke_free(struct keyd *k);
/* ctl "revoke": make, store, apply and flood a revocation of the member
 * called name. also gets the names that lost membership with it (a JSON
 * array). 0, or -1 with err. */
int revoke_make(struct keyd *k, const char *name, char *revoked_name,
    size_t rncap, json_t *also, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* A revocation from gossip (from: the member it came from, not flooded
 * back to it; NULL: flood to all): parse, check, store, flood, apply.
 * 1 new and applied, 0 already held, -1 refused (why). */
int revoke_accept(struct keyd *k, const char *text, size_t len,
    const uint8_t *from, char *why, size_t whylen)
    __attribute__((warn_unused_result));
/* By index (for digests): the revoked id and serial. */
const struct revocation *revoked_get(const struct keyd *k, size_t i);
/* gossip.c: a revocation we hold (by revoked id) to every direct peer
 * but except (NULL: all). */
void gossip_flood_revocation(struct keyd *k,
    const uint8_t id[MEMBER_ID_BYTES], const uint8_t *except);
/* Gossip's kind for revocations (enum gossip_type in proto/msg.h ends
 * at GOSSIP_WANT = 4; linkd carries payloads without looking). */
#define GOSSIP_REVOCATION 5

/* Drop the record at index i: memory, hosts/<name>, linkd and routed,
 * logged with why ("...; its record is removed"). */
void keyd_record_drop(struct keyd *k, size_t i, const char *why);

/* Remove held records that no longer pass trust_check (chain broken or
 * revoked); names appended to also (may be NULL). Returns how many. */
size_t revoke_prune(struct keyd *k, json_t *also);

#endif
