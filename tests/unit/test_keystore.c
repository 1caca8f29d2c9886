/*
 * keystore.c: the identity is created once and then kept; the file has
 * the documented format and modes; a file others can read, or one in
 * another format, is refused with a message naming the path and what
 * is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/file.h"
#include "proto/keystore.h"

struct fx {
	char dir[64];
	char keys[96];
	char id[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	strcpy(f->dir, "/tmp/om-test-keystore.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->keys, sizeof(f->keys), "%s/keys", f->dir);
	snprintf(f->id, sizeof(f->id), "%s/identity", f->keys);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->dir);
	free(f);
	return 0;
}

static void
test_ensure_once(void **state)
{
	struct fx *f = *state;
	uint8_t pk1[crypto_sign_PUBLICKEYBYTES], pk2[sizeof(pk1)];
	uint8_t sk[crypto_sign_SECRETKEYBYTES], chk[sizeof(pk1)];
	uint8_t zero[sizeof(pk1)] = {0};
	char err[512], *text;
	struct stat st;
	size_t len;

	assert_int_equal(keystore_identity_ensure(f->keys, pk1), 0);
	assert_memory_not_equal(pk1, zero, sizeof(zero));
	/* Second call: the same key, not a new one. */
	assert_int_equal(keystore_identity_ensure(f->keys, pk2), 1);
	assert_memory_equal(pk1, pk2, sizeof(pk1));

	assert_int_equal(stat(f->keys, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->id, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	text = file_read(f->id, 200, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen("ed25519-seed ") + 64 + 1);
	assert_memory_equal(text, "ed25519-seed ", 13);
	assert_int_equal(text[len - 1], '\n');
	sodium_memzero(text, len);
	free(text);

	/* load gives the secret key of the same public key. */
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), 0);
	crypto_sign_ed25519_sk_to_pk(chk, sk);
	assert_memory_equal(chk, pk1, sizeof(pk1));
	/* And it signs what the public key verifies. */
	{
		uint8_t sig[crypto_sign_BYTES];

		crypto_sign_detached(sig, NULL, (const uint8_t *)"m", 1, sk);
		assert_int_equal(crypto_sign_verify_detached(sig,
		    (const uint8_t *)"m", 1, pk1), 0);
	}
}

static void
test_known_seed(void **state)
{
	struct fx *f = *state;
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES], got[sizeof(pk)];
	char line[128], hex[2 * sizeof(seed) + 1], err[512];
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
	snprintf(line, sizeof(line), "ed25519-seed %s\n", hex);
	assert_int_equal(mkdir(f->keys, 0700), 0);
	assert_int_equal(file_write_atomic(f->id, line, strlen(line), 0600),
	    0);
	/* ensure keeps an existing file and reports its key. */
	assert_int_equal(keystore_identity_ensure(f->keys, got), 1);
	assert_memory_equal(got, pk, sizeof(pk));
	memset(sk, 0, sizeof(sk));
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), 0);
	assert_memory_equal(sk, seed, sizeof(seed));
	assert_memory_equal(sk + 32, pk, sizeof(pk));
}

static void
test_bad_permissions(void **state)
{
	struct fx *f = *state;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char err[512] = "";

	assert_int_equal(keystore_identity_ensure(f->keys, pk), 0);
	assert_int_equal(chmod(f->id, 0640), 0);
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, f->id));
	assert_non_null(strstr(err, "0640"));
	assert_non_null(strstr(err, "chmod 600"));
	/* ensure must not quietly replace it either. */
	assert_int_equal(keystore_identity_ensure(f->keys, pk), -1);
	assert_int_equal(chmod(f->id, 0604), 0);
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_int_equal(chmod(f->id, 0600), 0);
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), 0);
}

static void
check_garbage(struct fx *f, const char *content, size_t len)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	char err[512] = "";

	assert_int_equal(file_write_atomic(f->id, content, len, 0600), 0);
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, f->id));
	assert_non_null(strstr(err, "format"));
	assert_int_equal(keystore_identity_ensure(f->keys, pk), -1);
}

static void
test_garbage(void **state)
{
	struct fx *f = *state;
	char line[128];

	assert_int_equal(mkdir(f->keys, 0700), 0);
	check_garbage(f, "", 0);
	check_garbage(f, "hello\n", 6);
	/* Right shape, one hex digit short. */
	snprintf(line, sizeof(line), "ed25519-seed %063d\n", 0);
	check_garbage(f, line, strlen(line));
	/* Not hex. */
	snprintf(line, sizeof(line), "ed25519-seed %063dz\n", 0);
	check_garbage(f, line, strlen(line));
	/* No newline. */
	snprintf(line, sizeof(line), "ed25519-seed %064d", 0);
	check_garbage(f, line, strlen(line));
	/* Trailing data. */
	snprintf(line, sizeof(line), "ed25519-seed %064d\nx", 0);
	check_garbage(f, line, strlen(line));
	/* Wrong key type. */
	snprintf(line, sizeof(line), "x25519-seed0 %064d\n", 0);
	check_garbage(f, line, strlen(line));
	/* And the right one loads. */
	{
		uint8_t sk[crypto_sign_SECRETKEYBYTES];
		char err[512];

		snprintf(line, sizeof(line), "ed25519-seed %064d\n", 0);
		assert_int_equal(file_write_atomic(f->id, line, strlen(line),
		    0600), 0);
		assert_int_equal(keystore_identity_load(f->keys, sk, err,
		    sizeof(err)), 0);
	}
}

static void
test_missing(void **state)
{
	struct fx *f = *state;
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char err[512] = "";

	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, f->id));
}

static void
test_symlink_refused(void **state)
{
	struct fx *f = *state;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char err[512] = "", real[160];

	assert_int_equal(keystore_identity_ensure(f->keys, pk), 0);
	snprintf(real, sizeof(real), "%s/real", f->keys);
	assert_int_equal(rename(f->id, real), 0);
	assert_int_equal(symlink(real, f->id), 0);
	assert_int_equal(keystore_identity_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ensure_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_known_seed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_permissions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
