/*
 * What every daemon's main does the same way: flags, log, config, ids,
 * the runtime dir, signals, and at the end privdrop + sandbox. A daemon's
 * main reads:
 *
 *   daemon_setup(&d, D_LINKD, argc, argv);   flags, log, conf, ids
 *   ... take privileged resources, IPC up ...
 *   daemon_drop(&d);                         privdrop + sandbox
 *   notify_ready(d.loop);                    systemd: READY=1, watchdog
 *   ev_run(d.loop, 0);
 *   notify_stopping();                       systemd: STOPPING=1
 *   ... orderly shutdown ...
 *
 * Started as its own user (a systemd unit's User=onionmesh-<daemon>,
 * Group=onionmesh) a daemon finds its siblings' uids as under privsep
 * and has nothing to drop; its stderr is then the journal and each line
 * gets a level prefix instead of a time (proto/log.h).
 *
 * Flags common to all daemons:
 *   -n NET   network name (default "default")
 *   -d DIR   base directory for config, state and sockets
 *   -f       foreground: log to stderr (default when not started by up
 *            is also stderr; syslog only with -s)
 *   -s       log to syslog
 *   -v       more verbose (repeat for debug)
 */
#ifndef OM_DAEMON_H
#define OM_DAEMON_H

#include <limits.h>

#include <ev.h>

#include "proto/conf.h"
#include "proto/dispatch.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "proto/privdrop.h"

struct daemon_ctx {
	enum daemon self;
	struct conf conf;
	struct daemon_ids ids;
	struct ev_loop *loop;
	ev_signal sig_term;
	ev_signal sig_int;
	ev_signal sig_hup;
	ev_signal sig_pipe;
	int hup;              /* set by SIGHUP; daemon may poll or hook */
	/* One supplementary group daemon_drop keeps under privsep (keyd
	 * only: tor's cookie group); every other group is dropped. */
	int have_extra_gid;
	gid_t extra_gid;
	void (*on_hup)(struct daemon_ctx *);
};

/* The flags every daemon takes, as daemon_setup and keyd's one-shot
 * modes read them. */
struct daemon_flags {
	const char *net;               /* -n NET; NULL: the default */
	const char *dir;               /* -d DIR */
	int to_syslog;                 /* -s (-f: 0) */
	int verbose;                   /* -v, counted */
};
/* getopt's ch (and optarg) into f: 1 when it was one of -n, -d, -f, -s
 * and -v, else 0 (the caller's to handle). */
int daemon_flag(struct daemon_flags *f, int ch, const char *arg);

/* Exits 2 on a usage error, 1 on a config error (after a message
 * naming the value). SIGTERM/SIGINT stop the loop (ev_break). The run
 * dir exists afterwards (0771; 03771 group onionmesh under privsep:
 * tor may pass through to linkd's onion socket, see daemon.c). */
void daemon_setup(struct daemon_ctx *d, enum daemon self, int argc,
    char **argv);
/* Runtime socket path for a name from ipc.h ("keyd.linkd"). */
const char *daemon_sock(const struct daemon_ctx *d, const char *name);
/* The channel to sibling `peer` at runtime socket `name` (ipc.h),
 * listening or dialling, its messages answered from the daemon's table
 * (dispatch.h) with arg as ctx; on_up may be NULL. NULL when it cannot
 * be set up (logged by ipc.c): the caller stops. */
struct ipc_chan *daemon_chan(struct daemon_ctx *d, const char *name,
    enum daemon peer, const struct msg_handler *tab, size_t n,
    ipc_up_cb on_up, void *arg, int listen);
/* This daemon's ctl socket (ctl.<daemon>, IPC_CTL_FMT) answering from
 * its command table (dispatch.h) with ctx; its path in path (may be
 * NULL) for the caller's messages. NULL when it cannot listen (logged
 * by ipc.c): the caller stops. */
struct ipc_ctl *daemon_ctl(struct daemon_ctx *d, const struct ctl_cmd *tab,
    size_t n, void *ctx, const char **path);
/* Drop to this daemon's uid and enter its sandbox (when conf.sandbox):
 * linkd and keyd in onion mode with Unix sockets for tor get no IP
 * socket family at all (daemon_unix_only). */
void daemon_drop(struct daemon_ctx *d);
/* Does daemon `self` with config c need no IP socket? Onion mode (both
 * tor addresses set) and unix: for what it dials: tor_socks for linkd,
 * tor_control for keyd. */
int daemon_unix_only(const struct conf *c, enum daemon self);

#endif
