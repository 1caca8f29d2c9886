/*
 * Unit tests for routed/graph.c and routed/fib.c: who is reachable, what
 * the forwarding table holds, and when it counts as changed. The graph
 * is driven directly, as routed's dispatcher would from keyd's records,
 * linkd's link state and the members' edge announcements, without a
 * loop or a socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/addr.h"
#include "proto/edges.h"
#include "proto/record.h"
#include "routed/fib.h"
#include "routed/graph.h"

#define ALICE 0xa1
#define BOB   0xb0
#define CAROL 0xc0
#define DAVE  0xd0

static void
mkid(uint8_t id[MEMBER_ID_BYTES], uint8_t tag)
{
	memset(id, tag, MEMBER_ID_BYTES);
}

#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define MIN2(a, b) ((a) < (b) ? (a) : (b))

/* The test's own number of the member at graph index gi. */
static int
i0_of(const int *idx, int n, int gi)
{
	int x;

	for (x = 0; x < n; x++)
		if (idx[x] == gi)
			return x;
	fail_msg("graph index %d is no member of the test", gi);
	return -1;
}

/* A record with name, id from tag, ipv4 10.77.0.<host>, ipv6 fd00::<host>
 * and up to two subnets (NULL for none). */
static struct record
mkrec(const char *name, uint8_t tag, int host, const char *sn1,
    const char *sn2)
{
	struct record r;
	char s[64];

	memset(&r, 0, sizeof(r));
	strcpy(r.name, name);
	mkid(r.id, tag);
	snprintf(s, sizeof(s), "10.77.0.%d", host);
	assert_int_equal(addr_parse(&r.ipv4, s), 0);
	snprintf(s, sizeof(s), "fd00::%d", host);
	assert_int_equal(addr_parse(&r.ipv6, s), 0);
	if (sn1 != NULL)
		assert_int_equal(prefix_parse(&r.subnets[r.nsubnets++], sn1),
		    0);
	if (sn2 != NULL)
		assert_int_equal(prefix_parse(&r.subnets[r.nsubnets++], sn2),
		    0);
	r.serial = 1;
	return r;
}

static void
add(struct graph *g, const struct record *r)
{
	assert_true(graph_member_set(g, r) >= 0);
}

static void
link_up(struct graph *g, uint8_t tag, uint16_t n, uint32_t rtt)
{
	uint8_t id[MEMBER_ID_BYTES];

	mkid(id, tag);
	assert_true(graph_link_set(g, id, n, rtt) >= 0);
}

/* alice (us), bob and carol with records; no links. */
static void
setup3(struct graph *g)
{
	uint8_t self[MEMBER_ID_BYTES];
	struct record a, b, c;

	graph_init(g);
	mkid(self, ALICE);
	assert_int_equal(graph_set_self(g, self, "alice"), 1);
	a = mkrec("alice", ALICE, 1, "192.168.1.0/24", NULL);
	b = mkrec("bob", BOB, 2, "192.168.2.0/24", "fd10::/64");
	c = mkrec("carol", CAROL, 3, NULL, NULL);
	add(g, &a);
	add(g, &b);
	add(g, &c);
}

/* setup3, dave (a record, no link) and an empty table. */
static void
setup4(struct graph *g, struct routed_fib *f)
{
	struct record d;

	setup3(g);
	routed_fib_init(f);
	d = mkrec("dave", DAVE, 4, NULL, NULL);
	add(g, &d);
}

static const struct routed_fib_entry *
find(const struct routed_fib *f, const char *dst)
{
	struct prefix p;
	size_t i;

	assert_int_equal(prefix_parse(&p, dst), 0);
	for (i = 0; i < f->n; i++)
		if (prefix_equal(&f->v[i].dst, &p))
			return &f->v[i];
	return NULL;
}

static void
build(struct graph *g, struct routed_fib *f)
{
	graph_shortest_paths(g);
	assert_int_equal(routed_fib_build(f, g, NULL), 0);
}

