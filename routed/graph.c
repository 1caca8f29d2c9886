/*
 * The member graph and shortest paths from us (see graph.h for the
 * model). Dijkstra in its simplest O(n^2 + n*e) form: a network has
 * tens or hundreds of members, and a recomputation happens only when a
 * record or a link changes, so a heap would buy nothing and cost
 * clarity. Ties are broken by position, and positions follow the order
 * in which members first appeared, so a recomputation over the same
 * input always yields the same table.
 */
#include <stdlib.h>
#include <string.h>

#include "routed/graph.h"

/* Bounded copy that always terminates and zero-fills. */
static void
name_copy(char *dst, const char *src, size_t cap)
{
	size_t n;

	memset(dst, 0, cap);
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
}

void
graph_init(struct graph *g)
{
	memset(g, 0, sizeof(*g));
}

void
graph_free(struct graph *g)
{
	free(g->m);
	free(g->e);
	memset(g, 0, sizeof(*g));
}

int
graph_member_index(const struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (memcmp(g->m[i].id, id, MEMBER_ID_BYTES) == 0)
			return (int)i;
	return -1;
}

const struct graph_member *
graph_member_get(const struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	int i;

	i = graph_member_index(g, id);
	return i < 0 ? NULL : &g->m[i];
}

static int
graph_is_self(const struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	return g->has_self && memcmp(g->self, id, MEMBER_ID_BYTES) == 0;
}

static int
graph_member_add(struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	struct graph_member *nm, *m;
	size_t ncap;
	int i;

	if ((i = graph_member_index(g, id)) >= 0)
		return i;
	if (g->n == g->cap) {
		ncap = g->cap ? g->cap * 2 : 16;
		nm = reallocarray(g->m, ncap, sizeof(*nm));
		if (nm == NULL)
			return -1;
		g->m = nm;
		g->cap = ncap;
	}
	m = &g->m[g->n];
	memset(m, 0, sizeof(*m));
	memcpy(m->id, id, MEMBER_ID_BYTES);
	m->prev = -1;
	m->next_hop = -1;
	m->dist = GRAPH_COST_UNREACHABLE;
	return (int)g->n++;
}

static int
graph_edge_index(const struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < g->ne; i++)
		if (memcmp(g->e[i].from, from, MEMBER_ID_BYTES) == 0 &&
		    memcmp(g->e[i].to, to, MEMBER_ID_BYTES) == 0)
			return (int)i;
	return -1;
}

static int
graph_edge_touches(const struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t i;

	for (i = 0; i < g->ne; i++)
		if (memcmp(g->e[i].from, id, MEMBER_ID_BYTES) == 0 ||
		    memcmp(g->e[i].to, id, MEMBER_ID_BYTES) == 0)
			return 1;
	return 0;
}

/* Drop member i when nothing refers to it any more. */
static void
graph_member_gc(struct graph *g, int i)
{
	struct graph_member *m = &g->m[i];

	if (m->has_record || m->links_up > 0 || graph_is_self(g, m->id) ||
	    graph_edge_touches(g, m->id))
		return;
	memmove(&g->m[i], &g->m[i + 1],
	    (g->n - (size_t)i - 1) * sizeof(g->m[0]));
	g->n--;
}

int
graph_set_self(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    const char *name)
{
	int changed;

	changed = !g->has_self || memcmp(g->self, id, MEMBER_ID_BYTES) != 0;
	memcpy(g->self, id, MEMBER_ID_BYTES);
	g->has_self = 1;
	name_copy(g->self_name, name, sizeof(g->self_name));
	return changed;
}

static int
prefix_same(const struct prefix *a, const struct prefix *b)
{
	if (a->family == 0 || b->family == 0)
		return a->family == b->family;
	return prefix_equal(a, b);
}

