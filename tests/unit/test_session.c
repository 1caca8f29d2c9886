/*
 * The session state machine, two sessions joined back to back in memory:
 * each side's send callback appends to the other side's byte stream and
 * pump() feeds whole frames (as wire_frame_peek finds them) back in, so
 * the test sees exactly what a link would carry.
 *
 * What must hold: handshakes and data both ways; captured DATA frames
 * replayed are never delivered and do not hurt the live session; a
 * replayed, unknown, mis-addressed or malformed handshake gets not one
 * byte back; rekeying on a timer loses nothing; a silent peer is declared
 * dead; keys that are never renewed expire; keepalive echoes give both
 * ends the link's rtt (an older peer's empty keepalive still counts as a
 * sign of life, a truncated echo is dropped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "linkd/session.h"
#include "proto/buf.h"
#include "proto/noise.h"
#include "proto/wire.h"

#define MAX_MEMBERS 4

/* One member: its keys, and what its linkd remembers (members, newest
 * handshake timestamp per member). Several sessions may share it. */
struct node {
	uint8_t priv[32], pub[32];
	uint8_t members[MAX_MEMBERS][32];
	uint8_t last_ts[MAX_MEMBERS][WIRE_HS_PAYLOAD];
	int nmembers;
	int dh_calls, lookup_calls, ts_calls;
};

struct stream {
	uint8_t *p;
	size_t off, len, cap;
};

struct side {
	struct node *node;
	struct session s;
	struct side *peer;
	struct stream in;        /* what the peer sent us */
	struct stream *capture;  /* copy of what we send, when set */
	size_t bytes_sent;
	int frames_sent;
	int delivered;
	int established, rekeys;
	int closed;              /* session_input returned -1 */
	int check_seq;           /* packets carry a u64 sequence */
	uint64_t next_seq;
	int seq_errors;
	uint8_t last_pkt[128];
	size_t last_len;
};

static uint8_t netid[32];
static uint8_t *bigpkt;
static const uint8_t X[1] = {0x45};

static void
stream_add(struct stream *st, const uint8_t *p, size_t len)
{
	if (st->len + len > st->cap) {
		st->cap = (st->len + len) * 2;
		st->p = realloc(st->p, st->cap);
		assert_non_null(st->p);
	}
	memcpy(st->p + st->len, p, len);
	st->len += len;
}

static void
stream_free(struct stream *st)
{
	free(st->p);
	memset(st, 0, sizeof(*st));
}

static void
node_init(struct node *n)
{
	memset(n, 0, sizeof(*n));
	crypto_box_keypair(n->pub, n->priv);
}

static void
node_admit(struct node *n, const struct node *member)
{
	assert_true(n->nmembers < MAX_MEMBERS);
	memcpy(n->members[n->nmembers++], member->pub, 32);
}

static int
cb_send(void *arg, const uint8_t *frame, size_t len)
{
	struct side *sd = arg;

	stream_add(&sd->peer->in, frame, len);
	if (sd->capture)
		stream_add(sd->capture, frame, len);
	sd->bytes_sent += len;
	sd->frames_sent++;
	return 0;
}

static void
cb_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct side *sd = arg;

	sd->delivered++;
	sd->last_len = len;
	memcpy(sd->last_pkt, pkt, len < sizeof(sd->last_pkt) ? len :
	    sizeof(sd->last_pkt));
	if (sd->check_seq) {
		if (len < 8 || be64_get(pkt) != sd->next_seq)
			sd->seq_errors++;
		sd->next_seq++;
	}
}

static void
cb_established(void *arg, int rekey)
{
	struct side *sd = arg;

	sd->established++;
	if (rekey)
		sd->rekeys++;
}

static int
cb_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	struct side *sd = arg;

	sd->node->dh_calls++;
	return crypto_scalarmult(out, sd->node->priv, pub);
}

static int
member_index(const struct node *n, const uint8_t rs[32])
{
	int i;

	for (i = 0; i < n->nmembers; i++)
		if (memcmp(n->members[i], rs, 32) == 0)
			return i;
	return -1;
}

static int
cb_lookup_peer(void *arg, const uint8_t rs[NOISE_DHLEN])
{
	struct side *sd = arg;

	sd->node->lookup_calls++;
	return member_index(sd->node, rs) >= 0 ? 0 : -1;
}

static int
cb_check_ts(void *arg, const uint8_t rs[NOISE_DHLEN],
    const uint8_t ts[WIRE_HS_PAYLOAD])
{
	struct side *sd = arg;
	int i = member_index(sd->node, rs);

	sd->node->ts_calls++;
	assert_true(i >= 0);
	/* TAI64N: big-endian, label 2^62 + seconds. */
	assert_int_equal(ts[0], 0x40);
	if (memcmp(ts, sd->node->last_ts[i], WIRE_HS_PAYLOAD) <= 0)
		return -1;
	memcpy(sd->node->last_ts[i], ts, WIRE_HS_PAYLOAD);
	return 0;
}

