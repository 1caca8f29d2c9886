/*
 * keyd's side of proto/claims.h: every record keyd takes (gossip, a
 * join, hosts/ at start and on reload, which is where `onionmesh
 * import` puts one) passes the same rules against the set keyd holds.
 * A refused record is never stored; a held one that a newcomer beats
 * in claims.h's order is dropped (file, memory, linkd and routed) with
 * a log line, so every member ends with the same survivors whatever
 * order records came in. Our own record is never dropped here: one that
 * would beat it is refused instead (the others drop us; we cannot).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "proto/log.h"

static const struct record *
held_at(void *arg, size_t i)
{
	return &((const struct keyd_records *)arg)->v[i].rec;
}

void
keyd_claims_net(const struct keyd *k, struct claims_net *n)
{
	claims_net_init(n, &k->d.conf.ipv4, k->netid, k->d.conf.root,
	    k->d.conf.max_admitted);
	/* The callback only reads through its arg. */
	n->granted = keyd_granted;
	n->granted_arg = (void *)(uintptr_t)k;
}

/* Count r's refusal, once per (id, serial) while it is in the ring,
 * and log it (rate-limited per reason). */
static void
claims_refused(struct keyd *k, const struct record *r, int reason,
    const char *via, const char *why)
{
	struct keyd_claims *c = &k->claims;
	size_t i, n = c->nlogged < KEYD_CLAIMS_LOGGED ? c->nlogged :
	    KEYD_CLAIMS_LOGGED;

	for (i = 0; i < n; i++)
		if (c->logged[i].serial == r->serial &&
		    memcmp(c->logged[i].id, r->id, MEMBER_ID_BYTES) == 0)
			return;
	i = c->nlogged++ % KEYD_CLAIMS_LOGGED;
	memcpy(c->logged[i].id, r->id, MEMBER_ID_BYTES);
	c->logged[i].serial = r->serial;
	if (reason > CLAIM_OK && reason < CLAIM_NREASONS)
		c->refused[reason]++;
	/* One line per reason every few seconds: a member that floods
	 * forged records fills the counters, not the log. */
	log_warnx_rl(&c->refused[reason > CLAIM_OK && reason < CLAIM_NREASONS ?
	    reason : 0], "record of %s (serial %llu) from %s refused: %s "
	    "(%s); not stored (count in status: claims)", r->name,
	    (unsigned long long)r->serial, via, why,
	    claim_reason_name(reason));
}

void
keyd_claims_untrusted(struct keyd *k, const struct record *r,
    const char *via, const char *why)
{
	const struct keyd_rec *a;

	if (!r->admitted || memcmp(r->admitted_by, k->d.conf.root,
	    MEMBER_ID_BYTES) == 0)
		return;
	a = records_find(&k->recs, r->admitted_by);
	if (a != NULL && a->rec.role != ROLE_ADMIN &&
	    !keyd_members_invite(k))
		claims_refused(k, r, CLAIM_ADMITTER_ROLE, via, why);
}

static int
is_own(const struct record *r)
{
	return memcmp(r->id, keys_id(), MEMBER_ID_BYTES) == 0;
}

int
keyd_claims_take(struct keyd *k, const struct record *r, const char *via,
    char *why, size_t whylen)
{
	struct claims_net n;
	char w[512];
	size_t i;
	int rc;

	keyd_claims_net(k, &n);
	rc = claims_check(&n, r, held_at, &k->recs, k->recs.n, why, whylen);
	for (i = 0; rc == CLAIM_OK && i < k->recs.n; i++)
		if (is_own(&k->recs.v[i].rec) &&
		    claims_displaces(&n, r, &k->recs.v[i].rec))
			rc = claims_clash(r, &k->recs.v[i].rec, why, whylen);
	if (rc != CLAIM_OK) {
		claims_refused(k, r, rc, via, why);
		return -1;
	}
	for (i = 0; i < k->recs.n; ) {
		const struct record *o = &k->recs.v[i].rec;

		if (memcmp(o->id, r->id, MEMBER_ID_BYTES) == 0 ||
		    !claims_displaces(&n, r, o)) {
			i++;
			continue;
		}
		(void)claims_clash(o, r, w, sizeof(w));
		k->claims.displaced++;
		keyd_record_drop(k, i, w);
	}
	return 0;
}

