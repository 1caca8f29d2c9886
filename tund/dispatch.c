/*
 * tund's channel to routed (routed.tund, routed listens). tund tells
 * routed what its device is (MSG_TUN_STATE) every time the channel comes
 * up, so a restarted routed learns it again without asking; routed
 * sends the prefixes to route to the device as a whole table
 * (ROUTE_BEGIN, ROUTE_ENTRY..., ROUTE_COMMIT).
 *
 * For now the table is only checked and counted: the member addresses
 * are covered by the prefixes of tund's own addresses, and installing
 * subnet routes is a later step. The message table in proto/msg.c has
 * already refused anything routed may not send or that has the wrong
 * length before the handler runs; the decoders check the rest.
 */
#include "tund/tund.h"

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

	switch (h->type) {
	case MSG_ROUTE_BEGIN:
		if (msg_fib_begin_decode(&b, payload, h->length) == -1)
			break;
		t->route_begins++;
		t->route_gen = b.generation;
		t->route_count = 0;
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
		t->route_commits++;
		t->routes = cm.count;
		log_debug("routed: route table %u committed, %u routes",
		    cm.generation, cm.count);
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
