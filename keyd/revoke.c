/*
 * keyd's revocations.
 *
 * A revocation is permanent: once one is accepted (its signature by the
 * root, or by an admin whose record was valid when it came), it is kept
 * in STATE/revoked/<64 hex of the revoked id> for good, and the set is
 * loaded at every start before any record is handed to linkd or routed.
 * The files are checked again when loaded (strict parse, name matches
 * the revoked id, signature for this network) but their signer's chain
 * is not: the admin who signed one may have been revoked since, and that
 * must not bring the member it removed back.
 *
 * What a revocation does, here and on every member it reaches:
 *   - the revoked member's record is dropped from memory and hosts/;
 *   - so is every record whose admission chain runs through it (a member
 *     admitted by a revoked member loses its membership too; records
 *     pinned by hand without an admission are not touched);
 *   - linkd and routed get MSG_RECORD_DEL for each, so live sessions
 *     end at once and, the record being gone, linkd refuses the key's
 *     handshakes;
 *   - gossip refuses the revoked id's record forever (gossip.c), and
 *     `onionmesh import` refuses it too (it looks in STATE/revoked).
 * Revocations spread like records (gossip.c: their own kind, flooded
 * when new, in digests keyed by the revoked id with the serial).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "keyd/revoke.h"
#include "proto/file.h"
#include "proto/log.h"

/* ---- lookups ------------------------------------------------------- */

static ssize_t
revoked_index(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < k->revoked.n; i++)
		if (memcmp(k->revoked.v[i].rv.revoked, id,
		    MEMBER_ID_BYTES) == 0)
			return (ssize_t)i;
	return -1;
}

int
revoked_is(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	return revoked_index(k, id) >= 0;
}

size_t
revoked_count(const struct keyd *k)
{
	return k->revoked.n;
}

const char *
revoked_text(const struct keyd *k, size_t i, size_t *len)
{
	if (i >= k->revoked.n)
		return NULL;
	*len = k->revoked.v[i].len;
	return k->revoked.v[i].text;
}

const struct revocation *
revoked_get(const struct keyd *k, size_t i)
{
	return i < k->revoked.n ? &k->revoked.v[i].rv : NULL;
}

static const struct record *
lookup_cb(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	const struct keyd *k = arg;
	const struct keyd_rec *r = records_find(&k->recs, id);

	return r != NULL ? &r->rec : NULL;
}

static int
revoked_cb(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	return revoked_is(arg, id);
}

int
keyd_trust_check(const struct keyd *k, const struct record *r, char *why,
    size_t whylen)
{
	/* The callbacks only read through arg. */
	return trust_check(r, k->d.conf.root, k->netid, lookup_cb,
	    revoked_cb, (void *)(uintptr_t)k, why, whylen);
}

int
keyd_members_invite(const struct keyd *k)
{
	return trust_members_invite(k->d.conf.root, k->netid, lookup_cb,
	    (void *)(uintptr_t)k);
}

/* ---- the set ------------------------------------------------------- */

/* Keep v (its text canonical) in memory; replaces a held one for the
 * same id. 0, or -1 out of memory. */
static int
revoked_put(struct keyd *k, const struct revocation *v, const char *text,
    size_t len)
{
	struct keyd_revoked *s = &k->revoked;
	struct keyd_revocation *e;
	ssize_t i;

	if (len >= sizeof(e->text))
		return -1;
	if ((i = revoked_index(k, v->revoked)) >= 0)
		e = &s->v[i];
	else {
		if (keyd_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 8) == -1)
			return -1;
		e = &s->v[s->n++];
	}
	e->rv = *v;
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	e->len = len;
	return 0;
}

void
revoke_free(struct keyd *k)
{
	free(k->revoked.v);
	memset(&k->revoked, 0, sizeof(k->revoked));
}

/* ---- effects ------------------------------------------------------- */