void
keyd_claims_bound(struct keyd *k, const struct record *r)
{
	struct claims_net n;
	char w[256];
	long i;

	if (!r->admitted)
		return;
	keyd_claims_net(k, &n);
	while ((i = claims_over_bound(&n, r->admitted_by, held_at,
	    &k->recs, k->recs.n)) >= 0 && !is_own(&k->recs.v[i].rec)) {
		snprintf(w, sizeof(w), "its admitter has more than %u "
		    "members held (max_admitted) and it comes last",
		    n.max_per_admitter);
		k->claims.refused[CLAIM_ADMITTER_FULL]++;
		keyd_record_drop(k, (size_t)i, w);
	}
}

/* The order for the whole-set check; keyd is single-threaded. */
static const struct claims_net *sort_net;
static const struct keyd_records *sort_recs;

static int
order_cmp(const void *a, const void *b)
{
	const struct record *x = &sort_recs->v[*(const size_t *)a].rec;
	const struct record *y = &sort_recs->v[*(const size_t *)b].rec;

	if (is_own(x) != is_own(y))
		return is_own(x) ? -1 : 1;
	if (claims_precedes(sort_net, x, y))
		return -1;
	return claims_precedes(sort_net, y, x) ? 1 : 0;
}

struct accepted {
	const struct keyd_records *s;
	const uint8_t *ok;
};

static const struct record *
accepted_at(void *arg, size_t i)
{
	const struct accepted *a = arg;

	return a->ok[i] ? &a->s->v[i].rec : NULL;
}

size_t
keyd_claims_prune(struct keyd *k)
{
	struct claims_net n;
	struct accepted acc;
	size_t *ord, i, dropped = 0;
	uint8_t *ok;
	char why[512];
	int rc;

	if (k->recs.n == 0)
		return 0;
	ord = calloc(k->recs.n, sizeof(*ord));
	ok = calloc(k->recs.n, 1);
	if (ord == NULL || ok == NULL) {
		log_warnx("out of memory checking the records' claims");
		free(ord);
		free(ok);
		return 0;
	}
	keyd_claims_net(k, &n);
	for (i = 0; i < k->recs.n; i++)
		ord[i] = i;
	sort_net = &n;
	sort_recs = &k->recs;
	qsort(ord, k->recs.n, sizeof(*ord), order_cmp);
	acc.s = &k->recs;
	acc.ok = ok;
	for (i = 0; i < k->recs.n; i++) {
		const struct record *r = &k->recs.v[ord[i]].rec;

		rc = is_own(r) ? CLAIM_OK : claims_check(&n, r, accepted_at,
		    &acc, k->recs.n, why, sizeof(why));
		if (rc == CLAIM_OK)
			ok[ord[i]] = 1;
		else
			claims_refused(k, r, rc, "hosts/", why);
	}
	for (i = k->recs.n; i-- > 0; )
		if (!ok[i]) {
			keyd_record_drop(k, i, "its claims are refused (see"
			    " above)");
			dropped++;
		}
	free(ord);
	free(ok);
	return dropped;
}

json_t *
keyd_claims_status(const struct keyd *k)
{
	json_t *o = json_object(), *by = json_object();
	uint64_t total = 0;
	int i;

	if (o == NULL || by == NULL) {
		json_decref(o);
		json_decref(by);
		return NULL;
	}
	for (i = CLAIM_OK + 1; i < CLAIM_NREASONS; i++) {
		total += k->claims.refused[i];
		json_object_set_new(by, claim_reason_name(i),
		    json_integer((json_int_t)k->claims.refused[i]));
	}
	json_object_set_new(o, "refused", json_integer((json_int_t)total));
	json_object_set_new(o, "displaced",
	    json_integer((json_int_t)k->claims.displaced));
	json_object_set_new(o, "refused_by_reason", by);
	return o;
}
