/*
 * keyd's gossip: host records and edge announcements spread from member
 * to member, so a changed record (new endpoint, new serial) reaches every
 * member by itself and every routed learns the whole graph. A record of
 * a member we do not hold is taken from gossip only when its admission
 * chain reaches the root (proto/trust.c); members pinned by hand come by
 * import. Revocations spread as a third kind of object (revoke.c holds
 * them and acts on them); a revoked id's record is refused for good.
 *
 * keyd owns the objects (it alone can verify and sign them); linkd only
 * carries INNER_GOSSIP payloads between members (MSG_GOSSIP_IN/OUT) and
 * tells keyd, as it tells routed, how many links each member has
 * (MSG_PEER_STATE). The protocol is the classic push plus anti-entropy:
 *  - when a member's first link comes up, each side sends the other a
 *    digest of everything it holds (kind, id, serial); the receiver
 *    answers with the objects the digest lacks or has older, and a want
 *    for those it lacks itself. A digest too big for one payload comes in
 *    chunks sorted by (kind, id); a full chunk means more follow, and
 *    each chunk only speaks for its own range (gossip_diff's lo, hi);
 *  - an object newer than the one held is verified, stored, handed to
 *    linkd/routed and flooded to every other direct peer. An object is
 *    flooded only when it is new to us, so a flood dies out once every
 *    member has it; and at most once a second per object, the latest
 *    version winning, so a member that churns its announcement cannot
 *    make the network churn faster than that;
 *  - every couple of minutes a digest goes to one random neighbour, so
 *    a message dropped on a congested link is repaired without waiting
 *    for a link to come up.
 * Records come before announcements everywhere (digests sort records
 * first), because an announcement is accepted only from a member whose
 * record we hold; one that arrives first is dropped, and when the record
 * arrives we ask its sender for the member's announcement.
 *
 * Records are stored in hosts/ (atomically, as before) and announcements
 * in memory only: after a restart the neighbours' digests bring them
 * back within seconds. Our own announcement is built from routed's
 * MSG_EDGES_LOCAL (routed knows our live links), signed here, at most
 * once a second, and only when a link came or went or an rtt or a rate
 * moved enough to matter (rates rounded down to a power of two, and a
 * new announcement only when that bucket moved x4); its serial is
 * max(previous + 1, unix time in ms), and raised past any copy of ours
 * a neighbour still holds, so it keeps going up across restarts.
 *
 * The pure part (digest diff, payload codecs, the "worth announcing"
 * rule) does no I/O; tests/unit/test_gossip.c calls it directly.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/invites.h"
#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "proto/file.h"
#include "proto/log.h"

#define GOSSIP_FLOOD_MIN_S 1.0    /* one flood per object per second */
#define GOSSIP_OWN_MIN_S   1.0    /* our announcement at most this often */
#define GOSSIP_AE_S        120.0  /* a digest to a random neighbour */
#define GOSSIP_CONT_S      30.0   /* a digest's chunks come within this */
/*
 * A member's digest or want costs it a few bytes and us every object it
 * names or lacks: without a bound, one member could make us send the
 * whole network's records again and again. Each member gets a budget
 * of objects in answers; a link-up exchange (at most our inventory)
 * and the anti-entropy rounds fit in it many times over.
 */
#define GOSSIP_ANSWER_MIN  64.0
#define GOSSIP_RECORD_MODE 0644

/* ---- pure ---------------------------------------------------------- */

int
gossip_obj_cmp(const struct gossip_obj *a, const struct gossip_obj *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return memcmp(a->id, b->id, MEMBER_ID_BYTES);
}

static int
gossip_obj_qcmp(const void *a, const void *b)
{
	return gossip_obj_cmp(a, b);
}

void
gossip_objs_sort(struct gossip_obj *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), gossip_obj_qcmp);
}

void
gossip_diff(const struct gossip_obj *ours, size_t nours,
    const struct gossip_obj *theirs, size_t ntheirs,
    const struct gossip_obj *lo, const struct gossip_obj *hi,
    struct gossip_obj *send, size_t *nsend,
    struct gossip_obj *want, size_t *nwant)
{
	size_t i = 0, j = 0;
	int c, have_o, have_t;

	*nsend = *nwant = 0;
	while (lo != NULL && i < nours && gossip_obj_cmp(&ours[i], lo) <= 0)
		i++;
	for (;;) {
		have_o = i < nours &&
		    (hi == NULL || gossip_obj_cmp(&ours[i], hi) <= 0);
		have_t = j < ntheirs;
		if (!have_o && !have_t)
			break;
		if (have_o && have_t)
			c = gossip_obj_cmp(&ours[i], &theirs[j]);
		else
			c = have_o ? -1 : 1;
		if (c < 0)
			send[(*nsend)++] = ours[i++];
		else if (c > 0)
			want[(*nwant)++] = theirs[j++];
		else {
			if (ours[i].serial > theirs[j].serial)
				send[(*nsend)++] = ours[i];
			else if (ours[i].serial < theirs[j].serial)
				want[(*nwant)++] = theirs[j];
			i++;
			j++;
		}
	}
}

static size_t
gossip_list_encode(uint8_t *out, size_t *len, uint8_t type,
    const struct gossip_obj *v, size_t n, size_t max, int with_serial)
{
	struct buf_w w;
	size_t i, k = n < max ? n : max;

	bw_init(&w, out, GOSSIP_MAX_PAYLOAD);
	bw_u8(&w, type);
	bw_u16(&w, (uint16_t)k);
	for (i = 0; i < k; i++) {
		bw_u8(&w, v[i].kind);
		bw_bytes(&w, v[i].id, MEMBER_ID_BYTES);
		if (with_serial)
			bw_u64(&w, v[i].serial);
	}
	*len = w.err ? 0 : w.len;
	return w.err ? 0 : k;
}

size_t
gossip_digest_encode(uint8_t *out, size_t *len, const struct gossip_obj *v,
    size_t n)
{
	return gossip_list_encode(out, len, GOSSIP_DIGEST, v, n,
	    GOSSIP_DIGEST_MAX, 1);
}

