/*
 * The IPC message catalogue: every message one onionmesh daemon sends
 * another. Numbers are explicit, grouped by channel, and never reused
 * (retire a number by leaving a comment). Each message has an explicit
 * encode and decode — never a memcpy of a struct — because the daemons
 * are built and restarted separately.
 *
 * A message on the wire: a fixed 16-byte header, then `length` bytes of
 * payload:
 *
 *   u8 version (MSG_VERSION) | u8 reserved (0) | u16 type |
 *   u32 length | u32 object id | u32 request id
 *
 * msg_table (msg.c) names, for each type, its payload length bounds and
 * which daemons may send it; msg_check() applies it, and the common
 * dispatcher (ipc.c) drops anything it refuses before a handler runs.
 */
#ifndef OM_MSG_H
#define OM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/buf.h"

#define MSG_VERSION  1
#define MSG_HDR_LEN  16
#define MSG_MAX_LEN  (64 * 1024) /* payload bound for every message */
#define MEMBER_ID_BYTES 32       /* Ed25519 public key */
#define NETID_BYTES  32
#define NAME_MAX_LEN 32          /* member and network names */
#define RECORD_MAX_LEN 8192      /* a host record's text */
#define EDGES_MAX_PEERS 512      /* links in one edge announcement */
#define EDGES_MAX_LEN  (48 * 1024) /* an edge announcement's text */
#define GOSSIP_MAX_PAYLOAD (60 * 1024) /* one INNER_GOSSIP payload */

enum daemon {
	D_NONE = 0,
	D_TUND = 1,
	D_LINKD = 2,
	D_KEYD = 3,
	D_ROUTED = 4,
	D_CTL = 5,
	D_COUNT
};
#define D_BIT(d) (1u << (d))
const char *daemon_name(enum daemon d);

enum msg_type {
	/* keyd -> linkd, routed (pair1 channels keyd.linkd, keyd.routed) */
	MSG_SELF = 0x0101,        /* this member's identity */
	MSG_RECORD = 0x0102,      /* a verified host record */
	MSG_RECORD_DEL = 0x0103,  /* a member is gone (removed/revoked) */
	MSG_SYNC_DONE = 0x0104,   /* end of a full resend of records */
	/* linkd -> keyd (rpc channel keyd.crypto, req/rep) */
	MSG_DH_REQ = 0x0110,
	MSG_DH_RESP = 0x0111,
	/* 0x0112, 0x0113: SIGN_REQ/RESP, retired (keyd signs nothing
	 * for linkd) */
	/* gossip (keyd.linkd, keyd.routed): keyd owns the objects, linkd
	 * only carries them between members, routed builds our edges */
	MSG_GOSSIP_IN = 0x0120,   /* linkd -> keyd: from a member */
	MSG_GOSSIP_OUT = 0x0121,  /* keyd -> linkd: to members */
	MSG_EDGES_LOCAL = 0x0122, /* routed -> keyd: our live links */
	MSG_EDGES = 0x0123,       /* keyd -> routed: a verified announcement */
	/* join relay (keyd.linkd): linkd carries a joiner's WIRE_JOIN
	 * frames to keyd and keyd's answers back (keyd/join.h) */
	MSG_JOIN_IN = 0x0130,     /* linkd -> keyd: a frame, or the end */
	MSG_JOIN_OUT = 0x0131,    /* keyd -> linkd: a frame to send */

	/* linkd <-> routed (pair1 channel routed.linkd) */
	MSG_PEER_STATE = 0x0201,  /* linkd: links up to a member, rtt, rate */
	MSG_FIB_BEGIN = 0x0210,   /* routed: a new forwarding table */
	MSG_FIB_ENTRY = 0x0211,
	MSG_FIB_COMMIT = 0x0212,

