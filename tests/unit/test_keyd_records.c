/*
 * Unit tests for keyd/records.c: our own record's serial (kept while the
 * content stays, raised when it moves), loading hosts/ (a bad file is
 * skipped, never fatal, and the highest serial per member wins), and
 * writing our record through keys.c with a real key store in a
 * temporary directory; in onion mode the record carries the address of
 * the key store's onion key, the same across restarts, and a missing
 * onion key is an error rather than a record nobody can reach.
 * keyd's side of the claims rules (admit.c): a record that loses is
 * refused and counted once, one that wins drops the held loser, and the
 * whole-set check after a load keeps the same survivor.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keyd/keyd.h"
#include "proto/conf.h"
#include "proto/file.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/record.h"

/* The network root the tests derive netids from (any id will do). */
static const uint8_t test_root[MEMBER_ID_BYTES] = {1, 2, 3};

static uint8_t netid[NETID_BYTES];

struct member {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static void
member_new(struct member *m, uint8_t seedbyte)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	memset(seed, seedbyte, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(m->pk, m->sk, seed), 0);
}

static void
conf_for(struct conf *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	conf_defaults(c);
	strcpy(c->name, name);
	assert_int_equal(prefix_parse(&c->ipv4, "10.77.0.5/16"), 0);
	assert_int_equal(prefix_parse(&c->subnets[0], "192.168.7.1/24"), 0);
	c->nsubnets = 1;
}

