/*
 * onionmesh-linkd: every connection to other members. Main and loop
 * only; the work is in the files linkd.h lists.
 *
 * Everything linkd knows is rebuilt from its siblings, so it can be
 * restarted at any time: keyd resends the members (and our identity)
 * when the channel comes up, routed resends the forwarding table, tund
 * accepts the data socket again, and members redial or are redialled.
 * linkd holds no secret key: keyd does every DH with the static key.
 *
 * Timers: one 1 s timer for every link (keepalive, rekey, timeouts) and
 * one prepare watcher that frees closed links outside any callback.
 *
 * Two modes, fixed at start: TCP (listen = / peers' tcp endpoints) and
 * onion (tor_control and tor_socks set): links only through tor, over
 * Unix sockets, and no IP socket at all when tor_socks is unix:PATH.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/ipc.h"
#include "proto/log.h"
#include "proto/notify.h"

#define TICK 1.0

/* The listener of this mode (again every tick while it fails). */
static void
linkd_listen(struct linkd *ld)
{
	if (ld->onion)
		onion_listener_start(ld);
	else if (ld->lfd == -1)
		listener_start(ld);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct linkd *ld = w->data;
	struct link *l;
	double now = linkd_now();

	TAILQ_FOREACH(l, &ld->links, entry)
		link_tick(l, now);
	datapath_tick(ld, now);
	linkd_listen(ld);
}

static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct linkd *ld = w->data;

	if (!TAILQ_EMPTY(&ld->reap))
		links_reap(ld);
}

static void
linkd_init(struct linkd *ld, struct daemon_ctx *d)
{
	memset(ld, 0, sizeof(*ld));
	ld->d = d;
	ld->loop = d->loop;
	ld->conf = &d->conf;
	ld->lfd = -1;
	ld->ofd = -1;
	ld->onion = linkd_onion_mode(ld->conf);
	ld->t_start = linkd_now();
	peers_init(ld);
	TAILQ_INIT(&ld->links);
	TAILQ_INIT(&ld->reap);
}

static void
linkd_shutdown(struct linkd *ld)
{
	struct link *l;

	ld->stopping = 1;
	/* Tell every member we are going (INNER_CLOSE), best effort. */
	TAILQ_FOREACH(l, &ld->links, entry)
		link_close(l, "linkd is stopping");
	links_reap(ld);
	peers_clear(ld);
	ctl_close(ld);
	dispatch_close(ld);
	datapath_close(ld);
	listener_stop(ld);
	onion_listener_stop(ld);
	keyd_client_close();
	fib_free(ld->fib);
	ld->fib = NULL;
}

int
main(int argc, char **argv)
{
	static struct daemon_ctx d;
	static struct linkd ld;
	char path[PATH_MAX], err[512];

	daemon_setup(&d, D_LINKD, argc, argv);
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	if (linkd_conf_check(&d.conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	linkd_init(&ld, &d);
	if (ld.onion) {
		if (d.conf.listen[0] != '\0')
			log_warnx("listen = %s ignored: in onion mode linkd "
			    "takes links only from tor (%s/%s)",
			    d.conf.listen, d.conf.paths.run_dir,
			    IPC_LINKD_ONION);
		log_info("onion mode: links through tor's SocksPort %s, %u "
		    "per member%s", d.conf.tor_socks, d.conf.circuits,
		    d.conf.anonymous ? ", anonymous" : "");
	} else {
		tcp_buffers_probe();
	}

	linkd_listen(&ld);
	snprintf(path, sizeof(path), "%s", daemon_sock(&d, IPC_TUND_DATA));
	datapath_init(&ld, path);
	ctl_init(&ld);

	ev_timer_init(&ld.tick, tick_cb, TICK, TICK);
	ld.tick.data = &ld;
	ev_timer_start(ld.loop, &ld.tick);
	ev_prepare_init(&ld.prep, prepare_cb);
	ld.prep.data = &ld;
	ev_prepare_start(ld.loop, &ld.prep);

	daemon_drop(&d);
	/* Siblings are dialled after the drop: keyd and routed take only
	 * linkd's uid, and SO_PEERCRED is fixed at connect, so a dial made
	 * as root would be refused and retried on every start. */
	snprintf(path, sizeof(path), "%s", daemon_sock(&d, IPC_KEYD_CRYPTO));
	if (keyd_client_open(path, d.ids.uid[D_KEYD]) == -1)
		fatalx("cannot set up the keyd rpc at %s", path);
	dispatch_init(&ld);
	log_info("started (net %s)", d.conf.paths.net);
	notify_ready(ld.loop);
	ev_run(ld.loop, 0);

	notify_stopping();
	log_info("stopping");
	linkd_shutdown(&ld);
	return 0;
}