size_t
gossip_want_encode(uint8_t *out, size_t *len, const struct gossip_obj *v,
    size_t n)
{
	return gossip_list_encode(out, len, GOSSIP_WANT, v, n,
	    GOSSIP_WANT_MAX, 0);
}

static int
gossip_list_decode(const uint8_t *p, size_t len, uint8_t type,
    struct gossip_obj *v, size_t cap, int with_serial)
{
	struct buf_r r;
	uint16_t count, i;

	br_init(&r, p, len);
	if (br_u8(&r) != type)
		return -1;
	count = br_u16(&r);
	if (r.err || count > cap)
		return -1;
	for (i = 0; i < count && !r.err; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].kind = br_u8(&r);
		br_bytes(&r, v[i].id, MEMBER_ID_BYTES);
		if (with_serial)
			v[i].serial = br_u64(&r);
		if (v[i].kind != GOSSIP_RECORD && v[i].kind != GOSSIP_EDGES &&
		    v[i].kind != GOSSIP_REVOCATION &&
		    v[i].kind != GOSSIP_GRANT)
			return -1;
	}
	if (br_done(&r) == -1)
		return -1;
	return count;
}

int
gossip_digest_decode(const uint8_t *p, size_t len, struct gossip_obj *v,
    size_t cap)
{
	return gossip_list_decode(p, len, GOSSIP_DIGEST, v, cap, 1);
}

int
gossip_want_decode(const uint8_t *p, size_t len, struct gossip_obj *v,
    size_t cap)
{
	return gossip_list_decode(p, len, GOSSIP_WANT, v, cap, 0);
}

int
gossip_answer_take(struct gossip_peer *gp, size_t inventory, double now)
{
	double cap = 2.0 * (double)inventory, rate = (double)inventory / 30.0;

	if (cap < GOSSIP_ANSWER_MIN)
		cap = GOSSIP_ANSWER_MIN;
	if (rate < GOSSIP_ANSWER_MIN / 4)
		rate = GOSSIP_ANSWER_MIN / 4;
	if (gp->t_answer == 0.0) {               /* a new member: full */
		gp->answer_tokens = cap;
		gp->t_answer = now;
	}
	if (now > gp->t_answer) {
		gp->answer_tokens += (now - gp->t_answer) * rate;
		if (gp->answer_tokens > cap)
			gp->answer_tokens = cap;
	}
	gp->t_answer = now;
	if (gp->answer_tokens < 1.0)
		return 0;
	gp->answer_tokens -= 1.0;
	return 1;
}

int
gossip_edges_differ(const struct edges *held, const struct edges_peer *peers,
    size_t n)
{
	uint32_t a, b, d, big;
	size_t i;
	int sa, sb;

	if (held == NULL || held->npeers != n)
		return 1;
	for (i = 0; i < n; i++) {
		if (memcmp(held->peers[i].id, peers[i].id,
		    MEMBER_ID_BYTES) != 0)
			return 1;
		a = held->peers[i].rtt_us;
		b = peers[i].rtt_us;
		if ((a == 0) != (b == 0))
			return 1;
		d = a > b ? a - b : b - a;
		big = a > b ? a : b;
		if (d > GOSSIP_RTT_MOVE_US && (uint64_t)d * 5 > big)
			return 1;
		sa = edges_rate_step(held->peers[i].rate_kbps);
		sb = edges_rate_step(peers[i].rate_kbps);
		if (sa - sb >= GOSSIP_RATE_MOVE_STEPS ||
		    sb - sa >= GOSSIP_RATE_MOVE_STEPS)
			return 1;
	}
	return 0;
}

/* ---- state --------------------------------------------------------- */

static double
gossip_now(const struct keyd *k)
{
	return ev_now(k->d.loop);
}

/* A member's name for logs: its record's, else the start of its id. */
static const char *
gossip_who(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	static char buf[2][2 * MEMBER_ID_BYTES + 8];
	static int which;
	const struct keyd_rec *r = records_find(&k->recs, id);
	char hex[2 * MEMBER_ID_BYTES + 1];

	which ^= 1;
	if (r != NULL)
		snprintf(buf[which], sizeof(buf[which]), "%s", r->rec.name);
	else {
		hex_encode(hex, id, MEMBER_ID_BYTES);
		snprintf(buf[which], sizeof(buf[which]), "%.16s...", hex);
	}
	return buf[which];
}

static struct keyd_edges *
gossip_edges_find(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < k->gossip.ne; i++)
		if (memcmp(k->gossip.e[i].id, id, MEMBER_ID_BYTES) == 0)
			return &k->gossip.e[i];
	return NULL;
}

