/*
 * The sealed session of one link: the Noise IK handshake, DATA frames with
 * per-direction counters, rekeying on the same link, keepalives and
 * dead-peer detection. See linkd/session.h for the protocol; this file is
 * the state machine only.
 *
 * It is shaped like tinc's sptps: no sockets, no event loop, no clock of
 * its own (`now` comes in; the one exception is the TAI64N wall-clock
 * timestamp a handshake must carry, which has to survive a restart and so
 * cannot come from a monotonic `now`). Frames go out through cb.send and
 * packets through cb.deliver, so the same code runs over TCP, Tor streams
 * and back to back in a unit test.
 *
 * Two rules shape the responder side. It sends nothing until the
 * initiator has proven, in order, that it knows our static key (mac1),
 * that it holds a static key (the Noise handshake), that the key is a
 * member's (lookup_peer) and that the handshake is fresh (check_ts): a
 * stranger, a scanner or a replayer learns nothing, not even that a
 * session layer is listening. And a handshake that fails closes the link,
 * while a DATA frame that fails (bad tag, replay) is only dropped and
 * counted: a byte stream never reorders or corrupts by itself, but
 * tearing down a working session for one bad frame would hand anyone who
 * can inject one a cheap way to cut the link.
 *
 * The data path seals into and opens from one per-thread buffer of the
 * largest frame size, so a 64 KiB superpacket costs no allocation and no
 * copy besides the cipher's own pass. Consequently cb.send must write or
 * copy the frame before it returns, cb.deliver's packet is valid only
 * during the call, and neither may feed another frame into a session from
 * inside the callback.
 */
#include "linkd/session.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/buf.h"

/* TAI64 label of the Unix epoch (2^62 + 10 leap seconds), as WireGuard. */
#define SESSION_TAI64_BASE   0x400000000000000aULL

static _Thread_local uint8_t session_txbuf[WIRE_MAX_FRAME];
static _Thread_local uint8_t session_rxbuf[WIRE_MAX_INNER];

/*
 * TAI64N of the wall clock. The responder keeps the newest timestamp it
 * has accepted from each member, so ours must never repeat or go back,
 * not even for two handshakes in the same nanosecond or across a step of
 * the clock while we run: bump by a nanosecond when it would.
 */
static void
session_tai64n(uint8_t out[WIRE_HS_PAYLOAD])
{
	static _Thread_local uint64_t last_sec;
	static _Thread_local uint32_t last_nsec;
	struct timespec ts;
	uint64_t sec;
	uint32_t nsec;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		ts.tv_sec = ts.tv_nsec = 0;
	sec = SESSION_TAI64_BASE + (uint64_t)ts.tv_sec;
	nsec = (uint32_t)ts.tv_nsec;
	if (sec < last_sec || (sec == last_sec && nsec <= last_nsec)) {
		sec = last_sec;
		nsec = last_nsec + 1;
		if (nsec >= 1000000000) {
			sec++;
			nsec = 0;
		}
	}
	last_sec = sec;
	last_nsec = nsec;
	be64_put(out, sec);
	be32_put(out + 8, nsec);
}

void
session_wipe(struct session *s)
{
	noise_hs_wipe(&s->hs);
	sodium_memzero(&s->tx, sizeof(s->tx));
	sodium_memzero(&s->rx, sizeof(s->rx));
	sodium_memzero(&s->rx_prev, sizeof(s->rx_prev));
	s->hs_active = 0;
	s->state = SESSION_CLOSED;
}

/* Close without a word to the peer. Always -1, for `return`. */
static int
session_fail(struct session *s, const char *why)
{
	s->why = why;
	session_wipe(s);
	return -1;
}

static int
session_out(struct session *s, const uint8_t *frame, size_t len, double now)
{
	if (s->cb.send(s->cb.arg, frame, len) == -1)
		return session_fail(s, "link broken while sending");
	s->t_last_sent = now;
	return 0;
}

