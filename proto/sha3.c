/*
 * SHA3-256: the Keccak-f[1600] permutation and a byte-oriented sponge.
 *
 * The state is kept as 25 little-endian 64-bit lanes; input bytes are
 * XORed into lanes one at a time, so any input split is handled without
 * a separate block buffer and without alignment assumptions. Speed does
 * not matter here (an onion checksum hashes 48 bytes), clarity does: the
 * permutation is the textbook theta, rho+pi, chi, iota round.
 */
#include "proto/sha3.h"

#include <string.h>

#include <sodium.h>

static const uint64_t keccak_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation offsets and the pi lane order, walked together (as in the
 * reference "compact" Keccak): lane keccak_pi[i] receives the previous
 * lane rotated by keccak_rho[i]. */
static const unsigned keccak_rho[24] = {
	1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
	27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
};

static const unsigned keccak_pi[24] = {
	10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
	15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
};

static inline uint64_t
rotl64(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

static void
keccak_f1600(uint64_t s[25])
{
	uint64_t c[5], t;
	unsigned r, i, j;

	for (r = 0; r < 24; r++) {
		/* theta */
		for (i = 0; i < 5; i++)
			c[i] = s[i] ^ s[i + 5] ^ s[i + 10] ^ s[i + 15] ^
			    s[i + 20];
		for (i = 0; i < 5; i++) {
			t = c[(i + 4) % 5] ^ rotl64(c[(i + 1) % 5], 1);
			for (j = 0; j < 25; j += 5)
				s[j + i] ^= t;
		}
		/* rho and pi */
		t = s[1];
		for (i = 0; i < 24; i++) {
			j = keccak_pi[i];
			c[0] = s[j];
			s[j] = rotl64(t, keccak_rho[i]);
			t = c[0];
		}
		/* chi */
		for (j = 0; j < 25; j += 5) {
			for (i = 0; i < 5; i++)
				c[i] = s[j + i];
			for (i = 0; i < 5; i++)
				s[j + i] ^= (~c[(i + 1) % 5]) & c[(i + 2) % 5];
		}
		/* iota */
		s[0] ^= keccak_rc[r];
	}
}

static inline void
sha3_xor_byte(struct sha3_256_state *st, size_t pos, uint8_t b)
{
	st->s[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

void
sha3_256_init(struct sha3_256_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
sha3_256_update(struct sha3_256_state *st, const void *m, size_t n)
{
	const uint8_t *p = m;
	size_t i;

	for (i = 0; i < n; i++) {
		sha3_xor_byte(st, st->pos, p[i]);
		if (++st->pos == SHA3_256_RATE) {
			keccak_f1600(st->s);
			st->pos = 0;
		}
	}
}

void
sha3_256_final(struct sha3_256_state *st, uint8_t out[SHA3_256_BYTES])
{
	size_t i;

	/* SHA-3 domain suffix 01, then pad10*1: 0x06 ... 0x80. */
	sha3_xor_byte(st, st->pos, 0x06);
	sha3_xor_byte(st, SHA3_256_RATE - 1, 0x80);
	keccak_f1600(st->s);
	for (i = 0; i < SHA3_256_BYTES; i++)
		out[i] = (uint8_t)(st->s[i / 8] >> (8 * (i % 8)));
	sodium_memzero(st, sizeof(*st));
}

void
sha3_256(uint8_t out[SHA3_256_BYTES], const void *m, size_t n)
{
	struct sha3_256_state st;

	sha3_256_init(&st);
	sha3_256_update(&st, m, n);
	sha3_256_final(&st, out);
}
