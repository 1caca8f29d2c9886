/*
 * onionmesh-tund: owns the TUN device and moves packets between it and
 * linkd, and routes other members' subnets to the device.
 *
 * Shape of main (STYLE.md, "A daemon's main"): flags, log and config
 * (daemon_setup); then tund_start(): the privileged part — enter the
 * network namespace, create and configure the device, open the
 * rtnetlink socket for routes, create the data socket file and the ctl
 * socket — while we are root; then the drop (tund_drop) and the
 * sandbox, then the channel to routed; and the loop runs with open
 * descriptors and one capability. tund_stop() takes our routes off the
 * device and closes everything. tund opens
 * no network socket after that and parses nothing beyond IP version and
 * length.
 *
 * A deliberate change from DESIGN.md, which says "CAP_NET_ADMIN only
 * while setting up, then none": tund keeps CAP_NET_ADMIN after dropping
 * to its user. Why: the routes to members' subnets (and a gateway's
 * default route) change while tund runs, as members come and go and
 * change their records, and adding or removing a route needs
 * CAP_NET_ADMIN in the device's namespace; a helper process or a
 * restart for each change would be more code with the same power. How
 * it is bounded:
 *  - one capability: privdrop_keepcap() leaves CAP_NET_ADMIN effective
 *    and permitted and nothing else (no CAP_NET_RAW, no CAP_SYS_ADMIN,
 *    no way back to root), none inheritable or ambient, an empty
 *    bounding set and PR_SET_NO_NEW_PRIVS, so no execve carries it on;
 *  - netlink only: the seccomp list (proto/sandbox.c) lets tund open
 *    AF_UNIX and NETLINK_ROUTE sockets only, and no ioctl that
 *    configures an interface or makes a TUN device; route changes go
 *    over the rtnetlink socket opened here, with sendto/recvfrom;
 *  - its own namespace: with `netns =` the capability acts in that
 *    network namespace, where the device is, and nowhere else.
 * What is left: seccomp cannot look inside a netlink message, so a
 * tund taken over could still change any route, address or link of
 * its namespace over rtnetlink (not read traffic of other interfaces:
 * no raw or packet socket, no CAP_NET_RAW). That is the price of
 * routes that follow the members.
 * The routes tund makes carry their own protocol number (TUN_RTPROT),
 * never replace a route that exists, and go when tund stops (and with
 * the device, if tund dies).
 */
#include "tund/tund.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>

#include "proto/log.h"
#include "proto/notify.h"
#include "proto/sandbox.h"

static struct tund tund;

static void
tund_fatal_cleanup(struct tund *t, const char *err)
{
	datapath_stop(&t->dp);
	fatalx("%s", err);
}

/*
 * daemon_drop(), but keeping CAP_NET_ADMIN for routes (see the top of
 * this file); every other daemon drops everything.
 */
static void
tund_drop(struct tund *t)
{
	uid_t uid = t->d.ids.uid[D_TUND];
	gid_t gid = t->d.ids.gid[D_TUND];

	if (privdrop_keepcap(uid, gid, CAP_NET_ADMIN) == -1)
		fatal("cannot drop privileges to uid %u gid %u keeping "
		    "CAP_NET_ADMIN (tund needs it to change routes; run it "
		    "as root or with that capability)", (unsigned)uid,
		    (unsigned)gid);
	if (t->d.conf.sandbox && sandbox_enter(D_TUND) == -1)
		fatal("cannot enter the seccomp sandbox (set sandbox = no "
		    "to run without it)");
	log_info("running as uid %u gid %u with CAP_NET_ADMIN only%s",
	    (unsigned)uid, (unsigned)gid,
	    t->d.conf.sandbox ? ", sandboxed" : "");
}

/* routed learns the device every time the channel comes up, so a
 * restarted routed knows it again without asking. */
static void
tund_send_state(struct tund *t)
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
tund_routed_up(struct ipc_chan *c, void *arg)
{
	log_info("routed connected");
	tund_send_state(arg);
}

static int
tund_ctl_listen(struct tund *t)
{
	const char *path;

	t->ctl = daemon_ctl(&t->d, tund_ctl_cmds, tund_nctl_cmds, t, &path);
	if (t->ctl == NULL)
		return -1;
	/* Made as root, before the drop: give it to tund's user, or a
	 * tund started later as that user (a systemd unit) could not
	 * replace the file in the sticky run dir. */
	if (chown_for(path, t->d.ids.uid[D_TUND], t->d.ids.group) == -1) {
		log_warn("cannot give %s to uid %u", path,
		    (unsigned)t->d.ids.uid[D_TUND]);
		return -1;
	}
	return 0;
}

