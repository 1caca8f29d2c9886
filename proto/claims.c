/*
 * Claims: the rules on what a record may hold and the order that
 * settles a clash between two records (proto/claims.h says why the
 * order is what it is). Pure: no I/O, no state.
 */
#include "proto/claims.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* In enum claim_reason's order. */
static const char *const reason_names[] = {
	"ok", "ipv4_range", "ipv4_taken", "ipv6_not_derived", "name_taken",
	"subnet_network", "subnet_member", "admitter_full", "admitter_role",
	"subnet_not_granted",
};
_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) ==
    CLAIM_NREASONS, "a name for every claim_reason");

const char *
claim_reason_name(int reason)
{
	if (reason < 0 || reason >= CLAIM_NREASONS)
		return "unknown";
	return reason_names[reason];
}

/* why = the message; the reason back, so a rule ends in one line. */
static int __attribute__((format(printf, 4, 5)))
refuse(char *why, size_t whylen, int reason, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return reason;
}

void
claims_net_init(struct claims_net *n, const struct prefix *v4,
    const uint8_t netid[NETID_BYTES], const uint8_t root[MEMBER_ID_BYTES],
    uint32_t max_per_admitter)
{
	memset(n, 0, sizeof(*n));
	if (v4 != NULL && v4->family == 4) {
		n->v4 = *v4;
		prefix_mask(&n->v4);
	}
	/* Any member's derived /128, cut to the network's /48. */
	ipv6_member_addr(&n->v6, netid, root);
	n->v6.len = 48;
	prefix_mask(&n->v6);
	memcpy(n->netid, netid, NETID_BYTES);
	memcpy(n->root, root, MEMBER_ID_BYTES);
	n->max_per_admitter = max_per_admitter;
}

/* A host of the range: inside it, and neither its network nor its
 * broadcast address when it has them (what invite hands out). */
static int
v4_host_in(const struct prefix *range, const struct prefix *a)
{
	uint32_t hostbits = 32u - range->len, x, host;

	if (!prefix_contains(range, 4, a->addr))
		return 0;
	if (hostbits <= 1)
		return 1;
	x = (uint32_t)a->addr[0] << 24 | (uint32_t)a->addr[1] << 16 |
	    (uint32_t)a->addr[2] << 8 | a->addr[3];
	host = x & (uint32_t)((1ULL << hostbits) - 1);
	return host != 0 && host != (uint32_t)((1ULL << hostbits) - 1);
}

/* A subnet overlapping a: a default route (a gateway's: claims.h)
 * overlaps nothing here. */
static int
overlap(const struct prefix *subnet, const struct prefix *a)
{
	return subnet->len > 0 && (prefix_covers(subnet, a) ||
	    prefix_covers(a, subnet));
}

int
claims_subnet_owned(const struct claims_net *n, const struct record *r,
    const struct prefix *p)
{
	int i;

	if (memcmp(r->id, n->root, MEMBER_ID_BYTES) == 0 || !r->admitted)
		return 1;
	for (i = 0; i < r->nadmitted_subnets && i < RECORD_MAX_SUBNETS; i++)
		if (prefix_covers(&r->admitted_subnets[i], p))
			return 1;
	return n->granted != NULL && n->granted(n->granted_arg, r->id, p);
}

int
claims_subnet_network(const struct claims_net *n, const char *who,
    const struct prefix *p, char *why, size_t whylen)
{
	char s[PREFIX_STRLEN], t[PREFIX_STRLEN];

	if (!overlap(p, &n->v6) &&
	    (n->v4.family != 4 || !overlap(p, &n->v4)))
		return CLAIM_OK;
	prefix_fmt(p, s, sizeof(s), 1);
	prefix_fmt(p->family == 4 ? &n->v4 : &n->v6, t, sizeof(t), 1);
	return refuse(why, whylen, CLAIM_SUBNET_NETWORK, "%s claims subnet "
	    "%s, which overlaps the network's own range %s", who, s, t);
}

int
claims_own(const struct claims_net *n, const struct record *r, char *why,
    size_t whylen)
{
	char s[PREFIX_STRLEN], t[PREFIX_STRLEN];
	struct prefix want;
	int i;

	/* Without a range of our own (no ipv4 = in our config) we route
	 * no IPv4 and cannot judge one; uniqueness still holds. */
	if (r->ipv4.family == 4 && n->v4.family == 4) {
		prefix_fmt(&r->ipv4, s, sizeof(s), 0);
		prefix_fmt(&n->v4, t, sizeof(t), 1);
		if (!v4_host_in(&n->v4, &r->ipv4))
			return refuse(why, whylen, CLAIM_IPV4_RANGE, "%s "
			    "claims IPv4 %s, not a host address of the "
			    "network's range %s", r->name, s, t);
	}
	ipv6_member_addr(&want, n->netid, r->id);
	if (!prefix_equal(&want, &r->ipv6)) {
		prefix_fmt(&r->ipv6, s, sizeof(s), 0);
		prefix_fmt(&want, t, sizeof(t), 0);
		return refuse(why, whylen, CLAIM_IPV6, "%s claims IPv6 %s, "
		    "not the one derived from its key (%s)", r->name, s, t);
	}
	for (i = 0; i < r->nsubnets; i++) {
		const struct prefix *p = &r->subnets[i];
		int rc;

		if ((rc = claims_subnet_network(n, r->name, p, why,
		    whylen)) != CLAIM_OK)
			return rc;
		if (!claims_subnet_owned(n, r, p)) {
			prefix_fmt(p, s, sizeof(s), 1);
			return refuse(why, whylen, CLAIM_SUBNET_GRANT, "%s "
			    "claims subnet %s, which neither its admission "
			    "nor a grant by the root or an admin gives it",
			    r->name, s);
		}
	}
	return CLAIM_OK;
}

