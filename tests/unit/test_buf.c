/*
 * Unit tests for proto/buf.c: the bounded reader and writer every
 * decoder relies on. What matters is that nothing is read or written
 * past the bounds, that errors stick (so a decoder may check once at the
 * end), and that br_done() also refuses leftover bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/buf.h"

static void
test_write_big_endian(void **state)
{
	uint8_t b[15];
	struct buf_w w;
	static const uint8_t want[15] = {0x12, 0x34, 0x56, 0x89, 0xab,
	    0xcd, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

	bw_init(&w, b, sizeof(b));
	bw_u8(&w, 0x12);
	bw_u16(&w, 0x3456);
	bw_u32(&w, 0x89abcdef);
	bw_u64(&w, 0x0102030405060708ULL);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 15);
	assert_memory_equal(b, want, sizeof(want));
}

static void
test_read_big_endian(void **state)
{
	static const uint8_t in[15] = {0x12, 0x34, 0x56, 0x89, 0xab,
	    0xcd, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	struct buf_r r;

	br_init(&r, in, sizeof(in));
	assert_int_equal(br_u8(&r), 0x12);
	assert_int_equal(br_u16(&r), 0x3456);
	assert_int_equal(br_u32(&r), 0x89abcdef);
	assert_true(br_u64(&r) == 0x0102030405060708ULL);
	assert_int_equal(br_left(&r), 0);
	assert_int_equal(br_done(&r), 0);
}

static void
test_write_overflow_sticky(void **state)
{
	uint8_t b[8];
	struct buf_w w;

	memset(b, 0xee, sizeof(b));
	bw_init(&w, b, 5);
	bw_u32(&w, 1);
	assert_int_equal(w.err, 0);
	bw_u16(&w, 0xffff); /* does not fit: nothing written */
	assert_int_equal(w.err, 1);
	assert_int_equal(w.len, 4);
	assert_int_equal(b[4], 0xee);
	bw_u8(&w, 7); /* would fit, but the error sticks */
	assert_int_equal(w.err, 1);
	assert_int_equal(w.len, 4);
	assert_int_equal(b[4], 0xee);
	assert_int_equal(b[5], 0xee);
}

static void
test_write_exact_fit(void **state)
{
	uint8_t b[4];
	struct buf_w w;

	bw_init(&w, b, sizeof(b));
	bw_u32(&w, 0xdeadbeef);
	assert_int_equal(w.err, 0);
	bw_bytes(&w, "", 0);
	assert_int_equal(w.err, 0);
	bw_u8(&w, 0);
	assert_int_equal(w.err, 1);
}

static void
test_read_past_end_sticky(void **state)
{
	static const uint8_t in[3] = {1, 2, 3};
	struct buf_r r;
	uint8_t dst[4];

	br_init(&r, in, sizeof(in));
	assert_int_equal(br_u16(&r), 0x0102);
	assert_int_equal(br_u16(&r), 0); /* one byte left: error */
	assert_int_equal(r.err, 1);
	assert_int_equal(br_u8(&r), 0); /* still an error */
	memset(dst, 0x55, sizeof(dst));
	br_bytes(&r, dst, sizeof(dst));
	assert_int_equal(dst[0], 0); /* zero-filled, not copied */
	assert_int_equal(dst[3], 0);
	assert_null(br_ptr(&r, 0));
	assert_int_equal(br_done(&r), -1);
}

static void
test_done_refuses_leftover(void **state)
{
	static const uint8_t in[3] = {1, 2, 3};
	struct buf_r r;

	br_init(&r, in, sizeof(in));
	(void)br_u16(&r);
	assert_int_equal(r.err, 0);
	assert_int_equal(br_left(&r), 1);
	assert_int_equal(br_done(&r), -1);
	(void)br_u8(&r);
	assert_int_equal(br_done(&r), 0);
}

static void
test_ptr_huge_length(void **state)
{
	static const uint8_t in[4] = {0};
	struct buf_r r;

	br_init(&r, in, sizeof(in));
	(void)br_u8(&r);
	/* n larger than what is left must not wrap around. */
	assert_null(br_ptr(&r, SIZE_MAX));
	assert_int_equal(r.err, 1);
}

