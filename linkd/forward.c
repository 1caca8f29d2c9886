/*
 * Relaying INNER_FORWARD frames, choosing the next hop for a member,
 * and the debug_route test hook (forward.h has the frame and the
 * rules). The end-to-end sessions whose frames these are live in
 * e2e.c.
 *
 * Buffers: a forward payload arrives in the session layer's receive
 * buffer and must leave through the session layer's send buffer, so it
 * is copied once, into fwd_txbuf (relay: with the hop limit lowered) or
 * fwd_rxbuf (for us: the e2e session decrypts it into the session
 * layer's receive buffer, which it would otherwise overwrite while
 * reading). Two buffers, because a frame for us can make the e2e
 * session answer (a handshake response) while fwd_rxbuf is still in
 * use. linkd has one thread: they are plain statics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "linkd/e2e.h"
#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "proto/buf.h"
#include "proto/log.h"

static uint8_t fwd_txbuf[WIRE_MAX_INNER];
static uint8_t fwd_rxbuf[WIRE_MAX_INNER];

/* ---- pure ---- */

int
fwd_parse(struct fwd_hdr *h, const uint8_t *p, size_t len)
{
	struct wire_frame f;

	memset(h, 0, sizeof(*h));
	if (p == NULL || len < FWD_HDR + WIRE_LEN_BYTES + 1 ||
	    len - FWD_HDR > FWD_MAX_FRAME)
		return -1;
	h->dest = p;
	h->hops = p[MEMBER_ID_BYTES];
	h->conn = be32_get(p + MEMBER_ID_BYTES + 1);
	h->frame = p + FWD_HDR;
	h->frame_len = len - FWD_HDR;
	/* Exactly one whole frame: a relay must not pass on a stream
	 * fragment the far end would have to make sense of. */
	if (wire_frame_peek(&f, h->frame, h->frame_len) != 1 ||
	    f.frame_len != h->frame_len)
		return -1;
	h->frame_type = f.type;
	return 0;
}

void
fwd_put_hdr(uint8_t out[FWD_HDR], const uint8_t dest[MEMBER_ID_BYTES],
    uint8_t hops, uint32_t conn)
{
	memcpy(out, dest, MEMBER_ID_BYTES);
	out[MEMBER_ID_BYTES] = hops;
	be32_put(out + MEMBER_ID_BYTES + 1, conn);
}

enum fwd_action
fwd_decide(const uint8_t self[MEMBER_ID_BYTES], const struct fwd_hdr *h,
    uint8_t *hops_out)
{
	if (crypto_verify_32(h->dest, self) == 0)
		return FWD_DELIVER;
	/* The hop limit counts the hops still allowed: the sender writes
	 * FWD_HOP_LIMIT and each relay takes one off before sending on,
	 * so a frame crosses at most FWD_HOP_LIMIT - 1 relays. */
	if (h->hops <= 1)
		return FWD_HOPS_GONE;
	*hops_out = (uint8_t)(h->hops - 1);
	return FWD_RELAY;
}

/* ---- next hop ---- */

const struct fwd_debug_route *
forward_debug_route(const struct linkd *ld,
    const uint8_t dest[MEMBER_ID_BYTES])
{
	int i;

	for (i = 0; i < ld->fwd.ndbg; i++)
		if (memcmp(ld->fwd.dbg[i].dest, dest, MEMBER_ID_BYTES) == 0)
			return &ld->fwd.dbg[i];
	return NULL;
}

struct peer *
forward_debug_dest(struct linkd *ld, int family, const uint8_t *addr)
{
	struct peer *p;
	int i;

	for (i = 0; i < ld->fwd.ndbg; i++) {
		p = peers_find(ld, ld->fwd.dbg[i].dest);
		if (p != NULL && record_owns_addr(&p->rec, family, addr))
			return p;
	}
	return NULL;
}

