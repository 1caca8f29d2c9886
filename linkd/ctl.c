/*
 * What linkd's ctl socket (ctl.linkd, nng rep0, JSON; linkd.c opens it)
 * answers, one row per command in linkd_ctl_cmds: what the onionmesh
 * command shows for "status", "links" and "peers", and "sessions" (the
 * end-to-end sessions through relays, with the relay counters that
 * "status" also has under "forward"). Read-only, so every caller
 * allowed on the socket may ask; the exceptions, refused at the door
 * (proto/ipc.c) for callers who may only read, are debug_route, a test
 * hook (route.h), and "log" with a level (proto/logctl.h). Times are given as
 * Unix time (from the monotonic clock, so a clock step does not make a
 * link look days old) and durations in milliseconds.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "linkd/linkd.h"
#include "proto/dispatch.h"
#include "proto/json.h"
#include "proto/log.h"
#include "proto/logctl.h"

static json_t *forward_json(const struct linkd *ld);

/* Monotonic time -> Unix time. */
static json_t *
wall(double mono, double now)
{
	return json_integer((json_int_t)(time(NULL) - (time_t)(now - mono)));
}

static json_t *
link_json(const struct link *l, double now)
{
	const struct peer *p = l->peer;
	uint64_t replays = l->replays + (l->sess_live ? l->sess.replays : 0);
	uint64_t errors = l->errors + (l->sess_live ? l->sess.bad_frames : 0);

	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:f, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
	    "id", (json_int_t)l->serial,
	    "peer", p != NULL ? p->rec.name : "",
	    "peer_id", p != NULL ? p->id_hex : "",
	    "dir", l->dir == LINK_OUT ? "out" : "in",
	    "transport", l->transport,
	    "remote", l->remote,
	    "state", link_state_name(l->state),
	    "since", wall(l->t_state, now),
	    "rtt_ms", l->rtt_us / 1000.0,
	    "tx_bytes", (json_int_t)l->tx_bytes,
	    "rx_bytes", (json_int_t)l->rx_bytes,
	    "tx_packets", (json_int_t)l->tx_packets,
	    "rx_packets", (json_int_t)l->rx_packets,
	    "errors", (json_int_t)errors,
	    "replays", (json_int_t)replays,
	    "queued", (json_int_t)l->tx.len,
	    "rate", (json_int_t)l->rate_bps,
	    "redials", (json_int_t)l->redials,
	    "last_error", l->last_error);
}

/* {"ok": true, key: a}, or NULL (out of memory). */
static json_t *
ok_with(const char *key, json_t *a)
{
	json_t *r = json_ok();

	if (r == NULL || a == NULL || json_object_set_new(r, key, a) == -1) {
		json_decref(r);
		json_decref(a);
		return NULL;
	}
	return r;
}

static json_t *
ctl_links(void *ctx, json_t *req)
{
	struct linkd *ld = ctx;
	json_t *a = json_array();
	struct link *l;
	struct peer *p;
	double now = linkd_now();
	json_t *r;

	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->state != LINK_CLOSED)
			json_array_append_new(a,
			    stripe_link_json(link_json(l, now), l));
	if ((r = ok_with("links", a)) == NULL)
		return NULL;
	/* Members whose numbered (striped) packets we put in order. */
	a = json_array();
	TAILQ_FOREACH(p, &ld->peers, entry)
		if (p->stripe.ro_live)
			json_array_append_new(a, stripe_json(&p->stripe));
	if (a == NULL || json_object_set_new(r, "reorder", a) == -1) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static json_t *
