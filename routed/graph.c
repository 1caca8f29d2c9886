/*
 * The member graph and shortest paths from us (see graph.h for the
 * model).
 *
 * Shaped for a network of thousands of members whose announcements
 * change all the time:
 *  - members live in one array (positions follow the order in which
 *    they first appeared, so ties break the same way on every run) and
 *    are found by id through an open-addressing hash table, rebuilt
 *    whenever a member leaves the array (rare: a record removed);
 *  - each member keeps its own latest announcement as a sorted array of
 *    peers, replaced whole when a newer one arrives, so "does B list A"
 *    is a binary search in B's list, and each entry caches the index
 *    its peer had when last looked up (valid while g->layout holds);
 *  - each run first lays the usable edges out as compact arrays (CSR),
 *    deciding "both ends list each other" by stamping rather than by
 *    comparing ids, then runs Dijkstra with a binary heap and lazy
 *    deletion over them: O((n + e) log n), and the inner loop touches
 *    only those arrays, not the members' records. The key is (cost,
 *    -bottleneck rate): the rate rides along in the same arrays and
 *    heap entries, so widest-among-shortest costs a compare, not a
 *    second pass.
 * Ties are broken by position, so a recomputation over the same input
 * always yields the same table.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "proto/array.h"
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

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MEMBER_ID_BYTES);
}

void
graph_init(struct graph *g)
{
	memset(g, 0, sizeof(*g));
}

static void graph_spf_free(struct graph_spf *sp);

void
graph_free(struct graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->m[i].adj);
	free(g->m);
	free(g->slot);
	graph_spf_free(g->spf);
	memset(g, 0, sizeof(*g));
}

/* ---- the id hash ---- */

static size_t
graph_hash(const uint8_t id[MEMBER_ID_BYTES], size_t nslot)
{
	uint64_t h = 0;
	int i;

	/* Ids are public keys (uniform bytes), but tests use patterns:
	 * mix every byte. */
	for (i = 0; i < MEMBER_ID_BYTES; i += 8) {
		uint64_t w;

		memcpy(&w, id + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	}
	h ^= h >> 29;
	return (size_t)h & (nslot - 1);
}

static void
graph_slot_put(struct graph *g, size_t i)
{
	size_t s = graph_hash(g->m[i].id, g->nslot);

	while (g->slot[s] != 0)
		s = (s + 1) & (g->nslot - 1);
	g->slot[s] = (int32_t)i + 1;
}

/* Rebuild the hash for g->m (with room for `want` members). -1 out of
 * memory (the old table stays, still right for the old g->n). */
static int
graph_rehash(struct graph *g, size_t want)
{
	size_t ns = 16, i;
	int32_t *s;

	while (ns < 2 * want)
		ns *= 2;
	if (ns != g->nslot) {
		if ((s = calloc(ns, sizeof(*s))) == NULL)
			return -1;
		free(g->slot);
		g->slot = s;
		g->nslot = ns;
	} else
		memset(g->slot, 0, ns * sizeof(*g->slot));
	for (i = 0; i < g->n; i++)
		graph_slot_put(g, i);
	return 0;
}

int
graph_member_index(const struct graph *g, const uint8_t id[MEMBER_ID_BYTES])
{
	size_t s;
	int32_t v;

	if (g->nslot == 0)
		return -1;
	s = graph_hash(id, g->nslot);
	while ((v = g->slot[s]) != 0) {
		if (memcmp(g->m[v - 1].id, id, MEMBER_ID_BYTES) == 0)
			return v - 1;
		s = (s + 1) & (g->nslot - 1);
	}
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
	int i;

	if ((i = graph_member_index(g, id)) >= 0)
		return i;
	if ((nm = array_room(g->m, g->n, &g->cap, sizeof(*nm), 16)) == NULL)
		return -1;
	g->m = nm;
	if (2 * (g->n + 1) > g->nslot && graph_rehash(g, g->n + 1) == -1)
		return -1;
	m = &g->m[g->n];
	memset(m, 0, sizeof(*m));
	memcpy(m->id, id, MEMBER_ID_BYTES);
	m->prev = -1;
	m->next_hop = -1;
	m->dist = GRAPH_COST_UNREACHABLE;
	g->n++;
	graph_slot_put(g, g->n - 1);
	return (int)g->n - 1;
}

static void
graph_adj_clear(struct graph_member *m)
{
	free(m->adj);
	m->adj = NULL;
	m->nadj = 0;
	m->has_edges = 0;
	m->edges_serial = 0;
}

/* Drop member i when nothing refers to it any more. Indices after it
 * move down: the hash is rebuilt and every cached index goes stale. */
static void
graph_member_gc(struct graph *g, int i)
{
	struct graph_member *m = &g->m[i];

	if (m->has_record || m->links_up > 0 || m->has_edges ||
	    graph_is_self(g, m->id))
		return;
	graph_adj_clear(m);
	memmove(&g->m[i], &g->m[i + 1],
	    (g->n - (size_t)i - 1) * sizeof(g->m[0]));
	g->n--;
	g->layout++;
	/* Same size: no allocation, cannot fail. */
	(void)graph_rehash(g, g->nslot / 2);
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
	/* Its announcement goes with its membership. */
	g->m[i].has_record = 0;
	g->m[i].reachable = 0;
	graph_adj_clear(&g->m[i]);
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
		if (g->m[i].seen)
			continue;
		if (g->m[i].has_record)
			gone++;
		/* keyd holds no record of it: its announcement (which keyd
		 * only passes on for members it knows) goes too. */
		if (g->m[i].has_record || g->m[i].has_edges) {
			g->m[i].has_record = 0;
			g->m[i].reachable = 0;
			graph_adj_clear(&g->m[i]);
			graph_member_gc(g, (int)i);
		}
	}
	return gone;
}