/* Keep text as id's announcement (replacing the held one). */
static struct keyd_edges *
gossip_edges_store(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES],
    uint64_t serial, const char *text, size_t len)
{
	struct keyd_gossip *g = &k->gossip;
	struct keyd_edges *e;
	char *t;

	if ((t = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(t, text, len);
	t[len] = '\0';
	e = keyd_id_slot(&g->e, &g->ne, &g->ecap, sizeof(*g->e),
	    offsetof(struct keyd_edges, id), id);
	if (e == NULL) {
		free(t);
		return NULL;
	}
	free(e->text);
	e->text = t;
	e->len = len;
	e->serial = serial;
	return e;
}

static struct gossip_peer *
gossip_peer_get(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	struct keyd_gossip *g = &k->gossip;
	struct gossip_peer *p;
	size_t had = g->np;

	p = keyd_id_slot(&g->p, &g->np, &g->pcap, sizeof(*g->p),
	    offsetof(struct gossip_peer, id), id);
	if (p != NULL && g->np != had)
		p->gen = g->gen - 1;   /* not reported by this linkd yet */
	return p;
}

static struct gossip_rec_flood *
gossip_rf_get(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	struct keyd_gossip *g = &k->gossip;

	return keyd_id_slot(&g->rf, &g->nrf, &g->rfcap, sizeof(*g->rf),
	    offsetof(struct gossip_rec_flood, id), id);
}

/* How many objects gossip_inventory lists, without listing them. */
static size_t
gossip_inventory_size(const struct keyd *k)
{
	return k->recs.n + k->gossip.ne + revoked_count(k) +
	    grants_count(k);
}

/* Everything we hold, sorted (records first). NULL: out of memory. */
static struct gossip_obj *
gossip_inventory(const struct keyd *k, size_t *n)
{
	struct gossip_obj *v;
	size_t i, c = 0;

	v = calloc(gossip_inventory_size(k) + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < k->recs.n; i++, c++) {
		v[c].kind = GOSSIP_RECORD;
		memcpy(v[c].id, k->recs.v[i].rec.id, MEMBER_ID_BYTES);
		v[c].serial = k->recs.v[i].rec.serial;
	}
	for (i = 0; i < k->gossip.ne; i++, c++) {
		v[c].kind = GOSSIP_EDGES;
		memcpy(v[c].id, k->gossip.e[i].id, MEMBER_ID_BYTES);
		v[c].serial = k->gossip.e[i].serial;
	}
	for (i = 0; i < revoked_count(k); i++, c++) {
		const struct revocation *rv = revoked_get(k, i);

		v[c].kind = GOSSIP_REVOCATION;
		memcpy(v[c].id, rv->revoked, MEMBER_ID_BYTES);
		v[c].serial = rv->serial;
	}
	for (i = 0; i < grants_count(k); i++, c++) {
		const struct grant *gr = grants_get(k, i);

		v[c].kind = GOSSIP_GRANT;
		memcpy(v[c].id, gr->member, MEMBER_ID_BYTES);
		v[c].serial = gr->serial;
	}
	gossip_objs_sort(v, c);
	*n = c;
	return v;
}

/* ---- sending ------------------------------------------------------- */

/* One INNER_GOSSIP payload to linkd for the members mode says. */
static int
gossip_send(struct keyd *k, uint8_t mode, const uint8_t *to,
    const uint8_t *payload, size_t len)
{
	static struct msg_gossip_out m;
	static uint8_t buf[1 + MEMBER_ID_BYTES + 2 + GOSSIP_MAX_PAYLOAD];
	struct buf_w w;

	if (k->linkd == NULL || !ipc_chan_connected(k->linkd) || len == 0 ||
	    len > GOSSIP_MAX_PAYLOAD)
		return -1;
	m.mode = mode;
	if (to != NULL)
		memcpy(m.id, to, MEMBER_ID_BYTES);
	else
		memset(m.id, 0, MEMBER_ID_BYTES);
	m.len = (uint16_t)len;
	memcpy(m.data, payload, len);
	bw_init(&w, buf, sizeof(buf));
	msg_gossip_out_encode(&w, &m);
	if (w.err || ipc_send(k->linkd, MSG_GOSSIP_OUT, 0, 0, &w) == -1) {
		k->gossip.send_failed++;
		log_debug("gossip to linkd not queued (%zu bytes)", len);
		return -1;
	}
	return 0;
}

/* The object we hold as (kind, id). 1 sent, 0 not held, -1 failed. */
static int
gossip_send_object(struct keyd *k, uint8_t mode, const uint8_t *to,
    uint8_t kind, const uint8_t id[MEMBER_ID_BYTES])
{
	static uint8_t pl[GOSSIP_MAX_PAYLOAD];
	const struct keyd_rec *r;
	const struct keyd_edges *e;
	const char *text = NULL;
	size_t len = 0, i;

	if (kind == GOSSIP_RECORD) {
		if ((r = records_find(&k->recs, id)) == NULL)
			return 0;
		text = r->text;
		len = r->len;
	} else if (kind == GOSSIP_REVOCATION) {
		for (i = 0; i < revoked_count(k); i++)
			if (memcmp(revoked_get(k, i)->revoked, id,
			    MEMBER_ID_BYTES) == 0)
				text = revoked_text(k, i, &len);
		if (text == NULL)
			return 0;
	} else if (kind == GOSSIP_GRANT) {
		for (i = 0; i < grants_count(k); i++)
			if (memcmp(grants_get(k, i)->member, id,
			    MEMBER_ID_BYTES) == 0)
				text = grants_text(k, i, &len);
		if (text == NULL)
			return 0;
	} else {
		if ((e = gossip_edges_find(k, id)) == NULL)
			return 0;
		text = e->text;
		len = e->len;
	}
	if (len == 0 || len + 1 > sizeof(pl))
		return -1;
	pl[0] = kind;
	memcpy(pl + 1, text, len);
	if (gossip_send(k, mode, to, pl, len + 1) == -1)
		return -1;
	k->gossip.objects_sent++;
	return 1;
}

static void
gossip_flood_timer_arm(struct keyd *k)
{
	if (!ev_is_active(&k->gossip.flood_timer)) {
		ev_timer_set(&k->gossip.flood_timer, GOSSIP_FLOOD_MIN_S, 0.);
		ev_timer_start(k->d.loop, &k->gossip.flood_timer);
	}
}

/* A new object: to every direct peer but except (NULL: all), unless
 * it went out less than a second ago: then its latest version goes
 * when the second is over. */
static void
gossip_flood(struct keyd *k, uint8_t kind, const uint8_t id[MEMBER_ID_BYTES],
    const uint8_t *except)
{
	struct gossip_rec_flood *rf = NULL;
	struct keyd_edges *e = NULL;
	double now = gossip_now(k), *t;
	int *pending;

	if (kind == GOSSIP_RECORD) {
		if ((rf = gossip_rf_get(k, id)) == NULL)
			goto now;  /* no memory for the limit: no limit */
		t = &rf->t_flood;
		pending = &rf->pending;
	} else {
		if ((e = gossip_edges_find(k, id)) == NULL)
			return;
		t = &e->t_flood;
		pending = &e->flood_pending;
	}
	if (*t > 0 && now - *t < GOSSIP_FLOOD_MIN_S) {
		*pending = 1;
		k->gossip.floods_delayed++;
		gossip_flood_timer_arm(k);
		return;
	}
	*t = now;
	*pending = 0;
now:
	if (gossip_send_object(k, except != NULL ? GOSSIP_TO_OTHERS :
	    GOSSIP_TO_ALL, except, kind, id) == 1)
		k->gossip.floods++;
}

/* One object waiting for the flood limit: flooded now if its time has
 * come. 1 while it must still wait. */
static int
gossip_flood_due(struct keyd *k, int *pending, double *t_flood,
    uint8_t kind, const uint8_t id[MEMBER_ID_BYTES], double now)
{
	if (!*pending)
		return 0;
	if (now - *t_flood < GOSSIP_FLOOD_MIN_S)
		return 1;
	*pending = 0;
	*t_flood = now;
	if (gossip_send_object(k, GOSSIP_TO_ALL, NULL, kind, id) == 1)
		k->gossip.floods++;
	return 0;
}

static void
gossip_flood_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct keyd *k = w->data;
	struct keyd_gossip *g = &k->gossip;
	double now = gossip_now(k);
	size_t i;
	int left = 0;

	for (i = 0; i < g->nrf; i++)
		left |= gossip_flood_due(k, &g->rf[i].pending,
		    &g->rf[i].t_flood, GOSSIP_RECORD, g->rf[i].id, now);
	for (i = 0; i < g->ne; i++)
		left |= gossip_flood_due(k, &g->e[i].flood_pending,
		    &g->e[i].t_flood, GOSSIP_EDGES, g->e[i].id, now);
	if (left)
		gossip_flood_timer_arm(k);
}

void
gossip_flood_revocation(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES],
    const uint8_t *except)
{
	/* No rate limit: a revocation is flooded once, when it is new,
	 * and there are never more than members. */
	if (gossip_send_object(k, except != NULL ? GOSSIP_TO_OTHERS :
	    GOSSIP_TO_ALL, except, GOSSIP_REVOCATION, id) == 1)
		k->gossip.floods++;
}

