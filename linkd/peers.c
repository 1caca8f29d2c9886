/*
 * The members linkd knows, as keyd sends them (MSG_SELF, MSG_RECORD...,
 * MSG_SYNC_DONE), and what linkd keeps per member: its X25519 key for
 * handshakes, the newest handshake timestamp (replay check), its links
 * and the multipath scheduler over them, and whether to dial it.
 *
 * keyd resends every record after each change and on every reconnect,
 * starting with MSG_SELF; a member not resent by MSG_SYNC_DONE is gone
 * (mark and sweep on a sync epoch). Links to members that stay survive a
 * resend untouched, so a keyd restart costs no traffic.
 *
 * Members are found by id for every packet (the fib names the member),
 * so ids are hashed; by X25519 key only at handshake time, a list walk.
 *
 * Dialling: in TCP mode both members of a pair dial each other once
 * (whoever can reach whom). In onion mode a pair needs conf.circuits
 * links, and if both sides dialled there would be twice as many
 * circuits as wanted and two handshakes racing for each; so only the
 * member with the lower id dials, the other only accepts. Outgoing
 * links sit in numbered slots, so the policy can say "slots 0..n-1" and
 * a failed link knows whether it is still wanted.
 *
 * Rate: routed prefers, among paths of equal rtt cost, the one whose
 * narrowest link carried the most. What a member's links carried is
 * measured here (peer_rate_tick), not a capacity estimate: probing one
 * through tor would spend what it measures. The busiest second of the
 * last minute, because an idle link is not a narrow one.
 *
 * Rtt: routed weighs a link by it, so routed hears it again whenever it
 * moves by enough to matter (rtt_moved), not only when the link comes
 * up: the figure taken at that moment is the least settled one.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "proto/edges.h"
#include "proto/log.h"

static unsigned
id_hash(const uint8_t id[MEMBER_ID_BYTES])
{
	/* Ids are public keys: their bytes are already uniform. */
	return ((unsigned)id[0] | (unsigned)id[1] << 8) & (PEERS_HASH - 1);
}

void
peers_init(struct linkd *ld)
{
	TAILQ_INIT(&ld->peers);
	memset(ld->hash, 0, sizeof(ld->hash));
	ld->npeers = 0;
}

struct peer *
peers_find(struct linkd *ld, const uint8_t id[MEMBER_ID_BYTES])
{
	struct peer *p;

	for (p = ld->hash[id_hash(id)]; p != NULL; p = p->hnext)
		if (crypto_verify_32(p->rec.id, id) == 0)
			return p;
	return NULL;
}

struct peer *
peers_find_dh(struct linkd *ld, const uint8_t dh[NOISE_DHLEN])
{
	struct peer *p;

	TAILQ_FOREACH(p, &ld->peers, entry)
		if (crypto_verify_32(p->dh, dh) == 0)
			return p;
	return NULL;
}

static int
endpoints_differ(const struct record *a, const struct record *b)
{
	int i;

	if (a->ntcp != b->ntcp || strcmp(a->onion, b->onion) != 0)
		return 1;
	for (i = 0; i < a->ntcp; i++)
		if (strcmp(a->tcp[i], b->tcp[i]) != 0)
			return 1;
	return 0;
}

