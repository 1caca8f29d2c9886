/*
 * The host records keyd knows: every file in hosts/ that parses in the
 * one canonical form, carries a valid self-signature for this network
 * and is named after the member it describes. A bad file never stops
 * keyd: it is logged with its path and the reason and left out, the way
 * tinc skips a broken host file, because one member's mistake must not
 * take the others off the network.
 *
 * Records are keyed by member id, not name, and the highest serial wins:
 * a member that re-signs its record bumps the serial, so an old copy
 * that is still lying around (or gossiped late) cannot roll it back.
 *
 * Our own record is rebuilt from the config at every start and reload.
 * Its serial only moves when the content moves, so restarting keyd does
 * not make every member rewrite its copy. In onion mode it carries our
 * onion address, which comes from the key store's stable onion key, so
 * it too stays the same across restarts.
 *
 * Everything here but records_own_refresh is free of the key and of the
 * daemon loop, so tests/unit/test_keyd_records.c calls it directly.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "proto/file.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/privdrop.h"

#define HOSTS_DIR_MODE  0755
#define RECORD_MODE     0644

/* Bounded copy (glibc 2.36 has no strlcpy); callers check lengths. */
static void
str_copy(char *dst, const char *src, size_t cap)
{
	size_t n;

	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
records_init(struct keyd_records *s)
{
	memset(s, 0, sizeof(*s));
}

void
records_free(struct keyd_records *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static ssize_t
records_index(const struct keyd_records *s, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (memcmp(s->v[i].rec.id, id, MEMBER_ID_BYTES) == 0)
			return (ssize_t)i;
	return -1;
}

const struct keyd_rec *
records_find(const struct keyd_records *s, const uint8_t id[MEMBER_ID_BYTES])
{
	ssize_t i;

	i = records_index(s, id);
	return i < 0 ? NULL : &s->v[i];
}

static void
records_remove_at(struct keyd_records *s, size_t i)
{
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
	s->n--;
}

int
records_remove(struct keyd_records *s, const uint8_t id[MEMBER_ID_BYTES])
{
	ssize_t i = records_index(s, id);

	if (i < 0)
		return 0;
	records_remove_at(s, (size_t)i);
	return 1;
}

int
records_put(struct keyd_records *s, const struct record *r, const char *text,
    size_t len)
{
	struct keyd_rec *e;
	ssize_t i;

	if (len > RECORD_MAX_LEN)
		return -1;
	i = records_index(s, r->id);
	if (i >= 0) {
		if (r->serial <= s->v[i].rec.serial)
			return 0;
		e = &s->v[i];
	} else {
		if (keyd_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 16) == -1)
			return -1;
		e = &s->v[s->n++];
	}
	e->rec = *r;
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	e->len = len;
	return 1;
}

int
keyd_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	void **pv = v;
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if ((nv = reallocarray(*pv, ncap, size)) == NULL)
		return -1;
	*pv = nv;
	*cap = ncap;
	return 0;
}

void *
keyd_id_slot(void *v, size_t *n, size_t *cap, size_t size, size_t off,
    const uint8_t id[MEMBER_ID_BYTES])
{
	uint8_t *e;
	size_t i;

	for (i = 0; i < *n; i++) {
		e = *(uint8_t **)v + i * size;
		if (memcmp(e + off, id, MEMBER_ID_BYTES) == 0)
			return e;
	}
	if (keyd_grow(v, cap, *n, size, 16) == -1)
		return NULL;
	e = *(uint8_t **)v + (*n)++ * size;
	memset(e, 0, size);
	memcpy(e + off, id, MEMBER_ID_BYTES);
	return e;
}

uint64_t
keyd_serial_now(uint64_t if_none)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 || ts.tv_sec < 0)
		return if_none;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
