/*
 * The per-peer receive reorder buffer (see reorder.h for the rules).
 *
 * Shape: a ring of nslots slots indexed by number modulo nslots holds
 * the packets in [next, next + nslots); a bitmap of as many bits says,
 * for the numbers in [next - nslots, next), which were handed on, so a
 * copy that comes again is told from one whose number was skipped.
 * Every loop is bounded by nslots: a jump far ahead skips in one step
 * once nothing is held, and only the span [next, hi) that holds packets
 * is ever walked.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkd/reorder.h"

static struct reorder_slot *
slot_of(struct reorder *r, uint64_t seq)
{
	return &r->slot[seq & (r->nslots - 1)];
}

static void
seen_set(struct reorder *r, uint64_t seq, int handed_on)
{
	uint64_t i = seq & (r->nslots - 1);
	uint64_t bit = 1ull << (i % 64);

	if (handed_on)
		r->seen[i / 64] |= bit;
	else
		r->seen[i / 64] &= ~bit;
}

static int
seen_get(const struct reorder *r, uint64_t seq)
{
	uint64_t i = seq & (r->nslots - 1);

	return (r->seen[i / 64] >> (i % 64)) & 1;
}

int
reorder_init(struct reorder *r, size_t nslots, size_t max_bytes,
    reorder_deliver_fn *fn, void *ctx)
{
	memset(r, 0, sizeof(*r));
	if (nslots < 2 || (nslots & (nslots - 1)) != 0 || max_bytes == 0 ||
	    fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	r->slot = calloc(nslots, sizeof(*r->slot));
	r->seen = calloc((nslots + 63) / 64, sizeof(*r->seen));
	if (r->slot == NULL || r->seen == NULL) {
		free(r->slot);
		free(r->seen);
		memset(r, 0, sizeof(*r));
		errno = ENOMEM;
		return -1;
	}
	r->nslots = nslots;
	r->max_bytes = max_bytes;
	r->timeout = r->base = REORDER_T_DEFAULT;
	r->deliver = fn;
	r->ctx = ctx;
	return 0;
}

void
reorder_free(struct reorder *r)
{
	size_t i;

	if (r->slot != NULL)
		for (i = 0; i < r->nslots; i++)
			free(r->slot[i].p);
	free(r->slot);
	free(r->seen);
	memset(r, 0, sizeof(*r));
}

/* The oldest arrival among the held packets, all in [next, hi). */
static void
find_oldest(struct reorder *r)
{
	struct reorder_slot *s;
	uint64_t q;
	int any = 0;

	for (q = r->next; q != r->hi; q++) {
		s = slot_of(r, q);
		if (s->p != NULL && (!any || s->t < r->t_oldest)) {
			r->t_oldest = s->t;
			any = 1;
		}
	}
}

/* Hands on the held packets from next on while there is no gap. */
static void
release_run(struct reorder *r)
{
	struct reorder_slot *s;
	int moved = 0;

	while (r->st.held_now > 0 && (s = slot_of(r, r->next))->p != NULL) {
		r->deliver(r->ctx, s->seq, s->p, s->len);
		free(s->p);
		s->p = NULL;
		r->st.bytes -= s->len;
		r->st.held_now--;
		r->st.delivered++;
		seen_set(r, r->next, 1);
		r->next++;
		moved = 1;
	}
	if (r->st.held_now == 0)
		r->hi = r->next;
	else if (moved)
		find_oldest(r);
}

/* Gives up the gap at next: on to the first held packet, and hands on
 * the run from there. Only called with something held. */
static void
skip_gap(struct reorder *r)
{
	while (slot_of(r, r->next)->p == NULL) {
		seen_set(r, r->next, 0);
		r->st.skipped++;
		r->next++;
	}
	release_run(r);
}

void
reorder_flush(struct reorder *r)
{
	while (r->st.held_now > 0)
		skip_gap(r);
}

void
reorder_tick(struct reorder *r, double now)
{
	while (r->st.held_now > 0 && now - r->t_oldest >= r->timeout)
		skip_gap(r);
}

double
reorder_deadline(const struct reorder *r)
{
	return r->st.held_now > 0 ? r->t_oldest + r->timeout : -1;
}

static double
clamp_timeout(double t)
{
	if (!(t >= REORDER_T_MIN))
		return REORDER_T_MIN;
	return t > REORDER_T_MAX ? REORDER_T_MAX : t;
}

void
reorder_set_timeout(struct reorder *r, double t)
{
	r->base = clamp_timeout(t);
	r->timeout = clamp_timeout(r->base + r->learnt);
}

/* A packet came after its number was given up: the timeout was too
 * short. Once per episode (the lates of one early skip come within a
 * timeout of each other), double it. */