int
graph_link_set(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us)
{
	return graph_link_set_rate(g, id, links_up, rtt_us, 0);
}

int
graph_link_set_rate(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us, uint32_t rate_kbps)
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
		rtt_us = rate_kbps = 0;
	changed = (m->links_up > 0) != (links_up > 0) ||
	    (links_up > 0 && (graph_cost(m->rtt_us) != graph_cost(rtt_us) ||
	    m->rate_kbps != rate_kbps));
	m->links_up = links_up;
	m->rtt_us = rtt_us;
	m->rate_kbps = rate_kbps;
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
		g->m[i].rate_kbps = 0;
		graph_member_gc(g, (int)i);
	}
	return any;
}

/* ---- announcements ---- */

/* The entry for id in m's announcement (sorted by id, and id is the
 * first member of graph_adj, so id_cmp compares a key with an entry). */
static struct graph_adj *
adj_find(const struct graph_member *m, const uint8_t id[MEMBER_ID_BYTES])
{
	if (m->nadj == 0)
		return NULL;
	return bsearch(id, m->adj, m->nadj, sizeof(*m->adj), id_cmp);
}

int
graph_edges_set(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    uint64_t serial, const struct edges_peer *peers, size_t n)
{
	struct graph_member *m;
	struct graph_adj *na = NULL;
	size_t k;
	int i, changed;

	if (graph_is_self(g, from))
		return 0;
	for (k = 1; k < n; k++)
		if (id_cmp(peers[k - 1].id, peers[k].id) >= 0)
			return -1;
	if ((i = graph_member_add(g, from)) < 0)
		return -1;
	m = &g->m[i];
	if (m->has_edges && serial <= m->edges_serial)
		return 0;
	changed = !m->has_edges || m->nadj != n;
	for (k = 0; !changed && k < n; k++)
		if (id_cmp(m->adj[k].id, peers[k].id) != 0 ||
		    graph_cost(m->adj[k].rtt_us) !=
		    graph_cost(peers[k].rtt_us) ||
		    m->adj[k].rate_kbps != peers[k].rate_kbps)
			changed = 1;
	if (n > 0 && (na = calloc(n, sizeof(*na))) == NULL) {
		graph_member_gc(g, i);
		return -1;
	}
	for (k = 0; k < n; k++) {
		memcpy(na[k].id, peers[k].id, MEMBER_ID_BYTES);
		na[k].rtt_us = peers[k].rtt_us;
		na[k].rate_kbps = peers[k].rate_kbps;
		na[k].idx = -1;
	}
	free(m->adj);
	m->adj = na;
	m->nadj = (uint32_t)n;
	m->edges_serial = serial;
	m->has_edges = 1;
	return changed;
}

