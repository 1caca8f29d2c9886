/*
 * tund without a TUN device: the message length checks, the rtnetlink
 * requests byte by byte and the parsing of the kernel's answers, the
 * routed and ctl handlers, and the data path itself, driven through a
 * SOCK_SEQPACKET socketpair standing in for the TUN fd (it keeps message
 * boundaries as the device does), so forwarding, drops and backpressure
 * are checked without root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "proto/log.h"
#include "tund/tun.h"
#include "tund/tund.h"

/* A message: zero vnet header + an IP header of the given version whose
 * length fields say iplen. */
static size_t
mkpkt(uint8_t *m, size_t cap, int version, size_t iplen, uint8_t tag)
{
	size_t len = TUN_VNET_HDR_LEN + iplen;

	assert_true(len <= cap);
	memset(m, tag, len);
	memset(m, 0, TUN_VNET_HDR_LEN);
	if (version == 4) {
		m[10] = 0x45;
		m[12] = (uint8_t)(iplen >> 8);
		m[13] = (uint8_t)iplen;
	} else {
		m[10] = 0x60;
		m[14] = (uint8_t)((iplen - 40) >> 8);
		m[15] = (uint8_t)(iplen - 40);
	}
	return len;
}

static void
test_msg_check(void **state)
{
	static uint8_t m[TUN_MSG_MAX + 16];
	const char *why = NULL;
	size_t n;

	n = mkpkt(m, sizeof(m), 4, 20, 0);
	assert_int_equal(n, TUN_MSG_MIN);
	assert_int_equal(tun_msg_check(m, n, &why), 4);
	assert_int_equal(tun_msg_check(m, n - 1, &why), -1);
	assert_non_null(why);
	assert_int_equal(tun_msg_check(m, 0, &why), -1);

	n = mkpkt(m, sizeof(m), 4, 1500, 0xaa);
	assert_int_equal(tun_msg_check(m, n, &why), 4);
	/* Trailing padding past tot_len is fine; a cut packet is not. */
	assert_int_equal(tun_msg_check(m, n + 3, &why), 4);
	assert_int_equal(tun_msg_check(m, n - 1, &why), -1);
	m[10] = 0x44; /* ihl 16 bytes */
	assert_int_equal(tun_msg_check(m, n, &why), -1);
	m[10] = 0x4f; /* ihl 60 bytes: fine */
	assert_int_equal(tun_msg_check(m, n, &why), 4);

	n = mkpkt(m, sizeof(m), 6, 40, 0);
	assert_int_equal(tun_msg_check(m, n, &why), 6);
	n = mkpkt(m, sizeof(m), 6, 65535, 0x11);
	assert_int_equal(tun_msg_check(m, n, &why), 6);
	assert_int_equal(tun_msg_check(m, n - 1, &why), -1);
	/* An IPv6 header cut short (30 IP bytes pass the v4 minimum). */
	n = mkpkt(m, sizeof(m), 6, 40, 0);
	assert_int_equal(tun_msg_check(m, TUN_VNET_HDR_LEN + 30, &why), -1);

	n = mkpkt(m, sizeof(m), 4, 100, 0);
	m[10] = 0x55;
	assert_int_equal(tun_msg_check(m, n, &why), -1);
	assert_non_null(strstr(why, "version"));
	m[10] = 0x05;
	assert_int_equal(tun_msg_check(m, n, &why), -1);

	/* Longer than any superpacket, whatever the header says. */
	n = mkpkt(m, sizeof(m), 6, 40, 0);
	assert_int_equal(tun_msg_check(m, TUN_MSG_MAX, &why), 6);
	assert_int_equal(tun_msg_check(m, TUN_MSG_MAX + 1, &why), -1);
}

/* Walk the attributes after the fixed part; returns the payload of the
 * one with type `type` and its length in *alen, NULL if absent. Also
 * checks every attribute lies inside the message. */
static const uint8_t *
find_attr(const uint8_t *buf, size_t len, size_t fixed, uint16_t type,
    size_t *alen)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
	const uint8_t *found = NULL;

	while (off < len) {
		struct rtattr rta;

		assert_true(len - off >= sizeof(rta));
		memcpy(&rta, buf + off, sizeof(rta));
		assert_true(rta.rta_len >= sizeof(rta));
		assert_true(rta.rta_len <= len - off);
		if (rta.rta_type == type) {
			assert_null(found);
			found = buf + off + RTA_LENGTH(0);
			*alen = rta.rta_len - RTA_LENGTH(0);
		}
		off += RTA_ALIGN(rta.rta_len);
	}
	assert_int_equal(off, len);
	return found;
}