/* Drop the record at index i: memory, hosts/, linkd and routed. */
void
keyd_record_drop(struct keyd *k, size_t i, const char *why)
{
	char path[PATH_MAX], name[NAME_MAX_LEN + 1];
	uint8_t id[MEMBER_ID_BYTES];

	memcpy(id, k->recs.v[i].rec.id, MEMBER_ID_BYTES);
	snprintf(name, sizeof(name), "%s", k->recs.v[i].rec.name);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
	    k->d.conf.paths.hosts_dir, name) < sizeof(path) &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: dropped record not removed", path);
	(void)records_remove(&k->recs, id);
	log_warnx("member %s: %s; its record is removed", name, why);
	push_record_del(k, id);
}

/*
 * Does r's admission chain (through held records) reach a revoked
 * member? Only admissions count: a record pinned by hand without one
 * stands on its own. Bounded like trust_check.
 */
static int
chain_revoked(const struct keyd *k, const struct record *r, char *via,
    size_t vcap)
{
	const struct keyd_rec *a;
	const struct record *cur = r;
	int depth;

	for (depth = 0; depth <= TRUST_MAX_DEPTH; depth++) {
		if (revoked_is(k, cur->id)) {
			snprintf(via, vcap, "%s", cur->name);
			return 1;
		}
		if (!cur->admitted || memcmp(cur->admitted_by, cur->id,
		    MEMBER_ID_BYTES) == 0)
			return 0;
		if (revoked_is(k, cur->admitted_by)) {
			a = records_find(&k->recs, cur->admitted_by);
			if (a != NULL)
				snprintf(via, vcap, "%s", a->rec.name);
			else if (vcap >= 2 * 8 + 4) {
				/* Its record is gone already: the id. */
				hex_encode(via, cur->admitted_by, 8);
				strcat(via, "...");
			}
			return 1;
		}
		if ((a = records_find(&k->recs, cur->admitted_by)) == NULL)
			return 0;
		cur = &a->rec;
	}
	return 0;
}

/*
 * Drop the first record whose chain reaches a revoked member; in phase
 * 0 only those admitted through one (while the revoked member's record
 * is still there to name it), in phase 1 the revoked ones. 1 dropped.
 */
static int
prune_one(struct keyd *k, json_t *also, int phase)
{
	char via[2 * MEMBER_ID_BYTES + 1], why[NAME_MAX_LEN + 96];
	const struct record *r;
	size_t i;

	for (i = 0; i < k->recs.n; i++) {
		r = &k->recs.v[i].rec;
		if ((phase == 0) == (revoked_is(k, r->id) != 0))
			continue;
		if (!chain_revoked(k, r, via, sizeof(via)))
			continue;
		if (memcmp(r->id, keys_id(), MEMBER_ID_BYTES) == 0) {
			/* We keep our own record to sign and show; the
			 * others drop it. */
			log_warnx_rl(k, "this member (%s) is revoked or was "
			    "admitted through a revoked member (%s)", r->name,
			    via);
			continue;
		}
		if (phase == 1)
			snprintf(why, sizeof(why), "revoked");
		else {
			snprintf(why, sizeof(why), "admitted through %s, "
			    "which is revoked", via);
			if (also != NULL)
				json_array_append_new(also,
				    json_string(r->name));
		}
		keyd_record_drop(k, i, why);
		/* Its tor may hold a circuit to our onion service open:
		 * tor.c closes them once tor has the new client list. */
		k->tor_cut = 1;
		return 1;
	}
	return 0;
}

size_t
revoke_prune(struct keyd *k, json_t *also)
{
	size_t n = 0;
	int phase;

	/* Removing one record can break another's chain: again until
	 * nothing changes (at most once per record). */
	for (phase = 0; phase < 2; phase++)
		while (prune_one(k, also, phase))
			n++;
	/* What a revoked member was given, or a revoked admin gave. */
	(void)grants_prune(k);
	return n;
}

/* ---- load ---------------------------------------------------------- */

