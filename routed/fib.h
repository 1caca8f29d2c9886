/*
 * The forwarding table routed gives linkd, and the routes it gives tund,
 * built from the graph's shortest paths. Pure: building, comparing and
 * diffing tables is plain data work, so unit tests call it directly and
 * dispatch.c only decides when to push.
 *
 * Both are kept sorted by prefix (family, address, length: prefix_cmp),
 * so two tables built from the same graph are byte-for-byte equal and a
 * diff is one merge walk.
 */
#ifndef OM_ROUTED_FIB_H
#define OM_ROUTED_FIB_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/msg.h"
#include "proto/prefixset.h"
#include "routed/graph.h"

struct routed_fib_entry {
	struct prefix dst;
	uint8_t dest[MEMBER_ID_BYTES];     /* member that owns dst */
	uint8_t next_hop[MEMBER_ID_BYTES]; /* direct peer to send to */
	uint32_t cost;
};

struct routed_fib {
	struct routed_fib_entry *v;
	size_t n;
	size_t cap;
};

struct routed_fib_diff {
	size_t added;
	size_t removed;
	size_t changed;  /* same prefix, other dest, next hop or cost */
};

struct routed_accept;

/* A prefix normalised for tables: family 4 or 6, host bits cleared
 * (host: the whole address, /32 or /128). -1 for another family. */
int routed_prefix_norm(struct prefix *out, const struct prefix *in,
    int host);

void routed_fib_init(struct routed_fib *f);
void routed_fib_free(struct routed_fib *f);
void routed_fib_clear(struct routed_fib *f);
/* f = one entry per reachable member other than self (graph_shortest_
 * paths() must have run): its ipv4 /32, ipv6 /128 and each subnet.
 * A prefix that is ours is left out; a prefix two members claim goes
 * to the nearer one (then the lower id). Only the subnets a lets us
 * take (accept.h; NULL: every one). 0 or -1 out of memory. */
int routed_fib_build(struct routed_fib *f, const struct graph *g,
    const struct routed_accept *a)
    __attribute__((warn_unused_result));
/* Append one entry (the order is the caller's to restore); -1 out of
 * memory. */
int routed_fib_add(struct routed_fib *f, const struct routed_fib_entry *e)
    __attribute__((warn_unused_result));
int routed_fib_equal(const struct routed_fib *a, const struct routed_fib *b);
void routed_fib_diff(const struct routed_fib *old,
    const struct routed_fib *cur, struct routed_fib_diff *d);
/* Longest-prefix match, as linkd will do it: NULL when none. */
const struct routed_fib_entry *routed_fib_lookup(const struct routed_fib *f,
    int family, const uint8_t *addr);

/* Routes for tund: every other member's subnets (whether reachable or
 * not, so a member going away does not send its subnet's traffic out
 * of the default route), masked, without duplicates and without our
 * own subnets, as a sorted set (proto/prefixset.h), and only those a
 * lets us take (NULL: every one). 0 or -1 out of memory. */
int routed_routes_build(struct prefix_set *s, const struct graph *g,
    const struct routed_accept *a)
    __attribute__((warn_unused_result));

#endif