static void
test_nl_newaddr_v4(void **state)
{
	uint8_t buf[256];
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	struct prefix p;
	const uint8_t *a;
	size_t len, alen = 0;
	uint8_t want[4] = {10, 99, 0, 1};

	assert_int_equal(prefix_parse(&p, "10.99.0.1/24"), 0);
	len = tun_nl_newaddr(buf, sizeof(buf), 7, 42, &p);
	assert_true(len > 0);
	memcpy(&nh, buf, sizeof(nh));
	assert_int_equal(nh.nlmsg_len, len);
	assert_int_equal(nh.nlmsg_type, RTM_NEWADDR);
	assert_int_equal(nh.nlmsg_seq, 7);
	assert_int_equal(nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_REPLACE);
	memcpy(&ifa, buf + NLMSG_HDRLEN, sizeof(ifa));
	assert_int_equal(ifa.ifa_family, AF_INET);
	assert_int_equal(ifa.ifa_prefixlen, 24);
	assert_int_equal(ifa.ifa_index, 42);
	assert_int_equal(ifa.ifa_flags, 0);
	a = find_attr(buf, len, sizeof(ifa), IFA_LOCAL, &alen);
	assert_non_null(a);
	assert_int_equal(alen, 4);
	assert_memory_equal(a, want, 4);
	a = find_attr(buf, len, sizeof(ifa), IFA_ADDRESS, &alen);
	assert_non_null(a);
	assert_memory_equal(a, want, 4);
	assert_null(find_attr(buf, len, sizeof(ifa), IFA_FLAGS, &alen));

	/* Every buffer too small is refused, none overrun. */
	for (size_t cap = 0; cap < len; cap++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(tun_nl_newaddr(buf, cap, 7, 42, &p), 0);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xee);
	}
	p.len = 33;
	assert_int_equal(tun_nl_newaddr(buf, sizeof(buf), 7, 42, &p), 0);
	p.len = 24;
	assert_int_equal(tun_nl_newaddr(buf, sizeof(buf), 7, 0, &p), 0);
	p.family = 0;
	assert_int_equal(tun_nl_newaddr(buf, sizeof(buf), 7, 42, &p), 0);
}

static void
test_nl_newaddr_v6(void **state)
{
	uint8_t buf[256];
	struct ifaddrmsg ifa;
	struct prefix p;
	const uint8_t *a;
	uint32_t flags;
	size_t len, alen = 0;

	assert_int_equal(prefix_parse(&p, "fd00:99::1/64"), 0);
	len = tun_nl_newaddr(buf, sizeof(buf), 9, 3, &p);
	assert_true(len > 0);
	memcpy(&ifa, buf + NLMSG_HDRLEN, sizeof(ifa));
	assert_int_equal(ifa.ifa_family, AF_INET6);
	assert_int_equal(ifa.ifa_prefixlen, 64);
	assert_int_equal(ifa.ifa_flags, IFA_F_NODAD);
	a = find_attr(buf, len, sizeof(ifa), IFA_LOCAL, &alen);
	assert_non_null(a);
	assert_int_equal(alen, 16);
	assert_memory_equal(a, p.addr, 16);
	a = find_attr(buf, len, sizeof(ifa), IFA_FLAGS, &alen);
	assert_non_null(a);
	assert_int_equal(alen, 4);
	memcpy(&flags, a, 4);
	assert_true(flags & IFA_F_NODAD);
	p.len = 129;
	assert_int_equal(tun_nl_newaddr(buf, sizeof(buf), 9, 3, &p), 0);
}

