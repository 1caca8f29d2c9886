/*
 * The graph routed keeps: the members of the network (from keyd's host
 * records) and the edges between them, and the shortest paths from us.
 *
 * Pure data and logic, no I/O and no loop, so tests/unit/test_graph.c
 * drives it directly (tinc's test_graph.c and sssp_bfs() are the model).
 *
 * Two kinds of edges:
 *  - our own live direct links, from linkd's MSG_PEER_STATE, kept on the
 *    member they lead to (links_up, rtt_us, rate_kbps). We know them
 *    first-hand, so they count as soon as linkd reports them.
 *  - every other member's latest signed edge announcement (proto/
 *    edges.h, through keyd's gossip), kept on the announcing member as
 *    its list of peers sorted by id. An edge A -> B between two other
 *    members is usable only when A's announcement lists B and B's lists
 *    A (tinc's rule): a member that dies cannot withdraw its own
 *    announcement, but its neighbours stop listing it, and that is
 *    enough to route around it.
 * Every edge costs graph_cost(rtt) = rtt in microseconds + 1000, so
 * among paths of similar latency the one with fewer hops wins (each
 * relay costs a little CPU and a hop of the hop limit). A link's rtt
 * and rate come from both its ends (graph_link_rtt, graph_link_rate):
 * no end alone can make a link cheap or wide. Among paths of equal
 * cost the widest wins: the one whose narrowest edge has the highest
 * rate (0, unknown, is the narrowest). Latency stays
 * first: a rate is what a link carried lately, not what it could
 * carry, so it only breaks ties (most often between paths whose rtts
 * are unknown and which cost their hops alone).
 *
 * graph_shortest_paths() is Dijkstra with a binary heap over those
 * edges, keyed by (cost, -bottleneck): a widest shortest path, which
 * Dijkstra finds because extending a path never lowers its cost and
 * keeps the order of two paths to the same member; members are found
 * by id through a hash table, so a network of 10,000 members and 50,000
 * links is recomputed in a few tens of milliseconds (bench/routes.c).
 * A member is then reachable through relays and its next hop is the
 * first member on the path.
 *
 * Members are keyed by id, so link state or an announcement that
 * arrives before the member's record (or before we know our own id) is
 * kept and applies once the record comes. Indices into g->m, and the
 * results of graph_shortest_paths(), are valid until the next change.
 */
#ifndef OM_ROUTED_GRAPH_H
#define OM_ROUTED_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/edges.h"
#include "proto/msg.h"
#include "proto/record.h"

#define GRAPH_MAX_SUBNETS RECORD_MAX_SUBNETS
#define GRAPH_COST_UNREACHABLE UINT64_MAX
#define GRAPH_COST_HOP 1000   /* added to every edge's rtt (us) */
/* The rtt of a link with an end that measured nothing: above the rtt
 * of any link that works (a Tor circuit measures a few hundred ms, a
 * slow one a second), so a measured path of a few hops wins over it,
 * yet a link that is all there is still routes. A constant, not the
 * largest rtt in the graph, so every member weighs the link the same
 * whatever else it has heard: members that weigh differently loop. */
#define GRAPH_RTT_UNKNOWN_US 2000000u

struct graph_adj {              /* one peer in a member's announcement */
	uint8_t id[MEMBER_ID_BYTES];
	uint32_t rtt_us;
	uint32_t rate_kbps;   /* 0 unknown */
	int idx;              /* cached index of id in g->m, or -1 */
	uint32_t layout;      /* g->layout when idx was cached */
};

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
	uint32_t rate_kbps;   /* their rate (linkd), 0 unknown */
	/* Its latest edge announcement: peers sorted by id. */
	struct graph_adj *adj;
	uint32_t nadj;
	uint64_t edges_serial;
	int has_edges;

	/* Results of graph_shortest_paths(). */
	int reachable;
	uint64_t dist;        /* sum of edge costs from self */
	int prev;             /* previous member on the path, -1 self */
	int next_hop;         /* first member after self, -1 none */
	uint32_t path_rate_kbps; /* the path's narrowest edge, 0 unknown */
};