void
gossip_flood_grant(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES],
    const uint8_t *except)
{
	/* Like a revocation: flooded once, when it is new. */
	if (gossip_send_object(k, except != NULL ? GOSSIP_TO_OTHERS :
	    GOSSIP_TO_ALL, except, GOSSIP_GRANT, id) == 1)
		k->gossip.floods++;
}

/* A whole digest to one member, in as many chunks as it takes: every
 * chunk but the last is full, so the receiver knows more follow (an
 * empty last chunk when the count is a multiple). */
static void
gossip_send_digest(struct keyd *k, const uint8_t to[MEMBER_ID_BYTES])
{
	static uint8_t pl[GOSSIP_MAX_PAYLOAD];
	struct gossip_obj *v;
	size_t n, off = 0, c, len;

	if ((v = gossip_inventory(k, &n)) == NULL) {
		log_warnx("out of memory building a digest for %s",
		    gossip_who(k, to));
		return;
	}
	do {
		c = gossip_digest_encode(pl, &len, v + off, n - off);
		if (len == 0 || gossip_send(k, GOSSIP_TO_PEER, to, pl,
		    len) == -1)
			break;
		off += c;
	} while (c == GOSSIP_DIGEST_MAX);
	free(v);
	k->gossip.digests_sent++;
	log_debug("digest of %zu objects to %s", n, gossip_who(k, to));
}

/* Ask to for these objects, in chunks. */
static void
gossip_send_want(struct keyd *k, const uint8_t to[MEMBER_ID_BYTES],
    const struct gossip_obj *v, size_t n)
{
	static uint8_t pl[GOSSIP_MAX_PAYLOAD];
	size_t off = 0, c, len;

	while (off < n) {
		c = gossip_want_encode(pl, &len, v + off, n - off);
		if (c == 0 || gossip_send(k, GOSSIP_TO_PEER, to, pl,
		    len) == -1)
			return;
		off += c;
	}
}

/* ---- our own announcement ------------------------------------------ */

static void
gossip_own_announce(struct keyd *k)
{
	static struct edges e;
	static uint8_t sbuf[EDGES_SIGNED_MAX + 1];
	static char text[EDGES_MAX_LEN + 1];
	struct keyd_gossip *g = &k->gossip;
	struct keyd_edges *held;
	uint64_t serial;
	int n, len;

	g->own_wait = 0;
	if (!keys_loaded() || g->own_next == NULL)
		return;
	serial = keyd_serial_now(0);
	if (serial <= g->own_serial) {
		if (g->own_serial == UINT64_MAX) {
			log_warnx("our edge announcement's serial cannot go "
			    "up any more; not announced");
			return;
		}
		serial = g->own_serial + 1;
	}
	memset(&e, 0, sizeof(e));
	memcpy(e.id, keys_id(), MEMBER_ID_BYTES);
	e.serial = serial;
	e.npeers = g->own_nnext;
	memcpy(e.peers, g->own_next, g->own_nnext * sizeof(e.peers[0]));
	if ((n = edges_signed_bytes(&e, k->netid, sbuf, sizeof(sbuf))) < 0 ||
	    keys_sign(e.signature, sbuf, (size_t)n) == -1 ||
	    (len = edges_format(&e, text, sizeof(text), 1)) < 0) {
		log_warnx("cannot sign our edge announcement (%zu links)",
		    e.npeers);
		return;
	}
	if ((held = gossip_edges_store(k, e.id, serial, text,
	    (size_t)len)) == NULL) {
		log_warnx("out of memory storing our edge announcement");
		return;
	}
	g->own_serial = serial;
	g->t_own = gossip_now(k);
	g->own_made++;
	log_info("our edge announcement, serial %llu: %zu links",
	    (unsigned long long)serial, e.npeers);
	if (push_edges_one(k, k->routed, held) == -1)
		push_resend_later(k, k->routed);
	/* Our own limit applies (above): no flood limit on top. */
	held->t_flood = g->t_own;
	held->flood_pending = 0;
	if (gossip_send_object(k, GOSSIP_TO_ALL, NULL, GOSSIP_EDGES,
	    e.id) == 1)
		g->floods++;
}