static void
learn_late(struct reorder *r, double now)
{
	double t;

	if (r->learnt > 0 && now - r->t_learnt < r->timeout)
		return;
	t = clamp_timeout(2 * r->timeout);
	r->learnt = t - r->base > 0 ? t - r->base : 0;
	r->timeout = t;
	r->t_learnt = now;
}

/* No late arrival for REORDER_DECAY s: halve what was learnt, so the
 * timeout comes back down when the circuits' delays do. */
static void
learnt_decay(struct reorder *r, double now)
{
	if (r->learnt <= 0 || now - r->t_learnt < REORDER_DECAY)
		return;
	r->learnt /= 2;
	if (r->learnt < 1e-3)
		r->learnt = 0;
	r->t_learnt = now;
	r->timeout = clamp_timeout(r->base + r->learnt);
}

double
reorder_timeout_for(double spread)
{
	double t;

	if (!(spread >= 0))
		return REORDER_T_DEFAULT;
	/* Twice the spread, for jitter and the scheduler's misestimates,
	 * plus what the sender lets queue in a circuit beyond its round
	 * trip. A gap that is only late costs the flow a loss when the
	 * timeout is short; one that is lost (a circuit died: rare) costs
	 * one timeout when it is long, so long is the cheaper error. */
	t = 2 * spread + REORDER_T_QUEUE;
	return t > REORDER_T_MAX ? REORDER_T_MAX : t;
}

/* seq is nslots or more ahead of next: move next up to where seq fits,
 * handing on or skipping on the way. */
static void
make_room_ahead(struct reorder *r, uint64_t seq)
{
	uint64_t to = seq - r->nslots + 1, q, from;

	while (r->st.held_now > 0 && (int64_t)(to - r->next) > 0)
		skip_gap(r);
	if ((int64_t)(to - r->next) <= 0)
		return;
	/* Nothing held: skip to there at once. Only the last nslots
	 * numbers skipped stay in the window. */
	from = to - r->next > r->nslots ? to - r->nslots : r->next;
	for (q = from; q != to; q++)
		seen_set(r, q, 0);
	r->st.skipped += to - r->next;
	r->next = to;
	r->hi = to;
}

/* The sender started over: hand on what is held and follow it. */
static void
new_epoch(struct reorder *r, uint64_t seq)
{
	reorder_flush(r);
	memset(r->seen, 0, (r->nslots + 63) / 64 * sizeof(*r->seen));
	r->next = seq;
	r->hi = seq;
	r->st.epochs++;
}

static enum reorder_verdict
hold(struct reorder *r, uint64_t seq, const uint8_t *p, size_t len,
    double now)
{
	struct reorder_slot *s = slot_of(r, seq);

	if (s->p != NULL) {
		r->st.duplicates++;
		return REORDER_DUPLICATE;
	}
	if ((s->p = malloc(len ? len : 1)) == NULL)
		return REORDER_NOMEM;
	memcpy(s->p, p, len);
	s->len = len;
	s->seq = seq;
	s->t = now;
	if (r->st.held_now == 0)
		r->t_oldest = now;
	r->st.held_now++;
	r->st.held++;
	r->st.bytes += len;
	if ((int64_t)(seq + 1 - r->hi) > 0)
		r->hi = seq + 1;
	/* Over the byte bound: give up the oldest gaps until it fits (the
	 * new packet may be handed on in the process). */
	while (r->st.bytes > r->max_bytes)
		skip_gap(r);
	return REORDER_HELD;
}

enum reorder_verdict
reorder_push(struct reorder *r, uint64_t seq, const uint8_t *p, size_t len,
    double now)
{
	int64_t d;

	if (!r->started) {
		r->started = 1;
		r->next = r->hi = seq;
	}
	d = (int64_t)(seq - r->next);
	if (d >= (int64_t)REORDER_FAR || d <= -(int64_t)REORDER_FAR)
		new_epoch(r, seq);
	learnt_decay(r, now);
	reorder_tick(r, now);
	d = (int64_t)(seq - r->next);
	if (d < 0) {
		if ((uint64_t)-d <= r->nslots && seen_get(r, seq)) {
			r->st.duplicates++;
			return REORDER_DUPLICATE;
		}
		r->st.late++;
		learn_late(r, now);
		return REORDER_LATE;
	}
	if ((uint64_t)d >= r->nslots) {
		/* Handing on what is held may bring next up to seq. */
		make_room_ahead(r, seq);
		d = (int64_t)(seq - r->next);
	}
	if (d == 0) {
		r->deliver(r->ctx, seq, p, len);
		r->st.delivered++;
		seen_set(r, seq, 1);
		r->next++;
		if (r->st.held_now == 0)
			r->hi = r->next;
		else
			release_run(r);
		return REORDER_DELIVERED;
	}
	return hold(r, seq, p, len, now);
}
