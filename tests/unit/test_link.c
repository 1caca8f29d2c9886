/*
 * linkd's stream handling, without sockets:
 *  - the framer finds exactly the frames that were written, in order and
 *    byte for byte, however the stream is cut: at every byte boundary,
 *    one byte at a time, and in random pieces across a stream several
 *    times larger than its buffer with frames of the largest size (so
 *    the partial frame at the end is moved to the front);
 *  - a bad length or type stops the stream;
 *  - the output ring keeps bytes in order across wrap-around, refuses
 *    what does not fit without losing what it holds;
 *  - the inner-header reader the datapath uses (addresses at the right
 *    offsets after the 10-byte vnet header, short packets refused) and
 *    the dial policy (connect / noconnect / self / no endpoint);
 *  - when a member's rtt has moved enough to tell routed again, and
 *    that a TCP link's rtt is the kernel's minimum, which a delayed ACK
 *    or a late-running linkd cannot inflate (a real loopback pair);
 *  - a link's unread socket bytes (striping counts them as queued) and
 *    when an onion link is congested (its member's packets dropped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linkd/link.h"
#include "linkd/linkd.h"
#include "proto/buf.h"
#include "proto/conf.h"
#include "proto/record.h"
#include "proto/wire.h"

struct stream {
	uint8_t *p;
	size_t len;
	size_t nframes;
	size_t off[64];     /* frame starts */
	size_t flen[64];    /* whole frame lengths */
};

/* Append a frame: u32 len | type | body (a pattern from seed). */
static void
add_frame(struct stream *s, uint8_t type, size_t body, unsigned seed)
{
	size_t i, fl = WIRE_LEN_BYTES + 1 + body;

	assert_true(s->nframes < 64);
	s->p = realloc(s->p, s->len + fl);
	assert_non_null(s->p);
	be32_put(s->p + s->len, (uint32_t)(1 + body));
	s->p[s->len + 4] = type;
	for (i = 0; i < body; i++)
		s->p[s->len + 5 + i] = (uint8_t)(seed * 131 + i * 7 + i / 256);
	s->off[s->nframes] = s->len;
	s->flen[s->nframes] = fl;
	s->nframes++;
	s->len += fl;
}

/* Take every whole frame out of fr, checking it against the stream. */
static void
drain(struct framer *fr, const struct stream *s, size_t *next)
{
	struct wire_frame f;
	int r;

	while ((r = framer_next(fr, &f)) == 1) {
		assert_true(*next < s->nframes);
		assert_int_equal(f.frame_len, s->flen[*next]);
		assert_int_equal(f.type, s->p[s->off[*next] + 4]);
		assert_int_equal(f.body_len, s->flen[*next] - 5);
		assert_memory_equal(f.body, s->p + s->off[*next] + 5,
		    f.body_len);
		(*next)++;
	}
	assert_int_equal(r, 0);
}

/* Feed bytes [from, to) of s, in pieces no larger than piece (0: as
 * large as the room allows). */
static void
feed(struct framer *fr, const struct stream *s, size_t from, size_t to,
    size_t piece, size_t *next)
{
	while (from < to) {
		size_t room, n;
		uint8_t *dst = framer_space(fr, &room);

		assert_true(room > 0);
		n = to - from;
		if (n > room)
			n = room;
		if (piece > 0 && n > piece)
			n = piece;
		memcpy(dst, s->p + from, n);
		framer_commit(fr, n);
		from += n;
		drain(fr, s, next);
	}
}

static void
small_stream(struct stream *s)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 16, 31, 64, 100, 255,
		256, 300 };
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		add_frame(s, (uint8_t)(1 + i % 3), sizes[i], (unsigned)i);
}

static void
test_split_every_boundary(void **state)
{
	struct stream s;
	struct framer fr;
	size_t k, next;

	small_stream(&s);
	for (k = 0; k <= s.len; k++) {
		assert_int_equal(framer_init(&fr, LINK_RXBUF), 0);
		next = 0;
		feed(&fr, &s, 0, k, 0, &next);
		feed(&fr, &s, k, s.len, 0, &next);
		assert_int_equal(next, s.nframes);
		assert_int_equal(framer_pending(&fr), 0);
		framer_free(&fr);
	}
	free(s.p);
}

