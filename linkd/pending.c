/*
 * Who may wait in handshake (issue 15). An incoming connection costs a
 * slot until its first frame shows what it is (a member's handshake, a
 * join); MAX_PENDING_IN slots in all. Two rules keep strangers from
 * holding them all:
 *
 *  - over TCP, at most MAX_PENDING_PER_SOURCE from one source (an IPv4
 *    address or an IPv6 /64, ratelimit_source_key); more from it are
 *    refused at accept, without a byte;
 *  - when every slot is taken, the connection that has been silent
 *    longest (no whole frame yet) is closed to make room. A member's own
 *    handshake sends its first frame at once, so it is never the
 *    silent one; a stranger that only holds connections open is. Over
 *    onions, where every stranger comes from tor and shares one source,
 *    this rule alone keeps a member's handshakes getting through.
 *
 * Counted in linkd's status: refused_in (at accept), pending_evicted.
 */
#include <string.h>

#include "linkd/linkd.h"
#include "linkd/ratelimit.h"
#include "proto/log.h"

/* The source key of remote (TCP only; *klen 0: not one we can tell
 * apart, as over onions). */
void
pending_source(const char *transport, const char *remote,
    uint8_t key[RL_KEY_MAX], size_t *klen)
{
	if (strcmp(transport, "tcp") != 0 ||
	    ratelimit_source_key(remote, key, klen) == -1)
		*klen = 0;
}

/* Pending links from this source (their keys were kept at accept, so
 * a flood costs a compare per pending link, not a parse). */
static int
pending_from(struct linkd *ld, const uint8_t *key, size_t klen)
{
	struct link *l;
	int n = 0;

	if (klen == 0)
		return -1;
	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->pending_in && l->src_klen == klen &&
		    memcmp(l->src_key, key, klen) == 0)
			n++;
	return n;
}

/* The pending link silent longest (no whole frame yet: a few bytes of
 * one do not count, or a slow sender could keep its slot), or NULL
 * when every one has sent a frame. */
static struct link *
pending_silent_oldest(struct linkd *ld)
{
	struct link *l, *best = NULL;

	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->pending_in && !l->seen_frame &&
		    (best == NULL || l->t_state < best->t_state))
			best = l;
	return best;
}

const char *
pending_admit(struct linkd *ld, const char *transport, const char *remote)
{
	uint8_t key[RL_KEY_MAX];
	struct link *victim;
	size_t klen;

	pending_source(transport, remote, key, &klen);
	if (pending_from(ld, key, klen) >= MAX_PENDING_PER_SOURCE)
		return "too many handshakes pending from its source";
	if (ld->pending_in < MAX_PENDING_IN)
		return NULL;
	if ((victim = pending_silent_oldest(ld)) == NULL)
		return "too many handshakes pending";
	ld->pending_evicted++;
	log_warnx_rl(&ld->pending_evicted, "every handshake slot taken: "
	    "closing the one silent longest (from %s) for a new one from "
	    "%s (%llu so far)", victim->remote, remote,
	    (unsigned long long)ld->pending_evicted);
	link_close(victim, "silent while every handshake slot was taken");
	return NULL;
}
