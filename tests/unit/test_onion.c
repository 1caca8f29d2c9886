/*
 * onion.c: key expansion, ADD_ONION key blob, address and its checks.
 *
 * The known vector is tor's own (src/test/test_hs_common.c,
 * test_build_address): the public key of RFC 8032's first test key gives
 * 25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion. Its
 * seed's expanded key is SHA-512 of the seed, clamped. That tor really
 * accepts our blob and reports our address is checked against a running
 * tor by tests/tornet/check_onion_key.sh, which calls this binary as
 *
 *   test_onion --print-key SEEDHEX     prints "BLOB ADDRESS"
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/onion.h"
#include "proto/sha3.h"

#define RFC_SEED "9d61b19deffd5a60ba844af492ec2cc4" \
    "4449c5697b326919703bac031cae7f60"
#define RFC_PK "d75a980182b10ab7d54bfed3c964073a" \
    "0ee172f3daa62325af021a68f707511a"
#define RFC_ADDR "25njqamcweflpvkl73j4szahhihoc4xt" \
    "3ktcgjnpaingr5yhkenl5sid.onion"
#define RFC_BLOB "ED25519-V3:MHyDhk8oM8tCei7xwAoBPP3/J2jZgMCjpSD" \
    "wBpBN6U+bTwr+KAt0aneGhOdUQlAgV7dHOgPwj5b1o46Sh+Afjw=="

static void
unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t got = 0;

	assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got,
	    NULL), 0);
	assert_int_equal(got, n);
}

static void
test_rfc8032_vector(void **state)
{
	uint8_t seed[32], pk[32];
	struct onion_key k;
	char addr[ONION_ADDR_LEN + 1], blob[ONION_BLOB_LEN + 1];

	unhex(seed, 32, RFC_SEED);
	unhex(pk, 32, RFC_PK);
	assert_int_equal(onion_key_from_seed(&k, seed), 0);
	assert_memory_equal(k.pk, pk, 32);
	onion_addr_from_pk(addr, k.pk);
	assert_string_equal(addr, RFC_ADDR);
	assert_int_equal(onion_key_blob(blob, sizeof(blob), &k), 0);
	assert_string_equal(blob, RFC_BLOB);
	assert_int_equal(strlen(blob), ONION_BLOB_LEN);
	/* Too small a buffer is refused, not truncated. */
	assert_int_equal(onion_key_blob(blob, ONION_BLOB_LEN, &k), -1);
	onion_key_wipe(&k);
	assert_true(sodium_is_zero((const unsigned char *)&k, sizeof(k)));
}

static void
test_second_vector(void **state)
{
	/* Another implementation's published vector (bitcoin-s). */
	uint8_t pk[32], back[32];
	char addr[ONION_ADDR_LEN + 1];

	unhex(pk, 32, "98908ec971ad17171365865a249c420d"
	    "04a66f103f973a62d8404ce2f4af1ee2");
	onion_addr_from_pk(addr, pk);
	assert_string_equal(addr,
	    "tcii5slrvulroe3fqzncjhccbuckm3yqh6ltuywyibgof5fpd3rpycyd.onion");
	assert_int_equal(onion_id_decode(back, addr, ONION_ID_LEN), 0);
	assert_memory_equal(back, pk, 32);
}

static void
test_addr_valid(void **state)
{
	char a[ONION_ADDR_LEN + 2];
	size_t i;
	const char *alpha = "abcdefghijklmnopqrstuvwxyz234567";

	assert_true(onion_addr_valid(RFC_ADDR));
	assert_false(onion_addr_valid(NULL));
	assert_false(onion_addr_valid(""));
	assert_false(onion_addr_valid(".onion"));
	/* No suffix, a different suffix, a trailing dot, upper case. */
	assert_false(onion_addr_valid(
	    "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid"));
	assert_false(onion_addr_valid(
	    "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onio"));
	assert_false(onion_addr_valid(RFC_ADDR "."));
	assert_false(onion_addr_valid(
	    "25NJQAMCWEFLPVKL73J4SZAHHIHOC4XT3KTCGJNPAINGR5YHKENL5SID.onion"));
	/* A v2 address. */
	assert_false(onion_addr_valid("expyuzz4wqqyqhjn.onion"));
	/* Any one character changed: checksum, version or alphabet. */
	for (i = 0; i < ONION_ID_LEN; i++) {
		size_t j;

		for (j = 0; j < 32; j += 7) {
			strcpy(a, RFC_ADDR);
			if (a[i] == alpha[j])
				continue;
			a[i] = alpha[j];
			assert_false(onion_addr_valid(a));
		}
		strcpy(a, RFC_ADDR);
		a[i] = '1';
		assert_false(onion_addr_valid(a));
	}
}

