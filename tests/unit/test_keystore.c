/*
 * keystore.c: the identity and the onion service key are each created
 * once and then kept; the files have the documented format and modes; a
 * file others can read, or one in another format, is refused with a
 * message naming the path and what is wrong. The onion key is its own
 * key (not the identity's) and loads into what tor's ADD_ONION needs.
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
#include "proto/onion.h"

struct fx {
	char dir[64];
	char keys[96];
	char id[128];
	char onion[128];
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
	snprintf(f->onion, sizeof(f->onion), "%s/onion", f->keys);
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

static void
test_onion_ensure_once(void **state)
{
	struct fx *f = *state;
	uint8_t pk1[ONION_PK_BYTES], pk2[ONION_PK_BYTES], zero[32] = {0};
	uint8_t idpk[crypto_sign_PUBLICKEYBYTES];
	char err[512], addr[ONION_ADDR_LEN + 1], *text;
	char blob[ONION_BLOB_LEN + 1], why[256];
	struct onion_key k, back;
	struct stat st;
	size_t len;

	assert_int_equal(keystore_onion_ensure(f->keys, pk1), 0);
	assert_memory_not_equal(pk1, zero, sizeof(zero));
	/* Kept, not replaced: the address must never change. */
	assert_int_equal(keystore_onion_ensure(f->keys, pk2), 1);
	assert_memory_equal(pk1, pk2, sizeof(pk1));
	assert_int_equal(keystore_onion_ensure(f->keys, NULL), 1);

	assert_int_equal(stat(f->keys, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->onion, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = file_read(f->onion, 200, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen("ed25519-seed ") + 64 + 1);
	assert_memory_equal(text, "ed25519-seed ", 13);
	assert_int_equal(text[len - 1], '\n');
	sodium_memzero(text, len);
	free(text);

	/* Its own key, not the identity's. */
	assert_int_equal(keystore_identity_ensure(f->keys, idpk), 0);
	assert_memory_not_equal(idpk, pk1, sizeof(pk1));
	assert_int_equal(keystore_onion_ensure(f->keys, pk2), 1);
	assert_memory_equal(pk1, pk2, sizeof(pk1));

	/* load: the same public key, and a blob tor's parser takes back
	 * to the same key. */
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    0);
	assert_memory_equal(k.pk, pk1, sizeof(pk1));
	onion_addr_from_pk(addr, k.pk);
	assert_true(onion_addr_valid(addr));
	assert_int_equal(onion_key_blob(blob, sizeof(blob), &k), 0);
	assert_int_equal(onion_key_from_blob(&back, blob, why, sizeof(why)),
	    0);
	assert_memory_equal(back.pk, pk1, sizeof(pk1));
	assert_memory_equal(back.expanded, k.expanded, sizeof(k.expanded));
	onion_key_wipe(&k);
	onion_key_wipe(&back);
	sodium_memzero(blob, sizeof(blob));
}