static void
test_no_link_no_entry(void **state)
{
	struct graph g;
	struct routed_fib f;
	uint8_t id[MEMBER_ID_BYTES];

	setup3(&g);
	routed_fib_init(&f);
	assert_int_equal(graph_shortest_paths(&g), 0);
	mkid(id, BOB);
	assert_false(graph_member_get(&g, id)->reachable);
	assert_int_equal(routed_fib_build(&f, &g, NULL), 0);
	assert_int_equal(f.n, 0);

	/* A link to bob makes bob, and only bob, reachable. */
	link_up(&g, BOB, 1, 0);
	build(&g, &f);
	assert_true(graph_member_get(&g, id)->reachable);
	mkid(id, CAROL);
	assert_false(graph_member_get(&g, id)->reachable);
	assert_null(find(&f, "10.77.0.3/32"));
	assert_null(find(&f, "fd00::3/128"));
	assert_non_null(find(&f, "10.77.0.2/32"));

	/* The link goes down: bob's entries go with it. */
	link_up(&g, BOB, 0, 0);
	build(&g, &f);
	assert_int_equal(f.n, 0);
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_table_contents(void **state)
{
	struct graph g;
	struct routed_fib f;
	const struct routed_fib_entry *e;
	uint8_t bob[MEMBER_ID_BYTES];

	setup3(&g);
	routed_fib_init(&f);
	link_up(&g, BOB, 2, 0);
	build(&g, &f);
	mkid(bob, BOB);

	/* ipv4/32, ipv6/128 and both subnets; nothing else. */
	assert_int_equal(f.n, 4);
	e = find(&f, "10.77.0.2/32");
	assert_non_null(e);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	/* an unmeasured link costs the penalty, never the hop alone */
	assert_int_equal(e->cost, GRAPH_RTT_UNKNOWN_US + GRAPH_COST_HOP);
	e = find(&f, "fd00::2/128");
	assert_non_null(e);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);
	assert_non_null(find(&f, "192.168.2.0/24"));
	assert_non_null(find(&f, "fd10::/64"));
	/* Our own addresses are never in our table. */
	assert_null(find(&f, "10.77.0.1/32"));
	assert_null(find(&f, "192.168.1.0/24"));

	/* cost = rtt + the hop when measured. */
	link_up(&g, BOB, 2, 2500);
	build(&g, &f);
	assert_int_equal(find(&f, "10.77.0.2/32")->cost, 3500);

	/* Sorted: v4 before v6, so equal graphs give equal tables. */
	assert_int_equal(f.v[0].dst.family, 4);
	assert_int_equal(f.v[f.n - 1].dst.family, 6);
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_subnets(void **state)
{
	struct graph g;
	struct routed_fib f;
	struct record d;
	const struct routed_fib_entry *e;
	struct prefix_set rt;
	uint8_t carol[MEMBER_ID_BYTES];
	uint8_t a4[4] = {192, 168, 2, 77};

	setup3(&g);
	routed_fib_init(&f);
	prefix_set_init(&rt);
	/* Host bits in a subnet are cleared; carol also claims bob's
	 * subnet and our own. */
	d = mkrec("carol", CAROL, 3, "192.168.2.9/24", "192.168.1.0/24");
	add(&g, &d);
	link_up(&g, BOB, 1, 300);
	link_up(&g, CAROL, 1, 100);
	build(&g, &f);
	mkid(carol, CAROL);

	/* The contested prefix goes to the nearer owner, once. */
	e = find(&f, "192.168.2.0/24");
	assert_non_null(e);
	assert_memory_equal(e->dest, carol, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 1100);
	/* Ours stays ours. */
	assert_null(find(&f, "192.168.1.0/24"));
	/* 2 (bob ips) + 1 (bob fd10::/64) + 2 (carol ips) + 1 contested */
	assert_int_equal(f.n, 6);

	/* Longest prefix match picks the subnet entry. */
	e = routed_fib_lookup(&f, 4, a4);
	assert_non_null(e);
	assert_int_equal(e->dst.len, 24);

	/* tund routes: others' subnets, masked, once, never ours, and
	 * whether or not the owner is reachable. */
	link_up(&g, CAROL, 0, 0);
	assert_int_equal(routed_routes_build(&rt, &g, NULL), 0);
	assert_int_equal(rt.n, 2);
	assert_int_equal(rt.v[0].family, 4);
	assert_int_equal(rt.v[0].len, 24);
	assert_int_equal(rt.v[0].addr[2], 2);
	assert_int_equal(rt.v[0].addr[3], 0);
	assert_int_equal(rt.v[1].family, 6);
	prefix_set_free(&rt);
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_change_detection(void **state)
{
	struct graph g;
	struct routed_fib f1, f2;
	struct routed_fib_diff d;
	struct record b;

	setup3(&g);
	routed_fib_init(&f1);
	routed_fib_init(&f2);

	/* The same record again changes nothing; a new serial with the
	 * same content changes nothing routing depends on. */
	b = mkrec("bob", BOB, 2, "192.168.2.0/24", "fd10::/64");
	assert_int_equal(graph_member_set(&g, &b), 0);
	b.serial = 7;
	assert_int_equal(graph_member_set(&g, &b), 0);

	/* Link state: up is a change, more links of the same cost are
	 * not, a new rtt is. */
	assert_int_equal(graph_link_set(&g, b.id, 1, 0), 1);
	assert_int_equal(graph_link_set(&g, b.id, 3, 0), 0);
	assert_int_equal(graph_link_set(&g, b.id, 3, 900), 1);
	assert_int_equal(graph_link_set(&g, b.id, 3, 900), 0);
	build(&g, &f1);
	build(&g, &f2);
	assert_true(routed_fib_equal(&f1, &f2));

	/* A new subnet is a change and shows in the diff. */
	b = mkrec("bob", BOB, 2, "192.168.2.0/24", "192.168.3.0/24");
	assert_int_equal(graph_member_set(&g, &b), 1);
	build(&g, &f2);
	assert_false(routed_fib_equal(&f1, &f2));
	routed_fib_diff(&f1, &f2, &d);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.removed, 1);
	assert_int_equal(d.changed, 0);

	/* An rtt change changes every entry's cost. */
	assert_int_equal(graph_link_set(&g, b.id, 3, 1000), 1);
	build(&g, &f1);
	routed_fib_diff(&f2, &f1, &d);
	assert_int_equal(d.added + d.removed, 0);
	assert_int_equal(d.changed, 4);

	/* A rate change may change the widest path: it is a change; the
	 * same rate again is not; a link going down forgets its rate. */
	assert_int_equal(graph_link_set_rate(&g, b.id, 3, 1000, 64), 1);
	assert_int_equal(graph_link_set_rate(&g, b.id, 3, 1000, 64), 0);
	assert_int_equal(graph_member_get(&g, b.id)->rate_kbps, 64);
	assert_int_equal(graph_link_set(&g, b.id, 3, 1000), 1);
	assert_int_equal(graph_member_get(&g, b.id)->rate_kbps, 0);
	assert_int_equal(graph_link_set_rate(&g, b.id, 3, 1000, 64), 1);
	assert_int_equal(graph_link_set_rate(&g, b.id, 0, 1000, 64), 1);
	assert_int_equal(graph_member_get(&g, b.id)->rate_kbps, 0);
	assert_int_equal(graph_link_set_rate(&g, b.id, 3, 1000, 0), 1);

	/* A name change matters (ctl shows it), an identical set not. */
	b = mkrec("bobby", BOB, 2, "192.168.2.0/24", "192.168.3.0/24");
	assert_int_equal(graph_member_set(&g, &b), 1);
	routed_fib_free(&f1);
	routed_fib_free(&f2);
	graph_free(&g);
}

static void
test_sync_drops_missing(void **state)
{
	struct graph g;
	struct routed_fib f;
	struct record b;
	uint8_t id[MEMBER_ID_BYTES];

	setup3(&g);
	routed_fib_init(&f);
	link_up(&g, BOB, 1, 0);
	link_up(&g, CAROL, 1, 0);

	/* keyd resends alice and bob only: carol's record goes, but the
	 * live link to her is remembered in case her record returns. */
	graph_sync_begin(&g);
	b = mkrec("alice", ALICE, 1, "192.168.1.0/24", NULL);
	add(&g, &b);
	b = mkrec("bob", BOB, 2, "192.168.2.0/24", "fd10::/64");
	add(&g, &b);
	assert_int_equal(graph_sync_end(&g), 1);
	mkid(id, CAROL);
	assert_non_null(graph_member_get(&g, id));
	assert_false(graph_member_get(&g, id)->has_record);
	build(&g, &f);
	assert_null(find(&f, "10.77.0.3/32"));
	assert_non_null(find(&f, "10.77.0.2/32"));

	/* Deleting bob's record drops his entries. */
	mkid(id, BOB);
	assert_int_equal(graph_member_del(&g, id), 1);
	assert_int_equal(graph_member_del(&g, id), 0);
	build(&g, &f);
	assert_int_equal(f.n, 0);

	/* A member with neither record nor link is forgotten. */
	mkid(id, CAROL);
	link_up(&g, CAROL, 0, 0);
	assert_null(graph_member_get(&g, id));
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_link_before_record(void **state)
{
	struct graph g;
	struct routed_fib f;
	struct record d;

	setup3(&g);
	routed_fib_init(&f);
	/* linkd may report dave before keyd sent his record. */
	link_up(&g, DAVE, 1, 0);
	build(&g, &f);
	assert_int_equal(f.n, 0);
	d = mkrec("dave", DAVE, 4, NULL, NULL);
	assert_int_equal(graph_member_set(&g, &d), 1);
	build(&g, &f);
	assert_int_equal(f.n, 2);
	assert_non_null(find(&f, "10.77.0.4/32"));

	/* linkd restarts: every link is forgotten until it reports. */
	assert_int_equal(graph_links_clear(&g), 1);
	build(&g, &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(graph_links_clear(&g), 0);
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_shortest_paths_multihop(void **state)
{
	struct graph g;
	struct routed_fib f;
	const struct routed_fib_entry *e;
	uint8_t bob[MEMBER_ID_BYTES], carol[MEMBER_ID_BYTES];
	uint8_t dave[MEMBER_ID_BYTES];
	int path[8], n, ci;

	setup4(&g, &f);
	mkid(bob, BOB);
	mkid(carol, CAROL);
	mkid(dave, DAVE);

	/* alice - bob (10), bob <-> carol (5) and carol <-> dave (5),
	 * each listed by both ends. */
	link_up(&g, BOB, 1, 10);
	assert_int_equal(graph_edge_set(&g, bob, carol, 1, 5), 1);
	assert_int_equal(graph_edge_set(&g, carol, bob, 1, 5), 1);
	assert_int_equal(graph_edge_set(&g, carol, dave, 1, 5), 1);
	assert_int_equal(graph_edge_set(&g, dave, carol, 1, 5), 1);
	assert_int_equal(graph_shortest_paths(&g), 3);
	assert_int_equal(routed_fib_build(&f, &g, NULL), 0);
	e = find(&f, "10.77.0.4/32");
	assert_non_null(e);
	assert_memory_equal(e->dest, dave, MEMBER_ID_BYTES);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 20 + 3 * GRAPH_COST_HOP);
	n = graph_path(&g, graph_member_index(&g, dave), path, 8);
	assert_int_equal(n, 3);
	assert_memory_equal(g.m[path[0]].id, bob, MEMBER_ID_BYTES);
	assert_memory_equal(g.m[path[1]].id, carol, MEMBER_ID_BYTES);
	assert_memory_equal(g.m[path[2]].id, dave, MEMBER_ID_BYTES);

	/* A direct link to carol that is cheaper wins over the relay. */
	link_up(&g, CAROL, 1, 4);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, carol, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 9 + 2 * GRAPH_COST_HOP);
	ci = graph_member_index(&g, carol);
	assert_int_equal(graph_path(&g, ci, path, 8), 1);

	/* An announced edge through a member without a record does not
	 * carry traffic; nor does an edge that went down. */
	link_up(&g, CAROL, 0, 0);
	assert_int_equal(graph_edge_set(&g, bob, carol, 0, 0), 1);
	build(&g, &f);
	assert_null(find(&f, "10.77.0.4/32"));
	assert_null(find(&f, "10.77.0.3/32"));
	assert_int_equal(graph_path(&g, graph_member_index(&g, dave), path,
	    8), 0);
	/* An edge from self is our link. */
	assert_int_equal(graph_edge_set(&g, g.self, carol, 1, 0), 1);
	assert_int_equal(graph_member_get(&g, carol)->links_up, 1);
	routed_fib_free(&f);
	graph_free(&g);
}

/* from announces the members in tags (rtt each), serial given. */
static int
announce(struct graph *g, uint8_t from, uint64_t serial, const uint8_t *tags,
    size_t n, uint32_t rtt)
{
	struct edges e;
	uint8_t id[MEMBER_ID_BYTES];
	size_t i;

	memset(&e, 0, sizeof(e));
	mkid(e.id, from);
	e.serial = serial;
	for (i = 0; i < n; i++) {
		mkid(e.peers[i].id, tags[i]);
		e.peers[i].rtt_us = rtt;
	}
	e.npeers = n;
	assert_int_equal(edges_sort(&e), 0);
	mkid(id, from);
	return graph_edges_set(g, id, serial, e.peers, e.npeers);
}

/* alice (us) - bob direct; bob - carol - dave announced. */
static void
setup_chain(struct graph *g)
{
	struct record d;
	static const uint8_t b[] = {ALICE, CAROL}, c[] = {BOB, DAVE},
	    dd[] = {CAROL};

	setup3(g);
	d = mkrec("dave", DAVE, 4, "10.1.0.0/16", NULL);
	add(g, &d);
	link_up(g, BOB, 1, 500);
	assert_int_equal(announce(g, BOB, 10, b, 2, 500), 1);
	assert_int_equal(announce(g, CAROL, 10, c, 2, 200), 1);
	assert_int_equal(announce(g, DAVE, 10, dd, 1, 200), 1);
}

static void
test_multihop_table(void **state)
{
	struct graph g;
	struct routed_fib f;
	const struct routed_fib_entry *e;
	uint8_t bob[MEMBER_ID_BYTES], dave[MEMBER_ID_BYTES];
	int path[8];

	setup_chain(&g);
	routed_fib_init(&f);
	mkid(bob, BOB);
	mkid(dave, DAVE);
	assert_int_equal(graph_shortest_paths(&g), 3);
	assert_int_equal(routed_fib_build(&f, &g, NULL), 0);

	/* dave: dest dave, next hop bob, cost of three hops; his subnet
	 * too. */
	e = find(&f, "10.77.0.4/32");
	assert_non_null(e);
	assert_memory_equal(e->dest, dave, MEMBER_ID_BYTES);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	/* alice-bob 500, bob-carol 500 (bob's rtt), carol-dave 200 */
	assert_int_equal(e->cost, 500 + 500 + 200 + 3 * GRAPH_COST_HOP);
	e = find(&f, "10.1.0.0/16");
	assert_non_null(e);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_non_null(find(&f, "fd00::4/128"));
	/* carol through bob */
	e = find(&f, "10.77.0.3/32");
	assert_non_null(e);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	/* bob direct: dest == next hop */
	e = find(&f, "10.77.0.2/32");
	assert_memory_equal(e->dest, e->next_hop, MEMBER_ID_BYTES);
	assert_int_equal(graph_path(&g, graph_member_index(&g, dave), path,
	    8), 3);
	assert_int_equal(graph_path(&g, graph_member_index(&g, dave), path,
	    2), -1);
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_asymmetric_edges_ignored(void **state)
{
	struct graph g;
	uint8_t carol[MEMBER_ID_BYTES], dave[MEMBER_ID_BYTES];
	uint8_t bob[MEMBER_ID_BYTES];
	static const uint8_t none[1] = {0}, b[] = {BOB};
	static const uint8_t c[] = {BOB, DAVE}, dd[] = {CAROL};

	setup_chain(&g);
	mkid(bob, BOB);
	mkid(carol, CAROL);
	mkid(dave, DAVE);
	assert_true(graph_edge_usable(&g, carol, dave, NULL));

	/* dave stops listing carol: carol's claim alone is not an edge */
	assert_int_equal(announce(&g, DAVE, 11, none, 0, 0), 1);
	assert_false(graph_edge_usable(&g, carol, dave, NULL));
	assert_false(graph_edge_usable(&g, dave, carol, NULL));
	assert_int_equal(graph_shortest_paths(&g), 2);
	assert_false(graph_member_get(&g, dave)->reachable);

	/* the other way round: dave lists carol, carol not dave */
	assert_int_equal(announce(&g, DAVE, 12, dd, 1, 200), 1);
	assert_int_equal(graph_shortest_paths(&g), 3);
	assert_int_equal(announce(&g, CAROL, 11, b, 1, 200), 1);
	assert_int_equal(graph_shortest_paths(&g), 2);
	assert_false(graph_member_get(&g, dave)->reachable);

	/* an older or equal serial never replaces the held one */
	assert_int_equal(announce(&g, CAROL, 11, c, 2, 200), 0);
	assert_int_equal(announce(&g, CAROL, 5, c, 2, 200), 0);
	assert_int_equal(graph_shortest_paths(&g), 2);
	assert_int_equal(announce(&g, CAROL, 12, c, 2, 200), 1);
	assert_int_equal(graph_shortest_paths(&g), 3);
	/* the same peers at the same cost again: nothing changes */
	assert_int_equal(announce(&g, CAROL, 13, c, 2, 200), 0);
	assert_int_equal(graph_member_get(&g, carol)->edges_serial, 13);
	/* a new rtt is a change */
	assert_int_equal(announce(&g, CAROL, 14, c, 2, 900), 1);
	/* an announcement of ours is not a source of our links */
	assert_int_equal(announce(&g, ALICE, 99, c, 2, 1), 0);
	/* peers out of order are refused */
	{
		struct edges_peer pe[2];

		mkid(pe[0].id, DAVE);
		mkid(pe[1].id, BOB);
		pe[0].rtt_us = pe[1].rtt_us = 1;
		assert_int_equal(graph_edges_set(&g, carol, 20, pe, 2), -1);
	}
	(void)bob;
	graph_free(&g);
}

static void
test_dead_member_unreachable(void **state)
{
	struct graph g;
	struct routed_fib f;
	uint8_t carol[MEMBER_ID_BYTES], dave[MEMBER_ID_BYTES];
	static const uint8_t b[] = {ALICE}, d[] = {0};
	static const uint8_t b2[] = {ALICE, DAVE}, d2[] = {BOB};

	setup_chain(&g);
	routed_fib_init(&f);
	mkid(carol, CAROL);
	mkid(dave, DAVE);
	build(&g, &f);
	assert_true(graph_member_get(&g, carol)->reachable);
	assert_non_null(find(&f, "10.77.0.4/32"));

	/* carol dies: her last announcement still lists bob and dave,
	 * but they no longer list her. */
	assert_int_equal(announce(&g, BOB, 11, b, 1, 500), 1);
	assert_int_equal(announce(&g, DAVE, 11, d, 0, 0), 1);
	build(&g, &f);
	assert_false(graph_member_get(&g, carol)->reachable);
	assert_false(graph_member_get(&g, dave)->reachable);
	assert_null(find(&f, "10.77.0.3/32"));
	assert_null(find(&f, "10.77.0.4/32"));
	assert_null(find(&f, "10.1.0.0/16"));

	/* bob and dave link up directly: dave is back, through bob. */
	assert_int_equal(announce(&g, BOB, 12, b2, 2, 500), 1);
	assert_int_equal(announce(&g, DAVE, 12, d2, 1, 500), 1);
	build(&g, &f);
	assert_true(graph_member_get(&g, dave)->reachable);
	assert_false(graph_member_get(&g, carol)->reachable);
	assert_non_null(find(&f, "10.77.0.4/32"));

	/* dave's record goes: his announcement goes with it */
	assert_int_equal(graph_member_del(&g, dave), 1);
	assert_null(graph_member_get(&g, dave));
	build(&g, &f);
	assert_null(find(&f, "10.77.0.4/32"));
	routed_fib_free(&f);
	graph_free(&g);
}

static void
test_local_edges(void **state)
{
	struct graph g;
	struct edges_peer out[4];
	uint8_t id[MEMBER_ID_BYTES];

	setup3(&g);
	assert_int_equal(graph_local_edges(&g, out, 4), 0);
	link_up(&g, CAROL, 2, 300);
	mkid(id, CAROL);
	assert_true(graph_link_set_rate(&g, id, 2, 300, 4096) >= 0);
	link_up(&g, BOB, 1, 0);
	link_up(&g, DAVE, 1, 100);   /* no record yet: listed all the same */
	/* our own id never */
	mkid(id, ALICE);
	assert_true(graph_link_set(&g, id, 1, 5) >= 0);
	assert_int_equal(graph_local_edges(&g, out, 4), 3);
	/* sorted by id */
	assert_int_equal(out[0].id[0], BOB);
	assert_int_equal(out[0].rtt_us, 0);
	assert_int_equal(out[1].id[0], CAROL);
	assert_int_equal(out[1].rtt_us, 300);
	assert_int_equal(out[1].rate_kbps, 4096);
	assert_int_equal(out[0].rate_kbps, 0);
	assert_int_equal(out[2].id[0], DAVE);
	/* too many: the lowest rtts, unknown last, still sorted by id */
	assert_int_equal(graph_local_edges(&g, out, 2), 2);
	assert_int_equal(out[0].id[0], CAROL);
	assert_int_equal(out[0].rate_kbps, 4096);
	assert_int_equal(out[1].id[0], DAVE);
	link_up(&g, CAROL, 0, 0);
	assert_int_equal(graph_local_edges(&g, out, 4), 2);
	graph_free(&g);
}

/* The random graphs' member i: id (i * 37, i, 0...) so ids do not sort
 * by i, name "m<i>", an IPv6 /128; member 0 is us. Added only when it
 * has a record; its index in g (or -1). */
static void
rnd_id(uint8_t id[MEMBER_ID_BYTES], int i)
{
	memset(id, 0, MEMBER_ID_BYTES);
	id[0] = (uint8_t)(i * 37);
	id[1] = (uint8_t)i;
}

static int
rnd_member(struct graph *g, int i, int with_record)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "m%d", i);
	rnd_id(r.id, i);
	r.ipv6.family = 6;
	r.ipv6.len = 128;
	r.ipv6.addr[0] = 0xfd;
	r.ipv6.addr[15] = (uint8_t)i;
	r.serial = 1;
	if (i == 0)
		assert_int_equal(graph_set_self(g, r.id, r.name), 1);
	if (with_record)
		add(g, &r);
	return graph_member_index(g, r.id);
}

/* Dijkstra against Bellman-Ford on random graphs with random one-sided
 * claims: same distances, same reachability, and every path is made of
 * usable edges. */
static void
test_random_against_reference(void **state)
{
	enum { N = 120, E = 400 };
	static uint8_t adj[N][N];   /* adj[u][v]: u lists v, rtt = value */
	struct graph g;
	uint64_t ref[N], nd;
	uint8_t id[MEMBER_ID_BYTES];
	uint32_t seed = 12345;
	int round, i, j, k, changed, idx[N], path[N], n;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
	for (round = 0; round < 5; round++) {
		memset(adj, 0, sizeof(adj));
		graph_init(&g);
		/* a few members without a record relay nothing */
		for (i = 0; i < N; i++)
			idx[i] = rnd_member(&g, i, i % 17 != 5);
		for (k = 0; k < E; k++) {
			i = (int)(RND() % N);
			j = (int)(RND() % N);
			if (i == j)
				continue;
			adj[i][j] = (uint8_t)(1 + RND() % 200);
			/* mostly both ends, sometimes one */
			if (RND() % 5 != 0)
				adj[j][i] = (uint8_t)(1 + RND() % 200);
		}
		for (i = 0; i < N; i++) {
			uint8_t from[MEMBER_ID_BYTES];

			rnd_id(from, i);
			for (j = 0; j < N; j++) {
				if (!adj[i][j])
					continue;
				rnd_id(id, j);
				assert_true(graph_edge_set(&g, from, id, 1,
				    adj[i][j]) >= 0);
			}
		}
		/* reference: relax usable edges until nothing changes; a
		 * link costs the larger rtt its two ends gave (ours too) */
		for (i = 0; i < N; i++)
			ref[i] = UINT64_MAX;
		ref[0] = 0;
		for (i = 1; i < N; i++)
			if (adj[0][i] && i % 17 != 5)
				ref[i] = graph_cost(MAX2(adj[0][i],
				    adj[i][0]));
		do {
			changed = 0;
			for (i = 1; i < N; i++) {
				if (ref[i] == UINT64_MAX)
					continue;
				for (j = 1; j < N; j++) {
					if (!adj[i][j] || !adj[j][i] ||
					    j % 17 == 5)
						continue;
					nd = ref[i] + graph_cost(
					    MAX2(adj[i][j], adj[j][i]));
					if (nd < ref[j]) {
						ref[j] = nd;
						changed = 1;
					}
				}
			}
		} while (changed);
		graph_shortest_paths(&g);
		for (i = 1; i < N; i++) {
			const struct graph_member *m;

			if (idx[i] < 0)
				continue;
			m = &g.m[idx[i]];
			if (ref[i] == UINT64_MAX) {
				assert_false(m->reachable);
				continue;
			}
			assert_true(m->reachable);
			assert_int_equal(m->dist, ref[i]);
			/* the path starts with a direct link and walks
			 * usable edges only */
			n = graph_path(&g, idx[i], path, N);
			assert_true(n >= 1);
			assert_true(g.m[path[0]].links_up > 0);
			assert_int_equal(m->next_hop, path[0]);
			for (k = 1; k < n; k++)
				assert_true(graph_edge_usable(&g,
				    g.m[path[k - 1]].id, g.m[path[k]].id,
				    NULL));
		}
		graph_free(&g);
	}
#undef RND
}

/* Rate (kbit/s) of the announced edge from -> to, both ends listing
 * each other with the same rtt; each end states its own rate. */
static void
edge_both(struct graph *g, uint8_t a, uint8_t b, uint32_t rtt,
    uint32_t rate_ab, uint32_t rate_ba)
{
	uint8_t x[MEMBER_ID_BYTES], y[MEMBER_ID_BYTES];

	mkid(x, a);
	mkid(y, b);
	assert_true(graph_edge_set_rate(g, x, y, 1, rtt, rate_ab) >= 0);
	assert_true(graph_edge_set_rate(g, y, x, 1, rtt, rate_ba) >= 0);
}

static const struct graph_member *
member(const struct graph *g, uint8_t tag)
{
	uint8_t id[MEMBER_ID_BYTES];

	mkid(id, tag);
	return graph_member_get(g, id);
}

/*
 * alice (us) reaches dave through bob or through carol at the same
 * cost: alice - bob 10, alice - carol 10, bob - dave 5, carol - dave 5.
 * The wider path wins (its narrowest edge carries more); without rates
 * the tie goes by position (bob, added first). A cheaper path wins
 * however narrow.
 */
static void
test_widest_of_equal_cost(void **state)
{
	struct graph g;
	struct routed_fib f;
	const struct routed_fib_entry *e;
	uint8_t bob[MEMBER_ID_BYTES], carol[MEMBER_ID_BYTES];
	uint8_t dave[MEMBER_ID_BYTES];

	setup4(&g, &f);
	mkid(bob, BOB);
	mkid(carol, CAROL);
	mkid(dave, DAVE);

	/* no rates at all: position decides, bob */
	link_up(&g, BOB, 1, 10);
	link_up(&g, CAROL, 1, 10);
	edge_both(&g, BOB, DAVE, 5, 0, 0);
	edge_both(&g, CAROL, DAVE, 5, 0, 0);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_non_null(e);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 0);

	/* bob's side is narrow (bob - dave 128), carol's wider (min of
	 * 1024 and 512): carol, at the same cost */
	assert_int_equal(graph_link_set_rate(&g, bob, 1, 10, 4096), 1);
	assert_int_equal(graph_link_set_rate(&g, carol, 1, 10, 1024), 1);
	edge_both(&g, BOB, DAVE, 5, 128, 128);
	edge_both(&g, CAROL, DAVE, 5, 512, 512);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, carol, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 15 + 2 * GRAPH_COST_HOP);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 512);
	assert_int_equal(member(&g, BOB)->path_rate_kbps, 4096);
	assert_int_equal(member(&g, CAROL)->path_rate_kbps, 1024);

	/* a link's rate is the smaller its ends gave: bob says 8192 for
	 * bob -> dave, dave's 1 for dave -> bob caps it, and carol's
	 * 512 is wider; dave's 8192 too does widen it */
	edge_both(&g, BOB, DAVE, 5, 8192, 1);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, carol, MEMBER_ID_BYTES);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 512);
	edge_both(&g, BOB, DAVE, 5, 8192, 8192);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 4096);

	/* our own link is part of the path: unknown (0) is narrowest */
	assert_int_equal(graph_link_set_rate(&g, bob, 1, 10, 0), 1);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, carol, MEMBER_ID_BYTES);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 512);
	assert_int_equal(graph_link_set_rate(&g, bob, 1, 10, 4096), 1);

	/* a cheaper path wins however narrow: carol - dave 1 us less
	 * and 1 kbit/s */
	edge_both(&g, CAROL, DAVE, 4, 1, 1);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, carol, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 14 + 2 * GRAPH_COST_HOP);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 1);
	/* and a wider but costlier one loses even at 1 us */
	edge_both(&g, CAROL, DAVE, 6, 0x80000000u, 0x80000000u);
	assert_int_equal(graph_link_set_rate(&g, carol, 1, 10, 0x80000000u),
	    1);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 4096);

	/* a rate change in an announcement is a change for routed */
	{
		struct edges_peer p[1];

		memset(p, 0, sizeof(p));
		mkid(p[0].id, DAVE);
		p[0].rtt_us = 5;
		p[0].rate_kbps = 64;
		assert_int_equal(graph_edges_set(&g, bob, 100, p, 1), 1);
		assert_int_equal(graph_edges_set(&g, bob, 101, p, 1), 0);
		p[0].rate_kbps = 128;
		assert_int_equal(graph_edges_set(&g, bob, 102, p, 1), 1);
	}
	routed_fib_free(&f);
	graph_free(&g);
}

