/*
 * Unit tests for invitations: proto/invite.c (the URL and the invite
 * file, strict parsers whose every refusal names the part) and keyd's
 * side (keyd/invites.c: create, redeem, admit; keyd/revoke.c: make,
 * store, reload), run on a real key store in a temporary directory.
 *
 * Properties: a URL or file parses back to what was formatted; any part
 * wrong is refused with its name in the message (and the secret never
 * in it); an invitation is single-use (the second redeem fails, a wrong
 * secret consumes nothing, an expired one is refused with its time);
 * only a hash of the secret is on disk; the admission keyd signs passes
 * trust_check; a revocation removes the member and those admitted
 * through it, survives a restart and refuses import.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keyd/invites.h"
#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "proto/file.h"
#include "proto/invite.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/trust.h"

#define ONION "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"
#define KH    "00112233445566778899aabbccddeeff"
#define ID    "0123456789abcdef"
#define SEC   "000102030405060708090a0b0c0d0e0f10111213"
#define BASE  "onionmesh://corp/" KH "/" ID "/" SEC

static void
test_url_round_trip(void **state)
{
	static const char *good[] = {
		BASE "?onion=" ONION,
		BASE "?tcp=192.0.2.1:6550",
		BASE "?onion=" ONION "&tcp=[2001:db8::1]:6550",
		BASE "?tcp=host.example:443&onion=" ONION,
	};
	struct invite_url u;
	char out[INVITE_URL_MAX + 1], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (invite_url_parse(&u, good[i], err, sizeof(err)) != 0)
			fail_msg("%s: %s", good[i], err);
		assert_string_equal(u.net, "corp");
		assert_int_equal(u.keyhash[0], 0x00);
		assert_int_equal(u.keyhash[15], 0xff);
		assert_int_equal(u.id[7], 0xef);
		assert_int_equal(u.secret[19], 0x13);
		assert_true(invite_url_format(&u, out, sizeof(out)) > 0);
		/* Canonical order: onion first. */
		if (i < 3)
			assert_string_equal(out, good[i]);
	}
	assert_int_equal(invite_url_parse(&u, good[2], err, sizeof(err)), 0);
	assert_string_equal(u.onion, ONION);
	assert_string_equal(u.tcp, "[2001:db8::1]:6550");
	/* Too small a buffer; no address at all. */
	assert_int_equal(invite_url_format(&u, out, 20), -1);
	u.onion[0] = u.tcp[0] = '\0';
	assert_int_equal(invite_url_format(&u, out, sizeof(out)), -1);
}

static void
test_url_bad_parts(void **state)
{
	static const struct {
		const char *url;
		const char *want;
	} bad[] = {
		{"http://corp/" KH "/" ID "/" SEC "?tcp=1.2.3.4:5",
		    "must start with onionmesh://"},
		{"onionmesh:///" KH "/" ID "/" SEC "?tcp=1.2.3.4:5",
		    "network name: missing"},
		{"onionmesh://Corp/" KH "/" ID "/" SEC "?tcp=1.2.3.4:5",
		    "network name 'Corp' is not valid"},
		{"onionmesh://corp", "key hash missing"},
		{"onionmesh://corp/" KH "0/" ID "/" SEC "?tcp=1.2.3.4:5",
		    "key hash '" KH "0' is not 32"},
		{"onionmesh://corp/00112233445566778899AABBCCDDEEFF/" ID "/"
		    SEC "?tcp=1.2.3.4:5", "key hash"},
		{"onionmesh://corp/" KH, "invitation id missing"},
		{"onionmesh://corp/" KH "/0123/" SEC "?tcp=1.2.3.4:5",
		    "invitation id '0123' is not 16"},
		{"onionmesh://corp/" KH "/" ID, "secret missing"},
		{"onionmesh://corp/" KH "/" ID "/00?tcp=1.2.3.4:5",
		    "secret is not 40 lower-case hex digits (it has 2"},
		{BASE, "no address of the inviter"},
		{BASE "/x", "text after the secret"},
		{BASE "?", "parameter '' is not NAME=VALUE"},
		{BASE "?tcp=1.2.3.4:5&", "parameter '' is not NAME=VALUE"},
		{BASE "?udp=1.2.3.4:5", "unknown parameter 'udp'"},
		{BASE "?tcp", "parameter 'tcp' is not NAME=VALUE"},
		{BASE "?tcp=1.2.3.4:5&tcp=1.2.3.4:6", "tcp= given twice"},
		{BASE "?onion=" ONION "&onion=" ONION, "onion= given twice"},
		{BASE "?onion=abc.onion", "onion= 'abc.onion' is not a valid"},
		{BASE "?tcp=1.2.3.4", "tcp= '1.2.3.4' is not HOST:PORT"},
		{BASE "?tcp=", "tcp= '' is not HOST:PORT"},
		{BASE "?tcp=1.2.3.4:5 ", "a space or control character"},
		{BASE "?tcp=1.2.3.4%3a5", "a character no invitation has"},
		{BASE "?tcp=1.2.3.4:5#x", "a character no invitation has"},
	};
	struct invite_url u;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		memset(&u, 0x5a, sizeof(u));
		if (invite_url_parse(&u, bad[i].url, err, sizeof(err)) != -1)
			fail_msg("%s: accepted", bad[i].url);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s: got '%s', want '%s'", bad[i].url, err,
			    bad[i].want);
		/* The secret is never echoed in a message. */
		assert_null(strstr(err, SEC));
		/* Nothing half-parsed is left behind. */
		assert_true(sodium_is_zero((const uint8_t *)&u, sizeof(u)));
	}
	/* Too long. */
	{
		char big[INVITE_URL_MAX + 64];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(invite_url_parse(&u, big, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "longer"));
	}
}

