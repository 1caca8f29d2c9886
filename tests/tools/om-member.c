/*
 * om-member: a member that asks too much, for the netns tests of the
 * per-member bounds (linkd/bounds.h). Unlike om-probe's strangers it
 * holds a real member's identity (that member's keys/ folder, read
 * with the key store's own code), so the other end authenticates it
 * and only the bounds stand between its flood and keyd.
 *
 *   om-member MODE HOST PORT KEYS_DIR PEER_ID NET:ROOT RATE SECONDS
 *
 * It dials HOST PORT, runs the real handshake (linkd/session.c) with
 * member PEER_ID, then for SECONDS, RATE times a second:
 *   gossip  an INNER_GOSSIP payload of junk (keyd would refuse it, but
 *           only after it got it);
 *   rekey   a new HS_INIT on the established session (what a member's
 *           rekey timer does every 120 s), answers left unread.
 * Prints one line: established= sent= closed= (1: the other end
 * closed the stream) and exits 0 when the handshake completed, 1
 * otherwise, 2 on a usage error. Every wait is bounded; only HOST is
 * contacted, and the tests point it at namespaces they created.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "linkd/session.h"
#include "linkd/stream.h"
#include "proto/clock.h"
#include "proto/keystore.h"
#include "proto/record.h"
#include "proto/wire.h"

#define HS_WAIT 10.0      /* seconds for the first handshake */

struct member {
	int fd;
	uint8_t xsk[crypto_scalarmult_SCALARBYTES];
	int established;
	int closed;
};

static void
die_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "om-member: %s\n", why);
	fprintf(stderr, "usage: om-member gossip|rekey HOST PORT KEYS_DIR "
	    "PEER_ID NET:ROOT RATE SECONDS\n");
	exit(2);
}

/* ---- the session's callbacks: a blocking socket, our own DH ---- */

static int
cb_send(void *arg, const uint8_t *frame, size_t len)
{
	struct member *m = arg;
	ssize_t n;

	while (len > 0) {
		n = send(m->fd, frame, len, MSG_NOSIGNAL);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			m->closed = 1;
			return -1;
		}
		frame += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
cb_deliver(void *arg, const uint8_t *pkt, size_t len)
{
}

static void
cb_established(void *arg, int rekey)
{
	((struct member *)arg)->established = 1;
}

static int
cb_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	return crypto_scalarmult(out, ((struct member *)arg)->xsk, pub);
}

/* Never asked of an initiator. */
static int
cb_lookup(void *arg, const uint8_t rs[NOISE_DHLEN])
{
	return -1;
}

static int
cb_ts(void *arg, const uint8_t rs[NOISE_DHLEN],
    const uint8_t ts[WIRE_HS_PAYLOAD])
{
	return -1;
}

/* ---- set-up ---- */

/* Our X25519 secret and public key from the member's key store. */
static void
load_identity(struct member *m, const char *keys, uint8_t pub[NOISE_DHLEN])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char err[512];

	if (keystore_identity_load(keys, sk, err, sizeof(err)) == -1) {
		fprintf(stderr, "om-member: %s\n", err);
		exit(2);
	}
	if (crypto_sign_ed25519_sk_to_curve25519(m->xsk, sk) != 0 ||
	    crypto_scalarmult_base(pub, m->xsk) != 0)
		die_usage("the identity has no X25519 form");
	sodium_memzero(sk, sizeof(sk));
}

/* The prologue of network NET:ROOT, as every member builds it. */
static size_t
prologue_of(const char *net, uint8_t out[WIRE_PROLOGUE_MAX])
{
	uint8_t netid[NETID_BYTES], root[MEMBER_ID_BYTES];
	char name[64];
	const char *colon = strchr(net, ':');

	if (colon == NULL || (size_t)(colon - net) >= sizeof(name) ||
	    hex_decode(root, sizeof(root), colon + 1) == -1)
		die_usage("NET:ROOT wanted, ROOT the founder's 64 hex id");
	memcpy(name, net, (size_t)(colon - net));
	name[colon - net] = '\0';
	netid_derive(netid, name, root);
	return wire_prologue(out, netid);
}

