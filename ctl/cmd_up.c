/*
 * up / down, and the supervisor that up becomes: the way to run a
 * network's daemon set without systemd.
 *
 * The supervisor is one small process per network. It holds an flock on
 * run/supervisor.pid for as long as it lives, so "is this network up?"
 * is answered by the kernel (the lock goes away with the process, even
 * on SIGKILL) rather than by a pid that may have been reused. It starts
 * keyd, routed, linkd and tund, each in its own process group with
 * stderr appended to run/<daemon>.log, and restarts any that dies: the
 * first restart after 0.2 s, the delay doubling up to 5 s while a daemon
 * keeps dying, back to 0.2 s once it has stayed up 30 s. Every daemon
 * can rebuild its state from its peers (DESIGN.md), so a restart is all
 * the recovery there is.
 *
 * The loop is sigtimedwait() on blocked signals — SIGCHLD, SIGTERM,
 * SIGINT, SIGHUP — with the next restart as its timeout: no handler, no
 * flag, no race between a signal and the wait. SIGTERM/SIGINT stop the
 * children (SIGTERM, SIGKILL after 5 s), SIGHUP is passed on to them.
 *
 * `up` without --foreground forks the supervisor into its own session and
 * then waits (up to 15 s) until every daemon answers "status" on its ctl
 * socket, so a script that runs `onionmesh up` can use the network next.
 *
 * Before any of that, `up` checks that each daemon's user can pass
 * through the folders above its own, and on a network systemd runs
 * (onionmesh@NET.target enabled or active) `up` and `down` go through
 * systemctl instead (ctl/systemd.c).
 */
#include "ctl/ctl.h"
#include "ctl/systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/clock.h"
#include "proto/file.h"
#include "proto/log.h"

#define PIDFILE        "supervisor.pid"
#define SUPERVISOR_LOG "supervisor.log"
#define UP_WAIT        15.0
#define DOWN_WAIT      10.0
#define STOP_GRACE     5.0
#define RESTART_FIRST  0.2
#define RESTART_MAX    5.0
#define RESTART_RESET  30.0  /* alive this long: back to RESTART_FIRST */

struct child {
	const char *name;
	char path[PATH_MAX];     /* the daemon binary */
	char log[PATH_MAX];      /* run/<name>.log */
	pid_t pid;               /* 0: not running */
	double started;
	double restart_at;       /* when pid == 0 */
	double delay;            /* the next restart's delay */
	unsigned restarts;
};

struct supervisor {
	struct ctl *c;
	struct child ch[CTL_NDAEMONS];
	sigset_t waitset;        /* blocked, taken by sigtimedwait */
	sigset_t oldmask;        /* restored in children */
	char pidfile[PATH_MAX];
	int pidfd;
};

static void
sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
run_path(struct ctl *c, const char *name, char *out, size_t cap)
{
	return ctl_path(out, cap, c->paths.run_dir, name);
}

/* The pid in the file, or 0 when it holds none (never 1 or below: that
 * would make kill() hit init or a process group). */
static pid_t
pidfile_read(int fd)
{
	char buf[32], *end;
	ssize_t n;
	long v;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end != '\0') || v <= 1 ||
	    v > INT32_MAX)
		return 0;
	return (pid_t)v;
}

/*
 * Take run/supervisor.pid: the fd (close-on-exec, locked) or -1 with
 * *holder set when another supervisor holds it, -2 on an error
 * (printed). An exiting supervisor removes the file after we opened it
 * but before we locked it: then lock the new one instead.
 */
static int
pidfile_lock(const char *path, pid_t *holder)
{
	struct stat a, b;
	int fd, tries;

	*holder = 0;
	for (tries = 0; tries < 5; tries++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) ==
		    -1) {
			ctl_warn("cannot open %s", path);
			return -2;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno == EWOULDBLOCK) {
				*holder = pidfile_read(fd);
				close(fd);
				/* No pid: a status probing the lock for a
				 * moment, or a supervisor just starting. */
				if (*holder == 0 && tries < 4) {
					sleep_s(0.05);
					continue;
				}
				return -1;
			}
			ctl_warn("cannot lock %s", path);
			close(fd);
			return -2;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	ctl_warnx("%s keeps being replaced; is another `onionmesh up' "
	    "running?", path);
	return -2;
}

static int
pidfile_write(int fd, pid_t pid)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n)
		return -1;
	return 0;
}

