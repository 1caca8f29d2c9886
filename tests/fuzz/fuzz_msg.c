/*
 * Fuzz target: the IPC message catalogue (proto/msg.c), what a daemon
 * reads from a sibling: msg_hdr_decode, msg_check and every payload
 * decoder.
 *
 * Input: a selector byte, a sender byte, then
 *   selector bit 7 clear: a payload, decoded as catalogue type
 *                         (selector % number of types);
 *   selector bit 7 set:   a whole message (16-byte header + payload),
 *                         through msg_hdr_decode and msg_check as the
 *                         dispatcher runs them, then the decoder its
 *                         type names.
 * A payload that decodes must encode back to exactly the same bytes
 * (one encoding per message: the decoders refuse anything the encoders
 * would not write), and its length must be inside the table's bounds
 * for that type (the table is what the dispatcher trusts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/msg.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t types[] = {
	MSG_SELF, MSG_RECORD, MSG_RECORD_DEL, MSG_SYNC_DONE,
	MSG_DH_REQ, MSG_DH_RESP,
	MSG_PEER_STATE, MSG_FIB_BEGIN, MSG_FIB_ENTRY, MSG_FIB_COMMIT,
	MSG_TUN_STATE, MSG_ROUTE_BEGIN, MSG_ROUTE_ENTRY, MSG_ROUTE_COMMIT,
	MSG_GOSSIP_IN, MSG_GOSSIP_OUT, MSG_EDGES_LOCAL, MSG_EDGES,
	MSG_JOIN_IN, MSG_JOIN_OUT,
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static uint8_t *enc;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	if ((enc = malloc(MSG_MAX_LEN + 1)) == NULL)
		abort();
	return 0;
}

/* Decode p as type t; on success encode into w. 1 decoded, 0 refused,
 * -1 unknown type. */
static int
codec(uint16_t t, const uint8_t *p, size_t n, struct buf_w *w)
{
	union {
		struct msg_self self;
		struct msg_record record;
		struct msg_member member;
		struct msg_sync_done sync_done;
		struct msg_dh_req dh_req;
		struct msg_dh_resp dh_resp;
		struct msg_peer_state peer_state;
		struct msg_fib_begin fib_begin;
		struct msg_fib_entry fib_entry;
		struct msg_fib_commit fib_commit;
		struct msg_tun_state tun_state;
		struct msg_route_entry route_entry;
		struct msg_gossip_in gossip_in;
		struct msg_gossip_out gossip_out;
		struct msg_edges_local edges_local;
		struct msg_edges edges;
		struct msg_join_in join_in;
		struct msg_join_out join_out;
	} *m;
	int r = -1;

	/* On the heap: ASan sees a read past any one struct. */
	if ((m = malloc(sizeof(*m))) == NULL)
		abort();
#define CASE(T, field)                                                   \
	r = msg_##field##_decode(&m->field, p, n) == 0;                  \
	if (r)                                                           \
		msg_##field##_encode(w, &m->field);                      \
	break
	switch (t) {
	case MSG_SELF: CASE(T, self);
	case MSG_RECORD: CASE(T, record);
	case MSG_RECORD_DEL: CASE(T, member);
	case MSG_SYNC_DONE: CASE(T, sync_done);
	case MSG_DH_REQ: CASE(T, dh_req);
	case MSG_DH_RESP: CASE(T, dh_resp);
	case MSG_PEER_STATE: CASE(T, peer_state);
	case MSG_FIB_BEGIN:
	case MSG_ROUTE_BEGIN: CASE(T, fib_begin);
	case MSG_FIB_ENTRY: CASE(T, fib_entry);
	case MSG_FIB_COMMIT:
	case MSG_ROUTE_COMMIT: CASE(T, fib_commit);
	case MSG_TUN_STATE: CASE(T, tun_state);
	case MSG_ROUTE_ENTRY: CASE(T, route_entry);
	case MSG_GOSSIP_IN: CASE(T, gossip_in);
	case MSG_GOSSIP_OUT: CASE(T, gossip_out);
	case MSG_EDGES_LOCAL: CASE(T, edges_local);
	case MSG_EDGES: CASE(T, edges);
	case MSG_JOIN_IN: CASE(T, join_in);
	case MSG_JOIN_OUT: CASE(T, join_out);
	default:
		break;
	}
#undef CASE
	free(m);
	return r;
}

static void
check_payload(uint16_t t, const uint8_t *p, size_t n)
{
	const struct msg_spec *spec = msg_spec(t);
	struct buf_w w;
	int r;

	bw_init(&w, enc, MSG_MAX_LEN + 1);
	r = codec(t, p, n, &w);
	FUZZ_CHECK(r != -1 && spec != NULL);
	if (r == 0)
		return;
	FUZZ_CHECK(n >= spec->min_len && n <= spec->max_len);
	FUZZ_CHECK(!w.err);
	FUZZ_CHECK(w.len == n);
	FUZZ_CHECK(n == 0 || memcmp(enc, p, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_hdr h;
	const char *why = NULL;
	enum daemon from;
	uint8_t hdr[MSG_HDR_LEN];
	int ok;

	if (size < 2)
		return 0;
	from = (enum daemon)(data[1] % (D_COUNT + 2));
	(void)daemon_name(from);
	if ((data[0] & 0x80) == 0) {
		check_payload(types[data[0] % NTYPES], data + 2, size - 2);
		return 0;
	}
	data += 2;
	size -= 2;
	if (msg_hdr_decode(&h, data, size) == -1)
		return 0;
	FUZZ_CHECK(h.version == MSG_VERSION);
	FUZZ_CHECK(h.length == size - MSG_HDR_LEN && h.length <= MSG_MAX_LEN);
	/* The header has one encoding too. */
	msg_hdr_encode(hdr, &h);
	FUZZ_CHECK(memcmp(hdr, data, MSG_HDR_LEN) == 0);
	(void)msg_name(h.type);
	ok = msg_check(h.type, h.length, from, &why) == 0;
	FUZZ_CHECK(ok == (why == NULL));
	if (!ok)
		return 0;
	/* What the dispatcher lets through reaches a known decoder. */
	FUZZ_CHECK(msg_spec(h.type) != NULL);
	FUZZ_CHECK(msg_spec(h.type)->senders & D_BIT(from));
	check_payload(h.type, data + MSG_HDR_LEN, h.length);
	return 0;
}