static void
test_hashes(void **state)
{
	uint8_t id[32], kh[INVITE_KEYHASH_BYTES], full[32], sec[20], h[32];
	uint8_t msg[64];

	(void)state;
	memset(id, 7, sizeof(id));
	invite_keyhash(kh, id);
	memcpy(msg, "onionmesh key v1\n", 17);
	memcpy(msg + 17, id, 32);
	crypto_generichash(full, 32, msg, 17 + 32, NULL, 0);
	/* The first 16 bytes of the 32-byte hash (not a 16-byte hash). */
	assert_memory_equal(kh, full, sizeof(kh));
	memset(sec, 9, sizeof(sec));
	invite_secret_hash(h, sec);
	memcpy(msg, "onionmesh invite v1\n", 20);
	memcpy(msg + 20, sec, 20);
	crypto_generichash(full, 32, msg, 40, NULL, 0);
	assert_memory_equal(h, full, 32);
	/* Issue 15: the one-time client key, apart from the hash. */
	invite_client_auth_sk(h, sec);
	memcpy(msg, "onionmesh invite client-auth v1\n", 32);
	memcpy(msg + 32, sec, 20);
	crypto_generichash(full, 32, msg, 52, NULL, 0);
	assert_memory_equal(h, full, 32);
	invite_secret_hash(full, sec);
	assert_memory_not_equal(h, full, 32);
}

static void
make_invite(struct invite *iv)
{
	memset(iv, 0, sizeof(*iv));
	memset(iv->id, 0xa1, sizeof(iv->id));
	strcpy(iv->name, "carol");
	assert_int_equal(prefix_parse(&iv->ipv4, "10.77.0.9"), 0);
	iv->role = ROLE_ADMIN;
	iv->expires = 1800000000;
	memset(iv->secret_hash, 0x3c, sizeof(iv->secret_hash));
	strcpy(iv->made_by, "alice");
}

#define CAUTH_5A "ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljna"
#define HASH_3C "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c" \
	"3c3c3c3c"

/* Issue 15: the invitation's client key, after secret-hash; a file
 * from before it (no line) still parses. */
static void
test_invite_file_client_auth(void **state)
{
	static const char text[] = "id = a1a1a1a1a1a1a1a1\nname = carol\n"
	    "role = member\nexpires = 1800000000\nsecret-hash = " HASH_3C
	    "\nclient-auth = " CAUTH_5A "\nmade-by = alice\n";
	static const char late[] = "id = a1a1a1a1a1a1a1a1\nname = carol\n"
	    "role = member\nexpires = 1800000000\nsecret-hash = " HASH_3C
	    "\nmade-by = alice\nclient-auth = " CAUTH_5A "\n";
	struct invite iv;
	char out[INVITE_TEXT_MAX], t[sizeof(text)], err[256];
	uint8_t want[32];

	(void)state;
	memset(want, 0x5a, sizeof(want));
	assert_int_equal(invite_parse(&iv, text, sizeof(text) - 1, err,
	    sizeof(err)), 0);
	assert_int_equal(iv.has_client_auth, 1);
	assert_memory_equal(iv.client_auth, want, sizeof(want));
	assert_int_equal(invite_format(&iv, out, sizeof(out)),
	    (int)sizeof(text) - 1);
	assert_string_equal(out, text);
	/* Another spelling of the same key: refused, naming the field. */
	memcpy(t, text, sizeof(text));
	memcpy(strstr(t, "ljna\n"), "ljnb", 4);
	assert_int_equal(invite_parse(&iv, t, sizeof(t) - 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "client-auth = ljnfuws2"));
	assert_non_null(strstr(err, "x25519"));
	assert_int_equal(invite_parse(&iv, late, sizeof(late) - 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "'client-auth'"));
	/* Without the line. */
	memcpy(t, text, sizeof(text));
	memmove(strstr(t, "client-auth = "), strstr(t, "made-by = "),
	    strlen("made-by = alice\n") + 1);
	assert_int_equal(invite_parse(&iv, t, strlen(t), err, sizeof(err)),
	    0);
	assert_int_equal(iv.has_client_auth, 0);
}

