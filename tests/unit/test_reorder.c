/*
 * The reorder buffer (linkd/reorder.c): in-order packets pass at once
 * and release what waited behind them; late ones and copies are dropped
 * and told apart; a gap is skipped after the timeout (measured from the
 * oldest held arrival), when the byte bound or the slot bound would be
 * passed, or on flush; numbers wrap around 2^64; a far jump starts an
 * epoch; the timeout follows the delay spread within its bounds, and
 * grows when packets arrive after their gap was given up (once per
 * episode), and comes back down without such arrivals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/reorder.h"

/* What the buffer handed on, in order. */
struct out {
	uint64_t seq[4096];
	size_t len[4096];
	size_t n;
	int bad;          /* content did not match its number */
};

static void
collect(void *ctx, uint64_t seq, const uint8_t *p, size_t len)
{
	struct out *o = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)seq)
			o->bad = 1;
	if (o->n < 4096) {
		o->seq[o->n] = seq;
		o->len[o->n] = len;
	}
	o->n++;
}

static uint8_t pkt[2000];

static enum reorder_verdict
push(struct reorder *r, uint64_t seq, size_t len, double now)
{
	memset(pkt, (uint8_t)seq, len);
	return reorder_push(r, seq, pkt, len, now);
}

static void
setup(struct reorder *r, struct out *o, size_t nslots, size_t bytes)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(reorder_init(r, nslots, bytes, collect, o), 0);
}

/* The buffer most tests use: 16 slots, 10000 bytes. */
static struct {
	struct reorder r;
	struct out o;
} fix;

static int
fix_setup(void **state)
{
	setup(&fix.r, &fix.o, 16, 10000);
	return 0;
}

static int
fix_teardown(void **state)
{
	reorder_free(&fix.r);
	return 0;
}

static void
test_init(void **state)
{
	struct reorder r;
	struct out o;

	assert_int_equal(reorder_init(&r, 3, 100, collect, &o), -1);
	assert_int_equal(reorder_init(&r, 1, 100, collect, &o), -1);
	assert_int_equal(reorder_init(&r, 4, 0, collect, &o), -1);
	assert_int_equal(reorder_init(&r, 4, 100, NULL, &o), -1);
	assert_true(reorder_deadline(&r) < 0);
}

static void
test_in_order(void **state)
{
	struct reorder r;
	struct out o;
	uint64_t i;

	setup(&r, &o, 16, 10000);
	/* Whatever the first number, in order passes at once. */
	for (i = 1000; i < 1100; i++) {
		assert_int_equal(push(&r, i, 100, 0), REORDER_DELIVERED);
		assert_int_equal(o.n, i - 1000 + 1);
		assert_int_equal(o.seq[o.n - 1], i);
	}
	assert_int_equal(r.st.held, 0);
	assert_int_equal(r.st.bytes, 0);
	assert_int_equal(r.st.delivered, 100);
	assert_false(o.bad);
	reorder_free(&r);
}

static void
test_reordered(void **state)
{
	struct reorder *r = &fix.r;
	struct out *o = &fix.o;

	assert_int_equal(push(r, 0, 10, 0), REORDER_DELIVERED);
	assert_int_equal(push(r, 3, 10, 0.001), REORDER_HELD);
	assert_int_equal(push(r, 2, 20, 0.002), REORDER_HELD);
	assert_int_equal(o->n, 1);
	assert_int_equal(r->st.held_now, 2);
	assert_int_equal(r->st.bytes, 30);
	/* The deadline runs from the oldest arrival. */
	assert_true(reorder_deadline(r) == 0.001 + REORDER_T_DEFAULT);
	/* 1 fills the gap: 1, 2, 3 in order. */
	assert_int_equal(push(r, 1, 10, 0.003), REORDER_DELIVERED);
	assert_int_equal(o->n, 4);
	assert_int_equal(o->seq[1], 1);
	assert_int_equal(o->seq[2], 2);
	assert_int_equal(o->len[2], 20);
	assert_int_equal(o->seq[3], 3);
	assert_int_equal(r->st.held_now, 0);
	assert_int_equal(r->st.bytes, 0);
	assert_int_equal(r->st.held, 2);
	assert_true(reorder_deadline(r) < 0);
	/* Partial release: 5 waits for 4 after 6 came. */
	assert_int_equal(push(r, 6, 10, 1.0), REORDER_HELD);
	assert_int_equal(push(r, 5, 10, 1.1), REORDER_HELD);
	assert_int_equal(push(r, 4, 10, 1.2), REORDER_DELIVERED);
	assert_int_equal(o->n, 7);
	assert_int_equal(o->seq[6], 6);
	assert_false(o->bad);
}

