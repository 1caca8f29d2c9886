/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2b, written from the Noise specification
 * (revision 34) over libsodium primitives.
 *
 * Only the one pattern onionmesh speaks is here, spelled out message by
 * message instead of interpreting token lists: IK has two messages, and a
 * straight-line reader can check each step against the spec's table. The
 * symmetric-state helpers (MixKey, MixHash, EncryptAndHash, ...) keep the
 * spec's names so the two can be read side by side.
 *
 * Every DH that involves the local static key goes through the caller's
 * callback (keyd holds the secret in linkd); DHs with the ephemeral are
 * done here. Any DH whose output is all zeros (a low-order point) fails the
 * handshake, as does a callback that returns one.
 */
#include "proto/noise.h"

#include <string.h>

#include <sodium.h>

#define NOISE_BLOCKLEN 128
#define NOISE_NONCELEN 12

/* ---- primitives ---- */

static void
noise_nonce(uint8_t out[NOISE_NONCELEN], uint64_t n)
{
	int i;

	/* 32 bits of zeros, then the counter little-endian. */
	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(n >> (8 * i));
}

void
noise_hash(uint8_t out[NOISE_HASHLEN], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
	if (alen)
		crypto_generichash_blake2b_update(&st, a, alen);
	if (blen)
		crypto_generichash_blake2b_update(&st, b, blen);
	crypto_generichash_blake2b_final(&st, out, NOISE_HASHLEN);
	sodium_memzero(&st, sizeof(st));
}

/* HMAC (RFC 2104) over BLAKE2b with the data in two parts, because HKDF
 * needs HMAC(temp_key, output1 || 0x02). */
static void
noise_hmac2(uint8_t out[NOISE_HASHLEN], const uint8_t *key, size_t keylen,
    const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2)
{
	crypto_generichash_blake2b_state st;
	uint8_t k0[NOISE_BLOCKLEN], pad[NOISE_BLOCKLEN];
	uint8_t inner[NOISE_HASHLEN];
	size_t i;

	memset(k0, 0, sizeof(k0));
	if (keylen > NOISE_BLOCKLEN)
		noise_hash(k0, key, keylen, NULL, 0);
	else if (keylen)
		memcpy(k0, key, keylen);

	for (i = 0; i < NOISE_BLOCKLEN; i++)
		pad[i] = k0[i] ^ 0x36;
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	if (l1)
		crypto_generichash_blake2b_update(&st, d1, l1);
	if (l2)
		crypto_generichash_blake2b_update(&st, d2, l2);
	crypto_generichash_blake2b_final(&st, inner, sizeof(inner));

	for (i = 0; i < NOISE_BLOCKLEN; i++)
		pad[i] = k0[i] ^ 0x5c;
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	crypto_generichash_blake2b_update(&st, inner, sizeof(inner));
	crypto_generichash_blake2b_final(&st, out, NOISE_HASHLEN);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(k0, sizeof(k0));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void
noise_hmac(uint8_t out[NOISE_HASHLEN], const uint8_t *key, size_t keylen,
    const uint8_t *data, size_t len)
{
	noise_hmac2(out, key, keylen, data, len, NULL, 0);
}

/* HKDF as Noise section 4.3 defines it, always with two outputs: IK never
 * needs a third (that is only for PSK modes). */
static void
noise_hkdf2(uint8_t o1[NOISE_HASHLEN], uint8_t o2[NOISE_HASHLEN],
    const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm, size_t ikmlen)
{
	uint8_t tk[NOISE_HASHLEN];
	const uint8_t one = 0x01, two = 0x02;

	noise_hmac(tk, ck, NOISE_HASHLEN, ikm, ikmlen);
	noise_hmac(o1, tk, sizeof(tk), &one, 1);
	noise_hmac2(o2, tk, sizeof(tk), o1, NOISE_HASHLEN, &two, 1);
	sodium_memzero(tk, sizeof(tk));
}

int
noise_encrypt(const uint8_t k[NOISE_KEYLEN], uint64_t n, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t nonce[NOISE_NONCELEN];
	unsigned long long clen;

	/* 2^64-1 is reserved: Noise never encrypts with it. */
	if (n == NOISE_MAX_NONCE || ptlen > (size_t)INT32_MAX - NOISE_TAGLEN)
		return -1;
	noise_nonce(nonce, n);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, ptlen,
	    ad, adlen, NULL, nonce, k) != 0)
		return -1;
	return (int)clen;
}

int
noise_decrypt(const uint8_t k[NOISE_KEYLEN], uint64_t n, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t nonce[NOISE_NONCELEN];
	unsigned long long plen;

	if (n == NOISE_MAX_NONCE || ctlen < NOISE_TAGLEN ||
	    ctlen > (size_t)INT32_MAX)
		return -1;
	noise_nonce(nonce, n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, ct,
	    ctlen, ad, adlen, nonce, k) != 0)
		return -1;
	return (int)plen;
}