struct graph {
	uint8_t self[MEMBER_ID_BYTES];
	char self_name[NAME_MAX_LEN + 1];
	int has_self;
	struct graph_member *m;
	size_t n;
	size_t cap;
	int32_t *slot;        /* id hash: index + 1, 0 empty */
	size_t nslot;         /* power of two, >= 2 n */
	uint32_t layout;      /* bumped whenever indices move */
	struct graph_spf *spf; /* graph.c's scratch, kept between runs */
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

/* A member's edge announcement (verified by the caller): its peers,
 * sorted by id without repeats (as edges_parse leaves them). Kept when
 * no announcement of from is held or serial is higher. 1 if routing may
 * change, 0 if not (older, or the same peers at the same costs), -1 out
 * of memory or peers not sorted. Our own is ignored (0): our links are
 * linkd's to tell. */
int graph_edges_set(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    uint64_t serial, const struct edges_peer *peers, size_t n)
    __attribute__((warn_unused_result));
/* Set one entry of from's announcement: from lists to (links_up > 0)
 * or not (links_up 0). from == self is our direct link
 * (graph_link_set_rate). 1 if routing may change, 0 if not, -1 out of
 * memory. For tests and tools; routed replaces whole announcements.
 * graph_edge_set: the same with the rate unknown (0). */
int graph_edge_set_rate(struct graph *g,
    const uint8_t from[MEMBER_ID_BYTES], const uint8_t to[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us, uint32_t rate_kbps)
    __attribute__((warn_unused_result));
int graph_edge_set(struct graph *g, const uint8_t from[MEMBER_ID_BYTES],
    const uint8_t to[MEMBER_ID_BYTES], uint16_t links_up, uint32_t rtt_us)
    __attribute__((warn_unused_result));
/* Is the announced edge from -> to usable (both list each other)? 1
 * and its rtt in *rtt_us (may be NULL), or 0. */
int graph_edge_usable(const struct graph *g,
    const uint8_t from[MEMBER_ID_BYTES], const uint8_t to[MEMBER_ID_BYTES],
    uint32_t *rtt_us);
/* Our live direct links (links_up > 0) as an announcement's peers,
 * sorted by id: what routed sends keyd as MSG_EDGES_LOCAL. When there
 * are more than cap, the cap with the lowest rtt. Returns the count. */
size_t graph_local_edges(const struct graph *g, struct edges_peer *out,
    size_t cap);
/* Our direct link state to a member (MSG_PEER_STATE). 1 if routing may
 * change (a link came or went, its cost or its rate moved), 0 if not,
 * -1 out of memory. graph_link_set: the same with the rate unknown. */
int graph_link_set_rate(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us, uint32_t rate_kbps)
    __attribute__((warn_unused_result));
int graph_link_set(struct graph *g, const uint8_t id[MEMBER_ID_BYTES],
    uint16_t links_up, uint32_t rtt_us) __attribute__((warn_unused_result));
/* Forget our direct links (linkd restarted: it reports the live links
 * again). 1 if any was up. */
int graph_links_clear(struct graph *g);

/* Cost of an edge from its rtt: rtt_us + GRAPH_COST_HOP, at most
 * UINT32_MAX. */
uint32_t graph_cost(uint32_t rtt_us);
/* A link's rtt from what its two ends measured: the larger, and when
 * either end reports 0 (unknown: an onion link's answering end measures
 * nothing until issue 13) at least GRAPH_RTT_UNKNOWN_US, so a link is
 * never cheaper than its worse end says and one end's claim alone
 * never makes it cheap. */
uint32_t graph_link_rtt(uint32_t a, uint32_t b);
/* A link's rate from its two ends' claims: the smaller (0 unknown, so
 * a one-sided claim counts for nothing). */
uint32_t graph_link_rate(uint32_t a, uint32_t b);

/* Dijkstra from self: first our direct links, then every usable
 * announced edge whose ends both have records (a relay must be a member
 * we know), never back through self; the cheapest path, and of those
 * the widest. A link weighs the same both ways and for every member:
 * graph_link_rtt and graph_link_rate of its two ends (for our own
 * links, our measure and the peer's announcement), so members that
 * measure a link differently cannot route into each other. Fills
 * reachable, dist,
 * prev, next_hop and path_rate_kbps
 * of every member. Returns the number of reachable members
 * other than self, or 0 when there is no self (or no memory for the
 * heap: then nothing is reachable until the next run). */
size_t graph_shortest_paths(struct graph *g);

/* Path from self to member i as member indices, self left out: the
 * first hop first, i last. Returns the number of entries, 0 when i is
 * unreachable or self, -1 if cap is too small. */
int graph_path(const struct graph *g, int i, int *out, size_t cap);

#endif
