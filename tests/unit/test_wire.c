/*
 * Peer frames: the stream parser (whole frame, partial frame, bad length,
 * bad type), mac1 (right key accepted; any flipped bit or another
 * receiver rejected) and DATA sealing, which is checked byte for byte
 * against the plain libsodium AEAD (noise_encrypt) because wire.c builds
 * ChaCha20-Poly1305 by hand to avoid copying superpackets; a keepalive's
 * timestamp echo (every field where the header says, empty from an
 * older peer, too short refused, longer read up to what we know).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "proto/buf.h"
#include "proto/noise.h"
#include "proto/wire.h"

static uint8_t *big_a, *big_b, *big_c, *big_d;

static int
setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	big_a = malloc(WIRE_MAX_FRAME);
	big_b = malloc(WIRE_MAX_FRAME);
	big_c = malloc(2 * WIRE_MAX_FRAME); /* plaintext, then AEAD */
	big_d = malloc(WIRE_MAX_FRAME);
	return (big_a && big_b && big_c && big_d) ? 0 : -1;
}

static int
teardown(void **state)
{
	free(big_a);
	free(big_b);
	free(big_c);
	free(big_d);
	return 0;
}

static void
test_peek(void **state)
{
	uint8_t b[64];
	struct wire_frame f;

	memset(b, 0xaa, sizeof(b));
	/* Not even a length yet. */
	assert_int_equal(wire_frame_peek(&f, b, 0), 0);
	assert_int_equal(wire_frame_peek(&f, b, 3), 0);
	/* Zero length, and one byte over the maximum. */
	be32_put(b, 0);
	assert_int_equal(wire_frame_peek(&f, b, 4), -1);
	be32_put(b, WIRE_MAX_BODY + 1);
	assert_int_equal(wire_frame_peek(&f, b, 64), -1);
	be32_put(b, 0xffffffff);
	assert_int_equal(wire_frame_peek(&f, b, 64), -1);
	/* Maximum length: fine, needs more bytes. */
	be32_put(b, WIRE_MAX_BODY);
	b[4] = WIRE_DATA;
	assert_int_equal(wire_frame_peek(&f, b, 64), 0);
	/* Unknown type rejected as soon as its byte arrives. */
	be32_put(b, 10);
	b[4] = 0;
	assert_int_equal(wire_frame_peek(&f, b, 5), -1);
	b[4] = 5;
	assert_int_equal(wire_frame_peek(&f, b, 5), -1);
	/* WIRE_JOIN is known, but only up to WIRE_JOIN_MAX_BODY. */
	b[4] = WIRE_JOIN;
	assert_int_equal(wire_frame_peek(&f, b, 5), 0);
	be32_put(b, WIRE_JOIN_MAX_BODY + 1);
	assert_int_equal(wire_frame_peek(&f, b, 5), 0);
	be32_put(b, WIRE_JOIN_MAX_BODY + 2);
	assert_int_equal(wire_frame_peek(&f, b, 5), -1);
	be32_put(b, 10);
	/* A whole frame, with bytes of the next one behind it. */
	b[4] = WIRE_HS_RESP;
	assert_int_equal(wire_frame_peek(&f, b, 13), 0);
	assert_int_equal(wire_frame_peek(&f, b, 14), 1);
	assert_int_equal(f.type, WIRE_HS_RESP);
	assert_ptr_equal(f.body, b + 5);
	assert_int_equal(f.body_len, 9);
	assert_int_equal(f.frame_len, 14);
	assert_int_equal(wire_frame_peek(&f, b, 64), 1);
	assert_int_equal(f.frame_len, 14);
}

