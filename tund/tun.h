/*
 * The TUN device as tund sees it: open it with a virtio_net_hdr in front
 * of every packet and TSO/USO offloads on, so one read or write moves a
 * whole superpacket of up to 64 KiB instead of one MTU-sized packet, and
 * configure it (MTU, addresses, up) and the routes to members' subnets
 * through rtnetlink.
 *
 * The netlink messages are built and their answers parsed by pure
 * functions (tun_nl_*) that do no I/O, so the unit tests check the bytes
 * without CAP_NET_ADMIN; tun_configure() is the thin part that talks to
 * the kernel.
 */
#ifndef OM_TUND_TUN_H
#define OM_TUND_TUN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/datapath.h"

/* Offload bits (TUNSETOFFLOAD); older headers lack the USO ones. */
#define TUN_OFF_CSUM    0x01
#define TUN_OFF_TSO4    0x02
#define TUN_OFF_TSO6    0x04
#define TUN_OFF_TSO_ECN 0x08
#define TUN_OFF_USO4    0x20
#define TUN_OFF_USO6    0x40

struct tun_dev {
	int fd;                 /* nonblocking, close-on-exec */
	char ifname[16];        /* as the kernel named it */
	int ifindex;
	unsigned offloads;      /* TUN_OFF_* the kernel accepted */
};

/*
 * Device set-up (needs CAP_NET_ADMIN in the current network namespace).
 * Each returns 0, or -1 after writing a message naming the value and the
 * reason into err.
 */
/* Enter the named network namespace (/run/netns/NAME, then
 * /var/run/netns/NAME) so the device is created there. */
int tun_enter_netns(const char *name, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int tun_open(struct tun_dev *t, const char *ifname, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* MTU, then each address whose family is set (4/6), then link up. */
int tun_configure(const struct tun_dev *t, uint32_t mtu,
    const struct prefix *v4, const struct prefix *v6, char *err,
    size_t errlen) __attribute__((warn_unused_result));
void tun_close(struct tun_dev *t);
/*
 * Routes at run time: an rtnetlink socket opened while set-up runs and
 * kept, so after privdrop (CAP_NET_ADMIN kept, nothing else) tund needs
 * no new socket to change a route. tun_nl_open returns the fd or -1
 * with a message in err; tun_route adds or deletes one route and
 * returns 0 or a negative errno (-EEXIST: a route to that prefix is
 * there already, -ESRCH: the route to delete is not).
 */
int tun_nl_open(char *err, size_t errlen);
int tun_route(int nlfd, const struct tun_dev *t, const struct prefix *p,
    int add) __attribute__((warn_unused_result));

/* "csum tso4 tso6 tso_ecn uso4 uso6" (or "none") into out. */
void tun_offloads_fmt(unsigned offloads, char *out, size_t cap);
/* Is ifname something the kernel will accept (1..15 bytes, no '/',
 * ':' or whitespace, not "." or "..")? 1 yes, 0 no. */
int tun_ifname_valid(const char *ifname);

/*
 * One message between tund and linkd: vnet header + an IP packet. The
 * only parsing tund does: a length at least TUN_MSG_MIN and at most
 * TUN_MSG_MAX, IP version 4 or 6, and an IP header whose own length
 * fits in what arrived. Returns 4 or 6, or -1 with a static reason in
 * *why.
 */
int tun_msg_check(const uint8_t *m, size_t len, const char **why)
    __attribute__((warn_unused_result));

/*
 * rtnetlink, pure part. Builders write one request into buf and return
 * its length, or 0 if it does not fit in cap (or the prefix has no
 * valid family/length).
 */
size_t tun_nl_newaddr(void *buf, size_t cap, uint32_t seq, int ifindex,
    const struct prefix *p);
/* RTM_NEWLINK: mtu when nonzero; up: 1 set IFF_UP, 0 leave flags. */
size_t tun_nl_setlink(void *buf, size_t cap, uint32_t seq, int ifindex,
    uint32_t mtu, int up);
/*
 * RTM_NEWROUTE (add 1) or RTM_DELROUTE (add 0): prefix p to the device,
 * main table, no gateway (scope link), protocol TUN_RTPROT. An add never
 * replaces a route that exists (NLM_F_EXCL: the kernel answers EEXIST,
 * so a route someone else set is left alone); a delete names the device,
 * so only a route on it can go. A prefix of length 0 (a default route)
 * is refused: members' defaults arrive as two halves (/1), which win
 * over the host's default route and lose to every more specific one.
 */
size_t tun_nl_route(void *buf, size_t cap, uint32_t seq, int ifindex,
    const struct prefix *p, int add);
/* rtm_protocol of our routes: `ip route show proto 77` lists them. */
#define TUN_RTPROT 77
/*
 * Look through a datagram from the kernel for the NLMSG_ERROR answering
 * seq. Returns 0 (acknowledged), a negative errno the kernel reported,
 * 1 when the datagram holds no answer to seq (read again), or -EBADMSG
 * when it is malformed.
 */
int tun_nl_ack(const void *buf, size_t len, uint32_t seq)
    __attribute__((warn_unused_result));

#endif
