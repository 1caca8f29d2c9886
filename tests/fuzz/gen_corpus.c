/*
 * Seed corpora for the fuzz targets: valid inputs made by onionmesh's own
 * encoders (frames, handshakes, catalogue messages, records, configs),
 * plus a few hand-written replies from tor and SOCKS proxies, each in the
 * input layout its target's header comment describes.
 *
 *   gen_corpus DIR     writes DIR/<target>/<seed> (make fuzz-corpus)
 *
 * Everything here is deterministic (fixed keys, fixed timestamps, the
 * targets' own random source), so running it again rewrites the same
 * bytes and the committed seeds only change when a format does. The
 * session seeds rely on that most: their DATA frames are sealed with the
 * keys a fuzzed responder derives after drawing its ephemeral key from
 * the start of the fuzz random stream (fuzz_common.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "linkd/session.h"
#include "proto/buf.h"
#include "proto/conf.h"
#include "proto/edges.h"
#include "proto/msg.h"
#include "proto/noise.h"
#include "proto/onion.h"
#include "proto/record.h"
#include "proto/socks5.h"
#include "proto/wire.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_records.h"

static const char *top;
static int nseeds;
static size_t nbytes;

static void
die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

/* A growing byte string for one seed. */
struct seed {
	uint8_t p[65536];
	size_t len;
};

static void
add(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->p))
		die("seed too large");
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void
add_u8(struct seed *s, uint8_t v)
{
	add(s, &v, 1);
}

static void
add_str(struct seed *s, const char *str)
{
	add(s, str, strlen(str));
}

static void
write_seed(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, target);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		die("cannot create a corpus directory");
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		die("cannot write a seed");
	if (n && fwrite(p, 1, n, f) != n)
		die("short write");
	if (fclose(f) != 0)
		die("cannot close a seed");
	nseeds++;
	nbytes += n;
}

static void
put(const char *target, const char *name, const struct seed *s)
{
	write_seed(target, name, s->p, s->len);
}

/* mode byte + text */
static void
put_text(const char *target, const char *name, uint8_t mode,
    const char *text)
{
	static struct seed s;

	s.len = 0;
	add_u8(&s, mode);
	add_str(&s, text);
	put(target, name, &s);
}

static uint8_t frame[WIRE_MAX_FRAME];

/* ---- wire ---- */

static size_t
seal(uint8_t *out, const uint8_t k[NOISE_KEYLEN], uint8_t epoch,
    uint64_t ctr, uint8_t kind, const uint8_t *p, size_t n)
{
	int r = wire_data_seal(out, WIRE_MAX_FRAME, k, epoch, ctr, kind, p, n);

	if (r < 0)
		die("wire_data_seal refused a seed");
	return (size_t)r;
}

/* vnet header + a small IPv4/TCP packet, as tund hands linkd. */
static size_t
ipv4_packet(uint8_t *p, size_t payload)
{
	static const uint8_t ip[] = {
		0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
		0x00, 0x00, 10, 77, 0, 1, 10, 77, 0, 2,
		0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
		0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	};
	size_t n = 10 + sizeof(ip) + payload;

	memset(p, 0, 10);
	memcpy(p + 10, ip, sizeof(ip));
	memset(p + 10 + sizeof(ip), 'x', payload);
	p[10 + 2] = (uint8_t)((n - 10) >> 8);
	p[10 + 3] = (uint8_t)(n - 10);
	return n;
}

static size_t
ipv6_packet(uint8_t *p)
{
	static const uint8_t ip[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40,
		0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 1,
		0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 2,
		0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
	};

	memset(p, 0, 10);
	memcpy(p + 10, ip, sizeof(ip));
	return 10 + sizeof(ip);
}

static void
gen_wire(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	static struct seed all, s;
	uint8_t msg[200], pkt[400];
	size_t n, plen;
	int r;

	all.len = 0;
	add_u8(&all, 0);
	fuzz_fill(msg, sizeof(msg), 0x21);

	s.len = 0;
	add_u8(&s, 0);
	r = wire_hs_frame(frame, sizeof(frame), WIRE_HS_INIT, msg,
	    NOISE_MSG1_OVERHEAD + WIRE_HS_PAYLOAD, k->r_pub);
	add(&s, frame, (size_t)r);
	add(&all, frame, (size_t)r);
	put("wire", "hs-init", &s);

	s.len = 0;
	add_u8(&s, 0);
	r = wire_hs_frame(frame, sizeof(frame), WIRE_HS_RESP, msg,
	    NOISE_MSG2_OVERHEAD, k->r_pub);
	add(&s, frame, (size_t)r);
	add(&all, frame, (size_t)r);
	put("wire", "hs-resp", &s);

	s.len = 0;
	add_u8(&s, 0);
	plen = ipv4_packet(pkt, 20);
	n = seal(frame, k->data_key, 0, 0, INNER_PACKET, pkt, plen);
	add(&s, frame, n);
	add(&all, frame, n);
	put("wire", "data-packet", &s);

	s.len = 0;
	add_u8(&s, 0);
	n = seal(frame, k->data_key, 1, 7, INNER_KEEPALIVE, NULL, 0);
	add(&s, frame, n);
	add(&all, frame, n);
	n = seal(frame, k->data_key, 1, 8, INNER_CLOSE, NULL, 0);
	add(&s, frame, n);
	add(&all, frame, n);
	put("wire", "data-keepalive-close", &s);

	/* 63 and 64 payload bytes: the seal's block boundary. */
	s.len = 0;
	add_u8(&s, 0);
	n = seal(frame, k->data_key, 0, 1, INNER_PACKET, msg, 63);
	add(&s, frame, n);
	n = seal(frame, k->data_key, 0, 2, INNER_PACKET, msg, 64);
	add(&s, frame, n);
	add(&all, frame, n);
	put("wire", "data-block-edges", &s);

	put("wire", "stream-all", &all);

	/* mode 1: epoch, counter, kind, payload */
	s.len = 0;
	add_u8(&s, 1);
	add_u8(&s, 0);
	be64_put(pkt, 5);
	add(&s, pkt, 8);
	add_u8(&s, INNER_PACKET);
	plen = ipv6_packet(pkt);
	add(&s, pkt, plen);
	put("wire", "seal-ipv6", &s);
	s.len = 0;
	add_u8(&s, 1);
	add_u8(&s, 3);
	memset(pkt, 0xff, 8);
	add(&s, pkt, 8);
	add_u8(&s, INNER_KEEPALIVE);
	put("wire", "seal-max-nonce", &s);

	/* mode 2: chunk, stream */
	s.len = 0;
	add_u8(&s, 2);
	add_u8(&s, 0);
	add(&s, all.p + 1, all.len - 1);
	put("wire", "framer-bytewise", &s);
	s.len = 0;
	add_u8(&s, 2);
	add_u8(&s, 1);
	add(&s, all.p + 1, all.len - 1);
	put("wire", "framer-chunks", &s);
}

