/*
 * One link: a byte stream to another member and the sealed session on
 * it (link.h has the states).
 *
 * Shaped for throughput, because every superpacket of the tunnel passes
 * through here:
 *  - reading: one recv() into a 256 KiB buffer, then every whole frame
 *    in it goes to the session straight from that buffer (the session
 *    decrypts into its own buffer: no copy of ours); only a trailing
 *    partial frame is ever moved, and only when the room behind it could
 *    not hold a whole frame. At most LINK_READS_PER_WAKEUP reads per
 *    wakeup, so one busy link cannot starve the others.
 *  - writing: a frame the session seals is sent straight from the
 *    session's buffer when nothing is queued; only what the socket does
 *    not take is copied, into a ring that is flushed with writev when
 *    the socket is writable. Above LINK_OBUF_HIGH queued bytes
 *    (LINK_ONION_HIGH on an onion link) the link counts as congested
 *    and the datapath stops reading tund until it is back under
 *    LINK_OBUF_LOW (LINK_ONION_LOW): backpressure, not drops.
 *  - timers: no per-packet timer; link_tick() runs once a second for
 *    every link (session keepalive/rekey/dead peer, handshake and
 *    connect timeouts, a peer that stopped reading, the member's rate
 *    sample).
 *
 * Session callbacks (link_session.c) run inside session_input /
 * session_send_packet / session_tick, so they never close their own
 * link: the send callback only records why it failed and returns -1,
 * and the caller closes the link once the session has returned. Closed
 * links are freed from the loop's prepare watcher, so no pointer held
 * during a callback dangles.
 *
 * A stranger gets nothing: an incoming link writes only what its
 * session sends, and the session sends nothing until it has checked the
 * mac, the member's key and the timestamp.
 *
 * What an established session opens is handed on by its inner kind
 * through the table linkd.c sets up (ld->frames): link.c knows no
 * handler, so the packet path below it never calls back up.
 *
 * Onion links (onion mode) differ only in how the stream comes about:
 * an outgoing one connects to tor's SocksPort and negotiates SOCKS5
 * (transport_socks.c) while still CONNECTING, in the same read buffer
 * as frames: whatever follows the last reply is the peer's.
 * An incoming one is a stream tor's onion service hands to our Unix
 * socket, anonymous by design ("onion"). There is no TCP_INFO on them:
 * the rtt of an onion link is what its keepalive echoes measure at each
 * end (linkd/rtt.h); until the first echo, the dialler's handshake.
 */
#include "linkd/link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/clock.h"
#include "proto/log.h"

/* ---- the link ------------------------------------------------------ */

double
linkd_now(void)
{
	return mono_now();
}

const char *
link_state_name(enum link_state s)
{
	switch (s) {
	case LINK_CONNECTING:
		return "connecting";
	case LINK_HANDSHAKE:
		return "handshake";
	case LINK_UP:
		return "up";
	case LINK_BACKOFF:
		return "backoff";
	case LINK_CLOSED:
		return "closed";
	}
	return "?";
}

const char *
link_peer_name(const struct link *l)
{
	return l->peer != NULL ? l->peer->rec.name : "(unknown)";
}

size_t
link_backlog(const struct link *l)
{
	return l->tx.len;
}

int
link_congested(const struct link *l)
{
	return !l->pause_tund && l->tx.len > l->obuf_high;
}

static void link_rio_cb(struct ev_loop *, ev_io *, int);
static void link_wio_cb(struct ev_loop *, ev_io *, int);
static void link_retry_cb(struct ev_loop *, ev_timer *, int);
static void link_ack_cb(struct ev_loop *, ev_timer *, int);
static void link_connect(struct link *l);
static resolve_cb link_resolved;
static int link_parse(struct link *l, double now);

