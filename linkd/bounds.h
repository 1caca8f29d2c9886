/*
 * Per-member bounds: what one member may make linkd (and through it
 * keyd) do, so that a noisy or hostile member costs only its own work,
 * never another member's.
 *
 *  - gossip objects it sends (INNER_GOSSIP payloads, each one a record,
 *    an announcement or a digest that keyd verifies, stores or answers):
 *    a token bucket per member; over it, the member's extra payloads
 *    are dropped before keyd sees them (keyd's digest exchange repairs
 *    what an honest member lost);
 *  - end-to-end sessions it holds with us: at most BOUND_E2E_PER_MEMBER;
 *    a handshake for one more is refused (the sessions of the others
 *    still have the rest of E2E_MAX_SESSIONS);
 *  - rekeys on each of its links: a token bucket per link; an HS_INIT
 *    over it is dropped before any DH (its sender's rekey then times
 *    out, and it is its link that goes).
 *
 * The defaults are far above what a member does on its own: a rekey
 * every SESSION_REKEY_AFTER_TIME (120 s), one or two end-to-end
 * sessions with each member, and gossip in bursts of about one record
 * and one announcement per member when a link comes up. Every drop is
 * counted per member and in total (status --json).
 *
 * Pure: time comes in (monotonic seconds), no I/O, so unit tests drive
 * it by hand.
 */
#ifndef OM_LINKD_BOUNDS_H
#define OM_LINKD_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "linkd/ratelimit.h"

#define BOUND_GOSSIP_RATE     100.0  /* objects per second, per member */
#define BOUND_GOSSIP_BURST    1000.0 /* a full sync of a large network */
#define BOUND_REKEY_PER_MIN   6.0    /* per link; 0.5 expected */
#define BOUND_REKEY_BURST     6.0
#define BOUND_E2E_PER_MEMBER  8

/* One member's buckets and what they refused. */
struct member_bounds {
	struct rl_bucket gossip;
	uint64_t gossip_limited;       /* payloads dropped over the rate */
	uint64_t e2e_refused;          /* handshakes over the session cap */
	uint64_t rekeys_limited;       /* rekeys dropped (all its links) */
};

/* Buckets full, counters 0. */
void bounds_init(struct member_bounds *mb, double now);
/* A rekey bucket for a new link, full. */
void bounds_rekey_init(struct rl_bucket *b, double now);
/* May this member's gossip payload go to keyd? 1 yes, 0 dropped
 * (counted). */
int bounds_gossip_allow(struct member_bounds *mb, double now);
/* May a rekey on this member's link (bucket b) cost a DH? 1 yes, 0
 * dropped (counted in mb). */
int bounds_rekey_allow(struct member_bounds *mb, struct rl_bucket *b,
    double now);
/* May the member, holding `held` end-to-end sessions besides the one
 * asking, have one more? 1 yes, 0 refused (counted). */
int bounds_e2e_allow(struct member_bounds *mb, size_t held);

#endif