static void
test_nl_setlink(void **state)
{
	uint8_t buf[128];
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	const uint8_t *a;
	uint32_t mtu;
	size_t len, alen = 0;

	len = tun_nl_setlink(buf, sizeof(buf), 5, 12, 1400, 0);
	assert_true(len > 0);
	memcpy(&nh, buf, sizeof(nh));
	assert_int_equal(nh.nlmsg_len, len);
	assert_int_equal(nh.nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	memcpy(&ifi, buf + NLMSG_HDRLEN, sizeof(ifi));
	assert_int_equal(ifi.ifi_index, 12);
	assert_int_equal(ifi.ifi_change, 0);
	a = find_attr(buf, len, sizeof(ifi), IFLA_MTU, &alen);
	assert_non_null(a);
	assert_int_equal(alen, 4);
	memcpy(&mtu, a, 4);
	assert_int_equal(mtu, 1400);

	len = tun_nl_setlink(buf, sizeof(buf), 6, 12, 0, 1);
	assert_true(len > 0);
	memcpy(&ifi, buf + NLMSG_HDRLEN, sizeof(ifi));
	assert_int_equal(ifi.ifi_flags & IFF_UP, IFF_UP);
	assert_int_equal(ifi.ifi_change, IFF_UP);
	assert_null(find_attr(buf, len, sizeof(ifi), IFLA_MTU, &alen));
	assert_int_equal(tun_nl_setlink(buf, NLMSG_HDRLEN, 6, 12, 0, 1), 0);
	assert_int_equal(tun_nl_setlink(buf, sizeof(buf), 6, -1, 0, 1), 0);
}

/* Append an NLMSG_ERROR answer to buf at *off. */
static void
put_ack(uint8_t *buf, size_t *off, uint32_t seq, int error)
{
	struct nlmsghdr nh;
	struct nlmsgerr e;

	memset(&nh, 0, sizeof(nh));
	memset(&e, 0, sizeof(e));
	nh.nlmsg_len = NLMSG_LENGTH(sizeof(e));
	nh.nlmsg_type = NLMSG_ERROR;
	nh.nlmsg_seq = seq;
	e.error = error;
	memcpy(buf + *off, &nh, sizeof(nh));
	memcpy(buf + *off + NLMSG_HDRLEN, &e, sizeof(e));
	*off += NLMSG_ALIGN(nh.nlmsg_len);
}

static void
test_nl_ack(void **state)
{
	uint8_t buf[512];
	struct nlmsghdr nh;
	size_t len;

	len = 0;
	put_ack(buf, &len, 3, 0);
	assert_int_equal(tun_nl_ack(buf, len, 3), 0);
	assert_int_equal(tun_nl_ack(buf, len, 4), 1);
	/* Cut anywhere: never read past the end, never a false ack. */
	for (size_t n = 1; n < len; n++)
		assert_int_equal(tun_nl_ack(buf, n, 3), -EBADMSG);

	len = 0;
	put_ack(buf, &len, 3, -EEXIST);
	assert_int_equal(tun_nl_ack(buf, len, 3), -EEXIST);
	len = 0;
	put_ack(buf, &len, 3, 5); /* positive: not a kernel answer */
	assert_int_equal(tun_nl_ack(buf, len, 3), -EBADMSG);

	/* An answer to an older request first, then ours. */
	len = 0;
	put_ack(buf, &len, 1, -EPERM);
	put_ack(buf, &len, 2, -ENODEV);
	assert_int_equal(tun_nl_ack(buf, len, 2), -ENODEV);
	assert_int_equal(tun_nl_ack(buf, len, 1), -EPERM);
	assert_int_equal(tun_nl_ack(buf, len, 9), 1);

	/* An NLMSG_ERROR too short to hold its error code. */
	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = NLMSG_HDRLEN + 2;
	nh.nlmsg_type = NLMSG_ERROR;
	nh.nlmsg_seq = 3;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &nh, sizeof(nh));
	assert_int_equal(tun_nl_ack(buf, NLMSG_ALIGN(nh.nlmsg_len), 3),
	    -EBADMSG);
	/* A length field pointing past the datagram. */
	nh.nlmsg_len = 4000;
	memcpy(buf, &nh, sizeof(nh));
	assert_int_equal(tun_nl_ack(buf, 64, 3), -EBADMSG);
	nh.nlmsg_len = 3;
	memcpy(buf, &nh, sizeof(nh));
	assert_int_equal(tun_nl_ack(buf, 64, 3), -EBADMSG);
}