static void
test_version_refused(void **state)
{
	/* RFC key, version 2, checksum computed over version 2: only the
	 * version is wrong. */
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct sha3_256_state st;
	uint8_t raw[35], h[32], v = 2;
	char a[ONION_ADDR_LEN + 1];
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	unhex(raw, 32, RFC_PK);
	sha3_256_init(&st);
	sha3_256_update(&st, ".onion checksum", 15);
	sha3_256_update(&st, raw, 32);
	sha3_256_update(&st, &v, 1);
	sha3_256_final(&st, h);
	raw[32] = h[0];
	raw[33] = h[1];
	raw[34] = v;
	for (i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		for (bits += 8; bits >= 5; bits -= 5)
			a[o++] = alpha[(acc >> (bits - 5)) & 31];
	}
	strcpy(a + o, ".onion");
	assert_int_equal(strlen(a), ONION_ADDR_LEN);
	assert_false(onion_addr_valid(a));
}

static void
test_small_order_refused(void **state)
{
	/* The identity point has a correct checksum when we compute one,
	 * but it is no service key: tor refuses it, so do we. */
	uint8_t pk[32] = {1};
	char addr[ONION_ADDR_LEN + 1];

	onion_addr_from_pk(addr, pk);
	assert_int_equal(strlen(addr), ONION_ADDR_LEN);
	assert_false(onion_addr_valid(addr));
	assert_int_equal(onion_id_decode(NULL, addr, ONION_ID_LEN), -1);
}

static void
test_id_decode_lengths(void **state)
{
	uint8_t pk[32];

	assert_int_equal(onion_id_decode(pk, RFC_ADDR, ONION_ID_LEN), 0);
	assert_int_equal(onion_id_decode(pk, RFC_ADDR, ONION_ID_LEN - 1), -1);
	assert_int_equal(onion_id_decode(pk, RFC_ADDR, ONION_ID_LEN + 1), -1);
	assert_int_equal(onion_id_decode(pk, RFC_ADDR, 0), -1);
}

/* Issue 15: tor's spelling of an x25519 client key, one way only. */
static void
test_auth_keys(void **state)
{
	uint8_t sk[ONION_AUTH_KEY_BYTES], pk[ONION_AUTH_KEY_BYTES];
	uint8_t back[ONION_AUTH_KEY_BYTES], want[ONION_AUTH_KEY_BYTES];
	char b32[ONION_AUTH_B32_LEN + 1], bad[ONION_AUTH_B32_LEN + 2];
	char blob[ONION_AUTH_SK_BLOB_LEN + 1];

	memset(sk, 0x21, sizeof(sk));
	onion_auth_pk_from_sk(pk, sk);
	assert_int_equal(crypto_scalarmult_curve25519_base(want, sk), 0);
	assert_memory_equal(pk, want, sizeof(pk));
	onion_auth_pk_encode(b32, pk);
	assert_int_equal(strlen(b32), ONION_AUTH_B32_LEN);
	assert_int_equal(onion_auth_pk_decode(back, b32), 0);
	assert_memory_equal(back, pk, sizeof(pk));
	/* 0x5a bytes: RFC 4648 base32, lower case, no padding */
	memset(pk, 0x5a, sizeof(pk));
	onion_auth_pk_encode(b32, pk);
	assert_string_equal(b32, "ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2"
	    "ljnfuws2ljna");
	/* Other spellings of the same bits, other lengths, zero. */
	strcpy(bad, b32);
	bad[ONION_AUTH_B32_LEN - 1] = 'b';
	assert_int_equal(onion_auth_pk_decode(back, bad), -1);
	strcpy(bad, b32);
	bad[0] = 'L';
	assert_int_equal(onion_auth_pk_decode(back, bad), -1);
	strcpy(bad, b32);
	strcat(bad, "a");
	assert_int_equal(onion_auth_pk_decode(back, bad), -1);
	bad[ONION_AUTH_B32_LEN - 1] = '\0';
	assert_int_equal(onion_auth_pk_decode(back, bad), -1);
	assert_int_equal(onion_auth_pk_decode(back, NULL), -1);
	memset(bad, 'a', ONION_AUTH_B32_LEN);
	bad[ONION_AUTH_B32_LEN] = '\0';
	assert_int_equal(onion_auth_pk_decode(back, bad), -1);
	bad[3] = '1';
	assert_int_equal(onion_auth_pk_decode(back, bad), -1);
	/* The secret as ONION_CLIENT_AUTH_ADD takes it. */
	assert_int_equal(onion_auth_sk_blob(blob, sizeof(blob), sk), 0);
	assert_string_equal(blob, "x25519:ISEhISEhISEhISEhISEhISEhISEhISEhISEh"
	    "ISEhISE=");
	assert_int_equal(onion_auth_sk_blob(blob, ONION_AUTH_SK_BLOB_LEN,
	    sk), -1);
}