/* One file of STATE/revoked (keyd_signed_fn). */
static int
load_one(void *arg, const char *path, const char *fname, const char *text,
    size_t len)
{
	struct keyd *k = arg;
	char err[256], hex[2 * MEMBER_ID_BYTES + 1];
	struct revocation v;

	if (revocation_parse(&v, text, len, err, sizeof(err)) == -1) {
		log_warnx("%s: %s; skipped", path, err);
		return -1;
	}
	hex_encode(hex, v.revoked, MEMBER_ID_BYTES);
	if (strcmp(hex, fname) != 0) {
		log_warnx("%s: the file is not named after the revoked id "
		    "(%s); skipped", path, hex);
		return -1;
	}
	if (revocation_verify(&v, k->netid) != 0) {
		log_warnx("%s: signature does not verify for this network;"
		    " skipped", path);
		return -1;
	}
	if (revoked_put(k, &v, text, len) == -1) {
		log_warnx("%s: out of memory; skipped", path);
		return -1;
	}
	return 0;
}

int
revoke_load(struct keyd *k, char *err, size_t errlen)
{
	const char *dir = k->d.conf.paths.revoked_dir;
	size_t bad;

	if (keyd_signed_load(dir, REVOCATION_MAX_LEN, load_one, k, &bad, err,
	    errlen) == -1)
		return -1;
	if (k->revoked.n > 0 || bad > 0)
		log_info("%s: %zu revocations%s", dir, k->revoked.n,
		    bad > 0 ? " (some files skipped, see above)" : "");
	if (revoke_prune(k, NULL) > 0)
		gossip_records_changed(k);
	return 0;
}

/* ---- new revocations ----------------------------------------------- */

/*
 * Keep, store, flood (to every direct peer but from) and act on a
 * checked revocation. The flood goes first: linkd handles our messages
 * in order, so the revoked member's links still carry it before the
 * MSG_RECORD_DEL below ends them, and it learns it is out.
 */
static void
revoke_apply(struct keyd *k, const struct revocation *v, const char *text,
    size_t len, json_t *also, const uint8_t *from)
{
	int held;

	if (revoked_put(k, v, text, len) == -1)
		log_warnx("out of memory holding a revocation");
	keyd_signed_store(k->d.conf.paths.revoked_dir, v->revoked, text, len,
	    "revocation");
	k->revoked.accepted++;
	gossip_flood_revocation(k, v->revoked, from);
	held = records_find(&k->recs, v->revoked) != NULL;
	(void)revoke_prune(k, also);
	gossip_records_changed(k);
	/* Not held: linkd may still know the key from an earlier push
	 * (a record it got before ours was reloaded); tell it anyway. */
	if (!held && memcmp(v->revoked, keys_id(), MEMBER_ID_BYTES) != 0)
		push_record_del(k, v->revoked);
}

int
revoke_make(struct keyd *k, const char *name, char *revoked_name,
    size_t rncap, json_t *also, char *err, size_t errlen)
{
	const struct keyd_rec *target = NULL, *own;
	char why[512], text[REVOCATION_MAX_LEN];
	struct revocation v;
	size_t i;
	int len, we_root;

	for (i = 0; i < k->recs.n; i++)
		if (strcmp(k->recs.v[i].rec.name, name) == 0)
			target = &k->recs.v[i];
	if (target == NULL) {
		snprintf(err, errlen, "no member called \"%s\" (onionmesh "
		    "records lists them)", name);
		return -1;
	}
	if (memcmp(target->rec.id, keys_id(), MEMBER_ID_BYTES) == 0) {
		snprintf(err, errlen, "\"%s\" is this member itself; another "
		    "admin or the root must revoke it", name);
		return -1;
	}
	if (memcmp(target->rec.id, k->d.conf.root, MEMBER_ID_BYTES) == 0) {
		snprintf(err, errlen, "\"%s\" is the network's root, which "
		    "cannot be revoked", name);
		return -1;
	}
	we_root = memcmp(keys_id(), k->d.conf.root, MEMBER_ID_BYTES) == 0;
	own = records_find(&k->recs, keys_id());
	if (!we_root) {
		if (own == NULL || own->rec.role != ROLE_ADMIN) {
			snprintf(err, errlen, "only the root or an admin may "
			    "revoke, and this member (%s) is %s",
			    k->d.conf.name, own == NULL ? "without a record" :
			    "a plain member");
			return -1;
		}
		if (keyd_trust_check(k, &own->rec, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "this member's own admission "
			    "does not hold, so its revocations would be "
			    "refused: %s", why);
			return -1;
		}
	}
	snprintf(revoked_name, rncap, "%s", target->rec.name);
	memset(&v, 0, sizeof(v));
	memcpy(v.revoked, target->rec.id, MEMBER_ID_BYTES);
	v.serial = keyd_serial_now(1);
	if (keys_sign_revocation(&v, k->netid) == -1 ||
	    (len = revocation_format(&v, text, sizeof(text), 1)) < 0) {
		snprintf(err, errlen, "cannot sign the revocation of %s",
		    name);
		return -1;
	}
	/* What every other member will check, checked here first. */
	if (revocation_check(&v, k->d.conf.root, k->netid, lookup_cb,
	    revoked_cb, k, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "the revocation would be refused: %s",
		    why);
		return -1;
	}
	log_info("revoking %s", revoked_name);
	revoke_apply(k, &v, text, (size_t)len, also, NULL);
	return 0;
}