static void
test_offloads_ifname(void **state)
{
	char s[96], tiny[6];

	tun_offloads_fmt(TUN_OFF_CSUM | TUN_OFF_TSO4 | TUN_OFF_TSO6 |
	    TUN_OFF_TSO_ECN | TUN_OFF_USO4 | TUN_OFF_USO6, s, sizeof(s));
	assert_string_equal(s, "csum tso4 tso6 tso_ecn uso4 uso6");
	tun_offloads_fmt(TUN_OFF_CSUM | TUN_OFF_TSO6, s, sizeof(s));
	assert_string_equal(s, "csum tso6");
	tun_offloads_fmt(0, s, sizeof(s));
	assert_string_equal(s, "none");
	memset(tiny, 'x', sizeof(tiny));
	tun_offloads_fmt(TUN_OFF_CSUM | TUN_OFF_TSO4, tiny, sizeof(tiny));
	assert_string_equal(tiny, "csum");

	assert_true(tun_ifname_valid("om-default"));
	assert_true(tun_ifname_valid("a"));
	assert_true(tun_ifname_valid("123456789012345"));
	assert_false(tun_ifname_valid("1234567890123456"));
	assert_false(tun_ifname_valid(""));
	assert_false(tun_ifname_valid("."));
	assert_false(tun_ifname_valid(".."));
	assert_false(tun_ifname_valid("a/b"));
	assert_false(tun_ifname_valid("a b"));
	assert_false(tun_ifname_valid("a:1"));
}

/* A message from routed, as ipc.c hands it over: through tund's table.
 * Returns what msg_dispatch does (-1: no row for it). */
static int
route_msg(struct tund *t, const struct msg_hdr *h, const uint8_t *buf)
{
	return msg_dispatch(tund_msgs, tund_nmsgs, D_ROUTED, t, h, buf);
}

/* A ctl request, as ipc.c's door answers it: an unknown command and a
 * change from a reader never reach a handler. NULL when refused at the
 * door. */
static json_t *
ctl_req(struct tund *t, json_t *req, int may_change)
{
	const struct ctl_cmd *c;

	c = ctl_cmd_find(tund_ctl_cmds, tund_nctl_cmds,
	    json_string_value(json_object_get(req, "cmd")));
	if (c == NULL || (!may_change && ctl_cmd_changes(c, req)))
		return NULL;
	return c->fn(t, req);
}

static void
test_dispatch_routes(void **state)
{
	static struct tund t;
	struct msg_hdr h;
	struct msg_fib_begin b = {.generation = 5};
	struct msg_fib_commit c = {.generation = 5, .count = 2};
	struct msg_route_entry e;
	uint8_t buf[64];
	struct buf_w w;

	memset(&t, 0, sizeof(t));
	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;

	bw_init(&w, buf, sizeof(buf));
	msg_fib_begin_encode(&w, &b);
	h.type = MSG_ROUTE_BEGIN;
	h.length = (uint32_t)w.len;
	route_msg(&t, &h, buf);
	assert_int_equal(t.route_gen, 5);
	assert_int_equal(t.route_begins, 1);

	memset(&e, 0, sizeof(e));
	e.generation = 5;
	assert_int_equal(prefix_parse(&e.dst, "10.99.0.0/24"), 0);
	for (int i = 0; i < 2; i++) {
		bw_init(&w, buf, sizeof(buf));
		msg_route_entry_encode(&w, &e);
		assert_false(w.err);
		h.type = MSG_ROUTE_ENTRY;
		h.length = (uint32_t)w.len;
		route_msg(&t, &h, buf);
	}
	assert_int_equal(t.route_entries, 2);

	/* An entry of another generation is not counted in this one. */
	e.generation = 4;
	bw_init(&w, buf, sizeof(buf));
	msg_route_entry_encode(&w, &e);
	h.length = (uint32_t)w.len;
	route_msg(&t, &h, buf);
	assert_int_equal(t.route_entries, 2);
	assert_int_equal(t.route_bad, 1);
	/* Truncated payload: refused by the decoder. */
	h.length -= 1;
	route_msg(&t, &h, buf);
	assert_int_equal(t.route_bad, 2);

	bw_init(&w, buf, sizeof(buf));
	msg_fib_commit_encode(&w, &c);
	h.type = MSG_ROUTE_COMMIT;
	h.length = (uint32_t)w.len;
	route_msg(&t, &h, buf);
	assert_int_equal(t.route_commits, 1);
	assert_int_equal(t.routes, 2);

	/* A commit whose count disagrees is refused. */
	c.count = 3;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_commit_encode(&w, &c);
	route_msg(&t, &h, buf);
	assert_int_equal(t.route_commits, 1);
	assert_int_equal(t.route_bad, 3);

	/* A message tund has no row for (the catalogue refuses it from
	 * routed before this): not taken, nothing counted. */
	h.type = MSG_RECORD;
	assert_int_equal(route_msg(&t, &h, buf), -1);
	assert_int_equal(t.route_bad, 3);
	assert_int_equal(t.route_commits, 1);
}