static void
gossip_own_schedule(struct keyd *k)
{
	struct keyd_gossip *g = &k->gossip;
	double wait;

	wait = g->t_own + GOSSIP_OWN_MIN_S - gossip_now(k);
	if (g->t_own == 0 || wait <= 0) {
		gossip_own_announce(k);
		return;
	}
	g->own_wait = 1;
	if (!ev_is_active(&g->own_timer)) {
		ev_timer_set(&g->own_timer, wait, 0.);
		ev_timer_start(k->d.loop, &g->own_timer);
	}
}

static void
gossip_own_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct keyd *k = w->data;

	if (k->gossip.own_wait)
		gossip_own_announce(k);
}

static int
peer_qcmp(const void *a, const void *b)
{
	return memcmp(a, b, MEMBER_ID_BYTES);
}

void
gossip_on_edges_local(struct keyd *k, const uint8_t *p, size_t n)
{
	static struct msg_edges_local m;
	static struct edges held;
	struct keyd_gossip *g = &k->gossip;
	const struct keyd_edges *cur;
	size_t i, u, c = 0;

	if (msg_edges_local_decode(&m, p, n) == -1) {
		log_warnx_rl(&g->own_next, "malformed EDGES_LOCAL from routed "
		    "(%zu bytes); dropped", n);
		return;
	}
	if (g->own_next == NULL) {
		g->own_next = calloc(EDGES_MAX_PEERS, sizeof(*g->own_next));
		if (g->own_next == NULL) {
			log_warnx("out of memory for our edge announcement");
			return;
		}
	}
	for (i = 0; i < m.count; i++) {
		if (memcmp(m.peers[i].id, keys_id(), MEMBER_ID_BYTES) == 0)
			continue;
		memcpy(g->own_next[c].id, m.peers[i].id, MEMBER_ID_BYTES);
		g->own_next[c].rtt_us = m.peers[i].rtt_us;
		/* linkd buckets already; what we sign must be bucketed
		 * whoever sent it */
		g->own_next[c++].rate_kbps =
		    edges_rate_bucket(m.peers[i].rate_kbps);
	}
	qsort(g->own_next, c, sizeof(*g->own_next), peer_qcmp);
	/* Each member once (routed sends each once; keep the first). */
	for (i = 1, u = c > 0 ? 1 : 0; i < c; i++)
		if (memcmp(g->own_next[i].id, g->own_next[u - 1].id,
		    MEMBER_ID_BYTES) != 0)
			g->own_next[u++] = g->own_next[i];
	g->own_nnext = u;

	cur = gossip_edges_find(k, keys_id());
	if (cur != NULL && edges_parse(&held, cur->text, cur->len, NULL,
	    0) == 0 && !gossip_edges_differ(&held, g->own_next, g->own_nnext))
		return;
	gossip_own_schedule(k);
}

/* ---- receiving ----------------------------------------------------- */

static void
gossip_bad(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const char *what, const char *why)
{
	k->gossip.rx_bad++;
	log_warnx_rl(&k->gossip.rx_bad, "gossip from %s: %s: %s; dropped",
	    gossip_who(k, from), what, why);
}

/*
 * May r (verified) be held? A self-signed record proves only that
 * someone holds a key, so a stranger's record is taken only with an
 * admission chain that reaches the root. A held member's update must
 * keep what it was admitted as: the same admission (which must verify
 * over the new name, addresses and role) or a new valid chain. A member
 * pinned by hand (import, no admission) updates itself as before. What
 * it claims must pass proto/claims.h against the held set, which may
 * drop held records it beats (held is stale then: look it up again).
 * 0, or -1 when dropped (counted and logged).
 */
static int
gossip_record_admitted(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const struct record *r, const struct keyd_rec *held)
{
	char err[512];

	if (held == NULL || held->rec.admitted) {
		int same = held != NULL && r->admitted &&
		    memcmp(r->admitted_by, held->rec.admitted_by,
		    MEMBER_ID_BYTES) == 0 &&
		    memcmp(r->admission, held->rec.admission,
		    sizeof(r->admission)) == 0 &&
		    admission_verify(r, k->netid) == 0;

		if (!same && keyd_trust_check(k, r, err,
		    sizeof(err)) != 0) {
			keyd_claims_untrusted(k, r, gossip_who(k, from), err);
			if (held == NULL) {
				k->gossip.rx_unknown++;
				log_info("record of %s from %s: not admitted"
				    " (%s); dropped", r->name,
				    gossip_who(k, from), err);
			} else
				gossip_bad(k, from, r->name, err);
			return -1;
		}
	}
	/* What it claims (proto/claims.h): counted and logged there. */
	if (keyd_claims_take(k, r, gossip_who(k, from), err,
	    sizeof(err)) == -1) {
		k->gossip.rx_bad++;
		return -1;
	}
	return 0;
}

/* hosts/<name>, atomically, and the old file gone when the member was
 * renamed (oldname, "" when not). Failures are logged only: the record
 * stays in memory, so the network works on and a reload tells the
 * truth. */
static void
gossip_record_write(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const struct record *r, const char *oldname, const char *text,
    size_t len)
{
	const char *dir = k->d.conf.paths.hosts_dir;
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    r->name) >= sizeof(path))
		log_warnx("%s/%s: path too long; record kept in memory only",
		    dir, r->name);
	else if (file_write_atomic(path, text, len, GOSSIP_RECORD_MODE) == -1)
		log_warn("%s: record from %s kept in memory only", path,
		    gossip_who(k, from));
	else if (oldname[0] != '\0' && (size_t)snprintf(path, sizeof(path),
	    "%s/%s", dir, oldname) < sizeof(path) &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: the member is now %s; old file not removed",
		    path, r->name);
}

/* A record stored: tell linkd and routed, flood it, and ask from for
 * what may have been dropped before it. */
