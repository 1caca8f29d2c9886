/*
 * routed's IPC: records from keyd, link state from linkd, the forwarding
 * table to linkd and subnet routes to tund.
 *
 * routed dials keyd (keyd.routed) and listens for linkd (routed.linkd)
 * and tund (routed.tund). Every input only updates the graph and marks
 * it changed; a short timer then recomputes once for the whole burst
 * (a keyd resend or a linkd report arrives as many messages), and only
 * a table that differs from the one held is pushed. A push is always a
 * whole table under a new generation (BEGIN, ENTRY..., COMMIT), so linkd
 * and tund never apply half of one, and a restarted peer is whole again
 * after the push its on_up triggers.
 *
 * keyd's full resend starts with MSG_SELF and ends with MSG_SYNC_DONE;
 * records it did not resend are dropped at the end, so a member removed
 * while routed was away does not linger.
 *
 * Multi-hop: routed tells keyd our live direct links (MSG_EDGES_LOCAL,
 * from linkd's link state) half a second after they change and every
 * 30 s; keyd signs them into our edge announcement and spreads it. The
 * announcements of every member come back from keyd as MSG_EDGES and go
 * into the graph. They are verified again here, as records are: one
 * signature check each keeps a confused keyd from steering our traffic.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "proto/edges.h"
#include "proto/log.h"
#include "proto/record.h"
#include "routed/gateway.h"
#include "routed/routed.h"

#define ROUTED_SETTLE_S 0.05
#define ROUTED_RETRY_S  1.0
#define ROUTED_EDGES_SOON_S  0.5   /* coalesce a burst of link changes */
#define ROUTED_EDGES_EVERY_S 30.0  /* rtts drift; keyd restarts */

static void
routed_retry_later(struct routed *r)
{
	if (!ev_is_active(&r->retry)) {
		ev_timer_set(&r->retry, ROUTED_RETRY_S, 0.);
		ev_timer_start(r->d.loop, &r->retry);
	}
}

static int
routed_send(struct routed *r, struct ipc_chan *c, uint16_t type,
    const struct buf_w *w)
{
	if (w->err) {
		log_warnx("%s does not fit its buffer", msg_name(type));
		return -1;
	}
	if (ipc_send(c, type, 0, 0, w) == -1) {
		log_debug("%s not queued; whole table again later",
		    msg_name(type));
		return -1;
	}
	return 0;
}

static void
routed_push_fib(struct routed *r)
{
	uint8_t buf[256];
	struct msg_fib_begin b;
	struct msg_fib_entry e;
	struct msg_fib_commit c;
	struct buf_w w;
	uint32_t gen;
	size_t i;

	if (r->linkd == NULL || !ipc_chan_connected(r->linkd))
		return; /* on_up pushes it */
	gen = ++r->fib_gen;
	b.generation = gen;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_begin_encode(&w, &b);
	if (routed_send(r, r->linkd, MSG_FIB_BEGIN, &w) == -1)
		goto retry;
	for (i = 0; i < r->fib.n; i++) {
		memset(&e, 0, sizeof(e));
		e.generation = gen;
		e.dst = r->fib.v[i].dst;
		memcpy(e.dest, r->fib.v[i].dest, sizeof(e.dest));
		memcpy(e.next_hop, r->fib.v[i].next_hop, sizeof(e.next_hop));
		e.cost = r->fib.v[i].cost;
		bw_init(&w, buf, sizeof(buf));
		msg_fib_entry_encode(&w, &e);
		if (routed_send(r, r->linkd, MSG_FIB_ENTRY, &w) == -1)
			goto retry;
	}
	c.generation = gen;
	c.count = (uint32_t)r->fib.n;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_commit_encode(&w, &c);
	if (routed_send(r, r->linkd, MSG_FIB_COMMIT, &w) == -1)
		goto retry;
	r->fib_pending = 0;
	r->fib_pushes++;
	log_debug("fib generation %u: %zu entries to linkd", gen, r->fib.n);
	return;
retry:
	routed_retry_later(r);
}

