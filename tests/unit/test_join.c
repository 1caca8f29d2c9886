/*
 * The join exchange (keyd/join.c): both state machines talk to each
 * other in memory, with a fake invitation store behind the inviter's
 * redeem callback that counts what it admitted. Covered: success (also
 * an admission big enough for several chunks), a URL whose key hash is
 * not the inviter's, a wrong secret, an expired and a used invitation,
 * the REDEEM frames of a recorded exchange replayed into a fresh one
 * (nothing admitted, the callback never runs), a joiner whose claimed
 * id is not its key, truncated, oversized and out-of-order frames, and
 * the admit blob's decoder on every truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keyd/join.h"
#include "proto/buf.h"
#include "proto/msg.h"
#include "proto/invite.h"
#include "proto/record.h"
#include "proto/trust.h"

struct ident {
	uint8_t pk[32], sk[64], x_pk[32], x_sk[32];
};

static struct ident inviter, joiner, other;
static uint8_t root[32], netid[32];

static int
dh_cb(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	struct ident *id = arg;

	return crypto_scalarmult_curve25519(out, id->x_sk, pub) == 0 ? 0 : -1;
}

static void
ident_make(struct ident *id)
{
	crypto_sign_keypair(id->pk, id->sk);
	assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(id->x_sk,
	    id->sk), 0);
	assert_int_equal(crypto_scalarmult_curve25519_base(id->x_pk,
	    id->x_sk), 0);
}

/* A fake invitation store: one invitation. */
struct store {
	uint8_t id[INVITE_ID_BYTES];
	uint8_t secret[INVITE_SECRET_BYTES];
	int expired;
	int used;
	int calls;
	int admitted;
	size_t nrecords;          /* records in the admission */
	struct join_text rev, grant;  /* len 0: none */
	uint8_t last_joiner[32];
};

static char big_record[RECORD_MAX_LEN];

static int
redeem_cb(void *arg, const uint8_t jid[MEMBER_ID_BYTES],
    const uint8_t iid[INVITE_ID_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES], uint8_t **blob, size_t *len)
{
	struct store *st = arg;
	struct join_admit a;
	struct join_text t[64];
	size_t i;

	st->calls++;
	if (sodium_memcmp(iid, st->id, sizeof(st->id)) != 0 ||
	    sodium_memcmp(secret, st->secret, sizeof(st->secret)) != 0)
		return join_admit_encode_error(JOIN_E_INVALID, "this "
		    "invitation is not valid", blob, len);
	if (st->expired)
		return join_admit_encode_error(JOIN_E_EXPIRED, "expired at "
		    "2026-01-01 00:00:00 UTC", blob, len);
	if (st->used)
		return join_admit_encode_error(JOIN_E_USED, "this "
		    "invitation was already used", blob, len);
	st->used = 1;
	st->admitted++;
	memcpy(st->last_joiner, jid, 32);
	memset(&a, 0, sizeof(a));
	a.status = JOIN_OK;
	snprintf(a.name, sizeof(a.name), "bob");
	assert_int_equal(prefix_parse(&a.ipv4, "10.77.0.9/32"), 0);
	assert_int_equal(prefix_parse(&a.ipv6, "fd00::9/128"), 0);
	a.role = ROLE_MEMBER;
	memcpy(a.admitted_by, inviter.pk, 32);
	memset(a.admission, 0xab, 64);
	memcpy(a.root, root, 32);
	snprintf(a.net, sizeof(a.net), "testnet");
	assert_int_equal(prefix_parse(&a.range4, "10.77.0.0/16"), 0);
	a.mtu = 1400;
	assert_true(st->nrecords <= 64);
	for (i = 0; i < st->nrecords; i++) {
		t[i].p = big_record;
		t[i].len = sizeof(big_record) - i;
	}
	a.records = t;
	a.nrecords = st->nrecords;
	/* One revocation and one grant text ride along (only their
	 * framing matters here; the joiner checks them, join_client.c). */
	a.revs = &st->rev;
	a.nrevs = st->rev.len > 0;
	a.grants = &st->grant;
	a.ngrants = st->grant.len > 0;
	return join_admit_encode(&a, blob, len);
}

