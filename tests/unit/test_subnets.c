/*
 * Subnet routes and the gateway rule, piece by piece:
 *  - tund: the RTM_NEWROUTE/RTM_DELROUTE bytes (tun_nl_route), the route
 *    sets and the walk from installed to wanted with a fake kernel
 *    (routes.c), and the routed channel installing and removing routes
 *    as tables arrive (dispatch.c);
 *  - routed: who may take the default route (gateway.c) and whose
 *    subnets are taken at all (accept.c, accept_subnets =), on graphs
 *    built the way routed builds them;
 *  - privdrop_keepcap: a child keeps CAP_NET_ADMIN and nothing else,
 *    can still add a route (in a network namespace of its own), and in
 *    tund's sandbox cannot open another netlink family or make a TUN
 *    device. Needs root; skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/log.h"
#include "proto/privdrop.h"
#include "proto/record.h"
#include "proto/sandbox.h"
#include "routed/accept.h"
#include "routed/fib.h"
#include "routed/gateway.h"
#include "routed/graph.h"
#include "tund/tund.h"

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(prefix_parse(&p, s), 0);
	return p;
}

static void
fmt(const struct prefix *p, char *out, size_t cap)
{
	prefix_fmt(p, out, cap, 1);
}

/* tun_nl_route */

struct nl_route_view {
	struct nlmsghdr nh;
	struct rtmsg rt;
	int has_dst, has_oif;
	uint8_t dst[16];
	size_t dst_len;
	uint32_t oif;
};

/* Walk the attributes of one request as the kernel would. */
static void
nl_route_parse(const uint8_t *buf, size_t len, struct nl_route_view *v)
{
	size_t off;

	memset(v, 0, sizeof(*v));
	assert_true(len >= NLMSG_LENGTH(sizeof(struct rtmsg)));
	memcpy(&v->nh, buf, sizeof(v->nh));
	assert_int_equal(v->nh.nlmsg_len, len);
	memcpy(&v->rt, buf + NLMSG_HDRLEN, sizeof(v->rt));
	off = NLMSG_LENGTH(sizeof(struct rtmsg));
	off = NLMSG_ALIGN(off);
	while (off + sizeof(struct rtattr) <= len) {
		struct rtattr a;
		size_t n;

		memcpy(&a, buf + off, sizeof(a));
		assert_true(a.rta_len >= sizeof(a));
		assert_true(off + a.rta_len <= len);
		n = a.rta_len - RTA_LENGTH(0);
		if (a.rta_type == RTA_DST) {
			assert_true(n <= 16);
			memcpy(v->dst, buf + off + RTA_LENGTH(0), n);
			v->dst_len = n;
			v->has_dst = 1;
		} else if (a.rta_type == RTA_OIF) {
			assert_int_equal(n, 4);
			memcpy(&v->oif, buf + off + RTA_LENGTH(0), 4);
			v->has_oif = 1;
		} else
			fail_msg("unexpected attribute %u", a.rta_type);
		off += RTA_ALIGN(a.rta_len);
	}
	assert_int_equal(off, len);
}

