/*
 * A sealed session over one link, transport-agnostic (tinc's sptps is the
 * model): the caller feeds whole frames in and gets frames to write out
 * through a callback, so the same code runs over TCP, Tor streams and in
 * unit tests. It never touches a socket or a clock: `now` is passed in
 * (seconds, monotonic).
 *
 * Lifecycle: the link's dialer is the Noise initiator. It sends HS_INIT
 * (payload: TAI64N timestamp); the responder checks mac1, runs the
 * handshake (static DH through the dh callback, i.e. keyd), asks
 * lookup_peer whether the initiator's static key belongs to a member and
 * check_ts whether the timestamp is newer than the last one seen from it
 * (a replayed HS_INIT makes no session), and answers HS_RESP. Unknown
 * key, bad mac or bad timestamp: nothing is sent, the link is closed.
 *
 * Data: DATA frames carry an epoch (which session keys) and a strictly
 * increasing counter per direction; a frame whose counter is not above
 * the last accepted one is rejected (a stream never reorders, so any
 * repeat is a replay).
 *
 * Rekey: the initiator runs a fresh handshake on the same link after
 * SESSION_REKEY_AFTER_TIME s or SESSION_REKEY_AFTER_MSGS frames; the
 * responder switches its sending keys when it answers, the initiator when
 * it reads the answer; each side keeps the previous receive keys until
 * the peer's first frame under the new epoch. After
 * SESSION_REJECT_AFTER_TIME without a new handshake the session stops.
 *
 * Liveness: a KEEPALIVE is sent after SESSION_KEEPALIVE s without sending;
 * session_tick() reports the link dead after SESSION_DEAD_AFTER s without
 * receiving anything authentic.
 *
 * Rtt: every keepalive carries a timestamp echo (proto/wire.h) and one is
 * sent as a probe at the first tick after the session is up and every
 * RTT_PROBE_INTERVAL s after, busy or not; s->rtt (linkd/rtt.h) holds
 * what they measured. An empty keepalive (an older peer) still counts as
 * a sign of life.
 */
#ifndef OM_SESSION_H
#define OM_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "linkd/rtt.h"
#include "proto/noise.h"
#include "proto/wire.h"

#define SESSION_REKEY_AFTER_TIME  120.0
#define SESSION_REJECT_AFTER_TIME 180.0
#define SESSION_REKEY_AFTER_MSGS  (1ULL << 60)
#define SESSION_REJECT_AFTER_MSGS (UINT64_MAX - (1ULL << 13))
#define SESSION_KEEPALIVE         5.0
#define SESSION_DEAD_AFTER        15.0
#define SESSION_HS_TIMEOUT        10.0

enum session_state {
	SESSION_NEW = 0,      /* nothing sent or received yet */
	SESSION_HS_SENT,      /* initiator waiting for HS_RESP */
	SESSION_ESTABLISHED,
	SESSION_CLOSED,
};

struct session_cb {
	/* Write one whole frame to the link. 0 or -1 (link broken). */
	int (*send)(void *arg, const uint8_t *frame, size_t len);
	/* A decrypted INNER_PACKET payload (vnet hdr + IP). */
	void (*deliver)(void *arg, const uint8_t *pkt, size_t len);
	/* A decrypted INNER_GOSSIP, INNER_FORWARD or INNER_SEQ_PACKET
	 * payload (may be NULL: dropped). It points into the session
	 * layer's receive buffer: copy it before feeding a frame to
	 * another session. */
	void (*inner)(void *arg, uint8_t kind, const uint8_t *p, size_t len);
	/* The session is up (first time and after every rekey). */
	void (*established)(void *arg, int rekey);
	/* X25519 with our static secret (keyd). */
	noise_dh_fn dh;
	/* Responder: is this static key a member's? 0 yes (and the caller
	 * remembers which member this link is), -1 unknown. */
	int (*lookup_peer)(void *arg, const uint8_t rs[NOISE_DHLEN]);
	/* Responder: is this TAI64N timestamp newer than the last accepted
	 * one from that peer? 0 yes (and record it), -1 replay. */
	int (*check_ts)(void *arg, const uint8_t rs[NOISE_DHLEN],
	    const uint8_t ts[WIRE_HS_PAYLOAD]);
	void *arg;
};

struct session_keys {
	uint8_t k[NOISE_KEYLEN];
	uint64_t counter;     /* next to send / last received */
	int used;             /* recv: a frame was accepted under it */
	int valid;
	uint8_t epoch;
};

struct session {
	enum session_state state;
	int initiator;
	struct session_cb cb;
	uint8_t prologue[WIRE_PROLOGUE_MAX];
	size_t prologue_len;
	uint8_t s_pub[NOISE_DHLEN];   /* ours */
	uint8_t rs[NOISE_DHLEN];      /* peer's (known to initiator) */
	struct noise_hs hs;
	int hs_active;
	struct session_keys tx;
	struct session_keys rx;       /* current */
	struct session_keys rx_prev;  /* until the peer uses the new one */
	uint8_t epoch;                /* our latest */
	double t_established;
	double t_hs_started;
	double t_last_sent;
	double t_last_recv;
	uint64_t replays;             /* frames rejected as replays */
	uint64_t bad_frames;          /* failed authentication */
	struct rtt_probe rtt;         /* keepalive echoes (rtt.h) */
	const char *why;              /* why it closed (static string) */
};

/* rs: peer static key (required for the initiator, NULL responder). */
int session_init(struct session *s, int initiator,
    const uint8_t *prologue, size_t prologue_len,
    const uint8_t s_pub[NOISE_DHLEN], const uint8_t *rs,
    const struct session_cb *cb) __attribute__((warn_unused_result));
/* Initiator: send HS_INIT. */
int session_start(struct session *s, double now)
    __attribute__((warn_unused_result));
/* One whole frame (as wire_frame_peek found it). 0, or -1: close the
 * link (s->why says why; nothing has been sent to a stranger). */
int session_input(struct session *s, const struct wire_frame *f, double now)
    __attribute__((warn_unused_result));
/* Seal and send a packet (vnet hdr + IP). -1 if not established or
 * the link is broken. */
int session_send_packet(struct session *s, const uint8_t *pkt, size_t len,
    double now) __attribute__((warn_unused_result));
/* Seal and send any inner kind (INNER_GOSSIP, INNER_FORWARD, ...). The
 * payload must not point into the session layer's buffers. */
int session_send_kind(struct session *s, uint8_t kind, const uint8_t *p,
    size_t len, double now) __attribute__((warn_unused_result));
/* The same with a short prefix (at most WIRE_SEAL_PRE_MAX bytes, e.g.
 * a striped packet's number) sealed between kind and payload, without
 * copying the payload. */
int session_send_kind_pre(struct session *s, uint8_t kind,
    const uint8_t *pre, size_t prelen, const uint8_t *p, size_t len,
    double now) __attribute__((warn_unused_result));
/* Timers: keepalive, rekey, handshake timeout, dead peer. -1: close. */
int session_tick(struct session *s, double now)
    __attribute__((warn_unused_result));
/* Send INNER_CLOSE if established, then wipe keys. */
void session_close(struct session *s, const char *why);
void session_wipe(struct session *s);


#endif
