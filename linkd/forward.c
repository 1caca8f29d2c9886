/*
 * The relay half of the forwarding module (forward.h): an INNER_FORWARD
 * payload sealed on a link to the next hop, ours (forward_emit, an e2e
 * session's frame) or another member's (forward_relay). The next hop
 * is route.h's decision, made before anything gets here; this file
 * calls only down, into links and their sessions.
 *
 * Buffers: a forward payload arrives in the session layer's receive
 * buffer and must leave through the session layer's send buffer, so it
 * is copied once, into fwd_txbuf (relay: with the hop limit lowered).
 * linkd has one thread: it is a plain static.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "proto/log.h"

static uint8_t fwd_txbuf[WIRE_MAX_INNER];

/* ---- pure ---- */

enum fwd_action
fwd_decide(const uint8_t self[MEMBER_ID_BYTES], const struct wire_fwd *h,
    uint8_t *hops_out)
{
	if (crypto_verify_32(h->dest, self) == 0)
		return FWD_DELIVER;
	/* The hop limit counts the hops still allowed: the sender writes
	 * WIRE_FWD_HOP_LIMIT and each relay takes one off before sending on,
	 * so a frame crosses at most WIRE_FWD_HOP_LIMIT - 1 relays. */
	if (h->hops <= 1)
		return FWD_HOPS_GONE;
	*hops_out = (uint8_t)(h->hops - 1);
	return FWD_RELAY;
}

/* The established link to member via for the frames of one conn id
 * (one flow for multipath, so they stay in order), or NULL. */
static struct link *
fwd_link(struct linkd *ld, const uint8_t via[MEMBER_ID_BYTES], uint32_t conn,
    double now)
{
	struct peer *p;
	struct link *l;
	int i;

	if ((p = peers_find(ld, via)) == NULL || p->nlinks == 0)
		return NULL;
	i = mp_select(&p->mp, p->paths, (size_t)p->nlinks,
	    conn != 0 ? conn : 1, now);
	if (i < 0)
		return NULL;
	l = p->links[i];
	if (l->state != LINK_UP || l->sess.state != SESSION_ESTABLISHED)
		return NULL;
	return l;
}

/*
 * Seal one forward payload on link l. Never closes the link (we may be
 * inside a callback of its own session): a session that broke while
 * sending is closed by link_tick within a second.
 */
static int
fwd_send_on(struct linkd *ld, struct link *l, const uint8_t *payload,
    size_t len, double now)
{
	/* Tail drop: the ring (LINK_OBUF_CAP) always has room above the
	 * mark for one more frame, so a relay never overflows it. */
	if (l->tx.len > LINK_OBUF_HIGH) {
		ld->fwd.c.congested++;
		return -1;
	}
	if (session_send_kind(&l->sess, INNER_FORWARD, payload, len,
	    now) == -1) {
		ld->fwd.c.no_link++;
		return -1;
	}
	l->tx_packets++;
	return 0;
}

int
forward_emit(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    const uint8_t *via, uint32_t conn, const uint8_t *frame, size_t len,
    double now)
{
	struct link *l;

	if (len > WIRE_FWD_MAX_FRAME) {
		ld->fwd.c.too_big++;
		return -1;
	}
	if (via == NULL) {
		ld->fwd.c.no_route++;
		return -1;
	}
	if ((l = fwd_link(ld, via, conn, now)) == NULL) {
		ld->fwd.c.no_link++;
		return -1;
	}
	wire_fwd_put_hdr(fwd_txbuf, dest, WIRE_FWD_HOP_LIMIT, conn);
	memcpy(fwd_txbuf + WIRE_FWD_HDR, frame, len);
	if (fwd_send_on(ld, l, fwd_txbuf, WIRE_FWD_HDR + len, now) == -1)
		return -1;
	ld->fwd.c.sent++;
	ld->fwd.c.sent_bytes += WIRE_FWD_HDR + len;
	return 0;
}

void
forward_relay(struct linkd *ld, const struct wire_fwd *h, uint8_t hops,
    const uint8_t *p, size_t len, double now)
{
	const uint8_t *via;
	struct link *out;

	if (route_next_hop(ld, h->dest, &via) == -1) {
		ld->fwd.c.no_route++;
		return;
	}
	if ((out = fwd_link(ld, via, h->conn, now)) == NULL) {
		ld->fwd.c.no_link++;
		return;
	}
	memcpy(fwd_txbuf, p, len);
	fwd_txbuf[MEMBER_ID_BYTES] = hops;
	if (fwd_send_on(ld, out, fwd_txbuf, len, now) == 0) {
		ld->fwd.c.forwarded++;
		ld->fwd.c.forwarded_bytes += len;
	}
}