/* Open the pid file and see whether a supervisor holds its lock: 1 (fd
 * in *fdp if not NULL, else closed), 0 none, -1 error (printed). */
static int
pidfile_probe(struct ctl *c, pid_t *pid, int *fdp)
{
	char path[PATH_MAX];
	int fd;

	*pid = 0;
	if (run_path(c, PIDFILE, path, sizeof(path)) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		ctl_warn("cannot open %s", path);
		return -1;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	if (errno != EWOULDBLOCK) {
		ctl_warn("cannot check the lock of %s", path);
		close(fd);
		return -1;
	}
	*pid = pidfile_read(fd);
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 1;
}

int
ctl_supervisor_running(struct ctl *c, pid_t *pid)
{
	return pidfile_probe(c, pid, NULL);
}

static void
describe_status(char *out, size_t cap, int st)
{
	if (WIFEXITED(st))
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, cap, "was killed by signal %d (%s)",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(out, cap, "stopped (status 0x%x)", st);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child_exec(struct supervisor *s, struct child *ch)
{
	const char *argv[9];
	int fd, i = 0;

	sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
	signal(SIGCHLD, SIG_DFL);
	/* Its own process group: a ^C on the terminal of `up --foreground'
	 * reaches the supervisor only, which then stops the set in order. */
	setpgid(0, 0);
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if ((fd = open(ch->log, O_WRONLY | O_CREAT | O_APPEND, 0640)) !=
	    -1) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	argv[i++] = ch->path;
	argv[i++] = "-n";
	argv[i++] = s->c->paths.net;
	if (s->c->dir) {
		argv[i++] = "-d";
		argv[i++] = s->c->dir;
	}
	argv[i++] = "-f";
	argv[i] = NULL;
	execv(ch->path, (char *const *)argv);
	dprintf(2, "onionmesh up: cannot run %s: %s\n", ch->path,
	    strerror(errno));
	_exit(127);
}

static void
child_start(struct supervisor *s, struct child *ch)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_warn("cannot start %s", ch->name);
		ch->restart_at = mono_now() + ch->delay;
		return;
	}
	if (pid == 0)
		child_exec(s, ch);
	ch->pid = pid;
	ch->started = mono_now();
	log_info("started %s (pid %d)", ch->name, (int)pid);
}

static int
any_running(struct supervisor *s)
{
	int i;

	for (i = 0; i < CTL_NDAEMONS; i++)
		if (s->ch[i].pid > 0)
			return 1;
	return 0;
}

static void
reap(struct supervisor *s, int stopping)
{
	char how[128];
	struct child *ch;
	double now, alive;
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (ch = NULL, i = 0; i < CTL_NDAEMONS; i++)
			if (s->ch[i].pid == pid)
				ch = &s->ch[i];
		if (ch == NULL)
			continue;
		ch->pid = 0;
		describe_status(how, sizeof(how), st);
		if (stopping) {
			log_info("%s (pid %d) %s", ch->name, (int)pid, how);
			continue;
		}
		now = mono_now();
		alive = now - ch->started;
		if (alive >= RESTART_RESET)
			ch->delay = RESTART_FIRST;
		ch->restart_at = now + ch->delay;
		ch->restarts++;
		log_warnx("%s (pid %d) %s after %.1f s; restarting in %.1f s "
		    "(restart %u; see %s)", ch->name, (int)pid, how, alive,
		    ch->delay, ch->restarts, ch->log);
		ch->delay *= 2;
		if (ch->delay > RESTART_MAX)
			ch->delay = RESTART_MAX;
	}
}

static void
timeout_ts(struct timespec *ts, double s)
{
	if (s < 0.001)
		s = 0.001;
	ts->tv_sec = (time_t)s;
	ts->tv_nsec = (long)((s - ts->tv_sec) * 1e9);
}

