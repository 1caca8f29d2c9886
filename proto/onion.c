/*
 * Tor v3 onion keys and addresses, computed the way tor computes them, so
 * keyd knows its own address before tor is even running (it goes into the
 * signed host record) and can check that tor's ServiceID agrees.
 *
 * Two details decide whether tor agrees with us:
 *  - the key tor takes is the expanded Ed25519 secret key, i.e. SHA-512 of
 *    the seed with the usual clamping (tor's ed25519_secret_key_from_seed);
 *    the public key is the one libsodium derives from the same seed;
 *  - base32 is RFC 4648 lower case without padding: 35 bytes are exactly
 *    56 characters, so there is never padding to argue about.
 * tests/tornet/check_onion_key.sh has tor itself confirm both.
 */
#include "proto/onion.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/sha3.h"

#define ONION_RAW_BYTES  (ONION_PK_BYTES + 2 + 1) /* pk, checksum, version */
#define ONION_CSUM_PREFIX ".onion checksum"
#define B64_LEN          88 /* base64 of 64 bytes, with "==" */

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
onion_checksum(uint8_t out[2], const uint8_t pk[ONION_PK_BYTES])
{
	struct sha3_256_state st;
	uint8_t h[SHA3_256_BYTES];
	uint8_t v = ONION_VERSION;

	sha3_256_init(&st);
	sha3_256_update(&st, ONION_CSUM_PREFIX, sizeof(ONION_CSUM_PREFIX) - 1);
	sha3_256_update(&st, pk, ONION_PK_BYTES);
	sha3_256_update(&st, &v, 1);
	sha3_256_final(&st, h);
	out[0] = h[0];
	out[1] = h[1];
}

int
onion_key_from_seed(struct onion_key *k, const uint8_t seed[ONION_SEED_BYTES])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];

	if (crypto_sign_seed_keypair(k->pk, sk, seed) != 0) {
		sodium_memzero(sk, sizeof(sk));
		return -1;
	}
	sodium_memzero(sk, sizeof(sk));
	/* tor's expanded key: the scalar (clamped) and the nonce prefix. */
	if (crypto_hash_sha512(k->expanded, seed, ONION_SEED_BYTES) != 0)
		return -1;
	k->expanded[0] &= 248;
	k->expanded[31] &= 63;
	k->expanded[31] |= 64;
	return 0;
}

