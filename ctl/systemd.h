/*
 * `onionmesh up/down` on a host where systemd runs the network's daemons
 * (deploy/systemd/: onionmesh@NET.target and one unit per daemon): act
 * through systemctl instead of starting a second daemon set, and the
 * checks `up` makes before it starts daemons under their own users.
 */
#ifndef OM_CTL_SYSTEMD_H
#define OM_CTL_SYSTEMD_H

#include "ctl/ctl.h"

/* 1 when systemd manages network c->paths.net: this host runs systemd
 * (/run/systemd/system), no -d DIR was given, and onionmesh@NET.target
 * is enabled or it or one of its daemon units is active. 0 otherwise
 * (the supervisor's case). */
int ctl_systemd_manages(struct ctl *c);
/* up and down through systemctl: start (writing keyd's drop-in for
 * tor's group first, see systemd.c) and wait until every daemon
 * answers, or stop. CTL_OK or CTL_FAIL, explained. */
int ctl_systemd_up(struct ctl *c, const struct conf *conf);
int ctl_systemd_down(struct ctl *c);
/* Under privsep (root, and the daemon users exist): can each daemon's
 * user reach every folder it needs? CTL_OK, or CTL_FAIL after naming
 * the daemon, the folder and why. */
int ctl_check_reach(struct ctl *c, const struct conf *conf);

#endif
