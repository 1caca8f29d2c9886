/*
 * The striping scheduler (linkd/sched.c), driven with acknowledgements
 * as the far end sends them: a faster circuit carries more in
 * proportion to its rate, and the rates are learnt from the acks; a
 * shorter one wins while nothing is queued; no circuit holds more than
 * its window, and with every window full the packet must wait; a
 * circuit that goes down or stalls leaves at once and a stalled one
 * comes back when its acks move; ties take turns; a rate is lowered
 * only by a sample taken with the window full or a queue standing in
 * the circuit, and is the best of the last few samples; acks for more
 * than was sent are not believed; a far end that never acknowledges is
 * scheduled by delay alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/sched.h"

/* Schedule count packets of len bytes at time now, sending each on the
 * circuit it gets; returns how many found none (or every window
 * full). */
static int
run(struct sched *s, struct sched_circ **v, size_t n, int count,
    size_t len, double now)
{
	int i, k, none = 0;

	for (i = 0; i < count; i++) {
		k = sched_pick(s, v, n, len, now);
		if (k < 0)
			none++;
		else
			sched_sent(v[k], len, now);
	}
	return none;
}

/* n circuits that really carry cap[i] bytes/s one way in delay[i] s:
 * every ms for secs s, offer per_ms packets of 1000 bytes and let each
 * circuit's far end acknowledge what it has received (what was sent
 * over delay ago, at most cap per ms, the ack back another delay
 * later: approximated by acknowledging what the circuit drained 2 x
 * delay ago). Returns the packets refused. */
#define SIM_MAX 4
struct sim {
	double cap[SIM_MAX], delay[SIM_MAX];
	double drained[SIM_MAX];        /* bytes through the circuit */
	double hist[SIM_MAX][4096];     /* drained at each ms */
};

static int
simulate(struct sim *m, struct sched *s, struct sched_circ **v, size_t n,
    int per_ms, double t0, double secs)
{
	int step, steps = (int)(secs * 1000 + 0.5), refused = 0, lag;
	size_t i;
	double t, room;

	for (step = 0; step < steps; step++) {
		t = t0 + step / 1000.0;
		for (i = 0; i < n; i++) {
			/* what was sent and not yet through goes through */
			room = m->cap[i] / 1000.0;
			if ((double)v[i]->sent - m->drained[i] < room)
				room = (double)v[i]->sent - m->drained[i];
			m->drained[i] += room;
			m->hist[i][step % 4096] = m->drained[i];
			lag = (int)(2 * m->delay[i] * 1000 + 0.5);
			if (step >= lag)
				assert_int_equal(sched_acked(v[i], (uint64_t)
				    m->hist[i][(step - lag) % 4096], t), 0);
		}
		refused += run(s, v, n, per_ms, 1000, t);
	}
	return refused;
}

/* A scheduler over n fresh circuits, all down. */
static void
fresh(struct sched *s, struct sched_circ **v, size_t n)
{
	size_t i;

	sched_init(s);
	for (i = 0; i < n; i++)
		sched_circ_init(v[i], 0, 0);
}

static void
test_none(void **state)
{
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };

	fresh(&s, v, 2);
	assert_int_equal(sched_pick(&s, v, 0, 100, 0), SCHED_NONE);
	assert_int_equal(sched_pick(&s, v, 2, 100, 0), SCHED_NONE);
	assert_int_equal(a.scheduled + b.scheduled, 0);
}

static void
test_rates_learnt(void **state)
{
	static struct sim m;
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };
	uint64_t a0, b0;
	int refused;

	memset(&m, 0, sizeof(m));
	fresh(&s, v, 2);
	a.up = b.up = 1;
	m.cap[0] = 3e6;
	m.cap[1] = 1e6;
	m.delay[0] = m.delay[1] = 0.02;
	sched_set_rtt(&a, 0.04);
	sched_set_rtt(&b, 0.04);
	/* The first ack says the far end acknowledges at all. */
	sched_sent(&a, 1, 0);
	sched_sent(&b, 1, 0);
	assert_int_equal(sched_acked(&a, 1, 0), 0);
	assert_int_equal(sched_acked(&b, 1, 0), 0);
	m.drained[0] = m.drained[1] = 1;
	/* 5 MB/s offered to 4 MB/s of circuits for 2 s. */
	refused = simulate(&m, &s, v, 2, 5, 0.001, 2.0);
	/* Both rates learnt from their acks. */
	assert_true(a.rate > 2.5e6 && a.rate < 3.5e6);
	assert_true(b.rate > 0.8e6 && b.rate < 1.2e6);
	/* What does not fit waits (here: is counted), not queued inside
	 * tor without bound: about the 1 MB/s over. */
	assert_in_range(refused, 1000, 4000);
	assert_true(sched_inflight(&a) <= sched_window(&a));
	assert_true(sched_inflight(&b) <= sched_window(&b));
	/* The next second: the faster carries three times the slower. */
	a0 = a.scheduled;
	b0 = b.scheduled;
	(void)simulate(&m, &s, v, 2, 5, 2.001, 1.0);
	assert_in_range(a.scheduled - a0, 2700, 3300);
	assert_in_range(b.scheduled - b0, 850, 1150);
}

