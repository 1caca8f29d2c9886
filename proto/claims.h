/*
 * Claims: what a member's record may hold, checked by every member on
 * every record it takes (gossip, join, hosts/ files that import wrote).
 * The trust chain (proto/trust.h) says a record was admitted; these
 * rules say that what it claims is its own to claim:
 *
 *   - its IPv4 (when it has one) is a host of the network's IPv4 range
 *     (when the checking member has one: the range is its config's
 *     ipv4 =, which join copies from the inviter), and no other held
 *     member has it;
 *   - its IPv6 is the one derived from its key (ipv6_member_addr);
 *   - its name is no other held member's;
 *   - none of its subnets overlaps the network's own ranges (the IPv4
 *     range, the ULA /48) or another member's addresses, except the
 *     default routes 0.0.0.0/0 and ::/0, which a gateway announces and
 *     which a member takes only from its own `gateway =` (routed);
 *   - every subnet it announces is its own: inside one its admission
 *     grants (admitted-subnet lines) or one a valid grant gives it
 *     (proto/trust.h); the root's record needs neither (it founded the
 *     network), and neither does a record pinned by hand without an
 *     admission (import: the user vouches for it, and gossip never
 *     takes one);
 *   - its admitter has admitted at most max_per_admitter held records.
 *
 * Which record of a clash stays must be the same on every member,
 * whatever order records arrived in, or members disagree about who
 * owns an address. So records are ordered (claims_precedes):
 *
 *   1. the root's own record first,
 *   2. then records the root admitted,
 *   3. then every other record (admitted by an admin or, when the root
 *      allows it, a plain member; records pinned by hand without an
 *      admission count here too),
 *   4. within a class, the lower member id first.
 *
 * Nothing in the order changes when a member updates its record (the
 * serial is not in it), and an admission covers name and addresses, so
 * a member cannot move itself up by changing what it claims. A record
 * that a held one precedes is refused; one that precedes held records
 * it clashes with displaces them (the caller drops them and says so).
 * Of one admitter's records, the first max_per_admitter in that order
 * are kept: a new one past the bound is refused, one before it pushes
 * the last one out. The same set of records therefore ends with the
 * same survivors on every member.
 *
 * Pure functions over an accessor for the held set, like trust_check,
 * so keyd, the joiner and the unit tests apply the same rules.
 */
#ifndef OM_CLAIMS_H
#define OM_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/msg.h"
#include "proto/record.h"

#define CLAIMS_MAX_PER_ADMITTER_DEFAULT CONF_MAX_ADMITTED_DEFAULT

/* Why a record is refused; 0 none. Counted per reason by keyd. */
enum claim_reason {
	CLAIM_OK = 0,
	CLAIM_IPV4_RANGE,      /* IPv4 outside the network's range */
	CLAIM_IPV4_TAKEN,      /* IPv4 held by another member */
	CLAIM_IPV6,            /* IPv6 not the one derived from the key */
	CLAIM_NAME,            /* name held by another member */
	CLAIM_SUBNET_NETWORK,  /* a subnet overlaps the network's ranges */
	CLAIM_SUBNET_MEMBER,   /* a subnet covers another member's address */
	CLAIM_ADMITTER_FULL,   /* its admitter has admitted max records */
	CLAIM_ADMITTER_ROLE,   /* its admitter may not admit (trust.h) */
	CLAIM_SUBNET_GRANT,    /* a subnet neither admitted nor granted */
	CLAIM_NREASONS
};

/* "ipv4_range", "ipv4_taken", ...: the reason's key in status. */
const char *claim_reason_name(int reason);

/* Does a valid grant held give member id the subnet p (inside one of
 * its subnets)? 1 or 0. */
typedef int (*claims_granted_fn)(void *arg,
    const uint8_t id[MEMBER_ID_BYTES], const struct prefix *p);

struct claims_net {
	struct prefix v4;      /* the IPv4 range, masked (family 0: none) */
	struct prefix v6;      /* the network's ULA /48 */
	uint8_t netid[NETID_BYTES];
	uint8_t root[MEMBER_ID_BYTES];
	uint32_t max_per_admitter;
	claims_granted_fn granted;  /* NULL: no grants held */
	void *granted_arg;
};

/* v4: the config's ipv4 (address and range; family 0 when none). */
void claims_net_init(struct claims_net *n, const struct prefix *v4,
    const uint8_t netid[NETID_BYTES], const uint8_t root[MEMBER_ID_BYTES],
    uint32_t max_per_admitter);

/* The rules on r alone (range, derived IPv6, subnets against the
 * network's ranges, subnets admitted or granted). A reason, with why
 * set, or 0. */
int claims_own(const struct claims_net *n, const struct record *r,
    char *why, size_t whylen);
/* Does subnet p overlap the network's own ranges (who claims it: for
 * the message)? CLAIM_SUBNET_NETWORK with why, or 0. */
int claims_subnet_network(const struct claims_net *n, const char *who,
    const struct prefix *p, char *why, size_t whylen);
/* Is subnet p r's own: r is the root or pinned (no admission), or p
 * lies inside an admitted subnet of r or a grant n->granted knows? */
int claims_subnet_owned(const struct claims_net *n, const struct record *r,
    const struct prefix *p);
/* Do a and b (two members) claim the same name or IPv4, or does a
 * subnet of one cover an address of the other? A reason for a (why
 * names b), or 0. */
int claims_clash(const struct record *a, const struct record *b,
    char *why, size_t whylen);
/* 1 when a comes before b in the order above, else 0. */
int claims_precedes(const struct claims_net *n, const struct record *a,
    const struct record *b);

/* The held set: record i of nheld, or NULL to skip it. */
typedef const struct record *(*claims_at_fn)(void *arg, size_t i);

/*
 * May r be held next to the set (its own id's record in the set is the
 * one it replaces and does not count)? claims_own, then every held
 * record that clashes and precedes r, then r's place among its
 * admitter's records. A reason with why, or 0.
 */
int claims_check(const struct claims_net *n, const struct record *r,
    claims_at_fn at, void *arg, size_t nheld, char *why, size_t whylen);
/* After r was accepted: does it displace held o (o clashes with r and
 * r precedes it)? 1 or 0. */
int claims_displaces(const struct claims_net *n, const struct record *r,
    const struct record *o);
/* The index of the record past the bound of admitter's records in the
 * set (the last of them in the order), or -1 when they are within it. */
long claims_over_bound(const struct claims_net *n,
    const uint8_t admitter[MEMBER_ID_BYTES], claims_at_fn at, void *arg,
    size_t nheld);

#endif