int
graph_edge_set(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES], uint16_t links_up, uint32_t rtt_us)
{
	return graph_edge_set_rate(g, from, to, links_up, rtt_us, 0);
}

int
graph_edge_set_rate(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES], uint16_t links_up, uint32_t rtt_us,
    uint32_t rate_kbps)
{
	struct graph_member *m;
	struct graph_adj *a, *na;
	size_t pos;
	int i, changed;

	if (graph_is_self(g, from))
		return graph_link_set_rate(g, to, links_up, rtt_us,
		    rate_kbps);
	if (memcmp(from, to, MEMBER_ID_BYTES) == 0)
		return 0;
	i = graph_member_index(g, from);
	if (i < 0 && links_up == 0)
		return 0;
	if (i < 0 && (i = graph_member_add(g, from)) < 0)
		return -1;
	m = &g->m[i];
	a = adj_find(m, to);
	if (links_up == 0) {
		if (a == NULL)
			return 0;
		pos = (size_t)(a - m->adj);
		memmove(a, a + 1, (m->nadj - pos - 1) * sizeof(*a));
		m->nadj--;
		return 1;
	}
	if (a != NULL) {
		changed = graph_cost(a->rtt_us) != graph_cost(rtt_us) ||
		    a->rate_kbps != rate_kbps;
		a->rtt_us = rtt_us;
		a->rate_kbps = rate_kbps;
		return changed;
	}
	na = reallocarray(m->adj, m->nadj + 1, sizeof(*na));
	if (na == NULL)
		return -1;
	m->adj = na;
	for (pos = 0; pos < m->nadj && id_cmp(na[pos].id, to) < 0; pos++)
		;
	memmove(&na[pos + 1], &na[pos], (m->nadj - pos) * sizeof(*na));
	memset(&na[pos], 0, sizeof(*na));
	memcpy(na[pos].id, to, MEMBER_ID_BYTES);
	na[pos].rtt_us = rtt_us;
	na[pos].rate_kbps = rate_kbps;
	na[pos].idx = -1;
	m->nadj++;
	m->has_edges = 1;
	return 1;
}

int
graph_edge_usable(const struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES], uint32_t *rtt_us)
{
	const struct graph_member *a, *b;
	const struct graph_adj *e;

	if ((a = graph_member_get(g, from)) == NULL ||
	    (b = graph_member_get(g, to)) == NULL)
		return 0;
	if ((e = adj_find(a, to)) == NULL || adj_find(b, from) == NULL)
		return 0;
	if (rtt_us != NULL)
		*rtt_us = e->rtt_us;
	return 1;
}

static int
local_by_rtt(const void *pa, const void *pb)
{
	const struct edges_peer *a = pa, *b = pb;
	/* Unknown rtt (0) last among equals: it may be anything. */
	uint64_t x = a->rtt_us ? a->rtt_us : UINT64_MAX;
	uint64_t y = b->rtt_us ? b->rtt_us : UINT64_MAX;

	if (x != y)
		return x < y ? -1 : 1;
	return id_cmp(a->id, b->id);
}

