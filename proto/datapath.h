/*
 * The data socket between tund and linkd, defined once for both ends.
 *
 * tund listens on <run_dir>/tund.data (IPC_TUND_DATA), a Unix
 * SOCK_SEQPACKET socket, and takes only linkd's uid; linkd connects.
 * One message is one superpacket, in both directions:
 *
 *   struct virtio_net_hdr (TUN_VNET_HDR_LEN) | IP packet
 *
 * The vnet header (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset) is what the TUN device reads and writes with TSO/USO
 * offloads on; neither daemon looks inside it, linkd carries it to the
 * peer as it is (INNER_PACKET, proto/wire.h). The IP packet is IPv4 or
 * IPv6 and at most TUN_IP_MAX bytes, the kernel's GSO limit for a TUN
 * device (GSO_LEGACY_MAX_SIZE); wire.h's WIRE_MAX_INNER leaves room for
 * one whole message.
 */
#ifndef OM_DATAPATH_H
#define OM_DATAPATH_H

#define TUN_VNET_HDR_LEN 10
#define TUN_IP_MAX       65536
#define TUN_MSG_MAX      (TUN_VNET_HDR_LEN + TUN_IP_MAX)
/* vnet header + the smallest IP header (IPv4 without options). */
#define TUN_MSG_MIN      (TUN_VNET_HDR_LEN + 20)
/* Socket buffers each end asks for on the data socket: a few
 * superpackets in flight either way. */
#define DP_SOCKBUF       (4 * 1024 * 1024)

#endif
