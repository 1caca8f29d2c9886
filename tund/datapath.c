/*
 * The data path: packets between the TUN device and linkd.
 *
 * Why this shape:
 *  - One Unix SOCK_SEQPACKET message per superpacket (vnet header + IP
 *    packet of up to 64 KiB), not nng: nng costs ~50 us per message,
 *    a seqpacket send is a copy. Message boundaries come for free, so
 *    there is no framing to get wrong.
 *  - One buffer per direction and no queue. When the next hop cannot
 *    take a packet (EAGAIN) we keep it, stop reading from the source and
 *    wait for the sink to become writable: backpressure reaches the
 *    kernel (the TUN queue, the sender's TCP window) instead of tund
 *    dropping. Each wakeup moves at most DP_BATCH packets so one busy
 *    direction cannot starve the other.
 *  - One linkd at a time: a new connection replaces the old one (linkd
 *    restarted before we saw the old socket close). Only linkd's uid may
 *    connect (SO_PEERCRED). With no linkd, packets from the TUN are read
 *    and dropped (counted), so the kernel queue does not fill with stale
 *    packets.
 *  - tund looks at nothing but lengths and the IP version
 *    (tun_msg_check); the kernel checks the vnet header on write.
 */
#include "tund/tund.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/log.h"
#include "proto/privdrop.h"
#include "proto/vnet.h"

/* Room past TUN_MSG_MAX so an oversized read shows as such instead of
 * being silently cut to a plausible length. */
#define DP_BUF (TUN_MSG_MAX + 256)

static void dp_tun_readable(struct ev_loop *, ev_io *, int);
static void dp_tun_writable(struct ev_loop *, ev_io *, int);
static void dp_accept(struct ev_loop *, ev_io *, int);
static void dp_link_readable(struct ev_loop *, ev_io *, int);
static void dp_link_writable(struct ev_loop *, ev_io *, int);

