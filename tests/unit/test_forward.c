/*
 * Forwarding through members, the pure parts (linkd/forward.h and the
 * fib's member index):
 *  - an INNER_FORWARD payload parses only as header + exactly one whole
 *    wire frame (short, cut, trailing bytes, bad frame type refused);
 *  - the header round-trips through wire_fwd_put_hdr;
 *  - the hop limit: a frame for us is delivered whatever its limit; a
 *    relay lowers it by one and drops at 0, so a frame sent with
 *    WIRE_FWD_HOP_LIMIT in a loop is relayed WIRE_FWD_HOP_LIMIT - 1
 *    times at most;
 *  - fib_lookup_member finds each member's next hop (the cheapest of its
 *    entries), nothing for a member the table lacks, and survives
 *    tables of many members (checked against a linear search);
 *  - the route decision (linkd/route.h): address -> member -> direct or
 *    next hop, never ourselves, and the debug_route override.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "linkd/fib.h"
#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "linkd/route.h"
#include "proto/buf.h"
#include "proto/wire.h"

/* A payload: header for dest (all bytes d), then one frame of type t
 * with body_len body bytes; extra bytes after it. Returns the length. */
static size_t
mk(uint8_t *out, uint8_t d, uint8_t hops, uint32_t conn, uint8_t t,
    size_t body_len, size_t extra)
{
	uint8_t dest[MEMBER_ID_BYTES];
	size_t i, n;

	memset(dest, d, sizeof(dest));
	wire_fwd_put_hdr(out, dest, hops, conn);
	n = WIRE_FWD_HDR;
	be32_put(out + n, (uint32_t)(1 + body_len));
	out[n + 4] = t;
	n += WIRE_LEN_BYTES + 1;
	for (i = 0; i < body_len + extra; i++)
		out[n + i] = (uint8_t)(i * 13 + 7);
	return n + body_len + extra;
}

static void
test_parse(void **state)
{
	static uint8_t buf[WIRE_MAX_INNER + 64];
	struct wire_fwd h;
	size_t n;

	n = mk(buf, 0xab, 16, 0xdeadbeef, WIRE_DATA, 100, 0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(h.dest[0], 0xab);
	assert_int_equal(h.dest[MEMBER_ID_BYTES - 1], 0xab);
	assert_int_equal(h.hops, 16);
	assert_int_equal(h.conn, 0xdeadbeef);
	assert_int_equal(h.frame_type, WIRE_DATA);
	assert_ptr_equal(h.frame, buf + WIRE_FWD_HDR);
	assert_int_equal(h.frame_len, WIRE_LEN_BYTES + 1 + 100);

	/* every cut is refused, as is one byte too many */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(wire_fwd_parse(&h, buf, cut), -1);
	n = mk(buf, 0xab, 16, 1, WIRE_DATA, 100, 1);
	assert_int_equal(wire_fwd_parse(&h, buf, n), -1);
	/* two frames back to back are not one */
	n = mk(buf, 0xab, 16, 1, WIRE_HS_INIT, 10, 0);
	memcpy(buf + n, buf + WIRE_FWD_HDR, n - WIRE_FWD_HDR);
	assert_int_equal(wire_fwd_parse(&h, buf, n + (n - WIRE_FWD_HDR)), -1);
	/* unknown frame type, length 0 */
	n = mk(buf, 0xab, 16, 1, 9, 10, 0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), -1);
	n = mk(buf, 0xab, 16, 1, WIRE_DATA, 10, 0);
	be32_put(buf + WIRE_FWD_HDR, 0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), -1);
	assert_int_equal(wire_fwd_parse(&h, NULL, 0), -1);

	/* handshake frames and the largest frame that fits */
	n = mk(buf, 1, 3, 2, WIRE_HS_RESP, 64, 0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(h.frame_type, WIRE_HS_RESP);
	n = mk(buf, 1, 3, 2, WIRE_DATA,
	    WIRE_FWD_MAX_FRAME - WIRE_LEN_BYTES - 1, 0);
	assert_int_equal(n, WIRE_FWD_HDR + WIRE_FWD_MAX_FRAME);
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	n = mk(buf, 1, 3, 2, WIRE_DATA, WIRE_FWD_MAX_FRAME - WIRE_LEN_BYTES,
	    0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), -1);
	/* and it must fit one inner payload of a link's session */
	assert_true(WIRE_FWD_HDR + WIRE_FWD_MAX_FRAME <= WIRE_MAX_INNER - 1);
}

