/*
 * Which of other members' subnets this member takes into its tables
 * (linkd's forwarding table, tund's kernel routes). Subnets are claimed
 * by the members themselves, so a member may claim anything; what is
 * taken is this member's to decide, from its own config:
 *
 *  - a prefix shorter than GATEWAY_SHORT_LEN only from the member named
 *    by `gateway =` (gateway.h adds those itself);
 *  - an IPv6 prefix shorter than ROUTED_ACCEPT_MIN6 never from any
 *    other member: five /8s cover nearly all of the IPv6 internet;
 *  - no prefix that covers another member's address (ours included):
 *    while that member is unreachable its /32 or /128 is not in the
 *    table, and the covering prefix would capture its traffic; an equal
 *    /32 would compete with the owner's by distance;
 *  - otherwise a prefix inside one of the network's own ranges (the
 *    config's ipv4 and ipv6 ranges) or inside one of `accept_subnets =`;
 *    nothing else (the gateway's prefixes excepted: every address
 *    outside the mesh goes to it by the default route anyway).
 *
 * Pure: routed_accept_prepare() takes the config and the graph, the
 * verdicts follow from those alone, so fib.c's builders and the unit
 * tests ask the same question. The refusals a member was told about
 * (log once per member and prefix) are a sorted set, also pure.
 */
#ifndef OM_ROUTED_ACCEPT_H
#define OM_ROUTED_ACCEPT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/prefixset.h"
#include "routed/graph.h"

/* IPv6 prefixes shorter than this come from no member but the gateway. */
#define ROUTED_ACCEPT_MIN6 16

enum routed_refusal {
	ROUTED_TAKEN = 0,
	ROUTED_REFUSED_SHORT,    /* shorter than /8, not the gateway */
	ROUTED_REFUSED_SHORT6,   /* IPv6 shorter than /16, not the gateway */
	ROUTED_REFUSED_MEMBER,   /* covers another member's address */
	ROUTED_REFUSED_OUTSIDE,  /* outside the ranges and accept_subnets */
	ROUTED_NREFUSALS
};

/* Refusals already logged, by member id and prefix. */
struct routed_refusal_key {
	uint8_t id[MEMBER_ID_BYTES];
	struct prefix p;
};
struct routed_refusals {
	struct routed_refusal_key *v;
	size_t n, cap;
	uint64_t count[ROUTED_NREFUSALS]; /* per reason, each pair once */
};

struct routed_accept {
	struct prefix accept[CONF_MAX_ACCEPT + 2]; /* masked: the ranges,
	                                            * then accept_subnets */
	int naccept;
	const struct graph_member *gw; /* the gateway, or NULL */
	struct prefix_set addrs;       /* every member's address, sorted */
	struct routed_refusals refused; /* kept across prepares */
};

/* Empty, no refusals noted; free: its memory, the refusals too. */
void routed_accept_init(struct routed_accept *a);
void routed_accept_free(struct routed_accept *a);
/* From c's ipv4/ipv6 ranges, accept_subnets and gateway, and g's
 * members (valid until g changes). 0, or -1 out of memory. */
int routed_accept_prepare(struct routed_accept *a, const struct conf *c,
    const struct graph *g) __attribute__((warn_unused_result));
/* Is member m's subnet p taken (ROUTED_TAKEN) or why not? m is another
 * member than us, with a record. */
int routed_subnet_verdict(const struct routed_accept *a,
    const struct graph_member *m, const struct prefix *p);
/* "short", "short6", "member", "outside": the key in status. */
const char *routed_refusal_name(int reason);
/* What the log says of it. */
const char *routed_refusal_why(int reason);

/* Note that m's subnet p is refused for reason: 1 when it is new (log
 * it; counted), 0 when already noted, -1 out of memory (not noted). */
int routed_refusals_note(struct routed_refusals *s,
    const uint8_t id[MEMBER_ID_BYTES], const struct prefix *p, int reason)
    __attribute__((warn_unused_result));
/* Every pair noted so far. */
uint64_t routed_refusals_total(const struct routed_refusals *s);

#endif