int
graph_member_set(struct graph *g, const struct record *r)
{
	struct graph_member *m;
	struct prefix sn[GRAPH_MAX_SUBNETS];
	int i, k, nsub, changed = 0;

	if ((i = graph_member_add(g, r->id)) < 0)
		return -1;
	m = &g->m[i];
	nsub = r->nsubnets;
	if (nsub < 0)
		nsub = 0;
	if (nsub > GRAPH_MAX_SUBNETS)
		nsub = GRAPH_MAX_SUBNETS;
	for (k = 0; k < nsub; k++) {
		sn[k] = r->subnets[k];
		prefix_mask(&sn[k]);
	}

	if (!m->has_record || strcmp(m->name, r->name) != 0 ||
	    !prefix_same(&m->ipv4, &r->ipv4) ||
	    !prefix_same(&m->ipv6, &r->ipv6) || m->nsubnets != nsub)
		changed = 1;
	for (k = 0; !changed && k < nsub; k++)
		if (!prefix_same(&m->subnets[k], &sn[k]))
			changed = 1;

	name_copy(m->name, r->name, sizeof(m->name));
	m->ipv4 = r->ipv4;
	m->ipv6 = r->ipv6;
	memset(m->subnets, 0, sizeof(m->subnets));
	memcpy(m->subnets, sn, (size_t)nsub * sizeof(sn[0]));
	m->nsubnets = nsub;
	m->serial = r->serial;
	m->has_record = 1;
	m->seen = 1;
	return changed;
}

int
graph_member_del(struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	int i;

	i = graph_member_index(g, id);
	if (i < 0 || !g->m[i].has_record)
		return 0;
	g->m[i].has_record = 0;
	g->m[i].reachable = 0;
	graph_member_gc(g, i);
	return 1;
}

void
graph_sync_begin(struct graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		g->m[i].seen = 0;
}

size_t
graph_sync_end(struct graph *g)
{
	size_t i, gone = 0;

	for (i = g->n; i-- > 0; ) {
		if (g->m[i].has_record && !g->m[i].seen) {
			g->m[i].has_record = 0;
			g->m[i].reachable = 0;
			gone++;
			graph_member_gc(g, (int)i);
		}
	}
	return gone;
}

int
graph_link_set(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us)
{
	struct graph_member *m;
	int i, changed;

	i = graph_member_index(g, id);
	if (i < 0) {
		if (links_up == 0)
			return 0;
		if ((i = graph_member_add(g, id)) < 0)
			return -1;
	}
	m = &g->m[i];
	if (links_up == 0)
		rtt_us = 0;
	changed = (m->links_up > 0) != (links_up > 0) ||
	    (links_up > 0 && graph_cost(m->rtt_us) != graph_cost(rtt_us));
	m->links_up = links_up;
	m->rtt_us = rtt_us;
	if (links_up == 0)
		graph_member_gc(g, i);
	return changed;
}

int
graph_links_clear(struct graph *g)
{
	size_t i;
	int any = 0;

	for (i = g->n; i-- > 0; ) {
		if (g->m[i].links_up > 0)
			any = 1;
		g->m[i].links_up = 0;
		g->m[i].rtt_us = 0;
		graph_member_gc(g, (int)i);
	}
	return any;
}

int
graph_edge_set(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES], uint16_t links_up, uint32_t rtt_us)
{
	struct graph_edge *ne, *e;
	size_t ncap;
	int i, changed;

	if (graph_is_self(g, from))
		return graph_link_set(g, to, links_up, rtt_us);
	if (memcmp(from, to, MEMBER_ID_BYTES) == 0)
		return 0;
	i = graph_edge_index(g, from, to);
	if (links_up == 0) {
		if (i < 0)
			return 0;
		memmove(&g->e[i], &g->e[i + 1],
		    (g->ne - (size_t)i - 1) * sizeof(g->e[0]));
		g->ne--;
		if ((i = graph_member_index(g, from)) >= 0)
			graph_member_gc(g, i);
		if ((i = graph_member_index(g, to)) >= 0)
			graph_member_gc(g, i);
		return 1;
	}
	if (i < 0) {
		if (g->ne == g->ecap) {
			ncap = g->ecap ? g->ecap * 2 : 16;
			ne = reallocarray(g->e, ncap, sizeof(*ne));
			if (ne == NULL)
				return -1;
			g->e = ne;
			g->ecap = ncap;
		}
		e = &g->e[g->ne++];
		memset(e, 0, sizeof(*e));
		memcpy(e->from, from, MEMBER_ID_BYTES);
		memcpy(e->to, to, MEMBER_ID_BYTES);
		changed = 1;
	} else {
		e = &g->e[i];
		changed = graph_cost(e->rtt_us) != graph_cost(rtt_us);
	}
	e->links_up = links_up;
	e->rtt_us = rtt_us;
	return changed;
}

