/*
 * What tund's parts share: the daemon state (struct tund) that tund.c
 * starts and stops, the data path between the TUN device and linkd
 * (datapath.c), the routes routed sends and their way onto the device
 * (routes.c), routed's messages (dispatch.c) and the ctl socket
 * (ctl.c). Internal to tund/; no other daemon includes it.
 */
#ifndef OM_TUND_TUND_H
#define OM_TUND_TUND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "proto/daemon.h"
#include "proto/dispatch.h"
#include "proto/ipc.h"
#include "proto/prefixset.h"
#include "tund/tun.h"

/* Reads (or receives) per wakeup before giving the loop back, so one
 * busy direction cannot starve the other or the ctl socket. */
#define DP_BATCH 64

/*
 * Counters of the data path. "rx" is what tund read from the TUN device
 * (leaving this host into the mesh), "tx" what it wrote to the device;
 * bytes count IP bytes without the vnet header. One superpacket counts
 * as one packet.
 */
struct dp_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t drop_nolink;    /* read from the TUN while no linkd */
	uint64_t drop_bad;       /* malformed message (either direction) */
	uint64_t drop_link;      /* linkd went away holding our packet */
	uint64_t drop_tun;       /* the kernel refused a write */
	uint64_t drop_vnet;      /* a peer's vnet header not matching its
	                          * packet, with segmentation asked for */
	uint64_t vnet_cleared;   /* one without: header cleared, written */
	uint64_t stall_link;     /* linkd full: TUN reads paused */
	uint64_t stall_tun;      /* TUN full: linkd receives paused */
	uint64_t accepts;        /* linkd connections taken */
	uint64_t refused;        /* connections from a wrong uid */
};

struct datapath {
	struct ev_loop *loop;
	int tun_fd;
	int lfd;                 /* listening SOCK_SEQPACKET socket */
	int cfd;                 /* the linkd connection, or -1 */
	uid_t linkd_uid;         /* the only uid allowed to connect */
	char path[108];          /* socket file, removed at stop */
	ev_io w_tun_r, w_tun_w, w_listen, w_link_r, w_link_w;
	/* TUN -> linkd: one packet read but not yet sent (backpressure) */
	uint8_t *out_buf;
	size_t out_len;
	int out_pending;
	/* linkd -> TUN */
	uint8_t *in_buf;
	size_t in_len;
	int in_pending;
	int failed;              /* the TUN device broke: loop stopped */
	struct dp_stats st;
};

/*
 * Create the socket file (0660, given to owner:group under privsep) and
 * listen; needs to run before privileges are dropped. -1 with a message
 * in err.
 */
int datapath_listen(struct datapath *dp, const char *path, uid_t owner,
    gid_t group, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Start moving packets between tun_fd and whichever linkd connects. */
int datapath_start(struct datapath *dp, struct ev_loop *loop, int tun_fd,
    uid_t linkd_uid) __attribute__((warn_unused_result));
void datapath_stop(struct datapath *dp);
int datapath_linkd_connected(const struct datapath *dp);

/*
 * Routes on the TUN device (routes.c): sets of prefixes kept sorted
 * (proto/prefixset.h), and the walk from what is installed to what
 * routed committed. The walk calls op for each change (add 1: add, 0:
 * delete); op returns 0 or a negative errno (-ESRCH on a delete:
 * already gone, which counts as done). Pure apart from op, for the unit
 * tests.
 */
#define TUND_ROUTES_MAX 65536    /* bound on what a (buggy) routed sends */

struct route_sync_stats {
	size_t added, removed, failed;
};

typedef int (*route_op_fn)(void *arg, const struct prefix *p, int add);

/* Can p be a route to the device? NULL, or why not (family, length 0,
 * length past the address, host bits set). */
const char *route_check(const struct prefix *p);
/* Bring the kernel (and *have) from have to want (both sorted). -1 only
 * when out of memory before anything changed. */
int route_set_sync(struct prefix_set *have, const struct prefix_set *want,
    route_op_fn op, void *arg, struct route_sync_stats *st)
    __attribute__((warn_unused_result));

struct tund {
	struct daemon_ctx d;
	struct tun_dev tun;
	struct datapath dp;
	struct ipc_chan *routed;
	struct ipc_ctl *ctl;
	int up;                  /* device configured and up */
	/*
	 * Routes from routed (other members' subnets, and a gateway's
	 * default as two halves): a table is received into rt_rx and on
	 * its commit becomes rt_want; route_op (NULL in unit tests that
	 * have no kernel: then nothing is installed) brings rt_have to
	 * it. nlfd is the rtnetlink socket opened before privdrop.
	 */
	uint32_t route_gen;      /* generation being received */
	uint32_t route_count;    /* entries in that generation so far */
	uint32_t routes;         /* entries of the last committed one */
	uint64_t route_begins, route_entries, route_commits, route_bad;
	struct prefix_set rt_rx, rt_want, rt_have;
	int rt_rx_failed;        /* an entry did not fit: refuse commit */
	route_op_fn route_op;
	int nlfd;
	uint64_t route_added, route_removed, route_failed;
};

/* tund.c: the device, the sockets, the drop, and back (main). */
void tund_start(struct tund *t);
void tund_stop(struct tund *t);

/* routes.c: a table from routed, received whole and then applied. The
 * handlers in dispatch.c call these with what they decoded. */
void tund_route_begin(struct tund *t, const struct msg_fib_begin *b);
void tund_route_entry(struct tund *t, const struct msg_route_entry *e);
void tund_route_commit(struct tund *t, const struct msg_fib_commit *c);
/* Bring the device's routes to rt_want (after a commit, or to none at
 * shutdown); logs what changed and what the kernel refused. */
void tund_routes_apply(struct tund *t);
/* route_op for the daemon: rtnetlink on t->nlfd, errors logged. */
int tund_route_kernel(void *arg, const struct prefix *p, int add);

/* dispatch.c: what tund does with each message from routed. */
extern const struct msg_handler tund_msgs[];
extern const size_t tund_nmsgs;

/* ctl.c: the commands of ctl.tund. */
extern const struct ctl_cmd tund_ctl_cmds[];
extern const size_t tund_nctl_cmds;

#endif