/* ---- noise ---- */

static void
gen_noise(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	static struct seed s;
	struct noise_hs hi, hr;
	uint8_t m1[512], m2[512], pl[64];
	int n1, n2;

	if (noise_hs_init(&hi, 1, (const uint8_t *)FUZZ_NOISE_PROLOGUE,
	    sizeof(FUZZ_NOISE_PROLOGUE) - 1, k->i_pub, k->r_pub, fuzz_dh,
	    (void *)k->i_priv) == -1)
		die("noise init");
	noise_hs_set_ephemeral(&hi, k->e_i);
	n1 = noise_write_msg1(&hi, (const uint8_t *)FUZZ_NOISE_PAYLOAD,
	    sizeof(FUZZ_NOISE_PAYLOAD) - 1, m1, sizeof(m1));
	if (n1 < 0)
		die("noise msg1");
	s.len = 0;
	add_u8(&s, 0);
	add(&s, m1, (size_t)n1);
	put("noise", "msg1", &s);

	if (noise_hs_init(&hr, 0, (const uint8_t *)FUZZ_NOISE_PROLOGUE,
	    sizeof(FUZZ_NOISE_PROLOGUE) - 1, k->r_pub, NULL, fuzz_dh,
	    (void *)k->r_priv) == -1)
		die("noise init");
	noise_hs_set_ephemeral(&hr, k->e_r);
	if (noise_read_msg1(&hr, m1, (size_t)n1, pl, sizeof(pl)) < 0)
		die("noise read msg1");
	n2 = noise_write_msg2(&hr, NULL, 0, m2, sizeof(m2));
	if (n2 < 0)
		die("noise msg2");
	s.len = 0;
	add_u8(&s, 1);
	add(&s, m2, (size_t)n2);
	put("noise", "msg2", &s);
	noise_hs_wipe(&hi);
	noise_hs_wipe(&hr);

	/* msg1 with an empty payload, from the stranger's key. */
	if (noise_hs_init(&hi, 1, (const uint8_t *)FUZZ_NOISE_PROLOGUE,
	    sizeof(FUZZ_NOISE_PROLOGUE) - 1, k->x_pub, k->r_pub, fuzz_dh,
	    (void *)k->x_priv) == -1)
		die("noise init");
	noise_hs_set_ephemeral(&hi, k->e_r);
	n1 = noise_write_msg1(&hi, NULL, 0, m1, sizeof(m1));
	if (n1 < 0)
		die("noise msg1");
	s.len = 0;
	add_u8(&s, 0);
	add(&s, m1, (size_t)n1);
	put("noise", "msg1-empty", &s);
	noise_hs_wipe(&hi);
}

/* ---- session ---- */

/* An HS_INIT from static key (priv, pub) with ephemeral e and TAI64N
 * second sec; the responder keys it implies (what a fresh fuzzed
 * responder derives) into rx (initiator -> responder). */
static size_t
session_hs_init(uint8_t *out, const uint8_t *priv, const uint8_t *pub,
    const uint8_t *e, uint64_t sec, uint8_t rx[NOISE_KEYLEN])
{
	const struct fuzz_keys *k = fuzz_keys();
	uint8_t pro[WIRE_PROLOGUE_MAX], ts[WIRE_HS_PAYLOAD], m1[256];
	uint8_t m2[128], pl[64];
	struct noise_hs hi, hr;
	struct noise_cipher c1, c2;
	size_t plen;
	int n, r;

	plen = wire_prologue(pro, k->netid);
	be64_put(ts, 0x400000000000000aULL + sec);
	be32_put(ts + 8, 0);
	if (noise_hs_init(&hi, 1, pro, plen, pub, k->r_pub, fuzz_dh,
	    (void *)priv) == -1)
		die("session init");
	noise_hs_set_ephemeral(&hi, e);
	n = noise_write_msg1(&hi, ts, sizeof(ts), m1, sizeof(m1));
	if (n < 0)
		die("session msg1");
	r = wire_hs_frame(out, WIRE_MAX_FRAME, WIRE_HS_INIT, m1, (size_t)n,
	    k->r_pub);
	if (r < 0)
		die("session frame");
	if (rx != NULL) {
		if (noise_hs_init(&hr, 0, pro, plen, k->r_pub, NULL, fuzz_dh,
		    (void *)k->r_priv) == -1)
			die("session init");
		/* What the fuzzed responder draws first. */
		noise_hs_set_ephemeral(&hr, fuzz_rng_pool());
		if (noise_read_msg1(&hr, m1, (size_t)n, pl, sizeof(pl)) < 0 ||
		    noise_write_msg2(&hr, NULL, 0, m2, sizeof(m2)) < 0)
			die("session responder");
		noise_split(&hr, &c1, &c2);
		memcpy(rx, c1.k, NOISE_KEYLEN);
	}
	noise_hs_wipe(&hi);
	return (size_t)r;
}

