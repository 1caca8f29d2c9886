/*
 * linkd's part in gossip: a carrier, nothing more. keyd owns the
 * objects (records, edge announcements, digests) and decides who gets
 * what; linkd moves the opaque INNER_GOSSIP payloads between keyd and
 * the members' sessions:
 *
 *   member --INNER_GOSSIP--> link --MSG_GOSSIP_IN (member id)--> keyd
 *   keyd --MSG_GOSSIP_OUT (mode, member)--> one link per member
 *
 * The member id handed to keyd is the one the link's handshake proved,
 * so keyd knows whom to answer; linkd never parses the payload beyond
 * its length, so a bug in an object parser can only ever be keyd's,
 * which holds no socket to a member.
 *
 * One payload goes out on one established link of each target member:
 * the first one that is not congested (a stream keeps the order in
 * which keyd sent, which keeps records ahead of the announcements that
 * need them), else the least congested. What a member sends is
 * bounded per member (bounds.h) before keyd sees it. Gossip yields to
 * packets: above
 * LINK_OBUF_HIGH a payload is dropped rather than queued, and keyd's
 * next digest exchange repairs what was lost.
 */
#include <string.h>

#include "linkd/linkd.h"
#include "proto/log.h"

/* The link of p to carry gossip, or NULL when none is established. */
static struct link *
gossip_link(struct peer *p)
{
	struct link *l, *best = NULL;
	int i;

	for (i = 0; i < p->nlinks; i++) {
		l = p->links[i];
		if (l->state != LINK_UP || !l->sess_live ||
		    l->sess.state != SESSION_ESTABLISHED)
			continue;
		if (link_backlog(l) < LINK_OBUF_HIGH)
			return l;
		if (best == NULL || link_backlog(l) < link_backlog(best))
			best = l;
	}
	return best;
}

static void
gossip_to_peer(struct linkd *ld, struct peer *p, const uint8_t *data,
    size_t len, double now)
{
	struct link *l;

	if ((l = gossip_link(p)) == NULL ||
	    link_backlog(l) >= LINK_OBUF_HIGH) {
		ld->gossip_drops++;
		log_debug("gossip for %s dropped: %s", p->rec.name, l == NULL ?
		    "no established link" : "its links are congested");
		return;
	}
	if (session_send_kind(&l->sess, INNER_GOSSIP, data, len, now) == -1) {
		ld->gossip_drops++;
		/* A payload the session refuses costs the payload; a
		 * session that closed costs the link. */
		if (l->sess.state == SESSION_CLOSED)
			link_fail(l, l->send_err != NULL ? l->send_err :
			    "session closed");
		return;
	}
	l->tx_packets++;
	ld->gossip_out++;
}

void
linkd_gossip_output(struct linkd *ld, const uint8_t *payload, size_t n)
{
	static struct msg_gossip_out m;   /* 60 KiB: not on the stack */
	struct peer *p;
	double now = linkd_now();

	if (msg_gossip_out_decode(&m, payload, n) == -1) {
		log_warnx_rl(&ld->gossip_out, "keyd sent a MSG_GOSSIP_OUT "
		    "that does not decode (%zu bytes)", n);
		return;
	}
	if (m.mode == GOSSIP_TO_PEER) {
		if ((p = peers_find(ld, m.id)) != NULL)
			gossip_to_peer(ld, p, m.data, m.len, now);
		else
			ld->gossip_drops++;
		return;
	}
	TAILQ_FOREACH(p, &ld->peers, entry) {
		if (p->links_up == 0)
			continue;
		if (m.mode == GOSSIP_TO_OTHERS &&
		    memcmp(p->rec.id, m.id, MEMBER_ID_BYTES) == 0)
			continue;
		gossip_to_peer(ld, p, m.data, m.len, now);
	}
}

void
linkd_gossip_input(struct linkd *ld, struct peer *from, const uint8_t *p,
    size_t len)
{
	static struct msg_gossip_in m;    /* 60 KiB: not on the stack */
	static uint8_t buf[MEMBER_ID_BYTES + 2 + GOSSIP_MAX_PAYLOAD];
	struct buf_w w;

	if (len == 0 || len > GOSSIP_MAX_PAYLOAD) {
		ld->gossip_drops++;
		log_warnx_rl(&ld->gossip_in, "gossip payload of %zu bytes "
		    "from %s (at most %d); dropped", len, from->rec.name,
		    GOSSIP_MAX_PAYLOAD);
		return;
	}
	if (!bounds_gossip_allow(&from->bounds, linkd_now())) {
		ld->gossip_limited++;
		log_warnx_rl(&from->bounds, "gossip from %s over %.0f objects "
		    "a second: dropped %llu so far", from->rec.name,
		    BOUND_GOSSIP_RATE,
		    (unsigned long long)from->bounds.gossip_limited);
		return;
	}
	memcpy(m.id, from->rec.id, MEMBER_ID_BYTES);
	m.len = (uint16_t)len;
	memcpy(m.data, p, len);
	bw_init(&w, buf, sizeof(buf));
	msg_gossip_in_encode(&w, &m);
	if (w.err || ld->keyd == NULL ||
	    ipc_send(ld->keyd, MSG_GOSSIP_IN, 0, 0, &w) == -1) {
		/* keyd away or behind: the digest exchange repairs it. */
		ld->gossip_drops++;
		log_debug("gossip from %s not passed to keyd",
		    from->rec.name);
		return;
	}
	ld->gossip_in++;
}