/* rs: for the initiator, whom it thinks it dials. */
static void
side_init(struct side *sd, struct node *n, int initiator, const uint8_t *rs)
{
	struct session_cb cb = {
		.send = cb_send,
		.deliver = cb_deliver,
		.established = cb_established,
		.dh = cb_dh,
		.lookup_peer = cb_lookup_peer,
		.check_ts = cb_check_ts,
		.arg = sd,
	};
	uint8_t pro[WIRE_PROLOGUE_MAX];
	size_t plen = wire_prologue(pro, netid);

	stream_free(&sd->in);
	memset(sd, 0, sizeof(*sd));
	sd->node = n;
	assert_int_equal(session_init(&sd->s, initiator, pro, plen, n->pub,
	    rs, &cb), 0);
}

static void
side_free(struct side *sd)
{
	session_wipe(&sd->s);
	stream_free(&sd->in);
}

static void
join(struct side *a, struct side *b)
{
	a->peer = b;
	b->peer = a;
}

/* Feed every whole frame waiting for sd. Returns frames fed. */
static int
feed(struct side *sd, double now)
{
	struct wire_frame f;
	int n = 0, r;

	while (!sd->closed && sd->in.p != NULL) {
		r = wire_frame_peek(&f, sd->in.p + sd->in.off,
		    sd->in.len - sd->in.off);
		if (r == 0)
			break;
		if (r == -1) {
			sd->closed = 1;
			break;
		}
		n++;
		if (session_input(&sd->s, &f, now) == -1)
			sd->closed = 1;
		sd->in.off += f.frame_len;
	}
	if (sd->in.off == sd->in.len)
		sd->in.off = sd->in.len = 0;
	return n;
}

static void
pump(struct side *a, struct side *b, double now)
{
	int i;

	for (i = 0; i < 100; i++)
		if (feed(a, now) + feed(b, now) == 0)
			return;
	fail_msg("pump did not settle");
}

static void
handshake(struct side *a, struct side *b, double now)
{
	assert_int_equal(session_start(&a->s, now), 0);
	assert_int_equal(a->s.state, SESSION_HS_SENT);
	pump(a, b, now);
	assert_int_equal(a->s.state, SESSION_ESTABLISHED);
	assert_int_equal(b->s.state, SESSION_ESTABLISHED);
	assert_false(a->closed || b->closed);
}

/* A pair of members that know each other, A dialing B. */
static struct node na, nb, nc;
static struct side A, B, C;

static int
setup(void **state)
{
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	memset(&C, 0, sizeof(C));
	node_init(&na);
	node_init(&nb);
	node_init(&nc);
	node_admit(&na, &nb);
	node_admit(&nb, &na);
	side_init(&A, &na, 1, nb.pub);
	side_init(&B, &nb, 0, NULL);
	join(&A, &B);
	return 0;
}

static int
teardown(void **state)
{
	side_free(&A);
	side_free(&B);
	side_free(&C);
	return 0;
}

static int
group_setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(netid, sizeof(netid));
	bigpkt = malloc(WIRE_MAX_INNER);
	return bigpkt ? 0 : -1;
}

static int
group_teardown(void **state)
{
	free(bigpkt);
	return 0;
}

static void
send_ok(struct side *sd, const void *p, size_t len, double now)
{
	assert_int_equal(session_send_packet(&sd->s, p, len, now), 0);
}

static void
send_seq(struct side *sd, uint64_t seq, double now)
{
	uint8_t p[40];

	memset(p, 0x5a, sizeof(p));
	be64_put(p, seq);
	send_ok(sd, p, sizeof(p), now);
}

/* ---- tests ---- */

