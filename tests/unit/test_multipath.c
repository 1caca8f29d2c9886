/*
 * Multipath scheduling. Sticky (TCP): every packet on the first
 * established link while it stays up, whatever the backlogs; on to the
 * next-oldest when it goes down, and no switching back. Stripe: least
 * backlog, taking turns between equals, never a link that is down.
 * Flow (Tor circuits): the flow hash reads exactly the 5-tuple (ports
 * only where the packet has them); one flow always on one path whatever
 * the backlogs; n flows over n paths take one each; a path coming up
 * moves no flow, one going down moves only its own; idle flows stop
 * counting; a flow whose table slot is taken is placed by hash, stably;
 * thousands of flows still spread evenly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/multipath.h"

static void
test_none(void **state)
{
	struct mp_sched m;
	struct mp_path a = { 0 }, b = { 0 };
	struct mp_path *v[2] = { &a, &b };

	mp_init(&m, MP_STICKY);
	assert_int_equal(mp_select(&m, v, 0, 0, 0), -1);
	assert_int_equal(mp_select(&m, v, 2, 0, 0), -1);   /* both down */
	mp_init(&m, MP_STRIPE);
	assert_int_equal(mp_select(&m, v, 2, 0, 0), -1);
	mp_init(&m, MP_FLOW);
	assert_int_equal(mp_select(&m, v, 2, 12345, 0), -1);
	assert_int_equal(mp_select(&m, v, 0, 12345, 0), -1);
	assert_int_equal(a.sent + b.sent, 0);
}

static void
test_sticky(void **state)
{
	struct mp_sched m;
	struct mp_path a = { 0 }, b = { 0 }, c = { 0 };
	struct mp_path *v[3] = { &a, &b, &c };
	int i;

	mp_init(&m, MP_STICKY);
	/* b came up first, though it is not first in the array. */
	a.up = 1;
	a.t_up = 20;
	b.up = 1;
	b.t_up = 10;
	c.up = 1;
	c.t_up = 30;
	for (i = 0; i < 100; i++) {
		/* Backlog must not move it: no reordering for TCP. */
		b.backlog = (size_t)i * 100000;
		assert_int_equal(mp_select(&m, v, 3, 0, 0), 1);
	}
	assert_int_equal(b.sent, 100);
	assert_int_equal(a.sent + c.sent, 0);

	/* b goes down: the oldest remaining (a). */
	b.up = 0;
	assert_int_equal(mp_select(&m, v, 3, 0, 0), 0);
	/* b comes back (older t_up kept): stay on a, no flapping. */
	b.up = 1;
	assert_int_equal(mp_select(&m, v, 3, 0, 0), 0);
	assert_int_equal(mp_select(&m, v, 3, 0, 0), 0);

	/* a closes and the array shifts: forget it first. */
	mp_forget(&m, &a);
	v[0] = &c;      /* now { c, b } */
	assert_int_equal(mp_select(&m, v, 2, 0, 0), 1);       /* b, older */
	assert_int_equal(mp_select(&m, v, 2, 0, 0), 1);
}

static void
test_sticky_tie(void **state)
{
	struct mp_sched m;
	struct mp_path a = { 0 }, b = { 0 };
	struct mp_path *v[2] = { &a, &b };

	mp_init(&m, MP_STICKY);
	a.up = b.up = 1;
	a.t_up = b.t_up = 5;
	assert_int_equal(mp_select(&m, v, 2, 0, 0), 0);
	/* Forgetting an unrelated path changes nothing. */
	mp_forget(&m, &b);
	assert_int_equal(mp_select(&m, v, 2, 0, 0), 0);
	/* Forgetting the current one: chosen afresh (same rule). */
	mp_forget(&m, &a);
	assert_int_equal(mp_select(&m, v, 2, 0, 0), 0);
}

