/*
 * onionmesh-linkd: every connection to other members. Lifecycle, the
 * channels to keyd and routed, the ctl socket, timers, and the table of
 * what a link hands on; the work is in the files linkd.h lists.
 *
 * Everything linkd knows is rebuilt from its siblings, so it can be
 * restarted at any time: keyd resends the members (and our identity)
 * when the channel comes up, routed resends the forwarding table, tund
 * accepts the data socket again, and members redial or are redialled.
 * linkd holds no secret key: keyd does every DH with the static key.
 *
 * Timers: one 1 s timer for every link (keepalive, rekey, timeouts),
 * the end-to-end sessions and the data socket, and one prepare watcher
 * that frees closed links outside any callback and reads tund again
 * once no link is congested.
 *
 * Two modes, fixed at start: TCP (listen = / peers' tcp endpoints) and
 * onion (tor_control and tor_socks set): links only through tor, over
 * Unix sockets, and no IP socket at all when tor_socks is unix:PATH.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/privdrop.h"
#include "proto/ipc.h"
#include "proto/log.h"
#include "proto/notify.h"

#define TICK 1.0

/* What a link does with each inner kind its session opens; a kind not
 * here is dropped. */
static const struct link_frame linkd_frames[] = {
	{ INNER_PACKET,  datapath_deliver },
	{ INNER_GOSSIP,  linkd_gossip_input },
	{ INNER_FORWARD, e2e_forward_input },
	{ INNER_SEQ_PACKET, stripe_input },
};

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
	struct peer *p;
	double now = linkd_now();

	TAILQ_FOREACH(l, &ld->links, entry)
		link_tick(l, now);
	/* A queue whose circuits stalled drains once one moves again or
	 * its stall time ends, ack or no ack. */
	TAILQ_FOREACH(p, &ld->peers, entry)
		stripe_drain(p, now);
	e2e_tick(ld, now);
	datapath_tick(ld, now);
	linkd_listen(ld);
}

static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct linkd *ld = w->data;

	if (!TAILQ_EMPTY(&ld->reap))
		links_reap(ld);
	/* Every link is under its low-water mark again: read tund
	 * before the loop waits (links only count, they never call up
	 * into the datapath). */
	if (ld->links_over_high == 0 && ld->dp.tund_paused)
		datapath_links_drained(ld);
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
	ld->frames = linkd_frames;
	ld->nframes = TABLE_LEN(linkd_frames);
	peers_init(ld);
	TAILQ_INIT(&ld->links);
	TAILQ_INIT(&ld->reap);
}

/* ---- keyd and routed ---- */

static void
on_routed_up(struct ipc_chan *c, void *arg)
{
	struct linkd *ld = arg;

	log_info("routed connected: sending the state of %zu members",
	    ld->npeers);
	peers_report_all(ld, c);
}

static void
on_keyd_up(struct ipc_chan *c, void *arg)
{
	struct linkd *ld = arg;

	/* A (re)started keyd starts gossip with every member we have a
	 * link to. */
	log_info("keyd connected");
	peers_report_all(ld, c);
}

static struct ipc_chan *
chan_dial(struct linkd *ld, const char *name, enum daemon peer,
    ipc_up_cb on_up)
{
	struct ipc_chan_cfg cfg;
	struct ipc_chan *c;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", daemon_sock(ld->d, name));
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = ld->loop;
	cfg.path = path;
	cfg.self = D_LINKD;
	cfg.peer = peer;
	cfg.peer_uid = ld->d->ids.uid[peer];
	cfg.handlers = linkd_msgs;
	cfg.nhandlers = linkd_nmsgs;
	cfg.on_up = on_up;
	cfg.arg = ld;
	if ((c = ipc_chan_dial(&cfg)) == NULL)
		fatalx("cannot set up the %s channel at %s", name, path);
	return c;
}

static void
linkd_channels_start(struct linkd *ld)
{
	if (msg_table_check(linkd_msgs, linkd_nmsgs, "linkd") == -1)
		fatalx("linkd's message table does not match the catalogue");
	fib_builder_init(&ld->fb);
	ld->keyd = chan_dial(ld, IPC_KEYD_LINKD, D_KEYD, on_keyd_up);
	ld->routed = chan_dial(ld, IPC_ROUTED_LINKD, D_ROUTED, on_routed_up);
}

static void
linkd_channels_stop(struct linkd *ld)
{
	if (ld->keyd != NULL)
		ipc_chan_close(ld->keyd);
	if (ld->routed != NULL)
		ipc_chan_close(ld->routed);
	ld->keyd = ld->routed = NULL;
	fib_builder_free(&ld->fb);
}

/* ---- ctl socket ---- */

static void
linkd_ctl_start(struct linkd *ld)
{
	char path[PATH_MAX], name[32];

	snprintf(name, sizeof(name), IPC_CTL_FMT, "linkd");
	snprintf(path, sizeof(path), "%s", daemon_sock(ld->d, name));
	if ((ld->ctl = ipc_ctl_listen(ld->loop, path, "linkd",
	    linkd_ctl_cmds, linkd_nctl_cmds, ld)) == NULL)
		fatalx("cannot listen on the ctl socket %s", path);
	/* Made as root, before the drop: give it to linkd's user, or a
	 * linkd started later as that user (a systemd unit) could not
	 * replace the file in the sticky run dir. */
	if (chown_for(path, ld->d->ids.uid[D_LINKD], ld->d->ids.group) == -1)
		fatal("cannot give %s to uid %u", path,
		    (unsigned)ld->d->ids.uid[D_LINKD]);
}

static void
linkd_ctl_stop(struct linkd *ld)
{
	if (ld->ctl != NULL)
		ipc_ctl_close(ld->ctl);
	ld->ctl = NULL;
}

/* ---- lifecycle ---- */

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
	linkd_ctl_stop(ld);
	linkd_channels_stop(ld);
	e2e_close_all(ld, "linkd is stopping");
	datapath_close(ld);
	listener_stop(ld);
	onion_listener_stop(ld);
	resolve_stop();
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
	outbound_init(&ld);
	e2e_init(&ld);
	linkd_ctl_start(&ld);

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
	linkd_channels_start(&ld);
	log_info("started (net %s)", d.conf.paths.net);
	notify_ready(ld.loop);
	ev_run(ld.loop, 0);

	notify_stopping();
	log_info("stopping");
	linkd_shutdown(&ld);
	return 0;
}
