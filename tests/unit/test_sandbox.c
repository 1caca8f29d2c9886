/*
 * sandbox.c: for each daemon, a forked child enters the sandbox and
 *  - keeps working: libev loop, nng channels (worker threads started
 *    before the filter and after it), files, randomness, time;
 *  - dies by SIGSYS on what no daemon needs: execve, ptrace, fork;
 *  - gets a quiet EACCES for socket families outside its profile.
 * One child does the whole daemon sequence: privdrop to the daemon's
 * user (when root and the users exist), then the sandbox, then IPC.
 * In onion mode over tor's Unix sockets (SANDBOX_UNIX_ONLY, chosen by
 * daemon_unix_only) linkd and keyd get no IP or netlink socket at all;
 * keyd's drop keeps tor's group and only that (privdrop_extra_group).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/conf.h"
#include "proto/daemon.h"
#include "proto/ipc.h"
#include "proto/log.h"
#include "proto/msg.h"
#include "proto/privdrop.h"
#include "proto/sandbox.h"

static const enum daemon daemons[] = {D_TUND, D_LINKD, D_KEYD, D_ROUTED};
#define NDAEMONS (sizeof(daemons) / sizeof(daemons[0]))

/* Exit codes of a child, so a failure says which step. */
enum {
	OK = 0,
	E_ENTER = 10,
	E_LOOP,
	E_CHAN,
	E_UP,
	E_SEND,
	E_RECV,
	E_FILE,
	E_RANDOM,
	E_EXPECT,
	E_PRIVDROP,
	E_THREADS,
	E_SETUP,
};

/*
 * Every thread of the process (nng started its workers before the
 * filter) must be filtered: "Seccomp: 2" in each task's status.
 * Returns the number of threads checked, or -1 if one is unfiltered.
 */
static int
all_threads_filtered(void)
{
	char path[300], line[256];
	struct dirent *de;
	DIR *dir;
	FILE *fp;
	int n = 0, ok;

	if ((dir = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
		    de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue; /* thread exited meanwhile */
		ok = 0;
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strcmp(line, "Seccomp:\t2\n") == 0)
				ok = 1;
		fclose(fp);
		if (!ok) {
			closedir(dir);
			return -1;
		}
		n++;
	}
	closedir(dir);
	return n;
}

struct side {
	int ups;
	int msgs;
};

static void
on_msg(struct ipc_chan *c, const struct msg_hdr *h, const uint8_t *payload,
    void *arg)
{
	struct side *s = arg;

	(void)c;
	(void)h;
	(void)payload;
	s->msgs++;
}

