/*
 * The handshake token buckets (linkd/ratelimit.c), with time driven by
 * hand.
 *
 * What must hold: a burst passes and the next one does not; tokens come
 * back at the rate and never above the burst; a clock that goes back
 * gives nothing; one source over its limit does not hold back another;
 * the global limit holds however many sources there are, and a source
 * refused by its own limit spends nothing of the global one; sources
 * beyond the table's size still get limits (no allocation, no crash);
 * remote strings turn into the right keys (IPv4 address, IPv6 /64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/ratelimit.h"

static const uint8_t seed[RL_SEED_BYTES] = "0123456789abcdef";
static struct ratelimit rl;  /* ~50 KiB: not on the stack */

static const uint8_t src_a[4] = { 192, 0, 2, 1 };
static const uint8_t src_b[4] = { 192, 0, 2, 2 };

static int
allowed(const uint8_t *key, size_t len, double now, int n)
{
	int i, ok = 0;

	for (i = 0; i < n; i++)
		ok += ratelimit_allow(&rl, key, len, now) == RL_OK;
	return ok;
}

static void
test_bucket(void **state)
{
	struct rl_bucket b = { 3.0, 100.0 };
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 100.0), 1);
	assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 100.0), 0);
	/* 0.4 s at 2/s: 0.8 token, not enough. */
	assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 100.4), 0);
	assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 100.5), 1);
	/* A clock that goes back adds nothing. */
	assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 50.0), 0);
	/* An hour later: full, but only to the burst. */
	for (i = 0; i < 3; i++)
		assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 3650.0), 1);
	assert_int_equal(rl_bucket_take(&b, 2.0, 3.0, 3650.0), 0);
}

static void
test_source_burst_and_rate(void **state)
{
	(void)state;
	ratelimit_init(&rl, 1000.0, 1000.0, 10.0, 20.0, seed, 0.0);
	assert_int_equal(allowed(src_a, 4, 0.0, 100), 20);
	assert_int_equal(rl.limited_source, 80);
	/* 1 s later: 10 more, no more. */
	assert_int_equal(allowed(src_a, 4, 1.0, 100), 10);
	/* 10 s at 10/s for a source sending 100/s: 100 pass. */
	{
		int i, ok = 0;

		for (i = 0; i < 1000; i++)
			ok += ratelimit_allow(&rl, src_a, 4,
			    1.0 + (i + 1) * 0.01) == RL_OK;
		assert_in_range(ok, 99, 101);
	}
}

static void
test_sources_independent(void **state)
{
	(void)state;
	ratelimit_init(&rl, 1000.0, 1000.0, 10.0, 20.0, seed, 0.0);
	assert_int_equal(allowed(src_a, 4, 0.0, 50), 20);
	assert_int_equal(ratelimit_allow(&rl, src_a, 4, 0.0), RL_SOURCE);
	/* The flooder's limit does not touch another source. */
	assert_int_equal(allowed(src_b, 4, 0.0, 20), 20);
}

static void
test_global(void **state)
{
	uint8_t k[4] = { 10, 0, 0, 0 };
	int i, ok = 0;

	(void)state;
	ratelimit_init(&rl, 50.0, 50.0, 10.0, 20.0, seed, 0.0);
	/* 200 sources, 2 each, at once: the global burst decides. */
	for (i = 0; i < 400; i++) {
		k[3] = (uint8_t)(i / 2);
		k[2] = (uint8_t)(i / 512);
		ok += ratelimit_allow(&rl, k, 4, 0.0) == RL_OK;
	}
	assert_int_equal(ok, 50);
	assert_int_equal(rl.limited_global, 350);
	/* No key (onion links): the global bucket alone. */
	assert_int_equal(ratelimit_allow(&rl, NULL, 0, 0.0), RL_GLOBAL);
	assert_int_equal(ratelimit_allow(&rl, NULL, 0, 0.1), RL_OK);
	/* Over 10 s, 50/s from anywhere: 500, and the 4 tokens left at
	 * 0.1 s (5 grown, 1 spent). */
	ok = 0;
	for (i = 0; i < 10000; i++) {
		k[3] = (uint8_t)i;
		k[2] = (uint8_t)(i >> 8);
		ok += ratelimit_allow(&rl, k, 4, 0.1 + (i + 1) * 0.001) ==
		    RL_OK;
	}
	assert_in_range(ok, 502, 505);
}

static void
test_source_refusal_spends_no_global(void **state)
{
	(void)state;
	ratelimit_init(&rl, 25.0, 25.0, 10.0, 20.0, seed, 0.0);
	assert_int_equal(allowed(src_a, 4, 0.0, 1000), 20);
	/* 980 refusals of src_a cost the global bucket nothing: 5 left. */
	assert_int_equal(allowed(src_b, 4, 0.0, 20), 5);
}

static void
test_many_sources(void **state)
{
	uint8_t k[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0 };
	uint32_t i;
	int ok = 0;

	(void)state;
	ratelimit_init(&rl, 1e9, 1e9, 10.0, 20.0, seed, 0.0);
	/* Ten times more sources than slots: each still gets its burst
	 * (a slot is taken over rather than refused), nothing breaks. */
	for (i = 0; i < 10 * RL_SLOTS; i++) {
		memcpy(k + 4, &i, 4);
		ok += ratelimit_allow(&rl, k, 8, 0.0) == RL_OK;
	}
	assert_int_equal(ok, 10 * RL_SLOTS);
	/* A flooder still in the table is still limited. */
	assert_int_equal(allowed(src_a, 4, 1.0, 25), 20);
	assert_int_equal(ratelimit_allow(&rl, src_a, 4, 1.0), RL_SOURCE);
	/* A long key is cut, not overrun. */
	{
		uint8_t big[64];

		memset(big, 7, sizeof(big));
		assert_int_equal(ratelimit_allow(&rl, big, sizeof(big), 1.0),
		    RL_OK);
	}
}

static void
test_source_key(void **state)
{
	uint8_t k[RL_KEY_MAX];
	size_t n = 0;

	(void)state;
	assert_int_equal(ratelimit_source_key("192.0.2.7:6550", k, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(k, "\xc0\x00\x02\x07", 4);
	assert_int_equal(ratelimit_source_key("[2001:db8:1:2:3:4:5:6]:6550",
	    k, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(k, "\x20\x01\x0d\xb8\x00\x01\x00\x02", 8);
	/* Same /64, another host: the same source. */
	{
		uint8_t k2[RL_KEY_MAX];
		size_t n2 = 0;

		assert_int_equal(ratelimit_source_key(
		    "[2001:db8:1:2::99]:1", k2, &n2), 0);
		assert_int_equal(n2, 8);
		assert_memory_equal(k, k2, 8);
	}
	assert_int_equal(ratelimit_source_key("[::ffff:192.0.2.7]:6550", k,
	    &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(k, "\xc0\x00\x02\x07", 4);
	assert_int_equal(ratelimit_source_key("onion", k, &n), -1);
	assert_int_equal(ratelimit_source_key("", k, &n), -1);
	assert_int_equal(ratelimit_source_key(":6550", k, &n), -1);
	assert_int_equal(ratelimit_source_key("[2001:db8::1", k, &n), -1);
	assert_int_equal(ratelimit_source_key("example.org:6550", k, &n), -1);
	assert_int_equal(ratelimit_source_key(NULL, k, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_source_burst_and_rate),
		cmocka_unit_test(test_sources_independent),
		cmocka_unit_test(test_global),
		cmocka_unit_test(test_source_refusal_spends_no_global),
		cmocka_unit_test(test_many_sources),
		cmocka_unit_test(test_source_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
