/*
 * Unit tests for proto/record.c: host records and the derivations.
 *
 * The property that matters most: a record has one text, and its
 * signature covers all of it. So every single-byte change of a signed
 * record must be refused by record_parse or by record_verify, and any
 * text record_parse accepts must be exactly what record_format writes
 * back. Then: wrong network, reordered fields, a table of bad values
 * (each message must name the field and the value), address ownership
 * and the address derivations.
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

/* tor's own test vector (test_hs_common.c): a valid v3 address. */
#define ONION "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"
/* 32 bytes of 0x5a as tor spells an x25519 key (issue 15). */
#define CAUTH "ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljna"

static uint8_t pk[crypto_sign_PUBLICKEYBYTES];
static uint8_t sk[crypto_sign_SECRETKEYBYTES];
static uint8_t netid[NETID_BYTES];

static int
setup(void **state)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (sodium_init() < 0)
		return -1;
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	netid_derive(netid, "corp", pk);
	return 0;
}

/* A full record: every optional field present. */
static void
make_record(struct record *r, int full)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->name, "alice");
	memcpy(r->id, pk, sizeof(r->id));
	if (full) {
		strcpy(r->onion, ONION);
		memset(r->client_auth, 0x5a, sizeof(r->client_auth));
		r->has_client_auth = 1;
		strcpy(r->tcp[0], "198.51.100.7:6550");
		strcpy(r->tcp[1], "[2001:db8::7]:6550");
		strcpy(r->tcp[2], "alice.example:443");
		r->ntcp = 3;
		assert_int_equal(prefix_parse(&r->ipv4, "10.77.0.5"), 0);
		assert_int_equal(prefix_parse(&r->subnets[0],
		    "192.168.5.0/24"), 0);
		assert_int_equal(prefix_parse(&r->subnets[1], "fd00:5::/64"),
		    0);
		r->nsubnets = 2;
		assert_int_equal(prefix_parse(&r->admitted_subnets[0],
		    "192.168.0.0/16"), 0);
		r->nadmitted_subnets = 1;
		r->admitted = 1;
		memset(r->admitted_by, 0xab, sizeof(r->admitted_by));
		memset(r->admission, 0xcd, sizeof(r->admission));
	}
	ipv6_member_addr(&r->ipv6, netid, r->id);
	r->serial = 1700000000123ULL;
}

static int
signed_text(struct record *r, int full, char *text, size_t cap)
{
	int n;

	make_record(r, full);
	assert_int_equal(record_sign(r, sk, netid), 0);
	n = record_format(r, text, cap, 1);
	assert_true(n > 0);
	return n;
}

static void
test_sign_verify_round_trip(void **state)
{
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], text2[RECORD_MAX_LEN + 1], err[256];
	int n, full;

	for (full = 0; full <= 1; full++) {
		n = signed_text(&r, full, text, sizeof(text));
		assert_int_equal(record_verify(&r, netid), 0);
		if (record_parse(&p, text, (size_t)n, err, sizeof(err)) != 0)
			fail_msg("%s\n%s", err, text);
		assert_memory_equal(&r, &p, sizeof(r));
		assert_int_equal(record_verify(&p, netid), 0);
		assert_int_equal(record_format(&p, text2, sizeof(text2), 1),
		    n);
		assert_string_equal(text, text2);
	}
}

static void insert_before(const char *text, const char *key,
    const char *lines, char *out);

/* A record from before issue 15 (no client-auth line) still parses;
 * the line comes after onion and before tcp, once. */
static void
test_client_auth_line(void **state)
{
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 200], err[256];
	int n;

	make_record(&r, 1);
	r.has_client_auth = 0;
	memset(r.client_auth, 0, sizeof(r.client_auth));
	assert_int_equal(record_sign(&r, sk, netid), 0);
	n = record_format(&r, text, sizeof(text), 1);
	assert_true(n > 0);
	assert_null(strstr(text, "client-auth"));
	assert_int_equal(record_parse(&p, text, (size_t)n, err, sizeof(err)),
	    0);
	assert_int_equal(p.has_client_auth, 0);
	assert_int_equal(record_verify(&p, netid), 0);

	signed_text(&r, 1, text, sizeof(text));
	insert_before(text, "tcp = ", "client-auth = " CAUTH "\n", t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "client-auth given twice"));
	/* after tcp: out of order */
	signed_text(&r, 0, text, sizeof(text));
	insert_before(text, "ipv6 = ", "client-auth = " CAUTH "\n", t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    0);
	assert_int_equal(p.has_client_auth, 1);
	insert_before(text, "serial = ", "client-auth = " CAUTH "\n", t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "client-auth after ipv6"));
	/* a struct with a bad flag is not written */
	make_record(&r, 1);
	r.has_client_auth = 2;
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
}