int
session_init(struct session *s, int initiator, const uint8_t *prologue,
    size_t prologue_len, const uint8_t s_pub[NOISE_DHLEN], const uint8_t *rs,
    const struct session_cb *cb)
{
	memset(s, 0, sizeof(*s));
	s->state = SESSION_CLOSED;
	if (cb == NULL || cb->send == NULL || cb->dh == NULL ||
	    s_pub == NULL || prologue_len > WIRE_PROLOGUE_MAX ||
	    (prologue == NULL && prologue_len != 0)) {
		s->why = "bad session parameters";
		return -1;
	}
	if (initiator && rs == NULL) {
		s->why = "initiator without the peer's static key";
		return -1;
	}
	/* The responder cannot tell members from strangers without these:
	 * fail closed rather than accept everyone. */
	if (!initiator && (cb->lookup_peer == NULL || cb->check_ts == NULL)) {
		s->why = "responder without lookup_peer/check_ts";
		return -1;
	}
	if (sodium_init() < 0) {
		s->why = "libsodium failed to initialize";
		return -1;
	}
	s->state = SESSION_NEW;
	s->initiator = initiator ? 1 : 0;
	s->cb = *cb;
	if (prologue_len)
		memcpy(s->prologue, prologue, prologue_len);
	s->prologue_len = prologue_len;
	memcpy(s->s_pub, s_pub, NOISE_DHLEN);
	if (initiator)
		memcpy(s->rs, rs, NOISE_DHLEN);
	/* Responder: the handshake clock starts at the first tick. */
	s->t_hs_started = -1;
	rtt_probe_init(&s->rtt);
	return 0;
}

/* Initiator: a fresh handshake, first or rekey. The current keys (if
 * any) stay in use until the answer arrives. */
static int
session_send_hs_init(struct session *s, double now, int first)
{
	uint8_t ts[WIRE_HS_PAYLOAD], msg[WIRE_HS_INIT_MSG];
	uint8_t frame[WIRE_HS_FRAME_MAX];
	int n, fl;

	if (noise_hs_init(&s->hs, 1, s->prologue, s->prologue_len, s->s_pub,
	    s->rs, s->cb.dh, s->cb.arg) == -1)
		return session_fail(s, "cannot start a handshake");
	session_tai64n(ts);
	n = noise_write_msg1(&s->hs, ts, sizeof(ts), msg, sizeof(msg));
	if (n != WIRE_HS_INIT_MSG)
		return session_fail(s,
		    "cannot write handshake (static key DH failed)");
	fl = wire_hs_frame(frame, sizeof(frame), WIRE_HS_INIT, msg,
	    (size_t)n, s->rs);
	sodium_memzero(msg, sizeof(msg));
	if (fl < 0)
		return session_fail(s, "cannot frame handshake");
	s->hs_active = 1;
	s->t_hs_started = now;
	/* Both ends number handshakes on a link the same way, since the
	 * stream delivers them in order: the epoch of a DATA frame then
	 * names its keys without a negotiation. */
	s->epoch = first ? 0 : (uint8_t)(s->epoch + 1);
	return session_out(s, frame, (size_t)fl, now);
}

int
session_start(struct session *s, double now)
{
	if (!s->initiator || s->state != SESSION_NEW) {
		s->why = "session_start on a responder or a started session";
		return -1;
	}
	s->t_last_recv = now;
	if (session_send_hs_init(s, now, 1) == -1)
		return -1;
	s->state = SESSION_HS_SENT;
	return 0;
}

/* New keys from Split. The receive keys they replace stay as rx_prev
 * until the peer's first frame under the new epoch: frames it sealed
 * before it saw our handshake message are still on the way. */
static void
session_install(struct session *s, const struct noise_cipher *tx,
    const struct noise_cipher *rx, double now)
{
	if (s->rx.valid)
		s->rx_prev = s->rx;
	else
		sodium_memzero(&s->rx_prev, sizeof(s->rx_prev));
	memset(&s->tx, 0, sizeof(s->tx));
	memcpy(s->tx.k, tx->k, NOISE_KEYLEN);
	s->tx.valid = 1;
	s->tx.epoch = s->epoch;
	memset(&s->rx, 0, sizeof(s->rx));
	memcpy(s->rx.k, rx->k, NOISE_KEYLEN);
	s->rx.valid = 1;
	s->rx.epoch = s->epoch;
	s->state = SESSION_ESTABLISHED;
	s->t_established = now;
	s->t_last_recv = now;
}

/* What an HS_INIT must be before any DH is spent on it. 1 (a rekey)
 * or 0 (the first handshake) with *msglen set, -1 (session failed). */