static void
test_handshake(void **state)
{
	handshake(&A, &B, 0);
	assert_int_equal(A.established, 1);
	assert_int_equal(B.established, 1);
	assert_int_equal(A.rekeys + B.rekeys, 0);
	/* One HS_INIT, one HS_RESP, nothing else. */
	assert_int_equal(A.frames_sent, 1);
	assert_int_equal(A.bytes_sent, 5 + NOISE_MSG1_OVERHEAD +
	    WIRE_HS_PAYLOAD + WIRE_MAC_BYTES);
	assert_int_equal(B.frames_sent, 1);
	assert_int_equal(B.bytes_sent, 5 + NOISE_MSG2_OVERHEAD +
	    WIRE_MAC_BYTES);
	/* B learnt who dialed; the static DHs went through the callback
	 * (es + ss on B, ss + se on A). */
	assert_memory_equal(B.s.rs, na.pub, 32);
	assert_int_equal(na.dh_calls, 2);
	assert_int_equal(nb.dh_calls, 2);
	assert_int_equal(nb.lookup_calls, 1);
	assert_int_equal(nb.ts_calls, 1);
	/* Matching keys, crosswise. */
	assert_memory_equal(A.s.tx.k, B.s.rx.k, NOISE_KEYLEN);
	assert_memory_equal(A.s.rx.k, B.s.tx.k, NOISE_KEYLEN);
	assert_memory_not_equal(A.s.tx.k, A.s.rx.k, NOISE_KEYLEN);
	assert_int_equal(A.s.hs_active, 0);

	/* The other way round: B dials A on a second link. */
	side_init(&C, &nb, 1, na.pub);
	{
		struct side D;

		memset(&D, 0, sizeof(D));
		side_init(&D, &na, 0, NULL);
		join(&C, &D);
		handshake(&C, &D, 1);
		assert_memory_equal(D.s.rs, nb.pub, 32);
		send_ok(&D, "ping", 4, 1);
		pump(&C, &D, 1);
		assert_int_equal(C.delivered, 1);
		side_free(&D);
	}
}

static void
test_data_both_ways(void **state)
{
	static const size_t sizes[] = {1, 10, 100, 1400, 9000,
	    65536 + 10, WIRE_MAX_INNER - 1};
	size_t i;

	handshake(&A, &B, 0);
	randombytes_buf(bigpkt, WIRE_MAX_INNER);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct side *from = (i & 1) ? &B : &A;
		struct side *to = (i & 1) ? &A : &B;
		int before = to->delivered;

		send_ok(from, bigpkt, sizes[i], 1);
		pump(&A, &B, 1);
		assert_int_equal(to->delivered, before + 1);
		assert_int_equal(to->last_len, sizes[i]);
		assert_memory_equal(to->last_pkt, bigpkt,
		    sizes[i] < 128 ? sizes[i] : 128);
	}
	/* Too big, or empty: refused, session unharmed. */
	assert_int_equal(session_send_packet(&A.s, bigpkt, WIRE_MAX_INNER,
	    1), -1);
	assert_int_equal(session_send_packet(&A.s, bigpkt, 0, 1), -1);
	assert_int_equal(A.s.state, SESSION_ESTABLISHED);
	assert_int_equal(A.s.bad_frames + B.s.bad_frames, 0);
	assert_int_equal(A.s.replays + B.s.replays, 0);
}

static void
test_send_before_established(void **state)
{
	assert_int_equal(session_send_packet(&A.s, X, 1, 0), -1);
	assert_int_equal(session_send_packet(&B.s, X, 1, 0), -1);
	assert_int_equal(session_start(&A.s, 0), 0);
	assert_int_equal(session_send_packet(&A.s, X, 1, 0), -1);
	/* Only the handshake went out. */
	assert_int_equal(A.frames_sent, 1);
	assert_int_equal(session_start(&B.s, 0), -1);
	assert_int_equal(B.frames_sent, 0);
}

static void
test_replay_data(void **state)
{
	struct stream cap;
	int i, before;
	size_t sent;

	memset(&cap, 0, sizeof(cap));
	handshake(&A, &B, 0);
	A.capture = &cap;
	for (i = 0; i < 10000; i++) {
		send_seq(&A, (uint64_t)i, 1);
		if (i % 500 == 499)
			pump(&A, &B, 1);
	}
	pump(&A, &B, 1);
	A.capture = NULL;
	assert_int_equal(B.delivered, 10000);

	/* Every captured frame again, in order. */
	before = B.delivered;
	sent = B.bytes_sent;
	stream_add(&B.in, cap.p, cap.len);
	pump(&A, &B, 2);
	assert_int_equal(B.delivered - before, 0);
	assert_int_equal(B.s.replays, 10000);
	assert_int_equal(B.bytes_sent, sent);
	assert_false(B.closed);

	/* And shuffled: still nothing. */
	{
		struct wire_frame f;
		size_t off = 0;
		int k = 0;

		while (wire_frame_peek(&f, cap.p + off, cap.len - off) == 1) {
			if (k++ % 7 == 3) {
				assert_int_equal(session_input(&B.s, &f, 2),
				    0);
			}
			off += f.frame_len;
		}
		assert_int_equal(off, cap.len);
	}
	assert_int_equal(B.delivered - before, 0);

	/* The live session still works, both ways. */
	send_ok(&A, "after", 5, 3);
	send_ok(&B, "back", 4, 3);
	pump(&A, &B, 3);
	assert_int_equal(B.delivered, before + 1);
	assert_memory_equal(B.last_pkt, "after", 5);
	assert_int_equal(A.delivered, 1);
	assert_memory_equal(A.last_pkt, "back", 4);
	stream_free(&cap);
}

