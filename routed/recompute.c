/*
 * routed's pipeline: from the graph to the tables linkd and tund hold,
 * and our own links to keyd.
 *
 * Every input only updates the graph and marks it changed
 * (routed_changed); the settle timer then recomputes once for the whole
 * burst (a keyd resend or a linkd report arrives as many messages), and
 * only a table that differs from the one held is pushed. A push is
 * always a whole table under a new generation (BEGIN, ENTRY...,
 * COMMIT), so linkd and tund never apply half of one, and a restarted
 * peer is whole again after the push its on_up triggers. A push that
 * does not fit the channel is tried again, whole, by the retry timer.
 *
 * Multi-hop: routed tells keyd our live direct links (MSG_EDGES_LOCAL,
 * from linkd's link state) half a second after they change and every
 * 30 s; keyd signs them into our edge announcement and spreads it.
 *
 * The timers are routed.c's (routed_start initialises them); the
 * functions here only arm them, so this file and the handlers that call
 * it run without a loop in the fuzz targets.
 */
#include <string.h>

#include "proto/edges.h"
#include "proto/log.h"
#include "routed/gateway.h"
#include "routed/routed.h"

/* Arm a one-shot timer unless it runs already: later calls within the
 * delay do not push it back, so a steady stream of changes cannot
 * postpone the work for ever. */
static void
routed_arm(struct routed *r, ev_timer *t, double after)
{
	if (!ev_is_active(t)) {
		ev_timer_set(t, after, 0.);
		ev_timer_start(r->d.loop, t);
	}
}

void
routed_changed(struct routed *r)
{
	routed_arm(r, &r->settle, ROUTED_SETTLE_S);
}

void
routed_edges_soon(struct routed *r)
{
	routed_arm(r, &r->edges_soon, ROUTED_EDGES_SOON_S);
}

static void
routed_retry_later(struct routed *r)
{
	routed_arm(r, &r->retry, ROUTED_RETRY_S);
}

static int
routed_send(struct ipc_chan *c, uint16_t type, const struct buf_w *w)
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

/* How one kind of table goes on the wire, and to whom. ROUTE_BEGIN and
 * ROUTE_COMMIT share FIB_BEGIN/COMMIT's codec; only the entries
 * differ. */
struct push_kind {
	uint16_t begin, entry, commit;
	void (*encode)(const struct routed *r, size_t i, uint32_t gen,
	    struct buf_w *w);
	const char *what, *items, *to;    /* for the log */
};

static void
fib_entry_encode(const struct routed *r, size_t i, uint32_t gen,
    struct buf_w *w)
{
	const struct routed_fib_entry *f = &r->fib.v[i];
	struct msg_fib_entry e = {
		.generation = gen, .dst = f->dst, .cost = f->cost
	};

	memcpy(e.dest, f->dest, sizeof(e.dest));
	memcpy(e.next_hop, f->next_hop, sizeof(e.next_hop));
	msg_fib_entry_encode(w, &e);
}

static void
route_entry_encode(const struct routed *r, size_t i, uint32_t gen,
    struct buf_w *w)
{
	struct msg_route_entry e = {.generation = gen, .dst = r->routes.v[i]};

	msg_route_entry_encode(w, &e);
}

static const struct push_kind push_fib = {
	MSG_FIB_BEGIN, MSG_FIB_ENTRY, MSG_FIB_COMMIT, fib_entry_encode,
	"fib", "entries", "linkd"
};
static const struct push_kind push_routes = {
	MSG_ROUTE_BEGIN, MSG_ROUTE_ENTRY, MSG_ROUTE_COMMIT, route_entry_encode,
	"routes", "prefixes", "tund"
};

/* One whole table of n entries under generation gen. -1 when a message
 * was not queued: the peer then holds a table it will not commit. */
static int
routed_push(struct routed *r, struct ipc_chan *c, const struct push_kind *k,
    size_t n, uint32_t gen)
{
	uint8_t buf[256];
	struct msg_fib_begin b;
	struct msg_fib_commit cm;
	struct buf_w w;
	size_t i;

	b.generation = gen;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_begin_encode(&w, &b);
	if (routed_send(c, k->begin, &w) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		bw_init(&w, buf, sizeof(buf));
		k->encode(r, i, gen, &w);
		if (routed_send(c, k->entry, &w) == -1)
			return -1;
	}
	cm.generation = gen;
	cm.count = (uint32_t)n;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_commit_encode(&w, &cm);
	return routed_send(c, k->commit, &w);
}