static void
test_delays(void **state)
{
	struct sched s;
	struct sched_circ a, b, c;
	struct sched_circ *v[3] = { &a, &b, &c };
	int i;

	fresh(&s, v, 3);
	a.up = b.up = 1;
	a.rate = b.rate = 1e6;
	a.acks = b.acks = 1;
	sched_set_rtt(&a, 0.200);        /* 100 ms one way */
	sched_set_rtt(&b, 0.020);        /* 10 ms */
	assert_true(a.delay > 0.099 && a.delay < 0.101);
	/* Idle: every small packet (a ping) on the short one. */
	for (i = 0; i < 10; i++)
		assert_int_equal(sched_pick(&s, v, 2, 100, 0), 1);
	/* Bulk: b until what it holds beyond its round trip (20 kB at
	 * 1 MB/s) would keep a packet longer than a's 90 ms more delay:
	 * about 110 kB in flight; then they share. */
	assert_int_equal(run(&s, v, 2, 109, 1000, 0), 0);
	assert_int_equal(b.scheduled, 10 + 109);
	assert_int_equal(a.scheduled, 0);
	assert_int_equal(run(&s, v, 2, 4, 1000, 0), 0);
	assert_in_range(a.scheduled, 1, 3);
	/* Each within its window: 1 MB/s x (2 x rtt + 0.1 s) + 32 KiB. */
	assert_int_equal(sched_window(&b), 140000 + SCHED_WIN_SLACK);
	assert_int_equal(sched_window(&a), 500000 + SCHED_WIN_SLACK);
	/* An unmeasured circuit counts as the mean of the others (55 ms):
	 * idle, it loses to b with 40 ms queued beyond its round trip
	 * (51 ms in all), which it would beat if it counted as 0. */
	c.up = 1;
	c.rate = 1e6;
	c.acks = 1;
	sched_circ_init(&b, 0, 0);
	b.up = 1;
	b.rate = 1e6;
	b.acks = 1;
	sched_set_rtt(&b, 0.020);
	sched_sent(&b, 20000 + 40000, 0);
	assert_int_equal(sched_pick(&s, v, 3, 1000, 0), 1);
	sched_sent(&b, 10000, 0);
	assert_int_equal(sched_pick(&s, v, 3, 1000, 0), 2);
	/* A bad rtt is ignored; a new one replaces the old (it is the
	 * link's minimum already). */
	sched_set_rtt(&b, -1);
	sched_set_rtt(&b, 0);
	assert_true(b.delay > 0.0099 && b.delay < 0.0101);
	sched_set_rtt(&b, 0.100);
	assert_true(b.delay > 0.0499 && b.delay < 0.0501);
}

static void
test_window_full(void **state)
{
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };

	fresh(&s, v, 2);
	a.up = b.up = 1;
	a.acks = b.acks = 1;
	a.rate = 2e6;
	b.rate = 1e6;
	sched_set_rtt(&a, 0.05);
	sched_set_rtt(&b, 0.05);
	/* Fill both windows. */
	sched_sent(&a, sched_window(&a), 0);
	sched_sent(&b, sched_window(&b) - 500, 0);
	/* A small packet still fits on b; a big one fits nowhere: it
	 * must wait, and both count as window-limited for their rates. */
	assert_int_equal(sched_pick(&s, v, 2, 400, 0), 1);
	assert_int_equal(sched_pick(&s, v, 2, 1000, 0), SCHED_FULL);
	assert_true(a.limited && b.limited);
	assert_int_equal(a.scheduled + b.scheduled, 1);
	/* An ack frees room on a: it takes the packet. */
	assert_int_equal(sched_acked(&a, 5000, 0.01), 0);
	assert_int_equal(sched_pick(&s, v, 2, 1000, 0.01), 0);
	/* The window has its floor and its ceiling. */
	a.rate = 1;
	assert_int_equal(sched_window(&a), SCHED_WIN_MIN);
	a.rate = 1e12;
	assert_int_equal(sched_window(&a), SCHED_WIN_MAX);
}

