/*
 * om-probe: a stranger knocking on a member's linkd, for the netns tests.
 *
 *   om-probe stranger HOST PORT PEER_ID NET
 *
 * Connects over TCP and sends a well-formed Noise IK handshake addressed
 * to PEER_ID (its mac1 is right, so linkd has to run the handshake to
 * find out) from a freshly generated static key no member has, then
 * counts the bytes that come back within 2 s. A linkd that never answers
 * a stranger sends 0. Prints "bytes=N" and exits 0 when it could send,
 * 1 otherwise. It uses the real session layer, so the handshake is the
 * one a member would send.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "linkd/session.h"
#include "proto/record.h"

static int fd = -1;
static uint8_t my_sk[32];

static int
probe_send(void *arg, const uint8_t *frame, size_t len)
{
	(void)arg;
	return write(fd, frame, len) == (ssize_t)len ? 0 : -1;
}

static void
probe_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static void
probe_established(void *arg, int rekey)
{
	(void)arg;
	(void)rekey;
}

static int
probe_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	(void)arg;
	return crypto_scalarmult(out, my_sk, pub);
}

static int
probe_connect(const char *host, const char *port)
{
	struct addrinfo hints = {0}, *res, *ai;
	int s = -1;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (s == -1)
			continue;
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	return s;
}

int
main(int argc, char **argv)
{
	uint8_t peer_id[32], peer_x[32], my_pub[32], netid[32];
	uint8_t prologue[SESSION_PROLOGUE_MAX], buf[4096];
	struct session_cb cb = {0};
	struct session s;
	struct pollfd pfd;
	size_t plen, got = 0;
	ssize_t n;
	int waited = 0;

	if (argc != 6 || strcmp(argv[1], "stranger") != 0) {
		fprintf(stderr, "usage: om-probe stranger HOST PORT PEER_ID NET\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (hex_decode(peer_id, 32, argv[4]) == -1 ||
	    crypto_sign_ed25519_pk_to_curve25519(peer_x, peer_id) != 0) {
		fprintf(stderr, "om-probe: `%s' is not a member id (want 64 "
		    "hex digits)\n", argv[4]);
		return 2;
	}
	randombytes_buf(my_sk, sizeof(my_sk));
	crypto_scalarmult_base(my_pub, my_sk);
	netid_derive(netid, argv[5]);
	plen = session_prologue(prologue, netid);

	if ((fd = probe_connect(argv[2], argv[3])) == -1) {
		fprintf(stderr, "om-probe: cannot connect to %s port %s\n",
		    argv[2], argv[3]);
		return 1;
	}
	cb.send = probe_send;
	cb.deliver = probe_deliver;
	cb.established = probe_established;
	cb.dh = probe_dh;
	if (session_init(&s, 1, prologue, plen, my_pub, peer_x, &cb) == -1 ||
	    session_start(&s, 0.0) == -1) {
		fprintf(stderr, "om-probe: could not send the handshake\n");
		return 1;
	}
	/* Count what comes back until the peer closes or 2 s pass. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (waited < 2000) {
		if (poll(&pfd, 1, 100) == 1) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		waited += 100;
	}
	printf("bytes=%zu\n", got);
	session_wipe(&s);
	sodium_memzero(my_sk, sizeof(my_sk));
	close(fd);
	return 0;
}