static void
test_hs_mac1(void **state)
{
	uint8_t me[32], other[32], msg[108], frame[256], bad[256];
	struct wire_frame f;
	size_t msglen, i;
	int n;

	randombytes_buf(me, sizeof(me));
	randombytes_buf(other, sizeof(other));
	randombytes_buf(msg, sizeof(msg));
	n = wire_hs_frame(frame, sizeof(frame), WIRE_HS_INIT, msg,
	    sizeof(msg), me);
	assert_int_equal(n, 4 + 1 + sizeof(msg) + WIRE_MAC_BYTES);
	assert_int_equal(wire_hs_frame(frame, n - 1, WIRE_HS_INIT, msg,
	    sizeof(msg), me), -1);
	assert_int_equal(wire_hs_frame(frame, sizeof(frame), WIRE_DATA, msg,
	    sizeof(msg), me), -1);
	n = wire_hs_frame(frame, sizeof(frame), WIRE_HS_INIT, msg,
	    sizeof(msg), me);

	assert_int_equal(wire_frame_peek(&f, frame, n), 1);
	assert_int_equal(f.frame_len, n);
	assert_int_equal(wire_hs_check(&f, me, &msglen), 0);
	assert_int_equal(msglen, sizeof(msg));
	assert_memory_equal(f.body, msg, sizeof(msg));
	/* Meant for someone else. */
	assert_int_equal(wire_hs_check(&f, other, &msglen), -1);

	/* Every bit of the frame after the length counts, the type byte
	 * included (flip to the other handshake type). */
	for (i = 4; i < (size_t)n; i++) {
		memcpy(bad, frame, n);
		bad[i] ^= (i == 4) ? 0x03 : 0x01;
		assert_int_equal(wire_frame_peek(&f, bad, n), 1);
		assert_int_equal(wire_hs_check(&f, me, &msglen), -1);
	}
	/* The length is covered too: same bytes, one shorter. */
	memcpy(bad, frame, n);
	be32_put(bad, be32_get(bad) - 1);
	assert_int_equal(wire_frame_peek(&f, bad, n), 1);
	assert_int_equal(wire_hs_check(&f, me, &msglen), -1);

	/* Too short to hold a mac, and a DATA frame. */
	f.type = WIRE_HS_INIT;
	f.body = frame + 5;
	f.body_len = WIRE_MAC_BYTES - 1;
	assert_int_equal(wire_hs_check(&f, me, &msglen), -1);
	f.type = WIRE_DATA;
	f.body_len = sizeof(msg) + WIRE_MAC_BYTES;
	assert_int_equal(wire_hs_check(&f, me, &msglen), -1);
}

/* mac1 is defined as BLAKE2b-128 keyed with BLAKE2b-256("mac1----" ||
 * receiver key) over the frame before it: compute it independently. */
static void
test_hs_mac1_definition(void **state)
{
	uint8_t me[32], msg[48], frame[128], key[32], mac[16], in[40];
	int n;

	randombytes_buf(me, sizeof(me));
	randombytes_buf(msg, sizeof(msg));
	n = wire_hs_frame(frame, sizeof(frame), WIRE_HS_RESP, msg,
	    sizeof(msg), me);
	assert_int_equal(n, 5 + 48 + 16);
	assert_int_equal(be32_get(frame), 1 + 48 + 16);
	assert_int_equal(frame[4], WIRE_HS_RESP);
	memcpy(in, "mac1----", 8);
	memcpy(in + 8, me, 32);
	crypto_generichash_blake2b(key, 32, in, sizeof(in), NULL, 0);
	crypto_generichash_blake2b(mac, 16, frame, 5 + 48, key, 32);
	assert_memory_equal(frame + 5 + 48, mac, 16);
}

static void
check_seal(size_t plen)
{
	uint8_t k[NOISE_KEYLEN], epoch, kind = INNER_PACKET;
	uint64_t counter = 0x0102030405060708ULL + plen, c;
	struct wire_frame f;
	int n, m;

	randombytes_buf(k, sizeof(k));
	randombytes_buf(big_a, plen);
	epoch = (uint8_t)plen;
	n = wire_data_seal(big_b, WIRE_MAX_FRAME, k, epoch, counter, kind,
	    big_a, plen);
	assert_int_equal(n, WIRE_DATA_HDR + 1 + plen + NOISE_TAGLEN);
	assert_int_equal(wire_frame_peek(&f, big_b, n), 1);
	assert_int_equal(f.frame_len, n);
	assert_int_equal(f.type, WIRE_DATA);
	assert_int_equal(wire_data_header(&f, &epoch, &c), 0);
	assert_int_equal(epoch, (uint8_t)plen);
	assert_true(c == counter);

	/* Same bytes as the library AEAD over kind || payload with the
	 * 14-byte header as associated data. */
	big_c[0] = kind;
	memcpy(big_c + 1, big_a, plen);
	m = noise_encrypt(k, counter, big_b, WIRE_DATA_HDR, big_c, plen + 1,
	    big_c + WIRE_MAX_INNER);
	assert_int_equal(m, plen + 1 + NOISE_TAGLEN);
	assert_memory_equal(big_b + WIRE_DATA_HDR, big_c + WIRE_MAX_INNER, m);

	memset(big_c, 0, plen + 1);
	m = wire_data_open(&f, k, big_c, WIRE_MAX_INNER);
	assert_int_equal(m, plen + 1);
	assert_int_equal(big_c[0], kind);
	if (plen)
		assert_memory_equal(big_c + 1, big_a, plen);
	/* Output too small. */
	assert_int_equal(wire_data_open(&f, k, big_c, plen), -1);

	/* In place: payload already where its ciphertext goes. */
	memcpy(big_c + WIRE_DATA_HDR + 1, big_a, plen);
	m = wire_data_seal(big_c, WIRE_MAX_FRAME, k, (uint8_t)plen, counter,
	    kind, big_c + WIRE_DATA_HDR + 1, plen);
	assert_int_equal(m, n);
	assert_memory_equal(big_c, big_b, n);
}

