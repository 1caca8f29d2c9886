/*
 * IPC between onionmesh processes: nng over ipc:// sockets in the
 * network's runtime directory, driven from each daemon's libev loop.
 *
 * Three shapes:
 *  - a channel (nng pair1) joins exactly two daemons and carries binary
 *    catalogue messages (msg.h) both ways. The listener is the daemon
 *    named first in the socket file name ("keyd.linkd": keyd listens).
 *    Every received message is checked — peer uid (NNG_OPT_IPC_PEER_UID)
 *    against the uid expected for that daemon, then msg_check() — before
 *    the handler runs; anything refused is logged (rate-limited) and
 *    dropped. When the peer (re)connects, on_up runs in the loop so the
 *    daemon can resend the state its peer needs.
 *  - an rpc (nng req0/rep0) for keyd's key operations: linkd calls
 *    synchronously with a short timeout, as OpenSSH's mm_* wrappers do.
 *  - a ctl socket (nng rep0) per daemon answering JSON requests from the
 *    onionmesh command.
 *
 * nng callbacks run on nng's threads; they only ev_async_send() into the
 * loop. Handlers always run on the loop thread.
 */
#ifndef OM_IPC_H
#define OM_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "proto/dispatch.h"
#include "proto/json.h"
#include "proto/msg.h"

struct ipc_chan;
struct ipc_rpc;
struct ipc_ctl;

/* Runtime socket file names, joined to the runtime dir by ipc_path(). */
#define IPC_KEYD_LINKD   "keyd.linkd"
#define IPC_KEYD_ROUTED  "keyd.routed"
#define IPC_KEYD_CRYPTO  "keyd.crypto"
#define IPC_ROUTED_LINKD "routed.linkd"
#define IPC_ROUTED_TUND  "routed.tund"
#define IPC_TUND_DATA    "tund.data"    /* SOCK_SEQPACKET, not nng */
#define IPC_LINKD_ONION  "linkd.onion"  /* stream, not nng: tor connects */
#define IPC_CTL_FMT      "ctl.%s"       /* ctl.keyd, ctl.linkd, ... */

/* out = "<rundir>/<name>"; -1 if it does not fit sun_path. */
int ipc_path(char *out, size_t cap, const char *rundir, const char *name)
    __attribute__((warn_unused_result));

typedef void (*ipc_msg_cb)(struct ipc_chan *c, const struct msg_hdr *h,
    const uint8_t *payload, void *arg);
typedef void (*ipc_up_cb)(struct ipc_chan *c, void *arg);

struct ipc_chan_cfg {
	struct ev_loop *loop;
	const char *path;       /* socket file */
	enum daemon self;
	enum daemon peer;
	uid_t peer_uid;         /* expected uid of the peer process */
	ipc_msg_cb on_msg;      /* or: */
	const struct msg_handler *handlers; /* the daemon's table, run with
	                                     * arg as ctx (dispatch.h) */
	size_t nhandlers;
	ipc_up_cb on_up;        /* may be NULL */
	void *arg;
};

/* Listen (unlinks a stale socket file; mode 0660) or dial (retries in
 * the background until the listener appears). NULL on failure, with a
 * log line saying why. */
struct ipc_chan *ipc_chan_listen(const struct ipc_chan_cfg *cfg);
struct ipc_chan *ipc_chan_dial(const struct ipc_chan_cfg *cfg);
/* Queue a message; never blocks. -1 if it could not be queued (no peer
 * connected, or its buffer is full): the caller's state is resent on
 * the next on_up, so a dropped update is not lost for good. */
int ipc_send(struct ipc_chan *c, uint16_t type, uint32_t obj, uint32_t req,
    const struct buf_w *payload);
int ipc_chan_connected(const struct ipc_chan *c);
void ipc_chan_close(struct ipc_chan *c);

/* rpc server (keyd): handler fills `reply` and returns the reply type,
 * or 0 to send nothing (the caller times out). */
typedef uint16_t (*ipc_rpc_cb)(const struct msg_hdr *h,
    const uint8_t *payload, struct buf_w *reply, void *arg);
struct ipc_rpc *ipc_rpc_listen(struct ev_loop *loop, const char *path,
    enum daemon self, enum daemon peer, uid_t peer_uid, ipc_rpc_cb cb,
    void *arg);
/* rpc client (linkd): blocking call with timeout. Returns the reply
 * payload length copied to out, or -1 (timeout, refused, bad reply:
 * reply type must equal want_type). */
struct ipc_rpc *ipc_rpc_dial(const char *path, enum daemon self,
    enum daemon peer, uid_t peer_uid);
ssize_t ipc_rpc_call(struct ipc_rpc *r, uint16_t type,
    const struct buf_w *req, uint16_t want_type, uint8_t *out, size_t cap,
    int timeout_ms) __attribute__((warn_unused_result));
void ipc_rpc_close(struct ipc_rpc *r);

/* ctl server: answers JSON requests from a command table (dispatch.h).
 * A request that is not a JSON object with a "cmd" string, a command
 * the table does not have, or one that changes state from a caller who
 * may only read (anyone in the socket's group but root and this
 * daemon's own uid) is answered at the door and never reaches a
 * handler. A handler returns a new reference to the reply object, which
 * always has "ok": true/false and on false "error": "message naming the
 * value" (json.h); daemon names the daemon in the door's answers. */
struct ipc_ctl *ipc_ctl_listen(struct ev_loop *loop, const char *path,
    const char *daemon, const struct ctl_cmd *tab, size_t n, void *ctx);
void ipc_ctl_close(struct ipc_ctl *c);
/* ctl client (onionmesh command). Returns a new reference or NULL with
 * a message in err ("keyd is not running (no socket at PATH)"). */
json_t *ipc_ctl_call(const char *path, json_t *req, int timeout_ms,
    char *err, size_t errlen);

#endif
