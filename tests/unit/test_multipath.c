/*
 * Multipath scheduling. Sticky (TCP): every packet on the first
 * established link while it stays up, whatever the backlogs; on to the
 * next-oldest when it goes down, and no switching back. Stripe (Tor
 * circuits, later): least backlog, taking turns between equals, never a
 * link that is down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/multipath.h"

static void
test_none(void **state)
{
	struct mp_sched m;
	struct mp_path a = { 0 }, b = { 0 };
	struct mp_path *v[2] = { &a, &b };

	mp_init(&m, MP_STICKY);
	assert_int_equal(mp_select(&m, v, 0), -1);
	assert_int_equal(mp_select(&m, v, 2), -1);   /* both down */
	mp_init(&m, MP_STRIPE);
	assert_int_equal(mp_select(&m, v, 2), -1);
	assert_int_equal(a.sent + b.sent, 0);
}

static void
test_sticky(void **state)
{
	struct mp_sched m;
	struct mp_path a = { 0 }, b = { 0 }, c = { 0 };
	struct mp_path *v[3] = { &a, &b, &c };
	int i;

	mp_init(&m, MP_STICKY);
	/* b came up first, though it is not first in the array. */
	a.up = 1;
	a.t_up = 20;
	b.up = 1;
	b.t_up = 10;
	c.up = 1;
	c.t_up = 30;
	for (i = 0; i < 100; i++) {
		/* Backlog must not move it: no reordering for TCP. */
		b.backlog = (size_t)i * 100000;
		assert_int_equal(mp_select(&m, v, 3), 1);
	}
	assert_int_equal(b.sent, 100);
	assert_int_equal(a.sent + c.sent, 0);

	/* b goes down: the oldest remaining (a). */
	b.up = 0;
	assert_int_equal(mp_select(&m, v, 3), 0);
	/* b comes back (older t_up kept): stay on a, no flapping. */
	b.up = 1;
	assert_int_equal(mp_select(&m, v, 3), 0);
	assert_int_equal(mp_select(&m, v, 3), 0);

	/* a closes and the array shifts: forget it first. */
	mp_forget(&m, &a);
	v[0] = &c;      /* now { c, b } */
	assert_int_equal(mp_select(&m, v, 2), 1);       /* b, older */
	assert_int_equal(mp_select(&m, v, 2), 1);
}

static void
test_sticky_tie(void **state)
{
	struct mp_sched m;
	struct mp_path a = { 0 }, b = { 0 };
	struct mp_path *v[2] = { &a, &b };

	mp_init(&m, MP_STICKY);
	a.up = b.up = 1;
	a.t_up = b.t_up = 5;
	assert_int_equal(mp_select(&m, v, 2), 0);
	/* Forgetting an unrelated path changes nothing. */
	mp_forget(&m, &b);
	assert_int_equal(mp_select(&m, v, 2), 0);
	/* Forgetting the current one: chosen afresh (same rule). */
	mp_forget(&m, &a);
	assert_int_equal(mp_select(&m, v, 2), 0);
}

static void
test_stripe(void **state)
{
	struct mp_sched m;
	struct mp_path p[4];
	struct mp_path *v[4];
	int i, count[4] = { 0 };

	memset(p, 0, sizeof(p));
	for (i = 0; i < 4; i++) {
		v[i] = &p[i];
		p[i].up = 1;
		p[i].t_up = i;
	}
	mp_init(&m, MP_STRIPE);
	/* Least backlog wins. */
	p[0].backlog = 300;
	p[1].backlog = 100;
	p[2].backlog = 200;
	p[3].backlog = 400;
	assert_int_equal(mp_select(&m, v, 4), 1);
	p[1].backlog = 1000;
	assert_int_equal(mp_select(&m, v, 4), 2);
	/* A down link is never chosen, even idle. */
	p[2].up = 0;
	p[2].backlog = 0;
	assert_int_equal(mp_select(&m, v, 4), 0);

	/* Equal backlogs: every up link gets its turn. */
	p[2].up = 1;
	for (i = 0; i < 4; i++)
		p[i].backlog = 0;
	for (i = 0; i < 400; i++)
		count[mp_select(&m, v, 4)]++;
	for (i = 0; i < 4; i++)
		assert_int_equal(count[i], 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_sticky_tie),
		cmocka_unit_test(test_stripe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