static void
test_nl_route(void **state)
{
	uint8_t buf[256];
	struct nl_route_view v;
	struct prefix p;
	size_t len, k;
	const uint8_t v6half[16] = {0x80};

	(void)state;
	p = pfx("192.168.50.0/24");
	len = tun_nl_route(buf, sizeof(buf), 42, 7, &p, 1);
	assert_true(len > 0);
	nl_route_parse(buf, len, &v);
	assert_int_equal(v.nh.nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(v.nh.nlmsg_seq, 42);
	/* Never replace a route someone else set. */
	assert_int_equal(v.nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(v.rt.rtm_family, AF_INET);
	assert_int_equal(v.rt.rtm_dst_len, 24);
	assert_int_equal(v.rt.rtm_table, RT_TABLE_MAIN);
	assert_int_equal(v.rt.rtm_protocol, TUN_RTPROT);
	assert_int_equal(v.rt.rtm_scope, RT_SCOPE_LINK);
	assert_int_equal(v.rt.rtm_type, RTN_UNICAST);
	assert_true(v.has_dst && v.has_oif);
	assert_int_equal(v.dst_len, 4);
	assert_memory_equal(v.dst, p.addr, 4);
	assert_int_equal(v.oif, 7);

	/* A delete names the device, so only a route on it can go. */
	len = tun_nl_route(buf, sizeof(buf), 43, 7, &p, 0);
	assert_true(len > 0);
	nl_route_parse(buf, len, &v);
	assert_int_equal(v.nh.nlmsg_type, RTM_DELROUTE);
	assert_int_equal(v.nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(v.rt.rtm_scope, RT_SCOPE_NOWHERE);
	assert_int_equal(v.oif, 7);

	p = pfx("8000::/1");
	len = tun_nl_route(buf, sizeof(buf), 44, 3, &p, 1);
	assert_true(len > 0);
	nl_route_parse(buf, len, &v);
	assert_int_equal(v.rt.rtm_family, AF_INET6);
	assert_int_equal(v.rt.rtm_dst_len, 1);
	assert_int_equal(v.dst_len, 16);
	assert_memory_equal(v.dst, v6half, 16);

	/* Refused: a default route, a length past the address, no
	 * family, no device, a buffer too small at every size. */
	p = pfx("0.0.0.0/0");
	assert_int_equal(tun_nl_route(buf, sizeof(buf), 1, 7, &p, 1), 0);
	p = pfx("::/0");
	assert_int_equal(tun_nl_route(buf, sizeof(buf), 1, 7, &p, 0), 0);
	p = pfx("10.0.0.0/8");
	p.len = 33;
	assert_int_equal(tun_nl_route(buf, sizeof(buf), 1, 7, &p, 1), 0);
	p.family = 0;
	p.len = 8;
	assert_int_equal(tun_nl_route(buf, sizeof(buf), 1, 7, &p, 1), 0);
	p = pfx("10.0.0.0/8");
	assert_int_equal(tun_nl_route(buf, sizeof(buf), 1, 0, &p, 1), 0);
	len = tun_nl_route(buf, sizeof(buf), 1, 7, &p, 1);
	for (k = 0; k < len; k++)
		assert_int_equal(tun_nl_route(buf, k, 1, 7, &p, 1), 0);
}

/* route sets and the sync walk, with a fake kernel */

struct fake_kernel {
	char log[32][64];        /* "+10.0.0.0/8" / "-10.0.0.0/8" */
	int n;
	struct prefix refuse_add;   /* answer -EEXIST for this one */
	struct prefix refuse_del;   /* answer -EPERM for this one */
	struct prefix gone;         /* answer -ESRCH for this one */
};

static int
same(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	    memcmp(a->addr, b->addr, 16) == 0;
}

static int
fake_op(void *arg, const struct prefix *p, int add)
{
	struct fake_kernel *k = arg;
	char s[PREFIX_STRLEN];

	fmt(p, s, sizeof(s));
	assert_true(k->n < 32);
	snprintf(k->log[k->n++], sizeof(k->log[0]), "%c%s", add ? '+' : '-',
	    s);
	if (add && same(p, &k->refuse_add))
		return -EEXIST;
	if (!add && same(p, &k->refuse_del))
		return -EPERM;
	if (!add && same(p, &k->gone))
		return -ESRCH;
	return 0;
}

static void
set_of(struct prefix_set *s, const char *const *v, size_t n)
{
	size_t i;
	struct prefix p;

	prefix_set_clear(s);
	for (i = 0; i < n; i++) {
		p = pfx(v[i]);
		assert_int_equal(prefix_set_add(s, &p), 0);
	}
	prefix_set_sort(s);
}

static int
has(const struct prefix_set *s, const char *v)
{
	struct prefix p = pfx(v);

	return prefix_set_has(s, &p);
}

static void
test_route_sets(void **state)
{
	static const char *const w1[] = {"192.168.50.0/24", "fd50::/64",
	    "10.9.0.0/16", "192.168.50.0/24"};
	static const char *const w2[] = {"fd50::/64", "172.16.0.0/12",
	    "10.9.0.0/16"};
	struct prefix_set have, want;
	struct route_sync_stats st;
	struct fake_kernel k;
	struct prefix p;

	(void)state;
	prefix_set_init(&have);
	prefix_set_init(&want);
	memset(&k, 0, sizeof(k));

	/* route_check: what may be a route to the device. */
	p = pfx("0.0.0.0/0");
	assert_non_null(route_check(&p));
	p = pfx("192.168.50.1/24");
	assert_non_null(strstr(route_check(&p), "host bits"));
	p = pfx("192.168.50.0/24");
	assert_null(route_check(&p));
	p = pfx("128.0.0.0/1");
	assert_null(route_check(&p));
	p.family = 5;
	assert_non_null(route_check(&p));

	/* Duplicates go; sorted, v4 first. */
	set_of(&want, w1, 4);
	assert_int_equal(want.n, 3);
	assert_int_equal(want.v[0].family, 4);
	assert_int_equal(want.v[2].family, 6);

	/* Everything added, once, from nothing. */
	assert_int_equal(route_set_sync(&have, &want, fake_op, &k, &st), 0);
	assert_int_equal(st.added, 3);
	assert_int_equal(st.removed, 0);
	assert_int_equal(k.n, 3);
	assert_true(prefix_set_equal(&have, &want));

	/* The same table again: no kernel call at all. */
	k.n = 0;
	assert_int_equal(route_set_sync(&have, &want, fake_op, &k, &st), 0);
	assert_int_equal(k.n, 0);

	/* One goes, one comes, one stays; deletes before adds. The new
	 * one clashes with a route of the host (EEXIST): not installed,
	 * tried again with the next table. */
	set_of(&want, w2, 3);
	k.refuse_add = pfx("172.16.0.0/12");
	assert_int_equal(route_set_sync(&have, &want, fake_op, &k, &st), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.log[0], "-192.168.50.0/24");
	assert_string_equal(k.log[1], "+172.16.0.0/12");
	assert_int_equal(st.removed, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(have.n, 2);
	assert_false(has(&have, "172.16.0.0/12"));
	assert_false(prefix_set_equal(&have, &want));
	memset(&k.refuse_add, 0, sizeof(k.refuse_add));
	k.n = 0;
	assert_int_equal(route_set_sync(&have, &want, fake_op, &k, &st), 0);
	assert_int_equal(k.n, 1);
	assert_true(prefix_set_equal(&have, &want));

	/* To nothing: a delete the kernel refuses keeps its route (it is
	 * still there), one already gone counts as done. */
	prefix_set_clear(&want);
	k.n = 0;
	k.refuse_del = pfx("10.9.0.0/16");
	k.gone = pfx("fd50::/64");
	assert_int_equal(route_set_sync(&have, &want, fake_op, &k, &st), 0);
	assert_int_equal(st.removed, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(have.n, 1);
	assert_true(has(&have, "10.9.0.0/16"));

	prefix_set_free(&have);
	prefix_set_free(&want);
}

/* tund's routed channel: tables in, routes on the (fake) device */

static void
send_msg(struct tund *t, uint16_t type, const struct buf_w *w,
    const uint8_t *buf)
{
	struct msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.type = type;
	h.length = (uint32_t)w->len;
	assert_int_equal(msg_dispatch(tund_msgs, tund_nmsgs, D_ROUTED, t, &h,
	    buf), 0);
}

static void
send_table(struct tund *t, uint32_t gen, const char *const *v, size_t n,
    uint32_t count)
{
	struct msg_fib_begin b = {.generation = gen};
	struct msg_fib_commit c = {.generation = gen, .count = count};
	struct msg_route_entry e;
	uint8_t buf[64];
	struct buf_w w;
	size_t i;

	bw_init(&w, buf, sizeof(buf));
	msg_fib_begin_encode(&w, &b);
	send_msg(t, MSG_ROUTE_BEGIN, &w, buf);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.generation = gen;
		e.dst = pfx(v[i]);
		bw_init(&w, buf, sizeof(buf));
		msg_route_entry_encode(&w, &e);
		assert_false(w.err);
		send_msg(t, MSG_ROUTE_ENTRY, &w, buf);
	}
	bw_init(&w, buf, sizeof(buf));
	msg_fib_commit_encode(&w, &c);
	send_msg(t, MSG_ROUTE_COMMIT, &w, buf);
}

static struct fake_kernel tk;

static int
tund_fake_op(void *arg, const struct prefix *p, int add)
{
	(void)arg;
	return fake_op(&tk, p, add);
}

static void
test_tund_tables(void **state)
{
	static struct tund t;
	static const char *const t1[] = {"192.168.50.0/24", "fd50::/64",
	    "0.0.0.0/1", "128.0.0.0/1"};
	static const char *const t2[] = {"fd50::/64", "0.0.0.0/0",
	    "::/1", "8000::/1"};
	static const char *const t3[] = {"10.1.0.0/16"};

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(&tk, 0, sizeof(tk));
	t.route_op = tund_fake_op;
	strcpy(t.tun.ifname, "om-test");

	send_table(&t, 1, t1, 4, 4);
	assert_int_equal(t.route_commits, 1);
	assert_int_equal(t.rt_have.n, 4);
	assert_int_equal(tk.n, 4);
	assert_int_equal(t.route_added, 4);

	/* A default route (length 0) is never installed, even from
	 * routed; the rest of the table is. */
	tk.n = 0;
	send_table(&t, 2, t2, 4, 4);
	assert_int_equal(t.route_commits, 2);
	assert_int_equal(t.route_bad, 1);
	assert_int_equal(t.rt_have.n, 3);
	assert_false(has(&t.rt_have, "192.168.50.0/24"));
	assert_false(has(&t.rt_have, "0.0.0.0/1"));
	assert_true(has(&t.rt_have, "::/1"));
	assert_true(has(&t.rt_have, "8000::/1"));
	assert_int_equal(t.route_removed, 3);

	/* A commit whose count disagrees: refused, routes unchanged. */
	tk.n = 0;
	send_table(&t, 3, t3, 1, 2);
	assert_int_equal(t.route_commits, 2);
	assert_int_equal(tk.n, 0);
	assert_int_equal(t.rt_have.n, 3);

	/* Shutdown: nothing wanted, everything removed. */
	prefix_set_clear(&t.rt_want);
	tund_routes_apply(&t);
	assert_int_equal(t.rt_have.n, 0);

	/* Without a kernel (route_op NULL) tables are only taken. */
	t.route_op = NULL;
	tk.n = 0;
	send_table(&t, 4, t3, 1, 1);
	assert_int_equal(t.route_commits, 3);
	assert_int_equal(t.rt_want.n, 1);
	assert_int_equal(tk.n, 0);

	prefix_set_free(&t.rt_rx);
	prefix_set_free(&t.rt_want);
	prefix_set_free(&t.rt_have);
}

/* routed: the gateway rule */

#define ALICE 0xa1
#define BOB   0xb0
#define CAROL 0xc0

static void
mkid(uint8_t id[MEMBER_ID_BYTES], uint8_t tag)
{
	memset(id, tag, MEMBER_ID_BYTES);
}

static void
member(struct graph *g, const char *name, uint8_t tag, int host,
    const char *const *subnets, int n)
{
	struct record r;
	char s[64];
	int i;

	memset(&r, 0, sizeof(r));
	strcpy(r.name, name);
	mkid(r.id, tag);
	snprintf(s, sizeof(s), "10.77.0.%d", host);
	assert_int_equal(addr_parse(&r.ipv4, s), 0);
	snprintf(s, sizeof(s), "fd00::%d", host);
	assert_int_equal(addr_parse(&r.ipv6, s), 0);
	for (i = 0; i < n; i++)
		r.subnets[r.nsubnets++] = pfx(subnets[i]);
	r.serial = 1;
	assert_true(graph_member_set(g, &r) >= 0);
}

static void
link_up(struct graph *g, uint8_t tag, uint16_t n, uint32_t rtt)
{
	uint8_t id[MEMBER_ID_BYTES];

	mkid(id, tag);
	assert_true(graph_link_set(g, id, n, rtt) >= 0);
}

/* alice (us) with direct links to bob and carol at those rtts, and
 * their subnets. */
static void
three_graph(struct graph *g, const char *const *bob_sn, int nb,
    uint32_t bob_rtt, const char *const *carol_sn, int nc,
    uint32_t carol_rtt)
{
	uint8_t self[MEMBER_ID_BYTES];

	graph_init(g);
	mkid(self, ALICE);
	(void)graph_set_self(g, self, "alice");
	member(g, "alice", ALICE, 1, NULL, 0);
	member(g, "bob", BOB, 2, bob_sn, nb);
	member(g, "carol", CAROL, 3, carol_sn, nc);
	link_up(g, BOB, 1, bob_rtt);
	link_up(g, CAROL, 1, carol_rtt);
	(void)graph_shortest_paths(g);
}

/* alice (us) with direct links to bob (far) and carol (near). bob
 * announces a default for both families; carol a LAN, a default of her
 * own and a sneaky half of the IPv4 space. */
static void
gw_graph(struct graph *g)
{
	static const char *const bob_sn[] = {"0.0.0.0/0", "::/0"};
	static const char *const carol_sn[] = {"192.168.50.0/24",
	    "fd50::/64", "0.0.0.0/0", "128.0.0.0/1"};

	three_graph(g, bob_sn, 2, 9000, carol_sn, 4, 100);
}

static int
routes_has(const struct prefix_set *s, const char *v)
{
	struct prefix p = pfx(v);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (prefix_cmp(&s->v[i], &p) == 0)
			return 1;
	return 0;
}

/* alice's config as a user writes it: the mesh's ranges, the
 * subnets she accepts (a line of them) and her gateway. */
static void
alice_conf(struct conf *c, const char *accept, const char *gw)
{
	char text[512], err[256];

	snprintf(text, sizeof(text), "name = alice\nipv4 = 10.77.0.1/16\n"
	    "ipv6 = fd00::1/48\n%s%s%s%s%s", accept ? "accept_subnets = " :
	    "", accept ? accept : "", accept ? "\n" : "",
	    gw ? "gateway = " : "", gw ? gw : "");
	conf_defaults(c);
	if (conf_parse(c, "test", text, strlen(text), err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* The tables as recompute.c builds them, alice accepting carol's LAN. */
static void
build_all(struct graph *g, struct routed_fib *f, struct prefix_set *s,
    const char *gw)
{
	static struct conf c;
	struct routed_accept a;

	alice_conf(&c, "192.168.50.0/24 fd50::/64", gw);
	routed_accept_init(&a);
	(void)graph_shortest_paths(g);
	assert_int_equal(routed_accept_prepare(&a, &c, g), 0);
	assert_int_equal(routed_fib_build(f, g, &a), 0);
	assert_int_equal(routed_gateway_fib(f, g, gw), 0);
	assert_int_equal(routed_routes_build(s, g, &a), 0);
	assert_int_equal(routed_gateway_routes(s, g, gw), 0);
	routed_accept_free(&a);
}

static void
check_sorted(const struct routed_fib *f, const struct prefix_set *s)
{
	size_t i;

	for (i = 1; i < f->n; i++)
		assert_true(prefix_cmp(&f->v[i - 1].dst,
		    &f->v[i].dst) < 0);
	for (i = 1; i < s->n; i++)
		assert_true(prefix_cmp(&s->v[i - 1],
		    &s->v[i]) < 0);
}

static void
test_gateway(void **state)
{
	struct graph g;
	struct routed_fib f;
	struct prefix_set s;
	const struct routed_fib_entry *e;
	uint8_t bob[MEMBER_ID_BYTES], carol[MEMBER_ID_BYTES];
	const uint8_t out4[4] = {198, 18, 0, 2}, hi4[4] = {203, 0, 113, 9},
	    lan4[4] = {192, 168, 50, 1}, carol4[4] = {10, 77, 0, 3};
	uint8_t out6[16] = {0x20, 0x01, 0x0d, 0xb8};
	size_t i;

	(void)state;
	mkid(bob, BOB);
	mkid(carol, CAROL);
	gw_graph(&g);
	routed_fib_init(&f);
	prefix_set_init(&s);

	/* No gateway: nobody's default, nor anything shorter than /8,
	 * is routed or forwarded; carol's LAN is. */
	build_all(&g, &f, &s, NULL);
	for (i = 0; i < s.n; i++)
		assert_true(s.v[i].len >= GATEWAY_SHORT_LEN);
	for (i = 0; i < f.n; i++)
		assert_true(f.v[i].dst.len >= GATEWAY_SHORT_LEN);
	assert_int_equal(s.n, 2);
	assert_true(routes_has(&s, "192.168.50.0/24"));
	assert_true(routes_has(&s, "fd50::/64"));
	assert_null(routed_fib_lookup(&f, 4, out4));
	assert_null(routed_fib_lookup(&f, 4, hi4));
	assert_null(routed_gateway_member(&g, NULL));
	assert_null(routed_gateway_member(&g, ""));

	/* gateway = bob: the halves for both families; carol's own
	 * default and half do not count, though she is nearer. */
	build_all(&g, &f, &s, "bob");
	check_sorted(&f, &s);
	assert_int_equal(s.n, 6);
	assert_true(routes_has(&s, "0.0.0.0/1"));
	assert_true(routes_has(&s, "128.0.0.0/1"));
	assert_true(routes_has(&s, "::/1"));
	assert_true(routes_has(&s, "8000::/1"));
	assert_false(routes_has(&s, "0.0.0.0/0"));
	e = routed_fib_lookup(&f, 4, out4);
	assert_non_null(e);
	assert_int_equal(e->dst.len, 0);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);
	assert_memory_equal(e->next_hop, bob, MEMBER_ID_BYTES);
	e = routed_fib_lookup(&f, 4, hi4);
	assert_non_null(e);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);
	e = routed_fib_lookup(&f, 6, out6);
	assert_non_null(e);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);
	/* Longest prefix still wins: members' hosts and subnets go to
	 * their owners. */
	e = routed_fib_lookup(&f, 4, carol4);
	assert_non_null(e);
	assert_int_equal(e->dst.len, 32);
	assert_memory_equal(e->dest, carol, MEMBER_ID_BYTES);
	e = routed_fib_lookup(&f, 4, lan4);
	assert_non_null(e);
	assert_memory_equal(e->dest, carol, MEMBER_ID_BYTES);

	/* gateway = carol: her default and her /1 (once), and only the
	 * IPv4 halves, since she announces no ::/0. */
	build_all(&g, &f, &s, "carol");
	check_sorted(&f, &s);
	assert_true(routes_has(&s, "0.0.0.0/1"));
	assert_true(routes_has(&s, "128.0.0.0/1"));
	assert_false(routes_has(&s, "::/1"));
	assert_int_equal(s.n, 4);
	e = routed_fib_lookup(&f, 4, hi4);
	assert_non_null(e);
	assert_int_equal(e->dst.len, 1);
	assert_memory_equal(e->dest, carol, MEMBER_ID_BYTES);
	assert_null(routed_fib_lookup(&f, 6, out6));

	/* A gateway that is not reachable: no forwarding, but the routes
	 * stay, so its traffic does not leave by the host's default. */
	link_up(&g, BOB, 0, 0);
	build_all(&g, &f, &s, "bob");
	assert_null(routed_fib_lookup(&f, 4, out4));
	assert_true(routes_has(&s, "0.0.0.0/1"));
	assert_true(routes_has(&s, "8000::/1"));

	/* Unknown names, and ourselves, are no gateway. */
	build_all(&g, &f, &s, "dave");
	assert_int_equal(s.n, 2);
	assert_null(routed_gateway_member(&g, "alice"));
	build_all(&g, &f, &s, "alice");
	assert_int_equal(s.n, 2);

	prefix_set_free(&s);
	routed_fib_free(&f);
	graph_free(&g);
}

/* routed: whose subnets are taken (accept.c) */

/* bob, near, claims carol's address, a block covering alice's and
 * carol's, a documentation /24, a LAN alice accepts, a /24 and a /64 in
 * the mesh's own ranges, an IPv6 /12 alice even lists and a default. */
static void
accept_graph(struct graph *g)
{
	static const char *const bob_sn[] = {"10.77.0.3/32",
	    "203.0.113.0/24", "192.168.50.0/24", "10.77.5.0/24",
	    "fd00:0:0:1::/64", "2c00::/12", "0.0.0.0/0", "10.77.0.0/24"};

	three_graph(g, bob_sn, 8, 100, NULL, 0, 9000);
}

/* alice's config (accept_subnets, gateway), one of bob's claims and
 * the verdict on it. */
static const struct {
	const char *accept, *gw, *prefix;
	int want;
} verdicts[] = {
	{"192.168.50.0/24 2c00::/12", NULL, "10.77.0.3/32",
	    ROUTED_REFUSED_MEMBER},
	{"192.168.50.0/24 2c00::/12", NULL, "10.77.0.0/24",
	    ROUTED_REFUSED_MEMBER},
	{"192.168.50.0/24 2c00::/12", NULL, "203.0.113.0/24",
	    ROUTED_REFUSED_OUTSIDE},
	{"192.168.50.0/24 2c00::/12", NULL, "192.168.50.0/24", ROUTED_TAKEN},
	{"192.168.50.0/24 2c00::/12", NULL, "10.77.5.0/24", ROUTED_TAKEN},
	{"192.168.50.0/24 2c00::/12", NULL, "fd00:0:0:1::/64", ROUTED_TAKEN},
	/* listed, yet too short from anyone but the gateway */
	{"192.168.50.0/24 2c00::/12", NULL, "2c00::/12",
	    ROUTED_REFUSED_SHORT6},
	{"192.168.50.0/24 2c00::/12", NULL, "0.0.0.0/0", ROUTED_REFUSED_SHORT},
	/* a member's own address as a subnet covers no one else's */
	{"192.168.50.0/24 2c00::/12", NULL, "10.77.0.2/32", ROUTED_TAKEN},
	/* only partly inside an accepted prefix is outside */
	{"192.168.50.0/24 2c00::/12", NULL, "192.168.0.0/16",
	    ROUTED_REFUSED_OUTSIDE},
	/* no accept_subnets: only the mesh's ranges */
	{NULL, NULL, "192.168.50.0/24", ROUTED_REFUSED_OUTSIDE},
	{NULL, NULL, "10.77.5.0/24", ROUTED_TAKEN},
	/* gateway = bob: trusted outside the ranges and with short
	 * prefixes, never with another member's address */
	{NULL, "bob", "203.0.113.0/24", ROUTED_TAKEN},
	{NULL, "bob", "2c00::/12", ROUTED_TAKEN},
	{NULL, "bob", "0.0.0.0/0", ROUTED_TAKEN},
	{NULL, "bob", "10.77.0.3/32", ROUTED_REFUSED_MEMBER},
	/* carol as gateway makes bob no more trusted */
	{NULL, "carol", "203.0.113.0/24", ROUTED_REFUSED_OUTSIDE},
};

static void
test_accept_verdicts(void **state)
{
	static struct conf c;
	struct routed_accept a;
	struct graph g;
	struct prefix p;
	uint8_t bob[MEMBER_ID_BYTES];
	size_t i;
	int got;

	(void)state;
	mkid(bob, BOB);
	accept_graph(&g);
	routed_accept_init(&a);
	for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		alice_conf(&c, verdicts[i].accept, verdicts[i].gw);
		assert_int_equal(routed_accept_prepare(&a, &c, &g), 0);
		p = pfx(verdicts[i].prefix);
		got = routed_subnet_verdict(&a, graph_member_get(&g, bob),
		    &p);
		if (got != verdicts[i].want)
			fail_msg("%s with accept %s, gateway %s: %s, not %s",
			    verdicts[i].prefix, verdicts[i].accept ?
			    verdicts[i].accept : "-", verdicts[i].gw ?
			    verdicts[i].gw : "-", routed_refusal_name(got),
			    routed_refusal_name(verdicts[i].want));
	}
	routed_accept_free(&a);
	graph_free(&g);
}

/* The tables: bob is nearer than carol, yet carol's /32 stays hers,
 * and neither bob's copy of it nor 203.0.113.0/24 is routed. */
static void
test_accept_tables(void **state)
{
	static struct conf c;
	struct routed_accept a;
	struct routed_fib f;
	struct prefix_set s;
	struct graph g;
	const struct routed_fib_entry *e;
	uint8_t carol[MEMBER_ID_BYTES], bob[MEMBER_ID_BYTES];
	const uint8_t carol4[4] = {10, 77, 0, 3}, doc4[4] = {203, 0, 113, 9};

	(void)state;
	mkid(carol, CAROL);
	mkid(bob, BOB);
	accept_graph(&g);
	routed_fib_init(&f);
	prefix_set_init(&s);
	routed_accept_init(&a);

	/* without the rule bob would take carol's address */
	assert_int_equal(routed_fib_build(&f, &g, NULL), 0);
	e = routed_fib_lookup(&f, 4, carol4);
	assert_memory_equal(e->dest, bob, MEMBER_ID_BYTES);

	alice_conf(&c, "192.168.50.0/24", NULL);
	assert_int_equal(routed_accept_prepare(&a, &c, &g), 0);
	assert_int_equal(routed_fib_build(&f, &g, &a), 0);
	e = routed_fib_lookup(&f, 4, carol4);
	assert_non_null(e);
	assert_memory_equal(e->dest, carol, MEMBER_ID_BYTES);
	assert_null(routed_fib_lookup(&f, 4, doc4));
	assert_int_equal(routed_routes_build(&s, &g, &a), 0);
	assert_true(routes_has(&s, "192.168.50.0/24"));
	assert_true(routes_has(&s, "10.77.5.0/24"));
	assert_true(routes_has(&s, "fd00:0:0:1::/64"));
	assert_false(routes_has(&s, "203.0.113.0/24"));
	assert_false(routes_has(&s, "10.77.0.3/32"));
	assert_false(routes_has(&s, "10.77.0.0/24"));
	assert_false(routes_has(&s, "2c00::/12"));
	assert_int_equal(s.n, 3);

	/* carol unreachable: her address still goes to no one else */
	link_up(&g, CAROL, 0, 0);
	(void)graph_shortest_paths(&g);
	assert_int_equal(routed_accept_prepare(&a, &c, &g), 0);
	assert_int_equal(routed_fib_build(&f, &g, &a), 0);
	assert_null(routed_fib_lookup(&f, 4, carol4));

	routed_accept_free(&a);
	prefix_set_free(&s);
	routed_fib_free(&f);
	graph_free(&g);
}

/* Each refused (member, prefix) is told once; counted per reason. */
static void
test_refusals_once(void **state)
{
	struct routed_accept a;
	uint8_t bob[MEMBER_ID_BYTES], carol[MEMBER_ID_BYTES];
	struct prefix p = pfx("203.0.113.0/24"), q = pfx("10.77.0.3/32");

	(void)state;
	mkid(bob, BOB);
	mkid(carol, CAROL);
	routed_accept_init(&a);
	assert_int_equal(routed_refusals_note(&a.refused, bob, &p,
	    ROUTED_REFUSED_OUTSIDE), 1);
	assert_int_equal(routed_refusals_note(&a.refused, bob, &p,
	    ROUTED_REFUSED_OUTSIDE), 0);
	assert_int_equal(routed_refusals_note(&a.refused, carol, &p,
	    ROUTED_REFUSED_OUTSIDE), 1);
	assert_int_equal(routed_refusals_note(&a.refused, bob, &q,
	    ROUTED_REFUSED_MEMBER), 1);
	assert_int_equal(routed_refusals_note(&a.refused, bob, &q,
	    ROUTED_REFUSED_MEMBER), 0);
	assert_int_equal(routed_refusals_total(&a.refused), 3);
	assert_int_equal(a.refused.count[ROUTED_REFUSED_OUTSIDE], 2);
	assert_int_equal(a.refused.count[ROUTED_REFUSED_MEMBER], 1);
	assert_string_equal(routed_refusal_name(ROUTED_REFUSED_MEMBER),
	    "member");
	routed_accept_free(&a);
}

/* accept_subnets = in the config file: a line of prefixes, repeated
 * lines add up, bad values named. */
static void
test_accept_conf(void **state)
{
	static struct conf c;
	static const char ok[] = "accept_subnets = 192.168.50.0/24  "
	    "fd50::/64\naccept_subnets = 198.51.100.0/24\n";
	char err[256], out[4096];
	struct prefix w;
	const char *bad[] = {
	    "accept_subnets = 192.168.50.1/24\n",
	    "accept_subnets = 192.168.50.0/24 nonsense\n",
	    "accept_subnets =\n",
	    "accept_subnets = 10.0.0.0/8 10.0.0.0/8\n",
	};
	const char *want[] = {"192.168.50.0/24", "nonsense", "empty",
	    "twice"};
	size_t i;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t", ok, strlen(ok), err,
	    sizeof(err)), 0);
	assert_int_equal(c.naccept_subnets, 3);
	w = pfx("fd50::/64");
	assert_true(prefix_equal(&c.accept_subnets[1], &w));
	w = pfx("198.51.100.0/24");
	assert_true(prefix_equal(&c.accept_subnets[2], &w));
	assert_true(conf_format(&c, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "accept_subnets = fd50::/64"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_defaults(&c);
		assert_int_equal(conf_parse(&c, "t", bad[i], strlen(bad[i]),
		    err, sizeof(err)), -1);
		if (strstr(err, want[i]) == NULL)
			fail_msg("%s: %s lacks %s", bad[i], err, want[i]);
	}
}

/* privdrop_keepcap, in children */

enum {
	C_OK = 0,
	C_UNSHARE = 20,
	C_LOUP,
	C_DROP,
	C_CAPS,
	C_ROOT,
	C_ROUTE,
	C_SANDBOX,
	C_NETFILTER,
	C_NOEPERM,
	C_UID,
};

static int
child_netns_lo(int *fd)
{
	struct tun_dev lo;
	uint8_t req[128];
	char err[256];
	size_t len;

	if (unshare(CLONE_NEWNET) == -1)
		return C_UNSHARE;
	if ((*fd = tun_nl_open(err, sizeof(err))) == -1)
		return C_LOUP;
	memset(&lo, 0, sizeof(lo));
	lo.ifindex = (int)if_nametoindex("lo");
	len = tun_nl_setlink(req, sizeof(req), 1, lo.ifindex, 0, 1);
	if (len == 0 || send(*fd, req, len, 0) != (ssize_t)len)
		return C_LOUP;
	return C_OK;
}

static int
child_route_add(int fd, const char *p)
{
	struct tun_dev lo;
	struct prefix q = pfx(p);

	memset(&lo, 0, sizeof(lo));
	lo.ifindex = (int)if_nametoindex("lo");
	return tun_route(fd, &lo, &q, 1);
}

static int
child_keepcap(int sandbox)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	int fd, rc, s;

	log_init("test", LOG_LVL_WARN, 0);
	if ((rc = child_netns_lo(&fd)) != C_OK)
		return rc;
	if (privdrop_keepcap(65534, 65534, CAP_NET_ADMIN) == -1)
		return C_DROP;
	if (getuid() != 65534 || geteuid() != 65534)
		return C_UID;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d) == -1 ||
	    d[0].effective != (1u << CAP_NET_ADMIN) ||
	    d[0].permitted != (1u << CAP_NET_ADMIN) || d[0].inheritable ||
	    d[1].effective || d[1].permitted || d[1].inheritable ||
	    prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN, 0,
	    0) != 0)
		return C_CAPS;
	if (setuid(0) != -1 || seteuid(0) != -1)
		return C_ROOT;
	if (sandbox && sandbox_enter(D_TUND) == -1)
		return C_SANDBOX;
	if (child_route_add(fd, "192.0.2.0/24") != 0)
		return C_ROUTE;
	if (sandbox) {
		/* Another netlink family: quiet EACCES. */
		s = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
		if (s != -1 || errno != EACCES)
			return C_NETFILTER;
	}
	return C_OK;
}