static void
test_str_round_trip(void **state)
{
	uint8_t b[32];
	struct buf_w w;
	struct buf_r r;
	char s[16];

	bw_init(&w, b, sizeof(b));
	bw_str(&w, "hello");
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 7);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 5);
	br_init(&r, b, w.len);
	br_str(&r, s, sizeof(s));
	assert_string_equal(s, "hello");
	assert_int_equal(br_done(&r), 0);
}

static void
test_str_too_long_for_dst(void **state)
{
	uint8_t b[32];
	struct buf_w w;
	struct buf_r r;
	char s[5];

	bw_init(&w, b, sizeof(b));
	bw_str(&w, "hello"); /* needs 6 bytes with the NUL */
	br_init(&r, b, w.len);
	br_str(&r, s, sizeof(s));
	assert_int_equal(r.err, 1);
	assert_string_equal(s, "");
	assert_int_equal(br_done(&r), -1);
}

static void
test_str_with_nul(void **state)
{
	static const uint8_t in[] = {0, 3, 'a', 0, 'b'};
	struct buf_r r;
	char s[8];

	br_init(&r, in, sizeof(in));
	br_str(&r, s, sizeof(s));
	assert_int_equal(r.err, 1);
	assert_int_equal(br_done(&r), -1);
}

static void
test_str_length_past_end(void **state)
{
	static const uint8_t in[] = {0, 9, 'a', 'b'};
	struct buf_r r;
	char s[16];

	br_init(&r, in, sizeof(in));
	br_str(&r, s, sizeof(s));
	assert_int_equal(r.err, 1);
	assert_string_equal(s, "");
}

static void
test_blob16(void **state)
{
	uint8_t b[16];
	static const uint8_t data[3] = {9, 8, 7};
	struct buf_w w;
	struct buf_r r;
	const uint8_t *p;
	size_t n;

	bw_init(&w, b, sizeof(b));
	bw_blob16(&w, data, sizeof(data));
	assert_int_equal(w.err, 0);
	br_init(&r, b, w.len);
	p = br_blob16(&r, &n);
	assert_non_null(p);
	assert_int_equal(n, 3);
	assert_memory_equal(p, data, 3);
	assert_int_equal(br_done(&r), 0);

	/* Truncated: the length says 3, only 2 follow. */
	br_init(&r, b, w.len - 1);
	p = br_blob16(&r, &n);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(br_done(&r), -1);
}

static void
test_blob16_too_big(void **state)
{
	static uint8_t big[0x10000];
	static uint8_t b[0x10010];
	struct buf_w w;

	bw_init(&w, b, sizeof(b));
	bw_blob16(&w, big, sizeof(big)); /* 65536 does not fit a u16 */
	assert_int_equal(w.err, 1);
	assert_int_equal(w.len, 0);
}

static void
test_be_helpers(void **state)
{
	uint8_t b[8];

	be32_put(b, 0xa1b2c3d4);
	assert_int_equal(b[0], 0xa1);
	assert_int_equal(b[3], 0xd4);
	assert_int_equal(be32_get(b), 0xa1b2c3d4);
	be64_put(b, 0x1122334455667788ULL);
	assert_int_equal(b[0], 0x11);
	assert_int_equal(b[7], 0x88);
	assert_true(be64_get(b) == 0x1122334455667788ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_big_endian),
		cmocka_unit_test(test_read_big_endian),
		cmocka_unit_test(test_write_overflow_sticky),
		cmocka_unit_test(test_write_exact_fit),
		cmocka_unit_test(test_read_past_end_sticky),
		cmocka_unit_test(test_done_refuses_leftover),
		cmocka_unit_test(test_ptr_huge_length),
		cmocka_unit_test(test_str_round_trip),
		cmocka_unit_test(test_str_too_long_for_dst),
		cmocka_unit_test(test_str_with_nul),
		cmocka_unit_test(test_str_length_past_end),
		cmocka_unit_test(test_blob16),
		cmocka_unit_test(test_blob16_too_big),
		cmocka_unit_test(test_be_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