void
link_set_state(struct link *l, enum link_state s)
{
	l->state = s;
	l->t_state = linkd_now();
	l->mp.up = s == LINK_UP;
	/* A circuit (re)joins the schedule afresh: measured again. */
	if (s == LINK_UP && !l->sc.up)
		sched_circ_init(&l->sc, l->fr_tx, l->t_state);
	l->sc.up = s == LINK_UP;
}

int
link_is_tcp(const struct link *l)
{
	return strcmp(l->transport, "tcp") == 0;
}

/* The transport and, with it, the queue marks: decided here once, not
 * on every write (link_backlog_changed runs per frame). */
static void
link_set_transport(struct link *l, const char *transport)
{
	l->transport = transport;
	if (strcmp(transport, "tcp") == 0) {
		l->obuf_high = LINK_OBUF_HIGH;
		l->obuf_low = LINK_OBUF_LOW;
		l->pause_tund = 1;
		l->ack_rx = 0;
	} else {
		l->obuf_high = LINK_ONION_HIGH;
		l->obuf_low = LINK_ONION_LOW;
		l->pause_tund = 0;
		/* Onion links only: striping is theirs, and a TCP link at
		 * its hundreds of MB/s would ack thousands a second for
		 * nothing. */
		l->ack_rx = 1;
	}
}

/* Queue accounting after the ring grew or shrank. */
static void
link_backlog_changed(struct link *l)
{
	struct linkd *ld = l->ld;

	l->mp.backlog = l->tx.len;
	if (!l->over_high && l->pause_tund && l->tx.len > l->obuf_high) {
		l->over_high = 1;
		ld->links_over_high++;
	} else if (l->over_high && l->tx.len < l->obuf_low) {
		l->over_high = 0;
		ld->links_over_high--;  /* 0: linkd.c reads tund again */
	}
}

/*
 * Write one frame: straight from the caller's buffer when nothing is
 * queued, else (or for what the socket did not take) into the ring.
 * Never closes the link; -1 with l->send_err set.
 */
int
link_send_raw(struct link *l, const uint8_t *frame, size_t len)
{
	ssize_t n = 0;

	if (l->fd == -1) {
		l->send_err = "the link is not open";
		return -1;
	}
	if (l->tx.len == 0) {
		n = send(l->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				snprintf(l->errbuf, sizeof(l->errbuf),
				    "send: %s", strerror(errno));
				l->send_err = l->errbuf;
				return -1;
			}
			n = 0;
		}
		l->tx_bytes += (uint64_t)n;
		if ((size_t)n == len)
			return 0;
		l->t_wrote = linkd_now();
	}
	if (obuf_append(&l->tx, frame + n, len - (size_t)n) == -1) {
		l->send_err = "output buffer full (the peer reads too slowly)";
		return -1;
	}
	ev_io_start(l->ld->loop, &l->wio);
	link_backlog_changed(l);
	return 0;
}

/* ---- lifecycle ---- */

static struct link *
link_new(struct linkd *ld, enum link_dir dir)
{
	struct link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if (framer_init(&l->rx, LINK_RXBUF) == -1) {
		free(l);
		return NULL;
	}
	obuf_init(&l->tx, LINK_OBUF_CAP);
	l->ld = ld;
	l->dir = dir;
	l->fd = -1;
	l->slot = -1;
	l->mp.key = randombytes_random();
	l->serial = ++ld->link_serial;
	link_set_transport(l, "tcp");
	l->backoff = LINK_BACKOFF_MIN;
	l->t_state = l->t_wrote = linkd_now();
	bounds_rekey_init(&l->rekey_rl, l->t_state);
	sched_circ_init(&l->sc, 0, l->t_state);
	ev_io_init(&l->rio, link_rio_cb, 0, EV_READ);
	ev_io_init(&l->wio, link_wio_cb, 0, EV_WRITE);
	ev_timer_init(&l->retry, link_retry_cb, 0., 0.);
	ev_timer_init(&l->ack_timer, link_ack_cb, 0., 0.);
	l->rio.data = l->wio.data = l->retry.data = l->ack_timer.data = l;
	TAILQ_INSERT_TAIL(&ld->links, l, entry);
	return l;
}