static void
edge_one(struct graph *g, uint8_t from, uint8_t to, uint32_t rtt)
{
	uint8_t x[MEMBER_ID_BYTES], y[MEMBER_ID_BYTES];

	mkid(x, from);
	mkid(y, to);
	assert_true(graph_edge_set_rate(g, x, y, 1, rtt, 0) >= 0);
}

/*
 * Each end of a link measures it its own way (over onions only the
 * dialer times the handshake; the end it called says rtt 0), and a
 * member that weighs a link lighter than the others do routes into
 * them: seen over tor, alice sent dave's packets to carol, who had no
 * cheaper way either. A link costs the larger rtt its ends gave, ours
 * included, and a link one end of which says 0 (unknown) costs at
 * least GRAPH_RTT_UNKNOWN_US:
 *   alice - bob    alice measured 60 ms, bob says 0
 *   alice - carol  alice says 0 (carol called), carol 60 ms
 *   carol - bob    carol 57.8 ms, bob 0
 *   bob - dave     bob 0, dave 85 ms
 * Every link is one-sided, as over onions before the answering end
 * measures: all cost the same, and routes still work. alice reaches
 * dave through bob (two links), not carol (three), however cheap its
 * own view of the alice - carol link. Once bob measures its links,
 * the measured path wins.
 */