records_check(struct record *r, const char *fname, const char *text,
    size_t len, const uint8_t netid[NETID_BYTES], char *err, size_t errlen)
{
	char perr[KEYD_ERRLEN];

	if (len > RECORD_MAX_LEN) {
		snprintf(err, errlen, "%zu bytes, more than the %d a record "
		    "may have", len, RECORD_MAX_LEN);
		return -1;
	}
	if (record_parse(r, text, len, perr, sizeof(perr)) == -1) {
		snprintf(err, errlen, "%s", perr);
		return -1;
	}
	if (strcmp(fname, r->name) != 0) {
		snprintf(err, errlen, "file name does not match \"name = %s\" "
		    "(a record lives in hosts/<its name>)", r->name);
		return -1;
	}
	if (record_verify(r, netid) != 0) {
		snprintf(err, errlen, "signature does not verify with its id "
		    "for this network (wrong network, or altered)");
		return -1;
	}
	return 0;
}

static int
records_load_file(struct keyd_records *s, const char *dir, const char *fname,
    const uint8_t netid[NETID_BYTES])
{
	char path[PATH_MAX], err[KEYD_ERRLEN];
	struct record r;
	struct stat st;
	char *text;
	size_t len;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, fname) >=
	    sizeof(path)) {
		log_warnx("%s/%s: path too long; skipped", dir, fname);
		return -1;
	}
	if (stat(path, &st) == -1) {
		log_warn("%s: skipped", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file; skipped", path);
		return -1;
	}
	if (!name_valid(fname)) {
		log_warnx("%s: \"%s\" is not a member name ([a-z0-9]"
		    "[a-z0-9_-]{0,31}); skipped", path, fname);
		return -1;
	}
	text = file_read(path, RECORD_MAX_LEN, &len);
	if (text == NULL) {
		if (errno == EFBIG)
			log_warnx("%s: larger than %d bytes; skipped", path,
			    RECORD_MAX_LEN);
		else
			log_warn("%s: skipped", path);
		return -1;
	}
	rc = records_check(&r, fname, text, len, netid, err, sizeof(err));
	if (rc == -1) {
		log_warnx("%s: %s; skipped", path, err);
		free(text);
		return -1;
	}
	rc = records_put(s, &r, text, len);
	free(text);
	if (rc == -1) {
		log_warnx("%s: out of memory; skipped", path);
		return -1;
	}
	if (rc == 0)
		log_info("%s: serial %llu is not above the %llu already held "
		    "for this id; ignored", path, (unsigned long long)r.serial,
		    (unsigned long long)records_find(s, r.id)->rec.serial);
	return 0;
}

static int
records_skip_name(const struct dirent *de)
{
	/* Dot files are ours (file_write_atomic's temporaries) or hidden
	 * on purpose; neither is a record. */
	return de->d_name[0] != '.';
}

int
records_load_dir(struct keyd_records *s, const char *dir,
    const uint8_t netid[NETID_BYTES])
{
	struct dirent **names;
	int i, n, bad = 0;

	/* Sorted, so a tie between two files with the same id and serial
	 * is settled the same way on every start. */
	n = scandir(dir, &names, records_skip_name, alphasort);
	if (n == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (records_load_file(s, dir, names[i]->d_name, netid) == -1)
			bad++;
		free(names[i]);
	}
	free(names);
	return bad;
}

/* The record's content from the config: name, id, onion, tcp,
 * addresses, subnets (each once, host bits clear), role and admission.
 * Serial 1. 0 or -1 with err. */