static void
routed_push_routes(struct routed *r)
{
	uint8_t buf[128];
	struct msg_fib_begin b;
	struct msg_route_entry e;
	struct msg_fib_commit c;
	struct buf_w w;
	uint32_t gen;
	size_t i;

	if (r->tund == NULL || !ipc_chan_connected(r->tund))
		return;
	gen = ++r->route_gen;
	/* ROUTE_BEGIN and ROUTE_COMMIT share FIB_BEGIN/COMMIT's codec. */
	b.generation = gen;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_begin_encode(&w, &b);
	if (routed_send(r, r->tund, MSG_ROUTE_BEGIN, &w) == -1)
		goto retry;
	for (i = 0; i < r->routes.n; i++) {
		memset(&e, 0, sizeof(e));
		e.generation = gen;
		e.dst = r->routes.v[i];
		bw_init(&w, buf, sizeof(buf));
		msg_route_entry_encode(&w, &e);
		if (routed_send(r, r->tund, MSG_ROUTE_ENTRY, &w) == -1)
			goto retry;
	}
	c.generation = gen;
	c.count = (uint32_t)r->routes.n;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_commit_encode(&w, &c);
	if (routed_send(r, r->tund, MSG_ROUTE_COMMIT, &w) == -1)
		goto retry;
	r->routes_pending = 0;
	r->route_pushes++;
	log_debug("routes generation %u: %zu prefixes to tund", gen,
	    r->routes.n);
	return;
retry:
	routed_retry_later(r);
}

void
routed_recompute(struct routed *r)
{
	struct routed_fib nf, tf;
	struct routed_routes nr, tr;
	struct routed_fib_diff d;
	size_t reach;

	if (ev_is_active(&r->settle))
		ev_timer_stop(r->d.loop, &r->settle);
	r->recomputes++;
	reach = graph_shortest_paths(&r->g);

	routed_fib_init(&nf);
	if (routed_fib_build(&nf, &r->g) == -1 ||
	    routed_gateway_fib(&nf, &r->g, r->d.conf.gateway) == -1) {
		log_warnx("out of memory building the forwarding table; "
		    "trying again");
		routed_fib_free(&nf);
		routed_retry_later(r);
		return;
	}
	if (!routed_fib_equal(&nf, &r->fib)) {
		routed_fib_diff(&r->fib, &nf, &d);
		log_info("forwarding table: %zu entries (%zu added, %zu "
		    "removed, %zu changed), %zu members reachable", nf.n,
		    d.added, d.removed, d.changed, reach);
		tf = r->fib;
		r->fib = nf;
		nf = tf;
		r->fib_pending = 1;
	}
	routed_fib_free(&nf);

	routed_routes_init(&nr);
	if (routed_routes_build(&nr, &r->g) == -1 ||
	    routed_gateway_routes(&nr, &r->g, r->d.conf.gateway) == -1) {
		log_warnx("out of memory building routes; trying again");
		routed_routes_free(&nr);
		routed_retry_later(r);
	} else {
		if (!routed_routes_equal(&nr, &r->routes)) {
			log_info("subnet routes for tund: %zu", nr.n);
			tr = r->routes;
			r->routes = nr;
			nr = tr;
			r->routes_pending = 1;
		}
		routed_routes_free(&nr);
	}

	if (r->fib_pending)
		routed_push_fib(r);
	if (r->routes_pending)
		routed_push_routes(r);
}

void
routed_changed(struct routed *r)
{
	if (!ev_is_active(&r->settle)) {
		ev_timer_set(&r->settle, ROUTED_SETTLE_S, 0.);
		ev_timer_start(r->d.loop, &r->settle);
	}
}

static void
routed_settle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	routed_recompute(t->data);
}

static void
routed_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	/* Recompute too: a failed build left no table behind. */
	routed_recompute(t->data);
}

