/*
 * Fuzz target: peer frames (proto/wire.c) and linkd's stream framer
 * (linkd/link.c), the first code that sees bytes from the network.
 *
 * Input: one mode byte, then
 *   mode 0  a byte stream: every whole frame wire_frame_peek finds goes
 *           to wire_hs_check (fixed static key) or wire_data_header +
 *           wire_data_open (fixed key). A frame that passes is rebuilt
 *           with wire_hs_frame / wire_data_seal and must come out byte
 *           for byte the same: one encoding per frame.
 *   mode 1  epoch (1), counter (8), kind (1), payload: wire_data_seal,
 *           into a separate buffer and in place, must give the same
 *           frame, which wire_frame_peek must find whole and
 *           wire_data_open must open to the same kind and payload (the
 *           sealing is a hand-made ChaCha20-Poly1305; opening is
 *           libsodium's).
 *   mode 2  chunk size (1), byte stream: fed to the framer in chunks;
 *           it must hand out exactly the frames (and the same error)
 *           that wire_frame_peek finds walking the whole stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkd/link.h"
#include "proto/buf.h"
#include "proto/wire.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *out_a, *out_b, *inner;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	out_a = malloc(WIRE_MAX_FRAME);
	out_b = malloc(WIRE_MAX_FRAME);
	inner = malloc(WIRE_MAX_INNER);
	if (out_a == NULL || out_b == NULL || inner == NULL)
		abort();
	return 0;
}

static void
check_frame(const struct wire_frame *f, const uint8_t *frame)
{
	const struct fuzz_keys *k = fuzz_keys();
	size_t msglen;
	uint8_t epoch;
	uint64_t ctr;
	int n, m;

	FUZZ_CHECK(f->frame_len == WIRE_LEN_BYTES + 1 + f->body_len);
	FUZZ_CHECK(f->body == frame + WIRE_LEN_BYTES + 1);
	if (f->type == WIRE_HS_INIT || f->type == WIRE_HS_RESP) {
		if (wire_hs_check(f, k->r_pub, &msglen) == -1) {
			FUZZ_CHECK(msglen == 0);
			return;
		}
		FUZZ_CHECK(msglen + WIRE_MAC_BYTES == f->body_len);
		n = wire_hs_frame(out_a, WIRE_MAX_FRAME, f->type, f->body,
		    msglen, k->r_pub);
		FUZZ_CHECK(n >= 0 && (size_t)n == f->frame_len);
		FUZZ_CHECK(memcmp(out_a, frame, f->frame_len) == 0);
		return;
	}
	if (f->type == WIRE_JOIN) {
		/* Plain text for keyd's join parser (fuzz_join); here only
		 * its bound. */
		FUZZ_CHECK(f->body_len <= WIRE_JOIN_MAX_BODY);
		return;
	}
	FUZZ_CHECK(f->type == WIRE_DATA);
	if (wire_data_header(f, &epoch, &ctr) == -1) {
		FUZZ_CHECK(wire_data_open(f, k->data_key, inner,
		    WIRE_MAX_INNER) == -1);
		return;
	}
	FUZZ_CHECK(epoch == f->body[0]);
	n = wire_data_open(f, k->data_key, inner, WIRE_MAX_INNER);
	if (n < 0)
		return;
	FUZZ_CHECK(n >= 1 && (size_t)n + 1 + 8 + NOISE_TAGLEN == f->body_len);
	m = wire_data_seal(out_a, WIRE_MAX_FRAME, k->data_key, epoch, ctr,
	    inner[0], inner + 1, (size_t)n - 1);
	FUZZ_CHECK(m >= 0 && (size_t)m == f->frame_len);
	FUZZ_CHECK(memcmp(out_a, frame, f->frame_len) == 0);
}

static void
mode_stream(const uint8_t *p, size_t len)
{
	struct wire_frame f;
	int r;

	while ((r = wire_frame_peek(&f, p, len)) == 1) {
		FUZZ_CHECK(f.frame_len <= len);
		check_frame(&f, p);
		p += f.frame_len;
		len -= f.frame_len;
	}
	FUZZ_CHECK(r == 0 || r == -1);
}

