/*
 * routed's ctl socket: JSON requests from the onionmesh command.
 *
 *   status   {daemon, pid, name, id, members, reachable, routes,
 *            generation, keyd, linkd, tund, tun, subnets_refused,
 *            subnets_refused_by {short, short6, member, outside}}:
 *            subnets_refused counts other members' (member, subnet)
 *            pairs not routed (routed/accept.h), each once
 *   routes   {routes: [{dst, dest, dest_id, next_hop, cost, rate_kbps,
 *            path}]}: the table linkd holds; path lists the members a
 *            packet passes from us to dest (us first), rate_kbps is
 *            its narrowest edge's rate (0: one is not measured)
 *   members  {members: [{name, id, record, links_up, rtt_us, rate_kbps,
 *            reachable, next_hop, cost, path_rate_kbps, edges,
 *            edges_serial}]}: the graph as routed sees it (rtt_us,
 *            rate_kbps: our direct link; edges: peers its announcement
 *            lists)
 *
 *   log      {daemon, level[, was]}: proto/logctl.h
 *
 * All read-only but "log" with a level: routed has no other state a
 * user could set. ipc.c answers unknown commands and refuses a level
 * change from a reader before a handler runs (routed_ctl_cmds[]).
 */
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "proto/json.h"
#include "proto/logctl.h"
#include "proto/record.h"
#include "routed/routed.h"

/* A member's name, or its id in hex when routed has no record of it. */
static json_t *
ctl_name(const struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	const struct graph_member *m;

	if (g->has_self && memcmp(g->self, id, MEMBER_ID_BYTES) == 0 &&
	    g->self_name[0] != '\0')
		return json_string(g->self_name);
	m = graph_member_get(g, id);
	if (m != NULL && m->has_record)
		return json_string(m->name);
	return json_hex(id, MEMBER_ID_BYTES);
}

/* Subnets of other members we do not route: how many (member, prefix)
 * pairs, and how many for each reason (accept.h). */
static void
ctl_status_refusals(json_t *o, const struct routed_refusals *s)
{
	json_t *by = json_object();
	int k;

	for (k = ROUTED_TAKEN + 1; k < ROUTED_NREFUSALS; k++)
		json_object_set_new(by, routed_refusal_name(k),
		    json_integer((json_int_t)s->count[k]));
	json_object_set_new(o, "subnets_refused",
	    json_integer((json_int_t)routed_refusals_total(s)));
	json_object_set_new(o, "subnets_refused_by", by);
}

static json_t *
ctl_status(void *ctx, json_t *req)
{
	struct routed *r = ctx;
	json_t *o, *tun;
	size_t i, members = 0, reach = 0;

	for (i = 0; i < r->g.n; i++) {
		if (!r->g.m[i].has_record ||
		    (r->g.has_self && memcmp(r->g.m[i].id, r->g.self,
		    MEMBER_ID_BYTES) == 0))
			continue;
		members++;
		if (r->g.m[i].reachable)
			reach++;
	}
	tun = r->have_tun ? json_pack("{s:s, s:I, s:b}", "ifname",
	    r->tun.ifname, "mtu", (json_int_t)r->tun.mtu, "up",
	    r->tun.up) : json_null();
	o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "daemon", json_string("routed"));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "name", r->g.has_self ?
	    json_string(r->g.self_name) : json_null());
	json_object_set_new(o, "id", r->g.has_self ?
	    json_hex(r->g.self, MEMBER_ID_BYTES) : json_null());
	json_object_set_new(o, "members", json_integer((json_int_t)members));
	json_object_set_new(o, "reachable", json_integer((json_int_t)reach));
	json_object_set_new(o, "routes", json_integer((json_int_t)r->fib.n));
	json_object_set_new(o, "generation",
	    json_integer((json_int_t)r->fib_gen));
	json_object_set_new(o, "subnet_routes",
	    json_integer((json_int_t)r->routes.n));
	json_object_set_new(o, "keyd", json_boolean(r->keyd != NULL &&
	    ipc_chan_connected(r->keyd)));
	json_object_set_new(o, "linkd", json_boolean(r->linkd != NULL &&
	    ipc_chan_connected(r->linkd)));
	json_object_set_new(o, "tund", json_boolean(r->tund != NULL &&
	    ipc_chan_connected(r->tund)));
	json_object_set_new(o, "tun", tun);
	json_object_set_new(o, "recomputes",
	    json_integer((json_int_t)r->recomputes));
	json_object_set_new(o, "edges_in",
	    json_integer((json_int_t)r->edges_in));
	json_object_set_new(o, "edges_bad",
	    json_integer((json_int_t)r->edges_bad));
	json_object_set_new(o, "edges_local_sent",
	    json_integer((json_int_t)r->edges_local_sent));
	ctl_status_refusals(o, &r->acc.refused);
	return o;
}