static void
test_replay_hs_init(void **state)
{
	struct stream cap;
	struct side R;
	struct wire_frame f;
	size_t sent;

	memset(&cap, 0, sizeof(cap));
	memset(&R, 0, sizeof(R));
	A.capture = &cap;
	handshake(&A, &B, 0);
	A.capture = NULL;
	assert_int_equal(wire_frame_peek(&f, cap.p, cap.len), 1);
	assert_int_equal(f.type, WIRE_HS_INIT);

	/* On a new link to the same member B: no session, no answer. */
	side_init(&R, &nb, 0, NULL);
	R.peer = &A;
	assert_int_equal(session_input(&R.s, &f, 5), -1);
	assert_int_equal(R.bytes_sent, 0);
	assert_int_equal(R.established, 0);
	assert_int_equal(R.s.state, SESSION_CLOSED);
	assert_non_null(strstr(R.s.why, "replayed"));

	/* Into the established session: closed, nothing sent. */
	sent = B.bytes_sent;
	assert_int_equal(session_input(&B.s, &f, 5), -1);
	assert_int_equal(B.bytes_sent, sent);
	assert_int_equal(B.established, 1);
	assert_int_equal(B.s.state, SESSION_CLOSED);
	/* The keys are gone. */
	assert_true(sodium_is_zero(B.s.rx.k, NOISE_KEYLEN));
	assert_true(sodium_is_zero(B.s.tx.k, NOISE_KEYLEN));
	side_free(&R);
	stream_free(&cap);
}

static void
test_unknown_static(void **state)
{
	/* C is no member of B's network. */
	side_init(&C, &nc, 1, nb.pub);
	join(&C, &B);
	assert_int_equal(session_start(&C.s, 0), 0);
	pump(&C, &B, 0);
	assert_true(B.closed);
	assert_int_equal(B.bytes_sent, 0);
	assert_int_equal(B.frames_sent, 0);
	assert_int_equal(B.established, 0);
	assert_int_equal(nb.lookup_calls, 1);
	assert_int_equal(nb.ts_calls, 0);
	assert_non_null(strstr(B.s.why, "unknown static key"));
	assert_int_equal(C.s.state, SESSION_HS_SENT);
}

static void
test_bad_mac(void **state)
{
	/* A dials B's address but holds another member's key for it: the
	 * mac1 is for someone else, B must not spend a DH. */
	side_init(&A, &na, 1, nc.pub);
	join(&A, &B);
	assert_int_equal(session_start(&A.s, 0), 0);
	pump(&A, &B, 0);
	assert_true(B.closed);
	assert_int_equal(B.bytes_sent, 0);
	assert_int_equal(nb.dh_calls, 0);
	assert_int_equal(nb.lookup_calls, 0);
	assert_int_equal(B.s.bad_frames, 1);
}

static void
test_wrong_network(void **state)
{
	uint8_t other[32], pro[WIRE_PROLOGUE_MAX];
	struct session_cb cb = {
		.send = cb_send, .deliver = cb_deliver, .dh = cb_dh,
		.lookup_peer = cb_lookup_peer, .check_ts = cb_check_ts,
		.arg = &A,
	};
	size_t plen;

	memcpy(other, netid, 32);
	other[31] ^= 1;
	plen = wire_prologue(pro, other);
	assert_int_equal(plen, 11 + 32);
	assert_int_equal(session_init(&A.s, 1, pro, plen, na.pub, nb.pub,
	    &cb), 0);
	assert_int_equal(session_start(&A.s, 0), 0);
	pump(&A, &B, 0);
	assert_true(B.closed);
	assert_int_equal(B.bytes_sent, 0);
	assert_int_equal(nb.lookup_calls, 0);
}

/* Build a handshake frame with a valid mac1 for B around any bytes: what
 * an attacker who knows B's public key can send. */
static void
feed_hs(struct side *sd, uint8_t type, const uint8_t *msg, size_t len)
{
	uint8_t frame[1024];
	struct wire_frame f;
	int n;

	n = wire_hs_frame(frame, sizeof(frame), type, msg, len,
	    sd->node->pub);
	assert_true(n > 0);
	assert_int_equal(wire_frame_peek(&f, frame, n), 1);
	assert_int_equal(session_input(&sd->s, &f, 0), -1);
}

