/*
 * One parser and one dialler for "unix:/PATH" and HOST:PORT
 * (endpoint.h), for the daemons, the command and tor's ports alike.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/addr.h"
#include "proto/endpoint.h"

static void
ep_fmt(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (out == NULL || cap == 0)
		return;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host,
		    (unsigned)ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host,
		    (unsigned)ntohs(s4->sin_port));
	} else
		snprintf(out, cap, "?");
}

static int
ep_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	return 0;
}

int
endpoint_split(const char *s, struct endpoint *ep, char *err, size_t errlen)
{
	size_t n;

	memset(ep, 0, sizeof(*ep));
	if (s == NULL)
		s = "";
	if (strncmp(s, "unix:", 5) == 0) {
		n = strlen(s + 5);
		if (s[5] != '/' || n >= sizeof(ep->path)) {
			snprintf(err, errlen, "\"%.200s\" is not usable: want "
			    "unix: and an absolute path shorter than %zu "
			    "bytes", s, sizeof(ep->path));
			return -1;
		}
		ep->is_unix = 1;
		memcpy(ep->path, s + 5, n + 1);
		return 0;
	}
	if (endpoint_parse(s, ep->host, sizeof(ep->host), &ep->port) == -1) {
		snprintf(err, errlen, "\"%.200s\" is not usable: want "
		    "unix:/PATH, HOST:PORT or [IPV6]:PORT with PORT "
		    "1..65535", s);
		return -1;
	}
	return 0;
}

static int
ep_connect_unix(const struct endpoint *ep, const char *s, int flags,
    char *remote, size_t rcap, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ep->path, strlen(ep->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    ((flags & EP_NONBLOCK) ? SOCK_NONBLOCK : 0), 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket for %.200s: %s", s,
		    strerror(errno));
		return -1;
	}
	/* A Unix connect completes or fails at once; EAGAIN means the
	 * listener's accept queue is full. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    !((flags & EP_NONBLOCK) && errno == EINPROGRESS)) {
		snprintf(err, errlen, "cannot connect to %.200s: %s", s,
		    errno == EAGAIN ? "busy (accept queue full)" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (remote != NULL && rcap > 0)
		snprintf(remote, rcap, "%s", s);
	return fd;
}

static int
ep_connect_ai(const struct addrinfo *ai, const char *s, int flags,
    char *err, size_t errlen)
{
	int fd;

	if ((flags & EP_LOOPBACK) && !ep_is_loopback(ai->ai_addr)) {
		snprintf(err, errlen, "%.200s is not a loopback address "
		    "(want 127.0.0.0/8 or [::1])", s);
		errno = EPERM;
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    ((flags & EP_NONBLOCK) ? SOCK_NONBLOCK : 0), ai->ai_protocol);
	if (fd == -1) {
		snprintf(err, errlen, "socket for %.200s: %s", s,
		    strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    !((flags & EP_NONBLOCK) && errno == EINPROGRESS)) {
		snprintf(err, errlen, "cannot connect to %.200s: %s", s,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
endpoint_connect(const char *s, int flags, char *remote, size_t rcap,
    char *err, size_t errlen)
{
	struct endpoint ep;
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, r;

	if (endpoint_split(s, &ep, err, errlen) == -1)
		return -1;
	if (ep.is_unix)
		return ep_connect_unix(&ep, s, flags, remote, rcap, err,
		    errlen);
	snprintf(port, sizeof(port), "%u", (unsigned)ep.port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((flags & EP_NUMERIC) && strcmp(ep.host, "localhost") != 0)
		hints.ai_flags |= AI_NUMERICHOST;
	if ((r = getaddrinfo(ep.host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %.200s: %s%s", ep.host,
		    gai_strerror(r), (flags & EP_NUMERIC) ? " (want an IP "
		    "address, not a name)" : "");
		return -1;
	}
	/* Each address in turn; err keeps the last one's reason. */
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		if ((fd = ep_connect_ai(ai, s, flags, err, errlen)) != -1)
			ep_fmt(ai->ai_addr, remote, rcap);
	freeaddrinfo(res);
	return fd;
}