static void
gen_session(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	static struct seed s, hs;
	uint8_t rx[NOISE_KEYLEN], pkt[400];
	size_t n, plen;
	int mode;

	n = session_hs_init(frame, k->i_priv, k->i_pub, k->e_i, 1700000000,
	    rx);
	hs.len = 0;
	add(&hs, frame, n);

	for (mode = 0; mode < 2; mode++) {
		s.len = 0;
		add_u8(&s, (uint8_t)mode);
		add(&s, hs.p, hs.len);
		put("session", mode ? "hs-init-macfix" : "hs-init", &s);

		plen = ipv4_packet(pkt, 16);
		n = seal(frame, rx, 0, 0, INNER_PACKET, pkt, plen);
		add(&s, frame, n);
		n = seal(frame, rx, 0, 1, INNER_KEEPALIVE, NULL, 0);
		add(&s, frame, n);
		plen = ipv6_packet(pkt);
		n = seal(frame, rx, 0, 2, INNER_PACKET, pkt, plen);
		add(&s, frame, n);
		/* a replay of counter 1, then close */
		n = seal(frame, rx, 0, 1, INNER_KEEPALIVE, NULL, 0);
		add(&s, frame, n);
		n = seal(frame, rx, 0, 3, INNER_CLOSE, NULL, 0);
		add(&s, frame, n);
		put("session", mode ? "session-macfix" : "session", &s);
	}

	/* The same handshake twice: the second is a replay. */
	s.len = 0;
	add_u8(&s, 0);
	add(&s, hs.p, hs.len);
	add(&s, hs.p, hs.len);
	put("session", "hs-init-replayed", &s);

	/* A stranger's: mac1 right, key unknown. */
	s.len = 0;
	add_u8(&s, 0);
	n = session_hs_init(frame, k->x_priv, k->x_pub, k->e_r, 1700000000,
	    NULL);
	add(&s, frame, n);
	put("session", "hs-init-stranger", &s);

	/* Mode 2 scripts. */
	{
		static const uint8_t chat[] = {
			0, 5, 'h', 'e', 'l', 'l', 'o',
			1, 3, 'y', 'e', 's',
			5, 4,
			0, 1, 'x',
			3, 0,
			3, 2,
			4, 1, 0, 20, 3,
			2, 0, 5, 0, 0, 0, 1, 3,
			6, 0, 5, 0, 0, 0, 1, 2,
		};
		static const uint8_t rekey[] = {
			0, 2, 'a', 'b',
			5, 10, 5, 10, 5, 10, 5, 10, 5, 10, 5, 10,
			5, 10, 5, 10, 5, 10, 5, 10, 5, 10, 5, 10,
			0, 2, 'c', 'd',
			1, 2, 'e', 'f',
			3, 0,
			3, 5,
			5, 14,
			0, 1, 'z',
		};
		static const uint8_t dead[] = {
			0, 1, 'q', 5, 16, 0, 1, 'r', 1, 1, 's',
		};

		s.len = 0;
		add_u8(&s, 2);
		add(&s, chat, sizeof(chat));
		put("session", "script-chat", &s);
		s.len = 0;
		add_u8(&s, 2);
		add(&s, rekey, sizeof(rekey));
		put("session", "script-rekey", &s);
		s.len = 0;
		add_u8(&s, 2);
		add(&s, dead, sizeof(dead));
		put("session", "script-dead-peer", &s);
	}
}

/* ---- msg ---- */

static void
put_msg(const char *name, uint8_t idx, uint8_t sender, uint16_t type,
    const struct buf_w *w)
{
	static struct seed s;
	struct msg_hdr h;
	uint8_t hdr[MSG_HDR_LEN];
	char fname[64];

	if (w->err)
		die("a catalogue encoder refused a seed");
	s.len = 0;
	add_u8(&s, idx);
	add_u8(&s, sender);
	add(&s, w->p, w->len);
	snprintf(fname, sizeof(fname), "payload-%s", name);
	put("msg", fname, &s);

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.length = (uint32_t)w->len;
	h.obj = 3;
	h.req = 9;
	msg_hdr_encode(hdr, &h);
	s.len = 0;
	add_u8(&s, 0x80);
	add_u8(&s, sender);
	add(&s, hdr, sizeof(hdr));
	add(&s, w->p, w->len);
	snprintf(fname, sizeof(fname), "message-%s", name);
	put("msg", fname, &s);
}

