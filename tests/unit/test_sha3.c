/*
 * sha3.c against the FIPS 202 / NIST example values: the empty message,
 * "abc", and 200 bytes of 0xa3 (1600 bits, more than one 136-byte block),
 * each also absorbed in every split into two pieces and byte by byte, so
 * the block boundary handling is exercised, not only the one-shot path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/sha3.h"

static void
hex32(uint8_t out[32], const char *hex)
{
	size_t n = 0;

	assert_int_equal(sodium_hex2bin(out, 32, hex, strlen(hex), NULL, &n,
	    NULL), 0);
	assert_int_equal(n, 32);
}

static void
check_all_splits(const uint8_t *m, size_t n, const char *want_hex)
{
	struct sha3_256_state st;
	uint8_t want[32], got[32];
	size_t cut, i;

	hex32(want, want_hex);
	sha3_256(got, m, n);
	assert_memory_equal(got, want, 32);
	for (cut = 0; cut <= n; cut++) {
		sha3_256_init(&st);
		sha3_256_update(&st, m, cut);
		sha3_256_update(&st, m + cut, n - cut);
		sha3_256_final(&st, got);
		assert_memory_equal(got, want, 32);
	}
	sha3_256_init(&st);
	for (i = 0; i < n; i++)
		sha3_256_update(&st, m + i, 1);
	sha3_256_final(&st, got);
	assert_memory_equal(got, want, 32);
}

static void
test_empty(void **state)
{
	check_all_splits((const uint8_t *)"", 0,
	    "a7ffc6f8bf1ed76651c14756a061d662"
	    "f580ff4de43b49fa82d80a4b80f8434a");
}

static void
test_abc(void **state)
{
	check_all_splits((const uint8_t *)"abc", 3,
	    "3a985da74fe225b2045c172d6bd390bd"
	    "855f086e3e9d525b46bfe24511431532");
}

static void
test_200_bytes(void **state)
{
	uint8_t m[200];

	memset(m, 0xa3, sizeof(m));
	check_all_splits(m, sizeof(m),
	    "79f38adec5c20307a98ef76e8324afbf"
	    "d46cfd81b22e3973c65fa1bd9de31787");
}

static void
test_rate_boundary(void **state)
{
	/* 135 bytes: the 0x06 and the final 0x80 share one byte; 136: the
	 * message fills a block exactly and padding takes a block of its
	 * own. Values from Python's hashlib.sha3_256(b"\x00" * n). */
	uint8_t m[136];

	memset(m, 0, sizeof(m));
	check_all_splits(m, 135,
	    "7d080d7ba978a75c8a7d1f9be566c859"
	    "084509c9c2b4928435c225d5777d98e3");
	check_all_splits(m, 136,
	    "e772c9cf9eb9c991cdfcf125001b454f"
	    "dbc0a95f188d1b4c844aa032ad6e075e");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_abc),
		cmocka_unit_test(test_200_bytes),
		cmocka_unit_test(test_rate_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