static int
session_hs_init_check(struct session *s, const struct wire_frame *f,
    size_t *msglen)
{
	if (s->initiator)
		return session_fail(s, "handshake initiation from the peer "
		    "we dialed");
	/* mac1 first: costs one hash, no DH, and proves the sender knows
	 * which member it is talking to. */
	if (wire_hs_check(f, s->s_pub, msglen) == -1) {
		s->bad_frames++;
		return session_fail(s, "handshake initiation with a bad mac1 "
		    "(not meant for us)");
	}
	if (*msglen != WIRE_HS_INIT_MSG) {
		s->bad_frames++;
		return session_fail(s, "handshake initiation of the wrong "
		    "length");
	}
	if (s->state == SESSION_ESTABLISHED)
		return 1;
	if (s->state != SESSION_NEW)
		return session_fail(s, "handshake initiation out of order");
	return 0;
}

/* Responder: HS_INIT, the first one or a rekey. */
static int
session_in_hs_init(struct session *s, const struct wire_frame *f,
    double now)
{
	struct noise_hs hs;
	struct noise_cipher c1, c2;
	uint8_t ts[WIRE_HS_PAYLOAD], msg[WIRE_HS_RESP_MSG];
	uint8_t frame[WIRE_HS_FRAME_MAX];
	const char *why = NULL;
	size_t msglen;
	int rekey, fl = -1;

	if ((rekey = session_hs_init_check(s, f, &msglen)) == -1)
		return -1;
	if (noise_hs_init(&hs, 0, s->prologue, s->prologue_len, s->s_pub,
	    NULL, s->cb.dh, s->cb.arg) == -1)
		return session_fail(s, "cannot start a handshake");
	if (noise_read_msg1(&hs, f->body, msglen, ts, sizeof(ts)) !=
	    WIRE_HS_PAYLOAD) {
		s->bad_frames++;
		why = "handshake initiation failed to authenticate";
		goto out;
	}
	/* A rekey must come from the member this link already belongs to;
	 * the member list is asked again in case it was revoked since. */
	if (rekey && sodium_memcmp(hs.rs, s->rs, NOISE_DHLEN) != 0) {
		why = "rekey from a different static key";
		goto out;
	}
	if (s->cb.lookup_peer(s->cb.arg, hs.rs) == -1) {
		why = "handshake from an unknown static key";
		goto out;
	}
	if (s->cb.check_ts(s->cb.arg, hs.rs, ts) == -1) {
		s->replays++;
		why = "replayed handshake (timestamp not newer than the last)";
		goto out;
	}
	if (noise_write_msg2(&hs, NULL, 0, msg, sizeof(msg)) !=
	    WIRE_HS_RESP_MSG) {
		why = "cannot write handshake response";
		goto out;
	}
	fl = wire_hs_frame(frame, sizeof(frame), WIRE_HS_RESP, msg,
	    sizeof(msg), hs.rs);
	if (fl < 0) {
		why = "cannot frame handshake response";
		goto out;
	}
	memcpy(s->rs, hs.rs, NOISE_DHLEN);
	noise_split(&hs, &c1, &c2);
	s->epoch = rekey ? (uint8_t)(s->epoch + 1) : 0;
	session_install(s, &c2, &c1, now);
	sodium_memzero(&c1, sizeof(c1));
	sodium_memzero(&c2, sizeof(c2));
out:
	noise_hs_wipe(&hs);
	sodium_memzero(ts, sizeof(ts));
	if (why != NULL)
		return session_fail(s, why);
	if (session_out(s, frame, (size_t)fl, now) == -1)
		return -1;
	if (s->cb.established != NULL)
		s->cb.established(s->cb.arg, rekey);
	return 0;
}

/* Initiator: HS_RESP to the handshake in flight. */
static int
session_in_hs_resp(struct session *s, const struct wire_frame *f,
    double now)
{
	struct noise_cipher c1, c2;
	size_t msglen;
	int rekey;

	if (!s->initiator || !s->hs_active)
		return session_fail(s, "unexpected handshake response");
	if (wire_hs_check(f, s->s_pub, &msglen) == -1) {
		s->bad_frames++;
		return session_fail(s, "handshake response with a bad mac1");
	}
	if (msglen != WIRE_HS_RESP_MSG ||
	    noise_read_msg2(&s->hs, f->body, msglen, NULL, 0) != 0) {
		s->bad_frames++;
		return session_fail(s, "handshake response failed to "
		    "authenticate");
	}
	rekey = (s->state == SESSION_ESTABLISHED);
	noise_split(&s->hs, &c1, &c2);
	s->hs_active = 0;
	session_install(s, &c1, &c2, now);
	sodium_memzero(&c1, sizeof(c1));
	sodium_memzero(&c2, sizeof(c2));
	if (s->cb.established != NULL)
		s->cb.established(s->cb.arg, rekey);
	return 0;
}

