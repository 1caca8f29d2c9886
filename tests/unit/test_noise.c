/*
 * Noise IK against the published cacophony test vectors
 * (shared/vectors/noise-25519-chachapoly-blake2b.json): every handshake
 * message, the handshake hash and the transport messages after Split must
 * match byte for byte, and reading each message back must return its
 * payload. Then the ways a handshake must fail: tampering, low-order
 * points, calls out of order, a static DH callback that fails.
 *
 * The vector file is required: a missing file fails the test rather than
 * skipping it, because "no vectors" would otherwise look like a pass.
 * OM_VECTORS overrides the path (tests run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "proto/noise.h"

#define VECTORS_DEFAULT "../shared/vectors/noise-25519-chachapoly-blake2b.json"

struct blob {
	uint8_t *p;
	size_t len;
};

struct vec {
	struct blob init_prologue, init_static, init_ephemeral;
	struct blob init_remote_static;
	struct blob resp_prologue, resp_static, resp_ephemeral;
	struct blob handshake_hash;
	size_t nmsg;
	struct blob payload[16], ciphertext[16];
};

static struct vec V;
static json_t *vroot;
static void *allocs[64];
static size_t nallocs;

static struct blob
hex_field(json_t *obj, const char *name)
{
	struct blob b = {NULL, 0};
	json_t *v = json_object_get(obj, name);
	const char *s;
	size_t slen;

	if (!json_is_string(v))
		fail_msg("vector field %s missing or not a string", name);
	s = json_string_value(v);
	slen = strlen(s);
	b.p = malloc(slen / 2 + 1);
	assert_non_null(b.p);
	assert_true(nallocs < sizeof(allocs) / sizeof(allocs[0]));
	allocs[nallocs++] = b.p;
	if (sodium_hex2bin(b.p, slen / 2 + 1, s, slen, NULL, &b.len,
	    NULL) != 0 || b.len * 2 != slen)
		fail_msg("vector field %s is not hex", name);
	return b;
}

/* The static DH callback: the test holds the secret keyd would hold. */
static int dh_calls;
static int dh_fail;

static int
test_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	dh_calls++;
	if (dh_fail)
		return -1;
	return crypto_scalarmult(out, arg, pub);
}

static int
setup_vectors(void **state)
{
	const char *path = getenv("OM_VECTORS");
	json_error_t err;
	json_t *vecs, *v, *msgs, *m;
	size_t i, j;

	if (path == NULL)
		path = VECTORS_DEFAULT;
	if (sodium_init() < 0)
		return -1;
	vroot = json_load_file(path, 0, &err);
	if (vroot == NULL) {
		fprintf(stderr, "cannot load Noise vectors %s: %s "
		    "(set OM_VECTORS or run from the repository root)\n",
		    path, err.text);
		return -1;
	}
	vecs = json_object_get(vroot, "vectors");
	if (!json_is_array(vecs))
		return -1;
	json_array_foreach(vecs, i, v) {
		const char *name = json_string_value(
		    json_object_get(v, "protocol_name"));

		if (name == NULL || strcmp(name, NOISE_PROTOCOL) != 0)
			continue;
		V.init_prologue = hex_field(v, "init_prologue");
		V.init_static = hex_field(v, "init_static");
		V.init_ephemeral = hex_field(v, "init_ephemeral");
		V.init_remote_static = hex_field(v, "init_remote_static");
		V.resp_prologue = hex_field(v, "resp_prologue");
		V.resp_static = hex_field(v, "resp_static");
		V.resp_ephemeral = hex_field(v, "resp_ephemeral");
		V.handshake_hash = hex_field(v, "handshake_hash");
		msgs = json_object_get(v, "messages");
		if (!json_is_array(msgs) || json_array_size(msgs) < 2 ||
		    json_array_size(msgs) > 16)
			return -1;
		json_array_foreach(msgs, j, m) {
			V.payload[j] = hex_field(m, "payload");
			V.ciphertext[j] = hex_field(m, "ciphertext");
		}
		V.nmsg = json_array_size(msgs);
		return 0;
	}
	fprintf(stderr, "%s: no %s vector\n", path, NOISE_PROTOCOL);
	return -1;
}

static int
teardown_vectors(void **state)
{
	while (nallocs > 0)
		free(allocs[--nallocs]);
	json_decref(vroot);
	return 0;
}