/* Create, configure and bring up the device (in its netns). */
static void
tund_device(struct tund *t)
{
	char err[512], ifname[16], off[96], v4[PREFIX_STRLEN],
	    v6[PREFIX_STRLEN];
	struct conf *c = &t->d.conf;

	if (c->netns[0]) {
		if (tun_enter_netns(c->netns, err, sizeof(err)) == -1)
			fatalx("%s", err);
		log_debug("entered netns %s", c->netns);
	}
	/* conf_defaults names it om-NET; keep that if a config cleared it. */
	if (c->ifname[0])
		snprintf(ifname, sizeof(ifname), "%s", c->ifname);
	else
		snprintf(ifname, sizeof(ifname), "om-%.12s", c->paths.net);
	if (c->mtu == 0)
		c->mtu = DEFAULT_MTU;
	if (tun_open(&t->tun, ifname, err, sizeof(err)) == -1)
		fatalx("%s", err);
	tun_offloads_fmt(t->tun.offloads, off, sizeof(off));
	log_info("%s: offloads %s", t->tun.ifname, off);
	if (tun_configure(&t->tun, c->mtu, &c->ipv4, &c->ipv6, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	t->up = 1;
	strcpy(v4, "-");
	strcpy(v6, "-");
	if (c->ipv4.family)
		prefix_fmt(&c->ipv4, v4, sizeof(v4), 1);
	if (c->ipv6.family)
		prefix_fmt(&c->ipv6, v6, sizeof(v6), 1);
	log_info("%s up%s%s: mtu %u, %s, %s", t->tun.ifname,
	    c->netns[0] ? " in netns " : "", c->netns, c->mtu, v4, v6);
}

/* Everything privileged while we are root, then the drop, then the
 * channel to routed. */
void
tund_start(struct tund *t)
{
	char err[512];

	tund_device(t);
	/* Routes change at run time: the socket for them is opened now,
	 * so the sandbox need not allow more than sending on it. */
	if ((t->nlfd = tun_nl_open(err, sizeof(err))) == -1)
		fatalx("%s", err);
	t->route_op = tund_route_kernel;

	if (datapath_listen(&t->dp, daemon_sock(&t->d, IPC_TUND_DATA),
	    t->d.ids.uid[D_TUND], t->d.ids.group, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (datapath_start(&t->dp, t->d.loop, t->tun.fd,
	    t->d.ids.uid[D_LINKD]) == -1)
		tund_fatal_cleanup(t, "out of memory for packet buffers");
	if (tund_ctl_listen(t) == -1)
		tund_fatal_cleanup(t, "cannot listen on the ctl socket");

	tund_drop(t);
	/* The channel to routed (routed.tund, routed listens; its
	 * messages go through tund_msgs[]). routed takes only tund's uid,
	 * and SO_PEERCRED is fixed at connect: dialled as root, the first
	 * attempt would be refused. */
	t->routed = daemon_chan(&t->d, IPC_ROUTED_TUND, D_ROUTED, tund_msgs,
	    tund_nmsgs, tund_routed_up, t, 0);
	if (t->routed == NULL)
		tund_fatal_cleanup(t, "cannot set up the channel to routed");
}

void
tund_stop(struct tund *t)
{
	/* Our routes go before the device does (they would go with it,
	 * but a route left behind by a half-stopped tund must not be
	 * possible, and the log says what went). */
	prefix_set_clear(&t->rt_want);
	tund_routes_apply(t);
	ipc_chan_close(t->routed);
	t->routed = NULL;
	ipc_ctl_close(t->ctl);
	t->ctl = NULL;
	datapath_stop(&t->dp);
	tun_close(&t->tun);
	if (t->nlfd != -1)
		close(t->nlfd);
	t->nlfd = -1;
	prefix_set_free(&t->rt_rx);
	prefix_set_free(&t->rt_want);
	prefix_set_free(&t->rt_have);
}

int
main(int argc, char **argv)
{
	struct tund *t = &tund;

	t->dp.lfd = t->dp.cfd = t->tun.fd = t->nlfd = -1;
	daemon_setup(&t->d, D_TUND, argc, argv);
	tund_start(t);
	log_debug("running");
	notify_ready(t->d.loop);
	ev_run(t->d.loop, 0);

	notify_stopping();
	log_info("stopping");
	tund_stop(t);
	return t->dp.failed ? 1 : 0;
}
