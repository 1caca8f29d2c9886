/*
 * What every onionmesh fuzz target and the seed generator share: fixed
 * keys, a deterministic random source, and FUZZ_CHECK for the properties
 * a target asserts beyond "does not crash".
 *
 * The random source is why this file exists. libsodium lets a program
 * replace randombytes; the targets replace it with a ChaCha20 stream
 * that restarts for every input, so the ephemeral key a responder draws
 * for input N is the one it drew for the same input before. That makes
 * a crash reproducible, and it lets gen_corpus.c compute, offline, the
 * session keys a fuzzed responder will derive, so seeds can carry DATA
 * frames that authenticate and the fuzzer starts behind the handshake.
 * Nothing else in a target may draw random bytes before the code under
 * test does, or the seeds stop matching (which costs coverage, not
 * correctness).
 *
 * Everything is static inline so each target takes what it uses.
 */
#ifndef OM_FUZZ_COMMON_H
#define OM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/log.h"
#include "proto/noise.h"

/* A property that must hold: report it and stop where a fuzzer sees it
 * (a trap is a crash to libFuzzer, with the input saved). */
#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", \
			    #cond, __FILE__, __LINE__);                   \
			__builtin_trap();                                 \
		}                                                         \
	} while (0)

/* ---- deterministic randombytes ---- */

#define FUZZ_RNG_POOL 4096

struct fuzz_rng {
	uint8_t pool[FUZZ_RNG_POOL];
	size_t off;
	int ready;
};

static inline struct fuzz_rng *
fuzz_rng(void)
{
	static struct fuzz_rng r;

	return &r;
}

/* The pool is the ChaCha20 stream of a fixed key: the same on every
 * machine, so seeds generated once stay valid. */
static inline void
fuzz_rng_fill(void)
{
	static const uint8_t key[crypto_stream_chacha20_KEYBYTES] =
	    "onionmesh fuzz rng key 32 bytes";
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	struct fuzz_rng *r = fuzz_rng();

	if (!r->ready) {
		crypto_stream_chacha20(r->pool, sizeof(r->pool), nonce, key);
		r->ready = 1;
	}
}

static inline void
fuzz_rng_reset(void)
{
	fuzz_rng()->off = 0;
}

static inline void
fuzz_rng_buf(void *const buf, const size_t size)
{
	struct fuzz_rng *r = fuzz_rng();
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < size; i++) {
		p[i] = r->pool[r->off];
		r->off = (r->off + 1) % sizeof(r->pool);
	}
}

static inline uint32_t
fuzz_rng_random(void)
{
	uint8_t b[4];

	fuzz_rng_buf(b, sizeof(b));
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static inline const char *
fuzz_rng_name(void)
{
	return "onionmesh-fuzz";
}

/* The pool itself (for gen_corpus: what a fresh responder draws). */
static inline const uint8_t *
fuzz_rng_pool(void)
{
	return fuzz_rng()->pool;
}

/* fuzz_noise: what its fixed initiator says, so gen_corpus.c can write
 * the responder's answer to it. */
#define FUZZ_NOISE_PROLOGUE "onionmesh/1 fuzz"
#define FUZZ_NOISE_PAYLOAD  "fuzz payload"

/* ---- fixed keys ---- */

struct fuzz_keys {
	uint8_t r_priv[NOISE_DHLEN], r_pub[NOISE_DHLEN]; /* responder */
	uint8_t i_priv[NOISE_DHLEN], i_pub[NOISE_DHLEN]; /* initiator */
	uint8_t x_priv[NOISE_DHLEN], x_pub[NOISE_DHLEN]; /* a stranger */
	uint8_t e_i[NOISE_DHLEN];                        /* initiator eph. */
	uint8_t e_r[NOISE_DHLEN];                        /* responder eph. */
	uint8_t data_key[NOISE_KEYLEN];                  /* fuzz_wire */
	uint8_t netid[32];
	uint8_t sign_pk[32], sign_sk[64];                /* records */
	uint8_t sign2_pk[32], sign2_sk[64];
};

static inline void
fuzz_fill(uint8_t *p, size_t n, uint8_t tag)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(tag + 7 * i);
}

static inline const struct fuzz_keys *
fuzz_keys(void)
{
	static struct fuzz_keys k;
	static int ready;
	uint8_t seed[32];

	if (ready)
		return &k;
	fuzz_fill(k.r_priv, sizeof(k.r_priv), 0x11);
	fuzz_fill(k.i_priv, sizeof(k.i_priv), 0x22);
	fuzz_fill(k.x_priv, sizeof(k.x_priv), 0x33);
	fuzz_fill(k.e_i, sizeof(k.e_i), 0x44);
	fuzz_fill(k.e_r, sizeof(k.e_r), 0x55);
	fuzz_fill(k.data_key, sizeof(k.data_key), 0x66);
	crypto_scalarmult_base(k.r_pub, k.r_priv);
	crypto_scalarmult_base(k.i_pub, k.i_priv);
	crypto_scalarmult_base(k.x_pub, k.x_priv);
	/* netid_derive("fuzz") would pull record.c into every target;
	 * the value only has to be fixed. */
	fuzz_fill(k.netid, sizeof(k.netid), 0x77);
	fuzz_fill(seed, sizeof(seed), 0x88);
	crypto_sign_seed_keypair(k.sign_pk, k.sign_sk, seed);
	fuzz_fill(seed, sizeof(seed), 0x99);
	crypto_sign_seed_keypair(k.sign2_pk, k.sign2_sk, seed);
	ready = 1;
	return &k;
}

/* noise_dh_fn for the three static keys (arg: the private key). */
static inline int
fuzz_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	return crypto_scalarmult(out, arg, pub) == 0 ? 0 : -1;
}

/* Once per process, before anything uses libsodium. */
static inline void
fuzz_init(void)
{
	static randombytes_implementation impl = {
		.implementation_name = fuzz_rng_name,
		.random = fuzz_rng_random,
		.buf = fuzz_rng_buf,
	};

	fuzz_rng_fill();
	if (randombytes_set_implementation(&impl) != 0 || sodium_init() < 0) {
		fprintf(stderr, "fuzz: libsodium setup failed\n");
		abort();
	}
	(void)fuzz_keys();
	/* Warnings only: a fuzzer printing a line per input is slow. */
	log_init("fuzz", LOG_LVL_WARN, 0);
}

/* A NUL-terminated copy of the input (the text parsers take C strings
 * or want one past the end to be safe to read). Caller frees. */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
