/*
 * The sealed session on a link (link.h): what it sends (the link's
 * output), what it opens (handed by inner kind to the handlers linkd.c
 * registered), and who is on the other end (a member's key, a fresh
 * timestamp), and what a link does once it is up.
 *
 * These run inside session_input / session_send_packet / session_tick,
 * so they never close their own link: the send callback only records
 * why it failed and returns -1, and link.c closes the link once the
 * session has returned.
 */
#include <string.h>

#include "linkd/link.h"
#include "linkd/linkd.h"
#include "proto/log.h"

/* TCP: the kernel's windowed minimum. Onion: the keepalive echoes'
 * (rtt.h), at both ends. 0 when neither has a figure yet (l->rtt_us
 * then keeps what it had). */
int
link_rtt_update(struct link *l)
{
	uint32_t echo;

	if (link_is_tcp(l)) {
		l->rtt_us = tcp_rtt_us(l->fd);
		return 1;
	}
	if (!l->sess_live ||
	    (echo = rtt_est_get(&l->sess.rtt.est, linkd_now())) == 0)
		return 0;
	l->rtt_us = echo;
	/* Striping's delay follows the figure here (a tick, a handshake),
	 * not on every packet it schedules. */
	sched_set_rtt(&l->sc, echo / 1e6);
	return 1;
}

/* Up or rekeyed: until the first echo, the dialler of an onion link
 * has its handshake's round trip. */
static void
link_measure_rtt(struct link *l)
{
	double d;

	if (link_rtt_update(l) || l->dir != LINK_OUT ||
	    l->sess.t_hs_started < 0)
		return;
	d = linkd_now() - l->sess.t_hs_started;
	if (d >= 0 && d < SESSION_HS_TIMEOUT) {
		l->rtt_us = (uint32_t)(d * 1e6);
		sched_set_rtt(&l->sc, d);
	}
}

static int
cb_send(void *arg, const uint8_t *frame, size_t len)
{
	struct link *l = arg;

	if (link_send_raw(l, frame, len) == -1)
		return -1;
	if (!l->fr_acking)
		link_counted_sent(l, len);
	return 0;
}

void
link_counted_sent(struct link *l, size_t len)
{
	l->fr_tx += len;
	/* The time matters only to a circuit that had nothing in flight
	 * (its stall clock starts): no clock read per frame otherwise. */
	if (l->sc.up)
		sched_sent(&l->sc, len, sched_inflight(&l->sc) == 0 ?
		    linkd_now() : l->sc.t_progress);
}

void
link_ack_input(struct link *l, const uint8_t *p, size_t len, double now)
{
	uint64_t total = 0, was;
	size_t i;

	/* The ack's own frame is not in the totals (link.h). */
	l->fr_rx -= l->fr_cur <= l->fr_rx ? l->fr_cur : l->fr_rx;
	l->fr_cur = 0;
	if (len != 8) {
		l->bad_acks++;
		return;
	}
	for (i = 0; i < 8; i++)
		total = total << 8 | p[i];
	if (!l->sc.up)
		return;
	was = l->sc.acked;
	if (sched_acked(&l->sc, total, now) == -1) {
		/* Only a broken or lying peer says this; its own circuits
		 * are all it can mislead. */
		l->bad_acks++;
		log_warnx_rl(l, "link #%u %s %s: acknowledges %llu bytes,"
		    " more than the %llu sent on it: ignored", l->serial,
		    l->dir == LINK_OUT ? "to" : "from", link_peer_name(l),
		    (unsigned long long)total,
		    (unsigned long long)l->sc.sent);
	}
	if (l->sc.acked != was)
		l->ack_moved = 1;       /* room may have opened */
}

/* The handler for one inner kind (linkd.c's table), or NULL. */
static link_frame_fn
link_handler(const struct linkd *ld, uint8_t kind)
{
	size_t i;

	for (i = 0; i < ld->nframes; i++)
		if (ld->frames[i].kind == kind)
			return ld->frames[i].fn;
	return NULL;
}

/* Every inner kind the session opens: INNER_PACKET through deliver,
 * the others (INNER_GOSSIP, INNER_FORWARD) through inner. p points
 * into the session layer's buffer; a handler copies what it keeps. */
