/*
 * onionmesh-keyd: the keeper of a member's secrets and host records.
 *
 * It is the only process that reads the key store. The identity key is
 * loaded once, before privileges are dropped; from then on linkd gets
 * X25519 and signatures from it over an rpc, and never the key. keyd
 * also verifies, stores and hands out the host records in hosts/, and
 * keeps our own record in step with the config.
 *
 *   onionmesh-keyd [-n NET] [-d DIR] [-f] [-s] [-v]       the daemon
 *
 * This file is the daemon's lifecycle: start-up, the channels, SIGHUP
 * and shutdown. Its one-shot modes, --genkey and --join, are their own
 * files (oneshot.h).
 *
 * In onion mode (tor_control and tor_socks in the config) the daemon
 * also publishes the member's onion service through tor (tor.c).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/oneshot.h"
#include "proto/file.h"
#include "proto/log.h"
#include "proto/notify.h"

/* The key store and hosts/ given to keyd's user, before the drop:
 * after it keyd must still write hosts/ and own its keys. Started as
 * its own user (a unit's User=, a container), it cannot take over
 * records root wrote there (`onionmesh import`, `join`), and need not:
 * it reads them, and replaces them through the folder, which must be
 * its own. */
static void
keyd_store_own(struct keyd *k)
{
	const struct conf_paths *p = &k->d.conf.paths;
	uid_t uid = k->d.ids.uid[D_KEYD];
	gid_t gid = k->d.ids.gid[D_KEYD];
	char err[KEYD_ERRLEN];

	if (!k->d.ids.privsep) {
		if (keyd_chown_tree(p->keys_dir, geteuid(), getegid(), err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
		return;
	}
	if (keyd_chown_tree(p->keys_dir, uid, gid, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (geteuid() != 0 && keyd_chown_if(p->hosts_dir, uid, gid) == -1)
		fatal("cannot give %s to uid %u (make it keyd's)",
		    p->hosts_dir, (unsigned)uid);
	if (geteuid() == 0 && keyd_chown_tree(p->hosts_dir, uid, gid, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
}

/* The identity, the onion key and the records, before the drop. */
static void
keyd_load(struct keyd *k)
{
	char err[KEYD_ERRLEN];
	int bad;

	if (keys_load(k->d.conf.paths.keys_dir, err, sizeof(err)) == -1)
		fatalx("%s (onionmesh init, or onionmesh-keyd --genkey, "
		    "creates the identity)", err);
	/* Before the drop and before keyd_store_own, so a key made here
	 * is given to keyd's user like the rest of the store. */
	if (keyd_tor_key(&k->d.conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (mkdir_p(k->d.conf.paths.hosts_dir, 0755) == -1)
		fatal("cannot create %s", k->d.conf.paths.hosts_dir);
	keyd_store_own(k);

	records_init(&k->recs);
	bad = records_load_dir(&k->recs, k->d.conf.paths.hosts_dir,
	    k->netid);
	if (bad == -1)
		fatal("cannot read %s", k->d.conf.paths.hosts_dir);
	grants_load(k);
	if (records_own_refresh(&k->recs, &k->d.conf, k->netid,
	    k->d.ids.privsep, k->d.ids.uid[D_KEYD], k->d.ids.gid[D_KEYD],
	    err, sizeof(err)) == -1)
		fatalx("%s", err);
	log_info("%s: %zu records%s", k->d.conf.paths.hosts_dir, k->recs.n,
	    bad > 0 ? " (some files skipped, see above)" : "");
}

static void
keyd_on_hup(struct daemon_ctx *d)
{
	struct keyd *k = (struct keyd *)((char *)d -
	    offsetof(struct keyd, d));
	char err[KEYD_ERRLEN];

	log_info("SIGHUP: reloading");
	if (keyd_reload(k, err, sizeof(err)) == -1)
		log_warnx("reload failed, previous state kept: %s", err);
}

/* One of the channels to linkd and routed; NULL after fatalx. */
static struct ipc_chan *
keyd_listen(struct keyd *k, const char *sock, enum daemon peer)
{
	struct ipc_chan_cfg cfg;
	struct ipc_chan *c;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d, sock));
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = k->d.loop;
	cfg.self = D_KEYD;
	cfg.handlers = keyd_msgs;
	cfg.nhandlers = keyd_nmsgs;
	cfg.on_up = keyd_on_up;
	cfg.arg = k;
	cfg.path = path;
	cfg.peer = peer;
	cfg.peer_uid = k->d.ids.uid[peer];
	if ((c = ipc_chan_listen(&cfg)) == NULL)
		fatalx("cannot listen on %s", path);
	return c;
}

/* After the drop: the modules, their timers and the sockets. */
static void
keyd_start(struct keyd *k)
{
	char path[PATH_MAX], name[64];

	if (msg_table_check(keyd_msgs, keyd_nmsgs, "keyd") == -1)
		fatalx("keyd's message table disagrees with the catalogue");
	k->d.on_hup = keyd_on_hup;
	push_start(k);
	gossip_start(k);
	join_serve_start(k);
	/* Each set before the next listens: on_up may run as soon as the
	 * loop does and compares against these pointers. */
	k->linkd = keyd_listen(k, IPC_KEYD_LINKD, D_LINKD);
	k->routed = keyd_listen(k, IPC_KEYD_ROUTED, D_ROUTED);

	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d,
	    IPC_KEYD_CRYPTO));
	k->crypto = ipc_rpc_listen(k->d.loop, path, D_KEYD, D_LINKD,
	    k->d.ids.uid[D_LINKD], keyd_rpc, k);
	if (k->crypto == NULL)
		fatalx("cannot listen on %s", path);

	snprintf(name, sizeof(name), IPC_CTL_FMT, "keyd");
	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d, name));
	k->ctl = ipc_ctl_listen(k->d.loop, path, "keyd", keyd_ctl_cmds,
	    keyd_nctl_cmds, k);
	if (k->ctl == NULL)
		fatalx("cannot listen on %s", path);
}

static void
keyd_stop(struct keyd *k)
{
	keyd_tor_stop(k);
	push_stop(k);
	gossip_stop(k);
	join_serve_stop(k);
	if (k->ctl != NULL)
		ipc_ctl_close(k->ctl);
	if (k->crypto != NULL)
		ipc_rpc_close(k->crypto);
	if (k->routed != NULL)
		ipc_chan_close(k->routed);
	if (k->linkd != NULL)
		ipc_chan_close(k->linkd);
	k->ctl = NULL;
	k->crypto = NULL;
	k->routed = NULL;
	k->linkd = NULL;
	records_free(&k->recs);
	keys_wipe();
}

int
main(int argc, char **argv)
{
	static struct keyd k;
	int rc;

	if ((rc = keyd_oneshot(argc, argv)) != -1)
		return rc;

	daemon_setup(&k.d, D_KEYD, argc, argv);
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	k.started = ev_now(k.d.loop);
	netid_derive(k.netid, k.d.conf.paths.net, k.d.conf.root);
	keyd_load(&k);

	/* tor's group, looked up while keyd may still stat the cookie's
	 * folder and read /etc/group. */
	keyd_tor_group(&k);
	/* IPC after the drop: SO_PEERCRED reports the uid a socket had
	 * when it listened or connected, and the peers expect keyd's. */
	daemon_drop(&k.d);
	keyd_start(&k);
	/* The first connection to tor is made from the loop, so after the
	 * drop and inside the sandbox. */
	if (keyd_tor_apply(&k) == -1)
		fatalx("cannot publish the onion service with tor_control = "
		    "%s (see above)", k.d.conf.tor_control);
	log_info("ready (member %s%s%s)", k.d.conf.name,
	    keys_onion_addr() ? ", " : "",
	    keys_onion_addr() ? keys_onion_addr() : "");
	notify_ready(k.d.loop);
	ev_run(k.d.loop, 0);

	notify_stopping();
	log_info("shutting down");
	keyd_stop(&k);
	return 0;
}
