/*
 * Per-member bounds (linkd/bounds.c), with time driven by hand.
 *
 * What must hold: a member's gossip passes up to the burst, then at the
 * rate, never more than the burst after a long silence, and a clock
 * that goes back gives nothing; one member over its bound leaves
 * another's whole; rekeys are bounded per link (two links of one
 * member each have their own bucket) and counted for the member; the
 * end-to-end cap lets a member hold exactly BOUND_E2E_PER_MEMBER
 * sessions, refuses the next, and counts each refusal; a normal
 * member (a rekey every 120 s, a few gossip objects a second) is never
 * refused; a member starts with full buckets and no counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "linkd/bounds.h"

static int
gossip_n(struct member_bounds *mb, double now, int n)
{
	int i, ok = 0;

	for (i = 0; i < n; i++)
		ok += bounds_gossip_allow(mb, now);
	return ok;
}

static void
test_gossip(void **state)
{
	struct member_bounds a, b;
	int burst = (int)BOUND_GOSSIP_BURST, rate = (int)BOUND_GOSSIP_RATE;

	bounds_init(&a, 100);
	bounds_init(&b, 100);
	assert_int_equal(gossip_n(&a, 100, burst + 50), burst);
	assert_int_equal(a.gossip_limited, 50);
	/* b is not a: its whole burst is there. */
	assert_int_equal(gossip_n(&b, 100, burst), burst);
	assert_int_equal(b.gossip_limited, 0);
	/* One second brings the rate back, no more. */
	assert_int_equal(gossip_n(&a, 101, rate + 10), rate);
	/* A clock that goes back gives nothing. */
	assert_int_equal(gossip_n(&a, 50, 1), 0);
	/* A long silence fills the bucket only to the burst. */
	assert_int_equal(gossip_n(&a, 100000, burst + 1), burst);
	assert_int_equal(a.rekeys_limited, 0);
	assert_int_equal(a.e2e_refused, 0);
}

static void
test_rekey(void **state)
{
	struct member_bounds mb;
	struct rl_bucket l1, l2;
	int i, ok = 0, burst = (int)BOUND_REKEY_BURST;

	bounds_init(&mb, 100);
	bounds_rekey_init(&l1, 100);
	bounds_rekey_init(&l2, 100);
	for (i = 0; i < burst + 3; i++)
		ok += bounds_rekey_allow(&mb, &l1, 100);
	assert_int_equal(ok, burst);
	assert_int_equal(mb.rekeys_limited, 3);
	/* The member's other link has its own bucket. */
	assert_int_equal(bounds_rekey_allow(&mb, &l2, 100), 1);
	/* 60 / BOUND_REKEY_PER_MIN seconds bring one rekey back. */
	assert_int_equal(bounds_rekey_allow(&mb, &l1,
	    100 + 60.0 / BOUND_REKEY_PER_MIN - 0.5), 0);
	assert_int_equal(bounds_rekey_allow(&mb, &l1,
	    100 + 60.0 / BOUND_REKEY_PER_MIN + 0.1), 1);
	assert_int_equal(mb.rekeys_limited, 4);
}

static void
test_normal_member(void **state)
{
	struct member_bounds mb;
	struct rl_bucket l;
	double t;
	int ok = 0, n = 0;

	/* A day of a rekey every 120 s and 20 gossip objects a second. */
	bounds_init(&mb, 0);
	bounds_rekey_init(&l, 0);
	for (t = 0; t < 86400; t += 1) {
		if ((long)t % 120 == 0) {
			ok += bounds_rekey_allow(&mb, &l, t);
			n++;
		}
		assert_int_equal(gossip_n(&mb, t, 20), 20);
	}
	assert_int_equal(ok, n);
	assert_int_equal(mb.rekeys_limited, 0);
	assert_int_equal(mb.gossip_limited, 0);
}

static void
test_e2e_cap(void **state)
{
	struct member_bounds a, b;
	size_t held;

	bounds_init(&a, 0);
	bounds_init(&b, 0);
	for (held = 0; held < BOUND_E2E_PER_MEMBER; held++)
		assert_int_equal(bounds_e2e_allow(&a, held), 1);
	assert_int_equal(a.e2e_refused, 0);
	assert_int_equal(bounds_e2e_allow(&a, BOUND_E2E_PER_MEMBER), 0);
	assert_int_equal(bounds_e2e_allow(&a, 2000), 0);
	assert_int_equal(a.e2e_refused, 2);
	/* Another member's first session is not held back by a. */
	assert_int_equal(bounds_e2e_allow(&b, 0), 1);
	assert_int_equal(b.e2e_refused, 0);
}

/* A member linkd learns of late (or again, after it was removed) starts
 * with full buckets and no counts, whatever came before. */
static void
test_fresh(void **state)
{
	struct member_bounds mb;
	struct rl_bucket l;

	bounds_init(&mb, 5000);
	(void)gossip_n(&mb, 5000, (int)BOUND_GOSSIP_BURST + 7);
	assert_int_equal(mb.gossip_limited, 7);
	bounds_init(&mb, 5000);
	assert_int_equal(mb.gossip_limited, 0);
	assert_int_equal(gossip_n(&mb, 5000, (int)BOUND_GOSSIP_BURST),
	    (int)BOUND_GOSSIP_BURST);
	/* Full from the start even just after boot (the monotonic clock
	 * near 0), not filled by the time since. */
	bounds_rekey_init(&l, 0.5);
	assert_int_equal(bounds_rekey_allow(&mb, &l, 0.5), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gossip),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_normal_member),
		cmocka_unit_test(test_e2e_cap),
		cmocka_unit_test(test_fresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
