/*
 * om-ipc: knock on a daemon's nng IPC socket the way a sibling would,
 * for the netns tests that check who may talk to whom.
 *
 *   om-ipc dh SOCKET [TIMEOUT_MS]
 *   om-ipc ctl SOCKET JSON
 *
 * Dials SOCKET (e.g. DIR/run/keyd.crypto) as a req0 client, sends one
 * well-formed MSG_DH_REQ (header and a random public key, exactly what
 * linkd sends) and waits TIMEOUT_MS (default 2000) for an answer.
 * Prints "dialed=0|1 sent=0|1 answered=0|1 bytes=N" and exits 0 when it
 * could dial. Run as linkd's user it must be answered; as any other
 * user keyd must close the connection before reading the request, so
 * nothing comes back (and keyd logs "refused IPC connection").
 *
 * dh talks raw nng, not proto/ipc.c, so it does not inherit that code's
 * own checks: it is the stranger, not a sibling.
 *
 * ctl sends one JSON request to a daemon's ctl socket (DIR/run/ctl.linkd)
 * with the project's own client and prints the reply on one line, for
 * the counters the onionmesh command does not show (linkd's
 * hs_ratelimited, tund's packet counts, keyd's dh_refused). Exit 1 when
 * the daemon did not answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "proto/buf.h"
#include "proto/ipc.h"
#include "proto/msg.h"

static int
ctl(const char *path, const char *text)
{
	json_error_t jerr;
	json_t *req, *rep;
	char err[512], *out;

	if ((req = json_loads(text, 0, &jerr)) == NULL) {
		fprintf(stderr, "om-ipc: `%s' is not JSON: %s\n", text,
		    jerr.text);
		return 2;
	}
	rep = ipc_ctl_call(path, req, 3000, err, sizeof(err));
	json_decref(req);
	if (rep == NULL) {
		fprintf(stderr, "om-ipc: %s\n", err);
		return 1;
	}
	out = json_dumps(rep, JSON_COMPACT);
	printf("%s\n", out != NULL ? out : "null");
	free(out);
	json_decref(rep);
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t pbuf[64];
	struct msg_dh_req req;
	struct msg_hdr h;
	struct buf_w w;
	char url[300];
	nng_socket s;
	nng_msg *m = NULL;
	long timeout = 2000;
	int dialed = 0, sent = 0, answered = 0, rv;
	size_t got = 0;

	if (argc == 4 && strcmp(argv[1], "ctl") == 0)
		return ctl(argv[2], argv[3]);
	if (argc < 3 || argc > 4 || strcmp(argv[1], "dh") != 0) {
		fprintf(stderr, "usage: om-ipc dh SOCKET [TIMEOUT_MS]\n"
		    "       om-ipc ctl SOCKET JSON\n");
		return 2;
	}
	if (argc == 4 && ((timeout = strtol(argv[3], NULL, 10)) < 1 ||
	    timeout > 60000)) {
		fprintf(stderr, "om-ipc: TIMEOUT_MS `%s' is not 1..60000\n",
		    argv[3]);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if ((size_t)snprintf(url, sizeof(url), "ipc://%s", argv[2]) >=
	    sizeof(url)) {
		fprintf(stderr, "om-ipc: socket path too long\n");
		return 2;
	}
	if ((rv = nng_req0_open(&s)) != 0) {
		fprintf(stderr, "om-ipc: %s\n", nng_strerror(rv));
		return 1;
	}
	(void)nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, (nng_duration)timeout);
	(void)nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (nng_duration)timeout);
	if ((rv = nng_dial(s, url, NULL, 0)) != 0) {
		fprintf(stderr, "om-ipc: cannot dial %s: %s\n", url,
		    nng_strerror(rv));
		printf("dialed=0 sent=0 answered=0 bytes=0\n");
		nng_close(s);
		return 1;
	}
	dialed = 1;

	randombytes_buf(req.pub, sizeof(req.pub));
	bw_init(&w, pbuf, sizeof(pbuf));
	msg_dh_req_encode(&w, &req);
	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.type = MSG_DH_REQ;
	h.length = (uint32_t)w.len;
	h.req = 1;
	if (w.err || nng_msg_alloc(&m, MSG_HDR_LEN + w.len) != 0)
		return 1;
	msg_hdr_encode(nng_msg_body(m), &h);
	memcpy((uint8_t *)nng_msg_body(m) + MSG_HDR_LEN, pbuf, w.len);
	/* req0 queues the request until a pipe takes it: a refused pipe
	 * never does, and the send or the receive times out. */
	if (nng_sendmsg(s, m, 0) == 0) {
		sent = 1;
		m = NULL;
		if (nng_recvmsg(s, &m, 0) == 0) {
			answered = 1;
			got = nng_msg_len(m);
		}
	}
	if (m != NULL)
		nng_msg_free(m);
	printf("dialed=%d sent=%d answered=%d bytes=%zu\n", dialed, sent,
	    answered, got);
	nng_close(s);
	return 0;
}
