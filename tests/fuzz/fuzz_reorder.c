/*
 * Fuzz target: the reorder buffer (linkd/reorder.c) against whatever
 * order, loss, copies and timing the circuits and the sender produce.
 *
 * Input: byte 0 picks the slots (2 << (b & 7)), byte 1 the byte bound
 * (64 * (b + 1)), byte 2 the timeout (ms); then operations of 4 bytes:
 *   op & 3 == 0..2  push: seq = cursor + (int8)b1, len = b2 * 4,
 *                   time advances b3 ms; op & 4 moves the cursor to
 *                   seq + 1 (a sender going on), op & 8 jumps the cursor
 *                   by (b1 << 20) (far: an epoch, or a wrap near 2^64)
 *   op & 3 == 3     tick after b3 ms; op & 4 flush instead
 * The first cursor is 2^64 - 64, so numbers wrap early.
 *
 * Properties: within an epoch, numbers handed on only increase (never
 * twice, never out of order); each packet's bytes and length are those
 * pushed with its number; the held bytes and packets stay within the
 * bounds and match what is stored; after a tick nothing held is older
 * than the timeout; the counters add up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkd/reorder.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint64_t epochs;     /* the buffer's count when last handed on */
	uint64_t last;
	int any;
	uint64_t n;
};

static void
check_out(void *ctx, uint64_t seq, const uint8_t *p, size_t len)
{
	struct seen *s = ctx;
	size_t i;

	/* Each pushed packet is len bytes of its number's low byte plus
	 * its length's low byte. */
	FUZZ_CHECK(len % 4 == 0 && len <= 255 * 4);
	for (i = 0; i < len; i++)
		FUZZ_CHECK(p[i] == (uint8_t)(seq + len));
	if (s->any)
		FUZZ_CHECK((int64_t)(seq - s->last) > 0);
	s->last = seq;
	s->any = 1;
	s->n++;
}

static void
check_state(const struct reorder *r)
{
	size_t i, held = 0, bytes = 0;
	double oldest = 0;

	for (i = 0; i < r->nslots; i++)
		if (r->slot[i].p != NULL) {
			if (held == 0 || r->slot[i].t < oldest)
				oldest = r->slot[i].t;
			held++;
			bytes += r->slot[i].len;
			/* Held packets lie ahead of next, inside the ring. */
			FUZZ_CHECK(r->slot[i].seq - r->next < r->nslots);
			FUZZ_CHECK(r->slot[i].seq != r->next);
			FUZZ_CHECK((r->slot[i].seq & (r->nslots - 1)) == i);
		}
	FUZZ_CHECK(held == r->st.held_now);
	/* The deadline runs from the oldest held arrival. */
	FUZZ_CHECK(held == 0 || oldest == r->t_oldest);
	FUZZ_CHECK(bytes == r->st.bytes);
	FUZZ_CHECK(r->st.bytes <= r->max_bytes);
	FUZZ_CHECK(r->st.held_now < r->nslots);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[255 * 4];
	struct reorder r;
	struct seen s = { 0 };
	uint64_t cursor = UINT64_MAX - 63, seq, pushes = 0, nomem = 0;
	uint64_t epochs;
	double now = 0;
	size_t i, len;
	uint8_t op;

	if (size < 3)
		return 0;
	if (reorder_init(&r, (size_t)2 << (data[0] & 7),
	    64 * ((size_t)data[1] + 1), check_out, &s) != 0)
		abort();
	reorder_set_timeout(&r, data[2] / 1000.0);
	for (i = 3; i + 4 <= size; i += 4) {
		op = data[i];
		now += data[i + 3] / 1000.0;
		epochs = r.st.epochs;
		if ((op & 3) == 3) {
			if (op & 4)
				reorder_flush(&r);
			else
				reorder_tick(&r, now);
			FUZZ_CHECK(r.st.held_now == 0 ||
			    now - r.t_oldest < r.timeout);
			if (op & 4)
				FUZZ_CHECK(r.st.held_now == 0);
			check_state(&r);
			continue;
		}
		if (op & 8)
			cursor += (uint64_t)data[i + 1] << 20;
		seq = cursor + (uint64_t)(int64_t)(int8_t)data[i + 1];
		len = (size_t)data[i + 2] * 4;
		memset(pkt, (uint8_t)(seq + len), len);
		/* A new epoch may hand on what was held, then starts over:
		 * order is only checked within one. */
		if ((int64_t)(seq - r.next) >= (int64_t)REORDER_FAR ||
		    (int64_t)(seq - r.next) <= -(int64_t)REORDER_FAR) {
			reorder_flush(&r);
			s.any = 0;
		}
		if (reorder_push(&r, seq, pkt, len, now) == REORDER_NOMEM)
			nomem++;
		pushes++;
		FUZZ_CHECK(r.st.epochs - epochs <= 1);
		if (op & 4)
			cursor = seq + 1;
		check_state(&r);
	}
	FUZZ_CHECK(s.n == r.st.delivered);
	/* Every push is handed on, held, or dropped as late or a copy. */
	FUZZ_CHECK(r.st.delivered + r.st.held_now + r.st.late +
	    r.st.duplicates + nomem == pushes);
	reorder_flush(&r);
	FUZZ_CHECK(r.st.held_now == 0 && r.st.bytes == 0);
	reorder_free(&r);
	return 0;
}
