/*
 * The subnet acceptance rule (accept.h): which members' subnets this
 * member routes, and the record of refusals already logged.
 *
 * "Covers another member's address" is asked for every subnet of every
 * member on every recompute, so it must not be a walk over all members:
 * the members' addresses are kept as one sorted set, and the addresses
 * inside a prefix are a run of it that starts at the prefix's network
 * address (prefix_cmp orders by family, then address). At most the
 * member's own two addresses are skipped before the answer is known.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/array.h"
#include "routed/accept.h"
#include "routed/fib.h"
#include "routed/gateway.h"

void
routed_accept_init(struct routed_accept *a)
{
	memset(a, 0, sizeof(*a));
	prefix_set_init(&a->addrs);
}

void
routed_accept_free(struct routed_accept *a)
{
	prefix_set_free(&a->addrs);
	free(a->refused.v);
	memset(a, 0, sizeof(*a));
}

static void
accept_add(struct routed_accept *a, const struct prefix *p)
{
	struct prefix q;

	if (routed_prefix_norm(&q, p, 0) == 0)
		a->accept[a->naccept++] = q;
}

int
routed_accept_prepare(struct routed_accept *a, const struct conf *c,
    const struct graph *g)
{
	struct prefix p;
	size_t i;
	int k;

	a->naccept = 0;
	a->gw = routed_gateway_member(g, c->gateway);
	accept_add(a, &c->ipv4);  /* address and range: masked to a range */
	accept_add(a, &c->ipv6);
	for (k = 0; k < c->naccept_subnets && k < CONF_MAX_ACCEPT; k++)
		accept_add(a, &c->accept_subnets[k]);
	prefix_set_clear(&a->addrs);
	for (i = 0; i < g->n; i++) {
		if (!g->m[i].has_record)
			continue;
		if (routed_prefix_norm(&p, &g->m[i].ipv4, 1) == 0 &&
		    prefix_set_add(&a->addrs, &p) == -1)
			return -1;
		if (routed_prefix_norm(&p, &g->m[i].ipv6, 1) == 0 &&
		    prefix_set_add(&a->addrs, &p) == -1)
			return -1;
	}
	prefix_set_sort(&a->addrs);
	return 0;
}

/* Is q one of m's own addresses? */
static int
own_addr(const struct graph_member *m, const struct prefix *q)
{
	struct prefix p;

	return (routed_prefix_norm(&p, &m->ipv4, 1) == 0 &&
	    prefix_cmp(&p, q) == 0) ||
	    (routed_prefix_norm(&p, &m->ipv6, 1) == 0 &&
	    prefix_cmp(&p, q) == 0);
}

/* Does p (masked) hold an address of a member other than m? */
static int
covers_other(const struct routed_accept *a, const struct graph_member *m,
    const struct prefix *p)
{
	const struct prefix_set *s = &a->addrs;
	struct prefix lo = *p;
	size_t l = 0, h = s->n, mid;

	lo.len = 0;  /* sorts before every address of the network */
	while (l < h) {
		mid = l + (h - l) / 2;
		if (prefix_cmp(&s->v[mid], &lo) < 0)
			l = mid + 1;
		else
			h = mid;
	}
	for (; l < s->n && prefix_covers(p, &s->v[l]); l++)
		if (!own_addr(m, &s->v[l]))
			return 1;
	return 0;
}

int
routed_subnet_verdict(const struct routed_accept *a,
    const struct graph_member *m, const struct prefix *in)
{
	struct prefix p;
	int gw = a->gw != NULL && a->gw == m, k;

	if (routed_prefix_norm(&p, in, 0) == -1)
		return ROUTED_REFUSED_OUTSIDE;
	if (p.len < GATEWAY_SHORT_LEN)
		return gw ? ROUTED_TAKEN : ROUTED_REFUSED_SHORT;
	if (!gw && p.family == 6 && p.len < ROUTED_ACCEPT_MIN6)
		return ROUTED_REFUSED_SHORT6;
	if (covers_other(a, m, &p))
		return ROUTED_REFUSED_MEMBER;
	if (gw)
		return ROUTED_TAKEN;
	for (k = 0; k < a->naccept; k++)
		if (prefix_covers(&a->accept[k], &p))
			return ROUTED_TAKEN;
	return ROUTED_REFUSED_OUTSIDE;
}

const char *
routed_refusal_name(int reason)
{
	switch (reason) {
	case ROUTED_TAKEN:           return "taken";
	case ROUTED_REFUSED_SHORT:   return "short";
	case ROUTED_REFUSED_SHORT6:  return "short6";
	case ROUTED_REFUSED_MEMBER:  return "member";
	case ROUTED_REFUSED_OUTSIDE: return "outside";
	}
	return "?";
}

const char *
routed_refusal_why(int reason)
{
	switch (reason) {
	case ROUTED_REFUSED_SHORT:
		return "shorter than /8: only the member named by "
		    "gateway = is routed that much";
	case ROUTED_REFUSED_SHORT6:
		return "an IPv6 prefix shorter than /16: only the member "
		    "named by gateway = is routed that much";
	case ROUTED_REFUSED_MEMBER:
		return "it covers another member's address";
	case ROUTED_REFUSED_OUTSIDE:
		return "outside the network's ranges and accept_subnets "
		    "(add it to accept_subnets = to route it)";
	}
	return "taken";
}

static int
refusal_cmp(const struct routed_refusal_key *a,
    const struct routed_refusal_key *b)
{
	int c = memcmp(a->id, b->id, MEMBER_ID_BYTES);

	return c != 0 ? c : prefix_cmp(&a->p, &b->p);
}

int
routed_refusals_note(struct routed_refusals *s,
    const uint8_t id[MEMBER_ID_BYTES], const struct prefix *p, int reason)
{
	struct routed_refusal_key k, *nv;
	size_t l = 0, h = s->n, mid;
	int c;

	memset(&k, 0, sizeof(k));
	memcpy(k.id, id, MEMBER_ID_BYTES);
	if (routed_prefix_norm(&k.p, p, 0) == -1)
		k.p = *p;
	while (l < h) {
		mid = l + (h - l) / 2;
		if ((c = refusal_cmp(&s->v[mid], &k)) == 0)
			return 0;
		if (c < 0)
			l = mid + 1;
		else
			h = mid;
	}
	if ((nv = array_room(s->v, s->n, &s->cap, sizeof(*nv), 16)) == NULL)
		return -1;
	s->v = nv;
	memmove(&s->v[l + 1], &s->v[l], (s->n - l) * sizeof(*s->v));
	s->v[l] = k;
	s->n++;
	if (reason > 0 && reason < ROUTED_NREFUSALS)
		s->count[reason]++;
	return 1;
}

uint64_t
routed_refusals_total(const struct routed_refusals *s)
{
	return s->n;
}
