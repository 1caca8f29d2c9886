/*
 * Onion mode's outgoing side: the stream to tor's SocksPort, the
 * credentials that give each link its own circuit, SOCKS errors in
 * words, and the config checks that keep anonymous mode closed.
 *
 * The SOCKS5 conversation itself is proto/socks5.c's pure state
 * machine; link.c feeds it the bytes of the link's own socket, so a
 * link is one socket and one buffer from the first SOCKS byte to the
 * last frame, and whatever tor sends after its final reply is already
 * where the framer looks for frames.
 *
 * Credentials: tor's default IsolateSOCKSAuth keeps streams with
 * different username/password on different circuits, so each link
 * (and each redial of it) takes 16 fresh random bytes for each. They
 * are not secrets in the usual sense, but they decide which streams
 * share a circuit, so they are wiped after use and never logged.
 *
 * A Unix SocksPort is the normal case (no IP socket at all, and it
 * crosses network namespaces by path); HOST:PORT works too, through
 * transport_tcp.c's connect.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/addr.h"
#include "proto/log.h"

#define SOCKS_CRED_BYTES 16

/* A literal loopback address (no name: resolving one could ask DNS). */
static int
host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
linkd_conf_check(const struct conf *c, char *err, size_t errlen)
{
	char host[CONF_ADDR_LEN];
	uint16_t port;

	if (!c->anonymous)
		return 0;
	if (!linkd_onion_mode(c)) {
		snprintf(err, errlen, "%s: anonymous = yes, but tor_control"
		    " = %s and tor_socks = %s are not both set: linkd would"
		    " have no transport that hides this host's address; set"
		    " both (e.g. tor_socks = unix:/run/tor/socks) or set"
		    " anonymous = no", c->paths.conf_file,
		    c->tor_control[0] != '\0' ? c->tor_control : "(none)",
		    c->tor_socks[0] != '\0' ? c->tor_socks : "(none)");
		return -1;
	}
	if (strncmp(c->tor_socks, "unix:", 5) == 0)
		return 0;
	if (endpoint_parse(c->tor_socks, host, sizeof(host), &port) == -1 ||
	    !host_is_loopback(host)) {
		snprintf(err, errlen, "%s: anonymous = yes, but tor_socks = %s"
		    " is not a literal loopback address: the SOCKS connection"
		    " names every peer's onion address and would cross the"
		    " network in clear from this host's address; use"
		    " unix:PATH, 127.0.0.1:PORT or [::1]:PORT",
		    c->paths.conf_file, c->tor_socks);
		return -1;
	}
	return 0;
}

static int
unix_connect(const char *proxy, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	const char *path = proxy + 5;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "tor_socks = %s: want unix:/absolute/"
		    "path shorter than %zu bytes", proxy,
		    sizeof(sun.sun_path));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket for tor's SocksPort: %s",
		    strerror(errno));
		return -1;
	}
	/* A Unix connect completes at once or fails at once; EAGAIN
	 * means tor's accept queue is full. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "cannot reach tor's SocksPort %s: %s",
		    proxy, errno == EAGAIN ? "busy (accept queue full)" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
socks_proxy_connect(const char *proxy, char *err, size_t errlen)
{
	char remote[80], why[256];
	int fd;

	if (strncmp(proxy, "unix:", 5) == 0)
		return unix_connect(proxy, err, errlen);
	if ((fd = tcp_connect(proxy, remote, sizeof(remote), why,
	    sizeof(why))) == -1)
		snprintf(err, errlen, "tor's SocksPort: %s", why);
	return fd;
}

void
socks_credentials(char user[33], char pass[33])
{
	uint8_t r[2 * SOCKS_CRED_BYTES];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(user, 2 * SOCKS_CRED_BYTES + 1, r, SOCKS_CRED_BYTES);
	sodium_bin2hex(pass, 2 * SOCKS_CRED_BYTES + 1, r + SOCKS_CRED_BYTES,
	    SOCKS_CRED_BYTES);
	sodium_memzero(r, sizeof(r));
}

void
socks_error(const struct socks5_client *c, char *out, size_t cap)
{
	/* The link shows the onion address already: tor's words and
	 * code are what is worth the space. */
	if (c->rep > 0)
		snprintf(out, cap, "tor: %s (SOCKS5 reply 0x%02x)",
		    socks5_reply_str((uint8_t)c->rep), (unsigned)c->rep);
	else
		snprintf(out, cap, "tor SOCKS: %s", c->err[0] != '\0' ?
		    c->err : "failed");
}
