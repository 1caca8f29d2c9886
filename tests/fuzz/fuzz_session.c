/*
 * Fuzz target: linkd's session state machine (linkd/session.c), as a
 * responder that a stranger dials, and as both ends of a live session
 * that someone on the path injects frames into.
 *
 * The properties checked are the ones session.h promises:
 *  - the responder sends nothing, not one byte, until an initiator has
 *    passed mac1, the Noise handshake, lookup_peer and check_ts;
 *  - nothing is delivered that the peer did not seal, and what the peer
 *    sealed arrives unchanged and once;
 *  - a replayed frame (DATA or handshake) is never delivered and never
 *    answered;
 *  - an established end answers, while reading, only a keepalive probe
 *    it took as authentic and fresh (one DATA frame: the rtt echo).
 * The callbacks are fixed: lookup_peer knows only the fixed initiator's
 * key, check_ts is linkd's own replay window (ts_window_check).
 *
 * Input: one mode byte, then
 *   mode 0  a byte stream of frames for a fresh responder.
 *   mode 1  the same, but every HS_INIT frame gets a correct mac1 for
 *           the responder first (the fuzzer cannot compute it), so the
 *           Noise message behind it is what gets fuzzed.
 *   mode 2  a script run on an established pair (fixed initiator and
 *           responder, handshake done in the harness). Operations:
 *             0 len(1) bytes   initiator sends a packet
 *             1 len(1) bytes   responder sends a packet
 *             2 len(2) bytes   a raw frame injected towards the
 *                              responder (mac1 fixed if HS_INIT)
 *             3 idx(1)         replay frame idx sent by the initiator
 *             4 idx(1) pos(2) bit(1)   the same, one bit flipped
 *             5 secs(1)        time passes; both ends tick
 *             6 len(2) bytes   a raw frame injected towards the
 *                              initiator
 * Seeds (gen_corpus.c) hold a real HS_INIT and DATA frames from the
 * fixed initiator; the deterministic randombytes makes the fuzzed
 * responder draw the ephemeral key the seeds were computed with, so
 * those frames authenticate.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkd/linkd.h"
#include "linkd/session.h"
#include "proto/buf.h"
#include "proto/wire.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENT_MAX   64          /* frames kept for replays */
#define FRAME_KEEP 2048        /* larger frames are not kept */
#define QUEUE_MAX  (WIRE_MAX_FRAME * 2)
#define EXPECT_MAX 8
#define EXPECT_LEN 256
#define OPS_MAX    256

struct end {
	struct session s;
	struct end *peer;
	uint8_t *q;                 /* frames sent, not yet read by peer */
	size_t qlen;
	int is_resp;
	int in_input;               /* inside session_input */
	int vouched;                /* check_ts said yes in this input */
	uint64_t ka_seen;           /* s.rtt.received before this input */
	int strict;                 /* deliveries must match expect[] */
	struct ts_window tsw;       /* responder: accepted timestamps */
	/* packets the other end sealed that this one has not had yet */
	uint8_t expect[EXPECT_MAX][EXPECT_LEN];
	size_t expect_len[EXPECT_MAX];
	int nexpect;
	int delivered;
	int established;
};

struct kept {
	uint8_t frame[FRAME_KEEP];
	size_t len;
	struct end *to;             /* who it was meant for */
};

static struct end ei, er;
static struct kept sent[SENT_MAX];
static int nsent;
static uint8_t *scratch, *pumpbuf;
static uint8_t prologue[WIRE_PROLOGUE_MAX];
static size_t prologue_len;
static double now;

/* Mode 2 starts every script from the same established pair. The
 * handshake costs four X25519 on each side (most of an input's time),
 * so it runs once and each script starts from a copy of its outcome:
 * both ends, the frames kept for replays and where the deterministic
 * randombytes stood. */
static struct {
	int ready;
	struct end ei, er;
	struct kept sent[SENT_MAX];
	int nsent;
	size_t rng_off;
	double now;
} pair0;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	ei.q = malloc(QUEUE_MAX);
	er.q = malloc(QUEUE_MAX);
	scratch = malloc(WIRE_MAX_FRAME);
	pumpbuf = malloc(QUEUE_MAX);
	if (ei.q == NULL || er.q == NULL || scratch == NULL ||
	    pumpbuf == NULL)
		abort();
	prologue_len = wire_prologue(prologue, fuzz_keys()->netid);
	return 0;
}

