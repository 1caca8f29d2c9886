/*
 * keyd's invitations: make one (ctl "invite"), redeem one (the join
 * exchange, keyd/join_serve.c) and build the joiner's admission.
 *
 * Each pending invitation is a file keys/invites/<16 hex id> (0600,
 * written atomically) holding proto/invite.h's canonical text; only a
 * hash of the secret is stored. Redeeming renames it to <id>.used:
 * rename is atomic and keyd is single-threaded, so of any number of
 * concurrent redeems exactly one wins, and a wrong secret consumes
 * nothing.
 */
#ifndef OM_KEYD_INVITES_H
#define OM_KEYD_INVITES_H

#include <stddef.h>
#include <stdint.h>

#include "keyd/keyd.h"
#include "proto/invite.h"
#include "proto/onion.h"
#include "proto/record.h"

#define INVITE_TTL_DEFAULT (24 * 3600)
#define INVITE_TTL_MIN     30
#define INVITE_TTL_MAX     (30 * 24 * 3600)
#define INVITE_KEEP_S      (30 * 24 * 3600) /* used/expired files */

/* ctl "invite": make one, return the URL. ipv4 NULL or "" picks a free
 * address. 0, or -1 with err naming the value. */
int invites_create(struct keyd *k, const char *name, const char *ipv4,
    uint64_t ttl_s, int role, char *url, size_t urlcap, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* invites_create with subnets the admission grants (issue 14): only
 * the root or an admin may (keyd_grant_ok). */
struct invite_grant {
	const struct prefix *subnets;
	int nsubnets;
};
int invites_create_granting(struct keyd *k, const char *name,
    const char *ipv4, uint64_t ttl_s, int role,
    const struct invite_grant *g, char *url, size_t urlcap, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* join: check secret (constant time) + expiry + unused, then consume
 * atomically. 0 and *inv filled, or -1 with a reason for the joiner. */
/* HELLO's MAC (issue 15): 1 when mac is right for invitation id, held
 * here (used or expired too: redeem says which); 0 otherwise (nothing logged: strangers
 * are counted by join_serve.c). */
int invites_hello_ok(const struct keyd *k, const uint8_t id[INVITE_ID_BYTES],
    const uint8_t mac[INVITE_HELLO_MAC_BYTES]);
int invites_redeem(struct keyd *k, const uint8_t id[INVITE_ID_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES], struct invite *inv,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Build the joiner's admission: name/ipv4/subnets from inv, ipv6
 * derived, role, admitted_by = us, admission signed by keys.c. Fills the
 * fields of *out (a record without self-signature). 0 or -1. */
int invites_admit(struct keyd *k, const struct invite *inv,
    const uint8_t joiner_id[MEMBER_ID_BYTES], struct record *out)
    __attribute__((warn_unused_result));
/* At start: delete .used and expired files older than INVITE_KEEP_S. */
void invites_cleanup(struct keyd *k);
/* The client authorization keys of the invitations still pending (not
 * used, not expired), at most cap, into out: the inviter's onion
 * service takes them (issue 15). How many. */
size_t invites_client_keys(const struct keyd *k,
    uint8_t (*out)[ONION_AUTH_KEY_BYTES], size_t cap);

#endif
