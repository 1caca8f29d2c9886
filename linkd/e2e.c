/*
 * End-to-end sessions with members reached through others, and what
 * arrives for us in INNER_FORWARD (forward.h has the rules). The upper
 * half of the forwarding module: frames go down to forward.c, packets
 * down to the datapath; nothing below calls back up into here.
 *
 * Every entry point (a frame for us, a packet from tund, the 1 s timer,
 * a member removed) runs outside the callbacks of the session it works
 * on, so it may free that session when it ends; the callbacks only
 * record what happened (e->flush, counters) and the entry point acts on
 * it after session_input or session_tick has returned. The same reason
 * lets a handshake frame be tried on a copy of the session: the copy's
 * callbacks touch only the struct e2e around it, never e->sess.
 *
 * Sessions are found by a walk of one list, by conn id for a frame and
 * by member for a packet. Only members without a direct link that are
 * talking have one, so the list is short.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "proto/log.h"

/* A forward payload for us is copied out of the session layer's
 * receive buffer, into which the e2e session decrypts it. */
static uint8_t e2e_rxbuf[WIRE_MAX_INNER];

/* The next hop route_decide chose for the packet being sent now: every
 * frame e2e_send_packet makes its session seal goes there. Outside it
 * (timers, answers to frames that came in) each frame asks
 * route_next_hop. linkd has one thread. */
static struct {
	int set;
	const uint8_t *via;
} e2e_tx_route;

static const char *
e2e_name(const struct e2e *e)
{
	return e->peer != NULL ? e->peer->rec.name : "(unknown)";
}

static struct e2e *
e2e_find_conn(struct linkd *ld, uint32_t conn)
{
	struct e2e *e;

	TAILQ_FOREACH(e, &ld->fwd.sessions, entry)
		if (e->conn == conn)
			return e;
	return NULL;
}

struct e2e *
e2e_best(struct linkd *ld, const struct peer *p)
{
	struct e2e *e, *best = NULL;

	if (!ld->fwd.ready)
		return NULL;
	TAILQ_FOREACH(e, &ld->fwd.sessions, entry) {
		if (e->peer != p || e->sess.state != SESSION_ESTABLISHED)
			continue;
		/* The latest handshake is the likeliest to be alive: after
		 * the member restarted, the session it started, not our
		 * older one it has forgotten. */
		if (best == NULL ||
		    e->sess.t_established > best->sess.t_established)
			best = e;
	}
	return best;
}

static struct e2e *
e2e_pending_initiator(struct linkd *ld, const struct peer *p)
{
	struct e2e *e;

	TAILQ_FOREACH(e, &ld->fwd.sessions, entry)
		if (e->peer == p && e->initiator &&
		    e->sess.state == SESSION_HS_SENT)
			return e;
	return NULL;
}

static void
e2e_drop_queue(struct linkd *ld, struct e2e *e)
{
	int i;

	for (i = 0; i < e->nq; i++) {
		free(e->q[i]);
		e->q[i] = NULL;
	}
	e->nq = 0;
	ld->fwd.queued_bytes -= e->qbytes;
	e->qbytes = 0;
}

static void
e2e_free(struct linkd *ld, struct e2e *e)
{
	TAILQ_REMOVE(&ld->fwd.sessions, e, entry);
	ld->fwd.nsessions--;
	if (e->pending)
		ld->fwd.npending--;
	e2e_drop_queue(ld, e);
	session_wipe(&e->sess);
	sodium_memzero(e, sizeof(*e));
	free(e);
}

/* The session ended (why: the session's reason or ours). */
static void
e2e_end(struct linkd *ld, struct e2e *e, const char *why, int failed)
{
	if (why == NULL)
		why = e->sess.why != NULL ? e->sess.why : "closed";
	if (e->was_up)
		log_info("e2e session %08x with %s: down: %s", e->conn,
		    e2e_name(e), why);
	else
		log_debug("e2e session %08x with %s: no handshake: %s",
		    e->conn, e2e_name(e), why);
	if (failed)
		ld->fwd.c.e2e_failed++;
	e2e_free(ld, e);
}