static void
gossip_record_stored(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const struct record *r, int is_new, const char *text, size_t len)
{
	struct gossip_obj w;

	k->gossip.records_stored++;
	log_info("%s of %s, serial %llu, from %s", is_new ?
	    "new member: record" : "record", r->name,
	    (unsigned long long)r->serial, gossip_who(k, from));
	push_record(k, text, len);
	gossip_flood(k, GOSSIP_RECORD, r->id, from);
	/* A record it sent before this one may have been dropped for
	 * want of this admitter: one more digest lets it send again. */
	if (is_new)
		gossip_send_digest(k, from);
	/* Its announcement may have come first and been dropped. */
	if (gossip_edges_find(k, r->id) == NULL) {
		memset(&w, 0, sizeof(w));
		w.kind = GOSSIP_EDGES;
		memcpy(w.id, r->id, MEMBER_ID_BYTES);
		gossip_send_want(k, from, &w, 1);
	}
}

static void
gossip_take_record(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const char *text, size_t len)
{
	static struct record r;
	char err[512], oldname[NAME_MAX_LEN + 1];
	const struct keyd_rec *held;
	int is_new;

	if (record_parse(&r, text, len, err, sizeof(err)) == -1) {
		gossip_bad(k, from, "a record that does not parse", err);
		return;
	}
	if (memcmp(r.id, keys_id(), MEMBER_ID_BYTES) == 0) {
		k->gossip.rx_old++;  /* ours is ours to make */
		return;
	}
	if (revoked_is(k, r.id)) {
		k->gossip.rx_old++;  /* never again */
		log_debug("record of %s from %s: revoked; dropped", r.name,
		    gossip_who(k, from));
		return;
	}
	held = records_find(&k->recs, r.id);
	if (held != NULL && r.serial <= held->rec.serial) {
		k->gossip.rx_old++;
		return;
	}
	if (record_verify(&r, k->netid) != 0) {
		gossip_bad(k, from, r.name, "the record's signature does not "
		    "verify for this network");
		return;
	}
	if (gossip_record_admitted(k, from, &r, held) == -1)
		return;
	held = records_find(&k->recs, r.id);
	oldname[0] = '\0';
	if (held != NULL && strcmp(held->rec.name, r.name) != 0)
		snprintf(oldname, sizeof(oldname), "%s", held->rec.name);
	is_new = held == NULL;
	gossip_record_write(k, from, &r, oldname, text, len);
	if (records_put(&k->recs, &r, text, len) != 1) {
		log_warnx("out of memory storing the record of %s", r.name);
		return;
	}
	gossip_record_stored(k, from, &r, is_new, text, len);
	keyd_claims_bound(k, &r);
}

int
gossip_own_copy_newer(uint64_t copy_serial, uint64_t own_serial)
{
	return copy_serial > own_serial;
}

static void
gossip_take_edges(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const char *text, size_t len)
{
	static struct edges e;
	struct keyd_gossip *g = &k->gossip;
	struct keyd_edges *held;
	char err[256];

	if (edges_parse(&e, text, len, err, sizeof(err)) == -1) {
		gossip_bad(k, from, "an edge announcement that does not "
		    "parse", err);
		return;
	}
	if (memcmp(e.id, keys_id(), MEMBER_ID_BYTES) == 0) {
		/* A copy of ours from before a restart: ours must go
		 * above it, or nobody would take our next one. Our
		 * current one echoed back is not that: taking it as such
		 * made a member announce once a second for as long as a
		 * peer echoed each new one. */
		if (gossip_own_copy_newer(e.serial, g->own_serial) &&
		    edges_verify(&e, k->netid) == 0) {
			g->own_serial = e.serial;
			if (g->own_next != NULL)
				gossip_own_schedule(k);
		} else
			g->rx_old++;
		return;
	}
	if (records_find(&k->recs, e.id) == NULL) {
		g->rx_unknown++;
		log_debug("edges of %s from %s: no record of that member; "
		    "dropped", gossip_who(k, e.id), gossip_who(k, from));
		return;
	}
	held = gossip_edges_find(k, e.id);
	if (held != NULL && e.serial <= held->serial) {
		g->rx_old++;
		return;
	}
	if (edges_verify(&e, k->netid) != 0) {
		gossip_bad(k, from, "an edge announcement", "its signature "
		    "does not verify with the member's key for this network");
		return;
	}
	if ((held = gossip_edges_store(k, e.id, e.serial, text,
	    len)) == NULL) {
		log_warnx("out of memory storing an edge announcement");
		return;
	}
	g->edges_stored++;
	log_debug("edges of %s, serial %llu (%zu links), from %s",
	    gossip_who(k, e.id), (unsigned long long)e.serial, e.npeers,
	    gossip_who(k, from));
	if (push_edges_one(k, k->routed, held) == -1)
		push_resend_later(k, k->routed);
	gossip_flood(k, GOSSIP_EDGES, e.id, from);
}

/* One object to from in answer to its digest or want, if its budget
 * (gossip_answer_take) allows; left: the objects still to answer,
 * counted and logged when over budget. 0, or -1 when answering stops
 * here. */
static int
gossip_answer_one(struct keyd *k, struct gossip_peer *gp,
    const uint8_t from[MEMBER_ID_BYTES], size_t inventory, double now,
    const struct gossip_obj *o, size_t left)
{
	if (gp != NULL && !gossip_answer_take(gp, inventory, now)) {
		k->gossip.answers_limited += left;
		log_warnx_rl(gp, "%s asks for more than its share of "
		    "objects: %zu not sent", gossip_who(k, from), left);
		return -1;
	}
	if (gossip_send_object(k, GOSSIP_TO_PEER, from, o->kind,
	    o->id) == -1)
		return -1;
	return 0;
}

