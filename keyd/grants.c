/*
 * keyd's side of granting subnets (issue 14): who may give a member a
 * subnet, which subnets can be given at all, and the grants held.
 * `invite --subnet` puts subnets in the admission; ctl "grant" signs a
 * grant (proto/trust.h) for a member admitted already. Both refuse
 * what every member would refuse anyway (proto/claims.h): a subnet
 * overlapping the network's own ranges or another member's addresses.
 *
 * Grants are held one per member (the highest serial; a new one lists
 * every subnet given since the admission), checked when they come
 * (grant_check), flooded like revocations and listed in digests.
 * proto/claims.c asks keyd_granted whether a record's subnet is given;
 * a grant to us re-signs our own record with the subnets it gives.
 * Each is kept in STATE/grants/<member id> (keyd_signed_store), loaded
 * at start before our own record is signed (so a restart does not drop
 * a granted subnet from it), and given to a joiner with the records.
 * A grant goes when its member or its granter is revoked
 * (grants_prune, after every revocation); a held record that then
 * announces a subnet no longer given is dropped until its member signs
 * one without it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "proto/errbuf.h"
#include "proto/log.h"

/* Are we the root or a valid admin? 0, or -1 with err. */
static int
may_grant(const struct keyd *k, char *err, size_t errlen)
{
	const struct keyd_rec *own;
	char why[512];

	if (memcmp(keys_id(), k->d.conf.root, MEMBER_ID_BYTES) == 0)
		return 0;
	own = records_find(&k->recs, keys_id());
	if (own == NULL || own->rec.role != ROLE_ADMIN) {
		snprintf(err, errlen, "only the root or an admin can grant a "
		    "subnet, and this member (%s) is a plain member",
		    k->d.conf.name);
		return -1;
	}
	if (keyd_trust_check(k, &own->rec, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "this member cannot grant: its own "
		    "admission does not reach the network's root (%s)", why);
		return -1;
	}
	return 0;
}

int
keyd_grant_ok(const struct keyd *k, const uint8_t *member,
    const struct prefix *subnets, int n, char *err, size_t errlen)
{
	struct claims_net net;
	struct record probe;
	size_t j;
	int i;

	if (n < 0 || n > RECORD_MAX_SUBNETS) {
		snprintf(err, errlen, "%d subnets; a member holds at most %d",
		    n, RECORD_MAX_SUBNETS);
		return -1;
	}
	if (n > 0 && may_grant(k, err, errlen) == -1)
		return -1;
	keyd_claims_net(k, &net);
	/* A record with only the subnet: claims_clash then compares
	 * nothing but it with each member's addresses (its name has a
	 * blank, which no member name has). */
	memset(&probe, 0, sizeof(probe));
	snprintf(probe.name, sizeof(probe.name), "the grant");
	probe.nsubnets = 1;
	for (i = 0; i < n; i++) {
		probe.subnets[0] = subnets[i];
		if (claims_subnet_network(&net, "the grant", &subnets[i], err,
		    errlen) != CLAIM_OK)
			return -1;
		for (j = 0; j < k->recs.n; j++) {
			const struct record *o = &k->recs.v[j].rec;

			if (member != NULL && memcmp(o->id, member,
			    MEMBER_ID_BYTES) == 0)
				continue;
			if (claims_clash(&probe, o, err, errlen) != CLAIM_OK)
				return -1;
		}
	}
	return 0;
}

/* ---- the set ------------------------------------------------------- */

static long
grant_index(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < k->grants.n; i++)
		if (memcmp(k->grants.v[i].g.member, id, MEMBER_ID_BYTES) == 0)
			return (long)i;
	return -1;
}

size_t
grants_count(const struct keyd *k)
{
	return k->grants.n;
}

const struct grant *
grants_get(const struct keyd *k, size_t i)
{
	return i < k->grants.n ? &k->grants.v[i].g : NULL;
}

const char *
grants_text(const struct keyd *k, size_t i, size_t *len)
{
	if (i >= k->grants.n)
		return NULL;
	*len = k->grants.v[i].len;
	return k->grants.v[i].text;
}

int
keyd_granted(void *arg, const uint8_t id[MEMBER_ID_BYTES],
    const struct prefix *p)
{
	const struct keyd *k = arg;
	long i = grant_index(k, id);

	return i >= 0 && grant_covers(&k->grants.v[i].g, p);
}

/* Keep g (text canonical), replacing the one held for its member. 0, or
 * -1 out of memory. */
static int
grant_put(struct keyd *k, const struct grant *g, const char *text,
    size_t len)
{
	struct keyd_grants *s = &k->grants;
	struct keyd_grant *e;
	long i;

	if (len >= sizeof(e->text))
		return -1;
	if ((i = grant_index(k, g->member)) >= 0)
		e = &s->v[i];
	else {
		if (keyd_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 8) == -1)
			return -1;
		e = &s->v[s->n++];
	}
	e->g = *g;
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	e->len = len;
	return 0;
}