/* Both watchers onto a (new) socket; neither started. */
static void
link_set_fd(struct link *l, int fd)
{
	l->fd = fd;
	ev_io_set(&l->rio, fd, EV_READ);
	ev_io_set(&l->wio, fd, EV_WRITE);
}

/* Tear down the socket and session; the state is the caller's. */
static void
link_shutdown(struct link *l, const char *why, int failed)
{
	struct linkd *ld = l->ld;

	if (why != NULL && why != l->last_error)
		snprintf(l->last_error, sizeof(l->last_error), "%s", why);
	if (failed)
		l->errors++;
	join_relay_end(l);
	if (l->sess_live) {
		/* INNER_CLOSE when established; nothing otherwise. */
		session_close(&l->sess, why);
		l->replays += l->sess.replays;
		l->errors += l->sess.bad_frames;
		session_wipe(&l->sess);
		l->sess_live = 0;
	}
	ev_io_stop(ld->loop, &l->rio);
	ev_io_stop(ld->loop, &l->wio);
	ev_timer_stop(ld->loop, &l->retry);
	ev_timer_stop(ld->loop, &l->ack_timer);
	if (l->resolving != 0) {
		resolve_cancel(l->resolving);
		l->resolving = 0;
	}
	if (l->fd != -1) {
		close(l->fd);
		l->fd = -1;
	}
	socks_free(l);
	if (l->pending_in) {
		l->pending_in = 0;
		ld->pending_in--;
	}
	l->rx.head = l->rx.tail = 0;
	obuf_consume(&l->tx, l->tx.len);
	l->mp.up = 0;
	l->sc.up = 0;
	/* A redial is a new stream: both ends count from its start. */
	l->fr_tx = l->fr_rx = l->fr_rx_acked = 0;
	l->fr_cur = 0;
	l->send_err = NULL;
	l->rtt_us = 0;
	l->rate_bps = 0;
	l->rate_t = 0;
	link_backlog_changed(l);
}

static void
link_log_down(const struct link *l, enum link_state was, const char *why)
{
	if (was == LINK_UP)
		log_info("link #%u %s %s (%s %s): down: %s", l->serial,
		    l->dir == LINK_OUT ? "to" : "from", link_peer_name(l),
		    l->transport, l->remote, why);
	else if (l->dir == LINK_IN && l->peer == NULL)
		log_warnx_rl(l->ld, "incoming %s link from %s closed "
		    "before a session: %s", l->transport, l->remote, why);
	else
		log_debug("link #%u %s %s (%s): %s: %s", l->serial,
		    l->dir == LINK_OUT ? "to" : "from", link_peer_name(l),
		    l->remote, link_state_name(was), why);
}

static void
link_to_closed(struct link *l)
{
	struct peer *p = l->peer;

	link_set_state(l, LINK_CLOSED);
	if (p != NULL) {
		if (l->slot >= 0 && p->out[l->slot] == l)
			p->out[l->slot] = NULL;
		peer_link_detach(p, l);
	}
	TAILQ_INSERT_TAIL(&l->ld->reap, l, reap_entry);
}

static void
link_backoff(struct link *l)
{
	double delay;

	link_set_state(l, LINK_BACKOFF);
	/* 75%..125% of the nominal delay, so members that lost each
	 * other at the same moment do not redial in lockstep. */
	delay = l->backoff * (0.75 + randombytes_uniform(501) / 1000.0);
	l->backoff = l->backoff * 2 > LINK_BACKOFF_MAX ? LINK_BACKOFF_MAX :
	    l->backoff * 2;
	ev_timer_set(&l->retry, delay, 0.);
	ev_timer_start(l->ld->loop, &l->retry);
}

