/*
 * The virtio-net header checked against its packet (vnet.h). Rules
 * follow what Linux's virtio_net_hdr_to_skb() and the GSO code assume of
 * a local writer, so a remote one cannot make them wrong.
 */
#include <string.h>

#include "proto/vnet.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
#define TCP_HDR_MIN  20
#define UDP_HDR_LEN  8

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

void
vnet_hdr_decode(struct vnet_hdr *h, const uint8_t p[VNET_HDR_LEN])
{
	h->flags = p[0];
	h->gso_type = p[1];
	h->hdr_len = le16(p + 2);
	h->gso_size = le16(p + 4);
	h->csum_start = le16(p + 6);
	h->csum_offset = le16(p + 8);
}

/* IPv6: walk the hop-by-hop, routing and destination options headers
 * (the ones a TCP or UDP segment may carry before its transport
 * header); anything else ends the walk as "other protocol". */
static void
ip6_walk(const uint8_t *ip, size_t n, int *proto, size_t *thoff)
{
	int hops;

	for (hops = 0; hops < 8; hops++) {
		if (*proto != 0 && *proto != 43 && *proto != 60)
			return;
		if (*thoff + 8 > n ||
		    *thoff + ((size_t)ip[*thoff + 1] + 1) * 8 > n) {
			*proto = -1;
			return;
		}
		*proto = ip[*thoff];
		*thoff += ((size_t)ip[*thoff + 1] + 1) * 8;
	}
	*proto = -1;
}

/* The IP packet's version, transport protocol and where its transport
 * header starts. -1 if it is neither IPv4 nor IPv6 or is cut short. */
static int
ip_transport(const uint8_t *ip, size_t n, int *ver, int *proto,
    size_t *thoff)
{
	if (n < 1)
		return -1;
	*ver = ip[0] >> 4;
	if (*ver == 4) {
		if (n < 20 || (ip[0] & 0x0f) < 5 ||
		    (size_t)(ip[0] & 0x0f) * 4 > n)
			return -1;
		*proto = ip[9];
		*thoff = (size_t)(ip[0] & 0x0f) * 4;
		return 0;
	}
	if (*ver == 6) {
		if (n < 40)
			return -1;
		*proto = ip[6];
		*thoff = 40;
		ip6_walk(ip, n, proto, thoff);
		return 0;
	}
	return -1;
}

/* Does the checksum request point at this packet's transport checksum? */
static int
csum_ok(const struct vnet_hdr *h, int proto, size_t thoff, size_t n)
{
	size_t want;

	if (proto == IPPROTO_TCP_)
		want = TCP_CSUM_OFF;
	else if (proto == IPPROTO_UDP_)
		want = UDP_CSUM_OFF;
	else
		return 0;
	return h->csum_start == thoff && h->csum_offset == want &&
	    (size_t)h->csum_start + h->csum_offset + 2 <= n;
}

/* Does the segmentation request fit this packet? */
static int
gso_ok(const struct vnet_hdr *h, int ver, int proto, size_t thoff,
    size_t n)
{
	uint8_t type = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	size_t l4min;

	switch (type) {
	case VNET_GSO_TCPV4:
		if (ver != 4 || proto != IPPROTO_TCP_)
			return 0;
		l4min = TCP_HDR_MIN;
		break;
	case VNET_GSO_TCPV6:
		if (ver != 6 || proto != IPPROTO_TCP_)
			return 0;
		l4min = TCP_HDR_MIN;
		break;
	case VNET_GSO_UDP_L4:
		if (proto != IPPROTO_UDP_)
			return 0;
		l4min = UDP_HDR_LEN;
		break;
	default:
		return 0;
	}
	/* Segmentation needs the checksum to be filled in per segment,
	 * a segment size, and headers that end inside the packet. */
	return (h->flags & VNET_F_NEEDS_CSUM) && h->gso_size > 0 &&
	    thoff + l4min <= n && h->hdr_len <= n &&
	    h->gso_size <= n - (thoff + l4min);
}

enum vnet_verdict
vnet_check(uint8_t *msg, size_t len, const char **why)
{
	struct vnet_hdr h;
	const char *dummy;
	size_t n, thoff;
	int ver, proto;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (len < VNET_HDR_LEN) {
		*why = "shorter than a vnet header";
		return VNET_DROP;
	}
	vnet_hdr_decode(&h, msg);
	n = len - VNET_HDR_LEN;
	if (ip_transport(msg + VNET_HDR_LEN, n, &ver, &proto, &thoff) == -1) {
		*why = "not an IPv4 or IPv6 packet";
		return VNET_DROP;
	}
	if (h.gso_type != VNET_GSO_NONE) {
		if (gso_ok(&h, ver, proto, thoff, n) &&
		    csum_ok(&h, proto, thoff, n) &&
		    (h.flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) == 0)
			return VNET_OK;
		*why = "segmentation request does not match the packet";
		return VNET_DROP;
	}
	if ((h.flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) == 0 &&
	    h.gso_size == 0 && h.hdr_len <= n &&
	    (!(h.flags & VNET_F_NEEDS_CSUM) || csum_ok(&h, proto, thoff, n)))
		return VNET_OK;
	*why = "checksum request does not match the packet";
	memset(msg, 0, VNET_HDR_LEN);
	return VNET_CLEARED;
}
