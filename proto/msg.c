/*
 * The IPC message catalogue: the table of every message type (its name,
 * payload length bounds and the daemons allowed to send it), the header
 * codec, and one explicit encoder and decoder per payload.
 *
 * The table is what the common dispatcher checks before any handler
 * runs (OpenSSH's mon_table), so the bounds here are the exact wire
 * sizes of the payloads below: fixed-size messages have min == max, and
 * messages with a string or blob range from the shortest valid content
 * to the longest the struct can hold. A decoder still checks every field
 * (a length within bounds can hide a string that does not fit or an
 * unknown prefix family), and refuses any byte left over, so a daemon
 * built from a different catalogue fails loudly instead of reading
 * shifted fields.
 *
 * Encoders take the struct as the caller filled it; when a field cannot
 * be represented (a string too long for its field, a prefix of no
 * family) they set w->err rather than write something the peer would
 * misread.
 */
#include "proto/msg.h"

#include <stddef.h>
#include <string.h>

#include "proto/conf.h" /* name_valid */

#define PREFIX_WIRE_LEN (1 + 1 + 16)
#define STR_LEN(max)    (2 + (max))
#define ID              MEMBER_ID_BYTES

#define FROM_KEYD   D_BIT(D_KEYD)
#define FROM_LINKD  D_BIT(D_LINKD)
#define FROM_ROUTED D_BIT(D_ROUTED)
#define FROM_TUND   D_BIT(D_TUND)

static const struct msg_spec msg_table[] = {
	/* keyd -> linkd, routed */
	{MSG_SELF, "SELF", ID + 32 + NETID_BYTES + STR_LEN(1),
	    ID + 32 + NETID_BYTES + STR_LEN(NAME_MAX_LEN), FROM_KEYD},
	{MSG_RECORD, "RECORD", 1 + STR_LEN(1), 1 + STR_LEN(RECORD_MAX_LEN),
	    FROM_KEYD},
	{MSG_RECORD_DEL, "RECORD_DEL", ID, ID, FROM_KEYD},
	{MSG_SYNC_DONE, "SYNC_DONE", 4, 4, FROM_KEYD},
	/* linkd <-> keyd rpc */
	{MSG_DH_REQ, "DH_REQ", 32, 32, FROM_LINKD},
	{MSG_DH_RESP, "DH_RESP", 1 + 32, 1 + 32, FROM_KEYD},
	/* gossip */
	{MSG_GOSSIP_IN, "GOSSIP_IN", ID + STR_LEN(1),
	    ID + STR_LEN(GOSSIP_MAX_PAYLOAD), FROM_LINKD},
	{MSG_GOSSIP_OUT, "GOSSIP_OUT", 1 + ID + STR_LEN(1),
	    1 + ID + STR_LEN(GOSSIP_MAX_PAYLOAD), FROM_KEYD},
	{MSG_EDGES_LOCAL, "EDGES_LOCAL", 2, MSG_EDGES_LOCAL_MAX, FROM_ROUTED},
	{MSG_EDGES, "EDGES", STR_LEN(1), STR_LEN(EDGES_MAX_LEN), FROM_KEYD},
	/* join relay: only linkd carries a joiner in, only keyd answers */
	{MSG_JOIN_IN, "JOIN_IN", 4 + STR_LEN(0),
	    4 + STR_LEN(MSG_JOIN_BODY_MAX), FROM_LINKD},
	{MSG_JOIN_OUT, "JOIN_OUT", 4 + 1 + STR_LEN(0),
	    4 + 1 + STR_LEN(MSG_JOIN_BODY_MAX), FROM_KEYD},
	/* linkd <-> routed */
	{MSG_PEER_STATE, "PEER_STATE", ID + 2 + 4 + 4, ID + 2 + 4 + 4,
	    FROM_LINKD},
	{MSG_FIB_BEGIN, "FIB_BEGIN", 4, 4, FROM_ROUTED},
	{MSG_FIB_ENTRY, "FIB_ENTRY", 4 + PREFIX_WIRE_LEN + ID + ID + 4,
	    4 + PREFIX_WIRE_LEN + ID + ID + 4, FROM_ROUTED},
	{MSG_FIB_COMMIT, "FIB_COMMIT", 8, 8, FROM_ROUTED},
	/* tund <-> routed */
	{MSG_TUN_STATE, "TUN_STATE", STR_LEN(1) + 4 + 1, STR_LEN(15) + 4 + 1,
	    FROM_TUND},
	{MSG_ROUTE_BEGIN, "ROUTE_BEGIN", 4, 4, FROM_ROUTED},
	{MSG_ROUTE_ENTRY, "ROUTE_ENTRY", 4 + PREFIX_WIRE_LEN,
	    4 + PREFIX_WIRE_LEN, FROM_ROUTED},
	{MSG_ROUTE_COMMIT, "ROUTE_COMMIT", 8, 8, FROM_ROUTED},
};

