/*
 * The TCP transport: listen on conf.listen, dial a member's "HOST:PORT"
 * without blocking, and the socket options that decide throughput.
 *
 * TCP_NODELAY because every frame is a whole sealed packet already:
 * Nagle would only hold back the tail of a superpacket. Socket buffers:
 * a fixed SO_SNDBUF/SO_RCVBUF switches off Linux's autotuning, so it is
 * set only when the system lets us make it large (net.core.[rw]mem_max
 * at least LINK_SOCKBUF_MIN); otherwise autotuning, which grows up to
 * tcp_[rw]mem's maximum, does better than a clamped fixed size. The
 * receive buffer is set before listen()/connect(), because the window
 * scale is agreed in the SYN.
 *
 * A dial to a numeric endpoint connects at once; a host name is looked
 * up by the resolver's threads (resolve.h), never in the loop, and the
 * connect follows when the answer comes. Only conf.listen, our own
 * address, is still resolved in place, once when the listener starts.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "linkd/linkd.h"
#include "linkd/resolve.h"
#include "proto/addr.h"
#include "proto/log.h"

#define LINK_SOCKBUF_WANT (4 * 1024 * 1024)
#define LINK_SOCKBUF_MIN  (1024 * 1024)
/* Deep, so a burst of connections waits to be accepted (and closed, if
 * they are strangers) instead of being half-dropped by the kernel and
 * left dangling on the caller's side; the kernel caps it at somaxconn. */
#define LISTEN_BACKLOG 1024
#define ACCEPTS_PER_WAKEUP 16

static int sockbuf_snd;  /* 0: leave to autotuning */
static int sockbuf_rcv;

static long
read_sysctl(const char *path)
{
	char buf[64];
	FILE *f;
	long v = -1;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL)
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

static int
pick_size(long max)
{
	if (max < LINK_SOCKBUF_MIN)
		return 0;
	return max < LINK_SOCKBUF_WANT ? (int)max : LINK_SOCKBUF_WANT;
}

void
tcp_buffers_probe(void)
{
	sockbuf_snd = pick_size(read_sysctl("/proc/sys/net/core/wmem_max"));
	sockbuf_rcv = pick_size(read_sysctl("/proc/sys/net/core/rmem_max"));
	log_debug("tcp socket buffers: send %d, receive %d (0: autotuning)",
	    sockbuf_snd, sockbuf_rcv);
}

void
tcp_buffers(int fd)
{
	if (sockbuf_snd > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sockbuf_snd,
		    sizeof(sockbuf_snd));
	if (sockbuf_rcv > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sockbuf_rcv,
		    sizeof(sockbuf_rcv));
}

void
tcp_tune(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
fmt_sockaddr(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, cap, "?");
	}
}

/* HOST and PORT of "HOST:PORT"; -1 with err naming the value. */
static int
tcp_endpoint_split(const char *endpoint, char *host, size_t hostcap,
    uint16_t *port, char *err, size_t errlen)
{
	if (endpoint_parse(endpoint, host, hostcap, port) == 0)
		return 0;
	snprintf(err, errlen, "bad endpoint '%s': want HOST:PORT, e.g. "
	    "192.0.2.1:%d or [2001:db8::1]:%d", endpoint, DEFAULT_PORT,
	    DEFAULT_PORT);
	return -1;
}

/* getaddrinfo for our own listen address; -1 with err naming it. */
static int
resolve_passive(const char *endpoint, struct addrinfo **res, char *err,
    size_t errlen)
{
	struct addrinfo hints;
	char host[CONF_ADDR_LEN], port[8];
	uint16_t pt;
	int r;

	if (tcp_endpoint_split(endpoint, host, sizeof(host), &pt, err,
	    errlen) == -1)
		return -1;
	snprintf(port, sizeof(port), "%u", pt);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    gai_strerror(r));
		return -1;
	}
	return 0;
}

int
tcp_listen(const char *addr, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, saved = 0;

	if (resolve_passive(addr, &res, err, errlen) == -1)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		/* Accepted sockets inherit the buffers (and window scale). */
		tcp_buffers(fd);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
		    strerror(saved));
	return fd;
}

int
tcp_accept(int lfd, char *remote, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	fmt_sockaddr((struct sockaddr *)&ss, remote, cap);
	tcp_tune(fd);
	return fd;
}

int
tcp_connect_addr(const struct sockaddr *sa, socklen_t salen,
    const char *endpoint, char *remote, size_t cap, char *err,
    size_t errlen)
{
	int fd;

	fmt_sockaddr(sa, remote, cap);
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		snprintf(err, errlen, "socket for %s: %s", endpoint,
		    strerror(errno));
		return -1;
	}
	tcp_buffers(fd);
	tcp_tune(fd);
	if (connect(fd, sa, salen) == -1 && errno != EINPROGRESS) {
		snprintf(err, errlen, "connect to %s: %s", endpoint,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
tcp_dial(struct ev_loop *loop, const char *endpoint, resolve_cb *cb,
    void *arg, uint32_t *id, char *remote, size_t cap, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char host[CONF_ADDR_LEN];
	uint16_t pt;

	*id = 0;
	if (tcp_endpoint_split(endpoint, host, sizeof(host), &pt, err,
	    errlen) == -1)
		return -1;
	if (resolve_numeric(host, pt, &ss, &len))
		return tcp_connect_addr((struct sockaddr *)&ss, len, endpoint,
		    remote, cap, err, errlen);
	if ((*id = resolve_start(loop, host, pt, cb, arg, err,
	    errlen)) == 0)
		return -1;
	return TCP_RESOLVING;
}

int
tcp_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}

void
listener_accept(struct linkd *ld, int lfd, const char *transport,
    const char *where)
{
	char remote[64];
	int i, fd, tcp = strcmp(transport, "tcp") == 0;

	for (i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		fd = tcp ? tcp_accept(lfd, remote, sizeof(remote)) :
		    accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on %s", where);
			return;
		}
		/* tor says nothing of who is on the other end. */
		(void)link_accept(ld, fd, transport, tcp ? remote : "onion");
	}
}

static void
listener_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct linkd *ld = w->data;

	listener_accept(ld, ld->lfd, "tcp", ld->listen_addr);
}

int
listener_watch(struct linkd *ld, ev_io *w, int *fdp, int fd,
    const char *err, void (*cb)(struct ev_loop *, ev_io *, int))
{
	if ((*fdp = fd) == -1) {
		log_warnx_rl(fdp, "%s (retrying)", err);
		return -1;
	}
	ev_io_init(w, cb, fd, EV_READ);
	w->data = ld;
	ev_io_start(ld->loop, w);
	return 0;
}

int
listener_unwatch(struct linkd *ld, ev_io *w, int *fdp)
{
	if (*fdp == -1)
		return -1;
	ev_io_stop(ld->loop, w);
	close(*fdp);
	*fdp = -1;
	return 0;
}

void
listener_start(struct linkd *ld)
{
	char err[256];

	if (ld->lfd != -1 || ld->conf->listen[0] == '\0')
		return;
	snprintf(ld->listen_addr, sizeof(ld->listen_addr), "%s",
	    ld->conf->listen);
	if (listener_watch(ld, &ld->lio, &ld->lfd, tcp_listen(
	    ld->listen_addr, err, sizeof(err)), err, listener_cb) == 0)
		log_info("listening on tcp %s", ld->listen_addr);
}

void
listener_stop(struct linkd *ld)
{
	(void)listener_unwatch(ld, &ld->lio, &ld->lfd);
}
