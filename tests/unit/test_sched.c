/*
 * The striping scheduler (linkd/sched.c): a faster circuit carries more
 * in proportion to its rate; a shorter one wins while queues are equal;
 * a circuit that goes down or stalls leaves at once and a stalled one
 * comes back when its queue moves; ties take turns; rates are measured
 * from a busy queue and an idle one only raises them; unmeasured delays
 * count as the measured ones' mean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/sched.h"

/* Schedule count packets of len bytes at time now, queueing each on the
 * circuit it gets; returns how many found none. */
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
			sched_enqueue(v[k], len, now);
	}
	return none;
}

/* A scheduler over n fresh circuits, all down. */
static void
fresh(struct sched *s, struct sched_circ **v, size_t n)
{
	size_t i;

	sched_init(s);
	for (i = 0; i < n; i++)
		sched_circ_init(v[i], 0);
}

static void
test_none(void **state)
{
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };

	fresh(&s, v, 2);
	assert_int_equal(sched_pick(&s, v, 0, 100, 0), -1);
	assert_int_equal(sched_pick(&s, v, 2, 100, 0), -1);   /* both down */
	assert_int_equal(a.scheduled + b.scheduled, 0);
}

static void
test_rates(void **state)
{
	struct sched s;
	struct sched_circ a, b;
	struct sched_circ *v[2] = { &a, &b };

	fresh(&s, v, 2);
	a.up = b.up = 1;
	a.rate = 3e6;
	b.rate = 1e6;
	a.delay = b.delay = 0.01;
	/* Nothing drains: the queues grow in proportion to the rates. */
	assert_int_equal(run(&s, v, 2, 4000, 1000, 0), 0);
	assert_int_equal(a.scheduled + b.scheduled, 4000);
	assert_in_range(a.scheduled, 2990, 3010);
	assert_in_range(b.scheduled, 990, 1010);
	/* Unmeasured rates are the default, equal: an even split. */
	sched_circ_init(&a, 0);
	sched_circ_init(&b, 0);
	a.up = b.up = 1;
	assert_int_equal(run(&s, v, 2, 1000, 1000, 0), 0);
	assert_int_equal(a.scheduled, 500);
	assert_int_equal(b.scheduled, 500);
	assert_true(sched_rate(&a) == SCHED_RATE_DEFAULT);
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
	sched_set_rtt(&a, 0.200);        /* 100 ms one way */
	sched_set_rtt(&b, 0.020);        /* 10 ms */
	assert_true(a.delay > 0.099 && a.delay < 0.101);
	/* Idle: every small packet (a ping) on the short one. */
	for (i = 0; i < 10; i++)
		assert_int_equal(sched_pick(&s, v, 2, 100, 0), 1);
	/* b takes packets until 90 ms of queue make up the difference. */
	assert_int_equal(run(&s, v, 2, 89, 1000, 0), 0);
	assert_int_equal(b.scheduled, 10 + 89);
	assert_int_equal(a.scheduled, 0);
	assert_int_equal(run(&s, v, 2, 2, 1000, 0), 0);
	assert_int_equal(a.scheduled, 1);
	/* An unmeasured circuit counts as the mean of the others (55 ms):
	 * idle, it loses to b with 40 ms of queue (51 ms in all), which it
	 * would beat if it counted as 0. */
	c.up = 1;
	c.rate = 1e6;
	a.queued = 0;
	b.queued = 40000;
	assert_int_equal(sched_pick(&s, v, 3, 1000, 0), 1);
	b.queued = 50000;
	assert_int_equal(sched_pick(&s, v, 3, 1000, 0), 2);
	/* Bytes still in a socket count like queued ones: 50 ms of them
	 * on b make the idle c (55 ms unmeasured) the earlier. */
	b.queued = 0;
	b.below = 50000;
	assert_int_equal(sched_pick(&s, v, 3, 1000, 0), 2);
	b.below = 0;
	assert_int_equal(sched_pick(&s, v, 3, 1000, 0), 1);
	/* A bad rtt is ignored; another good one is averaged in. */
	sched_set_rtt(&b, -1);
	sched_set_rtt(&b, 0);
	assert_true(b.delay > 0.0099 && b.delay < 0.0101);
	sched_set_rtt(&b, 0.100);
	assert_true(b.delay > 0.0100 && b.delay < 0.0500);
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
	/* b comes back with an empty queue: it takes the next ones. */
	sched_circ_init(&b, 1);
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
	/* Both move until 1 s; then a's queue stops moving. */
	for (t = 0; t < 1.0; t += 0.01) {
		assert_int_equal(run(&s, v, 2, 10, 1000, t), 0);
		sched_drain(&a, a.queued, t);
		sched_drain(&b, b.queued, t);
	}
	assert_false(sched_is_stalled(&a, 1.0));
	for (t = 1.0; t < 1.0 + SCHED_STALL_MIN - 0.01; t += 0.01) {
		assert_int_equal(run(&s, v, 2, 10, 1000, t), 0);
		sched_drain(&b, b.queued, t);
	}
	assert_true(a.queued > 0);
	assert_false(a.stalled);
	assert_int_equal(a.stalls, 0);
	/* Stall time passed: every packet goes to b; counted once. */
	t = 1.0 + SCHED_STALL_MIN + 0.001;
	assert_true(sched_is_stalled(&a, t));
	for (k = 0; k < 50; k++)
		assert_int_equal(sched_pick(&s, v, 2, 1000, t + k), 1);
	assert_true(a.stalled);
	assert_int_equal(a.stalls, 1);
	/* Both stalled: none. */
	b.queued = 1000;
	b.t_progress = t;
	assert_int_equal(sched_pick(&s, v, 2, 1000, t + 1), -1);
	/* a's queue moves: it is back at once. */
	sched_drain(&a, 1, t + 1);
	assert_false(a.stalled);
	assert_int_equal(sched_pick(&s, v, 2, 1000, t + 1), 0);
	/* A long round trip lengthens the stall time to four of them. */
	sched_set_rtt(&a, 1.0);
	a.queued = 1;
	a.t_progress = 0;
	assert_false(sched_is_stalled(&a, 3.9));
	assert_true(sched_is_stalled(&a, 4.0));
	/* An empty queue never stalls. */
	a.queued = 0;
	assert_false(sched_is_stalled(&a, 100));
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
	/* Equal and idle (queues never build): take turns, never twice in
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
	struct sched_circ a;
	double t;

	sched_circ_init(&a, 0);
	a.up = 1;
	/* A busy queue draining 2 MB/s: 20 kB every 10 ms. */
	sched_enqueue(&a, 1000000, 0);
	for (t = 0.01; t < 0.4; t += 0.01)
		sched_drain(&a, 20000, t);
	assert_true(a.rate > 1.9e6 && a.rate < 2.1e6);
	/* It runs dry slowly (keeping up with 100 kB/s): not lowered. */
	a.queued = 0;
	sched_enqueue(&a, 10000, 1.0);
	sched_drain(&a, 10000, 1.1);
	assert_true(a.rate > 1.9e6);
	/* Kept up with far more than measured: raised. */
	sched_enqueue(&a, 1000000, 2.0);
	sched_drain(&a, 1000000, 2.1);
	assert_true(a.rate > 2.1e6);
	/* A busy queue draining slower now: lowered. */
	sched_enqueue(&a, 1000000, 3.0);
	for (t = 3.01; t < 4.0; t += 0.01)
		sched_drain(&a, 1000, t);
	assert_true(a.rate < 0.5e6);
	/* Draining more than queued is clamped. */
	a.queued = 10;
	sched_drain(&a, 100, 5);
	assert_int_equal(a.queued, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_rate_measured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
