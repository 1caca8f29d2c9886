/*
 * seccomp-bpf allow-lists for the daemons, after OpenSSH's
 * sandbox-seccomp-filter.c, built with libseccomp.
 *
 * Shape of a filter:
 *  - the architecture is checked first (libseccomp does this for the
 *    native arch and kills anything else, x32 calls on x86_64 included);
 *  - one list of calls every daemon makes: libc, libev (epoll, eventfd,
 *    signals), nng (threads, futexes, AF_UNIX sockets, its poller),
 *    libsodium (getrandom, mlock), syslog, and the file operations of
 *    file.c (the DAC permissions of the run and key directories decide
 *    which files, not this list);
 *  - per daemon, the socket families it may open and the ioctls it may
 *    make: routed only AF_UNIX; tund AF_UNIX and NETLINK_ROUTE only
 *    (it keeps CAP_NET_ADMIN to change routes at run time, see
 *    tund/tund.c, so nothing else that capability opens: no other
 *    netlink family, and ioctls that only read its device, none that
 *    configures an interface or makes a TUN device); linkd and keyd
 *    also AF_INET/AF_INET6 (TCP links, a tor on HOST:PORT) and netlink
 *    (getaddrinfo), except in onion mode over tor's Unix sockets
 *    (SANDBOX_UNIX_ONLY): then AF_UNIX alone;
 *  - calls libc may try and can live without fail quietly: a socket of
 *    another family, a prctl other than naming a thread, setting a
 *    resource limit, sysinfo (EACCES); clone3 returns ENOSYS so glibc
 *    falls back to clone(), whose flags seccomp can see, and clone is
 *    allowed only with CLONE_THREAD: threads yes, new processes no;
 *  - everything else (execve, ptrace, mount, bpf, ...) kills the whole
 *    process (SCMP_ACT_KILL_PROCESS), so an exploit cannot go on in a
 *    sibling thread.
 *
 * libseccomp drops conditional rules when an unconditional one is added
 * for the same call and refuses two comparisons on one argument, so
 * "every family but these" is written out as one rule per other family
 * value. The filter is synchronised to all threads (TSYNC): a daemon
 * enters its sandbox after nng has started its workers.
 *
 * The rules are handed out one by one by sandbox_rules(), and
 * sandbox_enter_flags() adds each to libseccomp: the OCI profile
 * generator (deploy/seccomp/gen_seccomp.c) takes the very same rules,
 * so a container's profile cannot drift from what the daemon installs.
 * With SANDBOX_SETUP the list also allows what the daemon does before it
 * enters its own filter (the dynamic loader, privdrop, tund's TUN set-up,
 * seccomp() itself): an outer filter applied from execve on needs that.
 *
 * Build with -DSANDBOX_DEBUG to trap instead of kill and print the
 * number of the refused call on stderr, to find a missing entry.
 */
#include "proto/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#include <seccomp.h>

#include "proto/log.h"

