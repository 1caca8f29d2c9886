/*
 * The data socket to tund (proto/datapath.h has the format) and the
 * packets that go down it; outbound.c reads the other direction.
 *
 * tund listens on run/tund.data, a Unix SOCK_SEQPACKET socket; linkd
 * connects (and reconnects every DP_RECONNECT s while it is absent).
 *
 *   peer -> tund: the session hands over the decrypted packet -> its
 *     inner source must be one of the sending member's addresses or
 *     subnets (record_owns_addr), else it is dropped and counted ->
 *     send to tund straight from the session's buffer.
 *
 * Backpressure instead of drops, both ways. When tund's socket is full
 * the packet in hand is kept (the only copy, and only then) and every
 * link stops reading until tund takes it; the kernel's TCP buffers
 * then push back on the sending member. When a link's output ring is
 * above its high-water mark we stop reading tund until every link is
 * below its low-water mark, and the TUN queue pushes back on the
 * sending application. A tund that takes nothing for DP_PAUSE_MAX s
 * loses the packet in hand rather than starving every link's
 * keepalives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/log.h"

static void dp_wio_cb(struct ev_loop *, ev_io *, int);
static void dp_retry_cb(struct ev_loop *, ev_timer *, int);
static void dp_resume_cb(struct ev_loop *, ev_timer *, int);

/* A zero-delay timer: resuming links from inside a session callback
 * would re-enter that session, so it waits for the next iteration. */
static ev_timer dp_resume;

int
dp_inner_addr(const uint8_t *pkt, size_t len, int want_src, int *family,
    const uint8_t **addr)
{
	const uint8_t *ip = pkt + TUN_VNET_HDR_LEN;

	if (len < TUN_VNET_HDR_LEN + 1)
		return -1;
	switch (ip[0] >> 4) {
	case 4:
		if (len < TUN_VNET_HDR_LEN + 20)
			return -1;
		*family = 4;
		*addr = ip + (want_src ? 12 : 16);
		return 0;
	case 6:
		if (len < TUN_VNET_HDR_LEN + 40)
			return -1;
		*family = 6;
		*addr = ip + (want_src ? 8 : 24);
		return 0;
	}
	return -1;
}

static void
dp_connect(struct linkd *ld)
{
	struct datapath *dp = &ld->dp;
	struct sockaddr_un sun;
	int fd, sz = DP_SOCKBUF;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", dp->path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("data socket");
		return;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_debug("tund not there yet (%s): %s", dp->path,
		    strerror(errno));
		close(fd);
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	dp->fd = fd;
	ev_timer_stop(ld->loop, &dp->retry);
	ev_io_set(&dp->rio, fd, EV_READ);
	ev_io_set(&dp->wio, fd, EV_WRITE);
	dp->tund_paused = ld->links_over_high > 0;
	if (!dp->tund_paused)
		ev_io_start(ld->loop, &dp->rio);
	log_info("connected to tund (%s)", dp->path);
}

void
datapath_disconnect(struct linkd *ld, const char *why)
{
	struct datapath *dp = &ld->dp;

	if (dp->fd == -1)
		return;
	log_warnx("lost tund (%s): %s; reconnecting", dp->path, why);
	ev_io_stop(ld->loop, &dp->rio);
	ev_io_stop(ld->loop, &dp->wio);
	close(dp->fd);
	dp->fd = -1;
	if (dp->pend_len > 0) {
		dp->pend_len = 0;
		dp->tund_drops++;
	}
	if (ld->links_paused)
		ev_timer_start(ld->loop, &dp_resume);
	ev_timer_again(ld->loop, &dp->retry);
}

static void
dp_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct linkd *ld = w->data;

	if (ld->dp.fd == -1)
		dp_connect(ld);
}

static void
dp_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct linkd *ld = w->data;

	if (ld->links_paused && ld->dp.pend_len == 0)
		links_resume(ld);
}

void
datapath_init(struct linkd *ld, const char *path)
{
	struct datapath *dp = &ld->dp;

	memset(dp, 0, sizeof(*dp));
	dp->fd = -1;
	snprintf(dp->path, sizeof(dp->path), "%s", path);
	if ((dp->buf = malloc(DP_BUF)) == NULL ||
	    (dp->pend = malloc(DP_BUF)) == NULL)
		fatal("datapath buffers");
	ev_io_init(&dp->wio, dp_wio_cb, 0, EV_WRITE);
	ev_init(&dp->retry, dp_retry_cb);
	dp->retry.repeat = DP_RECONNECT;
	ev_timer_init(&dp_resume, dp_resume_cb, 0., 0.);
	dp->wio.data = dp->retry.data = dp_resume.data = ld;
	/* The first attempt waits for the loop: main drops privileges
	 * after this, and tund takes only linkd's uid (SO_PEERCRED is
	 * fixed at connect), so a connection made now, as root, would be
	 * refused and cost a DP_RECONNECT on every start. */
	ev_timer_set(&dp->retry, 0., DP_RECONNECT);
	ev_timer_start(ld->loop, &dp->retry);
}