static void
test_link_cost_both_ends(void **state)
{
	struct graph g;
	struct routed_fib f;
	const struct routed_fib_entry *e;
	uint8_t bob[MEMBER_ID_BYTES];

	setup4(&g, &f);
	mkid(bob, BOB);
	link_up(&g, BOB, 4, 60000);
	link_up(&g, CAROL, 4, 0);
	edge_one(&g, BOB, ALICE, 0);
	edge_one(&g, BOB, CAROL, 0);
	edge_one(&g, BOB, DAVE, 0);
	edge_one(&g, CAROL, ALICE, 60000);
	edge_one(&g, CAROL, BOB, 57800);
	edge_one(&g, DAVE, BOB, 85000);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_non_null(e);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 2 * (GRAPH_RTT_UNKNOWN_US +
	    GRAPH_COST_HOP));
	/* carol is one hop at the penalty, not at alice's 0 */
	assert_int_equal(member(&g, CAROL)->dist, GRAPH_RTT_UNKNOWN_US +
	    GRAPH_COST_HOP);
	/* bob direct, though carol - bob looks cheap from carol's side */
	e = find(&f, "10.77.0.2/32");
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, GRAPH_RTT_UNKNOWN_US + GRAPH_COST_HOP);
	/* bob measures: alice - bob and bob - dave cost what was measured
	 * (the larger end) */
	edge_one(&g, BOB, ALICE, 61000);
	edge_one(&g, BOB, DAVE, 84000);
	build(&g, &f);
	e = find(&f, "10.77.0.4/32");
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 61000 + 85000 + 2 * GRAPH_COST_HOP);
	routed_fib_free(&f);
	graph_free(&g);
}