static void
gen_msg(void)
{
	static uint8_t buf[MSG_MAX_LEN];
	const struct fuzz_keys *k = fuzz_keys();
	struct buf_w w;
	struct record rec;
	char text[RECORD_MAX_LEN + 1];
	int n;
	union {
		struct msg_self self;
		struct msg_record record;
		struct msg_member member;
		struct msg_sync_done sync_done;
		struct msg_dh_req dh_req;
		struct msg_dh_resp dh_resp;
		struct msg_peer_state peer_state;
		struct msg_fib_begin fib_begin;
		struct msg_fib_entry fib_entry;
		struct msg_fib_commit fib_commit;
		struct msg_tun_state tun_state;
		struct msg_route_entry route_entry;
		struct msg_gossip_in gossip_in;
		struct msg_gossip_out gossip_out;
		struct msg_edges_local edges_local;
		struct msg_edges edges;
		struct msg_join_in join_in;
		struct msg_join_out join_out;
	} *m;
	struct edges *ed;
	static const uint8_t join_body[] = { 0x01, 0x01 }; /* HELLO v1 */

	if ((m = calloc(1, sizeof(*m))) == NULL)
		die("out of memory");
#define ENC(field)                                                        \
	bw_init(&w, buf, sizeof(buf));                                    \
	msg_##field##_encode(&w, &m->field)

	memcpy(m->self.id, k->sign_pk, 32);
	memcpy(m->self.dh_pub, k->r_pub, 32);
	memcpy(m->self.netid, k->netid, 32);
	snprintf(m->self.name, sizeof(m->self.name), "alice");
	ENC(self);
	put_msg("self", 0, D_KEYD, MSG_SELF, &w);

	if (fuzz_record_make(&rec, 1) == -1)
		die("record");
	n = record_format(&rec, text, sizeof(text), 1);
	if (n < 0)
		die("record format");
	memset(m, 0, sizeof(*m));
	memcpy(m->record.text, text, (size_t)n + 1);
	m->record.len = (uint16_t)n;
	ENC(record);
	put_msg("record", 1, D_KEYD, MSG_RECORD, &w);

	memset(m, 0, sizeof(*m));
	memcpy(m->member.id, k->sign2_pk, 32);
	ENC(member);
	put_msg("record-del", 2, D_KEYD, MSG_RECORD_DEL, &w);

	m->sync_done.count = 2;
	ENC(sync_done);
	put_msg("sync-done", 3, D_KEYD, MSG_SYNC_DONE, &w);

	memcpy(m->dh_req.pub, k->i_pub, 32);
	ENC(dh_req);
	put_msg("dh-req", 4, D_LINKD, MSG_DH_REQ, &w);

	m->dh_resp.status = 0;
	memcpy(m->dh_resp.shared, k->x_pub, 32);
	ENC(dh_resp);
	put_msg("dh-resp", 5, D_KEYD, MSG_DH_RESP, &w);


	memset(m, 0, sizeof(*m));
	memcpy(m->peer_state.id, k->sign_pk, 32);
	m->peer_state.links_up = 3;
	m->peer_state.rtt_us = 250000;
	m->peer_state.rate_kbps = 8192;
	ENC(peer_state);
	put_msg("peer-state", 8, D_LINKD, MSG_PEER_STATE, &w);

	m->fib_begin.generation = 42;
	ENC(fib_begin);
	put_msg("fib-begin", 9, D_ROUTED, MSG_FIB_BEGIN, &w);
	put_msg("route-begin", 13, D_ROUTED, MSG_ROUTE_BEGIN, &w);

	memset(m, 0, sizeof(*m));
	m->fib_entry.generation = 42;
	if (prefix_parse(&m->fib_entry.dst, "10.77.0.2/32") == -1)
		die("prefix");
	memcpy(m->fib_entry.dest, k->sign2_pk, 32);
	memcpy(m->fib_entry.next_hop, k->sign_pk, 32);
	m->fib_entry.cost = 7;
	ENC(fib_entry);
	put_msg("fib-entry", 10, D_ROUTED, MSG_FIB_ENTRY, &w);
	if (prefix_parse(&m->fib_entry.dst, "fd12:3456:789a::/48") == -1)
		die("prefix");
	ENC(fib_entry);
	put_msg("fib-entry-v6", 10, D_ROUTED, MSG_FIB_ENTRY, &w);

	memset(m, 0, sizeof(*m));
	m->fib_commit.generation = 42;
	m->fib_commit.count = 1;
	ENC(fib_commit);
	put_msg("fib-commit", 11, D_ROUTED, MSG_FIB_COMMIT, &w);
	put_msg("route-commit", 15, D_ROUTED, MSG_ROUTE_COMMIT, &w);

	memset(m, 0, sizeof(*m));
	snprintf(m->tun_state.ifname, sizeof(m->tun_state.ifname), "om-a");
	m->tun_state.mtu = 1400;
	m->tun_state.up = 1;
	ENC(tun_state);
	put_msg("tun-state", 12, D_TUND, MSG_TUN_STATE, &w);

	memset(m, 0, sizeof(*m));
	m->route_entry.generation = 5;
	if (prefix_parse(&m->route_entry.dst, "192.168.77.0/24") == -1)
		die("prefix");
	ENC(route_entry);
	put_msg("route-entry", 14, D_ROUTED, MSG_ROUTE_ENTRY, &w);

	/* Gossip carries keyd's objects: a DIGEST of two records. */
	memset(m, 0, sizeof(m->gossip_in));
	memcpy(m->gossip_in.id, k->sign_pk, 32);
	m->gossip_in.len = 1 + 2 + 2 * (1 + 32 + 8);
	m->gossip_in.data[0] = GOSSIP_DIGEST;
	m->gossip_in.data[2] = 2;
	m->gossip_in.data[3] = GOSSIP_RECORD;
	memcpy(m->gossip_in.data + 4, k->sign_pk, 32);
	m->gossip_in.data[43] = 1;
	m->gossip_in.data[44] = GOSSIP_EDGES;
	memcpy(m->gossip_in.data + 45, k->sign2_pk, 32);
	m->gossip_in.data[84] = 9;
	ENC(gossip_in);
	put_msg("gossip-in", 16, D_LINKD, MSG_GOSSIP_IN, &w);

	memset(m, 0, sizeof(m->gossip_out));
	m->gossip_out.mode = GOSSIP_TO_OTHERS;
	memcpy(m->gossip_out.id, k->sign2_pk, 32);
	m->gossip_out.len = 1 + 2 + 33;
	m->gossip_out.data[0] = GOSSIP_WANT;
	m->gossip_out.data[2] = 1;
	m->gossip_out.data[3] = GOSSIP_RECORD;
	memcpy(m->gossip_out.data + 4, k->sign_pk, 32);
	ENC(gossip_out);
	put_msg("gossip-out", 17, D_KEYD, MSG_GOSSIP_OUT, &w);

	memset(m, 0, sizeof(m->edges_local));
	m->edges_local.count = 2;
	memcpy(m->edges_local.peers[0].id, k->sign_pk, 32);
	m->edges_local.peers[0].rtt_us = 30000;
	m->edges_local.peers[0].rate_kbps = 4294967295U;
	memcpy(m->edges_local.peers[1].id, k->sign2_pk, 32);
	ENC(edges_local);
	put_msg("edges-local", 18, D_ROUTED, MSG_EDGES_LOCAL, &w);

	if ((ed = fuzz_edges_make()) == NULL)
		die("edges");
	/* one measured rate, one not */
	ed->peers[0].rate_kbps = 16384;
	if (edges_sign(ed, k->sign_sk, k->netid) == -1)
		die("edges");
	memset(m, 0, sizeof(m->edges));
	n = edges_format(ed, m->edges.text, sizeof(m->edges.text), 1);
	if (n < 0)
		die("edges format");
	m->edges.len = (uint16_t)n;
	ENC(edges);
	put_msg("edges", 19, D_KEYD, MSG_EDGES, &w);
	free(ed);

	memset(m, 0, sizeof(m->join_in));
	m->join_in.conn = 7;
	m->join_in.len = sizeof(join_body);
	m->join_in.data = join_body;
	ENC(join_in);
	put_msg("join-in", 20, D_LINKD, MSG_JOIN_IN, &w);
	m->join_in.len = 0;             /* the connection ended */
	ENC(join_in);
	put_msg("join-in-end", 20, D_LINKD, MSG_JOIN_IN, &w);

	memset(m, 0, sizeof(m->join_out));
	m->join_out.conn = 7;
	m->join_out.len = sizeof(join_body);
	m->join_out.data = join_body;
	ENC(join_out);
	put_msg("join-out", 21, D_KEYD, MSG_JOIN_OUT, &w);
	m->join_out.flags = JOIN_OUT_CLOSE;
	m->join_out.len = 0;
	ENC(join_out);
	put_msg("join-out-close", 21, D_KEYD, MSG_JOIN_OUT, &w);
#undef ENC
	free(m);
}