/* Issue 15: keys/client-auth, made once, its own key, tor's x25519. */
static void
test_client_auth_key(void **state)
{
	struct fx *f = *state;
	uint8_t pk1[ONION_AUTH_KEY_BYTES], pk2[ONION_AUTH_KEY_BYTES];
	uint8_t sk[ONION_AUTH_KEY_BYTES], want[ONION_AUTH_KEY_BYTES];
	uint8_t opk[ONION_PK_BYTES];
	char path[160], err[512], *text;
	struct stat st;
	size_t len;

	assert_int_equal(keystore_client_auth_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "client-auth"));
	assert_int_equal(keystore_client_auth_ensure(f->keys, pk1), 0);
	assert_int_equal(keystore_client_auth_ensure(f->keys, pk2), 1);
	assert_memory_equal(pk1, pk2, sizeof(pk1));
	snprintf(path, sizeof(path), "%s/client-auth", f->keys);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = file_read(path, 200, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen("x25519-secret ") + 64 + 1);
	assert_memory_equal(text, "x25519-secret ", 14);
	sodium_memzero(text, len);
	free(text);
	assert_int_equal(keystore_client_auth_load(f->keys, sk, err,
	    sizeof(err)), 0);
	assert_int_equal(crypto_scalarmult_curve25519_base(want, sk), 0);
	assert_memory_equal(want, pk1, sizeof(want));
	/* Not the onion key's. */
	assert_int_equal(keystore_onion_ensure(f->keys, opk), 0);
	assert_memory_not_equal(opk, pk1, sizeof(pk1));
	/* An ed25519 line is not an x25519 one, and the mode is checked. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(file_create_excl(path, "ed25519-seed 000000000000"
	    "0000000000000000000000000000000000000000000000000000\n", 78,
	    0600), 0);
	assert_int_equal(keystore_client_auth_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "\"x25519-secret\""));
	assert_int_equal(keystore_client_auth_ensure(f->keys, NULL), -1);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(keystore_client_auth_load(f->keys, sk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "0640"));
	sodium_memzero(sk, sizeof(sk));
}

static void
test_onion_known_seed(void **state)
{
	struct fx *f = *state;
	uint8_t seed[ONION_SEED_BYTES], pk[ONION_PK_BYTES];
	char line[128], hex[2 * ONION_SEED_BYTES + 1], err[512];
	struct onion_key want, got;
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(onion_key_from_seed(&want, seed), 0);
	sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
	snprintf(line, sizeof(line), "ed25519-seed %s\n", hex);
	assert_int_equal(mkdir(f->keys, 0700), 0);
	assert_int_equal(file_write_atomic(f->onion, line, strlen(line),
	    0600), 0);
	assert_int_equal(keystore_onion_ensure(f->keys, pk), 1);
	assert_memory_equal(pk, want.pk, sizeof(pk));
	assert_int_equal(keystore_onion_load(f->keys, &got, err,
	    sizeof(err)), 0);
	assert_memory_equal(got.pk, want.pk, sizeof(want.pk));
	assert_memory_equal(got.expanded, want.expanded,
	    sizeof(want.expanded));
	/* The identity file is not touched by any of this. */
	assert_int_equal(access(f->id, F_OK), -1);
	onion_key_wipe(&want);
	onion_key_wipe(&got);
}

static void
test_onion_refused(void **state)
{
	struct fx *f = *state;
	struct onion_key k;
	char err[512] = "", line[128], real[160];

	/* Missing: the message names the file. */
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, f->onion));
	assert_non_null(strstr(err, "onion service key"));

	/* Readable by others: refused, and ensure does not replace it. */
	assert_int_equal(keystore_onion_ensure(f->keys, NULL), 0);
	assert_int_equal(chmod(f->onion, 0640), 0);
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, f->onion));
	assert_non_null(strstr(err, "0640"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(keystore_onion_ensure(f->keys, NULL), -1);

	/* Another format: refused, never echoed. */
	snprintf(line, sizeof(line), "ED25519-V3:%064d\n", 7);
	assert_int_equal(file_write_atomic(f->onion, line, strlen(line),
	    0600), 0);
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "format"));
	assert_null(strstr(err, "0000007"));
	assert_int_equal(keystore_onion_ensure(f->keys, NULL), -1);
	snprintf(line, sizeof(line), "ed25519-seed %063d\n", 0);
	assert_int_equal(file_write_atomic(f->onion, line, strlen(line),
	    0600), 0);
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "format"));

	/* A symbolic link. */
	snprintf(line, sizeof(line), "ed25519-seed %064d\n", 0);
	snprintf(real, sizeof(real), "%s/real", f->keys);
	assert_int_equal(file_write_atomic(real, line, strlen(line), 0600),
	    0);
	assert_int_equal(unlink(f->onion), 0);
	assert_int_equal(symlink(real, f->onion), 0);
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "symbolic link"));
	/* And the right one, in place, loads. */
	assert_int_equal(unlink(f->onion), 0);
	assert_int_equal(rename(real, f->onion), 0);
	assert_int_equal(keystore_onion_load(f->keys, &k, err, sizeof(err)),
	    0);
	onion_key_wipe(&k);
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
		cmocka_unit_test_setup_teardown(test_client_auth_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_onion_ensure_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_onion_known_seed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_onion_refused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