struct peer *
peers_update(struct linkd *ld, const struct record *r)
{
	struct peer *p;
	unsigned h;
	int i, moved = 0;

	if (ld->self_known && crypto_verify_32(r->id, ld->self_id) == 0) {
		ld->self_rec = *r;
		ld->have_self_rec = 1;
		return NULL;
	}
	if ((p = peers_find(ld, r->id)) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			log_warnx("member %s: out of memory", r->name);
			return NULL;
		}
		if (crypto_sign_ed25519_pk_to_curve25519(p->dh, r->id) != 0) {
			log_warnx("member %s: identity key has no X25519 "
			    "form; ignored", r->name);
			free(p);
			return NULL;
		}
		hex_encode(p->id_hex, r->id, MEMBER_ID_BYTES);
		/* TCP: one link carries everything (a second over the same
		 * path adds nothing). Onion: packets striped over the
		 * circuits, or (multipath = flow) flows spread over them. */
		mp_init(&p->mp, !ld->onion ? MP_STICKY :
		    ld->conf->multipath == CONF_MP_FLOW ? MP_FLOW :
		    MP_STRIPE);
		stripe_init(ld, p);
		p->reported = -1;
		bounds_init(&p->bounds, linkd_now());
		h = id_hash(r->id);
		p->hnext = ld->hash[h];
		ld->hash[h] = p;
		TAILQ_INSERT_TAIL(&ld->peers, p, entry);
		ld->npeers++;
		log_info("member %s (%.16s...) known", r->name, p->id_hex);
	} else if (p->rec.serial != r->serial) {
		log_debug("member %s: record serial %llu -> %llu", r->name,
		    (unsigned long long)p->rec.serial,
		    (unsigned long long)r->serial);
		moved = endpoints_differ(&p->rec, r);
	}
	p->rec = *r;
	p->seen = ld->sync_epoch;
	/* New endpoints: no reason to sit out a backoff meant for the
	 * old ones. */
	for (i = 0; moved && i < PEER_MAX_OUT; i++)
		if (p->out[i] != NULL)
			link_retry_now(p->out[i]);
	return p;
}

