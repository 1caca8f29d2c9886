/*
 * Fuzz target: the little parsing the daemons do of packets and of what
 * the kernel and peers hand them, all pure functions:
 *   - linkd: dp_inner_addr (source/destination of a packet a peer sent,
 *     checked against its record) and mp_flow_hash (the flow a packet
 *     belongs to, for multipath);
 *   - tund: tun_msg_check (a message from linkd before it is written to
 *     the TUN device) and tun_nl_ack (an rtnetlink answer);
 *   - linkd: ts_window_check, the handshake replay window fed with the
 *     TAI64N timestamps peers send;
 *   - wire_fwd_parse and linkd's fwd_decide, what a relay reads of a
 *     packet it forwards for two other members (INNER_FORWARD).
 *
 * Input: one mode byte, then
 *   mode 0  vnet header + IP packet for dp_inner_addr and mp_flow_hash;
 *           an address found lies inside the packet.
 *   mode 1  a message for tun_msg_check: accepted means inside the
 *           length bounds with IP version 4 or 6 as it says.
 *   mode 2  a netlink datagram for tun_nl_ack.
 *   mode 3  a sequence of 12-byte timestamps: no timestamp is ever
 *           accepted twice, and the window stays sorted and bounded.
 *   mode 4  an INNER_FORWARD payload: when it parses, header + frame
 *           are the whole input, the frame is one whole wire frame,
 *           the header written again is the same bytes, and a relay
 *           only ever lowers the hop limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkd/forward.h"
#include "linkd/linkd.h"
#include "linkd/multipath.h"
#include "tund/tun.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static uint8_t *
exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (c == NULL)
		abort();
	memcpy(c, p, len);
	return c;
}

static void
mode_inner(const uint8_t *p, size_t len)
{
	const uint8_t *a;
	uint8_t *c = exact_copy(p, len);
	int fam, want;

	for (want = 0; want < 2; want++) {
		if (dp_inner_addr(c, len, want, &fam, &a) != 0)
			continue;
		FUZZ_CHECK(fam == 4 || fam == 6);
		FUZZ_CHECK(a >= c && a + (fam == 4 ? 4 : 16) <= c + len);
	}
	if (len >= TUN_VNET_HDR_LEN)
		(void)mp_flow_hash(c + TUN_VNET_HDR_LEN,
		    len - TUN_VNET_HDR_LEN);
	(void)mp_flow_hash(c, len);
	free(c);
}

static void
mode_tunmsg(const uint8_t *p, size_t len)
{
	const char *why = NULL;
	uint8_t *c = exact_copy(p, len);
	int v;

	v = tun_msg_check(c, len, &why);
	if (v == -1)
		FUZZ_CHECK(why != NULL);
	else {
		FUZZ_CHECK(v == 4 || v == 6);
		FUZZ_CHECK(len >= TUN_MSG_MIN && len <= TUN_MSG_MAX);
		FUZZ_CHECK((c[TUN_VNET_HDR_LEN] >> 4) == v);
	}
	free(c);
}

static void
mode_nlack(const uint8_t *p, size_t len)
{
	uint8_t *c;
	uint32_t seq;
	int r;

	if (len < 4)
		return;
	seq = be32_get(p);
	/* netlink buffers are aligned: copy into an aligned block of
	 * exactly the datagram's length. */
	c = exact_copy(p + 4, len - 4);
	r = tun_nl_ack(c, len - 4, seq);
	FUZZ_CHECK(r <= 1);
	free(c);
}

static void
mode_ts(const uint8_t *p, size_t len)
{
	static uint8_t acc[4096 / WIRE_HS_PAYLOAD + 1][WIRE_HS_PAYLOAD];
	struct ts_window w;
	size_t nacc = 0, i;
	int j;

	memset(&w, 0, sizeof(w));
	for (; len >= WIRE_HS_PAYLOAD && nacc < sizeof(acc) / sizeof(acc[0]);
	    p += WIRE_HS_PAYLOAD, len -= WIRE_HS_PAYLOAD) {
		if (ts_window_check(&w, p) != 0)
			continue;
		for (i = 0; i < nacc; i++)
			FUZZ_CHECK(memcmp(acc[i], p, WIRE_HS_PAYLOAD) != 0);
		memcpy(acc[nacc++], p, WIRE_HS_PAYLOAD);
		FUZZ_CHECK(w.n >= 1 && w.n <= TS_WINDOW);
		for (j = 1; j < w.n; j++)
			FUZZ_CHECK(memcmp(w.ts[j - 1], w.ts[j],
			    WIRE_HS_PAYLOAD) < 0);
		if (w.has_floor)
			FUZZ_CHECK(memcmp(w.floor, w.ts[0],
			    WIRE_HS_PAYLOAD) < 0 || w.n == 0);
		/* Right after acceptance the same one is a replay. */
		FUZZ_CHECK(ts_window_check(&w, p) == -1);
	}
}

static void
mode_forward(const uint8_t *p, size_t len)
{
	static const uint8_t self[MEMBER_ID_BYTES] = {1, 2, 3};
	uint8_t hdr[WIRE_FWD_HDR], hops = 0;
	struct wire_fwd h;
	struct wire_frame f;
	enum fwd_action a;
	uint8_t *c = exact_copy(p, len);

	if (wire_fwd_parse(&h, c, len) != 0) {
		free(c);
		return;
	}
	FUZZ_CHECK(h.dest == c && h.frame == c + WIRE_FWD_HDR);
	FUZZ_CHECK(WIRE_FWD_HDR + h.frame_len == len);
	FUZZ_CHECK(wire_frame_peek(&f, h.frame, h.frame_len) == 1);
	FUZZ_CHECK(f.frame_len == h.frame_len && f.type == h.frame_type);
	wire_fwd_put_hdr(hdr, h.dest, h.hops, h.conn);
	FUZZ_CHECK(memcmp(hdr, c, WIRE_FWD_HDR) == 0);
	a = fwd_decide(self, &h, &hops);
	FUZZ_CHECK(a == FWD_DELIVER || a == FWD_RELAY || a == FWD_HOPS_GONE);
	if (memcmp(h.dest, self, MEMBER_ID_BYTES) == 0)
		FUZZ_CHECK(a == FWD_DELIVER);
	if (a == FWD_RELAY)
		FUZZ_CHECK(hops < h.hops && hops > 0);
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		mode_inner(data + 1, size - 1);
		break;
	case 1:
		mode_tunmsg(data + 1, size - 1);
		break;
	case 2:
		mode_nlack(data + 1, size - 1);
		break;
	case 3:
		mode_ts(data + 1, size - 1);
		break;
	default:
		mode_forward(data + 1, size - 1);
		break;
	}
	return 0;
}