static void
test_ctl(void **state)
{
	static struct tund t;
	json_t *req, *r;

	memset(&t, 0, sizeof(t));
	t.dp.cfd = -1;
	strcpy(t.tun.ifname, "om-test");
	t.tun.offloads = TUN_OFF_CSUM | TUN_OFF_TSO4;
	t.d.conf.mtu = 1400;
	assert_int_equal(prefix_parse(&t.d.conf.ipv4, "10.99.0.1/24"), 0);
	t.dp.st.rx_packets = 7;
	t.dp.st.drop_nolink = 2;
	t.dp.st.drop_bad = 1;
	t.up = 1;

	req = json_pack("{s:s}", "cmd", "status");
	r = ctl_req(&t, req, 0);
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "daemon")),
	    "tund");
	assert_int_equal(json_integer_value(json_object_get(r, "pid")),
	    getpid());
	assert_string_equal(json_string_value(json_object_get(r, "ifname")),
	    "om-test");
	assert_int_equal(json_integer_value(json_object_get(r, "mtu")), 1400);
	assert_string_equal(json_string_value(json_object_get(r, "ipv4")),
	    "10.99.0.1/24");
	assert_true(json_is_null(json_object_get(r, "ipv6")));
	assert_int_equal(json_array_size(json_object_get(r, "addresses")), 1);
	assert_string_equal(json_string_value(json_object_get(r,
	    "offloads")), "csum tso4");
	assert_int_equal(json_integer_value(json_object_get(r,
	    "rx_packets")), 7);
	assert_int_equal(json_integer_value(json_object_get(r, "drops")), 3);
	assert_true(json_is_false(json_object_get(r, "linkd")));
	json_decref(r);
	json_decref(req);

	/* Unknown commands and a level change from a reader stop at the
	 * door; reading the level does not. */
	req = json_pack("{s:s}", "cmd", "frobnicate");
	assert_null(ctl_req(&t, req, 1));
	json_decref(req);
	req = json_pack("{s:s, s:s}", "cmd", "log", "level", "debug");
	assert_null(ctl_req(&t, req, 0));
	json_decref(req);
	req = json_pack("{s:s}", "cmd", "log");
	r = ctl_req(&t, req, 0);
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	/* The daemon as it logs (log_init): "tund" in the daemon. */
	assert_string_equal(json_string_value(json_object_get(r, "daemon")),
	    log_getname());
	json_decref(r);
	json_decref(req);
}

/*
 * The data path through sockets: tunpeer is "the kernel" on the other
 * side of the fake TUN fd, client is linkd.
 */
struct dpt {
	struct datapath dp;
	struct ev_loop *loop;
	char dir[64];
	char path[108];
	int tunfd, tunpeer, client;
};

static void
dpt_spin(struct dpt *x, int rounds)
{
	for (int i = 0; i < rounds; i++)
		ev_run(x->loop, EVRUN_NOWAIT);
}

static int
dpt_connect(struct dpt *x)
{
	struct sockaddr_un sun;
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, x->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	dpt_spin(x, 3);
	return fd;
}