static void
test_invite_file(void **state)
{
	struct invite iv, back;
	char text[INVITE_TEXT_MAX], t[INVITE_TEXT_MAX + 32], err[256];
	int n, i;

	(void)state;
	make_invite(&iv);
	n = invite_format(&iv, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "role = admin\n"));
	assert_int_equal(invite_parse(&back, text, (size_t)n, err,
	    sizeof(err)), 0);
	assert_memory_equal(&iv, &back, sizeof(iv));
	/* Granted subnets: after the role, each once, canonical. */
	assert_int_equal(prefix_parse(&iv.subnets[0], "192.168.50.0/24"), 0);
	assert_int_equal(prefix_parse(&iv.subnets[1], "fd50::/64"), 0);
	iv.nsubnets = 2;
	n = invite_format(&iv, text, sizeof(text));
	assert_non_null(strstr(text, "role = admin\nsubnet = 192.168.50.0/24"
	    "\nsubnet = fd50::/64\nexpires = "));
	assert_int_equal(invite_parse(&back, text, (size_t)n, err,
	    sizeof(err)), 0);
	assert_memory_equal(&iv, &back, sizeof(iv));
	snprintf(t, sizeof(t), "%.*s", n, text);
	memcpy(strstr(t, "fd50::/64"), "192.168.50.0/24\n", 16);
	assert_int_equal(invite_parse(&back, t, strlen(t), err, sizeof(err)),
	    -1);
	iv.nsubnets = 0;
	memset(iv.subnets, 0, sizeof(iv.subnets));
	/* ipv4 is optional. */
	memset(&iv.ipv4, 0, sizeof(iv.ipv4));
	iv.role = ROLE_MEMBER;
	n = invite_format(&iv, text, sizeof(text));
	assert_null(strstr(text, "ipv4"));
	assert_int_equal(invite_parse(&back, text, (size_t)n, err,
	    sizeof(err)), 0);
	assert_memory_equal(&iv, &back, sizeof(iv));
	/* Every single-byte change: refused, or a different struct. */
	for (i = 0; i < n; i++) {
		memcpy(t, text, (size_t)n);
		t[i] ^= 0x20;
		if (invite_parse(&back, t, (size_t)n, NULL, 0) == 0)
			assert_memory_not_equal(&iv, &back, sizeof(iv));
	}
	/* Order, missing, unknown, trailing. */
	snprintf(t, sizeof(t), "name = carol\nid = 0101010101010101\n");
	assert_int_equal(invite_parse(&back, t, strlen(t), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "'name' where id belongs"));
	snprintf(t, sizeof(t), "id = 0101010101010101\nname = carol\n");
	assert_int_equal(invite_parse(&back, t, strlen(t), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "field role missing"));
	snprintf(t, sizeof(t), "%sextra = 1\n", text);
	assert_int_equal(invite_parse(&back, t, strlen(t), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "'extra'"));
	snprintf(t, sizeof(t), "%.*s", n - 1, text);
	assert_int_equal(invite_parse(&back, t, strlen(t), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no newline"));
	/* Bad values name the field. */
	{
		char *s;

		snprintf(t, sizeof(t), "%s", text);
		s = strstr(t, "role = member");
		memcpy(s + 7, "boss  ", 6);
		assert_int_equal(invite_parse(&back, t, strlen(t), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "role = boss"));
	}
	/* A struct that cannot be written. */
	make_invite(&iv);
	iv.role = 3;
	assert_int_equal(invite_format(&iv, text, sizeof(text)), -1);
	make_invite(&iv);
	strcpy(iv.name, "Bad Name");
	assert_int_equal(invite_format(&iv, text, sizeof(text)), -1);
	make_invite(&iv);
	assert_int_equal(invite_format(&iv, text, 10), -1);
}

/* ---- keyd's side ----------------------------------------------------- */

static char dir[] = "/tmp/test_invite.XXXXXX";
static struct keyd *k;
static uint8_t root_pk[32];

static int
keyd_setup(void **state)
{
	char err[KEYD_ERRLEN];

	(void)state;
	assert_non_null(mkdtemp(dir));
	k = calloc(1, sizeof(*k));
	assert_non_null(k);
	assert_int_equal(conf_paths(&k->d.conf.paths, "corp", dir, err,
	    sizeof(err)), 0);
	conf_defaults(&k->d.conf);
	strcpy(k->d.conf.name, "alice");
	assert_int_equal(prefix_parse(&k->d.conf.ipv4, "10.77.0.1/29"), 0);
	strcpy(k->d.conf.tcp, "192.0.2.1:6550");
	assert_int_equal(keystore_identity_ensure(k->d.conf.paths.keys_dir,
	    root_pk), 0);
	assert_int_equal(keys_load(k->d.conf.paths.keys_dir, err,
	    sizeof(err)), 0);
	memcpy(k->d.conf.root, root_pk, 32);
	k->d.conf.have_root = 1;
	netid_derive(k->netid, "corp", root_pk);
	records_init(&k->recs);
	if (records_own_refresh(&k->recs, &k->d.conf, k->netid, 0, 0, 0, err,
	    sizeof(err)) != 1)
		fail_msg("%s", err);
	return 0;
}

static int
keyd_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	records_free(&k->recs);
	revoke_free(k);
	grants_free(k);
	free(k);
	keys_wipe();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* A joiner's record as join would make it: admission from keyd, self-
 * signed by the joiner; stored in keyd's set. */
static void
joiner_record(struct record *r, uint8_t pk[32], uint8_t sk[64],
    const struct invite *iv)
{
	char text[RECORD_MAX_LEN + 1];
	int n;

	crypto_sign_keypair(pk, sk);
	assert_int_equal(invites_admit(k, iv, pk, r), 0);
	assert_int_equal(record_sign(r, sk, k->netid), 0);
	n = record_format(r, text, sizeof(text), 1);
	assert_true(n > 0);
	assert_int_equal(records_put(&k->recs, r, text, (size_t)n), 1);
}

static void
url_secret(const char *url, struct invite_url *u)
{
	char err[256];

	if (invite_url_parse(u, url, err, sizeof(err)) != 0)
		fail_msg("%s: %s", url, err);
}

static void
test_keyd_invite_redeem(void **state)
{
	char url[INVITE_URL_MAX + 1], url2[INVITE_URL_MAX + 1];
	char err[KEYD_ERRLEN], path[PATH_MAX + 64], hex[17], *text;
	struct invite_url u, u2;
	struct invite iv;
	struct record r;
	struct stat st;
	uint8_t kh[INVITE_KEYHASH_BYTES], wrong[INVITE_SECRET_BYTES];
	uint8_t pk[32], sk[64];
	size_t len;
	int i, ok;

	(void)state;
	assert_int_equal(invites_create(k, "carol", NULL, 3600, ROLE_MEMBER,
	    url, sizeof(url), err, sizeof(err)), 0);
	url_secret(url, &u);
	assert_string_equal(u.net, "corp");
	assert_string_equal(u.tcp, "192.0.2.1:6550");
	/* The URL names the join key (keys.c), which is not the key of
	 * linkd's DH: neither the identity nor its X25519 form. */
	invite_keyhash(kh, keys_join_pub());
	assert_memory_equal(u.keyhash, kh, sizeof(kh));
	assert_memory_not_equal(keys_join_pub(), keys_dh_pub(), 32);
	assert_memory_not_equal(keys_join_pub(), root_pk, 32);
	{
		uint8_t e_sk[32], e_pk[32], a[32], b[32];

		randombytes_buf(e_sk, sizeof(e_sk));
		assert_int_equal(crypto_scalarmult_curve25519_base(e_pk,
		    e_sk), 0);
		assert_int_equal(keys_join_dh(a, e_pk), 0);
		assert_int_equal(keys_dh(b, e_pk), 0);
		assert_memory_not_equal(a, b, 32);
		assert_int_equal(crypto_scalarmult_curve25519(b, e_sk,
		    keys_join_pub()), 0);
		assert_memory_equal(a, b, 32);
	}

	/* The file: 0600, the secret's hash, never the secret. */
	hex_encode(hex, u.id, 8);
	snprintf(path, sizeof(path), "%s/invites/%s",
	    k->d.conf.paths.keys_dir, hex);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = file_read(path, INVITE_TEXT_MAX, &len);
	{
		char sechex[41];

		hex_encode(sechex, u.secret, 20);
		assert_null(strstr(text, sechex));
	}
	free(text);

	/* Name taken (pending), address taken, bad values. */
	assert_int_equal(invites_create(k, "carol", NULL, 3600, ROLE_MEMBER,
	    url2, sizeof(url2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"carol\" is taken"));
	assert_int_equal(invites_create(k, "alice", NULL, 3600, ROLE_MEMBER,
	    url2, sizeof(url2), err, sizeof(err)), -1);
	assert_int_equal(invites_create(k, "dave", "10.77.0.1", 3600,
	    ROLE_MEMBER, url2, sizeof(url2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "10.77.0.1 is taken"));
	assert_int_equal(invites_create(k, "dave", "10.77.1.1", 3600,
	    ROLE_MEMBER, url2, sizeof(url2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a host address of the network's"
	    " range 10.77.0.0/29"));
	assert_int_equal(invites_create(k, "dave", "10.77.0.7", 3600,
	    ROLE_MEMBER, url2, sizeof(url2), err, sizeof(err)), -1);
	assert_int_equal(invites_create(k, "dave", NULL, 5, ROLE_MEMBER,
	    url2, sizeof(url2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "30s..30d"));
	assert_int_equal(invites_create(k, "Dave", NULL, 3600, ROLE_MEMBER,
	    url2, sizeof(url2), err, sizeof(err)), -1);

	/* A wrong secret consumes nothing. */
	memcpy(wrong, u.secret, sizeof(wrong));
	wrong[19] ^= 1;
	assert_int_equal(invites_redeem(k, u.id, wrong, &iv, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "wrong secret"));
	/* 100 redeems of the right one: exactly 1 wins. */
	for (ok = 0, i = 0; i < 100; i++) {
		struct invite got;

		if (invites_redeem(k, u.id, u.secret, &got, err,
		    sizeof(err)) == 0) {
			ok++;
			iv = got;
		}
		else if (i > 0)
			assert_string_equal(err, "this invitation was already"
			    " used");
	}
	assert_int_equal(ok, 1);
	assert_string_equal(iv.name, "carol");
	assert_int_equal(iv.ipv4.family, 4);
	strcat(path, ".used");
	assert_int_equal(stat(path, &st), 0);

	/* The admission passes the chain check. */
	joiner_record(&r, pk, sk, &iv);
	assert_int_equal(r.admitted, 1);
	assert_memory_equal(r.admitted_by, root_pk, 32);
	assert_int_equal(keyd_trust_check(k, &r, err, sizeof(err)), 0);

	/* Unknown id. */
	u.id[0] ^= 1;
	assert_int_equal(invites_redeem(k, u.id, u.secret, &iv, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no such invitation"));

	/* Every address of a /29 given out: then none is left. */
	for (i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%d", i);
		if (invites_create(k, name, NULL, 3600, ROLE_MEMBER, url2,
		    sizeof(url2), err, sizeof(err)) == -1)
			break;
		url_secret(url2, &u2);
	}
	/* 6 hosts: alice, carol, then 4 invitations. */
	assert_int_equal(i, 4);
	assert_non_null(strstr(err, "no free IPv4 address left in"
	    " 10.77.0.0/29"));
	sodium_memzero(&u, sizeof(u));
	/* Withdraw the pending ones (by hand, as an operator would). */
	snprintf(path, sizeof(path), "rm -f %s/invites/????????????????",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(system(path), 0);
}

/* invite --subnet (issue 14): the file keeps the subnets, the admission
 * signs them (v2), and only the root or an admin may grant one that
 * overlaps nothing of the network's. */
static void
test_keyd_invite_subnets(void **state)
{
	char url[INVITE_URL_MAX + 1], err[KEYD_ERRLEN], cmd[PATH_MAX + 64];
	struct prefix sn[2];
	struct invite_grant g = { sn, 2 };
	struct invite_url u;
	struct invite iv;
	struct record r;
	uint8_t pk[32], sk[64], root[32];

	(void)state;
	assert_int_equal(prefix_parse(&sn[0], "192.168.50.0/24"), 0);
	assert_int_equal(prefix_parse(&sn[1], "fd50::/64"), 0);
	assert_int_equal(invites_create_granting(k, "gina", NULL, 3600,
	    ROLE_MEMBER, &g, url, sizeof(url), err, sizeof(err)), 0);
	url_secret(url, &u);
	assert_int_equal(invites_redeem(k, u.id, u.secret, &iv, err,
	    sizeof(err)), 0);
	assert_int_equal(iv.nsubnets, 2);
	assert_true(prefix_equal(&iv.subnets[1], &sn[1]));
	joiner_record(&r, pk, sk, &iv);
	assert_int_equal(r.nadmitted_subnets, 2);
	assert_int_equal(admission_verify(&r, k->netid), 0);
	assert_int_equal(keyd_trust_check(k, &r, err, sizeof(err)), 0);
	/* Dropping a granted subnet breaks the admission. */
	r.nadmitted_subnets = 1;
	assert_int_equal(admission_verify(&r, k->netid), -1);
	sodium_memzero(&u, sizeof(u));

	/* Overlapping the network's range is refused. */
	assert_int_equal(prefix_parse(&sn[1], "10.0.0.0/8"), 0);
	assert_int_equal(invites_create_granting(k, "hank", NULL, 3600,
	    ROLE_MEMBER, &g, url, sizeof(url), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "overlaps the network's own range"));
	/* A plain member may not grant (here: keyd is not the root). */
	assert_int_equal(prefix_parse(&sn[1], "fd50::/64"), 0);
	memcpy(root, k->d.conf.root, 32);
	memset(k->d.conf.root, 0x77, 32);
	assert_int_equal(keyd_grant_ok(k, NULL, sn, 2, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "only the root or an admin can grant"));
	/* Granting nothing needs no right. */
	assert_int_equal(keyd_grant_ok(k, NULL, sn, 0, err, sizeof(err)), 0);
	memcpy(k->d.conf.root, root, 32);
	snprintf(cmd, sizeof(cmd), "rm -f %s/invites/????????????????",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(system(cmd), 0);
}

static void grant_restart(const uint8_t member[MEMBER_ID_BYTES]);

/* grant (issue 14): the root gives gina (admitted above) one more
 * subnet; the grant is held, covers it, keeps what was given before,
 * and the same text again is nothing new; a changed byte is refused. */
static void
test_keyd_grant(void **state)
{
	char err[KEYD_ERRLEN], t[GRANT_MAX_LEN + 1];
	const struct grant *g;
	struct prefix sn[2], p;
	const char *text;
	size_t len;

	(void)state;
	assert_int_equal(prefix_parse(&sn[0], "198.51.100.0/24"), 0);
	assert_int_equal(grant_make(k, "nobody", sn, 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no member called"));
	assert_int_equal(grant_make(k, "gina", sn, 0, err, sizeof(err)), -1);
	assert_int_equal(grant_make(k, "gina", sn, 1, err, sizeof(err)), 0);
	assert_int_equal(grants_count(k), 1);
	g = grants_get(k, 0);
	assert_int_equal(keyd_granted(k, g->member, &sn[0]), 1);
	assert_int_equal(prefix_parse(&p, "198.51.100.128/25"), 0);
	assert_int_equal(keyd_granted(k, g->member, &p), 1);
	assert_int_equal(prefix_parse(&p, "198.51.0.0/16"), 0);
	assert_int_equal(keyd_granted(k, g->member, &p), 0);
	/* A second grant lists both. */
	assert_int_equal(prefix_parse(&sn[1], "203.0.113.0/24"), 0);
	assert_int_equal(grant_make(k, "gina", &sn[1], 1, err, sizeof(err)),
	    0);
	assert_int_equal(grants_count(k), 1);
	assert_int_equal(grants_get(k, 0)->nsubnets, 2);
	/* Overlapping the network's range: refused. */
	assert_int_equal(prefix_parse(&sn[1], "10.77.0.0/24"), 0);
	assert_int_equal(grant_make(k, "gina", &sn[1], 1, err, sizeof(err)),
	    -1);
	/* From gossip: the same again is old; a changed byte refused. */
	text = grants_text(k, 0, &len);
	assert_non_null(text);
	assert_int_equal(grant_accept(k, text, len, NULL, err, sizeof(err)),
	    0);
	/* A newer serial under the old signature. */
	{
		struct grant g2 = *grants_get(k, 0);
		int n;

		g2.serial++;
		n = grant_format(&g2, t, sizeof(t), 1);
		assert_true(n > 0);
		assert_int_equal(grant_accept(k, t, (size_t)n, NULL, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "does not verify"));
	}
	assert_int_equal(k->grants.accepted, 2);
	assert_true(k->grants.refused >= 1);
	grant_restart(g->member);
}

/* A restart: the grant comes back from STATE/grants/<id>; a damaged
 * file is skipped, not fatal. */
static void
grant_restart(const uint8_t member[MEMBER_ID_BYTES])
{
	char path[PATH_MAX + 80], hex[2 * MEMBER_ID_BYTES + 1];
	uint8_t id[MEMBER_ID_BYTES];
	char *saved;
	size_t len;

	/* member points into what grants_free frees */
	memcpy(id, member, sizeof(id));
	member = id;
	hex_encode(hex, member, MEMBER_ID_BYTES);
	snprintf(path, sizeof(path), "%s/%s", k->d.conf.paths.grants_dir,
	    hex);
	assert_int_equal(access(path, R_OK), 0);
	grants_free(k);
	assert_int_equal(grants_count(k), 0);
	grants_load(k);
	assert_int_equal(grants_count(k), 1);
	assert_int_equal(grants_get(k, 0)->nsubnets, 2);
	assert_memory_equal(grants_get(k, 0)->member, member, 32);
	saved = file_read(path, GRANT_MAX_LEN, &len);
	assert_non_null(saved);
	assert_int_equal(file_write_atomic(path, "junk\n", 5, 0644), 0);
	grants_free(k);
	grants_load(k);
	assert_int_equal(grants_count(k), 0);
	assert_int_equal(file_write_atomic(path, saved, len, 0644), 0);
	free(saved);
	grants_load(k);
	assert_int_equal(grants_count(k), 1);
}

static void
test_keyd_expired_and_admin(void **state)
{
	char url[INVITE_URL_MAX + 1], err[KEYD_ERRLEN], path[PATH_MAX + 64];
	char hex[17], text[INVITE_TEXT_MAX];
	struct invite_url u;
	struct invite iv, back;
	struct record carol, dave;
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	char *t;
	size_t len;
	int n;

	(void)state;
	/* An admin invitation from the root. */
	assert_int_equal(invites_create(k, "carol", NULL, 3600,
	    ROLE_ADMIN, url, sizeof(url), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"carol\" is taken"));
	assert_int_equal(invites_create(k, "erin", NULL, 3600,
	    ROLE_ADMIN, url, sizeof(url), err, sizeof(err)), 0);
	url_secret(url, &u);
	/* Expired: rewrite the file with a past time. */
	hex_encode(hex, u.id, 8);
	snprintf(path, sizeof(path), "%s/invites/%s",
	    k->d.conf.paths.keys_dir, hex);
	t = file_read(path, INVITE_TEXT_MAX, &len);
	assert_int_equal(invite_parse(&back, t, len, err, sizeof(err)), 0);
	free(t);
	back.expires = 1000000000;  /* 2001-09-09 01:46:40 UTC */
	n = invite_format(&back, text, sizeof(text));
	assert_int_equal(file_write_atomic(path, text, (size_t)n, 0600), 0);
	assert_int_equal(invites_redeem(k, u.id, u.secret, &iv, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "this invitation expired at 2001-09-09"
	    " 01:46:40 UTC");
	/* Not consumed, but no longer pending for names either. */
	back.expires = (uint64_t)time(NULL) + 60;
	n = invite_format(&back, text, sizeof(text));
	assert_int_equal(file_write_atomic(path, text, (size_t)n, 0600), 0);
	assert_int_equal(invites_redeem(k, u.id, u.secret, &iv, err,
	    sizeof(err)), 0);
	assert_int_equal(iv.role, ROLE_ADMIN);
	joiner_record(&carol, pk, sk, &iv);
	assert_string_equal(carol.name, "erin");
	assert_int_equal(carol.role, ROLE_ADMIN);
	assert_int_equal(keyd_trust_check(k, &carol, err, sizeof(err)), 0);

	/* dave, a member admitted by erin (as her keyd would). */
	memset(&dave, 0, sizeof(dave));
	crypto_sign_keypair(pk2, sk2);
	strcpy(dave.name, "dave");
	memcpy(dave.id, pk2, 32);
	ipv6_member_addr(&dave.ipv6, k->netid, pk2);
	dave.serial = 1;
	dave.admitted = 1;
	memcpy(dave.admitted_by, pk, 32);
	{
		uint8_t buf[ADMISSION_SIGNED_MAX];

		n = admission_signed_bytes(&dave, k->netid, buf, sizeof(buf));
		assert_int_equal(crypto_sign_detached(dave.admission, NULL,
		    buf, (size_t)n, sk), 0);
	}
	assert_int_equal(record_sign(&dave, sk2, k->netid), 0);
	assert_int_equal(keyd_trust_check(k, &dave, err, sizeof(err)), 0);
	n = record_format(&dave, text, sizeof(text), 1);
	assert_int_equal(records_put(&k->recs, &dave, text, (size_t)n), 1);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

static void
test_keyd_revoke(void **state)
{
	char err[KEYD_ERRLEN], rn[NAME_MAX_LEN + 1], path[PATH_MAX + 80];
	char hex[65];
	const struct keyd_rec *carol = NULL;
	uint8_t carol_id[32];
	json_t *also;
	size_t i;

	(void)state;
	/* The keyd is shared by the tests: carol (member, by the root),
	 * erin (admin, by the root) and dave (by erin) are held. */
	for (i = 0; i < k->recs.n; i++)
		if (strcmp(k->recs.v[i].rec.name, "erin") == 0 &&
		    k->recs.v[i].rec.role == ROLE_ADMIN)
			carol = &k->recs.v[i];
	assert_non_null(carol);
	memcpy(carol_id, carol->rec.id, 32);
	also = json_array();
	assert_int_equal(revoke_make(k, "nobody", rn, sizeof(rn), also, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no member called \"nobody\""));
	assert_int_equal(revoke_make(k, "alice", rn, sizeof(rn), also, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "this member itself"));
	assert_int_equal(revoke_make(k, "erin", rn, sizeof(rn), also, err,
	    sizeof(err)), 0);
	assert_string_equal(rn, "erin");
	assert_true(revoked_is(k, carol_id));
	assert_int_equal(revoked_count(k), 1);
	/* dave was admitted through erin: gone too, and named; carol
	 * stays. */
	assert_int_equal(json_array_size(also), 1);
	assert_string_equal(json_string_value(json_array_get(also, 0)),
	    "dave");
	for (i = 0; i < k->recs.n; i++) {
		assert_string_not_equal(k->recs.v[i].rec.name, "dave");
		assert_memory_not_equal(k->recs.v[i].rec.id, carol_id, 32);
	}
	assert_non_null(records_find(&k->recs, carol_id) == NULL ?
	    (void *)1 : NULL);
	json_decref(also);
	/* Stored, named by the id. */
	hex_encode(hex, carol_id, 32);
	snprintf(path, sizeof(path), "%s/%s", k->d.conf.paths.revoked_dir,
	    hex);
	assert_int_equal(access(path, R_OK), 0);

	/* A restart: the set comes back from STATE/revoked. */
	revoke_free(k);
	assert_false(revoked_is(k, carol_id));
	assert_int_equal(revoke_load(k, err, sizeof(err)), 0);
	assert_true(revoked_is(k, carol_id));
	/* Gossip of the same revocation: already held. */
	{
		size_t len;
		const char *t = revoked_text(k, 0, &len);
		char copy[REVOCATION_MAX_LEN];

		memcpy(copy, t, len);
		assert_int_equal(revoke_accept(k, copy, len, NULL, err,
		    sizeof(err)), 0);
		/* A changed copy is refused: the serial raised (else it
		 * would only be "already held"), the signature kept. */
		*(strstr(copy, "serial = ") + 9) = '9';
		assert_int_equal(revoke_accept(k, copy, len, NULL, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "does not verify"));
	}
	/* A damaged file is skipped on load, not fatal. */
	assert_int_equal(file_write_atomic(path, "junk\n", 5, 0644), 0);
	revoke_free(k);
	assert_int_equal(revoke_load(k, err, sizeof(err)), 0);
	assert_int_equal(revoked_count(k), 0);
}

/* linkd's SIGN rpc reaches keys_sign: admissions and revocations (and
 * any prefix of their contexts) are refused there. */
/* Revoking a member drops what it was granted, file and all. */
static void
test_keyd_grant_revoked(void **state)
{
	char err[KEYD_ERRLEN], rn[NAME_MAX_LEN + 1], path[PATH_MAX + 80];
	char hex[2 * MEMBER_ID_BYTES + 1];
	json_t *also = json_array();

	(void)state;
	assert_int_equal(grants_count(k), 1);
	hex_encode(hex, grants_get(k, 0)->member, MEMBER_ID_BYTES);
	snprintf(path, sizeof(path), "%s/%s", k->d.conf.paths.grants_dir,
	    hex);
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(revoke_make(k, "gina", rn, sizeof(rn), also, err,
	    sizeof(err)), 0);
	assert_int_equal(grants_count(k), 0);
	assert_int_equal(access(path, R_OK), -1);
	json_decref(also);
}

static void
test_keyd_sign_domains(void **state)
{
	uint8_t sig[64], m[128];
	size_t n;

	(void)state;
	n = strlen(ADMISSION_CONTEXT);
	memcpy(m, ADMISSION_CONTEXT, n);
	memset(m + n, 1, 40);
	assert_int_equal(keys_sign(sig, m, n + 40), -1);
	assert_true(sodium_is_zero(sig, sizeof(sig)));
	assert_int_equal(keys_sign(sig, m, 5), -1);       /* a prefix */
	n = strlen(REVOCATION_CONTEXT);
	memcpy(m, REVOCATION_CONTEXT, n);
	assert_int_equal(keys_sign(sig, m, n + 10), -1);
	assert_int_equal(keys_sign(sig, m, n - 1), -1);
	/* Issue 14: admissions granting subnets, and grants. */
	n = strlen(ADMISSION_CONTEXT2);
	memcpy(m, ADMISSION_CONTEXT2, n);
	assert_int_equal(keys_sign(sig, m, n + 10), -1);
	n = strlen(GRANT_CONTEXT);
	memcpy(m, GRANT_CONTEXT, n);
	assert_int_equal(keys_sign(sig, m, n + 10), -1);
	/* Anything else is signed. */
	memcpy(m, "onionmesh session v1\n", 21);
	assert_int_equal(keys_sign(sig, m, 21), 0);
	assert_int_equal(keys_sign(sig, (const uint8_t *)"", 0), 0);
}

/* At start: .used files and expired invitations older than 30 days go;
 * anything newer stays. */
static void
test_keyd_cleanup(void **state)
{
	char path[PATH_MAX + 64], text[INVITE_TEXT_MAX];
	struct timeval tv[2];
	struct invite iv;
	int n;

	(void)state;
	snprintf(path, sizeof(path), "%s/invites/00000000000000aa.used",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(file_write_atomic(path, "x\n", 2, 0600), 0);
	memset(tv, 0, sizeof(tv));
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - 31 * 24 * 3600;
	assert_int_equal(utimes(path, tv), 0);
	snprintf(path, sizeof(path), "%s/invites/00000000000000bb.used",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(file_write_atomic(path, "x\n", 2, 0600), 0);
	make_invite(&iv);
	memset(iv.id, 0xcc, sizeof(iv.id));
	iv.expires = (uint64_t)time(NULL) - 40 * 24 * 3600;
	n = invite_format(&iv, text, sizeof(text));
	snprintf(path, sizeof(path), "%s/invites/cccccccccccccccc",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(file_write_atomic(path, text, (size_t)n, 0600), 0);
	invites_cleanup(k);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/invites/00000000000000aa.used",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/invites/00000000000000bb.used",
	    k->d.conf.paths.keys_dir);
	assert_int_equal(access(path, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest proto_tests[] = {
		cmocka_unit_test(test_url_round_trip),
		cmocka_unit_test(test_url_bad_parts),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_invite_file),
		cmocka_unit_test(test_invite_file_client_auth),
	};
	const struct CMUnitTest keyd_tests[] = {
		cmocka_unit_test(test_keyd_invite_redeem),
		cmocka_unit_test(test_keyd_invite_subnets),
		cmocka_unit_test(test_keyd_grant),
		cmocka_unit_test(test_keyd_expired_and_admin),
		cmocka_unit_test(test_keyd_revoke),
		cmocka_unit_test(test_keyd_grant_revoked),
		cmocka_unit_test(test_keyd_sign_domains),
		cmocka_unit_test(test_keyd_cleanup),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	log_init("test_invite", LOG_LVL_WARN, 0);
	rc = cmocka_run_group_tests(proto_tests, NULL, NULL);
	rc |= cmocka_run_group_tests(keyd_tests, keyd_setup, keyd_teardown);
	return rc;
}
