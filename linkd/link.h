/*
 * One link: one byte stream (a TCP connection, or a Tor stream to or
 * from a member's onion service) carrying one sealed session to one
 * member.
 *
 * The stream buffers are stream.h (pure, for unit tests); this is the
 * link proper: socket, libev watchers, session, state machine,
 * counters.
 *
 * States:
 *   CONNECTING  outgoing connect in progress: TCP (first the lookup of
 *               a host name, if the endpoint has one), or for an onion link
 *               the connect to tor's SocksPort and the SOCKS5
 *               negotiation (tor builds the circuit meanwhile)
 *   HANDSHAKE   socket open, Noise handshake not finished
 *   UP          session established; carries packets
 *   BACKOFF     outgoing link waiting to reconnect (no socket)
 *   CLOSED      finished; freed at the next loop iteration
 */
#ifndef OM_LINKD_LINK_H
#define OM_LINKD_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <ev.h>

#include "linkd/multipath.h"
#include "linkd/ratelimit.h"
#include "linkd/sched.h"
#include "linkd/session.h"
#include "linkd/stream.h"
#include "proto/socks5.h"
#include "proto/wire.h"

#define LINK_RXBUF        (256 * 1024)
#define LINK_OBUF_CAP     (2 * 1024 * 1024)
#define LINK_OBUF_HIGH    (1024 * 1024)  /* stop reading tund above */
#define LINK_OBUF_LOW     (256 * 1024)   /* resume below */
/* An onion link carries one circuit of a few MB/s, and tor already
 * queues what its circuit window holds: more here only adds delay for
 * loss-based inner TCP (cubic fills every queue; bbr never used this
 * one in bench/tor1.sh runs), at no gain in throughput. Above its high
 * mark a circuit's member has its packets dropped (link_congested);
 * reading tund goes on for the others, so one slow member never stalls
 * the rest. TCP links keep the pause: above the mark, tund waits. */
#define LINK_ONION_HIGH   (128 * 1024)
#define LINK_ONION_LOW    (32 * 1024)
/* Acknowledgements (INNER_LINK_ACK) on onion links, for the striping
 * scheduler's view of what each circuit holds (sched.h): sent once this
 * many bytes came in unacknowledged, or this long after the first of
 * them, whichever is first. At a few MB/s that is some hundred small
 * frames a second, under 1 % of the bytes. */
#define LINK_ACK_BYTES    (16 * 1024)
#define LINK_ACK_DELAY    0.01
#define LINK_READS_PER_WAKEUP  8
#define LINK_WRITES_PER_WAKEUP 8
#define LINK_CONNECT_TIMEOUT   10.0
/* tor answers a SOCKS CONNECT itself when it gives up (descriptor not
 * found, introduction failed...); this only catches a tor that hangs. */
#define LINK_ONION_CONNECT_TIMEOUT 60.0
#define LINK_STALL_TIMEOUT     20.0  /* output stuck: peer stopped reading */
#define LINK_BACKOFF_MIN       1.0
#define LINK_BACKOFF_MAX       30.0
#define LINK_ERR_LEN           256

/* ---- the link ------------------------------------------------------ */

enum link_state {
	LINK_CONNECTING = 0,
	LINK_HANDSHAKE,
	LINK_UP,
	LINK_BACKOFF,
	LINK_CLOSED,
};

enum link_dir { LINK_IN = 0, LINK_OUT = 1 };

struct linkd;
struct peer;

