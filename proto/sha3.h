/*
 * SHA3-256 (FIPS 202), for the one place onionmesh needs it: the checksum
 * inside a Tor v3 onion address. libsodium has no SHA-3, and pulling in
 * another crypto library for two bytes of checksum is not worth it, so
 * this is a small, plain Keccak-f[1600] sponge. It is not used for any
 * secret, so no effort goes into side-channel hardening beyond Keccak
 * being constant-time by construction.
 */
#ifndef OM_SHA3_H
#define OM_SHA3_H

#include <stddef.h>
#include <stdint.h>

#define SHA3_256_BYTES 32
#define SHA3_256_RATE  136 /* (1600 - 2 * 256) / 8 */

struct sha3_256_state {
	uint64_t s[25];
	size_t pos; /* bytes absorbed into the current block */
};

void sha3_256_init(struct sha3_256_state *st);
void sha3_256_update(struct sha3_256_state *st, const void *m, size_t n);
/* Writes the digest and wipes the state. */
void sha3_256_final(struct sha3_256_state *st, uint8_t out[SHA3_256_BYTES]);
/* One-shot. */
void sha3_256(uint8_t out[SHA3_256_BYTES], const void *m, size_t n);

#endif
