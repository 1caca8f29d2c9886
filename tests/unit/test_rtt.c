/*
 * A link's rtt from keepalive echoes (linkd/rtt.h), pure: the windowed
 * minimum (one sample queued behind bulk does not move it; it forgets
 * after its window, so it follows a path that got slower), timestamps
 * (never 0), and the echo bookkeeping between two ends: held time taken
 * off, each echo counted once, echoes of nothing we sent and held times
 * longer than the round trip ignored, probes answered at most every
 * RTT_ANSWER_GAP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/rtt.h"

static void
test_ts(void **state)
{
	assert_true(rtt_ts(0) == 1);
	assert_true(rtt_ts(-5) == 1);
	assert_true(rtt_ts(1.5) == 1500000);
	assert_true(rtt_ts(1000.000001) > rtt_ts(1000));
}

static void
test_est_min(void **state)
{
	struct rtt_est e;

	rtt_est_init(&e);
	assert_int_equal(rtt_est_get(&e, 0), 0);
	rtt_est_add(&e, 41000, 1);
	rtt_est_add(&e, 40000, 6);
	/* a probe that waited behind a megabyte of bulk */
	rtt_est_add(&e, 900000, 11);
	assert_int_equal(rtt_est_get(&e, 11), 40000);
	/* 0 is "unknown" to routed: a measured 0 is kept as 1 us */
	rtt_est_add(&e, 0, 12);
	assert_int_equal(rtt_est_get(&e, 12), 1);
}

static void
test_est_window(void **state)
{
	struct rtt_est e;
	double t;

	rtt_est_init(&e);
	rtt_est_add(&e, 20000, 0);
	assert_int_equal(rtt_est_get(&e, RTT_WINDOW_S), 20000);
	/* no sample within the window: unknown, not a stale figure */
	assert_int_equal(rtt_est_get(&e, RTT_WINDOW_S + 0.1), 0);
	/* the path got slower: the minimum follows once the fast
	 * samples have left the window */
	rtt_est_init(&e);
	rtt_est_add(&e, 20000, 0);
	for (t = 5; t <= 100; t += 5)
		rtt_est_add(&e, 80000, t);
	assert_int_equal(rtt_est_get(&e, 100), 80000);
	/* more samples than it keeps: the oldest go first */
	rtt_est_init(&e);
	rtt_est_add(&e, 10, 1);
	for (t = 2; t < 2 + RTT_SAMPLES; t += 1)
		rtt_est_add(&e, 500, t);
	assert_int_equal(rtt_est_get(&e, t), 500);
	/* a clock that went back does not make old samples new */
	assert_int_equal(rtt_est_get(&e, 0.5), 0);
}

/* a's keepalive (probe or not) at ta, read by b at tb; b's answer. */
static int
carry(struct rtt_probe *a, struct rtt_probe *b, int probe, double ta,
    double tb)
{
	struct wire_ka ka;

	rtt_probe_fill(a, &ka, probe, ta);
	return rtt_probe_input(b, &ka, tb);
}

static void
test_probe_answer(void **state)
{
	struct rtt_probe a, b;

	rtt_probe_init(&a);
	rtt_probe_init(&b);
	assert_true(rtt_probe_due(&a, 0));
	/* a probes at 10, b gets it 30 ms later and answers at once */
	assert_int_equal(carry(&a, &b, 1, 10.0, 10.03), 1);
	assert_false(rtt_probe_due(&a, 10.0 + RTT_PROBE_INTERVAL - 0.1));
	assert_true(rtt_probe_due(&a, 10.0 + RTT_PROBE_INTERVAL));
	assert_int_equal(carry(&b, &a, 0, 10.03, 10.06), 0);
	assert_true(a.samples == 1);
	assert_in_range(rtt_est_get(&a.est, 10.06), 59990, 60010);
	/* the same echo again (b's next keepalive): not a second sample */
	assert_int_equal(carry(&b, &a, 0, 12.0, 12.03), 0);
	assert_true(a.samples == 1);
	/* b's probes come faster than RTT_ANSWER_GAP: one answer */
	assert_int_equal(carry(&b, &a, 1, 20.0, 20.0), 1);
	assert_int_equal(carry(&a, &b, 0, 20.0, 20.0), 0);
	assert_int_equal(carry(&b, &a, 1, 20.1, 20.1), 0);
	assert_int_equal(carry(&b, &a, 1, 20.0 + RTT_ANSWER_GAP,
	    20.0 + RTT_ANSWER_GAP), 1);
}

static void
test_probe_held(void **state)
{
	struct rtt_probe a, b;
	struct wire_ka ka;

	rtt_probe_init(&a);
	rtt_probe_init(&b);
	/* b answers 1 ms after it got the keepalive: the held time is
	 * taken off */
	rtt_probe_fill(&a, &ka, 0, 10.0);
	assert_int_equal(rtt_probe_input(&b, &ka, 10.1), 0);
	assert_int_equal(carry(&b, &a, 1, 10.101, 10.201), 0);
	assert_true(a.samples == 1);
	assert_in_range(rtt_est_get(&a.est, 10.201), 199990, 200010);
	/* b's echo rides on a keepalive 2 s later: the held time is b's
	 * word alone, and a peer that overstates it would shrink our
	 * figure of its link (issue 14): no sample */
	rtt_probe_fill(&a, &ka, 0, 11.0);
	assert_int_equal(rtt_probe_input(&b, &ka, 11.1), 0);
	assert_int_equal(carry(&b, &a, 1, 13.1, 13.2), 1);
	assert_true(a.samples == 1);
	/* an echo of nothing a sent: no sample */
	memset(&ka, 0, sizeof(ka));
	ka.ts_us = 1;
	ka.echo_us = rtt_ts(11.0);
	(void)rtt_probe_input(&a, &ka, 13.0);
	assert_true(a.samples == 1);
	/* held longer than the whole round trip: no sample, not 0 */
	rtt_probe_fill(&a, &ka, 0, 20.0);
	assert_int_equal(rtt_probe_input(&b, &ka, 20.1), 0);
	rtt_probe_fill(&b, &ka, 0, 20.2);
	ka.held_us = 300000;
	(void)rtt_probe_input(&a, &ka, 20.2);
	assert_true(a.samples == 1);
	/* a lie within the round trip (held 150 ms of 200): no sample */
	rtt_probe_fill(&a, &ka, 0, 21.0);
	assert_int_equal(rtt_probe_input(&b, &ka, 21.1), 0);
	rtt_probe_fill(&b, &ka, 0, 21.1);
	ka.held_us = 150000;
	(void)rtt_probe_input(&a, &ka, 20.2);
	assert_true(a.samples == 1);
	/* an echo from before its timestamp was sent (clock back) */
	rtt_probe_fill(&a, &ka, 0, 30.0);
	assert_int_equal(rtt_probe_input(&b, &ka, 30.0), 0);
	rtt_probe_fill(&b, &ka, 0, 30.0);
	(void)rtt_probe_input(&a, &ka, 29.0);
	assert_true(a.samples == 1);
	/* nothing from b yet: a's keepalive echoes nothing */
	rtt_probe_init(&a);
	rtt_probe_fill(&a, &ka, 1, 1.0);
	assert_true(ka.echo_us == 0 && ka.held_us == 0);
	assert_true(ka.flags & WIRE_KA_PROBE);
	assert_true(ka.ts_us == rtt_ts(1.0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts),
		cmocka_unit_test(test_est_min),
		cmocka_unit_test(test_est_window),
		cmocka_unit_test(test_probe_answer),
		cmocka_unit_test(test_probe_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