/* Ephemeral DH, done here: libsodium refuses an all-zero result. */
static int
noise_dh_local(uint8_t out[NOISE_DHLEN], const uint8_t priv[NOISE_DHLEN],
    const uint8_t pub[NOISE_DHLEN])
{
	if (crypto_scalarmult(out, priv, pub) != 0) {
		sodium_memzero(out, NOISE_DHLEN);
		return -1;
	}
	return 0;
}

/* Static DH, through the caller. The callback may be a plain
 * crypto_scalarmult or an RPC to keyd; check its output here either way
 * rather than trust it to reject low-order points. */
static int
noise_dh_static(struct noise_hs *hs, uint8_t out[NOISE_DHLEN],
    const uint8_t pub[NOISE_DHLEN])
{
	if (hs->dh_static == NULL ||
	    hs->dh_static(hs->dh_arg, out, pub) != 0 ||
	    sodium_is_zero(out, NOISE_DHLEN)) {
		sodium_memzero(out, NOISE_DHLEN);
		return -1;
	}
	return 0;
}

/* ---- symmetric state (spec section 5.2) ---- */

static void
mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	noise_hash(hs->h, hs->h, NOISE_HASHLEN, data, len);
}

static void
mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t tk[NOISE_HASHLEN];

	noise_hkdf2(hs->ck, tk, hs->ck, ikm, len);
	/* HASHLEN is 64: the cipher key is the first 32 bytes. */
	memcpy(hs->cs.k, tk, NOISE_KEYLEN);
	hs->cs.n = 0;
	hs->cs.has_k = 1;
	sodium_memzero(tk, sizeof(tk));
}

/* MixKey(DH(...)) with a freshly computed secret, wiped right after. */
static int
mix_dh(struct noise_hs *hs, int is_static, const uint8_t *priv,
    const uint8_t pub[NOISE_DHLEN])
{
	uint8_t dh[NOISE_DHLEN];
	int rc;

	if (is_static)
		rc = noise_dh_static(hs, dh, pub);
	else
		rc = noise_dh_local(dh, priv, pub);
	if (rc == 0)
		mix_key(hs, dh, sizeof(dh));
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

/* EncryptAndHash (encrypt: out gets len + TAGLEN bytes) or
 * DecryptAndHash (out gets len - TAGLEN); either way the ciphertext is
 * hashed. Every one in IK has a key. */
static int
crypt_and_hash(struct noise_hs *hs, int encrypt, const uint8_t *in,
    size_t len, uint8_t *out)
{
	int n;

	if (!hs->cs.has_k)
		return -1;
	n = (encrypt ? noise_encrypt : noise_decrypt)(hs->cs.k, hs->cs.n,
	    hs->h, NOISE_HASHLEN, in, len, out);
	if (n < 0)
		return -1;
	hs->cs.n++;
	if (encrypt)
		mix_hash(hs, out, (size_t)n);
	else
		mix_hash(hs, in, len);
	return n;
}

/* ---- handshake state ---- */

void
noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[NOISE_DHLEN])
{
	memcpy(hs->e_priv, e_priv, NOISE_DHLEN);
	crypto_scalarmult_base(hs->e_pub, hs->e_priv);
}

int
noise_hs_init(struct noise_hs *hs, int initiator, const uint8_t *prologue,
    size_t prologue_len, const uint8_t s_pub[NOISE_DHLEN], const uint8_t *rs,
    noise_dh_fn dh_static, void *dh_arg)
{
	static const char name[] = NOISE_PROTOCOL;
	uint8_t e[NOISE_DHLEN];

	memset(hs, 0, sizeof(*hs));
	if (s_pub == NULL || dh_static == NULL || (initiator && rs == NULL) ||
	    (prologue == NULL && prologue_len != 0))
		return -1;
	if (sodium_init() < 0)
		return -1;
	hs->initiator = initiator ? 1 : 0;
	hs->dh_static = dh_static;
	hs->dh_arg = dh_arg;
	memcpy(hs->s_pub, s_pub, NOISE_DHLEN);
	if (initiator)
		memcpy(hs->rs, rs, NOISE_DHLEN);

	/* InitializeSymmetric: the name fits in HASHLEN, so it is padded
	 * with zeros rather than hashed. */
	memcpy(hs->h, name, sizeof(name) - 1);
	memcpy(hs->ck, hs->h, NOISE_HASHLEN);
	mix_hash(hs, prologue, prologue_len);
	/* Pre-message "<- s": both sides hash the responder's key. */
	mix_hash(hs, initiator ? hs->rs : hs->s_pub, NOISE_DHLEN);

	randombytes_buf(e, sizeof(e));
	noise_hs_set_ephemeral(hs, e);
	sodium_memzero(e, sizeof(e));
	return 0;
}

/* The checks every handshake message makes first: our role, the step,
 * and room for the payload (plen of room bytes). */
static int
msg_fits(const struct noise_hs *hs, int initiator, int step, size_t plen,
    size_t room, const void *payload)
{
	return !hs->initiator == !initiator && hs->step == step &&
	    plen <= room && (payload != NULL || plen == 0);
}

/* A message written or read (rc: its length) moves to step; a failure
 * (rc < 0) wipes the state, as a half-run handshake is useless, and
 * makes any further call fail. */