static int
child_plain_drop(void)
{
	int fd, rc;

	log_init("test", LOG_LVL_WARN, 0);
	if ((rc = child_netns_lo(&fd)) != C_OK)
		return rc;
	if (privdrop(65534, 65534) == -1)
		return C_DROP;
	if (child_route_add(fd, "192.0.2.0/24") != -EPERM)
		return C_NOEPERM;
	return C_OK;
}

/* In tund's sandbox, with CAP_NET_ADMIN: making a TUN device kills. */
static int
child_tunsetiff(void)
{
	struct ifreq ifr;
	int fd, rc;

	log_init("test", LOG_LVL_WARN, 0);
	if ((rc = child_netns_lo(&fd)) != C_OK)
		return rc;
	if (privdrop_keepcap(65534, 65534, CAP_NET_ADMIN) == -1)
		return C_DROP;
	if (sandbox_enter(D_TUND) == -1)
		return C_SANDBOX;
	fd = open("/dev/net/tun", O_RDWR);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strcpy(ifr.ifr_name, "om-evil");
	(void)ioctl(fd, TUNSETIFF, &ifr);
	return C_OK; /* should not get here */
}

static int
run_child(int (*fn)(int), int arg, int *sig)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	*sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
plain_drop_fn(int arg)
{
	(void)arg;
	return child_plain_drop();
}

