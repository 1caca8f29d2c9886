/*
 * Onion mode's incoming side: the Unix stream socket <run_dir>/
 * linkd.onion that keyd's ADD_ONION maps the service's port to
 * ("Port=6550,unix:PATH"). tor connects here once for every stream a
 * member opens to our onion address; each accepted connection is a
 * responder link, transport "onion", remote "onion": tor tells us
 * nothing about who is on the other end, and the Noise handshake is
 * what says which member it is.
 *
 * The socket is mode 0666 because tor runs as a user of its own
 * (debian-tor) that shares no group with us, and the run directory lets
 * others pass through (proto/daemon.c: 03771) for this socket alone.
 * That opens nothing new: anyone on the Tor network reaches this door
 * through tor anyway, and a stranger gets no byte back (the session
 * sends nothing before a valid handshake). The file is created before
 * linkd drops its privileges, like the TCP listener; a stale socket
 * file (a linkd that died) is replaced, anything else at that path is
 * left alone and reported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "linkd/linkd.h"
#include "proto/ipc.h"
#include "proto/log.h"

/* Deep, so a burst of connections waits to be accepted (and closed, if
 * they are strangers) instead of being half-dropped by the kernel and
 * left dangling on the caller's side; the kernel caps it at somaxconn. */
#define UNIX_BACKLOG 1024

int
unix_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu "
		    "bytes", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket;"
			    " not replacing it", path);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the stale socket"
			    " %s: %s", path, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, UNIX_BACKLOG) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
onion_listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct linkd *ld = w->data;

	listener_accept(ld, ld->ofd, "onion", ld->onion_path);
}

void
onion_listener_start(struct linkd *ld)
{
	char err[256];

	if (ld->ofd != -1)
		return;
	if (ipc_path(ld->onion_path, sizeof(ld->onion_path),
	    ld->conf->paths.run_dir, IPC_LINKD_ONION) == -1) {
		log_warnx_rl(&ld->ofd, "run dir %s: the path of %s does not "
		    "fit a socket address", ld->conf->paths.run_dir,
		    IPC_LINKD_ONION);
		return;
	}
	if (listener_watch(ld, &ld->oio, &ld->ofd, unix_listen(
	    ld->onion_path, err, sizeof(err)), err, onion_listener_cb) == 0)
		log_info("listening for tor on %s", ld->onion_path);
}

void
onion_listener_stop(struct linkd *ld)
{
	/* Best effort: after the privilege drop the sticky run dir may
	 * not let us; the next start replaces the stale file. */
	if (listener_unwatch(ld, &ld->oio, &ld->ofd) == 0)
		(void)unlink(ld->onion_path);
}