static void
test_decide(void **state)
{
	uint8_t self[MEMBER_ID_BYTES], buf[256], hops = 99;
	struct wire_fwd h;
	size_t n;
	int relays;

	memset(self, 0x11, sizeof(self));
	/* for us: delivered, even with the hop limit used up */
	n = mk(buf, 0x11, 0, 5, WIRE_DATA, 20, 0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_DELIVER);
	/* for someone else: one less, and dropped at the end */
	n = mk(buf, 0x22, 16, 5, WIRE_DATA, 20, 0);
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_RELAY);
	assert_int_equal(hops, 15);
	buf[MEMBER_ID_BYTES] = 2;
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_RELAY);
	assert_int_equal(hops, 1);
	buf[MEMBER_ID_BYTES] = 1;
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_HOPS_GONE);
	buf[MEMBER_ID_BYTES] = 0;
	assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_HOPS_GONE);

	/* a loop of two relays: the frame goes round until its limit is
	 * used up, WIRE_FWD_HOP_LIMIT - 1 relays in all */
	buf[MEMBER_ID_BYTES] = WIRE_FWD_HOP_LIMIT;
	for (relays = 0; relays < 1000; relays++) {
		assert_int_equal(wire_fwd_parse(&h, buf, n), 0);
		if (fwd_decide(self, &h, &hops) != FWD_RELAY)
			break;
		buf[MEMBER_ID_BYTES] = hops;
	}
	assert_int_equal(relays, WIRE_FWD_HOP_LIMIT - 1);
}

static void
mkentry(struct fib_entry *e, const char *pfx, uint8_t dest, uint8_t hop,
    uint32_t cost)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(prefix_parse(&e->dst, pfx), 0);
	memset(e->dest, dest, sizeof(e->dest));
	memset(e->next_hop, hop, sizeof(e->next_hop));
	e->cost = cost;
}

static void
test_fib_member(void **state)
{
	struct fib_entry v[5];
	const struct fib_entry *e;
	uint8_t id[MEMBER_ID_BYTES];
	struct fib *f;

	memset(id, 3, sizeof(id));
	assert_null(fib_lookup_member(NULL, id));
	f = fib_build(NULL, 0, 1, NULL);
	assert_non_null(f);
	assert_null(fib_lookup_member(f, id));
	fib_free(f);

	mkentry(&v[0], "10.77.0.1/32", 1, 1, 10);
	mkentry(&v[1], "fd00::1/128", 1, 1, 10);
	mkentry(&v[2], "10.77.0.3/32", 3, 2, 20);     /* via 2 */
	mkentry(&v[3], "192.168.50.0/24", 3, 2, 20);
	mkentry(&v[4], "10.77.0.4/32", 4, 5, 7);
	f = fib_build(v, 5, 2, NULL);
	assert_non_null(f);
	memset(id, 3, sizeof(id));
	assert_non_null(e = fib_lookup_member(f, id));
	assert_int_equal(e->next_hop[0], 2);
	assert_int_equal(e->cost, 20);
	memset(id, 1, sizeof(id));
	assert_non_null(e = fib_lookup_member(f, id));
	assert_int_equal(e->next_hop[0], 1);
	memset(id, 4, sizeof(id));
	assert_non_null(e = fib_lookup_member(f, id));
	assert_int_equal(e->next_hop[0], 5);
	memset(id, 2, sizeof(id));      /* a next hop, not a destination */
	assert_null(fib_lookup_member(f, id));
	id[31] = 3;
	assert_null(fib_lookup_member(f, id));
	fib_free(f);
}

static void
test_fib_member_many(void **state)
{
	enum { N = 3000 };
	struct fib_entry *v = calloc(N, sizeof(*v));
	const struct fib_entry *e;
	uint8_t id[MEMBER_ID_BYTES];
	struct fib *f;
	size_t i, j;

	assert_non_null(v);
	srand(5);
	for (i = 0; i < N; i++) {
		v[i].dst.family = 4;
		v[i].dst.len = 32;
		v[i].dst.addr[0] = 10;
		v[i].dst.addr[1] = (uint8_t)(i >> 16);
		v[i].dst.addr[2] = (uint8_t)(i >> 8);
		v[i].dst.addr[3] = (uint8_t)i;
		/* members own several prefixes each, next hops random */
		for (j = 0; j < MEMBER_ID_BYTES; j++)
			v[i].dest[j] = (uint8_t)((i / 3) * 7 + j);
		v[i].next_hop[0] = (uint8_t)rand();
		v[i].cost = (uint32_t)(rand() % 100);
	}
	f = fib_build(v, N, 9, NULL);
	assert_non_null(f);
	for (i = 0; i < N; i += 3) {
		uint32_t best = UINT32_MAX;

		memcpy(id, v[i].dest, sizeof(id));
		for (j = 0; j < N; j++)
			if (memcmp(v[j].dest, id, sizeof(id)) == 0 &&
			    v[j].cost < best)
				best = v[j].cost;
		assert_non_null(e = fib_lookup_member(f, id));
		assert_memory_equal(e->dest, id, sizeof(id));
		assert_int_equal(e->cost, best);
		id[0] ^= 0x80;
		id[5] ^= 0x55;
		e = fib_lookup_member(f, id);
		if (e != NULL)
			assert_memory_equal(e->dest, id, sizeof(id));
	}
	fib_free(f);
	free(v);
}

static struct peer *
mkpeer(struct linkd *ld, const char *name, const char *v4)
{
	static uint8_t sk[crypto_sign_SECRETKEYBYTES];
	struct record r;
	struct peer *p;

	memset(&r, 0, sizeof(r));
	crypto_sign_keypair(r.id, sk);
	snprintf(r.name, sizeof(r.name), "%s", name);
	assert_int_equal(prefix_parse(&r.ipv4, v4), 0);
	assert_non_null(p = peers_update(ld, &r));
	return p;
}

