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
 *           rekey timer does every 120 s), answers left unread;
 *   e2e     the HS_INIT of a new end-to-end session (a fresh conn id)
 *           in an INNER_FORWARD for PEER_ID itself, as a member without
 *           a direct link would send it through a relay.
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

enum mode { M_GOSSIP, M_REKEY, M_E2E };

struct member {
	int fd;
	uint8_t xsk[crypto_scalarmult_SCALARBYTES];
	uint8_t pub[NOISE_DHLEN];
	uint8_t id[MEMBER_ID_BYTES];       /* the other member's */
	uint8_t peer_x[NOISE_DHLEN];
	uint8_t pro[WIRE_PROLOGUE_MAX];
	size_t plen;
	struct session link;               /* the session on the stream */
	uint32_t conn;                     /* e2e: the session being sent */
	int established;
	int closed;
};

static void
die_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "om-member: %s\n", why);
	fprintf(stderr, "usage: om-member gossip|rekey|e2e HOST PORT KEYS_DIR "
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

/* An end-to-end session's frame: in an INNER_FORWARD for the other
 * member, on the link's session. */
static int
cb_fwd_send(void *arg, const uint8_t *frame, size_t len)
{
	static uint8_t buf[WIRE_FWD_HDR + WIRE_FWD_MAX_FRAME];
	struct member *m = arg;

	if (len > WIRE_FWD_MAX_FRAME)
		return -1;
	wire_fwd_put_hdr(buf, m->id, WIRE_FWD_HOP_LIMIT, m->conn);
	memcpy(buf + WIRE_FWD_HDR, frame, len);
	return session_send_kind(&m->link, INNER_FORWARD, buf,
	    WIRE_FWD_HDR + len, mono_now());
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
load_identity(struct member *m, const char *keys)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char err[512];

	if (keystore_identity_load(keys, sk, err, sizeof(err)) == -1) {
		fprintf(stderr, "om-member: %s\n", err);
		exit(2);
	}
	if (crypto_sign_ed25519_sk_to_curve25519(m->xsk, sk) != 0 ||
	    crypto_scalarmult_base(m->pub, m->xsk) != 0)
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

static const struct session_cb link_cbs = {
	.send = cb_send, .deliver = cb_deliver,
	.established = cb_established, .dh = cb_dh,
	.lookup_peer = cb_lookup, .check_ts = cb_ts,
};

static const struct session_cb e2e_cbs = {
	.send = cb_fwd_send, .deliver = cb_deliver,
	.established = cb_established, .dh = cb_dh,
	.lookup_peer = cb_lookup, .check_ts = cb_ts,
};

/* One unit of mischief; 0 sent, -1 the session would not. */
static int
misbehave(struct member *m, enum mode mode, double now)
{
	static struct session e;
	struct session_cb cb = e2e_cbs;
	uint8_t junk[64];
	int r;

	switch (mode) {
	case M_GOSSIP:
		randombytes_buf(junk, sizeof(junk));
		return session_send_kind(&m->link, INNER_GOSSIP, junk,
		    sizeof(junk), now);
	case M_REKEY:
		/* The rekey timer, run early: the keys look due, and the
		 * last handshake as answered. */
		m->link.hs_active = 0;
		m->link.t_established = now - SESSION_REKEY_AFTER_TIME;
		return session_tick(&m->link, now);
	case M_E2E:
		cb.arg = m;
		m->conn = randombytes_random() | 1;
		if (session_init(&e, 1, m->pro, m->plen, m->pub, m->peer_x,
		    &cb) == -1)
			return -1;
		r = session_start(&e, now);
		session_wipe(&e);
		return r;
	}
	return -1;
}

/* The mode, rate and seconds of argv, or usage. */
static enum mode
parse_args(char **argv, long *rate, long *secs)
{
	static const char *const names[] = { "gossip", "rekey", "e2e" };
	int i;

	*rate = strtol(argv[7], NULL, 10);
	*secs = strtol(argv[8], NULL, 10);
	if (*rate < 1 || *rate > 100000 || *secs < 1 || *secs > 600)
		die_usage("RATE 1..100000 a second, SECONDS 1..600");
	for (i = 0; i < 3; i++)
		if (strcmp(argv[1], names[i]) == 0)
			return (enum mode)i;
	die_usage("MODE is gossip, rekey or e2e");
	return M_GOSSIP;
}

int
main(int argc, char **argv)
{
	static struct member m = { .fd = -1 };
	struct session_cb cb = link_cbs;
	struct framer rx;
	double end, next, now;
	long rate, secs, sent = 0;
	enum mode mode;

	if (argc != 9)
		die_usage(NULL);
	if (sodium_init() < 0)
		return 1;
	mode = parse_args(argv, &rate, &secs);
	if (hex_decode(m.id, sizeof(m.id), argv[5]) == -1 ||
	    crypto_sign_ed25519_pk_to_curve25519(m.peer_x, m.id) != 0)
		die_usage("PEER_ID is a member's 64 hex id");
	load_identity(&m, argv[4]);
	m.plen = prologue_of(argv[6], m.pro);
	cb.arg = &m;
	if (framer_init(&rx, 2 * WIRE_MAX_FRAME) == -1 ||
	    session_init(&m.link, 1, m.pro, m.plen, m.pub, m.peer_x,
	    &cb) == -1)
		return 1;
	if ((m.fd = dial(argv[2], argv[3])) == -1 ||
	    session_start(&m.link, mono_now()) == -1) {
		printf("established=0 sent=0 closed=1\n");
		return 1;
	}
	for (end = mono_now() + HS_WAIT; !m.established && !m.closed &&
	    mono_now() < end;)
		pump(&m, &m.link, &rx, 1, 50);
	next = mono_now();
	for (end = next + (double)secs; m.established && !m.closed &&
	    (now = mono_now()) < end;) {
		if (now >= next) {
			if (misbehave(&m, mode, now) == 0)
				sent++;
			next += 1.0 / (double)rate;
			continue;
		}
		pump(&m, &m.link, &rx, mode != M_REKEY,
		    (int)((next - now) * 1000));
	}
	printf("established=%d sent=%ld closed=%d\n", m.established, sent,
	    m.closed);
	close(m.fd);
	framer_free(&rx);
	session_wipe(&m.link);
	sodium_memzero(m.xsk, sizeof(m.xsk));
	return m.established ? 0 : 1;
}
