/*
 * Peer frames: length-prefixed records on a link's byte stream, the mac1
 * that lets a responder drop handshakes not meant for it before it spends
 * a DH, and the sealing of DATA frames.
 *
 * DATA frames are the hot path (one per 64 KiB superpacket), so sealing is
 * done in place: the AEAD is ChaCha20-Poly1305 (IETF) assembled here from
 * libsodium's stream cipher and Poly1305, exactly as libsodium's own
 * crypto_aead_chacha20poly1305_ietf_encrypt_detached does it, so the inner
 * kind byte and the caller's payload are encrypted straight from where
 * they lie into the frame, without first gathering them into one buffer.
 * The result is byte-for-byte the standard AEAD (the unit test checks it
 * against noise_encrypt). Opening uses the library AEAD directly: the
 * ciphertext is already contiguous in the frame.
 *
 * The length field is big-endian, like every other integer on our wire.
 */
#include "proto/wire.h"

#include <string.h>

#include <sodium.h>

#include "proto/buf.h"

#define WIRE_MAC1_LABEL "mac1----"
#define WIRE_DATA_AD    WIRE_DATA_HDR /* len, type, epoch, counter */
#define WIRE_CHACHA_BLK 64

int
wire_frame_peek(struct wire_frame *f, const uint8_t *buf, size_t len)
{
	uint32_t blen;
	uint8_t type;

	if (len < WIRE_LEN_BYTES)
		return 0;
	blen = be32_get(buf);
	if (blen == 0 || blen > WIRE_MAX_BODY)
		return -1;
	if (len < WIRE_LEN_BYTES + 1)
		return 0;
	/* Reject an unknown type as soon as its byte is here, rather than
	 * buffer up to 64 KiB of a frame that will be thrown away. */
	type = buf[WIRE_LEN_BYTES];
	if (type != WIRE_HS_INIT && type != WIRE_HS_RESP &&
	    type != WIRE_DATA && type != WIRE_JOIN)
		return -1;
	/* A join frame is small: refuse a bigger one before buffering it. */
	if (type == WIRE_JOIN && blen - 1 > WIRE_JOIN_MAX_BODY)
		return -1;
	if (len - WIRE_LEN_BYTES < blen)
		return 0;
	f->type = type;
	f->body = buf + WIRE_LEN_BYTES + 1;
	f->body_len = blen - 1;
	f->frame_len = WIRE_LEN_BYTES + (size_t)blen;
	return 1;
}

/* The frame header (length and type) as it was on the wire, rebuilt
 * from f so nothing depends on f->body sitting right after it. */
static void
wire_hdr(uint8_t out[WIRE_LEN_BYTES + 1], uint8_t type, size_t body_len)
{
	be32_put(out, (uint32_t)(body_len + 1));
	out[WIRE_LEN_BYTES] = type;
}

static void
wire_mac1_key(uint8_t key[crypto_generichash_blake2b_BYTES],
    const uint8_t peer_static[NOISE_DHLEN])
{
	uint8_t in[sizeof(WIRE_MAC1_LABEL) - 1 + NOISE_DHLEN];

	memcpy(in, WIRE_MAC1_LABEL, sizeof(WIRE_MAC1_LABEL) - 1);
	memcpy(in + sizeof(WIRE_MAC1_LABEL) - 1, peer_static, NOISE_DHLEN);
	crypto_generichash_blake2b(key, crypto_generichash_blake2b_BYTES, in,
	    sizeof(in), NULL, 0);
}

static void
wire_mac1(uint8_t mac[WIRE_MAC_BYTES], const uint8_t hdr[WIRE_LEN_BYTES + 1],
    const uint8_t *msg, size_t msglen, const uint8_t key_pub[NOISE_DHLEN])
{
	crypto_generichash_blake2b_state st;
	uint8_t key[crypto_generichash_blake2b_BYTES];

	wire_mac1_key(key, key_pub);
	crypto_generichash_blake2b_init(&st, key, sizeof(key), WIRE_MAC_BYTES);
	crypto_generichash_blake2b_update(&st, hdr, WIRE_LEN_BYTES + 1);
	if (msglen)
		crypto_generichash_blake2b_update(&st, msg, msglen);
	crypto_generichash_blake2b_final(&st, mac, WIRE_MAC_BYTES);
}