void
peers_remove(struct linkd *ld, struct peer *p, const char *why)
{
	struct peer **pp;

	log_info("member %s: %s", p->rec.name, why);
	e2e_peer_gone(ld, p);
	/* What it sent and we hold goes nowhere now. */
	stripe_free(&p->stripe);
	/* closing, not backing off */
	memset(p->out, 0, sizeof(p->out));
	while (p->nlinks > 0)
		link_close(p->links[0], why);
	if (p->reported > 0) {
		p->links_up = 0;
		peer_report_state(ld, p);
	}
	for (pp = &ld->hash[id_hash(p->rec.id)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&ld->peers, p, entry);
	ld->npeers--;
	sodium_memzero(p, sizeof(*p));
	free(p);
}

void
peers_sweep(struct linkd *ld)
{
	struct peer *p, *next;

	for (p = TAILQ_FIRST(&ld->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->seen != ld->sync_epoch)
			peers_remove(ld, p, "no longer a member");
	}
}

void
peers_clear(struct linkd *ld)
{
	struct peer *p;

	while ((p = TAILQ_FIRST(&ld->peers)) != NULL)
		peers_remove(ld, p, "forgotten");
}

int
linkd_onion_mode(const struct conf *c)
{
	return c->tor_control[0] != '\0' && c->tor_socks[0] != '\0';
}

/* connect / noconnect allow this member? */
static int
peers_allowed(const struct conf *c, const struct record *r)
{
	int i;

	for (i = 0; i < c->nnoconnect; i++)
		if (strcmp(c->noconnect[i], r->name) == 0)
			return 0;
	if (c->nconnect == 0)
		return 1;
	for (i = 0; i < c->nconnect; i++)
		if (strcmp(c->connect[i], r->name) == 0)
			return 1;
	return 0;
}

int
peers_dial_count(const struct conf *c, const uint8_t self_id[32],
    const struct record *r)
{
	int n;

	if (crypto_verify_32(r->id, self_id) == 0 || !peers_allowed(c, r))
		return 0;
	if (!linkd_onion_mode(c))
		return !c->anonymous && r->ntcp > 0 ? 1 : 0;
	/* Ids are public: a plain memcmp orders them the same on both
	 * sides, which is all that matters here. */
	if (r->onion[0] == '\0' || memcmp(self_id, r->id, 32) >= 0)
		return 0;
	n = (int)c->circuits;
	if (n < 1)
		n = 1;
	return n > PEER_MAX_OUT ? PEER_MAX_OUT : n;
}

int
peers_dial_wanted(const struct conf *c, const uint8_t self_id[32],
    const struct record *r)
{
	return peers_dial_count(c, self_id, r) > 0;
}

static int
peer_dialled(const struct peer *q)
{
	int i;

	for (i = 0; i < PEER_MAX_OUT; i++)
		if (q->out[i] != NULL)
			return 1;
	return 0;
}

/* Do we keep outgoing links to max or more members (max_links)? */
static int
peers_dialled_reach(struct linkd *ld, uint32_t max)
{
	struct peer *q;
	uint32_t n = 0;

	TAILQ_FOREACH(q, &ld->peers, entry)
		if (peer_dialled(q) && ++n >= max)
			return 1;
	return 0;
}

void
peers_apply_policy(struct linkd *ld, struct peer *p)
{
	int i, want = 0;

	if (ld->self_known && !ld->stopping)
		want = peers_dial_count(ld->conf, ld->self_id, &p->rec);
	/* max_links: members already dialled keep their links; a new one
	 * waits for a free place (the others reach it through relays). */
	if (want > 0 && ld->conf->max_links > 0 && !peer_dialled(p) &&
	    peers_dialled_reach(ld, ld->conf->max_links))
		want = 0;
	for (i = 0; i < PEER_MAX_OUT; i++) {
		/* link_dial sets p->out[i] for as long as it lives. */
		if (i < want && p->out[i] == NULL)
			(void)link_dial(ld, p, i);
		else if (i >= want && p->out[i] != NULL)
			link_close(p->out[i],
			    "no longer dialled (config or record)");
	}
}

void
peers_apply_policy_all(struct linkd *ld)
{
	struct peer *p;

	TAILQ_FOREACH(p, &ld->peers, entry)
		peers_apply_policy(ld, p);
}

int
peer_link_attach(struct peer *p, struct link *l)
{
	if (p->nlinks >= PEER_MAX_LINKS)
		return -1;
	p->links[p->nlinks] = l;
	p->paths[p->nlinks] = &l->mp;
	p->nlinks++;
	return 0;
}

void
peer_link_detach(struct peer *p, struct link *l)
{
	int i;

	for (i = 0; i < p->nlinks; i++) {
		if (p->links[i] != l)
			continue;
		/* What it moved since the last sample still counts. */
		p->rate_carry += l->tx_bytes + l->rx_bytes >= l->rate_seen ?
		    l->tx_bytes + l->rx_bytes - l->rate_seen : 0;
		mp_forget(&p->mp, &l->mp);
		memmove(&p->links[i], &p->links[i + 1],
		    (size_t)(p->nlinks - i - 1) * sizeof(p->links[0]));
		memmove(&p->paths[i], &p->paths[i + 1],
		    (size_t)(p->nlinks - i - 1) * sizeof(p->paths[0]));
		p->nlinks--;
		return;
	}
}

void
peer_links_changed(struct linkd *ld, struct peer *p)
{
	int i, up = 0;

	for (i = 0; i < p->nlinks; i++)
		if (p->links[i]->state == LINK_UP)
			up++;
	p->links_up = up;
	/* Nothing will fill its gaps now. */
	if (up == 0)
		stripe_links_down(p);
	else
		stripe_drain(p, linkd_now());  /* a window may have opened */
	if (up != p->reported)
		peer_report_state(ld, p);
}

struct link *
peer_tx_link(struct peer *p, const uint8_t *ip, size_t len, double now)
{
	uint32_t flow = 0;
	int i;

	if (p->mp.policy == MP_FLOW && p->nlinks > 1)
		flow = mp_flow_hash(ip, len);
	i = mp_select(&p->mp, p->paths, (size_t)p->nlinks, flow, now);
	return i < 0 ? NULL : p->links[i];
}

/* TAI64N seconds (the label included; only differences matter). */
static uint64_t
tai64_sec(const uint8_t ts[WIRE_HS_PAYLOAD])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | ts[i];
	return v;
}