size_t
graph_local_edges(const struct graph *g, struct edges_peer *out, size_t cap)
{
	struct edges_peer *all;
	size_t i, n = 0, cnt = 0;

	for (i = 0; i < g->n; i++)
		if (g->m[i].links_up > 0 && !graph_is_self(g, g->m[i].id))
			cnt++;
	if (cnt == 0 || cap == 0)
		return 0;
	if (cnt > cap && (all = calloc(cnt, sizeof(*all))) != NULL) {
		for (i = 0; i < g->n; i++) {
			if (g->m[i].links_up == 0 ||
			    graph_is_self(g, g->m[i].id))
				continue;
			memcpy(all[n].id, g->m[i].id, MEMBER_ID_BYTES);
			all[n].rtt_us = g->m[i].rtt_us;
			all[n++].rate_kbps = g->m[i].rate_kbps;
		}
		qsort(all, n, sizeof(*all), local_by_rtt);
		memcpy(out, all, cap * sizeof(*out));
		free(all);
		n = cap;
	} else {
		/* Fits (or no memory to choose: the first cap). */
		for (i = 0; i < g->n && n < cap; i++) {
			if (g->m[i].links_up == 0 ||
			    graph_is_self(g, g->m[i].id))
				continue;
			memcpy(out[n].id, g->m[i].id, MEMBER_ID_BYTES);
			out[n].rtt_us = g->m[i].rtt_us;
			out[n++].rate_kbps = g->m[i].rate_kbps;
		}
	}
	qsort(out, n, sizeof(*out), id_cmp);
	return n;
}

uint32_t
graph_cost(uint32_t rtt_us)
{
	if (rtt_us > UINT32_MAX - GRAPH_COST_HOP)
		return UINT32_MAX;
	return rtt_us + GRAPH_COST_HOP;
}

uint32_t
graph_link_rtt(uint32_t a, uint32_t b)
{
	uint32_t r = a > b ? a : b;

	if ((a == 0 || b == 0) && r < GRAPH_RTT_UNKNOWN_US)
		r = GRAPH_RTT_UNKNOWN_US;
	return r;
}

uint32_t
graph_link_rate(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- shortest paths ---- */

/*
 * Scratch for graph_shortest_paths, in compact arrays so the inner loop
 * touches a few hundred kilobytes rather than every member's record:
 * rec[] (may relay), the announced edges as CSR (off, to, cost, rate)
 * with their transpose (ioff, in) to find "both ends list each other"
 * by stamping instead of comparing ids, and Dijkstra's dist/width/
 * prev/hop and heap (width: the path's bottleneck rate).
 */
struct graph_heap_ent {       /* 16 bytes: width fills dist's padding */
	uint64_t dist;
	uint32_t width;
	int32_t idx;
};

struct graph_spf {
	size_t ncap, ecap, hcap;
	uint8_t *rec, *done;
	uint32_t *off, *ioff, *stamp, *cost, *rate, *width, *inq, *rev;
	int32_t *to, *in, *prev, *hop;
	uint64_t *dist;
	struct graph_heap_ent *heap;
};

static void
graph_spf_free(struct graph_spf *sp)
{
	if (sp == NULL)
		return;
	free(sp->rec);
	free(sp->done);
	free(sp->off);
	free(sp->ioff);
	free(sp->stamp);
	free(sp->cost);
	free(sp->rate);
	free(sp->width);
	free(sp->to);
	free(sp->in);
	free(sp->inq);
	free(sp->rev);
	free(sp->prev);
	free(sp->hop);
	free(sp->dist);
	free(sp->heap);
	free(sp);
}

#define GROW(p, n) do {                                                   \
		void *np_ = reallocarray((p), (n), sizeof(*(p)));         \
		if (np_ == NULL)                                          \
			return -1;                                        \
		(p) = np_;                                                \
	} while (0)

static int
graph_spf_room(struct graph *g, size_t n, size_t e)
{
	struct graph_spf *sp = g->spf;
	size_t nc, ec;

	if (sp == NULL && (sp = g->spf = calloc(1, sizeof(*sp))) == NULL)
		return -1;
	if (n + 1 > sp->ncap) {
		nc = sp->ncap ? sp->ncap : 64;
		while (nc < n + 1)
			nc *= 2;
		GROW(sp->rec, nc);
		GROW(sp->done, nc);
		GROW(sp->off, nc);
		GROW(sp->ioff, nc);
		GROW(sp->stamp, nc);
		GROW(sp->prev, nc);
		GROW(sp->hop, nc);
		GROW(sp->dist, nc);
		GROW(sp->width, nc);
		GROW(sp->rev, nc);
		sp->ncap = nc;
	}
	if (e > sp->ecap) {
		ec = sp->ecap ? sp->ecap : 256;
		while (ec < e)
			ec *= 2;
		GROW(sp->cost, ec);
		GROW(sp->rate, ec);
		GROW(sp->to, ec);
		GROW(sp->in, ec);
		GROW(sp->inq, ec);
		sp->ecap = ec;
	}
	return 0;
}

