/*
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
 * direct link's (datapath_deliver_peer: record_owns_addr of the member
 * the handshake proved).
 */
#ifndef OM_LINKD_E2E_H
#define OM_LINKD_E2E_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "linkd/session.h"
#include "proto/msg.h"

#define E2E_QUEUE_MAX    16
#define E2E_MAX_SESSIONS 1024
#define E2E_MAX_PENDING  64    /* responders in handshake (DH each) */
#define E2E_IDLE         60.0
#define E2E_HS_RETRY     3.0
#define E2E_HS_RETRY_ONION 8.0
#define E2E_HS_TRIES     3
#define E2E_STALE        (SESSION_KEEPALIVE + 2.0)
#define E2E_QUEUE_BYTES  (4 * 1024 * 1024)

struct linkd;
struct peer;

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

/* A frame addressed to us (copied out of the session layer's buffer),
 * brought by member from (the previous hop). */
void e2e_input(struct linkd *ld, const uint8_t from[MEMBER_ID_BYTES],
    uint32_t conn, const uint8_t *frame, size_t len, double now);
/* A packet for member p over an e2e session (started if need be). */
void e2e_send_packet(struct linkd *ld, struct peer *p, const uint8_t *pkt,
    size_t len, double now);
void e2e_tick(struct linkd *ld, double now);
/* p is being removed: end its sessions. */
void e2e_peer_gone(struct linkd *ld, struct peer *p);
void e2e_close_all(struct linkd *ld, const char *why);
/* Established session with p carrying packets now, or NULL. */
struct e2e *e2e_best(struct linkd *ld, const struct peer *p);
json_t *e2e_sessions_json(struct linkd *ld);

#endif