static void
test_late_duplicate(void **state)
{
	struct reorder *r = &fix.r;
	struct out *o = &fix.o;

	assert_int_equal(push(r, 10, 10, 0), REORDER_DELIVERED);
	assert_int_equal(push(r, 10, 10, 0), REORDER_DUPLICATE);
	assert_int_equal(push(r, 12, 10, 0), REORDER_HELD);
	assert_int_equal(push(r, 12, 10, 0), REORDER_DUPLICATE);
	assert_int_equal(r->st.duplicates, 2);
	/* Timeout: 11 skipped, 12 handed on; 11 then is late. */
	reorder_tick(r, REORDER_T_DEFAULT);
	assert_int_equal(o->n, 2);
	assert_int_equal(r->st.skipped, 1);
	assert_int_equal(push(r, 11, 10, 1), REORDER_LATE);
	assert_int_equal(push(r, 12, 10, 1), REORDER_DUPLICATE);
	/* Below the window: late, whatever it was. */
	assert_int_equal(push(r, 12 - 16 - 1, 10, 1), REORDER_LATE);
	assert_int_equal(r->st.late, 2);
	assert_int_equal(r->st.duplicates, 3);
	assert_int_equal(o->n, 2);
}

static void
test_gap_skip(void **state)
{
	struct reorder r;
	struct out o;

	setup(&r, &o, 64, 100000);
	reorder_set_timeout(&r, 0.1);
	assert_int_equal(push(&r, 0, 10, 0), REORDER_DELIVERED);
	/* 1 lost; 2..5 come, the first at 1.0. */
	assert_int_equal(push(&r, 2, 10, 1.0), REORDER_HELD);
	assert_int_equal(push(&r, 3, 10, 1.05), REORDER_HELD);
	reorder_tick(&r, 1.099);
	assert_int_equal(o.n, 1);
	/* A second gap behind: 4 lost, 5 came at 1.08. */
	assert_int_equal(push(&r, 5, 10, 1.08), REORDER_HELD);
	/* One timeout after the oldest arrival: 2, 3 out; 5 waits on. */
	reorder_tick(&r, 1.1);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.seq[2], 3);
	assert_int_equal(r.st.skipped, 1);
	assert_true(reorder_deadline(&r) == 1.08 + 0.1);
	reorder_tick(&r, 1.17);
	assert_int_equal(o.n, 3);
	/* A push late past the deadline does the skip itself. */
	assert_int_equal(push(&r, 6, 10, 1.5), REORDER_DELIVERED);
	assert_int_equal(o.n, 5);
	assert_int_equal(o.seq[3], 5);
	assert_int_equal(o.seq[4], 6);
	assert_int_equal(r.st.skipped, 2);
	/* Flush: everything held out, gaps skipped. */
	assert_int_equal(push(&r, 9, 10, 2), REORDER_HELD);
	assert_int_equal(push(&r, 8, 10, 2), REORDER_HELD);
	reorder_flush(&r);
	assert_int_equal(o.n, 7);
	assert_int_equal(o.seq[5], 8);
	assert_int_equal(o.seq[6], 9);
	assert_int_equal(r.st.held_now, 0);
	assert_false(o.bad);
	reorder_free(&r);
}