/* HELLO's MAC against the one invitation the store holds. */
static int
hello_cb(void *arg, const uint8_t iid[INVITE_ID_BYTES],
    const uint8_t mac[INVITE_HELLO_MAC_BYTES])
{
	struct store *st = arg;
	uint8_t h[32], want[INVITE_HELLO_MAC_BYTES];

	invite_secret_hash(h, st->secret);
	invite_hello_mac(want, h, st->id);
	return sodium_memcmp(iid, st->id, sizeof(st->id)) == 0 &&
	    sodium_memcmp(want, mac, sizeof(want)) == 0;
}

static void
url_make(struct invite_url *u, const struct store *st)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->net, sizeof(u->net), "testnet");
	invite_keyhash(u->keyhash, inviter.x_pk);
	memcpy(u->id, st->id, sizeof(u->id));
	memcpy(u->secret, st->secret, sizeof(u->secret));
	snprintf(u->tcp, sizeof(u->tcp), "127.0.0.1:6550");
}

/* Frames the joiner sent, for the replay test. */
struct tape {
	uint8_t f[8][256];
	size_t len[8];
	int n;
};

static uint8_t frame[JOIN_BODY_MAX];

/*
 * Run the exchange: 1 the joiner has the whole admit blob, -1 it
 * failed (ji/jj state tells which side). Every loop bounded.
 */
static int
pump(struct join_inviter *ji, struct join_joiner *jj, struct tape *tape)
{
	int i, n, last = 0, r;

	for (i = 0; i < 64; i++) {
		n = join_joiner_next(jj, frame, sizeof(frame));
		if (n < 0)
			return -1;
		if (n > 0) {
			if (tape != NULL && tape->n < 8 &&
			    (size_t)n <= sizeof(tape->f[0])) {
				memcpy(tape->f[tape->n], frame, (size_t)n);
				tape->len[tape->n++] = (size_t)n;
			}
			if (join_inviter_input(ji, frame, (size_t)n) == -1)
				return -1;
		}
		while ((n = join_inviter_next(ji, frame, sizeof(frame),
		    &last)) > 0) {
			r = join_joiner_input(jj, frame, (size_t)n);
			if (r != 0)
				return r;
		}
		if (n < 0)
			return -1;
	}
	return -1;
}

static void
store_make(struct store *st)
{
	memset(st, 0, sizeof(*st));
	randombytes_buf(st->id, sizeof(st->id));
	randombytes_buf(st->secret, sizeof(st->secret));
}

static int
run(struct store *st, const struct invite_url *u, struct join_admit *a,
    struct tape *tape, struct join_joiner *jj)
{
	struct join_inviter ji;
	char err[256];
	int r;

	join_inviter_init(&ji, inviter.x_pk, root, netid, dh_cb,
	    &inviter, redeem_cb, st);
	join_inviter_set_hello(&ji, hello_cb);
	join_joiner_init(jj, u, joiner.pk, joiner.x_pk, dh_cb, &joiner);
	r = pump(&ji, jj, tape);
	join_inviter_wipe(&ji);
	if (r != 1)
		return -1;
	assert_int_equal(join_admit_decode(a, jj->admit, jj->admit_len, err,
	    sizeof(err)), 0);
	return 0;
}

static int
setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	ident_make(&inviter);
	ident_make(&joiner);
	ident_make(&other);
	memcpy(root, inviter.pk, 32);
	netid_derive(netid, "testnet", root);
	memset(big_record, 'r', sizeof(big_record));
	return 0;
}

static void
test_success(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_admit a;
	struct join_joiner jj;

	store_make(&st);
	st.nrecords = 2;
	url_make(&u, &st);
	assert_int_equal(run(&st, &u, &a, NULL, &jj), 0);
	assert_int_equal(a.status, JOIN_OK);
	assert_string_equal(a.name, "bob");
	assert_string_equal(a.net, "testnet");
	assert_int_equal(a.ipv4.family, 4);
	assert_int_equal(a.mtu, 1400);
	assert_memory_equal(a.root, root, 32);
	assert_memory_equal(a.admitted_by, inviter.pk, 32);
	assert_int_equal(a.nrecords, 2);
	assert_int_equal(a.records[1].len, sizeof(big_record) - 1);
	assert_int_equal(st.admitted, 1);
	/* the inviter saw the joiner's real id, nothing else */
	assert_memory_equal(st.last_joiner, joiner.pk, 32);
	assert_memory_equal(jj.inviter, inviter.x_pk, 32);
	join_admit_free(&a);
	join_joiner_wipe(&jj);
}

