/*
 * om-forge: a malicious member, for the netns tests (issue 14). It holds
 * a real member's key (read from that member's key store, the member's
 * own daemons stopped), opens a link to a victim's linkd as that member
 * (a real Noise handshake, the real session code) and sends what a
 * modified keyd or tund could: records it signs and admits, edge
 * announcements, packets with hostile virtio-net headers. Whether the
 * victim takes any of it is for the test to see (status --json, hosts/,
 * ip route); this only says what it sent, as one line of key=value
 * words. Exit 0 when it sent everything, 1 when it could not (no link),
 * 2 on a usage error.
 *
 *   om-forge KEYS NET:ROOT HOST PORT PEER_ID MODE ARGS...
 *
 * KEYS is the member's key store (keys/ of its dir), NET:ROOT the
 * network's name and root id, PEER_ID the victim's id. MODE:
 *
 *   record NAME IPV4|- IPV6|derived [SUBNET...]
 *       One new member (a fresh key) admitted by us: any name, any
 *       addresses, any subnets. sent=1 id=
 *   chain NAME1 IPV4_1 NAME2 IPV4_2
 *       A plain member NAME1 admitted by us, then NAME2 admitted by
 *       NAME1 (whose key we made, so we hold it). sent=2 id= id2=
 *   many N PREFIX FIRST_IPV4 [PER_SECOND]
 *       N new members admitted by us, named PREFIX0.., IPv4s counting
 *       up from FIRST_IPV4 (each record valid but for their number), as
 *       fast as the link takes them or PER_SECOND. sent= (records)
 *   self RECORD_FILE [SUBNET...]
 *       Our own record (as hosts/ holds it) again with a higher serial
 *       and these subnets, the admission kept (it covers name,
 *       addresses and role). sent=1
 *   edges RTT_US RATE_KBPS PEER_ID...
 *       Our edge announcement naming these peers, each with this rtt
 *       and rate; RATE_KBPS may be over 2^32-1: it is written as given.
 *       sent=1
 *   revocations N
 *       N revocations signed by us (an admin may revoke) of fresh ids
 *       no member has, each valid; the victim holds at most its bound
 *       (max_admitted) of one admin's (issue 15). sent=
 *   vnet SRC_IPV4 DST_IPV4
 *       ICMP echo requests SRC -> DST, each behind a hostile vnet header
 *       (some the victim must drop, some it can clear), then clean ones.
 *       sent= hostile= drop= clear= replies= (echo replies that came
 *       back within 3 s)
 *
 * OM_FORGE_HOLD=SECONDS (0..600) keeps the link up that long after
 * the last send (keepalives answered), so the test can look at the
 * victim's routes while the forged announcement is live.
 *
 * Every wait is bounded; only HOST is contacted (a namespace the test
 * made).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/revoke.h"
#include "linkd/session.h"
#include "proto/edges.h"
#include "proto/keystore.h"
#include "proto/record.h"
#include "proto/trust.h"
#include "proto/vnet.h"
#include "proto/wire.h"

#define IO_WAIT_S   10.0     /* the most one write may wait */
#define LINGER_S    2.0      /* reading after the last send */

struct forger {
	int fd;
	struct session s;
	uint8_t sk[crypto_sign_SECRETKEYBYTES];  /* the member's */
	uint8_t id[MEMBER_ID_BYTES];
	uint8_t x_sk[32];                         /* its X25519 secret */
	uint8_t netid[NETID_BYTES];
	uint8_t *rx;                              /* bytes read, unparsed */
	size_t rxlen, rxcap;
	int in_input;                             /* inside session_input */
	unsigned replies;                         /* INNER_PACKETs back */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn))