/* One end of a link: from lists to with its own rtt and rate. */
static void
edge_end(struct graph *g, uint8_t from, uint8_t to, uint32_t rtt,
    uint32_t rate)
{
	uint8_t x[MEMBER_ID_BYTES], y[MEMBER_ID_BYTES];

	mkid(x, from);
	mkid(y, to);
	assert_true(graph_edge_set_rate(g, x, y, 1, rtt, rate) >= 0);
}

/* The two-end rules on their own: the larger rtt, unknown (0) at
 * either end at least the penalty; the smaller rate. */
static void
test_link_weight_rules(void **state)
{
	(void)state;
	assert_int_equal(graph_link_rtt(5000, 7000), 7000);
	assert_int_equal(graph_link_rtt(7000, 5000), 7000);
	assert_int_equal(graph_link_rtt(0, 0), GRAPH_RTT_UNKNOWN_US);
	assert_int_equal(graph_link_rtt(1, 0), GRAPH_RTT_UNKNOWN_US);
	assert_int_equal(graph_link_rtt(0, 1), GRAPH_RTT_UNKNOWN_US);
	/* a measured rtt above the penalty stays what it is */
	assert_int_equal(graph_link_rtt(0, 3000000), 3000000);
	/* combining twice changes nothing (graph.c relies on it) */
	assert_int_equal(graph_link_rtt(0, graph_link_rtt(1, 0)),
	    GRAPH_RTT_UNKNOWN_US);
	assert_int_equal(graph_link_rtt(9, graph_link_rtt(9, 4)), 9);
	assert_int_equal(graph_link_rate(0xffffffffu, 100), 100);
	assert_int_equal(graph_link_rate(100, 0xffffffffu), 100);
	assert_int_equal(graph_link_rate(0xffffffffu, 0), 0);
	/* the penalty is above any rtt a working link measures */
	assert_true(GRAPH_RTT_UNKNOWN_US >= 1000000u);
}