peer_json(struct linkd *ld, const struct peer *p, double now)
{
	json_t *subnets = json_array(), *tcp = json_array();
	int i;

	for (i = 0; i < p->rec.nsubnets; i++)
		json_array_append_new(subnets,
		    json_prefix(&p->rec.subnets[i], 1));
	for (i = 0; i < p->rec.ntcp; i++)
		json_array_append_new(tcp, json_string(p->rec.tcp[i]));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:b, s:i, "
	    "s:i, s:i, s:f, s:I, s:o, s:I, s:I}",
	    "name", p->rec.name,
	    "id", p->id_hex,
	    "ipv4", json_prefix(&p->rec.ipv4, 0),
	    "ipv6", json_prefix(&p->rec.ipv6, 0),
	    "subnets", subnets,
	    "tcp", tcp,
	    "onion", p->rec.onion,
	    "dial", peers_dial_wanted(ld->conf, ld->self_id, &p->rec),
	    "dial_links", peers_dial_count(ld->conf, ld->self_id, &p->rec),
	    "links", p->nlinks,
	    "links_up", p->links_up,
	    "rtt_ms", peer_rtt_us(p) / 1000.0,
	    /* busiest second of the last minute, as measured (routed
	     * gets it rounded down to a power of two); a member without
	     * links takes no samples, so its old peak is not shown */
	    "rate_kbps", (json_int_t)(p->nlinks > 0 ?
	    rate_bps_to_kbps(p->rate_bps) : 0),
	    "last_handshake", p->t_last_hs > 0 ? wall(p->t_last_hs, now) :
	    json_null(),
	    "src_drops", (json_int_t)p->src_drops,
	    "congested_drops", (json_int_t)p->congested);
}

static json_t *
ctl_peers(void *ctx, json_t *req)
{
	struct linkd *ld = ctx;
	json_t *a = json_array();
	struct peer *p;
	double now = linkd_now();

	TAILQ_FOREACH(p, &ld->peers, entry)
		json_array_append_new(a, peer_json(ld, p, now));
	return ok_with("peers", a);
}

static json_t *
ctl_sessions(void *ctx, json_t *req)
{
	struct linkd *ld = ctx;

	return json_pack("{s:b, s:o, s:o}", "ok", 1,
	    "sessions", e2e_sessions_json(ld),
	    "forward", forward_json(ld));
}

/* A uint64_t counter of struct linkd, by its name in a reply. */
struct counter {
	const char *name;
	size_t off;
};

#define LD_COUNTER(name, member) { name, offsetof(struct linkd, member) }

/* status's "counters": the data path's, and the doors' refusals. */
static const struct counter status_counters[] = {
	LD_COUNTER("from_tund", dp.tx_packets),
	LD_COUNTER("to_tund", dp.rx_packets),
	LD_COUNTER("no_route", dp.no_route),
	LD_COUNTER("no_link", dp.no_link),
	LD_COUNTER("src_drops", dp.src_drops),
	LD_COUNTER("tund_drops", dp.tund_drops),
	LD_COUNTER("bad_packets", dp.bad_packets),
	LD_COUNTER("refused_in", refused_in),
	LD_COUNTER("hs_ratelimited", hs_ratelimited),
	LD_COUNTER("pending_evicted", pending_evicted),
	LD_COUNTER("join_ratelimited", join_ratelimited),
	LD_COUNTER("links_paused", dp.links_paused_n),
	LD_COUNTER("tund_paused", dp.tund_paused_n),
	LD_COUNTER("congested_drops", dp.congested),
	/* Gossip carried for keyd; drops: more than keyd or a member's
	 * link could take (linkd/gossip.c), so a flood shows here even
	 * where keyd never saw it to refuse it. */
	LD_COUNTER("gossip_in", gossip_in),
	LD_COUNTER("gossip_out", gossip_out),
	LD_COUNTER("gossip_drops", gossip_drops),
	/* Over a member's bounds (bounds.h); per member in "bounds". */
	LD_COUNTER("gossip_limited", gossip_limited),
	LD_COUNTER("e2e_refused", e2e_refused),
	LD_COUNTER("rekeys_limited", rekeys_limited),
};

