/*
 * The graph routed keeps: the members of the network (from keyd's host
 * records) and the edges between them, and the shortest paths from us.
 *
 * Pure data and logic, no I/O and no loop, so tests/unit/test_graph.c
 * drives it directly (tinc's test_graph.c and sssp_bfs() are the model).
 *
 * Edges are directed and carry a cost (rtt in microseconds, 1 when not
 * measured). Today the only edges are our own live direct links, from
 * linkd's MSG_PEER_STATE, kept on the member they lead to. When members
 * announce their links to each other (multi-hop), those arrive through
 * graph_edge_set() and graph_shortest_paths() (Dijkstra over every edge)
 * already routes over them: a member is then reachable through a relay
 * and its next hop is the first member on the path.
 *
 * Members are keyed by id, so link state that arrives before the
 * member's record (or before we know our own id) is kept and applies
 * once the record comes. Indices into g->m, and the results of
 * graph_shortest_paths(), are valid until the next change.
 */
#ifndef OM_ROUTED_GRAPH_H
#define OM_ROUTED_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/msg.h"
#include "proto/record.h"

#define GRAPH_MAX_SUBNETS RECORD_MAX_SUBNETS
#define GRAPH_COST_UNREACHABLE UINT64_MAX

struct graph_member {
	uint8_t id[MEMBER_ID_BYTES];
	char name[NAME_MAX_LEN + 1];
	struct prefix ipv4;   /* /32 or unset */
	struct prefix ipv6;   /* /128 or unset */
	struct prefix subnets[GRAPH_MAX_SUBNETS];
	int nsubnets;
	uint64_t serial;
	int has_record;       /* 0: only known from link state so far */
	int seen;             /* mark for a full resend from keyd */
	uint16_t links_up;    /* our direct links to it (linkd) */
	uint32_t rtt_us;      /* their rtt, 0 unknown */

	/* Results of graph_shortest_paths(). */
	int reachable;
	uint64_t dist;        /* sum of edge costs from self */
	int prev;             /* previous member on the path, -1 self */
	int next_hop;         /* first member after self, -1 none */
};

struct graph_edge {            /* announced by other members */
	uint8_t from[MEMBER_ID_BYTES];
	uint8_t to[MEMBER_ID_BYTES];
	uint16_t links_up;
	uint32_t rtt_us;      /* 0 unknown */
};

struct graph {
	uint8_t self[MEMBER_ID_BYTES];
	char self_name[NAME_MAX_LEN + 1];
	int has_self;
	struct graph_member *m;
	size_t n;
	size_t cap;
	struct graph_edge *e;
	size_t ne;
	size_t ecap;
};

void graph_init(struct graph *g);
void graph_free(struct graph *g);

/* Our own id (from MSG_SELF). 1 if it changed, else 0. */
int graph_set_self(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    const char *name);
/* Add or update a member from its record; marks it seen. 1 if anything
 * routing depends on changed, 0 if not, -1 out of memory. */
int graph_member_set(struct graph *g, const struct record *r)
    __attribute__((warn_unused_result));
/* Forget a member's record (its link state stays while links are up).
 * 1 if it was known, else 0. */
int graph_member_del(struct graph *g, const uint8_t id[MEMBER_ID_BYTES]);
int graph_member_index(const struct graph *g,
    const uint8_t id[MEMBER_ID_BYTES]);
const struct graph_member *graph_member_get(const struct graph *g,
    const uint8_t id[MEMBER_ID_BYTES]);

/* A full resend of records: begin clears every seen mark, end drops
 * the records the resend did not hold. end returns how many went. */
void graph_sync_begin(struct graph *g);
size_t graph_sync_end(struct graph *g);

/* Set the edge from -> to (links_up 0 removes it; from == self is our
 * direct link, graph_link_set). 1 if routing may change, 0 if not, -1
 * out of memory. */
int graph_edge_set(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES], uint16_t links_up, uint32_t rtt_us)
    __attribute__((warn_unused_result));
/* Our direct link state to a member (MSG_PEER_STATE). */
int graph_link_set(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us) __attribute__((warn_unused_result));
/* Forget our direct links (linkd restarted: it reports the live links
 * again). 1 if any was up. */
int graph_links_clear(struct graph *g);
const struct graph_edge *graph_edge_get(const struct graph *g,
    const uint8_t from[MEMBER_ID_BYTES], const uint8_t to[MEMBER_ID_BYTES]);

/* Cost of an edge from its rtt: the rtt in microseconds, or 1 when
 * unknown. */
uint32_t graph_cost(uint32_t rtt_us);

/* Dijkstra from self over every edge whose ends both have records (a
 * relay must be a member we know). Fills reachable, dist, prev and
 * next_hop of every member. Returns the number of reachable members
 * other than self. */
size_t graph_shortest_paths(struct graph *g);

/* Path from self to member i as member indices, self left out: the
 * first hop first, i last. Returns the number of entries, 0 when i is
 * unreachable or self, -1 if cap is too small. */
int graph_path(const struct graph *g, int i, int *out, size_t cap);

#endif