static void
test_junk(void **state)
{
	uint8_t junk[1024], good[256];
	struct wire_frame f;
	struct stream cap;
	size_t len, i;
	int round, r, frames = 0;

	/* Random bytes on fresh responder links. */
	for (round = 0; round < 2000; round++) {
		side_init(&B, &nb, 0, NULL);
		B.peer = &A;
		len = 1 + randombytes_uniform(sizeof(junk));
		randombytes_buf(junk, len);
		if (round & 1) {
			/* A plausible length and type, random rest. */
			be32_put(junk, (uint32_t)(len - 4));
			junk[4] = 1 + randombytes_uniform(3);
		}
		r = wire_frame_peek(&f, junk, len);
		if (r == 1) {
			frames++;
			assert_int_equal(session_input(&B.s, &f, 0), -1);
		}
		assert_int_equal(B.bytes_sent, 0);
		assert_int_equal(B.established, 0);
	}
	assert_true(frames > 500);
	assert_int_equal(nb.dh_calls, 0);

	/* Right mac1, wrong contents: random, truncated, oversized. */
	memset(&cap, 0, sizeof(cap));
	side_init(&B, &nb, 0, NULL);
	join(&A, &B);
	A.capture = &cap;
	assert_int_equal(session_start(&A.s, 0), 0);
	A.capture = NULL;
	assert_int_equal(wire_frame_peek(&f, cap.p, cap.len), 1);
	len = f.body_len - WIRE_MAC_BYTES;
	memcpy(good, f.body, len);
	for (i = 0; i <= len + 100; i += 7) {
		side_init(&B, &nb, 0, NULL);
		B.peer = &A;
		if (i == len)
			continue;
		memcpy(junk, good, len < i ? len : i);
		if (i > len)
			randombytes_buf(junk + len, i - len);
		feed_hs(&B, WIRE_HS_INIT, junk, i);
		assert_int_equal(B.bytes_sent, 0);
		assert_int_equal(nb.lookup_calls, 0);
	}
	for (i = 0; i < 50; i++) {
		side_init(&B, &nb, 0, NULL);
		B.peer = &A;
		memcpy(junk, good, len);
		junk[randombytes_uniform(len)] ^= 1 << randombytes_uniform(8);
		feed_hs(&B, WIRE_HS_INIT, junk, len);
		assert_int_equal(B.bytes_sent, 0);
	}
	assert_int_equal(nb.lookup_calls, 0);
	/* A responder receiving a response, or data, first. */
	side_init(&B, &nb, 0, NULL);
	B.peer = &A;
	feed_hs(&B, WIRE_HS_RESP, good, NOISE_MSG2_OVERHEAD);
	assert_int_equal(B.bytes_sent, 0);
	side_init(&B, &nb, 0, NULL);
	B.peer = &A;
	{
		uint8_t k[32], fr[128];
		int n;

		randombytes_buf(k, sizeof(k));
		n = wire_data_seal(fr, sizeof(fr), k, 0, 0, INNER_PACKET,
		    (const uint8_t *)"hi", 2);
		assert_int_equal(wire_frame_peek(&f, fr, n), 1);
		assert_int_equal(session_input(&B.s, &f, 0), -1);
		assert_int_equal(B.bytes_sent, 0);
	}
	/* Oversized: the stream parser refuses the length. */
	be32_put(junk, WIRE_MAX_BODY + 1);
	junk[4] = WIRE_DATA;
	assert_int_equal(wire_frame_peek(&f, junk, 64), -1);

	/* The real handshake still works after all that (B never learnt
	 * a timestamp from the junk). */
	side_init(&B, &nb, 0, NULL);
	join(&A, &B);
	stream_add(&B.in, cap.p, cap.len);
	pump(&A, &B, 0);
	assert_int_equal(A.s.state, SESSION_ESTABLISHED);
	assert_int_equal(B.s.state, SESSION_ESTABLISHED);
	stream_free(&cap);
}

/* Forged or damaged DATA on an established session: dropped, counted,
 * nothing sent back, the session goes on. */
static void
test_junk_established(void **state)
{
	uint8_t fr[256], k[32];
	struct wire_frame f;
	size_t sent;
	int i, n;

	handshake(&A, &B, 0);
	sent = B.bytes_sent;
	for (i = 0; i < 200; i++) {
		randombytes_buf(k, sizeof(k));
		n = wire_data_seal(fr, sizeof(fr), k, B.s.rx.epoch,
		    (uint64_t)i, INNER_PACKET, (const uint8_t *)"evil", 4);
		assert_int_equal(wire_frame_peek(&f, fr, n), 1);
		assert_int_equal(session_input(&B.s, &f, 1), 0);
		/* Too short to be DATA. */
		be32_put(fr, 1 + 8 + NOISE_TAGLEN);
		assert_int_equal(wire_frame_peek(&f, fr, n), 1);
		assert_int_equal(session_input(&B.s, &f, 1), 0);
	}
	assert_int_equal(B.s.bad_frames, 400);
	assert_int_equal(B.delivered, 0);
	assert_int_equal(B.bytes_sent, sent);
	/* The forgeries did not move the replay counter: frame 0 from A
	 * is still accepted. */
	send_ok(&A, "real", 4, 1);
	pump(&A, &B, 1);
	assert_int_equal(B.delivered, 1);
	assert_memory_equal(B.last_pkt, "real", 4);
}

