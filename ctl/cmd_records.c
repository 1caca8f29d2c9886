/*
 * export / import: host records by hand, as tinc 1.0 does it — each
 * member exports its record, the others import it. The CLI checks what it
 * imports the way keyd would (canonical form, self-signature for this
 * network) and refuses anything that would confuse the network: our own
 * name or id, a known name under another key, a known key under another
 * name, an address that another member already has. All files are
 * checked before any is written, so a rejected import changes nothing.
 *
 * Also the reading of hosts/ that status and peers share.
 */
#include "ctl/ctl.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "proto/addr.h"
#include "proto/file.h"
#include "proto/record.h"

#define IMPORT_MAX 64

int
ctl_record_read(const char *path, const uint8_t netid[NETID_BYTES],
    struct record *r, char *err, size_t errlen)
{
	char e[256];
	char *text;
	size_t len;

	if ((text = file_read(path, RECORD_MAX_LEN, &len)) == NULL) {
		if (errno == EFBIG)
			snprintf(err, errlen, "%s is larger than %d bytes: "
			    "not a host record", path, RECORD_MAX_LEN);
		else
			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(errno));
		return -1;
	}
	e[0] = '\0';
	memset(r, 0, sizeof(*r));
	if (record_parse(r, text, len, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "%s is not a valid host record: %s",
		    path, e[0] ? e : "bad format");
		free(text);
		return -1;
	}
	free(text);
	if (record_verify(r, netid) != 0) {
		snprintf(err, errlen, "%s: the signature of the record of "
		    "`%s' does not verify for this network (changed after "
		    "it was signed, or made for another network)", path,
		    r->name);
		return -1;
	}
	return 0;
}

json_t *
ctl_record_json(const struct record *r)
{
	char hex[MEMBER_ID_BYTES * 2 + 1], a[PREFIX_STRLEN];
	json_t *o, *tcp, *subnets;
	int i;

	hex_encode(hex, r->id, MEMBER_ID_BYTES);
	o = json_object();
	tcp = json_array();
	subnets = json_array();
	if (o == NULL || tcp == NULL || subnets == NULL) {
		json_decref(o);
		json_decref(tcp);
		json_decref(subnets);
		return NULL;
	}
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "id", json_string(hex));
	if (r->ipv4.family) {
		prefix_fmt(&r->ipv4, a, sizeof(a), 0);
		json_object_set_new(o, "ipv4", json_string(a));
	}
	if (r->ipv6.family) {
		prefix_fmt(&r->ipv6, a, sizeof(a), 0);
		json_object_set_new(o, "ipv6", json_string(a));
	}
	if (r->onion[0])
		json_object_set_new(o, "onion", json_string(r->onion));
	for (i = 0; i < r->ntcp && i < RECORD_MAX_TCP; i++)
		json_array_append_new(tcp, json_string(r->tcp[i]));
	json_object_set_new(o, "tcp", tcp);
	for (i = 0; i < r->nsubnets && i < RECORD_MAX_SUBNETS; i++) {
		prefix_fmt(&r->subnets[i], a, sizeof(a), 1);
		json_array_append_new(subnets, json_string(a));
	}
	json_object_set_new(o, "subnets", subnets);
	json_object_set_new(o, "serial", json_integer((json_int_t)r->serial));
	return o;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Names of the files in hosts/ that can be records (a valid member name;
 * temporary files of an atomic write are not). Sorted; NULL-terminated;
 * *n entries. NULL on error (printed); an absent dir is an empty list.
 */
static char **
hosts_list(struct ctl *c, int *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, **nv;
	int cnt = 0, cap = 0;

	*n = 0;
	if ((d = opendir(c->paths.hosts_dir)) == NULL) {
		if (errno == ENOENT)
			return calloc(1, sizeof(char *));
		ctl_warn("cannot read %s", c->paths.hosts_dir);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name))
			continue;
		if (cnt + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(char *))) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto oom;
		cnt++;
	}
	closedir(d);
	if (v == NULL && (v = calloc(1, sizeof(char *))) == NULL)
		return NULL;
	v[cnt] = NULL;
	qsort(v, cnt, sizeof(char *), namecmp);
	*n = cnt;
	return v;
