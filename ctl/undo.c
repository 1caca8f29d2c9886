/*
 * What a setup command (init, join) created, so a failure can take it
 * back and leave the host as it was: the directories that did not exist
 * (undone deepest first) and, for each watched directory (hosts/, keys/,
 * revoked/), the entries it held before; whatever is new there when the
 * command fails is removed, whatever was there is kept. Plus the steps
 * both commands take the same way: the check of the tor options and of
 * an existing config, making the directories, and writing the config.
 */
#include "ctl/ctl.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/endpoint.h"
#include "proto/file.h"

static int
strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
listing(const char *dir)
{
	DIR *d;
	struct dirent *de;
	char **v, **nv;
	int n = 0, cap = 8;

	if ((v = calloc(cap, sizeof(char *))) == NULL)
		return NULL;
	if ((d = opendir(dir)) == NULL)
		return v;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 1 >= cap) {
			if ((nv = realloc(v, 2 * cap * sizeof(char *))) ==
			    NULL)
				break;
			v = nv;
			cap *= 2;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			break;
		v[++n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof(char *), strcmp_p);
	return v;
}

void
listing_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int
listed(char **v, const char *name)
{
	for (; v && *v; v++)
		if (strcmp(*v, name) == 0)
			return 1;
	return 0;
}

void
undo_note_dir(struct undo *u, const char *path)
{
	char p[PATH_MAX], *slash;
	char missing[UNDO_MAX_DIRS][PATH_MAX];
	struct stat st;
	int n = 0, i, j, dup;

	snprintf(p, sizeof(p), "%s", path);
	while (p[0] && stat(p, &st) == -1 && errno == ENOENT &&
	    n < UNDO_MAX_DIRS) {
		snprintf(missing[n++], PATH_MAX, "%s", p);
		if ((slash = strrchr(p, '/')) == NULL || slash == p)
			break;
		*slash = '\0';
	}
	for (i = n - 1; i >= 0 && u->ndirs < UNDO_MAX_DIRS; i--) {
		for (dup = 0, j = 0; j < u->ndirs; j++)
			if (strcmp(u->dirs[j], missing[i]) == 0)
				dup = 1;
		if (!dup)
			snprintf(u->dirs[u->ndirs++], PATH_MAX, "%s",
			    missing[i]);
	}
}

void
undo_run(struct undo *u)
{
	char **now, **p, path[PATH_MAX];
	int i;

	if (u->conf_written)
		unlink(u->conf_file);
	for (i = 0; i < UNDO_WATCH; i++) {
		if (u->watch[i] == NULL || (now = listing(u->watch[i])) ==
		    NULL)
			continue;
		for (p = now; *p; p++) {
			if (listed(u->before[i], *p))
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			    u->watch[i], *p) < sizeof(path))
				unlink(path);
		}
		listing_free(now);
	}
	for (i = u->ndirs - 1; i >= 0; i--)
		rmdir(u->dirs[i]);
}

/* HOST:PORT or unix:/ABSOLUTE/PATH (short enough for sun_path). */
int
ctl_tor_addr_valid(const char *s)
{
	struct endpoint ep;

	return strlen(s) < CONF_ADDR_LEN &&
	    endpoint_split(s, &ep, NULL, 0) == 0;
}

/* HOST:PORT that fits the config. */
int
ctl_hostport_valid(const char *s)
{
	return strlen(s) < CONF_ADDR_LEN &&
	    endpoint_parse(s, NULL, 0, NULL) == 0;
}

int
ctl_tor_opts_check(struct ctl *c, const char *control, const char *socks)
{
	if (control != NULL && !ctl_tor_addr_valid(control))
		return ctl_usage(c, "--tor-control `%s' is not tor's "
		    "ControlPort (HOST:PORT or unix:/PATH)", control);
	if (socks != NULL && !ctl_tor_addr_valid(socks))
		return ctl_usage(c, "--tor-socks `%s' is not tor's SocksPort "
		    "(HOST:PORT or unix:/PATH)", socks);
	return CTL_OK;
}

int
ctl_setup_check(struct ctl *c, char *keyd, size_t cap)
{
	struct stat st;

	if (stat(c->paths.conf_file, &st) == 0) {
		ctl_warnx("%s already exists: network \"%s\" is already set "
		    "up here (remove it, and %s, to start over)",
		    c->paths.conf_file, c->paths.net, c->paths.keys_dir);
		return -1;
	}
	if (errno != ENOENT) {
		ctl_warn("cannot check %s", c->paths.conf_file);
		return -1;
	}
	return ctl_daemon_path("keyd", keyd, cap);
}

static int
make_dir(const char *path, mode_t mode)
{
	if (mkdir_p(path, mode) == -1) {
		ctl_warn("cannot create %s", path);
		return -1;
	}
	return 0;
}

int
ctl_setup_dirs(struct ctl *c, struct undo *u, int watch_revoked)
{
	size_t i;

	memset(u, 0, sizeof(*u));
	u->conf_file = c->paths.conf_file;
	u->watch[0] = c->paths.hosts_dir;
	u->watch[1] = c->paths.keys_dir;
	u->watch[2] = watch_revoked ? c->paths.revoked_dir : NULL;
	undo_note_dir(u, c->paths.conf_dir);
	undo_note_dir(u, c->paths.hosts_dir);
	undo_note_dir(u, c->paths.keys_dir);
	undo_note_dir(u, c->paths.revoked_dir); /* keyd makes it */
	undo_note_dir(u, c->paths.grants_dir);  /* and this */
	for (i = 0; i < UNDO_WATCH; i++)
		if (u->watch[i] != NULL &&
		    (u->before[i] = listing(u->watch[i])) == NULL) {
			ctl_warnx("out of memory");
			return -1;
		}
	if (make_dir(c->paths.conf_dir, 0755) == -1 ||
	    make_dir(c->paths.hosts_dir, 0755) == -1 ||
	    make_dir(c->paths.keys_dir, 0700) == -1)
		return -1;
	return 0;
}

void
ctl_setup_free(struct undo *u)
{
	int i;

	for (i = 0; i < UNDO_WATCH; i++) {
		listing_free(u->before[i]);
		u->before[i] = NULL;
	}
}

int
ctl_setup_write(struct ctl *c, struct undo *u, const char *keyd,
    const char *text, int len, const uint8_t pk[MEMBER_ID_BYTES],
    const char *who)
{
	uint8_t pk2[MEMBER_ID_BYTES];

	u->conf_written = 1;
	if (file_write_atomic(c->paths.conf_file, text, len, 0644) == -1) {
		ctl_warn("cannot write %s", c->paths.conf_file);
		return -1;
	}
	if (ctl_genkey(c, keyd, pk2) == -1)
		return -1;
	if (sodium_memcmp(pk, pk2, MEMBER_ID_BYTES) != 0) {
		ctl_warnx("%s --genkey printed a different key the second "
		    "time: is another %s running on %s?", keyd, who,
		    c->paths.keys_dir);
		return -1;
	}
	return 0;
}
