/*
 * Fuzz target: the join exchange (keyd/join.c), above all the inviter's
 * side, which anyone who can reach a member's onion service feeds.
 *
 * Input: one mode byte, then
 *   mode 0  frames for a fresh inviter, each u16 length | body. The
 *           inviter answers what it answers; it must never hand out a
 *           frame bigger than JOIN_BODY_MAX, never ask the invitation
 *           store (a redeem needs a REDEEM sealed under this exchange's
 *           keys, which no input can hold), and stay failed once failed.
 *   mode 1  the same frames, but after a real joiner has run HELLO, KEY,
 *           HS1 and HS2 with it: the inviter waits for REDEEM, so the
 *           fuzzer reaches the decryption and what follows.
 *   mode 2  a whole exchange whose inviter answers with the input as the
 *           admit blob: chunked, sealed, reassembled by the joiner, which
 *           must get exactly those bytes; then join_admit_decode on them,
 *           and (when the blob says JOIN_OK) the joiner's RECORD and the
 *           inviter's DONE.
 *   mode 4  frames for an inviter that has admitted a real joiner and
 *           waits for its RECORD (as mode 1, one step later).
 *   mode 3  join_admit_decode on the input; what decodes must encode
 *           and decode to the same fields.
 *
 * The random source is fuzz_common.h's (reset per input), so every run
 * of one input draws the same ephemerals.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "keyd/join.h"
#include "proto/invite.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t inv_x_sk[32], inv_x_pk[32], join_x_sk[32], join_x_pk[32];
static uint8_t netid[32];
static uint8_t frame[JOIN_BODY_MAX];
static const uint8_t invite_id[INVITE_ID_BYTES] = "fuzz-id";
static const uint8_t secret[INVITE_SECRET_BYTES] = "fuzz secret 20 bytes";

struct redeem_arg {
	int calls;
	const uint8_t *blob;
	size_t len;
};

static int
redeem_cb(void *arg, const uint8_t jid[MEMBER_ID_BYTES],
    const uint8_t iid[INVITE_ID_BYTES],
    const uint8_t sec[INVITE_SECRET_BYTES], uint8_t **blob, size_t *len)
{
	struct redeem_arg *ra = arg;

	ra->calls++;
	if (ra->blob == NULL)
		return join_admit_encode_error(JOIN_E_INVALID, "no", blob,
		    len);
	if ((*blob = malloc(ra->len)) == NULL)
		return -1;
	memcpy(*blob, ra->blob, ra->len);
	*len = ra->len;
	return 0;
}

/* HELLO's MAC for the one invitation there is. */
static int
hello_cb(void *arg, const uint8_t iid[INVITE_ID_BYTES],
    const uint8_t mac[INVITE_HELLO_MAC_BYTES])
{
	uint8_t h[32], want[INVITE_HELLO_MAC_BYTES];

	(void)arg;
	invite_secret_hash(h, secret);
	invite_hello_mac(want, h, invite_id);
	return memcmp(iid, invite_id, INVITE_ID_BYTES) == 0 &&
	    memcmp(mac, want, sizeof(want)) == 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct fuzz_keys *k;

	fuzz_init();
	k = fuzz_keys();
	if (crypto_sign_ed25519_sk_to_curve25519(inv_x_sk, k->sign_sk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(inv_x_pk, k->sign_pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(join_x_sk, k->sign2_sk) !=
	    0 || crypto_sign_ed25519_pk_to_curve25519(join_x_pk,
	    k->sign2_pk) != 0)
		abort();
	netid_derive(netid, "fuzz", k->sign_pk);
	return 0;
}

static void
url_make(struct invite_url *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->net, sizeof(u->net), "fuzz");
	invite_keyhash(u->keyhash, inv_x_pk);
	memcpy(u->id, invite_id, sizeof(u->id));
	memcpy(u->secret, secret, sizeof(u->secret));
}

static void
inviter_init(struct join_inviter *ji, struct redeem_arg *ra)
{
	const struct fuzz_keys *k = fuzz_keys();

	join_inviter_init(ji, inv_x_pk, k->sign_pk, netid,
	    fuzz_dh, inv_x_sk, redeem_cb, ra);
	join_inviter_set_hello(ji, hello_cb);
}

/* Drain the inviter; -1 when it failed. Frames go to jj when given. */
static int
drain(struct join_inviter *ji, struct join_joiner *jj, int *done)
{
	int n, last;

	while ((n = join_inviter_next(ji, frame, sizeof(frame), &last)) >
	    0) {
		FUZZ_CHECK((size_t)n <= JOIN_BODY_MAX);
		if (jj != NULL && join_joiner_input(jj, frame, (size_t)n) == 1)
			*done = 1;
	}
	return n;
}

/* Run a real joiner against ji; stop before REDEEM when stop_redeem. */
static int
handshake(struct join_inviter *ji, struct join_joiner *jj, int stop_redeem,
    int *done)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct invite_url u;
	int i, n;

	url_make(&u);
	join_joiner_init(jj, &u, k->sign2_pk, join_x_pk, fuzz_dh, join_x_sk);
	for (i = 0; i < 8; i++) {
		if (jj->state == JJ_ADMIT && stop_redeem)
			return 0;
		n = join_joiner_next(jj, frame, sizeof(frame));
		if (n <= 0)
			return n == 0 && *done ? 0 : -1;
		if (join_inviter_input(ji, frame, (size_t)n) == -1)
			return -1;
		if (drain(ji, jj, done) == -1)
			return -1;
		if (*done)
			return 0;
	}
	return -1;
}