/* Both sides set up from the vector, ephemerals fixed. */
static void
vec_pair(struct noise_hs *ini, struct noise_hs *resp, uint8_t ipub[32],
    uint8_t rpub[32])
{
	assert_int_equal(V.init_static.len, 32);
	assert_int_equal(V.resp_static.len, 32);
	crypto_scalarmult_base(ipub, V.init_static.p);
	crypto_scalarmult_base(rpub, V.resp_static.p);
	/* The vector's remote static is the responder's public key. */
	assert_int_equal(V.init_remote_static.len, 32);
	assert_memory_equal(rpub, V.init_remote_static.p, 32);

	assert_int_equal(noise_hs_init(ini, 1, V.init_prologue.p,
	    V.init_prologue.len, ipub, V.init_remote_static.p, test_dh,
	    V.init_static.p), 0);
	assert_int_equal(noise_hs_init(resp, 0, V.resp_prologue.p,
	    V.resp_prologue.len, rpub, NULL, test_dh, V.resp_static.p), 0);
	noise_hs_set_ephemeral(ini, V.init_ephemeral.p);
	noise_hs_set_ephemeral(resp, V.resp_ephemeral.p);
}

static void
test_ik_vector(void **state)
{
	struct noise_hs ini, resp;
	struct noise_cipher ic1, ic2, rc1, rc2;
	uint8_t ipub[32], rpub[32], out[512], pt[512];
	size_t i;
	int n;

	vec_pair(&ini, &resp, ipub, rpub);
	assert_true(V.nmsg >= 3);

	/* -> e, es, s, ss */
	n = noise_write_msg1(&ini, V.payload[0].p, V.payload[0].len, out,
	    sizeof(out));
	assert_int_equal(n, V.ciphertext[0].len);
	assert_memory_equal(out, V.ciphertext[0].p, n);
	n = noise_read_msg1(&resp, V.ciphertext[0].p, V.ciphertext[0].len,
	    pt, sizeof(pt));
	assert_int_equal(n, V.payload[0].len);
	assert_memory_equal(pt, V.payload[0].p, n);
	/* The responder learnt the initiator's static key. */
	assert_memory_equal(resp.rs, ipub, 32);

	/* <- e, ee, se */
	n = noise_write_msg2(&resp, V.payload[1].p, V.payload[1].len, out,
	    sizeof(out));
	assert_int_equal(n, V.ciphertext[1].len);
	assert_memory_equal(out, V.ciphertext[1].p, n);
	n = noise_read_msg2(&ini, V.ciphertext[1].p, V.ciphertext[1].len,
	    pt, sizeof(pt));
	assert_int_equal(n, V.payload[1].len);
	assert_memory_equal(pt, V.payload[1].p, n);

	assert_int_equal(V.handshake_hash.len, NOISE_HASHLEN);
	assert_memory_equal(ini.h, V.handshake_hash.p, NOISE_HASHLEN);
	assert_memory_equal(resp.h, V.handshake_hash.p, NOISE_HASHLEN);

	noise_split(&ini, &ic1, &ic2);
	noise_split(&resp, &rc1, &rc2);
	assert_true(ic1.has_k && ic2.has_k);
	assert_memory_equal(ic1.k, rc1.k, NOISE_KEYLEN);
	assert_memory_equal(ic2.k, rc2.k, NOISE_KEYLEN);
	assert_memory_not_equal(ic1.k, ic2.k, NOISE_KEYLEN);
	/* Split wiped the handshake state. */
	assert_true(sodium_is_zero(ini.ck, sizeof(ini.ck)));
	assert_true(sodium_is_zero(resp.e_priv, sizeof(resp.e_priv)));

	/* Transport: IK's last handshake message went responder ->
	 * initiator, so even messages go initiator -> responder (c1) and
	 * odd ones back (c2), each cipher with its own nonce from 0. */
	for (i = 2; i < V.nmsg; i++) {
		struct noise_cipher *tx = (i % 2 == 0) ? &ic1 : &rc2;
		struct noise_cipher *rx = (i % 2 == 0) ? &rc1 : &ic2;

		n = noise_encrypt(tx->k, tx->n, NULL, 0, V.payload[i].p,
		    V.payload[i].len, out);
		assert_int_equal(n, V.ciphertext[i].len);
		assert_memory_equal(out, V.ciphertext[i].p, n);
		tx->n++;
		n = noise_decrypt(rx->k, rx->n, NULL, 0, V.ciphertext[i].p,
		    V.ciphertext[i].len, pt);
		assert_int_equal(n, V.payload[i].len);
		assert_memory_equal(pt, V.payload[i].p, n);
		rx->n++;
	}
	assert_int_equal(ic1.n, (V.nmsg - 1) / 2);
}