static void
gossip_on_digest(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t *p, size_t len)
{
	static struct gossip_obj theirs[GOSSIP_DIGEST_MAX];
	struct gossip_obj *ours, *send = NULL, *want = NULL, *lo = NULL;
	struct gossip_peer *gp;
	size_t nours = 0, nsend = 0, nwant = 0, i;
	double now = gossip_now(k);
	int cnt;

	if ((cnt = gossip_digest_decode(p, len, theirs,
	    GOSSIP_DIGEST_MAX)) < 0) {
		gossip_bad(k, from, "a digest", "does not decode");
		return;
	}
	k->gossip.digests_rx++;
	gossip_objs_sort(theirs, (size_t)cnt);
	gp = gossip_peer_get(k, from);
	/* A chunk that follows a full one, soon, and after it in order,
	 * continues that digest: it speaks only from there on. */
	if (gp != NULL && gp->cont && now - gp->t_last < GOSSIP_CONT_S &&
	    (cnt == 0 || gossip_obj_cmp(&theirs[0], &gp->last) > 0))
		lo = &gp->last;
	if ((ours = gossip_inventory(k, &nours)) == NULL ||
	    (send = calloc(nours + 1, sizeof(*send))) == NULL ||
	    (want = calloc((size_t)cnt + 1, sizeof(*want))) == NULL) {
		log_warnx("out of memory answering a digest from %s",
		    gossip_who(k, from));
		goto out;
	}
	gossip_diff(ours, nours, theirs, (size_t)cnt, lo,
	    cnt == GOSSIP_DIGEST_MAX ? &theirs[cnt - 1] : NULL,
	    send, &nsend, want, &nwant);
	for (i = 0; i < nsend; i++)
		if (gossip_answer_one(k, gp, from, nours, now, &send[i],
		    nsend - i) == -1)
			break;
	gossip_send_want(k, from, want, nwant);
	log_debug("digest of %d objects from %s: sent %zu, want %zu", cnt,
	    gossip_who(k, from), nsend, nwant);
out:
	if (gp != NULL) {
		gp->cont = cnt == GOSSIP_DIGEST_MAX;
		if (gp->cont)
			gp->last = theirs[cnt - 1];
		gp->t_last = now;
	}
	free(ours);
	free(send);
	free(want);
}

static void
gossip_on_want(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t *p, size_t len)
{
	static struct gossip_obj w[GOSSIP_WANT_MAX];
	struct gossip_peer *gp;
	size_t nours = 0;
	int cnt, i;

	if ((cnt = gossip_want_decode(p, len, w, GOSSIP_WANT_MAX)) < 0) {
		gossip_bad(k, from, "a want", "does not decode");
		return;
	}
	k->gossip.wants_rx++;
	gp = gossip_peer_get(k, from);
	nours = gossip_inventory_size(k);
	gossip_objs_sort(w, (size_t)cnt);  /* records first */
	for (i = 0; i < cnt; i++) {
		if (i > 0 && gossip_obj_cmp(&w[i], &w[i - 1]) == 0)
			continue;
		if (gossip_answer_one(k, gp, from, nours, gossip_now(k),
		    &w[i], (size_t)(cnt - i)) == -1)
			break;
	}
}

static void
gossip_take_grant(struct keyd *k, const uint8_t from[MEMBER_ID_BYTES],
    const char *text, size_t len)
{
	char why[512];
	int rc = grant_accept(k, text, len, from, why, sizeof(why));

	if (rc == -1)
		gossip_bad(k, from, "a grant", why);
	else if (rc == 1)
		log_info("grant from %s accepted", gossip_who(k, from));
	else
		k->gossip.rx_old++;
}

void
gossip_on_in(struct keyd *k, const uint8_t *p, size_t n)
{
	static struct msg_gossip_in m;

	if (msg_gossip_in_decode(&m, p, n) == -1) {
		k->gossip.rx_bad++;
		log_warnx_rl(&k->gossip.rx_bad, "malformed GOSSIP_IN from "
		    "linkd (%zu bytes); dropped", n);
		return;
	}
	k->gossip.rx++;
	switch (m.data[0]) {
	case GOSSIP_REVOCATION: {
		char why[512];
		int rc;

		rc = revoke_accept(k, (const char *)m.data + 1,
		    (size_t)m.len - 1, m.id, why, sizeof(why));
		if (rc == -1)
			gossip_bad(k, m.id, "a revocation", why);
		else if (rc == 1)
			log_info("revocation from %s accepted",
			    gossip_who(k, m.id));
		else
			k->gossip.rx_old++;
		break;
	}
	case GOSSIP_GRANT:
		gossip_take_grant(k, m.id, (const char *)m.data + 1,
		    (size_t)m.len - 1);
		break;
	case GOSSIP_RECORD:
		gossip_take_record(k, m.id, (const char *)m.data + 1,
		    (size_t)m.len - 1);
		break;
	case GOSSIP_EDGES:
		gossip_take_edges(k, m.id, (const char *)m.data + 1,
		    (size_t)m.len - 1);
		break;
	case GOSSIP_DIGEST:
		gossip_on_digest(k, m.id, m.data, m.len);
		break;
	case GOSSIP_WANT:
		gossip_on_want(k, m.id, m.data, m.len);
		break;
	default:
		gossip_bad(k, m.id, "a payload", "unknown gossip type");
		break;
	}
}

void
gossip_on_peer_state(struct keyd *k, const uint8_t *p, size_t n)
{
	struct msg_peer_state m;
	struct gossip_peer *gp;
	uint16_t was;

	if (msg_peer_state_decode(&m, p, n) == -1) {
		log_warnx_rl(&k->gossip.p, "malformed PEER_STATE from linkd "
		    "(%zu bytes); dropped", n);
		return;
	}
	if ((gp = gossip_peer_get(k, m.id)) == NULL) {
		log_warnx("out of memory tracking links");
		return;
	}
	/* Not yet reported by this linkd: its links are all new. */
	was = gp->gen == k->gossip.gen ? gp->links_up : 0;
	gp->gen = k->gossip.gen;
	gp->links_up = m.links_up;
	if (was == 0 && m.links_up > 0)
		gossip_send_digest(k, m.id);
}

void
gossip_linkd_up(struct keyd *k)
{
	/* A new linkd: what the last one said is void; the states it
	 * sends now count as links coming up. */
	k->gossip.gen++;
}