oom:
	closedir(d);
	while (cnt > 0)
		free(v[--cnt]);
	free(v);
	ctl_warnx("out of memory reading %s", c->paths.hosts_dir);
	return NULL;
}

static void
hosts_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int
host_path(struct ctl *c, const char *name, char *out, size_t cap)
{
	return ctl_path(out, cap, c->paths.hosts_dir, name);
}

/*
 * Every readable record of hosts/ into recs (malloc'd, *n entries).
 * Invalid files are reported and skipped: one bad file must not hide
 * every other member.
 */
static struct record *
hosts_load(struct ctl *c, const uint8_t netid[NETID_BYTES], int *n)
{
	char **names;
	char path[PATH_MAX], err[PATH_MAX + 256];
	struct record *recs;
	int i, cnt, k = 0;

	*n = 0;
	if ((names = hosts_list(c, &cnt)) == NULL)
		return NULL;
	if ((recs = calloc(cnt ? cnt : 1, sizeof(*recs))) == NULL) {
		hosts_free(names);
		ctl_warnx("out of memory");
		return NULL;
	}
	for (i = 0; i < cnt; i++) {
		if (host_path(c, names[i], path, sizeof(path)) == -1)
			continue;
		if (ctl_record_read(path, netid, &recs[k], err,
		    sizeof(err)) == -1) {
			ctl_warnx("skipping %s", err);
			continue;
		}
		if (strcmp(recs[k].name, names[i]) != 0) {
			ctl_warnx("skipping %s: it holds the record of `%s' "
			    "(a record lives in hosts/<its name>)", path,
			    recs[k].name);
			continue;
		}
		k++;
	}
	hosts_free(names);
	*n = k;
	return recs;
}

