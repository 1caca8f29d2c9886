/*
 * Striping a member's packets over its circuits (see stripe.h): the
 * sequence number on the way out, the circuit choice through sched.c,
 * and reorder.c with its timer on the way in. Each link keeps its own
 * scheduler view (link.h's sc: up, bytes sent and acknowledged, rate),
 * updated by link_session.c as frames go out and acks come in; the
 * delay is read from the link's rtt here, when a packet is scheduled.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "linkd/stripe.h"
#include "proto/log.h"

static void stripe_timer_cb(struct ev_loop *, ev_timer *, int);
static void queue_drop_all(struct stripe *);

void
stripe_init(struct linkd *ld, struct peer *p)
{
	struct stripe *st = &p->stripe;

	memset(st, 0, sizeof(*st));
	st->ld = ld;
	st->p = p;
	/* A random first number: after a restart of ours the member's
	 * buffer sees a jump and starts a new epoch, never "late". */
	randombytes_buf(&st->tx_seq, sizeof(st->tx_seq));
	sched_init(&st->sched);
	ev_timer_init(&st->ro_timer, stripe_timer_cb, 0., 0.);
	st->ro_timer.data = st;
	st->ro_armed = -1;
}

void
stripe_free(struct stripe *st)
{
	if (st->ld != NULL)
		ev_timer_stop(st->ld->loop, &st->ro_timer);
	if (st->ro_live)
		reorder_free(&st->ro);
	st->ro_live = 0;
	st->ro_armed = -1;
	queue_drop_all(st);
	free(st->q);
	st->q = NULL;
}

/* The link for p's next packet of len bytes, or NULL with *why
 * SCHED_NONE / SCHED_FULL: its sched pick over the member's links
 * (their delays kept up to date by link_session.c). */
static struct link *
stripe_tx_link(struct peer *p, size_t len, double now, int *why)
{
	struct sched_circ *v[PEER_MAX_LINKS];
	int i, k;

	for (i = 0; i < p->nlinks; i++)
		v[i] = &p->links[i]->sc;
	k = sched_pick(&p->stripe.sched, v, (size_t)p->nlinks, len, now);
	if (k < 0) {
		*why = k;
		return NULL;
	}
	p->links[k]->mp.sent++;
	return p->links[k];
}

static void
queue_drop_all(struct stripe *st)
{
	while (st->q_n > 0) {
		free(st->q[st->q_head].p);
		st->q_head = (st->q_head + 1) % STRIPE_QUEUE_PKTS;
		st->q_n--;
	}
	st->q_bytes = 0;
}

/* A copy of pkt at the queue's tail; -1 when it is full (or no
 * memory). */
static int
queue_push(struct stripe *st, const uint8_t *pkt, size_t len)
{
	struct stripe_pkt *e;

	if (st->q_n == STRIPE_QUEUE_PKTS ||
	    st->q_bytes + len > STRIPE_QUEUE_BYTES)
		return -1;
	if (st->q == NULL &&
	    (st->q = calloc(STRIPE_QUEUE_PKTS, sizeof(*st->q))) == NULL)
		return -1;
	e = &st->q[(st->q_head + st->q_n) % STRIPE_QUEUE_PKTS];
	if ((e->p = malloc(len)) == NULL)
		return -1;
	memcpy(e->p, pkt, len);
	e->len = len;
	st->q_n++;
	st->q_bytes += len;
	st->q_total++;
	return 0;
}

void
stripe_drain(struct peer *p, double now)
{
	struct stripe *st = &p->stripe;
	struct stripe_pkt *e;
	struct link *l;
	int why;

	while (st->q_n > 0) {
		e = &st->q[st->q_head];
		l = stripe_tx_link(p, e->len, now, &why);
		if (l == NULL) {
			/* No circuit up at all: nothing will open. */
			if (why == SCHED_NONE && p->links_up == 0) {
				st->q_drops += st->q_n;
				queue_drop_all(st);
			}
			return;
		}
		(void)link_send_packet(l, e->p, e->len, now);
		free(e->p);
		e->p = NULL;
		st->q_bytes -= e->len;
		st->q_head = (st->q_head + 1) % STRIPE_QUEUE_PKTS;
		st->q_n--;
	}
}

enum stripe_tx
stripe_send(struct peer *p, const uint8_t *pkt, size_t len, double now)
{
	struct stripe *st = &p->stripe;
	struct link *l;
	int why = SCHED_FULL;

	/* In order: what waits goes first (room may have opened without
	 * an ack: a link came up, a stall ended). */
	if (st->q_n > 0)
		stripe_drain(p, now);
	if (st->q_n == 0) {
		l = stripe_tx_link(p, len, now, &why);
		if (l != NULL)
			return link_send_packet(l, pkt, len, now) == -1 ?
			    STRIPE_FAILED : STRIPE_SENT;
		if (why == SCHED_NONE)
			return STRIPE_NO_LINK;
	}
	if (queue_push(st, pkt, len) == -1) {
		st->q_drops++;
		return STRIPE_DROPPED;
	}
	return STRIPE_QUEUED;
}

int
stripe_seal(struct link *l, const uint8_t *pkt, size_t len, double now)
{
	uint8_t num[STRIPE_SEQ_BYTES];
	struct stripe *st = &l->peer->stripe;
	uint64_t seq = st->tx_seq;
	int i;

	for (i = STRIPE_SEQ_BYTES - 1; i >= 0; i--) {
		num[i] = (uint8_t)seq;
		seq >>= 8;
	}
	/* The number rides as a prefix the seal takes in its first block:
	 * the packet is not copied to put it in front. */
	if (session_send_kind_pre(&l->sess, INNER_SEQ_PACKET, num,
	    sizeof(num), pkt, len, now) == -1)
		return -1;
	/* Only a number that went out is used up: a gap costs the
	 * member a timeout. */
	st->tx_seq++;
	return 0;
}

