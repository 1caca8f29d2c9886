/*
 * Unit tests for proto/edges.c: edge announcements have one spelling,
 * their signature covers exactly that spelling, and anything else is
 * refused with a reason.
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

#include "proto/edges.h"
#include "proto/record.h"

static uint8_t pk[crypto_sign_PUBLICKEYBYTES];
static uint8_t sk[crypto_sign_SECRETKEYBYTES];
static uint8_t netid[NETID_BYTES];
static struct edges e, d;
static char text[EDGES_MAX_LEN + 1], text2[EDGES_MAX_LEN + 1];
static char err[256];

static int
setup(void **state)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	assert_true(sodium_init() >= 0);
	memset(seed, 7, sizeof(seed));
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	netid_derive(netid, "test", pk);
	return 0;
}

/* e = our announcement with n peers (ids tag 0x10.., sorted; rtt
 * 1000 i + 7 us, rate 512 << i kbit/s), signed. */
static int
make(size_t n, int sign)
{
	size_t i;

	memset(&e, 0, sizeof(e));
	memcpy(e.id, pk, sizeof(e.id));
	e.serial = 1700000000123ULL;
	e.npeers = n;
	for (i = 0; i < n; i++) {
		memset(e.peers[i].id, 0, MEMBER_ID_BYTES);
		e.peers[i].id[0] = (uint8_t)(i >> 8);
		e.peers[i].id[1] = (uint8_t)i;
		e.peers[i].id[31] = 0xee;
		e.peers[i].rtt_us = (uint32_t)(i * 1000 + 7);
		e.peers[i].rate_kbps = 512u << (i % 20);
	}
	if (sign)
		assert_int_equal(edges_sign(&e, sk, netid), 0);
	return edges_format(&e, text, sizeof(text), 1);
}

static void
test_round_trip(void **state)
{
	int n, m;
	size_t k;

	for (k = 0; k <= 3; k++) {
		n = make(k, 1);
		assert_true(n > 0);
		assert_int_equal(edges_parse(&d, text, (size_t)n, err,
		    sizeof(err)), 0);
		assert_memory_equal(&d, &e, sizeof(d));
		assert_int_equal(edges_verify(&d, netid), 0);
		m = edges_format(&d, text2, sizeof(text2), 1);
		assert_int_equal(m, n);
		assert_memory_equal(text, text2, (size_t)n);
	}
	/* the exact spelling */
	make(1, 0);
	memset(e.signature, 0xab, sizeof(e.signature));
	n = edges_format(&e, text, sizeof(text), 1);
	assert_true(n > 0);
	assert_non_null(strstr(text, "\nserial = 1700000000123\n"));
	assert_non_null(strstr(text, "\npeer = 0000000000000000000000000000"
	    "0000000000000000000000000000000000ee 7 512\n"));
	assert_non_null(strstr(text, "\nsignature = abababab"));
	assert_int_equal(strncmp(text, "edges = ", 8), 0);
	/* without the signature line: what is signed */
	m = edges_format(&e, text2, sizeof(text2), 0);
	assert_int_equal(m, n - (int)strlen("signature = ") - 128 - 1);
}

static void
test_verify_binds_everything(void **state)
{
	uint8_t other[NETID_BYTES];
	int n;

	n = make(2, 1);
	assert_int_equal(edges_parse(&d, text, (size_t)n, err, sizeof(err)),
	    0);
	assert_int_equal(edges_verify(&d, netid), 0);
	netid_derive(other, "other", pk);
	assert_int_equal(edges_verify(&d, other), -1);
	d.peers[1].rtt_us++;
	assert_int_equal(edges_verify(&d, netid), -1);
	d.peers[1].rtt_us--;
	d.peers[1].rate_kbps++;
	assert_int_equal(edges_verify(&d, netid), -1);
	d.peers[1].rate_kbps--;
	assert_int_equal(edges_verify(&d, netid), 0);
	d.serial++;
	assert_int_equal(edges_verify(&d, netid), -1);
	d.serial--;
	d.npeers = 1;
	assert_int_equal(edges_verify(&d, netid), -1);
	d.npeers = 2;
	d.signature[5] ^= 1;
	assert_int_equal(edges_verify(&d, netid), -1);
	/* someone else's key cannot sign for us */
	d.signature[5] ^= 1;
	d.id[0] ^= 1;
	assert_int_equal(edges_sign(&d, sk, netid), -1);
}

/* Replace the first occurrence of from by to in text (n bytes) and
 * expect the parse to fail. */
