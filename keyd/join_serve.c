/*
 * The inviter's side of the join exchange in the daemon: linkd relays a
 * joiner's WIRE_JOIN frames as MSG_JOIN_IN {conn, body}; each conn gets
 * a join_inviter (keyd/join.c) and every frame it produces goes back as
 * MSG_JOIN_OUT, the last one with JOIN_OUT_CLOSE.
 *
 * After an admission the newcomer sends its own signed record, which is
 * kept here at once (keyd/join.h says why).
 *
 * The redeem step is the one with effects: the invitation is consumed
 * (invites_redeem: constant-time secret check, expiry, atomic rename)
 * and the joiner's admission signed (invites_admit); then the joiner
 * gets the network's root, the settings a member may be told, and the
 * text of every record that passes the chain check and every
 * revocation. keyd is single-threaded, so any number of concurrent
 * redeems of one invitation are serialised and exactly one wins.
 *
 * Bounds: JOIN_MAX_CONNS states at once (linkd has the same bound on
 * relays), JOIN_TIMEOUT s each (linkd closes its relay at the same
 * time and says so with an empty MSG_JOIN_IN; the sweep here covers a
 * linkd that went away). A frame that could not be queued to linkd
 * (its buffer full while a big admission goes out) waits and is tried
 * again on the timer, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "keyd/invites.h"
#include "keyd/join.h"
#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "proto/buf.h"
#include "proto/file.h"
#include "proto/log.h"
#include "proto/trust.h"

#define JOIN_SWEEP_S  0.2

struct join_conn {
	uint32_t conn;
	double t0;
	int live;
	int closing;                  /* the last frame was queued */
	struct join_inviter st;
	/* frames not yet taken by linkd's channel, oldest first */
	uint8_t **q;
	size_t *qlen;
	uint8_t *qflags;
	size_t nq, qcap;
};

struct keyd_joins {
	struct join_conn c[JOIN_MAX_CONNS];
	ev_timer sweep;
	uint64_t started, admitted, refused, failed, timeouts, busy;
	uint64_t strangers;        /* HELLOs without a valid MAC */
};

static uint8_t out_body[JOIN_BODY_MAX];
static uint8_t msg_buf[MSG_JOIN_BODY_MAX + 64];

static int
serve_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	return keys_join_dh(out, pub);
}

static void
conn_free(struct join_conn *jc)
{
	size_t i;

	for (i = 0; i < jc->nq; i++) {
		sodium_memzero(jc->q[i], jc->qlen[i]);
		free(jc->q[i]);
	}
	free(jc->q);
	free(jc->qlen);
	free(jc->qflags);
	join_inviter_wipe(&jc->st);
	memset(jc, 0, sizeof(*jc));
}

static int
send_out(struct keyd *k, uint32_t conn, uint8_t flags, const uint8_t *body,
    size_t len)
{
	struct msg_join_out m;
	struct buf_w w;

	memset(&m, 0, sizeof(m));
	m.conn = conn;
	m.flags = flags;
	m.len = (uint16_t)len;
	m.data = body;
	bw_init(&w, msg_buf, sizeof(msg_buf));
	msg_join_out_encode(&w, &m);
	if (w.err || k->linkd == NULL)
		return -1;
	return ipc_send(k->linkd, MSG_JOIN_OUT, 0, 0, &w);
}

/* Queue behind what is waiting, or send now when nothing is. */
static int
conn_send(struct keyd *k, struct join_conn *jc, uint8_t flags,
    const uint8_t *body, size_t len)
{
	uint8_t **q, *copy;
	size_t *ql, ncap;
	uint8_t *qf;

	if (jc->nq == 0 && send_out(k, jc->conn, flags, body, len) == 0)
		return 0;
	if (jc->nq == jc->qcap) {
		ncap = jc->qcap ? jc->qcap * 2 : 8;
		if (ncap > 256)
			return -1;
		q = realloc(jc->q, ncap * sizeof(*q));
		if (q == NULL)
			return -1;
		jc->q = q;
		ql = realloc(jc->qlen, ncap * sizeof(*ql));
		if (ql == NULL)
			return -1;
		jc->qlen = ql;
		qf = realloc(jc->qflags, ncap);
		if (qf == NULL)
			return -1;
		jc->qflags = qf;
		jc->qcap = ncap;
	}
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, body, len);
	jc->q[jc->nq] = copy;
	jc->qlen[jc->nq] = len;
	jc->qflags[jc->nq] = flags;
	jc->nq++;
	return 0;
}