/* ---- socks5 ---- */

static void
gen_socks5(void)
{
	static struct seed s;
	static const uint8_t method[] = {0x05, 0x02};
	static const uint8_t auth[] = {0x01, 0x00};
	static const uint8_t conn4[] = {0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1,
	    0x19, 0x96};
	static const uint8_t conn6[] = {0x05, 0x00, 0x00, 0x04, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x19, 0x96};
	static const uint8_t conndom[] = {0x05, 0x00, 0x00, 0x03, 9, 'e',
	    'x', 'a', 'm', 'p', 'l', 'e', '.', 'a', 0x19, 0x96};
	static const uint8_t connfail[] = {0x05, 0xf2, 0x00, 0x01, 0, 0, 0, 0,
	    0, 0};
	static const uint8_t noauth[] = {0x05, 0x00};
	static const uint8_t authfail[] = {0x01, 0x01};
	int chunk;

	s.len = 0; add_u8(&s, 0); add(&s, method, sizeof(method));
	put("socks5", "method", &s);
	s.len = 0; add_u8(&s, 1); add(&s, auth, sizeof(auth));
	put("socks5", "auth", &s);
	s.len = 0; add_u8(&s, 2); add(&s, conn4, sizeof(conn4));
	put("socks5", "connect-ipv4", &s);
	s.len = 0; add_u8(&s, 2); add(&s, conn6, sizeof(conn6));
	put("socks5", "connect-ipv6", &s);
	s.len = 0; add_u8(&s, 2); add(&s, conndom, sizeof(conndom));
	put("socks5", "connect-domain", &s);

	for (chunk = 0; chunk < 16; chunk += 15) {
		s.len = 0;
		add_u8(&s, 3);
		add_u8(&s, (uint8_t)chunk);
		add(&s, method, sizeof(method));
		add(&s, auth, sizeof(auth));
		add(&s, conn4, sizeof(conn4));
		add_str(&s, "peer data after the reply");
		put("socks5", chunk ? "client-ok-chunks" : "client-ok", &s);
	}
	s.len = 0; add_u8(&s, 3); add_u8(&s, 3);
	add(&s, method, sizeof(method)); add(&s, auth, sizeof(auth));
	add(&s, conndom, sizeof(conndom));
	put("socks5", "client-ok-domain", &s);
	s.len = 0; add_u8(&s, 3); add_u8(&s, 0);
	add(&s, method, sizeof(method)); add(&s, auth, sizeof(auth));
	add(&s, connfail, sizeof(connfail));
	put("socks5", "client-rend-failed", &s);
	s.len = 0; add_u8(&s, 3); add_u8(&s, 0);
	add(&s, noauth, sizeof(noauth));
	put("socks5", "client-no-auth", &s);
	s.len = 0; add_u8(&s, 3); add_u8(&s, 0);
	add(&s, method, sizeof(method)); add(&s, authfail, sizeof(authfail));
	put("socks5", "client-auth-refused", &s);
}

/* ---- torctl ---- */