/* Does a subnet of a cover an address of b? */
static int
subnet_covers_member(const struct record *a, const struct record *b,
    char *why, size_t whylen)
{
	char s[PREFIX_STRLEN], t[PREFIX_STRLEN];
	const struct prefix *addr[2] = {&b->ipv4, &b->ipv6};
	int i, j;

	for (i = 0; i < a->nsubnets; i++)
		for (j = 0; j < 2; j++) {
			if (addr[j]->family == 0 ||
			    !overlap(&a->subnets[i], addr[j]))
				continue;
			prefix_fmt(&a->subnets[i], s, sizeof(s), 1);
			prefix_fmt(addr[j], t, sizeof(t), 0);
			return refuse(why, whylen, CLAIM_SUBNET_MEMBER, "%s "
			    "claims subnet %s, which covers %s of member %s",
			    a->name, s, t, b->name);
		}
	return CLAIM_OK;
}

int
claims_clash(const struct record *a, const struct record *b, char *why,
    size_t whylen)
{
	char s[PREFIX_STRLEN];
	int rc;

	if (memcmp(a->id, b->id, MEMBER_ID_BYTES) == 0)
		return CLAIM_OK;      /* one member's old and new record */
	if (strcmp(a->name, b->name) == 0)
		return refuse(why, whylen, CLAIM_NAME, "the name %s is "
		    "another member's", a->name);
	if (a->ipv4.family == 4 && prefix_equal(&a->ipv4, &b->ipv4)) {
		prefix_fmt(&a->ipv4, s, sizeof(s), 0);
		return refuse(why, whylen, CLAIM_IPV4_TAKEN, "%s claims IPv4"
		    " %s, which member %s holds", a->name, s, b->name);
	}
	if ((rc = subnet_covers_member(a, b, why, whylen)) != CLAIM_OK)
		return rc;
	/* The other way round is the same clash, blamed on a: it is the
	 * newcomer that is checked. */
	if (subnet_covers_member(b, a, NULL, 0) != CLAIM_OK)
		return refuse(why, whylen, CLAIM_SUBNET_MEMBER, "%s's "
		    "addresses lie in a subnet member %s claims", a->name,
		    b->name);
	return CLAIM_OK;
}

/* 0 the root, 1 admitted by the root, 2 anyone else. */
static int
claims_class(const struct claims_net *n, const struct record *r)
{
	if (memcmp(r->id, n->root, MEMBER_ID_BYTES) == 0)
		return 0;
	if (r->admitted && memcmp(r->admitted_by, n->root,
	    MEMBER_ID_BYTES) == 0)
		return 1;
	return 2;
}

int
claims_precedes(const struct claims_net *n, const struct record *a,
    const struct record *b)
{
	int ca = claims_class(n, a), cb = claims_class(n, b);

	if (ca != cb)
		return ca < cb;
	return memcmp(a->id, b->id, MEMBER_ID_BYTES) < 0;
}

static int
same_admitter(const struct record *r, const uint8_t by[MEMBER_ID_BYTES])
{
	return r->admitted && memcmp(r->admitted_by, by,
	    MEMBER_ID_BYTES) == 0;
}

int
claims_check(const struct claims_net *n, const struct record *r,
    claims_at_fn at, void *arg, size_t nheld, char *why, size_t whylen)
{
	const struct record *o;
	char hid[17];
	size_t i, before = 0;
	int rc;

	if ((rc = claims_own(n, r, why, whylen)) != CLAIM_OK)
		return rc;
	for (i = 0; i < nheld; i++) {
		if ((o = at(arg, i)) == NULL ||
		    memcmp(o->id, r->id, MEMBER_ID_BYTES) == 0)
			continue;
		if (claims_precedes(n, o, r) &&
		    (rc = claims_clash(r, o, why, whylen)) != CLAIM_OK)
			return rc;
		if (r->admitted && same_admitter(o, r->admitted_by) &&
		    claims_precedes(n, o, r))
			before++;
	}
	if (r->admitted && before >= n->max_per_admitter) {
		hex_encode(hid, r->admitted_by, 8);
		return refuse(why, whylen, CLAIM_ADMITTER_FULL, "%s: its "
		    "admitter %s... has admitted %zu members held before it,"
		    " the bound is %u (max_admitted)", r->name, hid, before,
		    n->max_per_admitter);
	}
	return CLAIM_OK;
}

int
claims_displaces(const struct claims_net *n, const struct record *r,
    const struct record *o)
{
	return claims_precedes(n, r, o) &&
	    claims_clash(r, o, NULL, 0) != CLAIM_OK;
}

long
claims_over_bound(const struct claims_net *n,
    const uint8_t admitter[MEMBER_ID_BYTES], claims_at_fn at, void *arg,
    size_t nheld)
{
	const struct record *o, *last = NULL;
	size_t i, count = 0;
	long li = -1;

	for (i = 0; i < nheld; i++) {
		if ((o = at(arg, i)) == NULL || !same_admitter(o, admitter))
			continue;
		count++;
		if (last == NULL || claims_precedes(n, last, o)) {
			last = o;
			li = (long)i;
		}
	}
	return count > n->max_per_admitter ? li : -1;
}
