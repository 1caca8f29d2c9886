/*
 * Reachability of a folder for another user (see reach.h): the walk is
 * stat(2) on each prefix of the path, the decision reach_mode_allows(),
 * which is the kernel's order for the mode bits: the owner's bits when
 * the uid owns the file (even when they allow less than the group's),
 * else the group's when any of the gids is the file's group, else the
 * others'.
 */
#include "proto/reach.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
reach_mode_allows(const struct stat *st, const struct reach_who *who,
    int want)
{
	mode_t bits;
	size_t i;

	want &= R_OK | W_OK | X_OK;
	if (who->uid == 0) {
		/* Root reads and writes anything; it executes a file only
		 * when some x bit is set, but a folder always. */
		if ((want & X_OK) && !S_ISDIR(st->st_mode) &&
		    (st->st_mode & 0111) == 0)
			return 0;
		return 1;
	}
	if (st->st_uid == who->uid)
		bits = (st->st_mode >> 6) & 7;
	else {
		bits = st->st_mode & 7;
		for (i = 0; i < who->ngids; i++)
			if (st->st_gid == who->gids[i]) {
				bits = (st->st_mode >> 3) & 7;
				break;
			}
	}
	return ((int)bits & want) == want;
}

static void
want_str(int want, char *out)
{
	int n = 0;

	if (want & R_OK)
		out[n++] = 'r';
	if (want & W_OK)
		out[n++] = 'w';
	if (want & X_OK)
		out[n++] = 'x';
	out[n] = '\0';
}

/* Check one folder (or the path itself, when last) against `who`. */
static int
reach_one(const char *p, const struct reach_who *who, int need, int last,
    char *why, size_t whylen)
{
	struct stat st;
	char w[4];

	if (stat(p, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;  /* not there yet: the walk stops */
		snprintf(why, whylen, "cannot stat %s: %s", p,
		    strerror(errno));
		return -1;
	}
	if (reach_mode_allows(&st, who, need))
		return 0;
	want_str(need, w);
	/* Not the uid: the caller names the user, and one reason may
	 * stop several users (reach.h). */
	snprintf(why, whylen, "%s is owner %u group %u mode %04o: no %s%s",
	    p, (unsigned)st.st_uid, (unsigned)st.st_gid,
	    (unsigned)(st.st_mode & 07777), w,
	    last ? "" : " to pass through it");
	errno = EACCES;
	return -1;
}

int
reach_path(const char *path, const struct reach_who *who, int want,
    char *why, size_t whylen)
{
	char buf[PATH_MAX];
	size_t len, i;
	int r, last;

	len = strlen(path);
	if (path[0] != '/' || len >= sizeof(buf)) {
		snprintf(why, whylen, "%s is not an absolute path of at most "
		    "%zu bytes", path, sizeof(buf) - 1);
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	/* The root, then each prefix ending before a '/', then the path. */
	last = (len == 1);
	if ((r = reach_one("/", who, last ? want : X_OK, last, why,
	    whylen)) != 0)
		return r == 1 ? 0 : -1;
	for (i = 2; i <= len; i++) {
		if (i < len && buf[i] != '/')
			continue;
		if (buf[i - 1] == '/')
			continue;  /* "//" */
		last = (i == len);
		buf[i] = '\0';
		r = reach_one(buf, who, last ? want : X_OK, last, why,
		    whylen);
		if (r != 0)
			return r == 1 ? 0 : -1;
		if (!last)
			buf[i] = '/';
	}
	return 0;
}