int
forward_next_hop(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    const uint8_t **via)
{
	const struct fwd_debug_route *r;
	const struct fib_entry *e;
	struct peer *p;

	if ((r = forward_debug_route(ld, dest)) != NULL) {
		*via = r->via;
		return 0;
	}
	if ((p = peers_find(ld, dest)) != NULL && p->links_up > 0) {
		*via = p->rec.id;
		return 0;
	}
	if ((e = fib_lookup_member(ld->fib, dest)) == NULL ||
	    crypto_verify_32(e->next_hop, ld->self_id) == 0 ||
	    crypto_verify_32(e->next_hop, dest) == 0)
		return -1;
	*via = e->next_hop;
	return 0;
}

/* The established link to member via for the frames of one conn id
 * (one flow for multipath, so they stay in order), or NULL. */
static struct link *
fwd_link(struct linkd *ld, const uint8_t via[MEMBER_ID_BYTES], uint32_t conn,
    double now)
{
	struct peer *p;
	struct link *l;
	int i;

	if ((p = peers_find(ld, via)) == NULL || p->nlinks == 0)
		return NULL;
	i = mp_select(&p->mp, p->paths, (size_t)p->nlinks,
	    conn != 0 ? conn : 1, now);
	if (i < 0)
		return NULL;
	l = p->links[i];
	if (l->state != LINK_UP || l->sess.state != SESSION_ESTABLISHED)
		return NULL;
	return l;
}

/*
 * Seal one forward payload on link l. Never closes the link (we may be
 * inside a callback of its own session): a session that broke while
 * sending is closed by link_tick within a second.
 */
static int
fwd_send_on(struct linkd *ld, struct link *l, const uint8_t *payload,
    size_t len, double now)
{
	/* Tail drop: the ring (LINK_OBUF_CAP) always has room above the
	 * mark for one more frame, so a relay never overflows it. */
	if (l->tx.len > LINK_OBUF_HIGH) {
		ld->fwd.c.congested++;
		return -1;
	}
	if (session_send_kind(&l->sess, INNER_FORWARD, payload, len,
	    now) == -1) {
		ld->fwd.c.no_link++;
		return -1;
	}
	l->tx_packets++;
	return 0;
}

int
forward_emit(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    uint32_t conn, const uint8_t *frame, size_t len, double now)
{
	const uint8_t *via;
	struct link *l;

	if (len > FWD_MAX_FRAME) {
		ld->fwd.c.too_big++;
		return -1;
	}
	if (forward_next_hop(ld, dest, &via) == -1) {
		ld->fwd.c.no_route++;
		return -1;
	}
	if ((l = fwd_link(ld, via, conn, now)) == NULL) {
		ld->fwd.c.no_link++;
		return -1;
	}
	fwd_put_hdr(fwd_txbuf, dest, FWD_HOP_LIMIT, conn);
	memcpy(fwd_txbuf + FWD_HDR, frame, len);
	if (fwd_send_on(ld, l, fwd_txbuf, FWD_HDR + len, now) == -1)
		return -1;
	ld->fwd.c.sent++;
	ld->fwd.c.sent_bytes += FWD_HDR + len;
	return 0;
}

