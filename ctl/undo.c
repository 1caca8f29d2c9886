/*
 * What a setup command (init, join) created, so a failure can take it
 * back and leave the host as it was: the directories that did not exist
 * (undone deepest first) and, for each watched directory (hosts/, keys/,
 * revoked/), the entries it held before; whatever is new there when the
 * command fails is removed, whatever was there is kept. Plus the check
 * of a tor control or SOCKS address both commands take.
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

#include "proto/addr.h"
#include "proto/conf.h"


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
	char host[CONF_ADDR_LEN];
	uint16_t port;
	size_t n = strlen(s);

	if (n >= CONF_ADDR_LEN)
		return 0;
	if (strncmp(s, "unix:", 5) == 0)
		return s[5] == '/' && n - 5 < 108;
	return endpoint_parse(s, host, sizeof(host), &port) == 0;
}
