/*
 * tund's messages from routed (routed.tund, routed listens): the
 * prefixes to route to the device as a whole table (ROUTE_BEGIN,
 * ROUTE_ENTRY..., ROUTE_COMMIT). One row per message in tund_msgs[];
 * the catalogue in proto/msg.c has already refused anything routed may
 * not send or that has the wrong length before a handler runs, the
 * handler decodes, and routes.c takes the table and applies it.
 *
 * The member addresses are covered by the prefixes of tund's own
 * addresses; the table holds the rest: other members' subnets, and the
 * two halves of a default route when this member uses a gateway (the
 * rule of who may be a gateway is routed's, which knows the records and
 * the config).
 */
#include "tund/tund.h"

#include "proto/log.h"

/* A decoder refused the payload: the sibling broke the contract. */
static void
malformed(struct tund *t, const struct msg_hdr *h)
{
	t->route_bad++;
	log_warnx_rl(&t->route_bad, "routed: malformed %s (%u bytes); "
	    "ignored", msg_name(h->type), h->length);
}

static void
on_route_begin(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct msg_fib_begin b;

	/* ROUTE_BEGIN shares FIB_BEGIN's codec. */
	if (msg_fib_begin_decode(&b, p, h->length) == -1)
		malformed(ctx, h);
	else
		tund_route_begin(ctx, &b);
}

static void
on_route_entry(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct msg_route_entry e;

	if (msg_route_entry_decode(&e, p, h->length) == -1)
		malformed(ctx, h);
	else
		tund_route_entry(ctx, &e);
}

static void
on_route_commit(void *ctx, const struct msg_hdr *h, const uint8_t *p)
{
	struct msg_fib_commit c;

	/* ROUTE_COMMIT shares FIB_COMMIT's codec. */
	if (msg_fib_commit_decode(&c, p, h->length) == -1)
		malformed(ctx, h);
	else
		tund_route_commit(ctx, &c);
}

const struct msg_handler tund_msgs[] = {
	{ MSG_ROUTE_BEGIN,  D_ROUTED, on_route_begin },
	{ MSG_ROUTE_ENTRY,  D_ROUTED, on_route_entry },
	{ MSG_ROUTE_COMMIT, D_ROUTED, on_route_commit },
};
const size_t tund_nmsgs = TABLE_LEN(tund_msgs);