void
datapath_close(struct linkd *ld)
{
	struct datapath *dp = &ld->dp;

	ev_timer_stop(ld->loop, &dp->retry);
	ev_timer_stop(ld->loop, &dp_resume);
	ev_io_stop(ld->loop, &dp->rio);
	ev_io_stop(ld->loop, &dp->wio);
	if (dp->fd != -1)
		close(dp->fd);
	dp->fd = -1;
	free(dp->buf);
	free(dp->pend);
	dp->buf = dp->pend = NULL;
}

void
datapath_links_drained(struct linkd *ld)
{
	struct datapath *dp = &ld->dp;

	if (dp->tund_paused && dp->fd != -1) {
		dp->tund_paused = 0;
		ev_io_start(ld->loop, &dp->rio);
	}
}

/*
 * May member p send from this inner source address? Its record must own
 * the address, and our forwarding table must agree that traffic to it
 * goes to p (a reverse-path check). The second half matters for wide
 * subnets: a member announcing 0.0.0.0/0 owns every address by its
 * record, but unless we chose it as our gateway no route of ours points
 * there, and a more specific prefix of another member (its /32, its LAN)
 * always wins. The member's own host addresses are accepted before the
 * first table arrives, so a link that just came up is not mute.
 */
static int
datapath_src_ok(struct linkd *ld, struct peer *p, int family,
    const uint8_t *a)
{
	const struct fib_entry *e;
	const struct prefix *own = family == 4 ? &p->rec.ipv4 : &p->rec.ipv6;

	if (!record_owns_addr(&p->rec, family, a))
		return 0;
	if ((e = fib_lookup(ld->fib, family, a)) != NULL)
		return sodium_memcmp(e->dest, p->rec.id, MEMBER_ID_BYTES) == 0;
	return own->family == family &&
	    memcmp(own->addr, a, family == 4 ? 4 : 16) == 0;
}

void
datapath_deliver(struct linkd *ld, struct peer *p, const uint8_t *pkt,
    size_t len)
{
	struct datapath *dp = &ld->dp;
	char src[PREFIX_STRLEN];
	const uint8_t *a;
	struct prefix pf;
	int family;
	ssize_t n;

	if (dp_inner_addr(pkt, len, 1, &family, &a) == -1) {
		dp->bad_packets++;
		return;
	}
	if (!datapath_src_ok(ld, p, family, a)) {
		dp->src_drops++;
		p->src_drops++;
		memset(&pf, 0, sizeof(pf));
		pf.family = (uint8_t)family;
		pf.len = family == 4 ? 32 : 128;
		memcpy(pf.addr, a, family == 4 ? 4 : 16);
		prefix_fmt(&pf, src, sizeof(src), 0);
		log_warnx_rl(p, "member %s sent a packet from %s, which is "
		    "not one of its addresses: dropped", p->rec.name, src);
		return;
	}
	/* pend full: links are paused and cannot deliver; never overwrite
	 * the packet tund has not taken yet. */
	if (dp->fd == -1 || dp->pend_len > 0) {
		dp->tund_drops++;
		return;
	}
	n = send(dp->fd, pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0) {
		dp->rx_packets++;
		return;
	}
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ENOBUFS:
		/* Keep it, stop every link until tund takes it. */
		memcpy(dp->pend, pkt, len);
		dp->pend_len = len;
		dp->t_paused = linkd_now();
		dp->links_paused_n++;
		links_pause(ld);
		ev_io_start(ld->loop, &dp->wio);
		return;
	case EMSGSIZE:
		dp->bad_packets++;
		return;
	default:
		datapath_disconnect(ld, strerror(errno));
		return;
	}
}

static void
dp_wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct linkd *ld = w->data;
	struct datapath *dp = &ld->dp;
	ssize_t n;

	if (dp->pend_len > 0) {
		n = send(dp->fd, dp->pend, dp->pend_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS || errno == EINTR)
				return;
			datapath_disconnect(ld, strerror(errno));
			return;
		}
		dp->rx_packets++;
		dp->pend_len = 0;
	}
	ev_io_stop(loop, &dp->wio);
	links_resume(ld);
}

void
datapath_tick(struct linkd *ld, double now)
{
	struct datapath *dp = &ld->dp;

	if (ld->links_paused && dp->pend_len > 0 &&
	    now - dp->t_paused > DP_PAUSE_MAX) {
		log_warnx_rl(dp, "tund took no packet for %.0f s: dropping "
		    "one and reading links again", DP_PAUSE_MAX);
		dp->pend_len = 0;
		dp->tund_drops++;
		ev_io_stop(ld->loop, &dp->wio);
		links_resume(ld);
	}
}