static void
test_stripe(void **state)
{
	struct mp_sched m;
	struct mp_path p[4];
	struct mp_path *v[4];
	int i, count[4] = { 0 };

	memset(p, 0, sizeof(p));
	for (i = 0; i < 4; i++) {
		v[i] = &p[i];
		p[i].up = 1;
		p[i].t_up = i;
	}
	mp_init(&m, MP_STRIPE);
	/* Least backlog wins. */
	p[0].backlog = 300;
	p[1].backlog = 100;
	p[2].backlog = 200;
	p[3].backlog = 400;
	assert_int_equal(mp_select(&m, v, 4, 0, 0), 1);
	p[1].backlog = 1000;
	assert_int_equal(mp_select(&m, v, 4, 0, 0), 2);
	/* A down link is never chosen, even idle. */
	p[2].up = 0;
	p[2].backlog = 0;
	assert_int_equal(mp_select(&m, v, 4, 0, 0), 0);

	/* Equal backlogs: every up link gets its turn. */
	p[2].up = 1;
	for (i = 0; i < 4; i++)
		p[i].backlog = 0;
	for (i = 0; i < 400; i++)
		count[mp_select(&m, v, 4, 0, 0)]++;
	for (i = 0; i < 4; i++)
		assert_int_equal(count[i], 100);
}

/* An IPv4 packet: 20-byte header, then 8 bytes of ports/payload. */
static void
ip4(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = 28;
	p[8] = 64;
	p[9] = proto;
	p[12] = (uint8_t)(src >> 24);
	p[13] = (uint8_t)(src >> 16);
	p[14] = (uint8_t)(src >> 8);
	p[15] = (uint8_t)src;
	p[16] = (uint8_t)(dst >> 24);
	p[17] = (uint8_t)(dst >> 16);
	p[18] = (uint8_t)(dst >> 8);
	p[19] = (uint8_t)dst;
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
}

/* An IPv6 packet with nh, addresses ending in s and d, 16 more bytes. */
static void
ip6(uint8_t *p, uint8_t nh, uint8_t s, uint8_t d)
{
	memset(p, 0, 56);
	p[0] = 0x60;
	p[5] = 16;
	p[6] = nh;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = s;
	p[24] = 0xfd;
	p[39] = d;
}

