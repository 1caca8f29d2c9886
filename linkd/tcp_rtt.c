/*
 * A TCP link's round trip as routing should weigh it: the kernel's
 * windowed minimum (tcpi_min_rtt), not its smoothed rtt (tcpi_rtt).
 *
 * The smoothed rtt of a link that carries little is mostly other
 * things: a delayed ACK (up to 40 ms on Linux when only one side
 * sends), or a busy machine that ran linkd late while the handshake was
 * answered. One such sample, taken as the link came up, used to be the
 * link's cost for its whole life, and a direct link between two members
 * on one LAN could cost more than four hops round it. The minimum over
 * the kernel's window (net.ipv4.tcp_min_rtt_wlen, 300 s by default)
 * starts with the SYN's round trip, which the kernel answers itself,
 * and is the path's own latency; load shows in the rate the link
 * carries, which routed weighs separately.
 *
 * Its own file because only <linux/tcp.h> has tcpi_min_rtt, and that
 * header cannot share a translation unit with <netinet/tcp.h>, which
 * the transport uses.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include "linkd/linkd.h"

uint32_t
tcp_rtt_us(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (fd == -1 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return 0;
	/* An older kernel fills less of the struct: no minimum there. */
	if (len >= offsetof(struct tcp_info, tcpi_min_rtt) +
	    sizeof(ti.tcpi_min_rtt) && ti.tcpi_min_rtt != 0)
		return ti.tcpi_min_rtt;
	return ti.tcpi_rtt;
}
