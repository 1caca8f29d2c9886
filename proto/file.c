/*
 * Files that must never be half-written (keys, host records, config).
 *
 * The new content goes to a temporary file next to the target — same
 * directory, so the rename cannot cross a file system — created with
 * O_EXCL under a dot name (keyd's directory scans skip dot files, so a
 * temporary left by a crash is never read as a record). It is written
 * in full, fsync'd, renamed over the target, and the directory is
 * fsync'd so the rename itself survives a crash. Every error path
 * removes the temporary and keeps errno from the call that failed.
 *
 * file_create_excl() is the same dance with link() instead of rename():
 * it never replaces an existing file, so two processes racing to create
 * a key cannot both win.
 */
#include "proto/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Split path into its directory ("." when none) for the temp name and
 * the directory fsync. */
static int
file_dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		if (cap < 2)
			goto toolong;
		strcpy(dir, ".");
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		goto toolong;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

static int
file_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
file_sync_dir(const char *dir)
{
	int fd, rc, saved;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * Write data into a new temporary file beside path; on success tmp holds
 * its name and the file is complete and on disk. On failure nothing is
 * left behind.
 */
static int
file_write_temp(const char *path, const void *data, size_t len, mode_t mode,
    char *tmp, size_t tmpcap)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int fd, n, saved;

	if (*base == '\0') {
		errno = EISDIR;
		return -1;
	}
	n = snprintf(tmp, tmpcap, "%.*s.%s.XXXXXX",
	    (int)(base - path), path, base);
	if (n < 0 || (size_t)n >= tmpcap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* mkostemp opens with O_CREAT | O_EXCL: never an existing file. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1)
		return -1;
	/* fchmod, not the open mode, so the umask cannot change it. */
	if (fchmod(fd, mode) == -1 || file_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int saved;

	if (file_dir_of(path, dir, sizeof(dir)) == -1)
		return -1;
	if (file_write_temp(path, data, len, mode, tmp, sizeof(tmp)) == -1)
		return -1;
	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	/* The new content is in place; a failed directory sync only means
	 * the rename might not survive a power cut, which the caller
	 * should still hear about. */
	return file_sync_dir(dir);
}

int
file_create_excl(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int rc, saved;

	if (file_dir_of(path, dir, sizeof(dir)) == -1)
		return -1;
	if (file_write_temp(path, data, len, mode, tmp, sizeof(tmp)) == -1)
		return -1;
	/* link() fails with EEXIST instead of replacing the target. */
	rc = link(tmp, path);
	saved = errno;
	unlink(tmp);
	if (rc == -1) {
		errno = saved;
		return -1;
	}
	return file_sync_dir(dir);
}

char *
file_read(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	ssize_t n;
	int fd, saved;

	if (len != NULL)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if (max == SIZE_MAX) {
		errno = EINVAL;
		goto fail;
	}
	/* One byte more than max, so a file that grew since fstat (or a
	 * pipe) is still caught as too large. */
	if ((buf = malloc(max + 2)) == NULL)
		goto fail;
	for (;;) {
		n = read(fd, buf + have, max + 1 - have);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[have] = '\0';
	if (len != NULL)
		*len = have;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t n = strlen(path), i;

	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue; /* "a//b" or a trailing slash */
		buf[i] = '\0';
		if (mkdir(buf, mode) == 0) {
			/* Exactly mode, whatever the umask: a run dir needs
			 * its group bits. */
			if (chmod(buf, mode) == -1)
				return -1;
		} else if (errno == EEXIST) {
			if (stat(buf, &st) == -1)
				return -1;
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return -1;
			}
		} else
			return -1;
		buf[i] = path[i];
	}
	return 0;
}
