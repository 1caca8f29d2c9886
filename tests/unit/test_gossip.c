/*
 * Unit tests for the pure part of keyd/gossip.c: which objects a digest
 * makes us send and which we want (also when the digest comes in
 * chunks), the digest and want payloads, and when our own links are
 * worth a new announcement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyd/keyd.h"

static struct gossip_obj
obj(uint8_t kind, uint8_t tag, uint64_t serial)
{
	struct gossip_obj o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	memset(o.id, tag, sizeof(o.id));
	o.serial = serial;
	return o;
}

static int
has(const struct gossip_obj *v, size_t n, uint8_t kind, uint8_t tag)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].kind == kind && v[i].id[0] == tag)
			return 1;
	return 0;
}

static void
test_diff(void **state)
{
	struct gossip_obj ours[4], theirs[5], send[4], want[5];
	size_t ns, nw;

	ours[0] = obj(GOSSIP_EDGES, 0xa0, 5);     /* they lack it */
	ours[1] = obj(GOSSIP_RECORD, 0xa0, 1);    /* same */
	ours[2] = obj(GOSSIP_RECORD, 0xb0, 2);    /* theirs is newer */
	ours[3] = obj(GOSSIP_EDGES, 0xc0, 9);     /* ours is newer */
	theirs[0] = obj(GOSSIP_RECORD, 0xa0, 1);
	theirs[1] = obj(GOSSIP_RECORD, 0xb0, 3);
	theirs[2] = obj(GOSSIP_RECORD, 0xc0, 1);  /* we lack it */
	theirs[3] = obj(GOSSIP_EDGES, 0xb0, 1);   /* we lack it */
	theirs[4] = obj(GOSSIP_EDGES, 0xc0, 8);
	gossip_objs_sort(ours, 4);
	gossip_objs_sort(theirs, 5);
	/* records sort before edges */
	assert_int_equal(ours[0].kind, GOSSIP_RECORD);
	assert_int_equal(ours[1].kind, GOSSIP_RECORD);
	assert_int_equal(ours[3].kind, GOSSIP_EDGES);

	gossip_diff(ours, 4, theirs, 5, NULL, NULL, send, &ns, want, &nw);
	assert_int_equal(ns, 2);
	assert_true(has(send, ns, GOSSIP_EDGES, 0xa0));
	assert_true(has(send, ns, GOSSIP_EDGES, 0xc0));
	assert_int_equal(nw, 3);
	assert_true(has(want, nw, GOSSIP_RECORD, 0xb0));
	assert_true(has(want, nw, GOSSIP_RECORD, 0xc0));
	assert_true(has(want, nw, GOSSIP_EDGES, 0xb0));
	/* answers keep the order: records first */
	assert_int_equal(want[0].kind, GOSSIP_RECORD);
	assert_int_equal(want[2].kind, GOSSIP_EDGES);

	/* the same sets: nothing either way; an empty side: everything */
	gossip_diff(ours, 4, ours, 4, NULL, NULL, send, &ns, want, &nw);
	assert_int_equal(ns + nw, 0);
	gossip_diff(ours, 4, theirs, 0, NULL, NULL, send, &ns, want, &nw);
	assert_int_equal(ns, 4);
	assert_int_equal(nw, 0);
	gossip_diff(ours, 0, theirs, 5, NULL, NULL, send, &ns, want, &nw);
	assert_int_equal(ns, 0);
	assert_int_equal(nw, 5);
}

static void
test_diff_range(void **state)
{
	struct gossip_obj ours[3], theirs[1], send[3], want[1], lo, hi;
	size_t ns, nw;

	ours[0] = obj(GOSSIP_RECORD, 0x10, 1);
	ours[1] = obj(GOSSIP_RECORD, 0x20, 1);
	ours[2] = obj(GOSSIP_RECORD, 0x30, 1);
	theirs[0] = obj(GOSSIP_RECORD, 0x20, 1);
	/* a chunk covering (0x10, 0x20]: 0x10 and 0x30 are not its to
	 * judge */
	lo = obj(GOSSIP_RECORD, 0x10, 0);
	hi = theirs[0];
	gossip_diff(ours, 3, theirs, 1, &lo, &hi, send, &ns, want, &nw);
	assert_int_equal(ns + nw, 0);
	/* the last chunk (no upper bound) judges 0x30 */
	gossip_diff(ours, 3, theirs, 1, &lo, NULL, send, &ns, want, &nw);
	assert_int_equal(ns, 1);
	assert_true(has(send, ns, GOSSIP_RECORD, 0x30));
	/* the first chunk (no lower bound) judges 0x10 */
	gossip_diff(ours, 3, theirs, 1, NULL, &hi, send, &ns, want, &nw);
	assert_int_equal(ns, 1);
	assert_true(has(send, ns, GOSSIP_RECORD, 0x10));
}