static void
test_many_chunks(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_admit a;
	struct join_joiner jj;

	store_make(&st);
	st.nrecords = 40;          /* ~320 KiB: six chunks */
	url_make(&u, &st);
	assert_int_equal(run(&st, &u, &a, NULL, &jj), 0);
	assert_int_equal(a.nrecords, 40);
	assert_true(jj.rx_n >= 5);
	assert_int_equal(a.records[39].len, sizeof(big_record) - 39);
	assert_int_equal(a.records[39].p[0], 'r');
	join_admit_free(&a);
	join_joiner_wipe(&jj);
}

static void
test_wrong_keyhash(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_admit a;
	struct join_joiner jj;

	store_make(&st);
	url_make(&u, &st);
	u.keyhash[3] ^= 0x10;
	assert_int_equal(run(&st, &u, &a, NULL, &jj), -1);
	assert_int_equal(jj.state, JJ_FAILED);
	assert_non_null(strstr(jj.why, "key hash"));
	assert_int_equal(st.calls, 0);
	assert_int_equal(st.admitted, 0);
	join_joiner_wipe(&jj);
}

static int
refused(uint8_t status, struct store *st, const struct invite_url *u,
    char *msg, size_t cap)
{
	struct join_admit a;
	struct join_joiner jj;
	int s;

	assert_int_equal(run(st, u, &a, NULL, &jj), 0);
	s = a.status;
	snprintf(msg, cap, "%s", a.message);
	assert_int_equal(s, status);
	assert_int_equal(a.nrecords, 0);
	join_admit_free(&a);
	join_joiner_wipe(&jj);
	return s;
}

static void
test_wrong_secret_expired_used(void **state)
{
	struct store st;
	struct invite_url u;
	char msg[JOIN_MSG_MAX + 1];

	store_make(&st);
	url_make(&u, &st);
	u.secret[19] ^= 1;
	/* A wrong secret fails HELLO's MAC: nothing is answered, not even
	 * the inviter's key (issue 15), and nothing is redeemed. */
	{
		struct join_admit a;
		struct join_joiner jj;

		assert_int_equal(run(&st, &u, &a, NULL, &jj), -1);
		assert_int_equal(jj.state, JJ_KEY);
		join_joiner_wipe(&jj);
	}
	assert_int_equal(st.calls, 0);
	assert_int_equal(st.admitted, 0);
	assert_int_equal(st.used, 0);        /* a wrong secret consumes none */

	store_make(&st);
	st.expired = 1;
	url_make(&u, &st);
	refused(JOIN_E_EXPIRED, &st, &u, msg, sizeof(msg));
	assert_non_null(strstr(msg, "expired"));
	assert_int_equal(st.admitted, 0);

	store_make(&st);
	url_make(&u, &st);
	{
		struct join_admit a;
		struct join_joiner jj;

		assert_int_equal(run(&st, &u, &a, NULL, &jj), 0);
		assert_int_equal(a.status, JOIN_OK);
		join_admit_free(&a);
		join_joiner_wipe(&jj);
	}
	refused(JOIN_E_USED, &st, &u, msg, sizeof(msg));
	assert_non_null(strstr(msg, "already used"));
	assert_int_equal(st.admitted, 1);
}

/* A recorded exchange's frames played into a fresh inviter: HELLO and
 * HS1 are answered (a responder cannot tell), but REDEEM was sealed
 * under keys from the old responder ephemeral and does not open; the
 * invitation store is never asked. */
