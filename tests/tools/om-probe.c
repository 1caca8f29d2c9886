/*
 * om-probe: a stranger knocking on a member's linkd, for the netns tests.
 * Each mode does one kind of mischief over TCP and prints what it
 * measured as one line of key=value words (the tests parse them); exit 0
 * when it could do what it was asked, 1 when it could not (no
 * connection), 2 on a usage error.
 *
 *   stranger  HOST PORT PEER_ID NET
 *       A well-formed Noise IK HS_INIT addressed to PEER_ID (right
 *       mac1, so linkd has to run the handshake to find out) from a
 *       fresh static key no member has. bytes= what came back in 2 s.
 *   lowkey    HOST PORT PEER_ID NET
 *       HS_INITs with the right mac1 whose key is a low-order point
 *       (each of the 7 that X25519 has), one connection each, two at a
 *       time: first as
 *       the ephemeral (the rest of the message is noise; the responder's
 *       first DH already fails), then as the static key inside a real
 *       handshake (its DH is the responder's second). conns= bytes=
 *   frames    HOST PORT FILE [PER_CONN [REPEAT]]
 *       FILE holds frames as they were on the wire (e.g. a reassembled
 *       capture of a real session). They are sent PER_CONN (default 1;
 *       0: all) per new connection, the whole file REPEAT times (default
 *       1), up to 6 connections at a time, each held until the peer
 *       closes it or 2 s pass. frames= conns= bytes= closed=
 *   oversize  HOST PORT
 *       Frames whose length field is over WIRE_MAX_BODY (by one, 2^31,
 *       2^32-1) followed by bytes. conns= bytes= closed= max_close_ms=
 *   truncated HOST PORT [SECONDS]
 *       A DATA frame of the largest size and an HS_INIT, each cut short,
 *       then silence: linkd has to give up on them by itself. Waits up to
 *       SECONDS (default 20). conns= bytes= closed= max_close_ms=
 *   halfopen  HOST PORT N SECONDS
 *       N connections that never send a byte, held SECONDS at most.
 *       connected= closed= closed_1s= (within a second of connecting)
 *       last_close_ms= still_open= bytes=
 *   flood     HOST PORT PEER_ID NET RATE SECONDS
 *       HS_INITs with a valid mac1 from random static keys (a pool of
 *       256 made up front, so the probe's own CPU goes to sending), each
 *       on a new connection, RATE per second for SECONDS; each connection
 *       is held 0.5 s to count what comes back. sent= connected= bytes=
 *       closed= failed= rate=
 *   hellos    HOST PORT RATE SECONDS
 *       Join HELLOs (keyd/join.h: the current version, a random
 *       invitation id and MAC: what a stranger without an invitation
 *       can send) as the first frame of a new connection each, RATE
 *       per second for SECONDS, each held 0.5 s. Same counts as flood;
 *       bytes= should be 0 (a stranger gets silence).
 *
 * It uses the real session, Noise and wire code, so a handshake is the
 * one a member would send. Every wait is bounded. Only the address given
 * is contacted: the tests point it at namespaces they created.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/join.h"
#include "linkd/session.h"
#include "proto/buf.h"
#include "proto/noise.h"
#include "proto/record.h"
#include "proto/wire.h"

#define HS_MSG1     (NOISE_MSG1_OVERHEAD + WIRE_HS_PAYLOAD)
#define HS_FRAME    (WIRE_LEN_BYTES + 1 + HS_MSG1 + WIRE_MAC_BYTES)
#define FLOOD_POOL  256
#define MAX_CONNS   16384

/* The 7 points of small order on Curve25519 (libsodium's list). */
static const uint8_t low_order[7][32] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	  0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	  0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

/* ---- small helpers ------------------------------------------------- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: (NET is NET:ROOT, ROOT the network founder's id)\n"
	    "       om-probe stranger  HOST PORT PEER_ID NET\n"
	    "       om-probe lowkey    HOST PORT PEER_ID NET\n"
	    "       om-probe frames    HOST PORT FILE [PER_CONN [REPEAT]]\n"
	    "       om-probe oversize  HOST PORT\n"
	    "       om-probe truncated HOST PORT [SECONDS]\n"
	    "       om-probe halfopen  HOST PORT N SECONDS\n"
	    "       om-probe flood     HOST PORT PEER_ID NET RATE SECONDS\n"
	    "       om-probe hellos    HOST PORT RATE SECONDS\n");
	exit(2);
}

/* A whole number in [min, max] from the command line, or usage. */
static long
num_arg(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "om-probe: %s `%s' is not a number from %ld "
		    "to %ld\n", what, s, min, max);
		exit(2);
	}
	return v;
}

