/*
 * The part of every daemon's main that is the same for all four: flags,
 * logging, config, uids, the runtime directory, signals, and at the end
 * the drop into an unprivileged, sandboxed process.
 *
 * Kept here so the order of set-up steps (which matters for security:
 * privileged resources first, then privdrop, then seccomp as the very
 * last step) is written once. daemon_setup must run before any nng
 * socket is opened: libev installs its signal handling then, before nng
 * starts threads that would inherit a different signal mask.
 *
 * Daemon-specific arguments. daemon_setup() parses only the common short
 * flags and stops at the first argument that is not one of them: an
 * operand, a long option ("--genkey") or "--". It leaves optind there,
 * so a daemon's main reads its own arguments from argv[optind..argc-1]:
 *
 *   onionmesh-keyd -d /tmp/m1 --genkey
 *                            ^ optind
 *
 * An unknown short option is a usage error (exit 2).
 */
#include "proto/daemon.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/file.h"
#include "proto/ipc.h"
#include "proto/log.h"
#include "proto/notify.h"
#include "proto/sandbox.h"

/* The longest socket name in ipc.h, to check the run dir once. */
#define LONGEST_SOCK "routed.linkd"

static void __attribute__((noreturn))
daemon_usage(enum daemon self, int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: onionmesh-%s [-fsv] [-n NET] [-d DIR] [%s options]\n"
	    "  -n NET  network name (default \"%s\")\n"
	    "  -d DIR  config, keys, hosts and sockets under DIR\n"
	    "  -f      stay in the foreground, log to stderr\n"
	    "  -s      log to syslog\n"
	    "  -v      more verbose (-vv: debug)\n",
	    daemon_name(self), daemon_name(self), DEFAULT_NET);
	exit(status);
}

static void
daemon_sig_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("got signal %d, stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void
daemon_sig_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon_ctx *d = w->data;

	(void)loop;
	(void)revents;
	d->hup = 1;
	if (d->on_hup != NULL)
		d->on_hup(d);
}

/*
 * The runtime directory holds the sockets. Under privsep it is
 * root:onionmesh 03771: every daemon user (all in the group) can list
 * it and connect, the setgid bit gives each socket file the group
 * onionmesh whoever creates it, and the sticky bit keeps one daemon
 * from removing or replacing another's socket.
 *
 * Others may pass through (o+x), but not list it, for one socket:
 * linkd.onion, where tor, running as a user of its own (debian-tor),
 * delivers the streams of our onion service. That socket is a public
 * door anyway (anyone on the Tor network reaches it through tor, and
 * nothing is answered before a Noise handshake proves a member key);
 * everything else here stays closed to others by its own mode: the IPC
 * and data sockets are 0660 and the logs 0640, group onionmesh. So
 * tor needs no group of ours, and the user changes nothing of tor's.
 * Its parents are made 0755 (they hold nothing but this directory).
 */
static void
daemon_rundir(struct daemon_ctx *d)
{
	const char *run = d->conf.paths.run_dir;
	char parent[PATH_MAX], *slash;
	mode_t mode = d->ids.privsep ? 03771 : 0771;
	struct stat st;

	if (strlen(run) + 1 + strlen(LONGEST_SOCK) >=
	    sizeof(((struct sockaddr_un *)0)->sun_path))
		fatalx("runtime directory %s is too long for Unix socket "
		    "paths (at most %zu bytes); use a shorter -d DIR", run,
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 2 -
		    strlen(LONGEST_SOCK));
	snprintf(parent, sizeof(parent), "%s", run);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir_p(parent, 0755) == -1)
			fatal("cannot create %s", parent);
	}
	if (mkdir(run, mode & 0777) == -1 && errno != EEXIST) {
		if (geteuid() != 0 && d->ids.privsep)
			fatal("cannot create runtime directory %s as a daemon "
			    "user; make it before the daemons start, root:%s "
			    "%04o (e.g. the unit's ExecStartPre=+ or "
			    "tmpfiles.d)", run, PRIVSEP_GROUP, (unsigned)mode);
		fatal("cannot create runtime directory %s", run);
	}
	if (stat(run, &st) == -1)
		fatal("%s", run);
	if (!S_ISDIR(st.st_mode))
		fatalx("runtime directory %s is not a directory", run);
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		/* Started as a daemon user (a systemd unit's User=): the
		 * directory is root's, made by the unit or tmpfiles.d, and
		 * only the group's access matters to us. */
		if (d->ids.privsep && (st.st_gid != d->ids.group ||
		    (st.st_mode & 0070) != 0070))
			fatalx("runtime directory %s is mode %04o group %u; "
			    "every daemon needs it root:%s %04o (made before "
			    "the daemons start, e.g. by the unit's "
			    "ExecStartPre=+ or tmpfiles.d)", run,
			    (unsigned)(st.st_mode & 07777),
			    (unsigned)st.st_gid, PRIVSEP_GROUP,
			    (unsigned)mode);
		return;
	}
	if (d->ids.privsep && geteuid() == 0 && (st.st_uid != 0 ||
	    st.st_gid != d->ids.group) && chown(run, 0, d->ids.group) == -1)
		fatal("cannot give %s to group %s", run, PRIVSEP_GROUP);
	if (d->ids.privsep && geteuid() != 0 && st.st_gid != d->ids.group &&
	    chown(run, (uid_t)-1, d->ids.group) == -1)
		fatal("cannot give %s to group %s", run, PRIVSEP_GROUP);
	if ((st.st_mode & 07777) != mode && chmod(run, mode) == -1)
		fatal("cannot set mode %04o on %s", (unsigned)mode, run);
}

