/*
 * Unit tests for proto/vnet.c: a peer's virtio-net header is taken only
 * when it describes the packet behind it. Packets are built here byte by
 * byte: IPv4 and IPv6 with TCP and UDP, an IPv6 one with a destination
 * options header, and headers a hostile peer would send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/vnet.h"

#define PAYLOAD 3000

static uint8_t msg[VNET_HDR_LEN + 64 + PAYLOAD];

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

static void
hdr(uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t gso_size,
    uint16_t cstart, uint16_t coff)
{
	msg[0] = flags;
	msg[1] = type;
	put16(msg + 2, hdr_len);
	put16(msg + 4, gso_size);
	put16(msg + 6, cstart);
	put16(msg + 8, coff);
}

/* An IP packet of version ver and protocol proto; returns the message
 * length. opt6: one 8-byte destination options header (IPv6). */
static size_t
pkt(int ver, int proto, int opt6)
{
	uint8_t *ip = msg + VNET_HDR_LEN;
	size_t l3;

	memset(ip, 0, sizeof(msg) - VNET_HDR_LEN);
	if (ver == 4) {
		ip[0] = 0x45;
		ip[9] = (uint8_t)proto;
		l3 = 20;
	} else {
		ip[0] = 0x60;
		ip[6] = (uint8_t)(opt6 ? 60 : proto);
		l3 = 40;
		if (opt6) {
			ip[40] = (uint8_t)proto;
			ip[41] = 0;
			l3 = 48;
		}
	}
	return VNET_HDR_LEN + l3 + 20 + PAYLOAD;
}

static void
test_local_headers_pass(void **state)
{
	size_t n;

	(void)state;
	/* What Linux writes for TSO over IPv4 and IPv6, USO, a plain
	 * checksum request, and nothing at all. */
	n = pkt(4, 6, 0);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 1448, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4 | VNET_GSO_ECN, 52, 1448, 20,
	    16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	n = pkt(6, 6, 0);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6, 72, 1428, 40, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	n = pkt(6, 6, 1);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6, 80, 1420, 48, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	n = pkt(4, 17, 0);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4, 28, 1400, 20, 6);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	hdr(VNET_F_NEEDS_CSUM, 0, 0, 0, 20, 6);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	hdr(0, 0, 0, 0, 0, 0);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
	hdr(VNET_F_DATA_VALID, 0, 0, 0, 0, 0);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_OK);
}

static void
test_hostile_gso_dropped(void **state)
{
	const char *why;
	size_t n;

	(void)state;
	n = pkt(4, 17, 0);
	/* TCP segmentation of a UDP packet. */
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 28, 1400, 20, 16);
	assert_int_equal(vnet_check(msg, n, &why), VNET_DROP);
	assert_non_null(why);
	n = pkt(4, 6, 0);
	/* IPv6 segmentation of an IPv4 packet; UFO; an unknown type. */
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6, 52, 1448, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_UDP, 52, 1448, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	hdr(VNET_F_NEEDS_CSUM, 0x42, 52, 1448, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	/* Segment size 0, and larger than the payload. */
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 0, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 60000, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	/* Header length past the end; checksum outside the packet or
	 * not at the TCP checksum; no checksum request at all. */
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 65000, 1448, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 1448, 60000, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 1448, 0, 10);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	hdr(0, VNET_GSO_TCPV4, 52, 1448, 20, 16);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	/* Not IP; cut short. */
	n = pkt(4, 6, 0);
	msg[VNET_HDR_LEN] = 0x75;
	hdr(0, 0, 0, 0, 0, 0);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_DROP);
	assert_int_equal(vnet_check(msg, 5, NULL), VNET_DROP);
	n = pkt(4, 6, 0);
	assert_int_equal(vnet_check(msg, VNET_HDR_LEN + 12, NULL), VNET_DROP);
}

static void
test_bad_csum_cleared(void **state)
{
	static const uint8_t zero[VNET_HDR_LEN];
	size_t n;

	(void)state;
	n = pkt(4, 6, 0);
	/* A checksum request pointing into the IP header: the header is
	 * cleared, so the stack checks the checksum as it is. */
	hdr(VNET_F_NEEDS_CSUM, 0, 0, 0, 4, 6);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_CLEARED);
	assert_memory_equal(msg, zero, VNET_HDR_LEN);
	/* Unknown flags; a segment size without segmentation. */
	hdr(0x80, 0, 0, 0, 0, 0);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_CLEARED);
	hdr(0, 0, 0, 1400, 0, 0);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_CLEARED);
	/* A checksum request for a protocol with no offload (ICMP). */
	n = pkt(4, 1, 0);
	hdr(VNET_F_NEEDS_CSUM, 0, 0, 0, 20, 2);
	assert_int_equal(vnet_check(msg, n, NULL), VNET_CLEARED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_headers_pass),
		cmocka_unit_test(test_hostile_gso_dropped),
		cmocka_unit_test(test_bad_csum_cleared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