static void
gen_torctl(void)
{
	static struct seed all;
	struct record bob;
	char id[ONION_ID_LEN + 1], line[512];
	const char *r[10];
	size_t i;

	if (fuzz_record_make(&bob, 1) == -1)
		die("record");
	memcpy(id, bob.onion, ONION_ID_LEN);
	id[ONION_ID_LEN] = '\0';

	r[0] = "250-PROTOCOLINFO 1\r\n"
	    "250-AUTH METHODS=COOKIE,SAFECOOKIE,HASHEDPASSWORD "
	    "COOKIEFILE=\"/run/tor/control.authcookie\"\r\n"
	    "250-VERSION Tor=\"0.4.9.1-alpha\"\r\n"
	    "250 OK\r\n";
	r[1] = "250 AUTHCHALLENGE SERVERHASH="
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF "
	    "SERVERNONCE="
	    "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210"
	    "\r\n";
	snprintf(line, sizeof(line), "250-ServiceID=%s\r\n250 OK\r\n", id);
	r[2] = line;
	r[3] = "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 "
	    "TAG=done SUMMARY=\"Done\"\r\n250 OK\r\n";
	r[4] = "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=85 "
	    "TAG=ap_conn_done SUMMARY=\"Connecting to a relay to build "
	    "circuits\"\r\n";
	r[5] = "650 STATUS_CLIENT WARN BOOTSTRAP PROGRESS=10 TAG=conn_done "
	    "SUMMARY=\"Connected to a relay\" WARNING=\"Connection refused\" "
	    "REASON=CONNECTREFUSED COUNT=3 RECOMMENDATION=warn "
	    "HOSTID=\"ABCD\" HOSTADDR=\"127.0.0.1:5000\"\r\n";
	r[6] = "250+onions/current=\r\nabc\r\n..starts with a dot\r\n"
	    "\r\n.\r\n250 OK\r\n";
	r[7] = "552 Unrecognized key \"x\"\r\n";
	r[8] = "515 Authentication failed: Wrong length on authentication "
	    "cookie.\r\n";
	r[9] = "650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED\r\n";

	all.len = 0;
	add_u8(&all, 0x0e);
	for (i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "reply-%zu", i);
		put_text("torctl", name, (uint8_t)(i % 2 ? 0x00 : 0x06), r[i]);
		add_str(&all, r[i]);
	}
	snprintf(line, sizeof(line), "650 HS_DESC UPLOADED %s UNKNOWN "
	    "$0123456789ABCDEF0123456789ABCDEF01234567~relay\r\n", id);
	put_text("torctl", "hs-desc", 0x02, line);
	add_str(&all, line);
	put("torctl", "all-replies", &all);

	/* At the limit: 257 status lines, one over TORCTL_LINES_MAX. (A
	 * seed near TORCTL_REPLY_MAX was tried: it slowed the target from
	 * ~13000 to ~900 inputs/s, so that bound is left to unit tests.) */
	all.len = 0;
	add_u8(&all, 0xfe);
	for (i = 0; i < 257; i++)
		add_str(&all, "250-x\r\n");
	add_str(&all, "250 OK\r\n");
	put("torctl", "lines-max", &all);

	put_text("torctl", "quote-plain", 0x01, "hello world");
	put_text("torctl", "quote-escapes", 0x01,
	    "tab\there \"quoted\" back\\slash\r\n\x01\x7f end");
	put_text("torctl", "unquote-raw", 0x01,
	    "\"a\\x41\\101\\n\\\"b\\\\\" rest");
}

/* ---- record ---- */

/* r signed by sk, as the seed record/NAME. */
static void
record_seed(struct record *r, const uint8_t *sk, const char *name)
{
	char text[RECORD_MAX_LEN + 1];
	int n;

	if (record_sign(r, sk, fuzz_keys()->netid) == -1)
		die("record sign");
	n = record_format(r, text, sizeof(text), 1);
	if (n < 0)
		die("record format");
	write_seed("record", name, text, (size_t)n);
}

static void
gen_record(void)
{
	struct record r;
	char text[RECORD_MAX_LEN + 1];
	int i, n;

	for (i = 0; i < 2; i++) {
		if (fuzz_record_make(&r, i) == -1)
			die("record");
		n = record_format(&r, text, sizeof(text), 1);
		if (n < 0)
			die("record format");
		write_seed("record", i ? "bob" : "alice", text, (size_t)n);
	}
	/* Full house: four endpoints, several subnets. */
	if (fuzz_record_make(&r, 0) == -1)
		die("record");
	snprintf(r.tcp[1], sizeof(r.tcp[1]), "[fd00::1]:6550");
	snprintf(r.tcp[2], sizeof(r.tcp[2]), "peer.example.org:443");
	snprintf(r.tcp[3], sizeof(r.tcp[3]), "203.0.113.7:65535");
	r.ntcp = 4;
	if (prefix_parse(&r.subnets[1], "fd99::/64") == -1 ||
	    prefix_parse(&r.subnets[2], "10.200.0.0/16") == -1)
		die("prefix");
	r.nsubnets = 3;
	r.serial = 18446744073709551615ULL;
	record_seed(&r, fuzz_keys()->sign_sk, "alice-full");
	/* Issue 15: an onion member's client authorization key. */
	if (fuzz_record_make(&r, 1) == -1)
		die("record");
	memset(r.client_auth, 0x5a, sizeof(r.client_auth));
	r.has_client_auth = 1;
	record_seed(&r, fuzz_keys()->sign2_sk, "bob-client-auth");
}

/* ---- edges ---- */