	/* tund <-> routed (pair1 channel routed.tund) */
	MSG_TUN_STATE = 0x0301,   /* tund: device name, mtu, up */
	MSG_ROUTE_BEGIN = 0x0310, /* routed: prefixes to route to the tun */
	MSG_ROUTE_ENTRY = 0x0311,
	MSG_ROUTE_COMMIT = 0x0312,
};

struct msg_hdr {
	uint8_t version;
	uint16_t type;
	uint32_t length;
	uint32_t obj;
	uint32_t req;
};

struct msg_spec {
	uint16_t type;
	const char *name;
	uint32_t min_len;
	uint32_t max_len;
	uint32_t senders; /* D_BIT() mask */
};

/* Header. msg_hdr_decode checks version and that length equals avail. */
void msg_hdr_encode(uint8_t out[MSG_HDR_LEN], const struct msg_hdr *h);
int msg_hdr_decode(struct msg_hdr *h, const uint8_t *p, size_t avail)
    __attribute__((warn_unused_result));
const struct msg_spec *msg_spec(uint16_t type);
const char *msg_name(uint16_t type);
/* 0 if a message of this type and payload length may come from `from`;
 * otherwise -1 and a short reason in *why (static string). */
int msg_check(uint16_t type, size_t len, enum daemon from, const char **why)
    __attribute__((warn_unused_result));

/*
 * Payloads. Each has _encode(struct buf_w *, const T *) (check w->err)
 * and _decode(T *, const uint8_t *, size_t) returning 0 or -1 (any
 * trailing byte, short field or out-of-range value is -1).
 */
struct msg_self {
	uint8_t id[MEMBER_ID_BYTES];   /* Ed25519 identity public key */
	uint8_t dh_pub[32];            /* X25519 derived from it */
	uint8_t netid[NETID_BYTES];    /* binds handshakes to the network */
	char name[NAME_MAX_LEN + 1];
};

struct msg_record {
	uint8_t flags;                 /* reserved, 0 */
	uint16_t len;
	char text[RECORD_MAX_LEN + 1]; /* canonical signed record */
};

struct msg_member {                    /* MSG_RECORD_DEL */
	uint8_t id[MEMBER_ID_BYTES];
};

struct msg_sync_done {
	uint32_t count;
};

struct msg_dh_req {
	uint8_t pub[32];
};

struct msg_dh_resp {
	uint8_t status;                /* 0 ok; else refused */
	uint8_t shared[32];
};

struct msg_peer_state {                /* id(32) | u16 | u32 | u32 */
	uint8_t id[MEMBER_ID_BYTES];
	uint16_t links_up;
	uint32_t rtt_us;               /* 0 unknown */
	uint32_t rate_kbps;            /* peak of the last minute, rounded
	                                * down to a power of two; 0 unknown */
};

/*
 * INNER_GOSSIP payloads (between keyds, carried by linkd): u8 type |
 * body. RECORD and EDGES carry the canonical text; DIGEST is u16 count,
 * then per object u8 kind (GOSSIP_RECORD or GOSSIP_EDGES) | id(32) |
 * u64 serial; WANT is u16 count, then u8 kind | id(32) each.
 */
enum gossip_type {
	GOSSIP_RECORD = 1,
	GOSSIP_EDGES = 2,
	GOSSIP_DIGEST = 3,
	GOSSIP_WANT = 4,
};

enum gossip_mode {                     /* MSG_GOSSIP_OUT */
	GOSSIP_TO_PEER = 1,            /* that member only */
	GOSSIP_TO_OTHERS = 2,          /* every direct peer but that one */
	GOSSIP_TO_ALL = 3,             /* every direct peer */
};

struct msg_gossip_in {                 /* id(32) | u16 len | payload */
	uint8_t id[MEMBER_ID_BYTES];   /* the member the link belongs to */
	uint16_t len;                  /* 1..GOSSIP_MAX_PAYLOAD */
	uint8_t data[GOSSIP_MAX_PAYLOAD];
};

