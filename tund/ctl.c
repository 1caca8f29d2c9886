/*
 * tund's ctl socket (ctl.tund, nng rep0, JSON). Read-only but for
 * "log" with a level (proto/logctl.h, root or tund's user only):
 * "status" reports the device (name, MTU, addresses, offloads, the
 * routes on it), whether linkd is on the data socket, and the data path
 * counters, so
 * `onionmesh status` and monitoring see drops and backpressure without
 * attaching a debugger.
 *
 * The handler is a plain function of the daemon state (tund_ctl_handle)
 * so a unit test calls it without a socket.
 */
#include "tund/tund.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/log.h"
#include "proto/logctl.h"

static json_t *
ctl_error(const char *msg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", msg);
	return ipc_ctl_error_reply(buf);
}

static json_t *
ctl_prefix(const struct prefix *p)
{
	char buf[PREFIX_STRLEN];

	if (p->family == 0)
		return json_null();
	prefix_fmt(p, buf, sizeof(buf), 1);
	return json_string(buf);
}

static json_t *
ctl_status(struct tund *t)
{
	const struct dp_stats *s = &t->dp.st;
	char off[96];
	json_t *r, *addrs, *rts;
	size_t i;

	tun_offloads_fmt(t->tun.offloads, off, sizeof(off));
	r = json_pack("{s:b, s:s, s:I, s:s, s:I, s:b, s:o, s:o, s:s, s:b, "
	    "s:b}",
	    "ok", 1,
	    "daemon", "tund",
	    "pid", (json_int_t)getpid(),
	    "ifname", t->tun.ifname,
	    "mtu", (json_int_t)t->d.conf.mtu,
	    "up", t->up,
	    "ipv4", ctl_prefix(&t->d.conf.ipv4),
	    "ipv6", ctl_prefix(&t->d.conf.ipv6),
	    "offloads", off,
	    "linkd", datapath_linkd_connected(&t->dp),
	    "routed", t->routed != NULL && ipc_chan_connected(t->routed));
	if (r == NULL)
		return NULL;
	addrs = json_array();
	if (t->d.conf.ipv4.family)
		json_array_append_new(addrs, ctl_prefix(&t->d.conf.ipv4));
	if (t->d.conf.ipv6.family)
		json_array_append_new(addrs, ctl_prefix(&t->d.conf.ipv6));
	json_object_set_new(r, "addresses", addrs);
	if (t->d.conf.netns[0])
		json_object_set_new(r, "netns", json_string(t->d.conf.netns));
	/* Counters: rx = read from the device, tx = written to it. */
	json_object_set_new(r, "rx_packets", json_integer(
	    (json_int_t)s->rx_packets));
	json_object_set_new(r, "rx_bytes", json_integer(
	    (json_int_t)s->rx_bytes));
	json_object_set_new(r, "tx_packets", json_integer(
	    (json_int_t)s->tx_packets));
	json_object_set_new(r, "tx_bytes", json_integer(
	    (json_int_t)s->tx_bytes));
	json_object_set_new(r, "drops", json_integer((json_int_t)(
	    s->drop_nolink + s->drop_bad + s->drop_link + s->drop_tun)));
	json_object_set_new(r, "drops_no_linkd", json_integer(
	    (json_int_t)s->drop_nolink));
	json_object_set_new(r, "drops_malformed", json_integer(
	    (json_int_t)s->drop_bad));
	json_object_set_new(r, "drops_linkd_gone", json_integer(
	    (json_int_t)s->drop_link));
	json_object_set_new(r, "drops_tun_refused", json_integer(
	    (json_int_t)s->drop_tun));
	json_object_set_new(r, "stalls_linkd", json_integer(
	    (json_int_t)s->stall_link));
	json_object_set_new(r, "stalls_tun", json_integer(
	    (json_int_t)s->stall_tun));
	json_object_set_new(r, "linkd_accepts", json_integer(
	    (json_int_t)s->accepts));
	json_object_set_new(r, "linkd_refused", json_integer(
	    (json_int_t)s->refused));
	json_object_set_new(r, "routes", json_integer((json_int_t)t->routes));
	json_object_set_new(r, "route_tables", json_integer(
	    (json_int_t)t->route_commits));
	/* What is on the device now; "routes" above is what routed sent. */
	rts = json_array();
	for (i = 0; i < t->rt_have.n; i++)
		json_array_append_new(rts, ctl_prefix(&t->rt_have.v[i]));
	json_object_set_new(r, "device_routes", rts);
	json_object_set_new(r, "routes_added", json_integer(
	    (json_int_t)t->route_added));
	json_object_set_new(r, "routes_removed", json_integer(
	    (json_int_t)t->route_removed));
	json_object_set_new(r, "routes_failed", json_integer(
	    (json_int_t)t->route_failed));
	return r;
}

json_t *
tund_ctl_handle(struct tund *t, json_t *req, int may_change)
{
	const char *cmd;
	char msg[128];

	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd == NULL)
		return ctl_error("request has no \"cmd\" string");
	if (strcmp(cmd, "status") == 0)
		return ctl_status(t);
	if (strcmp(cmd, "log") == 0)
		return logctl_handle(req, may_change, "tund");
	snprintf(msg, sizeof(msg), "unknown command `%.64s'; tund answers: "
	    "status, log", cmd);
	return ctl_error(msg);
}

static json_t *
ctl_cb(json_t *req, int may_change, void *arg)
{
	json_t *r = tund_ctl_handle(arg, req, may_change);

	if (r == NULL)
		r = json_pack("{s:b, s:s}", "ok", 0, "error",
		    "out of memory building the reply");
	return r;
}

int
tund_ctl_start(struct tund *t)
{
	char name[32];

	snprintf(name, sizeof(name), IPC_CTL_FMT, "tund");
	t->ctl = ipc_ctl_listen(t->d.loop, daemon_sock(&t->d, name), ctl_cb,
	    t);
	if (t->ctl == NULL)
		return -1;
	/* Made as root, before the drop: give it to tund's user, or a
	 * tund started later as that user (a systemd unit) could not
	 * replace the file in the sticky run dir. */
	if (chown_for(daemon_sock(&t->d, name), t->d.ids.uid[D_TUND],
	    t->d.ids.group) == -1) {
		log_warn("cannot give %s to uid %u", daemon_sock(&t->d, name),
		    (unsigned)t->d.ids.uid[D_TUND]);
		return -1;
	}
	return 0;
}

void
tund_ctl_stop(struct tund *t)
{
	if (t->ctl != NULL)
		ipc_ctl_close(t->ctl);
	t->ctl = NULL;
}