static void
test_format_layout(void **state)
{
	struct record r;
	char text[RECORD_MAX_LEN + 1], nosig[RECORD_MAX_LEN + 1];
	int n, m;

	n = signed_text(&r, 1, text, sizeof(text));
	assert_int_equal(strncmp(text, "name = alice\nid = ", 18), 0);
	assert_non_null(strstr(text, "\nonion = " ONION "\nclient-auth = "
	    CAUTH "\ntcp = 198.51.100.7:6550\n"));
	assert_non_null(strstr(text, "\ntcp = 198.51.100.7:6550\n"
	    "tcp = [2001:db8::7]:6550\ntcp = alice.example:443\n"
	    "ipv4 = 10.77.0.5\nipv6 = fd"));
	assert_non_null(strstr(text, "\nsubnet = 192.168.5.0/24\n"
	    "subnet = fd00:5::/64\nserial = 1700000000123\n"
	    "admitted-subnet = 192.168.0.0/16\nadmitted-by = abab"));
	assert_non_null(strstr(text, "\nsignature = "));
	assert_int_equal(text[n - 1], '\n');
	/* without the signature: the same text up to the signature line */
	m = record_format(&r, nosig, sizeof(nosig), 0);
	assert_true(m > 0 && m < n);
	assert_int_equal(memcmp(text, nosig, (size_t)m), 0);
	assert_int_equal(strncmp(text + m, "signature = ", 12), 0);
	/* too small a buffer */
	assert_int_equal(record_format(&r, text, (size_t)n, 1), -1);
	assert_int_equal(record_format(&r, text, (size_t)n + 1, 1), n);
}

static void
test_tamper_every_byte(void **state)
{
	static const uint8_t flips[] = {0x01, 0x20, 0x02, 0x10};
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 1];
	char back[RECORD_MAX_LEN + 1], err[256];
	int n, full, i, parsed = 0;
	size_t f;

	for (full = 0; full <= 1; full++) {
		n = signed_text(&r, full, text, sizeof(text));
		for (i = 0; i < n; i++) {
			for (f = 0; f < sizeof(flips); f++) {
				memcpy(t, text, (size_t)n + 1);
				t[i] ^= (char)flips[f];
				if (record_parse(&p, t, (size_t)n, err,
				    sizeof(err)) != 0)
					continue;
				parsed++;
				/* Accepted text is canonical... */
				if (record_format(&p, back, sizeof(back), 1) !=
				    n || memcmp(back, t, (size_t)n) != 0)
					fail_msg("byte %d ^ %#x: parsed but"
					    " not canonical", i, flips[f]);
				/* ...and no longer verifies. */
				if (record_verify(&p, netid) == 0)
					fail_msg("byte %d ^ %#x still"
					    " verifies", i, flips[f]);
			}
		}
		/* Dropping the last byte or adding one: refused too. */
		assert_int_equal(record_parse(&p, text, (size_t)n - 1, err,
		    sizeof(err)), -1);
		memcpy(t, text, (size_t)n);
		t[n] = '\n';
		assert_int_equal(record_parse(&p, t, (size_t)n + 1, err,
		    sizeof(err)), -1);
	}
	/* some flips (e.g. in hex digits) do parse: the verify path ran */
	assert_true(parsed > 0);
}

static void
test_wrong_netid(void **state)
{
	struct record r;
	char text[RECORD_MAX_LEN + 1];
	uint8_t other[NETID_BYTES];

	signed_text(&r, 1, text, sizeof(text));
	netid_derive(other, "corp2", pk);
	assert_int_equal(record_verify(&r, other), -1);
	assert_int_equal(record_verify(&r, netid), 0);
}

