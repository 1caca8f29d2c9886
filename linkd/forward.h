/*
 * Forwarding through members: how a packet reaches a member we have no
 * direct link to, and what a member in the middle does with it.
 *
 * An INNER_FORWARD payload (proto/wire.h) is
 *
 *   dest member id (32) | u8 hop limit | u32 conn id | e2e frame
 *
 * where the e2e frame is one whole wire frame (HS_INIT, HS_RESP or
 * DATA) of the end-to-end session between the two ends (e2e.h). A
 * relay reads only the first 37 bytes: it lowers the hop limit, drops
 * the frame when it reaches 0, and otherwise seals it again on a link
 * to the next hop for dest. It never holds a key of the end-to-end
 * session, so it learns the destination, the hop limit and an opaque
 * connection number, nothing else.
 *
 * Next hop for a member, in order: a debug override (test hook, below),
 * a direct link that is up, the forwarding table's next hop for that
 * member (fib_lookup_member). The link to it is chosen by the member's
 * multipath scheduler with the conn id as the flow, so every frame of
 * one end-to-end session takes the same circuit and arrives in order
 * (the session refuses a counter that goes back).
 *
 * Congestion: a relay drops a frame when the next link has more than
 * LINK_OBUF_HIGH bytes queued, like a router's tail drop; the inner TCP
 * backs off. Pausing the incoming link instead could deadlock two
 * relays forwarding to each other.
 *
 * Test hook (debug_route): linkd's ctl request
 *   {"cmd":"debug_route","dest":ID|NAME,"via":ID|NAME}
 * makes every frame for dest, ours and relayed, go to via until
 * {"cmd":"debug_route","dest":ID|NAME} (no via) or
 * {"cmd":"debug_route","clear":true}. It exists so a test can build a
 * forwarding loop and watch the hop limit end it; only root (or
 * linkd's own user) may send it, and setting one is logged as a
 * warning. It is not part of any configuration and dies with linkd.
 */
#ifndef OM_LINKD_FORWARD_H
#define OM_LINKD_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "linkd/ratelimit.h"
#include "proto/msg.h"
#include "proto/wire.h"

#define FWD_HOP_LIMIT   16
#define FWD_HDR         (MEMBER_ID_BYTES + 1 + 4)
/* The largest e2e frame an INNER_FORWARD can carry. */
#define FWD_MAX_FRAME   (WIRE_MAX_INNER - 1 - FWD_HDR)
#define FWD_DEBUG_MAX   16

struct linkd;
struct link;
struct peer;
struct e2e;

TAILQ_HEAD(e2e_list, e2e);

/* A parsed INNER_FORWARD payload (pointers into it). */
struct fwd_hdr {
	const uint8_t *dest;          /* MEMBER_ID_BYTES */
	uint8_t hops;
	uint32_t conn;
	const uint8_t *frame;         /* one whole wire frame */
	size_t frame_len;
	uint8_t frame_type;
};

enum fwd_action {
	FWD_DELIVER = 0,  /* dest is us: the e2e layer takes the frame */
	FWD_RELAY,        /* send on with *hops_out */
	FWD_HOPS_GONE,    /* hop limit used up: drop */
};

struct fwd_debug_route {
	uint8_t dest[MEMBER_ID_BYTES];
	uint8_t via[MEMBER_ID_BYTES];
};

struct fwd_counters {
	uint64_t forwarded;           /* frames relayed for others */
	uint64_t forwarded_bytes;     /* their INNER_FORWARD payload bytes */
	uint64_t hop_limit;           /* dropped: hop limit reached 0 */
	uint64_t no_route;            /* no next hop for the member */
	uint64_t no_link;             /* next hop known, its link not up */
	uint64_t congested;           /* next link's queue over its mark */
	uint64_t bad;                 /* INNER_FORWARD that did not parse */
	uint64_t for_us;              /* e2e frames addressed to us */
	uint64_t sent;                /* e2e frames we originated */
	uint64_t sent_bytes;          /* their INNER_FORWARD payload bytes */
	uint64_t unknown_conn;        /* for us, no session with that id */
	uint64_t hs_dropped;          /* handshake frames that failed */
	uint64_t too_big;             /* packet too large to forward */
	uint64_t queue_drops;         /* waiting for a handshake: full */
	uint64_t e2e_up;              /* sessions established */
	uint64_t e2e_failed;          /* sessions that ended in error */
	uint64_t hs_ratelimited;      /* HS_INITs over the limit: no DH */
};

struct forward {
	struct e2e_list sessions;
	int ready;                    /* sessions initialised */
	size_t nsessions;
	size_t npending;              /* responders mid-handshake */
	size_t queued_bytes;          /* packets waiting for handshakes */
	struct fwd_debug_route dbg[FWD_DEBUG_MAX];
	int ndbg;
	struct fwd_counters c;
	struct ratelimit hs_rl;       /* e2e.c: HS_INITs that cost a DH */
};

/* ---- pure ---- */

/* Parse an INNER_FORWARD payload: header and exactly one whole wire
 * frame after it. 0, or -1 (short, bad frame, trailing bytes). */
int fwd_parse(struct fwd_hdr *h, const uint8_t *p, size_t len)
    __attribute__((warn_unused_result));
/* Write the 37-byte header into out. */
void fwd_put_hdr(uint8_t out[FWD_HDR], const uint8_t dest[MEMBER_ID_BYTES],
    uint8_t hops, uint32_t conn);
/* What to do with a parsed frame that arrived at self. */
enum fwd_action fwd_decide(const uint8_t self[MEMBER_ID_BYTES],
    const struct fwd_hdr *h, uint8_t *hops_out);

/* ---- linkd ---- */

void forward_init(struct linkd *ld);
/* Close every e2e session (linkd stopping). */
void forward_close(struct linkd *ld);
/* The 1 s timer: e2e sessions' timers. */
void forward_tick(struct linkd *ld, double now);
/* An INNER_FORWARD payload from link l's session. p points into the
 * session layer's buffer: copied before anything else is sealed. */
void forward_input(struct linkd *ld, struct link *l, const uint8_t *p,
    size_t len);
/* Wrap an e2e frame for dest and send it toward the next hop. 0 sent,
 * -1 dropped (counted). frame may be the session layer's buffer. */
int forward_emit(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    uint32_t conn, const uint8_t *frame, size_t len, double now);
/* Which member is the next hop for dest (see above); 0 with *via set,
 * -1 none. */
int forward_next_hop(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    const uint8_t **via);
/* A debug override for dest, or NULL. */
const struct fwd_debug_route *forward_debug_route(const struct linkd *ld,
    const uint8_t dest[MEMBER_ID_BYTES]);
/* The member a debug override sends this address to (its record owns
 * the address), or NULL: a test's packet for a member the fib does not
 * know yet. */
struct peer *forward_debug_dest(struct linkd *ld, int family,
    const uint8_t *addr);
/* The datapath has a packet for member p and no direct link to use. */
void forward_send_packet(struct linkd *ld, struct peer *p,
    const uint8_t *pkt, size_t len, double now);

/* ctl */
json_t *forward_status_json(const struct linkd *ld);
json_t *forward_ctl_debug_route(struct linkd *ld, json_t *req,
    int may_change);

#endif