static void
fibent(struct fib_entry *e, const char *pfx, const struct peer *dest,
    const uint8_t *hop)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(prefix_parse(&e->dst, pfx), 0);
	memcpy(e->dest, dest->rec.id, MEMBER_ID_BYTES);
	memcpy(e->next_hop, hop, MEMBER_ID_BYTES);
	e->cost = 10;
}

static void
decide(struct linkd *ld, const char *addr, struct route *r)
{
	struct prefix a;

	assert_int_equal(prefix_parse(&a, addr), 0);
	route_decide(ld, a.family, a.addr, r);
}

/*
 * The route decision: an address to its member (longest prefix), to
 * be reached directly or through the next hop; a debug override is
 * the only thing that changes it, and clearing it restores the table.
 */
static void
test_route(void **state)
{
	static struct linkd ld;
	struct peer *a, *b, *c, stranger;
	struct fib_entry v[5];
	const uint8_t *via;
	struct route r;

	assert_true(sodium_init() >= 0);
	peers_init(&ld);
	ld.self_known = 1;
	memset(ld.self_id, 0xee, sizeof(ld.self_id));
	a = mkpeer(&ld, "a", "10.77.0.1/32");
	b = mkpeer(&ld, "b", "10.77.0.2/32");
	c = mkpeer(&ld, "c", "10.77.0.3/32");
	memset(&stranger, 0, sizeof(stranger));
	memset(stranger.rec.id, 0x99, MEMBER_ID_BYTES);
	fibent(&v[0], "10.77.0.1/32", a, a->rec.id);
	fibent(&v[1], "10.77.0.3/32", c, b->rec.id);
	fibent(&v[2], "10.77.0.0/16", c, b->rec.id);
	fibent(&v[3], "10.88.0.0/16", &stranger, b->rec.id);
	fibent(&v[4], "10.77.0.2/32", b, ld.self_id);
	assert_non_null(ld.fib = fib_build(v, 5, 1, NULL));

	decide(&ld, "10.77.0.1", &r);
	assert_int_equal(r.kind, ROUTE_DIRECT);
	assert_ptr_equal(r.dest, a);
	decide(&ld, "10.77.9.9", &r);           /* longest prefix: /16 */
	assert_int_equal(r.kind, ROUTE_DIRECT);
	assert_ptr_equal(r.dest, c);
	decide(&ld, "10.99.0.1", &r);
	assert_int_equal(r.kind, ROUTE_NONE);
	assert_null(r.dest);
	decide(&ld, "10.88.1.1", &r);
	assert_int_equal(r.kind, ROUTE_NO_MEMBER);

	/* c is reached through b until a link to c is up. */
	assert_memory_equal(route_next_hop_table(&ld, c), b->rec.id,
	    MEMBER_ID_BYTES);
	c->links_up = 1;
	assert_memory_equal(route_next_hop_table(&ld, c), c->rec.id,
	    MEMBER_ID_BYTES);
	c->links_up = 0;
	/* Never ourselves as the next hop. */
	assert_null(route_next_hop_table(&ld, b));
	assert_int_equal(route_next_hop(&ld, b->rec.id, &via), -1);
	assert_int_equal(route_next_hop(&ld, stranger.rec.id, &via), 0);
	assert_memory_equal(via, b->rec.id, MEMBER_ID_BYTES);

	/* An override sends c's frames via a, its packets end to end. */
	assert_int_equal(route_debug_set(&ld, c, a), 0);
	decide(&ld, "10.77.0.3", &r);
	assert_int_equal(r.kind, ROUTE_RELAYED);
	assert_ptr_equal(r.dest, c);
	assert_memory_equal(r.via, a->rec.id, MEMBER_ID_BYTES);
	assert_int_equal(route_next_hop(&ld, c->rec.id, &via), 0);
	assert_memory_equal(via, a->rec.id, MEMBER_ID_BYTES);
	/* ... and names a member the table has no prefix for yet. */
	fib_free(ld.fib);
	assert_non_null(ld.fib = fib_build(NULL, 0, 2, NULL));
	decide(&ld, "10.77.0.3", &r);
	assert_int_equal(r.kind, ROUTE_RELAYED);
	assert_ptr_equal(r.dest, c);
	decide(&ld, "10.77.0.1", &r);
	assert_int_equal(r.kind, ROUTE_NONE);
	assert_int_equal(route_debug_clear(&ld, c), 0);
	assert_int_equal(route_debug_clear(&ld, c), -1);
	decide(&ld, "10.77.0.3", &r);
	assert_int_equal(r.kind, ROUTE_NONE);
	assert_int_equal(route_debug_set(&ld, a, b), 0);
	assert_int_equal(route_debug_set(&ld, a, c), 0);    /* replaced */
	assert_int_equal(ld.routes.n, 1);
	route_debug_clear_all(&ld);
	assert_int_equal(ld.routes.n, 0);
	fib_free(ld.fib);
	peers_clear(&ld);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_fib_member),
		cmocka_unit_test(test_fib_member_many),
		cmocka_unit_test(test_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