static void
stop_all(struct supervisor *s)
{
	struct timespec ts;
	sigset_t chld;
	double deadline, left;
	int i;

	for (i = 0; i < CTL_NDAEMONS; i++)
		if (s->ch[i].pid > 0)
			kill(s->ch[i].pid, SIGTERM);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	deadline = mono_now() + STOP_GRACE;
	reap(s, 1);
	while (any_running(s) && (left = deadline - mono_now()) > 0) {
		timeout_ts(&ts, left);
		(void)sigtimedwait(&chld, NULL, &ts);
		reap(s, 1);
	}
	for (i = 0; i < CTL_NDAEMONS; i++) {
		if (s->ch[i].pid <= 0)
			continue;
		log_warnx("%s (pid %d) did not stop within %.0f s: killing "
		    "it", s->ch[i].name, (int)s->ch[i].pid, STOP_GRACE);
		/* Its group too: whatever it started dies with it. */
		kill(-s->ch[i].pid, SIGKILL);
		kill(s->ch[i].pid, SIGKILL);
		while (waitpid(s->ch[i].pid, NULL, 0) == -1 && errno == EINTR)
			;
		s->ch[i].pid = 0;
	}
}

static void
chld_noop(int sig)
{
	(void)sig;
}

/*
 * Runs until SIGTERM/SIGINT; returns the exit status. The signals of
 * s->waitset are blocked already, in every thread (see cmd_up).
 */