static struct sockaddr_storage target;
static socklen_t target_len;

static void
resolve(const char *host, const char *port)
{
	struct addrinfo hints = {0}, *res;
	int r;

	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "om-probe: %s port %s: %s\n", host, port,
		    gai_strerror(r));
		exit(2);
	}
	memcpy(&target, res->ai_addr, res->ai_addrlen);
	target_len = res->ai_addrlen;
	freeaddrinfo(res);
}

/* As many fds as the hard limit allows: halfopen and flood hold
 * thousands of connections. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- handshakes ---------------------------------------------------- */

struct hs_ctx {
	uint8_t peer_x[NOISE_DHLEN];      /* the member's X25519 key */
	uint8_t prologue[WIRE_PROLOGUE_MAX];
	size_t plen;
};

static void
hs_ctx_init(struct hs_ctx *h, const char *peer_id, const char *net)
{
	uint8_t id[32], netid[32], root[32];
	char name[64];
	const char *colon;

	if (hex_decode(id, sizeof(id), peer_id) == -1 ||
	    crypto_sign_ed25519_pk_to_curve25519(h->peer_x, id) != 0) {
		fprintf(stderr, "om-probe: `%s' is not a member id (want 64 "
		    "hex digits)\n", peer_id);
		exit(2);
	}
	/* NET or NET:ROOT (the founder's id: it is part of the netid). */
	memset(root, 0, sizeof(root));
	colon = strchr(net, ':');
	if (colon != NULL) {
		if (hex_decode(root, sizeof(root), colon + 1) == -1 ||
		    (size_t)(colon - net) >= sizeof(name)) {
			fprintf(stderr, "om-probe: `%s' is not NET:ROOT (ROOT"
			    " 64 hex digits)\n", net);
			exit(2);
		}
		memcpy(name, net, (size_t)(colon - net));
		name[colon - net] = '\0';
		net = name;
	}
	netid_derive(netid, net, root);
	h->plen = wire_prologue(h->prologue, netid);
}

/* Our static DH for a key we invented: the responder never gets far
 * enough for the value to matter, it only must not be zero. */
static int
fake_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	const uint8_t *sk = arg;

	if (sk != NULL)
		return crypto_scalarmult(out, sk, pub);
	randombytes_buf(out, NOISE_DHLEN);
	return 0;
}

/* A real HS_INIT frame from static key s_pub (secret s_priv, or NULL to
 * fake our side of the static DH). Returns the frame length. */
static int
hs_frame(const struct hs_ctx *h, const uint8_t s_pub[NOISE_DHLEN],
    uint8_t *s_priv, uint8_t out[HS_FRAME])
{
	struct noise_hs hs;
	uint8_t ts[WIRE_HS_PAYLOAD], msg[HS_MSG1];
	int n;

	randombytes_buf(ts, sizeof(ts));
	if (noise_hs_init(&hs, 1, h->prologue, h->plen, s_pub, h->peer_x,
	    fake_dh, s_priv) == -1)
		return -1;
	n = noise_write_msg1(&hs, ts, sizeof(ts), msg, sizeof(msg));
	noise_hs_wipe(&hs);
	if (n != HS_MSG1)
		return -1;
	return wire_hs_frame(out, HS_FRAME, WIRE_HS_INIT, msg, (size_t)n,
	    h->peer_x);
}

/* An HS_INIT from a fresh random static key. */
static int
hs_frame_random(const struct hs_ctx *h, uint8_t out[HS_FRAME])
{
	uint8_t sk[32], pk[32];
	int n;

	randombytes_buf(sk, sizeof(sk));
	crypto_scalarmult_base(pk, sk);
	n = hs_frame(h, pk, sk, out);
	sodium_memzero(sk, sizeof(sk));
	return n;
}

/* ---- many connections at once -------------------------------------- */

enum cstate { C_FREE = 0, C_CONNECTING, C_OPEN, C_DONE };

struct conn {
	enum cstate st;
	int fd;
	const uint8_t *out;      /* what to send once connected */
	size_t outlen, outoff;
	double t_open;           /* connect() called */
	double t_conn;           /* connected */
	double t_sent;           /* everything written */
	double t_close;          /* the peer closed it (0: we did) */
	double hold;             /* close it ourselves this long after
	                          * sending (< 0: only at the end) */
	size_t got;              /* bytes the peer sent */
	int failed;              /* connect failed */
};