static void
test_wrong_key(void **state)
{
	struct record r;
	uint8_t pk2[32], sk2[64];

	make_record(&r, 0);
	crypto_sign_keypair(pk2, sk2);
	/* signing with a key that is not the record's id is refused */
	assert_int_equal(record_sign(&r, sk2, netid), -1);
	/* a signature by another key does not verify */
	memcpy(r.id, pk2, 32);
	assert_int_equal(record_sign(&r, sk2, netid), 0);
	memcpy(r.id, pk, 32);
	assert_int_equal(record_verify(&r, netid), -1);
}

/* Swap lines a and b (0-based) of text into out. */
static void
swap_lines(const char *text, int a, int b, char *out)
{
	const char *lines[64];
	size_t lens[64];
	const char *p = text;
	int n = 0, i, k;

	while (*p && n < 64) {
		const char *nl = strchr(p, '\n');

		lines[n] = p;
		lens[n] = (size_t)(nl - p) + 1;
		n++;
		p = nl + 1;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		k = i == a ? b : i == b ? a : i;
		strncat(out, lines[k], lens[k]);
	}
}

static void
test_reordered_rejected(void **state)
{
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 1], err[256];
	int nlines = 0, a, b;
	const char *c;

	signed_text(&r, 1, text, sizeof(text));
	for (c = text; *c; c++)
		nlines += *c == '\n';
	for (a = 0; a < nlines; a++) {
		for (b = a + 1; b < nlines; b++) {
			swap_lines(text, a, b, t);
			/* two tcp or two subnet lines swapped are a
			 * different record, still in order */
			if (strcmp(t, text) == 0)
				continue;
			if (record_parse(&p, t, strlen(t), err,
			    sizeof(err)) == 0 && record_verify(&p,
			    netid) == 0)
				fail_msg("lines %d and %d swapped: accepted",
				    a, b);
		}
	}
	/* field order itself, with a message naming the fields */
	swap_lines(text, 0, 1, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 1: name missing before id"));
	/* ipv4 is line 7 and ipv6 line 8 (0-based) in the full record */
	swap_lines(text, 7, 8, t);
	assert_non_null(strstr(t, "\nipv6 = fd"));
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 9: ipv4 after ipv6"));
}

/* Replace the value of the first line starting with key (including
 * " = ") by val, or delete the line if val is NULL. */
static void
replace_field(const char *text, const char *key, const char *val,
    char *out)
{
	const char *p = strstr(text, key), *nl;
	size_t pre;

	assert_non_null(p);
	nl = strchr(p, '\n');
	pre = (size_t)(p - text);
	memcpy(out, text, pre);
	out[pre] = '\0';
	if (val != NULL) {
		strcat(out, key);
		strcat(out, val);
		strcat(out, "\n");
	}
	strcat(out, nl + 1);
}

/* Insert lines (each ending in a newline) before the line starting
 * with key. */
static void
insert_before(const char *text, const char *key, const char *lines,
    char *out)
{
	const char *p = strstr(text, key);
	size_t pre;

	assert_non_null(p);
	pre = (size_t)(p - text);
	memcpy(out, text, pre);
	out[pre] = '\0';
	strcat(out, lines);
	strcat(out, p);
}

