/*
 * tund -> members: each superpacket tund sends is routed once and
 * sealed on its way (the other direction, and the socket, are
 * datapath.c's).
 *
 *   recv into one buffer -> IP version and destination -> route_decide
 *   (route.h: the member, and whether it is reached directly) ->
 *   multipath picks its link -> the session seals straight from our
 *   buffer. No allocation, no copy of ours; at most DP_BATCH messages
 *   per wakeup. A member with no direct link up is reached through its
 *   end-to-end session (e2e.c), whose frames go to the next hop that
 *   same decision named.
 *
 * The top of the packet path: it calls down (route, links, e2e) and
 * nothing calls up into it but the loop.
 */
#include <sys/socket.h>

#include "linkd/linkd.h"
#include "proto/log.h"

/* One superpacket from tund to its member. */
static void
outbound_packet(struct linkd *ld, const uint8_t *pkt, size_t len, double now)
{
	struct datapath *dp = &ld->dp;
	const uint8_t *dst;
	struct route r;
	struct link *l;
	int family;

	if (dp_inner_addr(pkt, len, 0, &family, &dst) == -1) {
		dp->bad_packets++;
		return;
	}
	route_decide(ld, family, dst, &r);
	switch (r.kind) {
	case ROUTE_NONE:
		dp->no_route++;
		return;
	case ROUTE_NO_MEMBER:
		dp->no_link++;
		return;
	case ROUTE_DIRECT:
		/* A direct link when one is up; else the member's
		 * end-to-end session through the table's next hop.
		 * Striping has its own queue per member (stripe.h). */
		if (r.dest->mp.policy == MP_STRIPE) {
			switch (stripe_send(r.dest, pkt, len, now)) {
			case STRIPE_SENT:
			case STRIPE_QUEUED:
				return;
			case STRIPE_DROPPED:
				dp->congested++;
				r.dest->congested++;
				return;
			case STRIPE_FAILED:
				dp->no_link++;
				return;
			case STRIPE_NO_LINK:
				break;
			}
			r.via = route_next_hop_table(ld, r.dest);
			break;
		}
		l = peer_tx_link(r.dest, pkt + TUN_VNET_HDR_LEN,
		    len - TUN_VNET_HDR_LEN, now);
		if (l != NULL && link_congested(l)) {
			/* Only this member's packets wait for its links. */
			dp->congested++;
			r.dest->congested++;
			return;
		}
		if (l != NULL) {
			if (link_send_packet(l, pkt, len, now) == -1)
				dp->no_link++;
			return;
		}
		r.via = route_next_hop_table(ld, r.dest);
		break;
	case ROUTE_RELAYED:
		break;
	}
	e2e_send_packet(ld, r.dest, r.via, pkt, len, now);
}

static void
outbound_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct linkd *ld = w->data;
	struct datapath *dp = &ld->dp;
	char why[128];
	double now = linkd_now();
	ssize_t n;
	int i;

	for (i = 0; i < DP_BATCH; i++) {
		n = stream_recv(dp->fd, dp->buf, DP_BUF, MSG_TRUNC, why,
		    sizeof(why));
		if (n == STREAM_AGAIN)
			return;
		if (n <= 0) {
			datapath_disconnect(ld, n == 0 ? "tund closed the "
			    "data socket" : why);
			return;
		}
		if ((size_t)n > DP_BUF) {       /* truncated: not ours */
			dp->bad_packets++;
			continue;
		}
		dp->tx_packets++;
		outbound_packet(ld, dp->buf, (size_t)n, now);
		if (ld->links_over_high > 0) {
			/* A TCP link is congested: let TUN's queue push
			 * back (onion links drop their member's packets
			 * instead, above). */
			ev_io_stop(loop, &dp->rio);
			dp->tund_paused = 1;
			dp->tund_paused_n++;
			return;
		}
	}
}

void
outbound_init(struct linkd *ld)
{
	ev_io_init(&ld->dp.rio, outbound_read_cb, 0, EV_READ);
	ld->dp.rio.data = ld;
}