static void
test_replay(void **state)
{
	struct store st, st2;
	struct invite_url u;
	struct join_admit a;
	struct join_joiner jj;
	struct join_inviter ji;
	struct tape tape;
	int i, last, n, r = 0;

	store_make(&st);
	url_make(&u, &st);
	memset(&tape, 0, sizeof(tape));
	assert_int_equal(run(&st, &u, &a, &tape, &jj), 0);
	assert_int_equal(a.status, JOIN_OK);
	join_admit_free(&a);
	join_joiner_wipe(&jj);
	assert_int_equal(tape.n, 3);          /* HELLO, HS1, REDEEM */

	/* the same invitation, unused, in a store that would admit */
	st2 = st;
	st2.used = 0;
	st2.calls = st2.admitted = 0;
	join_inviter_init(&ji, inviter.x_pk, root, netid, dh_cb,
	    &inviter, redeem_cb, &st2);
	join_inviter_set_hello(&ji, hello_cb);
	for (i = 0; i < tape.n; i++) {
		r = join_inviter_input(&ji, tape.f[i], tape.len[i]);
		if (r == -1)
			break;
		while ((n = join_inviter_next(&ji, frame, sizeof(frame),
		    &last)) > 0)
			;
	}
	assert_int_equal(r, -1);
	assert_int_equal(i, 2);               /* REDEEM refused */
	assert_int_equal(ji.state, JI_FAILED);
	assert_non_null(strstr(ji.why, "does not decrypt"));
	assert_int_equal(st2.calls, 0);
	assert_int_equal(st2.admitted, 0);
	join_inviter_wipe(&ji);
	print_message("replayed join exchange: REDEEM refused, nothing "
	    "admitted (unit level)\n");
}

/* A joiner that claims another id than its Noise key. */
static void
test_id_not_key(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_inviter ji;
	struct join_joiner jj;

	store_make(&st);
	url_make(&u, &st);
	join_inviter_init(&ji, inviter.x_pk, root, netid, dh_cb,
	    &inviter, redeem_cb, &st);
	join_inviter_set_hello(&ji, hello_cb);
	join_joiner_init(&jj, &u, other.pk, joiner.x_pk, dh_cb, &joiner);
	assert_int_equal(pump(&ji, &jj, NULL), -1);
	assert_int_equal(ji.state, JI_FAILED);
	assert_non_null(strstr(ji.why, "not its key"));
	assert_int_equal(st.calls, 0);
	join_inviter_wipe(&ji);
	join_joiner_wipe(&jj);
}

/* Another network's root (KEY tampered): the prologues differ, the
 * handshake fails on the inviter's side. */
static void
test_wrong_root(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_inviter ji;
	struct join_joiner jj;
	uint8_t f[JOIN_BODY_MAX];
	int n, last;

	store_make(&st);
	url_make(&u, &st);
	join_inviter_init(&ji, inviter.x_pk, root, netid, dh_cb,
	    &inviter, redeem_cb, &st);
	join_inviter_set_hello(&ji, hello_cb);
	join_joiner_init(&jj, &u, joiner.pk, joiner.x_pk, dh_cb, &joiner);
	n = join_joiner_next(&jj, f, sizeof(f));
	assert_int_equal(join_inviter_input(&ji, f, (size_t)n), 0);
	n = join_inviter_next(&ji, f, sizeof(f), &last);
	assert_int_equal(n, 65);
	f[1 + 32] ^= 1;                       /* the root */
	assert_int_equal(join_joiner_input(&jj, f, (size_t)n), 0);
	n = join_joiner_next(&jj, f, sizeof(f));
	assert_true(n > 0);
	assert_int_equal(join_inviter_input(&ji, f, (size_t)n), -1);
	assert_int_equal(st.calls, 0);
	join_inviter_wipe(&ji);
	join_joiner_wipe(&jj);
}