int
wire_hs_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *msg,
    size_t msglen, const uint8_t peer_static[NOISE_DHLEN])
{
	size_t body = msglen + WIRE_MAC_BYTES;
	size_t flen = WIRE_LEN_BYTES + 1 + body;

	if ((type != WIRE_HS_INIT && type != WIRE_HS_RESP) ||
	    msglen > WIRE_MAX_BODY - 1 - WIRE_MAC_BYTES || cap < flen)
		return -1;
	wire_hdr(out, type, body);
	memmove(out + WIRE_LEN_BYTES + 1, msg, msglen);
	wire_mac1(out + WIRE_LEN_BYTES + 1 + msglen, out,
	    out + WIRE_LEN_BYTES + 1, msglen, peer_static);
	return (int)flen;
}

int
wire_hs_check(const struct wire_frame *f, const uint8_t my_static[NOISE_DHLEN],
    size_t *msglen)
{
	uint8_t hdr[WIRE_LEN_BYTES + 1], mac[WIRE_MAC_BYTES];
	size_t n;

	*msglen = 0;
	if ((f->type != WIRE_HS_INIT && f->type != WIRE_HS_RESP) ||
	    f->body_len < WIRE_MAC_BYTES || f->body_len > WIRE_MAX_BODY - 1)
		return -1;
	n = f->body_len - WIRE_MAC_BYTES;
	wire_hdr(hdr, f->type, f->body_len);
	wire_mac1(mac, hdr, f->body, n, my_static);
	if (crypto_verify_16(mac, f->body + n) != 0)
		return -1;
	*msglen = n;
	return 0;
}

static void
wire_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES],
    uint64_t counter)
{
	int i;

	/* Noise's nonce: 4 zero bytes, then the counter little-endian. */
	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static void
le64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int
wire_data_seal(uint8_t *out, size_t cap, const uint8_t k[NOISE_KEYLEN],
    uint8_t epoch, uint64_t counter, uint8_t kind, const uint8_t *payload,
    size_t plen)
{
	return wire_data_seal_pre(out, cap, k, epoch, counter, kind, NULL, 0,
	    payload, plen);
}

int
wire_data_seal_pre(uint8_t *out, size_t cap, const uint8_t k[NOISE_KEYLEN],
    uint8_t epoch, uint64_t counter, uint8_t kind, const uint8_t *pre,
    size_t prelen, const uint8_t *payload, size_t plen)
{
	static const uint8_t zeros[16];
	crypto_onetimeauth_poly1305_state st;
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t block[WIRE_CHACHA_BLK], lens[16];
	uint8_t *ct = out + WIRE_DATA_HDR;
	size_t ctlen, first, rest, np;

	if (prelen > WIRE_SEAL_PRE_MAX || (pre == NULL && prelen != 0) ||
	    plen > WIRE_MAX_INNER - 1 - prelen ||
	    cap < WIRE_DATA_HDR + 1 + prelen + plen + NOISE_TAGLEN ||
	    counter == NOISE_MAX_NONCE || (payload == NULL && plen != 0))
		return -1;
	ctlen = 1 + prelen + plen;
	/* The payload must not overlap the output, except sitting exactly
	 * where its ciphertext goes (in-place sealing). */
	if (plen != 0 && payload != ct + 1 + prelen &&
	    (uintptr_t)payload < (uintptr_t)(ct + ctlen + NOISE_TAGLEN) &&
	    (uintptr_t)ct < (uintptr_t)(payload + plen))
		return -1;

	wire_hdr(out, WIRE_DATA, ctlen + NOISE_TAGLEN + 1 + 8);
	out[WIRE_LEN_BYTES + 1] = epoch;
	be64_put(out + WIRE_LEN_BYTES + 2, counter);
	wire_nonce(nonce, counter);

	/* Block 0 of the key stream is the Poly1305 key. */
	crypto_stream_chacha20_ietf(block, sizeof(block), nonce, k);
	crypto_onetimeauth_poly1305_init(&st, block);

	/* Block 1 covers the kind byte, the prefix and the first payload
	 * bytes; from block 2 on the payload is block-aligned and goes
	 * straight from the caller's buffer into the frame (a prefix, as
	 * a striped packet's number, costs no copy of the packet). */
	first = ctlen < sizeof(block) ? ctlen : sizeof(block);
	block[0] = kind;
	if (prelen > 0)
		memcpy(block + 1, pre, prelen);
	np = first - 1 - prelen;
	if (np > 0)
		memcpy(block + 1 + prelen, payload, np);
	rest = ctlen - first;
	if (rest)
		crypto_stream_chacha20_ietf_xor_ic(ct + first, payload + np,
		    rest, nonce, 2, k);
	crypto_stream_chacha20_ietf_xor_ic(ct, block, first, nonce, 1, k);

	crypto_onetimeauth_poly1305_update(&st, out, WIRE_DATA_AD);
	crypto_onetimeauth_poly1305_update(&st, zeros,
	    (16 - WIRE_DATA_AD % 16) % 16);
	crypto_onetimeauth_poly1305_update(&st, ct, ctlen);
	crypto_onetimeauth_poly1305_update(&st, zeros, (16 - ctlen % 16) % 16);
	le64_put(lens, WIRE_DATA_AD);
	le64_put(lens + 8, ctlen);
	crypto_onetimeauth_poly1305_update(&st, lens, sizeof(lens));
	crypto_onetimeauth_poly1305_final(&st, ct + ctlen);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(block, sizeof(block));
	return (int)(WIRE_DATA_HDR + ctlen + NOISE_TAGLEN);
}

int
wire_data_header(const struct wire_frame *f, uint8_t *epoch,
    uint64_t *counter)
{
	/* epoch, counter, at least the kind byte, tag */
	if (f->type != WIRE_DATA || f->body_len < 1 + 8 + 1 + NOISE_TAGLEN ||
	    f->body_len > WIRE_MAX_BODY - 1)
		return -1;
	*epoch = f->body[0];
	*counter = be64_get(f->body + 1);
	return 0;
}

int
wire_data_open(const struct wire_frame *f, const uint8_t k[NOISE_KEYLEN],
    uint8_t *out, size_t cap)
{
	uint8_t ad[WIRE_DATA_AD];
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t epoch;
	uint64_t counter;
	size_t ctlen;
	const uint8_t *ct;

	if (wire_data_header(f, &epoch, &counter) == -1 ||
	    counter == NOISE_MAX_NONCE)
		return -1;
	ctlen = f->body_len - 1 - 8 - NOISE_TAGLEN;
	if (cap < ctlen)
		return -1;
	ct = f->body + 1 + 8;
	wire_hdr(ad, WIRE_DATA, f->body_len);
	memcpy(ad + WIRE_LEN_BYTES + 1, f->body, 1 + 8);
	wire_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct,
	    ctlen, ct + ctlen, ad, sizeof(ad), nonce, k) != 0)
		return -1;
	return (int)ctlen;
}