static void
test_byte_at_a_time(void **state)
{
	struct stream s;
	struct framer fr;
	size_t next = 0;

	small_stream(&s);
	/* A largest-size frame in the middle, and more small ones. */
	add_frame(&s, WIRE_DATA, WIRE_MAX_BODY - 1, 99);
	add_frame(&s, WIRE_HS_INIT, 5, 100);
	assert_int_equal(framer_init(&fr, LINK_RXBUF), 0);
	feed(&fr, &s, 0, s.len, 1, &next);
	assert_int_equal(next, s.nframes);
	assert_int_equal(framer_pending(&fr), 0);
	framer_free(&fr);
	free(s.p);
}

static void
test_large_random(void **state)
{
	struct stream s;
	struct framer fr;
	size_t next = 0, from = 0, i;

	memset(&s, 0, sizeof(s));
	srand(4242);
	/* ~1.5 MiB: several times the buffer, mostly big frames. */
	for (i = 0; i < 24; i++)
		add_frame(&s, WIRE_DATA, i % 4 == 0 ? WIRE_MAX_BODY - 1 :
		    (size_t)rand() % WIRE_MAX_BODY, (unsigned)i);
	assert_int_equal(framer_init(&fr, LINK_RXBUF), 0);
	while (from < s.len) {
		size_t piece = 1 + (size_t)rand() % 90000, to = from + piece;

		if (to > s.len)
			to = s.len;
		feed(&fr, &s, from, to, 0, &next);
		from = to;
	}
	assert_int_equal(next, s.nframes);
	framer_free(&fr);
	free(s.p);
}

static void
test_bad_stream(void **state)
{
	struct framer fr;
	struct wire_frame f;
	uint8_t *p;
	size_t room;

	assert_int_equal(framer_init(&fr, LINK_RXBUF), 0);
	assert_int_equal(framer_next(&fr, &f), 0);      /* empty */
	/* Zero length. */
	p = framer_space(&fr, &room);
	memset(p, 0, 5);
	framer_commit(&fr, 5);
	assert_int_equal(framer_next(&fr, &f), -1);
	framer_free(&fr);

	/* Unknown type, refused before the body arrives. */
	assert_int_equal(framer_init(&fr, LINK_RXBUF), 0);
	p = framer_space(&fr, &room);
	be32_put(p, 1000);
	p[4] = 9;
	framer_commit(&fr, 5);
	assert_int_equal(framer_next(&fr, &f), -1);
	framer_free(&fr);

	/* Longer than any frame may be. */
	assert_int_equal(framer_init(&fr, LINK_RXBUF), 0);
	p = framer_space(&fr, &room);
	be32_put(p, WIRE_MAX_BODY + 1);
	p[4] = WIRE_DATA;
	framer_commit(&fr, 5);
	assert_int_equal(framer_next(&fr, &f), -1);
	framer_free(&fr);
}

static void
test_obuf(void **state)
{
	enum { CAP = 1000, REF = 1 << 20 };
	struct obuf o;
	uint8_t *ref = malloc(REF), src[600];
	size_t rhead = 0, rtail = 0, i;
	unsigned seq = 0;

	assert_non_null(ref);
	obuf_init(&o, CAP);
	srand(7);
	for (i = 0; i < 20000; i++) {
		if (rand() % 2) {
			size_t n = (size_t)rand() % sizeof(src), k;
			int r;

			for (k = 0; k < n; k++)
				src[k] = (uint8_t)(seq + k);
			r = obuf_append(&o, src, n);
			if (n > CAP - (rtail - rhead)) {
				assert_int_equal(r, -1);
			} else {
				assert_int_equal(r, 0);
				assert_true(rtail + n <= REF);
				memcpy(ref + rtail, src, n);
				rtail += n;
				seq += (unsigned)n;
			}
		} else {
			struct iovec iov[2];
			int cnt = obuf_iov(&o, iov), k;
			size_t got = 0, take;

			for (k = 0; k < cnt; k++) {
				assert_memory_equal(iov[k].iov_base,
				    ref + rhead + got, iov[k].iov_len);
				got += iov[k].iov_len;
			}
			assert_int_equal(got, rtail - rhead);
			take = got == 0 ? 0 : (size_t)rand() % (got + 1);
			obuf_consume(&o, take);
			rhead += take;
		}
		assert_int_equal(o.len, rtail - rhead);
		if (rtail > REF - 2 * CAP)
			break;
	}
	obuf_free(&o);
	free(ref);
}

