/*
 * Noise IK (Noise_IK_25519_ChaChaPoly_BLAKE2b) from libsodium primitives:
 * X25519, ChaCha20-Poly1305 (IETF, nonce = 4 zero bytes || LE64 counter),
 * BLAKE2b with HMAC/HKDF as the Noise spec defines them.
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss
 *   <- e, ee, se
 *
 * It never touches a socket. Every DH with the local static key goes
 * through a callback, because in linkd the static secret lives in keyd
 * (keyd_dh()); unit tests pass a callback holding the test vector's key.
 */
#ifndef OM_NOISE_H
#define OM_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_DHLEN      32
#define NOISE_HASHLEN    64
#define NOISE_KEYLEN     32
#define NOISE_TAGLEN     16
#define NOISE_MAX_NONCE  UINT64_MAX /* 2^64-1 is reserved by Noise */
#define NOISE_PROTOCOL   "Noise_IK_25519_ChaChaPoly_BLAKE2b"

/* msg1 = e(32) + enc(s)(32+16) + enc(payload)(len+16)
 * msg2 = e(32) + enc(payload)(len+16) */
#define NOISE_MSG1_OVERHEAD (32 + 48 + 16)
#define NOISE_MSG2_OVERHEAD (32 + 16)

/* DH with the local static secret: out = X25519(s, pub). 0 or -1. */
typedef int (*noise_dh_fn)(void *arg, uint8_t out[NOISE_DHLEN],
    const uint8_t pub[NOISE_DHLEN]);

struct noise_cipher {
	uint8_t k[NOISE_KEYLEN];
	uint64_t n;
	int has_k;
};

struct noise_hs {
	int initiator;
	int step;                 /* next message index */
	uint8_t ck[NOISE_HASHLEN];
	uint8_t h[NOISE_HASHLEN];
	struct noise_cipher cs;
	uint8_t s_pub[NOISE_DHLEN];
	uint8_t e_priv[NOISE_DHLEN];
	uint8_t e_pub[NOISE_DHLEN];
	uint8_t rs[NOISE_DHLEN];  /* responder learns it from msg1 */
	uint8_t re[NOISE_DHLEN];
	noise_dh_fn dh_static;
	void *dh_arg;
};

/* rs is the responder's static public key (initiator only; NULL for the
 * responder). A fresh ephemeral is generated; tests override it with
 * noise_hs_set_ephemeral before the first message. */
int noise_hs_init(struct noise_hs *hs, int initiator, const uint8_t *prologue,
    size_t prologue_len, const uint8_t s_pub[NOISE_DHLEN],
    const uint8_t *rs, noise_dh_fn dh_static, void *dh_arg)
    __attribute__((warn_unused_result));
void noise_hs_set_ephemeral(struct noise_hs *hs,
    const uint8_t e_priv[NOISE_DHLEN]);

/* Each returns bytes written/payload length, or -1 (bad input, failed
 * decryption, low-order point, out of order call). */
int noise_write_msg1(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap) __attribute__((warn_unused_result));
int noise_read_msg1(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap) __attribute__((warn_unused_result));
int noise_write_msg2(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap) __attribute__((warn_unused_result));
int noise_read_msg2(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap) __attribute__((warn_unused_result));

/* After msg2: c1 encrypts initiator->responder, c2 the other way. The
 * handshake state is wiped. */
void noise_split(struct noise_hs *hs, struct noise_cipher *c1,
    struct noise_cipher *c2);
void noise_hs_wipe(struct noise_hs *hs);

/* Transport: AEAD with an explicit nonce (the frame's counter). Return
 * ciphertext/plaintext length or -1. out may not overlap in. */
int noise_encrypt(const uint8_t k[NOISE_KEYLEN], uint64_t n,
    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t ptlen,
    uint8_t *out) __attribute__((warn_unused_result));
int noise_decrypt(const uint8_t k[NOISE_KEYLEN], uint64_t n,
    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t ctlen,
    uint8_t *out) __attribute__((warn_unused_result));

/* BLAKE2b hash and HMAC-BLAKE2b, exported for the test vectors and the
 * handshake's mac1. */
void noise_hash(uint8_t out[NOISE_HASHLEN], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen);
void noise_hmac(uint8_t out[NOISE_HASHLEN], const uint8_t *key,
    size_t keylen, const uint8_t *data, size_t len);

#endif