static int session_send_keepalive(struct session *s, int probe,
    double now);

/* A keepalive's timestamp echo (rtt.h); a probe is answered at once.
 * A payload too short to be an echo is dropped and counted. */
static int
session_in_keepalive(struct session *s, const uint8_t *p, size_t len,
    double now)
{
	struct wire_ka ka;
	int r;

	if ((r = wire_ka_parse(&ka, p, len)) == -1) {
		s->bad_frames++;
		return 0;
	}
	if (r == 1 && rtt_probe_input(&s->rtt, &ka, now) == 1 &&
	    s->tx.valid && s->tx.counter < SESSION_REJECT_AFTER_MSGS)
		return session_send_keepalive(s, 0, now);
	return 0;
}

static int
session_in_data(struct session *s, const struct wire_frame *f, double now)
{
	struct session_keys *k;
	uint8_t epoch;
	uint64_t ctr;
	int n;

	if (s->state != SESSION_ESTABLISHED) {
		s->bad_frames++;
		return session_fail(s, "data before the handshake");
	}
	if (wire_data_header(f, &epoch, &ctr) == -1) {
		s->bad_frames++;
		return 0;
	}
	if (s->rx.valid && epoch == s->rx.epoch)
		k = &s->rx;
	else if (s->rx_prev.valid && epoch == s->rx_prev.epoch)
		k = &s->rx_prev;
	else {
		s->bad_frames++;
		return 0;
	}
	/* Cheap check first (no state changes until the tag verifies). */
	if (k->used && ctr <= k->counter) {
		s->replays++;
		return 0;
	}
	if (ctr >= SESSION_REJECT_AFTER_MSGS) {
		s->bad_frames++;
		return 0;
	}
	n = wire_data_open(f, k->k, session_rxbuf, sizeof(session_rxbuf));
	if (n < 1) {
		s->bad_frames++;
		return 0;
	}
	k->counter = ctr;
	k->used = 1;
	s->t_last_recv = now;
	if (k == &s->rx && s->rx_prev.valid)
		sodium_memzero(&s->rx_prev, sizeof(s->rx_prev));

	switch (session_rxbuf[0]) {
	case INNER_PACKET:
		if (n > 1 && s->cb.deliver != NULL)
			s->cb.deliver(s->cb.arg, session_rxbuf + 1,
			    (size_t)n - 1);
		break;
	case INNER_KEEPALIVE:
		return session_in_keepalive(s, session_rxbuf + 1,
		    (size_t)n - 1, now);
	case INNER_CLOSE:
		return session_fail(s, "peer closed the session");
	case INNER_GOSSIP:
	case INNER_FORWARD:
	case INNER_SEQ_PACKET:
	case INNER_LINK_ACK:
		if (n > 1 && s->cb.inner != NULL)
			s->cb.inner(s->cb.arg, session_rxbuf[0],
			    session_rxbuf + 1, (size_t)n - 1);
		break;
	default:
		/* Authentic but from a newer version: ignore it. */
		break;
	}
	return 0;
}

int
session_input(struct session *s, const struct wire_frame *f, double now)
{
	if (s->state == SESSION_CLOSED) {
		if (s->why == NULL)
			s->why = "session closed";
		return -1;
	}
	switch (f->type) {
	case WIRE_HS_INIT:
		return session_in_hs_init(s, f, now);
	case WIRE_HS_RESP:
		return session_in_hs_resp(s, f, now);
	case WIRE_DATA:
		return session_in_data(s, f, now);
	default:
		s->bad_frames++;
		return session_fail(s, "unknown frame type");
	}
}