static const char *const daemon_names[D_COUNT] = {
	[D_NONE] = "none",
	[D_TUND] = "tund",
	[D_LINKD] = "linkd",
	[D_KEYD] = "keyd",
	[D_ROUTED] = "routed",
	[D_CTL] = "ctl",
};

const char *
daemon_name(enum daemon d)
{
	if ((unsigned)d >= D_COUNT)
		return "unknown";
	return daemon_names[d];
}

const struct msg_spec *
msg_spec(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(msg_table) / sizeof(msg_table[0]); i++)
		if (msg_table[i].type == type)
			return &msg_table[i];
	return NULL;
}

const char *
msg_name(uint16_t type)
{
	const struct msg_spec *s = msg_spec(type);

	return s ? s->name : "unknown";
}

int
msg_check(uint16_t type, size_t len, enum daemon from, const char **why)
{
	const struct msg_spec *s = msg_spec(type);
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (s == NULL) {
		*why = "unknown message type";
		return -1;
	}
	if ((unsigned)from >= D_COUNT || (s->senders & D_BIT(from)) == 0) {
		*why = "sender may not send this type";
		return -1;
	}
	if (len < s->min_len) {
		*why = "payload too short";
		return -1;
	}
	if (len > s->max_len || len > MSG_MAX_LEN) {
		*why = "payload too long";
		return -1;
	}
	*why = NULL;
	return 0;
}

/*
 * The version written is always MSG_VERSION (h->version is ignored):
 * this build speaks one version, and a caller that forgot to set the
 * field must not produce headers its peer refuses.
 */
void
msg_hdr_encode(uint8_t out[MSG_HDR_LEN], const struct msg_hdr *h)
{
	out[0] = MSG_VERSION;
	out[1] = 0;
	out[2] = h->type >> 8;
	out[3] = h->type & 0xff;
	be32_put(out + 4, h->length);
	be32_put(out + 8, h->obj);
	be32_put(out + 12, h->req);
}

int
msg_hdr_decode(struct msg_hdr *h, const uint8_t *p, size_t avail)
{
	memset(h, 0, sizeof(*h));
	if (avail < MSG_HDR_LEN)
		return -1;
	if (p[0] != MSG_VERSION || p[1] != 0)
		return -1;
	h->version = p[0];
	h->type = (uint16_t)(p[2] << 8 | p[3]);
	h->length = be32_get(p + 4);
	h->obj = be32_get(p + 8);
	h->req = be32_get(p + 12);
	if (h->length > MSG_MAX_LEN || h->length != avail - MSG_HDR_LEN)
		return -1;
	return 0;
}

/* Prefixes */

void
msg_prefix_encode(struct buf_w *w, const struct prefix *p)
{
	static const uint8_t zero[12];

	if ((p->family == 4 && p->len > 32) ||
	    (p->family == 6 && p->len > 128) ||
	    (p->family != 4 && p->family != 6)) {
		w->err = 1;
		return;
	}
	bw_u8(w, p->family);
	bw_u8(w, p->len);
	/* One encoding per prefix: an IPv4 address's unused bytes are 0. */
	if (p->family == 4) {
		bw_bytes(w, p->addr, 4);
		bw_bytes(w, zero, sizeof(zero));
	} else
		bw_bytes(w, p->addr, 16);
}