static void
on_up(struct ipc_chan *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->ups++;
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int
run_until(struct ev_loop *loop, const int *counter, int want)
{
	ev_timer t;
	double deadline;

	ev_timer_init(&t, tick_cb, 0.01, 0.01);
	ev_timer_start(loop, &t);
	ev_now_update(loop);
	deadline = ev_now(loop) + 5.0;
	while (*counter < want && ev_now(loop) < deadline) {
		ev_run(loop, EVRUN_ONCE);
		ev_now_update(loop);
	}
	ev_timer_stop(loop, &t);
	return *counter >= want;
}

static struct ipc_chan *
open_chan(struct ev_loop *loop, const char *path, int listen,
    struct side *s)
{
	struct ipc_chan_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = loop;
	cfg.path = path;
	cfg.self = listen ? D_ROUTED : D_LINKD;
	cfg.peer = listen ? D_LINKD : D_ROUTED;
	cfg.peer_uid = geteuid();
	cfg.on_msg = on_msg;
	cfg.on_up = on_up;
	cfg.arg = s;
	return listen ? ipc_chan_listen(&cfg) : ipc_chan_dial(&cfg);
}

static int
send_state(struct ipc_chan *c)
{
	struct msg_peer_state ps;
	struct buf_w w;
	uint8_t buf[64];

	memset(&ps, 0, sizeof(ps));
	ps.links_up = 1;
	bw_init(&w, buf, sizeof(buf));
	msg_peer_state_encode(&w, &ps);
	return ipc_send(c, MSG_PEER_STATE, 0, 0, &w);
}

/*
 * The life of a daemon in miniature: a channel up before the sandbox
 * (nng's threads already running), then the filter, then traffic, a
 * second channel opened inside the sandbox, files and randomness.
 */
static int
child_work(enum daemon d, const char *dir, int drop)
{
	struct side ls = {0}, ds = {0}, ls2 = {0}, ds2 = {0};
	struct ipc_chan *l, *c, *l2, *c2;
	struct ev_loop *loop;
	struct daemon_ids ids;
	char p1[128], p2[128], file[128], err[256], buf[16];
	uint8_t rnd[16];
	int fd;

	snprintf(p1, sizeof(p1), "%s/%s.a", dir, daemon_name(d));
	snprintf(p2, sizeof(p2), "%s/%s.b", dir, daemon_name(d));
	snprintf(file, sizeof(file), "%s/%s.file", dir, daemon_name(d));
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		return E_LOOP;
	if ((l = open_chan(loop, p1, 1, &ls)) == NULL ||
	    (c = open_chan(loop, p1, 0, &ds)) == NULL)
		return E_CHAN;
	if (!run_until(loop, &ls.ups, 1) || !run_until(loop, &ds.ups, 1))
		return E_UP;

	if (drop) {
		if (daemon_ids_resolve(&ids, -1, err, sizeof(err)) == -1 ||
		    privdrop(ids.uid[d], ids.gid[d]) == -1)
			return E_PRIVDROP;
		if (ids.privsep && geteuid() != ids.uid[d])
			return E_PRIVDROP;
	}
	if (sandbox_enter(d) == -1)
		return E_ENTER;
	/* The main thread and nng's workers (more than one). */
	if (all_threads_filtered() < 2)
		return E_THREADS;

	if (send_state(c) == -1)
		return E_SEND;
	if (!run_until(loop, &ls.msgs, 1))
		return E_RECV;
	/* A new channel inside the sandbox: socket, bind, listen,
	 * connect, chmod, accept, more threads. */
	if ((l2 = open_chan(loop, p2, 1, &ls2)) == NULL ||
	    (c2 = open_chan(loop, p2, 0, &ds2)) == NULL)
		return E_CHAN;
	if (!run_until(loop, &ds2.ups, 1))
		return E_UP;
	if (send_state(c2) == -1)
		return E_SEND;
	if (!run_until(loop, &ls2.msgs, 1))
		return E_RECV;
	/* The dialer survives its listener going and coming back. */
	ipc_chan_close(l2);
	memset(&ls2, 0, sizeof(ls2));
	if ((l2 = open_chan(loop, p2, 1, &ls2)) == NULL)
		return E_CHAN;
	if (!run_until(loop, &ds2.ups, 2))
		return E_UP;

	/* Files, as keyd writes records. */
	if ((fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0600)) == -1 ||
	    write(fd, "x", 1) != 1 || fsync(fd) == -1 || close(fd) == -1)
		return E_FILE;
	if ((fd = open(file, O_RDONLY)) == -1 || read(fd, buf, 1) != 1)
		return E_FILE;
	close(fd);
	if (unlink(file) == -1)
		return E_FILE;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return E_RANDOM;
	log_info("%s: sandboxed work done", daemon_name(d));
	ipc_chan_close(c2);
	ipc_chan_close(l2);
	ipc_chan_close(c);
	ipc_chan_close(l);
	ev_loop_destroy(loop);
	return OK;
}

enum forbidden { F_EXECVE, F_PTRACE, F_FORK, F_SETUID_SOCKET };