die(int rc, const char *what, const char *arg)
{
	fprintf(stderr, "om-forge: %s%s%s\n", what, arg ? ": " : "",
	    arg ? arg : "");
	exit(rc);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: om-forge KEYS NET:ROOT HOST PORT PEER_ID MODE ARGS...\n"
	    "  record NAME IPV4|- IPV6|derived [SUBNET...]\n"
	    "  chain NAME1 IPV4_1 NAME2 IPV4_2\n"
	    "  many N PREFIX FIRST_IPV4 [PER_SECOND]\n"
	    "  self RECORD_FILE [SUBNET...]\n"
	    "  edges RTT_US RATE_KBPS PEER_ID...\n"
	    "  revocations N\n"
	    "  vnet SRC_IPV4 DST_IPV4\n");
	exit(2);
}

static unsigned long long
num_arg(const char *s, const char *what, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] == '-' || v > max) {
		fprintf(stderr, "om-forge: %s `%s' is not a number from 0 to "
		    "%llu\n", what, s, max);
		exit(2);
	}
	return v;
}

static void
id_arg(uint8_t out[MEMBER_ID_BYTES], const char *s)
{
	if (hex_decode(out, MEMBER_ID_BYTES, s) == -1)
		die(2, "not a member id (want 64 hex digits)", s);
}

/* ---- the link ------------------------------------------------------ */