struct pool {
	struct conn *c;
	int n;                   /* slots used so far */
	int lo;                  /* every slot below is done */
	int active;
	struct pollfd *pfd;
	int *idx;
	/* totals over every connection */
	size_t bytes;
	int connected, closed, failed, sent;
	double max_close_ms;     /* from connect to the peer's close */
};

static void
pool_init(struct pool *p, int max)
{
	memset(p, 0, sizeof(*p));
	p->c = calloc((size_t)max, sizeof(*p->c));
	p->pfd = calloc((size_t)max, sizeof(*p->pfd));
	p->idx = calloc((size_t)max, sizeof(*p->idx));
	if (p->c == NULL || p->pfd == NULL || p->idx == NULL) {
		fprintf(stderr, "om-probe: out of memory\n");
		exit(1);
	}
}

static void
pool_free(struct pool *p)
{
	free(p->c);
	free(p->pfd);
	free(p->idx);
	memset(p, 0, sizeof(*p));
}

static void
conn_finish(struct pool *p, struct conn *c, int by_peer, double now)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->st = C_DONE;
	p->active--;
	p->bytes += c->got;
	if (c->failed) {
		p->failed++;
		return;
	}
	if (by_peer) {
		c->t_close = now;
		p->closed++;
		if ((now - c->t_conn) * 1000.0 > p->max_close_ms)
			p->max_close_ms = (now - c->t_conn) * 1000.0;
	}
}

/* Open a connection that will send out[0..len) once connected; -1 when
 * no socket could be made (counted as failed). */
static int
pool_open(struct pool *p, const uint8_t *out, size_t len, double hold)
{
	struct conn *c = &p->c[p->n++];
	double now = now_s();

	c->out = out;
	c->outlen = len;
	c->hold = hold;
	c->t_open = now;
	c->st = C_CONNECTING;
	p->active++;
	c->fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd == -1 || (connect(c->fd, (struct sockaddr *)&target,
	    target_len) == -1 && errno != EINPROGRESS)) {
		c->failed = 1;
		conn_finish(p, c, 0, now);
		return -1;
	}
	return 0;
}

static void
conn_write(struct pool *p, struct conn *c, double now)
{
	ssize_t w;

	while (c->outoff < c->outlen) {
		w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0) {
			if (w == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			conn_finish(p, c, 1, now);  /* reset by the peer */
			return;
		}
		c->outoff += (size_t)w;
	}
	if (c->t_sent == 0) {
		c->t_sent = now;
		p->sent++;
	}
}

/* One round of poll over the open connections, waiting at most ms. */
static void
pool_step(struct pool *p, int ms)
{
	uint8_t buf[4096];
	double now;
	int i, k, n = 0, err;
	socklen_t elen;
	ssize_t r;

	while (p->lo < p->n && p->c[p->lo].st == C_DONE)
		p->lo++;
	for (i = p->lo; i < p->n; i++) {
		struct conn *c = &p->c[i];

		if (c->st != C_CONNECTING && c->st != C_OPEN)
			continue;
		p->pfd[n].fd = c->fd;
		p->pfd[n].events = POLLIN;
		if (c->st == C_CONNECTING || c->outoff < c->outlen)
			p->pfd[n].events |= POLLOUT;
		p->pfd[n].revents = 0;
		p->idx[n++] = i;
	}
	if (n == 0) {
		if (ms > 0)
			usleep((useconds_t)ms * 1000);
		return;
	}
	if (poll(p->pfd, (nfds_t)n, ms) <= 0)
		goto timers;
	now = now_s();
	for (k = 0; k < n; k++) {
		struct conn *c = &p->c[p->idx[k]];
		short rev = p->pfd[k].revents;

		if (rev == 0)
			continue;
		if (c->st == C_CONNECTING) {
			err = 0;
			elen = sizeof(err);
			(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen);
			if (err != 0) {
				c->failed = 1;
				conn_finish(p, c, 0, now);
				continue;
			}
			if (!(rev & (POLLOUT | POLLIN)))
				continue;
			c->st = C_OPEN;
			c->t_conn = now;
			p->connected++;
		}
		if (c->st == C_OPEN && (rev & (POLLIN | POLLHUP | POLLERR))) {
			r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0)
				c->got += (size_t)r;
			else if (r == 0 || (errno != EAGAIN &&
			    errno != EINTR)) {
				conn_finish(p, c, 1, now);
				continue;
			}
		}
		if (c->st == C_OPEN)
			conn_write(p, c, now);
	}