static void
cb_inner(void *arg, uint8_t kind, const uint8_t *p, size_t len)
{
	struct link *l = arg;
	link_frame_fn fn;

	if (l->peer == NULL)        /* cannot happen: established => known */
		return;
	if (kind == INNER_LINK_ACK) {  /* the link's own, not the member's */
		link_ack_input(l, p, len, linkd_now());
		return;
	}
	if ((fn = link_handler(l->ld, kind)) == NULL)
		return;
	l->rx_packets++;
	fn(l->ld, l->peer, p, len);
}

static void
cb_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	cb_inner(arg, INNER_PACKET, pkt, len);
}

/*
 * For TCP every member dials each other member at most once, so a new
 * incoming TCP link from a member replaces older incoming ones: they
 * belong to a connection the member has given up on (it restarted, or
 * its network changed) and would otherwise carry traffic into the void
 * until SESSION_DEAD_AFTER.
 */
static void
link_replace_older(struct link *l)
{
	struct link *old[PEER_MAX_LINKS];
	struct peer *p = l->peer;
	int i, n = 0;

	if (l->dir != LINK_IN || strcmp(l->transport, "tcp") != 0)
		return;
	for (i = 0; i < p->nlinks; i++) {
		struct link *o = p->links[i];

		if (o != l && o->dir == LINK_IN &&
		    strcmp(o->transport, "tcp") == 0 &&
		    (o->state == LINK_HANDSHAKE || o->state == LINK_UP))
			old[n++] = o;
	}
	for (i = 0; i < n; i++)
		link_close(old[i], "replaced by a newer link from the member");
}

static void
cb_established(void *arg, int rekey)
{
	struct link *l = arg;
	struct linkd *ld = l->ld;
	double now;

	if (rekey) {
		log_debug("link #%u %s %s: rekeyed", l->serial,
		    l->dir == LINK_OUT ? "to" : "from", link_peer_name(l));
		link_measure_rtt(l);
		return;
	}
	if (l->peer == NULL)
		return;
	now = linkd_now();
	link_set_state(l, LINK_UP);
	l->mp.t_up = now;
	l->backoff = LINK_BACKOFF_MIN;
	l->last_error[0] = '\0';
	link_measure_rtt(l);              /* for routed's first state */
	if (l->pending_in) {
		l->pending_in = 0;
		ld->pending_in--;
	}
	log_info("link #%u %s %s (%s %s): up", l->serial,
	    l->dir == LINK_OUT ? "to" : "from", l->peer->rec.name,
	    l->transport, l->remote);
	link_replace_older(l);
	peer_links_changed(ld, l->peer);
}

static int
cb_lookup_peer(void *arg, const uint8_t rs[NOISE_DHLEN])
{
	struct link *l = arg;
	struct peer *p = peers_find_dh(l->ld, rs);

	if (p == NULL) {
		l->send_err = "handshake from a key that is no member's";
		return -1;
	}
	if (l->peer == p)           /* a rekey, or our own dial */
		return 0;
	if (l->peer != NULL) {
		l->send_err = "rekey handshake from a different member";
		return -1;
	}
	if (peer_link_attach(p, l) == -1) {
		l->send_err = "the member has too many links";
		return -1;
	}
	l->peer = p;
	return 0;
}

static int
cb_check_ts(void *arg, const uint8_t rs[NOISE_DHLEN],
    const uint8_t ts[WIRE_HS_PAYLOAD])
{
	struct link *l = arg;
	struct peer *p = peers_find_dh(l->ld, rs);

	if (p == NULL || peer_check_ts(p, ts) == -1) {
		l->send_err = "replayed handshake (timestamp not newer)";
		return -1;
	}
	return 0;
}

static const struct session_cb link_cbs = {
	.send = cb_send,
	.deliver = cb_deliver,
	.inner = cb_inner,
	.established = cb_established,
	.lookup_peer = cb_lookup_peer,
	.check_ts = cb_check_ts,
};

int
linkd_session_init(struct linkd *ld, struct session *s, int initiator,
    const uint8_t *rs, const struct session_cb *cb, void *arg)
{
	struct session_cb c = *cb;

	c.dh = keyd_dh;
	c.arg = arg;
	return session_init(s, initiator, ld->prologue, ld->prologue_len,
	    ld->self_dh, rs, &c);
}

int
link_session_init(struct link *l, int initiator)
{
	if (linkd_session_init(l->ld, &l->sess, initiator,
	    initiator ? l->peer->dh : NULL, &link_cbs, l) == -1)
		return -1;
	l->sess_live = 1;
	return 0;
}
