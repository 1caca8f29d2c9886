/*
 * The gateway rule (gateway.h), applied to tables fib.c built.
 *
 * Why after the builders and not inside them: the builders settle a
 * prefix two members claim by distance, and a default route must go to
 * the member this member chose, not to the nearest one that claims it;
 * and the rule is one decision in one place (this file), which the
 * builders and their tests need not know. Filtering first and then
 * adding the gateway's own prefixes gives that whatever the builders
 * picked.
 */
#include <stdlib.h>
#include <string.h>

#include "routed/gateway.h"

const struct graph_member *
routed_gateway_member(const struct graph *g, const char *gateway)
{
	size_t i;

	if (gateway == NULL || gateway[0] == '\0')
		return NULL;
	for (i = 0; i < g->n; i++) {
		const struct graph_member *m = &g->m[i];

		if (!m->has_record || strcmp(m->name, gateway) != 0)
			continue;
		if (g->has_self &&
		    memcmp(m->id, g->self, MEMBER_ID_BYTES) == 0)
			return NULL;
		return m;
	}
	return NULL;
}

/* A subnet of a record as tables hold it: host bits and unused address
 * bytes clear. -1 if it is not IPv4 or IPv6. */
static int
gw_norm(struct prefix *out, const struct prefix *in)
{
	if ((in->family != 4 || in->len > 32) &&
	    (in->family != 6 || in->len > 128))
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	out->len = in->len;
	memcpy(out->addr, in->addr, in->family == 4 ? 4 : 16);
	prefix_mask(out);
	return 0;
}

static int
gw_fib_order(const void *a, const void *b)
{
	const struct routed_fib_entry *x = a, *y = b;

	return prefix_cmp(&x->dst, &y->dst);
}

int
routed_gateway_fib(struct routed_fib *f, const struct graph *g,
    const char *gateway)
{
	const struct graph_member *m;
	struct routed_fib_entry e;
	struct prefix p;
	size_t i, w;
	int k, added = 0;

	for (w = 0, i = 0; i < f->n; i++)
		if (f->v[i].dst.len >= GATEWAY_SHORT_LEN)
			f->v[w++] = f->v[i];
	f->n = w;

	m = routed_gateway_member(g, gateway);
	if (m == NULL || !m->reachable || m->next_hop < 0 ||
	    (size_t)m->next_hop >= g->n)
		return 0;
	memset(&e, 0, sizeof(e));
	memcpy(e.dest, m->id, MEMBER_ID_BYTES);
	memcpy(e.next_hop, g->m[m->next_hop].id, MEMBER_ID_BYTES);
	e.cost = m->dist > UINT32_MAX ? UINT32_MAX : (uint32_t)m->dist;
	for (k = 0; k < m->nsubnets && k < GRAPH_MAX_SUBNETS; k++) {
		if (gw_norm(&p, &m->subnets[k]) == -1 ||
		    p.len >= GATEWAY_SHORT_LEN)
			continue;
		e.dst = p;
		if (routed_fib_add(f, &e) == -1)
			return -1;
		added = 1;
	}
	if (added)
		qsort(f->v, f->n, sizeof(f->v[0]), gw_fib_order);
	return 0;
}

int
routed_gateway_routes(struct prefix_set *s, const struct graph *g,
    const char *gateway)
{
	const struct graph_member *m;
	struct prefix p;
	size_t i, w;
	int k, added = 0;

	for (w = 0, i = 0; i < s->n; i++)
		if (s->v[i].len >= GATEWAY_SHORT_LEN)
			s->v[w++] = s->v[i];
	s->n = w;

	if ((m = routed_gateway_member(g, gateway)) == NULL)
		return 0;
	for (k = 0; k < m->nsubnets && k < GRAPH_MAX_SUBNETS; k++) {
		if (gw_norm(&p, &m->subnets[k]) == -1 ||
		    p.len >= GATEWAY_SHORT_LEN)
			continue;
		if (p.len == 0) {
			/* The two halves: 0.0.0.0/1 and 128.0.0.0/1, or
			 * ::/1 and 8000::/1. */
			p.len = 1;
			if (prefix_set_add(s, &p) == -1)
				return -1;
			p.addr[0] = 0x80;
		}
		if (prefix_set_add(s, &p) == -1)
			return -1;
		added = 1;
	}
	if (added)
		prefix_set_sort(s);
	return 0;
}