static void
test_bad_values(void **state)
{
	static const struct {
		const char *key;
		const char *val;
		const char *want;
	} bad[] = {
		{"name = ", "Alice", "name = Alice: not a valid name"},
		{"name = ", "", "name = : not a valid name"},
		{"id = ", "00", "id = 00: not 64 lower-case hex"},
		{"id = ", "ABAB", "ABAB"},
		{"onion = ", "abc.onion", "onion = abc.onion: not an onion"},
		{"onion = ", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmn"
		    "opqrstuvwd.onion", "ABCDEFGHIJ"},
		{"onion = ", "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop"
		    "qrstuvwa.onion", "version 3"},
		{"onion = ", "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop"
		    "qrstuvwd.onion.", "onion."},
		{"onion = ", "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yh"
		    "kenl5tid.onion", "checksum"},
		{"client-auth = ", "LJNFUWS2LJNFUWS2LJNFUWS2LJNFUWS2LJNFUWS2"
		    "LJNFUWS2LJNA", "client-auth = LJNFUWS2"},
		{"client-auth = ", "ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2"
		    "ljnfuws2ljn", "not an onion client authorization key"},
		{"client-auth = ", "ljnfuws2ljnfuws2ljnfuws2ljnfuws2ljnfuws2"
		    "ljnfuws2ljnb", "client-auth = ljnfuws2"},
		{"client-auth = ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaa", "want tor's x25519 public key"},
		{"client-auth = ", CAUTH "=", "client-auth"},
		{"tcp = ", "198.51.100.7", "tcp = 198.51.100.7: not"
		    " HOST:PORT"},
		{"tcp = ", "10.1.2:80", "10.1.2:80"},
		{"tcp = ", "alice.example:443 ", "alice.example:443 "},
		{"ipv4 = ", "10.77.0", "ipv4 = 10.77.0: not an IPv4 address"},
		{"ipv4 = ", "10.77.0.5/32", "10.77.0.5/32"},
		{"ipv4 = ", "fd00::1", "fd00::1"},
		{"ipv6 = ", "10.77.0.5", "ipv6 = 10.77.0.5: not an IPv6"},
		{"ipv6 = ", "FD00::1", "ipv6 = FD00::1: not in canonical form"
		    " (want fd00::1)"},
		{"ipv6 = ", "fd00:0::1", "(want fd00::1)"},
		{"subnet = ", "192.168.5.1/24", "subnet = 192.168.5.1/24: host"
		    " bits set (want 192.168.5.0/24)"},
		{"subnet = ", "192.168.5.0", "192.168.5.0: not a prefix"},
		{"subnet = ", "192.168.5.0/33", "192.168.5.0/33"},
		{"subnet = ", "192.168.5.0/24", "listed twice"},
		{"serial = ", "01", "serial = 01: not a decimal"},
		{"serial = ", "18446744073709551616", "18446744073709551616"},
		{"serial = ", "-1", "-1"},
		{"serial = ", "", "serial = :"},
		{"admitted-by = ", "xyz", "admitted-by = xyz"},
		{"admission = ", "00", "admission = 00: not 128 lower-case"},
		{"signature = ", "00", "signature = 00"},
		{"name = ", "alice\r", "name = alice\r"},
	};
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 100], err[512];
	size_t i;

	signed_text(&r, 1, text, sizeof(text));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strcmp(bad[i].want, "listed twice") == 0)
			insert_before(text, "serial = ",
			    "subnet = 192.168.5.0/24\n", t);
		else
			replace_field(text, bad[i].key, bad[i].val, t);
		err[0] = '\0';
		if (record_parse(&p, t, strlen(t), err, sizeof(err)) != -1)
			fail_msg("accepted %s%s", bad[i].key, bad[i].val);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("%s%s: error '%s' lacks '%s'", bad[i].key,
			    bad[i].val, err, bad[i].want);
		if (strncmp(err, "line ", 5) != 0)
			fail_msg("%s%s: error '%s' lacks the line",
			    bad[i].key, bad[i].val, err);
	}
}