static void
test_inner_addr(void **state)
{
	uint8_t pkt[80];
	const uint8_t *a;
	int fam;

	memset(pkt, 0, sizeof(pkt));
	pkt[10] = 0x45;
	memcpy(pkt + 10 + 12, "\x0a\x01\x02\x03", 4);
	memcpy(pkt + 10 + 16, "\x0a\x04\x05\x06", 4);
	assert_int_equal(dp_inner_addr(pkt, 30, 1, &fam, &a), 0);
	assert_int_equal(fam, 4);
	assert_memory_equal(a, "\x0a\x01\x02\x03", 4);
	assert_int_equal(dp_inner_addr(pkt, 30, 0, &fam, &a), 0);
	assert_memory_equal(a, "\x0a\x04\x05\x06", 4);
	assert_int_equal(dp_inner_addr(pkt, 29, 0, &fam, &a), -1);

	memset(pkt, 0, sizeof(pkt));
	pkt[10] = 0x60;
	pkt[10 + 8] = 0xfd;
	pkt[10 + 8 + 15] = 1;
	pkt[10 + 24] = 0xfd;
	pkt[10 + 24 + 15] = 2;
	assert_int_equal(dp_inner_addr(pkt, 50, 1, &fam, &a), 0);
	assert_int_equal(fam, 6);
	assert_int_equal(a[0], 0xfd);
	assert_int_equal(a[15], 1);
	assert_int_equal(dp_inner_addr(pkt, 50, 0, &fam, &a), 0);
	assert_int_equal(a[15], 2);
	assert_int_equal(dp_inner_addr(pkt, 49, 0, &fam, &a), -1);

	pkt[10] = 0x50;     /* neither 4 nor 6 */
	assert_int_equal(dp_inner_addr(pkt, 80, 0, &fam, &a), -1);
	assert_int_equal(dp_inner_addr(pkt, 10, 0, &fam, &a), -1);
}

static void
test_rtt_moved(void **state)
{
	/* unknown <-> known always */
	assert_int_equal(rtt_moved(0, 80), 1);
	assert_int_equal(rtt_moved(80, 0), 1);
	assert_int_equal(rtt_moved(0, 0), 0);
	/* loopback jitter: no report */
	assert_int_equal(rtt_moved(60, 400), 0);
	/* the snapshot of a busy start, then the settled figure: 4.8 ms
	 * of difference, a route-changing amount */
	assert_int_equal(rtt_moved(5000, 200), 1);
	/* a circuit: 20 % of 80 ms is under a quarter */
	assert_int_equal(rtt_moved(80000, 96000), 0);
	assert_int_equal(rtt_moved(80000, 120000), 1);
	/* exactly at both bounds counts */
	assert_int_equal(rtt_moved(1500, 2000), 1);
	assert_int_equal(rtt_moved(1500, 1999), 0);
	assert_int_equal(rtt_moved(UINT32_MAX, 0), 1);
	assert_int_equal(rtt_moved(UINT32_MAX, 1), 1);
}

static void
test_tcp_rtt(void **state)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int l, c, s;
	uint32_t rtt;
	char b[1];

	assert_int_equal(tcp_rtt_us(-1), 0);
	l = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	/* One exchange whose answer is held back 50 ms, as by a busy
	 * responder: a link's rtt is the path's (the kernel answers the
	 * SYN and ACKs itself), not the time the program took. */
	assert_int_equal(write(c, "x", 1), 1);
	usleep(50000);
	assert_int_equal(read(s, b, 1), 1);
	assert_int_equal(write(s, "y", 1), 1);
	assert_int_equal(read(c, b, 1), 1);
	rtt = tcp_rtt_us(c);
	assert_true(rtt > 0);
	assert_true(rtt < 20000);
	rtt = tcp_rtt_us(s);
	assert_true(rtt > 0);
	assert_true(rtt < 20000);
	close(s);
	close(c);
	close(l);
}

