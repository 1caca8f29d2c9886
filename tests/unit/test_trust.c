/*
 * Unit tests for proto/trust.c: admissions, the chain check and
 * revocations.
 *
 * A small network is built with seeded keys: root R; admin A (admitted
 * by R); plain members M (by A) and N (by M); P (by R). Then every way
 * a chain can be wrong must be refused with a reason naming the member:
 * a tampered admission byte, a record changed after its admission, the
 * wrong network, a plain member making an admin, a revoked link, an
 * admitter not held, a self-admission, a chain longer than the bound.
 * Revocations: the canonical text round trips, every single-byte change
 * is refused by the parser or the signature, and only the root or a
 * valid admin may revoke.
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

#include "proto/record.h"
#include "proto/trust.h"

#define MAXM 24

struct member {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	struct record rec;
};

static struct member R, A, M, N, P;
static struct member chain[MAXM];
static uint8_t netid[NETID_BYTES];

/* The held set the callbacks see. */
static const struct record *held[2 * MAXM];
static size_t nheld;
static uint8_t revoked_ids[8][MEMBER_ID_BYTES];
static size_t nrevoked;

static const struct record *
lookup(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	(void)arg;
	for (i = 0; i < nheld; i++)
		if (memcmp(held[i]->id, id, MEMBER_ID_BYTES) == 0)
			return held[i];
	return NULL;
}

static int
is_revoked(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	(void)arg;
	for (i = 0; i < nrevoked; i++)
		if (memcmp(revoked_ids[i], id, MEMBER_ID_BYTES) == 0)
			return 1;
	return 0;
}

static void
keys(struct member *m, uint8_t tag)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	memset(seed, tag, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(m->pk, m->sk, seed), 0);
}

