/*
 * Striping a member's packets over its circuits (see stripe.h): the
 * sequence number on the way out, the circuit choice through sched.c,
 * and reorder.c with its timer on the way in. Each link keeps its own
 * scheduler view (link.h's sc: up, queued bytes, drain rate), updated
 * by link.c as its queue grows and shrinks; the delay is read from the
 * link's rtt here, when a packet is scheduled.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "linkd/stripe.h"
#include "proto/log.h"

static void stripe_timer_cb(struct ev_loop *, ev_timer *, int);

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
}

struct link *
stripe_tx_link(struct peer *p, size_t len, double now)
{
	struct sched_circ *v[PEER_MAX_LINKS];
	struct link *l;
	int i, k;

	for (i = 0; i < p->nlinks; i++) {
		l = p->links[i];
		l->sc.delay = l->rtt_us > 0 ? l->rtt_us / 2e6 : -1;
		l->sc.below = l->sc.up ? link_unsent(l) : 0;
		v[i] = &l->sc;
	}
	k = sched_pick(&p->stripe.sched, v, (size_t)p->nlinks, len, now);
	if (k < 0)
		return NULL;
	p->links[k]->mp.sent++;
	return p->links[k];
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
	    "s:I, s:f, s:I}",
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
	    "dropped", (json_int_t)(st->rx_bad + st->rx_nomem));
}