/* A signed record's canonical text for name/member/serial. */
static int
signed_text(char *out, size_t cap, const char *name, const struct member *m,
    uint64_t serial)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	strcpy(r.name, name);
	memcpy(r.id, m->pk, sizeof(r.id));
	ipv6_member_addr(&r.ipv6, netid, r.id);
	r.serial = serial;
	assert_int_equal(record_sign(&r, m->sk, netid), 0);
	return record_format(&r, out, cap, 1);
}

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_own_serial(void **state)
{
	struct member me, other;
	struct record r1, r2, r3;
	struct conf c;
	char err[KEYD_ERRLEN], s[PREFIX_STRLEN];

	member_new(&me, 1);
	member_new(&other, 2);
	conf_for(&c, "alice");

	/* No earlier record: serial 1, host addresses, masked subnet,
	 * ipv6 derived from the key when the config has none. */
	assert_int_equal(records_own_build(&r1, &c, netid, me.pk, NULL, NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(r1.serial, 1);
	prefix_fmt(&r1.ipv4, s, sizeof(s), 1);
	assert_string_equal(s, "10.77.0.5/32");
	prefix_fmt(&r1.subnets[0], s, sizeof(s), 1);
	assert_string_equal(s, "192.168.7.0/24");
	assert_int_equal(r1.ipv6.family, 6);
	assert_int_equal(r1.ipv6.len, 128);
	assert_int_equal(r1.ntcp, 0);
	r1.serial = 41;

	/* Same content: serial kept. */
	assert_int_equal(records_own_build(&r2, &c, netid, me.pk, NULL, &r1,
	    err, sizeof(err)), 0);
	assert_int_equal(r2.serial, 41);

	/* Content moves (a tcp endpoint): serial + 1. */
	strcpy(c.tcp, "192.0.2.1:6550");
	assert_int_equal(records_own_build(&r3, &c, netid, me.pk, NULL, &r1,
	    err, sizeof(err)), 0);
	assert_int_equal(r3.serial, 42);
	assert_int_equal(r3.ntcp, 1);
	assert_string_equal(r3.tcp[0], "192.0.2.1:6550");

	/* Another member's record is not our history. */
	memcpy(r1.id, other.pk, sizeof(r1.id));
	assert_int_equal(records_own_build(&r3, &c, netid, me.pk, NULL, &r1,
	    err, sizeof(err)), 0);
	assert_int_equal(r3.serial, 1);

	/* A duplicate subnet (after masking) is listed once. */
	assert_int_equal(prefix_parse(&c.subnets[1], "192.168.7.9/24"), 0);
	c.nsubnets = 2;
	assert_int_equal(records_own_build(&r3, &c, netid, me.pk, NULL, NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(r3.nsubnets, 1);

	/* A name that is no member name is refused, naming it. */
	strcpy(c.name, "Alice!");
	assert_int_equal(records_own_build(&r3, &c, netid, me.pk, NULL, NULL,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Alice!"));
}

/* Issue 14: an admitted member announces only the subnets its
 * admission grants; the rest of its config's subnet lines are left out
 * (and logged). A member without admission (pinned by hand) and the
 * root keep theirs. */
/* How many subnets our own record from c announces (into r). */
static int
own_nsubnets(const struct conf *c, const struct member *me,
    struct record *r)
{
	char err[KEYD_ERRLEN];

	assert_int_equal(records_own_build(r, c, netid, me->pk, NULL, NULL,
	    err, sizeof(err)), 0);
	return r->nsubnets;
}

static void
test_own_subnets_granted(void **state)
{
	struct member me, by;
	struct record r;
	struct conf c;
	char s[PREFIX_STRLEN];

	member_new(&me, 1);
	member_new(&by, 2);
	conf_for(&c, "alice");
	assert_int_equal(prefix_parse(&c.subnets[1], "192.168.8.0/24"), 0);
	c.nsubnets = 2;
	/* Pinned by hand: both kept. */
	assert_int_equal(own_nsubnets(&c, &me, &r), 2);
	/* Admitted with 192.168.8.0/23 granted: only .8.0/24 stays. */
	c.admitted = 1;
	memcpy(c.admitted_by, by.pk, 32);
	assert_int_equal(prefix_parse(&c.admitted_subnets[0],
	    "192.168.8.0/23"), 0);
	c.nadmitted_subnets = 1;
	assert_int_equal(own_nsubnets(&c, &me, &r), 1);
	prefix_fmt(&r.subnets[0], s, sizeof(s), 1);
	assert_string_equal(s, "192.168.8.0/24");
	assert_int_equal(r.nadmitted_subnets, 1);
	/* Nothing granted: nothing announced. */
	c.nadmitted_subnets = 0;
	assert_int_equal(own_nsubnets(&c, &me, &r), 0);
	/* The root announces what it likes. */
	c.admitted = 0;
	memcpy(c.root, me.pk, 32);
	c.have_root = 1;
	assert_int_equal(own_nsubnets(&c, &me, &r), 2);
}

static void
test_put_highest_serial(void **state)
{
	struct keyd_records s;
	struct member m;
	struct record r;
	char text[RECORD_MAX_LEN + 1], err[KEYD_ERRLEN];
	int len;

	member_new(&m, 3);
	records_init(&s);
	len = signed_text(text, sizeof(text), "bob", &m, 5);
	assert_true(len > 0);
	assert_int_equal(records_check(&r, "bob", text, (size_t)len, netid,
	    err, sizeof(err)), 0);
	assert_int_equal(records_put(&s, &r, text, (size_t)len), 1);
	/* Same or lower serial: the held one stays. */
	assert_int_equal(records_put(&s, &r, text, (size_t)len), 0);
	r.serial = 4;
	assert_int_equal(records_put(&s, &r, text, (size_t)len), 0);
	assert_int_equal(records_find(&s, m.pk)->rec.serial, 5);
	r.serial = 6;
	assert_int_equal(records_put(&s, &r, text, (size_t)len), 1);
	assert_int_equal(records_find(&s, m.pk)->rec.serial, 6);
	assert_int_equal(s.n, 1);
	records_free(&s);
}

static void
test_check_errors(void **state)
{
	struct member m;
	struct record r;
	char text[RECORD_MAX_LEN + 1], err[KEYD_ERRLEN];
	uint8_t other_net[NETID_BYTES];
	int len;

	member_new(&m, 4);
	len = signed_text(text, sizeof(text), "carol", &m, 1);
	assert_true(len > 0);

	/* Named after someone else. */
	assert_int_equal(records_check(&r, "dave", text, (size_t)len, netid,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "carol"));
	/* Signed for another network. */
	netid_derive(other_net, "othernet", test_root);
	assert_int_equal(records_check(&r, "carol", text, (size_t)len,
	    other_net, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "signature"));
	/* One byte altered (the serial 1 -> 2). */
	strstr(text, "serial = 1")[9] = '2';
	assert_int_equal(records_check(&r, "carol", text, (size_t)len, netid,
	    err, sizeof(err)), -1);
}

static void
test_load_dir(void **state)
{
	char dir[] = "/tmp/om-test-records-XXXXXX", sub[PATH_MAX];
	char text[RECORD_MAX_LEN + 1], big[RECORD_MAX_LEN + 100];
	struct keyd_records s;
	struct member bob, carol, dave;
	const struct keyd_rec *e;
	int len, bad;

	assert_non_null(mkdtemp(dir));
	member_new(&bob, 5);
	member_new(&carol, 6);
	member_new(&dave, 7);

	/* bob renamed himself: two files, one id, serial 5 wins. */
	len = signed_text(text, sizeof(text), "bob", &bob, 3);
	write_file(dir, "bob", text, (size_t)len);
	len = signed_text(text, sizeof(text), "robert", &bob, 5);
	write_file(dir, "robert", text, (size_t)len);
	/* carol is fine. */
	len = signed_text(text, sizeof(text), "carol", &carol, 1);
	write_file(dir, "carol", text, (size_t)len);
	/* dave's file altered after signing. */
	len = signed_text(text, sizeof(text), "dave", &dave, 2);
	strstr(text, "serial = 2")[9] = '3';
	write_file(dir, "dave", text, (size_t)len);
	/* A file named for another member. */
	len = signed_text(text, sizeof(text), "carol", &carol, 9);
	write_file(dir, "eve", text, (size_t)len);
	/* Garbage, a file name that is no member name, a huge file, a
	 * directory. */
	write_file(dir, "junk", "hello\n", 6);
	len = signed_text(text, sizeof(text), "carol", &carol, 10);
	write_file(dir, "Carol", text, (size_t)len);
	memset(big, 'x', sizeof(big));
	write_file(dir, "big", big, sizeof(big));
	snprintf(sub, sizeof(sub), "%s/subdir", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	/* A temporary of file_write_atomic: not a record, not an error. */
	write_file(dir, ".carol.AbCdEf", "x", 1);

	records_init(&s);
	bad = records_load_dir(&s, dir, netid);
	assert_int_equal(bad, 6); /* dave eve junk Carol big subdir */
	assert_int_equal(s.n, 2);
	e = records_find(&s, bob.pk);
	assert_non_null(e);
	assert_int_equal(e->rec.serial, 5);
	assert_string_equal(e->rec.name, "robert");
	e = records_find(&s, carol.pk);
	assert_non_null(e);
	assert_int_equal(e->rec.serial, 1);
	assert_int_equal(e->len, strlen(e->text));
	assert_null(records_find(&s, dave.pk));
	records_free(&s);

	/* No directory at all is an error the caller sees. */
	rm_rf(dir);
	records_init(&s);
	assert_int_equal(records_load_dir(&s, dir, netid), -1);
	records_free(&s);
}

static void
test_own_refresh(void **state)
{
	char dir[] = "/tmp/om-test-keyd-XXXXXX", path[PATH_MAX + 16];
	char err[KEYD_ERRLEN], text[RECORD_MAX_LEN + 1], *file;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	struct keyd_records s;
	struct member other;
	const struct keyd_rec *e;
	struct conf c;
	struct stat st;
	size_t flen;
	int len;

	assert_non_null(mkdtemp(dir));
	conf_for(&c, "alice");
	assert_int_equal(conf_paths(&c.paths, "test", dir, err, sizeof(err)),
	    0);
	assert_int_equal(keystore_identity_ensure(c.paths.keys_dir, pk), 0);
	assert_int_equal(keys_load(c.paths.keys_dir, err, sizeof(err)), 0);
	assert_memory_equal(keys_id(), pk, sizeof(pk));

	/* Another member's record sits under our name. */
	assert_int_equal(mkdir(c.paths.hosts_dir, 0755), 0);
	member_new(&other, 8);
	len = signed_text(text, sizeof(text), "alice", &other, 3);
	write_file(c.paths.hosts_dir, "alice", text, (size_t)len);

	records_init(&s);
	assert_int_equal(records_load_dir(&s, c.paths.hosts_dir, netid), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 1);
	/* Ours replaced it, on disk and in the set. */
	assert_int_equal(s.n, 1);
	assert_null(records_find(&s, other.pk));
	e = records_find(&s, pk);
	assert_non_null(e);
	assert_int_equal(e->rec.serial, 1);
	assert_int_equal(record_verify(&e->rec, netid), 0);
	snprintf(path, sizeof(path), "%s/alice", c.paths.hosts_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	file = file_read(path, RECORD_MAX_LEN, &flen);
	assert_non_null(file);
	assert_int_equal(flen, e->len);
	assert_memory_equal(file, e->text, flen);
	free(file);

	/* Restart with nothing changed: not rewritten, same serial. */
	records_free(&s);
	records_init(&s);
	assert_int_equal(records_load_dir(&s, c.paths.hosts_dir, netid), 0);
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(records_find(&s, pk)->rec.serial, 1);

	/* A new subnet: rewritten with serial 2. */
	assert_int_equal(prefix_parse(&c.subnets[1], "10.9.0.0/16"), 0);
	c.nsubnets = 2;
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 1);
	assert_int_equal(records_find(&s, pk)->rec.serial, 2);
	records_free(&s);
	records_init(&s);
	assert_int_equal(records_load_dir(&s, c.paths.hosts_dir, netid), 0);
	assert_int_equal(records_find(&s, pk)->rec.serial, 2);
	assert_int_equal(records_find(&s, pk)->rec.nsubnets, 2);
	records_free(&s);

	keys_wipe();
	assert_false(keys_loaded());
	rm_rf(dir);
}

static void
test_own_onion_build(void **state)
{
	struct member me;
	struct record r1, r2, r3;
	struct conf c;
	char err[KEYD_ERRLEN], addr[ONION_ADDR_LEN + 1];
	char text[RECORD_MAX_LEN + 1];
	struct record back;
	uint8_t seed[ONION_SEED_BYTES];
	struct onion_key ok;
	int len;

	member_new(&me, 3);
	conf_for(&c, "carol");
	memset(seed, 0x42, sizeof(seed));
	assert_int_equal(onion_key_from_seed(&ok, seed), 0);
	onion_addr_from_pk(addr, ok.pk);
	onion_key_wipe(&ok);

	assert_int_equal(records_own_build(&r1, &c, netid, me.pk, addr, NULL,
	    err, sizeof(err)), 0);
	assert_string_equal(r1.onion, addr);
	/* "" is the same as none. */
	assert_int_equal(records_own_build(&r2, &c, netid, me.pk, "", NULL,
	    err, sizeof(err)), 0);
	assert_string_equal(r2.onion, "");
	r1.serial = 7;
	/* Same onion: serial kept; dropped or changed: serial + 1. */
	assert_int_equal(records_own_build(&r3, &c, netid, me.pk, addr, &r1,
	    err, sizeof(err)), 0);
	assert_int_equal(r3.serial, 7);
	assert_int_equal(records_own_build(&r3, &c, netid, me.pk, NULL, &r1,
	    err, sizeof(err)), 0);
	assert_int_equal(r3.serial, 8);
	assert_string_equal(r3.onion, "");

	/* The field survives signing, formatting and parsing. */
	assert_int_equal(record_sign(&r1, me.sk, netid), 0);
	len = record_format(&r1, text, sizeof(text), 1);
	assert_true(len > 0);
	assert_non_null(strstr(text, addr));
	assert_int_equal(record_parse(&back, text, (size_t)len, err,
	    sizeof(err)), 0);
	assert_string_equal(back.onion, addr);
	assert_int_equal(record_verify(&back, netid), 0);

	/* Longer than the field, or a bad checksum: refused, naming it. */
	{
		char lng[sizeof(r1.onion) + 8];

		memset(lng, 'a', sizeof(lng) - 1);
		lng[sizeof(lng) - 1] = '\0';
		assert_int_equal(records_own_build(&r3, &c, netid, me.pk, lng,
		    NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "onion"));
		strcpy(lng, addr);
		lng[0] = lng[0] == 'a' ? 'b' : 'a';
		assert_int_equal(records_own_build(&r3, &c, netid, me.pk, lng,
		    NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, lng));
	}
}

static void
test_own_refresh_onion(void **state)
{
	char dir[] = "/tmp/om-test-keyd-onion-XXXXXX", err[KEYD_ERRLEN];
	char addr[ONION_ADDR_LEN + 1], blob[ONION_BLOB_LEN + 1], why[256];
	char path[PATH_MAX + 16], *file;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], opk[ONION_PK_BYTES];
	const struct keyd_rec *e;
	struct keyd_records s;
	struct onion_key k;
	struct record back;
	struct conf c;
	size_t flen;

	assert_non_null(mkdtemp(dir));
	conf_for(&c, "dave");
	assert_int_equal(conf_paths(&c.paths, "test", dir, err, sizeof(err)),
	    0);
	assert_int_equal(keystore_identity_ensure(c.paths.keys_dir, pk), 0);
	assert_int_equal(keys_load(c.paths.keys_dir, err, sizeof(err)), 0);
	assert_int_equal(mkdir(c.paths.hosts_dir, 0755), 0);

	/* TCP mode: no onion line, and keyd_tor_key loads nothing. */
	records_init(&s);
	assert_int_equal(keyd_tor_key(&c, err, sizeof(err)), 0);
	assert_null(keys_onion_addr());
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 1);
	e = records_find(&s, pk);
	assert_non_null(e);
	assert_string_equal(e->rec.onion, "");
	assert_int_equal(e->rec.serial, 1);

	/* Onion mode without the key loaded: an error naming why, and
	 * the record held is left alone. */
	strcpy(c.tor_control, "unix:/run/tor/control");
	strcpy(c.tor_socks, "unix:/run/tor/socks");
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "onion service key"));
	assert_int_equal(records_find(&s, pk)->rec.serial, 1);
	/* tor_control alone is not onion mode. */
	c.tor_socks[0] = '\0';
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 0);
	strcpy(c.tor_socks, "unix:/run/tor/socks");

	/* keyd_tor_key makes the key when missing (a member from before
	 * onion mode) and loads it; the record gets its address. */
	assert_int_equal(keyd_tor_key(&c, err, sizeof(err)), 0);
	assert_non_null(keys_onion_addr());
	assert_int_equal(keystore_onion_ensure(c.paths.keys_dir, opk), 1);
	onion_addr_from_pk(addr, opk);
	assert_string_equal(keys_onion_addr(), addr);
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 1);
	e = records_find(&s, pk);
	assert_string_equal(e->rec.onion, addr);
	assert_int_equal(e->rec.serial, 2);
	assert_int_equal(record_verify(&e->rec, netid), 0);
	snprintf(path, sizeof(path), "%s/dave", c.paths.hosts_dir);
	file = file_read(path, RECORD_MAX_LEN, &flen);
	assert_non_null(file);
	assert_int_equal(record_parse(&back, file, flen, err, sizeof(err)),
	    0);
	assert_string_equal(back.onion, addr);
	free(file);

	/* The blob for tor is of the same key. */
	assert_int_equal(keys_onion_blob(blob, sizeof(blob)), 0);
	assert_int_equal(onion_key_from_blob(&k, blob, why, sizeof(why)), 0);
	assert_memory_equal(k.pk, opk, sizeof(opk));
	onion_key_wipe(&k);
	sodium_memzero(blob, sizeof(blob));

	/* A restart: the same key, the same address, nothing rewritten. */
	keys_wipe();
	assert_null(keys_onion_addr());
	assert_int_equal(keys_load(c.paths.keys_dir, err, sizeof(err)), 0);
	assert_int_equal(keyd_tor_key(&c, err, sizeof(err)), 0);
	assert_string_equal(keys_onion_addr(), addr);
	records_free(&s);
	records_init(&s);
	assert_int_equal(records_load_dir(&s, c.paths.hosts_dir, netid), 0);
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(records_find(&s, pk)->rec.serial, 2);
	assert_string_equal(records_find(&s, pk)->rec.onion, addr);

	/* keys_load does not drop the onion key; keys_onion_wipe does. */
	assert_int_equal(keys_load(c.paths.keys_dir, err, sizeof(err)), 0);
	assert_string_equal(keys_onion_addr(), addr);
	keys_onion_wipe();
	assert_null(keys_onion_addr());
	assert_int_equal(keys_onion_blob(blob, sizeof(blob)), -1);

	/* Out of onion mode: the onion line goes, serial + 1. */
	c.tor_control[0] = '\0';
	c.tor_socks[0] = '\0';
	assert_int_equal(records_own_refresh(&s, &c, netid, 0, 0, 0, err,
	    sizeof(err)), 1);
	assert_string_equal(records_find(&s, pk)->rec.onion, "");
	assert_int_equal(records_find(&s, pk)->rec.serial, 3);
	records_free(&s);

	keys_wipe();
	rm_rf(dir);
}

/* An unsigned record (claims do not look at signatures) into s. */
static void
claims_rec(struct record *r, const char *name, uint8_t seed,
    const char *ipv4, const uint8_t *by)
{
	struct member m;

	member_new(&m, seed);
	memset(r, 0, sizeof(*r));
	strcpy(r->name, name);
	memcpy(r->id, m.pk, MEMBER_ID_BYTES);
	assert_int_equal(prefix_parse(&r->ipv4, ipv4), 0);
	ipv6_member_addr(&r->ipv6, netid, r->id);
	r->serial = 1;
	r->admitted = 1;
	memcpy(r->admitted_by, by, MEMBER_ID_BYTES);
}

static void
claims_put(struct keyd *k, const struct record *r)
{
	char text[RECORD_MAX_LEN + 1];
	int len = record_format(r, text, sizeof(text), 1);

	assert_true(len > 0);
	assert_int_equal(records_put(&k->recs, r, text, (size_t)len), 1);
}

static void
test_claims_take(void **state)
{
	static struct keyd k;
	char dir[] = "/tmp/om-test-claims-XXXXXX", why[512];
	struct record x, y, z;
	uint8_t admin[MEMBER_ID_BYTES] = {9};
	json_t *st;

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_non_null(mkdtemp(dir));
	conf_for(&k.d.conf, "self");
	assert_int_equal(conf_paths(&k.d.conf.paths, "test", dir, why,
	    sizeof(why)), 0);
	memcpy(k.d.conf.root, test_root, MEMBER_ID_BYTES);
	k.d.conf.have_root = 1;
	memcpy(k.netid, netid, NETID_BYTES);
	records_init(&k.recs);

	/* An admin's member first; the root's member with the same IPv4
	 * comes later and wins: the held one is dropped. */
	claims_rec(&x, "x", 40, "10.77.1.1", admin);
	claims_rec(&y, "y", 41, "10.77.1.1", test_root);
	assert_int_equal(keyd_claims_take(&k, &x, "test", why, sizeof(why)),
	    0);
	claims_put(&k, &x);
	assert_int_equal(keyd_claims_take(&k, &y, "test", why, sizeof(why)),
	    0);
	claims_put(&k, &y);
	assert_null(records_find(&k.recs, x.id));
	assert_non_null(records_find(&k.recs, y.id));
	assert_int_equal(k.claims.displaced, 1);
	/* The loser offered again: refused, counted once. */
	assert_int_equal(keyd_claims_take(&k, &x, "test", why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "10.77.1.1"));
	assert_int_equal(keyd_claims_take(&k, &x, "test", why, sizeof(why)),
	    -1);
	assert_int_equal(k.claims.refused[CLAIM_IPV4_TAKEN], 1);
	/* Out of range. */
	claims_rec(&z, "z", 42, "10.99.0.1", test_root);
	assert_int_equal(keyd_claims_take(&k, &z, "test", why, sizeof(why)),
	    -1);
	assert_int_equal(k.claims.refused[CLAIM_IPV4_RANGE], 1);
	st = keyd_claims_status(&k);
	assert_non_null(st);
	assert_int_equal(json_integer_value(json_object_get(st, "refused")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    st, "refused_by_reason"), "ipv4_range")), 1);
	json_decref(st);

	/* A plain member's admission, the root not letting members
	 * invite: counted as the admitter's role. */
	claims_rec(&z, "z", 43, "10.77.1.3", y.id);
	keyd_claims_untrusted(&k, &z, "test", "not admitted");
	assert_int_equal(k.claims.refused[CLAIM_ADMITTER_ROLE], 1);

	/* A set loaded with both (two hosts/ files): the same survivor. */
	records_free(&k.recs);
	claims_put(&k, &y);
	claims_put(&k, &x);
	assert_int_equal(keyd_claims_prune(&k), 1);
	assert_int_equal(k.recs.n, 1);
	assert_non_null(records_find(&k.recs, y.id));
	records_free(&k.recs);
	rm_rf(dir);
}

