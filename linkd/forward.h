/*
 * Forwarding through members: how a packet reaches a member we have no
 * direct link to, and what a member in the middle does with it.
 *
 * An INNER_FORWARD payload (proto/wire.h: struct wire_fwd) carries one
 * whole frame of the end-to-end session between the two ends (below).
 * A relay reads only the first WIRE_FWD_HDR bytes: it lowers the hop
 * limit, drops the frame when it reaches 0, and otherwise seals it
 * again on a link
 * to the next hop for dest. It never holds a key of the end-to-end
 * session, so it learns the destination, the hop limit and an opaque
 * connection number, nothing else.
 *
 * Next hop for a member: route.h (route_next_hop). The link to it is
 * chosen by the member's multipath scheduler with the conn id as the
 * flow, so every frame of one end-to-end session takes the same
 * circuit and arrives in order (the session refuses a counter that
 * goes back).
 *
 * Congestion: a relay drops a frame when the next link has more than
 * LINK_OBUF_HIGH bytes queued, like a router's tail drop; the inner TCP
 * backs off. Pausing the incoming link instead could deadlock two
 * relays forwarding to each other.
 *
 * One module, two files, one direction: e2e.c (the sessions, and what
 * arrives in INNER_FORWARD) calls forward.c (the relay: a frame sealed
 * on a link to the next hop), never the other way.
 *
 * End-to-end sessions: a sealed session (linkd/session.c, the same Noise
 * IK state machine as a link's) with a member we reach only through
 * others. Its frames travel inside INNER_FORWARD (forward.h): the send
 * callback wraps each one for the member and hands it to the next hop,
 * and frames for us are matched to a session by the conn id in the
 * forward header.
 *
 * Roles: the member with a packet to send and no session starts one
 * (initiator) with a random conn id; the other end creates its
 * responder session when an HS_INIT arrives for a conn id it does not
 * know, with the same checks as for an incoming link: mac1, the static
 * key must be a member's (lookup_peer), the timestamp fresher than the
 * last one seen from that member (check_ts, the same window as its
 * links). Both ends send over whichever of their established sessions
 * with the member did the latest handshake, so one handshake serves
 * both directions.
 *
 * While the handshake runs, up to E2E_QUEUE_MAX packets wait (copied;
 * E2E_QUEUE_BYTES for all sessions together); more are dropped. A
 * handshake unanswered for E2E_HS_RETRY s (E2E_HS_RETRY_ONION through
 * Tor circuits) is sent again from a fresh session (new conn id, new
 * timestamp) up to E2E_HS_TRIES times.
 *
 * A session that has heard nothing for E2E_STALE s, although the other
 * end sends a keepalive every SESSION_KEEPALIVE s, has probably been
 * forgotten there (that linkd restarted): a new handshake starts at once
 * and takes over when it completes, instead of sending into the void
 * until SESSION_DEAD_AFTER. Relays keep no state, so a relay's restart
 * costs an e2e session nothing.
 *
 * A relay can drop, delay or replay frames but cannot forge one, and a
 * bad or replayed handshake frame must not cost a working session: a
 * handshake frame for an existing session is tried on a copy of it,
 * which replaces the session only if the frame was good.
 *
 * Lifetime: the session layer's keepalives and dead-peer timer, plus an
 * idle timer: no packet either way for E2E_IDLE s (the datapath prefers
 * a direct link as soon as one is up, so that is what happens then)
 * closes it, with INNER_CLOSE to the other end. A route that goes away
 * costs nothing at once: frames are dropped until a new next hop
 * appears, or the session dies after SESSION_DEAD_AFTER.
 *
 * Packets a session delivers go through the same source check as a
 * direct link's (datapath_deliver: record_owns_addr of the member the
 * handshake proved).
 */
#ifndef OM_LINKD_FORWARD_H
#define OM_LINKD_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "linkd/ratelimit.h"
#include "linkd/session.h"
#include "proto/msg.h"
#include "proto/wire.h"

struct linkd;
struct link;
struct peer;

enum fwd_action {
	FWD_DELIVER = 0,  /* dest is us: the e2e layer takes the frame */
	FWD_RELAY,        /* send on with *hops_out */
	FWD_HOPS_GONE,    /* hop limit used up: drop */
};

#define E2E_QUEUE_MAX    16
#define E2E_MAX_SESSIONS 1024
#define E2E_MAX_PENDING  64    /* responders in handshake (DH each) */
#define E2E_IDLE         60.0
#define E2E_HS_RETRY     3.0
#define E2E_HS_RETRY_ONION 8.0
#define E2E_HS_TRIES     3
#define E2E_STALE        (SESSION_KEEPALIVE + 2.0)
#define E2E_QUEUE_BYTES  (4 * 1024 * 1024)