static int
own_from_conf(struct record *out, const struct conf *c,
    const uint8_t netid[NETID_BYTES], const uint8_t id[MEMBER_ID_BYTES],
    const char *onion, char *err, size_t errlen)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (!name_valid(c->name)) {
		snprintf(err, errlen, "name \"%s\" in the config is not a "
		    "member name ([a-z0-9][a-z0-9_-]{0,31})", c->name);
		return -1;
	}
	str_copy(out->name, c->name, sizeof(out->name));
	memcpy(out->id, id, MEMBER_ID_BYTES);
	if (onion != NULL && onion[0] != '\0') {
		if (strlen(onion) >= sizeof(out->onion) ||
		    !onion_addr_valid(onion)) {
			snprintf(err, errlen, "onion address \"%.80s\" is not "
			    "a valid v3 onion address (56 of a-z2-7, then "
			    "\".onion\")", onion);
			return -1;
		}
		str_copy(out->onion, onion, sizeof(out->onion));
	}
	if (c->tcp[0] != '\0') {
		str_copy(out->tcp[0], c->tcp, sizeof(out->tcp[0]));
		out->ntcp = 1;
	}
	/* The config holds address and range (10.77.0.5/16); the record
	 * holds the member's host address. */
	if (c->ipv4.family == 4) {
		out->ipv4 = c->ipv4;
		out->ipv4.len = 32;
	}
	if (c->ipv6.family == 6) {
		out->ipv6 = c->ipv6;
		out->ipv6.len = 128;
	} else
		ipv6_member_addr(&out->ipv6, netid, id);
	if (c->nsubnets < 0 || c->nsubnets > RECORD_MAX_SUBNETS) {
		snprintf(err, errlen, "%d subnets in the config; a record "
		    "holds at most %d", c->nsubnets, RECORD_MAX_SUBNETS);
		return -1;
	}
	for (i = 0; i < c->nsubnets; i++) {
		struct prefix p = c->subnets[i];
		int k, dup = 0;

		/* A record lists each subnet once, host bits clear. */
		prefix_mask(&p);
		for (k = 0; k < out->nsubnets; k++)
			if (prefix_equal(&out->subnets[k], &p))
				dup = 1;
		if (!dup)
			out->subnets[out->nsubnets++] = p;
	}
	out->serial = 1;
	/* What we were admitted as (join writes it to the config); the
	 * role goes with the admission, which covers it. */
	out->role = c->role == ROLE_ADMIN ? ROLE_ADMIN : ROLE_MEMBER;
	/* Only the root's record may say who else admits (trust.h). */
	out->members_invite = c->members_invite && c->have_root &&
	    memcmp(id, c->root, MEMBER_ID_BYTES) == 0;
	if (c->admitted) {
		out->admitted = 1;
		memcpy(out->admitted_by, c->admitted_by,
		    sizeof(out->admitted_by));
		memcpy(out->admission, c->admission, sizeof(out->admission));
		memcpy(out->admitted_subnets, c->admitted_subnets,
		    sizeof(out->admitted_subnets));
		out->nadmitted_subnets = c->nadmitted_subnets;
	}
	return 0;
}

/* An admission belongs to the member, not to one version of its
 * record: without one in the config, keep the one held (prev's). */
static void
own_after_admission(struct record *out, const struct record *prev)
{
	out->admitted = prev->admitted;
	out->role = prev->role;
	memcpy(out->admitted_by, prev->admitted_by, sizeof(out->admitted_by));
	memcpy(out->admission, prev->admission, sizeof(out->admission));
	memcpy(out->admitted_subnets, prev->admitted_subnets,
	    sizeof(out->admitted_subnets));
	out->nadmitted_subnets = prev->nadmitted_subnets;
}

/* out after prev, our record held before (its admission carried over
 * already): prev's serial kept when nothing else changed, else raised
 * by one. 0 or -1 with err. */
static int
own_after(struct record *out, const struct record *prev, const char *name,
    char *err, size_t errlen)
{
	char a[RECORD_MAX_LEN + 1], b[RECORD_MAX_LEN + 1];
	struct record cmp;
	int la, lb;

	cmp = *out;
	cmp.serial = prev->serial;
	la = record_format(&cmp, a, sizeof(a), 0);
	lb = record_format(prev, b, sizeof(b), 0);
	if (la < 0 || lb < 0) {
		snprintf(err, errlen, "record of %s does not fit %d bytes",
		    name, RECORD_MAX_LEN);
		return -1;
	}
	if (la == lb && memcmp(a, b, (size_t)la) == 0) {
		out->serial = prev->serial;
		return 0;
	}
	if (prev->serial == UINT64_MAX) {
		snprintf(err, errlen, "record of %s: serial %llu cannot be "
		    "raised any more", name,
		    (unsigned long long)prev->serial);
		return -1;
	}
	out->serial = prev->serial + 1;
	return 0;
}

