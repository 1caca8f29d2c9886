/*
 * Unit tests for proto/errbuf.c: the error buffer every parser in proto/
 * fills. It must format like snprintf, cut to the buffer, accept no
 * buffer at all, always say -1, and err_wipe must leave nothing of the
 * half-filled struct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/errbuf.h"

static void
test_set(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(err_set(err, sizeof(err), "%s=%d", "x", 42), -1);
	assert_string_equal(err, "x=42");
	/* Cut to the buffer, still terminated. */
	assert_int_equal(err_set(err, sizeof(err), "%s", "0123456789"), -1);
	assert_string_equal(err, "0123456");
	/* No buffer: nothing written, still -1. */
	assert_int_equal(err_set(NULL, 0, "%d", 1), -1);
	err[0] = 'k';
	assert_int_equal(err_set(err, 0, "%d", 1), -1);
	assert_int_equal(err[0], 'k');
}

static void
test_wipe(void **state)
{
	struct { int a; char b[5]; } obj = { 7, "abcd" };
	char err[32];

	(void)state;
	assert_int_equal(err_wipe(&obj, sizeof(obj), err, sizeof(err),
	    "line %d", 3), -1);
	assert_string_equal(err, "line 3");
	assert_int_equal(obj.a, 0);
	assert_int_equal(obj.b[0], 0);
	obj.a = 1;
	assert_int_equal(err_wipe(&obj, sizeof(obj), NULL, 0, "x"), -1);
	assert_int_equal(obj.a, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