/* Calls every daemon may make, without argument checks. */
static const int sandbox_common[] = {
	/* I/O on descriptors it already has */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(close),
	SCMP_SYS(close_range), SCMP_SYS(dup), SCMP_SYS(dup2),
	SCMP_SYS(dup3), SCMP_SYS(fcntl), SCMP_SYS(fadvise64),
	/* files: the directories' permissions decide which */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(statx), SCMP_SYS(fstatfs), SCMP_SYS(statfs),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
	SCMP_SYS(getcwd), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(link), SCMP_SYS(linkat),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat), SCMP_SYS(chmod), SCMP_SYS(fchmod),
	SCMP_SYS(fchmodat), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(truncate), SCMP_SYS(umask),
	SCMP_SYS(rmdir), SCMP_SYS(flock), SCMP_SYS(utimensat),
	/* without capabilities these only move a file between groups of
	 * its owner; refusing them would kill for nothing */
	SCMP_SYS(chown), SCMP_SYS(fchown), SCMP_SYS(fchownat),
	SCMP_SYS(lchown),
	/* libev's ev_stat (keyd may watch hosts/) */
	SCMP_SYS(inotify_init), SCMP_SYS(inotify_init1),
	SCMP_SYS(inotify_add_watch), SCMP_SYS(inotify_rm_watch),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mlock),
	SCMP_SYS(mlock2), SCMP_SYS(munlock), SCMP_SYS(membarrier),
	/* threads (clone itself is below, with its flag check) */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list),
	SCMP_SYS(get_robust_list), SCMP_SYS(set_tid_address),
	SCMP_SYS(rseq), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	/* signals */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigpending),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack),
	/* identity and time */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(getresuid), SCMP_SYS(getresgid),
	SCMP_SYS(getgroups), SCMP_SYS(uname), SCMP_SYS(getrlimit),
	SCMP_SYS(getrusage), SCMP_SYS(times), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getitimer), SCMP_SYS(setitimer), SCMP_SYS(alarm),
	SCMP_SYS(getcpu), SCMP_SYS(getrandom),
	/* event loops: libev and nng's poller */
	SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(eventfd),
	SCMP_SYS(eventfd2), SCMP_SYS(pipe), SCMP_SYS(pipe2),
	SCMP_SYS(signalfd), SCMP_SYS(signalfd4), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	/* sockets (socket() itself is per daemon, by family) */
	SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(shutdown),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getpeername),
	SCMP_SYS(getsockname),
};

/* Calls that fail quietly: libc tries them and copes without. */
static const int sandbox_quiet[] = {
	SCMP_SYS(sysinfo),
};

/* ioctls any daemon may make: descriptor flags and queue sizes. */
static const unsigned long sandbox_ioctl_common[] = {
	FIONBIO, FIONREAD, FIOCLEX, FIONCLEX, TIOCOUTQ, TCGETS, TIOCGWINSZ,
};

/* tund: queries of its TUN device and interfaces. The device is made
 * and configured before the sandbox; tund keeps CAP_NET_ADMIN, so an
 * ioctl that sets anything (TUNSETIFF would make a new device,
 * SIOCSIFFLAGS take any interface down) kills instead. */
static const unsigned long sandbox_ioctl_tund[] = {
	TUNGETIFF, TUNGETFEATURES, TUNGETVNETHDRSZ, TUNGETVNETLE,
	TUNGETSNDBUF, SIOCGIFFLAGS, SIOCGIFMTU, SIOCGIFINDEX, SIOCGIFNAME,
	SIOCGIFADDR,
};

/* prctls a daemon may make: thread names (nng names its workers). */
static const int sandbox_prctl_ok[] = {
	PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS,
	PR_CAPBSET_READ, PR_GET_SECCOMP,
};
#define SANDBOX_PRCTL_MAX 100 /* above every option this kernel knows */

/* SANDBOX_SETUP only: what a daemon calls between execve and its own
 * filter. The loader (arch_prctl, execve itself), privdrop (ids and
 * groups, the "no way back to root" check, capabilities, RLIMIT_CORE:
 * prlimit64 below, setrlimit where libc uses it), the filter's own
 * installation, and chdir("/"). Without capabilities the id calls
 * change nothing: a daemon started as its own user only checks. */
static const int sandbox_setup[] = {
	SCMP_SYS(execve), SCMP_SYS(arch_prctl), SCMP_SYS(capget),
	SCMP_SYS(capset), SCMP_SYS(seccomp), SCMP_SYS(setgroups),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setuid),
	SCMP_SYS(setgid), SCMP_SYS(setrlimit), SCMP_SYS(chdir),
};
/* ... and the prctls of privdrop (and PR_SET_SECCOMP, which older
 * libseccomp uses instead of seccomp()). */