static void
test_keys_dh_sign(void **state)
{
	char dir[] = "/tmp/om-test-keys-XXXXXX", err[KEYD_ERRLEN];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], out[32], out2[32], sig[64];
	uint8_t esk[32], epk[32], zero[32] = {0};
	uint8_t curve_pk[32];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(keystore_identity_ensure(dir, pk), 0);
	assert_int_equal(keys_load(dir, err, sizeof(err)), 0);

	/* DH agrees with the peer's side, computed from our id. */
	randombytes_buf(esk, sizeof(esk));
	assert_int_equal(crypto_scalarmult_base(epk, esk), 0);
	assert_int_equal(keys_dh(out, epk), 0);
	assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(curve_pk, pk),
	    0);
	assert_memory_equal(keys_dh_pub(), curve_pk, 32);
	assert_int_equal(crypto_scalarmult(out2, esk, curve_pk), 0);
	assert_memory_equal(out, out2, 32);
	/* A low-order point gives all zeros: refused, output wiped. */
	memset(out, 0xff, sizeof(out));
	assert_int_equal(keys_dh(out, zero), -1);
	assert_memory_equal(out, zero, 32);

	assert_int_equal(keys_sign(sig, (const uint8_t *)"hi", 2), 0);
	assert_int_equal(crypto_sign_verify_detached(sig,
	    (const uint8_t *)"hi", 2, pk), 0);
	keys_wipe();
	assert_int_equal(keys_sign(sig, (const uint8_t *)"hi", 2), -1);
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_serial),
cmocka_unit_test(test_own_subnets_granted),
		cmocka_unit_test(test_put_highest_serial),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_own_refresh),
		cmocka_unit_test(test_own_onion_build),
		cmocka_unit_test(test_own_refresh_onion),
		cmocka_unit_test(test_keys_dh_sign),
		cmocka_unit_test(test_claims_take),
	};

	if (sodium_init() < 0)
		return 1;
	log_init("test_keyd_records", LOG_LVL_WARN, 0);
	netid_derive(netid, "test", test_root);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