static int
child_forbidden(enum daemon d, enum forbidden what)
{
	char *argv[] = {"/bin/true", NULL};
	pid_t pid;

	if (sandbox_enter(d) == -1)
		return E_ENTER;
	switch (what) {
	case F_EXECVE:
		execv("/bin/true", argv);
		break;
	case F_PTRACE:
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case F_FORK:
		/* A process, not a thread: clone without CLONE_THREAD. */
		pid = fork();
		if (pid == 0)
			_exit(0);
		break;
	default:
		break;
	}
	return E_EXPECT; /* still alive: the filter let it through */
}

/* socket() of a family outside the profile: EACCES, not death. */
static int
child_socket(enum daemon d, unsigned flags, int family, int type,
    int want_ok)
{
	int fd;

	if (sandbox_enter_flags(d, flags) == -1)
		return E_ENTER;
	fd = socket(family, type, 0);
	if (want_ok)
		return fd >= 0 ? OK : E_EXPECT;
	return fd == -1 && errno == EACCES ? OK : E_EXPECT;
}

static int
wait_child(pid_t pid, int *sig)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct fx {
	char dir[64];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/om-test-sandbox.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* The daemon users (after privdrop) must reach the sockets. */
	assert_int_equal(chmod(f->dir, 0777), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->dir);
	free(f);
	return 0;
}

static void
test_allowed(void **state)
{
	struct fx *f = *state;
	size_t i;
	pid_t pid;
	int rc, sig;

	for (i = 0; i < NDAEMONS; i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_work(daemons[i], f->dir, 0));
		rc = wait_child(pid, &sig);
		if (rc != OK)
			fail_msg("%s: sandboxed child exit %d signal %d",
			    daemon_name(daemons[i]), rc, sig);
	}
}

static void
test_privdrop_then_sandbox(void **state)
{
	struct fx *f = *state;
	size_t i;
	pid_t pid;
	int rc, sig;

	for (i = 0; i < NDAEMONS; i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_work(daemons[i], f->dir, 1));
		rc = wait_child(pid, &sig);
		if (rc != OK)
			fail_msg("%s: dropped and sandboxed child exit %d "
			    "signal %d", daemon_name(daemons[i]), rc, sig);
	}
}

static void
test_forbidden_kills(void **state)
{
	static const enum forbidden whats[] = {F_EXECVE, F_PTRACE, F_FORK};
	static const char *const names[] = {"execve", "ptrace", "fork"};
	size_t i, j;
	pid_t pid;
	int rc, sig;

	(void)state;
	for (i = 0; i < NDAEMONS; i++) {
		for (j = 0; j < sizeof(whats) / sizeof(whats[0]); j++) {
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0)
				_exit(child_forbidden(daemons[i], whats[j]));
			rc = wait_child(pid, &sig);
			if (sig != SIGSYS)
				fail_msg("%s: %s was not killed by SIGSYS "
				    "(exit %d, signal %d)",
				    daemon_name(daemons[i]), names[j], rc,
				    sig);
		}
	}
}

