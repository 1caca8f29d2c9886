/*
 * tund's ctl socket (ctl.tund, nng rep0, JSON). Read-only but for
 * "log" with a level (proto/logctl.h, root or tund's user only):
 * "status" reports the device (name, MTU, addresses, offloads, the
 * routes on it), whether linkd is on the data socket, and the data path
 * counters, so
 * `onionmesh status` and monitoring see drops and backpressure without
 * attaching a debugger.
 *
 * One row per command in tund_ctl_cmds[]; ipc.c answers unknown
 * commands and refuses a level change from a reader at the door, and a
 * handler is a plain function of the daemon state, so a unit test calls
 * it without a socket.
 */
#include "tund/tund.h"

#include <unistd.h>

#include "proto/json.h"
#include "proto/log.h"
#include "proto/logctl.h"

/* A counter in the status reply. */
struct ctl_count {
	const char *key;
	uint64_t v;
};

static void
ctl_counts(json_t *r, const struct ctl_count *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(r, c[i].key, json_integer(
		    (json_int_t)c[i].v));
}

/* Counters: rx = read from the device, tx = written to it; "routes" is
 * what routed sent, "device_routes" what is on the device now. */
static void
ctl_status_counts(json_t *r, const struct tund *t)
{
	const struct dp_stats *s = &t->dp.st;
	const struct ctl_count dp[] = {
		{"rx_packets", s->rx_packets},
		{"rx_bytes", s->rx_bytes},
		{"tx_packets", s->tx_packets},
		{"tx_bytes", s->tx_bytes},
		{"drops", s->drop_nolink + s->drop_bad + s->drop_link +
		    s->drop_tun + s->drop_vnet},
		{"drops_no_linkd", s->drop_nolink},
		{"drops_malformed", s->drop_bad},
		{"drops_linkd_gone", s->drop_link},
		{"drops_tun_refused", s->drop_tun},
		{"drops_vnet_header", s->drop_vnet},
		{"vnet_headers_cleared", s->vnet_cleared},
		{"stalls_linkd", s->stall_link},
		{"stalls_tun", s->stall_tun},
		{"linkd_accepts", s->accepts},
		{"linkd_refused", s->refused},
		{"routes", t->routes},
		{"route_tables", t->route_commits},
	};
	const struct ctl_count rt[] = {
		{"routes_added", t->route_added},
		{"routes_removed", t->route_removed},
		{"routes_failed", t->route_failed},
	};
	json_t *rts;
	size_t i;

	ctl_counts(r, dp, TABLE_LEN(dp));
	rts = json_array();
	for (i = 0; i < t->rt_have.n; i++)
		json_array_append_new(rts, json_prefix(&t->rt_have.v[i], 1));
	json_object_set_new(r, "device_routes", rts);
	ctl_counts(r, rt, TABLE_LEN(rt));
}

static json_t *
ctl_status(void *ctx, json_t *req)
{
	struct tund *t = ctx;
	char off[96];
	json_t *r, *addrs;

	tun_offloads_fmt(t->tun.offloads, off, sizeof(off));
	r = json_pack("{s:b, s:s, s:I, s:s, s:I, s:b, s:o, s:o, s:s, s:b, "
	    "s:b}",
	    "ok", 1,
	    "daemon", "tund",
	    "pid", (json_int_t)getpid(),
	    "ifname", t->tun.ifname,
	    "mtu", (json_int_t)t->d.conf.mtu,
	    "up", t->up,
	    "ipv4", json_prefix(&t->d.conf.ipv4, 1),
	    "ipv6", json_prefix(&t->d.conf.ipv6, 1),
	    "offloads", off,
	    "linkd", datapath_linkd_connected(&t->dp),
	    "routed", t->routed != NULL && ipc_chan_connected(t->routed));
	if (r == NULL)
		return json_error("out of memory building the reply");
	addrs = json_array();
	if (t->d.conf.ipv4.family)
		json_array_append_new(addrs, json_prefix(&t->d.conf.ipv4, 1));
	if (t->d.conf.ipv6.family)
		json_array_append_new(addrs, json_prefix(&t->d.conf.ipv6, 1));
	json_object_set_new(r, "addresses", addrs);
	if (t->d.conf.netns[0])
		json_object_set_new(r, "netns", json_string(t->d.conf.netns));
	ctl_status_counts(r, t);
	return r;
}

/* In this order in the door's "tund answers ..." list. */
const struct ctl_cmd tund_ctl_cmds[] = {
	{ "status", CTL_READ,        NULL,    ctl_status },
	LOGCTL_ROW,
};
const size_t tund_nctl_cmds = TABLE_LEN(tund_ctl_cmds);