static void
gossip_ae_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct keyd *k = w->data;
	struct keyd_gossip *g = &k->gossip;
	size_t i, up = 0, pick;

	for (i = 0; i < g->np; i++)
		if (g->p[i].gen == g->gen && g->p[i].links_up > 0)
			up++;
	if (up == 0)
		return;
	pick = randombytes_uniform((uint32_t)up);
	for (i = 0; i < g->np; i++) {
		if (g->p[i].gen != g->gen || g->p[i].links_up == 0)
			continue;
		if (pick-- == 0) {
			gossip_send_digest(k, g->p[i].id);
			return;
		}
	}
}

/* A record we took outside gossip (a newcomer's, handed over at its
 * join): to every direct peer, as if it had come by gossip, so members
 * that the newcomer does not dial learn it without waiting for a
 * digest. */
void
gossip_record_new(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	gossip_flood(k, GOSSIP_RECORD, id, NULL);
}

void
gossip_records_changed(struct keyd *k)
{
	struct keyd_gossip *g = &k->gossip;
	size_t i;

	/* A reload may have read back a revoked member's file, or one
	 * whose claims another's beat (import writes hosts/ files). */
	(void)revoke_prune(k, NULL);
	(void)keyd_claims_prune(k);
	for (i = 0; i < g->ne; ) {
		if (records_find(&k->recs, g->e[i].id) != NULL ||
		    memcmp(g->e[i].id, keys_id(), MEMBER_ID_BYTES) == 0) {
			i++;
			continue;
		}
		free(g->e[i].text);
		g->e[i] = g->e[--g->ne];
	}
	for (i = 0; i < g->nrf; ) {
		if (records_find(&k->recs, g->rf[i].id) != NULL)
			i++;
		else
			g->rf[i] = g->rf[--g->nrf];
	}
}

void
gossip_start(struct keyd *k)
{
	struct keyd_gossip *g = &k->gossip;
	char err[KEYD_ERRLEN];

	ev_timer_init(&g->own_timer, gossip_own_cb, GOSSIP_OWN_MIN_S, 0.);
	g->own_timer.data = k;
	ev_timer_init(&g->flood_timer, gossip_flood_cb, GOSSIP_FLOOD_MIN_S,
	    0.);
	g->flood_timer.data = k;
	ev_timer_init(&g->ae_timer, gossip_ae_cb, GOSSIP_AE_S, GOSSIP_AE_S);
	g->ae_timer.data = k;
	ev_timer_start(k->d.loop, &g->ae_timer);
	g->started = 1;

	/*
	 * The trust state, before linkd or routed can connect (they come
	 * after this, in keyd_start): revocations from
	 * STATE/revoked drop what they cover from the records loaded.
	 */
	if (revoke_load(k, err, sizeof(err)) == -1)
		log_warnx("%s; revocations from gossip only", err);
	(void)keyd_claims_prune(k);
	invites_cleanup(k);
}

void
gossip_stop(struct keyd *k)
{
	struct keyd_gossip *g = &k->gossip;
	size_t i;

	if (g->started) {
		ev_timer_stop(k->d.loop, &g->own_timer);
		ev_timer_stop(k->d.loop, &g->flood_timer);
		ev_timer_stop(k->d.loop, &g->ae_timer);
	}
	for (i = 0; i < g->ne; i++)
		free(g->e[i].text);
	free(g->e);
	free(g->p);
	free(g->rf);
	free(g->own_next);
	memset(g, 0, sizeof(*g));
	revoke_free(k);
	grants_free(k);
}

/* ---- ctl ----------------------------------------------------------- */

json_t *
gossip_ctl_status(const struct keyd *k)
{
	const struct keyd_gossip *g = &k->gossip;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I, s:I, s:I, s:I, s:I}",
	    "edges", (json_int_t)g->ne,
	    "received", (json_int_t)g->rx,
	    "refused", (json_int_t)g->rx_bad,
	    "old", (json_int_t)g->rx_old,
	    "unknown_member", (json_int_t)g->rx_unknown,
	    "records_stored", (json_int_t)g->records_stored,
	    "edges_stored", (json_int_t)g->edges_stored,
	    "own_announcements", (json_int_t)g->own_made,
	    "floods", (json_int_t)g->floods,
	    "floods_delayed", (json_int_t)g->floods_delayed,
	    "objects_sent", (json_int_t)g->objects_sent,
	    "send_failed", (json_int_t)g->send_failed,
	    "digests_sent", (json_int_t)g->digests_sent,
	    "digests_received", (json_int_t)g->digests_rx,
	    "wants_received", (json_int_t)g->wants_rx,
	    "answers_limited", (json_int_t)g->answers_limited);
}

static json_t *
ctl_id_or_name(const struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	const struct keyd_rec *r = records_find(&k->recs, id);
	char hex[2 * MEMBER_ID_BYTES + 1];

	if (r != NULL)
		return json_string(r->rec.name);
	hex_encode(hex, id, MEMBER_ID_BYTES);
	return json_string(hex);
}

json_t *
gossip_ctl_edges(const struct keyd *k)
{
	static struct edges e;
	char hex[2 * MEMBER_ID_BYTES + 1];
	json_t *a, *o, *peers;
	size_t i, j;

	a = json_array();
	for (i = 0; i < k->gossip.ne; i++) {
		const struct keyd_edges *ke = &k->gossip.e[i];

		if (edges_parse(&e, ke->text, ke->len, NULL, 0) == -1)
			continue;
		peers = json_array();
		for (j = 0; j < e.npeers; j++)
			json_array_append_new(peers, json_pack("{s:o, s:I, "
			    "s:I}", "peer", ctl_id_or_name(k, e.peers[j].id),
			    "rtt_us", (json_int_t)e.peers[j].rtt_us,
			    "rate_kbps", (json_int_t)e.peers[j].rate_kbps));
		hex_encode(hex, ke->id, MEMBER_ID_BYTES);
		o = json_pack("{s:o, s:s, s:I, s:o}", "member",
		    ctl_id_or_name(k, ke->id), "id", hex, "serial",
		    (json_int_t)ke->serial, "peers", peers);
		json_array_append_new(a, o);
	}
	return json_pack("{s:b, s:o}", "ok", 1, "edges", a);
}
