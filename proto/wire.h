/*
 * Peer frames: what two linkds write to one link (a TCP connection or a
 * Tor stream). A link is a byte stream, so every frame starts with its
 * length:
 *
 *   u32 len (bytes after this field; 1..WIRE_MAX_BODY) | u8 type | body
 *
 *   WIRE_HS_INIT  Noise msg1 || mac1(16)
 *   WIRE_HS_RESP  Noise msg2 || mac1(16)
 *   WIRE_DATA     u8 epoch | u64 counter | AEAD(inner) with the header
 *                 (len, type, epoch, counter) as associated data
 *   WIRE_JOIN     the join exchange (keyd/join.h): only as the first
 *                 frame of an incoming link, which then becomes a join
 *                 relay between the joiner and keyd and never a peer
 *                 link; body at most WIRE_JOIN_MAX_BODY bytes
 *
 * mac1 = BLAKE2b-128 keyed with BLAKE2b-256("mac1----" || receiver's
 * static public key) over the message before it (WireGuard's): a
 * responder drops random bytes and handshakes not meant for it before
 * spending a DH, and sends nothing back.
 *
 * The inner plaintext of a DATA frame: u8 kind | payload
 *   INNER_PACKET    virtio_net_hdr (10) || IP packet (one superpacket)
 *   INNER_KEEPALIVE empty (older peers), or a timestamp echo:
 *                   u8 flags | u64 ts | u64 echo | u32 held
 *                   (WIRE_KA_BYTES; longer: the rest is a newer
 *                   version's and ignored; 1..WIRE_KA_BYTES-1 is bad)
 *   INNER_CLOSE     empty: the peer is going away
 *   INNER_GOSSIP    signed objects spreading to every member (keyd's)
 *   INNER_FORWARD   a sealed end-to-end frame for another member; the
 *                   relay sees only the destination and a hop limit
 *   INNER_SEQ_PACKET u64 per-member sequence number (big-endian) ||
 *                   what INNER_PACKET carries: a packet striped over
 *                   several links, put back in order by the receiver
 *                   (linkd/stripe.h)
 *   INNER_LINK_ACK  u64 (big-endian): how many bytes of session frames
 *                   this end has received on this link so far, acks
 *                   left out; the sender's striping scheduler counts
 *                   what each circuit holds with it (linkd/sched.h).
 *                   Sent on onion links only; a link-level kind, never
 *                   forwarded or handed to the member's handlers
 *
 * A keepalive's timestamp echo measures the link's rtt at both ends
 * (linkd/rtt.h): ts is the sender's monotonic clock in microseconds
 * (never 0), echo the last ts it received from the other end (0: none
 * yet) and held how many microseconds it kept that ts before this
 * keepalive, so the other end takes now - echo - held as one round
 * trip whether the echo went out at once or with a later keepalive.
 * Flag WIRE_KA_PROBE asks the receiver to answer at once.
 *
 * An INNER_FORWARD payload:
 *
 *   dest member id (32) | u8 hop limit | u32 conn id | e2e frame
 *
 * where the e2e frame is one whole frame (HS_INIT, HS_RESP or DATA) of
 * the end-to-end session between the two ends, sealed as on a link. The
 * sender writes WIRE_FWD_HOP_LIMIT; each relay takes one off before
 * sending on and drops the frame when it would reach 0.
 *
 * The Noise prologue of a peer session: WIRE_PROLOGUE_TAG || netid(32),
 * so members of two networks never complete a handshake.
 *
 * No frame type carries plaintext user data; there is no "none" cipher.
 */
#ifndef OM_WIRE_H
#define OM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"
#include "proto/noise.h"

#define WIRE_LEN_BYTES   4
#define WIRE_MAC_BYTES   16
#define WIRE_DATA_HDR    (WIRE_LEN_BYTES + 1 + 1 + 8)
#define WIRE_MAX_INNER   (65536 + 64) /* superpacket + vnet hdr + kind */
#define WIRE_MAX_BODY    (1 + 1 + 8 + WIRE_MAX_INNER + NOISE_TAGLEN)
#define WIRE_MAX_FRAME   (WIRE_LEN_BYTES + WIRE_MAX_BODY)
#define WIRE_HS_PAYLOAD  12 /* TAI64N timestamp in msg1; empty in msg2 */
/* The Noise messages of HS_INIT and HS_RESP, and the larger frame. */
#define WIRE_HS_INIT_MSG  (NOISE_MSG1_OVERHEAD + WIRE_HS_PAYLOAD)
#define WIRE_HS_RESP_MSG  NOISE_MSG2_OVERHEAD
#define WIRE_HS_FRAME_MAX \
	(WIRE_LEN_BYTES + 1 + WIRE_HS_INIT_MSG + WIRE_MAC_BYTES)

enum wire_type {
	WIRE_HS_INIT = 1,
	WIRE_HS_RESP = 2,
	WIRE_DATA = 3,
	WIRE_JOIN = 4,
};

/* A join frame's body (after the type byte): what one MSG_JOIN_IN or
 * MSG_JOIN_OUT can carry (MSG_JOIN_BODY_MAX in proto/msg.h). */
#define WIRE_JOIN_MAX_BODY (63 * 1024)