void
link_fail(struct link *l, const char *why)
{
	enum link_state was = l->state;
	struct peer *p = l->peer;
	struct linkd *ld = l->ld;

	if (was == LINK_CLOSED)
		return;
	if (why == NULL)
		why = "closed";
	link_log_down(l, was, why);
	link_shutdown(l, why, 1);
	/* Still one of the slots the policy wants: try again later. */
	if (l->dir == LINK_OUT && p != NULL && l->slot >= 0 &&
	    p->out[l->slot] == l && !ld->stopping &&
	    l->slot < peers_dial_count(ld->conf, ld->self_id, &p->rec))
		link_backoff(l);
	else
		link_to_closed(l);
	if (was == LINK_UP && p != NULL)
		peer_links_changed(ld, p);
}

void
link_close(struct link *l, const char *why)
{
	enum link_state was = l->state;
	struct peer *p = l->peer;

	if (was == LINK_CLOSED)
		return;
	if (was == LINK_UP)
		log_info("link #%u %s %s (%s %s): closed: %s", l->serial,
		    l->dir == LINK_OUT ? "to" : "from", link_peer_name(l),
		    l->transport, l->remote, why);
	link_shutdown(l, why, 0);
	link_to_closed(l);
	if (was == LINK_UP && p != NULL)
		peer_links_changed(l->ld, p);
}

/* The session refused something or could not send: close with the
 * most specific reason we have. */
static void
link_fail_session(struct link *l)
{
	const char *why = l->send_err;

	if (why == NULL)
		why = l->sess.why != NULL ? l->sess.why : "session closed";
	link_fail(l, why);
}

struct link *
link_accept(struct linkd *ld, int fd, const char *transport,
    const char *remote)
{
	struct link *l;
	const char *why = NULL;

	if (!ld->self_known)
		why = "identity not known yet (keyd)";
	else if (ld->stopping)
		why = "stopping";
	else
		why = pending_admit(ld, transport, remote);
	if (why != NULL) {
		/* Nothing written: a stranger learns nothing. */
		log_warnx_rl(&ld->pending_in, "incoming %s link from %s "
		    "refused: %s", transport, remote, why);
		close(fd);
		ld->refused_in++;
		return NULL;
	}
	if ((l = link_new(ld, LINK_IN)) == NULL) {
		log_warnx("incoming link from %s: out of memory", remote);
		close(fd);
		return NULL;
	}
	link_set_transport(l, transport);
	snprintf(l->remote, sizeof(l->remote), "%s", remote);
	pending_source(transport, remote, l->src_key, &l->src_klen);
	link_set_fd(l, fd);
	link_set_state(l, LINK_HANDSHAKE);
	l->pending_in = 1;
	ld->pending_in++;
	if (link_session_init(l, 0) == -1) {
		link_fail(l, "session set-up failed");
		return NULL;
	}
	if (!ld->links_paused)          /* else links_resume starts it */
		ev_io_start(ld->loop, &l->rio);
	log_debug("link #%u: incoming %s connection from %s", l->serial,
	    transport, remote);
	return l;
}

struct link *
link_dial(struct linkd *ld, struct peer *p, int slot)
{
	struct link *l;

	if ((l = link_new(ld, LINK_OUT)) == NULL) {
		log_warnx("link to %s: out of memory", p->rec.name);
		return NULL;
	}
	if (peer_link_attach(p, l) == -1) {
		log_warnx("link to %s: the member has %d links already",
		    p->rec.name, PEER_MAX_LINKS);
		link_to_closed(l);
		return NULL;
	}
	l->peer = p;
	l->slot = slot;
	p->out[slot] = l;
	link_connect(l);
	return l;
}

/* Where the next dial goes: tor's SocksPort for the member's onion
 * address (SOCKS5 follows once the socket is writable), or the
 * member's next tcp endpoint. fd (connecting) or -1 with err. */