/* Read what is there (no wait) into f->rx. 0, or -1 when closed. */
static int
rx_fill(struct forger *f)
{
	ssize_t r;

	for (;;) {
		if (f->rxcap - f->rxlen < 65536) {
			f->rxcap = f->rxcap * 2 + 131072;
			if ((f->rx = realloc(f->rx, f->rxcap)) == NULL)
				die(1, "out of memory", NULL);
		}
		r = recv(f->fd, f->rx + f->rxlen, f->rxcap - f->rxlen,
		    MSG_DONTWAIT);
		if (r > 0) {
			f->rxlen += (size_t)r;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
}

/* session's send: the whole frame, reading meanwhile so that a victim
 * writing to us never blocks while we write to it. */
static int
cb_send(void *arg, const uint8_t *frame, size_t len)
{
	struct forger *f = arg;
	struct pollfd p = { .fd = f->fd, .events = POLLOUT | POLLIN };
	double end = now_s() + IO_WAIT_S;
	size_t off = 0;
	ssize_t w;

	while (off < len) {
		if (now_s() > end)
			return -1;
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((p.revents & POLLIN) && !f->in_input && rx_fill(f) == -1)
			return -1;
		if (!(p.revents & POLLOUT))
			continue;
		w = send(f->fd, frame + off, len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			off += (size_t)w;
		else if (w == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return 0;
}

static void
cb_deliver(void *arg, const uint8_t *pkt, size_t len)
{
	struct forger *f = arg;

	/* An IPv4 ICMP echo reply (type 0) behind the vnet header. */
	if (len >= VNET_HDR_LEN + 28 && (pkt[VNET_HDR_LEN] >> 4) == 4 &&
	    pkt[VNET_HDR_LEN + 9] == 1 &&
	    pkt[VNET_HDR_LEN + (pkt[VNET_HDR_LEN] & 0xf) * 4] == 0)
		f->replies++;
}

static int
cb_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	struct forger *f = arg;

	return crypto_scalarmult(out, f->x_sk, pub);
}

/* Feed every whole frame read so far to the session. -1: the link is
 * over. */
static int
rx_process(struct forger *f)
{
	struct wire_frame fr;
	size_t off = 0;
	int r, rc = 0;

	f->in_input = 1;
	while ((r = wire_frame_peek(&fr, f->rx + off, f->rxlen - off)) == 1) {
		if (session_input(&f->s, &fr, now_s()) == -1) {
			rc = -1;
			break;
		}
		off += fr.frame_len;
	}
	f->in_input = 0;
	if (r == -1)
		rc = -1;
	memmove(f->rx, f->rx + off, f->rxlen - off);
	f->rxlen -= off;
	return rc;
}

/* Wait up to secs for bytes, and process them. -1: the link is over. */
static int
pump(struct forger *f, double secs)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	double end = now_s() + secs;
	int ms;

	do {
		ms = (int)((end - now_s()) * 1000.0);
		if (poll(&p, 1, ms > 0 ? ms : 0) > 0 &&
		    (rx_fill(f) == -1 || rx_process(f) == -1))
			return -1;
		if (session_tick(&f->s, now_s()) == -1)
			return -1;
	} while (now_s() < end);
	return 0;
}

static void
tcp_connect(struct forger *f, const char *host, const char *port)
{
	struct addrinfo hints = {0}, *res;
	int r;

	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		die(2, "cannot resolve the host", gai_strerror(r));
	f->fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (f->fd == -1 || connect(f->fd, res->ai_addr, res->ai_addrlen) == -1)
		die(1, "cannot connect", host);
	freeaddrinfo(res);
}

/* Load the member's key, dial the victim and finish the handshake as
 * that member. */
static void
link_open(struct forger *f, const char *keys, const char *net,
    const char *host, const char *port, const char *peer)
{
	struct session_cb cb = {0};
	uint8_t root[MEMBER_ID_BYTES], peer_id[MEMBER_ID_BYTES];
	uint8_t peer_x[32], s_pub[32], prologue[WIRE_PROLOGUE_MAX];
	char err[256], name[NAME_MAX_LEN + 1];
	const char *colon = strchr(net, ':');
	double end;

	if (colon == NULL || (size_t)(colon - net) >= sizeof(name))
		die(2, "not NET:ROOT", net);
	memcpy(name, net, (size_t)(colon - net));
	name[colon - net] = '\0';
	id_arg(root, colon + 1);
	id_arg(peer_id, peer);
	netid_derive(f->netid, name, root);
	if (keystore_identity_load(keys, f->sk, err, sizeof(err)) == -1)
		die(2, "cannot load the member's key", err);
	crypto_sign_ed25519_sk_to_pk(f->id, f->sk);
	if (crypto_sign_ed25519_sk_to_curve25519(f->x_sk, f->sk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(s_pub, f->id) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(peer_x, peer_id) != 0)
		die(2, "a key does not convert to X25519", peer);
	tcp_connect(f, host, port);
	cb.send = cb_send;
	cb.deliver = cb_deliver;
	cb.dh = cb_dh;
	cb.arg = f;
	if (session_init(&f->s, 1, prologue, wire_prologue(prologue,
	    f->netid), s_pub, peer_x, &cb) == -1 ||
	    session_start(&f->s, now_s()) == -1)
		die(1, "cannot start the handshake", NULL);
	end = now_s() + IO_WAIT_S;
	while (f->s.state != SESSION_ESTABLISHED && now_s() < end)
		if (pump(f, 0.1) == -1)
			die(1, "the victim closed the link in the handshake",
			    f->s.why);
	if (f->s.state != SESSION_ESTABLISHED)
		die(1, "no handshake answer within 10 s", NULL);
}

static void
link_close(struct forger *f)
{
	const char *h = getenv("OM_FORGE_HOLD");

	(void)pump(f, LINGER_S + (h != NULL ?
	    (double)num_arg(h, "OM_FORGE_HOLD", 600) : 0.0));
	session_close(&f->s, "done");
	close(f->fd);
	free(f->rx);
	sodium_memzero(f->sk, sizeof(f->sk));
	sodium_memzero(f->x_sk, sizeof(f->x_sk));
}

/* One INNER_GOSSIP payload: type || text. */
static void
send_gossip(struct forger *f, uint8_t type, const char *text, size_t len)
{
	static uint8_t pl[GOSSIP_MAX_PAYLOAD];

	if (len + 1 > sizeof(pl))
		die(1, "object too long for one gossip payload", NULL);
	pl[0] = type;
	memcpy(pl + 1, text, len);
	if (session_send_kind(&f->s, INNER_GOSSIP, pl, len + 1,
	    now_s()) == -1)
		die(1, "the link broke while sending", f->s.why);
}

/* ---- records ------------------------------------------------------- */

static void
prefix_arg(struct prefix *p, const char *s, int addr_only)
{
	if ((addr_only ? addr_parse(p, s) : prefix_parse(p, s)) == -1)
		die(2, addr_only ? "not an address" : "not a prefix", s);
}

/* Sign r (its id, name, addresses set; its secret sk) as a member
 * admitted by by_id (secret by_sk), and send it. */
static void
admit_by(struct forger *f, struct record *r, const uint8_t sk[64],
    const uint8_t by_id[MEMBER_ID_BYTES], const uint8_t by_sk[64])
{
	static char text[RECORD_MAX_LEN + 1];
	uint8_t buf[ADMISSION_SIGNED_MAX];
	int n;

	r->admitted = 1;
	memcpy(r->admitted_by, by_id, MEMBER_ID_BYTES);
	n = admission_signed_bytes(r, f->netid, buf, sizeof(buf));
	if (signed_sign(r->admission, buf, n, by_sk, by_id) == -1 ||
	    record_sign(r, sk, f->netid) == -1 ||
	    (n = record_format(r, text, sizeof(text), 1)) < 0)
		die(1, "cannot sign the record of", r->name);
	send_gossip(f, GOSSIP_RECORD, text, (size_t)n);
}

/* A member we admitted. */
static void
admit_send(struct forger *f, struct record *r, const uint8_t sk[64])
{
	admit_by(f, r, sk, f->id, f->sk);
}

/* A new member: fresh key, name, ipv4 (NULL: none), ipv6 (NULL: the
 * derived one). */
static void
new_member(struct forger *f, struct record *r, uint8_t sk[64],
    const char *name, const struct prefix *v4, const struct prefix *v6)
{
	memset(r, 0, sizeof(*r));
	crypto_sign_keypair(r->id, sk);
	if (snprintf(r->name, sizeof(r->name), "%s", name) >=
	    (int)sizeof(r->name))
		die(2, "name too long", name);
	if (v4 != NULL)
		r->ipv4 = *v4;
	if (v6 != NULL)
		r->ipv6 = *v6;
	else
		ipv6_member_addr(&r->ipv6, f->netid, r->id);
	r->serial = 1;
	r->role = ROLE_MEMBER;
}

static void
subnets_arg(struct record *r, char **argv, int argc)
{
	int i;

	if (argc > RECORD_MAX_SUBNETS)
		die(2, "too many subnets", NULL);
	for (i = 0; i < argc; i++)
		prefix_arg(&r->subnets[i], argv[i], 0);
	r->nsubnets = argc;
}

static int
mode_record(struct forger *f, char **argv, int argc)
{
	static struct record r;
	struct prefix v4, v6;
	uint8_t sk[64];
	char hex[2 * MEMBER_ID_BYTES + 1];

	if (argc < 3)
		usage();
	if (strcmp(argv[1], "-") != 0)
		prefix_arg(&v4, argv[1], 1);
	if (strcmp(argv[2], "derived") != 0)
		prefix_arg(&v6, argv[2], 1);
	new_member(f, &r, sk, argv[0], strcmp(argv[1], "-") ? &v4 : NULL,
	    strcmp(argv[2], "derived") ? &v6 : NULL);
	subnets_arg(&r, argv + 3, argc - 3);
	admit_send(f, &r, sk);
	sodium_memzero(sk, sizeof(sk));
	hex_encode(hex, r.id, MEMBER_ID_BYTES);
	printf("sent=1 id=%s\n", hex);
	return 0;
}

/* A plain member P admitted by us, then Q admitted by P: only the root
 * or an admin may admit (unless the root lets members invite). */
static int
mode_chain(struct forger *f, char **argv, int argc)
{
	static struct record p, q;
	struct prefix v4p, v4q;
	uint8_t psk[64], qsk[64];
	char hp[2 * MEMBER_ID_BYTES + 1], hq[2 * MEMBER_ID_BYTES + 1];

	if (argc != 4)
		usage();
	prefix_arg(&v4p, argv[1], 1);
	prefix_arg(&v4q, argv[3], 1);
	new_member(f, &p, psk, argv[0], &v4p, NULL);
	admit_send(f, &p, psk);
	new_member(f, &q, qsk, argv[2], &v4q, NULL);
	admit_by(f, &q, qsk, p.id, psk);
	sodium_memzero(psk, sizeof(psk));
	sodium_memzero(qsk, sizeof(qsk));
	hex_encode(hp, p.id, MEMBER_ID_BYTES);
	hex_encode(hq, q.id, MEMBER_ID_BYTES);
	printf("sent=2 id=%s id2=%s\n", hp, hq);
	return 0;
}

static int
mode_many(struct forger *f, char **argv, int argc)
{
	static struct record r;
	struct prefix v4;
	uint8_t sk[64];
	char name[64];
	uint32_t a;
	unsigned long long n, i, rate = 0;
	double t0 = now_s(), due;

	if (argc != 3 && argc != 4)
		usage();
	n = num_arg(argv[0], "N", 100000);
	if (argc == 4)
		rate = num_arg(argv[3], "PER_SECOND", 1000000);
	prefix_arg(&v4, argv[2], 1);
	if (v4.family != 4)
		die(2, "not an IPv4 address", argv[2]);
	memcpy(&a, v4.addr, 4);
	a = ntohl(a);
	for (i = 0; i < n; i++) {
		uint32_t x = htonl(a + (uint32_t)i);

		memcpy(v4.addr, &x, 4);
		snprintf(name, sizeof(name), "%.20s%llu", argv[1], i);
		name[NAME_MAX_LEN] = '\0';
		new_member(f, &r, sk, name, &v4, NULL);
		admit_send(f, &r, sk);
		/* Read what the victim says meanwhile (its digests), and
		 * wait for the pace. */
		due = rate > 0 ? t0 + (double)(i + 1) / (double)rate - now_s()
		    : 0.0;
		if ((due > 0 || i % 64 == 63) &&
		    pump(f, due > 0 ? due : 0) == -1)
			die(1, "the victim closed the link", f->s.why);
	}
	sodium_memzero(sk, sizeof(sk));
	printf("sent=%llu\n", n);
	return 0;
}

static int
mode_revocations(struct forger *f, char **argv, int argc)
{
	static char text[REVOCATION_MAX_LEN];
	uint8_t buf[512];
	struct revocation v;
	unsigned long long n, i;
	int len;

	if (argc != 1)
		usage();
	n = num_arg(argv[0], "N", 100000);
	for (i = 0; i < n; i++) {
		memset(&v, 0, sizeof(v));
		randombytes_buf(v.revoked, sizeof(v.revoked));
		memcpy(v.by, f->id, MEMBER_ID_BYTES);
		v.serial = (uint64_t)time(NULL) * 1000 + i;
		len = revocation_signed_bytes(&v, f->netid, buf, sizeof(buf));
		if (signed_sign(v.signature, buf, len, f->sk, f->id) == -1 ||
		    (len = revocation_format(&v, text, sizeof(text), 1)) < 0)
			die(1, "cannot sign a revocation", NULL);
		send_gossip(f, GOSSIP_REVOCATION, text, (size_t)len);
		if (i % 64 == 63 && pump(f, 0.05) == -1)
			die(1, "the victim closed the link", f->s.why);
	}
	printf("sent=%llu\n", n);
	return 0;
}

static int
mode_self(struct forger *f, char **argv, int argc)
{
	static struct record r;
	static char text[RECORD_MAX_LEN + 1];
	char err[256];
	FILE *fp;
	size_t len;
	uint64_t ms = (uint64_t)time(NULL) * 1000;
	int n;

	if (argc < 1)
		usage();
	if ((fp = fopen(argv[0], "r")) == NULL)
		die(2, "cannot read", argv[0]);
	len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	if (record_parse(&r, text, len, err, sizeof(err)) == -1)
		die(2, "not a record", err);
	if (memcmp(r.id, f->id, MEMBER_ID_BYTES) != 0)
		die(2, "not our record (another id)", argv[0]);
	subnets_arg(&r, argv + 1, argc - 1);
	r.serial = r.serial + 1 > ms ? r.serial + 1 : ms;
	if (record_sign(&r, f->sk, f->netid) == -1 ||
	    (n = record_format(&r, text, sizeof(text), 1)) < 0)
		die(1, "cannot sign our record", NULL);
	send_gossip(f, GOSSIP_RECORD, text, (size_t)n);
	printf("sent=1\n");
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MEMBER_ID_BYTES);
}

/* Written by hand, not by edges_format, so that a rate over 2^32-1
 * can be sent: the victim's parser is what is under test. */
static int
mode_edges(struct forger *f, char **argv, int argc)
{
	static uint8_t ids[EDGES_MAX_PEERS][MEMBER_ID_BYTES];
	static char text[EDGES_MAX_LEN + 256];
	static uint8_t sbuf[EDGES_SIGNED_MAX + 256];
	char hex[2 * 64 + 1];
	uint8_t sig[64];
	unsigned long long rtt, rate;
	size_t len = 0;
	int i, n = argc - 2, k;

	if (argc < 3 || n > EDGES_MAX_PEERS)
		usage();
	rtt = num_arg(argv[0], "RTT_US", UINT64_MAX);
	rate = num_arg(argv[1], "RATE_KBPS", UINT64_MAX);
	for (i = 0; i < n; i++)
		id_arg(ids[i], argv[2 + i]);
	qsort(ids, (size_t)n, MEMBER_ID_BYTES, id_cmp);
	hex_encode(hex, f->id, MEMBER_ID_BYTES);
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    "edges = %s\nserial = %llu\n", hex,
	    (unsigned long long)time(NULL) * 1000ULL + 7);
	for (i = 0; i < n; i++) {
		hex_encode(hex, ids[i], MEMBER_ID_BYTES);
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "peer = %s %llu %llu\n", hex, rtt, rate);
	}
	if ((k = signed_head(sbuf, sizeof(sbuf), EDGES_SIG_CONTEXT,
	    f->netid)) < 0 || (size_t)k + len > sizeof(sbuf))
		die(1, "announcement too long", NULL);
	memcpy(sbuf + k, text, len);
	if (signed_sign(sig, sbuf, k + (int)len, f->sk, f->id) == -1)
		die(1, "cannot sign the announcement", NULL);
	hex_encode(hex, sig, sizeof(sig));
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    "signature = %s\n", hex);
	send_gossip(f, GOSSIP_EDGES, text, len);
	printf("sent=1\n");
	return 0;
}