static void
test_flow_hash(void **state)
{
	uint8_t a[64], b[64];
	uint32_t h;

	/* IPv4 TCP: the same 5-tuple gives the same hash, whatever the
	 * other header fields and the payload. */
	ip4(a, 6, 0x0a4d0001, 0x0a4d0002, 40000, 5201);
	h = mp_flow_hash(a, 28);
	assert_int_not_equal(h, 0);
	memcpy(b, a, 28);
	b[8] = 3;                       /* TTL */
	b[4] = 0x12;                    /* id */
	b[24] = 0xff;                   /* sequence number */
	assert_int_equal(mp_flow_hash(b, 28), h);
	/* Each part of the tuple counts. */
	ip4(b, 6, 0x0a4d0001, 0x0a4d0002, 40001, 5201);
	assert_int_not_equal(mp_flow_hash(b, 28), h);
	ip4(b, 6, 0x0a4d0001, 0x0a4d0002, 40000, 5202);
	assert_int_not_equal(mp_flow_hash(b, 28), h);
	ip4(b, 6, 0x0a4d0003, 0x0a4d0002, 40000, 5201);
	assert_int_not_equal(mp_flow_hash(b, 28), h);
	ip4(b, 6, 0x0a4d0001, 0x0a4d0004, 40000, 5201);
	assert_int_not_equal(mp_flow_hash(b, 28), h);
	ip4(b, 17, 0x0a4d0001, 0x0a4d0002, 40000, 5201);
	assert_int_not_equal(mp_flow_hash(b, 28), h);

	/* ICMP has no ports: the bytes after the header do not count. */
	ip4(a, 1, 0x0a4d0001, 0x0a4d0002, 1, 2);
	ip4(b, 1, 0x0a4d0001, 0x0a4d0002, 3, 4);
	assert_int_equal(mp_flow_hash(a, 28), mp_flow_hash(b, 28));
	/* Fragments: ports ignored, so every fragment of a datagram
	 * (only the first has them) stays on one path. */
	ip4(a, 17, 0x0a4d0001, 0x0a4d0002, 1, 2);
	ip4(b, 17, 0x0a4d0001, 0x0a4d0002, 3, 4);
	a[6] = b[6] = 0x20;             /* MF */
	assert_int_equal(mp_flow_hash(a, 28), mp_flow_hash(b, 28));
	b[6] = 0x00;
	b[7] = 0xb9;                    /* offset, last fragment */
	assert_int_equal(mp_flow_hash(a, 28), mp_flow_hash(b, 28));
	/* Header options: the ports are found after them. */
	ip4(a, 6, 0x0a4d0001, 0x0a4d0002, 7, 8);
	memmove(a + 24, a + 20, 8);
	memset(a + 20, 1, 4);           /* 4 bytes of NOP options */
	a[0] = 0x46;
	ip4(b, 6, 0x0a4d0001, 0x0a4d0002, 7, 9);
	memmove(b + 24, b + 20, 8);
	memset(b + 20, 1, 4);
	b[0] = 0x46;
	assert_int_not_equal(mp_flow_hash(a, 32), mp_flow_hash(b, 32));
	/* Too short to hold the ports: hashed without them. */
	assert_int_equal(mp_flow_hash(a, 25), mp_flow_hash(b, 25));

	/* Bad or short input: 0, no read past len. */
	assert_int_equal(mp_flow_hash(a, 0), 0);
	assert_int_equal(mp_flow_hash(a, 19), 0);
	a[0] = 0x4f;                    /* header longer than the packet */
	assert_int_equal(mp_flow_hash(a, 28), 0);
	a[0] = 0x44;                    /* IHL below 5 */
	assert_int_equal(mp_flow_hash(a, 28), 0);
	a[0] = 0x50;
	assert_int_equal(mp_flow_hash(a, 28), 0);

	/* IPv6 UDP: ports count; flow label and hop limit do not. */
	ip6(a, 17, 1, 2);
	ip6(b, 17, 1, 2);
	a[43] = 1;
	b[43] = 2;                      /* source port low byte */
	assert_int_not_equal(mp_flow_hash(a, 56), mp_flow_hash(b, 56));
	b[43] = 1;
	b[1] = 0x0a;                    /* flow label */
	b[7] = 1;                       /* hop limit */
	assert_int_equal(mp_flow_hash(a, 56), mp_flow_hash(b, 56));
	ip6(b, 17, 1, 3);
	b[43] = 1;
	assert_int_not_equal(mp_flow_hash(a, 56), mp_flow_hash(b, 56));
	assert_int_equal(mp_flow_hash(a, 39), 0);
	/* Hop-by-hop options first: TCP ports found behind them. */
	ip6(a, 0, 1, 2);
	ip6(b, 0, 1, 2);
	a[40] = b[40] = 6;              /* next: TCP, 8 bytes long */
	a[49] = 1;
	b[49] = 2;                      /* source port low byte */
	assert_int_not_equal(mp_flow_hash(a, 56), mp_flow_hash(b, 56));
	/* A fragment header: no ports. */
	ip6(a, 44, 1, 2);
	ip6(b, 44, 1, 2);
	a[40] = b[40] = 17;
	a[49] = 1;
	b[49] = 2;
	assert_int_equal(mp_flow_hash(a, 56), mp_flow_hash(b, 56));
	/* An extension header running past the end: no ports, no crash. */
	ip6(a, 0, 1, 2);
	a[40] = 6;
	a[41] = 200;
	assert_int_not_equal(mp_flow_hash(a, 56), 0);
}

#define NPATH 4
#define NFLOW 4000

static void
paths_up(struct mp_path *p, struct mp_path **v, int n)
{
	int i;

	memset(p, 0, sizeof(*p) * (size_t)n);
	for (i = 0; i < n; i++) {
		v[i] = &p[i];
		p[i].up = 1;
		p[i].t_up = i;
		p[i].key = 0x9e3779b9u * (uint32_t)(i + 1);
	}
}