/* ---- session callbacks (record only; see above) ---- */

static int
e2e_cb_send(void *arg, const uint8_t *frame, size_t len)
{
	struct e2e *e = arg;

	/* A frame that cannot go now is lost, as on any network; the
	 * session's timers notice if it keeps happening. Returning -1
	 * would end the session at the first gap in the routes. */
	const uint8_t *via = e2e_tx_route.via;

	if (e->peer == NULL)
		return 0;
	if (!e2e_tx_route.set &&
	    route_next_hop(e->ld, e->peer->rec.id, &via) == -1)
		via = NULL;
	(void)forward_emit(e->ld, e->peer->rec.id, via, e->conn, frame, len,
	    linkd_now());
	return 0;
}

static void
e2e_cb_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct e2e *e = arg;

	if (e->peer == NULL)    /* cannot happen: established => known */
		return;
	e->rx_packets++;
	e->rx_bytes += len;
	e->t_data = linkd_now();
	datapath_deliver(e->ld, e->peer, pkt, len);
}

static void
e2e_cb_established(void *arg, int rekey)
{
	struct e2e *e = arg;
	struct linkd *ld = e->ld;

	e->flush = 1;
	if (rekey || e->was_up)
		return;
	e->was_up = 1;
	e->t_data = linkd_now();
	ld->fwd.c.e2e_up++;
	if (e->pending) {
		e->pending = 0;
		ld->fwd.npending--;
	}
	log_info("e2e session %08x with %s: up (%s)", e->conn, e2e_name(e),
	    e->initiator ? "we started it" : "it started it");
}

/* Sessions with p other than e. */
static size_t
e2e_count_peer(struct linkd *ld, const struct peer *p, const struct e2e *e)
{
	const struct e2e *o;
	size_t n = 0;

	TAILQ_FOREACH(o, &ld->fwd.sessions, entry)
		if (o != e && o->peer == p)
			n++;
	return n;
}

/* A member's, and within its bound of sessions (bounds.h): its extra
 * handshakes are refused, never another member's. */
static int
e2e_cb_lookup_peer(void *arg, const uint8_t rs[NOISE_DHLEN])
{
	struct e2e *e = arg;
	struct peer *p = peers_find_dh(e->ld, rs);

	if (p == NULL || (e->peer != NULL && e->peer != p))
		return -1;
	if (!bounds_e2e_allow(&p->bounds, e2e_count_peer(e->ld, p, e))) {
		e->ld->e2e_refused++;
		e->over_cap = 1;
		return -1;
	}
	e->peer = p;
	return 0;
}

static int
e2e_cb_check_ts(void *arg, const uint8_t rs[NOISE_DHLEN],
    const uint8_t ts[WIRE_HS_PAYLOAD])
{
	struct e2e *e = arg;
	struct peer *p = peers_find_dh(e->ld, rs);

	/* The same window as the member's links: its handshakes all
	 * carry timestamps from one clock. */
	return p == NULL ? -1 : peer_check_ts(p, ts);
}

static const struct session_cb e2e_cbs = {
	.send = e2e_cb_send,
	.deliver = e2e_cb_deliver,
	.inner = NULL,          /* nothing but packets end to end */
	.established = e2e_cb_established,
	.lookup_peer = e2e_cb_lookup_peer,
	.check_ts = e2e_cb_check_ts,
};

static int
e2e_session_init(struct e2e *e)
{
	return linkd_session_init(e->ld, &e->sess, e->initiator,
	    e->initiator ? e->peer->dh : NULL, &e2e_cbs, e);
}

/* A conn id no session of ours uses (0 is never one), or 0. */
static uint32_t
e2e_new_conn(struct linkd *ld)
{
	uint32_t c;
	int i;

	for (i = 0; i < 8; i++) {
		c = randombytes_random();
		if (c != 0 && e2e_find_conn(ld, c) == NULL)
			return c;
	}
	return 0;
}