/* Any flipped bit in msg1 or msg2 must make the reader fail. */
static void
test_tamper(void **state)
{
	struct noise_hs ini, resp;
	uint8_t ipub[32], rpub[32], m1[256], m2[256], bad[256], pt[256];
	int n1, n2;
	size_t i;

	vec_pair(&ini, &resp, ipub, rpub);
	n1 = noise_write_msg1(&ini, V.payload[0].p, V.payload[0].len, m1,
	    sizeof(m1));
	assert_true(n1 > 0);
	for (i = 0; i < (size_t)n1; i++) {
		struct noise_hs r;

		assert_int_equal(noise_hs_init(&r, 0, V.resp_prologue.p,
		    V.resp_prologue.len, rpub, NULL, test_dh,
		    V.resp_static.p), 0);
		memcpy(bad, m1, n1);
		bad[i] ^= 0x01;
		assert_int_equal(noise_read_msg1(&r, bad, n1, pt,
		    sizeof(pt)), -1);
		/* A failed handshake refuses to go on. */
		assert_int_equal(noise_write_msg2(&r, NULL, 0, m2,
		    sizeof(m2)), -1);
	}
	assert_true(noise_read_msg1(&resp, m1, n1, pt, sizeof(pt)) >= 0);
	n2 = noise_write_msg2(&resp, NULL, 0, m2, sizeof(m2));
	assert_int_equal(n2, NOISE_MSG2_OVERHEAD);
	for (i = 0; i < (size_t)n2; i++) {
		struct noise_hs c = ini;

		memcpy(bad, m2, n2);
		bad[i] ^= 0x80;
		assert_int_equal(noise_read_msg2(&c, bad, n2, pt,
		    sizeof(pt)), -1);
	}
	/* Truncated message. */
	{
		struct noise_hs c = ini;

		assert_int_equal(noise_read_msg2(&c, m2, n2 - 1, pt,
		    sizeof(pt)), -1);
	}
	assert_int_equal(noise_read_msg2(&ini, m2, n2, pt, sizeof(pt)), 0);
}

/* A different prologue (another network) makes msg1 unreadable. */
static void
test_prologue_binds(void **state)
{
	struct noise_hs ini, resp;
	uint8_t ipub[32], rpub[32], m1[256], pt[256];
	int n;

	vec_pair(&ini, &resp, ipub, rpub);
	n = noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1));
	assert_int_equal(n, NOISE_MSG1_OVERHEAD);
	assert_int_equal(noise_hs_init(&resp, 0, (const uint8_t *)"other", 5,
	    rpub, NULL, test_dh, V.resp_static.p), 0);
	assert_int_equal(noise_read_msg1(&resp, m1, n, pt, sizeof(pt)), -1);
}

/* The all-zero point (and other low-order points) give an all-zero DH
 * output: the handshake must stop there. */
static void
test_low_order(void **state)
{
	struct noise_hs ini, resp;
	uint8_t ipub[32], rpub[32], m1[256], pt[256], zero[32] = {0};
	int n;

	vec_pair(&ini, &resp, ipub, rpub);
	n = noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1));
	assert_true(n > 0);
	memset(m1, 0, 32); /* e = 0 */
	assert_int_equal(noise_read_msg1(&resp, m1, n, pt, sizeof(pt)), -1);

	/* Initiator told to talk to a low-order responder key. */
	assert_int_equal(noise_hs_init(&ini, 1, NULL, 0, ipub, zero, test_dh,
	    V.init_static.p), 0);
	assert_int_equal(noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1)), -1);
}

static int
zero_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	memset(out, 0, NOISE_DHLEN);
	return 0;
}

/* A failing static DH callback, or one that returns zeros, fails the
 * handshake. */
static void
test_dh_callback_fails(void **state)
{
	struct noise_hs ini, resp;
	uint8_t ipub[32], rpub[32], m1[256], pt[256];
	int n;

	vec_pair(&ini, &resp, ipub, rpub);
	dh_fail = 1;
	assert_int_equal(noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1)), -1);
	dh_fail = 0;

	vec_pair(&ini, &resp, ipub, rpub);
	n = noise_write_msg1(&ini, NULL, 0, m1, sizeof(m1));
	assert_true(n > 0);
	assert_int_equal(noise_hs_init(&resp, 0, V.resp_prologue.p,
	    V.resp_prologue.len, rpub, NULL, zero_dh, NULL), 0);
	assert_int_equal(noise_read_msg1(&resp, m1, n, pt, sizeof(pt)), -1);
}

