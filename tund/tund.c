/*
 * onionmesh-tund: owns the TUN device and moves packets between it and
 * linkd, and routes other members' subnets to the device.
 *
 * Shape of main (STYLE.md, "A daemon's main"): flags, log and config
 * (daemon_setup); the privileged part — enter the network namespace,
 * create and configure the device, open the rtnetlink socket for routes,
 * create the data socket file — while we are root; then the ctl socket
 * and the channel to routed; then the drop (tund_drop) and the sandbox,
 * and the loop runs with open descriptors and one capability. tund opens
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

int
main(int argc, char **argv)
{
	struct tund *t = &tund;
	char err[512], ifname[16], off[96], v4[PREFIX_STRLEN],
	    v6[PREFIX_STRLEN];
	struct conf *c = &t->d.conf;

	t->dp.lfd = t->dp.cfd = t->tun.fd = t->nlfd = -1;
	daemon_setup(&t->d, D_TUND, argc, argv);

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
	if (tund_ctl_start(t) == -1)
		tund_fatal_cleanup(t, "cannot listen on the ctl socket");

	tund_drop(t);
	/* routed takes only tund's uid, and SO_PEERCRED is fixed at
	 * connect: dialled as root, the first attempt would be refused. */
	if (tund_dispatch_start(t) == -1)
		tund_fatal_cleanup(t, "cannot set up the channel to routed");
	log_debug("running");
	notify_ready(t->d.loop);
	ev_run(t->d.loop, 0);

	notify_stopping();
	log_info("stopping");
	/* Our routes go before the device does (they would go with it,
	 * but a route left behind by a half-stopped tund must not be
	 * possible, and the log says what went). */
	route_set_clear(&t->rt_want);
	tund_routes_apply(t);
	tund_dispatch_stop(t);
	tund_ctl_stop(t);
	datapath_stop(&t->dp);
	tun_close(&t->tun);
	if (t->nlfd != -1)
		close(t->nlfd);
	route_set_free(&t->rt_rx);
	route_set_free(&t->rt_want);
	route_set_free(&t->rt_have);
	return t->dp.failed ? 1 : 0;
}