/* Try the waiting frames again, in order. */
static void
conn_flush(struct keyd *k, struct join_conn *jc)
{
	size_t i = 0, j;

	while (i < jc->nq && send_out(k, jc->conn, jc->qflags[i], jc->q[i],
	    jc->qlen[i]) == 0) {
		sodium_memzero(jc->q[i], jc->qlen[i]);
		free(jc->q[i]);
		i++;
	}
	for (j = i; j < jc->nq; j++) {
		jc->q[j - i] = jc->q[j];
		jc->qlen[j - i] = jc->qlen[j];
		jc->qflags[j - i] = jc->qflags[j];
	}
	jc->nq -= i;
}

static uint8_t
status_of(const char *why)
{
	if (strstr(why, "already used") != NULL)
		return JOIN_E_USED;
	if (strstr(why, "expired") != NULL)
		return JOIN_E_EXPIRED;
	return JOIN_E_INVALID;
}

/* The n texts get(k, i) gives (revocations, grants), pointing into
 * what keyd holds, into a malloc'd *out. 0, or -1 out of memory. */
static int
texts_of(const struct keyd *k, size_t n,
    const char *(*get)(const struct keyd *, size_t, size_t *),
    struct join_text **out, size_t *nout)
{
	const char *t;
	size_t i, len;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((t = get(k, i, &len)) == NULL)
			continue;
		(*out)[*nout].p = t;
		(*out)[*nout].len = len;
		(*nout)++;
	}
	return 0;
}

/* The admit blob for a joiner whose invitation was redeemed. */
static int
admit_blob(struct keyd *k, const struct record *adm, uint8_t **blob,
    size_t *len)
{
	const struct conf *c = &k->d.conf;
	struct join_admit a;
	struct join_text *recs = NULL;
	const struct keyd_rec *kr;
	char why[256];
	size_t i, n;
	int r;

	memset(&a, 0, sizeof(a));
	a.status = JOIN_OK;
	snprintf(a.name, sizeof(a.name), "%s", adm->name);
	a.ipv4 = adm->ipv4;
	a.ipv6 = adm->ipv6;
	a.role = adm->role;
	memcpy(a.admitted_by, adm->admitted_by, MEMBER_ID_BYTES);
	memcpy(a.admission, adm->admission, sizeof(a.admission));
	memcpy(a.subnets, adm->admitted_subnets, sizeof(a.subnets));
	a.nsubnets = adm->nadmitted_subnets;
	memcpy(a.root, c->root, MEMBER_ID_BYTES);
	snprintf(a.net, sizeof(a.net), "%s", c->paths.net);
	a.range4 = c->ipv4;
	if (a.range4.family == 4)
		prefix_mask(&a.range4);
	else
		memset(&a.range4, 0, sizeof(a.range4));
	a.mtu = c->mtu;
	a.anonymous = c->anonymous;
	if (k->recs.n > 0 &&
	    (recs = calloc(k->recs.n, sizeof(*recs))) == NULL)
		return -1;
	for (i = 0, n = 0; i < k->recs.n; i++) {
		kr = &k->recs.v[i];
		/* Pinned by hand without a chain: the joiner could not
		 * check it, so it does not get it. */
		if (keyd_trust_check(k, &kr->rec, why, sizeof(why)) == -1)
			continue;
		recs[n].p = kr->text;
		recs[n].len = kr->len;
		n++;
	}
	a.records = recs;
	a.nrecords = n;
	if (texts_of(k, revoked_count(k), revoked_text, &a.revs, &a.nrevs) ==
	    -1 || texts_of(k, grants_count(k), grants_text, &a.grants,
	    &a.ngrants) == -1) {
		free(recs);
		free(a.revs);
		return -1;
	}
	r = join_admit_encode(&a, blob, len);
	free(recs);
	free(a.revs);
	free(a.grants);
	return r;
}