static int
link_open_stream(struct link *l, char *err, size_t errlen)
{
	struct peer *p = l->peer;
	const char *ep;

	if (l->ld->onion) {
		link_set_transport(l, "onion");
		if (p->rec.onion[0] == '\0') {
			snprintf(err, errlen, "the member has no onion "
			    "address");
			return -1;
		}
		link_set_state(l, LINK_CONNECTING);
		snprintf(l->remote, sizeof(l->remote), "%s:%d", p->rec.onion,
		    DEFAULT_PORT);
		return socks_proxy_connect(l->ld->conf->tor_socks, err,
		    errlen);
	}
	if (p->rec.ntcp == 0) {
		snprintf(err, errlen, "the member has no tcp endpoint");
		return -1;
	}
	ep = p->rec.tcp[l->ep_next++ % p->rec.ntcp];
	link_set_state(l, LINK_CONNECTING);
	snprintf(l->remote, sizeof(l->remote), "%s", ep);
	return tcp_dial(l->ld->loop, ep, link_resolved, l, &l->resolving,
	    l->remote, sizeof(l->remote), err, errlen);
}

/* The socket of a dial is connecting: wait until it is writable. */
static void
link_connecting(struct link *l, int fd)
{
	link_set_fd(l, fd);
	ev_io_start(l->ld->loop, &l->wio);
	log_debug("link #%u to %s: connecting %sto %s", l->serial,
	    link_peer_name(l), l->ld->onion ? "through tor " : "", l->remote);
}

/* The resolver's answer for the endpoint name of a dial (resolve.h).
 * A name that does not resolve in time fails the dial like a refused
 * connect, into the backoff; it is told at warning level, since only
 * the member's record can fix it. */
static void
link_resolved(void *arg, const struct sockaddr *sa, socklen_t salen,
    const char *err)
{
	struct link *l = arg;
	char why[LINK_ERR_LEN], ep[sizeof(l->remote)];
	int fd;

	l->resolving = 0;
	if (err != NULL) {
		log_warnx("link #%u to %s: %s (retrying)", l->serial,
		    link_peer_name(l), err);
		link_fail(l, err);
		return;
	}
	snprintf(ep, sizeof(ep), "%s", l->remote);
	if ((fd = tcp_connect_addr(sa, salen, ep, l->remote,
	    sizeof(l->remote), why, sizeof(why))) == -1) {
		link_fail(l, why);
		return;
	}
	/* The connect timeout counts from here, not from the lookup. */
	link_set_state(l, LINK_CONNECTING);
	link_connecting(l, fd);
}

static void
link_connect(struct link *l)
{
	char err[LINK_ERR_LEN];
	int fd;

	if ((fd = link_open_stream(l, err, sizeof(err))) == -1) {
		link_fail(l, err);
		return;
	}
	if (fd == TCP_RESOLVING) {
		log_debug("link #%u to %s: resolving %s", l->serial,
		    link_peer_name(l), l->remote);
		return;
	}
	link_connecting(l, fd);
}

void
link_retry_now(struct link *l)
{
	if (l->state != LINK_BACKOFF)
		return;
	ev_timer_stop(l->ld->loop, &l->retry);
	l->backoff = LINK_BACKOFF_MIN;
	l->ep_next = 0;
	l->redials++;
	link_connect(l);
}

static void
link_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct link *l = w->data;

	if (l->state == LINK_BACKOFF) {
		l->redials++;
		link_connect(l);
	}
}

/* The stream to the peer is open (TCP connected, or tor said SOCKS
 * succeeded): we are the initiator, send HS_INIT. */
static void
link_start_session(struct link *l)
{
	if (!l->ld->self_known) {
		link_fail(l, "identity not known yet (keyd)");
		return;
	}
	if (link_session_init(l, 1) == -1) {
		link_fail(l, "session set-up failed");
		return;
	}
	link_set_state(l, LINK_HANDSHAKE);
	if (!l->ld->links_paused)
		ev_io_start(l->ld->loop, &l->rio);
	else
		ev_io_stop(l->ld->loop, &l->rio);
	if (session_start(&l->sess, linkd_now()) == -1)
		link_fail_session(l);
}