void
grants_free(struct keyd *k)
{
	free(k->grants.v);
	memset(&k->grants, 0, sizeof(k->grants));
}

json_t *
grants_status(const struct keyd *k)
{
	return json_pack("{s:I, s:I, s:I}", "held", (json_int_t)k->grants.n,
	    "accepted", (json_int_t)k->grants.accepted, "refused",
	    (json_int_t)k->grants.refused);
}

/* ---- acting on one ------------------------------------------------- */

static const struct record *
grant_lookup(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	const struct keyd_rec *r = records_find(&((const struct keyd *)arg)->
	    recs, id);

	return r != NULL ? &r->rec : NULL;
}

static int
grant_revoked(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	return revoked_is(arg, id);
}

/* What we are given changed: re-sign our record with it (linkd and
 * routed get it). */
static void
grants_own_changed(struct keyd *k)
{
	char err[256];

	records_own_grants(keyd_granted, k);
	if (records_own_refresh(&k->recs, &k->d.conf, k->netid, 0, 0, 0,
	    err, sizeof(err)) == -1)
		log_warnx("our record after a grant changed: %s", err);
	else
		push_all(k);
}

/* Keep, flood and act on a checked grant: a grant to us re-signs our
 * record with what it gives (and linkd and routed get it). */
static void
grant_apply(struct keyd *k, const struct grant *g, const char *text,
    size_t len, const uint8_t *from)
{
	if (grant_put(k, g, text, len) == -1) {
		log_warnx("out of memory holding a grant");
		return;
	}
	k->grants.accepted++;
	keyd_signed_store(k->d.conf.paths.grants_dir, g->member, text, len,
	    "grant");
	gossip_flood_grant(k, g->member, from);
	if (memcmp(g->member, keys_id(), MEMBER_ID_BYTES) == 0)
		grants_own_changed(k);
}

int
grant_make(struct keyd *k, const char *name, const struct prefix *subnets,
    int n, char *err, size_t errlen)
{
	const struct keyd_rec *target = NULL;
	char why[512], text[GRANT_MAX_LEN + 1];
	struct grant g;
	size_t i;
	long held;
	int len;

	for (i = 0; i < k->recs.n; i++)
		if (strcmp(k->recs.v[i].rec.name, name) == 0)
			target = &k->recs.v[i];
	if (target == NULL)
		return err_set(err, errlen, "no member called \"%s\" "
		    "(onionmesh records lists them)", name);
	if (memcmp(target->rec.id, k->d.conf.root, MEMBER_ID_BYTES) == 0)
		return err_set(err, errlen, "\"%s\" is the network's root, "
		    "which needs no grant", name);
	if (n < 1)
		return err_set(err, errlen, "no subnet to grant (--subnet "
		    "PREFIX)");
	if (keyd_grant_ok(k, target->rec.id, subnets, n, err, errlen) == -1)
		return -1;
	memset(&g, 0, sizeof(g));
	memcpy(g.member, target->rec.id, MEMBER_ID_BYTES);
	/* What was given before stays given. */
	if ((held = grant_index(k, g.member)) >= 0) {
		g.nsubnets = k->grants.v[held].g.nsubnets;
		memcpy(g.subnets, k->grants.v[held].g.subnets,
		    sizeof(g.subnets));
	}
	for (i = 0; i < (size_t)n; i++) {
		if (grant_covers(&g, &subnets[i]))
			continue;
		if (g.nsubnets >= RECORD_MAX_SUBNETS)
			return err_set(err, errlen, "%s would hold more than "
			    "%d granted subnets", name, RECORD_MAX_SUBNETS);
		g.subnets[g.nsubnets++] = subnets[i];
	}
	g.serial = keyd_serial_now(1);
	if (held >= 0 && g.serial <= k->grants.v[held].g.serial)
		g.serial = k->grants.v[held].g.serial + 1;
	if (keys_sign_grant(&g, k->netid) == -1 ||
	    (len = grant_format(&g, text, sizeof(text), 1)) < 0)
		return err_set(err, errlen, "cannot sign the grant to %s",
		    name);
	/* What every other member will check, checked here first. */
	if (grant_check(&g, k->d.conf.root, k->netid, grant_lookup,
	    grant_revoked, k, why, sizeof(why)) != 0)
		return err_set(err, errlen, "the grant would be refused: %s",
		    why);
	log_info("granting %s %d subnets", name, g.nsubnets);
	grant_apply(k, &g, text, (size_t)len, NULL);
	return 0;
}

