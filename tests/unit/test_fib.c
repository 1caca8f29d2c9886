/*
 * linkd's forwarding table: longest-prefix match for IPv4 and IPv6
 * (host routes, covering prefixes, a default route, lengths that are not
 * whole bytes, host bits in a prefix), the tie rule for equal prefixes,
 * refusal of bad prefixes, the BEGIN/ENTRY/COMMIT builder's checks, and
 * a randomised comparison against a brute-force linear search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/fib.h"

static void
mkentry(struct fib_entry *e, const char *pfx, uint8_t who, uint32_t cost)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(prefix_parse(&e->dst, pfx), 0);
	memset(e->dest, who, sizeof(e->dest));
	memset(e->next_hop, who, sizeof(e->next_hop));
	e->cost = cost;
}

/* Who (first byte of next_hop) the table sends addr to; 0 = nobody. */
static uint8_t
who(const struct fib *f, const char *addr)
{
	struct prefix a;
	const struct fib_entry *e;

	assert_int_equal(addr_parse(&a, addr), 0);
	e = fib_lookup(f, a.family, a.addr);
	return e == NULL ? 0 : e->next_hop[0];
}

static void
test_empty(void **state)
{
	struct fib *f;
	uint8_t a[16] = { 10, 0, 0, 1 };

	assert_null(fib_lookup(NULL, 4, a));
	f = fib_build(NULL, 0, 7, NULL);
	assert_non_null(f);
	assert_int_equal(fib_count(f), 0);
	assert_int_equal(fib_generation(f), 7);
	assert_null(fib_lookup(f, 4, a));
	assert_null(fib_lookup(f, 6, a));
	assert_null(fib_lookup(f, 5, a));
	fib_free(f);
}

static void
test_longest_v4(void **state)
{
	struct fib_entry v[5];
	struct fib *f;

	mkentry(&v[0], "10.0.0.0/8", 1, 1);
	mkentry(&v[1], "10.1.2.3/32", 3, 1);
	mkentry(&v[2], "10.1.0.0/16", 2, 1);
	mkentry(&v[3], "0.0.0.0/0", 9, 1);
	mkentry(&v[4], "192.168.16.0/20", 4, 1);
	f = fib_build(v, 5, 1, NULL);
	assert_non_null(f);
	assert_int_equal(fib_count(f), 5);
	assert_int_equal(who(f, "10.1.2.3"), 3);
	assert_int_equal(who(f, "10.1.2.4"), 2);
	assert_int_equal(who(f, "10.1.255.255"), 2);
	assert_int_equal(who(f, "10.2.0.1"), 1);
	assert_int_equal(who(f, "11.0.0.1"), 9);
	/* /20: 192.168.16.0 .. 192.168.31.255 */
	assert_int_equal(who(f, "192.168.16.1"), 4);
	assert_int_equal(who(f, "192.168.31.255"), 4);
	assert_int_equal(who(f, "192.168.32.0"), 9);
	assert_int_equal(who(f, "192.168.15.255"), 9);
	/* An IPv4 table says nothing about IPv6. */
	assert_int_equal(who(f, "fd00::1"), 0);
	/* Longest first in table order. */
	assert_int_equal(fib_entry_at(f, 0)->dst.len, 32);
	assert_null(fib_entry_at(f, 5));
	fib_free(f);
}

static void
test_longest_v6(void **state)
{
	struct fib_entry v[4];
	struct fib *f;

	mkentry(&v[0], "fd12:3456:789a::/48", 1, 1);
	mkentry(&v[1], "fd12:3456:789a:1::/63", 2, 1);
	mkentry(&v[2], "fd12:3456:789a:1::5/128", 3, 1);
	mkentry(&v[3], "10.0.0.0/8", 7, 1);
	f = fib_build(v, 4, 1, NULL);
	assert_non_null(f);
	assert_int_equal(who(f, "fd12:3456:789a:1::5"), 3);
	assert_int_equal(who(f, "fd12:3456:789a:1::6"), 2);
	/* /63 covers :0 and :1 of the fourth group. */
	assert_int_equal(who(f, "fd12:3456:789a:0::1"), 2);
	assert_int_equal(who(f, "fd12:3456:789a:2::1"), 1);
	assert_int_equal(who(f, "fd12:3456:789b::1"), 0);
	/* The IPv4 entry's bytes do not leak into IPv6 lookups. */
	assert_int_equal(who(f, "a00::"), 0);
	assert_int_equal(who(f, "10.9.9.9"), 7);
	fib_free(f);
}