static int
cb_send(void *arg, const uint8_t *frame, size_t len)
{
	struct end *e = arg;

	/* The heart of it. While reading a frame the initiator never
	 * answers, and the responder answers only a handshake that passed
	 * every check (check_ts is the last) in this very call; either
	 * answers a keepalive probe (rtt.h) only with a DATA frame, once
	 * the session has taken that probe as authentic and fresh. */
	if (e->in_input && e->s.rtt.received != e->ka_seen) {
		FUZZ_CHECK(len > WIRE_LEN_BYTES &&
		    frame[WIRE_LEN_BYTES] == WIRE_DATA);
		e->ka_seen = e->s.rtt.received;
	} else if (e->in_input)
		FUZZ_CHECK(e->is_resp && e->vouched);
	if (e->qlen + len > QUEUE_MAX)
		return -1;
	memcpy(e->q + e->qlen, frame, len);
	e->qlen += len;
	if (nsent < SENT_MAX && len <= FRAME_KEEP) {
		memcpy(sent[nsent].frame, frame, len);
		sent[nsent].len = len;
		sent[nsent].to = e->peer;
		nsent++;
	}
	return 0;
}

static void
cb_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct end *e = arg;
	int i;

	e->delivered++;
	/* Nothing arrives on a session that never came up. */
	FUZZ_CHECK(e->established > 0);
	FUZZ_CHECK(len > 0 && len < WIRE_MAX_INNER);
	if (!e->strict)
		return;
	/* In order, unchanged, once: the oldest packet outstanding. */
	FUZZ_CHECK(e->nexpect > 0);
	FUZZ_CHECK(e->expect_len[0] == len);
	FUZZ_CHECK(memcmp(e->expect[0], pkt, len) == 0);
	for (i = 1; i < e->nexpect; i++) {
		memcpy(e->expect[i - 1], e->expect[i], e->expect_len[i]);
		e->expect_len[i - 1] = e->expect_len[i];
	}
	e->nexpect--;
}

static void
cb_established(void *arg, int rekey)
{
	struct end *e = arg;

	e->established++;
}

static int
cb_lookup(void *arg, const uint8_t rs[NOISE_DHLEN])
{
	return memcmp(rs, fuzz_keys()->i_pub, NOISE_DHLEN) == 0 ? 0 : -1;
}

static int
cb_check_ts(void *arg, const uint8_t rs[NOISE_DHLEN],
    const uint8_t ts[WIRE_HS_PAYLOAD])
{
	struct end *e = arg;

	/* Asked only about a key lookup_peer accepted. */
	FUZZ_CHECK(memcmp(rs, fuzz_keys()->i_pub, NOISE_DHLEN) == 0);
	if (ts_window_check(&e->tsw, ts) == -1)
		return -1;
	e->vouched = 1;
	return 0;
}

static int
dh_i(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	return fuzz_dh((void *)fuzz_keys()->i_priv, out, pub);
}

static int
dh_r(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	return fuzz_dh((void *)fuzz_keys()->r_priv, out, pub);
}

static void
end_init(struct end *e, struct end *peer, int initiator)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct session_cb cb = {
		.send = cb_send,
		.deliver = cb_deliver,
		.established = cb_established,
		.dh = initiator ? dh_i : dh_r,
		.lookup_peer = cb_lookup,
		.check_ts = cb_check_ts,
		.arg = e,
	};
	uint8_t *q = e->q;

	memset(e, 0, sizeof(*e));
	e->q = q;
	e->peer = peer;
	e->is_resp = !initiator;
	FUZZ_CHECK(session_init(&e->s, initiator, prologue, prologue_len,
	    initiator ? k->i_pub : k->r_pub, initiator ? k->r_pub : NULL,
	    &cb) == 0);
}