void
msg_prefix_decode(struct buf_r *r, struct prefix *p)
{
	static const uint8_t zero[12];

	memset(p, 0, sizeof(*p));
	p->family = br_u8(r);
	p->len = br_u8(r);
	br_bytes(r, p->addr, sizeof(p->addr));
	if (r->err)
		return;
	if ((p->family == 4 && p->len <= 32 &&
	    memcmp(p->addr + 4, zero, sizeof(zero)) == 0) ||
	    (p->family == 6 && p->len <= 128))
		return;
	r->err = 1;
	memset(p, 0, sizeof(*p));
}

/* Strings: u16 length + bytes, checked against the field's size. */
static void
put_str(struct buf_w *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap) {
		w->err = 1;
		return;
	}
	bw_blob16(w, s, n);
}

/* Finish a decode: on failure leave no half-filled struct behind. */
static int
finish(struct buf_r *r, void *m, size_t size)
{
	if (br_done(r) == 0)
		return 0;
	memset(m, 0, size);
	return -1;
}

/*
 * Fixed-layout payloads: one table of fields per message drives both its
 * encoder and its decoder, so the two cannot disagree. An integer is as
 * wide as its struct member (big-endian on the wire), a byte array as
 * long, a prefix as msg_prefix_encode writes it.
 */
enum field_kind { F_UINT, F_BYTES, F_PREFIX };

struct field {
	enum field_kind kind;
	size_t off;
	size_t size;
};