/* Push a table to a peer that is there (a peer that is not gets it
 * from its on_up): a new generation, and on success the table is no
 * longer pending; else the retry timer tries again, whole. */
static void
routed_push_to(struct routed *r, struct ipc_chan *c,
    const struct push_kind *k, size_t n, uint32_t *gen, int *pending,
    uint64_t *pushes)
{
	if (c == NULL || !ipc_chan_connected(c))
		return;
	++*gen;
	if (routed_push(r, c, k, n, *gen) == -1) {
		routed_retry_later(r);
		return;
	}
	*pending = 0;
	(*pushes)++;
	log_debug("%s generation %u: %zu %s to %s", k->what, *gen, n,
	    k->items, k->to);
}

/* The forwarding table from the graph; marks it pending when it
 * differs from the one held. -1 out of memory (retried). */
static int
routed_build_fib(struct routed *r, size_t reach)
{
	struct routed_fib nf, tf;
	struct routed_fib_diff d;

	routed_fib_init(&nf);
	if (routed_fib_build(&nf, &r->g, &r->acc) == -1 ||
	    routed_gateway_fib(&nf, &r->g, r->d.conf.gateway) == -1) {
		log_warnx("out of memory building the forwarding table; "
		    "trying again");
		routed_fib_free(&nf);
		return -1;
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
	return 0;
}

/* The same for tund's subnet routes. */
static int
routed_build_routes(struct routed *r)
{
	struct prefix_set nr, tr;

	prefix_set_init(&nr);
	if (routed_routes_build(&nr, &r->g, &r->acc) == -1 ||
	    routed_gateway_routes(&nr, &r->g, r->d.conf.gateway) == -1) {
		log_warnx("out of memory building routes; trying again");
		prefix_set_free(&nr);
		return -1;
	}
	if (!prefix_set_equal(&nr, &r->routes)) {
		log_info("subnet routes for tund: %zu", nr.n);
		tr = r->routes;
		r->routes = nr;
		nr = tr;
		r->routes_pending = 1;
	}
	prefix_set_free(&nr);
	return 0;
}

/* Log each subnet we do not take once per member and prefix, with the
 * reason, and count it (status). The tables leave them out anyway
 * (fib.c asks the same verdict); this is only the telling. */
static void
routed_refusals_log(struct routed *r)
{
	const struct graph_member *m;
	char pfx[PREFIX_STRLEN];
	size_t i;
	int k, why;

	for (i = 0; i < r->g.n; i++) {
		m = &r->g.m[i];
		if (!m->has_record || (r->g.has_self &&
		    memcmp(m->id, r->g.self, MEMBER_ID_BYTES) == 0))
			continue;
		for (k = 0; k < m->nsubnets && k < GRAPH_MAX_SUBNETS; k++) {
			why = routed_subnet_verdict(&r->acc, m,
			    &m->subnets[k]);
			if (why == ROUTED_TAKEN || routed_refusals_note(
			    &r->acc.refused, m->id, &m->subnets[k], why) != 1)
				continue;
			prefix_fmt(&m->subnets[k], pfx, sizeof(pfx), 1);
			log_warnx("member %s claims subnet %s: not routed, "
			    "%s", m->name, pfx, routed_refusal_why(why));
		}
	}
}

void
routed_recompute(struct routed *r)
{
	size_t reach;

	if (ev_is_active(&r->settle))
		ev_timer_stop(r->d.loop, &r->settle);
	r->recomputes++;
	reach = graph_shortest_paths(&r->g);
	if (routed_accept_prepare(&r->acc, &r->d.conf, &r->g) == -1) {
		log_warnx("out of memory sorting members' addresses; "
		    "trying again");
		routed_retry_later(r);
		return;
	}
	routed_refusals_log(r);
	/* A failed fib build leaves the routes alone, as it always did:
	 * the retry recomputes both. */
	if (routed_build_fib(r, reach) == -1) {
		routed_retry_later(r);
		return;
	}
	if (routed_build_routes(r) == -1)
		routed_retry_later(r);
	if (r->fib_pending)
		routed_push_to(r, r->linkd, &push_fib, r->fib.n, &r->fib_gen,
		    &r->fib_pending, &r->fib_pushes);
	if (r->routes_pending)
		routed_push_to(r, r->tund, &push_routes, r->routes.n,
		    &r->route_gen, &r->routes_pending, &r->route_pushes);
}

void
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
	if (routed_send(r->keyd, MSG_EDGES_LOCAL, &w) == -1)
		return; /* the 30 s timer tries again */
	r->edges_local_sent++;
	log_debug("our %zu live links to keyd", n);
}