/* Cheaper first; of equal cost the wider; then by position, so the
 * same input always gives the same paths. */
static int
heap_less(const struct graph_heap_ent *a, const struct graph_heap_ent *b)
{
	if (a->dist != b->dist)
		return a->dist < b->dist;
	if (a->width != b->width)
		return a->width > b->width;
	return a->idx < b->idx;
}

static int
heap_push(struct graph_spf *sp, size_t *len, uint64_t dist, uint32_t width,
    int32_t idx)
{
	struct graph_heap_ent *h, t;
	size_t i, p, ncap;

	if (*len == sp->hcap) {
		ncap = sp->hcap ? sp->hcap * 2 : 256;
		h = reallocarray(sp->heap, ncap, sizeof(*h));
		if (h == NULL)
			return -1;
		sp->heap = h;
		sp->hcap = ncap;
	}
	h = sp->heap;
	i = (*len)++;
	h[i].dist = dist;
	h[i].width = width;
	h[i].idx = idx;
	while (i > 0) {
		p = (i - 1) / 2;
		if (!heap_less(&h[i], &h[p]))
			break;
		t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
	return 0;
}

static struct graph_heap_ent
heap_pop(struct graph_spf *sp, size_t *len)
{
	struct graph_heap_ent *h = sp->heap, top = h[0], t;
	size_t i = 0, c;

	h[0] = h[--(*len)];
	for (;;) {
		c = 2 * i + 1;
		if (c >= *len)
			break;
		if (c + 1 < *len && heap_less(&h[c + 1], &h[c]))
			c++;
		if (!heap_less(&h[c], &h[i]))
			break;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
		i = c;
	}
	return top;
}

/* Index of a's peer, through the entry's cache: indices only move
 * when g->layout does. A peer not found is looked up again next time
 * (its record may have come). */
static int
adj_index(const struct graph *g, struct graph_adj *a)
{
	if (a->layout != g->layout || a->idx < 0) {
		a->idx = graph_member_index(g, a->id);
		a->layout = g->layout;
	}
	return a->idx;
}

/* Every announced entry whose ends may relay (a record, not us), as
 * CSR in sp (off, to, cost, rate). g->spf has room for them. */
static void
spf_collect(struct graph *g, struct graph_spf *sp, int s)
{
	struct graph_member *m;
	size_t i, n = g->n, k;
	uint32_t j;
	int v;

	for (i = 0; i < n; i++)
		sp->rec[i] = g->m[i].has_record && (int)i != s;
	for (i = 0, k = 0; i < n; i++) {
		sp->off[i] = (uint32_t)k;
		if (!sp->rec[i])
			continue;
		m = &g->m[i];
		for (j = 0; j < m->nadj; j++) {
			v = adj_index(g, &m->adj[j]);
			if (v < 0 || !sp->rec[v])
				continue;
			sp->to[k] = v;
			/* the rtt, until spf_keep_mutual makes it a cost */
			sp->cost[k] = m->adj[j].rtt_us;
			sp->rate[k++] = m->adj[j].rate_kbps;
		}
	}
	sp->off[n] = (uint32_t)k;
}

/* The transpose (ioff, in): who lists v, and at which entry (inq). */
static void
spf_transpose(struct graph_spf *sp, size_t n)
{
	size_t i, q, k = sp->off[n];

	memset(sp->ioff, 0, (n + 1) * sizeof(*sp->ioff));
	for (q = 0; q < k; q++)
		sp->ioff[sp->to[q] + 1]++;
	for (i = 0; i < n; i++)
		sp->ioff[i + 1] += sp->ioff[i];
	memcpy(sp->stamp, sp->ioff, n * sizeof(*sp->stamp));
	for (i = 0; i < n; i++)
		for (q = sp->off[i]; q < sp->off[i + 1]; q++) {
			sp->inq[sp->stamp[sp->to[q]]] = (uint32_t)q;
			sp->in[sp->stamp[sp->to[q]]++] = (int32_t)i;
		}
}

/*
 * One link, one weight, the same on every member: u -> v and v -> u
 * both take graph_link_rtt() and graph_link_rate() of what the two ends
 * announced. Members that weigh one link differently can route into
 * each other (a loop for as long as the measures last), and neither end
 * alone may make a link cheap or wide: its rtt is the larger end's,
 * unknown (0) at either end costs GRAPH_RTT_UNKNOWN_US, and its rate is
 * the smaller end's. Done in place on the rtts before compacting: both
 * functions give the same whichever of the pair is written first
 * (graph_link_rtt(b, graph_link_rtt(a, b)) == graph_link_rtt(a, b)).
 */
static void
spf_symmetric(struct graph_spf *sp, size_t n)
{
	size_t i, q, w;
	int v;

	memset(sp->stamp, 0, n * sizeof(*sp->stamp));
	for (i = 0; i < n; i++) {
		for (q = sp->ioff[i]; q < sp->ioff[i + 1]; q++) {
			sp->stamp[sp->in[q]] = (uint32_t)i + 1;
			sp->rev[sp->in[q]] = sp->inq[q];
		}
		for (q = sp->off[i]; q < sp->off[i + 1]; q++) {
			v = sp->to[q];
			if (sp->stamp[v] != (uint32_t)i + 1)
				continue;
			w = sp->rev[v];
			sp->cost[q] = graph_link_rtt(sp->cost[q],
			    sp->cost[w]);
			sp->rate[q] = graph_link_rate(sp->rate[q],
			    sp->rate[w]);
		}
	}
}

/* Keep u -> v only when v -> u is there: stamp everyone listing u,
 * then compact u's entries in place. */
static void
spf_keep_mutual(struct graph_spf *sp, size_t n)
{
	size_t i, q, w;
	uint32_t cur, next;

	memset(sp->stamp, 0, n * sizeof(*sp->stamp));
	cur = sp->off[0];
	for (i = 0, w = 0; i < n; i++) {
		next = sp->off[i + 1];
		for (q = sp->ioff[i]; q < sp->ioff[i + 1]; q++)
			sp->stamp[sp->in[q]] = (uint32_t)i + 1;
		sp->off[i] = (uint32_t)w;
		for (q = cur; q < next; q++) {
			if (sp->stamp[sp->to[q]] != (uint32_t)i + 1)
				continue;
			sp->to[w] = sp->to[q];
			sp->cost[w] = graph_cost(sp->cost[q]);
			sp->rate[w++] = sp->rate[q];
		}
		cur = next;
	}
	sp->off[n] = (uint32_t)w;
}

/*
 * The usable announced edges as CSR in sp (off, to, cost, rate): u -> v is
 * kept when u and v both may relay (a record, not us) and v's
 * announcement lists u too. Built in passes: every announced entry
 * with a known peer, then its transpose, then one weight per link, then
 * for each u a stamp on everyone listing u, which the entries of u keep
 * or lose.
 */
static int
graph_spf_edges(struct graph *g, int s)
{
	size_t i, e = 0;

	for (i = 0; i < g->n; i++)
		if (g->m[i].has_record && (int)i != s)
			e += g->m[i].nadj;
	if (graph_spf_room(g, g->n, e) == -1)
		return -1;
	spf_collect(g, g->spf, s);
	spf_transpose(g->spf, g->n);
	spf_symmetric(g->spf, g->n);
	spf_keep_mutual(g->spf, g->n);
	return 0;
}

/* What member m announced of its link to member index s, or NULL. */
static const struct graph_adj *
adj_to(struct graph *g, struct graph_member *m, int s)
{
	uint32_t j;

	for (j = 0; j < m->nadj; j++)
		if (adj_index(g, &m->adj[j]) == s)
			return &m->adj[j];
	return NULL;
}

/* Forget the last run's results; self, when known, is at distance 0. */
static void
spf_reset(struct graph *g, int s)
{
	struct graph_member *m;
	size_t i;

	for (i = 0; i < g->n; i++) {
		m = &g->m[i];
		m->reachable = 0;
		m->dist = GRAPH_COST_UNREACHABLE;
		m->prev = -1;
		m->next_hop = -1;
		m->path_rate_kbps = 0;
	}
	if (s >= 0) {
		g->m[s].reachable = 1;
		g->m[s].dist = 0;
	}
}

/* Our own links are the first step of every path, weighed as the other
 * members weigh them: our measure and what the peer announced of its
 * link to us, as spf_symmetric combines two ends; before the peer
 * announced the link, our measure alone (an unknown one still costs
 * GRAPH_RTT_UNKNOWN_US). -1 out of memory for the heap. */
static int
spf_seed(struct graph *g, struct graph_spf *sp, int s, size_t *hlen)
{
	const struct graph_adj *back;
	struct graph_member *m;
	uint32_t rtt, rate;
	size_t i;

	for (i = 0; i < g->n; i++) {
		sp->dist[i] = GRAPH_COST_UNREACHABLE;
		sp->width[i] = 0;
		sp->prev[i] = -1;
		sp->hop[i] = -1;
		sp->done[i] = 0;
	}
	for (i = 0; i < g->n; i++) {
		m = &g->m[i];
		if (!sp->rec[i] || m->links_up == 0)
			continue;
		rtt = graph_link_rtt(m->rtt_us, m->rtt_us);
		rate = m->rate_kbps;
		if (s >= 0 && (back = adj_to(g, m, s)) != NULL) {
			rtt = graph_link_rtt(m->rtt_us, back->rtt_us);
			rate = graph_link_rate(rate, back->rate_kbps);
		}
		sp->dist[i] = graph_cost(rtt);
		sp->width[i] = rate;
		sp->hop[i] = (int32_t)i;
		if (heap_push(sp, hlen, sp->dist[i], sp->width[i],
		    (int32_t)i) == -1)
			return -1;
	}
	return 0;
}

/* Dijkstra over the usable announced edges from there; none leads back
 * to us. Returns the members settled, or -1 out of memory. */
static ssize_t
spf_run(struct graph_spf *sp, size_t hlen)
{
	struct graph_heap_ent top;
	ssize_t count = 0;
	uint32_t q, nw;
	uint64_t nd;
	int32_t u, v;

	while (hlen > 0) {
		top = heap_pop(sp, &hlen);
		u = top.idx;
		if (sp->done[u] || top.dist != sp->dist[u] ||
		    top.width != sp->width[u])
			continue;           /* a stale heap entry */
		sp->done[u] = 1;
		count++;
		for (q = sp->off[u]; q < sp->off[u + 1]; q++) {
			v = sp->to[q];
			if (sp->done[v])
				continue;
			nd = sp->dist[u] + sp->cost[q];
			if (nd > sp->dist[v])
				continue;
			nw = sp->width[u] < sp->rate[q] ? sp->width[u] :
			    sp->rate[q];
			/* equal cost: only a wider path replaces one */
			if (nd == sp->dist[v] && nw <= sp->width[v])
				continue;
			sp->dist[v] = nd;
			sp->width[v] = nw;
			sp->prev[v] = u;
			sp->hop[v] = sp->hop[u];
			if (heap_push(sp, &hlen, nd, nw, v) == -1)
				return -1;
		}
	}
	return count;
}

size_t
graph_shortest_paths(struct graph *g)
{
	struct graph_spf *sp;
	struct graph_member *m;
	size_t i, hlen = 0;
	ssize_t count;
	int s;

	s = g->has_self ? graph_member_index(g, g->self) : -1;
	spf_reset(g, s);
	if (!g->has_self)
		return 0;
	if (g->n == 0 || graph_spf_edges(g, s) == -1)
		return 0;
	sp = g->spf;
	if (spf_seed(g, sp, s, &hlen) == -1 ||
	    (count = spf_run(sp, hlen)) == -1)
		return 0;
	for (i = 0; i < g->n; i++) {
		if (!sp->done[i])
			continue;
		m = &g->m[i];
		m->reachable = 1;
		m->dist = sp->dist[i];
		m->prev = sp->prev[i];
		m->next_hop = sp->hop[i];
		m->path_rate_kbps = sp->width[i];
	}
	return (size_t)count;
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