static const int sandbox_prctl_setup[] = {
	PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, PR_SET_KEEPCAPS,
	PR_GET_KEEPCAPS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_SET_SECCOMP,
};
/* ... and tund's set-up of its device (tund/tun_linux.c). */
static const unsigned long sandbox_ioctl_tund_setup[] = {
	TUNSETIFF, TUNSETVNETHDRSZ, TUNSETVNETLE, TUNSETOFFLOAD,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct sandbox_profile {
	const int *families; /* socket() domains it may open */
	size_t nfamilies;
	const unsigned long *ioctls;
	size_t nioctls;
	int netlink_route_only; /* AF_NETLINK with NETLINK_ROUTE only */
};

static const int fam_unix[] = {AF_UNIX};
static const int fam_tund[] = {AF_UNIX, AF_NETLINK};
static const int fam_net[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

static int
sandbox_profile(enum daemon d, struct sandbox_profile *p)
{
	memset(p, 0, sizeof(*p));
	switch (d) {
	case D_TUND:
		p->families = fam_tund;
		p->nfamilies = NELEM(fam_tund);
		p->ioctls = sandbox_ioctl_tund;
		p->nioctls = NELEM(sandbox_ioctl_tund);
		p->netlink_route_only = 1;
		return 0;
	case D_LINKD:
	case D_KEYD:
		p->families = fam_net;
		p->nfamilies = NELEM(fam_net);
		return 0;
	case D_ROUTED:
		p->families = fam_unix;
		p->nfamilies = NELEM(fam_unix);
		return 0;
	default:
		return -1;
	}
}

/* libseccomp's SCMP_An() macros leave datum_b to the compiler, which
 * clang's -Wmissing-field-initializers refuses; fill every field. */
static struct scmp_arg_cmp
arg_cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
    scmp_datum_t b)
{
	struct scmp_arg_cmp c;

	memset(&c, 0, sizeof(c));
	c.arg = arg;
	c.op = op;
	c.datum_a = a;
	c.datum_b = b;
	return c;
}

static int
int_in(int v, const int *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

/* Where sandbox_rules() hands its rules: a libseccomp filter being
 * built, or the profile generator. */
struct sandbox_sink {
	sandbox_rule_fn fn;
	void *arg;
};

/*
 * Add one rule to a libseccomp filter; a call this architecture does
 * not have (libseccomp gives it a negative pseudo number) is skipped,
 * not an error.
 */
static int
sandbox_rule_ctx(void *arg, uint32_t action, int nr, unsigned int narg,
    const struct scmp_arg_cmp *args)
{
	scmp_filter_ctx ctx = arg;
	int rc;

	rc = seccomp_rule_add_array(ctx, action, nr, narg, args);
	if (rc == 0 || (rc == -EDOM && nr < 0))
		return 0;
	if (nr < 0)
		return 0;
	log_warnx("sandbox: cannot add a rule for syscall %d: %s", nr,
	    strerror(-rc));
	return -1;
}

static int
sandbox_rule(const struct sandbox_sink *sink, uint32_t action, int nr,
    unsigned int narg, const struct scmp_arg_cmp *args)
{
	return sink->fn(sink->arg, action, nr, narg, args);
}

static int
ul_in(unsigned long v, const unsigned long *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

int
sandbox_rules(enum daemon d, unsigned flags, pid_t pid, sandbox_rule_fn fn,
    void *arg)
{
	struct sandbox_sink sink = {fn, arg}, *ctx = &sink;
	struct sandbox_profile prof;
	struct scmp_arg_cmp a[2];
	uint32_t quiet = SCMP_ACT_ERRNO(EACCES);
	int setup = (flags & SANDBOX_SETUP) != 0;
	size_t i;
	int v;

	if (sandbox_profile(d, &prof) == -1) {
		log_warnx("sandbox: no profile for %s", daemon_name(d));
		return -1;
	}
	if ((flags & SANDBOX_UNIX_ONLY) && (d == D_LINKD || d == D_KEYD)) {
		/* Onion mode over tor's Unix sockets: nothing of linkd or
		 * keyd speaks IP, so no IP socket can be made either. */
		prof.families = fam_unix;
		prof.nfamilies = NELEM(fam_unix);
	}
	for (i = 0; i < NELEM(sandbox_common); i++)
		if (sandbox_rule(ctx, SCMP_ACT_ALLOW, sandbox_common[i], 0,
		    NULL) == -1)
			return -1;
	for (i = 0; i < NELEM(sandbox_quiet); i++)
		if (sandbox_rule(ctx, quiet, sandbox_quiet[i], 0, NULL) == -1)
			return -1;
	for (i = 0; setup && i < NELEM(sandbox_setup); i++)
		if (sandbox_rule(ctx, SCMP_ACT_ALLOW, sandbox_setup[i], 0,
		    NULL) == -1)
			return -1;

	/* Threads only: clone without CLONE_THREAD (fork, vfork, spawn)
	 * matches no rule and kills. clone3 hides its flags in memory
	 * seccomp cannot read; ENOSYS sends glibc back to clone. */
	a[0] = arg_cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	if (sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, a) == -1 ||
	    sandbox_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0,
	    NULL) == -1)
		return -1;

	/* Signals to itself only (abort, pthread_kill); others EPERM. */
	a[0] = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)pid, 0);
	if (sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, a) == -1 ||
	    sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, a) == -1)
		return -1;
	a[0] = arg_cmp(0, SCMP_CMP_NE, (scmp_datum_t)pid, 0);
	if (sandbox_rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1,
	    a) == -1 ||
	    sandbox_rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
	    a) == -1)
		return -1;

	/* Reading resource limits yes, changing them no (but privdrop
	 * sets RLIMIT_CORE to 0 before the filter). */
	a[0] = arg_cmp(2, SCMP_CMP_EQ, 0, 0);
	if (sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    a) == -1)
		return -1;
	a[0] = arg_cmp(2, SCMP_CMP_NE, 0, 0);
	if (sandbox_rule(ctx, setup ? SCMP_ACT_ALLOW : quiet,
	    SCMP_SYS(prlimit64), 1, a) == -1)
		return -1;

	/* prctl: the listed options; any other fails quietly. */
	for (v = 0; v < SANDBOX_PRCTL_MAX; v++) {
		a[0] = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)v, 0);
		if (sandbox_rule(ctx, int_in(v, sandbox_prctl_ok,
		    NELEM(sandbox_prctl_ok)) || (setup && int_in(v,
		    sandbox_prctl_setup, NELEM(sandbox_prctl_setup))) ?
		    SCMP_ACT_ALLOW : quiet, SCMP_SYS(prctl), 1, a) == -1)
			return -1;
	}
	a[0] = arg_cmp(0, SCMP_CMP_GE, SANDBOX_PRCTL_MAX, 0);
	if (sandbox_rule(ctx, quiet, SCMP_SYS(prctl), 1, a) == -1)
		return -1;

	/* socket and socketpair: this daemon's families; any other fails
	 * quietly (libc probes, e.g. getaddrinfo). */
	for (v = 0; v < AF_MAX; v++) {
		a[0] = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)v, 0);
		if (v == AF_NETLINK && prof.netlink_route_only &&
		    int_in(v, prof.families, prof.nfamilies)) {
			/* Routes only: NETLINK_ROUTE yes, any other
			 * netlink protocol (netfilter, audit, ...) no. */
			a[1] = arg_cmp(2, SCMP_CMP_EQ, NETLINK_ROUTE, 0);
			if (sandbox_rule(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(socket), 2, a) == -1)
				return -1;
			a[1] = arg_cmp(2, SCMP_CMP_NE, NETLINK_ROUTE, 0);
			if (sandbox_rule(ctx, quiet, SCMP_SYS(socket), 2,
			    a) == -1)
				return -1;
			if (sandbox_rule(ctx, quiet, SCMP_SYS(socketpair),
			    1, a) == -1)
				return -1;
			continue;
		}
		if (sandbox_rule(ctx, int_in(v, prof.families,
		    prof.nfamilies) ? SCMP_ACT_ALLOW : quiet,
		    SCMP_SYS(socket), 1, a) == -1)
			return -1;
		if (sandbox_rule(ctx, v == AF_UNIX ? SCMP_ACT_ALLOW : quiet,
		    SCMP_SYS(socketpair), 1, a) == -1)
			return -1;
	}
	a[0] = arg_cmp(0, SCMP_CMP_GE, AF_MAX, 0);
	if (sandbox_rule(ctx, quiet, SCMP_SYS(socket), 1, a) == -1 ||
	    sandbox_rule(ctx, quiet, SCMP_SYS(socketpair), 1, a) == -1)
		return -1;

	/* ioctl: compare the low 32 bits (the request is an int in some
	 * libcs and may arrive sign-extended). Others kill: no daemon
	 * needs a terminal, and TIOCSTI-like requests are what an
	 * attacker would want. */
	for (i = 0; i < NELEM(sandbox_ioctl_common); i++) {
		a[0] = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
		    (scmp_datum_t)(sandbox_ioctl_common[i] & 0xffffffffu));
		if (sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    a) == -1)
			return -1;
	}
	for (i = 0; i < prof.nioctls; i++) {
		a[0] = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
		    (scmp_datum_t)(prof.ioctls[i] & 0xffffffffu));
		if (sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    a) == -1)
			return -1;
	}
	for (i = 0; setup && d == D_TUND &&
	    i < NELEM(sandbox_ioctl_tund_setup); i++) {
		if (ul_in(sandbox_ioctl_tund_setup[i], prof.ioctls,
		    prof.nioctls))
			continue;
		a[0] = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
		    (scmp_datum_t)(sandbox_ioctl_tund_setup[i] & 0xffffffffu));
		if (sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    a) == -1)
			return -1;
	}
	return 0;
}