static void
test_structure_errors(void **state)
{
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 100], err[512];
	int n;

	n = signed_text(&r, 1, text, sizeof(text));

	/* required fields missing */
	replace_field(text, "ipv6 = ", NULL, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "ipv6 missing before subnet"));
	replace_field(text, "signature = ", NULL, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "signature missing"));
	replace_field(text, "name = ", NULL, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "name missing before id"));

	/* admitted-by and admission come as a pair */
	replace_field(text, "admission = ", NULL, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "admitted-by without admission"));
	replace_field(text, "admitted-by = ", NULL, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "admission without admitted-by"));
	/* admitted subnets need the admission that signs them */
	{
		char u[RECORD_MAX_LEN + 100];

		replace_field(text, "admitted-by = ", NULL, t);
		replace_field(t, "admission = ", NULL, u);
		assert_int_equal(record_parse(&p, u, strlen(u), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "admitted-subnet without "
		    "admitted-by"));
		replace_field(text, "admitted-subnet = ", "10.0.0.0/8\n"
		    "admitted-subnet = 10.0.0.0/8", t);
		assert_int_equal(record_parse(&p, t, strlen(t), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "listed twice"));
		replace_field(text, "serial = ", "1\nadmitted-subnet = "
		    "10.0.0.0/8\nserial = 2", t);
		assert_int_equal(record_parse(&p, t, strlen(t), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "serial after admitted-subnet"));
	}

	/* duplicate single field, unknown field, bad separator */
	replace_field(text, "serial = ", "1\nserial = 2", t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "serial given twice"));
	replace_field(text, "serial = ", "1\nexpires = 2", t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "unknown field 'expires'"));
	replace_field(text, "name = ", NULL, t);
	memmove(t + 11, t, strlen(t) + 1);
	memcpy(t, "name=alice\n", 11);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "'name=alice'"));

	/* stray bytes: a NUL, a blank line, a missing final newline */
	memcpy(t, text, (size_t)n + 1);
	t[3] = '\0';
	assert_int_equal(record_parse(&p, t, (size_t)n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "NUL"));
	snprintf(t, sizeof(t), "%s\n", text);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_int_equal(record_parse(&p, text, (size_t)n - 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no newline"));
	assert_int_equal(record_parse(&p, "", 0, err, sizeof(err)), -1);
	assert_int_equal(record_parse(&p, t, RECORD_MAX_LEN + 1, err,
	    sizeof(err)), -1);
}

static void
test_too_many_repeats(void **state)
{
	struct record r, p;
	char text[RECORD_MAX_LEN + 1], t[RECORD_MAX_LEN + 200], err[512];
	char extra[1024];
	int i;

	signed_text(&r, 0, text, sizeof(text));
	extra[0] = '\0';
	for (i = 0; i <= RECORD_MAX_TCP; i++)
		sprintf(extra + strlen(extra), "tcp = h%d.example:1\n", i);
	insert_before(text, "ipv6 = ", extra, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "too many tcp lines"));

	extra[0] = '\0';
	for (i = 0; i <= RECORD_MAX_SUBNETS; i++)
		sprintf(extra + strlen(extra), "subnet = 10.%d.0.0/16\n", i);
	insert_before(text, "serial = ", extra, t);
	assert_int_equal(record_parse(&p, t, strlen(t), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "too many subnet lines"));
}

static void
test_format_refuses_invalid(void **state)
{
	struct record r;
	char text[RECORD_MAX_LEN + 1];

	make_record(&r, 1);
	strcpy(r.name, "alice\nsubnet = 0.0.0.0/0");
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
	assert_int_equal(record_sign(&r, sk, netid), -1);
	make_record(&r, 1);
	strcpy(r.tcp[0], "1.2.3.4:5\nsubnet = 0.0.0.0/0");
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
	make_record(&r, 1);
	r.subnets[0].addr[3] = 1; /* host bits */
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
	make_record(&r, 1);
	r.ipv6.family = 0;
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
	make_record(&r, 1);
	r.ntcp = RECORD_MAX_TCP + 1;
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
	make_record(&r, 1);
	strcpy(r.onion, "x.onion");
	assert_int_equal(record_format(&r, text, sizeof(text), 1), -1);
}

static void
test_owns_addr(void **state)
{
	struct record r;
	struct prefix a;

	make_record(&r, 1);
	assert_int_equal(addr_parse(&a, "10.77.0.5"), 0);
	assert_true(record_owns_addr(&r, 4, a.addr));
	assert_int_equal(addr_parse(&a, "10.77.0.6"), 0);
	assert_false(record_owns_addr(&r, 4, a.addr));
	assert_true(record_owns_addr(&r, 6, r.ipv6.addr));
	a = r.ipv6;
	a.addr[15] ^= 1;
	assert_false(record_owns_addr(&r, 6, a.addr));
	assert_int_equal(addr_parse(&a, "192.168.5.77"), 0);
	assert_true(record_owns_addr(&r, 4, a.addr));
	assert_int_equal(addr_parse(&a, "192.168.6.1"), 0);
	assert_false(record_owns_addr(&r, 4, a.addr));
	assert_int_equal(addr_parse(&a, "fd00:5::1234"), 0);
	assert_true(record_owns_addr(&r, 6, a.addr));
	assert_int_equal(addr_parse(&a, "fd00:6::1"), 0);
	assert_false(record_owns_addr(&r, 6, a.addr));
	assert_false(record_owns_addr(&r, 5, a.addr));
	/* A record without ipv4 owns no IPv4 address 0.0.0.0 */
	make_record(&r, 0);
	memset(&a, 0, sizeof(a));
	assert_false(record_owns_addr(&r, 4, a.addr));
}

