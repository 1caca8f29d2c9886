/*
 * Forwarding through members, the pure parts (linkd/forward.h and the
 * fib's member index):
 *  - an INNER_FORWARD payload parses only as header + exactly one whole
 *    wire frame (short, cut, trailing bytes, bad frame type refused);
 *  - the header round-trips through fwd_put_hdr;
 *  - the hop limit: a frame for us is delivered whatever its limit; a
 *    relay lowers it by one and drops at 0, so a frame sent with
 *    FWD_HOP_LIMIT in a loop is relayed FWD_HOP_LIMIT - 1 times at most;
 *  - fib_lookup_member finds each member's next hop (the cheapest of its
 *    entries), nothing for a member the table lacks, and survives
 *    tables of many members (checked against a linear search).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/fib.h"
#include "linkd/forward.h"
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
	fwd_put_hdr(out, dest, hops, conn);
	n = FWD_HDR;
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
	struct fwd_hdr h;
	size_t n;

	n = mk(buf, 0xab, 16, 0xdeadbeef, WIRE_DATA, 100, 0);
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(h.dest[0], 0xab);
	assert_int_equal(h.dest[MEMBER_ID_BYTES - 1], 0xab);
	assert_int_equal(h.hops, 16);
	assert_int_equal(h.conn, 0xdeadbeef);
	assert_int_equal(h.frame_type, WIRE_DATA);
	assert_ptr_equal(h.frame, buf + FWD_HDR);
	assert_int_equal(h.frame_len, WIRE_LEN_BYTES + 1 + 100);

	/* every cut is refused, as is one byte too many */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(fwd_parse(&h, buf, cut), -1);
	n = mk(buf, 0xab, 16, 1, WIRE_DATA, 100, 1);
	assert_int_equal(fwd_parse(&h, buf, n), -1);
	/* two frames back to back are not one */
	n = mk(buf, 0xab, 16, 1, WIRE_HS_INIT, 10, 0);
	memcpy(buf + n, buf + FWD_HDR, n - FWD_HDR);
	assert_int_equal(fwd_parse(&h, buf, n + (n - FWD_HDR)), -1);
	/* unknown frame type, length 0 */
	n = mk(buf, 0xab, 16, 1, 9, 10, 0);
	assert_int_equal(fwd_parse(&h, buf, n), -1);
	n = mk(buf, 0xab, 16, 1, WIRE_DATA, 10, 0);
	be32_put(buf + FWD_HDR, 0);
	assert_int_equal(fwd_parse(&h, buf, n), -1);
	assert_int_equal(fwd_parse(&h, NULL, 0), -1);

	/* handshake frames and the largest frame that fits */
	n = mk(buf, 1, 3, 2, WIRE_HS_RESP, 64, 0);
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(h.frame_type, WIRE_HS_RESP);
	n = mk(buf, 1, 3, 2, WIRE_DATA,
	    FWD_MAX_FRAME - WIRE_LEN_BYTES - 1, 0);
	assert_int_equal(n, FWD_HDR + FWD_MAX_FRAME);
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	n = mk(buf, 1, 3, 2, WIRE_DATA, FWD_MAX_FRAME - WIRE_LEN_BYTES, 0);
	assert_int_equal(fwd_parse(&h, buf, n), -1);
	/* and it must fit one inner payload of a link's session */
	assert_true(FWD_HDR + FWD_MAX_FRAME <= WIRE_MAX_INNER - 1);
}

static void
test_decide(void **state)
{
	uint8_t self[MEMBER_ID_BYTES], buf[256], hops = 99;
	struct fwd_hdr h;
	size_t n;
	int relays;

	memset(self, 0x11, sizeof(self));
	/* for us: delivered, even with the hop limit used up */
	n = mk(buf, 0x11, 0, 5, WIRE_DATA, 20, 0);
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_DELIVER);
	/* for someone else: one less, and dropped at the end */
	n = mk(buf, 0x22, 16, 5, WIRE_DATA, 20, 0);
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_RELAY);
	assert_int_equal(hops, 15);
	buf[MEMBER_ID_BYTES] = 2;
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_RELAY);
	assert_int_equal(hops, 1);
	buf[MEMBER_ID_BYTES] = 1;
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_HOPS_GONE);
	buf[MEMBER_ID_BYTES] = 0;
	assert_int_equal(fwd_parse(&h, buf, n), 0);
	assert_int_equal(fwd_decide(self, &h, &hops), FWD_HOPS_GONE);

	/* a loop of two relays: the frame goes round until its limit is
	 * used up, FWD_HOP_LIMIT - 1 relays in all */
	buf[MEMBER_ID_BYTES] = FWD_HOP_LIMIT;
	for (relays = 0; relays < 1000; relays++) {
		assert_int_equal(fwd_parse(&h, buf, n), 0);
		if (fwd_decide(self, &h, &hops) != FWD_RELAY)
			break;
		buf[MEMBER_ID_BYTES] = hops;
	}
	assert_int_equal(relays, FWD_HOP_LIMIT - 1);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_fib_member),
		cmocka_unit_test(test_fib_member_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