static void
test_host_bits_and_ties(void **state)
{
	struct fib_entry v[4];
	struct fib *f;

	/* Host bits set in the prefix: the table masks them. */
	mkentry(&v[0], "10.1.2.3/16", 1, 5);
	/* Same prefix, lower cost: wins whatever the order. */
	mkentry(&v[1], "10.1.0.0/16", 2, 3);
	mkentry(&v[2], "10.1.0.0/16", 3, 4);
	mkentry(&v[3], "10.1.0.0/16", 4, 3); /* same cost, higher hop */
	f = fib_build(v, 4, 1, NULL);
	assert_non_null(f);
	assert_int_equal(fib_count(f), 1);
	assert_int_equal(who(f, "10.1.99.1"), 2);
	assert_int_equal(fib_entry_at(f, 0)->dst.addr[2], 0);
	fib_free(f);

	/* Reversed input, same answer. */
	{
		struct fib_entry r[4] = { v[3], v[2], v[1], v[0] };

		f = fib_build(r, 4, 1, NULL);
		assert_non_null(f);
		assert_int_equal(who(f, "10.1.99.1"), 2);
		fib_free(f);
	}
}

static void
test_bad_prefix(void **state)
{
	struct fib_entry v[2];
	const char *why = NULL;

	mkentry(&v[0], "10.0.0.0/8", 1, 1);
	mkentry(&v[1], "10.0.0.0/8", 1, 1);
	v[1].dst.len = 33;
	assert_null(fib_build(v, 2, 1, &why));
	assert_non_null(why);
	v[1].dst.family = 5;
	v[1].dst.len = 8;
	why = NULL;
	assert_null(fib_build(v, 2, 1, &why));
	assert_non_null(why);
	mkentry(&v[1], "fd00::/8", 1, 1);
	v[1].dst.len = 129;
	assert_null(fib_build(v, 2, 1, NULL));
}

static void
mkmsg(struct msg_fib_entry *m, uint32_t gen, const char *pfx, uint8_t who_)
{
	memset(m, 0, sizeof(*m));
	m->generation = gen;
	assert_int_equal(prefix_parse(&m->dst, pfx), 0);
	memset(m->dest, who_, sizeof(m->dest));
	memset(m->next_hop, who_, sizeof(m->next_hop));
	m->cost = 1;
}

static void
test_builder(void **state)
{
	struct fib_builder b;
	struct msg_fib_entry m;
	struct msg_fib_commit c;
	const char *why;
	struct fib *f;

	fib_builder_init(&b);

	/* Entry and commit without a BEGIN. */
	mkmsg(&m, 1, "10.0.0.1/32", 1);
	assert_int_equal(fib_builder_add(&b, &m), -1);
	c.generation = 1;
	c.count = 0;
	why = NULL;
	assert_null(fib_builder_commit(&b, &c, &why));
	assert_non_null(why);

	/* A good table. */
	fib_builder_begin(&b, 5);
	mkmsg(&m, 5, "10.0.0.1/32", 1);
	assert_int_equal(fib_builder_add(&b, &m), 0);
	mkmsg(&m, 5, "fd00::1/128", 2);
	assert_int_equal(fib_builder_add(&b, &m), 0);
	c.generation = 5;
	c.count = 2;
	f = fib_builder_commit(&b, &c, &why);
	assert_non_null(f);
	assert_int_equal(fib_generation(f), 5);
	assert_int_equal(who(f, "10.0.0.1"), 1);
	assert_int_equal(who(f, "fd00::1"), 2);
	fib_free(f);

	/* Count differs from what arrived (an entry was lost). */
	fib_builder_begin(&b, 6);
	mkmsg(&m, 6, "10.0.0.1/32", 1);
	assert_int_equal(fib_builder_add(&b, &m), 0);
	c.generation = 6;
	c.count = 2;
	why = NULL;
	assert_null(fib_builder_commit(&b, &c, &why));
	assert_non_null(why);

	/* An entry of another generation spoils the table. */
	fib_builder_begin(&b, 7);
	mkmsg(&m, 6, "10.0.0.1/32", 1);
	assert_int_equal(fib_builder_add(&b, &m), -1);
	mkmsg(&m, 7, "10.0.0.2/32", 1);
	assert_int_equal(fib_builder_add(&b, &m), 0);
	c.generation = 7;
	c.count = 1;
	assert_null(fib_builder_commit(&b, &c, &why));

	/* Commit of another generation. */
	fib_builder_begin(&b, 8);
	c.generation = 9;
	c.count = 0;
	assert_null(fib_builder_commit(&b, &c, &why));

	/* A new BEGIN drops a half-received table. */
	fib_builder_begin(&b, 10);
	mkmsg(&m, 10, "10.0.0.1/32", 1);
	assert_int_equal(fib_builder_add(&b, &m), 0);
	fib_builder_begin(&b, 11);
	mkmsg(&m, 11, "10.0.0.3/32", 3);
	assert_int_equal(fib_builder_add(&b, &m), 0);
	c.generation = 11;
	c.count = 1;
	f = fib_builder_commit(&b, &c, &why);
	assert_non_null(f);
	assert_int_equal(who(f, "10.0.0.1"), 0);
	assert_int_equal(who(f, "10.0.0.3"), 3);
	fib_free(f);

	/* A bad prefix in an entry spoils the table. */
	fib_builder_begin(&b, 12);
	mkmsg(&m, 12, "10.0.0.1/32", 1);
	m.dst.len = 40;
	assert_int_equal(fib_builder_add(&b, &m), -1);
	c.generation = 12;
	c.count = 0;
	assert_null(fib_builder_commit(&b, &c, &why));

	fib_builder_free(&b);
}