static int
serve_hello(void *arg, const uint8_t id[INVITE_ID_BYTES],
    const uint8_t mac[INVITE_HELLO_MAC_BYTES])
{
	struct keyd *k = arg;

	if (invites_hello_ok(k, id, mac))
		return 1;
	k->joins->strangers++;
	return 0;
}

static int
serve_redeem(void *arg, const uint8_t jid[MEMBER_ID_BYTES],
    const uint8_t iid[INVITE_ID_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES], uint8_t **blob, size_t *len)
{
	struct keyd *k = arg;
	struct invite inv;
	struct record adm;
	char why[256], idhex[2 * INVITE_ID_BYTES + 1];

	hex_encode(idhex, iid, INVITE_ID_BYTES);
	/* Refusals that must not consume the invitation come first. */
	if (revoked_is(k, jid)) {
		k->joins->refused++;
		log_warnx("join with invitation %s refused: the joiner's key "
		    "is revoked", idhex);
		return join_admit_encode_error(JOIN_E_REFUSED, "this key was "
		    "revoked in this network", blob, len);
	}
	if (records_find(&k->recs, jid) != NULL) {
		k->joins->refused++;
		return join_admit_encode_error(JOIN_E_REFUSED, "this key is "
		    "already a member of the network", blob, len);
	}
	if (invites_redeem(k, iid, secret, &inv, why, sizeof(why)) == -1) {
		k->joins->refused++;
		log_warnx("join with invitation %s refused: %s", idhex, why);
		return join_admit_encode_error(status_of(why), why, blob,
		    len);
	}
	memset(&adm, 0, sizeof(adm));
	if (invites_admit(k, &inv, jid, &adm) == -1) {
		k->joins->failed++;
		log_warnx("join with invitation %s: the admission of %s "
		    "could not be made", idhex, inv.name);
		return join_admit_encode_error(JOIN_E_REFUSED, "the inviter "
		    "could not sign the admission", blob, len);
	}
	if (admit_blob(k, &adm, blob, len) == -1) {
		k->joins->failed++;
		log_warnx("join of %s: the answer could not be built",
		    inv.name);
		return join_admit_encode_error(JOIN_E_REFUSED, "the inviter "
		    "could not build its answer", blob, len);
	}
	k->joins->admitted++;
	log_info("join: admitted %s (invitation %s made by %s)", inv.name,
	    idhex, inv.made_by);
	return 0;
}

/*
 * RECORD: the newcomer's own record, self-signed with the key it was
 * just admitted with and carrying that admission. Kept like a record
 * that came by gossip with a valid chain (hosts/, memory, linkd and
 * routed), so the two can link whichever of them is to dial.
 */
