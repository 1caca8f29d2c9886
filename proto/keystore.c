/*
 * The key store: the member's identity key and its onion service key at
 * rest.
 *
 * keys/identity and keys/onion each hold exactly one line,
 * "ed25519-seed <64 hex>\n": a 32-byte Ed25519 seed, from which
 * libsodium rebuilds the 64-byte secret key and the public key (and
 * onion.c tor's expanded key). A seed (not the expanded key) is stored so
 * the file cannot hold a secret and a public half that disagree. The two
 * are separate keys on purpose: an onion address says nothing about the
 * member id it belongs to except through the signed record.
 *
 * The loader is strict, because a key file that is readable by others
 * has leaked and a file in any other format is not ours: it refuses both
 * with a message naming the path and what is wrong, and never echoes the
 * content. Creation goes through file_create_excl(), so two processes
 * racing to create a key end up with the same one.
 */
#include "proto/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/file.h"
#include "proto/log.h"
#include "proto/onion.h"

#define SEED_HEX    (2 * crypto_sign_SEEDBYTES)
#define SEED_LINE_MAX (32 + SEED_HEX + 1)

/* One file of the store: its name, what messages call it and the word
 * its line starts with (with the space). */
struct ks_file {
	const char *name;
	const char *what;
	const char *prefix;
};

static const struct ks_file ks_identity = { "identity", "identity key",
    "ed25519-seed " };
static const struct ks_file ks_onion = { "onion", "onion service key",
    "ed25519-seed " };
static const struct ks_file ks_client_auth = { "client-auth",
    "onion client authorization key", "x25519-secret " };

/* The length of f's one line, with its newline. */
static size_t
ks_line_len(const struct ks_file *f)
{
	return strlen(f->prefix) + SEED_HEX + 1;
}

static int
keystore_path(char *out, size_t cap, const char *keys_dir,
    const struct ks_file *f, char *err, size_t errlen)
{
	int n = snprintf(out, cap, "%s/%s", keys_dir, f->name);

	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen, "key store path %s/%s is too long",
		    keys_dir, f->name);
		return -1;
	}
	return 0;
}

/* Read the seed file at path; err names what is wrong. */
static int
keystore_read_seed(const char *path, const struct ks_file *f,
    uint8_t seed[crypto_sign_SEEDBYTES], char *err, size_t errlen)
{
	char line[SEED_LINE_MAX + 1];
	size_t plen = strlen(f->prefix), want = ks_line_len(f);
	struct stat st;
	size_t have = 0, binlen = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open %s %s: %s", f->what, path,
		    errno == ELOOP ? "it is a symbolic link" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot stat %s %s: %s", f->what, path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", f->what,
		    path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s %s has mode %04o: it must not be "
		    "accessible by group or others (chmod 600 %s, and make a "
		    "new key if others could have read it)", f->what, path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* One byte more than a valid file, to tell "too long" apart. */
	while (have < want + 1) {
		n = read(fd, line + have, want + 1 - have);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read %s %s: %s",
			    f->what, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have != want || memcmp(line, f->prefix, plen) != 0 ||
	    line[want - 1] != '\n' ||
	    sodium_hex2bin(seed, crypto_sign_SEEDBYTES, line + plen,
	    SEED_HEX, NULL, &binlen, NULL) != 0 ||
	    binlen != crypto_sign_SEEDBYTES) {
		snprintf(err, errlen, "%s %s is not in the expected format: "
		    "one line \"%.*s\" followed by %d hex digits",
		    f->what, path, (int)plen - 1, f->prefix, (int)SEED_HEX);
		sodium_memzero(seed, crypto_sign_SEEDBYTES);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(line, sizeof(line));
	close(fd);
	return rc;
}

static int
keystore_load_seed(const char *keys_dir, const struct ks_file *f,
    uint8_t seed[crypto_sign_SEEDBYTES], char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (keystore_path(path, sizeof(path), keys_dir, f, err, errlen) == -1)
		return -1;
	return keystore_read_seed(path, f, seed, err, errlen);
}

/* Write a new random seed unless the file exists: 0 created, 1 it was
 * there (or another process created it first), -1 error (logged). The
 * caller loads it afterwards either way, so a file that exists but is
 * not usable is reported, never replaced. */
static int
keystore_create_seed(const char *keys_dir, const struct ks_file *f)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	char line[SEED_LINE_MAX + 1], path[PATH_MAX], err[512];
	size_t plen = strlen(f->prefix), want = ks_line_len(f);
	int rc;

	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	if (keystore_path(path, sizeof(path), keys_dir, f, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (mkdir_p(keys_dir, 0700) == -1) {
		log_warn("cannot create key store %s", keys_dir);
		return -1;
	}
	if (access(path, F_OK) == 0)
		return 1;
	if (errno != ENOENT) {
		log_warn("cannot check %s %s", f->what, path);
		return -1;
	}
	randombytes_buf(seed, sizeof(seed));
	memcpy(line, f->prefix, plen);
	sodium_bin2hex(line + plen, SEED_HEX + 1, seed, sizeof(seed));
	line[want - 1] = '\n';
	rc = file_create_excl(path, line, want, 0600);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(seed, sizeof(seed));
	if (rc == 0)
		return 0;
	if (errno == EEXIST)
		return 1; /* another process created it first; use theirs */
	log_warn("cannot write %s %s", f->what, path);
	return -1;
}

int
keystore_identity_load(const char *keys_dir,
    uint8_t sk[crypto_sign_SECRETKEYBYTES], char *err, size_t errlen)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	int rc;

	if (keystore_load_seed(keys_dir, &ks_identity, seed, err,
	    errlen) == -1)
		return -1;
	rc = crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0) {
		snprintf(err, errlen, "identity key in %s: cannot derive the "
		    "key pair", keys_dir);
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		return -1;
	}
	return 0;
}