struct e2e {
	TAILQ_ENTRY(e2e) entry;
	struct linkd *ld;
	struct peer *peer;            /* NULL: responder before lookup */
	uint32_t conn;
	int initiator;
	int tries;                    /* initiator: handshakes sent */
	int flush;                    /* established: send the queue */
	int was_up;
	int pending;                  /* counted in fwd.npending */
	int stale;                    /* a new handshake was started */
	int over_cap;                 /* refused: its member has enough */
	size_t qbytes;                /* counted in fwd.queued_bytes */
	struct session sess;
	uint8_t *q[E2E_QUEUE_MAX];    /* packets waiting for the handshake */
	size_t qlen[E2E_QUEUE_MAX];
	int nq;
	double t_created;
	double t_data;                /* last packet either way */
	uint64_t tx_packets, rx_packets, tx_bytes, rx_bytes;
	uint64_t replays, bad_frames; /* of sessions replaced by a retry */
};

TAILQ_HEAD(e2e_list, e2e);

struct fwd_counters {
	uint64_t forwarded;           /* frames relayed for others */
	uint64_t forwarded_bytes;     /* their INNER_FORWARD payload bytes */
	uint64_t hop_limit;           /* dropped: hop limit reached 0 */
	uint64_t no_route;            /* no next hop for the member */
	uint64_t no_link;             /* next hop known, its link not up */
	uint64_t congested;           /* next link's queue over its mark */
	uint64_t bad;                 /* INNER_FORWARD that did not parse */
	uint64_t for_us;              /* e2e frames addressed to us */
	uint64_t sent;                /* e2e frames we originated */
	uint64_t sent_bytes;          /* their INNER_FORWARD payload bytes */
	uint64_t unknown_conn;        /* for us, no session with that id */
	uint64_t hs_dropped;          /* handshake frames that failed */
	uint64_t too_big;             /* packet too large to forward */
	uint64_t queue_drops;         /* waiting for a handshake: full */
	uint64_t e2e_up;              /* sessions established */
	uint64_t e2e_failed;          /* sessions that ended in error */
	uint64_t hs_ratelimited;      /* HS_INITs over the limit: no DH */
};

struct forward {
	struct e2e_list sessions;
	int ready;                    /* sessions initialised */
	size_t nsessions;
	size_t npending;              /* responders mid-handshake */
	size_t queued_bytes;          /* packets waiting for handshakes */
	struct fwd_counters c;
	struct ratelimit hs_rl;       /* e2e.c: HS_INITs that cost a DH */
};

/* ---- pure ---- */

/* What to do with a parsed frame that arrived at self. */
enum fwd_action fwd_decide(const uint8_t self[MEMBER_ID_BYTES],
    const struct wire_fwd *h, uint8_t *hops_out);

/* ---- forward.c: the relay (calls only down: links, sessions) ---- */

/* Wrap an e2e frame for dest and seal it on a link to via (the next
 * hop route.h chose; NULL: none, counted as no_route). 0 sent, -1
 * dropped (counted). frame may be the session layer's buffer. */
int forward_emit(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    const uint8_t *via, uint32_t conn, const uint8_t *frame, size_t len,
    double now);
/* Send a parsed INNER_FORWARD payload p (len bytes) on towards h->dest
 * with the hop limit lowered to hops. */
void forward_relay(struct linkd *ld, const struct wire_fwd *h, uint8_t hops,
    const uint8_t *p, size_t len, double now);

/* ---- e2e.c: end-to-end sessions ---- */

void e2e_init(struct linkd *ld);
/* An INNER_FORWARD payload from member from (a link's frame handler).
 * p points into the session layer's buffer: copied before anything
 * else is sealed. */
void e2e_forward_input(struct linkd *ld, struct peer *from,
    const uint8_t *p, size_t len);
/* A packet for member p over an e2e session (started if need be),
 * whose frames go to via (route.h decided; NULL: no next hop). */
void e2e_send_packet(struct linkd *ld, struct peer *p, const uint8_t *via,
    const uint8_t *pkt, size_t len, double now);
void e2e_tick(struct linkd *ld, double now);
/* p is being removed: end its sessions. */
void e2e_peer_gone(struct linkd *ld, struct peer *p);
void e2e_close_all(struct linkd *ld, const char *why);
/* Established session with p carrying packets now, or NULL. */
struct e2e *e2e_best(struct linkd *ld, const struct peer *p);
json_t *e2e_sessions_json(struct linkd *ld);

#endif
