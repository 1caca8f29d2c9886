/*
 * tund's channel to routed (routed.tund, routed listens). tund tells
 * routed what its device is (MSG_TUN_STATE) every time the channel comes
 * up, so a restarted routed learns it again without asking; routed
 * sends the prefixes to route to the device as a whole table
 * (ROUTE_BEGIN, ROUTE_ENTRY..., ROUTE_COMMIT).
 *
 * The member addresses are covered by the prefixes of tund's own
 * addresses; the table holds the rest: other members' subnets, and the
 * two halves of a default route when this member uses a gateway (the
 * rule of who may be a gateway is routed's, which knows the records and
 * the config). On commit the table becomes the wanted set and
 * tund_routes_apply() changes only what differs on the device
 * (routes.c); a table that was not received whole is refused and the
 * routes stay as they were. The message table in proto/msg.c has
 * already refused anything routed may not send or that has the wrong
 * length before the handler runs; the decoders and route_check() check
 * the rest, and a default route (length 0) is never installed even if
 * routed sent one.
 */
#include "tund/tund.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/log.h"

static void
dispatch_send_state(struct tund *t)
{
	struct msg_tun_state m;
	struct buf_w w;
	uint8_t buf[64];

	memset(&m, 0, sizeof(m));
	snprintf(m.ifname, sizeof(m.ifname), "%s", t->tun.ifname);
	m.mtu = t->d.conf.mtu;
	m.up = t->up ? 1 : 0;
	bw_init(&w, buf, sizeof(buf));
	msg_tun_state_encode(&w, &m);
	if (w.err) {
		log_warnx("MSG_TUN_STATE does not fit %zu bytes", sizeof(buf));
		return;
	}
	if (ipc_send(t->routed, MSG_TUN_STATE, 0, 0, &w) == -1)
		log_info("routed: could not queue the device state; it is "
		    "sent again when routed reconnects");
	else
		log_debug("routed: sent device state %s mtu %u %s", m.ifname,
		    m.mtu, m.up ? "up" : "down");
}

static void
dispatch_on_up(struct ipc_chan *c, void *arg)
{
	struct tund *t = arg;

	log_info("routed connected");
	dispatch_send_state(t);
}

static void
dispatch_on_msg(struct ipc_chan *c, const struct msg_hdr *h,
    const uint8_t *payload, void *arg)
{
	tund_dispatch_routed(arg, h, payload);
}

void
tund_dispatch_routed(struct tund *t, const struct msg_hdr *h,
    const uint8_t *payload)
{
	struct msg_fib_begin b;
	struct msg_fib_commit cm;
	struct msg_route_entry e;
	char pfx[PREFIX_STRLEN];
	const char *why;

	switch (h->type) {
	case MSG_ROUTE_BEGIN:
		if (msg_fib_begin_decode(&b, payload, h->length) == -1)
			break;
		t->route_begins++;
		t->route_gen = b.generation;
		t->route_count = 0;
		route_set_clear(&t->rt_rx);
		t->rt_rx_failed = 0;
		log_debug("routed: route table %u begins", b.generation);
		return;
	case MSG_ROUTE_ENTRY:
		if (msg_route_entry_decode(&e, payload, h->length) == -1)
			break;
		if (e.generation != t->route_gen) {
			log_warnx_rl(&t->route_bad, "routed: route entry of "
			    "table %u while receiving table %u; ignored",
			    e.generation, t->route_gen);
			t->route_bad++;
			return;
		}
		t->route_entries++;
		t->route_count++;
		prefix_fmt(&e.dst, pfx, sizeof(pfx), 1);
		if ((why = route_check(&e.dst)) != NULL) {
			/* Counted in the table (the commit's count is
			 * routed's), but never installed. */
			log_warnx_rl(&t->route_entries, "routed: route %s "
			    "(table %u) refused: %s", pfx, e.generation, why);
			t->route_bad++;
			return;
		}
		if (route_set_add(&t->rt_rx, &e.dst) == -1) {
			if (!t->rt_rx_failed)
				log_warnx("routed: route table %u: no room "
				    "for %s (%s; at most %d routes); the "
				    "table will be refused", e.generation,
				    pfx, strerror(errno), TUND_ROUTES_MAX);
			t->rt_rx_failed = 1;
			return;
		}
		log_debug("routed: route %s (table %u)", pfx, e.generation);
		return;
	case MSG_ROUTE_COMMIT:
		if (msg_fib_commit_decode(&cm, payload, h->length) == -1)
			break;
		if (cm.generation != t->route_gen ||
		    cm.count != t->route_count) {
			log_warnx_rl(&t->route_bad, "routed: commit of table "
			    "%u with %u routes, but received table %u with "
			    "%u; ignored", cm.generation, cm.count,
			    t->route_gen, t->route_count);
			t->route_bad++;
			return;
		}
		if (t->rt_rx_failed) {
			t->route_bad++;
			log_warnx("routed: route table %u not taken whole; "
			    "the routes stay as they were", cm.generation);
			return;
		}
		t->route_commits++;
		t->routes = cm.count;
		log_debug("routed: route table %u committed, %u routes",
		    cm.generation, cm.count);
		route_set_sort(&t->rt_rx);
		{
			struct route_set tmp = t->rt_want;

			t->rt_want = t->rt_rx;
			t->rt_rx = tmp;
			route_set_clear(&t->rt_rx);
		}
		tund_routes_apply(t);
		return;
	default:
		log_warnx_rl(&t->route_bad, "routed: unexpected %s (0x%04x); "
		    "ignored", msg_name(h->type), h->type);
		t->route_bad++;
		return;
	}
	/* A decoder refused the payload: the sibling broke the contract. */
	t->route_bad++;
	log_warnx_rl(&t->route_bad, "routed: malformed %s (%u bytes); "
	    "ignored", msg_name(h->type), h->length);
}