static void
test_rekey_other_key(void **state)
{
	handshake(&A, &B, 0);
	/* C is a member too, but this link belongs to A. */
	node_admit(&nb, &nc);
	node_admit(&nc, &nb);
	side_init(&C, &nc, 1, nb.pub);
	C.peer = &B;
	assert_int_equal(session_start(&C.s, 1), 0);
	{
		size_t sent = B.bytes_sent;

		feed(&B, 1);
		assert_true(B.closed);
		assert_int_equal(B.bytes_sent, sent);
		assert_non_null(strstr(B.s.why, "different static key"));
	}
}

static void
test_rekey(void **state)
{
	uint64_t sa = 0, sb = 0;
	double t;
	uint8_t first_tx[32];

	A.check_seq = B.check_seq = 1;
	handshake(&A, &B, 0);
	memcpy(first_tx, A.s.tx.k, 32);
	for (t = 0.5; t <= 400; t += 0.5) {
		/* Tick first, so the data below goes out right after a
		 * rekey's HS_INIT, before either side has the new keys. */
		assert_int_equal(session_tick(&A.s, t), 0);
		assert_int_equal(session_tick(&B.s, t), 0);
		send_seq(&A, sa++, t);
		send_seq(&B, sb++, t);
		send_seq(&A, sa++, t);
		/* Let some frames sit across steps now and then. */
		if ((int)(t * 2) % 3 != 0)
			pump(&A, &B, t);
		assert_false(A.closed || B.closed);
	}
	pump(&A, &B, t);
	assert_int_equal(A.seq_errors + B.seq_errors, 0);
	assert_int_equal(B.delivered, sa);
	assert_int_equal(A.delivered, sb);
	/* 400 s / 120 s: three rekeys, seen by both sides. */
	assert_int_equal(A.rekeys, 3);
	assert_int_equal(B.rekeys, 3);
	assert_int_equal(A.s.tx.epoch, 3);
	assert_int_equal(B.s.rx.epoch, 3);
	assert_memory_not_equal(first_tx, A.s.tx.k, 32);
	assert_memory_equal(A.s.tx.k, B.s.rx.k, 32);
	/* Old receive keys gone once the new ones were used. */
	assert_false(A.s.rx_prev.valid);
	assert_false(B.s.rx_prev.valid);
	assert_int_equal(A.s.replays + B.s.replays, 0);
	assert_int_equal(A.s.bad_frames + B.s.bad_frames, 0);
}

/* Sending alone (no tick) also triggers the rekey. */
static void
test_rekey_on_send(void **state)
{
	handshake(&A, &B, 0);
	send_ok(&A, "a", 1, SESSION_REKEY_AFTER_TIME - 1);
	assert_int_equal(A.s.hs_active, 0);
	send_ok(&A, "b", 1, SESSION_REKEY_AFTER_TIME);
	assert_int_equal(A.s.hs_active, 1);
	/* Data sealed before the answer, then the answer. */
	send_ok(&A, "c", 1, SESSION_REKEY_AFTER_TIME);
	pump(&A, &B, SESSION_REKEY_AFTER_TIME);
	assert_int_equal(B.delivered, 3);
	assert_int_equal(A.rekeys, 1);
	assert_int_equal(B.rekeys, 1);
	send_ok(&A, "d", 1, SESSION_REKEY_AFTER_TIME + 1);
	send_ok(&B, "e", 1, SESSION_REKEY_AFTER_TIME + 1);
	pump(&A, &B, SESSION_REKEY_AFTER_TIME + 1);
	assert_int_equal(B.delivered, 4);
	assert_int_equal(A.delivered, 1);
}

/* The message count rekeys too (2^60 frames cannot be sent in a test:
 * the counters are set near the mark), whichever side's frames reach
 * it; past SESSION_REJECT_AFTER_MSGS the keys are not used at all. */
static void
test_rekey_after_msgs(void **state)
{
	handshake(&A, &B, 0);
	A.s.tx.counter = SESSION_REKEY_AFTER_MSGS - 1;
	send_ok(&A, "a", 1, 1);
	assert_int_equal(A.s.hs_active, 0);
	send_ok(&A, "b", 1, 1);
	assert_int_equal(A.s.hs_active, 1);
	pump(&A, &B, 1);
	assert_int_equal(B.delivered, 2);
	assert_int_equal(A.rekeys, 1);
	assert_int_equal(B.rekeys, 1);
	assert_true(A.s.tx.counter < 8);
	/* The responder's frames numbered past the mark: the initiator
	 * starts the rekey (only an initiator does). */
	B.s.tx.counter = SESSION_REKEY_AFTER_MSGS;
	send_ok(&B, "c", 1, 2);
	pump(&A, &B, 2);
	assert_int_equal(A.delivered, 1);
	assert_int_equal(B.s.hs_active, 0);
	send_ok(&A, "d", 1, 2);
	assert_int_equal(A.s.hs_active, 1);
	pump(&A, &B, 2);
	assert_int_equal(B.delivered, 3);
	assert_int_equal(A.rekeys, 2);
	assert_int_equal(B.rekeys, 2);
	/* Keys used up without a rekey: nothing more is sealed. */
	A.s.tx.counter = SESSION_REJECT_AFTER_MSGS;
	assert_int_equal(session_send_packet(&A.s, X, 1, 3), -1);
	assert_int_equal(A.s.state, SESSION_CLOSED);
	assert_non_null(strstr(A.s.why, "expired"));
}