/* Relays and end-to-end sessions (forward.h has the meanings). */
static const struct counter forward_counters[] = {
	LD_COUNTER("forwarded", fwd.c.forwarded),
	LD_COUNTER("forwarded_bytes", fwd.c.forwarded_bytes),
	LD_COUNTER("hop_limit", fwd.c.hop_limit),
	LD_COUNTER("no_route", fwd.c.no_route),
	LD_COUNTER("no_link", fwd.c.no_link),
	LD_COUNTER("congested", fwd.c.congested),
	LD_COUNTER("bad", fwd.c.bad),
	LD_COUNTER("for_us", fwd.c.for_us),
	LD_COUNTER("sent", fwd.c.sent),
	LD_COUNTER("sent_bytes", fwd.c.sent_bytes),
	LD_COUNTER("unknown_conn", fwd.c.unknown_conn),
	LD_COUNTER("hs_dropped", fwd.c.hs_dropped),
	LD_COUNTER("hs_ratelimited", fwd.c.hs_ratelimited),
	LD_COUNTER("too_big", fwd.c.too_big),
	LD_COUNTER("queue_drops", fwd.c.queue_drops),
	LD_COUNTER("e2e_up", fwd.c.e2e_up),
	LD_COUNTER("e2e_failed", fwd.c.e2e_failed),
};

/* {name: value, ...} of the counters tab names in ld. */
static json_t *
counters_json(const struct linkd *ld, const struct counter *tab, size_t n)
{
	json_t *o = json_object();
	uint64_t v;
	size_t i;

	for (i = 0; o != NULL && i < n; i++) {
		memcpy(&v, (const char *)ld + tab[i].off, sizeof(v));
		json_object_set_new(o, tab[i].name, json_integer(
		    (json_int_t)v));
	}
	return o;
}

static json_t *
forward_json(const struct linkd *ld)
{
	json_t *o = counters_json(ld, forward_counters,
	    TABLE_LEN(forward_counters));

	if (o != NULL) {
		json_object_set_new(o, "e2e_sessions",
		    json_integer((json_int_t)ld->fwd.nsessions));
		json_object_set_new(o, "e2e_pending",
		    json_integer((json_int_t)ld->fwd.npending));
		json_object_set_new(o, "debug_routes",
		    json_integer(ld->routes.n));
	}
	return o;
}

static json_t *
ctl_status(void *ctx, json_t *req)
{
	struct linkd *ld = ctx;
	const struct datapath *dp = &ld->dp;
	const struct link *l;
	json_t *r;
	int nlinks = 0, up = 0;

	TAILQ_FOREACH(l, &ld->links, entry) {
		if (l->state == LINK_CLOSED)
			continue;
		nlinks++;
		if (l->state == LINK_UP)
			up++;
	}
	r = json_pack("{s:b, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b, "
	    "s:I, s:i, s:i, s:i, s:b, s:b, s:b, s:b, s:I, s:I, s:o}",
	    "ok", 1,
	    "daemon", "linkd",
	    "pid", (int)getpid(),
	    "name", ld->self_name,
	    "id", ld->self_hex,
	    "listen", ld->lfd != -1 ? ld->listen_addr : "",
	    "mode", ld->onion ? "onion" : "tcp",
	    "onion_listen", ld->ofd != -1 ? ld->onion_path : "",
	    "anonymous", ld->conf->anonymous,
	    "members", (json_int_t)ld->npeers,
	    "links", nlinks,
	    "links_up", up,
	    "pending_in", ld->pending_in,
	    "keyd", ld->keyd != NULL && ipc_chan_connected(ld->keyd),
	    "routed", ld->routed != NULL && ipc_chan_connected(ld->routed),
	    "tund", dp->fd != -1,
	    "paused", ld->links_paused || dp->tund_paused,
	    "fib_generation", (json_int_t)fib_generation(ld->fib),
	    "fib_entries", (json_int_t)fib_count(ld->fib),
	    "counters", counters_json(ld, status_counters,
	    TABLE_LEN(status_counters)));
	/* Relays and end-to-end sessions (forward.h has the meanings). */
	if (r != NULL) {
		json_object_set_new(r, "forward", forward_json(ld));
		json_object_set_new(r, "bounds", peers_bounds_json(ld));
	}
	return r;
}