/* ---- packets ------------------------------------------------------- */

static uint16_t
ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#define ICMP_LEN (20 + 8 + 32)

/* An ICMP echo request src -> dst with sequence seq after a vnet
 * header h (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset; little-endian). */
static void
echo_packet(uint8_t out[VNET_HDR_LEN + ICMP_LEN], const uint16_t h[6],
    const uint8_t src[4], const uint8_t dst[4], uint16_t seq)
{
	uint8_t *ip = out + VNET_HDR_LEN, *icmp = ip + 20;
	uint16_t c;
	int i;

	out[0] = (uint8_t)h[0];
	out[1] = (uint8_t)h[1];
	for (i = 2; i < 6; i++) {
		out[2 * i - 2] = (uint8_t)(h[i] & 0xff);
		out[2 * i - 1] = (uint8_t)(h[i] >> 8);
	}
	memset(ip, 0, ICMP_LEN);
	ip[0] = 0x45;
	ip[2] = ICMP_LEN >> 8;
	ip[3] = ICMP_LEN & 0xff;
	ip[8] = 64;
	ip[9] = 1;                                /* ICMP */
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	icmp[0] = 8;                              /* echo request */
	icmp[4] = 0x4f;                           /* identifier */
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	memset(icmp + 8, 'f', 32);
	c = ip_csum(icmp, 8 + 32);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
}