int
keystore_identity_ensure(const char *keys_dir,
    uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char err[512];
	int made;

	if ((made = keystore_create_seed(keys_dir, &ks_identity)) == -1)
		return -1;
	if (keystore_identity_load(keys_dir, sk, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	memcpy(pk, sk + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
	sodium_memzero(sk, sizeof(sk));
	return made;
}

int
keystore_onion_load(const char *keys_dir, struct onion_key *k, char *err,
    size_t errlen)
{
	uint8_t seed[ONION_SEED_BYTES];
	int rc;

	if (keystore_load_seed(keys_dir, &ks_onion, seed, err,
	    errlen) == -1)
		return -1;
	rc = onion_key_from_seed(k, seed);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0) {
		snprintf(err, errlen, "onion service key in %s: cannot "
		    "derive the key pair", keys_dir);
		onion_key_wipe(k);
		return -1;
	}
	return 0;
}

int
keystore_onion_ensure(const char *keys_dir, uint8_t pk[ONION_PK_BYTES])
{
	struct onion_key k;
	char err[512];
	int made;

	if ((made = keystore_create_seed(keys_dir, &ks_onion)) == -1)
		return -1;
	if (keystore_onion_load(keys_dir, &k, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (pk != NULL)
		memcpy(pk, k.pk, ONION_PK_BYTES);
	onion_key_wipe(&k);
	return made;
}

int
keystore_client_auth_load(const char *keys_dir,
    uint8_t sk[ONION_AUTH_KEY_BYTES], char *err, size_t errlen)
{
	return keystore_load_seed(keys_dir, &ks_client_auth, sk, err,
	    errlen);
}

int
keystore_client_auth_ensure(const char *keys_dir,
    uint8_t pk[ONION_AUTH_KEY_BYTES])
{
	uint8_t sk[ONION_AUTH_KEY_BYTES];
	char err[512];
	int made;

	/* The file is the secret itself; loading it checks it. */
	if ((made = keystore_create_seed(keys_dir, &ks_client_auth)) != -1 &&
	    keystore_client_auth_load(keys_dir, sk, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		made = -1;
	} else if (made != -1 && pk != NULL) {
		onion_auth_pk_from_sk(pk, sk);
	}
	sodium_memzero(sk, sizeof(sk));
	return made;
}
