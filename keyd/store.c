/*
 * The key store and hosts/ on disk: the keys folder made private, and
 * both given to keyd's user. The daemon (keyd.c) and --genkey
 * (genkey.c) both prepare them. Also the folders of signed texts kept
 * one per member (revocations, grants): one way to name, write, remove
 * and load them.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyd/keyd.h"
#include "proto/file.h"
#include "proto/log.h"

#define KEYS_DIR_MODE 0700

/* chown, but only when the owner differs: keyd started as its own user
 * (a systemd unit's User=) cannot chown at all, and need not when the
 * store is already its own. */
int
keyd_chown_if(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid)
		return 0;
	return chown(path, uid, gid);
}

/* Give a directory and the files directly in it to keyd's user (or,
 * without privsep, back to the caller: chown, not chown_for, which
 * skips the caller's own ids). */
int
keyd_chown_tree(const char *dir, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (keyd_chown_if(dir, uid, gid) == -1) {
		snprintf(err, errlen, "cannot give %s to uid %u: %s", dir,
		    (unsigned)uid, strerror(errno));
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		if (keyd_chown_if(path, uid, gid) == -1) {
			snprintf(err, errlen, "cannot give %s to uid %u: %s",
			    path, (unsigned)uid, strerror(errno));
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/* Create the keys dir with 0700; refuse one that others can enter. */
int
keyd_keys_dir_ensure(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir_p(dir, KEYS_DIR_MODE) == -1) {
		snprintf(err, errlen, "cannot create key store %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "cannot stat key store %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "key store %s is not a directory", dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "key store %s has mode %04o; it must be "
		    "0700 (chmod 700 %s)", dir, (unsigned)(st.st_mode & 07777),
		    dir);
		return -1;
	}
	return 0;
}

/* ---- signed texts kept one per member id (revoked/, grants/) ------- */

#define SIGNED_MODE     0644
#define SIGNED_DIR_MODE 0755

static int
signed_path(const char *dir, const uint8_t id[MEMBER_ID_BYTES], char *path,
    size_t cap)
{
	char hex[2 * MEMBER_ID_BYTES + 1];

	hex_encode(hex, id, MEMBER_ID_BYTES);
	return (size_t)snprintf(path, cap, "%s/%s", dir, hex) >= cap ? -1 : 0;
}

void
keyd_signed_store(const char *dir, const uint8_t id[MEMBER_ID_BYTES],
    const char *text, size_t len, const char *what)
{
	char path[PATH_MAX];

	if (mkdir_p(dir, SIGNED_DIR_MODE) == -1) {
		log_warn("cannot create %s; %s kept in memory only", dir,
		    what);
		return;
	}
	if (signed_path(dir, id, path, sizeof(path)) == -1) {
		log_warnx("%s: path too long; %s kept in memory only", dir,
		    what);
		return;
	}
	if (file_write_atomic(path, text, len, SIGNED_MODE) == -1)
		log_warn("%s: %s kept in memory only", path, what);
}

void
keyd_signed_remove(const char *dir, const uint8_t id[MEMBER_ID_BYTES])
{
	char path[PATH_MAX];

	if (signed_path(dir, id, path, sizeof(path)) == 0 &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: not removed", path);
}

static int
skip_dot(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* One file of keyd_signed_load: read it and hand it to fn. */
static int
signed_load_one(const char *dir, const char *fname, size_t maxlen,
    keyd_signed_fn fn, void *arg)
{
	char path[PATH_MAX];
	char *text;
	size_t len;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, fname) >=
	    sizeof(path))
		return -1;
	if ((text = file_read(path, maxlen, &len)) == NULL) {
		log_warn("%s: skipped", path);
		return -1;
	}
	rc = fn(arg, path, fname, text, len);
	free(text);
	return rc;
}

int
keyd_signed_load(const char *dir, size_t maxlen, keyd_signed_fn fn,
    void *arg, size_t *bad, char *err, size_t errlen)
{
	struct dirent **names;
	int i, n;

	*bad = 0;
	n = scandir(dir, &names, skip_dot, alphasort);
	if (n == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (signed_load_one(dir, names[i]->d_name, maxlen, fn,
		    arg) == -1)
			(*bad)++;
		free(names[i]);
	}
	free(names);
	return 0;
}
