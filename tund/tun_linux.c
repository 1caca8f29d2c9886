/*
 * The Linux TUN device: open, offloads, and configuration by rtnetlink.
 *
 * Why this shape:
 *  - IFF_VNET_HDR with TSO/USO offloads is what makes the data path fast:
 *    the kernel hands us one superpacket of up to 64 KiB (and takes one
 *    back) with a virtio_net_hdr saying how to segment it, instead of 45
 *    reads of 1400 bytes. The header is forced little-endian
 *    (TUNSETVNETLE) because it crosses the network to hosts that may not
 *    share our byte order.
 *  - Configuration is written against rtnetlink directly, not by running
 *    ip(8): tund must not exec anything, and the requests are small.
 *    Building a request and reading the kernel's answer are pure
 *    functions (tun_nl_*) so the unit tests check them byte by byte;
 *    tun_configure() only sends and waits.
 *  - Routes to other members' subnets change while tund runs (members
 *    come, go, and change their records), so the same builders make
 *    RTM_NEWROUTE/RTM_DELROUTE, sent on a socket opened before privdrop.
 *    Our routes carry their own protocol number (TUN_RTPROT) and are
 *    never made with NLM_F_REPLACE: a route the admin or the underlay
 *    owns is not taken over, the kernel's EEXIST is reported instead.
 *  - A network namespace is entered before the device is opened: a TUN
 *    device is created in the namespace of the process that opens
 *    /dev/net/tun, while our Unix sockets keep working through their
 *    paths.
 */
#include "tund/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "proto/log.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#ifndef TUNSETVNETLE
#define TUNSETVNETLE _IOW('T', 220, int)
#endif

#define NL_TIMEOUT_S 3
#define NL_MAX_READS 16

_Static_assert(TUN_OFF_CSUM == TUN_F_CSUM && TUN_OFF_TSO4 == TUN_F_TSO4 &&
    TUN_OFF_TSO6 == TUN_F_TSO6 && TUN_OFF_TSO_ECN == TUN_F_TSO_ECN &&
    TUN_OFF_USO4 == TUN_F_USO4 && TUN_OFF_USO6 == TUN_F_USO6,
    "offload bits differ from <linux/if_tun.h>");

int
tun_ifname_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == ':' || c <= ' ' || c >= 0x7f)
			return 0;
	}
	return 1;
}

void
tun_offloads_fmt(unsigned off, char *out, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{TUN_OFF_CSUM, "csum"}, {TUN_OFF_TSO4, "tso4"},
		{TUN_OFF_TSO6, "tso6"}, {TUN_OFF_TSO_ECN, "tso_ecn"},
		{TUN_OFF_USO4, "uso4"}, {TUN_OFF_USO6, "uso6"},
	};
	size_t i, len = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int r;

		if (!(off & names[i].bit))
			continue;
		r = snprintf(out + len, cap - len, "%s%s", len ? " " : "",
		    names[i].name);
		if (r < 0 || (size_t)r >= cap - len) {
			out[len] = '\0'; /* whole names only */
			return;
		}
		len += (size_t)r;
	}
	if (len == 0)
		snprintf(out, cap, "none");
}

int
tun_msg_check(const uint8_t *m, size_t len, const char **why)
{
	const uint8_t *ip = m + TUN_VNET_HDR_LEN;
	size_t iplen;

	if (len < TUN_MSG_MIN) {
		*why = "shorter than a vnet header and an IP header";
		return -1;
	}
	if (len > TUN_MSG_MAX) {
		*why = "longer than a 64 KiB superpacket";
		return -1;
	}
	iplen = len - TUN_VNET_HDR_LEN;
	switch (ip[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
		size_t tot = (size_t)ip[2] << 8 | ip[3];

		if (ihl < 20 || tot < ihl || tot > iplen) {
			*why = "IPv4 header length or total length does not "
			       "fit the message";
			return -1;
		}
		return 4;
	}
	case 6: {
		size_t plen;

		if (iplen < 40) {
			*why = "shorter than an IPv6 header";
			return -1;
		}
		plen = (size_t)ip[4] << 8 | ip[5];
		if (40 + plen > iplen) {
			*why = "IPv6 payload length does not fit the message";
			return -1;
		}
		return 6;
	}
	default:
		*why = "IP version is neither 4 nor 6";
		return -1;
	}
}

/*
 * Netlink requests, built by hand into a caller's buffer: a header, a
 * fixed part, then attributes, each padded to 4 bytes. nl_put fails
 * (returns -1, leaves *len alone) rather than write past cap.
 */