int
daemon_flag(struct daemon_flags *f, int ch, const char *arg)
{
	switch (ch) {
	case 'n':
		f->net = arg;
		return 1;
	case 'd':
		f->dir = arg;
		return 1;
	case 'f':
		f->to_syslog = 0;
		return 1;
	case 's':
		f->to_syslog = 1;
		return 1;
	case 'v':
		f->verbose++;
		return 1;
	}
	return 0;
}

/* The flags before the daemon's own (long) options; exits on -h and on
 * a usage error. */
static void
daemon_flags(enum daemon self, int argc, char **argv,
    struct daemon_flags *f)
{
	int ch;

	/* '+': stop at the first operand; ':' reports a missing argument
	 * apart from an unknown flag. Stop before a long option too, so
	 * it is left to the daemon (see the comment at the top). */
	opterr = 0;
	optind = 1;
	for (;;) {
		if (optind < argc && strncmp(argv[optind], "--", 2) == 0 &&
		    argv[optind][2] != '\0')
			break;
		if ((ch = getopt(argc, argv, "+:n:d:fsvh")) == -1)
			break;
		if (daemon_flag(f, ch, optarg))
			continue;
		if (ch == 'h')
			daemon_usage(self, 0);
		if (ch == ':')
			fprintf(stderr, "onionmesh-%s: option -%c needs a "
			    "value\n", daemon_name(self), optopt);
		else
			fprintf(stderr, "onionmesh-%s: unknown option -%c\n",
			    daemon_name(self), optopt);
		daemon_usage(self, 2);
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
}

/* SIGTERM and SIGINT stop the loop, SIGHUP sets d->hup; SIGPIPE: a
 * peer that went away is an error return, not death. Ignored
 * process-wide, so nng's threads are covered too. */
static void
daemon_signals(struct daemon_ctx *d)
{
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&d->sig_term, daemon_sig_stop, SIGTERM);
	ev_signal_init(&d->sig_int, daemon_sig_stop, SIGINT);
	ev_signal_init(&d->sig_hup, daemon_sig_hup, SIGHUP);
	d->sig_hup.data = d;
	ev_signal_start(d->loop, &d->sig_term);
	ev_signal_start(d->loop, &d->sig_int);
	ev_signal_start(d->loop, &d->sig_hup);
	/* sig_pipe stays unused: SIG_IGN above is the whole answer. */
	ev_signal_init(&d->sig_pipe, daemon_sig_stop, SIGPIPE);
}