/* What back-pressure reads of a link's queue (onion: over its high
 * mark, its member's packets are dropped; TCP: never, tund is paused
 * instead), and what striping learns from the far end's acks: the
 * session bytes sent are counted, an ack moves the circuit's view and
 * takes its own frame out of what we received, a bad one is counted and
 * changes nothing. */
static void
test_queue_marks(void **state)
{
	struct link *l = calloc(1, sizeof(*l));
	uint8_t ack[8] = { 0, 0, 0, 0, 0, 0, 0x0b, 0xb8 };   /* 3000 */
	uint8_t big[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0 };      /* 1 MiB */

	assert_non_null(l);
	l->fd = -1;
	l->obuf_high = LINK_ONION_HIGH;
	l->tx.len = LINK_ONION_HIGH;
	assert_false(link_congested(l));
	l->tx.len = LINK_ONION_HIGH + 1;
	assert_true(link_congested(l));
	l->pause_tund = 1;               /* TCP */
	assert_false(link_congested(l));

	/* Before the link is up only the totals count. */
	link_counted_sent(l, 100);
	assert_int_equal(l->fr_tx, 100);
	sched_circ_init(&l->sc, l->fr_tx, 0);
	l->sc.up = 1;
	link_counted_sent(l, 5000);
	assert_int_equal(l->fr_tx, 5100);
	assert_int_equal(sched_inflight(&l->sc), 5000);
	/* An ack of 3000 in a 40-byte frame. */
	l->fr_rx = 100;
	l->fr_cur = 40;
	link_ack_input(l, ack, sizeof(ack), 0.1);
	assert_int_equal(l->fr_rx, 60);
	assert_int_equal(l->fr_cur, 0);
	assert_int_equal(l->sc.acked, 3000);
	assert_true(l->ack_moved);
	assert_int_equal(l->bad_acks, 0);
	/* Not 8 bytes; then far more than was ever sent: counted,
	 * nothing moves. */
	l->ack_moved = 0;
	link_ack_input(l, ack, 7, 0.2);
	assert_int_equal(l->bad_acks, 1);
	link_ack_input(l, big, sizeof(big), 0.3);
	assert_int_equal(l->bad_acks, 2);
	assert_int_equal(l->sc.acked, 3000);
	assert_false(l->ack_moved);
	free(l);
}

static void
test_dial_policy(void **state)
{
	static struct conf c;
	static struct record r;
	uint8_t self[32];

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	memset(self, 1, sizeof(self));
	memset(r.id, 2, sizeof(r.id));
	strcpy(r.name, "bob");
	/* No endpoint: nothing to dial. */
	assert_int_equal(peers_dial_wanted(&c, self, &r), 0);
	strcpy(r.tcp[0], "192.0.2.1:6550");
	r.ntcp = 1;
	assert_int_equal(peers_dial_wanted(&c, self, &r), 1);
	/* Never ourselves. */
	memcpy(r.id, self, 32);
	assert_int_equal(peers_dial_wanted(&c, self, &r), 0);
	memset(r.id, 2, sizeof(r.id));
	/* noconnect. */
	strcpy(c.noconnect[0], "bob");
	c.nnoconnect = 1;
	assert_int_equal(peers_dial_wanted(&c, self, &r), 0);
	c.nnoconnect = 0;
	/* connect set: only those. */
	strcpy(c.connect[0], "carol");
	c.nconnect = 1;
	assert_int_equal(peers_dial_wanted(&c, self, &r), 0);
	strcpy(c.connect[1], "bob");
	c.nconnect = 2;
	assert_int_equal(peers_dial_wanted(&c, self, &r), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_every_boundary),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_large_random),
		cmocka_unit_test(test_bad_stream),
		cmocka_unit_test(test_obuf),
		cmocka_unit_test(test_inner_addr),
		cmocka_unit_test(test_dial_policy),
		cmocka_unit_test(test_rtt_moved),
		cmocka_unit_test(test_tcp_rtt),
		cmocka_unit_test(test_queue_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