static void
feed_frames(struct join_inviter *ji, const uint8_t *p, size_t n)
{
	size_t len;
	int failed = 0, r, done = 0;

	while (n >= 2) {
		len = (size_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		r = join_inviter_input(ji, p, len);
		if (failed)
			FUZZ_CHECK(r == -1);
		if (r == -1)
			failed = 1;
		if (drain(ji, NULL, &done) == -1)
			failed = 1;
		p += len;
		n -= len;
	}
}

static void
check_decode(const uint8_t *p, size_t n)
{
	struct join_admit a, b;
	uint8_t *blob;
	size_t len;
	char err[256];

	if (join_admit_decode(&a, p, n, err, sizeof(err)) == 0 &&
	    a.status == JOIN_OK) {
		FUZZ_CHECK(join_admit_encode(&a, &blob, &len) == 0);
		FUZZ_CHECK(join_admit_decode(&b, blob, len, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(strcmp(a.name, b.name) == 0);
		FUZZ_CHECK(a.nrecords == b.nrecords && a.nrevs == b.nrevs &&
		    a.ngrants == b.ngrants);
		FUZZ_CHECK(memcmp(a.admission, b.admission, 64) == 0);
		join_admit_free(&b);
		free(blob);
	}
	join_admit_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct join_inviter ji;
	static struct join_joiner jj;
	struct redeem_arg ra;
	int done = 0;

	if (size < 1)
		return 0;
	fuzz_rng_reset();
	memset(&ra, 0, sizeof(ra));
	switch (data[0] % 5) {
	case 0:
		inviter_init(&ji, &ra);
		feed_frames(&ji, data + 1, size - 1);
		FUZZ_CHECK(ra.calls == 0);
		join_inviter_wipe(&ji);
		break;
	case 1:
		inviter_init(&ji, &ra);
		FUZZ_CHECK(handshake(&ji, &jj, 1, &done) == 0);
		FUZZ_CHECK(ji.state == JI_REDEEM);
		feed_frames(&ji, data + 1, size - 1);
		FUZZ_CHECK(ra.calls == 0);
		join_inviter_wipe(&ji);
		join_joiner_wipe(&jj);
		break;
	case 2:
		if (size - 1 == 0 || size - 1 > JOIN_ADMIT_MAX)
			return 0;
		ra.blob = data + 1;
		ra.len = size - 1;
		inviter_init(&ji, &ra);
		FUZZ_CHECK(handshake(&ji, &jj, 0, &done) == 0);
		FUZZ_CHECK(done && jj.state == JJ_DONE);
		FUZZ_CHECK(ra.calls == 1);
		FUZZ_CHECK(jj.admit_len == size - 1 &&
		    memcmp(jj.admit, data + 1, size - 1) == 0);
		check_decode(jj.admit, jj.admit_len);
		if (data[1] == JOIN_OK) {
			int n, last = 0;

			FUZZ_CHECK(ji.state == JI_RECORD);
			FUZZ_CHECK(join_joiner_send_record(&jj, "name = x\n",
			    9) == 0);
			n = join_joiner_next(&jj, frame, sizeof(frame));
			FUZZ_CHECK(n > 0);
			FUZZ_CHECK(join_inviter_input(&ji, frame,
			    (size_t)n) == 0);
			n = join_inviter_next(&ji, frame, sizeof(frame),
			    &last);
			FUZZ_CHECK(n > 0 && last == 1);
			FUZZ_CHECK(join_joiner_input(&jj, frame,
			    (size_t)n) == 2);
		} else
			FUZZ_CHECK(ji.state == JI_DONE);
		join_inviter_wipe(&ji);
		join_joiner_wipe(&jj);
		break;
	case 4: {
		static const uint8_t ok_blob[] = { JOIN_OK };

		/* a blob that decodes or not does not matter here */
		ra.blob = ok_blob;
		ra.len = sizeof(ok_blob);
		inviter_init(&ji, &ra);
		FUZZ_CHECK(handshake(&ji, &jj, 0, &done) == 0);
		FUZZ_CHECK(ji.state == JI_RECORD);
		feed_frames(&ji, data + 1, size - 1);
		FUZZ_CHECK(ra.calls == 1);
		join_inviter_wipe(&ji);
		join_joiner_wipe(&jj);
		break;
	}
	default:
		check_decode(data + 1, size - 1);
		break;
	}
	return 0;
}