/* Our live links to keyd, which signs and spreads them. */
static void
routed_edges_local_send(struct routed *r)
{
	static struct msg_edges_local m;
	static struct edges_peer pe[EDGES_MAX_PEERS];
	static uint8_t buf[MSG_EDGES_LOCAL_MAX];
	struct buf_w w;
	size_t i, n;

	if (r->keyd == NULL || !ipc_chan_connected(r->keyd))
		return; /* its on_up schedules a send */
	n = graph_local_edges(&r->g, pe, EDGES_MAX_PEERS);
	memset(&m, 0, sizeof(m));
	m.count = (uint16_t)n;
	for (i = 0; i < n; i++) {
		memcpy(m.peers[i].id, pe[i].id, MEMBER_ID_BYTES);
		m.peers[i].rtt_us = pe[i].rtt_us;
		m.peers[i].rate_kbps = pe[i].rate_kbps;
	}
	bw_init(&w, buf, sizeof(buf));
	msg_edges_local_encode(&w, &m);
	if (routed_send(r, r->keyd, MSG_EDGES_LOCAL, &w) == -1)
		return; /* the 30 s timer tries again */
	r->edges_local_sent++;
	log_debug("our %zu live links to keyd", n);
}

/* Our links changed: tell keyd once the burst is over. Not restarted
 * by later changes, so a flapping link cannot delay it for ever. */
static void
routed_edges_soon(struct routed *r)
{
	if (!ev_is_active(&r->edges_soon)) {
		ev_timer_set(&r->edges_soon, ROUTED_EDGES_SOON_S, 0.);
		ev_timer_start(r->d.loop, &r->edges_soon);
	}
}

static void
routed_edges_soon_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	routed_edges_local_send(t->data);
}

static void
routed_edges_every_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	routed_edges_local_send(t->data);
}

static void
routed_on_edges(struct routed *r, const uint8_t *p, size_t n)
{
	static struct msg_edges m;
	static struct edges e;
	char err[256], hex[2 * MEMBER_ID_BYTES + 1];
	int rc;

	if (msg_edges_decode(&m, p, n) == -1) {
		r->edges_bad++;
		log_warnx_rl(&r->edges_bad, "malformed EDGES from keyd (%zu "
		    "bytes); dropped", n);
		return;
	}
	if (edges_parse(&e, m.text, m.len, err, sizeof(err)) == -1) {
		r->edges_bad++;
		log_warnx_rl(&r->edges_bad, "edge announcement from keyd does "
		    "not parse: %s; dropped", err);
		return;
	}
	if (!r->have_netid || edges_verify(&e, r->netid) != 0) {
		r->edges_bad++;
		hex_encode(hex, e.id, MEMBER_ID_BYTES);
		log_warnx_rl(&r->edges_bad, "edge announcement of %.16s... "
		    "from keyd does not verify; dropped", hex);
		return;
	}
	rc = graph_edges_set(&r->g, e.id, e.serial, e.peers, e.npeers);
	if (rc == -1) {
		log_warnx("out of memory taking an edge announcement; "
		    "dropped");
		return;
	}
	r->edges_in++;
	hex_encode(hex, e.id, MEMBER_ID_BYTES);
	log_debug("edges of %.16s... serial %llu: %zu peers%s", hex,
	    (unsigned long long)e.serial, e.npeers, rc ? ", changed" : "");
	if (rc)
		routed_changed(r);
}

static void
routed_on_record(struct routed *r, const uint8_t *p, size_t n)
{
	static struct msg_record m;
	char err[512], hex[2 * MEMBER_ID_BYTES + 1];
	struct record rec;
	int rc;

	if (msg_record_decode(&m, p, n) == -1) {
		log_warnx_rl(&r->keyd, "malformed RECORD from keyd (%zu "
		    "bytes); dropped", n);
		return;
	}
	if (record_parse(&rec, m.text, m.len, err, sizeof(err)) == -1) {
		log_warnx("record from keyd does not parse: %s; dropped", err);
		return;
	}
	/* keyd verified it; checking again costs one signature check
	 * and keeps a confused keyd from steering our traffic. */
	if (!r->have_netid || record_verify(&rec, r->netid) != 0) {
		log_warnx("record of %s from keyd does not verify; dropped",
		    rec.name);
		return;
	}
	rc = graph_member_set(&r->g, &rec);
	if (rc == -1) {
		log_warnx("out of memory adding %s; dropped", rec.name);
		return;
	}
	hex_encode(hex, rec.id, MEMBER_ID_BYTES);
	log_debug("record of %s (%.16s...) serial %llu%s", rec.name, hex,
	    (unsigned long long)rec.serial, rc ? ", changed" : "");
	if (rc && !r->in_sync)
		routed_changed(r);
}