static int
tunsetiff_fn(int arg)
{
	(void)arg;
	return child_tunsetiff();
}

static void
test_keepcap(void **state)
{
	int rc, sig;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	/* Errors a caller can see without forking. */
	errno = 0;
	assert_int_equal(privdrop_keepcap(65534, 65534, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(privdrop_keepcap(65534, 65534, CAP_LAST_CAP + 1),
	    -1);

	rc = run_child(child_keepcap, 0, &sig);
	if (rc != C_OK)
		fail_msg("keepcap child: exit %d signal %d", rc, sig);
	rc = run_child(child_keepcap, 1, &sig);
	if (rc != C_OK)
		fail_msg("keepcap child in tund's sandbox: exit %d signal %d",
		    rc, sig);
	/* privdrop() keeps nothing: the same route is refused. */
	rc = run_child(plain_drop_fn, 0, &sig);
	if (rc != C_OK)
		fail_msg("plain privdrop child: exit %d signal %d", rc, sig);
	rc = run_child(tunsetiff_fn, 0, &sig);
	if (sig != SIGSYS)
		fail_msg("TUNSETIFF in tund's sandbox: exit %d signal %d "
		    "(want SIGSYS)", rc, sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nl_route),
		cmocka_unit_test(test_route_sets),
		cmocka_unit_test(test_tund_tables),
		cmocka_unit_test(test_gateway),
		cmocka_unit_test(test_accept_verdicts),
		cmocka_unit_test(test_accept_tables),
		cmocka_unit_test(test_refusals_once),
		cmocka_unit_test(test_accept_conf),
		cmocka_unit_test(test_keepcap),
	};

	log_init("test_subnets", LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
