/*
 * keyd's dispatcher: turns what linkd and routed send into calls, and
 * nothing else. One row per message (keyd_msgs[], proto/dispatch.h):
 * ipc.c has checked the message against the catalogue, and takes each
 * type only from the sender its row names.
 *
 * Gossip (gossip.c) rides the channels: linkd hands keyd what members
 * sent (MSG_GOSSIP_IN) and its link counts (MSG_PEER_STATE), routed
 * hands keyd our live links (MSG_EDGES_LOCAL); linkd relays join
 * frames (MSG_JOIN_IN, join_serve.c). What keyd sends back goes out
 * through push.c and gossip.c, never through here.
 *
 * The crypto rpc serves X25519 for linkd only (ipc.c checks the peer
 * uid), through its own small table. It signs nothing: linkd has no use
 * for our signature, and an oracle a compromised linkd could ask would
 * be one more way to speak in our name.
 */
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "proto/log.h"

/* ---- messages ------------------------------------------------------ */

static void
on_peer_state(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	gossip_on_peer_state(ctx, payload, h->length);
}

static void
on_gossip_in(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	gossip_on_in(ctx, payload, h->length);
}

static void
on_join_in(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	join_serve_on_in(ctx, payload, h->length);
}

static void
on_edges_local(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	gossip_on_edges_local(ctx, payload, h->length);
}

const struct msg_handler keyd_msgs[] = {
	{ MSG_PEER_STATE,  D_LINKD,  on_peer_state },
	{ MSG_GOSSIP_IN,   D_LINKD,  on_gossip_in },
	{ MSG_JOIN_IN,     D_LINKD,  on_join_in },
	{ MSG_EDGES_LOCAL, D_ROUTED, on_edges_local },
};
const size_t keyd_nmsgs = TABLE_LEN(keyd_msgs);

void
keyd_on_up(struct ipc_chan *c, void *arg)
{
	struct keyd *k = arg;

	log_info("%s connected; sending %zu records",
	    c == k->linkd ? "linkd" : "routed", k->recs.n);
	if (c == k->linkd) {
		gossip_linkd_up(k);
		join_serve_linkd_up(k);
	}
	(void)push_full(k, c);
}

/* ---- the crypto rpc ------------------------------------------------ */

static uint16_t
on_dh_req(struct keyd *k, const struct msg_hdr *h, const uint8_t *payload,
    struct buf_w *reply)
{
	struct msg_dh_req dq;
	struct msg_dh_resp dr;

	memset(&dr, 0, sizeof(dr));
	if (msg_dh_req_decode(&dq, payload, h->length) == -1) {
		log_warnx_rl(&k->dh_refused, "malformed %s from linkd "
		    "(%u bytes); refused", msg_name(h->type), h->length);
		dr.status = 1;
	} else if (keys_dh(dr.shared, dq.pub) == -1) {
		/* A low-order point: the result would be known to
		 * anyone, so it must never become a key. */
		log_warnx_rl(&k->dh_refused, "DH with a low-order "
		    "public key refused");
		dr.status = 1;
		k->dh_refused++;
	} else
		k->dh_ok++;
	msg_dh_resp_encode(reply, &dr);
	sodium_memzero(&dr, sizeof(dr));
	return MSG_DH_RESP;
}

static const struct {
	uint16_t type;
	uint16_t (*fn)(struct keyd *, const struct msg_hdr *,
	    const uint8_t *, struct buf_w *);
} keyd_rpcs[] = {
	{ MSG_DH_REQ,   on_dh_req },
};

uint16_t
keyd_rpc(const struct msg_hdr *h, const uint8_t *payload,
    struct buf_w *reply, void *arg)
{
	struct keyd *k = arg;
	size_t i;

	for (i = 0; i < TABLE_LEN(keyd_rpcs); i++)
		if (keyd_rpcs[i].type == h->type)
			return keyd_rpcs[i].fn(k, h, payload, reply);
	log_warnx_rl(k, "%s on the crypto rpc: not handled; no reply",
	    msg_name(h->type));
	return 0;
}