static void
admit(struct record *r, const struct member *by)
{
	uint8_t buf[ADMISSION_SIGNED_MAX];
	int n;

	r->admitted = 1;
	memcpy(r->admitted_by, by->pk, MEMBER_ID_BYTES);
	n = admission_signed_bytes(r, netid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(crypto_sign_detached(r->admission, NULL, buf,
	    (size_t)n, by->sk), 0);
}

/* m's record, admitted by `by` (NULL: none), self-signed. */
static void
make(struct member *m, const char *name, uint8_t tag, const char *ipv4,
    int role, const struct member *by)
{
	keys(m, tag);
	memset(&m->rec, 0, sizeof(m->rec));
	snprintf(m->rec.name, sizeof(m->rec.name), "%s", name);
	memcpy(m->rec.id, m->pk, MEMBER_ID_BYTES);
	if (ipv4 != NULL)
		assert_int_equal(prefix_parse(&m->rec.ipv4, ipv4), 0);
	ipv6_member_addr(&m->rec.ipv6, netid, m->pk);
	m->rec.serial = 1;
	m->rec.role = role;
	if (by != NULL)
		admit(&m->rec, by);
	assert_int_equal(record_sign(&m->rec, m->sk, netid), 0);
}

static int
check(const struct record *r, char *why, size_t cap)
{
	why[0] = '\0';
	return trust_check(r, R.pk, netid, lookup, is_revoked, NULL, why,
	    cap);
}

static int
setup(void **state)
{
	uint8_t root[crypto_sign_PUBLICKEYBYTES], sk[64], seed[32];

	(void)state;
	if (sodium_init() < 0)
		return -1;
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(root, sk, seed);
	netid_derive(netid, "corp", root);
	make(&R, "root", 1, "10.77.0.1", ROLE_MEMBER, NULL);
	/* N is admitted by a plain member: the root lets members invite
	 * (test_members_invite takes it away). */
	R.rec.members_invite = 1;
	assert_int_equal(record_sign(&R.rec, R.sk, netid), 0);
	make(&A, "anna", 2, "10.77.0.2", ROLE_ADMIN, &R);
	make(&M, "mike", 3, "10.77.0.3", ROLE_MEMBER, &A);
	make(&N, "nora", 4, NULL, ROLE_MEMBER, &M);
	make(&P, "paul", 5, "10.77.0.5", ROLE_MEMBER, &R);
	nheld = 0;
	held[nheld++] = &R.rec;
	held[nheld++] = &A.rec;
	held[nheld++] = &M.rec;
	held[nheld++] = &N.rec;
	held[nheld++] = &P.rec;
	nrevoked = 0;
	return 0;
}

static void
test_admission_bytes(void **state)
{
	uint8_t buf[ADMISSION_SIGNED_MAX], want[ADMISSION_SIGNED_MAX];
	size_t ctx = strlen("onionmesh admission v1\n"), w;
	char a6[PREFIX_STRLEN], tail[256];
	int n;

	(void)state;
	n = admission_signed_bytes(&M.rec, netid, buf, sizeof(buf));
	memcpy(want, "onionmesh admission v1\n", ctx);
	memcpy(want + ctx, netid, NETID_BYTES);
	memcpy(want + ctx + NETID_BYTES, M.pk, MEMBER_ID_BYTES);
	prefix_fmt(&M.rec.ipv6, a6, sizeof(a6), 0);
	snprintf(tail, sizeof(tail), "mike\n10.77.0.3\n%s\nmember", a6);
	w = ctx + NETID_BYTES + MEMBER_ID_BYTES + strlen(tail);
	memcpy(want + ctx + NETID_BYTES + MEMBER_ID_BYTES, tail,
	    strlen(tail));
	assert_int_equal(n, (int)w);
	assert_memory_equal(buf, want, w);
	/* No IPv4: an empty line; admin: the role's name. */
	n = admission_signed_bytes(&N.rec, netid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(memmem(buf, (size_t)n, "nora\n\n", 6));
	n = admission_signed_bytes(&A.rec, netid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf + n - 6, "\nadmin", 6);
	/* Too small a buffer. */
	assert_int_equal(admission_signed_bytes(&M.rec, netid, buf, 40), -1);
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	assert_string_equal(role_name(ROLE_MEMBER), "member");
}

static void
test_valid_chains(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(check(&R.rec, why, sizeof(why)), 0);
	assert_int_equal(check(&A.rec, why, sizeof(why)), 0);
	assert_int_equal(check(&M.rec, why, sizeof(why)), 0);
	assert_int_equal(check(&N.rec, why, sizeof(why)), 0);
	assert_int_equal(check(&P.rec, why, sizeof(why)), 0);
	assert_int_equal(admission_verify(&M.rec, netid), 0);
	/* The root needs no admission, but others do. */
	assert_int_equal(admission_verify(&R.rec, netid), -1);
}

static void
test_tampered_admission(void **state)
{
	struct record r;
	char why[256];
	size_t i;
	int b;

	(void)state;
	for (i = 0; i < sizeof(r.admission); i++) {
		for (b = 0; b < 8; b += 7) {
			r = M.rec;
			r.admission[i] ^= (uint8_t)(1u << b);
			assert_int_equal(admission_verify(&r, netid), -1);
			/* Re-signed by its owner, still refused. */
			assert_int_equal(record_sign(&r, M.sk, netid), 0);
			assert_int_equal(check(&r, why, sizeof(why)), -1);
			assert_non_null(strstr(why, "mike"));
		}
	}
	/* admitted_by changed: the signature is not that member's. */
	r = M.rec;
	memcpy(r.admitted_by, R.pk, MEMBER_ID_BYTES);
	assert_int_equal(record_sign(&r, M.sk, netid), 0);
	assert_int_equal(check(&r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not verify"));
}

/* What a member was admitted as is fixed: name, addresses, role. */
static void
test_changed_after_admission(void **state)
{
	struct record r;
	char why[256];

	(void)state;
	r = M.rec;
	strcpy(r.name, "mallory");
	assert_int_equal(record_sign(&r, M.sk, netid), 0);
	assert_int_equal(check(&r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "mallory: its admission"));

	r = M.rec;
	assert_int_equal(prefix_parse(&r.ipv4, "10.77.0.99"), 0);
	assert_int_equal(record_sign(&r, M.sk, netid), 0);
	assert_int_equal(check(&r, why, sizeof(why)), -1);

	r = M.rec;
	r.role = ROLE_ADMIN;
	assert_int_equal(record_sign(&r, M.sk, netid), 0);
	assert_int_equal(check(&r, why, sizeof(why)), -1);

	/* What is not covered may change: tcp, serial. */
	r = M.rec;
	strcpy(r.tcp[0], "192.0.2.3:6550");
	r.ntcp = 1;
	r.serial = 7;
	assert_int_equal(record_sign(&r, M.sk, netid), 0);
	assert_int_equal(check(&r, why, sizeof(why)), 0);
}

static void
test_wrong_netid(void **state)
{
	uint8_t other[NETID_BYTES];
	char why[256];
	struct record r;

	(void)state;
	/* Same name, another root: another network. */
	netid_derive(other, "corp", A.pk);
	why[0] = '\0';
	assert_int_equal(trust_check(&M.rec, R.pk, other, lookup, is_revoked,
	    NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "mike"));
	assert_int_equal(admission_verify(&M.rec, other), -1);
	/* Self-signed for the other network, admission for ours. */
	r = M.rec;
	assert_int_equal(record_sign(&r, M.sk, other), 0);
	assert_int_equal(trust_check(&r, R.pk, other, lookup, is_revoked,
	    NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "admission"));
	/* Another root: R is not it, so nobody's chain ends. */
	assert_int_equal(trust_check(&M.rec, P.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "root"));
}

static void
test_plain_member_makes_admin(void **state)
{
	struct member X;
	char why[256];

	(void)state;
	/* M is a plain member: an admin it made is not one. */
	make(&X, "xena", 9, "10.77.0.9", ROLE_ADMIN, &M);
	assert_int_equal(check(&X.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "xena was made an admin by mike"));
	/* A plain member it made is fine. */
	make(&X, "xena", 9, "10.77.0.9", ROLE_MEMBER, &M);
	assert_int_equal(check(&X.rec, why, sizeof(why)), 0);
	/* The root may make an admin; an admin may too. */
	make(&X, "xena", 9, "10.77.0.9", ROLE_ADMIN, &R);
	assert_int_equal(check(&X.rec, why, sizeof(why)), 0);
	make(&X, "xena", 9, "10.77.0.9", ROLE_ADMIN, &A);
	assert_int_equal(check(&X.rec, why, sizeof(why)), 0);
	/* An admin made by a plain member cannot make admins either. */
	make(&X, "xena", 9, "10.77.0.9", ROLE_ADMIN, &P);
	held[nheld++] = &X.rec;
	{
		struct member Y;

		make(&Y, "yves", 10, "10.77.0.10", ROLE_ADMIN, &X);
		assert_int_equal(check(&Y.rec, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "xena was made an admin by"
		    " paul"));
	}
	nheld--;
}

static void
test_revoked_link(void **state)
{
	char why[256];

	(void)state;
	memcpy(revoked_ids[nrevoked++], A.pk, MEMBER_ID_BYTES);
	assert_int_equal(check(&A.rec, why, sizeof(why)), -1);
	assert_string_equal(why, "anna is revoked");
	assert_int_equal(check(&M.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "mike was admitted through anna"));
	assert_int_equal(check(&N.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "through anna"));
	/* P's chain does not pass A. */
	assert_int_equal(check(&P.rec, why, sizeof(why)), 0);
	nrevoked = 0;
	memcpy(revoked_ids[nrevoked++], N.pk, MEMBER_ID_BYTES);
	assert_int_equal(check(&M.rec, why, sizeof(why)), 0);
	assert_int_equal(check(&N.rec, why, sizeof(why)), -1);
	nrevoked = 0;
}

static void
test_missing_and_self(void **state)
{
	struct member X;
	char why[256];

	(void)state;
	/* M's admitter not held. */
	held[1] = &P.rec;
	assert_int_equal(check(&M.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "whose record is not held"));
	held[1] = &A.rec;
	/* No lookup at all. */
	assert_int_equal(trust_check(&M.rec, R.pk, netid, NULL, NULL, NULL,
	    why, sizeof(why)), -1);
	/* A record without admission that is not the root. */
	make(&X, "xena", 9, "10.77.0.9", ROLE_MEMBER, NULL);
	assert_int_equal(check(&X.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "xena has no admission"));
	/* Admitted by itself. */
	make(&X, "xena", 9, "10.77.0.9", ROLE_MEMBER, NULL);
	keys(&X, 9);
	admit(&X.rec, &X);
	assert_int_equal(record_sign(&X.rec, X.sk, netid), 0);
	assert_int_equal(check(&X.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "admitted itself"));
	/* Self-signature broken. */
	X = M;
	X.rec.signature[3] ^= 1;
	assert_int_equal(check(&X.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "own signature"));
}

static void
test_depth_bound(void **state)
{
	char why[256], name[16];
	size_t saved = nheld;
	int i;

	(void)state;
	/* chain[0] admitted by the root, chain[i] by chain[i - 1]:
	 * chain[i] is i + 1 steps from the root. */
	for (i = 0; i < 17; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		make(&chain[i], name, (uint8_t)(40 + i), NULL, ROLE_MEMBER,
		    i == 0 ? &R : &chain[i - 1]);
		held[nheld++] = &chain[i].rec;
	}
	assert_int_equal(check(&chain[15].rec, why, sizeof(why)), 0);
	assert_int_equal(check(&chain[16].rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 16"));
	nheld = saved;
}

/* Revocations */

static int
make_revocation(struct revocation *v, const struct member *by,
    const struct member *target, char *text, size_t cap)
{
	uint8_t buf[REVOCATION_SIGNED_MAX];
	int n;

	memset(v, 0, sizeof(*v));
	memcpy(v->revoked, target->pk, MEMBER_ID_BYTES);
	memcpy(v->by, by->pk, MEMBER_ID_BYTES);
	v->serial = 1700000000123ULL;
	n = revocation_signed_bytes(v, netid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(crypto_sign_detached(v->signature, NULL, buf,
	    (size_t)n, by->sk), 0);
	return revocation_format(v, text, cap, 1);
}

static void
test_revocation_round_trip(void **state)
{
	struct revocation v, w;
	char text[REVOCATION_MAX_LEN], t2[REVOCATION_MAX_LEN], err[256];
	uint8_t buf[REVOCATION_SIGNED_MAX];
	int n, m;

	(void)state;
	n = make_revocation(&v, &R, &M, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(strncmp(text, "revoked = ", 10), 0);
	assert_non_null(strstr(text, "\nserial = 1700000000123\n"));
	assert_int_equal(revocation_parse(&w, text, (size_t)n, err,
	    sizeof(err)), 0);
	assert_memory_equal(&v, &w, sizeof(v));
	m = revocation_format(&w, t2, sizeof(t2), 1);
	assert_int_equal(m, n);
	assert_memory_equal(text, t2, (size_t)n);
	assert_int_equal(revocation_verify(&w, netid), 0);
	/* The signed bytes: context, netid, text up to the signature. */
	m = revocation_signed_bytes(&v, netid, buf, sizeof(buf));
	assert_memory_equal(buf, "onionmesh revocation v1\n", 24);
	assert_memory_equal(buf + 24, netid, NETID_BYTES);
	assert_memory_equal(buf + 24 + NETID_BYTES, text,
	    (size_t)m - 24 - NETID_BYTES);
	assert_null(memmem(buf, (size_t)m, "signature", 9));
	/* Small buffers. */
	assert_int_equal(revocation_format(&v, t2, (size_t)n, 1), -1);
	assert_int_equal(revocation_signed_bytes(&v, netid, buf, 60), -1);
}

static void
test_revocation_every_byte(void **state)
{
	struct revocation v, w;
	char text[REVOCATION_MAX_LEN], t[REVOCATION_MAX_LEN];
	int n, i, refused;

	(void)state;
	n = make_revocation(&v, &A, &M, text, sizeof(text));
	for (i = 0; i < n; i++) {
		memcpy(t, text, (size_t)n);
		t[i] ^= 0x01;
		refused = revocation_parse(&w, t, (size_t)n, NULL, 0) == -1 ||
		    revocation_verify(&w, netid) != 0;
		if (!refused)
			fail_msg("byte %d changed and still accepted", i);
	}
	/* Wrong network. */
	{
		uint8_t other[NETID_BYTES];

		netid_derive(other, "corp2", R.pk);
		assert_int_equal(revocation_verify(&v, other), -1);
	}
}

static void
test_revocation_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{"by = 00\n", "line 1: 'by' where revoked belongs"},
		{"revoked = zz\n", "line 1: revoked = zz: not 64 lower-case"},
		{"revoked = 0101010101010101010101010101010101010101010101"
		    "010101010101010101\n", "line 2: by missing"},
		{"revoked = 0101010101010101010101010101010101010101010101"
		    "010101010101010101", "line 1: no newline"},
		{"revoked=01\n", "not in the form"},
	};
	struct revocation v;
	char text[REVOCATION_MAX_LEN], t[REVOCATION_MAX_LEN + 64];
	char err[256];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(revocation_parse(&v, bad[i].text,
		    strlen(bad[i].text), err, sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s: got '%s', want '%s'", bad[i].text, err,
			    bad[i].want);
	}
	n = make_revocation(&v, &R, &M, text, sizeof(text));
	/* Trailing text. */
	memcpy(t, text, (size_t)n);
	memcpy(t + n, "x = y\n", 6);
	assert_int_equal(revocation_parse(&v, t, (size_t)n + 6, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "after the signature"));
	/* Upper-case hex. */
	memcpy(t, text, (size_t)n);
	t[10] = 'A';
	assert_int_equal(revocation_parse(&v, t, (size_t)n, err,
	    sizeof(err)), -1);
	/* Leading zero in the serial. */
	snprintf(t, sizeof(t), "%.*s", n, text);
	{
		char *s = strstr(t, "serial = ");

		memmove(s + 10, s + 9, strlen(s + 9) + 1);
		s[9] = '0';
	}
	assert_int_equal(revocation_parse(&v, t, strlen(t), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "serial"));
	/* A NUL, and too long. */
	memcpy(t, text, (size_t)n);
	t[5] = '\0';
	assert_int_equal(revocation_parse(&v, t, (size_t)n, err,
	    sizeof(err)), -1);
	memset(t, 'a', sizeof(t));
	assert_int_equal(revocation_parse(&v, t, sizeof(t), err,
	    sizeof(err)), -1);
}

static void
test_revocation_check(void **state)
{
	struct revocation v;
	char text[REVOCATION_MAX_LEN], why[256];

	(void)state;
	/* The root, and a valid admin, may revoke. */
	make_revocation(&v, &R, &M, text, sizeof(text));
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), 0);
	make_revocation(&v, &A, &P, text, sizeof(text));
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), 0);
	/* A plain member may not. */
	make_revocation(&v, &M, &P, text, sizeof(text));
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "mike, which is not an admin"));
	/* Nobody revokes the root. */
	make_revocation(&v, &A, &R, text, sizeof(text));
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "root"));
	/* A revoked admin may not. */
	memcpy(revoked_ids[nrevoked++], A.pk, MEMBER_ID_BYTES);
	make_revocation(&v, &A, &P, text, sizeof(text));
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a valid member"));
	nrevoked = 0;
	/* An admin whose record is not held may not. */
	held[1] = &P.rec;
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not held"));
	held[1] = &A.rec;
	/* A signature by someone else than `by`. */
	make_revocation(&v, &R, &M, text, sizeof(text));
	memcpy(v.by, A.pk, MEMBER_ID_BYTES);
	assert_int_equal(revocation_check(&v, R.pk, netid, lookup,
	    is_revoked, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not verify"));
}

/* Admission v2: the admitted subnets are signed; without any the v1
 * bytes stay, so admissions made before subnets existed still verify. */
static void
test_admission_subnets(void **state)
{
	uint8_t buf[ADMISSION_SIGNED_MAX];
	struct record r;
	char why[256], text[RECORD_MAX_LEN + 1];
	int n;

	(void)state;
	/* v1 for a member with no admitted subnet (M from setup). */
	n = admission_signed_bytes(&M.rec, netid, buf, sizeof(buf));
	assert_memory_equal(buf, "onionmesh admission v1\n", 23);
	/* P admitted with two subnets by the root. */
	r = P.rec;
	assert_int_equal(prefix_parse(&r.admitted_subnets[0],
	    "192.168.50.0/24"), 0);
	assert_int_equal(prefix_parse(&r.admitted_subnets[1], "fd50::/64"),
	    0);
	r.nadmitted_subnets = 2;
	admit(&r, &R);
	n = admission_signed_bytes(&r, netid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf, "onionmesh admission v2\n", 23);
	{
		static const char tail[] = "member\n192.168.50.0/24\n"
		    "fd50::/64";

		assert_memory_equal(buf + n - (int)strlen(tail), tail,
		    strlen(tail));
	}
	assert_int_equal(record_sign(&r, P.sk, netid), 0);
	held[4] = &r;
	assert_int_equal(check(&r, why, sizeof(why)), 0);
	/* The record's text carries them, and parses back the same. */
	n = record_format(&r, text, sizeof(text), 1);
	assert_true(n > 0);
	assert_non_null(strstr(text, "admitted-subnet = 192.168.50.0/24\n"
	    "admitted-subnet = fd50::/64\nadmitted-by = "));
	{
		struct record back;
		char err[256];

		assert_int_equal(record_parse(&back, text, (size_t)n, err,
		    sizeof(err)), 0);
		assert_int_equal(back.nadmitted_subnets, 2);
		assert_int_equal(record_verify(&back, netid), 0);
		assert_int_equal(admission_verify(&back, netid), 0);
	}
	/* One more subnet, one fewer, or another order: not admitted. */
	assert_int_equal(prefix_parse(&r.admitted_subnets[2], "10.1.0.0/16"),
	    0);
	r.nadmitted_subnets = 3;
	assert_int_equal(admission_verify(&r, netid), -1);
	r.nadmitted_subnets = 1;
	assert_int_equal(admission_verify(&r, netid), -1);
	r.admitted_subnets[0] = r.admitted_subnets[1];
	assert_int_equal(prefix_parse(&r.admitted_subnets[1],
	    "192.168.50.0/24"), 0);
	r.nadmitted_subnets = 2;
	assert_int_equal(admission_verify(&r, netid), -1);
	assert_int_equal(record_sign(&r, P.sk, netid), 0);
	assert_int_equal(check(&r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "admission"));
	held[4] = &P.rec;
	/* A v1 admission does not verify once a subnet is added. */
	r = P.rec;
	r.admitted_subnets[0] = r.admitted_subnets[1];
	assert_int_equal(prefix_parse(&r.admitted_subnets[0], "fd50::/64"),
	    0);
	r.nadmitted_subnets = 1;
	assert_int_equal(admission_verify(&r, netid), -1);
}

static int
make_grant(struct grant *g, const struct member *by,
    const struct member *to, const char *p1, const char *p2, char *text,
    size_t cap)
{
	uint8_t buf[GRANT_SIGNED_MAX];
	int n;

	memset(g, 0, sizeof(*g));
	memcpy(g->member, to->pk, MEMBER_ID_BYTES);
	memcpy(g->by, by->pk, MEMBER_ID_BYTES);
	assert_int_equal(prefix_parse(&g->subnets[g->nsubnets++], p1), 0);
	if (p2 != NULL)
		assert_int_equal(prefix_parse(&g->subnets[g->nsubnets++],
		    p2), 0);
	g->serial = 1700000000123ULL;
	n = grant_signed_bytes(g, netid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(crypto_sign_detached(g->signature, NULL, buf,
	    (size_t)n, by->sk), 0);
	return grant_format(g, text, cap, 1);
}

static void
test_grant_round_trip(void **state)
{
	struct grant g, h;
	struct prefix p;
	char text[GRANT_MAX_LEN], t[GRANT_MAX_LEN], err[256];
	uint8_t buf[GRANT_SIGNED_MAX];
	int n, i, refused;

	(void)state;
	n = make_grant(&g, &R, &P, "192.168.50.0/24", "fd50::/64", text,
	    sizeof(text));
	assert_true(n > 0);
	assert_int_equal(strncmp(text, "grant = ", 8), 0);
	assert_non_null(strstr(text, "\nsubnet = 192.168.50.0/24\nsubnet = "
	    "fd50::/64\nby = "));
	assert_int_equal(grant_parse(&h, text, (size_t)n, err, sizeof(err)),
	    0);
	assert_memory_equal(&g, &h, sizeof(g));
	assert_int_equal(grant_verify(&h, netid), 0);
	i = grant_signed_bytes(&g, netid, buf, sizeof(buf));
	assert_memory_equal(buf, "onionmesh grant v1\n", 19);
	assert_memory_equal(buf + 19, netid, NETID_BYTES);
	assert_null(memmem(buf, (size_t)i, "signature", 9));
	/* Every single-byte change is refused. */
	for (i = 0; i < n; i++) {
		memcpy(t, text, (size_t)n);
		t[i] ^= 0x01;
		refused = grant_parse(&h, t, (size_t)n, NULL, 0) == -1 ||
		    grant_verify(&h, netid) != 0;
		if (!refused)
			fail_msg("byte %d changed and still accepted", i);
	}
	assert_int_equal(prefix_parse(&p, "192.168.50.128/25"), 0);
	assert_int_equal(grant_covers(&g, &p), 1);
	assert_int_equal(prefix_parse(&p, "192.168.0.0/16"), 0);
	assert_int_equal(grant_covers(&g, &p), 0);
	assert_int_equal(grant_format(&g, t, (size_t)n, 1), -1);
}

static void
test_grant_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{"by = 00\n", "line 1: 'by' where grant belongs"},
		{"grant = 0101010101010101010101010101010101010101010101"
		    "010101010101010101\nby = 01\n",
		    "line 2: 'by' where subnet belongs"},
		{"grant = 0101010101010101010101010101010101010101010101"
		    "010101010101010101\nsubnet = 10.1.2.3/16\n",
		    "subnet = 10.1.2.3/16: host bits set"},
		{"grant = 0101010101010101010101010101010101010101010101"
		    "010101010101010101\nsubnet = 10.1.0.0/16\nsubnet = "
		    "10.1.0.0/16\n", "listed twice"},
		{"grant = 0101010101010101010101010101010101010101010101"
		    "010101010101010101\nsubnet = 10.1.0.0/16\n",
		    "line 3: by missing"},
	};
	struct grant g;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(grant_parse(&g, bad[i].text,
		    strlen(bad[i].text), err, sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s: got '%s', want '%s'", bad[i].text, err,
			    bad[i].want);
	}
}