void
daemon_setup(struct daemon_ctx *d, enum daemon self, int argc, char **argv)
{
	struct daemon_flags fl;
	char err[1024];
	int level;

	memset(d, 0, sizeof(*d));
	memset(&fl, 0, sizeof(fl));
	d->self = self;
	log_init(daemon_name(self), LOG_LVL_INFO, 0);
	/* stderr is a log file (time and level on each line) or the
	 * journal (a level prefix only). */
	log_set_style(log_style_detect());
	daemon_flags(self, argc, argv, &fl);

	if (conf_paths(&d->conf.paths, fl.net, fl.dir, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "onionmesh-%s: %s\n", daemon_name(self), err);
		exit(2);
	}
	if (conf_load(&d->conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "onionmesh-%s: %s\n", daemon_name(self), err);
		exit(1);
	}
	/* -v raises the configured level; -vv from the default reaches
	 * debug. */
	level = d->conf.loglevel + fl.verbose;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_init(daemon_name(self), level, fl.to_syslog);

	if (daemon_ids_resolve_self(&d->ids, d->conf.privsep, self, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		exit(1);
	}
	daemon_rundir(d);
	/* Under systemd (Type=notify): the socket is opened now, before
	 * the sandbox; READY=1 comes from the daemon's main. */
	if (notify_open() == -1)
		log_warn("NOTIFY_SOCKET=%s is unusable (want /PATH or @NAME "
		    "of the service manager's socket)",
		    getenv("NOTIFY_SOCKET"));

	d->loop = ev_default_loop(EVFLAG_AUTO);
	if (d->loop == NULL)
		fatalx("cannot start the event loop (libev)");
	daemon_signals(d);

	log_debug("network %s, config %s, runtime %s, privsep %s",
	    d->conf.paths.net, d->conf.paths.conf_file,
	    d->conf.paths.run_dir, d->ids.privsep ? "yes" : "no");
}

const char *
daemon_sock(const struct daemon_ctx *d, const char *name)
{
	/* A few rotating buffers, so one call's result survives the next
	 * few (a daemon's main passes two or three to one function). */
	static char bufs[8][sizeof(((struct sockaddr_un *)0)->sun_path)];
	static unsigned int next;
	char *out = bufs[next++ % 8];

	if (ipc_path(out, sizeof(bufs[0]), d->conf.paths.run_dir,
	    name) == -1)
		fatalx("socket path %s/%s is too long; use a shorter -d DIR",
		    d->conf.paths.run_dir, name);
	return out;
}

int
daemon_unix_only(const struct conf *c, enum daemon self)
{
	if (c->tor_control[0] == '\0' || c->tor_socks[0] == '\0')
		return 0;
	if (self == D_LINKD)
		return strncmp(c->tor_socks, "unix:", 5) == 0;
	if (self == D_KEYD)
		return strncmp(c->tor_control, "unix:", 5) == 0;
	return 0;
}

void
daemon_drop(struct daemon_ctx *d)
{
	uid_t uid = d->ids.uid[d->self];
	gid_t gid = d->ids.gid[d->self];
	int extra = d->ids.privsep && d->have_extra_gid;
	int unix_only = daemon_unix_only(&d->conf, d->self);

	if ((extra ? privdrop_extra_group(uid, gid, d->extra_gid) :
	    privdrop(uid, gid)) == -1) {
		/* Started as its own user (a unit's User=), it can only
		 * keep the groups it was given: say who gives them. */
		if (extra && geteuid() != 0)
			fatalx("running as uid %u without tor's group (gid "
			    "%u), which only root can add: under systemd run "
			    "`onionmesh -n %s up` once (it writes the unit's "
			    "SupplementaryGroups= drop-in), or start it with "
			    "that group", (unsigned)geteuid(),
			    (unsigned)d->extra_gid, d->conf.paths.net);
		fatal("cannot drop privileges to uid %u gid %u",
		    (unsigned)uid, (unsigned)gid);
	}
	if (d->conf.sandbox) {
		if (sandbox_enter_flags(d->self, unix_only ?
		    SANDBOX_UNIX_ONLY : 0) == -1)
			fatal("cannot enter the seccomp sandbox (set "
			    "sandbox = no to run without it)");
	}
	if (extra)
		log_info("running as uid %u gid %u, groups %u %u%s%s",
		    (unsigned)uid, (unsigned)gid, (unsigned)gid,
		    (unsigned)d->extra_gid,
		    d->conf.sandbox ? ", sandboxed" : "",
		    d->conf.sandbox && unix_only ? " (Unix sockets only)" :
		    "");
	else
		log_info("running as uid %u gid %u%s%s", (unsigned)uid,
		    (unsigned)gid, d->conf.sandbox ? ", sandboxed" : "",
		    d->conf.sandbox && unix_only ? " (Unix sockets only)" :
		    "");
}

struct ipc_chan *
daemon_chan(struct daemon_ctx *d, const char *name, enum daemon peer,
    const struct msg_handler *tab, size_t n, ipc_up_cb on_up, void *arg,
    int listen)
{
	struct ipc_chan_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = d->loop;
	cfg.path = daemon_sock(d, name);
	cfg.self = d->self;
	cfg.peer = peer;
	cfg.peer_uid = d->ids.uid[peer];
	cfg.handlers = tab;
	cfg.nhandlers = n;
	cfg.on_up = on_up;
	cfg.arg = arg;
	return listen ? ipc_chan_listen(&cfg) : ipc_chan_dial(&cfg);
}

struct ipc_ctl *
daemon_ctl(struct daemon_ctx *d, const struct ctl_cmd *tab, size_t n,
    void *ctx, const char **path)
{
	const char *self = daemon_name(d->self), *p;
	char name[64];

	snprintf(name, sizeof(name), IPC_CTL_FMT, self);
	p = daemon_sock(d, name);
	if (path != NULL)
		*path = p;
	return ipc_ctl_listen(d->loop, p, self, tab, n, ctx);
}