static void
routed_keyd_msg(struct ipc_chan *c, const struct msg_hdr *h,
    const uint8_t *p, void *arg)
{
	struct routed *r = arg;
	struct msg_self self;
	struct msg_member mm;
	struct msg_sync_done done;
	size_t gone;

	switch (h->type) {
	case MSG_SELF:
		if (msg_self_decode(&self, p, h->length) == -1)
			break;
		if (graph_set_self(&r->g, self.id, self.name))
			log_info("we are %s", self.name);
		memcpy(r->netid, self.netid, sizeof(r->netid));
		r->have_netid = 1;
		/* A full resend starts: remember what it holds. */
		r->in_sync = 1;
		graph_sync_begin(&r->g);
		return;
	case MSG_RECORD:
		routed_on_record(r, p, h->length);
		return;
	case MSG_EDGES:
		routed_on_edges(r, p, h->length);
		return;
	case MSG_RECORD_DEL:
		if (msg_member_decode(&mm, p, h->length) == -1)
			break;
		if (graph_member_del(&r->g, mm.id))
			routed_changed(r);
		return;
	case MSG_SYNC_DONE:
		if (msg_sync_done_decode(&done, p, h->length) == -1)
			break;
		if (!r->in_sync) {
			/* A SYNC_DONE without its SELF: the resend was
			 * not seen from its start, so nothing is dropped. */
			log_warnx_rl(&r->in_sync, "SYNC_DONE from keyd "
			    "without SELF; ignored");
			return;
		}
		r->in_sync = 0;
		gone = graph_sync_end(&r->g);
		log_info("records from keyd: %u", done.count);
		if (gone)
			log_info("%zu members no longer in keyd's set; "
			    "dropped", gone);
		routed_changed(r);
		return;
	default:
		log_warnx_rl(c, "%s from keyd: not handled by routed; "
		    "dropped", msg_name(h->type));
		return;
	}
	log_warnx_rl(c, "malformed %s from keyd (%u bytes); dropped",
	    msg_name(h->type), h->length);
}

static void
routed_keyd_up(struct ipc_chan *c, void *arg)
{
	struct routed *r = arg;

	/* A (re)started keyd holds no announcement of ours. */
	log_info("connected to keyd");
	routed_edges_soon(r);
}

static void
routed_linkd_msg(struct ipc_chan *c, const struct msg_hdr *h,
    const uint8_t *p, void *arg)
{
	struct routed *r = arg;
	struct msg_peer_state ps;
	char hex[2 * MEMBER_ID_BYTES + 1];
	int rc;

	if (h->type != MSG_PEER_STATE) {
		log_warnx_rl(c, "%s from linkd: not handled by routed; "
		    "dropped", msg_name(h->type));
		return;
	}
	if (msg_peer_state_decode(&ps, p, h->length) == -1) {
		log_warnx_rl(c, "malformed PEER_STATE from linkd (%u bytes); "
		    "dropped", h->length);
		return;
	}
	rc = graph_link_set_rate(&r->g, ps.id, ps.links_up, ps.rtt_us,
	    ps.rate_kbps);
	if (rc == -1) {
		log_warnx("out of memory recording a link; dropped");
		return;
	}
	hex_encode(hex, ps.id, MEMBER_ID_BYTES);
	log_debug("links to %.16s...: %u, rtt %u us, rate %u kbit/s", hex,
	    ps.links_up, ps.rtt_us, ps.rate_kbps);
	if (rc) {
		routed_changed(r);
		routed_edges_soon(r);
	}
}

static void
routed_linkd_up(struct ipc_chan *c, void *arg)
{
	struct routed *r = arg;

	/* A (re)connected linkd reports its live links afresh; what an
	 * earlier linkd reported is gone with it. Wait the settle time
	 * for that report, then push a whole table either way. */
	log_info("linkd connected");
	if (graph_links_clear(&r->g))
		routed_edges_soon(r);
	r->fib_pending = 1;
	routed_changed(r);
}