static void
test_socket_families(void **state)
{
	enum { U = SANDBOX_UNIX_ONLY };
	static const struct {
		enum daemon d;
		unsigned flags;
		int family, type, ok;
	} cases[] = {
		{D_ROUTED, 0, AF_UNIX, SOCK_STREAM, 1},
		{D_ROUTED, 0, AF_INET, SOCK_STREAM, 0},
		{D_ROUTED, 0, AF_INET6, SOCK_DGRAM, 0},
		{D_ROUTED, 0, AF_NETLINK, SOCK_RAW, 0},
		{D_TUND, 0, AF_NETLINK, SOCK_RAW, 1},
		{D_TUND, 0, AF_INET, SOCK_DGRAM, 0},
		{D_LINKD, 0, AF_INET, SOCK_STREAM, 1},
		{D_LINKD, 0, AF_INET6, SOCK_STREAM, 1},
		{D_LINKD, 0, AF_PACKET, SOCK_RAW, 0},
		{D_KEYD, 0, AF_INET, SOCK_STREAM, 1},
		{D_KEYD, 0, AF_PACKET, SOCK_DGRAM, 0},
		/* onion mode over tor's Unix sockets */
		{D_LINKD, U, AF_UNIX, SOCK_STREAM, 1},
		{D_LINKD, U, AF_UNIX, SOCK_SEQPACKET, 1},
		{D_LINKD, U, AF_INET, SOCK_STREAM, 0},
		{D_LINKD, U, AF_INET6, SOCK_STREAM, 0},
		{D_LINKD, U, AF_INET, SOCK_DGRAM, 0},
		{D_LINKD, U, AF_NETLINK, SOCK_RAW, 0},
		{D_KEYD, U, AF_UNIX, SOCK_STREAM, 1},
		{D_KEYD, U, AF_INET, SOCK_STREAM, 0},
		{D_KEYD, U, AF_INET6, SOCK_STREAM, 0},
		{D_KEYD, U, AF_NETLINK, SOCK_RAW, 0},
		/* tund keeps its netlink whatever the flag says */
		{D_TUND, U, AF_NETLINK, SOCK_RAW, 1},
	};
	size_t i;
	pid_t pid;
	int rc, sig;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_socket(cases[i].d, cases[i].flags,
			    cases[i].family, cases[i].type, cases[i].ok));
		rc = wait_child(pid, &sig);
		if (rc != OK)
			fail_msg("%s%s: socket family %d: exit %d signal %d "
			    "(want %s)", daemon_name(cases[i].d),
			    cases[i].flags ? " (Unix only)" : "",
			    cases[i].family, rc, sig,
			    cases[i].ok ? "a socket" : "EACCES");
	}
}

/* Which daemon gets SANDBOX_UNIX_ONLY: linkd and keyd in onion mode,
 * each when what it dials is a Unix socket; nobody in TCP mode. */
static void
test_unix_only_rule(void **state)
{
	static struct conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_false(daemon_unix_only(&c, D_LINKD)); /* TCP mode */
	assert_false(daemon_unix_only(&c, D_KEYD));
	strcpy(c.tor_control, "unix:/run/tor/control");
	assert_false(daemon_unix_only(&c, D_KEYD)); /* no socks: not onion */
	strcpy(c.tor_socks, "unix:/run/tor/socks");
	assert_true(daemon_unix_only(&c, D_LINKD));
	assert_true(daemon_unix_only(&c, D_KEYD));
	assert_false(daemon_unix_only(&c, D_ROUTED));
	assert_false(daemon_unix_only(&c, D_TUND));
	strcpy(c.tor_socks, "127.0.0.1:9050");
	assert_false(daemon_unix_only(&c, D_LINKD));
	assert_true(daemon_unix_only(&c, D_KEYD));
	strcpy(c.tor_control, "127.0.0.1:9051");
	assert_false(daemon_unix_only(&c, D_KEYD));
}

/* keyd's drop: exactly {gid, extra} afterwards, and no way back. */
static int
child_extra_group(void)
{
	gid_t g[8];
	int n;

	if (privdrop_extra_group(65534, 65534, 4242) == -1)
		return E_PRIVDROP;
	n = getgroups(8, g);
	if (n != 2 || !((g[0] == 65534 && g[1] == 4242) ||
	    (g[0] == 4242 && g[1] == 65534)))
		return E_EXPECT;
	if (getuid() != 65534 || setgroups(0, NULL) != -1)
		return E_EXPECT;
	return OK;
}

/* and plain privdrop keeps none of the caller's groups */
static int
child_no_extra_group(void)
{
	gid_t g[8], extra = 4242;
	int n;

	if (setgroups(1, &extra) == -1 || privdrop(65534, 65534) == -1)
		return E_PRIVDROP;
	n = getgroups(8, g);
	return n == 1 && g[0] == 65534 ? OK : E_EXPECT;
}