/* One frame into e, watching what it says back. */
static int
input(struct end *e, const struct wire_frame *f)
{
	int before = e->delivered, r;

	e->in_input = 1;
	e->vouched = 0;
	e->ka_seen = e->s.rtt.received;
	r = session_input(&e->s, f, now);
	e->in_input = 0;
	if (r == -1)
		FUZZ_CHECK(e->s.state == SESSION_CLOSED && e->s.why != NULL);
	FUZZ_CHECK(e->delivered - before <= 1);
	return r;
}

/* A handshake frame with the right mac1 for its receiver. */
static int
fix_mac1(struct wire_frame *f, const uint8_t to_static[NOISE_DHLEN])
{
	int n;

	if ((f->type != WIRE_HS_INIT && f->type != WIRE_HS_RESP) ||
	    f->body_len < WIRE_MAC_BYTES)
		return 0;
	n = wire_hs_frame(scratch, WIRE_MAX_FRAME, f->type, f->body,
	    f->body_len - WIRE_MAC_BYTES, to_static);
	if (n < 0)
		return -1;
	FUZZ_CHECK(wire_frame_peek(f, scratch, (size_t)n) == 1);
	return 0;
}

/* Modes 0 and 1: a stranger's byte stream for a fresh responder. */
static void
mode_stranger(const uint8_t *p, size_t len, int fixmac)
{
	struct wire_frame f;

	end_init(&er, &ei, 0);
	nsent = 0;
	while (wire_frame_peek(&f, p, len) == 1) {
		p += f.frame_len;
		len -= f.frame_len;
		if (fixmac && f.type == WIRE_HS_INIT &&
		    fix_mac1(&f, fuzz_keys()->r_pub) == -1)
			break;
		if (input(&er, &f) == -1)
			break;
	}
	session_wipe(&er.s);
}

/* Hand every queued frame to the other end until both are quiet. */
static void
pump(void)
{
	struct end *from;
	struct wire_frame f;
	size_t n, off;
	int round, side;

	for (round = 0; round < 16; round++) {
		if (ei.qlen == 0 && er.qlen == 0)
			return;
		for (side = 0; side < 2; side++) {
			from = side ? &er : &ei;
			n = from->qlen;
			memcpy(pumpbuf, from->q, n);
			from->qlen = 0;
			for (off = 0; off < n; off += f.frame_len) {
				FUZZ_CHECK(wire_frame_peek(&f, pumpbuf + off,
				    n - off) == 1);
				if (from->peer->s.state == SESSION_CLOSED)
					break;
				(void)input(from->peer, &f);
			}
		}
	}
	FUZZ_CHECK(ei.qlen == 0 && er.qlen == 0);
}

static void
expect_add(struct end *e, const uint8_t *p, size_t len)
{
	memcpy(e->expect[e->nexpect], p, len);
	e->expect_len[e->nexpect] = len;
	e->nexpect++;
}

/* Whatever was sealed to a live session has arrived by now. */
static void
check_arrived(void)
{
	if (er.s.state == SESSION_ESTABLISHED)
		FUZZ_CHECK(er.nexpect == 0);
	if (ei.s.state == SESSION_ESTABLISHED)
		FUZZ_CHECK(ei.nexpect == 0);
	/* A closed end gets nothing more: forget what it missed. */
	er.nexpect = er.s.state == SESSION_CLOSED ? 0 : er.nexpect;
	ei.nexpect = ei.s.state == SESSION_CLOSED ? 0 : ei.nexpect;
}

static void
op_send(struct end *from, const uint8_t *p, size_t len)
{
	struct end *to = from->peer;

	if (len == 0 || len > EXPECT_LEN || to->nexpect == EXPECT_MAX)
		return;
	if (session_send_packet(&from->s, p, len, now) == 0)
		expect_add(to, p, len);
	pump();
	check_arrived();
}

static void
op_inject(struct end *to, const uint8_t *p, size_t len)
{
	struct wire_frame f;
	int before = to->delivered;

	if (wire_frame_peek(&f, p, len) != 1)
		return;
	if (fix_mac1(&f, to == &er ? fuzz_keys()->r_pub :
	    fuzz_keys()->i_pub) == -1)
		return;
	(void)input(to, &f);
	/* Nobody but the peer can seal a DATA frame. */
	FUZZ_CHECK(to->delivered == before);
	pump();
	check_arrived();
}