static void
routed_tund_msg(struct ipc_chan *c, const struct msg_hdr *h,
    const uint8_t *p, void *arg)
{
	struct routed *r = arg;
	struct msg_tun_state ts;

	if (h->type != MSG_TUN_STATE) {
		log_warnx_rl(c, "%s from tund: not handled by routed; "
		    "dropped", msg_name(h->type));
		return;
	}
	if (msg_tun_state_decode(&ts, p, h->length) == -1) {
		log_warnx_rl(c, "malformed TUN_STATE from tund (%u bytes); "
		    "dropped", h->length);
		return;
	}
	r->tun = ts;
	r->have_tun = 1;
	log_info("tun %s mtu %u %s", ts.ifname, ts.mtu,
	    ts.up ? "up" : "down");
}

static void
routed_tund_up(struct ipc_chan *c, void *arg)
{
	struct routed *r = arg;

	log_info("tund connected");
	r->routes_pending = 1;
	routed_changed(r);
}

static struct ipc_chan *
routed_chan(struct routed *r, const char *name, enum daemon peer,
    ipc_msg_cb on_msg, ipc_up_cb on_up, int listen)
{
	struct ipc_chan_cfg cfg;
	struct ipc_chan *c;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", daemon_sock(&r->d, name));
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = r->d.loop;
	cfg.path = path;
	cfg.self = D_ROUTED;
	cfg.peer = peer;
	cfg.peer_uid = r->d.ids.uid[peer];
	cfg.on_msg = on_msg;
	cfg.on_up = on_up;
	cfg.arg = r;
	c = listen ? ipc_chan_listen(&cfg) : ipc_chan_dial(&cfg);
	if (c == NULL)
		fatalx("cannot %s %s", listen ? "listen on" : "dial", path);
	return c;
}

void
routed_dispatch_start(struct routed *r)
{
	char name[64], path[PATH_MAX];

	ev_timer_init(&r->settle, routed_settle_cb, ROUTED_SETTLE_S, 0.);
	r->settle.data = r;
	ev_timer_init(&r->retry, routed_retry_cb, ROUTED_RETRY_S, 0.);
	r->retry.data = r;
	ev_timer_init(&r->edges_soon, routed_edges_soon_cb,
	    ROUTED_EDGES_SOON_S, 0.);
	r->edges_soon.data = r;
	ev_timer_init(&r->edges_every, routed_edges_every_cb,
	    ROUTED_EDGES_EVERY_S, ROUTED_EDGES_EVERY_S);
	r->edges_every.data = r;
	ev_timer_start(r->d.loop, &r->edges_every);

	r->linkd = routed_chan(r, IPC_ROUTED_LINKD, D_LINKD,
	    routed_linkd_msg, routed_linkd_up, 1);
	r->tund = routed_chan(r, IPC_ROUTED_TUND, D_TUND, routed_tund_msg,
	    routed_tund_up, 1);
	r->keyd = routed_chan(r, IPC_KEYD_ROUTED, D_KEYD, routed_keyd_msg,
	    routed_keyd_up, 0);

	snprintf(name, sizeof(name), IPC_CTL_FMT, "routed");
	snprintf(path, sizeof(path), "%s", daemon_sock(&r->d, name));
	r->ctl = ipc_ctl_listen(r->d.loop, path, routed_ctl, r);
	if (r->ctl == NULL)
		fatalx("cannot listen on %s", path);
}

void
routed_dispatch_stop(struct routed *r)
{
	if (ev_is_active(&r->settle))
		ev_timer_stop(r->d.loop, &r->settle);
	if (ev_is_active(&r->retry))
		ev_timer_stop(r->d.loop, &r->retry);
	if (ev_is_active(&r->edges_soon))
		ev_timer_stop(r->d.loop, &r->edges_soon);
	if (ev_is_active(&r->edges_every))
		ev_timer_stop(r->d.loop, &r->edges_every);
	if (r->ctl != NULL)
		ipc_ctl_close(r->ctl);
	if (r->keyd != NULL)
		ipc_chan_close(r->keyd);
	if (r->tund != NULL)
		ipc_chan_close(r->tund);
	if (r->linkd != NULL)
		ipc_chan_close(r->linkd);
	r->ctl = NULL;
	r->keyd = NULL;
	r->tund = NULL;
	r->linkd = NULL;
}
