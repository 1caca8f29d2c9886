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

/* Pending links from remote's source (TCP only; -1: not one we can
 * tell apart). */
static int
pending_from(struct linkd *ld, const char *transport, const char *remote)
{
	uint8_t key[RL_KEY_MAX], k2[RL_KEY_MAX];
	size_t klen, k2len;
	struct link *l;
	int n = 0;

	if (strcmp(transport, "tcp") != 0 ||
	    ratelimit_source_key(remote, key, &klen) == -1)
		return -1;
	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->pending_in && strcmp(l->transport, "tcp") == 0 &&
		    ratelimit_source_key(l->remote, k2, &k2len) == 0 &&
		    k2len == klen && memcmp(k2, key, klen) == 0)
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
	struct link *victim;

	if (pending_from(ld, transport, remote) >= MAX_PENDING_PER_SOURCE)
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
