/*
 * routed's internal interfaces: the daemon state that routed.c owns and
 * dispatch.c and ctl.c work on. The routing logic itself is in graph.h
 * and fib.h, which know nothing of this struct.
 */
#ifndef OM_ROUTED_H
#define OM_ROUTED_H

#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "proto/daemon.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "routed/fib.h"
#include "routed/graph.h"

struct routed {
	struct daemon_ctx d;
	struct graph g;
	struct routed_fib fib;           /* the table linkd has or is to get */
	struct routed_routes routes;  /* the routes tund has or is to get */
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

/* dispatch.c */
void routed_dispatch_start(struct routed *r);
void routed_dispatch_stop(struct routed *r);
/* Something the table depends on changed: recompute soon. */
void routed_changed(struct routed *r);
/* Recompute now and push what differs. */
void routed_recompute(struct routed *r);

/* ctl.c */
json_t *routed_ctl(json_t *req, int may_change, void *arg);

#endif
