/*
 * routed's messages: records and edge announcements from keyd, link
 * state from linkd, the device from tund. One row per message in
 * routed_msgs[], beside the catalogue entry (proto/msg.c) that has
 * already checked its sender and length; each handler decodes, updates
 * the graph and says whether it changed (routed_changed), and
 * recompute.c does the rest.
 *
 * keyd's full resend starts with MSG_SELF and ends with MSG_SYNC_DONE;
 * records it did not resend are dropped at the end, so a member removed
 * while routed was away does not linger.
 *
 * Records and edge announcements are verified again here, though keyd
 * verified them: one signature check each keeps a confused keyd from
 * steering our traffic.
 */
#include <string.h>

#include "proto/edges.h"
#include "proto/log.h"
#include "proto/record.h"
#include "routed/routed.h"

/* A decoder refused what the catalogue let through: the sibling broke
 * the contract. Rate-limited per sender. */
static void
malformed(struct routed *r, const struct msg_hdr *h, enum daemon from)
{
	const void *key = from == D_KEYD ? (const void *)&r->keyd :
	    from == D_LINKD ? (const void *)&r->linkd : (const void *)&r->tund;

	log_warnx_rl(key, "malformed %s from %s (%u bytes); dropped",
	    msg_name(h->type), daemon_name(from), h->length);
}

static void
on_self(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct routed *r = ctx;
	struct msg_self self;

	if (msg_self_decode(&self, p, h->length) == -1) {
		malformed(r, h, D_KEYD);
		return;
	}
	if (graph_set_self(&r->g, self.id, self.name))
		log_info("we are %s", self.name);
	memcpy(r->netid, self.netid, sizeof(r->netid));
	r->have_netid = 1;
	/* A full resend starts: remember what it holds. */
	r->in_sync = 1;
	graph_sync_begin(&r->g);
}

static void
on_record(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	static struct msg_record m;
	struct routed *r = ctx;
	char err[512], hex[2 * MEMBER_ID_BYTES + 1];
	struct record rec;
	int rc;

	if (msg_record_decode(&m, p, h->length) == -1) {
		malformed(r, h, D_KEYD);
		return;
	}
	if (record_parse(&rec, m.text, m.len, err, sizeof(err)) == -1) {
		log_warnx("record from keyd does not parse: %s; dropped", err);
		return;
	}
	if (!r->have_netid || record_verify(&rec, r->netid) != 0) {
		log_warnx("record of %s from keyd does not verify; dropped",
		    rec.name);
		return;
	}
	rc = graph_member_set(&r->g, &rec);
	if (rc == -1) {
		log_warnx("out of memory adding %s; dropped", rec.name);
		return;
	}
	hex_encode(hex, rec.id, MEMBER_ID_BYTES);
	log_debug("record of %s (%.16s...) serial %llu%s", rec.name, hex,
	    (unsigned long long)rec.serial, rc ? ", changed" : "");
	if (rc && !r->in_sync)
		routed_changed(r);
}

/* Decode, parse and verify an announcement; 0 with it in *e, or -1
 * (counted in edges_bad and logged). */
static int
edges_take(struct routed *r, const struct msg_hdr *h, const uint8_t *p,
    struct edges *e)
{
	static struct msg_edges m;
	char err[256], hex[2 * MEMBER_ID_BYTES + 1];

	if (msg_edges_decode(&m, p, h->length) == -1) {
		r->edges_bad++;
		log_warnx_rl(&r->edges_bad, "malformed EDGES from keyd (%u "
		    "bytes); dropped", h->length);
		return -1;
	}
	if (edges_parse(e, m.text, m.len, err, sizeof(err)) == -1) {
		r->edges_bad++;
		log_warnx_rl(&r->edges_bad, "edge announcement from keyd does "
		    "not parse: %s; dropped", err);
		return -1;
	}
	if (!r->have_netid || edges_verify(e, r->netid) != 0) {
		r->edges_bad++;
		hex_encode(hex, e->id, MEMBER_ID_BYTES);
		log_warnx_rl(&r->edges_bad, "edge announcement of %.16s... "
		    "from keyd does not verify; dropped", hex);
		return -1;
	}
	return 0;
}