static void
test_blob_roundtrip(void **state)
{
	uint8_t seed[32];
	struct onion_key k, back;
	char blob[ONION_BLOB_LEN + 1], why[160], addr[ONION_ADDR_LEN + 1];
	int i;

	for (i = 0; i < 50; i++) {
		randombytes_buf(seed, sizeof(seed));
		assert_int_equal(onion_key_from_seed(&k, seed), 0);
		assert_int_equal(onion_key_blob(blob, sizeof(blob), &k), 0);
		assert_int_equal(onion_key_from_blob(&back, blob, why,
		    sizeof(why)), 0);
		assert_memory_equal(back.pk, k.pk, 32);
		assert_memory_equal(back.expanded, k.expanded, 64);
		onion_addr_from_pk(addr, k.pk);
		assert_true(onion_addr_valid(addr));
	}
}

static void
test_blob_refused(void **state)
{
	struct onion_key k;
	char why[160], bad[ONION_BLOB_LEN + 8];

	assert_int_equal(onion_key_from_blob(&k, "RSA1024:abc", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "ED25519-V3:"));
	assert_int_equal(onion_key_from_blob(&k, "ED25519-V3:abc", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "fewer"));
	snprintf(bad, sizeof(bad), "%sA", RFC_BLOB);
	assert_int_equal(onion_key_from_blob(&k, bad, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more"));
	/* Right length, not base64. */
	strcpy(bad, RFC_BLOB);
	bad[20] = '!';
	assert_int_equal(onion_key_from_blob(&k, bad, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "base64"));
	/* Unclamped: first byte 0x31 has low bits set ("MH" -> "MX"). */
	strcpy(bad, RFC_BLOB);
	bad[12] = 'X';
	assert_int_equal(onion_key_from_blob(&k, bad, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "clamped"));
	assert_true(sodium_is_zero((const unsigned char *)&k, sizeof(k)));
	/* The message never holds the key. */
	assert_null(strstr(why, "MHyD"));
	/* And the good one gives the RFC public key. */
	assert_int_equal(onion_key_from_blob(&k, RFC_BLOB, why, sizeof(why)),
	    0);
	{
		uint8_t pk[32];

		unhex(pk, 32, RFC_PK);
		assert_memory_equal(k.pk, pk, 32);
	}
}

static int
print_key(const char *hex)
{
	uint8_t seed[32];
	size_t n = 0;
	struct onion_key k;
	char addr[ONION_ADDR_LEN + 1], blob[ONION_BLOB_LEN + 1];

	if (sodium_hex2bin(seed, sizeof(seed), hex, strlen(hex), NULL, &n,
	    NULL) != 0 || n != sizeof(seed) || strlen(hex) != 64) {
		fprintf(stderr, "test_onion: seed must be 64 hex digits\n");
		return 2;
	}
	if (onion_key_from_seed(&k, seed) != 0 ||
	    onion_key_blob(blob, sizeof(blob), &k) != 0)
		return 1;
	onion_addr_from_pk(addr, k.pk);
	printf("%s %s\n", blob, addr);
	onion_key_wipe(&k);
	sodium_memzero(blob, sizeof(blob));
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8032_vector),
		cmocka_unit_test(test_second_vector),
		cmocka_unit_test(test_addr_valid),
		cmocka_unit_test(test_version_refused),
		cmocka_unit_test(test_small_order_refused),
		cmocka_unit_test(test_id_decode_lengths),
		cmocka_unit_test(test_blob_roundtrip),
		cmocka_unit_test(test_auth_keys),
		cmocka_unit_test(test_blob_refused),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--print-key") == 0)
		return print_key(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
