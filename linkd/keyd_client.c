/*
 * keyd_dh(): X25519 with this member's static secret, which only keyd
 * holds. Written after OpenSSH's mm_* wrappers: a synchronous rpc over
 * keyd.crypto with the same shape as the local operation it replaces,
 * so the session (and the Noise code under it) call it as a plain
 * noise_dh_fn and never know the key is in another process.
 *
 * It blocks the loop for at most KEYD_DH_TIMEOUT_MS, and only at
 * handshake time (one call per handshake). When keyd is down the
 * handshake fails and is retried; established links do not need keyd.
 * The rpc socket is module state rather than the callback argument
 * because the session passes its own (the link) to every callback.
 *
 * After a call that keyd did not answer, further calls fail at once for
 * KEYD_DOWN_HOLD s: a DH is the first thing a responder does for any
 * handshake with a valid mac1, and mac1 needs only our public key, so
 * without this a stranger could stall the loop for 500 ms per handshake
 * while keyd is away.
 *
 * An unanswered call also dials keyd.crypto again, on a new socket. A
 * req/rep pair whose request timed out was seen to stay deaf: under
 * load (a check run beside other builds) every DH call of one linkd
 * timed out for 77 s while keyd ran, and the first call after that
 * linkd restarted, on a new pipe, was answered at once. A new socket is
 * cheap and leaves nothing of the old exchange behind.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/buf.h"
#include "proto/ipc.h"
#include "proto/log.h"

#define KEYD_DH_TIMEOUT_MS 500
#define KEYD_DOWN_HOLD     1.0

static struct ipc_rpc *keyd_rpc;
static double keyd_down_until;
static char keyd_path[PATH_MAX];
static uid_t keyd_uid_want;

int
keyd_client_open(const char *path, uid_t keyd_uid)
{
	snprintf(keyd_path, sizeof(keyd_path), "%s", path);
	keyd_uid_want = keyd_uid;
	keyd_rpc = ipc_rpc_dial(path, D_LINKD, D_KEYD, keyd_uid);
	return keyd_rpc == NULL ? -1 : 0;
}

/* A new socket after an unanswered call (see the top). */
static void
keyd_client_redial(void)
{
	ipc_rpc_close(keyd_rpc);
	keyd_rpc = ipc_rpc_dial(keyd_path, D_LINKD, D_KEYD, keyd_uid_want);
	if (keyd_rpc == NULL)
		log_warnx_rl(&keyd_path, "cannot dial %s again; DH calls fail "
		    "until linkd restarts", keyd_path);
}

void
keyd_client_close(void)
{
	if (keyd_rpc != NULL)
		ipc_rpc_close(keyd_rpc);
	keyd_rpc = NULL;
}

int
keyd_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	struct msg_dh_req req;
	struct msg_dh_resp resp;
	uint8_t wbuf[64], rbuf[64];
	struct buf_w w;
	ssize_t n;
	int rc = -1;

	if (keyd_rpc == NULL || linkd_now() < keyd_down_until)
		return -1;
	memcpy(req.pub, pub, sizeof(req.pub));
	bw_init(&w, wbuf, sizeof(wbuf));
	msg_dh_req_encode(&w, &req);
	if (w.err)
		return -1;
	n = ipc_rpc_call(keyd_rpc, MSG_DH_REQ, &w, MSG_DH_RESP, rbuf,
	    sizeof(rbuf), KEYD_DH_TIMEOUT_MS);
	if (n < 0) {
		keyd_down_until = linkd_now() + KEYD_DOWN_HOLD;
		log_warnx_rl(&keyd_rpc, "keyd did not answer a DH request "
		    "within %d ms: handshake fails, will be retried",
		    KEYD_DH_TIMEOUT_MS);
		keyd_client_redial();
	} else if (msg_dh_resp_decode(&resp, rbuf, (size_t)n) == -1) {
		log_warnx_rl(&keyd_rpc, "keyd sent a malformed DH reply "
		    "(%zd bytes)", n);
	} else if (resp.status != 0) {
		log_warnx_rl(&keyd_rpc, "keyd refused a DH request "
		    "(status %u)", resp.status);
	} else {
		memcpy(out, resp.shared, NOISE_DHLEN);
		rc = 0;
	}
	sodium_memzero(&resp, sizeof(resp));
	sodium_memzero(rbuf, sizeof(rbuf));
	return rc;
}
