/*
 * Unit tests for proto/prefixset.c and proto/array.c: the sorted prefix
 * sets routed builds its subnet routes in and tund keeps its device
 * routes in, and the doubling step every growing table uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/array.h"
#include "proto/prefixset.h"

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(&p, s), 0);
	return p;
}

static void
test_order(void **state)
{
	struct prefix a = pfx("10.0.0.0/8"), b = pfx("10.0.0.0/16");
	struct prefix c = pfx("11.0.0.0/8"), d = pfx("fd00::/8");

	/* address before length, IPv4 before IPv6 */
	assert_true(prefix_cmp(&a, &b) < 0);
	assert_true(prefix_cmp(&b, &c) < 0);
	assert_true(prefix_cmp(&c, &d) < 0);
	assert_true(prefix_cmp(&d, &a) > 0);
	assert_int_equal(prefix_cmp(&a, &a), 0);
	/* Bytes past an IPv4 address do not count. */
	b = a;
	memset(b.addr + 4, 0xee, sizeof(b.addr) - 4);
	assert_int_equal(prefix_cmp(&a, &b), 0);
}

static void
test_set(void **state)
{
	struct prefix_set s, t;
	struct prefix dirty = pfx("192.168.1.0/24"), first;
	const char *in[] = {"fd00::/64", "10.1.0.0/16", "10.1.0.0/16",
	    "10.0.0.0/8", "fd00::/64", "10.1.0.0/24"};
	size_t i;

	prefix_set_init(&s);
	prefix_set_init(&t);
	assert_false(prefix_set_has(&s, &dirty));
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct prefix p = pfx(in[i]);

		assert_int_equal(prefix_set_add(&s, &p), 0);
	}
	assert_int_equal(s.n, 6);
	prefix_set_sort(&s);
	/* sorted, without repeats */
	assert_int_equal(s.n, 4);
	for (i = 1; i < s.n; i++)
		assert_true(prefix_cmp(&s.v[i - 1], &s.v[i]) < 0);
	first = pfx("10.0.0.0/8");
	assert_int_equal(prefix_cmp(&s.v[0], &first), 0);
	assert_true(prefix_set_has(&s, &(struct prefix){
	    .family = 6, .len = 64, .addr = {0xfd}}));
	assert_false(prefix_set_has(&s, &dirty));

	/* Stored normalised: what lies past an IPv4 address is zero, so
	 * sets compare element by element. */
	memset(dirty.addr + 4, 0xaa, sizeof(dirty.addr) - 4);
	assert_int_equal(prefix_set_add(&t, &dirty), 0);
	for (i = 4; i < sizeof(t.v[0].addr); i++)
		assert_int_equal(t.v[0].addr[i], 0);
	assert_false(prefix_set_equal(&s, &t));
	prefix_set_clear(&t);
	for (i = 0; i < s.n; i++)
		assert_int_equal(prefix_set_add(&t, &s.v[i]), 0);
	assert_true(prefix_set_equal(&s, &t));
	t.v[3].len++;
	assert_false(prefix_set_equal(&s, &t));

	prefix_set_free(&s);
	prefix_set_free(&t);
	assert_null(s.v);
	assert_int_equal(s.n + s.cap, 0);
}

static void
test_array_room(void **state)
{
	int *v = NULL, *nv;
	size_t n, cap = 0, grew = 0;

	for (n = 0; n < 100; n++) {
		nv = array_room(v, n, &cap, sizeof(*v), 4);
		assert_non_null(nv);
		if (nv != v || n == 0)
			grew++;
		v = nv;
		assert_true(cap > n);
		v[n] = (int)n;
	}
	/* 4, 8, ..., 128: doubling, not one step per element */
	assert_int_equal(cap, 128);
	assert_true(grew <= 6);
	for (n = 0; n < 100; n++)
		assert_int_equal(v[n], (int)n);
	/* With room it hands back the same block and leaves cap alone. */
	assert_ptr_equal(array_room(v, 100, &cap, sizeof(*v), 4), v);
	assert_int_equal(cap, 128);
	/* No memory (a size that overflows): NULL, and p and cap stay. */
	cap = 128;
	assert_null(array_room(v, 128, &cap, SIZE_MAX / 2, 4));
	assert_int_equal(cap, 128);
	assert_int_equal(v[99], 99);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_array_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