static void
test_bounds(void **state)
{
	struct reorder r;
	struct out o;
	uint64_t i;

	/* Bytes: 1000 at most; 1 is missing, 2..10 of 200 each. */
	setup(&r, &o, 64, 1000);
	assert_int_equal(push(&r, 0, 200, 0), REORDER_DELIVERED);
	for (i = 2; i <= 6; i++)
		assert_int_equal(push(&r, i, 200, 0), REORDER_HELD);
	assert_int_equal(r.st.bytes, 1000);
	assert_int_equal(o.n, 1);
	/* The next would pass the bound: gap 1 is given up. */
	assert_int_equal(push(&r, 8, 200, 0), REORDER_HELD);
	assert_int_equal(r.st.skipped, 1);
	assert_int_equal(o.n, 6);
	assert_int_equal(r.st.bytes, 200);
	/* A packet larger than the bound passes through. */
	assert_int_equal(push(&r, 10, 1500, 0), REORDER_HELD);
	assert_int_equal(r.st.bytes, 0);
	assert_int_equal(o.seq[o.n - 1], 10);
	assert_int_equal(r.st.skipped, 3);
	reorder_free(&r);

	/* Slots: 8; a packet 8 or more ahead moves the window. */
	setup(&r, &o, 8, 100000);
	assert_int_equal(push(&r, 0, 10, 0), REORDER_DELIVERED);
	assert_int_equal(push(&r, 2, 10, 0), REORDER_HELD);
	assert_int_equal(push(&r, 8, 10, 0), REORDER_HELD);
	assert_int_equal(o.n, 1);
	assert_int_equal(push(&r, 9, 10, 0), REORDER_HELD);
	assert_int_equal(o.n, 2);            /* 1 skipped, 2 out */
	assert_int_equal(o.seq[1], 2);
	/* Far ahead (but not an epoch): everything out, window moves. */
	assert_int_equal(push(&r, 1000, 10, 0), REORDER_HELD);
	assert_int_equal(o.n, 4);
	assert_int_equal(r.st.held_now, 1);
	assert_int_equal(r.next, 1000 - 8 + 1);
	assert_int_equal(r.st.skipped, 1 + 5 + (993 - 10));
	/* Now below the window: late, not a duplicate. */
	assert_int_equal(push(&r, 992, 10, 0), REORDER_LATE);
	assert_int_equal(push(&r, 9, 10, 0), REORDER_LATE);
	assert_int_equal(push(&r, 993, 10, 0), REORDER_DELIVERED);
	/* What it hands on to make room may bring next up to the new one:
	 * then that one goes out too, in order.
	 * Next is 994 (missing), 1000 is held; 995..1001 fill the slots. */
	for (i = 995; i <= 1001; i++)
		if (i != 1000)
			assert_int_equal(push(&r, i, 10, 0), REORDER_HELD);
	assert_int_equal(r.st.held_now, 7);
	assert_int_equal(push(&r, 1002, 10, 0), REORDER_DELIVERED);
	assert_true(r.next == 1003);
	assert_int_equal(r.st.held_now, 0);
	assert_int_equal(o.seq[o.n - 1], 1002);
	assert_int_equal(o.seq[o.n - 2], 1001);
	assert_false(o.bad);
	reorder_free(&r);
}

static void
test_wrap(void **state)
{
	struct reorder r;
	struct out o;
	uint64_t s = UINT64_MAX - 2, i;

	setup(&r, &o, 16, 100000);
	assert_int_equal(push(&r, s, 10, 0), REORDER_DELIVERED);
	/* UINT64_MAX - 1, MAX, 0, 1, 2 arrive reversed. */
	for (i = 5; i >= 2; i--)
		assert_int_equal(push(&r, s + i, 10, 0), REORDER_HELD);
	assert_int_equal(push(&r, s + 1, 10, 0), REORDER_DELIVERED);
	assert_int_equal(o.n, 6);
	for (i = 0; i < 6; i++)
		assert_true(o.seq[i] == s + i);
	assert_int_equal(push(&r, UINT64_MAX, 10, 0), REORDER_DUPLICATE);
	assert_int_equal(push(&r, 3, 10, 0), REORDER_DELIVERED);
	assert_false(o.bad);
	reorder_free(&r);
}

static void
test_epoch(void **state)
{
	struct reorder r;
	struct out o;

	setup(&r, &o, 16, 100000);
	assert_int_equal(push(&r, 5000000000ull, 10, 0), REORDER_DELIVERED);
	assert_int_equal(push(&r, 5000000002ull, 10, 0), REORDER_HELD);
	/* The sender restarted at a fresh number: the held one goes out,
	 * then the new numbers are followed. */
	assert_int_equal(push(&r, 77, 10, 0), REORDER_DELIVERED);
	assert_int_equal(r.st.epochs, 1);
	assert_int_equal(o.n, 3);
	assert_true(o.seq[1] == 5000000002ull);
	assert_int_equal(o.seq[2], 77);
	assert_int_equal(push(&r, 78, 10, 0), REORDER_DELIVERED);
	/* Just under the jump is not an epoch. */
	assert_int_equal(push(&r, 79 + REORDER_FAR - 1, 10, 0), REORDER_HELD);
	assert_int_equal(r.st.epochs, 1);
	reorder_free(&r);
}