/* A peer that never rekeys: the keys stop working after
 * SESSION_REJECT_AFTER_TIME on both ends. */
static void
test_reject_after_time(void **state)
{
	double t;

	handshake(&A, &B, 0);
	/* Make A behave like a peer that never starts a rekey. */
	A.s.initiator = 0;
	for (t = 1; t < SESSION_REJECT_AFTER_TIME; t += 1) {
		assert_int_equal(session_tick(&A.s, t), 0);
		assert_int_equal(session_tick(&B.s, t), 0);
		pump(&A, &B, t);
	}
	send_ok(&A, "x", 1, t - 0.5);
	pump(&A, &B, t - 0.5);
	assert_int_equal(B.delivered, 1);
	assert_int_equal(session_tick(&B.s, t), -1);
	assert_non_null(strstr(B.s.why, "expired"));
	assert_int_equal(session_send_packet(&A.s, X, 1, t), -1);
	assert_int_equal(A.s.state, SESSION_CLOSED);
}

static void
test_keepalive_and_dead_peer(void **state)
{
	double t, last;
	int frames;

	handshake(&A, &B, 0);
	/* Idle but alive: keepalives keep both ends up. */
	for (t = 1; t <= 100; t += 1) {
		assert_int_equal(session_tick(&A.s, t), 0);
		assert_int_equal(session_tick(&B.s, t), 0);
		pump(&A, &B, t);
	}
	assert_true(A.frames_sent >= 100 / SESSION_KEEPALIVE);
	assert_true(B.frames_sent >= 100 / SESSION_KEEPALIVE);
	assert_int_equal(A.delivered + B.delivered, 0);

	/* B goes silent at t = 100 (its last frame came at the last
	 * probe or answer, within SESSION_KEEPALIVE before). */
	last = A.s.t_last_recv;
	assert_true(last > 100 - SESSION_KEEPALIVE - 1);
	frames = A.frames_sent;
	for (t = 101; t < last + SESSION_DEAD_AFTER; t += 1)
		assert_int_equal(session_tick(&A.s, t), 0);
	/* A kept sending keepalives meanwhile. */
	assert_true(A.frames_sent > frames);
	assert_int_equal(session_tick(&A.s, last + SESSION_DEAD_AFTER), -1);
	assert_non_null(strstr(A.s.why, "dead"));
	assert_int_equal(A.s.state, SESSION_CLOSED);
	assert_true(sodium_is_zero(A.s.tx.k, 32));
	assert_int_equal(session_tick(&A.s, 200), -1);
}

/* Both ends measure: each probes at its first tick, the other answers at
 * once; the frames take 20 ms each way. */
static void
test_rtt_both_ends(void **state)
{
	double t;
	int i;

	handshake(&A, &B, 0);
	assert_int_equal(session_tick(&A.s, 1.0), 0);     /* A probes */
	assert_int_equal(feed(&B, 1.02), 1);              /* B answers */
	assert_int_equal(feed(&A, 1.04), 1);
	assert_int_equal(session_tick(&B.s, 1.5), 0);     /* B probes */
	assert_int_equal(feed(&A, 1.52), 1);
	assert_int_equal(feed(&B, 1.54), 1);
	for (i = 0; i < 2; i++) {
		struct side *sd = i ? &B : &A;
		uint32_t r = rtt_est_get(&sd->s.rtt.est, 2.0);

		assert_in_range(r, 39990, 40010);
	}
	/* Busy: packets every second, so no keepalive would be due; the
	 * probes still go out and echoes still come back (the rtt may
	 * only be what was measured). */
	for (t = 2; t <= 30; t += 1) {
		send_ok(&A, X, 1, t);
		send_ok(&B, X, 1, t);
		assert_int_equal(session_tick(&A.s, t), 0);
		assert_int_equal(session_tick(&B.s, t), 0);
		pump(&A, &B, t);
	}
	assert_true(A.s.rtt.samples >= 5);
	assert_true(B.s.rtt.samples >= 5);
	/* pump delivers at once: those samples were ~0, kept as 1 us */
	assert_int_equal(rtt_est_get(&A.s.rtt.est, 30), 1);
	assert_false(A.closed || B.closed);
}

