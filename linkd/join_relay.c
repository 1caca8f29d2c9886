/*
 * Join relays: an incoming connection whose first frame is WIRE_JOIN is
 * a newcomer redeeming an invitation, not a member. linkd does not take
 * part in the exchange (keyd holds the keys and the invitations, see
 * keyd/join.h); it only carries frame bodies: each one to keyd as
 * MSG_JOIN_IN {conn, body}, and keyd's MSG_JOIN_OUT back as a WIRE_JOIN
 * frame. conn is the link's serial.
 *
 * A relay is never a peer link: it has no peer and no session (the one
 * link_accept set up is wiped), so no packet, gossip or route can reach
 * it or come from it, and any frame but WIRE_JOIN closes it. It is
 * bounded like a handshake and more: JOIN_RELAY_MAX at once (apart from
 * the pending handshakes, so joins cannot lock members out), the joins'
 * own rate limit on its first frame (ld->join_rl: a flood of HELLOs
 * spends no token members need), JOIN_RELAY_TIMEOUT s in all,
 * and the frame size wire_frame_peek allows for WIRE_JOIN. When it ends
 * for any reason keyd hears of it (an empty MSG_JOIN_IN) and drops its
 * state.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "linkd/ratelimit.h"
#include "proto/buf.h"
#include "proto/ipc.h"
#include "proto/log.h"

static uint8_t relay_buf[MSG_JOIN_BODY_MAX + 64];

static int
relay_to_keyd(struct linkd *ld, struct link *l, const uint8_t *body,
    size_t len)
{
	struct msg_join_in m;
	struct buf_w w;

	memset(&m, 0, sizeof(m));
	m.conn = l->serial;
	m.len = (uint16_t)len;
	m.data = body;
	bw_init(&w, relay_buf, sizeof(relay_buf));
	msg_join_in_encode(&w, &m);
	if (w.err || ld->keyd == NULL)
		return -1;
	return ipc_send(ld->keyd, MSG_JOIN_IN, 0, 0, &w);
}

/* The first WIRE_JOIN frame of an incoming link: may it become a relay?
 * 0 yes (and it is one), -1 the link was closed. */
static int
relay_start(struct linkd *ld, struct link *l, double now)
{
	if (l->dir != LINK_IN || l->peer != NULL || l->seen_frame ||
	    l->state != LINK_HANDSHAKE) {
		link_fail(l, "a join frame on a member's link");
		return -1;
	}
	if (ld->join_relays >= JOIN_RELAY_MAX) {
		ld->join_refused++;
		log_warnx_rl(&ld->join_relays, "join from %s refused: %d "
		    "joins in progress", l->remote, ld->join_relays);
		link_close(l, "too many joins in progress");
		return -1;
	}
	if (join_rl_allow(ld, l, now) != RL_OK) {
		ld->join_refused++;
		ld->join_ratelimited++;
		link_close(l, "join over the joins' rate limit");
		return -1;
	}
	/* Out of the pending handshakes, into the relays. */
	if (l->pending_in) {
		l->pending_in = 0;
		ld->pending_in--;
	}
	if (l->sess_live) {
		session_wipe(&l->sess);
		l->sess_live = 0;
	}
	l->join = 1;
	l->t_join = now;
	ld->join_relays++;
	ld->join_started++;
	log_info("join #%u from %s (%s): relaying to keyd", l->serial,
	    l->remote, l->transport);
	return 0;
}

int
join_relay_frame(struct linkd *ld, struct link *l, const struct wire_frame *f,
    double now)
{
	if (f->type != WIRE_JOIN) {
		link_fail(l, "a member's frame on a join connection");
		return -1;
	}
	if (!l->join && relay_start(ld, l, now) == -1)
		return -1;
	l->seen_frame = 1;
	if (l->join_closing)            /* keyd is done with it */
		return 0;
	if (f->body_len < 1 || f->body_len > MSG_JOIN_BODY_MAX) {
		link_fail(l, "a join frame of a bad length");
		return -1;
	}
	if (relay_to_keyd(ld, l, f->body, f->body_len) == -1) {
		link_fail(l, "join: keyd cannot be reached");
		return -1;
	}
	l->rx_packets++;
	return 0;
}

static struct link *
relay_find(struct linkd *ld, uint32_t conn)
{
	struct link *l;

	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->serial == conn && l->join && l->state != LINK_CLOSED)
			return l;
	return NULL;
}

void
join_relay_out(struct linkd *ld, const uint8_t *payload, size_t n)
{
	struct msg_join_out m;
	struct link *l;

	if (msg_join_out_decode(&m, payload, n) == -1) {
		log_warnx_rl(&ld->join_relays, "keyd sent a MSG_JOIN_OUT "
		    "that does not decode (%zu bytes)", n);
		return;
	}
	if ((l = relay_find(ld, m.conn)) == NULL) {
		log_debug("join #%u: gone before keyd's answer", m.conn);
		return;
	}
	if (m.len > 0) {
		be32_put(relay_buf, (uint32_t)m.len + 1);
		relay_buf[WIRE_LEN_BYTES] = WIRE_JOIN;
		memcpy(relay_buf + WIRE_LEN_BYTES + 1, m.data, m.len);
		if (link_send_raw(l, relay_buf,
		    WIRE_LEN_BYTES + 1 + (size_t)m.len) == -1) {
			link_fail(l, l->send_err != NULL ? l->send_err :
			    "join: send failed");
			return;
		}
		l->tx_packets++;
	}
	if (m.flags & JOIN_OUT_CLOSE) {
		l->join_closing = 1;
		if (link_backlog(l) == 0)
			link_close(l, "join finished");
	}
}

void
join_relay_tick(struct link *l, double now)
{
	if (now - l->t_join > JOIN_RELAY_TIMEOUT) {
		l->ld->join_timeouts++;
		link_close(l, "join timed out");
	}
}

void
join_relay_end(struct link *l)
{
	struct linkd *ld = l->ld;

	if (!l->join)
		return;
	l->join = 0;
	ld->join_relays--;
	/* Best effort: keyd also drops the state on its own timeout. */
	if (relay_to_keyd(ld, l, NULL, 0) == -1)
		log_debug("join #%u: keyd not told of the end", l->serial);
}
