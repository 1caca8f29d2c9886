/*
 * Edge announcements: a member's signed list of its live direct links,
 * spread to every member by gossip so each routed can build the whole
 * graph. Like a host record, the text is both what travels and what is
 * signed, and it has exactly one spelling: the fields below in this
 * order, one space either side of '=', lower-case hex, decimal numbers
 * without leading zeros, peers sorted by id with none twice and never
 * the member itself, a newline after every line, nothing else.
 *
 *   edges = <64 hex: the announcing member's id>
 *   serial = N
 *   peer = <64 hex member id> <rtt_us> <rate_kbps>  (0..EDGES_MAX_PEERS)
 *   signature = <128 hex>
 *
 * rtt_us is the announcing member's measured round trip to that peer,
 * rate_kbps what its links to the peer carried (kbit/s, both
 * directions) in their busiest second of the last minute; 0 for either
 * is "not measured". keyd announces rates rounded down to a power of
 * two (edges_rate_bucket) so that steady traffic does not change the
 * text, but any decimal 0..UINT32_MAX parses: the spelling is strict,
 * the policy is the sender's.
 *
 * The signature is Ed25519 by `edges` over "onionmesh edges v1\n" ||
 * netid || the text up to (not including) the signature line. The
 * serial only goes up (keyd uses max(previous + 1, unix time in ms)),
 * so a stale announcement gossiped late never replaces a newer one.
 *
 * Pure: no I/O, no allocation; the secret key only in edges_sign, which
 * tests use (keyd signs edges_signed_bytes() with its own key holder).
 */
#ifndef OM_EDGES_H
#define OM_EDGES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"

#define EDGES_SIG_CONTEXT "onionmesh edges v1\n"
/* What is signed: the context, the netid, the text without signature. */
#define EDGES_SIGNED_MAX  (sizeof(EDGES_SIG_CONTEXT) - 1 + NETID_BYTES + \
	EDGES_MAX_LEN)

struct edges_peer {
	uint8_t id[MEMBER_ID_BYTES];   /* first: edges_sort compares it */
	uint32_t rtt_us;               /* 0: not measured */
	uint32_t rate_kbps;            /* 0: not measured */
};

struct edges {
	uint8_t id[MEMBER_ID_BYTES];   /* the announcing member */
	uint64_t serial;
	size_t npeers;
	struct edges_peer peers[EDGES_MAX_PEERS];
	uint8_t signature[64];
};

/* Parse the canonical text (len bytes, no NUL needed). 0, or -1 with
 * a message naming the line and what is wrong in err; e is zeroed. */
int edges_parse(struct edges *e, const char *text, size_t len, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Canonical text into out (NUL-terminated); with_sig 0 stops before the
 * signature line. Length, or -1 when e could not be parsed back (peers
 * unsorted, repeated, naming e->id, too many) or cap is too small. */
int edges_format(const struct edges *e, char *out, size_t cap, int with_sig)
    __attribute__((warn_unused_result));
/* Sort e's peers by id. -1 when an id is there twice or is e->id. */
int edges_sort(struct edges *e) __attribute__((warn_unused_result));
/* The bytes the signature covers, into buf (cap >= EDGES_SIGNED_MAX is
 * always enough). Length or -1. */
int edges_signed_bytes(const struct edges *e,
    const uint8_t netid[NETID_BYTES], uint8_t *buf, size_t cap)
    __attribute__((warn_unused_result));
int edges_sign(struct edges *e, const uint8_t sk[64],
    const uint8_t netid[NETID_BYTES]) __attribute__((warn_unused_result));
/* 0 when the signature is e->id's over e for this network. */
int edges_verify(const struct edges *e, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
/* The peer entry for id, or NULL (binary search: peers are sorted). */
const struct edges_peer *edges_find(const struct edges *e,
    const uint8_t id[MEMBER_ID_BYTES]);

/* Rates as announced: kbps rounded down to a power of two (0 stays 0),
 * so a rate only changes the announcement when it doubles or halves. */
uint32_t edges_rate_bucket(uint32_t kbps);
/* The bucket's step: 0 for 0, else 1 + floor(log2(kbps)); two rates
 * whose steps differ by k are about 2^k apart. */
int edges_rate_step(uint32_t kbps);

#endif