int
ts_window_check(struct ts_window *w, const uint8_t ts[WIRE_HS_PAYLOAD])
{
	int pos;

	/* TAI64N is big-endian: byte order is time order. */
	if (w->has_floor && memcmp(ts, w->floor, WIRE_HS_PAYLOAD) <= 0)
		return -1;
	if (w->n > 0 && tai64_sec(ts) + TS_SLACK <
	    tai64_sec(w->ts[w->n - 1]))
		return -1;
	for (pos = w->n; pos > 0; pos--) {
		int c = memcmp(ts, w->ts[pos - 1], WIRE_HS_PAYLOAD);

		if (c == 0)
			return -1;
		if (c > 0)
			break;
	}
	if (w->n == TS_WINDOW) {
		/* Forget the oldest; anything not newer is refused now. */
		if (pos == 0) {         /* it would be the oldest itself */
			memcpy(w->floor, ts, WIRE_HS_PAYLOAD);
			w->has_floor = 1;
			return 0;
		}
		memcpy(w->floor, w->ts[0], WIRE_HS_PAYLOAD);
		w->has_floor = 1;
		memmove(w->ts[0], w->ts[1], (size_t)(pos - 1) *
		    WIRE_HS_PAYLOAD);
		pos--;
		w->n--;
	} else {
		memmove(w->ts[pos + 1], w->ts[pos], (size_t)(w->n - pos) *
		    WIRE_HS_PAYLOAD);
	}
	memcpy(w->ts[pos], ts, WIRE_HS_PAYLOAD);
	w->n++;
	return 0;
}

int
peer_check_ts(struct peer *p, const uint8_t ts[WIRE_HS_PAYLOAD])
{
	if (ts_window_check(&p->tsw, ts) == -1)
		return -1;
	p->t_last_hs = linkd_now();
	return 0;
}

uint32_t
peer_rtt_us(const struct peer *p)
{
	uint32_t best = 0;
	int i;

	for (i = 0; i < p->nlinks; i++) {
		const struct link *l = p->links[i];

		if (l->state == LINK_UP && l->rtt_us != 0 &&
		    (best == 0 || l->rtt_us < best))
			best = l->rtt_us;
	}
	return best;
}

uint64_t
rate_peak_add(struct rate_peak *r, double now, uint64_t bps)
{
	uint64_t blk, b, best = 0;
	int i;

	blk = now > 0 ? (uint64_t)(now / RATE_BLOCK_S) : 0;
	if (blk < r->blk || blk - r->blk >= RATE_BLOCKS) {
		/* everything kept is older than the window (or the
		 * clock went back: nothing kept can be trusted) */
		memset(r->peak, 0, sizeof(r->peak));
	} else {
		/* blocks between the last sample and now saw nothing */
		for (b = r->blk + 1; b <= blk; b++)
			r->peak[b % RATE_BLOCKS] = 0;
	}
	r->blk = blk;
	if (bps > r->peak[blk % RATE_BLOCKS])
		r->peak[blk % RATE_BLOCKS] = bps;
	for (i = 0; i < RATE_BLOCKS; i++)
		if (r->peak[i] > best)
			best = r->peak[i];
	return best;
}