/* Bytes from tor while SOCKS is negotiated (transport_socks.c); once
 * tor has connected the stream, the handshake. */
static void
link_socks_read(struct link *l)
{
	char why[LINK_ERR_LEN];
	int r;

	if ((r = socks_input(l, why, sizeof(why))) == -1) {
		link_fail(l, why);
		return;
	}
	if (r == 0)
		return;
	log_debug("link #%u to %s: tor connected the stream to %s",
	    l->serial, link_peer_name(l), l->remote);
	link_start_session(l);
	if (l->state == LINK_HANDSHAKE && framer_pending(&l->rx) > 0)
		(void)link_parse(l, linkd_now());
}

/* The non-blocking connect finished: SOCKS (onion) or the handshake. */
static void
link_connected(struct link *l)
{
	char why[LINK_ERR_LEN];
	int err;

	ev_io_stop(l->ld->loop, &l->wio);
	if ((err = tcp_connect_result(l->fd)) != 0) {
		if (link_is_tcp(l))
			snprintf(why, sizeof(why), "connect to %s: %s",
			    l->remote, strerror(err));
		else
			snprintf(why, sizeof(why), "cannot reach tor's "
			    "SocksPort %.160s: %s", l->ld->conf->tor_socks,
			    strerror(err));
		link_fail(l, why);
		return;
	}
	if (!link_is_tcp(l)) {
		/* Read even while links are paused: SOCKS replies are not
		 * packets for tund (links_pause leaves this link alone). */
		if (socks_start(l, why, sizeof(why)) == -1)
			link_fail(l, why);
		else
			ev_io_start(l->ld->loop, &l->rio);
		return;
	}
	tcp_tune(l->fd);
	link_start_session(l);
}

/* ---- I/O ---- */

/* ---- acknowledgements (the far end's striping scheduler, sched.h) ---- */

/* INNER_LINK_ACK with the session frame bytes received so far. 0, or
 * -1 when the link failed (closed here: never inside a session
 * callback of this link). */
static int
link_ack_send(struct link *l, double now)
{
	uint8_t b[8];
	uint64_t v = l->fr_rx;
	int i, r;

	ev_timer_stop(l->ld->loop, &l->ack_timer);
	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	l->fr_acking = 1;
	r = session_send_kind(&l->sess, INNER_LINK_ACK, b, sizeof(b), now);
	l->fr_acking = 0;
	if (r == -1) {
		link_fail_session(l);
		return -1;
	}
	l->fr_rx_acked = l->fr_rx;
	return 0;
}

/* LINK_ACK_BYTES came in unacknowledged on a link that acks (checked
 * per frame: a flag, no string compare of the transport). */
static int
link_ack_due(const struct link *l)
{
	return l->ack_rx && l->state == LINK_UP &&
	    l->fr_rx - l->fr_rx_acked >= LINK_ACK_BYTES;
}

void
link_ack_maybe(struct link *l, double now)
{
	if (!l->ack_rx || l->state != LINK_UP || l->fr_rx == l->fr_rx_acked)
		return;
	if (link_ack_due(l)) {
		(void)link_ack_send(l, now);
		return;
	}
	if (!ev_is_active(&l->ack_timer)) {
		ev_timer_set(&l->ack_timer, LINK_ACK_DELAY, 0.);
		ev_timer_start(l->ld->loop, &l->ack_timer);
	}
}

static void
link_ack_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct link *l = w->data;

	if (l->state == LINK_UP && l->fr_rx != l->fr_rx_acked)
		(void)link_ack_send(l, linkd_now());
}

/* Every whole frame in the read buffer, unless tund is full. -1 when
 * the link failed. */