/* The reorder buffer hands a packet on: to tund. */
static void
stripe_deliver(void *ctx, uint64_t seq, const uint8_t *p, size_t len)
{
	struct stripe *st = ctx;

	datapath_deliver(st->ld, st->p, p, len);
}

/* The timer at the buffer's deadline, or off when nothing is held. */
static void
stripe_arm(struct stripe *st, double now)
{
	double d = reorder_deadline(&st->ro);

	if (d == st->ro_armed)
		return;
	ev_timer_stop(st->ld->loop, &st->ro_timer);
	st->ro_armed = d;
	if (d < 0)
		return;
	ev_timer_set(&st->ro_timer, d > now ? d - now : 0., 0.);
	ev_timer_start(st->ld->loop, &st->ro_timer);
}

static void
stripe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stripe *st = w->data;
	double now = linkd_now();

	st->ro_armed = -1;
	reorder_tick(&st->ro, now);
	stripe_arm(st, now);
}

/* The gap timeout from the spread of the member's circuits' one-way
 * delays; the default while any up circuit is unmeasured. */
static void
stripe_set_timeout(struct stripe *st, double now)
{
	const struct peer *p = st->p;
	double lo = 0, hi = 0, d;
	int i, n = 0, unknown = 0;

	st->t_spread = now;
	for (i = 0; i < p->nlinks; i++) {
		if (p->links[i]->state != LINK_UP)
			continue;
		if (p->links[i]->rtt_us == 0) {
			unknown = 1;
			continue;
		}
		d = p->links[i]->rtt_us / 2e6;
		lo = n == 0 || d < lo ? d : lo;
		hi = n == 0 || d > hi ? d : hi;
		n++;
	}
	reorder_set_timeout(&st->ro,
	    reorder_timeout_for(unknown || n == 0 ? -1 : hi - lo));
}

void
stripe_input(struct linkd *ld, struct peer *from, const uint8_t *p,
    size_t len)
{
	struct stripe *st = &from->stripe;
	double now = linkd_now();
	uint64_t seq = 0;
	int i;

	if (len <= STRIPE_SEQ_BYTES) {
		st->rx_bad++;
		return;
	}
	if (!st->ro_live) {
		if (reorder_init(&st->ro, REORDER_SLOTS, REORDER_BYTES,
		    stripe_deliver, st) == -1) {
			st->rx_nomem++;
			log_warnx_rl(st, "member %s: no memory for a reorder "
			    "buffer: numbered packets dropped",
			    from->rec.name);
			return;
		}
		st->ro_live = 1;
		stripe_set_timeout(st, now);
	} else if (now - st->t_spread >= STRIPE_SPREAD_EVERY)
		stripe_set_timeout(st, now);
	for (i = 0; i < STRIPE_SEQ_BYTES; i++)
		seq = seq << 8 | p[i];
	if (reorder_push(&st->ro, seq, p + STRIPE_SEQ_BYTES,
	    len - STRIPE_SEQ_BYTES, now) == REORDER_NOMEM)
		st->rx_nomem++;
	stripe_arm(st, now);
}

void
stripe_links_down(struct peer *p)
{
	struct stripe *st = &p->stripe;

	st->q_drops += st->q_n;
	queue_drop_all(st);
	if (!st->ro_live)
		return;
	reorder_flush(&st->ro);
	stripe_arm(st, linkd_now());
}

json_t *
stripe_link_json(json_t *o, const struct link *l)
{
	if (o == NULL)
		return NULL;
	/* rate: measured while its queue was busy, 0 until then */
	json_object_set_new(o, "rate_bps", json_integer((json_int_t)
	    l->sc.rate));
	json_object_set_new(o, "scheduled", json_integer((json_int_t)
	    l->sc.scheduled));
	/* what the far end has not acknowledged, and what it may hold */
	json_object_set_new(o, "inflight", json_integer((json_int_t)
	    sched_inflight(&l->sc)));
	json_object_set_new(o, "window", json_integer((json_int_t)
	    sched_window(&l->sc)));
	json_object_set_new(o, "acks", json_integer((json_int_t)
	    l->sc.acks));
	json_object_set_new(o, "bad_acks", json_integer((json_int_t)
	    l->bad_acks));
	json_object_set_new(o, "stalls", json_integer((json_int_t)
	    l->sc.stalls));
	json_object_set_new(o, "stalled", json_boolean(l->sc.stalled));
	return o;
}

json_t *
stripe_json(const struct stripe *st)
{
	const struct reorder_stats *s = &st->ro.st;

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:f, s:I, s:I, s:I, s:I, s:I}",
	    "peer", st->p->rec.name,
	    "peer_id", st->p->id_hex,
	    "bytes", (json_int_t)s->bytes,
	    "held_now", (json_int_t)s->held_now,
	    "held", (json_int_t)s->held,
	    "late", (json_int_t)s->late,
	    "skipped", (json_int_t)s->skipped,
	    "duplicates", (json_int_t)s->duplicates,
	    "delivered", (json_int_t)s->delivered,
	    "epochs", (json_int_t)s->epochs,
	    "timeout_ms", st->ro_live ? st->ro.timeout * 1000 : 0.0,
	    "dropped", (json_int_t)(st->rx_bad + st->rx_nomem),
	    /* our side: packets waiting for a window */
	    "queue_bytes", (json_int_t)st->q_bytes,
	    "queue_packets", (json_int_t)st->q_n,
	    "queued", (json_int_t)st->q_total,
	    "queue_drops", (json_int_t)st->q_drops);
}
