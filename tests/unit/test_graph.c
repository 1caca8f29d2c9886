/*
 * Unit tests for routed/graph.c and routed/fib.c: who is reachable, what
 * the forwarding table holds, and when it counts as changed. The graph
 * is driven directly, as routed's dispatcher would from keyd's records
 * and linkd's link state, without a loop or a socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/addr.h"
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
	assert_int_equal(routed_fib_build(f, g), 0);
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
	assert_int_equal(routed_fib_build(&f, &g), 0);
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
	assert_int_equal(e->cost, 1);
	e = find(&f, "fd00::2/128");
	assert_non_null(e);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);
	assert_non_null(find(&f, "192.168.2.0/24"));
	assert_non_null(find(&f, "fd10::/64"));
	/* Our own addresses are never in our table. */
	assert_null(find(&f, "10.77.0.1/32"));
	assert_null(find(&f, "192.168.1.0/24"));

	/* cost = rtt when measured. */
	link_up(&g, BOB, 2, 2500);
	build(&g, &f);
	assert_int_equal(find(&f, "10.77.0.2/32")->cost, 2500);

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
	struct routed_routes rt;
	uint8_t carol[MEMBER_ID_BYTES];
	uint8_t a4[4] = {192, 168, 2, 77};

	setup3(&g);
	routed_fib_init(&f);
	routed_routes_init(&rt);
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
	assert_int_equal(e->cost, 100);
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
	assert_int_equal(routed_routes_build(&rt, &g), 0);
	assert_int_equal(rt.n, 2);
	assert_int_equal(rt.v[0].family, 4);
	assert_int_equal(rt.v[0].len, 24);
	assert_int_equal(rt.v[0].addr[2], 2);
	assert_int_equal(rt.v[0].addr[3], 0);
	assert_int_equal(rt.v[1].family, 6);
	routed_routes_free(&rt);
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
	struct record d;
	int path[8], n, ci;

	setup3(&g);
	routed_fib_init(&f);
	mkid(bob, BOB);
	mkid(carol, CAROL);
	mkid(dave, DAVE);
	d = mkrec("dave", DAVE, 4, NULL, NULL);
	add(&g, &d);

	/* alice - bob (10), bob announces bob -> carol (5) and
	 * carol -> dave (5). */
	link_up(&g, BOB, 1, 10);
	assert_int_equal(graph_edge_set(&g, bob, carol, 1, 5), 1);
	assert_int_equal(graph_edge_set(&g, carol, dave, 1, 5), 1);
	assert_int_equal(graph_shortest_paths(&g), 3);
	assert_int_equal(routed_fib_build(&f, &g), 0);
	e = find(&f, "10.77.0.4/32");
	assert_non_null(e);
	assert_memory_equal(e->dest, dave, MEMBER_ID_BYTES);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	assert_int_equal(e->cost, 20);
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
	assert_int_equal(e->cost, 9);
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
	assert_int_equal(routed_fib_build(&f, &g), 0);
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
		cmocka_unit_test(test_no_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
