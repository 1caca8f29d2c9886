/*
 * The key store: the member's identity key at rest.
 *
 * keys/identity holds exactly one line, "ed25519-seed <64 hex>\n": the
 * 32-byte Ed25519 seed, from which libsodium rebuilds the 64-byte secret
 * key and the public key. A seed (not the expanded key) is stored so the
 * file cannot hold a secret and a public half that disagree.
 *
 * The loader is strict, because a key file that is readable by others
 * has leaked and a file in any other format is not ours: it refuses both
 * with a message naming the path and what is wrong, and never echoes the
 * content. Creation goes through file_create_excl(), so two processes
 * racing to create an identity end up with the same one.
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

#define ID_FILE   "identity"
#define ID_PREFIX "ed25519-seed "
#define SEED_HEX  (2 * crypto_sign_SEEDBYTES)
#define ID_LINE   (sizeof(ID_PREFIX) - 1 + SEED_HEX + 1)

static int
keystore_path(char *out, size_t cap, const char *keys_dir, char *err,
    size_t errlen)
{
	int n = snprintf(out, cap, "%s/%s", keys_dir, ID_FILE);

	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen, "key store path %s/%s is too long",
		    keys_dir, ID_FILE);
		return -1;
	}
	return 0;
}

/* Read the identity file at path into seed; err names what is wrong. */
static int
keystore_read_seed(const char *path, uint8_t seed[crypto_sign_SEEDBYTES],
    char *err, size_t errlen)
{
	char line[ID_LINE + 1];
	struct stat st;
	size_t have = 0, binlen = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open identity key %s: %s", path,
		    errno == ELOOP ? "it is a symbolic link" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot stat identity key %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "identity key %s is not a regular file",
		    path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "identity key %s has mode %04o: it must "
		    "not be accessible by group or others (chmod 600 %s, and "
		    "make a new key if others could have read it)", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* One byte more than a valid file, to tell "too long" apart. */
	while (have < sizeof(line)) {
		n = read(fd, line + have, sizeof(line) - have);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read identity key "
			    "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have != ID_LINE ||
	    memcmp(line, ID_PREFIX, sizeof(ID_PREFIX) - 1) != 0 ||
	    line[ID_LINE - 1] != '\n' ||
	    sodium_hex2bin(seed, crypto_sign_SEEDBYTES,
	    line + sizeof(ID_PREFIX) - 1, SEED_HEX, NULL, &binlen,
	    NULL) != 0 || binlen != crypto_sign_SEEDBYTES) {
		snprintf(err, errlen, "identity key %s is not in the expected "
		    "format: one line \"ed25519-seed\" followed by %d hex "
		    "digits", path, (int)SEED_HEX);
		sodium_memzero(seed, crypto_sign_SEEDBYTES);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(line, sizeof(line));
	close(fd);
	return rc;
}

int
keystore_identity_load(const char *keys_dir,
    uint8_t sk[crypto_sign_SECRETKEYBYTES], char *err, size_t errlen)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	char path[PATH_MAX];
	int rc;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (keystore_path(path, sizeof(path), keys_dir, err, errlen) == -1)
		return -1;
	if (keystore_read_seed(path, seed, err, errlen) == -1)
		return -1;
	rc = crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0) {
		snprintf(err, errlen, "identity key %s: cannot derive the key "
		    "pair", path);
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		return -1;
	}
	return 0;
}

int
keystore_identity_ensure(const char *keys_dir,
    uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char line[ID_LINE + 1], path[PATH_MAX], err[512];
	int rc;

	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	if (keystore_path(path, sizeof(path), keys_dir, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (mkdir_p(keys_dir, 0700) == -1) {
		log_warn("cannot create key store %s", keys_dir);
		return -1;
	}
	if (access(path, F_OK) == -1) {
		if (errno != ENOENT) {
			log_warn("cannot check identity key %s", path);
			return -1;
		}
		randombytes_buf(seed, sizeof(seed));
		memcpy(line, ID_PREFIX, sizeof(ID_PREFIX) - 1);
		sodium_bin2hex(line + sizeof(ID_PREFIX) - 1, SEED_HEX + 1,
		    seed, sizeof(seed));
		line[ID_LINE - 1] = '\n';
		rc = file_create_excl(path, line, ID_LINE, 0600);
		sodium_memzero(line, sizeof(line));
		sodium_memzero(seed, sizeof(seed));
		if (rc == -1 && errno != EEXIST) {
			log_warn("cannot write identity key %s", path);
			return -1;
		}
		/* EEXIST: another process created it first; use theirs. */
		if (rc == 0) {
			if (keystore_identity_load(keys_dir, sk, err,
			    sizeof(err)) == -1) {
				log_warnx("%s", err);
				return -1;
			}
			memcpy(pk, sk + crypto_sign_SEEDBYTES,
			    crypto_sign_PUBLICKEYBYTES);
			sodium_memzero(sk, sizeof(sk));
			return 0;
		}
	}
	if (keystore_identity_load(keys_dir, sk, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	memcpy(pk, sk + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
	sodium_memzero(sk, sizeof(sk));
	return 1;
}