static int
link_parse(struct link *l, double now)
{
	struct wire_frame f;
	int r;

	while (!l->ld->links_paused) {
		if ((r = framer_next(&l->rx, &f)) == 0)
			return 0;
		if (r == -1) {
			link_fail(l, "bad frame (length or type)");
			return -1;
		}
		/* A joiner, not a member: join_relay.c, never the
		 * session. */
		if (f.type == WIRE_JOIN || l->join) {
			if (join_relay_frame(l->ld, l, &f, now) == -1)
				return -1;
			continue;
		}
		l->seen_frame = 1;
		l->fr_rx += f.frame_len;
		if ((r = hs_admit(l->ld, l, &f, now)) == -1)
			return -1;
		if (r == 1)             /* a rekey over its bound */
			continue;
		l->fr_cur = f.frame_len;
		r = session_input(&l->sess, &f, now);
		l->fr_cur = 0;
		if (r == -1) {
			link_fail_session(l);
			return -1;
		}
		if (l->state != LINK_HANDSHAKE && l->state != LINK_UP)
			return -1;
		if (link_ack_due(l) && link_ack_send(l, now) == -1)
			return -1;
	}
	return 0;
}

static void
link_rio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct link *l = w->data;
	char why[LINK_ERR_LEN];
	double now = linkd_now();
	uint8_t *p;
	size_t room;
	ssize_t n;
	int i;

	if (l->socks != NULL) {
		link_socks_read(l);
		return;
	}
	for (i = 0; i < LINK_READS_PER_WAKEUP; i++) {
		if (l->ld->links_paused)
			return;
		p = framer_space(&l->rx, &room);
		n = stream_recv(l->fd, p, room, 0, why, sizeof(why));
		if (n == STREAM_AGAIN)
			return;
		if (n <= 0) {
			link_fail(l, n == 0 ? "connection closed by the other "
			    "end" : why);
			return;
		}
		framer_commit(&l->rx, (size_t)n);
		l->rx_bytes += (uint64_t)n;
		if (link_parse(l, now) == -1)
			break;
		if ((size_t)n < room)   /* socket drained */
			break;
	}
	/* The far end's acks opened this circuit's window: what waits
	 * for one goes (here, not inside the ack's session callback). */
	if (l->ack_moved) {
		l->ack_moved = 0;
		if (l->peer != NULL)
			stripe_drain(l->peer, now);
	}
	link_ack_maybe(l, now);
}

/* Flush the ring. -1 when the link failed. */
static int
link_flush(struct link *l)
{
	char why[LINK_ERR_LEN];
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;
	int i;

	for (i = 0; i < LINK_WRITES_PER_WAKEUP && l->tx.len > 0; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)obuf_iov(&l->tx, iov);
		n = sendmsg(l->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			snprintf(why, sizeof(why), "send: %s",
			    strerror(errno));
			link_fail(l, why);
			return -1;
		}
		obuf_consume(&l->tx, (size_t)n);
		l->tx_bytes += (uint64_t)n;
		l->t_wrote = linkd_now();
	}
	if (l->tx.len == 0)
		ev_io_stop(l->ld->loop, &l->wio);
	link_backlog_changed(l);
	if (l->join_closing && l->tx.len == 0) {
		link_close(l, "join finished");
		return -1;
	}
	return 0;
}

static void
link_wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct link *l = w->data;

	if (l->state == LINK_CONNECTING && l->socks == NULL)
		link_connected(l);
	else
		(void)link_flush(l);
}

int
link_send_packet(struct link *l, const uint8_t *pkt, size_t len, double now)
{
	if (l->state != LINK_UP)
		return -1;
	if ((l->peer != NULL && l->peer->mp.policy == MP_STRIPE ?
	    stripe_seal(l, pkt, len, now) :
	    session_send_packet(&l->sess, pkt, len, now)) == -1) {
		/* A packet the session refuses (too long) costs only the
		 * packet; a session that closed costs the link. */
		if (l->sess.state == SESSION_CLOSED)
			link_fail_session(l);
		else
			l->errors++;
		return -1;
	}
	l->tx_packets++;
	return 0;
}