static void
test_data_seal_open(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 15, 16, 62, 63, 64, 65, 127,
	    128, 129, 1400, 9000, 65535, 65536 + 10, WIRE_MAX_INNER - 1};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_seal(sizes[i]);
}

/* A prefix sealed in the first block gives the very frame that sealing
 * prefix and payload as one buffer gives, at every split around the
 * first 64-byte block; more than WIRE_SEAL_PRE_MAX is refused. */
static void
test_data_seal_pre(void **state)
{
	static const size_t plens[] = { 1, 30, 47, 48, 55, 56, 63, 64, 200,
	    9000 };
	static const size_t pres[] = { 0, 1, 8, 16 };
	uint8_t k[NOISE_KEYLEN], pre[WIRE_SEAL_PRE_MAX + 1];
	size_t a, b;
	int n, m;

	(void)state;
	randombytes_buf(k, sizeof(k));
	randombytes_buf(pre, sizeof(pre));
	randombytes_buf(big_b, 9000);
	for (a = 0; a < sizeof(pres) / sizeof(pres[0]); a++)
		for (b = 0; b < sizeof(plens) / sizeof(plens[0]); b++) {
			memcpy(big_c, pre, pres[a]);
			memcpy(big_c + pres[a], big_b, plens[b]);
			n = wire_data_seal(big_a, WIRE_MAX_FRAME, k, 2, 9,
			    INNER_SEQ_PACKET, big_c, pres[a] + plens[b]);
			m = wire_data_seal_pre(big_d, WIRE_MAX_FRAME, k, 2, 9,
			    INNER_SEQ_PACKET, pre, pres[a], big_b, plens[b]);
			assert_true(n > 0);
			assert_int_equal(m, n);
			assert_memory_equal(big_a, big_d, (size_t)n);
		}
	assert_int_equal(wire_data_seal_pre(big_d, WIRE_MAX_FRAME, k, 2, 9,
	    INNER_SEQ_PACKET, pre, WIRE_SEAL_PRE_MAX + 1, big_b, 10), -1);
	assert_int_equal(wire_data_seal_pre(big_d, WIRE_MAX_FRAME, k, 2, 9,
	    INNER_SEQ_PACKET, pre, 8, big_b, WIRE_MAX_INNER - 8), -1);
}