#define FIELD(kind, T, member)                                             \
	{ kind, offsetof(struct msg_##T, member),                          \
	    sizeof(((struct msg_##T *)0)->member) }
#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static void
fields_put(struct buf_w *w, const struct field *f, size_t n, const void *m)
{
	const uint8_t *p;
	size_t i;

	for (i = 0; i < n; i++) {
		p = (const uint8_t *)m + f[i].off;
		if (f[i].kind == F_PREFIX)
			msg_prefix_encode(w, (const struct prefix *)p);
		else if (f[i].kind == F_BYTES)
			bw_bytes(w, p, f[i].size);
		else if (f[i].size == 1)
			bw_u8(w, *p);
		else if (f[i].size == 2)
			bw_u16(w, *(const uint16_t *)p);
		else
			bw_u32(w, *(const uint32_t *)p);
	}
}

static int
fields_get(const struct field *f, size_t n, void *m, size_t size,
    const uint8_t *in, size_t len)
{
	struct buf_r r;
	uint8_t *p;
	size_t i;

	br_init(&r, in, len);
	for (i = 0; i < n; i++) {
		p = (uint8_t *)m + f[i].off;
		if (f[i].kind == F_PREFIX)
			msg_prefix_decode(&r, (struct prefix *)p);
		else if (f[i].kind == F_BYTES)
			br_bytes(&r, p, f[i].size);
		else if (f[i].size == 1)
			*p = br_u8(&r);
		else if (f[i].size == 2)
			*(uint16_t *)p = br_u16(&r);
		else
			*(uint32_t *)p = br_u32(&r);
	}
	return finish(&r, m, size);
}

/* msg_T_encode and msg_T_decode (msg.h) from T_fields. */
#define FIXED_CODEC(T)                                                     \
void                                                                       \
msg_##T##_encode(struct buf_w *w, const struct msg_##T *m)                 \
{                                                                          \
	fields_put(w, T##_fields, NFIELDS(T##_fields), m);                 \
}                                                                          \
                                                                           \
int                                                                        \
msg_##T##_decode(struct msg_##T *m, const uint8_t *p, size_t n)            \
{                                                                          \
	return fields_get(T##_fields, NFIELDS(T##_fields), m, sizeof(*m),  \
	    p, n);                                                         \
}

/* MSG_SELF */

void
msg_self_encode(struct buf_w *w, const struct msg_self *m)
{
	if (!name_valid(m->name)) {
		w->err = 1;
		return;
	}
	bw_bytes(w, m->id, sizeof(m->id));
	bw_bytes(w, m->dh_pub, sizeof(m->dh_pub));
	bw_bytes(w, m->netid, sizeof(m->netid));
	put_str(w, m->name, sizeof(m->name));
}

int
msg_self_decode(struct msg_self *m, const uint8_t *p, size_t n)
{
	struct buf_r r;

	memset(m, 0, sizeof(*m));
	br_init(&r, p, n);
	br_bytes(&r, m->id, sizeof(m->id));
	br_bytes(&r, m->dh_pub, sizeof(m->dh_pub));
	br_bytes(&r, m->netid, sizeof(m->netid));
	br_str(&r, m->name, sizeof(m->name));
	if (!r.err && !name_valid(m->name))
		r.err = 1;
	return finish(&r, m, sizeof(*m));
}

/* MSG_RECORD: u8 flags (0) | u16 len | text (no NUL) */

void
msg_record_encode(struct buf_w *w, const struct msg_record *m)
{
	if (m->flags != 0 || m->len == 0 || m->len > RECORD_MAX_LEN ||
	    memchr(m->text, '\0', m->len) != NULL) {
		w->err = 1;
		return;
	}
	bw_u8(w, m->flags);
	bw_blob16(w, m->text, m->len);
}

int
msg_record_decode(struct msg_record *m, const uint8_t *p, size_t n)
{
	struct buf_r r;

	m->flags = 0;
	m->len = 0;
	m->text[0] = '\0';
	br_init(&r, p, n);
	m->flags = br_u8(&r);
	br_str(&r, m->text, sizeof(m->text));
	m->len = (uint16_t)strlen(m->text);
	if (!r.err && (m->flags != 0 || m->len == 0))
		r.err = 1;
	if (br_done(&r) == 0)
		return 0;
	/* The text buffer is 8 KiB: clear only what matters. */
	m->flags = 0;
	m->len = 0;
	m->text[0] = '\0';
	return -1;
}

/* MSG_RECORD_DEL */

static const struct field member_fields[] = {
	FIELD(F_BYTES, member, id),
};
FIXED_CODEC(member)

/* MSG_SYNC_DONE */

static const struct field sync_done_fields[] = {
	FIELD(F_UINT, sync_done, count),
};
FIXED_CODEC(sync_done)

/* MSG_DH_REQ */

static const struct field dh_req_fields[] = {
	FIELD(F_BYTES, dh_req, pub),
};
FIXED_CODEC(dh_req)

/* MSG_DH_RESP */

static const struct field dh_resp_fields[] = {
	FIELD(F_UINT, dh_resp, status),
	FIELD(F_BYTES, dh_resp, shared),
};
FIXED_CODEC(dh_resp)


/* MSG_PEER_STATE */

static const struct field peer_state_fields[] = {
	FIELD(F_BYTES, peer_state, id),
	FIELD(F_UINT, peer_state, links_up),
	FIELD(F_UINT, peer_state, rtt_us),
	FIELD(F_UINT, peer_state, rate_kbps),
};
FIXED_CODEC(peer_state)

/* MSG_FIB_BEGIN, MSG_ROUTE_BEGIN */

static const struct field fib_begin_fields[] = {
	FIELD(F_UINT, fib_begin, generation),
};
FIXED_CODEC(fib_begin)

/* MSG_FIB_ENTRY */

static const struct field fib_entry_fields[] = {
	FIELD(F_UINT, fib_entry, generation),
	FIELD(F_PREFIX, fib_entry, dst),
	FIELD(F_BYTES, fib_entry, dest),
	FIELD(F_BYTES, fib_entry, next_hop),
	FIELD(F_UINT, fib_entry, cost),
};
FIXED_CODEC(fib_entry)

/* MSG_FIB_COMMIT, MSG_ROUTE_COMMIT */

static const struct field fib_commit_fields[] = {
	FIELD(F_UINT, fib_commit, generation),
	FIELD(F_UINT, fib_commit, count),
};
FIXED_CODEC(fib_commit)

/* MSG_TUN_STATE: str ifname (1..15) | u32 mtu | u8 up (0/1) */

void
msg_tun_state_encode(struct buf_w *w, const struct msg_tun_state *m)
{
	if (m->ifname[0] == '\0' || m->up > 1) {
		w->err = 1;
		return;
	}
	put_str(w, m->ifname, sizeof(m->ifname));
	bw_u32(w, m->mtu);
	bw_u8(w, m->up);
}

int
msg_tun_state_decode(struct msg_tun_state *m, const uint8_t *p, size_t n)
{
	struct buf_r r;

	br_init(&r, p, n);
	br_str(&r, m->ifname, sizeof(m->ifname));
	m->mtu = br_u32(&r);
	m->up = br_u8(&r);
	if (!r.err && (m->ifname[0] == '\0' || m->up > 1))
		r.err = 1;
	return finish(&r, m, sizeof(*m));
}

/* MSG_ROUTE_ENTRY */

static const struct field route_entry_fields[] = {
	FIELD(F_UINT, route_entry, generation),
	FIELD(F_PREFIX, route_entry, dst),
};
FIXED_CODEC(route_entry)

/* MSG_GOSSIP_IN: id(32) | u16 len (1..GOSSIP_MAX_PAYLOAD) | payload */

void
msg_gossip_in_encode(struct buf_w *w, const struct msg_gossip_in *m)
{
	if (m->len == 0 || m->len > GOSSIP_MAX_PAYLOAD) {
		w->err = 1;
		return;
	}
	bw_bytes(w, m->id, sizeof(m->id));
	bw_blob16(w, m->data, m->len);
}

/* A gossip payload: 1..GOSSIP_MAX_PAYLOAD bytes. The 60 KiB buffer is
 * not cleared on failure, only the length, so a refused message costs
 * no memset of it. */
static void
get_gossip(struct buf_r *r, uint16_t *len, uint8_t *data)
{
	const uint8_t *d;
	size_t n;

	*len = 0;
	d = br_blob16(r, &n);
	if (d == NULL || n == 0 || n > GOSSIP_MAX_PAYLOAD) {
		r->err = 1;
		return;
	}
	memcpy(data, d, n);
	*len = (uint16_t)n;
}

int
msg_gossip_in_decode(struct msg_gossip_in *m, const uint8_t *p, size_t n)
{
	struct buf_r r;

	br_init(&r, p, n);
	br_bytes(&r, m->id, sizeof(m->id));
	get_gossip(&r, &m->len, m->data);
	if (br_done(&r) == 0)
		return 0;
	memset(m->id, 0, sizeof(m->id));
	m->len = 0;
	return -1;
}

/* MSG_GOSSIP_OUT: u8 mode (1..3) | id(32) | u16 len | payload */

void
msg_gossip_out_encode(struct buf_w *w, const struct msg_gossip_out *m)
{
	if (m->mode < GOSSIP_TO_PEER || m->mode > GOSSIP_TO_ALL ||
	    m->len == 0 || m->len > GOSSIP_MAX_PAYLOAD) {
		w->err = 1;
		return;
	}
	bw_u8(w, m->mode);
	bw_bytes(w, m->id, sizeof(m->id));
	bw_blob16(w, m->data, m->len);
}

int
msg_gossip_out_decode(struct msg_gossip_out *m, const uint8_t *p, size_t n)
{
	struct buf_r r;

	br_init(&r, p, n);
	m->mode = br_u8(&r);
	br_bytes(&r, m->id, sizeof(m->id));
	get_gossip(&r, &m->len, m->data);
	if (!r.err && (m->mode < GOSSIP_TO_PEER || m->mode > GOSSIP_TO_ALL))
		r.err = 1;
	if (br_done(&r) == 0)
		return 0;
	m->mode = 0;
	memset(m->id, 0, sizeof(m->id));
	m->len = 0;
	return -1;
}

/* MSG_EDGES_LOCAL: u16 count (0..EDGES_MAX_PEERS) |
 * (id(32) | u32 rtt_us | u32 rate_kbps)... */

void
msg_edges_local_encode(struct buf_w *w, const struct msg_edges_local *m)
{
	uint16_t i;

	if (m->count > EDGES_MAX_PEERS) {
		w->err = 1;
		return;
	}
	bw_u16(w, m->count);
	for (i = 0; i < m->count; i++) {
		bw_bytes(w, m->peers[i].id, sizeof(m->peers[i].id));
		bw_u32(w, m->peers[i].rtt_us);
		bw_u32(w, m->peers[i].rate_kbps);
	}
}

int
msg_edges_local_decode(struct msg_edges_local *m, const uint8_t *p,
    size_t n)
{
	struct buf_r r;
	uint16_t i;

	br_init(&r, p, n);
	m->count = br_u16(&r);
	if (m->count > EDGES_MAX_PEERS)
		r.err = 1;
	for (i = 0; !r.err && i < m->count; i++) {
		br_bytes(&r, m->peers[i].id, sizeof(m->peers[i].id));
		m->peers[i].rtt_us = br_u32(&r);
		m->peers[i].rate_kbps = br_u32(&r);
	}
	if (br_done(&r) == 0)
		return 0;
	m->count = 0;
	return -1;
}

/* MSG_EDGES: u16 len (1..EDGES_MAX_LEN) | text (no NUL) */

void
msg_edges_encode(struct buf_w *w, const struct msg_edges *m)
{
	if (m->len == 0 || m->len > EDGES_MAX_LEN ||
	    memchr(m->text, '\0', m->len) != NULL) {
		w->err = 1;
		return;
	}
	bw_blob16(w, m->text, m->len);
}

int
msg_edges_decode(struct msg_edges *m, const uint8_t *p, size_t n)
{
	struct buf_r r;

	m->len = 0;
	m->text[0] = '\0';
	br_init(&r, p, n);
	br_str(&r, m->text, sizeof(m->text));
	m->len = (uint16_t)strlen(m->text);
	if (!r.err && m->len == 0)
		r.err = 1;
	if (br_done(&r) == 0)
		return 0;
	m->len = 0;
	m->text[0] = '\0';
	return -1;
}

/* MSG_JOIN_IN: u32 conn | u16 len (0..MSG_JOIN_BODY_MAX) | body */

void
msg_join_in_encode(struct buf_w *w, const struct msg_join_in *m)
{
	if (m->len > MSG_JOIN_BODY_MAX || (m->len > 0 && m->data == NULL)) {
		w->err = 1;
		return;
	}
	bw_u32(w, m->conn);
	bw_blob16(w, m->data, m->len);
}

int
msg_join_in_decode(struct msg_join_in *m, const uint8_t *p, size_t n)
{
	struct buf_r r;
	size_t len = 0;

	br_init(&r, p, n);
	m->conn = br_u32(&r);
	m->data = br_blob16(&r, &len);
	if (!r.err && len > MSG_JOIN_BODY_MAX)
		r.err = 1;
	if (br_done(&r) == 0) {
		m->len = (uint16_t)len;
		return 0;
	}
	memset(m, 0, sizeof(*m));
	return -1;
}

/* MSG_JOIN_OUT: u32 conn | u8 flags (JOIN_OUT_CLOSE or 0) | u16 len
 * (0..MSG_JOIN_BODY_MAX; 0 only with JOIN_OUT_CLOSE) | body */

void
msg_join_out_encode(struct buf_w *w, const struct msg_join_out *m)
{
	if ((m->len == 0 && m->flags != JOIN_OUT_CLOSE) ||
	    m->len > MSG_JOIN_BODY_MAX || (m->len > 0 && m->data == NULL) ||
	    (m->flags & ~JOIN_OUT_CLOSE) != 0) {
		w->err = 1;
		return;
	}
	bw_u32(w, m->conn);
	bw_u8(w, m->flags);
	bw_blob16(w, m->data, m->len);
}

int
msg_join_out_decode(struct msg_join_out *m, const uint8_t *p, size_t n)
{
	struct buf_r r;
	size_t len = 0;

	br_init(&r, p, n);
	m->conn = br_u32(&r);
	m->flags = br_u8(&r);
	m->data = br_blob16(&r, &len);
	if (!r.err && ((len == 0 && m->flags != JOIN_OUT_CLOSE) ||
	    len > MSG_JOIN_BODY_MAX || (m->flags & ~JOIN_OUT_CLOSE) != 0))
		r.err = 1;
	if (br_done(&r) == 0) {
		m->len = (uint16_t)len;
		return 0;
	}
	memset(m, 0, sizeof(*m));
	return -1;
}