int
wire_fwd_parse(struct wire_fwd *h, const uint8_t *p, size_t len)
{
	struct wire_frame f;

	memset(h, 0, sizeof(*h));
	if (p == NULL || len < WIRE_FWD_HDR + WIRE_LEN_BYTES + 1 ||
	    len - WIRE_FWD_HDR > WIRE_FWD_MAX_FRAME)
		return -1;
	h->dest = p;
	h->hops = p[MEMBER_ID_BYTES];
	h->conn = be32_get(p + MEMBER_ID_BYTES + 1);
	h->frame = p + WIRE_FWD_HDR;
	h->frame_len = len - WIRE_FWD_HDR;
	/* Exactly one whole frame: a relay must not pass on a stream
	 * fragment the far end would have to make sense of. */
	if (wire_frame_peek(&f, h->frame, h->frame_len) != 1 ||
	    f.frame_len != h->frame_len)
		return -1;
	h->frame_type = f.type;
	return 0;
}

void
wire_fwd_put_hdr(uint8_t out[WIRE_FWD_HDR],
    const uint8_t dest[MEMBER_ID_BYTES], uint8_t hops, uint32_t conn)
{
	memcpy(out, dest, MEMBER_ID_BYTES);
	out[MEMBER_ID_BYTES] = hops;
	be32_put(out + MEMBER_ID_BYTES + 1, conn);
}

void
wire_ka_put(uint8_t out[WIRE_KA_BYTES], const struct wire_ka *ka)
{
	struct buf_w w;

	bw_init(&w, out, WIRE_KA_BYTES);
	bw_u8(&w, ka->flags);
	bw_u64(&w, ka->ts_us);
	bw_u64(&w, ka->echo_us);
	bw_u32(&w, ka->held_us);
}

int
wire_ka_parse(struct wire_ka *ka, const uint8_t *p, size_t len)
{
	struct buf_r r;

	memset(ka, 0, sizeof(*ka));
	if (len == 0)
		return 0;
	if (len < WIRE_KA_BYTES)
		return -1;
	/* Only the fields we know; a newer version's tail is its own. */
	br_init(&r, p, WIRE_KA_BYTES);
	ka->flags = br_u8(&r);
	ka->ts_us = br_u64(&r);
	ka->echo_us = br_u64(&r);
	ka->held_us = br_u32(&r);
	return 1;
}

size_t
wire_prologue(uint8_t out[WIRE_PROLOGUE_MAX],
    const uint8_t netid[NETID_BYTES])
{
	size_t n = sizeof(WIRE_PROLOGUE_TAG) - 1;

	memcpy(out, WIRE_PROLOGUE_TAG, n);
	memcpy(out + n, netid, NETID_BYTES);
	return n + NETID_BYTES;
}