void
onion_key_wipe(struct onion_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

int
onion_key_blob(char *out, size_t cap, const struct onion_key *k)
{
	const size_t plen = sizeof(ONION_BLOB_PREFIX) - 1;

	if (cap < ONION_BLOB_LEN + 1)
		return -1;
	memcpy(out, ONION_BLOB_PREFIX, plen);
	sodium_bin2base64(out + plen, cap - plen, k->expanded,
	    ONION_EXPANDED_BYTES, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
onion_key_from_blob(struct onion_key *k, const char *blob, char *why,
    size_t whylen)
{
	const size_t plen = sizeof(ONION_BLOB_PREFIX) - 1;
	size_t blen = strnlen(blob, ONION_BLOB_LEN + 1), binlen = 0, i;
	const char *end = NULL;
	unsigned char high = 0;

	memset(k, 0, sizeof(*k));
	if (strncmp(blob, ONION_BLOB_PREFIX, plen) != 0) {
		snprintf(why, whylen, "onion key does not start with \"%s\"",
		    ONION_BLOB_PREFIX);
		return -1;
	}
	if (blen != ONION_BLOB_LEN) {
		snprintf(why, whylen, "onion key has %s than %zu characters "
		    "(want \"%s\" and %d base64 characters)",
		    blen < ONION_BLOB_LEN ? "fewer" : "more",
		    (size_t)ONION_BLOB_LEN, ONION_BLOB_PREFIX, B64_LEN);
		return -1;
	}
	/* libsodium 1.0.18 decodes every byte 0x80..0xff as '/', so a
	 * blob with such bytes would load as some other spelling of a
	 * key. Refuse them first, without branching on the secret. */
	for (i = plen; i < ONION_BLOB_LEN; i++)
		high |= (unsigned char)blob[i];
	if (high & 0x80) {
		snprintf(why, whylen, "onion key is not base64 of %d bytes",
		    ONION_EXPANDED_BYTES);
		return -1;
	}
	if (sodium_base642bin(k->expanded, sizeof(k->expanded), blob + plen,
	    B64_LEN, NULL, &binlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen != ONION_EXPANDED_BYTES || end != blob + ONION_BLOB_LEN) {
		snprintf(why, whylen, "onion key is not base64 of %d bytes",
		    ONION_EXPANDED_BYTES);
		goto fail;
	}
	if ((k->expanded[0] & 7) != 0 || (k->expanded[31] & 0xc0) != 0x40) {
		snprintf(why, whylen, "onion key is not a clamped Ed25519 "
		    "scalar (not an expanded secret key)");
		goto fail;
	}
	if (crypto_scalarmult_ed25519_base_noclamp(k->pk, k->expanded) != 0) {
		snprintf(why, whylen, "onion key gives no public key");
		goto fail;
	}
	return 0;
fail:
	onion_key_wipe(k);
	return -1;
}

/* RFC 4648 base32, lower case, no padding: n bytes into out (at least
 * (8 * n + 4) / 5 + 1 bytes), NUL-terminated; unused low bits of the
 * last character are zero. */
static void
b32_encode(char *out, const uint8_t *in, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

void
onion_addr_from_pk(char out[ONION_ADDR_LEN + 1],
    const uint8_t pk[ONION_PK_BYTES])
{
	uint8_t raw[ONION_RAW_BYTES];

	memcpy(raw, pk, ONION_PK_BYTES);
	onion_checksum(raw + ONION_PK_BYTES, pk);
	raw[ONION_PK_BYTES + 2] = ONION_VERSION;
	/* 35 * 8 = 280 = 56 * 5: nothing is left over. */
	b32_encode(out, raw, sizeof(raw));
	memcpy(out + ONION_ID_LEN, ".onion", sizeof(".onion"));
}

static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* The reverse of b32_encode for exactly len characters into n bytes
 * (len == (8 * n + 4) / 5): one spelling only (lower case, unused low
 * bits zero). 0 or -1. */
static int
b32_decode(uint8_t *out, size_t n, const char *s, size_t len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;
	int v;

	if (len != (8 * n + 4) / 5)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b32_value(s[i])) < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (acc & ((1u << bits) - 1)) == 0 ? 0 : -1;
}

int
onion_id_decode(uint8_t pk[ONION_PK_BYTES], const char *s, size_t n)
{
	uint8_t raw[ONION_RAW_BYTES], csum[2];

	if (n != ONION_ID_LEN || b32_decode(raw, sizeof(raw), s, n) != 0)
		return -1;
	if (raw[ONION_PK_BYTES + 2] != ONION_VERSION)
		return -1;
	onion_checksum(csum, raw);
	if (csum[0] != raw[ONION_PK_BYTES] ||
	    csum[1] != raw[ONION_PK_BYTES + 1])
		return -1;
	if (crypto_core_ed25519_is_valid_point(raw) != 1)
		return -1;
	if (pk != NULL)
		memcpy(pk, raw, ONION_PK_BYTES);
	return 0;
}

int
onion_addr_valid(const char *s)
{
	if (s == NULL || strnlen(s, ONION_ADDR_LEN + 1) != ONION_ADDR_LEN ||
	    strcmp(s + ONION_ID_LEN, ".onion") != 0)
		return 0;
	return onion_id_decode(NULL, s, ONION_ID_LEN) == 0;
}

void
onion_auth_pk_from_sk(uint8_t pk[ONION_AUTH_KEY_BYTES],
    const uint8_t sk[ONION_AUTH_KEY_BYTES])
{
	/* libsodium clamps the scalar as tor's curve25519 does. */
	if (crypto_scalarmult_curve25519_base(pk, sk) != 0)
		memset(pk, 0, ONION_AUTH_KEY_BYTES);
}

void
onion_auth_pk_encode(char out[ONION_AUTH_B32_LEN + 1],
    const uint8_t pk[ONION_AUTH_KEY_BYTES])
{
	b32_encode(out, pk, ONION_AUTH_KEY_BYTES);
}

int
onion_auth_pk_decode(uint8_t pk[ONION_AUTH_KEY_BYTES], const char *s)
{
	uint8_t raw[ONION_AUTH_KEY_BYTES];
	size_t i;

	if (s == NULL || strnlen(s, ONION_AUTH_B32_LEN + 1) !=
	    ONION_AUTH_B32_LEN || b32_decode(raw, sizeof(raw), s,
	    ONION_AUTH_B32_LEN) != 0)
		return -1;
	/* All zero is no key (and what a failed derivation leaves). */
	for (i = 0; i < sizeof(raw) && raw[i] == 0; i++)
		;
	if (i == sizeof(raw))
		return -1;
	memcpy(pk, raw, sizeof(raw));
	return 0;
}

int
onion_auth_sk_blob(char *out, size_t cap,
    const uint8_t sk[ONION_AUTH_KEY_BYTES])
{
	size_t p = sizeof(ONION_AUTH_SK_PREFIX) - 1;

	if (cap <= ONION_AUTH_SK_BLOB_LEN)
		return -1;
	memcpy(out, ONION_AUTH_SK_PREFIX, p);
	sodium_bin2base64(out + p, cap - p, sk, ONION_AUTH_KEY_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	return 0;
}