static void
on_edges(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	static struct edges e;
	struct routed *r = ctx;
	char hex[2 * MEMBER_ID_BYTES + 1];
	int rc;

	if (edges_take(r, h, p, &e) == -1)
		return;
	rc = graph_edges_set(&r->g, e.id, e.serial, e.peers, e.npeers);
	if (rc == -1) {
		log_warnx("out of memory taking an edge announcement; "
		    "dropped");
		return;
	}
	r->edges_in++;
	hex_encode(hex, e.id, MEMBER_ID_BYTES);
	log_debug("edges of %.16s... serial %llu: %zu peers%s", hex,
	    (unsigned long long)e.serial, e.npeers, rc ? ", changed" : "");
	if (rc)
		routed_changed(r);
}

static void
on_record_del(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct routed *r = ctx;
	struct msg_member mm;

	if (msg_member_decode(&mm, p, h->length) == -1) {
		malformed(r, h, D_KEYD);
		return;
	}
	if (graph_member_del(&r->g, mm.id))
		routed_changed(r);
}

static void
on_sync_done(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct routed *r = ctx;
	struct msg_sync_done done;
	size_t gone;

	if (msg_sync_done_decode(&done, p, h->length) == -1) {
		malformed(r, h, D_KEYD);
		return;
	}
	if (!r->in_sync) {
		/* A SYNC_DONE without its SELF: the resend was not seen
		 * from its start, so nothing is dropped. */
		log_warnx_rl(&r->in_sync, "SYNC_DONE from keyd without SELF; "
		    "ignored");
		return;
	}
	r->in_sync = 0;
	gone = graph_sync_end(&r->g);
	log_info("records from keyd: %u", done.count);
	if (gone)
		log_info("%zu members no longer in keyd's set; dropped",
		    gone);
	routed_changed(r);
}

static void
on_peer_state(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct routed *r = ctx;
	struct msg_peer_state ps;
	char hex[2 * MEMBER_ID_BYTES + 1];
	int rc;

	if (msg_peer_state_decode(&ps, p, h->length) == -1) {
		malformed(r, h, D_LINKD);
		return;
	}
	rc = graph_link_set_rate(&r->g, ps.id, ps.links_up, ps.rtt_us,
	    ps.rate_kbps);
	if (rc == -1) {
		log_warnx("out of memory recording a link; dropped");
		return;
	}
	hex_encode(hex, ps.id, MEMBER_ID_BYTES);
	log_debug("links to %.16s...: %u, rtt %u us, rate %u kbit/s", hex,
	    ps.links_up, ps.rtt_us, ps.rate_kbps);
	if (rc) {
		routed_changed(r);
		routed_edges_soon(r);
	}
}

static void
on_tun_state(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct routed *r = ctx;
	struct msg_tun_state ts;

	if (msg_tun_state_decode(&ts, p, h->length) == -1) {
		malformed(r, h, D_TUND);
		return;
	}
	r->tun = ts;
	r->have_tun = 1;
	log_info("tun %s mtu %u %s", ts.ifname, ts.mtu,
	    ts.up ? "up" : "down");
}

const struct msg_handler routed_msgs[] = {
	{ MSG_SELF,        D_KEYD,  on_self },
	{ MSG_RECORD,      D_KEYD,  on_record },
	{ MSG_EDGES,       D_KEYD,  on_edges },
	{ MSG_RECORD_DEL,  D_KEYD,  on_record_del },
	{ MSG_SYNC_DONE,   D_KEYD,  on_sync_done },
	{ MSG_PEER_STATE,  D_LINKD, on_peer_state },
	{ MSG_TUN_STATE,   D_TUND,  on_tun_state },
};
const size_t routed_nmsgs = TABLE_LEN(routed_msgs);