/* Grants held for us (keyd/grants.c); NULL before any came. keyd is
 * single-threaded. */
static claims_granted_fn own_granted;
static void *own_granted_arg;

void
records_own_grants(claims_granted_fn fn, void *arg)
{
	own_granted = fn;
	own_granted_arg = arg;
}

/* The config's subnets that are ours to announce (proto/claims.h:
 * the root's, a member's pinned by hand, or inside what the admission
 * or a grant held gives); every other is left out of the record, with
 * a warning, since every member would refuse the whole record for
 * it. */
static void
own_subnets_granted(struct record *out, const struct conf *c,
    const uint8_t netid[NETID_BYTES])
{
	struct claims_net n;
	char s[PREFIX_STRLEN];
	int i, k = 0;

	claims_net_init(&n, &c->ipv4, netid, c->root, c->max_admitted);
	n.granted = own_granted;
	n.granted_arg = own_granted_arg;
	for (i = 0; i < out->nsubnets; i++) {
		if (claims_subnet_owned(&n, out, &out->subnets[i])) {
			out->subnets[k++] = out->subnets[i];
			continue;
		}
		prefix_fmt(&out->subnets[i], s, sizeof(s), 1);
		log_warnx("subnet = %s: not announced: this member's "
		    "admission does not grant it (the root or an admin can: "
		    "onionmesh grant %s --subnet %s)", s, out->name, s);
	}
	out->nsubnets = k;
}

int
records_own_build(struct record *out, const struct conf *c,
    const uint8_t netid[NETID_BYTES], const uint8_t id[MEMBER_ID_BYTES],
    const char *onion,
    const struct record *prev, char *err, size_t errlen)
{
	if (own_from_conf(out, c, netid, id, onion, err, errlen) == -1)
		return -1;
	/* Issue 15: members' onion services let us in by this key. */
	if (out->onion[0] != '\0' && keys_client_auth_pub() != NULL) {
		memcpy(out->client_auth, keys_client_auth_pub(),
		    sizeof(out->client_auth));
		out->has_client_auth = 1;
	}
	if (prev != NULL && memcmp(prev->id, id, MEMBER_ID_BYTES) == 0 &&
	    !out->admitted && prev->admitted)
		own_after_admission(out, prev);
	own_subnets_granted(out, c, netid);
	if (prev == NULL ||
	    memcmp(prev->id, id, MEMBER_ID_BYTES) != 0)
		return 0;
	return own_after(out, prev, c->name, err, errlen);
}

/* Our record, built and signed, as canonical text (its length, or -1
 * with err). */
static int
own_sign(const struct keyd_records *s, const struct conf *c,
    const uint8_t netid[NETID_BYTES], struct record *own, char *text,
    size_t cap, char *err, size_t errlen)
{
	const struct keyd_rec *held;
	const char *onion = NULL;
	int len;

	if (!keys_loaded()) {
		snprintf(err, errlen, "identity key not loaded");
		return -1;
	}
	/* In onion mode peers reach us only by the address in our record;
	 * without the key there is none to give, and a record without it
	 * would quietly make us unreachable. */
	if (keyd_onion_mode(c) && (onion = keys_onion_addr()) == NULL) {
		snprintf(err, errlen, "%s sets tor_control and tor_socks, but "
		    "the onion service key (%s/onion) is not loaded",
		    c->paths.conf_file, c->paths.keys_dir);
		return -1;
	}
	held = records_find(s, keys_id());
	if (records_own_build(own, c, netid, keys_id(), onion,
	    held != NULL ? &held->rec : NULL, err, errlen) == -1)
		return -1;
	if (keys_sign_record(own, netid) == -1) {
		snprintf(err, errlen, "cannot sign the record of %s", c->name);
		return -1;
	}
	len = record_format(own, text, cap, 1);
	if (len < 0) {
		snprintf(err, errlen, "record of %s does not fit %d bytes",
		    c->name, RECORD_MAX_LEN);
		return -1;
	}
	return len;
}