/*
 * A digest of thousands of objects goes in chunks; the receiver judges
 * each chunk over its own range (as gossip.c's digest handler does).
 * Together the chunks must ask for and send exactly what one whole
 * digest would, nothing twice.
 */
static void
test_chunked_digest(void **state)
{
	enum { NT = 2 * GOSSIP_DIGEST_MAX + 37, NO = 3000 };
	struct gossip_obj *theirs, *ours, *chunk, *send, *want, last;
	struct gossip_obj *all_send, *all_want, *lo;
	static uint8_t pl[GOSSIP_MAX_PAYLOAD];
	size_t i, off = 0, c, len, ns, nw, tns = 0, tnw = 0, ens, enw;
	int cnt, cont = 0, chunks = 0;

	theirs = calloc(NT, sizeof(*theirs));
	ours = calloc(NO, sizeof(*ours));
	chunk = calloc(GOSSIP_DIGEST_MAX, sizeof(*chunk));
	send = calloc(NO, sizeof(*send));
	want = calloc(NT, sizeof(*want));
	all_send = calloc(NO, sizeof(*all_send));
	all_want = calloc(NT, sizeof(*all_want));
	assert_non_null(all_want);
	/* ids i*2 on their side, i*3 on ours; serials differ now and then */
	for (i = 0; i < NT; i++) {
		theirs[i] = obj(i % 2 ? GOSSIP_EDGES : GOSSIP_RECORD, 0, 1 +
		    i % 3);
		theirs[i].id[0] = (uint8_t)(i * 2 >> 8);
		theirs[i].id[1] = (uint8_t)(i * 2);
	}
	for (i = 0; i < NO; i++) {
		ours[i] = obj(i % 2 ? GOSSIP_EDGES : GOSSIP_RECORD, 0, 2);
		ours[i].id[0] = (uint8_t)(i * 3 >> 8);
		ours[i].id[1] = (uint8_t)(i * 3);
	}
	gossip_objs_sort(theirs, NT);
	gossip_objs_sort(ours, NO);
	/* the whole digest at once */
	gossip_diff(ours, NO, theirs, NT, NULL, NULL, all_send, &ens,
	    all_want, &enw);
	assert_true(ens > 0 && enw > 0);

	do {
		c = gossip_digest_encode(pl, &len, theirs + off, NT - off);
		assert_true(len <= GOSSIP_MAX_PAYLOAD);
		off += c;
		chunks++;
		cnt = gossip_digest_decode(pl, len, chunk, GOSSIP_DIGEST_MAX);
		assert_int_equal(cnt, (int)c);
		lo = cont ? &last : NULL;
		gossip_diff(ours, NO, chunk, (size_t)cnt, lo,
		    cnt == GOSSIP_DIGEST_MAX ? &chunk[cnt - 1] : NULL, send,
		    &ns, want, &nw);
		for (i = 0; i < ns; i++)
			assert_int_equal(gossip_obj_cmp(&send[i],
			    &all_send[tns + i]), 0);
		for (i = 0; i < nw; i++)
			assert_int_equal(gossip_obj_cmp(&want[i],
			    &all_want[tnw + i]), 0);
		tns += ns;
		tnw += nw;
		cont = cnt == GOSSIP_DIGEST_MAX;
		if (cont)
			last = chunk[cnt - 1];
	} while (c == GOSSIP_DIGEST_MAX);
	assert_int_equal(chunks, 3);
	assert_int_equal(tns, ens);
	assert_int_equal(tnw, enw);

	/* exactly two full chunks: an empty third says "no more" */
	off = 0;
	chunks = 0;
	do {
		c = gossip_digest_encode(pl, &len, theirs + off,
		    2 * GOSSIP_DIGEST_MAX - off);
		off += c;
		chunks++;
	} while (c == GOSSIP_DIGEST_MAX);
	assert_int_equal(chunks, 3);
	assert_int_equal(c, 0);
	assert_int_equal(len, 3);
	free(theirs);
	free(ours);
	free(chunk);
	free(send);
	free(want);
	free(all_send);
	free(all_want);
}