/* ---- debug_route (route.h) ---- */

static const char *
member_name(struct linkd *ld, const uint8_t id[MEMBER_ID_BYTES])
{
	struct peer *p;

	if (ld->self_known && memcmp(id, ld->self_id, MEMBER_ID_BYTES) == 0)
		return ld->self_name;
	return (p = peers_find(ld, id)) != NULL ? p->rec.name : "?";
}

static json_t *
debug_routes_reply(struct linkd *ld)
{
	json_t *a = json_array();
	char hex[2 * MEMBER_ID_BYTES + 1];
	int i;

	for (i = 0; i < ld->routes.n; i++) {
		hex_encode(hex, ld->routes.o[i].dest, MEMBER_ID_BYTES);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
		    "dest", member_name(ld, ld->routes.o[i].dest),
		    "dest_id", hex,
		    "via", member_name(ld, ld->routes.o[i].via)));
	}
	return ok_with("debug_routes", a);
}

/* A member by 64 hex digits or by name; never ourselves. */
static struct peer *
resolve_member(struct linkd *ld, const char *s)
{
	uint8_t id[MEMBER_ID_BYTES];
	struct peer *p;

	if (strlen(s) == 2 * MEMBER_ID_BYTES &&
	    hex_decode(id, sizeof(id), s) == 0)
		return peers_find(ld, id);
	TAILQ_FOREACH(p, &ld->peers, entry)
		if (strcmp(p->rec.name, s) == 0)
			return p;
	return NULL;
}

/* The door (ipc.c) has refused it to callers who may only read. */
static json_t *
ctl_debug_route(void *ctx, json_t *req)
{
	struct linkd *ld = ctx;
	const char *ds, *vs;
	struct peer *dest, *via;
	json_t *v;

	if (json_is_true(json_object_get(req, "clear"))) {
		route_debug_clear_all(ld);
		return debug_routes_reply(ld);
	}
	if ((ds = json_string_value(json_object_get(req, "dest"))) == NULL)
		return json_error("debug_route needs \"dest\" (a member's "
		    "name or 64 hex id) and \"via\", or \"clear\": true");
	if ((dest = resolve_member(ld, ds)) == NULL)
		return json_error("debug_route: dest '%s' is no member linkd "
		    "knows (want a name or a 64 hex id)", ds);
	v = json_object_get(req, "via");
	if (v == NULL || json_is_null(v)) {
		(void)route_debug_clear(ld, dest);
		return debug_routes_reply(ld);
	}
	if ((vs = json_string_value(v)) == NULL)
		return json_error("debug_route: \"via\" must be a member's "
		    "name or 64 hex id");
	if ((via = resolve_member(ld, vs)) == NULL)
		return json_error("debug_route: via '%s' is no member linkd "
		    "knows (want a name or a 64 hex id; not this member)",
		    vs);
	if (route_debug_set(ld, dest, via) == -1)
		return json_error("debug_route: table full (%d routes); "
		    "clear one first", ROUTE_DEBUG_MAX);
	return debug_routes_reply(ld);
}

/* In this order in the door's "linkd answers ..." list. */
const struct ctl_cmd linkd_ctl_cmds[] = {
	{ "status",      CTL_READ,        NULL,    ctl_status },
	{ "links",       CTL_READ,        NULL,    ctl_links },
	{ "peers",       CTL_READ,        NULL,    ctl_peers },
	{ "sessions",    CTL_READ,        NULL,    ctl_sessions },
	LOGCTL_ROW,
	{ "debug_route", CTL_CHANGE,      NULL,    ctl_debug_route },
};
const size_t linkd_nctl_cmds = TABLE_LEN(linkd_ctl_cmds);
