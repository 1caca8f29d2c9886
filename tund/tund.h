/*
 * What tund's parts share: the daemon state (struct tund), the data path
 * between the TUN device and linkd (datapath.c), the channel to routed
 * (dispatch.c) and the ctl socket (ctl.c). Internal to tund/; no other
 * daemon includes it.
 */
#ifndef OM_TUND_TUND_H
#define OM_TUND_TUND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "proto/daemon.h"
#include "proto/ipc.h"
#include "tund/tun.h"

/* Reads (or receives) per wakeup before giving the loop back, so one
 * busy direction cannot starve the other or the ctl socket. */
#define DP_BATCH 64
/* Socket buffers asked for on the linkd connection. */
#define DP_SOCKBUF (4 * 1024 * 1024)

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

struct tund {
	struct daemon_ctx d;
	struct tun_dev tun;
	struct datapath dp;
	struct ipc_chan *routed;
	struct ipc_ctl *ctl;
	int up;                  /* device configured and up */
	/* Routes from routed: counted for now; installing subnet routes
	 * comes later. */
	uint32_t route_gen;      /* generation being received */
	uint32_t route_count;    /* entries in that generation so far */
	uint32_t routes;         /* entries of the last committed one */
	uint64_t route_begins, route_entries, route_commits, route_bad;
};

/* Dial routed.tund; on connect send MSG_TUN_STATE. */
int tund_dispatch_start(struct tund *t) __attribute__((warn_unused_result));
void tund_dispatch_stop(struct tund *t);
/* The routed channel's handler, exposed for unit tests. */
void tund_dispatch_routed(struct tund *t, const struct msg_hdr *h,
    const uint8_t *payload);

int tund_ctl_start(struct tund *t) __attribute__((warn_unused_result));
void tund_ctl_stop(struct tund *t);
/* Answer one ctl request (new reference); exposed for unit tests. */
json_t *tund_ctl_handle(struct tund *t, json_t *req, int may_change);

#endif