uint32_t
sandbox_default_action(void)
{
#ifdef SANDBOX_DEBUG
	return SCMP_ACT_TRAP;
#else
	return SCMP_ACT_KILL_PROCESS;
#endif
}

#ifdef SANDBOX_DEBUG
static void
sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char msg[64];
	int nr = si->si_syscall, n = 0, i;
	char digits[12];

	(void)sig;
	(void)ctx;
	memcpy(msg, "sandbox: refused syscall ", 25);
	n = 25;
	i = 0;
	do {
		digits[i++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr > 0 && i < (int)sizeof(digits));
	while (i > 0)
		msg[n++] = digits[--i];
	msg[n++] = '\n';
	(void)write(STDERR_FILENO, msg, (size_t)n);
	_exit(99);
}
#endif

int
sandbox_enter(enum daemon d)
{
	return sandbox_enter_flags(d, 0);
}

int
sandbox_enter_flags(enum daemon d, unsigned flags)
{
	scmp_filter_ctx ctx;
	uint32_t deflt = SCMP_ACT_KILL_PROCESS;
	int rc;

#ifdef SANDBOX_DEBUG
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return -1;
	deflt = SCMP_ACT_TRAP;
#endif
	/* KILL_PROCESS needs Linux 4.14; fall back to killing the thread
	 * on older kernels rather than running unconfined. */
	if (seccomp_api_get() < 3 && deflt == SCMP_ACT_KILL_PROCESS)
		deflt = SCMP_ACT_KILL;
	if ((ctx = seccomp_init(deflt)) == NULL) {
		log_warnx("sandbox: seccomp_init failed");
		errno = ENOMEM;
		return -1;
	}
	/* Another architecture's calls (x32 on x86_64, i386 via int 0x80)
	 * would bypass a filter written in native numbers: kill them. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    deflt)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) != 0) {
		log_warnx("sandbox: cannot set filter attributes: %s",
		    strerror(-rc));
		goto fail;
	}
	rc = 0;
	if (sandbox_rules(d, flags & ~(unsigned)SANDBOX_SETUP, getpid(),
	    sandbox_rule_ctx, ctx) == -1)
		goto fail;
	if ((rc = seccomp_load(ctx)) != 0) {
		log_warnx("sandbox: cannot load the seccomp filter for %s: %s",
		    daemon_name(d), strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	errno = rc < 0 ? -rc : EINVAL;
	return -1;
}