static void
test_netid(void **state)
{
	uint8_t a[NETID_BYTES], b[NETID_BYTES];

	uint8_t root2[MEMBER_ID_BYTES], msg[25 + MEMBER_ID_BYTES];

	netid_derive(a, "corp", pk);
	netid_derive(b, "corp", pk);
	assert_memory_equal(a, b, sizeof(a));
	netid_derive(b, "corq", pk);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Same name, another root: another network. */
	memcpy(root2, pk, sizeof(root2));
	root2[31] ^= 1;
	netid_derive(b, "corp", root2);
	assert_memory_not_equal(a, b, sizeof(a));
	/* BLAKE2b-256("onionmesh network v1\n" || "corp" || root) */
	memcpy(msg, "onionmesh network v1\ncorp", 25);
	memcpy(msg + 25, pk, MEMBER_ID_BYTES);
	crypto_generichash(b, sizeof(b), msg, sizeof(msg), NULL, 0);
	assert_memory_equal(a, b, sizeof(a));
}

static void
test_ipv6_member_addr(void **state)
{
	struct prefix p, q;
	uint8_t id2[32], h[8];

	ipv6_member_addr(&p, netid, pk);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.len, 128);
	assert_int_equal(p.addr[0], 0xfd);
	assert_memory_equal(p.addr + 1, netid, 5);
	assert_int_equal(p.addr[6], 0);
	assert_int_equal(p.addr[7], 0);
	crypto_generichash(h, 8, pk, 32, NULL, 0);
	assert_memory_equal(p.addr + 8, h, 8);
	memcpy(id2, pk, 32);
	id2[0] ^= 1;
	ipv6_member_addr(&q, netid, id2);
	assert_memory_equal(q.addr, p.addr, 8);     /* same /64 */
	assert_memory_not_equal(q.addr + 8, p.addr + 8, 8);
}

static void
test_ipv4_member_addr(void **state)
{
	struct prefix range, p;
	uint8_t id[32];
	int i, len;
	uint32_t a, net, hostmask;

	for (len = 8; len <= 32; len++) {
		assert_int_equal(prefix_parse(&range, "10.77.200.9/8"), 0);
		range.len = (uint8_t)len;
		for (i = 0; i < 64; i++) {
			memset(id, i, sizeof(id));
			ipv4_member_addr(&p, &range, id);
			assert_int_equal(p.family, 4);
			assert_int_equal(p.len, 32);
			assert_true(prefix_contains(&range, 4, p.addr));
			a = be32_get(p.addr);
			hostmask = len == 32 ? 0 : 0xffffffffu >> len;
			net = be32_get(range.addr) & ~hostmask;
			if (len <= 30) {
				assert_true(a != net);
				assert_true(a != (net | hostmask));
			}
		}
	}
	/* /30: exactly the two usable hosts appear */
	assert_int_equal(prefix_parse(&range, "10.0.0.0/30"), 0);
	{
		int seen1 = 0, seen2 = 0;

		for (i = 0; i < 64; i++) {
			memset(id, i, sizeof(id));
			ipv4_member_addr(&p, &range, id);
			seen1 |= p.addr[3] == 1;
			seen2 |= p.addr[3] == 2;
			assert_true(p.addr[3] == 1 || p.addr[3] == 2);
		}
		assert_true(seen1 && seen2);
	}
	/* deterministic; unset range gives unset */
	assert_int_equal(prefix_parse(&range, "10.77.0.0/16"), 0);
	ipv4_member_addr(&p, &range, pk);
	{
		struct prefix q;

		ipv4_member_addr(&q, &range, pk);
		assert_true(prefix_equal(&p, &q));
	}
	memset(&range, 0, sizeof(range));
	ipv4_member_addr(&p, &range, pk);
	assert_int_equal(p.family, 0);
}