static void
test_data_reject(void **state)
{
	uint8_t k[NOISE_KEYLEN], k2[NOISE_KEYLEN], out[256], frame[256];
	uint8_t bad[256], epoch;
	uint64_t c;
	struct wire_frame f;
	size_t i;
	int n;

	randombytes_buf(k, sizeof(k));
	randombytes_buf(k2, sizeof(k2));
	n = wire_data_seal(frame, sizeof(frame), k, 3, 7, INNER_PACKET,
	    (const uint8_t *)"hello", 5);
	assert_int_equal(n, WIRE_DATA_HDR + 6 + 16);
	/* cap one short; too big; reserved counter; overlapping. */
	assert_int_equal(wire_data_seal(out, n - 1, k, 3, 7, INNER_PACKET,
	    (const uint8_t *)"hello", 5), -1);
	assert_int_equal(wire_data_seal(big_a, WIRE_MAX_FRAME, k, 0, 0,
	    INNER_PACKET, big_b, WIRE_MAX_INNER), -1);
	assert_int_equal(wire_data_seal(out, sizeof(out), k, 0, UINT64_MAX,
	    INNER_PACKET, (const uint8_t *)"x", 1), -1);
	assert_int_equal(wire_data_seal(out, sizeof(out), k, 0, 0,
	    INNER_PACKET, out + WIRE_DATA_HDR, 10), -1);

	assert_int_equal(wire_frame_peek(&f, frame, n), 1);
	assert_int_equal(wire_data_open(&f, k2, out, sizeof(out)), -1);
	/* Any bit after the type, header (epoch, counter) included. */
	for (i = 5; i < (size_t)n; i++) {
		memcpy(bad, frame, n);
		bad[i] ^= 0x10;
		assert_int_equal(wire_frame_peek(&f, bad, n), 1);
		assert_int_equal(wire_data_open(&f, k, out, sizeof(out)), -1);
	}
	/* Truncated: the body too short for counter + kind + tag. */
	memcpy(bad, frame, n);
	be32_put(bad, 1 + 1 + 8 + NOISE_TAGLEN);
	assert_int_equal(wire_frame_peek(&f, bad, n), 1);
	assert_int_equal(wire_data_header(&f, &epoch, &c), -1);
	assert_int_equal(wire_data_open(&f, k, out, sizeof(out)), -1);
	/* A handshake frame is not DATA. */
	memcpy(bad, frame, n);
	bad[4] = WIRE_HS_INIT;
	assert_int_equal(wire_frame_peek(&f, bad, n), 1);
	assert_int_equal(wire_data_header(&f, &epoch, &c), -1);
}

/* Random streams never crash the parser and never yield a frame longer
 * than the buffer. */
static void
test_peek_random(void **state)
{
	uint8_t b[512];
	struct wire_frame f;
	int i, r;

	for (i = 0; i < 20000; i++) {
		size_t len = randombytes_uniform(sizeof(b) + 1);

		randombytes_buf(b, len);
		if (i & 1 && len >= 4)
			be32_put(b, randombytes_uniform(600));
		r = wire_frame_peek(&f, b, len);
		assert_true(r >= -1 && r <= 1);
		if (r == 1) {
			assert_true(f.frame_len <= len);
			assert_true(f.body + f.body_len <= b + len);
		}
	}
}

static void
test_keepalive_echo(void **state)
{
	struct wire_ka ka = {
		.flags = WIRE_KA_PROBE, .ts_us = 0x0102030405060708ULL,
		.echo_us = 0x1112131415161718ULL, .held_us = 0x21222324,
	}, got;
	uint8_t p[WIRE_KA_BYTES + 3];
	size_t n;

	assert_int_equal(WIRE_KA_BYTES, 21);
	memset(p, 0xee, sizeof(p));
	wire_ka_put(p, &ka);
	assert_int_equal(p[0], WIRE_KA_PROBE);
	assert_int_equal(p[1], 0x01);
	assert_int_equal(p[8], 0x08);
	assert_int_equal(p[9], 0x11);
	assert_int_equal(p[17], 0x21);
	assert_int_equal(p[20], 0x24);
	assert_int_equal(p[21], 0xee);            /* nothing past it */
	assert_int_equal(wire_ka_parse(&got, p, WIRE_KA_BYTES), 1);
	assert_int_equal(got.flags, ka.flags);
	assert_true(got.ts_us == ka.ts_us);
	assert_true(got.echo_us == ka.echo_us);
	assert_true(got.held_us == ka.held_us);
	/* a newer version's longer echo: the known part */
	assert_int_equal(wire_ka_parse(&got, p, sizeof(p)), 1);
	assert_true(got.held_us == ka.held_us);
	/* an older peer's empty keepalive */
	assert_int_equal(wire_ka_parse(&got, p, 0), 0);
	assert_true(got.ts_us == 0 && got.echo_us == 0);
	/* every length between: refused */
	for (n = 1; n < WIRE_KA_BYTES; n++)
		assert_int_equal(wire_ka_parse(&got, p, n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_hs_mac1),
		cmocka_unit_test(test_hs_mac1_definition),
		cmocka_unit_test(test_data_seal_open),
		cmocka_unit_test(test_data_seal_pre),
		cmocka_unit_test(test_data_reject),
		cmocka_unit_test(test_peek_random),
		cmocka_unit_test(test_keepalive_echo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