/* alice - bob and alice - carol measured 10 ms by both ends, and
 * bob - dave as bob and dave measured it: the square the tests below
 * weigh carol - dave against. */
static void
setup_square(struct graph *g, struct routed_fib *f, uint32_t bob_dave,
    uint32_t dave_bob)
{
	setup4(g, f);
	link_up(g, BOB, 1, 10000);
	link_up(g, CAROL, 1, 10000);
	edge_end(g, BOB, ALICE, 10000, 0);
	edge_end(g, CAROL, ALICE, 10000, 0);
	edge_end(g, BOB, DAVE, bob_dave, 0);
	edge_end(g, DAVE, BOB, dave_bob, 0);
}

/* After a recompute, alice sends dave's traffic to via at cost. */
static void
dave_via(struct graph *g, struct routed_fib *f, uint8_t via, uint64_t cost)
{
	const struct routed_fib_entry *e;
	uint8_t id[MEMBER_ID_BYTES];

	build(g, f);
	e = find(f, "10.77.0.4/32");
	assert_non_null(e);
	mkid(id, via);
	assert_memory_equal(e->next_hop, id, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, cost);
}

/*
 * bob - dave 50 ms by both ends. carol claims carol - dave at 1 us,
 * dave says 0: the claim is one-sided and the measured path through
 * bob wins. When dave measures 40 ms too, carol's path is really
 * cheaper and wins.
 */