static void
refuse(const char *from, const char *to, const char *why)
{
	char *buf = malloc(EDGES_MAX_LEN * 2), *at;
	size_t n = strlen(text), fl = strlen(from), tl = strlen(to);

	assert_non_null(buf);
	at = strstr(text, from);
	if (at == NULL)
		fail_msg("'%s' not in the sample", from);
	memcpy(buf, text, (size_t)(at - text));
	memcpy(buf + (at - text), to, tl);
	memcpy(buf + (at - text) + tl, at + fl, n - (size_t)(at - text) - fl);
	if (edges_parse(&d, buf, n - fl + tl, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", why);
	assert_true(err[0] != '\0');
	/* a refused parse leaves nothing behind */
	assert_int_equal(d.npeers, 0);
	assert_int_equal(d.serial, 0);
	free(buf);
}

static void
test_one_spelling(void **state)
{
	char line[256], hex[65];

	make(2, 1);
	refuse("edges = ", "edges  = ", "two spaces");
	refuse("edges = ", "Edges = ", "key case");
	refuse("serial = 1700000000123", "serial = 01700000000123",
	    "leading zero");
	refuse("serial = 1700000000123", "serial = +1700000000123", "sign");
	refuse("serial = 1700000000123", "serial = 18446744073709551616",
	    "serial past u64");
	refuse(" 7 512\n", " 07 512\n", "rtt with a leading zero");
	refuse(" 7 512\n", " 4294967296 512\n", "rtt past u32");
	refuse(" 7 512\n", "  512\n", "no rtt");
	refuse(" 7 512\n", " 512\n", "one number: no rate field");
	refuse(" 7 512\n", "\n", "no rtt field");
	refuse(" 7 512\n", " 7 512 \n", "trailing space");
	refuse(" 7 512\n", " 7  512\n", "two spaces before the rate");
	refuse("ee 7", "EE 7", "upper-case hex in a peer");
	refuse("signature = ", "signature  = ", "signature spacing");
	refuse("\nsignature", "\nfoo = bar\nsignature", "unknown line");
	refuse("\nsignature", "\n\nsignature", "empty line");
	/* the rate: decimal, no sign, no leading zero, fits u32, there */
	refuse(" 7 512\n", " 7 0512\n", "rate with a leading zero");
	refuse(" 7 512\n", " 7 00\n", "rate 00");
	refuse(" 7 512\n", " 7 4294967296\n", "rate past u32");
	refuse(" 7 512\n", " 7 99999999999999999999999\n",
	    "rate far past u64");
	refuse(" 7 512\n", " 7 +512\n", "rate with a sign");
	refuse(" 7 512\n", " 7 -1\n", "negative rate");
	refuse(" 7 512\n", " 7 0x200\n", "rate in hex");
	refuse(" 7 512\n", " 7 512.5\n", "fractional rate");
	refuse(" 7 512\n", " 7 \n", "empty rate");
	refuse(" 7 512\n", " 7 512 9\n", "a fourth field");
	refuse(" 7 512\n", " 7 5\t12\n", "a tab in the rate");
	/* and the message names the line and the field */
	{
		char buf[2048], *at;

		strcpy(buf, text);
		at = strstr(buf, " 7 512\n");
		assert_non_null(at);
		memcpy(at, " 7 51x", 6);
		assert_int_equal(edges_parse(&d, buf, strlen(buf), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "line 3"));
		assert_non_null(strstr(err, "rate"));
	}
	/* the old form (no rate) is not read as rate 0 */
	refuse(" 7 512\n", " 7\n", "announcement without rates");
	/* the order of lines */
	hex_encode(hex, pk, 32);
	snprintf(line, sizeof(line), "edges = %s\nserial = 1700000000123\n",
	    hex);
	refuse(line, "serial = 1700000000123\n", "no edges line");
	/* a peer may not be the member itself */
	snprintf(line, sizeof(line), "peer = %s 9\nsignature", hex);
	refuse("signature", line, "self as a peer");
	/* nothing after the signature; a newline at the end */
	assert_int_equal(edges_parse(&d, text, strlen(text) - 1, err,
	    sizeof(err)), -1);
	strcat(text, "peer = 00 1\n");
	assert_int_equal(edges_parse(&d, text, strlen(text), err,
	    sizeof(err)), -1);
}

static void
test_order_and_repeats(void **state)
{
	int n;

	/* swap two peer lines: unsorted */
	make(3, 0);
	e.peers[0].id[1] = 5;
	assert_int_equal(edges_format(&e, text, sizeof(text), 1), -1);
	assert_int_equal(edges_sort(&e), 0);
	assert_int_equal(e.peers[2].id[1], 5);
	n = edges_format(&e, text, sizeof(text), 1);
	assert_true(n > 0);
	assert_int_equal(edges_parse(&d, text, (size_t)n, err, sizeof(err)),
	    0);

	/* a repeat, or self, cannot be sorted away */
	e.peers[0] = e.peers[1];
	assert_int_equal(edges_sort(&e), -1);
	assert_int_equal(edges_format(&e, text, sizeof(text), 1), -1);
	make(3, 0);
	memcpy(e.peers[2].id, e.id, MEMBER_ID_BYTES);
	assert_int_equal(edges_sort(&e), -1);

	/* a repeated line in text */
	make(2, 1);
	n = (int)strlen(text);
	{
		char *p1 = strstr(text, "peer = "), *p2;
		char buf[2048];
		size_t l1;

		p2 = strstr(p1 + 1, "peer = ");
		l1 = (size_t)(p2 - p1);
		memcpy(buf, text, (size_t)(p2 - text));
		memcpy(buf + (p2 - text), p1, l1);
		memcpy(buf + (p2 - text) + l1, p2, strlen(p2) + 1);
		assert_int_equal(edges_parse(&d, buf, strlen(buf), err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "sorted"));
		/* and swapped lines */
		memcpy(buf, text, (size_t)(p1 - text));
		memcpy(buf + (p1 - text), p2, strcspn(p2, "\n") + 1);
		memcpy(buf + (p1 - text) + strcspn(p2, "\n") + 1, p1, l1);
		strcpy(buf + (p1 - text) + strcspn(p2, "\n") + 1 + l1,
		    strstr(text, "signature"));
		assert_int_equal(strlen(buf), (size_t)n);
		assert_int_equal(edges_parse(&d, buf, strlen(buf), err,
		    sizeof(err)), -1);
	}
}

static void
test_every_truncation_refused(void **state)
{
	size_t k;
	int n;

	n = make(3, 1);
	for (k = 0; k < (size_t)n; k++)
		if (edges_parse(&d, text, k, err, sizeof(err)) != -1)
			fail_msg("%zu of %d bytes accepted", k, n);
}

static void
test_limits(void **state)
{
	int n;

	/* the most peers with the longest numbers fit EDGES_MAX_LEN */
	make(EDGES_MAX_PEERS, 0);
	e.serial = UINT64_MAX;
	for (size_t i = 0; i < e.npeers; i++) {
		e.peers[i].rtt_us = UINT32_MAX;
		e.peers[i].rate_kbps = UINT32_MAX;
	}
	assert_int_equal(edges_sign(&e, sk, netid), 0);
	n = edges_format(&e, text, sizeof(text), 1);
	assert_true(n > 0 && n <= EDGES_MAX_LEN);
	assert_int_equal(edges_parse(&d, text, (size_t)n, err, sizeof(err)),
	    0);
	assert_int_equal(edges_verify(&d, netid), 0);
	assert_int_equal(d.npeers, EDGES_MAX_PEERS);
	assert_int_equal(d.peers[EDGES_MAX_PEERS - 1].rate_kbps, UINT32_MAX);

	/* one more peer is refused by both sides */
	e.npeers = EDGES_MAX_PEERS + 1;
	assert_int_equal(edges_format(&e, text2, sizeof(text2), 1), -1);
	{
		char *buf = malloc(EDGES_MAX_LEN * 2);
		char *sig = strstr(text, "signature = ");
		size_t head = (size_t)(sig - text);

		assert_non_null(buf);
		memcpy(buf, text, head);
		/* a 513th peer sorting last */
		head += (size_t)sprintf(buf + head, "peer = %064x 1 1\n", 0);
		memset(buf + head - 69, 'f', 64);
		strcpy(buf + head, sig);
		assert_int_equal(edges_parse(&d, buf, strlen(buf), err,
		    sizeof(err)), -1);
		free(buf);
	}

	/* too long, a NUL, nothing */
	assert_int_equal(edges_parse(&d, text, EDGES_MAX_LEN + 1, err,
	    sizeof(err)), -1);
	n = make(1, 1);
	text[10] = '\0';
	assert_int_equal(edges_parse(&d, text, (size_t)n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(edges_parse(&d, "", 0, err, sizeof(err)), -1);
	/* a buffer too small to format into */
	n = make(1, 1);
	assert_int_equal(edges_format(&e, text2, (size_t)n, 1), -1);
	assert_int_equal(edges_format(&e, text2, (size_t)n + 1, 1), n);
}

static void
test_rate_bucket(void **state)
{
	static const struct { uint32_t in, bucket; int step; } v[] = {
		{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 2, 2}, {4, 4, 3},
		{1000, 512, 10}, {1023, 512, 10}, {1024, 1024, 11},
		{1025, 1024, 11}, {0x80000000u, 0x80000000u, 32},
		{UINT32_MAX, 0x80000000u, 32},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(edges_rate_bucket(v[i].in), v[i].bucket);
		assert_int_equal(edges_rate_step(v[i].in), v[i].step);
		/* a bucket is its own bucket */
		assert_int_equal(edges_rate_bucket(v[i].bucket),
		    v[i].bucket);
	}
}

static void
test_find(void **state)
{
	uint8_t id[MEMBER_ID_BYTES];
	size_t i;

	make(100, 0);
	for (i = 0; i < 100; i++) {
		assert_ptr_equal(edges_find(&e, e.peers[i].id), &e.peers[i]);
	}
	memset(id, 0, sizeof(id));
	id[1] = 3;
	assert_null(edges_find(&e, id));
	memset(id, 0xff, sizeof(id));
	assert_null(edges_find(&e, id));
	e.npeers = 0;
	assert_null(edges_find(&e, e.peers[0].id));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_verify_binds_everything),
		cmocka_unit_test(test_one_spelling),
		cmocka_unit_test(test_order_and_repeats),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rate_bucket),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