static void
test_extra_group(void **state)
{
	pid_t pid;
	int rc, sig;

	(void)state;
	if (geteuid() != 0) {
		/* Only root sets groups: as anyone else it must refuse
		 * rather than run with groups it did not ask for. */
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(privdrop_extra_group(getuid(), getgid(),
			    4242) == -1 ? OK : E_EXPECT);
		assert_int_equal(wait_child(pid, &sig), OK);
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_extra_group());
	rc = wait_child(pid, &sig);
	assert_int_equal(rc, OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_no_extra_group());
	rc = wait_child(pid, &sig);
	assert_int_equal(rc, OK);
}

/*
 * privsep = auto as root without the daemon users: refused, naming each
 * missing user and privsep = no (no quiet fall-back to running every
 * daemon as root). A child in a mount namespace of its own sees a copy
 * of /etc/passwd without onionmesh-keyd and onionmesh-tund.
 */
static int
child_users_missing(const char *dir)
{
	char path[128], line[1024], err[1024];
	struct daemon_ids ids;
	FILE *in, *out;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return E_SETUP;
	snprintf(path, sizeof(path), "%s/passwd", dir);
	if ((in = fopen("/etc/passwd", "r")) == NULL ||
	    (out = fopen(path, "w")) == NULL)
		return E_SETUP;
	while (fgets(line, sizeof(line), in) != NULL)
		if (strncmp(line, "onionmesh-keyd:", 15) != 0 &&
		    strncmp(line, "onionmesh-tund:", 15) != 0)
			fputs(line, out);
	fclose(in);
	if (fclose(out) != 0 ||
	    mount(path, "/etc/passwd", NULL, MS_BIND, NULL) == -1)
		return E_SETUP;
	err[0] = '\0';
	if (daemon_ids_resolve(&ids, -1, err, sizeof(err)) != -1 ||
	    strstr(err, "onionmesh-keyd") == NULL ||
	    strstr(err, "onionmesh-tund") == NULL ||
	    strstr(err, "privsep = no") == NULL)
		return E_EXPECT;
	if (daemon_ids_resolve(&ids, 1, err, sizeof(err)) != -1)
		return E_EXPECT;
	/* Running as root on purpose stays possible. */
	if (daemon_ids_resolve(&ids, 0, err, sizeof(err)) != 0 ||
	    ids.privsep || ids.uid[D_KEYD] != 0)
		return E_EXPECT;
	return OK;
}

static void
test_privsep_auto_needs_users(void **state)
{
	struct fx *f = *state;
	struct daemon_ids ids;
	char err[512];
	pid_t pid;
	int rc, sig;

	if (geteuid() != 0) {
		/* Not root: auto means no privsep, and that is no error. */
		assert_int_equal(daemon_ids_resolve(&ids, -1, err,
		    sizeof(err)), 0);
		assert_false(ids.privsep);
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_users_missing(f->dir));
	rc = wait_child(pid, &sig);
	if (rc != OK)
		fail_msg("privsep = auto without users: exit %d signal %d",
		    rc, sig);
}

static void
test_no_profile(void **state)
{
	pid_t pid;
	int rc, sig;

	(void)state;
	/* ctl has no profile: an error, not an unconfined success. Run
	 * in a child in case it did load something. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(sandbox_enter(D_CTL) == -1 ? OK : E_EXPECT);
	rc = wait_child(pid, &sig);
	assert_int_equal(rc, OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_privdrop_then_sandbox,
		    setup, teardown),
		cmocka_unit_test(test_forbidden_kills),
		cmocka_unit_test(test_socket_families),
		cmocka_unit_test(test_unix_only_rule),
		cmocka_unit_test(test_extra_group),
		cmocka_unit_test_setup_teardown(test_privsep_auto_needs_users,
		    setup, teardown),
		cmocka_unit_test(test_no_profile),
	};

	log_init("test_sandbox", LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