/* kind + pre (prelen bytes, may be 0) + p, sealed and sent. */
static int
session_seal_out(struct session *s, uint8_t kind, const uint8_t *pre,
    size_t prelen, const uint8_t *p, size_t len, double now)
{
	int n;

	n = wire_data_seal_pre(session_txbuf, sizeof(session_txbuf), s->tx.k,
	    s->tx.epoch, s->tx.counter, kind, pre, prelen, p, len);
	if (n < 0)
		return -1;
	s->tx.counter++;
	return session_out(s, session_txbuf, (size_t)n, now);
}

static int
session_send_inner(struct session *s, uint8_t kind, const uint8_t *p,
    size_t len, double now)
{
	return session_seal_out(s, kind, NULL, 0, p, len, now);
}

/* A keepalive with our timestamp and the echo of the peer's. */
static int
session_send_keepalive(struct session *s, int probe, double now)
{
	struct wire_ka ka;
	uint8_t p[WIRE_KA_BYTES];

	rtt_probe_fill(&s->rtt, &ka, probe, now);
	wire_ka_put(p, &ka);
	return session_send_inner(s, INNER_KEEPALIVE, p, sizeof(p), now);
}

/* Keys too old or too used to send with; initiator: time to rekey. */
static int
session_check_keys(struct session *s, double now)
{
	if (now - s->t_established >= SESSION_REJECT_AFTER_TIME ||
	    s->tx.counter >= SESSION_REJECT_AFTER_MSGS)
		return session_fail(s, "session keys expired without a "
		    "rekey");
	if (s->initiator && !s->hs_active &&
	    (now - s->t_established >= SESSION_REKEY_AFTER_TIME ||
	    s->tx.counter >= SESSION_REKEY_AFTER_MSGS ||
	    s->rx.counter >= SESSION_REKEY_AFTER_MSGS))
		return session_send_hs_init(s, now, 0);
	return 0;
}

int
session_send_kind_pre(struct session *s, uint8_t kind, const uint8_t *pre,
    size_t prelen, const uint8_t *p, size_t len, double now)
{
	if (s->state != SESSION_ESTABLISHED || !s->tx.valid)
		return -1;
	if (prelen > WIRE_SEAL_PRE_MAX || len == 0 ||
	    len > WIRE_MAX_INNER - 1 - prelen)
		return -1;
	if (session_check_keys(s, now) == -1)
		return -1;
	return session_seal_out(s, kind, pre, prelen, p, len, now);
}

int
session_send_kind(struct session *s, uint8_t kind, const uint8_t *p,
    size_t len, double now)
{
	return session_send_kind_pre(s, kind, NULL, 0, p, len, now);
}

int
session_send_packet(struct session *s, const uint8_t *pkt, size_t len,
    double now)
{
	return session_send_kind(s, INNER_PACKET, pkt, len, now);
}

int
session_tick(struct session *s, double now)
{
	switch (s->state) {
	case SESSION_CLOSED:
		if (s->why == NULL)
			s->why = "session closed";
		return -1;
	case SESSION_NEW:
		if (s->initiator)
			return 0;
		if (s->t_hs_started < 0)
			s->t_hs_started = now;
		else if (now - s->t_hs_started >= SESSION_HS_TIMEOUT)
			return session_fail(s, "no handshake from the peer");
		return 0;
	case SESSION_HS_SENT:
		if (now - s->t_hs_started >= SESSION_HS_TIMEOUT)
			return session_fail(s, "handshake timed out");
		return 0;
	case SESSION_ESTABLISHED:
		break;
	}
	if (now - s->t_last_recv >= SESSION_DEAD_AFTER)
		return session_fail(s, "peer dead (nothing authentic "
		    "received for too long)");
	if (s->hs_active && now - s->t_hs_started >= SESSION_HS_TIMEOUT)
		return session_fail(s, "rekey timed out");
	if (session_check_keys(s, now) == -1)
		return -1;
	if (now - s->t_last_sent >= SESSION_KEEPALIVE ||
	    rtt_probe_due(&s->rtt, now))
		return session_send_keepalive(s, 1, now);
	return 0;
}

void
session_close(struct session *s, const char *why)
{
	if (s->state == SESSION_ESTABLISHED && s->tx.valid &&
	    s->tx.counter < SESSION_REJECT_AFTER_MSGS)
		(void)session_send_inner(s, INNER_CLOSE, NULL, 0,
		    s->t_last_sent);
	s->why = why;
	session_wipe(s);
}