/* dir exists and is uid/gid's. 0, or -1 with err. */
static int
dir_for(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (mkdir_p(dir, HOSTS_DIR_MODE) == -1 ||
	    chown_for(dir, uid, gid) == -1) {
		snprintf(err, errlen, "cannot make %s keyd's: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* hosts/<name> (path) holds text, written only when it differs; then
 * path, STATE/revoked and STATE/grants given to uid/gid when do_chown.
 * 1 written, 0 unchanged, -1 with err. */
static int
own_write(const struct conf *c, const char *path, const char *text,
    size_t len, int do_chown, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	size_t olen = 0;
	char *old;
	int written = 0;

	if (mkdir_p(c->paths.hosts_dir, HOSTS_DIR_MODE) == -1) {
		snprintf(err, errlen, "cannot create %s: %s",
		    c->paths.hosts_dir, strerror(errno));
		return -1;
	}
	old = file_read(path, RECORD_MAX_LEN, &olen);
	if (old == NULL || olen != len || memcmp(old, text, olen) != 0) {
		if (file_write_atomic(path, text, len, RECORD_MODE) == -1) {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			free(old);
			return -1;
		}
		written = 1;
	}
	free(old);
	if (do_chown && chown_for(path, uid, gid) == -1) {
		snprintf(err, errlen, "cannot give %s to uid %u: %s", path,
		    (unsigned)uid, strerror(errno));
		return -1;
	}
	/* STATE/revoked and STATE/grants are written after the privilege
	 * drop too (revoke.c, grants.c); this runs before it at start, so
	 * make them keyd's here. */
	if (do_chown && (dir_for(c->paths.revoked_dir, uid, gid, err,
	    errlen) == -1 || dir_for(c->paths.grants_dir, uid, gid, err,
	    errlen) == -1))
		return -1;
	return written;
}

/* Our record into s. hosts/<our name> (path) is ours now: a record of
 * another member held under the same name came from that file and is
 * gone with it. 0, or -1 with err. */
static int
own_keep(struct keyd_records *s, const struct record *own,
    const char *text, size_t len, const char *path, char *err,
    size_t errlen)
{
	char idhex[65];
	ssize_t idx;
	size_t i;

	for (i = 0; i < s->n; ) {
		if (strcmp(s->v[i].rec.name, own->name) == 0 &&
		    memcmp(s->v[i].rec.id, own->id, MEMBER_ID_BYTES) != 0) {
			hex_encode(idhex, s->v[i].rec.id, MEMBER_ID_BYTES);
			log_warnx("%s held the record of another member "
			    "(id %.16s...) under our name; replaced by ours",
			    path, idhex);
			records_remove_at(s, i);
		} else
			i++;
	}
	idx = records_index(s, own->id);
	if (idx >= 0) {
		/* Same serial (unchanged) or a higher one: replace in place
		 * so the text is exactly what we signed now. */
		s->v[idx].rec = *own;
		memcpy(s->v[idx].text, text, len + 1);
		s->v[idx].len = len;
	} else if (records_put(s, own, text, len) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
records_own_refresh(struct keyd_records *s, const struct conf *c,
    const uint8_t netid[NETID_BYTES], int do_chown, uid_t uid, gid_t gid,
    char *err, size_t errlen)
{
	char path[PATH_MAX], text[RECORD_MAX_LEN + 1];
	struct record own;
	int len, written;

	len = own_sign(s, c, netid, &own, text, sizeof(text), err, errlen);
	if (len < 0)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->paths.hosts_dir,
	    own.name) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long",
		    c->paths.hosts_dir, own.name);
		return -1;
	}
	written = own_write(c, path, text, (size_t)len, do_chown, uid, gid,
	    err, errlen);
	if (written == -1 ||
	    own_keep(s, &own, text, (size_t)len, path, err, errlen) == -1)
		return -1;
	if (written)
		log_info("%s: our record, serial %llu", path,
		    (unsigned long long)own.serial);
	return written;
}