static int
dial(const char *host, const char *port)
{
	struct addrinfo hints, *res;
	int fd, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "om-member: %s:%s: %s\n", host, port,
		    gai_strerror(r));
		exit(2);
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd != -1 && connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* ---- the run ---- */

/* Read what came and, until the session is up (or always, when feed),
 * hand each frame to it. */
static void
pump(struct member *m, struct session *s, struct framer *rx, int feed,
    int ms)
{
	struct pollfd pfd = { m->fd, POLLIN, 0 };
	struct wire_frame f;
	uint8_t *p;
	size_t room;
	ssize_t n;

	if (m->closed || poll(&pfd, 1, ms) <= 0)
		return;
	p = framer_space(rx, &room);
	if ((n = recv(m->fd, p, room, MSG_DONTWAIT)) <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			m->closed = 1;
		return;
	}
	framer_commit(rx, (size_t)n);
	while (framer_next(rx, &f) == 1)
		if (feed && session_input(s, &f, mono_now()) == -1)
			m->closed = 1;
}

/* One unit of mischief; 0 sent, -1 the session would not. */
static int
misbehave(struct session *s, int rekey, double now)
{
	uint8_t junk[64];

	if (!rekey) {
		randombytes_buf(junk, sizeof(junk));
		return session_send_kind(s, INNER_GOSSIP, junk, sizeof(junk),
		    now);
	}
	/* The rekey timer, run early: the keys look due, and the last
	 * handshake as answered. */
	s->hs_active = 0;
	s->t_established = now - SESSION_REKEY_AFTER_TIME;
	return session_tick(s, now);
}

int
main(int argc, char **argv)
{
	static struct session s;
	struct session_cb cb = {
		.send = cb_send, .deliver = cb_deliver,
		.established = cb_established, .dh = cb_dh,
		.lookup_peer = cb_lookup, .check_ts = cb_ts,
	};
	struct member m = { .fd = -1 };
	struct framer rx;
	uint8_t pub[NOISE_DHLEN], id[MEMBER_ID_BYTES], peer_x[NOISE_DHLEN];
	uint8_t pro[WIRE_PROLOGUE_MAX];
	double end, next, now;
	size_t plen;
	long rate, secs, sent = 0;
	int rekey;

	if (argc != 9)
		die_usage(NULL);
	if (sodium_init() < 0)
		return 1;
	rekey = strcmp(argv[1], "rekey") == 0;
	if (!rekey && strcmp(argv[1], "gossip") != 0)
		die_usage("MODE is gossip or rekey");
	rate = strtol(argv[7], NULL, 10);
	secs = strtol(argv[8], NULL, 10);
	if (rate < 1 || rate > 100000 || secs < 1 || secs > 600)
		die_usage("RATE 1..100000 a second, SECONDS 1..600");
	if (hex_decode(id, sizeof(id), argv[5]) == -1 ||
	    crypto_sign_ed25519_pk_to_curve25519(peer_x, id) != 0)
		die_usage("PEER_ID is a member's 64 hex id");
	load_identity(&m, argv[4], pub);
	plen = prologue_of(argv[6], pro);
	cb.arg = &m;
	if (framer_init(&rx, 2 * WIRE_MAX_FRAME) == -1 ||
	    session_init(&s, 1, pro, plen, pub, peer_x, &cb) == -1)
		return 1;
	if ((m.fd = dial(argv[2], argv[3])) == -1 ||
	    session_start(&s, mono_now()) == -1) {
		printf("established=0 sent=0 closed=1\n");
		return 1;
	}
	for (end = mono_now() + HS_WAIT; !m.established && !m.closed &&
	    mono_now() < end;)
		pump(&m, &s, &rx, 1, 50);
	next = mono_now();
	for (end = next + (double)secs; m.established && !m.closed &&
	    (now = mono_now()) < end;) {
		if (now >= next) {
			if (misbehave(&s, rekey, now) == 0)
				sent++;
			next += 1.0 / (double)rate;
			continue;
		}
		pump(&m, &s, &rx, !rekey, (int)((next - now) * 1000));
	}
	printf("established=%d sent=%ld closed=%d\n", m.established, sent,
	    m.closed);
	close(m.fd);
	framer_free(&rx);
	session_wipe(&s);
	sodium_memzero(m.xsk, sizeof(m.xsk));
	return m.established ? 0 : 1;
}