uint32_t
rate_bps_to_kbps(uint64_t bps)
{
	/* bytes/s * 8 / 1000 without overflow: bps / 125 */
	bps /= 125;
	return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

void
peer_rate_tick(struct linkd *ld, struct peer *p, double now)
{
	uint64_t bytes, cur, bps;
	uint32_t kbps, rtt;
	double dt;
	int i, moved;

	/* Every link of p ticks with the same now: one sample a tick. */
	if (p->rate_t == now)
		return;
	bytes = p->rate_carry;
	p->rate_carry = 0;
	for (i = 0; i < p->nlinks; i++) {
		struct link *l = p->links[i];

		cur = l->tx_bytes + l->rx_bytes;
		bytes += cur >= l->rate_seen ? cur - l->rate_seen : 0;
		l->rate_seen = cur;
	}
	dt = now - p->rate_t;
	p->rate_t = now;
	if (dt > RATE_GAP_S || dt <= 0) {
		/* The first tick (or the first after a time without links,
		 * or after a stalled loop) only sets the baseline: those
		 * bytes belong to no known second. It still ages the peak,
		 * so links that come back after a minute do not report the
		 * rate of the old ones. */
		bps = 0;
	} else {
		/* The timer fires every second; never count less, so a
		 * short interval does not inflate its bytes into a rate. */
		if (dt < 1.0)
			dt = 1.0;
		bps = (uint64_t)((double)bytes / dt);
	}
	p->rate_bps = rate_peak_add(&p->rate, now, bps);
	kbps = edges_rate_bucket(rate_bps_to_kbps(p->rate_bps));
	moved = kbps != p->rate_kbps;
	if (moved) {
		log_debug("member %s: rate %u kbit/s (was %u)", p->rec.name,
		    kbps, p->rate_kbps);
		p->rate_kbps = kbps;
	}
	rtt = peer_rtt_us(p);
	if (rtt_moved(p->rtt_reported, rtt)) {
		log_debug("member %s: rtt %u us (routed has %u)", p->rec.name,
		    rtt, p->rtt_reported);
		moved = 1;
	}
	/* Without a link up routed holds no edge to weigh; the next
	 * links-up report carries both. */
	if (moved && p->reported > 0)
		peer_report_measured(ld, p);
}

int
rtt_moved(uint32_t was, uint32_t now)
{
	uint32_t d, hi;

	if ((was == 0) != (now == 0))
		return 1;
	d = was > now ? was - now : now - was;
	hi = was > now ? was : now;
	return d >= RTT_MOVED_US && d >= hi / RTT_MOVED_PART;
}

/* ---- what keyd and routed are told ---- */

static void
peer_state_send(struct linkd *ld, struct ipc_chan *c, struct peer *p,
    const char *to)
{
	struct msg_peer_state m;
	uint8_t buf[64];
	struct buf_w w;

	if (c == NULL)
		return;
	memset(&m, 0, sizeof(m));
	memcpy(m.id, p->rec.id, MEMBER_ID_BYTES);
	m.links_up = (uint16_t)p->links_up;
	m.rtt_us = peer_rtt_us(p);
	m.rate_kbps = p->rate_kbps;
	if (c == ld->routed)
		p->rtt_reported = m.rtt_us;
	bw_init(&w, buf, sizeof(buf));
	msg_peer_state_encode(&w, &m);
	if (w.err) {
		log_warnx("MSG_PEER_STATE does not fit %zu bytes",
		    sizeof(buf));
		return;
	}
	/* Not connected: it gets every state on its on_up. */
	if (ipc_send(c, MSG_PEER_STATE, 0, 0, &w) == -1)
		log_debug("peer state of %s not sent (%s away)",
		    p->rec.name, to);
}

void
peer_report_state(struct linkd *ld, struct peer *p)
{
	p->reported = p->links_up;
	peer_state_send(ld, ld->routed, p, "routed");
	peer_state_send(ld, ld->keyd, p, "keyd");
}

void
peer_report_measured(struct linkd *ld, struct peer *p)
{
	peer_state_send(ld, ld->routed, p, "routed");
}

void
peers_report_all(struct linkd *ld, struct ipc_chan *c)
{
	struct peer *p;

	TAILQ_FOREACH(p, &ld->peers, entry)
		peer_state_send(ld, c, p, c == ld->routed ? "routed" : "keyd");
}

json_t *
peers_bounds_json(struct linkd *ld)
{
	json_t *over = json_object();
	struct peer *p;

	TAILQ_FOREACH(p, &ld->peers, entry) {
		if (p->bounds.gossip_limited == 0 &&
		    p->bounds.e2e_refused == 0 &&
		    p->bounds.rekeys_limited == 0)
			continue;
		json_object_set_new(over, p->rec.name, json_pack(
		    "{s:I, s:I, s:I}",
		    "gossip_limited", (json_int_t)p->bounds.gossip_limited,
		    "e2e_refused", (json_int_t)p->bounds.e2e_refused,
		    "rekeys_limited", (json_int_t)p->bounds.rekeys_limited));
	}
	return json_pack("{s:f, s:f, s:i, s:f, s:o}",
	    "gossip_per_s", BOUND_GOSSIP_RATE,
	    "gossip_burst", BOUND_GOSSIP_BURST,
	    "e2e_per_member", BOUND_E2E_PER_MEMBER,
	    "rekeys_per_min", BOUND_REKEY_PER_MIN,
	    "over", over);
}