static void
test_grant_check(void **state)
{
	struct grant g;
	char text[GRANT_MAX_LEN], why[256];

	(void)state;
	/* The root and a valid admin may grant. */
	make_grant(&g, &R, &P, "192.168.50.0/24", NULL, text, sizeof(text));
	assert_int_equal(grant_check(&g, R.pk, netid, lookup, is_revoked,
	    NULL, why, sizeof(why)), 0);
	make_grant(&g, &A, &M, "192.168.50.0/24", NULL, text, sizeof(text));
	assert_int_equal(grant_check(&g, R.pk, netid, lookup, is_revoked,
	    NULL, why, sizeof(why)), 0);
	/* A plain member may not, even to itself. */
	make_grant(&g, &M, &M, "192.168.50.0/24", NULL, text, sizeof(text));
	assert_int_equal(grant_check(&g, R.pk, netid, lookup, is_revoked,
	    NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "mike, which is not an admin"));
	/* A grant to the root is never taken. */
	make_grant(&g, &A, &R, "192.168.50.0/24", NULL, text, sizeof(text));
	assert_int_equal(grant_check(&g, R.pk, netid, lookup, is_revoked,
	    NULL, why, sizeof(why)), -1);
	/* A revoked admin may not; a forged `by` does not verify. */
	memcpy(revoked_ids[nrevoked++], A.pk, MEMBER_ID_BYTES);
	make_grant(&g, &A, &P, "192.168.50.0/24", NULL, text, sizeof(text));
	assert_int_equal(grant_check(&g, R.pk, netid, lookup, is_revoked,
	    NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a valid member"));
	nrevoked = 0;
	make_grant(&g, &M, &P, "192.168.50.0/24", NULL, text, sizeof(text));
	memcpy(g.by, R.pk, MEMBER_ID_BYTES);
	assert_int_equal(grant_check(&g, R.pk, netid, lookup, is_revoked,
	    NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not verify"));
}

/* The record's role line: one spelling, "admin" only. */
/* A plain member admits only when the root's own signed record says
 * members may invite; the root and admins always may. */
static void
test_members_invite(void **state)
{
	struct record saved = R.rec;
	char why[256];

	(void)state;
	assert_int_equal(trust_members_invite(R.pk, netid, lookup, NULL), 1);
	assert_int_equal(check(&N.rec, why, sizeof(why)), 0);
	R.rec.members_invite = 0;
	assert_int_equal(record_sign(&R.rec, R.sk, netid), 0);
	assert_int_equal(trust_members_invite(R.pk, netid, lookup, NULL), 0);
	assert_int_equal(check(&N.rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "nora was admitted by mike, a plain "
	    "member"));
	assert_non_null(strstr(why, "members_invite"));
	/* The root and admins still admit. */
	assert_int_equal(check(&M.rec, why, sizeof(why)), 0);
	assert_int_equal(check(&P.rec, why, sizeof(why)), 0);
	/* The line without the root's signature over it says nothing. */
	R.rec.members_invite = 1;
	assert_int_equal(trust_members_invite(R.pk, netid, lookup, NULL), 0);
	assert_int_equal(check(&N.rec, why, sizeof(why)), -1);
	/* Nor does another member's record with the line. */
	R.rec = saved;
	M.rec.members_invite = 1;
	assert_int_equal(record_sign(&M.rec, M.sk, netid), 0);
	assert_int_equal(trust_members_invite(M.pk, netid, lookup, NULL), 1);
	assert_int_equal(trust_members_invite(R.pk, netid, lookup, NULL), 1);
	/* The root's record not held: no. */
	held[0] = &P.rec;
	assert_int_equal(trust_members_invite(R.pk, netid, lookup, NULL), 0);
	held[0] = &R.rec;
}

/* text with line inserted before its line starting with at: does it
 * parse? The message into err. */
static int
parse_with(const char *text, const char *at, const char *line, char *err,
    size_t errlen)
{
	char t[RECORD_MAX_LEN + 1];
	struct record r;
	const char *s = strstr(text, at);

	assert_non_null(s);
	snprintf(t, sizeof(t), "%.*s%s%s", (int)(s - text), text, line, s);
	return record_parse(&r, t, strlen(t), err, errlen);
}

/* "invite = members": one spelling, after role, before admitted-by. */
static void
test_record_invite_line(void **state)
{
	char text[RECORD_MAX_LEN + 1], err[256];
	struct record r;
	int n;

	(void)state;
	n = record_format(&R.rec, text, sizeof(text), 1);
	assert_true(n > 0);
	assert_non_null(strstr(text, "serial = 1\ninvite = members\n"
	    "signature = "));
	assert_int_equal(record_parse(&r, text, (size_t)n, err, sizeof(err)),
	    0);
	assert_int_equal(r.members_invite, 1);
	assert_int_equal(record_verify(&r, netid), 0);
	/* Without it: no line, and old records stay valid. */
	n = record_format(&A.rec, text, sizeof(text), 1);
	assert_null(strstr(text, "invite"));
	/* Another value, after admitted-by, before role: refused. */
	assert_int_equal(parse_with(text, "admitted-by", "invite = all\n",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invite = all"));
	assert_int_equal(parse_with(text, "admission = ",
	    "invite = members\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invite after admitted-by"));
	assert_int_equal(parse_with(text, "role = admin",
	    "invite = members\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "role after invite"));
	assert_int_equal(parse_with(text, "admitted-by",
	    "invite = members\n", err, sizeof(err)), 0);
	r = A.rec;
	r.members_invite = 2;
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
}

static void
test_record_role_line(void **state)
{
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 1], err[256];
	struct record r;
	char *s;
	int n;

	(void)state;
	n = record_format(&A.rec, text, sizeof(text), 1);
	assert_true(n > 0);
	s = strstr(text, "serial = 1\nrole = admin\nadmitted-by = ");
	assert_non_null(s);
	assert_int_equal(record_parse(&r, text, (size_t)n, err, sizeof(err)),
	    0);
	assert_int_equal(r.role, ROLE_ADMIN);
	assert_int_equal(record_verify(&r, netid), 0);
	n = record_format(&M.rec, text, sizeof(text), 1);
	assert_null(strstr(text, "role"));
	/* "role = member" is not a spelling records have. */
	s = strstr(text, "admitted-by");
	snprintf(t, sizeof(t), "%.*srole = member\n%s", (int)(s - text), text,
	    s);
	assert_int_equal(record_parse(&r, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "role = member"));
	/* After admitted-by: out of order. */
	n = record_format(&A.rec, text, sizeof(text), 1);
	s = strstr(text, "role = admin\n");
	memmove(s, s + 13, strlen(s + 13) + 1);
	s = strstr(text, "admission = ");
	snprintf(t, sizeof(t), "%.*srole = admin\n%s", (int)(s - text), text,
	    s);
	assert_int_equal(record_parse(&r, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "role after admitted-by"));
	/* A struct with a role outside the two is not written. */
	r = M.rec;
	r.role = 7;
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_admission_bytes, setup),
		cmocka_unit_test_setup(test_valid_chains, setup),
		cmocka_unit_test_setup(test_tampered_admission, setup),
		cmocka_unit_test_setup(test_changed_after_admission, setup),
		cmocka_unit_test_setup(test_wrong_netid, setup),
		cmocka_unit_test_setup(test_plain_member_makes_admin, setup),
		cmocka_unit_test_setup(test_revoked_link, setup),
		cmocka_unit_test_setup(test_missing_and_self, setup),
		cmocka_unit_test_setup(test_depth_bound, setup),
		cmocka_unit_test_setup(test_revocation_round_trip, setup),
		cmocka_unit_test_setup(test_revocation_every_byte, setup),
		cmocka_unit_test_setup(test_revocation_parse_errors, setup),
		cmocka_unit_test_setup(test_revocation_check, setup),
		cmocka_unit_test_setup(test_admission_subnets, setup),
		cmocka_unit_test_setup(test_grant_round_trip, setup),
		cmocka_unit_test_setup(test_grant_parse_errors, setup),
		cmocka_unit_test_setup(test_grant_check, setup),
		cmocka_unit_test_setup(test_record_role_line, setup),
		cmocka_unit_test_setup(test_members_invite, setup),
		cmocka_unit_test_setup(test_record_invite_line, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
