/*
 * Multipath scheduling: which of a peer's established links carries the
 * next packet. Pure: it sees only a small view of each link (struct
 * mp_path, embedded in the link) and a per-peer scheduler state, so unit
 * tests drive it without sockets.
 *
 * Policies:
 *  MP_STICKY  (TCP now) every packet on one link, the first established,
 *             for as long as it stays up. TCP inside the tunnel treats
 *             reordering as loss, and a second link over the same
 *             network path adds no capacity, so one link is best.
 *  MP_STRIPE  (Tor circuits, later) spread packets over every up link,
 *             each to the one with the least queued, so several slow
 *             circuits add up. It reorders: it is only to be switched on
 *             together with a receiver-side reorder buffer keyed on a
 *             sequence number carried in the inner frame.
 */
#ifndef OM_LINKD_MULTIPATH_H
#define OM_LINKD_MULTIPATH_H

#include <stddef.h>
#include <stdint.h>

enum mp_policy {
	MP_STICKY = 0,
	MP_STRIPE = 1,
};

/* What the scheduler may know about one link. */
struct mp_path {
	int up;               /* session established, socket open */
	double t_up;          /* when it became established (monotonic) */
	size_t backlog;       /* bytes queued in linkd for it */
	uint64_t sent;        /* packets the scheduler put on it */
};

struct mp_sched {
	enum mp_policy policy;
	const struct mp_path *current; /* sticky choice, NULL none */
	unsigned rr;                   /* stripe tie breaker */
};

void mp_init(struct mp_sched *m, enum mp_policy policy);
/* Index into paths of the link for the next packet, or -1 when none is
 * up. Counts the packet in paths[i]->sent. */
int mp_select(struct mp_sched *m, struct mp_path *const *paths, size_t n);
/* A path is going away (its link closes): forget it. */
void mp_forget(struct mp_sched *m, const struct mp_path *p);

#endif