/* Parse text as a grant in canonical form. 0, or -1 with why. */
static int
grant_canonical(struct grant *g, const char *text, size_t len, char *why,
    size_t whylen)
{
	char err[256], canon[GRANT_MAX_LEN + 1];
	int n;

	if (grant_parse(g, text, len, err, sizeof(err)) == -1)
		return err_set(why, whylen, "a grant that does not parse: %s",
		    err);
	/* Canonical by construction; checked so the held bytes are the
	 * signed ones. */
	n = grant_format(g, canon, sizeof(canon), 1);
	if (n < 0 || (size_t)n != len || memcmp(canon, text, len) != 0)
		return err_set(why, whylen, "a grant not in canonical form");
	return 0;
}

int
grant_accept(struct keyd *k, const char *text, size_t len,
    const uint8_t *from, char *why, size_t whylen)
{
	struct grant g;
	long i;

	if (grant_canonical(&g, text, len, why, whylen) == -1) {
		k->grants.refused++;
		return -1;
	}
	i = grant_index(k, g.member);
	if (i >= 0 && g.serial <= k->grants.v[i].g.serial)
		return 0;
	if (grant_check(&g, k->d.conf.root, k->netid, grant_lookup,
	    grant_revoked, k, why, whylen) != 0) {
		k->grants.refused++;
		return -1;
	}
	grant_apply(k, &g, text, len, from);
	return 1;
}

/* ---- load and prune ------------------------------------------------- */

/* One file of STATE/grants (keyd_signed_fn). The revocations are not
 * loaded yet: grants_prune runs after them. */
static int
load_one(void *arg, const char *path, const char *fname, const char *text,
    size_t len)
{
	struct keyd *k = arg;
	char why[512], hex[2 * MEMBER_ID_BYTES + 1];
	struct grant g;

	if (grant_canonical(&g, text, len, why, sizeof(why)) == -1 ||
	    grant_check(&g, k->d.conf.root, k->netid, grant_lookup,
	    grant_revoked, k, why, sizeof(why)) != 0) {
		log_warnx("%s: %s; skipped", path, why);
		return -1;
	}
	hex_encode(hex, g.member, MEMBER_ID_BYTES);
	if (strcmp(hex, fname) != 0) {
		log_warnx("%s: the file is not named after the member the "
		    "grant is for (%s); skipped", path, hex);
		return -1;
	}
	if (grant_put(k, &g, text, len) == -1) {
		log_warnx("%s: out of memory; skipped", path);
		return -1;
	}
	return 0;
}

void
grants_load(struct keyd *k)
{
	const char *dir = k->d.conf.paths.grants_dir;
	char err[512];
	size_t bad;

	if (keyd_signed_load(dir, GRANT_MAX_LEN, load_one, k, &bad, err,
	    sizeof(err)) == -1) {
		log_warnx("%s; grants come back by gossip", err);
		return;
	}
	if (k->grants.n > 0 || bad > 0)
		log_info("%s: %zu grants%s", dir, k->grants.n,
		    bad > 0 ? " (some files skipped, see above)" : "");
	records_own_grants(keyd_granted, k);
}

/* Drop the first held record (not ours) announcing a subnet that
 * neither its admission nor a held grant gives. 1 dropped. */
static int
prune_record(struct keyd *k)
{
	char why[512];
	struct claims_net net;
	const struct record *r;
	size_t i;
	int j;

	keyd_claims_net(k, &net);
	for (i = 0; i < k->recs.n; i++) {
		r = &k->recs.v[i].rec;
		if (memcmp(r->id, keys_id(), MEMBER_ID_BYTES) == 0)
			continue;
		for (j = 0; j < r->nsubnets; j++)
			if (!claims_subnet_owned(&net, r, &r->subnets[j]))
				break;
		if (j == r->nsubnets)
			continue;
		snprintf(why, sizeof(why), "a subnet it announces is no "
		    "longer granted (its grant or granter was revoked)");
		keyd_record_drop(k, i, why);
		return 1;
	}
	return 0;
}

size_t
grants_prune(struct keyd *k)
{
	char why[512], hex[17];
	size_t i = 0, n = 0;
	int ours = 0;

	while (i < k->grants.n) {
		const struct grant *g = &k->grants.v[i].g;

		if (!revoked_is(k, g->member) && grant_check(g,
		    k->d.conf.root, k->netid, grant_lookup, grant_revoked, k,
		    why, sizeof(why)) == 0) {
			i++;
			continue;
		}
		hex_encode(hex, g->member, 8);
		log_info("grant to %s... dropped: %s", hex,
		    revoked_is(k, g->member) ? "the member is revoked" : why);
		ours |= memcmp(g->member, keys_id(), MEMBER_ID_BYTES) == 0;
		keyd_signed_remove(k->d.conf.paths.grants_dir, g->member);
		k->grants.v[i] = k->grants.v[--k->grants.n];
		n++;
	}
	if (n == 0)
		return 0;
	while (prune_record(k))
		;
	if (ours)
		grants_own_changed(k);
	return n;
}