static int
nl_put(uint8_t *buf, size_t cap, size_t *len, const void *p, size_t n)
{
	size_t pad = NLMSG_ALIGN(n) - n;

	if (*len > cap || n + pad > cap - *len)
		return -1;
	memcpy(buf + *len, p, n);
	memset(buf + *len + n, 0, pad);
	*len += n + pad;
	return 0;
}

static int
nl_attr(uint8_t *buf, size_t cap, size_t *len, uint16_t type,
    const void *data, uint16_t n)
{
	struct rtattr rta;
	size_t start = *len;

	rta.rta_len = (unsigned short)RTA_LENGTH(n);
	rta.rta_type = type;
	if (nl_put(buf, cap, len, &rta, sizeof(rta)) == -1 ||
	    nl_put(buf, cap, len, data, n) == -1) {
		*len = start;
		return -1;
	}
	return 0;
}

/* Start a request at buf: the header (nl_finish sets its length) and
 * the message's fixed part. */
static int
nl_begin(uint8_t *buf, size_t cap, size_t *len, uint16_t type,
    uint16_t flags, uint32_t seq, const void *fixed, size_t n)
{
	struct nlmsghdr nh;

	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_type = type;
	nh.nlmsg_flags = flags;
	nh.nlmsg_seq = seq;
	*len = 0;
	if (nl_put(buf, cap, len, &nh, sizeof(nh)) == -1 ||
	    nl_put(buf, cap, len, fixed, n) == -1)
		return -1;
	return 0;
}

/* Set the header's length: the request is complete. Returns len. */
static size_t
nl_finish(uint8_t *buf, size_t len)
{
	struct nlmsghdr nh;

	memcpy(&nh, buf, sizeof(nh));
	nh.nlmsg_len = (uint32_t)len;
	memcpy(buf, &nh, sizeof(nh));
	return len;
}

size_t
tun_nl_newaddr(void *out, size_t cap, uint32_t seq, int ifindex,
    const struct prefix *p)
{
	uint8_t *buf = out;
	struct ifaddrmsg ifa;
	size_t len = 0, alen;
	uint32_t flags = 0;

	if (p->family == 4) {
		if (p->len > 32)
			return 0;
		alen = 4;
	} else if (p->family == 6) {
		if (p->len > 128)
			return 0;
		alen = 16;
		/* Usable at once: no duplicate address detection on a
		 * point-to-point device we alone own. */
		flags = IFA_F_NODAD;
	} else
		return 0;
	if (ifindex <= 0)
		return 0;

	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = p->family == 4 ? AF_INET : AF_INET6;
	ifa.ifa_prefixlen = p->len;
	ifa.ifa_flags = (uint8_t)flags;
	ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	ifa.ifa_index = (uint32_t)ifindex;
	if (nl_begin(buf, cap, &len, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK |
	    NLM_F_CREATE | NLM_F_REPLACE, seq, &ifa, sizeof(ifa)) == -1 ||
	    nl_attr(buf, cap, &len, IFA_LOCAL, p->addr, (uint16_t)alen) ==
	        -1 ||
	    nl_attr(buf, cap, &len, IFA_ADDRESS, p->addr, (uint16_t)alen) ==
	        -1 ||
	    (flags &&
	        nl_attr(buf, cap, &len, IFA_FLAGS, &flags, sizeof(flags)) ==
	            -1))
		return 0;
	return nl_finish(buf, len);
}

size_t
tun_nl_setlink(void *out, size_t cap, uint32_t seq, int ifindex,
    uint32_t mtu, int up)
{
	uint8_t *buf = out;
	struct ifinfomsg ifi;
	size_t len = 0;

	if (ifindex <= 0)
		return 0;
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = ifindex;
	if (up) {
		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
	}
	if (nl_begin(buf, cap, &len, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK,
	    seq, &ifi, sizeof(ifi)) == -1 ||
	    (mtu && nl_attr(buf, cap, &len, IFLA_MTU, &mtu, sizeof(mtu)) ==
	        -1))
		return 0;
	return nl_finish(buf, len);
}

