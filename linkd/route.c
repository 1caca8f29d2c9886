/*
 * The route decision (route.h): a destination address or member to the
 * member it belongs to and the next hop, with the debug_route test
 * override consulted here and nowhere else.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "linkd/route.h"
#include "proto/log.h"

static const struct route_override *
route_override(const struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES])
{
	int i;

	for (i = 0; i < ld->routes.n; i++)
		if (memcmp(ld->routes.o[i].dest, dest, MEMBER_ID_BYTES) == 0)
			return &ld->routes.o[i];
	return NULL;
}

/* The member an override sends this address to (its record owns the
 * address), or NULL: a test's packet for a member the table does not
 * route yet. */
static struct peer *
route_override_dest(struct linkd *ld, int family, const uint8_t *addr)
{
	struct peer *p;
	int i;

	for (i = 0; i < ld->routes.n; i++) {
		p = peers_find(ld, ld->routes.o[i].dest);
		if (p != NULL && record_owns_addr(&p->rec, family, addr))
			return p;
	}
	return NULL;
}

void
route_decide(struct linkd *ld, int family, const uint8_t *addr,
    struct route *r)
{
	const struct route_override *o;
	const struct fib_entry *e;

	memset(r, 0, sizeof(*r));
	if ((e = fib_lookup(ld->fib, family, addr)) != NULL)
		r->dest = peers_find(ld, e->dest);
	else if ((r->dest = route_override_dest(ld, family, addr)) == NULL)
		return;                         /* ROUTE_NONE */
	if (r->dest == NULL) {
		r->kind = ROUTE_NO_MEMBER;
		return;
	}
	if ((o = route_override(ld, r->dest->rec.id)) != NULL) {
		r->kind = ROUTE_RELAYED;
		r->via = o->via;
		return;
	}
	r->kind = ROUTE_DIRECT;
}

/* The forwarding table's next hop for a member, never ourselves and
 * never the member itself (that would be a link, which is not up). */
static const uint8_t *
route_table_hop(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES])
{
	const struct fib_entry *e;

	if ((e = fib_lookup_member(ld->fib, dest)) == NULL ||
	    crypto_verify_32(e->next_hop, ld->self_id) == 0 ||
	    crypto_verify_32(e->next_hop, dest) == 0)
		return NULL;
	return e->next_hop;
}

const uint8_t *
route_next_hop_table(struct linkd *ld, const struct peer *p)
{
	return p->links_up > 0 ? p->rec.id : route_table_hop(ld, p->rec.id);
}

int
route_next_hop(struct linkd *ld, const uint8_t dest[MEMBER_ID_BYTES],
    const uint8_t **via)
{
	const struct route_override *o;
	struct peer *p;

	if ((o = route_override(ld, dest)) != NULL) {
		*via = o->via;
		return 0;
	}
	p = peers_find(ld, dest);
	*via = p != NULL ? route_next_hop_table(ld, p) :
	    route_table_hop(ld, dest);
	return *via != NULL ? 0 : -1;
}

int
route_debug_set(struct linkd *ld, const struct peer *dest,
    const struct peer *via)
{
	struct route_override *o;

	o = (struct route_override *)route_override(ld, dest->rec.id);
	if (o == NULL) {
		if (ld->routes.n >= ROUTE_DEBUG_MAX)
			return -1;
		o = &ld->routes.o[ld->routes.n++];
	}
	memcpy(o->dest, dest->rec.id, MEMBER_ID_BYTES);
	memcpy(o->via, via->rec.id, MEMBER_ID_BYTES);
	log_warnx("test hook: frames for %s now go via %s (debug_route)",
	    dest->rec.name, via->rec.name);
	return 0;
}

int
route_debug_clear(struct linkd *ld, const struct peer *dest)
{
	int i;

	for (i = 0; i < ld->routes.n; i++) {
		if (memcmp(ld->routes.o[i].dest, dest->rec.id,
		    MEMBER_ID_BYTES) != 0)
			continue;
		ld->routes.o[i] = ld->routes.o[--ld->routes.n];
		log_warnx("test hook: debug route for %s cleared",
		    dest->rec.name);
		return 0;
	}
	return -1;
}

void
route_debug_clear_all(struct linkd *ld)
{
	if (ld->routes.n > 0)
		log_warnx("test hook: every debug route cleared");
	ld->routes.n = 0;
}