static void
test_gone(void **state)
{
	struct sched s;
	struct sched_circ a, b, c;
	struct sched_circ *v[3] = { &a, &b, &c };
	uint64_t before;

	fresh(&s, v, 3);
	a.up = b.up = c.up = 1;
	assert_int_equal(run(&s, v, 3, 300, 1000, 0), 0);
	assert_int_equal(b.scheduled, 100);
	/* b goes down: nothing more for it, from the next packet on. */
	b.up = 0;
	before = b.scheduled;
	assert_int_equal(run(&s, v, 3, 300, 1000, 0), 0);
	assert_int_equal(b.scheduled, before);
	assert_int_equal(a.scheduled + c.scheduled, 200 + 300);
	/* All down. */
	a.up = c.up = 0;
	assert_int_equal(run(&s, v, 3, 5, 1000, 0), 5);
	/* b comes back fresh (counting from what its stream carried): it
	 * takes the next ones. */
	sched_circ_init(&b, 123456, 1);
	assert_int_equal(sched_inflight(&b), 0);
	b.up = a.up = c.up = 1;
	assert_int_equal(sched_pick(&s, v, 3, 1000, 1), 1);
}

static void
test_stalled(void **state)
{
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };
	double t;
	int k;

	fresh(&s, v, 2);
	a.up = b.up = 1;
	a.rate = b.rate = 1e6;
	sched_set_rtt(&a, 0.02);
	sched_set_rtt(&b, 0.02);
	/* Both are acknowledged until 1 s; then a's acks stop. */
	for (t = 0; t < 1.0; t += 0.01) {
		assert_int_equal(run(&s, v, 2, 10, 1000, t), 0);
		assert_int_equal(sched_acked(&a, a.sent, t), 0);
		assert_int_equal(sched_acked(&b, b.sent, t), 0);
	}
	assert_false(sched_is_stalled(&a, 1.0));
	for (t = 1.0; t < 1.0 + SCHED_STALL_MIN - 0.01; t += 0.01) {
		assert_int_equal(run(&s, v, 2, 10, 1000, t), 0);
		assert_int_equal(sched_acked(&b, b.sent, t), 0);
	}
	assert_true(sched_inflight(&a) > 0);
	assert_false(a.stalled);
	assert_int_equal(a.stalls, 0);
	/* Stall time passed: every packet goes to b; counted once. */
	t = 1.0 + SCHED_STALL_MIN + 0.001;
	assert_true(sched_is_stalled(&a, t));
	for (k = 0; k < 50; k++) {
		assert_int_equal(sched_pick(&s, v, 2, 1000, t + k), 1);
		assert_int_equal(sched_acked(&b, b.sent, t + k), 0);
	}
	assert_true(a.stalled);
	assert_int_equal(a.stalls, 1);
	/* Both stalled: none. */
	sched_sent(&b, 1000, t + 50);
	assert_int_equal(sched_pick(&s, v, 2, 1000, t + 51), SCHED_NONE);
	/* a's acks move: it is back at once. */
	assert_int_equal(sched_acked(&a, a.acked + 1, t + 51), 0);
	assert_false(a.stalled);
	assert_int_equal(sched_pick(&s, v, 2, 1000, t + 51), 0);
	/* A long round trip lengthens the stall time to four of them. */
	sched_set_rtt(&a, 1.0);
	a.t_progress = 100;
	assert_false(sched_is_stalled(&a, 103.9));
	assert_true(sched_is_stalled(&a, 104.0));
	/* Nothing in flight never stalls. */
	assert_int_equal(sched_acked(&a, a.sent, 104), 0);
	assert_false(sched_is_stalled(&a, 1000));
}

static void
test_ties(void **state)
{
	struct sched s;
	struct sched_circ a, b, c;
	struct sched_circ *v[3] = { &a, &b, &c };
	int i, k, last = -1;

	fresh(&s, v, 3);
	a.up = b.up = c.up = 1;
	/* Equal and idle (nothing in flight): take turns, never twice in
	 * a row, each a third. */
	for (i = 0; i < 300; i++) {
		k = sched_pick(&s, v, 3, 100, 0);
		assert_true(k >= 0 && k != last);
		last = k;
	}
	assert_int_equal(a.scheduled, 100);
	assert_int_equal(b.scheduled, 100);
	assert_int_equal(c.scheduled, 100);
	/* One of three down: the other two alternate. */
	b.up = 0;
	last = sched_pick(&s, v, 3, 100, 0);
	for (i = 0; i < 10; i++) {
		k = sched_pick(&s, v, 3, 100, 0);
		assert_true(k != 1 && k != last);
		last = k;
	}
}