static struct e2e *
e2e_new(struct linkd *ld, int initiator, struct peer *p, uint32_t conn,
    double now)
{
	struct e2e *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		log_warnx_rl(&ld->fwd, "e2e session: out of memory");
		return NULL;
	}
	e->ld = ld;
	e->peer = p;
	e->conn = conn;
	e->initiator = initiator;
	e->t_created = e->t_data = now;
	if (e2e_session_init(e) == -1) {
		log_warnx_rl(&ld->fwd, "e2e session: %s", e->sess.why);
		free(e);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&ld->fwd.sessions, e, entry);
	ld->fwd.nsessions++;
	return e;
}

/* Initiator: a handshake (again) with a fresh conn id. -1: e is gone. */
static int
e2e_handshake(struct linkd *ld, struct e2e *e, double now)
{
	uint32_t conn;

	if ((conn = e2e_new_conn(ld)) == 0) {
		e2e_end(ld, e, "no free connection id", 1);
		return -1;
	}
	if (e->tries > 0) {
		e->replays += e->sess.replays;
		e->bad_frames += e->sess.bad_frames;
		session_wipe(&e->sess);
		if (e2e_session_init(e) == -1) {
			e2e_end(ld, e, NULL, 1);
			return -1;
		}
	}
	e->conn = conn;
	e->tries++;
	if (session_start(&e->sess, now) == -1) {
		e2e_end(ld, e, NULL, 1);
		return -1;
	}
	log_debug("e2e session %08x with %s: handshake %d sent", e->conn,
	    e2e_name(e), e->tries);
	return 0;
}

static void
e2e_flush(struct linkd *ld, struct e2e *e, double now)
{
	int i;

	e->flush = 0;
	for (i = 0; i < e->nq; i++) {
		if (e->sess.state == SESSION_ESTABLISHED &&
		    session_send_packet(&e->sess, e->q[i], e->qlen[i],
		    now) == 0) {
			e->tx_packets++;
			e->tx_bytes += e->qlen[i];
			e->t_data = now;
		} else {
			ld->fwd.c.queue_drops++;
		}
	}
	e2e_drop_queue(ld, e);
}

/* ---- entry points ---- */

/* A packet for p with no direct link: its session, or a new one. */
static void
e2e_send_routed(struct linkd *ld, struct peer *p, const uint8_t *via,
    const uint8_t *pkt, size_t len, double now)
{
	struct e2e *e;

	if ((e = e2e_best(ld, p)) != NULL) {
		if (e->nq > 0)
			e2e_flush(ld, e, now);
		if (session_send_packet(&e->sess, pkt, len, now) == -1) {
			if (e->sess.state == SESSION_CLOSED)
				e2e_end(ld, e, NULL, 1);
			return;
		}
		e->tx_packets++;
		e->tx_bytes += len;
		e->t_data = now;
		return;
	}
	if ((e = e2e_pending_initiator(ld, p)) == NULL) {
		/* No next hop at all: no handshake (each costs keyd a
		 * DH) until routed finds a path. */
		if (via == NULL) {
			ld->fwd.c.no_route++;
			return;
		}
		if (ld->fwd.nsessions >= E2E_MAX_SESSIONS) {
			log_warnx_rl(&ld->fwd.nsessions, "e2e sessions: %d "
			    "already; no new one for %s", E2E_MAX_SESSIONS,
			    p->rec.name);
			ld->fwd.c.queue_drops++;
			return;
		}
		if ((e = e2e_new(ld, 1, p, 0, now)) == NULL ||
		    e2e_handshake(ld, e, now) == -1)
			return;
	}
	if (e->nq >= E2E_QUEUE_MAX ||
	    ld->fwd.queued_bytes + len > E2E_QUEUE_BYTES ||
	    (e->q[e->nq] = malloc(len)) == NULL) {
		ld->fwd.c.queue_drops++;
		return;
	}
	memcpy(e->q[e->nq], pkt, len);
	e->qlen[e->nq++] = len;
	e->qbytes += len;
	ld->fwd.queued_bytes += len;
}