void
forward_input(struct linkd *ld, struct link *l, const uint8_t *p, size_t len)
{
	struct fwd_hdr h;
	const uint8_t *via;
	struct link *out;
	double now = linkd_now();
	uint8_t hops = 0;

	if (!ld->self_known)
		return;
	if (fwd_parse(&h, p, len) == -1) {
		ld->fwd.c.bad++;
		log_warnx_rl(&ld->fwd.c.bad, "member %s sent a forward frame "
		    "that does not parse (%zu bytes): dropped",
		    l->peer != NULL ? l->peer->rec.name : "?", len);
		return;
	}
	switch (fwd_decide(ld->self_id, &h, &hops)) {
	case FWD_DELIVER:
		ld->fwd.c.for_us++;
		memcpy(fwd_rxbuf, h.frame, h.frame_len);
		e2e_input(ld, l->peer != NULL ? l->peer->rec.id : NULL,
		    h.conn, fwd_rxbuf, h.frame_len, now);
		return;
	case FWD_HOPS_GONE:
		ld->fwd.c.hop_limit++;
		log_warnx_rl(&ld->fwd.c.hop_limit, "a forward frame from %s "
		    "used up its hop limit (a routing loop?): dropped",
		    l->peer != NULL ? l->peer->rec.name : "?");
		return;
	case FWD_RELAY:
		break;
	}
	if (forward_next_hop(ld, h.dest, &via) == -1) {
		ld->fwd.c.no_route++;
		return;
	}
	if ((out = fwd_link(ld, via, h.conn, now)) == NULL) {
		ld->fwd.c.no_link++;
		return;
	}
	memcpy(fwd_txbuf, p, len);
	fwd_txbuf[MEMBER_ID_BYTES] = hops;
	if (fwd_send_on(ld, out, fwd_txbuf, len, now) == 0) {
		ld->fwd.c.forwarded++;
		ld->fwd.c.forwarded_bytes += len;
	}
}

void
forward_send_packet(struct linkd *ld, struct peer *p, const uint8_t *pkt,
    size_t len, double now)
{
	e2e_send_packet(ld, p, pkt, len, now);
}

/* ---- lifecycle ---- */

void
forward_init(struct linkd *ld)
{
	memset(&ld->fwd, 0, sizeof(ld->fwd));
	TAILQ_INIT(&ld->fwd.sessions);
	ld->fwd.ready = 1;
}

void
forward_close(struct linkd *ld)
{
	if (!ld->fwd.ready)
		return;
	e2e_close_all(ld, "linkd is stopping");
	ld->fwd.ndbg = 0;
}

void
forward_tick(struct linkd *ld, double now)
{
	if (ld->fwd.ready)
		e2e_tick(ld, now);
}

/* ---- ctl ---- */

static json_t *fwd_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static json_t *
fwd_err(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static const char *
member_name(struct linkd *ld, const uint8_t id[MEMBER_ID_BYTES])
{
	struct peer *p;

	if (ld->self_known && memcmp(id, ld->self_id, MEMBER_ID_BYTES) == 0)
		return ld->self_name;
	return (p = peers_find(ld, id)) != NULL ? p->rec.name : "?";
}

static json_t *
debug_routes_json(struct linkd *ld)
{
	json_t *a = json_array();
	char hex[2 * MEMBER_ID_BYTES + 1];
	int i;

	for (i = 0; i < ld->fwd.ndbg; i++) {
		hex_encode(hex, ld->fwd.dbg[i].dest, MEMBER_ID_BYTES);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
		    "dest", member_name(ld, ld->fwd.dbg[i].dest),
		    "dest_id", hex,
		    "via", member_name(ld, ld->fwd.dbg[i].via)));
	}
	return a;
}

json_t *
forward_status_json(const struct linkd *ld)
{
	const struct fwd_counters *c = &ld->fwd.c;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
	    "forwarded", (json_int_t)c->forwarded,
	    "forwarded_bytes", (json_int_t)c->forwarded_bytes,
	    "hop_limit", (json_int_t)c->hop_limit,
	    "no_route", (json_int_t)c->no_route,
	    "no_link", (json_int_t)c->no_link,
	    "congested", (json_int_t)c->congested,
	    "bad", (json_int_t)c->bad,
	    "for_us", (json_int_t)c->for_us,
	    "sent", (json_int_t)c->sent,
	    "sent_bytes", (json_int_t)c->sent_bytes,
	    "unknown_conn", (json_int_t)c->unknown_conn,
	    "hs_dropped", (json_int_t)c->hs_dropped,
	    "hs_ratelimited", (json_int_t)c->hs_ratelimited,
	    "too_big", (json_int_t)c->too_big,
	    "queue_drops", (json_int_t)c->queue_drops,
	    "e2e_up", (json_int_t)c->e2e_up,
	    "e2e_failed", (json_int_t)c->e2e_failed,
	    "e2e_sessions", (json_int_t)ld->fwd.nsessions,
	    "e2e_pending", (json_int_t)ld->fwd.npending,
	    "debug_routes", ld->fwd.ndbg);
}