static void
mode_seal(const uint8_t *p, size_t len)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct wire_frame f;
	uint8_t epoch, kind;
	uint64_t ctr;
	size_t plen;
	int n, m;

	if (len < 10)
		return;
	epoch = p[0];
	ctr = be64_get(p + 1);
	kind = p[9];
	p += 10;
	plen = len - 10;
	if (plen > WIRE_MAX_INNER - 1)
		plen = WIRE_MAX_INNER - 1;
	n = wire_data_seal(out_a, WIRE_MAX_FRAME, k->data_key, epoch, ctr,
	    kind, p, plen);
	if (ctr == NOISE_MAX_NONCE) {
		FUZZ_CHECK(n == -1);
		return;
	}
	FUZZ_CHECK(n == (int)(WIRE_DATA_HDR + 1 + plen + NOISE_TAGLEN));
	/* In place: the payload already where its ciphertext goes. */
	if (plen)
		memcpy(out_b + WIRE_DATA_HDR + 1, p, plen);
	m = wire_data_seal(out_b, WIRE_MAX_FRAME, k->data_key, epoch, ctr,
	    kind, plen ? out_b + WIRE_DATA_HDR + 1 : NULL, plen);
	FUZZ_CHECK(m == n && memcmp(out_a, out_b, (size_t)n) == 0);
	/* Too small an output buffer is refused, not overrun. */
	FUZZ_CHECK(wire_data_seal(out_b, (size_t)n - 1, k->data_key, epoch,
	    ctr, kind, p, plen) == -1);

	FUZZ_CHECK(wire_frame_peek(&f, out_a, (size_t)n) == 1);
	FUZZ_CHECK(f.type == WIRE_DATA && f.frame_len == (size_t)n);
	m = wire_data_open(&f, k->data_key, inner, WIRE_MAX_INNER);
	FUZZ_CHECK(m == (int)(1 + plen));
	FUZZ_CHECK(inner[0] == kind);
	FUZZ_CHECK(plen == 0 || memcmp(inner + 1, p, plen) == 0);
	/* Any other key fails. */
	FUZZ_CHECK(wire_data_open(&f, k->r_pub, inner, WIRE_MAX_INNER) == -1);
	/* A flipped bit anywhere fails (the length and type bytes too,
	 * when the frame still parses). */
	memcpy(out_b, out_a, (size_t)n);
	out_b[(size_t)(ctr % (uint64_t)n)] ^= (uint8_t)(1u << (epoch & 7));
	if (wire_frame_peek(&f, out_b, (size_t)n) == 1 &&
	    f.type == WIRE_DATA)
		FUZZ_CHECK(wire_data_open(&f, k->data_key, inner,
		    WIRE_MAX_INNER) == -1);
}

/* The framer must see the stream exactly as a whole-buffer walk does. */
static void
mode_framer(const uint8_t *p, size_t len)
{
	struct framer fr;
	struct wire_frame f, g;
	const uint8_t *walk;
	size_t chunk, off = 0, left, room, n;
	int r, wr;

	if (len < 1)
		return;
	chunk = (size_t)p[0] * 97 + 1;
	p++;
	len--;
	walk = p;
	left = len;
	if (framer_init(&fr, WIRE_MAX_FRAME) == -1)
		abort();
	for (;;) {
		r = framer_next(&fr, &f);
		if (r == 1) {
			wr = wire_frame_peek(&g, walk, left);
			FUZZ_CHECK(wr == 1);
			FUZZ_CHECK(f.type == g.type &&
			    f.body_len == g.body_len &&
			    f.frame_len == g.frame_len);
			FUZZ_CHECK(memcmp(f.body, g.body, f.body_len) == 0);
			walk += g.frame_len;
			left -= g.frame_len;
			continue;
		}
		if (r == -1) {
			FUZZ_CHECK(wire_frame_peek(&g, walk, left) == -1);
			break;
		}
		FUZZ_CHECK(r == 0);
		if (off == len) {
			/* All fed: what is left is an unfinished frame. */
			FUZZ_CHECK(wire_frame_peek(&g, walk, left) == 0);
			FUZZ_CHECK(framer_pending(&fr) == left);
			break;
		}
		uint8_t *dst = framer_space(&fr, &room);
		FUZZ_CHECK(dst != NULL && room > 0);
		n = len - off;
		if (n > chunk)
			n = chunk;
		if (n > room)
			n = room;
		memcpy(dst, p + off, n);
		framer_commit(&fr, n);
		off += n;
	}
	framer_free(&fr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		mode_stream(data + 1, size - 1);
		break;
	case 1:
		mode_seal(data + 1, size - 1);
		break;
	default:
		mode_framer(data + 1, size - 1);
		break;
	}
	return 0;
}