static int
dpt_setup(void **state)
{
	struct dpt *x = calloc(1, sizeof(*x));
	int sv[2];
	char err[256];

	assert_non_null(x);
	strcpy(x->dir, "/tmp/test_tun.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/tund.data", x->dir);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK,
	    0, sv), 0);
	x->tunfd = sv[0];
	x->tunpeer = sv[1];
	x->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(x->loop);
	if (datapath_listen(&x->dp, x->path, getuid(), getgid(), err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(datapath_start(&x->dp, x->loop, x->tunfd, getuid()),
	    0);
	x->client = -1;
	*state = x;
	return 0;
}

static int
dpt_teardown(void **state)
{
	struct dpt *x = *state;

	datapath_stop(&x->dp);
	if (x->client != -1)
		close(x->client);
	close(x->tunfd);
	close(x->tunpeer);
	ev_loop_destroy(x->loop);
	assert_int_equal(access(x->path, F_OK), -1); /* removed at stop */
	rmdir(x->dir);
	free(x);
	return 0;
}

static void
test_datapath_forward(void **state)
{
	struct dpt *x = *state;
	static uint8_t m[TUN_MSG_MAX], r[TUN_MSG_MAX + 1];
	size_t n;
	ssize_t got;

	/* No linkd: read from the TUN and dropped, counted. */
	n = mkpkt(m, sizeof(m), 4, 84, 1);
	assert_int_equal(write(x->tunpeer, m, n), (ssize_t)n);
	dpt_spin(x, 2);
	assert_int_equal(x->dp.st.rx_packets, 1);
	assert_int_equal(x->dp.st.drop_nolink, 1);

	x->client = dpt_connect(x);
	assert_true(datapath_linkd_connected(&x->dp));
	assert_int_equal(x->dp.st.accepts, 1);

	/* TUN -> linkd, a superpacket, boundaries kept. */
	n = mkpkt(m, sizeof(m), 6, 65000, 2);
	assert_int_equal(write(x->tunpeer, m, n), (ssize_t)n);
	dpt_spin(x, 2);
	got = recv(x->client, r, sizeof(r), 0);
	assert_int_equal(got, (ssize_t)n);
	assert_memory_equal(r, m, n);
	assert_int_equal(x->dp.st.rx_bytes, 84 + 65000);

	/* linkd -> TUN. */
	n = mkpkt(m, sizeof(m), 4, 1400, 3);
	assert_int_equal(send(x->client, m, n, 0), (ssize_t)n);
	dpt_spin(x, 2);
	got = read(x->tunpeer, r, sizeof(r));
	assert_int_equal(got, (ssize_t)n);
	assert_memory_equal(r, m, n);
	assert_int_equal(x->dp.st.tx_packets, 1);
	assert_int_equal(x->dp.st.tx_bytes, 1400);

	/* Malformed from linkd: dropped, counted, the next one passes. */
	n = mkpkt(m, sizeof(m), 4, 100, 4);
	m[10] = 0x75;
	assert_int_equal(send(x->client, m, n, 0), (ssize_t)n);
	assert_int_equal(send(x->client, m, 12, 0), 12);
	n = mkpkt(m, sizeof(m), 6, 60, 5);
	assert_int_equal(send(x->client, m, n, 0), (ssize_t)n);
	dpt_spin(x, 2);
	assert_int_equal(x->dp.st.drop_bad, 2);
	got = read(x->tunpeer, r, sizeof(r));
	assert_int_equal(got, (ssize_t)n);
	assert_int_equal(read(x->tunpeer, r, sizeof(r)), -1);
	assert_int_equal(errno, EAGAIN);

	/* Oversized from linkd: seen whole (MSG_TRUNC), dropped. */
	{
		static uint8_t big[TUN_MSG_MAX + 300];

		n = mkpkt(big, sizeof(big), 6, 40, 6);
		assert_int_equal(send(x->client, big, sizeof(big), 0),
		    (ssize_t)sizeof(big));
		dpt_spin(x, 2);
		assert_int_equal(x->dp.st.drop_bad, 3);
		assert_int_equal(read(x->tunpeer, r, sizeof(r)), -1);
	}

	/* A second linkd replaces the first. */
	{
		int old = x->client;
		char c;

		x->client = dpt_connect(x);
		assert_int_equal(x->dp.st.accepts, 2);
		assert_int_equal(recv(old, &c, 1, MSG_DONTWAIT), 0); /* EOF */
		close(old);
		n = mkpkt(m, sizeof(m), 4, 200, 7);
		assert_int_equal(write(x->tunpeer, m, n), (ssize_t)n);
		dpt_spin(x, 2);
		assert_int_equal(recv(x->client, r, sizeof(r), MSG_DONTWAIT),
		    (ssize_t)n);
	}

	/* linkd goes away: back to dropping. */
	close(x->client);
	x->client = -1;
	dpt_spin(x, 2);
	assert_false(datapath_linkd_connected(&x->dp));
	n = mkpkt(m, sizeof(m), 4, 84, 8);
	assert_int_equal(write(x->tunpeer, m, n), (ssize_t)n);
	dpt_spin(x, 2);
	assert_int_equal(x->dp.st.drop_nolink, 2);
	assert_int_equal(x->dp.st.drop_link, 0);
}

/*
 * Backpressure, both ways: the sink stops reading, the source keeps
 * writing; nothing may be dropped, everything arrives in order once the
 * sink reads again.
 */
static void
test_datapath_backpressure(void **state)
{
	struct dpt *x = *state;
	static uint8_t m[TUN_MSG_MAX], r[TUN_MSG_MAX + 1];
	uint32_t sent = 0, recvd = 0, seq;
	size_t n;
	ssize_t got;
	int i;

	x->client = dpt_connect(x);

	/* TUN -> linkd while linkd does not read. */
	for (i = 0; i < 4000 && x->dp.st.stall_link == 0; i++) {
		n = mkpkt(m, sizeof(m), 4, 60000, 0);
		memcpy(m + 40, &sent, sizeof(sent));
		if (write(x->tunpeer, m, n) == (ssize_t)n)
			sent++;
		else
			assert_int_equal(errno, EAGAIN);
		dpt_spin(x, 1);
	}
	assert_true(x->dp.st.stall_link > 0);
	/* Keep the producer going a little while stalled. */
	for (i = 0; i < 8; i++) {
		n = mkpkt(m, sizeof(m), 4, 60000, 0);
		memcpy(m + 40, &sent, sizeof(sent));
		if (write(x->tunpeer, m, n) == (ssize_t)n)
			sent++;
		dpt_spin(x, 1);
	}
	for (i = 0; i < 100000 && recvd < sent; i++) {
		got = recv(x->client, r, sizeof(r), MSG_DONTWAIT);
		if (got == -1) {
			assert_int_equal(errno, EAGAIN);
			dpt_spin(x, 1);
			continue;
		}
		assert_int_equal(got, (ssize_t)n);
		memcpy(&seq, r + 40, sizeof(seq));
		assert_int_equal(seq, recvd);
		recvd++;
	}
	assert_int_equal(recvd, sent);
	assert_int_equal(x->dp.st.drop_nolink + x->dp.st.drop_link +
	    x->dp.st.drop_bad, 0);

	/* linkd -> TUN while the TUN side does not read. */
	sent = recvd = 0;
	for (i = 0; i < 4000 && x->dp.st.stall_tun == 0; i++) {
		n = mkpkt(m, sizeof(m), 6, 50000, 0);
		memcpy(m + 60, &sent, sizeof(sent));
		if (send(x->client, m, n, MSG_DONTWAIT) == (ssize_t)n)
			sent++;
		else
			assert_int_equal(errno, EAGAIN);
		dpt_spin(x, 1);
	}
	assert_true(x->dp.st.stall_tun > 0);
	for (i = 0; i < 100000 && recvd < sent; i++) {
		got = read(x->tunpeer, r, sizeof(r));
		if (got == -1) {
			assert_int_equal(errno, EAGAIN);
			dpt_spin(x, 1);
			continue;
		}
		assert_int_equal(got, (ssize_t)n);
		memcpy(&seq, r + 60, sizeof(seq));
		assert_int_equal(seq, recvd);
		recvd++;
	}
	assert_int_equal(recvd, sent);
	assert_int_equal(x->dp.st.drop_tun + x->dp.st.drop_bad, 0);
}

/* A connection from a uid other than linkd's is refused. */
static void
test_datapath_uid(void **state)
{
	struct dpt *x = *state;
	char c;
	int fd;

	x->dp.linkd_uid = getuid() + 1;
	fd = dpt_connect(x);
	assert_int_equal(x->dp.st.refused, 1);
	assert_false(datapath_linkd_connected(&x->dp));
	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_check),
		cmocka_unit_test(test_nl_newaddr_v4),
		cmocka_unit_test(test_nl_newaddr_v6),
		cmocka_unit_test(test_nl_setlink),
		cmocka_unit_test(test_nl_ack),
		cmocka_unit_test(test_offloads_ifname),
		cmocka_unit_test(test_dispatch_routes),
		cmocka_unit_test(test_ctl),
		cmocka_unit_test_setup_teardown(test_datapath_forward,
		    dpt_setup, dpt_teardown),
		cmocka_unit_test_setup_teardown(test_datapath_backpressure,
		    dpt_setup, dpt_teardown),
		cmocka_unit_test_setup_teardown(test_datapath_uid,
		    dpt_setup, dpt_teardown),
	};

	log_init("test_tun", LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