static int
serve_record(void *arg, const uint8_t jid[MEMBER_ID_BYTES], const char *text,
    size_t len, char *msg, size_t msgcap)
{
	struct keyd *k = arg;
	static struct record r;
	char why[512], path[PATH_MAX];
	const struct keyd_rec *held;

	if (record_parse(&r, text, len, why, sizeof(why)) == -1) {
		snprintf(msg, msgcap, "the record does not parse: %s", why);
		goto refused;
	}
	if (memcmp(r.id, jid, MEMBER_ID_BYTES) != 0 ||
	    record_verify(&r, k->netid) != 0) {
		snprintf(msg, msgcap, "the record is not signed by the key "
		    "that was admitted");
		goto refused;
	}
	if (!r.admitted || memcmp(r.admitted_by, keys_id(),
	    MEMBER_ID_BYTES) != 0 || keyd_trust_check(k, &r, why,
	    sizeof(why)) == -1) {
		snprintf(msg, msgcap, "the record does not carry the "
		    "admission just made");
		goto refused;
	}
	held = records_find(&k->recs, r.id);
	if (held != NULL && held->rec.serial >= r.serial)
		return 0;                /* it came by gossip already */
	/* What it claims, like any record (proto/claims.h). */
	if (keyd_claims_take(k, &r, "a joiner", why, sizeof(why)) == -1) {
		snprintf(msg, msgcap, "%s", why);
		goto refused;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
	    k->d.conf.paths.hosts_dir, r.name) >= sizeof(path) ||
	    file_write_atomic(path, text, len, 0644) == -1)
		log_warn("join: %s/%s: record kept in memory only",
		    k->d.conf.paths.hosts_dir, r.name);
	if (records_put(&k->recs, &r, text, len) == -1) {
		snprintf(msg, msgcap, "the inviter is out of memory");
		goto refused;
	}
	log_info("join: record of %s kept (serial %llu)", r.name,
	    (unsigned long long)r.serial);
	keyd_claims_bound(k, &r);
	push_all(k);
	gossip_record_new(k, r.id);
	return 0;
refused:
	log_warnx("join: a newcomer's record refused: %s", msg);
	return -1;
}

static struct join_conn *
conn_find(struct keyd_joins *j, uint32_t conn)
{
	size_t i;

	for (i = 0; i < JOIN_MAX_CONNS; i++)
		if (j->c[i].live && j->c[i].conn == conn)
			return &j->c[i];
	return NULL;
}

static struct join_conn *
conn_new(struct keyd *k, uint32_t conn)
{
	struct keyd_joins *j = k->joins;
	size_t i;

	for (i = 0; i < JOIN_MAX_CONNS; i++)
		if (!j->c[i].live)
			break;
	if (i == JOIN_MAX_CONNS)
		return NULL;
	j->c[i].live = 1;
	j->c[i].conn = conn;
	j->c[i].t0 = ev_now(k->d.loop);
	join_inviter_init(&j->c[i].st, keys_join_pub(), k->d.conf.root,
	    k->netid, serve_dh, NULL, serve_redeem, k);
	join_inviter_set_hello(&j->c[i].st, serve_hello);
	join_inviter_set_record(&j->c[i].st, serve_record);
	j->started++;
	return &j->c[i];
}

/* Everything the machine has to say, the last with CLOSE. */
static void
conn_drain(struct keyd *k, struct join_conn *jc)
{
	int n, last = 0;

	while ((n = join_inviter_next(&jc->st, out_body, sizeof(out_body),
	    &last)) > 0) {
		if (conn_send(k, jc, last ? JOIN_OUT_CLOSE : 0, out_body,
		    (size_t)n) == -1) {
			log_warnx("join #%u: cannot queue an answer to linkd",
			    jc->conn);
			(void)send_out(k, jc->conn, JOIN_OUT_CLOSE, NULL, 0);
			conn_free(jc);
			return;
		}
		if (last)
			jc->closing = 1;
	}
	sodium_memzero(out_body, sizeof(out_body));
	if (n == -1) {
		/* A stranger's HELLO is counted (status: joins.strangers),
		 * not logged one line each: a flood of them must not fill
		 * the journal. */
		if (jc->st.hello_refused)
			log_warnx_rl(&k->joins->strangers, "join #%u: %s "
			    "(%llu so far)", jc->conn, jc->st.why,
			    (unsigned long long)k->joins->strangers);
		else
			log_info("join #%u: ended: %s", jc->conn,
			    jc->st.why != NULL ? jc->st.why : "failed");
		k->joins->failed++;
		(void)conn_send(k, jc, JOIN_OUT_CLOSE, NULL, 0);
		jc->closing = 1;
	}
	if (jc->closing && jc->nq == 0)
		conn_free(jc);
}

