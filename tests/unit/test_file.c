/*
 * file.c: atomic writes leave the exact content and mode and no
 * temporary behind; a failed write leaves the old file as it was;
 * file_create_excl never replaces; file_read bounds; mkdir_p modes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/file.h"
#include "proto/privdrop.h"

struct fx {
	char dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/om-test-file.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static void
rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; "
	    "rm -rf '%s'", dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Number of directory entries other than . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic(void **state)
{
	struct fx *f = *state;
	char path[128], *got;
	struct stat st;
	size_t len;
	mode_t old = umask(077);

	snprintf(path, sizeof(path), "%s/conf", f->dir);
	assert_int_equal(file_write_atomic(path, "one\n", 4, 0644), 0);
	got = file_read(path, 100, &len);
	assert_non_null(got);
	assert_int_equal(len, 4);
	assert_string_equal(got, "one\n");
	free(got);
	assert_int_equal(stat(path, &st), 0);
	/* The mode asked for, not narrowed by the umask. */
	assert_int_equal(st.st_mode & 07777, 0644);

	/* Replace: new content, new mode, and only one file in the dir. */
	assert_int_equal(file_write_atomic(path, "second\n", 7, 0600), 0);
	got = file_read(path, 100, &len);
	assert_non_null(got);
	assert_string_equal(got, "second\n");
	free(got);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(f->dir), 1);

	/* Empty content is a valid file too. */
	assert_int_equal(file_write_atomic(path, "", 0, 0600), 0);
	got = file_read(path, 100, &len);
	assert_non_null(got);
	assert_int_equal(len, 0);
	free(got);
	umask(old);
}

static void
test_write_readonly_dir(void **state)
{
	struct fx *f = *state;
	char sub[128], path[160], *got;
	pid_t pid;
	int rc, status;

	snprintf(sub, sizeof(sub), "%s/ro", f->dir);
	snprintf(path, sizeof(path), "%s/record", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(file_write_atomic(path, "old\n", 4, 0600), 0);
	assert_int_equal(chmod(sub, 0500), 0);
	/* In a child that has dropped every capability, so that root
	 * (CAP_DAC_OVERRIDE) meets the directory's mode like anyone. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (privdrop(getuid(), getgid()) == -1)
			_exit(3);
		errno = 0;
		rc = file_write_atomic(path, "new\n", 4, 0600);
		_exit(rc == -1 && errno == EACCES ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(chmod(sub, 0700), 0);
	got = file_read(path, 100, NULL);
	assert_non_null(got);
	assert_string_equal(got, "old\n");
	free(got);
	assert_int_equal(count_entries(sub), 1);
}

static void
test_write_rename_fails(void **state)
{
	struct fx *f = *state;
	char path[128];

	/* The target is a non-empty directory: the temporary is written,
	 * rename fails, and the temporary must be gone afterwards. */
	snprintf(path, sizeof(path), "%s/d", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/d/keep", f->dir);
	assert_int_equal(file_write_atomic(path, "k", 1, 0600), 0);
	snprintf(path, sizeof(path), "%s/d", f->dir);
	assert_int_equal(file_write_atomic(path, "x", 1, 0600), -1);
	assert_int_equal(count_entries(f->dir), 1);
}

static void
test_create_excl(void **state)
{
	struct fx *f = *state;
	char path[128], *got;

	snprintf(path, sizeof(path), "%s/identity", f->dir);
	assert_int_equal(file_create_excl(path, "first\n", 6, 0600), 0);
	errno = 0;
	assert_int_equal(file_create_excl(path, "other\n", 6, 0600), -1);
	assert_int_equal(errno, EEXIST);
	got = file_read(path, 100, NULL);
	assert_non_null(got);
	assert_string_equal(got, "first\n");
	free(got);
	assert_int_equal(count_entries(f->dir), 1);
}

static void
test_read_bounds(void **state)
{
	struct fx *f = *state;
	char path[128];
	size_t len = 99;

	snprintf(path, sizeof(path), "%s/big", f->dir);
	assert_int_equal(file_write_atomic(path, "0123456789", 10, 0600), 0);
	errno = 0;
	assert_null(file_read(path, 9, &len));
	assert_int_equal(errno, EFBIG);
	assert_int_equal(len, 0);
	char *got = file_read(path, 10, &len);
	assert_non_null(got);
	assert_int_equal(len, 10);
	free(got);
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	errno = 0;
	assert_null(file_read(path, 10, NULL));
	assert_int_equal(errno, ENOENT);
	/* A directory is not a file to read. */
	errno = 0;
	assert_null(file_read(f->dir, 10, NULL));
	assert_int_equal(errno, EISDIR);
}

static void
test_mkdir_p(void **state)
{
	struct fx *f = *state;
	char path[160], file[200];
	struct stat st;
	mode_t old = umask(022);

	snprintf(path, sizeof(path), "%s/a/b//c/", f->dir);
	assert_int_equal(mkdir_p(path, 0770), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Group bits survive the umask: a run dir needs them. */
	assert_int_equal(st.st_mode & 07777, 0770);
	/* Again: nothing to do, no error. */
	assert_int_equal(mkdir_p(path, 0770), 0);
	/* A file in the way is an error, not a directory. */
	snprintf(file, sizeof(file), "%s/f", f->dir);
	assert_int_equal(file_write_atomic(file, "", 0, 0600), 0);
	snprintf(path, sizeof(path), "%s/f/sub", f->dir);
	errno = 0;
	assert_int_equal(mkdir_p(path, 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	umask(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_readonly_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_rename_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_excl, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_bounds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
