/*
 * The gateway rule (the oniontinc gateway pattern): which members may
 * take this member's default route, and how it is routed.
 *
 * A member announces a default route by listing 0.0.0.0/0 and/or ::/0
 * among its subnets; a member that wants to use it names it in its
 * config (`gateway = NAME`). Only then:
 *  - tund routes the two halves 0.0.0.0/1 + 128.0.0.0/1 (and ::/1 +
 *    8000::/1) to the TUN device: more specific than the host's default
 *    route, so they win over it, and less specific than the underlay's
 *    own routes (its connected networks, a route to a peer), so links
 *    keep working;
 *  - linkd's forwarding table sends 0.0.0.0/0 (::/0) to the gateway, and
 *    longest-prefix match still sends members' /32s, /128s and subnets
 *    to their owners.
 * Without `gateway`, no member's default is routed at all: a member
 * cannot take over the others' default route uninvited. The same holds
 * for every prefix shorter than GATEWAY_SHORT_LEN (say 0.0.0.0/1 or
 * 2000::/3 listed as a "subnet"), which would take most of the address
 * space just as well: only the chosen gateway's count.
 *
 * These run after routed_fib_build() and routed_routes_build() (fib.h),
 * on their results, so the builders stay as they are; pure, like them.
 */
#ifndef OM_ROUTED_GATEWAY_H
#define OM_ROUTED_GATEWAY_H

#include "routed/fib.h"
#include "routed/graph.h"

/* Prefixes shorter than this come only from the chosen gateway. */
#define GATEWAY_SHORT_LEN 8

/* The member named `gateway` (NULL or "" for none), other than self and
 * with a record; NULL when there is none. */
const struct graph_member *routed_gateway_member(const struct graph *g,
    const char *gateway);
/* Drop every entry shorter than GATEWAY_SHORT_LEN, then add the
 * gateway's short prefixes (0.0.0.0/0 and ::/0 among them) when it is
 * reachable: dest the gateway, its next hop and cost. f stays sorted.
 * 0, or -1 out of memory. */
int routed_gateway_fib(struct routed_fib *f, const struct graph *g,
    const char *gateway) __attribute__((warn_unused_result));
/* Drop every route shorter than GATEWAY_SHORT_LEN, then add the
 * gateway's (reachable or not, as routed_routes_build() does: traffic
 * for a gateway that went away must not leave by the default route),
 * a default as its two /1 halves. s stays sorted, without duplicates.
 * 0, or -1 out of memory. */
int routed_gateway_routes(struct prefix_set *s, const struct graph *g,
    const char *gateway) __attribute__((warn_unused_result));

#endif