/* Brute force: the longest covering prefix, ties by (cost, next_hop). */
static int
covers(const struct prefix *p, int family, const uint8_t *a)
{
	unsigned i;

	if (p->family != family)
		return 0;
	for (i = 0; i < p->len; i++) {
		int bit = 0x80 >> (i % 8);

		if ((p->addr[i / 8] & bit) != (a[i / 8] & bit))
			return 0;
	}
	return 1;
}

static const struct fib_entry *
brute(const struct fib_entry *v, size_t n, int family, const uint8_t *a)
{
	const struct fib_entry *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!covers(&v[i].dst, family, a))
			continue;
		if (best == NULL || v[i].dst.len > best->dst.len ||
		    (v[i].dst.len == best->dst.len &&
		    (v[i].cost < best->cost || (v[i].cost == best->cost &&
		    memcmp(v[i].next_hop, best->next_hop, 32) < 0))))
			best = &v[i];
	}
	return best;
}

static void
test_random_vs_brute(void **state)
{
	enum { N = 600, Q = 20000 };
	struct fib_entry *v = calloc(N, sizeof(*v));
	struct fib *f;
	size_t i, j;

	assert_non_null(v);
	srand(12345);
	for (i = 0; i < N; i++) {
		int fam = (rand() % 3) ? 4 : 6;
		unsigned maxlen = fam == 4 ? 32 : 128, k;

		v[i].dst.family = (uint8_t)fam;
		/* Few distinct top bytes so prefixes nest a lot. */
		v[i].dst.addr[0] = (uint8_t)(10 + rand() % 3);
		for (k = 1; k < (fam == 4 ? 4u : 16u); k++)
			v[i].dst.addr[k] = (uint8_t)(rand() % 4);
		v[i].dst.len = (uint8_t)(rand() % (maxlen + 1));
		/* Clear host bits so brute() and the table agree. */
		for (k = v[i].dst.len; k < maxlen; k++)
			v[i].dst.addr[k / 8] &= (uint8_t)~(0x80 >> (k % 8));
		v[i].cost = (uint32_t)(rand() % 3);
		memset(v[i].next_hop, rand() % 250 + 1, 32);
		memcpy(v[i].dest, v[i].next_hop, 32);
	}
	f = fib_build(v, N, 1, NULL);
	assert_non_null(f);
	for (j = 0; j < Q; j++) {
		uint8_t a[16];
		int fam = (rand() % 2) ? 4 : 6;
		const struct fib_entry *x, *y;
		unsigned k;

		a[0] = (uint8_t)(10 + rand() % 3);
		for (k = 1; k < 16; k++)
			a[k] = (uint8_t)(rand() % 4);
		x = fib_lookup(f, fam, a);
		y = brute(v, N, fam, a);
		if (y == NULL) {
			assert_null(x);
			continue;
		}
		assert_non_null(x);
		assert_int_equal(x->dst.len, y->dst.len);
		assert_memory_equal(x->next_hop, y->next_hop, 32);
		assert_int_equal(x->cost, y->cost);
	}
	fib_free(f);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_longest_v4),
		cmocka_unit_test(test_longest_v6),
		cmocka_unit_test(test_host_bits_and_ties),
		cmocka_unit_test(test_bad_prefix),
		cmocka_unit_test(test_builder),
		cmocka_unit_test(test_random_vs_brute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