const struct graph_edge *
graph_edge_get(const struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES])
{
	int i;

	i = graph_edge_index(g, from, to);
	return i < 0 ? NULL : &g->e[i];
}

uint32_t
graph_cost(uint32_t rtt_us)
{
	return rtt_us ? rtt_us : 1;
}

static void
graph_relax(struct graph *g, int u, int v, uint32_t cost)
{
	uint64_t nd;

	nd = g->m[u].dist + cost;
	if (nd < g->m[v].dist) {
		g->m[v].dist = nd;
		g->m[v].prev = u;
		g->m[v].next_hop = g->m[u].next_hop;
	}
}

size_t
graph_shortest_paths(struct graph *g)
{
	struct graph_member *m;
	size_t i, count = 0;
	int s, u, v;

	for (i = 0; i < g->n; i++) {
		m = &g->m[i];
		m->reachable = 0;
		m->dist = GRAPH_COST_UNREACHABLE;
		m->prev = -1;
		m->next_hop = -1;
	}
	if (!g->has_self)
		return 0;
	s = graph_member_index(g, g->self);
	if (s >= 0) {
		g->m[s].reachable = 1;
		g->m[s].dist = 0;
	}

	/* Our own links are the first step of every path. */
	for (i = 0; i < g->n; i++) {
		m = &g->m[i];
		if ((int)i == s || !m->has_record || m->links_up == 0)
			continue;
		m->dist = graph_cost(m->rtt_us);
		m->prev = -1;
		m->next_hop = (int)i;
	}

	for (;;) {
		u = -1;
		for (i = 0; i < g->n; i++) {
			m = &g->m[i];
			if (m->reachable || m->dist == GRAPH_COST_UNREACHABLE)
				continue;
			if (u < 0 || m->dist < g->m[u].dist)
				u = (int)i;
		}
		if (u < 0)
			break;
		g->m[u].reachable = 1;
		count++;
		/* Announced edges out of u; a relay must be a member we
		 * hold a record of, and nothing routes back through us. */
		for (i = 0; i < g->ne; i++) {
			if (g->e[i].links_up == 0 ||
			    memcmp(g->e[i].from, g->m[u].id,
			    MEMBER_ID_BYTES) != 0)
				continue;
			v = graph_member_index(g, g->e[i].to);
			if (v < 0 || v == s || !g->m[v].has_record ||
			    g->m[v].reachable)
				continue;
			graph_relax(g, u, v, graph_cost(g->e[i].rtt_us));
		}
	}
	return count;
}

int
graph_path(const struct graph *g, int i, int *out, size_t cap)
{
	size_t n = 0, k;
	int j, t;

	if (i < 0 || (size_t)i >= g->n || !g->m[i].reachable ||
	    g->m[i].dist == 0)
		return 0;
	/* Walk back to the first hop, then reverse. */
	for (j = i; j >= 0; j = g->m[j].prev) {
		if (n == cap || n == g->n)
			return -1;
		out[n++] = j;
	}
	for (k = 0; k < n / 2; k++) {
		t = out[k];
		out[k] = out[n - 1 - k];
		out[n - 1 - k] = t;
	}
	return (int)n;
}