static json_t *
ctl_path(const struct graph *g, const uint8_t dest[MEMBER_ID_BYTES])
{
	int idx[256], n, k, i;
	json_t *a;

	a = json_array();
	if (g->has_self)
		json_array_append_new(a, ctl_name(g, g->self));
	i = graph_member_index(g, dest);
	n = graph_path(g, i, idx, sizeof(idx) / sizeof(idx[0]));
	for (k = 0; k < n; k++)
		json_array_append_new(a, ctl_name(g, g->m[idx[k]].id));
	return a;
}

/* The bottleneck rate of the path to dest, as the last run found it. */
static json_t *
ctl_path_rate(const struct graph *g, const uint8_t dest[MEMBER_ID_BYTES])
{
	const struct graph_member *m = graph_member_get(g, dest);

	if (m == NULL || !m->reachable)
		return json_null();
	return json_integer((json_int_t)m->path_rate_kbps);
}

static json_t *
ctl_routes(void *ctx, json_t *req)
{
	struct routed *r = ctx;
	const struct routed_fib_entry *e;
	char dst[PREFIX_STRLEN];
	json_t *a, *o;
	size_t i;

	/* The graph may have moved since the table was built (a change
	 * waiting for the settle timer): bring both in line first, so
	 * names and paths describe exactly the table linkd holds. */
	if (!r->in_sync)
		routed_recompute(r);
	else
		graph_shortest_paths(&r->g);
	a = json_array();
	for (i = 0; i < r->fib.n; i++) {
		e = &r->fib.v[i];
		prefix_fmt(&e->dst, dst, sizeof(dst), 1);
		o = json_object();
		json_object_set_new(o, "dst", json_string(dst));
		json_object_set_new(o, "dest", ctl_name(&r->g, e->dest));
		json_object_set_new(o, "dest_id",
		    json_hex(e->dest, MEMBER_ID_BYTES));
		json_object_set_new(o, "next_hop",
		    ctl_name(&r->g, e->next_hop));
		json_object_set_new(o, "cost", json_integer(e->cost));
		json_object_set_new(o, "rate_kbps",
		    ctl_path_rate(&r->g, e->dest));
		json_object_set_new(o, "path", ctl_path(&r->g, e->dest));
		json_array_append_new(a, o);
	}
	return json_pack("{s:b, s:I, s:o}", "ok", 1, "generation",
	    (json_int_t)r->fib_gen, "routes", a);
}

/* v, or null when it is not known (cond false). */
static json_t *
ctl_int_if(int cond, json_int_t v)
{
	return cond ? json_integer(v) : json_null();
}

/* One member as the graph sees it; edges, edges_serial: its edge
 * announcement (how many peers it lists). */
static json_t *
ctl_member(const struct graph *g, const struct graph_member *m)
{
	return json_pack("{s:o, s:o, s:b, s:b, s:I, s:I, s:I, s:b, s:o, "
	    "s:o, s:o, s:o, s:o}",
	    "name", m->has_record ? json_string(m->name) : json_null(),
	    "id", json_hex(m->id, MEMBER_ID_BYTES),
	    "record", m->has_record,
	    "self", g->has_self &&
	    memcmp(m->id, g->self, MEMBER_ID_BYTES) == 0,
	    "links_up", (json_int_t)m->links_up,
	    "rtt_us", (json_int_t)m->rtt_us,
	    "rate_kbps", (json_int_t)m->rate_kbps,
	    "reachable", m->reachable,
	    "next_hop", m->next_hop >= 0 ?
	    ctl_name(g, g->m[m->next_hop].id) : json_null(),
	    "cost", ctl_int_if(m->reachable, (json_int_t)m->dist),
	    "path_rate_kbps", ctl_int_if(m->reachable,
	    (json_int_t)m->path_rate_kbps),
	    "edges", ctl_int_if(m->has_edges, (json_int_t)m->nadj),
	    "edges_serial", ctl_int_if(m->has_edges,
	    (json_int_t)m->edges_serial));
}

static json_t *
ctl_members(void *ctx, json_t *req)
{
	struct routed *r = ctx;
	json_t *a;
	size_t i;

	graph_shortest_paths(&r->g);
	a = json_array();
	for (i = 0; i < r->g.n; i++)
		json_array_append_new(a, ctl_member(&r->g, &r->g.m[i]));
	return json_pack("{s:b, s:o}", "ok", 1, "members", a);
}

/* In this order in the door's "routed answers ..." list. */
const struct ctl_cmd routed_ctl_cmds[] = {
	{ "status",  CTL_READ,        NULL,    ctl_status },
	{ "routes",  CTL_READ,        NULL,    ctl_routes },
	{ "members", CTL_READ,        NULL,    ctl_members },
	LOGCTL_ROW,
};
const size_t routed_nctl_cmds = TABLE_LEN(routed_ctl_cmds);