static void
test_one_sided_claim_loses(void **state)
{
	struct graph g;
	struct routed_fib f;

	(void)state;
	setup_square(&g, &f, 50000, 50000);
	edge_end(&g, CAROL, DAVE, 1, 0);
	edge_end(&g, DAVE, CAROL, 0, 0);
	dave_via(&g, &f, BOB, 60000 + 2 * GRAPH_COST_HOP);
	/* both ends measured: the larger, 40 ms, and carol's way wins */
	edge_end(&g, DAVE, CAROL, 40000, 0);
	dave_via(&g, &f, CAROL, 50000 + 2 * GRAPH_COST_HOP);
	routed_fib_free(&f);
	graph_free(&g);
}

/* 0 is unknown, never cheapest: a link both ends call 0 loses to a
 * measured one of 1.5 s, and our own unmeasured link to a member loses
 * to a measured relay; yet an unknown link that is all there is still
 * routes. */
static void
test_unknown_never_cheapest(void **state)
{
	struct graph g;
	struct routed_fib f;
	const uint64_t via_carol = 1510000 + 2 * GRAPH_COST_HOP;

	(void)state;
	setup_square(&g, &f, 0, 0);
	/* the only way: routed, at the penalty */
	dave_via(&g, &f, BOB, 10000 + GRAPH_RTT_UNKNOWN_US +
	    2 * GRAPH_COST_HOP);
	edge_end(&g, CAROL, DAVE, 1500000, 0);
	edge_end(&g, DAVE, CAROL, 1500000, 0);
	dave_via(&g, &f, CAROL, via_carol);
	/* our own link to dave, unmeasured (0) by us and by dave: the
	 * relay through carol still wins over it */
	link_up(&g, DAVE, 1, 0);
	edge_end(&g, DAVE, ALICE, 0, 0);
	dave_via(&g, &f, CAROL, via_carol);
	/* measured by us only, 1 us, while dave says 0: still unknown */
	link_up(&g, DAVE, 1, 1);
	dave_via(&g, &f, CAROL, via_carol);
	routed_fib_free(&f);
	graph_free(&g);
}

/* A rate claim is capped by the other end: carol claims 2^32 - 1
 * kbit/s to dave, dave measured 64; bob's way, at the same cost, is
 * 128 wide on both ends and wins; carol's path is 64 wide. */
static void
test_rate_capped_by_other_end(void **state)
{
	struct graph g;
	struct routed_fib f;
	uint8_t bob[MEMBER_ID_BYTES], carol[MEMBER_ID_BYTES];

	(void)state;
	setup4(&g, &f);
	mkid(bob, BOB);
	mkid(carol, CAROL);
	assert_true(graph_link_set_rate(&g, bob, 1, 10000, 4096) >= 0);
	assert_true(graph_link_set_rate(&g, carol, 1, 10000, 4096) >= 0);
	edge_end(&g, BOB, ALICE, 10000, 4096);
	edge_end(&g, CAROL, ALICE, 10000, 4096);
	edge_end(&g, BOB, DAVE, 5000, 128);
	edge_end(&g, DAVE, BOB, 5000, 128);
	edge_end(&g, CAROL, DAVE, 5000, 0xffffffffu);
	edge_end(&g, DAVE, CAROL, 5000, 64);
	dave_via(&g, &f, BOB, 15000 + 2 * GRAPH_COST_HOP);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 128);
	/* dave's side says nothing (0): the claim counts for nothing */
	edge_end(&g, DAVE, BOB, 5000, 0);
	edge_end(&g, DAVE, CAROL, 5000, 0);
	build(&g, &f);
	assert_int_equal(member(&g, DAVE)->path_rate_kbps, 0);
	/* our own link's rate is capped by what the peer announced */
	edge_end(&g, BOB, ALICE, 10000, 16);
	build(&g, &f);
	assert_int_equal(member(&g, BOB)->path_rate_kbps, 16);
	routed_fib_free(&f);
	graph_free(&g);
}

