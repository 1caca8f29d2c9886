/*
 * Fuzz target: the Noise IK handshake messages (proto/noise.c), read by
 * a party whose keys are fixed (tests/fuzz/fuzz_common.h).
 *
 * Input: one mode byte, then
 *   mode 0  msg1 as the responder reads it. When it authenticates, the
 *           responder must have learnt the initiator's static key (the
 *           fixed initiator's, for the seeds), and it writes msg2 and
 *           splits, so the rest of the handshake runs on fuzzed state.
 *   mode 1  msg2 as the fixed initiator reads it, after writing its
 *           msg1 with a fixed ephemeral key and payload. When it
 *           authenticates, both sides' keys must agree: a responder run
 *           here from the same msg1 with the ephemeral key the seeds
 *           used must derive the same split.
 * A handshake state reads one message once: a second msg1 on it fails
 * and wipes it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/noise.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PROLOGUE  FUZZ_NOISE_PROLOGUE
#define FUZZ_PAYLOAD   FUZZ_NOISE_PAYLOAD
#define MSG_MAX        4096

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static void
mode_msg1(const uint8_t *p, size_t len)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct noise_hs hs, again;
	struct noise_cipher c1, c2;
	uint8_t payload[MSG_MAX], out[MSG_MAX];
	int n, m;

	FUZZ_CHECK(noise_hs_init(&hs, 0, (const uint8_t *)FUZZ_PROLOGUE,
	    sizeof(FUZZ_PROLOGUE) - 1, k->r_pub, NULL, fuzz_dh,
	    (void *)k->r_priv) == 0);
	n = noise_read_msg1(&hs, p, len, payload, sizeof(payload));
	if (n < 0) {
		noise_hs_wipe(&hs);
		return;
	}
	FUZZ_CHECK(len == NOISE_MSG1_OVERHEAD + (size_t)n);
	/* Out of order: a second msg1 on the same state is refused (and
	 * a refusal wipes the state, so ask a copy). */
	again = hs;
	FUZZ_CHECK(noise_read_msg1(&again, p, len, payload,
	    sizeof(payload)) == -1);
	FUZZ_CHECK(again.step == -1);
	m = noise_write_msg2(&hs, (const uint8_t *)p, len > 32 ? 32 : len,
	    out, sizeof(out));
	FUZZ_CHECK(m == (int)(NOISE_MSG2_OVERHEAD + (len > 32 ? 32 : len)));
	noise_split(&hs, &c1, &c2);
	FUZZ_CHECK(c1.has_k && c2.has_k);
	FUZZ_CHECK(memcmp(c1.k, c2.k, NOISE_KEYLEN) != 0);
	noise_hs_wipe(&hs);
}

static void
mode_msg2(const uint8_t *p, size_t len)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct noise_hs hi, hr;
	struct noise_cipher i1, i2, r1, r2;
	uint8_t msg1[MSG_MAX], msg2[MSG_MAX], payload[MSG_MAX];
	uint8_t er_pub[NOISE_DHLEN];
	int n1, n, m;

	FUZZ_CHECK(noise_hs_init(&hi, 1, (const uint8_t *)FUZZ_PROLOGUE,
	    sizeof(FUZZ_PROLOGUE) - 1, k->i_pub, k->r_pub, fuzz_dh,
	    (void *)k->i_priv) == 0);
	noise_hs_set_ephemeral(&hi, k->e_i);
	n1 = noise_write_msg1(&hi, (const uint8_t *)FUZZ_PAYLOAD,
	    sizeof(FUZZ_PAYLOAD) - 1, msg1, sizeof(msg1));
	FUZZ_CHECK(n1 == (int)(NOISE_MSG1_OVERHEAD +
	    sizeof(FUZZ_PAYLOAD) - 1));
	n = noise_read_msg2(&hi, p, len, payload, sizeof(payload));
	if (n < 0) {
		noise_hs_wipe(&hi);
		return;
	}
	FUZZ_CHECK(len == NOISE_MSG2_OVERHEAD + (size_t)n);
	noise_split(&hi, &i1, &i2);

	/* The responder that answered with the seeds' ephemeral key. */
	FUZZ_CHECK(noise_hs_init(&hr, 0, (const uint8_t *)FUZZ_PROLOGUE,
	    sizeof(FUZZ_PROLOGUE) - 1, k->r_pub, NULL, fuzz_dh,
	    (void *)k->r_priv) == 0);
	noise_hs_set_ephemeral(&hr, k->e_r);
	FUZZ_CHECK(noise_read_msg1(&hr, msg1, (size_t)n1, payload,
	    sizeof(payload)) == (int)(sizeof(FUZZ_PAYLOAD) - 1));
	FUZZ_CHECK(memcmp(hr.rs, k->i_pub, NOISE_DHLEN) == 0);
	m = noise_write_msg2(&hr, payload, 0, msg2, sizeof(msg2));
	FUZZ_CHECK(m == NOISE_MSG2_OVERHEAD);
	noise_split(&hr, &r1, &r2);
	/* An msg2 that authenticates and carries the seeds' ephemeral
	 * key can only be the seeds' responder's answer (nobody else can
	 * seal under the keys it implies): same empty payload, and both
	 * sides must hold the same keys. */
	crypto_scalarmult_base(er_pub, k->e_r);
	if (memcmp(p, er_pub, NOISE_DHLEN) == 0) {
		FUZZ_CHECK(n == 0 && memcmp(msg2, p, len) == 0);
		FUZZ_CHECK(memcmp(i1.k, r1.k, NOISE_KEYLEN) == 0);
		FUZZ_CHECK(memcmp(i2.k, r2.k, NOISE_KEYLEN) == 0);
	}
	noise_hs_wipe(&hi);
	noise_hs_wipe(&hr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_rng_reset();
	if (data[0] & 1)
		mode_msg2(data + 1, size - 1);
	else
		mode_msg1(data + 1, size - 1);
	return 0;
}