json_t *
ctl_hosts_json(struct ctl *c, const uint8_t netid[NETID_BYTES])
{
	struct record *recs;
	json_t *a, *o;
	int i, n;

	if ((recs = hosts_load(c, netid, &n)) == NULL)
		return NULL;
	if ((a = json_array()) == NULL) {
		free(recs);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((o = ctl_record_json(&recs[i])) != NULL)
			json_array_append_new(a, o);
	free(recs);
	return a;
}

static void
id_short(char out[17], const uint8_t id[MEMBER_ID_BYTES])
{
	char hex[MEMBER_ID_BYTES * 2 + 1];

	hex_encode(hex, id, MEMBER_ID_BYTES);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

/* The config, the network id and the path of our own record. 0, or -1
 * printed. */
static int
own_record(struct ctl *c, struct conf *conf, uint8_t netid[NETID_BYTES],
    char *path, size_t cap)
{
	if (ctl_conf_load(c, conf) == -1)
		return -1;
	netid_derive(netid, c->paths.net, conf->root);
	return host_path(c, conf->name, path, cap);
}

int
cmd_export(struct ctl *c, int argc, char **argv)
{
	struct conf conf;
	struct record r;
	uint8_t netid[NETID_BYTES];
	char path[PATH_MAX], err[PATH_MAX + 256];
	char text[RECORD_MAX_LEN + 1];
	char *pos[1];
	int n, rc, len;

	if ((rc = ctl_getopt(c, argc, argv, NULL, pos, 0, 1, &n)) != CTL_OK)
		return rc;
	if (own_record(c, &conf, netid, path, sizeof(path)) == -1)
		return CTL_FAIL;
	if (ctl_record_read(path, netid, &r, err, sizeof(err)) == -1) {
		ctl_warnx("%s (keyd writes this member's record at init; "
		    "onionmesh-keyd --genkey writes it again)", err);
		return CTL_FAIL;
	}
	if ((len = record_format(&r, text, sizeof(text), 1)) < 0) {
		ctl_warnx("record of `%s' does not fit %d bytes", r.name,
		    RECORD_MAX_LEN);
		return CTL_FAIL;
	}
	if (n == 0 || strcmp(pos[0], "-") == 0) {
		if (fwrite(text, 1, len, stdout) != (size_t)len)
			return CTL_FAIL;
		return CTL_OK;
	}
	if (file_write_atomic(pos[0], text, len, 0644) == -1) {
		ctl_warn("cannot write the record to %s", pos[0]);
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* Is one of r's addresses k's (k not NULL) or, with k NULL, this
 * member's own (conf's, as a host address)? -1 printed. */
static int
addr_clash(const char *file, const struct record *r,
    const struct record *k, const struct conf *conf)
{
	const struct prefix *p, *o;
	char a[PREFIX_STRLEN];
	int fam, clash;

	for (fam = 4; fam <= 6; fam += 2) {
		p = fam == 4 ? &r->ipv4 : &r->ipv6;
		if (!p->family)
			continue;
		o = fam == 4 ? (k ? &k->ipv4 : &conf->ipv4) :
		    (k ? &k->ipv6 : &conf->ipv6);
		if (k != NULL)
			clash = prefix_equal(p, o);
		else
			clash = o->family && prefix_contains(p, fam,
			    o->addr) && p->len == (fam == 4 ? 32 : 128);
		if (!clash)
			continue;
		prefix_fmt(p, a, sizeof(a), 0);
		if (k != NULL)
			ctl_warnx("%s: %s's ipv%d %s is already %s's; every "
			    "member needs its own address", file, r->name,
			    fam, a, k->name);
		else
			ctl_warnx("%s: %s's ipv%d %s is this member's own "
			    "address", file, r->name, fam, a);
		return -1;
	}
	return 0;
}

/*
 * Would adding `r` (read from `file`) clash with a record we know (or
 * one imported just before it)? Returns 1 when it should be written, 0
 * when it is to be skipped (we hold the same or a newer one), -1 with a
 * message printed when it must be refused.
 */
static int
import_check(const struct conf *conf, const struct record *self,
    const struct record *known, int nknown, const char *file,
    const struct record *r, const char *hosts_dir)
{
	char s1[17], s2[17];
	int i;

	if (strcmp(r->name, conf->name) == 0) {
		ctl_warnx("%s holds a record named `%s', which is this "
		    "member's own name: import other members' records "
		    "(ours is what `onionmesh export' prints)", file,
		    r->name);
		return -1;
	}
	if (self && sodium_memcmp(r->id, self->id, MEMBER_ID_BYTES) == 0) {
		ctl_warnx("%s holds this member's own id under the name `%s': "
		    "a member cannot import itself", file, r->name);
		return -1;
	}
	for (i = 0; i < nknown; i++) {
		const struct record *k = &known[i];
		int same_name = strcmp(k->name, r->name) == 0;
		int same_id = sodium_memcmp(k->id, r->id,
		    MEMBER_ID_BYTES) == 0;

		id_short(s1, k->id);
		id_short(s2, r->id);
		if (same_name && !same_id) {
			ctl_warnx("%s: a member named `%s' is already known "
			    "with id %s (%s/%s), this record has id %s. If "
			    "%s's key really changed, remove %s/%s and import "
			    "again; otherwise the new member needs another "
			    "name", file, r->name, s1, hosts_dir, k->name, s2,
			    r->name, hosts_dir, k->name);
			return -1;
		}
		if (!same_name && same_id) {
			ctl_warnx("%s: id %s is already known as `%s' "
			    "(%s/%s); one member cannot have two names "
			    "(remove that file first to rename it)", file, s2,
			    k->name, hosts_dir, k->name);
			return -1;
		}
		if (same_name && same_id) {
			if (r->serial < k->serial) {
				printf("skipping %s: a newer record of %s is "
				    "known (serial %llu > %llu)\n", file,
				    r->name, (unsigned long long)k->serial,
				    (unsigned long long)r->serial);
				return 0;
			}
			continue;
		}
		if (addr_clash(file, r, k, conf) == -1)
			return -1;
	}
	return addr_clash(file, r, NULL, conf) == -1 ? -1 : 1;
}

/* A revoked member never comes back, not even by hand: keyd keeps the
 * revocations in STATE/revoked/<id>. 1 (and the error printed) when
 * r's id is revoked. */
static int
import_revoked(struct ctl *c, const char *file, const struct record *r)
{
	char path[PATH_MAX], hex[2 * MEMBER_ID_BYTES + 1];
	struct stat st;

	hex_encode(hex, r->id, MEMBER_ID_BYTES);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
	    c->paths.revoked_dir, hex) >= sizeof(path))
		return 0;
	if (stat(path, &st) == 0) {
		ctl_warnx("%s: %s (id %.16s...) is revoked (%s); a revoked "
		    "member cannot be imported", file, r->name, hex, path);
		return 1;
	}
	return 0;
}

/* The records that passed (write_it[i]) into hosts/. 0 or -1 printed. */
static int
import_write(struct ctl *c, const struct record *recs, const int *write_it,
    int n, char **pos)
{
	char path[PATH_MAX], text[RECORD_MAX_LEN + 1], s[17];
	int i, len;

	if (mkdir_p(c->paths.hosts_dir, 0755) == -1) {
		ctl_warn("cannot create %s", c->paths.hosts_dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!write_it[i])
			continue;
		if ((len = record_format(&recs[i], text, sizeof(text),
		    1)) < 0) {
			ctl_warnx("record of `%s' does not fit %d bytes",
			    recs[i].name, RECORD_MAX_LEN);
			return -1;
		}
		if (host_path(c, recs[i].name, path, sizeof(path)) == -1)
			return -1;
		if (file_write_atomic(path, text, len, 0644) == -1) {
			ctl_warn("cannot write %s", path);
			return -1;
		}
		id_short(s, recs[i].id);
		printf("imported %s (id %s) from %s\n", recs[i].name, s,
		    pos[i]);
	}
	return 0;
}

/* keyd keeps the records in memory: have it rescan and push. */
static int
import_reload(struct ctl *c)
{
	char e[512];
	json_t *rep;
	int down;

	e[0] = '\0';
	rep = ctl_call(c, "keyd", "reload", 5000, e, sizeof(e), &down);
	if (rep != NULL) {
		json_decref(rep);
		printf("keyd reloaded the host records\n");
	} else if (down) {
		printf("keyd is not running: it reads the records when it "
		    "starts\n");
	} else {
		ctl_warnx("the records are written, but %s", e);
		return -1;
	}
	return 0;
}

int
cmd_import(struct ctl *c, int argc, char **argv)
{
	struct conf conf;
	struct record self, *known = NULL, *recs = NULL, *grown;
	uint8_t netid[NETID_BYTES];
	char path[PATH_MAX], err[PATH_MAX + 256];
	char *pos[IMPORT_MAX];
	int write_it[IMPORT_MAX];
	int n, nknown, i, rc, have_self, ret = CTL_FAIL;

	if ((rc = ctl_getopt(c, argc, argv, NULL, pos, 1, IMPORT_MAX,
	    &n)) != CTL_OK)
		return rc;
	if (own_record(c, &conf, netid, path, sizeof(path)) == -1)
		return CTL_FAIL;
	have_self = ctl_record_read(path, netid, &self, err,
	    sizeof(err)) == 0;
	if ((known = hosts_load(c, netid, &nknown)) == NULL)
		return CTL_FAIL;
	/* Room for the imported ones, so later files are checked against
	 * earlier ones of the same command. */
	if ((grown = realloc(known, (nknown + n) * sizeof(*known))) == NULL) {
		ctl_warnx("out of memory");
		goto out;
	}
	known = grown;
	if ((recs = calloc(n, sizeof(*recs))) == NULL) {
		ctl_warnx("out of memory");
		goto out;
	}

	for (i = 0; i < n; i++) {
		if (ctl_record_read(pos[i], netid, &recs[i], err,
		    sizeof(err)) == -1) {
			ctl_warnx("%s", err);
			goto out;
		}
		if (import_revoked(c, pos[i], &recs[i]))
			goto out;
		write_it[i] = import_check(&conf, have_self ? &self : NULL,
		    known, nknown, pos[i], &recs[i], c->paths.hosts_dir);
		if (write_it[i] == -1)
			goto out;
		if (write_it[i])
			known[nknown++] = recs[i];
	}
	if (import_write(c, recs, write_it, n, pos) == 0 &&
	    import_reload(c) == 0)
		ret = CTL_OK;
out:
	free(known);
	free(recs);
	return ret;
}