static void
op_replay(unsigned idx, int flip, unsigned pos, unsigned bit)
{
	struct wire_frame f;
	struct kept *k;
	struct end *to;
	int before;

	if (nsent == 0)
		return;
	k = &sent[idx % (unsigned)nsent];
	to = k->to;
	memcpy(scratch, k->frame, k->len);
	if (flip)
		scratch[pos % k->len] ^= (uint8_t)(1u << (bit & 7));
	if (wire_frame_peek(&f, scratch, k->len) != 1)
		return;
	before = to->delivered;
	(void)input(to, &f);
	/* A frame seen before, or a copy of one with a bit changed, is
	 * never delivered (and input() saw that nothing was answered). */
	FUZZ_CHECK(to->delivered == before);
	pump();
	check_arrived();
}

static void
op_tick(unsigned secs)
{
	now += secs;
	(void)session_tick(&ei.s, now);
	(void)session_tick(&er.s, now);
	pump();
	check_arrived();
}

/* Mode 2: a live pair, then the script. */
static void
mode_script(const uint8_t *p, size_t len)
{
	size_t off = 0, n;
	int ops;

	if (!pair0.ready) {
		end_init(&ei, &er, 1);
		end_init(&er, &ei, 0);
		ei.strict = er.strict = 1;
		nsent = 0;
		FUZZ_CHECK(session_start(&ei.s, now) == 0);
		pump();
		FUZZ_CHECK(ei.s.state == SESSION_ESTABLISHED &&
		    er.s.state == SESSION_ESTABLISHED);
		FUZZ_CHECK(ei.established == 1 && er.established == 1);
		pair0.ei = ei;
		pair0.er = er;
		memcpy(pair0.sent, sent, sizeof(sent));
		pair0.nsent = nsent;
		pair0.rng_off = fuzz_rng()->off;
		pair0.now = now;
		pair0.ready = 1;
	} else {
		/* The queues are shared buffers: both are empty here, as
		 * they were when the copy was made. */
		ei = pair0.ei;
		er = pair0.er;
		memcpy(sent, pair0.sent, sizeof(sent));
		nsent = pair0.nsent;
		fuzz_rng()->off = pair0.rng_off;
		now = pair0.now;
	}

	for (ops = 0; ops < OPS_MAX && off < len; ops++) {
		uint8_t op = p[off++];

		switch (op % 7) {
		case 0:
		case 1:
			if (off >= len)
				goto out;
			n = p[off++];
			if (n > len - off)
				n = len - off;
			op_send(op % 7 == 0 ? &ei : &er, p + off, n);
			off += n;
			break;
		case 2:
		case 6:
			if (len - off < 2)
				goto out;
			n = (size_t)p[off] << 8 | p[off + 1];
			off += 2;
			if (n > len - off)
				n = len - off;
			op_inject(op % 7 == 2 ? &er : &ei, p + off, n);
			off += n;
			break;
		case 3:
			if (off >= len)
				goto out;
			op_replay(p[off], 0, 0, 0);
			off += 1;
			break;
		case 4:
			if (len - off < 4)
				goto out;
			op_replay(p[off], 1, (unsigned)p[off + 1] << 8 |
			    p[off + 2], p[off + 3]);
			off += 4;
			break;
		case 5:
			if (off >= len)
				goto out;
			op_tick(p[off++]);
			break;
		}
		if (ei.s.state == SESSION_CLOSED &&
		    er.s.state == SESSION_CLOSED)
			break;
	}
out:
	session_close(&ei.s, "fuzz done");
	session_close(&er.s, "fuzz done");
	ei.qlen = er.qlen = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_rng_reset();
	now = 1000.0;
	switch (data[0] % 3) {
	case 0:
		mode_stranger(data + 1, size - 1, 0);
		break;
	case 1:
		mode_stranger(data + 1, size - 1, 1);
		break;
	default:
		mode_script(data + 1, size - 1);
		break;
	}
	ei.qlen = er.qlen = 0;
	return 0;
}