static void
test_bad_frames(void **state)
{
	struct store st;
	struct join_inviter ji;
	uint8_t *big;
	uint8_t hello[JOIN_HELLO_LEN];
	uint8_t f[JOIN_BODY_MAX];
	struct invite_url u;
	struct join_joiner jj;
	int last;

	store_make(&st);
	/* A joiner's HELLO for the store's invitation. */
	url_make(&u, &st);
	join_joiner_init(&jj, &u, joiner.pk, joiner.x_pk, dh_cb, &joiner);
	assert_int_equal(join_joiner_next(&jj, hello, sizeof(hello)),
	    JOIN_HELLO_LEN);
	join_joiner_wipe(&jj);
	big = calloc(1, JOIN_BODY_MAX + 1);
	assert_non_null(big);
#define FRESH() do { join_inviter_init(&ji, inviter.x_pk, root, \
	    netid, dh_cb, &inviter, redeem_cb, &st); \
	    join_inviter_set_hello(&ji, hello_cb); } while (0)
	FRESH();
	assert_int_equal(join_inviter_input(&ji, hello, 0), -1);
	FRESH();
	big[0] = JOIN_HELLO;
	assert_int_equal(join_inviter_input(&ji, big, JOIN_BODY_MAX + 1), -1);
	FRESH();
	assert_int_equal(join_inviter_input(&ji, hello, 1), -1);  /* short */
	FRESH();
	hello[1] = 1;                              /* the old version */
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), -1);
	hello[1] = JOIN_VERSION;
	FRESH();
	hello[JOIN_HELLO_LEN - 1] ^= 1;                 /* a wrong MAC */
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), -1);
	assert_true(ji.hello_refused);
	/* silence: nothing to send */
	assert_int_equal(join_inviter_next(&ji, f, sizeof(f), &last), -1);
	hello[JOIN_HELLO_LEN - 1] ^= 1;
	FRESH();
	hello[2] ^= 1;                           /* another invitation id */
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), -1);
	hello[2] ^= 1;
	FRESH();
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN - 1),
	    -1);                                             /* short MAC */
	FRESH();
	big[0] = JOIN_REDEEM;                                 /* out of turn */
	assert_int_equal(join_inviter_input(&ji, big, 45), -1);
	FRESH();
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), 0);
	/* a second frame before the answer was taken */
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), -1);
	FRESH();
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), 0);
	assert_int_equal(join_inviter_next(&ji, f, sizeof(f), &last), 65);
	big[0] = JOIN_HS1;                                 /* truncated HS1 */
	assert_int_equal(join_inviter_input(&ji, big, 1 + 96 + 31), -1);
	FRESH();
	assert_int_equal(join_inviter_input(&ji, hello, JOIN_HELLO_LEN), 0);
	assert_int_equal(join_inviter_next(&ji, f, sizeof(f), &last), 65);
	randombytes_buf(big + 1, 128);                  /* garbage HS1 */
	assert_int_equal(join_inviter_input(&ji, big, 129), -1);
	assert_int_equal(join_inviter_next(&ji, f, sizeof(f), &last), -1);
	assert_int_equal(st.calls, 0);
	join_inviter_wipe(&ji);
#undef FRESH
	free(big);
}

static void
test_joiner_bad_frames(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_joiner jj;
	uint8_t f[JOIN_BODY_MAX];

	store_make(&st);
	url_make(&u, &st);
	join_joiner_init(&jj, &u, joiner.pk, joiner.x_pk, dh_cb, &joiner);
	assert_int_equal(join_joiner_next(&jj, f, sizeof(f)),
	    JOIN_HELLO_LEN);
	memset(f, 0, sizeof(f));
	f[0] = JOIN_KEY;
	assert_int_equal(join_joiner_input(&jj, f, 64), -1);  /* truncated */
	join_joiner_wipe(&jj);
	join_joiner_init(&jj, &u, joiner.pk, joiner.x_pk, dh_cb, &joiner);
	assert_int_equal(join_joiner_next(&jj, f, sizeof(f)),
	    JOIN_HELLO_LEN);
	f[0] = JOIN_ADMIT;                                 /* out of turn */
	assert_int_equal(join_joiner_input(&jj, f, 100), -1);
	assert_non_null(strstr(jj.why, "unexpected"));
	join_joiner_wipe(&jj);
}