/* Flow i: a TCP connection from source port 10000 + i. */
static uint32_t
flow_n(int i)
{
	uint8_t pkt[28];

	ip4(pkt, 6, 0x0a4d0001, 0x0a4d0002, (uint16_t)(10000 + i), 5201);
	return mp_flow_hash(pkt, sizeof(pkt));
}

static int
sel(struct mp_sched *m, struct mp_path **v, int n, int flow, double now)
{
	return mp_select(m, v, (size_t)n, flow_n(flow), now);
}

static void
test_flow_stable(void **state)
{
	static struct mp_sched m;
	struct mp_path p[NPATH];
	struct mp_path *v[NPATH];
	int i, first;

	paths_up(p, v, NPATH);
	mp_init(&m, MP_FLOW);
	first = sel(&m, v, NPATH, 7, 0);
	assert_true(first >= 0);
	for (i = 0; i < 100; i++) {
		/* Backlogs never move a flow: no reordering. */
		p[first].backlog = (size_t)i * 100000;
		assert_int_equal(sel(&m, v, NPATH, 7, i * 0.1), first);
	}
	assert_int_equal(p[first].sent, 101);
	/* Nothing up: none. */
	for (i = 0; i < NPATH; i++)
		p[i].up = 0;
	assert_int_equal(sel(&m, v, NPATH, 7, 11), -1);
}

static void
test_flow_few(void **state)
{
	static struct mp_sched m;
	struct mp_path p[NPATH];
	struct mp_path *v[NPATH];
	int i, c, seen[NPATH] = { 0 }, at[2 * NPATH];

	paths_up(p, v, NPATH);
	mp_init(&m, MP_FLOW);
	/* As many flows as circuits: one each (hashing alone would put
	 * some together). */
	for (i = 0; i < NPATH; i++) {
		at[i] = sel(&m, v, NPATH, i, 1);
		seen[at[i]]++;
	}
	for (i = 0; i < NPATH; i++)
		assert_int_equal(seen[i], 1);
	/* Twice as many: two each. */
	for (i = NPATH; i < 2 * NPATH; i++) {
		at[i] = sel(&m, v, NPATH, i, 2);
		seen[at[i]]++;
	}
	for (i = 0; i < NPATH; i++)
		assert_int_equal(seen[i], 2);
	/* And each stays where it went. */
	for (c = 0; c < 3; c++)
		for (i = 0; i < 2 * NPATH; i++)
			assert_int_equal(sel(&m, v, NPATH, i, 3 + c), at[i]);
	/* Equal flow counts: the least queued path takes the next one. */
	p[0].backlog = p[1].backlog = p[3].backlog = 1000;
	assert_int_equal(sel(&m, v, NPATH, 100, 4), 2);
}

static void
test_flow_churn(void **state)
{
	static struct mp_sched m;
	struct mp_path p[NPATH];
	struct mp_path *v[NPATH], *w[NPATH];
	int i, c, at[NPATH - 1], moved;

	paths_up(p, v, NPATH);
	p[3].up = 0;                    /* three circuits up */
	mp_init(&m, MP_FLOW);
	for (i = 0; i < NPATH - 1; i++) {
		at[i] = sel(&m, v, NPATH, i, 1);
		assert_int_not_equal(at[i], 3);
	}
	/* A fourth comes up: nothing moves, the next flow goes there. */
	p[3].up = 1;
	for (i = 0; i < NPATH - 1; i++)
		assert_int_equal(sel(&m, v, NPATH, i, 2), at[i]);
	assert_int_equal(sel(&m, v, NPATH, 50, 2), 3);

	/* at[0]'s circuit goes down: that flow moves (not onto a down
	 * one), the others stay. */
	moved = at[0];
	p[moved].up = 0;
	c = sel(&m, v, NPATH, 0, 3);
	assert_true(c >= 0 && c != moved);
	for (i = 1; i < NPATH - 1; i++)
		assert_int_equal(sel(&m, v, NPATH, i, 3), at[i]);
	assert_int_equal(sel(&m, v, NPATH, 50, 3), 3);
	/* It comes back: no flow moves back; the next new flow fills it. */
	p[moved].up = 1;
	assert_int_equal(sel(&m, v, NPATH, 0, 4), c);
	assert_int_equal(sel(&m, v, NPATH, 51, 4), moved);

	/* A link closes and the array shifts: paths are known by key, so
	 * the flows of the others stay on them. */
	w[0] = &p[3];
	w[1] = &p[1];
	w[2] = &p[2];
	for (i = 1; i < NPATH - 1; i++) {
		if (at[i] == 0)
			continue;
		c = sel(&m, w, NPATH - 1, i, 5);
		assert_ptr_equal(w[c], &p[at[i]]);
	}
	c = sel(&m, w, NPATH - 1, 50, 5);
	assert_ptr_equal(w[c], &p[3]);
}