static void
test_out_of_order(void **state)
{
	struct noise_hs ini, resp;
	uint8_t ipub[32], rpub[32], m[256], pt[256];
	int n;

	vec_pair(&ini, &resp, ipub, rpub);
	/* Wrong roles. */
	assert_int_equal(noise_write_msg2(&ini, NULL, 0, m, sizeof(m)), -1);
	vec_pair(&ini, &resp, ipub, rpub);
	assert_int_equal(noise_write_msg1(&resp, NULL, 0, m, sizeof(m)), -1);
	vec_pair(&ini, &resp, ipub, rpub);
	/* Output too small. */
	assert_int_equal(noise_write_msg1(&ini, NULL, 0, m,
	    NOISE_MSG1_OVERHEAD - 1), -1);
	vec_pair(&ini, &resp, ipub, rpub);
	n = noise_write_msg1(&ini, NULL, 0, m, sizeof(m));
	assert_true(n > 0);
	/* Twice. */
	assert_int_equal(noise_write_msg1(&ini, NULL, 0, m, sizeof(m)), -1);
	/* Payload buffer too small for the payload. */
	vec_pair(&ini, &resp, ipub, rpub);
	n = noise_write_msg1(&ini, (const uint8_t *)"12345678", 8, m,
	    sizeof(m));
	assert_true(n > 0);
	assert_int_equal(noise_read_msg1(&resp, m, n, pt, 7), -1);
	/* The initiator must know the responder. */
	assert_int_equal(noise_hs_init(&ini, 1, NULL, 0, ipub, NULL, test_dh,
	    NULL), -1);
}

static void
test_transport_nonce(void **state)
{
	uint8_t k[NOISE_KEYLEN], out[64], pt[64];
	int n;

	randombytes_buf(k, sizeof(k));
	/* 2^64-1 is reserved. */
	assert_int_equal(noise_encrypt(k, UINT64_MAX, NULL, 0,
	    (const uint8_t *)"x", 1, out), -1);
	n = noise_encrypt(k, UINT64_MAX - 1, (const uint8_t *)"ad", 2,
	    (const uint8_t *)"x", 1, out);
	assert_int_equal(n, 1 + NOISE_TAGLEN);
	assert_int_equal(noise_decrypt(k, UINT64_MAX - 1,
	    (const uint8_t *)"ad", 2, out, n, pt), 1);
	/* Wrong nonce, wrong AD. */
	assert_int_equal(noise_decrypt(k, UINT64_MAX - 2,
	    (const uint8_t *)"ad", 2, out, n, pt), -1);
	assert_int_equal(noise_decrypt(k, UINT64_MAX - 1,
	    (const uint8_t *)"aD", 2, out, n, pt), -1);
	assert_int_equal(noise_decrypt(k, 0, NULL, 0, out, 15, pt), -1);
}

/* BLAKE2b-512("abc") from RFC 7693 appendix A, and HMAC against a
 * straightforward independent computation. */
static void
test_hash_hmac(void **state)
{
	static const char abc_hex[] =
	    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
	    "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
	uint8_t want[64], got[64], key[200], ipad[128], opad[128];
	uint8_t inner[64], buf[128 + 64], k0[128];
	size_t i, klen;

	assert_int_equal(sodium_hex2bin(want, sizeof(want), abc_hex,
	    strlen(abc_hex), NULL, NULL, NULL), 0);
	noise_hash(got, (const uint8_t *)"a", 1, (const uint8_t *)"bc", 2);
	assert_memory_equal(got, want, 64);

	for (klen = 0; klen <= sizeof(key); klen += 50) {
		randombytes_buf(key, sizeof(key));
		memset(k0, 0, sizeof(k0));
		if (klen > 128)
			crypto_generichash_blake2b(k0, 64, key, klen, NULL, 0);
		else
			memcpy(k0, key, klen);
		for (i = 0; i < 128; i++) {
			ipad[i] = k0[i] ^ 0x36;
			opad[i] = k0[i] ^ 0x5c;
		}
		memcpy(buf, ipad, 128);
		memcpy(buf + 128, "data", 4);
		crypto_generichash_blake2b(inner, 64, buf, 132, NULL, 0);
		memcpy(buf, opad, 128);
		memcpy(buf + 128, inner, 64);
		crypto_generichash_blake2b(want, 64, buf, 192, NULL, 0);
		noise_hmac(got, key, klen, (const uint8_t *)"data", 4);
		assert_memory_equal(got, want, 64);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ik_vector),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_prologue_binds),
		cmocka_unit_test(test_low_order),
		cmocka_unit_test(test_dh_callback_fails),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_transport_nonce),
		cmocka_unit_test(test_hash_hmac),
	};

	return cmocka_run_group_tests(tests, setup_vectors, teardown_vectors);
}