/* Hostile headers on an ICMP echo: the first VNET_NDROP ask for
 * segmentation an ICMP packet cannot have (the victim must drop them),
 * the rest ask for nothing it can do but could go without the header
 * (cleared). { flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset } */
#define VNET_NDROP 6
static const uint16_t vnet_bad[][6] = {
	{ 0, VNET_GSO_TCPV4, 40, 1, 0, 0 },
	{ 0, VNET_GSO_TCPV6, 40, 1400, 0, 0 },
	{ 0, VNET_GSO_UDP, 28, 8, 0, 0 },
	{ 0, VNET_GSO_UDP_L4, 28, 8, 20, 6 },
	{ VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4 | VNET_GSO_ECN, 0, 0, 20, 16 },
	{ 0, 0x7f, 65535, 65535, 65535, 65535 },
	{ 0, VNET_GSO_NONE, 0, 1400, 0, 0 },
	{ 0, VNET_GSO_NONE, 60000, 0, 0, 0 },
	{ VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 60000, 2 },
	{ VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 2000 },
	{ 0x80, VNET_GSO_NONE, 0, 0, 0, 0 },
};
#define VNET_NBAD (sizeof(vnet_bad) / sizeof(vnet_bad[0]))
#define VNET_NCLEAN 3

static int
mode_vnet(struct forger *f, char **argv, int argc)
{
	static const uint16_t clean[6] = { 0 };
	uint8_t pkt[VNET_HDR_LEN + ICMP_LEN];
	struct prefix src, dst;
	unsigned i;

	if (argc != 2)
		usage();
	prefix_arg(&src, argv[0], 1);
	prefix_arg(&dst, argv[1], 1);
	if (src.family != 4 || dst.family != 4)
		die(2, "want two IPv4 addresses", NULL);
	for (i = 0; i < VNET_NBAD + VNET_NCLEAN; i++) {
		echo_packet(pkt, i < VNET_NBAD ? vnet_bad[i] : clean,
		    src.addr, dst.addr, (uint16_t)(i + 1));
		if (session_send_packet(&f->s, pkt, sizeof(pkt),
		    now_s()) == -1)
			die(1, "the link broke while sending", f->s.why);
		(void)pump(f, 0.05);
	}
	(void)pump(f, 3.0);
	printf("sent=%u hostile=%u drop=%u clear=%u replies=%u\n",
	    (unsigned)(VNET_NBAD + VNET_NCLEAN), (unsigned)VNET_NBAD,
	    VNET_NDROP, (unsigned)(VNET_NBAD - VNET_NDROP), f->replies);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct forger f;
	const char *m;
	int rc = 2;

	if (argc < 7)
		usage();
	if (sodium_init() < 0)
		return 1;
	m = argv[6];
	if (strcmp(m, "record") && strcmp(m, "chain") && strcmp(m, "many") &&
	    strcmp(m, "self") && strcmp(m, "edges") && strcmp(m, "vnet") &&
	    strcmp(m, "revocations"))
		usage();
	link_open(&f, argv[1], argv[2], argv[3], argv[4], argv[5]);
	if (strcmp(m, "record") == 0)
		rc = mode_record(&f, argv + 7, argc - 7);
	else if (strcmp(m, "chain") == 0)
		rc = mode_chain(&f, argv + 7, argc - 7);
	else if (strcmp(m, "many") == 0)
		rc = mode_many(&f, argv + 7, argc - 7);
	else if (strcmp(m, "self") == 0)
		rc = mode_self(&f, argv + 7, argc - 7);
	else if (strcmp(m, "edges") == 0)
		rc = mode_edges(&f, argv + 7, argc - 7);
	else if (strcmp(m, "revocations") == 0)
		rc = mode_revocations(&f, argv + 7, argc - 7);
	else
		rc = mode_vnet(&f, argv + 7, argc - 7);
	link_close(&f);
	return rc;
}