static void
test_codecs(void **state)
{
	static uint8_t pl[GOSSIP_MAX_PAYLOAD + 8];
	struct gossip_obj v[3], d[3];
	size_t len, k;

	v[0] = obj(GOSSIP_RECORD, 1, 7);
	v[1] = obj(GOSSIP_EDGES, 2, UINT64_MAX);
	v[2] = obj(GOSSIP_EDGES, 3, 0);
	assert_int_equal(gossip_digest_encode(pl, &len, v, 3), 3);
	assert_int_equal(len, 3 + 3 * GOSSIP_DIGEST_ENTRY);
	assert_int_equal(pl[0], GOSSIP_DIGEST);
	assert_int_equal(gossip_digest_decode(pl, len, d, 3), 3);
	assert_memory_equal(d, v, sizeof(v));
	/* every truncation, a trailing byte, too small a cap, the wrong
	 * type, an unknown kind */
	for (k = 0; k < len; k++)
		assert_int_equal(gossip_digest_decode(pl, k, d, 3), -1);
	pl[len] = 0;
	assert_int_equal(gossip_digest_decode(pl, len + 1, d, 3), -1);
	assert_int_equal(gossip_digest_decode(pl, len, d, 2), -1);
	assert_int_equal(gossip_want_decode(pl, len, d, 3), -1);
	pl[3] = 3;
	assert_int_equal(gossip_digest_decode(pl, len, d, 3), -1);
	pl[3] = 0;
	assert_int_equal(gossip_digest_decode(pl, len, d, 3), -1);

	/* want: kind and id, no serial */
	assert_int_equal(gossip_want_encode(pl, &len, v, 3), 3);
	assert_int_equal(len, 3 + 3 * GOSSIP_WANT_ENTRY);
	assert_int_equal(pl[0], GOSSIP_WANT);
	memset(d, 0xee, sizeof(d));
	assert_int_equal(gossip_want_decode(pl, len, d, 3), 3);
	assert_int_equal(d[1].kind, GOSSIP_EDGES);
	assert_int_equal(d[1].id[0], 2);
	assert_int_equal(d[1].serial, 0);
	for (k = 0; k < len; k++)
		assert_int_equal(gossip_want_decode(pl, k, d, 3), -1);
	/* an empty list is fine */
	assert_int_equal(gossip_want_encode(pl, &len, v, 0), 0);
	assert_int_equal(gossip_want_decode(pl, len, d, 3), 0);

	/* the largest lists fit one payload */
	{
		struct gossip_obj *big = calloc(GOSSIP_WANT_MAX + 5,
		    sizeof(*big));

		assert_non_null(big);
		for (k = 0; k < GOSSIP_WANT_MAX + 5; k++)
			big[k] = obj(GOSSIP_RECORD, (uint8_t)k, k);
		assert_int_equal(gossip_digest_encode(pl, &len, big,
		    GOSSIP_WANT_MAX + 5), GOSSIP_DIGEST_MAX);
		assert_true(len <= GOSSIP_MAX_PAYLOAD);
		assert_int_equal(gossip_want_encode(pl, &len, big,
		    GOSSIP_WANT_MAX + 5), GOSSIP_WANT_MAX);
		assert_true(len <= GOSSIP_MAX_PAYLOAD);
		assert_true(len + GOSSIP_WANT_ENTRY > GOSSIP_MAX_PAYLOAD);
		free(big);
	}
}

static void
test_edges_differ(void **state)
{
	static struct edges held;
	struct edges_peer now[3];

	memset(&held, 0, sizeof(held));
	held.npeers = 2;
	memset(held.peers[0].id, 1, MEMBER_ID_BYTES);
	memset(held.peers[1].id, 2, MEMBER_ID_BYTES);
	held.peers[0].rtt_us = 20000;
	held.peers[1].rtt_us = 300;
	memcpy(now, held.peers, 2 * sizeof(now[0]));

	assert_true(gossip_edges_differ(NULL, now, 2));
	assert_false(gossip_edges_differ(&held, now, 2));
	/* jitter: not worth flooding the network */
	now[0].rtt_us = 23000;        /* +15 % */
	now[1].rtt_us = 1200;         /* x4, but under 1 ms */
	assert_false(gossip_edges_differ(&held, now, 2));
	/* a real move */
	now[0].rtt_us = 30000;
	assert_true(gossip_edges_differ(&held, now, 2));
	now[0].rtt_us = 20000;
	now[1].rtt_us = 2000;
	assert_true(gossip_edges_differ(&held, now, 2));
	/* measured <-> unknown */
	now[1].rtt_us = 0;
	assert_true(gossip_edges_differ(&held, now, 2));
	now[1].rtt_us = 300;
	/* a link came or went, or another member */
	assert_true(gossip_edges_differ(&held, now, 1));
	memset(now[2].id, 3, MEMBER_ID_BYTES);
	assert_true(gossip_edges_differ(&held, now, 3));
	memset(now[1].id, 4, MEMBER_ID_BYTES);
	assert_true(gossip_edges_differ(&held, now, 2));
}