static void
test_timeout_for(void **state)
{
	struct reorder r;
	struct out o;

	assert_true(reorder_timeout_for(0) == REORDER_T_QUEUE);
	assert_true(reorder_timeout_for(0.05) > REORDER_T_QUEUE + 0.09 &&
	    reorder_timeout_for(0.05) < REORDER_T_QUEUE + 0.11);
	assert_true(reorder_timeout_for(10) == REORDER_T_MAX);
	assert_true(reorder_timeout_for(-1) == REORDER_T_DEFAULT);
	setup(&r, &o, 16, 100);
	reorder_set_timeout(&r, 0);
	assert_true(r.timeout == REORDER_T_MIN);
	reorder_set_timeout(&r, 100);
	assert_true(r.timeout == REORDER_T_MAX);
	reorder_free(&r);
}

/* Late arrivals mean the gap timeout was too short for the circuits'
 * delays under load: it doubles once per episode, stays above what the
 * caller sets, and halves back after REORDER_DECAY s without lates. A
 * lost packet (it never comes) teaches nothing. */
static void
test_timeout_learns(void **state)
{
	struct reorder *r = &fix.r;
	struct out *o = &fix.o;

	reorder_set_timeout(r, 0.05);
	assert_int_equal(push(r, 0, 10, 0), REORDER_DELIVERED);
	/* 1 lost for good: skipped after 0.05 s, nothing learnt. */
	assert_int_equal(push(r, 2, 10, 1.0), REORDER_HELD);
	reorder_tick(r, 1.05);
	assert_int_equal(r->st.skipped, 1);
	assert_true(r->timeout == 0.05);
	/* 3 only slow: 4, 5 wait, 3 is skipped, then comes, and again
	 * (the same episode): the timeout doubles once. */
	assert_int_equal(push(r, 4, 10, 2.0), REORDER_HELD);
	assert_int_equal(push(r, 5, 10, 2.01), REORDER_HELD);
	reorder_tick(r, 2.06);
	assert_int_equal(r->st.skipped, 2);
	assert_int_equal(push(r, 3, 10, 2.08), REORDER_LATE);
	assert_true(r->timeout > 0.0999 && r->timeout < 0.1001);
	assert_int_equal(push(r, 3, 10, 2.09), REORDER_LATE);
	assert_true(r->timeout > 0.0999 && r->timeout < 0.1001);
	/* The next gap now waits 0.1 s: a packet 0.08 s slow fills it. */
	assert_int_equal(push(r, 7, 10, 3.0), REORDER_HELD);
	reorder_tick(r, 3.07);
	assert_int_equal(r->st.skipped, 2);
	assert_int_equal(push(r, 6, 10, 3.08), REORDER_DELIVERED);
	assert_int_equal(o->seq[o->n - 1], 7);
	/* A second episode later doubles again; the caller's new figure
	 * keeps what was learnt on top. */
	assert_int_equal(push(r, 9, 10, 4.0), REORDER_HELD);
	reorder_tick(r, 4.1);
	assert_int_equal(push(r, 8, 10, 4.2), REORDER_LATE);
	assert_true(r->timeout > 0.1999 && r->timeout < 0.2001);
	reorder_set_timeout(r, 0.06);
	assert_true(r->timeout > 0.2099 && r->timeout < 0.2101);
	/* Never past the bound, however many episodes. */
	for (int k = 0; k < 10; k++) {
		assert_int_equal(push(r, 11 + 2 * k, 10, 5.0 + k),
		    REORDER_HELD);
		reorder_tick(r, 5.0 + k + REORDER_T_MAX);
		assert_int_equal(push(r, 10 + 2 * k, 10, 5.0 + k + 1.0),
		    REORDER_LATE);
		assert_true(r->timeout <= REORDER_T_MAX);
	}
	assert_true(r->timeout == REORDER_T_MAX);
	/* Quiet: halves every REORDER_DECAY s (checked on arrival) down
	 * to the caller's figure. */
	assert_int_equal(push(r, 30, 10, 15.0 + REORDER_DECAY),
	    REORDER_DELIVERED);
	assert_true(r->timeout > 0.06 && r->timeout < REORDER_T_MAX);
	for (int k = 2; k < 40; k++)
		assert_int_equal(push(r, 29 + k, 10,
		    15.0 + k * REORDER_DECAY), REORDER_DELIVERED);
	assert_true(r->timeout > 0.0599 && r->timeout < 0.0601);
	assert_false(o->bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test_setup_teardown(test_reordered, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_late_duplicate, fix_setup,
		    fix_teardown),
		cmocka_unit_test(test_gap_skip),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_timeout_for),
		cmocka_unit_test_setup_teardown(test_timeout_learns,
		    fix_setup, fix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
