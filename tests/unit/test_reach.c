/*
 * Unit tests for proto/reach.c: whether a daemon's user can reach its
 * folders. The mode rule is checked on made-up stat results (owner bits
 * win even when they allow less, group bits for any group in the set,
 * root passes folders); the walk on a real tree under a temporary folder,
 * with uids and gids no file here has, so it runs the same as root or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/reach.h"

static struct stat
mk(uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_uid = uid;
	st.st_gid = gid;
	st.st_mode = S_IFDIR | mode;
	return st;
}

static void
test_mode_rule(void **state)
{
	gid_t g[2] = {500, 600};
	struct reach_who who = {1000, g, 2};
	struct reach_who root = {0, g, 1};
	struct stat st;

	(void)state;
	st = mk(0, 0, 0755);
	assert_int_equal(reach_mode_allows(&st, &who, X_OK), 1);
	assert_int_equal(reach_mode_allows(&st, &who, W_OK | X_OK), 0);
	st = mk(0, 0, 0700);
	assert_int_equal(reach_mode_allows(&st, &who, X_OK), 0);
	assert_int_equal(reach_mode_allows(&st, &root, R_OK | W_OK | X_OK),
	    1);
	/* Any group of the set, not only the first. */
	st = mk(0, 600, 0770);
	assert_int_equal(reach_mode_allows(&st, &who, W_OK | X_OK), 1);
	st = mk(0, 700, 0770);
	assert_int_equal(reach_mode_allows(&st, &who, X_OK), 0);
	/* The owner's bits decide for the owner, even when the group's
	 * or the others' would allow more. */
	st = mk(1000, 500, 0077);
	assert_int_equal(reach_mode_allows(&st, &who, X_OK), 0);
	/* The group's bits decide for a member, even when others may. */
	st = mk(0, 500, 0701);
	assert_int_equal(reach_mode_allows(&st, &who, X_OK), 0);
	/* o+x only: pass through, not list (the run dir's 03771). */
	st = mk(0, 0, 03771);
	assert_int_equal(reach_mode_allows(&st, &who, X_OK), 1);
	assert_int_equal(reach_mode_allows(&st, &who, R_OK), 0);
	/* Root executes a file only with some x bit. */
	st = mk(0, 0, 0644);
	st.st_mode = S_IFREG | 0644;
	assert_int_equal(reach_mode_allows(&st, &root, X_OK), 0);
}

static void
test_walk(void **state)
{
	char base[] = "/tmp/om-reach.XXXXXX", p[256], why[512];
	gid_t g[1] = {54321};
	struct reach_who who = {54321, g, 1};

	(void)state;
	assert_non_null(mkdtemp(base));
	assert_int_equal(chmod(base, 0755), 0);
	snprintf(p, sizeof(p), "%s/a", base);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b", base);
	assert_int_equal(mkdir(p, 0755), 0);

	/* a is 0700 and not ours: b cannot be reached, and why names a. */
	snprintf(p, sizeof(p), "%s/a/b", base);
	assert_int_equal(reach_path(p, &who, R_OK | W_OK | X_OK, why,
	    sizeof(why)), -1);
	snprintf(p, sizeof(p), "%s/a is owner", base);
	assert_non_null(strstr(why, p));
	assert_non_null(strstr(why, "mode 0700"));
	assert_non_null(strstr(why, "to pass through it"));

	/* o+x on a: through it, and b itself wants w it does not give. */
	snprintf(p, sizeof(p), "%s/a", base);
	assert_int_equal(chmod(p, 0711), 0);
	snprintf(p, sizeof(p), "%s/a/b/", base);
	assert_int_equal(reach_path(p, &who, X_OK, why, sizeof(why)), 0);
	assert_int_equal(reach_path(p, &who, W_OK | X_OK, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "mode 0755: no wx"));
	assert_null(strstr(why, "pass through"));

	/* What does not exist yet stops the walk. */
	snprintf(p, sizeof(p), "%s/a/b/c/d", base);
	assert_int_equal(reach_path(p, &who, W_OK, why, sizeof(why)), 0);
	/* Root passes anything; a relative path is an error. */
	who.uid = 0;
	snprintf(p, sizeof(p), "%s/a", base);
	assert_int_equal(chmod(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b", base);
	assert_int_equal(reach_path(p, &who, W_OK, why, sizeof(why)), 0);
	assert_int_equal(reach_path("a/b", &who, X_OK, why, sizeof(why)),
	    -1);
	assert_int_equal(reach_path("/", &who, X_OK, why, sizeof(why)), 0);

	snprintf(p, sizeof(p), "%s/a/b", base);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", base);
	rmdir(p);
	rmdir(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_rule),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
