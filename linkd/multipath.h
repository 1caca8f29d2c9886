/*
 * Multipath scheduling: which of a peer's established links carries the
 * next packet. Pure: it sees only a small view of each link (struct
 * mp_path, embedded in the link), a per-peer scheduler state and, for
 * the flow policy, the inner IP packet, so unit tests drive it without
 * sockets.
 *
 * Policies:
 *  MP_STICKY  (TCP links) every packet on one link, the first
 *             established, for as long as it stays up. TCP inside the
 *             tunnel treats reordering as loss, and a second link over
 *             the same network path adds no capacity, so one link is
 *             best.
 *  MP_FLOW    (Tor circuits) each flow (the inner 5-tuple: addresses,
 *             protocol and, for TCP/UDP/SCTP/UDP-Lite, ports) stays on
 *             one circuit and different flows go to different circuits,
 *             so the mesh is not capped at one circuit's speed while no
 *             flow is reordered. A new flow goes to the circuit with the
 *             fewest live flows (then the least queued), and a small
 *             table remembers it; it moves only if its circuit goes
 *             down. A circuit coming up moves nothing: new flows fill it.
 *             The table is bounded (MP_FLOW_SLOTS, direct-mapped by the
 *             flow hash, entries idle for MP_FLOW_IDLE s are free): a
 *             flow whose slot holds another live flow is placed by
 *             rendezvous hashing instead (highest score of flow x path
 *             key), which is stateless and just as stable.
 *  MP_STRIPE  spread packets over every up link, each to the one with
 *             the least queued, so even one flow adds circuits up. It
 *             reorders. linkd's striping (multipath = stripe, the
 *             default over circuits) does not call mp_select for it:
 *             stripe.c picks with sched.c (expected arrival, stalls) and
 *             numbers the packets for the receiver's reorder buffer.
 */
#ifndef OM_LINKD_MULTIPATH_H
#define OM_LINKD_MULTIPATH_H

#include <stddef.h>
#include <stdint.h>

enum mp_policy {
	MP_STICKY = 0,
	MP_STRIPE = 1,
	MP_FLOW = 2,
};

/* What the scheduler may know about one link. */
struct mp_path {
	int up;               /* session established, socket open */
	double t_up;          /* when it became established (monotonic) */
	size_t backlog;       /* bytes queued in linkd for it */
	uint64_t sent;        /* packets the scheduler put on it */
	uint32_t key;         /* MP_FLOW: random, fixed for the link's life */
};

#define MP_MAX_PATHS  64      /* paths a scheduler looks at */
#define MP_FLOW_SLOTS 256     /* flows remembered per peer (power of 2) */
#define MP_FLOW_IDLE  10.0    /* s without a packet: the flow is over; a
                               * far longer gap than any two circuits'
                               * delays differ, so moving it then cannot
                               * reorder it */

struct mp_flow {
	uint32_t flow;                 /* mp_flow_hash */
	uint32_t key;                  /* the path it is on */
	double t_last;                 /* its last packet */
	int used;
};

struct mp_sched {
	enum mp_policy policy;
	const struct mp_path *current; /* sticky choice, NULL none */
	unsigned rr;                   /* stripe tie breaker */
	struct mp_flow flows[MP_FLOW_SLOTS];
};

void mp_init(struct mp_sched *m, enum mp_policy policy);
/* Index into paths of the link for the next packet, or -1 when none is
 * up. flow is mp_flow_hash() of the packet and now the monotonic time
 * in seconds (only MP_FLOW looks at them). Only the first MP_MAX_PATHS
 * paths are considered. Counts the packet in paths[i]->sent. */
int mp_select(struct mp_sched *m, struct mp_path *const *paths, size_t n,
    uint32_t flow, double now);
/* A path is going away (its link closes): forget it. */
void mp_forget(struct mp_sched *m, const struct mp_path *p);
/* The flow of an IP packet (IPv4 or IPv6, starting at the IP header):
 * a hash of version, protocol, source and destination address and, for
 * TCP, UDP, SCTP and UDP-Lite when the packet carries them (not an IPv4
 * fragment, no IPv6 extension header first), both ports. 0 for anything
 * too short or not IP: such packets all share one path. */
uint32_t mp_flow_hash(const uint8_t *ip, size_t len);

#endif
