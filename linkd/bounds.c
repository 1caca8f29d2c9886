/*
 * Per-member bounds (bounds.h says which and why): token buckets from
 * ratelimit.c and a cap, each refusal counted for its member.
 */
#include "linkd/bounds.h"

#include <string.h>

void
bounds_init(struct member_bounds *mb, double now)
{
	memset(mb, 0, sizeof(*mb));
	mb->gossip.tokens = BOUND_GOSSIP_BURST;
	mb->gossip.t = now;
}

void
bounds_rekey_init(struct rl_bucket *b, double now)
{
	b->tokens = BOUND_REKEY_BURST;
	b->t = now;
}

int
bounds_gossip_allow(struct member_bounds *mb, double now)
{
	if (rl_bucket_take(&mb->gossip, BOUND_GOSSIP_RATE,
	    BOUND_GOSSIP_BURST, now))
		return 1;
	mb->gossip_limited++;
	return 0;
}

int
bounds_rekey_allow(struct member_bounds *mb, struct rl_bucket *b,
    double now)
{
	if (rl_bucket_take(b, BOUND_REKEY_PER_MIN / 60.0, BOUND_REKEY_BURST,
	    now))
		return 1;
	mb->rekeys_limited++;
	return 0;
}

int
bounds_e2e_allow(struct member_bounds *mb, size_t held)
{
	if (held < BOUND_E2E_PER_MEMBER)
		return 1;
	mb->e2e_refused++;
	return 0;
}