/* Rates, as keyd announces them (edges_rate_bucket), re-announce only
 * when they moved two powers of two (x4) from what was announced. */
static void
test_edges_differ_rate(void **state)
{
	static struct edges held;
	struct edges_peer now[2];

	memset(&held, 0, sizeof(held));
	held.npeers = 2;
	memset(held.peers[0].id, 1, MEMBER_ID_BYTES);
	memset(held.peers[1].id, 2, MEMBER_ID_BYTES);
	held.peers[0].rtt_us = 20000;
	held.peers[0].rate_kbps = 1024;
	held.peers[1].rtt_us = 300;
	held.peers[1].rate_kbps = 0;    /* idle or not measured */
	memcpy(now, held.peers, sizeof(now));
	assert_false(gossip_edges_differ(&held, now, 2));

	/* steady traffic wobbling across one bucket boundary, either way */
	now[0].rate_kbps = edges_rate_bucket(2047);
	assert_false(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = edges_rate_bucket(2100);   /* 2048: one step */
	assert_false(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = edges_rate_bucket(1000);   /* 512: one step */
	assert_false(gossip_edges_differ(&held, now, 2));
	/* x4 up or down: two steps */
	now[0].rate_kbps = edges_rate_bucket(4096);
	assert_true(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = edges_rate_bucket(5000);
	assert_true(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = edges_rate_bucket(256);
	assert_true(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = 1024;
	/* from nothing: a trickle (keepalives) is not news, traffic is */
	now[1].rate_kbps = 1;
	assert_false(gossip_edges_differ(&held, now, 2));
	now[1].rate_kbps = 2;
	assert_true(gossip_edges_differ(&held, now, 2));
	now[1].rate_kbps = 0;
	/* the far ends of the range do not wrap */
	held.peers[0].rate_kbps = 0x80000000u;
	now[0].rate_kbps = 0x40000000u;
	assert_false(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = 0x20000000u;
	assert_true(gossip_edges_differ(&held, now, 2));
	now[0].rate_kbps = 0;
	assert_true(gossip_edges_differ(&held, now, 2));
}

/* A member that keeps asking gets at most its budget: two whole
 * exchanges at once, then one inventory per 30 s; a quiet one is full
 * again. */
/* Our own announcement echoed back by a peer is not one to go above;
 * a copy from before a restart (a higher serial) is. */
static void
test_own_copy(void **state)
{
	assert_int_equal(gossip_own_copy_newer(1000, 1000), 0);
	assert_int_equal(gossip_own_copy_newer(999, 1000), 0);
	assert_int_equal(gossip_own_copy_newer(1001, 1000), 1);
	/* a restarted keyd holds no serial yet */
	assert_int_equal(gossip_own_copy_newer(1, 0), 1);
	assert_int_equal(gossip_own_copy_newer(0, 0), 0);
}

static void
test_answer_budget(void **state)
{
	struct gossip_peer gp;
	int i, sent;

	(void)state;
	memset(&gp, 0, sizeof(gp));
	/* 1000 objects held: 2000 at once, then 1000 / 30 a second */
	for (sent = 0, i = 0; i < 5000; i++)
		sent += gossip_answer_take(&gp, 1000, 100.0);
	assert_int_equal(sent, 2000);
	for (sent = 0, i = 0; i < 5000; i++)
		sent += gossip_answer_take(&gp, 1000, 103.0);
	assert_int_equal(sent, 100);            /* 3 s x 33.3 */
	for (sent = 0, i = 0; i < 5000; i++)
		sent += gossip_answer_take(&gp, 1000, 1000.0);
	assert_int_equal(sent, 2000);           /* refilled, capped */
	/* a small network still gets GOSSIP_ANSWER_MIN (64), 16 a second */
	memset(&gp, 0, sizeof(gp));
	for (sent = 0, i = 0; i < 500; i++)
		sent += gossip_answer_take(&gp, 3, 5.0);
	assert_int_equal(sent, 64);
	for (sent = 0, i = 0; i < 500; i++)
		sent += gossip_answer_take(&gp, 3, 6.0);
	assert_int_equal(sent, 16);
	/* a clock that goes back adds nothing */
	for (sent = 0, i = 0; i < 500; i++)
		sent += gossip_answer_take(&gp, 3, 2.0);
	assert_int_equal(sent, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_range),
		cmocka_unit_test(test_chunked_digest),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_edges_differ),
		cmocka_unit_test(test_edges_differ_rate),
		cmocka_unit_test(test_answer_budget),
		cmocka_unit_test(test_own_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
