/*
 * Tor v3 onion service keys and addresses (rend-spec-v3, "ONIONADDRESS"),
 * pure: no I/O, no tor.
 *
 * A member's onion service key is a 32-byte Ed25519 seed kept in keyd's
 * key store. tor itself never sees the seed: ADD_ONION takes the
 * *expanded* secret key (SHA-512 of the seed, clamped — what tor writes
 * to hs_ed25519_secret_key), so that is what onion_key_blob() formats.
 * The address is derived from the public key alone:
 *
 *   address  = base32(pubkey || checksum || version) + ".onion"
 *   checksum = SHA3-256(".onion checksum" || pubkey || version)[0..2]
 *   version  = 0x03
 *
 * Addresses are handled in their canonical lower-case form only, so one
 * service has exactly one spelling in host records.
 */
#ifndef OM_ONION_H
#define OM_ONION_H

#include <stddef.h>
#include <stdint.h>

#define ONION_SEED_BYTES     32
#define ONION_PK_BYTES       32
#define ONION_EXPANDED_BYTES 64
#define ONION_VERSION        0x03
#define ONION_ID_LEN         56 /* base32 of 35 bytes: tor's ServiceID */
#ifndef ONION_ADDR_LEN
#define ONION_ADDR_LEN       62 /* 56 + ".onion" (as in record.h) */
#endif
#define ONION_BLOB_PREFIX    "ED25519-V3:"
/* "ED25519-V3:" + base64 of 64 bytes (88 characters with padding). */
#define ONION_BLOB_LEN       (sizeof(ONION_BLOB_PREFIX) - 1 + 88)

struct onion_key {
	uint8_t pk[ONION_PK_BYTES];
	uint8_t expanded[ONION_EXPANDED_BYTES]; /* secret: wipe after use */
};

/* Expanded secret key and public key from a seed. 0 or -1. */
int onion_key_from_seed(struct onion_key *k,
    const uint8_t seed[ONION_SEED_BYTES]) __attribute__((warn_unused_result));
void onion_key_wipe(struct onion_key *k);

/* The ADD_ONION key argument "ED25519-V3:<base64 of expanded key>",
 * NUL-terminated; cap must be > ONION_BLOB_LEN. 0 or -1. The result is
 * a secret: wipe it after use. */
int onion_key_blob(char *out, size_t cap, const struct onion_key *k)
    __attribute__((warn_unused_result));
/* The reverse, for a blob read back from the key store: checks the
 * prefix, the base64, the clamping, and recomputes the public key from
 * the secret scalar. 0, or -1 with the reason (never the blob) in why. */
int onion_key_from_blob(struct onion_key *k, const char *blob, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/* "<56 base32>.onion" (NUL-terminated, ONION_ADDR_LEN + 1 bytes). */
void onion_addr_from_pk(char out[ONION_ADDR_LEN + 1],
    const uint8_t pk[ONION_PK_BYTES]);
/* 1 when s is a canonical v3 address: 56 characters of a-z2-7, then
 * ".onion"; version 3; checksum right; the public key a valid Ed25519
 * point (as tor's hs_address_is_valid checks). Else 0. */
int onion_addr_valid(const char *s);
/* Same check on the first n bytes of s holding only the 56-character
 * service id (no ".onion"), as tor's ServiceID= and HS_DESC events give
 * it; pk (may be NULL) receives the public key. 0 or -1. */
int onion_id_decode(uint8_t pk[ONION_PK_BYTES], const char *s, size_t n)
    __attribute__((warn_unused_result));

/*
 * v3 client authorization (rend-spec-v3 "Client authorization"): an
 * x25519 key pair per client. The service is told the public half
 * (ADD_ONION ClientAuthV3=<52 base32>), the client's tor the secret
 * (ONION_CLIENT_AUTH_ADD <id> x25519:<base64>). onion_auth_pk_decode
 * takes the canonical spelling only: 52 characters of a-z2-7, the
 * unused low bits of the last zero, not all zero.
 */
#define ONION_AUTH_KEY_BYTES   32
#define ONION_AUTH_B32_LEN     52
#define ONION_AUTH_SK_PREFIX   "x25519:"
#define ONION_AUTH_SK_BLOB_LEN (sizeof(ONION_AUTH_SK_PREFIX) - 1 + 44)

void onion_auth_pk_from_sk(uint8_t pk[ONION_AUTH_KEY_BYTES],
    const uint8_t sk[ONION_AUTH_KEY_BYTES]);
void onion_auth_pk_encode(char out[ONION_AUTH_B32_LEN + 1],
    const uint8_t pk[ONION_AUTH_KEY_BYTES]);
int onion_auth_pk_decode(uint8_t pk[ONION_AUTH_KEY_BYTES], const char *s)
    __attribute__((warn_unused_result));
/* "x25519:<base64 of sk>" (cap > ONION_AUTH_SK_BLOB_LEN). A secret:
 * wipe it after use. 0 or -1. */
int onion_auth_sk_blob(char *out, size_t cap,
    const uint8_t sk[ONION_AUTH_KEY_BYTES])
    __attribute__((warn_unused_result));

#endif