size_t
tun_nl_route(void *out, size_t cap, uint32_t seq, int ifindex,
    const struct prefix *p, int add)
{
	uint8_t *buf = out;
	struct rtmsg rt;
	uint32_t oif;
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
	size_t len = 0, alen;

	if (p->family == 4 && p->len >= 1 && p->len <= 32)
		alen = 4;
	else if (p->family == 6 && p->len >= 1 && p->len <= 128)
		alen = 16;
	else
		return 0;
	if (ifindex <= 0)
		return 0;
	oif = (uint32_t)ifindex;

	if (add)
		flags |= NLM_F_CREATE | NLM_F_EXCL;
	memset(&rt, 0, sizeof(rt));
	rt.rtm_family = p->family == 4 ? AF_INET : AF_INET6;
	rt.rtm_dst_len = p->len;
	rt.rtm_table = RT_TABLE_MAIN;
	rt.rtm_protocol = TUN_RTPROT;
	/* A device route (no gateway) is link scope, as `ip route add
	 * PREFIX dev DEV` makes it; a delete matches any scope. */
	rt.rtm_scope = add ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
	rt.rtm_type = RTN_UNICAST;
	if (nl_begin(buf, cap, &len, add ? RTM_NEWROUTE : RTM_DELROUTE, flags,
	    seq, &rt, sizeof(rt)) == -1 ||
	    nl_attr(buf, cap, &len, RTA_DST, p->addr, (uint16_t)alen) == -1 ||
	    nl_attr(buf, cap, &len, RTA_OIF, &oif, sizeof(oif)) == -1)
		return 0;
	return nl_finish(buf, len);
}

int
tun_nl_ack(const void *in, size_t len, uint32_t seq)
{
	const uint8_t *buf = in;
	size_t off = 0;

	while (off < len) {
		struct nlmsghdr nh;
		struct nlmsgerr e;

		if (len - off < sizeof(nh))
			return -EBADMSG;
		memcpy(&nh, buf + off, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len - off)
			return -EBADMSG;
		if (nh.nlmsg_seq == seq && nh.nlmsg_type == NLMSG_ERROR) {
			if (nh.nlmsg_len < NLMSG_LENGTH(sizeof(e)))
				return -EBADMSG;
			memcpy(&e, buf + off + NLMSG_HDRLEN, sizeof(e));
			if (e.error > 0 || e.error < -4095)
				return -EBADMSG;
			return e.error;
		}
		if (NLMSG_ALIGN(nh.nlmsg_len) >= len - off)
			break;
		off += NLMSG_ALIGN(nh.nlmsg_len);
	}
	return 1;
}

/* Send one request and wait for the kernel's answer to it. 0 or -errno. */
static int
nl_talk(int fd, const void *req, size_t len, uint32_t seq)
{
	struct sockaddr_nl sa;
	uint8_t ans[8192];
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(fd, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) !=
	    (ssize_t)len)
		return -errno;
	for (i = 0; i < NL_MAX_READS; i++) {
		socklen_t salen = sizeof(sa);
		ssize_t n;
		int r;

		n = recvfrom(fd, ans, sizeof(ans), 0, (struct sockaddr *)&sa,
		    &salen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
			continue; /* not from the kernel */
		r = tun_nl_ack(ans, (size_t)n, seq);
		if (r != 1)
			return r;
	}
	return -ETIMEDOUT;
}