static int
supervise(struct supervisor *s)
{
	struct sigaction sa;
	struct timespec ts;
	siginfo_t si;
	struct stat a, b;
	double now, next;
	int i, sig;

	/* SIGCHLD must not be SIG_IGN (children would be reaped for us
	 * and their status lost); a no-op handler makes that explicit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = chld_noop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("supervising network %s (pid %d)", s->c->paths.net,
	    (int)getpid());
	for (i = 0; i < CTL_NDAEMONS; i++)
		child_start(s, &s->ch[i]);

	for (;;) {
		now = mono_now();
		next = 3600;
		for (i = 0; i < CTL_NDAEMONS; i++)
			if (s->ch[i].pid == 0 &&
			    s->ch[i].restart_at - now < next)
				next = s->ch[i].restart_at - now;
		timeout_ts(&ts, next);
		sig = sigtimedwait(&s->waitset, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on signal %d (%s)", sig,
			    strsignal(sig));
			break;
		}
		if (sig == SIGHUP) {
			for (i = 0; i < CTL_NDAEMONS; i++)
				if (s->ch[i].pid > 0)
					kill(s->ch[i].pid, SIGHUP);
			continue;
		}
		if (sig == SIGCHLD)
			reap(s, 0);
		now = mono_now();
		for (i = 0; i < CTL_NDAEMONS; i++)
			if (s->ch[i].pid == 0 && s->ch[i].restart_at <= now)
				child_start(s, &s->ch[i]);
	}
	stop_all(s);
	/* Remove the pid file only if it is still ours. */
	if (fstat(s->pidfd, &a) == 0 && stat(s->pidfile, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		unlink(s->pidfile);
	close(s->pidfd);
	log_info("stopped");
	return CTL_OK;
}

/* The supervisor in a new session, its output in run/supervisor.log. */
static void
detach(struct supervisor *s)
{
	char path[PATH_MAX];
	int fd;

	setsid();
	if (chdir("/") == -1)
		_exit(1);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	if (run_path(s->c, SUPERVISOR_LOG, path, sizeof(path)) == 0 &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) != -1) {
		dup2(fd, 2);
		close(fd);
	}
}

/* What the supervisor needs before it starts: the daemons' binaries and
 * logs, the run dir, the pid file (locked in s->pidfd), and no daemon
 * left over from a supervisor that was killed (it would hold the
 * sockets the new ones need). CTL_OK, or CTL_FAIL printed. */
static int
up_prepare(struct ctl *c, struct supervisor *s)
{
	char err[512], logpath[PATH_MAX];
	pid_t holder;
	json_t *rep;
	int i, down;

	memset(s, 0, sizeof(*s));
	s->c = c;
	/* Blocked before the first ctl request starts nng's threads, which
	 * inherit the mask: otherwise a SIGCHLD or SIGTERM meant for the
	 * supervisor's sigtimedwait could be taken by one of them. */
	sigemptyset(&s->waitset);
	sigaddset(&s->waitset, SIGCHLD);
	sigaddset(&s->waitset, SIGTERM);
	sigaddset(&s->waitset, SIGINT);
	sigaddset(&s->waitset, SIGHUP);
	sigprocmask(SIG_BLOCK, &s->waitset, &s->oldmask);
	for (i = 0; i < CTL_NDAEMONS; i++) {
		s->ch[i].name = ctl_daemons[i];
		s->ch[i].delay = RESTART_FIRST;
		if (ctl_daemon_path(ctl_daemons[i], s->ch[i].path,
		    sizeof(s->ch[i].path)) == -1)
			return CTL_FAIL;
		snprintf(logpath, sizeof(logpath), "%s.log", ctl_daemons[i]);
		if (run_path(c, logpath, s->ch[i].log,
		    sizeof(s->ch[i].log)) == -1)
			return CTL_FAIL;
	}
	if (mkdir_p(c->paths.run_dir, 0770) == -1) {
		ctl_warn("cannot create %s", c->paths.run_dir);
		return CTL_FAIL;
	}
	if (run_path(c, PIDFILE, s->pidfile, sizeof(s->pidfile)) == -1)
		return CTL_FAIL;
	if ((s->pidfd = pidfile_lock(s->pidfile, &holder)) < 0) {
		if (s->pidfd == -1 && holder > 0)
			ctl_warnx("network %s is already up (supervisor pid "
			    "%d holds %s); `onionmesh down' stops it",
			    c->paths.net, (int)holder, s->pidfile);
		else if (s->pidfd == -1)
			ctl_warnx("network %s is already up or starting (%s "
			    "is locked)", c->paths.net, s->pidfile);
		return CTL_FAIL;
	}
	for (i = 0; i < CTL_NDAEMONS; i++) {
		if ((rep = ctl_call(c, ctl_daemons[i], "status", 500, err,
		    sizeof(err), &down)) == NULL)
			continue;
		ctl_warnx("%s is already running (pid %lld) without a "
		    "supervisor; stop it first", ctl_daemons[i],
		    (long long)json_integer_value(json_object_get(rep,
		    "pid")));
		json_decref(rep);
		close(s->pidfd);
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* Wait (bounded) for every daemon the supervisor (pid child) starts to
 * answer, and say which did. */
static int
up_wait(struct ctl *c, pid_t child)
{
	char err[512], logpath[PATH_MAX], notup[128];
	const char *lasterr[CTL_NDAEMONS];
	char errs[CTL_NDAEMONS][512];
	pid_t pids[CTL_NDAEMONS];
	double deadline = mono_now() + UP_WAIT;
	int up[CTL_NDAEMONS];
	int i, nup = 0, st, down;
	json_t *rep;

	for (i = 0; i < CTL_NDAEMONS; i++) {
		up[i] = 0;
		pids[i] = 0;
		lasterr[i] = "no answer yet";
	}
	for (;;) {
		if (waitpid(child, &st, WNOHANG) == child) {
			describe_status(err, sizeof(err), st);
			run_path(c, SUPERVISOR_LOG, logpath, sizeof(logpath));
			ctl_warnx("the supervisor (pid %d) %s; see %s",
			    (int)child, err, logpath);
			return CTL_FAIL;
		}
		for (i = 0; i < CTL_NDAEMONS; i++) {
			if (up[i])
				continue;
			rep = ctl_call(c, ctl_daemons[i], "status", 500,
			    errs[i], sizeof(errs[i]), &down);
			if (rep == NULL) {
				lasterr[i] = errs[i];
				continue;
			}
			up[i] = 1;
			nup++;
			pids[i] = (pid_t)json_integer_value(
			    json_object_get(rep, "pid"));
			json_decref(rep);
		}
		if (nup == CTL_NDAEMONS || mono_now() >= deadline)
			break;
		sleep_s(0.2);
	}

	notup[0] = '\0';
	for (i = 0; i < CTL_NDAEMONS; i++) {
		if (up[i]) {
			printf("%-8s up (pid %d)\n", ctl_daemons[i],
			    (int)pids[i]);
			continue;
		}
		printf("%-8s not up: %s\n", ctl_daemons[i], lasterr[i]);
		snprintf(notup + strlen(notup), sizeof(notup) - strlen(notup),
		    "%s%s", notup[0] ? ", " : "", ctl_daemons[i]);
	}
	if (nup == CTL_NDAEMONS) {
		printf("network %s is up (supervisor pid %d)\n",
		    c->paths.net, (int)child);
		return CTL_OK;
	}
	fflush(stdout);
	ctl_warnx("%s did not answer within %.0f s (their logs: %s/<daemon>"
	    ".log); the supervisor (pid %d) keeps restarting them, "
	    "`onionmesh down' stops it", notup, UP_WAIT, c->paths.run_dir,
	    (int)child);
	return CTL_FAIL;
}

int
cmd_up(struct ctl *c, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "foreground", NULL, NULL },
		{ NULL, NULL, NULL },
	};
	static struct supervisor s;
	struct conf conf;
	pid_t child;
	int n, rc;

	if ((rc = ctl_getopt(c, argc, argv, opts, NULL, 0, 0, &n)) != CTL_OK)
		return rc;
	if (ctl_conf_load(c, &conf) == -1)
		return CTL_FAIL;
	if (ctl_check_reach(c, &conf) != CTL_OK)
		return CTL_FAIL;
	/* systemd runs this network (ctl/systemd.c): never a second set. */
	if (ctl_systemd_manages(c)) {
		if (opts[0].val) {
			ctl_warnx("network %s is run by systemd "
			    "(onionmesh@%s.target is enabled or active): "
			    "`up --foreground' would start a second set; use "
			    "systemctl, or disable the units first",
			    c->paths.net, c->paths.net);
			return CTL_FAIL;
		}
		return ctl_systemd_up(c, &conf);
	}
	if (up_prepare(c, &s) != CTL_OK)
		return CTL_FAIL;

	/* The daemons are this supervisor's children: a service manager
	 * that started `up` (a unit of its own) waits for no READY=1 from
	 * them, and would refuse it from a pid not its main one. */
	unsetenv("NOTIFY_SOCKET");
	if (opts[0].val) {
		log_init("onionmesh up", LOG_LVL_INFO, 0);
		if (pidfile_write(s.pidfd, getpid()) == -1) {
			ctl_warn("cannot write %s", s.pidfile);
			return CTL_FAIL;
		}
		return supervise(&s);
	}

	fflush(NULL);
	if ((child = fork()) == -1) {
		ctl_warn("fork");
		return CTL_FAIL;
	}
	if (child == 0) {
		detach(&s);
		log_init("onionmesh up", LOG_LVL_INFO, 0);
		/* run/supervisor.log: a time and level on each line, as the
		 * daemons' logs have. */
		log_set_style(LOG_STYLE_TIME);
		if (pidfile_write(s.pidfd, getpid()) == -1) {
			log_warn("cannot write %s", s.pidfile);
			_exit(CTL_FAIL);
		}
		_exit(supervise(&s));
	}
	/* The lock stays with the supervisor: it shares this open file. */
	close(s.pidfd);
	/* ^C while waiting ends this process (nng's threads keep the
	 * signals blocked, so the main thread takes them). */
	sigprocmask(SIG_SETMASK, &s.oldmask, NULL);
	return up_wait(c, child);
}

int
cmd_down(struct ctl *c, int argc, char **argv)
{
	char path[PATH_MAX];
	double deadline;
	pid_t pid;
	int n, rc, fd = -1, r;

	if ((rc = ctl_getopt(c, argc, argv, NULL, NULL, 0, 0, &n)) != CTL_OK)
		return rc;
	if (run_path(c, PIDFILE, path, sizeof(path)) == -1)
		return CTL_FAIL;
	if ((r = pidfile_probe(c, &pid, &fd)) == -1)
		return CTL_FAIL;
	if (r == 0 && ctl_systemd_manages(c))
		return ctl_systemd_down(c);
	if (r == 0) {
		ctl_warnx("network %s is not up (no supervisor holds %s)",
		    c->paths.net, path);
		return CTL_FAIL;
	}
	if (pid == 0) {
		ctl_warnx("%s is locked but holds no pid; stop its holder by "
		    "hand (fuser %s)", path, path);
		close(fd);
		return CTL_FAIL;
	}
	if (kill(pid, SIGTERM) == -1) {
		ctl_warn("cannot signal the supervisor (pid %d from %s)",
		    (int)pid, path);
		close(fd);
		return CTL_FAIL;
	}
	/* Gone when its lock is: the kernel drops it as the process exits
	 * (even a zombie's), whether the file is removed or not. */
	deadline = mono_now() + DOWN_WAIT;
	while (flock(fd, LOCK_SH | LOCK_NB) == -1) {
		if (mono_now() >= deadline) {
			ctl_warnx("the supervisor (pid %d) did not stop "
			    "within %.0f s", (int)pid, DOWN_WAIT);
			close(fd);
			return CTL_FAIL;
		}
		sleep_s(0.1);
	}
	close(fd);
	printf("network %s is down (supervisor pid %d stopped)\n",
	    c->paths.net, (int)pid);
	return CTL_OK;
}
