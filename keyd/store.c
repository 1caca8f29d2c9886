/*
 * The key store and hosts/ on disk: the keys folder made private, and
 * both given to keyd's user. The daemon (keyd.c) and --genkey
 * (genkey.c) both prepare them.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "keyd/keyd.h"
#include "proto/file.h"

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