void
e2e_send_packet(struct linkd *ld, struct peer *p, const uint8_t *via,
    const uint8_t *pkt, size_t len, double now)
{
	if (!ld->fwd.ready || !ld->self_known)
		return;
	/* It must fit one forward payload once sealed end to end. */
	if (len > WIRE_FWD_MAX_FRAME - WIRE_DATA_HDR - 1 - NOISE_TAGLEN) {
		ld->fwd.c.too_big++;
		return;
	}
	e2e_tx_route.set = 1;
	e2e_tx_route.via = via;
	e2e_send_routed(ld, p, via, pkt, len, now);
	e2e_tx_route.set = 0;
	e2e_tx_route.via = NULL;
}

/*
 * A handshake frame for an existing session, tried on a copy: a relay
 * can replay or garble one, and the real session must survive that.
 */
static void
e2e_input_hs(struct linkd *ld, struct e2e *e, const struct wire_frame *f,
    double now)
{
	struct session copy = e->sess;

	if (session_input(&copy, f, now) == -1) {
		ld->fwd.c.hs_dropped++;
		log_debug("e2e session %08x with %s: handshake frame "
		    "refused: %s", e->conn, e2e_name(e),
		    copy.why != NULL ? copy.why : "?");
		sodium_memzero(&copy, sizeof(copy));
		return;
	}
	e->sess = copy;
	sodium_memzero(&copy, sizeof(copy));
}

/* A frame for a conn id we do not know: only an HS_INIT starts one. */
static void
e2e_input_new(struct linkd *ld, uint32_t conn, const struct wire_frame *f,
    double now)
{
	struct e2e *e;

	if (f->type != WIRE_HS_INIT) {
		ld->fwd.c.unknown_conn++;
		return;
	}
	if (ld->fwd.nsessions >= E2E_MAX_SESSIONS ||
	    ld->fwd.npending >= E2E_MAX_PENDING) {
		ld->fwd.c.hs_dropped++;
		log_warnx_rl(&ld->fwd.npending, "e2e handshake refused: %zu "
		    "sessions, %zu in handshake", ld->fwd.nsessions,
		    ld->fwd.npending);
		return;
	}
	if ((e = e2e_new(ld, 0, NULL, conn, now)) == NULL)
		return;
	e->pending = 1;
	ld->fwd.npending++;
	/* Nothing is sent unless the initiator is a member with a fresh
	 * timestamp, exactly as on an incoming link. */
	if (session_input(&e->sess, f, now) == -1) {
		ld->fwd.c.hs_dropped++;
		log_warnx_rl(&ld->fwd.c.hs_dropped, "e2e handshake (conn "
		    "%08x) refused: %s", conn, e->over_cap ? "its member "
		    "holds as many sessions as one may" :
		    e->sess.why != NULL ? e->sess.why : "?");
		e2e_free(ld, e);
		return;
	}
	if (e->flush)
		e2e_flush(ld, e, now);
}

/*
 * An HS_INIT with a valid mac1 costs keyd two DHs before the session
 * knows whether it is a member's, and any member can relay one (or
 * replay one it relayed before) as fast as its link allows. Limited as
 * on direct links (hs_admit.c): a bucket for everyone and one per
 * member the frames come from. 0 go on, -1 dropped.
 */
static int
e2e_hs_admit(struct linkd *ld, const struct wire_frame *f,
    const uint8_t *from, double now)
{
	size_t msglen;

	if (f->type != WIRE_HS_INIT ||
	    wire_hs_check(f, ld->self_dh, &msglen) == -1)
		return 0;       /* no DH for it: mac1 stops it first */
	if (hs_rl_allow(&ld->fwd.hs_rl, NULL, from, from != NULL ?
	    RL_KEY_MAX : 0, now) == RL_OK)
		return 0;
	ld->fwd.c.hs_ratelimited++;
	log_warnx_rl(&ld->fwd.hs_rl, "end-to-end handshakes over the "
	    "limit: dropped %llu so far",
	    (unsigned long long)ld->fwd.c.hs_ratelimited);
	return -1;
}

