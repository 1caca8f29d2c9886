/*
 * The service manager's notification protocol, spoken directly: one
 * AF_UNIX datagram of "KEY=VALUE" lines to the socket named in
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), as
 * sd_notify(3) and sd_watchdog_enabled(3) describe it.
 *
 * Why not libsystemd's sd_notify: it opens a new socket for every
 * message, and the watchdog pings come from inside the seccomp sandbox;
 * here the socket is opened and connected once, before the sandbox, and
 * each ping is one send() on it (connect/sendto are on every daemon's
 * list in proto/sandbox.c already). It also keeps libsystemd out of a
 * build that must run on hosts without systemd.
 */
#include "proto/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/log.h"

static int notify_fd = -1;
static struct sockaddr_un notify_sa;
static socklen_t notify_salen;
static uint64_t notify_wd_usec;
static ev_timer notify_wd;
static struct ev_loop *notify_loop;

/* Parse $NOTIFY_SOCKET into notify_sa; -1 with errno if unusable. */
static int
notify_addr(const char *name)
{
	size_t len = strlen(name);

	memset(&notify_sa, 0, sizeof(notify_sa));
	notify_sa.sun_family = AF_UNIX;
	if (name[0] != '/' && name[0] != '@') {
		/* "vsock:..." and other forms are for virtual machines. */
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (len < 2 || len > sizeof(notify_sa.sun_path) - (name[0] == '/')) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(notify_sa.sun_path, name, len);
	if (name[0] == '@') {
		/* Abstract: a leading NUL, and the length is exact (no
		 * terminating NUL counts). */
		notify_sa.sun_path[0] = '\0';
		notify_salen = offsetof(struct sockaddr_un, sun_path) + len;
	} else
		notify_salen = offsetof(struct sockaddr_un, sun_path) + len +
		    1;
	return 0;
}

static uint64_t
notify_env_u64(const char *name, int *ok)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	*ok = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	*ok = 1;
	return v;
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec, pid;
	int ok;

	usec = notify_env_u64("WATCHDOG_USEC", &ok);
	if (!ok || usec == 0)
		return 0;
	pid = notify_env_u64("WATCHDOG_PID", &ok);
	/* Set for another process (our parent's, when it forked us): the
	 * pings are not ours to send. */
	if (getenv("WATCHDOG_PID") != NULL && (!ok ||
	    pid != (uint64_t)getpid()))
		return 0;
	return usec;
}

int
notify_open(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	int fd;

	if (notify_fd != -1)
		return 0;
	notify_wd_usec = 0;
	if (name == NULL || *name == '\0')
		return 0;
	if (notify_addr(name) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&notify_sa, notify_salen) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	notify_fd = fd;
	notify_wd_usec = notify_watchdog_usec();
	return 0;
}

int
notify_enabled(void)
{
	return notify_fd != -1;
}

int
notify_send(const char *state)
{
	size_t len = strlen(state);
	ssize_t n;

	if (notify_fd == -1)
		return 0;
	n = send(notify_fd, state, len, MSG_NOSIGNAL);
	if (n == -1 && (errno == ECONNREFUSED || errno == ENOTCONN)) {
		/* The manager re-executed and bound its socket again:
		 * connect once more to the same address and retry. */
		if (connect(notify_fd, (struct sockaddr *)&notify_sa,
		    notify_salen) == 0)
			n = send(notify_fd, state, len, MSG_NOSIGNAL);
	}
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static void
notify_wd_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	if (notify_send("WATCHDOG=1") == -1)
		log_warnx_rl(w, "cannot ping the service manager's watchdog "
		    "at %s: %s", getenv("NOTIFY_SOCKET"), strerror(errno));
}

void
notify_ready(struct ev_loop *loop)
{
	if (notify_fd == -1)
		return;
	if (notify_send("READY=1\nSTATUS=serving") == -1)
		log_warn("cannot tell the service manager at %s that we are "
		    "ready", getenv("NOTIFY_SOCKET"));
	if (notify_wd_usec == 0 || loop == NULL)
		return;
	/* Half the interval, as sd_watchdog_enabled(3) advises: a late
	 * tick still lands before systemd gives up. */
	ev_timer_init(&notify_wd, notify_wd_cb, 0.,
	    (double)notify_wd_usec / 2e6);
	ev_timer_again(loop, &notify_wd);
	notify_loop = loop;
	notify_wd_cb(loop, &notify_wd, 0);
	log_debug("watchdog: a ping every %.3f s",
	    (double)notify_wd_usec / 2e6);
}

void
notify_stopping(void)
{
	if (notify_loop != NULL) {
		ev_timer_stop(notify_loop, &notify_wd);
		notify_loop = NULL;
	}
	if (notify_fd != -1 && notify_send("STOPPING=1") == -1)
		log_warn("cannot tell the service manager at %s that we are "
		    "stopping", getenv("NOTIFY_SOCKET"));
}

void
notify_close(void)
{
	if (notify_loop != NULL) {
		ev_timer_stop(notify_loop, &notify_wd);
		notify_loop = NULL;
	}
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
	notify_wd_usec = 0;
}