static void
gen_edges(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	static char text[EDGES_MAX_LEN + 1];
	struct edges *e;
	size_t i;
	int n;

	if ((e = fuzz_edges_make()) == NULL)
		die("edges");
	/* one measured rate, one not (0) */
	e->peers[0].rate_kbps = 16384;
	if (edges_sign(e, k->sign_sk, k->netid) == -1)
		die("edges");
	n = edges_format(e, text, sizeof(text), 1);
	if (n < 0)
		die("edges format");
	write_seed("edges", "two-peers", text, (size_t)n);

	e->npeers = 0;
	e->serial = 0;
	if (edges_sign(e, k->sign_sk, k->netid) == -1 ||
	    (n = edges_format(e, text, sizeof(text), 1)) < 0)
		die("edges");
	write_seed("edges", "no-peers", text, (size_t)n);

	/* Forty peers, rtts and rates at the u32 edges (rates as keyd
	 * announces them, powers of two, and one that is not). */
	e->npeers = 40;
	for (i = 0; i < e->npeers; i++) {
		fuzz_fill(e->peers[i].id, MEMBER_ID_BYTES, (uint8_t)(3 * i));
		e->peers[i].rtt_us = i == 0 ? 4294967295U : (uint32_t)i * 977;
		e->peers[i].rate_kbps = i == 0 ? 4294967295U :
		    i % 5 == 1 ? 0 : 1U << (i % 32);
	}
	e->serial = 18446744073709551615ULL;
	if (edges_sort(e) == -1 || edges_sign(e, k->sign_sk, k->netid) == -1 ||
	    (n = edges_format(e, text, sizeof(text), 1)) < 0)
		die("edges");
	write_seed("edges", "forty-peers", text, (size_t)n);
	free(e);
}

/* ---- conf ---- */

static void
gen_conf(void)
{
	static const struct {
		const char *name, *text;
	} c[] = {
		{"minimal", "name = alice\n"},
		{"tcp", "# a TCP member\n"
		    "name = alice\n"
		    "interface = om-test\n"
		    "ipv4 = 10.77.0.1/16\n"
		    "ipv6 = fd12:3456:789a::1/48\n"
		    "mtu = 1420\n"
		    "listen = 0.0.0.0:6550\n"
		    "tcp = 203.0.113.7:6550\n"
		    "connect = bob\n"
		    "connect = carol\n"
		    "noconnect = eve\n"
		    "subnet = 192.168.77.0/24\n"
		    "subnet = fd99::/64\n"
		    "privsep = no\n"
		    "sandbox = yes\n"
		    "circuits = 2\n"
		    "loglevel = debug\n"},
		{"onion", "name = bob\n"
		    "anonymous = yes\n"
		    "tor_control = unix:/run/tor/control\n"
		    "tor_socks = unix:/run/tor/socks\n"
		    "circuits = 8\n"
		    "netns = om-bob\n"
		    "privsep = auto\n"
		    "loglevel = warn\n"},
		{"spacing", "  NAME=carol   # trailing comment\n\n\t# only\n"
		    "Mtu =65535\nlisten = [::1]:7000\n"
		    "tor_control = 127.0.0.1:9051\n"
		    "tor_socks = 127.0.0.1:9050\n"},
	};
	static char out[65536];
	struct conf *cf;
	char err[1024];
	size_t i;
	int n;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		die("out of memory");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		conf_defaults(cf);
		if (conf_parse(cf, c[i].name, c[i].text, strlen(c[i].text),
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "gen_corpus: conf seed %s: %s\n",
			    c[i].name, err);
			exit(1);
		}
		write_seed("conf", c[i].name, c[i].text, strlen(c[i].text));
	}
	/* What init writes: the canonical form of the last one. */
	n = conf_format(cf, out, sizeof(out));
	if (n < 0)
		die("conf format");
	write_seed("conf", "canonical", out, (size_t)n);
	free(cf);
}

/* ---- ctl ---- */

static void
gen_ctl(void)
{
	static const char *const keyd[] = {
		"{\"cmd\": \"status\"}", "{\"cmd\": \"records\"}",
		"{\"cmd\": \"export\"}",
		"{\"cmd\": \"export\", \"name\": \"bob\"}",
		"{\"cmd\": \"export\", \"name\": 7}", "{\"cmd\": \"reload\"}",
		"{\"cmd\": \"nope\", \"x\": [1, 2.5, null, true, {}]}",
		NULL,
	};
	static const char *const linkd[] = {
		"{\"cmd\": \"status\"}", "{\"cmd\": \"links\"}",
		"{\"cmd\": \"peers\"}", "{\"cmd\": \"\\u0073tatus\"}",
		"{\"cmd\": \"links\", \"peer\": \"alice\"}",
		"{\"cmd\": \"sessions\"}",
		"{\"cmd\": \"debug_route\", \"dest\": \"alice\", "
		"\"via\": \"bob\"}",
		"{\"cmd\": \"debug_route\", \"dest\": \"alice\"}",
		"{\"cmd\": \"debug_route\", \"clear\": true}",
		NULL,
	};
	static const char *const routed[] = {
		"{\"cmd\": \"status\"}", "{\"cmd\": \"routes\"}",
		"{\"cmd\": \"members\"}", "{\"cmd\": \"routes\", \"cmd2\": 1}",
		NULL,
	};
	static const char *const tund[] = {
		"{\"cmd\": \"status\"}", "{\"cmd\": \"down\"}", NULL,
	};
	static const struct {
		const char *target;
		const char *const *req;
	} t[] = {
		{"ctl_keyd", keyd}, {"ctl_linkd", linkd},
		{"ctl_routed", routed}, {"ctl_tund", tund},
	};
	char name[32];
	size_t i, j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (j = 0; t[i].req[j] != NULL; j++) {
			snprintf(name, sizeof(name), "req-%zu", j);
			/* Odd: the caller may change things. */
			put_text(t[i].target, name, (uint8_t)(j & 1),
			    t[i].req[j]);
		}
}

/* ---- onion, addr, packet ---- */