static int
hs_end(struct noise_hs *hs, int rc, int step)
{
	if (rc < 0) {
		noise_hs_wipe(hs);
		hs->step = -1;
		return -1;
	}
	hs->step = step;
	return rc;
}

/* Token "e": our ephemeral key out in clear, or the peer's in. */
static void
send_e(struct noise_hs *hs, uint8_t *out)
{
	memcpy(out, hs->e_pub, NOISE_DHLEN);
	mix_hash(hs, hs->e_pub, NOISE_DHLEN);
}

static void
take_e(struct noise_hs *hs, const uint8_t *msg)
{
	memcpy(hs->re, msg, NOISE_DHLEN);
	mix_hash(hs, hs->re, NOISE_DHLEN);
}

/* The payload that ends a message: exactly plen bytes, or -1. */
static int
take_payload(struct noise_hs *hs, const uint8_t *c, size_t clen,
    uint8_t *payload, size_t plen)
{
	int n = crypt_and_hash(hs, 0, c, clen, payload);

	return n < 0 || (size_t)n != plen ? -1 : n;
}

/* -> e, es, s, ss */
int
noise_write_msg1(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap)
{
	if (cap < NOISE_MSG1_OVERHEAD || !msg_fits(hs, 1, 0, plen,
	    cap - NOISE_MSG1_OVERHEAD, payload))
		return hs_end(hs, -1, 0);
	send_e(hs, out);
	if (mix_dh(hs, 0, hs->e_priv, hs->rs) == -1 ||
	    crypt_and_hash(hs, 1, hs->s_pub, NOISE_DHLEN, out + 32) == -1 ||
	    mix_dh(hs, 1, NULL, hs->rs) == -1 ||
	    crypt_and_hash(hs, 1, payload, plen, out + 80) == -1)
		return hs_end(hs, -1, 0);
	return hs_end(hs, (int)(NOISE_MSG1_OVERHEAD + plen), 1);
}

int
noise_read_msg1(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap)
{
	if (len < NOISE_MSG1_OVERHEAD || !msg_fits(hs, 0, 0,
	    len - NOISE_MSG1_OVERHEAD, cap, payload))
		return hs_end(hs, -1, 0);
	take_e(hs, msg);
	if (mix_dh(hs, 1, NULL, hs->re) == -1 ||
	    crypt_and_hash(hs, 0, msg + 32, NOISE_DHLEN + NOISE_TAGLEN,
	    hs->rs) != NOISE_DHLEN || mix_dh(hs, 1, NULL, hs->rs) == -1)
		return hs_end(hs, -1, 0);
	return hs_end(hs, take_payload(hs, msg + 80, len - 80, payload,
	    len - NOISE_MSG1_OVERHEAD), 1);
}

/* <- e, ee, se */
int
noise_write_msg2(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap)
{
	if (cap < NOISE_MSG2_OVERHEAD || !msg_fits(hs, 0, 1, plen,
	    cap - NOISE_MSG2_OVERHEAD, payload))
		return hs_end(hs, -1, 0);
	send_e(hs, out);
	/* ee, then se from the responder's side: DH(e, rs), no static
	 * secret. */
	if (mix_dh(hs, 0, hs->e_priv, hs->re) == -1 ||
	    mix_dh(hs, 0, hs->e_priv, hs->rs) == -1 ||
	    crypt_and_hash(hs, 1, payload, plen, out + 32) == -1)
		return hs_end(hs, -1, 0);
	return hs_end(hs, (int)(NOISE_MSG2_OVERHEAD + plen), 2);
}

int
noise_read_msg2(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap)
{
	if (len < NOISE_MSG2_OVERHEAD || !msg_fits(hs, 1, 1,
	    len - NOISE_MSG2_OVERHEAD, cap, payload))
		return hs_end(hs, -1, 0);
	take_e(hs, msg);
	/* ee, then se from the initiator's side: DH(s, re), through the
	 * callback. */
	if (mix_dh(hs, 0, hs->e_priv, hs->re) == -1 ||
	    mix_dh(hs, 1, NULL, hs->re) == -1)
		return hs_end(hs, -1, 0);
	return hs_end(hs, take_payload(hs, msg + 32, len - 32, payload,
	    len - NOISE_MSG2_OVERHEAD), 2);
}

void
noise_split(struct noise_hs *hs, struct noise_cipher *c1,
    struct noise_cipher *c2)
{
	uint8_t k1[NOISE_HASHLEN], k2[NOISE_HASHLEN];

	memset(c1, 0, sizeof(*c1));
	memset(c2, 0, sizeof(*c2));
	if (hs->step == 2) {
		noise_hkdf2(k1, k2, hs->ck, NULL, 0);
		memcpy(c1->k, k1, NOISE_KEYLEN);
		memcpy(c2->k, k2, NOISE_KEYLEN);
		c1->has_k = c2->has_k = 1;
		sodium_memzero(k1, sizeof(k1));
		sodium_memzero(k2, sizeof(k2));
	}
	noise_hs_wipe(hs);
}

void
noise_hs_wipe(struct noise_hs *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}
