/*
 * Files that must never be half-written: keys, records, config. Written to
 * a temporary file in the same directory, fsync'd, renamed over the old
 * one, and the directory fsync'd, so a crash leaves either the old or the
 * new content.
 */
#ifndef OM_FILE_H
#define OM_FILE_H

#include <stddef.h>
#include <sys/types.h>

int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode) __attribute__((warn_unused_result));
/* The same, but never replaces: -1 with EEXIST when path exists (the
 * temporary is link()ed into place instead of renamed). */
int file_create_excl(const char *path, const void *data, size_t len,
    mode_t mode) __attribute__((warn_unused_result));
/* Read a whole file up to max bytes into a malloc'd NUL-terminated
 * buffer. NULL with errno set (EFBIG when larger than max). */
char *file_read(const char *path, size_t max, size_t *len);
/* mkdir -p with mode for every created component. */
int mkdir_p(const char *path, mode_t mode) __attribute__((warn_unused_result));

#endif
