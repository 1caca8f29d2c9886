/*
 * The virtio-net header in front of every superpacket, checked against
 * the packet behind it.
 *
 * A peer's packets reach our TUN device with the header the peer's tund
 * read from its kernel: remote input to GSO and checksum-offload code
 * that only trusts local writers. Before tund writes a packet, the
 * header must describe that packet: a segmentation type that matches
 * its IP version and transport protocol, a segment size and header
 * length inside it, a checksum position inside the transport header.
 * A header that does not is cleared when the packet can go as it is
 * (no segmentation asked for; the stack then checks the checksum
 * itself) and the packet dropped when it cannot.
 */
#ifndef OM_VNET_H
#define OM_VNET_H

#include <stddef.h>
#include <stdint.h>

#include "proto/datapath.h"

#define VNET_HDR_LEN TUN_VNET_HDR_LEN

/* Linux's virtio_net.h values, little-endian on the wire (TUNSETVNETLE). */
#define VNET_F_NEEDS_CSUM 0x01
#define VNET_F_DATA_VALID 0x02
#define VNET_GSO_NONE     0
#define VNET_GSO_TCPV4    1
#define VNET_GSO_UDP      3  /* UFO: gone from Linux, never taken */
#define VNET_GSO_TCPV6    4
#define VNET_GSO_UDP_L4   5
#define VNET_GSO_ECN      0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

enum vnet_verdict {
	VNET_OK = 0,        /* the header describes the packet */
	VNET_CLEARED = 1,   /* it did not; now zero, the packet can go */
	VNET_DROP = 2,      /* it asks for segmentation the packet cannot
	                     * have: do not write it */
};

void vnet_hdr_decode(struct vnet_hdr *h, const uint8_t p[VNET_HDR_LEN]);
/*
 * Check the header at msg[0..VNET_HDR_LEN) against the IP packet that
 * follows (len is the whole message). On VNET_CLEARED the header bytes
 * in msg are zeroed. *why (may be NULL) gets a short static reason for
 * anything but VNET_OK.
 */
enum vnet_verdict vnet_check(uint8_t *msg, size_t len, const char **why);

#endif
