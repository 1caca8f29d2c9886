/*
 * Onion mode's outgoing side: the stream to tor's SocksPort, the
 * credentials that give each link its own circuit, SOCKS errors in
 * words, and the config checks that keep anonymous mode closed.
 *
 * The SOCKS5 conversation is proto/socks5.c's pure state machine, fed
 * here with the bytes of the link's own socket (socks_start,
 * socks_input): a link is one socket and one buffer from the first
 * SOCKS byte to the last frame, and whatever tor sends after its final
 * reply is already where the link's framer looks for frames.
 *
 * Credentials: tor's default IsolateSOCKSAuth keeps streams with
 * different username/password on different circuits, so each link
 * (and each redial of it) takes 16 fresh random bytes for each. They
 * are not secrets in the usual sense, but they decide which streams
 * share a circuit, so they are wiped after use and never logged.
 *
 * A Unix SocksPort is the normal case (no IP socket at all, and it
 * crosses network namespaces by path); HOST:PORT works too
 * (proto/endpoint.h dials both).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/addr.h"
#include "proto/endpoint.h"
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

int
socks_proxy_connect(const char *proxy, char *err, size_t errlen)
{
	char why[256];
	int fd;

	if ((fd = endpoint_connect(proxy, EP_NONBLOCK, NULL, 0, why,
	    sizeof(why))) == -1) {
		snprintf(err, errlen, "tor's SocksPort: %s", why);
		return -1;
	}
	/* The options a link's own TCP connection gets. */
	if (strncmp(proxy, "unix:", 5) != 0) {
		tcp_buffers(fd);
		tcp_tune(fd);
	}
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

void
socks_free(struct link *l)
{
	if (l->socks == NULL)
		return;
	socks5_client_wipe(l->socks);
	sodium_memzero(l->socks, sizeof(*l->socks));
	free(l->socks);
	l->socks = NULL;
}

/* Send what the state machine has queued. -1 with why. */
static int
socks_send(struct link *l, char *why, size_t cap)
{
	if (l->socks->out_len == 0)
		return 0;
	if (link_send_raw(l, l->socks->out, l->socks->out_len) == -1) {
		snprintf(why, cap, "tor SOCKS: %s", l->send_err);
		return -1;
	}
	/* Copied by the link; the auth request holds the credentials. */
	sodium_memzero(l->socks->out, l->socks->out_len);
	l->socks->out_len = 0;
	return 0;
}

int
socks_start(struct link *l, char *why, size_t cap)
{
	char user[33], pass[33];
	int r;

	if ((l->socks = malloc(sizeof(*l->socks))) == NULL) {
		snprintf(why, cap, "out of memory (SOCKS)");
		return -1;
	}
	socks_credentials(user, pass);
	r = socks5_client_init(l->socks, l->peer->rec.onion, DEFAULT_PORT,
	    user, pass);
	sodium_memzero(user, sizeof(user));
	sodium_memzero(pass, sizeof(pass));
	if (r == -1) {
		socks_error(l->socks, why, cap);
		return -1;
	}
	return socks_send(l, why, cap);
}

int
socks_input(struct link *l, char *why, size_t cap)
{
	char err[LINK_ERR_LEN];
	size_t room, used;
	uint8_t *buf;
	ssize_t n;
	int r;

	buf = framer_space(&l->rx, &room);
	n = stream_recv(l->fd, buf, room, 0, err, sizeof(err));
	if (n == STREAM_AGAIN)
		return 0;
	if (n == 0) {
		snprintf(why, cap, "tor closed the SOCKS connection");
		return -1;
	}
	if (n < 0) {
		snprintf(why, cap, "tor SOCKS: %s", err);
		return -1;
	}
	framer_commit(&l->rx, (size_t)n);
	l->rx_bytes += (uint64_t)n;
	r = socks5_client_input(l->socks, l->rx.buf + l->rx.head,
	    framer_pending(&l->rx), &used);
	l->rx.head += used;             /* the rest is the peer's */
	if (r == SOCKS5_ERROR) {
		socks_error(l->socks, why, cap);
		return -1;
	}
	if (socks_send(l, why, cap) == -1)
		return -1;
	if (r == SOCKS5_MORE)
		return 0;
	socks_free(l);
	return 1;
}