timers:
	now = now_s();
	for (i = p->lo; i < p->n; i++) {
		struct conn *c = &p->c[i];

		if (c->st == C_OPEN && c->hold >= 0 && c->t_sent > 0 &&
		    now - c->t_sent >= c->hold)
			conn_finish(p, c, 0, now);
		/* A connect the peer never completes is given 5 s. */
		else if (c->st == C_CONNECTING && now - c->t_open > 5.0) {
			c->failed = 1;
			conn_finish(p, c, 0, now);
		}
	}
}

/* Poll until nothing is active or the deadline passes; whatever is
 * still open then is closed by us. */
static void
pool_drain(struct pool *p, double deadline)
{
	double now;
	int i;

	while (p->active > 0 && (now = now_s()) < deadline)
		pool_step(p, 20);
	now = now_s();
	for (i = 0; i < p->n; i++)
		if (p->c[i].st == C_CONNECTING || p->c[i].st == C_OPEN)
			conn_finish(p, &p->c[i], 0, now);
}

/* Free the pool; 0 when anything connected, else 1. */
static int
pool_done(struct pool *p)
{
	int rc = p->connected > 0 ? 0 : 1;

	pool_free(p);
	return rc;
}

/* ---- modes --------------------------------------------------------- */

static int
mode_stranger(const char *peer_id, const char *net)
{
	struct hs_ctx h;
	struct pool p;
	uint8_t frame[HS_FRAME];
	int n;

	hs_ctx_init(&h, peer_id, net);
	if ((n = hs_frame_random(&h, frame)) < 0) {
		fprintf(stderr, "om-probe: could not make the handshake\n");
		return 1;
	}
	pool_init(&p, 1);
	(void)pool_open(&p, frame, (size_t)n, 2.0);
	pool_drain(&p, now_s() + 4.0);
	if (p.connected == 0) {
		fprintf(stderr, "om-probe: cannot connect\n");
		pool_free(&p);
		return 1;
	}
	printf("bytes=%zu\n", p.bytes);
	pool_free(&p);
	return 0;
}

