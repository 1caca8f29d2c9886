/*
 * onionmesh-routed: the member graph and the forwarding table.
 *
 * routed learns the members from keyd's host records and the live links
 * from linkd, computes the shortest path to every member, and gives
 * linkd a whole forwarding table (which member owns which prefix, and
 * which direct peer to send it to) and tund the subnet routes to put on
 * the TUN device. It touches no socket but its IPC, holds no secret, and
 * everything it knows is resent to it when it restarts.
 *
 * This file is the daemon's life: main, the channels (routed dials keyd
 * at keyd.routed and listens for linkd at routed.linkd and tund at
 * routed.tund, all three answering from routed_msgs[]), the ctl socket,
 * what a peer (re)connecting sets off, and the four timers: settle
 * (recompute once per burst of changes), retry (a push or build that
 * failed), edges_soon and edges_every (our links to keyd).
 */
#include <time.h>

#include "proto/log.h"
#include "proto/notify.h"
#include "routed/routed.h"

static void
routed_recompute_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	/* settle and retry alike: a failed build left no table behind,
	 * so a retry recomputes too. */
	routed_recompute(t->data);
}

static void
routed_edges_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	routed_edges_local_send(t->data);
}

static void
routed_keyd_up(struct ipc_chan *c, void *arg)
{
	struct routed *r = arg;

	/* A (re)started keyd holds no announcement of ours. */
	log_info("connected to keyd");
	routed_edges_soon(r);
}

static void
routed_linkd_up(struct ipc_chan *c, void *arg)
{
	struct routed *r = arg;

	/* A (re)connected linkd reports its live links afresh; what an
	 * earlier linkd reported is gone with it. Wait the settle time
	 * for that report, then push a whole table either way. */
	log_info("linkd connected");
	if (graph_links_clear(&r->g))
		routed_edges_soon(r);
	r->fib_pending = 1;
	routed_changed(r);
}

static void
routed_tund_up(struct ipc_chan *c, void *arg)
{
	struct routed *r = arg;

	log_info("tund connected");
	r->routes_pending = 1;
	routed_changed(r);
}

static struct ipc_chan *
routed_chan(struct routed *r, const char *name, enum daemon peer,
    ipc_up_cb on_up, int listen)
{
	struct ipc_chan *c;

	c = daemon_chan(&r->d, name, peer, routed_msgs, routed_nmsgs, on_up,
	    r, listen);
	if (c == NULL)
		fatalx("cannot %s %s", listen ? "listen on" : "dial",
		    daemon_sock(&r->d, name));
	return c;
}

void
routed_start(struct routed *r)
{
	const char *path;

	ev_timer_init(&r->settle, routed_recompute_cb, ROUTED_SETTLE_S, 0.);
	r->settle.data = r;
	ev_timer_init(&r->retry, routed_recompute_cb, ROUTED_RETRY_S, 0.);
	r->retry.data = r;
	ev_timer_init(&r->edges_soon, routed_edges_cb, ROUTED_EDGES_SOON_S,
	    0.);
	r->edges_soon.data = r;
	ev_timer_init(&r->edges_every, routed_edges_cb,
	    ROUTED_EDGES_EVERY_S, ROUTED_EDGES_EVERY_S);
	r->edges_every.data = r;
	ev_timer_start(r->d.loop, &r->edges_every);

	r->linkd = routed_chan(r, IPC_ROUTED_LINKD, D_LINKD, routed_linkd_up,
	    1);
	r->tund = routed_chan(r, IPC_ROUTED_TUND, D_TUND, routed_tund_up, 1);
	r->keyd = routed_chan(r, IPC_KEYD_ROUTED, D_KEYD, routed_keyd_up, 0);

	r->ctl = daemon_ctl(&r->d, routed_ctl_cmds, routed_nctl_cmds, r,
	    &path);
	if (r->ctl == NULL)
		fatalx("cannot listen on %s", path);
}

void
routed_stop(struct routed *r)
{
	ev_timer_stop(r->d.loop, &r->settle);
	ev_timer_stop(r->d.loop, &r->retry);
	ev_timer_stop(r->d.loop, &r->edges_soon);
	ev_timer_stop(r->d.loop, &r->edges_every);
	/* Both closes take NULL: a start that stopped half way. */
	ipc_ctl_close(r->ctl);
	ipc_chan_close(r->keyd);
	ipc_chan_close(r->tund);
	ipc_chan_close(r->linkd);
	r->ctl = NULL;
	r->keyd = r->tund = r->linkd = NULL;
}

int
main(int argc, char **argv)
{
	static struct routed r;

	daemon_setup(&r.d, D_ROUTED, argc, argv);
	graph_init(&r.g);
	routed_fib_init(&r.fib);
	prefix_set_init(&r.routes);
	routed_accept_init(&r.acc);
	/* Generations go on rising across restarts, so a table from a new
	 * routed never carries the number of one linkd already has. */
	r.fib_gen = r.route_gen = (uint32_t)time(NULL);

	/* routed needs no privilege at all; IPC comes after the drop
	 * because SO_PEERCRED reports the uid a socket had when it
	 * listened or connected, and the peers expect routed's. */
	daemon_drop(&r.d);
	routed_start(&r);
	log_info("ready");
	notify_ready(r.d.loop);
	ev_run(r.d.loop, 0);

	notify_stopping();
	log_info("shutting down");
	routed_stop(&r);
	routed_accept_free(&r.acc);
	prefix_set_free(&r.routes);
	routed_fib_free(&r.fib);
	graph_free(&r.g);
	return 0;
}