int
tun_enter_netns(const char *name, char *err, size_t errlen)
{
	static const char *dirs[] = {"/run/netns", "/var/run/netns"};
	char path[128];
	size_t i;
	int fd = -1;

	if (name[0] == '\0' || strlen(name) > 63 || strchr(name, '/') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(err, errlen, "netns `%s' is not a namespace name "
		    "(1..63 bytes, no '/')", name);
		return -1;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && fd == -1; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd == -1) {
		snprintf(err, errlen, "netns `%s' not found in /run/netns or "
		    "/var/run/netns (create it with `ip netns add %s'): %s",
		    name, name, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) == -1) {
		snprintf(err, errlen, "cannot enter netns `%s' (%s): %s",
		    name, path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
tun_open(struct tun_dev *t, const char *ifname, char *err, size_t errlen)
{
	const unsigned want = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
	    TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6;
	struct ifreq ifr;
	unsigned off;
	int sz = TUN_VNET_HDR_LEN, one = 1;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!tun_ifname_valid(ifname)) {
		snprintf(err, errlen, "interface name `%s' is not valid "
		    "(1..15 bytes, no '/', ':' or spaces)", ifname);
		return -1;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd == -1) {
		snprintf(err, errlen, "open /dev/net/tun: %s%s",
		    strerror(errno), errno == ENOENT ?
		    " (load the tun module: modprobe tun)" : "");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(t->fd, TUNSETIFF, &ifr) == -1) {
		snprintf(err, errlen, "create TUN device `%s': %s%s", ifname,
		    strerror(errno), errno == EBUSY ?
		    " (another onionmesh-tund runs for this network?)" :
		    errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	memcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname) - 1);
	t->ifname[sizeof(t->ifname) - 1] = '\0';
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) == -1) {
		snprintf(err, errlen, "TUNSETVNETHDRSZ %d on `%s': %s", sz,
		    t->ifname, strerror(errno));
		goto fail;
	}
	/* Little-endian vnet headers on every host. On a little-endian
	 * host this changes nothing, so only a big-endian failure
	 * matters. */
	if (ioctl(t->fd, TUNSETVNETLE, &one) == -1 &&
	    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
		log_warn("TUNSETVNETLE on %s: vnet headers stay big-endian "
		    "and peers on little-endian hosts will misread them",
		    t->ifname);

	off = want;
	if (ioctl(t->fd, TUNSETOFFLOAD, off) == -1) {
		/* Kernels before 6.2 know no USO (EINVAL): try without. */
		off = want & ~(unsigned)(TUN_F_USO4 | TUN_F_USO6);
		if (errno != EINVAL ||
		    ioctl(t->fd, TUNSETOFFLOAD, off) == -1) {
			log_warn("TUNSETOFFLOAD on %s: running without "
			    "offloads, one packet per read", t->ifname);
			off = 0;
		}
	}
	t->offloads = off;

	t->ifindex = (int)if_nametoindex(t->ifname);
	if (t->ifindex <= 0) {
		snprintf(err, errlen, "index of `%s': %s", t->ifname,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(t->fd);
	t->fd = -1;
	return -1;
}

int
tun_configure(const struct tun_dev *t, uint32_t mtu, const struct prefix *v4,
    const struct prefix *v6, char *err, size_t errlen)
{
	const struct prefix *addrs[2] = {v4, v6};
	struct timeval tv = {NL_TIMEOUT_S, 0};
	uint8_t req[256];
	char pfx[PREFIX_STRLEN];
	uint32_t seq = 1;
	size_t len, i;
	int fd, r = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1) {
		snprintf(err, errlen, "rtnetlink socket: %s",
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	/* MTU first: an IPv6 address needs an MTU of at least 1280. */
	len = tun_nl_setlink(req, sizeof(req), seq, t->ifindex, mtu, 0);
	if (len == 0 || (r = nl_talk(fd, req, len, seq)) != 0) {
		snprintf(err, errlen, "set MTU %u on %s: %s", mtu, t->ifname,
		    len ? strerror(-r) : "request does not fit");
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		const struct prefix *p = addrs[i];

		if (p == NULL || p->family == 0)
			continue;
		seq++;
		prefix_fmt(p, pfx, sizeof(pfx), 1);
		len = tun_nl_newaddr(req, sizeof(req), seq, t->ifindex, p);
		if (len == 0 || (r = nl_talk(fd, req, len, seq)) != 0) {
			snprintf(err, errlen, "add address %s to %s: %s", pfx,
			    t->ifname, len ? strerror(-r) :
			    "not an IPv4 or IPv6 prefix");
			goto fail;
		}
		log_debug("%s: address %s", t->ifname, pfx);
	}
	seq++;
	len = tun_nl_setlink(req, sizeof(req), seq, t->ifindex, 0, 1);
	if (len == 0 || (r = nl_talk(fd, req, len, seq)) != 0) {
		snprintf(err, errlen, "bring %s up: %s", t->ifname,
		    len ? strerror(-r) : "request does not fit");
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

int
tun_nl_open(char *err, size_t errlen)
{
	struct timeval tv = {NL_TIMEOUT_S, 0};
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1) {
		snprintf(err, errlen, "rtnetlink socket: %s",
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, errlen, "rtnetlink socket timeout: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
tun_route(int nlfd, const struct tun_dev *t, const struct prefix *p,
    int add)
{
	static uint32_t seq = 1000;
	uint8_t req[256];
	size_t len;

	if (nlfd < 0)
		return -EBADF;
	/* Never 0, and apart from tun_configure's small numbers. */
	if (++seq < 1000)
		seq = 1000;
	len = tun_nl_route(req, sizeof(req), seq, t->ifindex, p, add);
	if (len == 0)
		return -EINVAL;
	return nl_talk(nlfd, req, len, seq);
}

void
tun_close(struct tun_dev *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}