void
join_serve_on_in(struct keyd *k, const uint8_t *p, size_t n)
{
	struct msg_join_in m;
	struct join_conn *jc;

	if (k->joins == NULL)
		return;
	if (msg_join_in_decode(&m, p, n) == -1) {
		log_warnx_rl(k->joins, "linkd sent a MSG_JOIN_IN that does "
		    "not decode (%zu bytes)", n);
		return;
	}
	jc = conn_find(k->joins, m.conn);
	if (m.len == 0) {                /* linkd closed it */
		if (jc != NULL)
			conn_free(jc);
		return;
	}
	/* A new exchange under a number still held (a restarted linkd
	 * counts from 1 again): the old state goes. */
	if (jc != NULL && m.data[0] == JOIN_HELLO &&
	    jc->st.state != JI_HELLO) {
		conn_free(jc);
		jc = NULL;
	}
	if (jc == NULL) {
		if (m.data[0] != JOIN_HELLO || !keys_loaded() ||
		    (jc = conn_new(k, m.conn)) == NULL) {
			if (m.data[0] == JOIN_HELLO)
				k->joins->busy++;
			(void)send_out(k, m.conn, JOIN_OUT_CLOSE, NULL, 0);
			return;
		}
	}
	if (jc->closing)
		return;
	/* A failure shows in join_inviter_next, which conn_drain reads. */
	if (join_inviter_input(&jc->st, m.data, m.len) == -1)
		log_debug("join #%u: %s", jc->conn, jc->st.why);
	conn_drain(k, jc);
}

static void
sweep_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct keyd *k = t->data;
	struct keyd_joins *j = k->joins;
	double now = ev_now(loop);
	size_t i;

	for (i = 0; i < JOIN_MAX_CONNS; i++) {
		if (!j->c[i].live)
			continue;
		if (j->c[i].nq > 0)
			conn_flush(k, &j->c[i]);
		if (j->c[i].closing && j->c[i].nq == 0) {
			conn_free(&j->c[i]);
			continue;
		}
		if (now - j->c[i].t0 > JOIN_TIMEOUT) {
			j->timeouts++;
			log_info("join #%u: timed out", j->c[i].conn);
			(void)send_out(k, j->c[i].conn, JOIN_OUT_CLOSE, NULL,
			    0);
			conn_free(&j->c[i]);
		}
	}
}

void
join_serve_start(struct keyd *k)
{
	if ((k->joins = calloc(1, sizeof(*k->joins))) == NULL)
		fatalx("out of memory");
	ev_timer_init(&k->joins->sweep, sweep_cb, JOIN_SWEEP_S, JOIN_SWEEP_S);
	k->joins->sweep.data = k;
	ev_timer_start(k->d.loop, &k->joins->sweep);
}

void
join_serve_linkd_up(struct keyd *k)
{
	size_t i;

	/* A (re)connected linkd has no relays from before. */
	if (k->joins == NULL)
		return;
	for (i = 0; i < JOIN_MAX_CONNS; i++)
		if (k->joins->c[i].live)
			conn_free(&k->joins->c[i]);
}

void
join_serve_stop(struct keyd *k)
{
	size_t i;

	if (k->joins == NULL)
		return;
	ev_timer_stop(k->d.loop, &k->joins->sweep);
	for (i = 0; i < JOIN_MAX_CONNS; i++)
		if (k->joins->c[i].live)
			conn_free(&k->joins->c[i]);
	free(k->joins);
	k->joins = NULL;
}

json_t *
join_serve_status(const struct keyd *k)
{
	const struct keyd_joins *j = k->joins;
	size_t i, open = 0;

	if (j == NULL)
		return json_object();
	for (i = 0; i < JOIN_MAX_CONNS; i++)
		open += j->c[i].live != 0;
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "open", (json_int_t)open,
	    "strangers", (json_int_t)j->strangers,
	    "started", (json_int_t)j->started,
	    "admitted", (json_int_t)j->admitted,
	    "refused", (json_int_t)j->refused,
	    "failed", (json_int_t)j->failed,
	    "timeouts", (json_int_t)j->timeouts,
	    "busy", (json_int_t)j->busy);
}