static void
test_rate_measured(void **state)
{
	struct sched s;
	struct sched_circ a;
	struct sched_circ *v[1] = { &a };
	double t, before;

	fresh(&s, v, 1);
	a.up = 1;
	sched_set_rtt(&a, 0.05);
	/* A new circuit's first trickle (a handshake, keepalives) does not
	 * make it look slow: the default stands. */
	sched_sent(&a, 500, 0);
	for (t = 0.01; t < 0.6; t += 0.01) {
		sched_sent(&a, 100, t);
		assert_int_equal(sched_acked(&a, a.sent - 500, t), 0);
	}
	assert_true(sched_rate(&a) == SCHED_RATE_DEFAULT);
	sched_circ_init(&a, 0, 0);
	a.up = 1;
	sched_set_rtt(&a, 0.05);
	/* Acks of 2 MB/s: 20 kB every 10 ms, with plenty in flight. */
	sched_sent(&a, 4000000, 0);
	for (t = 0.01; t < 0.6; t += 0.01)
		assert_int_equal(sched_acked(&a, a.acked + 20000, t), 0);
	assert_true(a.rate > 1.9e6 && a.rate < 2.1e6);
	/* Slower acks with little in flight (we gave it little: 2 kB
	 * every 10 ms, 1 kB outstanding): the rate stays. */
	a.sent = a.acked + 1000;
	for (t = 0.6; t < 1.2; t += 0.01) {
		sched_sent(&a, 2000, t);
		assert_int_equal(sched_acked(&a, a.sent - 1000, t), 0);
	}
	assert_true(a.rate > 1.9e6);
	/* Slower acks with a queue standing in it (more than a round
	 * trip at its rate in flight throughout): the circuit set that
	 * pace, the rate comes down. */
	sched_sent(&a, 4000000, 1.2);
	for (t = 1.2; t < 2.7; t += 0.01)
		assert_int_equal(sched_acked(&a, a.acked + 2000, t), 0);
	assert_true(a.rate < 0.4e6);
	/* Faster acks raise it with the first whole sample of them. */
	for (t = 2.7; t < 3.3; t += 0.01)
		assert_int_equal(sched_acked(&a, a.acked + 30000, t), 0);
	assert_true(a.rate > 2.5e6);
	/* One slow busy sample after that does not pull it down: the
	 * best of the last SCHED_RATE_KEEP is kept. */
	before = a.rate;
	for (t = 3.3; t < 3.6; t += 0.01)
		assert_int_equal(sched_acked(&a, a.acked + 2000, t), 0);
	assert_true(a.rate == before);
}

static void
test_acks(void **state)
{
	struct sched_circ a;

	sched_circ_init(&a, 1000, 0);
	a.up = 1;
	/* What the stream carried before counts as delivered. */
	assert_int_equal(sched_inflight(&a), 0);
	sched_sent(&a, 5000, 0);
	assert_int_equal(sched_inflight(&a), 5000);
	/* Old news moves nothing. */
	assert_int_equal(sched_acked(&a, 900, 0.1), 0);
	assert_int_equal(a.acks, 0);
	assert_int_equal(sched_acked(&a, 3000, 0.1), 0);
	assert_int_equal(sched_inflight(&a), 3000);
	assert_int_equal(sched_acked(&a, 2000, 0.2), 0);
	assert_int_equal(sched_inflight(&a), 3000);
	/* A frame's worth past what we sent is taken as all of it;
	 * further is not believed and changes nothing. */
	assert_int_equal(sched_acked(&a, 6000 + 100, 0.3), 0);
	assert_int_equal(sched_inflight(&a), 0);
	sched_sent(&a, 10, 0.4);
	assert_int_equal(sched_acked(&a, 6010 + SCHED_ACK_SLACK + 1, 0.5),
	    -1);
	assert_int_equal(sched_inflight(&a), 10);
	assert_int_equal(sched_acked(&a, UINT64_MAX, 0.5), -1);
	assert_int_equal(a.acked, 6000);
}

static void
test_no_acks(void **state)
{
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };

	/* A far end that never acknowledges (an older linkd): no window,
	 * no stall, the shorter circuit for everything, as before acks. */
	fresh(&s, v, 2);
	a.up = b.up = 1;
	sched_set_rtt(&a, 0.1);
	sched_set_rtt(&b, 0.02);
	assert_int_equal(run(&s, v, 2, 10000, 1000, 0), 0);
	assert_int_equal(b.scheduled, 10000);
	assert_false(sched_is_stalled(&b, 100));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_rates_learnt),
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_window_full),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_rate_measured),
		cmocka_unit_test(test_acks),
		cmocka_unit_test(test_no_acks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