static void
test_admit_codec(void **state)
{
	struct store st;
	uint8_t *blob;
	size_t len, i;
	struct join_admit a;
	char err[256];

	store_make(&st);
	st.nrecords = 3;
	st.rev.p = "revoke = x\n";
	st.rev.len = 11;
	st.grant.p = "grant = y\n";
	st.grant.len = 10;
	assert_int_equal(redeem_cb(&st, joiner.pk, st.id, st.secret, &blob,
	    &len), 0);
	assert_int_equal(join_admit_decode(&a, blob, len, err, sizeof(err)),
	    0);
	assert_int_equal(a.nrecords, 3);
	assert_int_equal(a.nrevs, 1);
	assert_int_equal(a.ngrants, 1);
	assert_int_equal(a.grants[0].len, 10);
	assert_memory_equal(a.grants[0].p, "grant = y\n", 10);
	assert_memory_equal(a.revs[0].p, "revoke = x\n", 11);
	join_admit_free(&a);
	for (i = 0; i < len; i++) {
		assert_int_equal(join_admit_decode(&a, blob, i, err,
		    sizeof(err)), -1);
		join_admit_free(&a);
	}
	/* one byte too many */
	blob = realloc(blob, len + 1);
	assert_non_null(blob);
	blob[len] = 0;
	assert_int_equal(join_admit_decode(&a, blob, len + 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	join_admit_free(&a);
	free(blob);
	/* a record count that lies */
	assert_int_equal(join_admit_encode_error(JOIN_E_USED, "used", &blob,
	    &len), 0);
	assert_int_equal(join_admit_decode(&a, blob, len, err, sizeof(err)),
	    0);
	assert_string_equal(a.message, "used");
	join_admit_free(&a);
	free(blob);
}

static int record_calls, record_refuse;
static char record_seen[64];

static int
record_cb(void *arg, const uint8_t jid[MEMBER_ID_BYTES], const char *text,
    size_t len, char *msg, size_t cap)
{
	record_calls++;
	assert_memory_equal(jid, joiner.pk, 32);
	snprintf(record_seen, sizeof(record_seen), "%.*s", (int)len, text);
	if (record_refuse) {
		snprintf(msg, cap, "name taken");
		return -1;
	}
	return 0;
}

/* After the admission the joiner's record goes to the inviter, which
 * answers DONE (kept or not) and closes. */
static void
test_record_done(void **state)
{
	struct store st;
	struct invite_url u;
	struct join_inviter ji;
	struct join_joiner jj;
	int n, last, r, refuse;

	for (refuse = 0; refuse < 2; refuse++) {
		record_calls = 0;
		record_refuse = refuse;
		store_make(&st);
		url_make(&u, &st);
		join_inviter_init(&ji, inviter.x_pk, root, netid,
		    dh_cb, &inviter, redeem_cb, &st);
		join_inviter_set_hello(&ji, hello_cb);
		join_inviter_set_record(&ji, record_cb);
		join_joiner_init(&jj, &u, joiner.pk, joiner.x_pk, dh_cb,
		    &joiner);
		assert_int_equal(pump(&ji, &jj, NULL), 1);
		assert_int_equal(ji.state, JI_RECORD);
		/* not before the admission, and only once */
		assert_int_equal(join_joiner_send_record(&jj, "", 0), -1);
		assert_int_equal(join_joiner_send_record(&jj, "name = bob\n",
		    11), 0);
		assert_int_equal(join_joiner_send_record(&jj, "x", 1), -1);
		n = join_joiner_next(&jj, frame, sizeof(frame));
		assert_true(n > 0);
		assert_int_equal(join_inviter_input(&ji, frame, (size_t)n), 0);
		assert_int_equal(record_calls, 1);
		assert_string_equal(record_seen, "name = bob\n");
		n = join_inviter_next(&ji, frame, sizeof(frame), &last);
		assert_true(n > 0);
		assert_int_equal(last, 1);
		r = join_joiner_input(&jj, frame, (size_t)n);
		assert_int_equal(r, 2);
		assert_int_equal(jj.done_status, refuse ? JOIN_E_REFUSED :
		    JOIN_OK);
		if (refuse)
			assert_string_equal(jj.done_msg, "name taken");
		/* nothing more */
		assert_int_equal(join_inviter_next(&ji, frame, sizeof(frame),
		    &last), 0);
		join_inviter_wipe(&ji);
		join_joiner_wipe(&jj);
	}
	/* a refusal ends with the last ADMIT chunk: no RECORD taken */
	store_make(&st);
	st.expired = 1;
	url_make(&u, &st);
	record_calls = 0;
	join_inviter_init(&ji, inviter.x_pk, root, netid, dh_cb,
	    &inviter, redeem_cb, &st);
	join_inviter_set_hello(&ji, hello_cb);
	join_inviter_set_record(&ji, record_cb);
	join_joiner_init(&jj, &u, joiner.pk, joiner.x_pk, dh_cb, &joiner);
	assert_int_equal(pump(&ji, &jj, NULL), 1);
	assert_int_equal(ji.state, JI_DONE);
	assert_int_equal(join_joiner_send_record(&jj, "name = x\n", 9), 0);
	n = join_joiner_next(&jj, frame, sizeof(frame));
	assert_int_equal(join_inviter_input(&ji, frame, (size_t)n), -1);
	assert_int_equal(record_calls, 0);
	join_inviter_wipe(&ji);
	join_joiner_wipe(&jj);
}

/* MSG_JOIN_IN / MSG_JOIN_OUT: codecs and who may send them. */
static void
test_msg_codec(void **state)
{
	static uint8_t buf[MSG_JOIN_BODY_MAX + 64];
	static uint8_t body[MSG_JOIN_BODY_MAX + 1];
	struct msg_join_in in, in2;
	struct msg_join_out out, out2;
	struct buf_w w;
	const char *why;

	memset(body, 7, sizeof(body));
	in.conn = 42;
	in.len = MSG_JOIN_BODY_MAX;
	in.data = body;
	bw_init(&w, buf, sizeof(buf));
	msg_join_in_encode(&w, &in);
	assert_false(w.err);
	assert_int_equal(msg_check(MSG_JOIN_IN, w.len, D_LINKD, &why), 0);
	assert_int_equal(msg_check(MSG_JOIN_IN, w.len, D_KEYD, &why), -1);
	assert_int_equal(msg_check(MSG_JOIN_IN, w.len, D_ROUTED, &why), -1);
	assert_int_equal(msg_join_in_decode(&in2, buf, w.len), 0);
	assert_int_equal(in2.conn, 42);
	assert_int_equal(in2.len, MSG_JOIN_BODY_MAX);
	assert_int_equal(msg_join_in_decode(&in2, buf, w.len - 1), -1);
	/* the end of a connection: empty */
	in.len = 0;
	in.data = NULL;
	bw_init(&w, buf, sizeof(buf));
	msg_join_in_encode(&w, &in);
	assert_false(w.err);
	assert_int_equal(msg_join_in_decode(&in2, buf, w.len), 0);
	assert_int_equal(in2.len, 0);

	out.conn = 7;
	out.flags = JOIN_OUT_CLOSE;
	out.len = 3;
	out.data = body;
	bw_init(&w, buf, sizeof(buf));
	msg_join_out_encode(&w, &out);
	assert_false(w.err);
	assert_int_equal(msg_check(MSG_JOIN_OUT, w.len, D_KEYD, &why), 0);
	assert_int_equal(msg_check(MSG_JOIN_OUT, w.len, D_LINKD, &why), -1);
	assert_int_equal(msg_join_out_decode(&out2, buf, w.len), 0);
	assert_int_equal(out2.flags, JOIN_OUT_CLOSE);
	assert_int_equal(out2.len, 3);
	buf[4] = 2;                               /* unknown flag */
	assert_int_equal(msg_join_out_decode(&out2, buf, w.len), -1);
	/* empty only with CLOSE */
	out.flags = 0;
	out.len = 0;
	bw_init(&w, buf, sizeof(buf));
	msg_join_out_encode(&w, &out);
	assert_true(w.err);
	out.len = MSG_JOIN_BODY_MAX + 1;
	out.flags = 0;
	bw_init(&w, buf, sizeof(buf));
	msg_join_out_encode(&w, &out);
	assert_true(w.err);
	/* the table bounds the length */
	assert_int_equal(msg_check(MSG_JOIN_IN, 4 + 2 + MSG_JOIN_BODY_MAX + 1,
	    D_LINKD, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_many_chunks),
		cmocka_unit_test(test_wrong_keyhash),
		cmocka_unit_test(test_wrong_secret_expired_used),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_id_not_key),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_joiner_bad_frames),
		cmocka_unit_test(test_admit_codec),
		cmocka_unit_test(test_msg_codec),
		cmocka_unit_test(test_record_done),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