static void
test_flow_idle(void **state)
{
	static struct mp_sched m;
	struct mp_path p[NPATH];
	struct mp_path *v[NPATH];
	int i, a, seen[NPATH] = { 0 };

	paths_up(p, v, NPATH);
	mp_init(&m, MP_FLOW);
	a = sel(&m, v, NPATH, 0, 0);
	for (i = 1; i < NPATH; i++)
		(void)sel(&m, v, NPATH, i, 0);
	/* Later every one of them is idle, so none counts: four new
	 * flows spread one per circuit again. */
	for (i = 10; i < 10 + NPATH; i++)
		seen[sel(&m, v, NPATH, i, MP_FLOW_IDLE + 1)]++;
	for (i = 0; i < NPATH; i++)
		assert_int_equal(seen[i], 1);
	/* An idle flow that comes back is still where it was. */
	assert_int_equal(sel(&m, v, NPATH, 0, MP_FLOW_IDLE + 2), a);
}

static void
test_flow_collision(void **state)
{
	static struct mp_sched m;
	struct mp_path p[NPATH];
	struct mp_path *v[NPATH];
	int i, j = -1, x, y;

	/* Two flows that share a table slot. */
	for (i = 1; i < 5000 && j < 0; i++)
		if ((flow_n(i) & (MP_FLOW_SLOTS - 1)) ==
		    (flow_n(0) & (MP_FLOW_SLOTS - 1)))
			j = i;
	assert_true(j > 0);
	paths_up(p, v, NPATH);
	mp_init(&m, MP_FLOW);
	x = sel(&m, v, NPATH, 0, 0);
	/* The slot is taken by a live flow: the second is placed by its
	 * hash, and stays there; the first is not disturbed. */
	y = sel(&m, v, NPATH, j, 1);
	assert_true(y >= 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(sel(&m, v, NPATH, j, 1 + i * 0.1), y);
		assert_int_equal(sel(&m, v, NPATH, 0, 1 + i * 0.1), x);
	}
	/* The hash never picks a path that is down. */
	p[y].up = 0;
	assert_int_not_equal(sel(&m, v, NPATH, j, 3), y);
}

static void
test_flow_spread(void **state)
{
	static struct mp_sched m;
	struct mp_path p[NPATH];
	struct mp_path *v[NPATH];
	int i, count[NPATH] = { 0 };

	paths_up(p, v, NPATH);
	mp_init(&m, MP_FLOW);
	/* Far more flows than the table holds: still even within 20 %. */
	for (i = 0; i < NFLOW; i++)
		count[sel(&m, v, NPATH, i, i * 0.001)]++;
	for (i = 0; i < NPATH; i++) {
		assert_true(count[i] > NFLOW / NPATH * 8 / 10);
		assert_true(count[i] < NFLOW / NPATH * 12 / 10);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_sticky_tie),
		cmocka_unit_test(test_stripe),
		cmocka_unit_test(test_flow_hash),
		cmocka_unit_test(test_flow_stable),
		cmocka_unit_test(test_flow_few),
		cmocka_unit_test(test_flow_churn),
		cmocka_unit_test(test_flow_idle),
		cmocka_unit_test(test_flow_collision),
		cmocka_unit_test(test_flow_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