struct link {
	TAILQ_ENTRY(link) entry;       /* ld->links */
	TAILQ_ENTRY(link) reap_entry;  /* ld->reap */
	struct linkd *ld;
	struct peer *peer;             /* NULL: incoming, key not known yet */
	enum link_dir dir;
	enum link_state state;
	int fd;
	uint32_t serial;               /* for logs and ctl */
	const char *transport;         /* "tcp" or "onion" */
	char remote[80];               /* "203.0.113.7:6550", "X.onion:6550"
	                                * or "onion" (incoming) */
	int slot;                      /* outgoing: index in peer->out */
	struct socks5_client *socks;   /* SOCKS5 negotiation in progress */
	uint32_t resolving;            /* resolver request (resolve.h); 0:
	                                * none */
	struct session sess;
	int sess_live;                 /* sess was initialised */
	struct framer rx;
	struct obuf tx;
	struct mp_path mp;             /* what multipath sees */
	struct sched_circ sc;          /* what striping sees (stripe.c) */
	/* Session frame bytes each way, the totals acknowledgements speak
	 * of (not the SOCKS bytes before them, not the acks themselves:
	 * an ack that needed acking would never end). */
	uint64_t fr_tx, fr_rx;
	uint64_t fr_rx_acked;          /* the total our last ack gave */
	size_t fr_cur;                 /* the frame being opened (an ack
	                                * takes itself back out of fr_rx) */
	int fr_acking;                 /* sending an ack: not counted */
	int ack_moved;                 /* an ack opened room: drain the
	                                * member's queue after parsing */
	int ack_rx;                    /* we ack what comes in (onion; set
	                                * with the transport) */
	uint64_t bad_acks;             /* for more than we ever sent */
	ev_timer ack_timer;            /* LINK_ACK_DELAY after unacked bytes */
	int over_high;                 /* counted in ld->links_over_high */
	int pause_tund;                /* over high pauses tund (TCP); else
	                                * its member's packets are dropped */
	size_t obuf_high, obuf_low;    /* its transport's marks (set once) */
	int pending_in;                /* counted in ld->pending_in */
	uint8_t src_key[RL_KEY_MAX];   /* incoming TCP: its source, as
	                                * pending.c counts them */
	size_t src_klen;               /* 0: none (onion, outgoing) */
	struct rl_bucket rekey_rl;     /* rekeys it may take (bounds.h) */
	ev_io rio;
	ev_io wio;
	ev_timer retry;                /* BACKOFF -> CONNECTING */
	double backoff;                /* next delay */
	int ep_next;                   /* endpoint to try next */
	double t_state;                /* monotonic time of last change */
	double t_wrote;                /* last write progress */
	uint32_t rtt_us;
	uint64_t tx_bytes, rx_bytes;
	uint64_t rate_bps;             /* bytes/s (tx + rx), last tick */
	uint64_t rate_bytes;           /* tx + rx at that tick */
	double rate_t;                 /* when (0: none yet) */
	uint32_t redials;              /* outgoing: dials after the first */
	uint64_t rate_seen;            /* tx + rx at the peer's last rate
	                                * sample (peer_rate_tick) */
	uint64_t tx_packets, rx_packets;
	uint64_t errors;
	uint64_t replays;              /* of sessions already closed */
	int seen_frame;                /* a whole frame has come in */
	int join;                      /* a join relay (join_relay.c) */
	int join_closing;              /* keyd is done: close when sent */
	double t_join;                 /* monotonic: when it became one */
	char last_error[LINK_ERR_LEN];
	const char *send_err;          /* why the send callback failed */
	char errbuf[LINK_ERR_LEN];     /* send_err with an errno in it */
};

const char *link_state_name(enum link_state s);
/* The member's name, or "(unknown)" before the handshake says. */
const char *link_peer_name(const struct link *l);
int link_is_tcp(const struct link *l);
/* A new state, since now; multipath sees whether it is up. */
void link_set_state(struct link *l, enum link_state s);
/* link_session.c: the link's session (initiator: we dialled). 0 or -1. */
int link_session_init(struct link *l, int initiator)
    __attribute__((warn_unused_result));
/* link_session.c: l->rtt_us from what its transport or its keepalive
 * echoes measured; 0 when nothing has measured it yet. */
int link_rtt_update(struct link *l);
/* A connection accepted on a listener. Closes fd on failure. */
struct link *link_accept(struct linkd *ld, int fd, const char *transport,
    const char *remote);
/* Outgoing link number slot to p (starts connecting at once). */
struct link *link_dial(struct linkd *ld, struct peer *p, int slot);
/* Close: INNER_CLOSE if established, socket closed. An outgoing link
 * whose peer is still to be dialled goes to BACKOFF, anything else to
 * CLOSED and is freed at the next loop iteration. Never call it from
 * inside a session callback of the same link. */
void link_fail(struct link *l, const char *why);
/* Close for good (peer removed, no longer dialled, shutdown). */
void link_close(struct link *l, const char *why);
/* An outgoing link waiting in BACKOFF dials now, from the first
 * endpoint (the member's endpoints changed). */
void link_retry_now(struct link *l);
/* Seal and send one packet (vnet hdr + IP); -1 if the link failed. */
int link_send_packet(struct link *l, const uint8_t *pkt, size_t len,
    double now);
/* The 1 s timer for every link: session timers, timeouts, rtt. */
void link_tick(struct link *l, double now);
/* tund's socket is full / writable again: stop / restart reading all
 * links (frames already buffered are parsed on resume). */
void links_pause(struct linkd *ld);
void links_resume(struct linkd *ld);
/* Free CLOSED links (called from the loop's prepare watcher). */
void links_reap(struct linkd *ld);
size_t link_backlog(const struct link *l);
/* link_session.c: a session frame of len bytes went out on l. */
void link_counted_sent(struct link *l, size_t len);
/* link_session.c: the far end's INNER_LINK_ACK on l. */
void link_ack_input(struct link *l, const uint8_t *p, size_t len,
    double now);
/* Acknowledge what came in on l now if LINK_ACK_BYTES are waiting,
 * else within LINK_ACK_DELAY. */
void link_ack_maybe(struct link *l, double now);
/* Over its high mark and of a transport that does not pause tund for
 * it (onion): the member's next packet is to be dropped. */
int link_congested(const struct link *l);
/* A whole frame as it goes on the wire (join relays: no session). -1
 * with l->send_err set; the link is not closed. */
int link_send_raw(struct link *l, const uint8_t *frame, size_t len)
    __attribute__((warn_unused_result));

#endif