static void
e2e_input(struct linkd *ld, const uint8_t from[MEMBER_ID_BYTES],
    uint32_t conn, const uint8_t *frame, size_t len, double now)
{
	struct wire_frame f;
	struct e2e *e;

	if (!ld->fwd.ready || wire_frame_peek(&f, frame, len) != 1 ||
	    f.frame_len != len)
		return;
	if (e2e_hs_admit(ld, &f, from, now) == -1)
		return;
	if ((e = e2e_find_conn(ld, conn)) == NULL) {
		e2e_input_new(ld, conn, &f, now);
		return;
	}
	switch (f.type) {
	case WIRE_DATA:
		if (e->sess.state != SESSION_ESTABLISHED) {
			ld->fwd.c.unknown_conn++;
			return;
		}
		/* Bad tags and replays are dropped inside; -1 only for
		 * an authentic INNER_CLOSE or keys past their life. */
		if (session_input(&e->sess, &f, now) == -1) {
			e2e_end(ld, e, NULL, 0);
			return;
		}
		break;
	case WIRE_HS_INIT:
		if (e->initiator) {
			ld->fwd.c.hs_dropped++;
			return;
		}
		e2e_input_hs(ld, e, &f, now);
		break;
	case WIRE_HS_RESP:
		if (!e->initiator || !e->sess.hs_active) {
			ld->fwd.c.hs_dropped++;
			return;
		}
		e2e_input_hs(ld, e, &f, now);
		break;
	default:
		return;
	}
	if (e->flush)
		e2e_flush(ld, e, now);
}

void
e2e_forward_input(struct linkd *ld, struct peer *from, const uint8_t *p,
    size_t len)
{
	struct wire_fwd h;
	double now = linkd_now();
	uint8_t hops = 0;

	if (!ld->self_known)
		return;
	if (wire_fwd_parse(&h, p, len) == -1) {
		ld->fwd.c.bad++;
		log_warnx_rl(&ld->fwd.c.bad, "member %s sent a forward frame "
		    "that does not parse (%zu bytes): dropped",
		    from->rec.name, len);
		return;
	}
	switch (fwd_decide(ld->self_id, &h, &hops)) {
	case FWD_DELIVER:
		ld->fwd.c.for_us++;
		memcpy(e2e_rxbuf, h.frame, h.frame_len);
		e2e_input(ld, from->rec.id, h.conn, e2e_rxbuf, h.frame_len,
		    now);
		return;
	case FWD_HOPS_GONE:
		ld->fwd.c.hop_limit++;
		log_warnx_rl(&ld->fwd.c.hop_limit, "a forward frame from %s "
		    "used up its hop limit (a routing loop?): dropped",
		    from->rec.name);
		return;
	case FWD_RELAY:
		forward_relay(ld, &h, hops, p, len, now);
		return;
	}
}

/* e has heard nothing for a while: start over with a new handshake,
 * unless one is on its way or there is no route to try it on. */
static void
e2e_stale(struct linkd *ld, struct e2e *e, double now)
{
	const uint8_t *via;
	struct e2e *n;

	e->stale = 1;
	if (e->peer == NULL || e2e_pending_initiator(ld, e->peer) != NULL ||
	    route_next_hop(ld, e->peer->rec.id, &via) == -1 ||
	    ld->fwd.nsessions >= E2E_MAX_SESSIONS)
		return;
	log_info("e2e session %08x with %s: nothing heard for %.0f s; a "
	    "new handshake", e->conn, e2e_name(e), now - e->sess.t_last_recv);
	if ((n = e2e_new(ld, 1, e->peer, 0, now)) != NULL)
		(void)e2e_handshake(ld, n, now);
}

void
e2e_init(struct linkd *ld)
{
	memset(&ld->fwd, 0, sizeof(ld->fwd));
	TAILQ_INIT(&ld->fwd.sessions);
	ld->fwd.ready = 1;
}