enum wire_inner {
	INNER_PACKET = 1,
	INNER_KEEPALIVE = 2,
	INNER_CLOSE = 3,
	INNER_GOSSIP = 4,  /* u8 gossip type | body: records, edges, digests */
	INNER_FORWARD = 5, /* dest id(32) | u8 hop limit | u32 conn id |
	                    * an end-to-end frame for dest (HS or DATA) */
	INNER_SEQ_PACKET = 6, /* u64 seq | vnet hdr | IP packet */
	INNER_LINK_ACK = 7,   /* u64 session frame bytes received */
};

#define WIRE_PROLOGUE_TAG "onionmesh/1"
#define WIRE_PROLOGUE_MAX 64

/* A keepalive's timestamp echo (above). */
#define WIRE_KA_BYTES (1 + 8 + 8 + 4)
#define WIRE_KA_PROBE 0x01

struct wire_ka {
	uint8_t flags;
	uint64_t ts_us;
	uint64_t echo_us;
	uint32_t held_us;
};

#define WIRE_FWD_HOP_LIMIT 16
#define WIRE_FWD_HDR       (MEMBER_ID_BYTES + 1 + 4)
/* The largest e2e frame an INNER_FORWARD can carry. */
#define WIRE_FWD_MAX_FRAME (WIRE_MAX_INNER - 1 - WIRE_FWD_HDR)

struct wire_frame {
	uint8_t type;
	const uint8_t *body;  /* after the type byte */
	size_t body_len;
	size_t frame_len;     /* whole frame including the length field */
};

/* Look at the start of a stream buffer. Returns 1 and fills f when a
 * whole frame is there, 0 when more bytes are needed, -1 when the
 * stream is bad (length 0 or over WIRE_MAX_BODY, unknown type): the
 * caller closes the link. */
int wire_frame_peek(struct wire_frame *f, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* Handshake frames: write header + msg + mac1 into out. Returns frame
 * length or -1. peer_static is the receiver's X25519 public key. */
int wire_hs_frame(uint8_t *out, size_t cap, uint8_t type,
    const uint8_t *msg, size_t msglen,
    const uint8_t peer_static[NOISE_DHLEN])
    __attribute__((warn_unused_result));
/* Check mac1 of a received handshake frame body against our own static
 * public key (constant time). 0 ok, -1 drop. Sets *msglen. */
int wire_hs_check(const struct wire_frame *f,
    const uint8_t my_static[NOISE_DHLEN], size_t *msglen)
    __attribute__((warn_unused_result));

/* Seal inner (kind + payload) into a DATA frame at out (cap must be
 * >= WIRE_DATA_HDR + 1 + plen + NOISE_TAGLEN). Returns frame length. */
int wire_data_seal(uint8_t *out, size_t cap, const uint8_t k[NOISE_KEYLEN],
    uint8_t epoch, uint64_t counter, uint8_t kind, const uint8_t *payload,
    size_t plen) __attribute__((warn_unused_result));
/* The same with prelen (at most WIRE_SEAL_PRE_MAX) bytes of pre
 * between kind and payload: inner = kind + pre + payload, the payload
 * read where it is (in place when it sits at out + WIRE_DATA_HDR + 1 +
 * prelen). */
#define WIRE_SEAL_PRE_MAX 16
int wire_data_seal_pre(uint8_t *out, size_t cap,
    const uint8_t k[NOISE_KEYLEN], uint8_t epoch, uint64_t counter,
    uint8_t kind, const uint8_t *pre, size_t prelen, const uint8_t *payload,
    size_t plen) __attribute__((warn_unused_result));
/* Peek a DATA frame's epoch and counter (before choosing a key). */
int wire_data_header(const struct wire_frame *f, uint8_t *epoch,
    uint64_t *counter) __attribute__((warn_unused_result));
/* Open a DATA frame; out gets kind + payload. Returns inner length or -1
 * (bad tag). Replay checking is the session's job. */
int wire_data_open(const struct wire_frame *f, const uint8_t k[NOISE_KEYLEN],
    uint8_t *out, size_t cap) __attribute__((warn_unused_result));

/* A parsed INNER_FORWARD payload (pointers into it). */
struct wire_fwd {
	const uint8_t *dest;          /* MEMBER_ID_BYTES */
	uint8_t hops;
	uint32_t conn;
	const uint8_t *frame;         /* one whole wire frame */
	size_t frame_len;
	uint8_t frame_type;
};

/* Parse an INNER_FORWARD payload: header and exactly one whole wire
 * frame after it. 0, or -1 (short, bad frame, trailing bytes). */
int wire_fwd_parse(struct wire_fwd *h, const uint8_t *p, size_t len)
    __attribute__((warn_unused_result));
/* Write the WIRE_FWD_HDR header bytes into out. */
void wire_fwd_put_hdr(uint8_t out[WIRE_FWD_HDR],
    const uint8_t dest[MEMBER_ID_BYTES], uint8_t hops, uint32_t conn);
/* Write a keepalive's timestamp echo into out. */
void wire_ka_put(uint8_t out[WIRE_KA_BYTES], const struct wire_ka *ka);
/* Parse a keepalive payload. 1: k filled; 0: empty (an older peer's
 * keepalive, nothing to measure); -1: too short to be either. */
int wire_ka_parse(struct wire_ka *ka, const uint8_t *p, size_t len)
    __attribute__((warn_unused_result));
/* The session prologue for network netid into out; its length. */
size_t wire_prologue(uint8_t out[WIRE_PROLOGUE_MAX],
    const uint8_t netid[NETID_BYTES]);

#endif