struct msg_gossip_out {                /* u8 mode | id(32) | u16 len | .. */
	uint8_t mode;                  /* enum gossip_mode */
	uint8_t id[MEMBER_ID_BYTES];   /* ignored (zero) for TO_ALL */
	uint16_t len;
	uint8_t data[GOSSIP_MAX_PAYLOAD];
};

/* u16 count | (id(32) | u32 rtt_us | u32 rate_kbps)... */
#define MSG_EDGES_LOCAL_ENTRY (MEMBER_ID_BYTES + 4 + 4)
#define MSG_EDGES_LOCAL_MAX   (2 + EDGES_MAX_PEERS * MSG_EDGES_LOCAL_ENTRY)
struct msg_edges_local {
	uint16_t count;                /* 0..EDGES_MAX_PEERS */
	struct {
		uint8_t id[MEMBER_ID_BYTES];
		uint32_t rtt_us;
		uint32_t rate_kbps;
	} peers[EDGES_MAX_PEERS];
};

struct msg_edges {                     /* u16 len | text (no NUL) */
	uint16_t len;
	char text[EDGES_MAX_LEN + 1];
};

struct msg_fib_begin {
	uint32_t generation;
};

struct msg_fib_entry {
	uint32_t generation;
	struct prefix dst;             /* destination prefix */
	uint8_t dest[MEMBER_ID_BYTES]; /* member that owns dst */
	uint8_t next_hop[MEMBER_ID_BYTES]; /* direct peer to send to */
	uint32_t cost;
};

struct msg_fib_commit {
	uint32_t generation;
	uint32_t count;
};

struct msg_tun_state {
	char ifname[16];
	uint32_t mtu;
	uint8_t up;
};

struct msg_route_entry {               /* also BEGIN/COMMIT use generation */
	uint32_t generation;
	struct prefix dst;
};

/*
 * Join relay. MSG_JOIN_IN: u32 conn | u16 len | body; len 0 says the
 * connection ended (closed, timed out, refused), so keyd drops its
 * state. MSG_JOIN_OUT: u32 conn | u8 flags | u16 len | body;
 * JOIN_OUT_CLOSE: linkd closes the connection once the frame is sent
 * (len 0 only with it: close without sending anything).
 * The body is not copied: data points into the decoded payload.
 */
#define MSG_JOIN_BODY_MAX (63 * 1024) /* == WIRE_JOIN_MAX_BODY */
#define JOIN_OUT_CLOSE 0x01

struct msg_join_in {
	uint32_t conn;                 /* linkd's id of the connection */
	uint16_t len;                  /* 0: the connection ended */
	const uint8_t *data;
};

struct msg_join_out {
	uint32_t conn;
	uint8_t flags;                 /* JOIN_OUT_CLOSE */
	uint16_t len;                  /* 0 (with CLOSE)..BODY_MAX */
	const uint8_t *data;
};

#define MSG_CODEC(T)                                                       \
	void msg_##T##_encode(struct buf_w *w, const struct msg_##T *m);   \
	int msg_##T##_decode(struct msg_##T *m, const uint8_t *p, size_t n) \
	    __attribute__((warn_unused_result));
MSG_CODEC(self)
MSG_CODEC(record)
MSG_CODEC(member)
MSG_CODEC(sync_done)
MSG_CODEC(dh_req)
MSG_CODEC(dh_resp)
MSG_CODEC(peer_state)
MSG_CODEC(fib_begin)
MSG_CODEC(fib_entry)
MSG_CODEC(fib_commit)
MSG_CODEC(tun_state)
MSG_CODEC(route_entry)
MSG_CODEC(gossip_in)
MSG_CODEC(gossip_out)
MSG_CODEC(edges_local)
MSG_CODEC(edges)
MSG_CODEC(join_in)
MSG_CODEC(join_out)
#undef MSG_CODEC

/* Prefix on the wire: u8 family (4/6), u8 len, 16 bytes address. */
void msg_prefix_encode(struct buf_w *w, const struct prefix *p);
void msg_prefix_decode(struct buf_r *r, struct prefix *p);

#endif
