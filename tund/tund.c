/*
 * onionmesh-tund: owns the TUN device and moves packets between it and
 * linkd.
 *
 * Shape of main (STYLE.md, "A daemon's main"): flags, log and config
 * (daemon_setup); the privileged part — enter the network namespace,
 * create and configure the device, create the data socket file — while
 * we still hold CAP_NET_ADMIN; then the ctl socket and the channel to
 * routed; then privileges and the sandbox go (daemon_drop) and the loop
 * runs with nothing but open descriptors. tund opens no network socket
 * after that and parses nothing beyond IP version and length.
 */
#include "tund/tund.h"

#include <stdio.h>
#include <string.h>

#include "proto/log.h"

static struct tund tund;

static void
tund_fatal_cleanup(struct tund *t, const char *err)
{
	datapath_stop(&t->dp);
	fatalx("%s", err);
}

int
main(int argc, char **argv)
{
	struct tund *t = &tund;
	char err[512], ifname[16], off[96], v4[PREFIX_STRLEN],
	    v6[PREFIX_STRLEN];
	struct conf *c = &t->d.conf;

	t->dp.lfd = t->dp.cfd = t->tun.fd = -1;
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

	if (datapath_listen(&t->dp, daemon_sock(&t->d, IPC_TUND_DATA),
	    t->d.ids.uid[D_TUND], t->d.ids.group, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (datapath_start(&t->dp, t->d.loop, t->tun.fd,
	    t->d.ids.uid[D_LINKD]) == -1)
		tund_fatal_cleanup(t, "out of memory for packet buffers");
	if (tund_ctl_start(t) == -1)
		tund_fatal_cleanup(t, "cannot listen on the ctl socket");
	if (tund_dispatch_start(t) == -1)
		tund_fatal_cleanup(t, "cannot set up the channel to routed");

	daemon_drop(&t->d);
	log_debug("running");
	ev_run(t->d.loop, 0);

	log_info("stopping");
	tund_dispatch_stop(t);
	tund_ctl_stop(t);
	datapath_stop(&t->dp);
	tun_close(&t->tun);
	return t->dp.failed ? 1 : 0;
}