int
tund_route_kernel(void *arg, const struct prefix *p, int add)
{
	struct tund *t = arg;
	char pfx[PREFIX_STRLEN];
	int r;

	prefix_fmt(p, pfx, sizeof(pfx), 1);
	r = tun_route(t->nlfd, &t->tun, p, add);
	if (r == 0) {
		log_info("route %s dev %s %s", pfx, t->tun.ifname,
		    add ? "added" : "removed");
		return 0;
	}
	if (add && r == -EEXIST)
		log_warnx_rl(&t->route_failed, "route %s dev %s not added: "
		    "this host routes %s already (an interface or a route "
		    "of its own); it stays as it is", pfx, t->tun.ifname,
		    pfx);
	else if (r == -EPERM)
		log_warnx_rl(&t->route_failed, "route %s dev %s not %s: %s "
		    "(tund needs CAP_NET_ADMIN)", pfx, t->tun.ifname,
		    add ? "added" : "removed", strerror(-r));
	else if (!add && r == -ESRCH)
		log_debug("route %s dev %s: already gone", pfx,
		    t->tun.ifname);
	else
		log_warnx_rl(&t->route_failed, "route %s dev %s not %s: %s",
		    pfx, t->tun.ifname, add ? "added" : "removed",
		    strerror(-r));
	return r;
}

void
tund_routes_apply(struct tund *t)
{
	struct route_sync_stats st;

	if (t->route_op == NULL)
		return; /* no kernel (unit tests) */
	if (route_set_equal(&t->rt_have, &t->rt_want))
		return;
	if (route_set_sync(&t->rt_have, &t->rt_want, t->route_op, t,
	    &st) == -1) {
		log_warnx("out of memory changing routes; they change with "
		    "the next table");
		return;
	}
	t->route_added += st.added;
	t->route_removed += st.removed;
	t->route_failed += st.failed;
	if (st.failed)
		log_warnx("routes on %s: %zu (%zu added, %zu removed, %zu "
		    "refused by the kernel: tried again with the next "
		    "table)", t->tun.ifname, t->rt_have.n, st.added,
		    st.removed, st.failed);
	else
		log_info("routes on %s: %zu (%zu added, %zu removed)",
		    t->tun.ifname, t->rt_have.n, st.added, st.removed);
}

int
tund_dispatch_start(struct tund *t)
{
	struct ipc_chan_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = t->d.loop;
	cfg.path = daemon_sock(&t->d, IPC_ROUTED_TUND);
	cfg.self = D_TUND;
	cfg.peer = D_ROUTED;
	cfg.peer_uid = t->d.ids.uid[D_ROUTED];
	cfg.on_msg = dispatch_on_msg;
	cfg.on_up = dispatch_on_up;
	cfg.arg = t;
	t->routed = ipc_chan_dial(&cfg);
	return t->routed == NULL ? -1 : 0;
}

void
tund_dispatch_stop(struct tund *t)
{
	if (t->routed != NULL)
		ipc_chan_close(t->routed);
	t->routed = NULL;
}