int
datapath_listen(struct datapath *dp, const char *path, uid_t owner,
    gid_t group, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old;

	memset(dp, 0, sizeof(*dp));
	dp->lfd = dp->cfd = dp->tun_fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    strlen(path) >= sizeof(dp->path)) {
		snprintf(err, errlen, "data socket path `%s' is longer than "
		    "%zu bytes", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "`%s' exists and is not a "
			    "socket; remove it", path);
			return -1;
		}
		(void)unlink(path); /* stale: a live tund holds the device */
	}
	dp->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (dp->lfd == -1) {
		snprintf(err, errlen, "data socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	/* Never world-accessible, not even between bind and chmod. */
	old = umask(0117);
	if (bind(dp->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	umask(old);
	snprintf(dp->path, sizeof(dp->path), "%s", path);
	if (chmod(path, 0660) == -1 || chown_for(path, owner, group) == -1) {
		snprintf(err, errlen, "set owner and mode 0660 on %s: %s",
		    path, strerror(errno));
		goto fail;
	}
	if (listen(dp->lfd, 4) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(dp->lfd);
	dp->lfd = -1;
	if (dp->path[0])
		(void)unlink(dp->path);
	dp->path[0] = '\0';
	return -1;
}

int
datapath_start(struct datapath *dp, struct ev_loop *loop, int tun_fd,
    uid_t linkd_uid)
{
	dp->loop = loop;
	dp->tun_fd = tun_fd;
	dp->linkd_uid = linkd_uid;
	dp->out_buf = malloc(DP_BUF);
	dp->in_buf = malloc(DP_BUF);
	if (dp->out_buf == NULL || dp->in_buf == NULL) {
		free(dp->out_buf);
		free(dp->in_buf);
		dp->out_buf = dp->in_buf = NULL;
		return -1;
	}
	ev_io_init(&dp->w_tun_r, dp_tun_readable, tun_fd, EV_READ);
	ev_io_init(&dp->w_tun_w, dp_tun_writable, tun_fd, EV_WRITE);
	ev_io_init(&dp->w_listen, dp_accept, dp->lfd, EV_READ);
	ev_io_init(&dp->w_link_r, dp_link_readable, -1, EV_READ);
	ev_io_init(&dp->w_link_w, dp_link_writable, -1, EV_WRITE);
	dp->w_tun_r.data = dp->w_tun_w.data = dp->w_listen.data =
	    dp->w_link_r.data = dp->w_link_w.data = dp;
	ev_io_start(loop, &dp->w_tun_r);
	ev_io_start(loop, &dp->w_listen);
	return 0;
}

int
datapath_linkd_connected(const struct datapath *dp)
{
	return dp->cfd != -1;
}

/* Forget the linkd connection. A packet it had not taken yet is dropped
 * unless a new connection takes over at once (keep). */
static void
dp_link_close(struct datapath *dp, int keep)
{
	if (dp->cfd == -1)
		return;
	ev_io_stop(dp->loop, &dp->w_link_r);
	ev_io_stop(dp->loop, &dp->w_link_w);
	close(dp->cfd);
	dp->cfd = -1;
	if (dp->out_pending && !keep) {
		dp->out_pending = 0;
		dp->st.drop_link++;
	}
	if (!dp->out_pending)
		ev_io_start(dp->loop, &dp->w_tun_r);
}

/* The TUN device failed in a way reading again will not cure (it was
 * deleted under us): stop so main exits and a supervisor restarts us. */
static void
dp_fail(struct datapath *dp, const char *what)
{
	log_warn("%s on the TUN device; stopping", what);
	dp->failed = 1;
	ev_break(dp->loop, EVBREAK_ALL);
}

/*
 * The other side is full (backpressure, either direction): the packet
 * stays pending, reading the side it came from (pause) stops until the
 * side it goes to (wait) is writable. A stall is counted once however
 * long it lasts. Returns 1, the senders' "not yet".
 */
static int
dp_stall(struct datapath *dp, int *pending, uint64_t *stalls, ev_io *pause,
    ev_io *wait)
{
	if (!*pending)
		(*stalls)++;
	*pending = 1;
	ev_io_stop(dp->loop, pause);
	ev_io_start(dp->loop, wait);
	return 1;
}

/* The pending packet went: stop waiting (wait) and read its side again
 * (resume), when that side is there. dp_stall's way back. */
static void
dp_unstall(struct datapath *dp, ev_io *wait, ev_io *resume, int can_resume)
{
	ev_io_stop(dp->loop, wait);
	if (can_resume)
		ev_io_start(dp->loop, resume);
}

/*
 * Hand the packet in out_buf to linkd. 0 when it is gone (sent or
 * dropped), 1 when linkd is full: the packet stays, TUN reads pause
 * until the socket is writable.
 */
static int
dp_out_send(struct datapath *dp)
{
	ssize_t n;

	for (;;) {
		n = send(dp->cfd, dp->out_buf, dp->out_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n != -1 || errno != EINTR)
			break;
	}
	if (n == (ssize_t)dp->out_len) {
		dp->out_pending = 0;
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return dp_stall(dp, &dp->out_pending, &dp->st.stall_link,
		    &dp->w_tun_r, &dp->w_link_w);
	dp->out_pending = 0;
	if (n == -1 && errno == EMSGSIZE) {
		/* linkd's receive side cannot hold a superpacket. */
		dp->st.drop_bad++;
		log_warnx_rl(&dp->st.drop_bad, "linkd refused a %zu-byte "
		    "packet (EMSGSIZE); dropped", dp->out_len);
		return 0;
	}
	dp->st.drop_link++;
	if (n == -1)
		log_info("linkd data connection: send: %s; closed",
		    strerror(errno));
	else
		log_warnx("linkd data connection took %zd of %zu bytes; "
		    "closed", n, dp->out_len);
	dp_link_close(dp, 0);
	return 0;
}

static void
dp_tun_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct datapath *dp = w->data;
	const char *why;
	ssize_t n;
	int i;

	if (dp->out_pending) {
		/* Not reached: reads stop while a packet waits. */
		ev_io_stop(loop, w);
		return;
	}
	for (i = 0; i < DP_BATCH; i++) {
		n = read(dp->tun_fd, dp->out_buf, DP_BUF);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			dp_fail(dp, "read");
			return;
		}
		if (tun_msg_check(dp->out_buf, (size_t)n, &why) == -1) {
			dp->st.drop_bad++;
			log_warnx_rl(&dp->st.rx_packets, "%zd bytes read from "
			    "the TUN device dropped: %s", n, why);
			continue;
		}
		dp->st.rx_packets++;
		dp->st.rx_bytes += (uint64_t)n - TUN_VNET_HDR_LEN;
		if (dp->cfd == -1) {
			dp->st.drop_nolink++;
			continue;
		}
		dp->out_len = (size_t)n;
		if (dp_out_send(dp))
			return;
	}
}

static void
dp_link_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct datapath *dp = w->data;

	if (dp->out_pending && dp_out_send(dp))
		return;
	dp_unstall(dp, &dp->w_link_w, &dp->w_tun_r, 1);
}

/*
 * Write the packet in in_buf to the TUN device. 0 when it is gone
 * (written or refused), 1 when the device is full: the packet stays and
 * receiving from linkd pauses until the device is writable.
 */
static int
dp_in_write(struct datapath *dp)
{
	ssize_t n;

	for (;;) {
		n = write(dp->tun_fd, dp->in_buf, dp->in_len);
		if (n != -1 || errno != EINTR)
			break;
	}
	if (n == (ssize_t)dp->in_len) {
		dp->in_pending = 0;
		dp->st.tx_packets++;
		dp->st.tx_bytes += dp->in_len - TUN_VNET_HDR_LEN;
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return dp_stall(dp, &dp->in_pending, &dp->st.stall_tun,
		    &dp->w_link_r, &dp->w_tun_w);
	/* EINVAL: a vnet header the kernel will not take; EIO: the device
	 * is down. Either way this packet only. */
	dp->in_pending = 0;
	dp->st.drop_tun++;
	if (n == -1)
		log_warnx_rl(&dp->st.drop_tun, "write of "
		    "%zu bytes to the TUN device: %s; dropped", dp->in_len,
		    strerror(errno));
	else
		log_warnx_rl(&dp->st.drop_tun, "short write to the TUN "
		    "device (%zd of %zu bytes)", n, dp->in_len);
	return 0;
}

static void
dp_tun_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct datapath *dp = w->data;

	if (dp->in_pending && dp_in_write(dp))
		return;
	dp_unstall(dp, &dp->w_tun_w, &dp->w_link_r, dp->cfd != -1);
}

/* The vnet header came from a peer's kernel, not ours: it goes to our
 * kernel's GSO and checksum code only when it describes the packet
 * (proto/vnet.h). -1: the packet is dropped. */
static int
dp_vnet_check(struct datapath *dp, size_t n)
{
	const char *why;

	switch (vnet_check(dp->in_buf, n, &why)) {
	case VNET_OK:
		return 0;
	case VNET_CLEARED:
		dp->st.vnet_cleared++;
		log_warnx_rl(&dp->st.vnet_cleared, "%zu-byte packet from "
		    "a peer: its vnet header cleared (%s)", n, why);
		return 0;
	case VNET_DROP:
	default:
		dp->st.drop_vnet++;
		log_warnx_rl(&dp->st.drop_vnet, "%zu-byte packet from a "
		    "peer dropped: %s", n, why);
		return -1;
	}
}

static void
dp_link_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct datapath *dp = w->data;
	const char *why;
	ssize_t n;
	int i;

	for (i = 0; i < DP_BATCH && dp->cfd != -1; i++) {
		/* MSG_TRUNC: the real length, so an oversized message is
		 * seen as one instead of read as a cut-off packet. */
		n = recv(dp->cfd, dp->in_buf, DP_BUF,
		    MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			log_info("linkd data connection: recv: %s; closed",
			    strerror(errno));
			dp_link_close(dp, 0);
			return;
		}
		if (n == 0) {
			/* EOF (linkd sends no empty messages). */
			log_info("linkd closed the data connection");
			dp_link_close(dp, 0);
			return;
		}
		if (tun_msg_check(dp->in_buf, (size_t)n, &why) == -1) {
			dp->st.drop_bad++;
			log_warnx_rl(&dp->st.tx_packets, "%zd-byte message "
			    "from linkd dropped: %s", n, why);
			continue;
		}
		if (dp_vnet_check(dp, (size_t)n) == -1)
			continue;
		dp->in_len = (size_t)n;
		if (dp_in_write(dp))
			return;
	}
}

static void
dp_sockbuf(int fd, int opt, int force, int want)
{
	int got = 0;
	socklen_t len = sizeof(got);

	/* FORCE passes wmem_max/rmem_max but needs CAP_NET_ADMIN, which
	 * tund keeps for routes (tund.c); without it (set-up by hand)
	 * the plain option gets what the sysctl allows. */
	if (setsockopt(fd, SOL_SOCKET, force, &want, sizeof(want)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) == 0 && got < want)
		log_debug("data socket %s is %d bytes (asked %d; raise "
		    "net.core.%s to get more)", opt == SO_SNDBUF ?
		    "SO_SNDBUF" : "SO_RCVBUF", got, want,
		    opt == SO_SNDBUF ? "wmem_max" : "rmem_max");
}

static void
dp_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct datapath *dp = w->data;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	fd = accept4(dp->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warnx_rl(&dp->st.accepts, "accept on %s: %s",
			    dp->path, strerror(errno));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred) || cred.uid != dp->linkd_uid) {
		dp->st.refused++;
		log_warnx_rl(&dp->st.refused, "data connection from uid %ld "
		    "refused: only linkd (uid %lu) may connect",
		    len == sizeof(cred) ? (long)cred.uid : -1L,
		    (unsigned long)dp->linkd_uid);
		close(fd);
		return;
	}
	dp_sockbuf(fd, SO_SNDBUF, SO_SNDBUFFORCE, DP_SOCKBUF);
	dp_sockbuf(fd, SO_RCVBUF, SO_RCVBUFFORCE, DP_SOCKBUF);
	if (dp->cfd != -1) {
		log_info("linkd (pid %ld) connected again; the old data "
		    "connection is closed", (long)cred.pid);
		dp_link_close(dp, 1);
	} else
		log_info("linkd (pid %ld) connected to the data socket",
		    (long)cred.pid);
	dp->cfd = fd;
	dp->st.accepts++;
	ev_io_set(&dp->w_link_r, fd, EV_READ);
	ev_io_set(&dp->w_link_w, fd, EV_WRITE);
	/* A packet still waiting for the TUN keeps receives paused; one
	 * still waiting for linkd goes to the new connection. */
	if (!dp->in_pending)
		ev_io_start(loop, &dp->w_link_r);
	if (dp->out_pending) {
		ev_io_stop(loop, &dp->w_tun_r);
		ev_io_start(loop, &dp->w_link_w);
	}
}

void
datapath_stop(struct datapath *dp)
{
	if (dp->loop != NULL) {
		ev_io_stop(dp->loop, &dp->w_tun_r);
		ev_io_stop(dp->loop, &dp->w_tun_w);
		ev_io_stop(dp->loop, &dp->w_listen);
		ev_io_stop(dp->loop, &dp->w_link_r);
		ev_io_stop(dp->loop, &dp->w_link_w);
	}
	if (dp->cfd != -1)
		close(dp->cfd);
	if (dp->lfd != -1)
		close(dp->lfd);
	dp->cfd = dp->lfd = -1;
	if (dp->path[0])
		(void)unlink(dp->path);
	dp->path[0] = '\0';
	free(dp->out_buf);
	free(dp->in_buf);
	dp->out_buf = dp->in_buf = NULL;
}