/* A member by 64 hex digits or by name; never ourselves. */
static struct peer *
resolve_member(struct linkd *ld, const char *s)
{
	uint8_t id[MEMBER_ID_BYTES];
	struct peer *p;

	if (strlen(s) == 2 * MEMBER_ID_BYTES &&
	    hex_decode(id, sizeof(id), s) == 0)
		return peers_find(ld, id);
	TAILQ_FOREACH(p, &ld->peers, entry)
		if (strcmp(p->rec.name, s) == 0)
			return p;
	return NULL;
}

json_t *
forward_ctl_debug_route(struct linkd *ld, json_t *req, int may_change)
{
	const char *ds, *vs;
	struct fwd_debug_route *r;
	struct peer *dest, *via;
	json_t *v;
	int i;

	if (!may_change)
		return fwd_err("debug_route changes forwarding (a test "
		    "hook): only root or linkd's own user may send it");
	if (json_is_true(json_object_get(req, "clear"))) {
		if (ld->fwd.ndbg > 0)
			log_warnx("test hook: every debug route cleared");
		ld->fwd.ndbg = 0;
		return json_pack("{s:b, s:o}", "ok", 1, "debug_routes",
		    debug_routes_json(ld));
	}
	if ((ds = json_string_value(json_object_get(req, "dest"))) == NULL)
		return fwd_err("debug_route needs \"dest\" (a member's name "
		    "or 64 hex id) and \"via\", or \"clear\": true");
	if ((dest = resolve_member(ld, ds)) == NULL)
		return fwd_err("debug_route: dest '%s' is no member linkd "
		    "knows (want a name or a 64 hex id)", ds);
	v = json_object_get(req, "via");
	if (v == NULL || json_is_null(v)) {
		for (i = 0; i < ld->fwd.ndbg; i++) {
			if (memcmp(ld->fwd.dbg[i].dest, dest->rec.id,
			    MEMBER_ID_BYTES) != 0)
				continue;
			ld->fwd.dbg[i] = ld->fwd.dbg[--ld->fwd.ndbg];
			log_warnx("test hook: debug route for %s cleared",
			    dest->rec.name);
			break;
		}
		return json_pack("{s:b, s:o}", "ok", 1, "debug_routes",
		    debug_routes_json(ld));
	}
	if ((vs = json_string_value(v)) == NULL)
		return fwd_err("debug_route: \"via\" must be a member's name "
		    "or 64 hex id");
	if ((via = resolve_member(ld, vs)) == NULL)
		return fwd_err("debug_route: via '%s' is no member linkd "
		    "knows (want a name or a 64 hex id; not this member)",
		    vs);
	r = (struct fwd_debug_route *)forward_debug_route(ld, dest->rec.id);
	if (r == NULL) {
		if (ld->fwd.ndbg >= FWD_DEBUG_MAX)
			return fwd_err("debug_route: table full (%d routes); "
			    "clear one first", FWD_DEBUG_MAX);
		r = &ld->fwd.dbg[ld->fwd.ndbg++];
	}
	memcpy(r->dest, dest->rec.id, MEMBER_ID_BYTES);
	memcpy(r->via, via->rec.id, MEMBER_ID_BYTES);
	log_warnx("test hook: frames for %s now go via %s (debug_route)",
	    dest->rec.name, via->rec.name);
	return json_pack("{s:b, s:o}", "ok", 1, "debug_routes",
	    debug_routes_json(ld));
}