/* Revocations held that by signed. */
static size_t
revoked_by(const struct keyd *k, const uint8_t by[MEMBER_ID_BYTES])
{
	size_t i, n = 0;

	for (i = 0; i < k->revoked.n; i++)
		n += memcmp(k->revoked.v[i].rv.by, by, MEMBER_ID_BYTES) == 0;
	return n;
}

/* An admin holds at most max_admitted revocations, as many as it may
 * admit (issue 15: else one admin fills every member's store); the
 * root, which could revoke the admin itself, is not bounded. 0, or -1
 * with why. */
static int
revoke_bound(struct keyd *k, const struct revocation *v, char *why,
    size_t whylen)
{
	char hex[17];

	if (memcmp(v->by, k->d.conf.root, MEMBER_ID_BYTES) == 0 ||
	    revoked_by(k, v->by) < k->d.conf.max_admitted)
		return 0;
	k->revoked.over_bound++;
	hex_encode(hex, v->by, 8);
	snprintf(why, whylen, "admin %s... holds %u revocations already "
	    "(max_admitted = %u)", hex, k->d.conf.max_admitted,
	    k->d.conf.max_admitted);
	return -1;
}

int
revoke_accept(struct keyd *k, const char *text, size_t len,
    const uint8_t *from, char *why, size_t whylen)
{
	struct revocation v;
	char err[256], canon[REVOCATION_MAX_LEN];
	ssize_t i;
	int n;

	if (revocation_parse(&v, text, len, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "a revocation that does not parse: %s",
		    err);
		k->revoked.refused++;
		return -1;
	}
	/* Canonical by construction; checked so the stored bytes are the
	 * signed ones. */
	n = revocation_format(&v, canon, sizeof(canon), 1);
	if (n < 0 || (size_t)n != len || memcmp(canon, text, len) != 0) {
		snprintf(why, whylen, "a revocation not in canonical form");
		k->revoked.refused++;
		return -1;
	}
	i = revoked_index(k, v.revoked);
	if (i >= 0 && v.serial <= k->revoked.v[i].rv.serial)
		return 0;
	if (revocation_check(&v, k->d.conf.root, k->netid, lookup_cb,
	    revoked_cb, k, why, whylen) != 0 ||
	    (i < 0 && revoke_bound(k, &v, why, whylen) != 0)) {
		k->revoked.refused++;
		return -1;
	}
	if (i >= 0) {
		/* Another valid revocation of a member already revoked:
		 * keep the newer so digests agree; nothing else to do. */
		if (revoked_put(k, &v, text, len) == 0)
			keyd_signed_store(k->d.conf.paths.revoked_dir,
			    v.revoked, text, len, "revocation");
		return 0;
	}
	revoke_apply(k, &v, text, len, NULL, from);
	return 1;
}