void
e2e_tick(struct linkd *ld, double now)
{
	struct e2e *e, *next;
	double retry = ld->onion ? E2E_HS_RETRY_ONION : E2E_HS_RETRY;

	if (!ld->fwd.ready)
		return;
	for (e = TAILQ_FIRST(&ld->fwd.sessions); e != NULL; e = next) {
		next = TAILQ_NEXT(e, entry);
		if (e->initiator && e->sess.state == SESSION_HS_SENT &&
		    now - e->sess.t_hs_started >= retry) {
			if (e->tries >= E2E_HS_TRIES)
				e2e_end(ld, e, "no answer to the handshake",
				    1);
			else
				(void)e2e_handshake(ld, e, now);
			continue;
		}
		/* As for links: while links are paused their frames wait
		 * unread, and silence is not a dead peer. */
		if (ld->links_paused)
			continue;
		if (session_tick(&e->sess, now) == -1) {
			e2e_end(ld, e, NULL, 1);
			continue;
		}
		if (now - e->sess.t_last_recv < E2E_STALE)
			e->stale = 0;
		else if (e->sess.state == SESSION_ESTABLISHED && !e->stale &&
		    now - e->t_data < E2E_STALE)
			e2e_stale(ld, e, now);
		if (e->sess.state == SESSION_ESTABLISHED &&
		    now - e->t_data >= E2E_IDLE) {
			session_close(&e->sess, "idle");
			e2e_end(ld, e, "idle (no packet either way for a "
			    "while)", 0);
		}
	}
}

void
e2e_peer_gone(struct linkd *ld, struct peer *p)
{
	struct e2e *e, *next;

	if (!ld->fwd.ready)
		return;
	for (e = TAILQ_FIRST(&ld->fwd.sessions); e != NULL; e = next) {
		next = TAILQ_NEXT(e, entry);
		if (e->peer != p)
			continue;
		session_close(&e->sess, "member removed");
		e2e_end(ld, e, "member removed", 0);
	}
}

void
e2e_close_all(struct linkd *ld, const char *why)
{
	struct e2e *e;

	if (!ld->fwd.ready)
		return;
	while ((e = TAILQ_FIRST(&ld->fwd.sessions)) != NULL) {
		session_close(&e->sess, why);
		e2e_end(ld, e, why, 0);
	}
}

static const char *
e2e_state_name(const struct e2e *e)
{
	switch (e->sess.state) {
	case SESSION_NEW:
		return "new";
	case SESSION_HS_SENT:
		return "handshake";
	case SESSION_ESTABLISHED:
		return "up";
	case SESSION_CLOSED:
		return "closed";
	}
	return "?";
}

json_t *
e2e_sessions_json(struct linkd *ld)
{
	json_t *a = json_array();
	const uint8_t *via;
	struct peer *hop;
	struct e2e *e;
	double now = linkd_now();
	char conn[9];

	if (!ld->fwd.ready)
		return a;
	TAILQ_FOREACH(e, &ld->fwd.sessions, entry) {
		hop = NULL;
		if (e->peer != NULL &&
		    route_next_hop(ld, e->peer->rec.id, &via) == 0)
			hop = peers_find(ld, via);
		snprintf(conn, sizeof(conn), "%08x", e->conn);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:s, s:f, s:f, s:I, s:I, s:I, s:I, s:i, s:I, s:I}",
		    "peer", e2e_name(e),
		    "peer_id", e->peer != NULL ? e->peer->id_hex : "",
		    "conn", conn,
		    "role", e->initiator ? "initiator" : "responder",
		    "state", e2e_state_name(e),
		    "next_hop", hop != NULL ? hop->rec.name : "",
		    "age_s", now - e->t_created,
		    "idle_s", now - e->t_data,
		    "tx_packets", (json_int_t)e->tx_packets,
		    "rx_packets", (json_int_t)e->rx_packets,
		    "tx_bytes", (json_int_t)e->tx_bytes,
		    "rx_bytes", (json_int_t)e->rx_bytes,
		    "queued", e->nq,
		    "replays", (json_int_t)(e->replays + e->sess.replays),
		    "bad_frames", (json_int_t)(e->bad_frames +
		    e->sess.bad_frames)));
	}
	return a;
}