/* What the link carried (tx + rx) over the last tick, in bytes/s; the
 * first tick of a session only takes the baseline. */
static void
link_rate_tick(struct link *l, double now)
{
	uint64_t cur = l->tx_bytes + l->rx_bytes;
	double dt = now - l->rate_t;

	if (l->rate_t > 0 && dt > 0 && cur >= l->rate_bytes)
		l->rate_bps = (uint64_t)((double)(cur - l->rate_bytes) /
		    (dt < 1.0 ? 1.0 : dt));
	l->rate_t = now;
	l->rate_bytes = cur;
}

void
link_tick(struct link *l, double now)
{
	char why[LINK_ERR_LEN];

	if (l->join) {
		join_relay_tick(l, now);
		return;
	}
	/* First, before anything below can close l: its member's rate
	 * sample (taken once a tick, by whichever of its links ticks
	 * first). A CLOSED link's member may be gone already. */
	if (l->peer != NULL && l->state != LINK_CLOSED)
		peer_rate_tick(l->ld, l->peer, now);
	switch (l->state) {
	case LINK_CONNECTING:
		if (l->resolving != 0)  /* the resolver's own deadline */
			return;
		if (link_is_tcp(l)) {
			if (now - l->t_state <= LINK_CONNECT_TIMEOUT)
				return;
			snprintf(why, sizeof(why), "connect to %s timed out",
			    l->remote);
		} else {
			if (now - l->t_state <= LINK_ONION_CONNECT_TIMEOUT)
				return;
			snprintf(why, sizeof(why), "tor did not connect the "
			    "stream within %.0f s",
			    LINK_ONION_CONNECT_TIMEOUT);
		}
		link_fail(l, why);
		return;
	case LINK_HANDSHAKE:
		if (now - l->t_state > SESSION_HS_TIMEOUT) {
			link_fail(l, "handshake timed out");
			return;
		}
		break;
	case LINK_UP:
		if (l->tx.len > 0 && now - l->t_wrote > LINK_STALL_TIMEOUT) {
			link_fail(l, "the other end stopped reading");
			return;
		}
		(void)link_rtt_update(l);
		link_rate_tick(l, now);
		break;
	case LINK_BACKOFF:
	case LINK_CLOSED:
		return;
	}
	/* Only while reading: a paused link has unread frames, so its
	 * session would take the silence for a dead peer. */
	if (l->ld->links_paused)
		return;
	if (session_tick(&l->sess, now) == -1)
		link_fail_session(l);
}

void
links_pause(struct linkd *ld)
{
	struct link *l;

	ld->links_paused = 1;
	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->socks == NULL)   /* SOCKS replies are not packets */
			ev_io_stop(ld->loop, &l->rio);
}

void
links_resume(struct linkd *ld)
{
	struct link *l;
	double now = linkd_now();

	ld->links_paused = 0;
	TAILQ_FOREACH(l, &ld->links, entry) {
		if (l->state != LINK_HANDSHAKE && l->state != LINK_UP)
			continue;
		if (framer_pending(&l->rx) > 0 && link_parse(l, now) == -1)
			continue;
		if (ld->links_paused)   /* tund filled up again */
			return;
		ev_io_start(ld->loop, &l->rio);
	}
}

void
links_reap(struct linkd *ld)
{
	struct link *l;

	while ((l = TAILQ_FIRST(&ld->reap)) != NULL) {
		TAILQ_REMOVE(&ld->reap, l, reap_entry);
		TAILQ_REMOVE(&ld->links, l, entry);
		framer_free(&l->rx);
		obuf_free(&l->tx);
		sodium_memzero(&l->sess, sizeof(l->sess));
		free(l);
	}
}
