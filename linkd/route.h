/*
 * Where a packet goes: the one place linkd decides it, once per packet.
 *
 *   route_decide   a destination address (from tund) -> the member it
 *                  belongs to (longest prefix in the forwarding table)
 *                  and how to reach it: its own links (ROUTE_DIRECT),
 *                  or its end-to-end session through the next hop
 *                  (ROUTE_RELAYED, via set by a debug override), or
 *                  drop (no route, or a member we do not know).
 *   route_next_hop a member -> the member to hand its frames to: a
 *                  debug override, the member itself when a link to it
 *                  is up, else the forwarding table's next hop for it
 *                  (never ourselves, never the member itself).
 *
 * Both only read (the table, the members, the overrides): no I/O.
 *
 * Test hook (debug_route, linkd's ctl): up to ROUTE_DEBUG_MAX overrides
 *   dest -> via make every frame for dest, ours and relayed, go to via.
 * It exists so a test can build a forwarding loop and watch the hop
 * limit end it; only root (or linkd's own user) may set one, and
 * setting one is logged as a warning. It is not part of any
 * configuration and dies with linkd. Nothing else overrides a route.
 */
#ifndef OM_LINKD_ROUTE_H
#define OM_LINKD_ROUTE_H

#include <stdint.h>

#include "proto/msg.h"

#define ROUTE_DEBUG_MAX 16

struct linkd;
struct peer;

struct route_override {
	uint8_t dest[MEMBER_ID_BYTES];
	uint8_t via[MEMBER_ID_BYTES];
};

struct route_overrides {
	struct route_override o[ROUTE_DEBUG_MAX];
	int n;
};

enum route_kind {
	ROUTE_NONE = 0,     /* no prefix covers the address: drop */
	ROUTE_NO_MEMBER,    /* the table names a member we do not know */
	ROUTE_DIRECT,       /* the member's links; if none is up, its
	                     * end-to-end session via route_next_hop */
	ROUTE_RELAYED,      /* an override: end to end through via */
};

struct route {
	enum route_kind kind;
	struct peer *dest;
	const uint8_t *via;         /* ROUTE_RELAYED */
};

void route_decide(struct linkd *ld, int family, const uint8_t *addr,
    struct route *r);
/* 0 with *via set, -1 no next hop. */
int route_next_hop(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    const uint8_t **via);
/* The same for member p when no override applies (route_decide said
 * ROUTE_DIRECT): its own links when one is up, else the table's. */
const uint8_t *route_next_hop_table(struct linkd *ld, const struct peer *p);

/* The test hook. Set (or replace) dest's override: 0, or -1 when the
 * table is full. Clear dest's (0 it had one, -1 none) or all. */
int route_debug_set(struct linkd *ld, const struct peer *dest,
    const struct peer *via) __attribute__((warn_unused_result));
int route_debug_clear(struct linkd *ld, const struct peer *dest);
void route_debug_clear_all(struct linkd *ld);

#endif
