/*
 * Handshake flood protection: the one place where linkd decides whether
 * an HS_INIT on an incoming link that has no session yet may cost a DH
 * (ratelimit.h has the buckets and why they exist).
 *
 * Narrow on purpose. Only a responder's first handshake on a link is
 * limited: rekeys on an established link come from a member we already
 * authenticated, and an outgoing link never answers an HS_INIT. And only
 * a handshake with a valid mac1 spends a token: one without it is
 * dropped by the session before any DH, and counting it would let
 * someone who does not even know our public key use up the tokens that
 * members need. A handshake over the limit closes its link without a
 * word (like every refusal to a stranger) and is counted as
 * hs_ratelimited in linkd's status.
 *
 * Rekeys are a member's, so they are bounded per link (bounds.h)
 * instead: one over the bound is dropped, the link stays.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "linkd/ratelimit.h"
#include "proto/log.h"

/* rl with these rates and a fresh SipHash key, unless it is set up. */
static void
rl_ready(struct ratelimit *rl, double rate, double burst, double src_rate,
    double src_burst, double now)
{
	uint8_t seed[RL_SEED_BYTES];

	if (rl->ready)
		return;
	randombytes_buf(seed, sizeof(seed));
	ratelimit_init(rl, rate, burst, src_rate, src_burst, seed, now);
	sodium_memzero(seed, sizeof(seed));
}

enum rl_verdict
join_rl_allow(struct linkd *ld, const struct link *l, double now)
{
	rl_ready(&ld->join_rl, RL_JOIN_RATE, RL_JOIN_BURST, RL_JOIN_SRC_RATE,
	    RL_JOIN_SRC_BURST, now);
	return hs_rl_allow(&ld->join_rl, l, NULL, 0, now);
}

enum rl_verdict
hs_rl_allow(struct ratelimit *rl, const struct link *l, const uint8_t *key,
    size_t klen, double now)
{
	uint8_t lkey[RL_KEY_MAX];

	rl_ready(rl, RL_HS_RATE, RL_HS_BURST, RL_HS_SRC_RATE,
	    RL_HS_SRC_BURST, now);
	/* Every onion link comes from tor: one source for all of them
	 * would let one stranger lock members out, so global only. */
	if (l != NULL) {
		klen = 0;
		key = lkey;
		if (strcmp(l->transport, "tcp") != 0 ||
		    ratelimit_source_key(l->remote, lkey, &klen) == -1)
			klen = 0;
	}
	return ratelimit_allow(rl, klen > 0 ? key : NULL, klen, now);
}

/* A rekey from a member we know: its link's bucket (bounds.h). 0 go
 * on, 1 drop the frame (no DH; the member's rekey times out). */
static int
hs_admit_rekey(struct linkd *ld, struct link *l, double now)
{
	if (bounds_rekey_allow(&l->peer->bounds, &l->rekey_rl, now))
		return 0;
	ld->rekeys_limited++;
	log_warnx_rl(&l->rekey_rl, "link #%u from %s: rekeys over %.0f a "
	    "minute: dropped %llu of its member's so far", l->serial,
	    l->peer->rec.name, BOUND_REKEY_PER_MIN,
	    (unsigned long long)l->peer->bounds.rekeys_limited);
	return 1;
}

int
hs_admit(struct linkd *ld, struct link *l, const struct wire_frame *f,
    double now)
{
	size_t msglen;
	enum rl_verdict v;

	if (f->type != WIRE_HS_INIT || l->dir != LINK_IN)
		return 0;
	if (l->state == LINK_UP && l->peer != NULL)
		return hs_admit_rekey(ld, l, now);
	if (l->state != LINK_HANDSHAKE)
		return 0;
	if (wire_hs_check(f, ld->self_dh, &msglen) == -1)
		return 0;
	if ((v = hs_rl_allow(&ld->hs_rl, l, NULL, 0, now)) == RL_OK)
		return 0;
	ld->hs_ratelimited++;
	log_warnx_rl(&ld->hs_rl, "handshakes over the limit (%s): dropped "
	    "%llu so far, the last from %s", v == RL_SOURCE ?
	    "per source address" : "all sources together",
	    (unsigned long long)ld->hs_ratelimited, l->remote);
	link_close(l, "handshake over the rate limit");
	return -1;
}