static void
test_hex(void **state)
{
	static const uint8_t in[4] = {0x00, 0x9f, 0xa0, 0xff};
	uint8_t out[4];
	char s[9];

	hex_encode(s, in, sizeof(in));
	assert_string_equal(s, "009fa0ff");
	assert_int_equal(hex_decode(out, 4, "009fa0ff"), 0);
	assert_memory_equal(out, in, 4);
	assert_int_equal(hex_decode(out, 4, "009FA0FF"), 0);
	assert_memory_equal(out, in, 4);
	assert_int_equal(hex_decode(out, 4, "009fa0f"), -1);
	assert_int_equal(hex_decode(out, 4, "009fa0fff"), -1);
	assert_int_equal(hex_decode(out, 4, "009fa0fg"), -1);
	assert_int_equal(hex_decode(out, 4, "009fa0f "), -1);
	assert_int_equal(hex_decode(out, 4, "009f:0ff"), -1);
	assert_int_equal(hex_decode(out, 4, "009f@0ff"), -1);
	assert_int_equal(hex_decode(out, 4, "009f`0ff"), -1);
	assert_int_equal(out[0], 0); /* cleared on failure */
	assert_int_equal(hex_decode(out, 0, ""), 0);
}


/* The line reader every text parser shares (text_line, kv_line) and the
 * size check before it. */
static void
test_text_lines(void **state)
{
	const char *t = "a = 1\nb=2\n = 3\nlast", *p = t, *end, *l;
	char buf[8], *val;
	size_t n;

	(void)state;
	end = t + strlen(t);
	assert_int_equal(text_line(&p, end, &l, &n), 1);
	assert_int_equal(n, 5);
	assert_memory_equal(l, "a = 1", 5);
	p = t;
	assert_int_equal(kv_line(&p, end, buf, sizeof(buf), &val), 1);
	assert_string_equal(buf, "a");
	assert_string_equal(val, "1");
	/* No " = ", and an empty key: the whole line stays for the
	 * message. */
	assert_int_equal(kv_line(&p, end, buf, sizeof(buf), &val), 1);
	assert_null(val);
	assert_string_equal(buf, "b=2");
	assert_int_equal(kv_line(&p, end, buf, sizeof(buf), &val), 1);
	assert_null(val);
	assert_string_equal(buf, " = 3");
	/* The last line has no newline. */
	assert_int_equal(kv_line(&p, end, buf, sizeof(buf), &val), -1);
	p = end;
	assert_int_equal(text_line(&p, end, &l, &n), 0);
}

static void
test_text_check(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(text_check("ab", 2, 2, "record", err,
	    sizeof(err)), 0);
	assert_int_equal(text_check("abc", 3, 2, "record", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "record is 3 bytes (max 2)");
	assert_int_equal(text_check("a\0b", 3, 8, "record", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "record holds a NUL byte");
}

/* Every signed text starts with its context and the network id, and a
 * signature is checked against exactly those bytes. */
static void
test_signed_head(void **state)
{
	uint8_t buf[64], sig[crypto_sign_BYTES];
	int k;

	(void)state;
	k = signed_head(buf, sizeof(buf), "ctx\n", netid);
	assert_int_equal(k, 4 + NETID_BYTES);
	assert_memory_equal(buf, "ctx\n", 4);
	assert_memory_equal(buf + 4, netid, NETID_BYTES);
	assert_int_equal(signed_head(buf, 4 + NETID_BYTES, "ctx\n", netid),
	    -1);
	crypto_sign_detached(sig, NULL, buf, (size_t)k, sk);
	assert_int_equal(signed_verify(sig, buf, k, pk), 0);
	buf[0] ^= 1;
	assert_int_equal(signed_verify(sig, buf, k, pk), -1);
	assert_int_equal(signed_verify(sig, buf, -1, pk), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify_round_trip),
		cmocka_unit_test(test_format_layout),
		cmocka_unit_test(test_client_auth_line),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_wrong_netid),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_reordered_rejected),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_too_many_repeats),
		cmocka_unit_test(test_format_refuses_invalid),
		cmocka_unit_test(test_owns_addr),
		cmocka_unit_test(test_netid),
		cmocka_unit_test(test_ipv6_member_addr),
		cmocka_unit_test(test_ipv4_member_addr),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_text_check),
		cmocka_unit_test(test_signed_head),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