/* Widest shortest paths against a Bellman-Ford on (cost, -width), on
 * random graphs with few distinct rtts so that equal costs are common:
 * the same cost and the same bottleneck for every member, and each path
 * really has that bottleneck. */
static void
test_widest_random_against_reference(void **state)
{
	enum { N = 80, E = 300 };
	static uint8_t rtt[N][N];      /* rtt[u][v]: u lists v, its rtt */
	static uint32_t rate[N][N];
	struct graph g;
	uint64_t ref[N], nd;
	uint32_t w[N], nw, bw;
	uint8_t id[MEMBER_ID_BYTES], from[MEMBER_ID_BYTES];
	uint32_t seed = 777;
	int round, i, j, k, changed, idx[N], path[N], n, ties = 0;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
/* A link's rate: the smaller its two ends announced (one end only: its
 * own, which only our own links can be) */
#define SYM_RATE(a, b) (rtt[(b)][(a)] ? MIN2(rate[(a)][(b)], \
	rate[(b)][(a)]) : rate[(a)][(b)])
	for (round = 0; round < 8; round++) {
		memset(rtt, 0, sizeof(rtt));
		graph_init(&g);
		for (i = 0; i < N; i++)
			idx[i] = rnd_member(&g, i, 1);
		for (k = 0; k < E; k++) {
			i = (int)(RND() % N);
			j = (int)(RND() % N);
			if (i == j)
				continue;
			/* rtt 1 or 2 us: costs 1001 or 1002 */
			rtt[i][j] = (uint8_t)(1 + RND() % 2);
			rate[i][j] = RND() % 7 == 0 ? 0 : 1u << (RND() % 12);
			if (RND() % 6 != 0) {
				rtt[j][i] = rtt[i][j];
				rate[j][i] = RND() % 7 == 0 ? 0 :
				    1u << (RND() % 12);
			}
		}
		for (i = 0; i < N; i++) {
			rnd_id(from, i);
			for (j = 0; j < N; j++) {
				if (!rtt[i][j])
					continue;
				rnd_id(id, j);
				assert_true(graph_edge_set_rate(&g, from, id,
				    1, rtt[i][j], rate[i][j]) >= 0);
			}
		}
		/* reference: relax until nothing changes */
		for (i = 0; i < N; i++) {
			ref[i] = UINT64_MAX;
			w[i] = 0;
		}
		ref[0] = 0;
		for (i = 1; i < N; i++) {
			if (!rtt[0][i])
				continue;
			ref[i] = graph_cost(MAX2(rtt[0][i], rtt[i][0]));
			w[i] = SYM_RATE(0, i);
		}
		do {
			changed = 0;
			for (i = 1; i < N; i++) {
				if (ref[i] == UINT64_MAX)
					continue;
				for (j = 1; j < N; j++) {
					if (!rtt[i][j] || !rtt[j][i])
						continue;
					nd = ref[i] + graph_cost(MAX2(
					    rtt[i][j], rtt[j][i]));
					nw = w[i] < SYM_RATE(i, j) ? w[i] :
					    SYM_RATE(i, j);
					if (nd < ref[j] || (nd == ref[j] &&
					    nw > w[j])) {
						ref[j] = nd;
						w[j] = nw;
						changed = 1;
					}
				}
			}
		} while (changed);
		graph_shortest_paths(&g);
		for (i = 1; i < N; i++) {
			const struct graph_member *m = &g.m[idx[i]];

			if (ref[i] == UINT64_MAX) {
				assert_false(m->reachable);
				continue;
			}
			assert_true(m->reachable);
			assert_int_equal(m->dist, ref[i]);
			assert_int_equal(m->path_rate_kbps, w[i]);
			/* the path's own bottleneck is the one claimed */
			n = graph_path(&g, idx[i], path, N);
			assert_true(n >= 1);
			bw = SYM_RATE(0, i0_of(idx, N, path[0]));
			for (k = 1; k < n; k++) {
				int a = -1, b = -1, x;

				for (x = 0; x < N; x++) {
					if (idx[x] == path[k - 1])
						a = x;
					if (idx[x] == path[k])
						b = x;
				}
				assert_true(a >= 0 && b >= 0);
				assert_true(rtt[a][b] && rtt[b][a]);
				if (SYM_RATE(a, b) < bw)
					bw = SYM_RATE(a, b);
			}
			assert_int_equal(bw, w[i]);
			if (m->dist == 1001u * (uint64_t)n && n > 1)
				ties++;
		}
		graph_free(&g);
	}
	/* the graphs did hold multi-hop paths of equal cost */
	assert_true(ties > 0);
#undef SYM_RATE
#undef RND
}

static void
test_no_self(void **state)
{
	struct graph g;
	struct routed_fib f;
	struct record b;

	/* Before keyd said who we are, nothing is routed. */
	graph_init(&g);
	routed_fib_init(&f);
	b = mkrec("bob", BOB, 2, NULL, NULL);
	add(&g, &b);
	link_up(&g, BOB, 1, 0);
	assert_int_equal(graph_shortest_paths(&g), 0);
	assert_int_equal(routed_fib_build(&f, &g, NULL), 0);
	assert_int_equal(f.n, 0);
	routed_fib_free(&f);
	graph_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_link_no_entry),
		cmocka_unit_test(test_table_contents),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_change_detection),
		cmocka_unit_test(test_sync_drops_missing),
		cmocka_unit_test(test_link_before_record),
		cmocka_unit_test(test_shortest_paths_multihop),
		cmocka_unit_test(test_multihop_table),
		cmocka_unit_test(test_asymmetric_edges_ignored),
		cmocka_unit_test(test_dead_member_unreachable),
		cmocka_unit_test(test_local_edges),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_widest_of_equal_cost),
		cmocka_unit_test(test_link_cost_both_ends),
		cmocka_unit_test(test_link_weight_rules),
		cmocka_unit_test(test_one_sided_claim_loses),
		cmocka_unit_test(test_unknown_never_cheapest),
		cmocka_unit_test(test_rate_capped_by_other_end),
		cmocka_unit_test(test_widest_random_against_reference),
		cmocka_unit_test(test_no_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