/* Seal one keepalive payload from sd as its session would. */
static void
raw_keepalive(struct side *sd, const uint8_t *p, size_t len)
{
	uint8_t f[WIRE_DATA_HDR + 1 + 64 + NOISE_TAGLEN];
	int n;

	n = wire_data_seal(f, sizeof(f), sd->s.tx.k, sd->s.tx.epoch,
	    sd->s.tx.counter++, INNER_KEEPALIVE, p, len);
	assert_true(n > 0);
	stream_add(&sd->peer->in, f, (size_t)n);
}

static void
test_keepalive_old_and_short(void **state)
{
	uint8_t p[WIRE_KA_BYTES + 8];
	uint64_t bad;

	memset(p, 0, sizeof(p));
	handshake(&A, &B, 0);
	bad = B.s.bad_frames;
	/* An older peer's empty keepalive: a sign of life, no sample. */
	raw_keepalive(&A, NULL, 0);
	assert_int_equal(feed(&B, 10), 1);
	assert_false(B.closed);
	assert_true(B.s.t_last_recv == 10);
	assert_int_equal(B.s.bad_frames, bad);
	assert_int_equal(B.s.rtt.samples, 0);
	/* Too short to be an echo: dropped, counted, link kept. */
	raw_keepalive(&A, p, WIRE_KA_BYTES - 1);
	assert_int_equal(feed(&B, 11), 1);
	assert_false(B.closed);
	assert_int_equal(B.s.bad_frames, bad + 1);
	/* Longer (a newer version's): the known part is read. */
	be64_put(p + 1, 12345);
	raw_keepalive(&A, p, sizeof(p));
	assert_int_equal(feed(&B, 12), 1);
	assert_false(B.closed);
	assert_int_equal(B.s.bad_frames, bad + 1);
	assert_true(B.s.rtt.peer_ts == 12345);
}

static void
test_hs_timeout(void **state)
{
	assert_int_equal(session_start(&A.s, 0), 0);
	assert_int_equal(session_tick(&A.s, SESSION_HS_TIMEOUT - 0.1), 0);
	assert_int_equal(session_tick(&A.s, SESSION_HS_TIMEOUT), -1);
	assert_non_null(strstr(A.s.why, "timed out"));
	/* A responder that hears nothing gives up too. */
	assert_int_equal(session_tick(&B.s, 50), 0);
	assert_int_equal(session_tick(&B.s, 50 + SESSION_HS_TIMEOUT - 1), 0);
	assert_int_equal(session_tick(&B.s, 50 + SESSION_HS_TIMEOUT), -1);
	assert_int_equal(B.bytes_sent, 0);
}

static void
test_close(void **state)
{
	handshake(&A, &B, 0);
	send_ok(&A, "last", 4, 1);
	session_close(&A.s, "shutting down");
	assert_int_equal(A.s.state, SESSION_CLOSED);
	assert_string_equal(A.s.why, "shutting down");
	assert_true(sodium_is_zero(A.s.tx.k, 32));
	assert_int_equal(session_send_packet(&A.s, X, 1, 1), -1);
	feed(&B, 1);
	assert_int_equal(B.delivered, 1);
	assert_true(B.closed);
	assert_non_null(strstr(B.s.why, "peer closed"));
	assert_int_equal(B.s.state, SESSION_CLOSED);
}

static void
test_bad_params(void **state)
{
	struct session s;
	struct session_cb cb = {.send = cb_send, .dh = cb_dh, .arg = &A};
	uint8_t pro[WIRE_PROLOGUE_MAX + 1] = {0};

	/* Responder without member checks: refused, fail closed. */
	assert_int_equal(session_init(&s, 0, NULL, 0, nb.pub, NULL, &cb), -1);
	assert_int_equal(session_init(&s, 1, NULL, 0, na.pub, NULL, &cb), -1);
	assert_int_equal(session_init(&s, 1, pro, sizeof(pro), na.pub, nb.pub,
	    &cb), -1);
	assert_int_equal(session_init(&s, 1, pro, 8, na.pub, nb.pub, &cb), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handshake),
		T(test_data_both_ways),
		T(test_send_before_established),
		T(test_replay_data),
		T(test_replay_hs_init),
		T(test_unknown_static),
		T(test_bad_mac),
		T(test_wrong_network),
		T(test_junk),
		T(test_junk_established),
		T(test_rekey_other_key),
		T(test_rekey),
		T(test_rekey_on_send),
		T(test_rekey_after_msgs),
		T(test_reject_after_time),
		T(test_keepalive_and_dead_peer),
		T(test_rtt_both_ends),
		T(test_keepalive_old_and_short),
		T(test_hs_timeout),
		T(test_close),
		T(test_bad_params),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