static int
mode_lowkey(const char *peer_id, const char *net)
{
	static uint8_t frames[14][HS_FRAME];
	uint8_t msg[HS_MSG1];
	struct hs_ctx h;
	struct pool p;
	int i, n;

	hs_ctx_init(&h, peer_id, net);
	pool_init(&p, 14);
	for (i = 0; i < 7; i++) {
		/* Ephemeral: e is the point; the rest cannot matter, since
		 * the responder's DH with it comes first. */
		memcpy(msg, low_order[i], 32);
		randombytes_buf(msg + 32, sizeof(msg) - 32);
		n = wire_hs_frame(frames[2 * i], HS_FRAME, WIRE_HS_INIT, msg,
		    sizeof(msg), h.peer_x);
		if (n < 0) {
			pool_free(&p);
			return 1;
		}
		(void)pool_open(&p, frames[2 * i], (size_t)n, 2.0);
		/* Static: a real handshake whose s is the point. */
		if ((n = hs_frame(&h, low_order[i], NULL,
		    frames[2 * i + 1])) < 0) {
			pool_free(&p);
			return 1;
		}
		(void)pool_open(&p, frames[2 * i + 1], (size_t)n, 2.0);
		/* A pair at a time: linkd keeps at most 8 handshakes
		 * pending from one source (linkd/pending.c), and each of
		 * these must reach its DH. */
		pool_drain(&p, now_s() + 3.0);
	}
	pool_drain(&p, now_s() + 5.0);
	printf("conns=%d connected=%d bytes=%zu closed=%d\n", p.n,
	    p.connected, p.bytes, p.closed);
	return pool_done(&p);
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	ssize_t r;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    st.st_size <= 0) {
		fprintf(stderr, "om-probe: cannot read %s (or it is empty)\n",
		    path);
		exit(2);
	}
	if ((b = malloc((size_t)st.st_size)) == NULL)
		exit(1);
	while (off < (size_t)st.st_size &&
	    (r = read(fd, b + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)r;
	close(fd);
	*len = off;
	return b;
}

static int
mode_frames(const char *path, int per_conn, int repeat)
{
	struct wire_frame f;
	struct pool p;
	size_t len, off = 0, start;
	uint8_t *data = read_file(path, &len);
	size_t *pieces;          /* offsets of each connection's bytes */
	int nframes = 0, npieces = 0, i, r, inflight;

	/* Split at frame boundaries, PER_CONN frames to a piece. */
	if ((pieces = calloc(len / 5 + 2, sizeof(*pieces))) == NULL)
		return 1;
	start = 0;
	while (off < len) {
		r = wire_frame_peek(&f, data + off, len - off);
		if (r != 1) {
			fprintf(stderr, "om-probe: %s: no whole frame at byte "
			    "%zu; sending up to there\n", path, off);
			break;
		}
		off += f.frame_len;
		nframes++;
		if (per_conn > 0 && nframes % per_conn == 0) {
			pieces[npieces++] = start;
			start = off;
		}
	}
	len = off;
	if (start < len)
		pieces[npieces++] = start;
	pieces[npieces] = len;
	if ((size_t)npieces * (size_t)repeat > MAX_CONNS * 64) {
		fprintf(stderr, "om-probe: too many connections\n");
		return 2;
	}
	pool_init(&p, npieces * repeat);
	for (r = 0; r < repeat; r++) {
		for (i = 0; i < npieces; i++) {
			/* At most 6 at once: under linkd's pending cap for
			 * one source (8, linkd/pending.c), so every frame
			 * reaches a session. */
			for (inflight = 6; p.active >= inflight;)
				pool_step(&p, 20);
			(void)pool_open(&p, data + pieces[i],
			    pieces[i + 1] - pieces[i], 2.0);
			pool_step(&p, 0);
		}
	}
	pool_drain(&p, now_s() + 5.0);
	printf("frames=%d conns=%d connected=%d sent=%d bytes=%zu closed=%d "
	    "failed=%d\n", nframes * repeat, p.n, p.connected, p.sent,
	    p.bytes, p.closed, p.failed);
	free(pieces);
	free(data);
	return pool_done(&p);
}

static int
mode_oversize(void)
{
	static const uint32_t lens[3] = { WIRE_MAX_BODY + 1, 0x80000000u,
	    0xffffffffu };
	static uint8_t frames[3][64];
	struct pool p;
	int i;

	pool_init(&p, 3);
	for (i = 0; i < 3; i++) {
		be32_put(frames[i], lens[i]);
		frames[i][4] = WIRE_DATA;
		randombytes_buf(frames[i] + 5, sizeof(frames[i]) - 5);
		(void)pool_open(&p, frames[i], sizeof(frames[i]), 3.0);
	}
	pool_drain(&p, now_s() + 5.0);
	printf("conns=%d connected=%d bytes=%zu closed=%d max_close_ms=%.0f\n",
	    p.n, p.connected, p.bytes, p.closed, p.max_close_ms);
	return pool_done(&p);
}

static int
mode_truncated(int seconds)
{
	static uint8_t data[100], hs[HS_FRAME / 2];
	struct pool p;

	/* A DATA frame announcing the largest body, 95 bytes of it. */
	be32_put(data, WIRE_MAX_BODY);
	data[4] = WIRE_DATA;
	randombytes_buf(data + 5, sizeof(data) - 5);
	/* Half an HS_INIT. */
	be32_put(hs, HS_FRAME - WIRE_LEN_BYTES);
	hs[4] = WIRE_HS_INIT;
	randombytes_buf(hs + 5, sizeof(hs) - 5);
	pool_init(&p, 2);
	(void)pool_open(&p, data, sizeof(data), -1);
	(void)pool_open(&p, hs, sizeof(hs), -1);
	pool_drain(&p, now_s() + seconds);
	printf("conns=%d connected=%d bytes=%zu closed=%d max_close_ms=%.0f\n",
	    p.n, p.connected, p.bytes, p.closed, p.max_close_ms);
	return pool_done(&p);
}

static int
mode_halfopen(int n, int seconds)
{
	struct pool p;
	double t0 = now_s(), last = 0;
	int i, fast = 0, open = 0;

	raise_fd_limit();
	pool_init(&p, n);
	for (i = 0; i < n; i++)
		(void)pool_open(&p, NULL, 0, -1);
	while (p.active > 0 && now_s() < t0 + seconds)
		pool_step(&p, 50);
	for (i = 0; i < p.n; i++) {
		struct conn *c = &p.c[i];

		if (c->st == C_OPEN || c->st == C_CONNECTING)
			open++;
		if (c->t_close > 0) {
			if (c->t_close - c->t_conn <= 1.0)
				fast++;
			if (c->t_close - t0 > last)
				last = c->t_close - t0;
		}
	}
	pool_drain(&p, 0);
	printf("conns=%d connected=%d closed=%d closed_1s=%d "
	    "last_close_ms=%.0f still_open=%d failed=%d bytes=%zu\n", n,
	    p.connected, p.closed, fast, last * 1000.0, open, p.failed,
	    p.bytes);
	return pool_done(&p);
}

static uint8_t pool_frames[FLOOD_POOL][HS_FRAME];
static int pool_lens[FLOOD_POOL];

/* pool_frames, one per new connection, rate a second for seconds. */
static int
flood_run(int rate, int seconds)
{
	struct pool p;
	double t0, now;
	long due, started = 0, total = (long)rate * seconds;
	int i;

	raise_fd_limit();
	pool_init(&p, (int)total);
	t0 = now_s();
	while (started < total && (now = now_s()) < t0 + seconds + 2.0) {
		due = (long)((now - t0) * rate);
		if (due > total)
			due = total;
		/* Never more than MAX_CONNS open: a slow peer makes the
		 * flood slower rather than the probe run out of fds. */
		while (started < due && p.active < MAX_CONNS) {
			i = (int)(started % FLOOD_POOL);
			(void)pool_open(&p, pool_frames[i],
			    (size_t)pool_lens[i], 0.5);
			started++;
		}
		pool_step(&p, 1);
	}
	now = now_s();
	pool_drain(&p, now + 2.0);
	printf("sent=%d connected=%d bytes=%zu closed=%d failed=%d "
	    "rate=%.0f\n", p.sent, p.connected, p.bytes, p.closed, p.failed,
	    started / (now - t0));
	return pool_done(&p);
}

static int
mode_flood(const char *peer_id, const char *net, int rate, int seconds)
{
	struct hs_ctx h;
	int i;

	hs_ctx_init(&h, peer_id, net);
	for (i = 0; i < FLOOD_POOL; i++)
		if ((pool_lens[i] = hs_frame_random(&h, pool_frames[i])) < 0)
			return 1;
	return flood_run(rate, seconds);
}

static int
mode_hellos(int rate, int seconds)
{
	uint8_t *f;
	int i;

	for (i = 0; i < FLOOD_POOL; i++) {
		f = pool_frames[i];
		/* u32 len | u8 WIRE_JOIN | HELLO body */
		be32_put(f, 1 + JOIN_HELLO_LEN);
		f[4] = WIRE_JOIN;
		f[5] = JOIN_HELLO;
		f[6] = JOIN_VERSION;
		randombytes_buf(f + 7, JOIN_HELLO_LEN - 2);
		pool_lens[i] = 5 + JOIN_HELLO_LEN;
	}
	return flood_run(rate, seconds);
}

int
main(int argc, char **argv)
{
	const char *m;

	if (argc < 4)
		usage();
	if (sodium_init() < 0)
		return 1;
	m = argv[1];
	resolve(argv[2], argv[3]);
	if (strcmp(m, "stranger") == 0 && argc == 6)
		return mode_stranger(argv[4], argv[5]);
	if (strcmp(m, "lowkey") == 0 && argc == 6)
		return mode_lowkey(argv[4], argv[5]);
	if (strcmp(m, "frames") == 0 && argc >= 5 && argc <= 7)
		return mode_frames(argv[4],
		    argc > 5 ? (int)num_arg(argv[5], "PER_CONN", 0, 1000000) :
		    1, argc > 6 ? (int)num_arg(argv[6], "REPEAT", 1, 100000) :
		    1);
	if (strcmp(m, "oversize") == 0 && argc == 4)
		return mode_oversize();
	if (strcmp(m, "truncated") == 0 && (argc == 4 || argc == 5))
		return mode_truncated(argc == 5 ?
		    (int)num_arg(argv[4], "SECONDS", 1, 600) : 20);
	if (strcmp(m, "halfopen") == 0 && argc == 6)
		return mode_halfopen((int)num_arg(argv[4], "N", 1, MAX_CONNS),
		    (int)num_arg(argv[5], "SECONDS", 1, 600));
	if (strcmp(m, "hellos") == 0 && argc == 6)
		return mode_hellos((int)num_arg(argv[4], "RATE", 1, 100000),
		    (int)num_arg(argv[5], "SECONDS", 1, 600));
	if (strcmp(m, "flood") == 0 && argc == 8)
		return mode_flood(argv[4], argv[5],
		    (int)num_arg(argv[6], "RATE", 1, 100000),
		    (int)num_arg(argv[7], "SECONDS", 1, 600));
	usage();
	return 2;
}