static void
gen_onion(void)
{
	struct onion_key ok;
	struct record bob;
	uint8_t seed[ONION_SEED_BYTES];
	char blob[ONION_BLOB_LEN + 1], bad[ONION_ADDR_LEN + 1];
	static struct seed s;

	if (fuzz_record_make(&bob, 1) == -1)
		die("record");
	put_text("onion", "addr", 0, bob.onion);
	memcpy(bad, bob.onion, sizeof(bad));
	bad[52] = bad[52] == 'a' ? 'b' : 'a'; /* checksum breaks */
	put_text("onion", "addr-bad-checksum", 0, bad);
	s.len = 0;
	add_u8(&s, 1);
	add(&s, bob.onion, ONION_ID_LEN);
	put("onion", "id", &s);
	fuzz_fill(seed, sizeof(seed), 0xbb);
	if (onion_key_from_seed(&ok, seed) == -1 ||
	    onion_key_blob(blob, sizeof(blob), &ok) == -1)
		die("onion key");
	onion_key_wipe(&ok);
	put_text("onion", "blob", 2, blob);
	/* libsodium 1.0.18 decodes bytes >= 0x80 as '/': such a blob must
	 * be refused, not loaded as another spelling of the key. */
	blob[sizeof(ONION_BLOB_PREFIX) + 10] = (char)0xff;
	put_text("onion", "blob-high-byte", 2, blob);
}

static void
gen_addr(void)
{
	static const char *const p[] = {"10.0.0.1/8", "fd00::/8",
	    "::ffff:1.2.3.4/128", "0.0.0.0/0", "fe80::1:2:3:4/64", NULL};
	static const char *const a[] = {"192.168.1.1", "fe80::1",
	    "255.255.255.255", "::", NULL};
	static const char *const e[] = {"127.0.0.1:6550", "[::1]:6550",
	    "peer.example.org:443", "a:1", NULL};
	char name[32];
	int i;

	for (i = 0; p[i]; i++) {
		snprintf(name, sizeof(name), "prefix-%d", i);
		put_text("addr", name, 0, p[i]);
	}
	for (i = 0; a[i]; i++) {
		snprintf(name, sizeof(name), "addr-%d", i);
		put_text("addr", name, 1, a[i]);
	}
	for (i = 0; e[i]; i++) {
		snprintf(name, sizeof(name), "endpoint-%d", i);
		put_text("addr", name, 2, e[i]);
	}
}

static void
gen_packet(void)
{
	static struct seed s;
	uint8_t pkt[512], ts[WIRE_HS_PAYLOAD];
	size_t n;
	int i;

	for (i = 0; i < 2; i++) {
		n = ipv4_packet(pkt, 12);
		s.len = 0;
		add_u8(&s, (uint8_t)i);
		add(&s, pkt, n);
		put("packet", i ? "tunmsg-ipv4" : "inner-ipv4", &s);
		n = ipv6_packet(pkt);
		s.len = 0;
		add_u8(&s, (uint8_t)i);
		add(&s, pkt, n);
		put("packet", i ? "tunmsg-ipv6" : "inner-ipv6", &s);
	}

	/* rtnetlink: NLMSG_ERROR (type 2) with error 0 answering seq 7,
	 * then one with -EEXIST; host byte order, as the kernel sends. */
	{
		struct {
			uint32_t len;
			uint16_t type, flags;
			uint32_t seq, pid;
			int32_t error;
			uint32_t olen;
			uint16_t otype, oflags;
			uint32_t oseq, opid;
		} nl;

		s.len = 0;
		add_u8(&s, 2);
		be32_put(pkt, 7);
		add(&s, pkt, 4);
		memset(&nl, 0, sizeof(nl));
		nl.len = sizeof(nl);
		nl.type = 2;
		nl.seq = 7;
		nl.error = 0;
		nl.olen = 16;
		nl.otype = 16;
		nl.oseq = 7;
		add(&s, &nl, sizeof(nl));
		put("packet", "nl-ack", &s);
		nl.error = -17;
		add(&s, &nl, sizeof(nl));
		put("packet", "nl-ack-twice", &s);
	}

	/* TAI64N timestamps: rising, a repeat, one far older. */
	s.len = 0;
	add_u8(&s, 3);
	for (i = 0; i < 70; i++) {
		be64_put(ts, 0x400000000000000aULL + 1700000000 +
		    (uint64_t)(i % 7 == 3 ? i - 1 : i));
		be32_put(ts + 8, (uint32_t)(i * 1000));
		add(&s, ts, sizeof(ts));
	}
	be64_put(ts, 0x400000000000000aULL + 1600000000);
	add(&s, ts, sizeof(ts));
	put("packet", "timestamps", &s);

	/* INNER_FORWARD: header + one DATA frame, for us and for another
	 * member (self in fuzz_packet is 01 02 03 00...). */
	{
		uint8_t dest[MEMBER_ID_BYTES] = {1, 2, 3};
		size_t fl;

		fl = seal(frame, fuzz_keys()->data_key, 0, 1, INNER_PACKET,
		    pkt, ipv4_packet(pkt, 4));
		for (i = 0; i < 2; i++) {
			s.len = 0;
			add_u8(&s, 4);
			add(&s, dest, sizeof(dest));
			add_u8(&s, (uint8_t)(i ? 1 : 16));
			be32_put(ts, 77);
			add(&s, ts, 4);
			add(&s, frame, fl);
			put("packet", i ? "forward-last-hop" : "forward-to-us",
			    &s);
			dest[0] = 9;
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	top = argv[1];
	if (mkdir(top, 0755) == -1 && errno != EEXIST)
		die("cannot create the corpus directory");
	fuzz_init();
	gen_wire();
	gen_noise();
	gen_session();
	gen_msg();
	gen_socks5();
	gen_torctl();
	gen_record();
	gen_edges();
	gen_conf();
	gen_ctl();
	gen_onion();
	gen_addr();
	gen_packet();
	printf("gen_corpus: %d seeds, %zu bytes in %s\n", nseeds, nbytes, top);
	return 0;
}
