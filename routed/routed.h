/*
 * routed's internal interfaces: the daemon state that routed.c owns and
 * the other files work on. routed.c starts and stops the daemon and
 * fires its timers; recompute.c turns the graph into tables and pushes
 * them; dispatch.c turns messages into calls; ctl.c answers the ctl
 * socket. The routing logic itself is in graph.h, fib.h and gateway.h,
 * which know nothing of this struct.
 */
#ifndef OM_ROUTED_H
#define OM_ROUTED_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "proto/daemon.h"
#include "proto/dispatch.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "routed/accept.h"
#include "routed/fib.h"
#include "routed/graph.h"

#define ROUTED_SETTLE_S 0.05
#define ROUTED_RETRY_S  1.0
#define ROUTED_EDGES_SOON_S  0.5   /* coalesce a burst of link changes */
#define ROUTED_EDGES_EVERY_S 30.0  /* rtts drift; keyd restarts */

struct routed {
	struct daemon_ctx d;
	struct graph g;
	struct routed_fib fib;           /* the table linkd has or is to get */
	struct prefix_set routes;  /* the routes tund has or is to get */
	struct routed_accept acc;  /* whose subnets we take (accept.h), and
	                            * the refusals logged once */
	uint32_t fib_gen;         /* generation of the last fib pushed */
	uint32_t route_gen;
	int fib_pending;          /* push when linkd can take it */
	int routes_pending;
	int in_sync;              /* between MSG_SELF and MSG_SYNC_DONE */
	int have_netid;
	uint8_t netid[NETID_BYTES];
	struct ipc_chan *keyd;
	struct ipc_chan *linkd;
	struct ipc_chan *tund;
	struct ipc_ctl *ctl;
	ev_timer settle;          /* coalesces bursts of changes */
	ev_timer retry;           /* a push that did not fit */
	struct msg_tun_state tun;
	int have_tun;
	ev_timer edges_soon;      /* our links changed: tell keyd shortly */
	ev_timer edges_every;     /* and again every ROUTED_EDGES_EVERY_S */
	uint64_t edges_local_sent;
	uint64_t edges_in;        /* announcements taken from keyd */
	uint64_t edges_bad;       /* refused (parse, signature) */
	uint64_t recomputes;
	uint64_t fib_pushes;
	uint64_t route_pushes;
};

/* routed.c: the timers and channels live from routed_start() to
 * routed_stop(). */
void routed_start(struct routed *r);
void routed_stop(struct routed *r);

/* recompute.c: when and what to push. The timers these arm are
 * initialised by routed_start(). */
/* Something the table depends on changed: recompute soon. */
void routed_changed(struct routed *r);
/* Recompute now and push what differs. */
void routed_recompute(struct routed *r);
/* Our links changed: tell keyd once the burst is over. */
void routed_edges_soon(struct routed *r);
/* Our live links to keyd now (MSG_EDGES_LOCAL). */
void routed_edges_local_send(struct routed *r);

/* dispatch.c: what routed does with each message, from whom. */
extern const struct msg_handler routed_msgs[];
extern const size_t routed_nmsgs;

/* ctl.c: the commands of ctl.routed. */
extern const struct ctl_cmd routed_ctl_cmds[];
extern const size_t routed_nctl_cmds;

#endif
