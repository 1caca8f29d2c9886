/*
 * The per-peer circuit scheduler (see sched.h for the rule). Its rate
 * figure comes from the queue itself: while a circuit's queue stays
 * busy, what leaves it per second is what the circuit carries. An
 * empty queue says only that the circuit kept up, so such a sample may
 * raise the rate but never lower it.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "linkd/sched.h"

void
sched_init(struct sched *s)
{
	memset(s, 0, sizeof(*s));
}

void
sched_circ_init(struct sched_circ *c, double now)
{
	memset(c, 0, sizeof(*c));
	c->delay = -1;
	c->t_progress = now;
	c->t_busy = now;
}

void
sched_enqueue(struct sched_circ *c, size_t n, double now)
{
	if (n == 0)
		return;
	if (c->queued == 0) {
		/* The stall clock and the rate sample start with work. */
		c->t_progress = now;
		c->t_busy = now;
		c->busy_bytes = 0;
	}
	c->queued += n;
}

static void
rate_sample(struct sched_circ *c, double sample, int busy)
{
	if (sample < SCHED_RATE_MIN)
		return;
	if (c->rate <= 0)
		c->rate = sample;
	else if (busy)
		c->rate = 0.75 * c->rate + 0.25 * sample;
	else if (sample > c->rate)
		c->rate = 0.75 * c->rate + 0.25 * sample;
}

void
sched_drain(struct sched_circ *c, size_t n, double now)
{
	double dt;

	if (n > c->queued)
		n = c->queued;
	c->queued -= n;
	c->t_progress = now;
	c->stalled = 0;
	c->busy_bytes += n;
	dt = now - c->t_busy;
	if (c->queued == 0) {
		/* It kept up: a lower bound on what it can carry. */
		if (dt >= SCHED_RATE_WINDOW)
			rate_sample(c, (double)c->busy_bytes / dt, 0);
		c->t_busy = now;
		c->busy_bytes = 0;
	} else if (dt >= SCHED_RATE_WINDOW) {
		rate_sample(c, (double)c->busy_bytes / dt, 1);
		c->t_busy = now;
		c->busy_bytes = 0;
	}
}

void
sched_set_rtt(struct sched_circ *c, double rtt)
{
	if (!(rtt > 0) || !isfinite(rtt))
		return;
	c->delay = c->delay < 0 ? rtt / 2 : 0.75 * c->delay + 0.25 * rtt / 2;
}

double
sched_rate(const struct sched_circ *c)
{
	return c->rate > 0 ? c->rate : SCHED_RATE_DEFAULT;
}

int
sched_is_stalled(const struct sched_circ *c, double now)
{
	double limit = SCHED_STALL_MIN;

	if (c->queued == 0)
		return 0;
	if (c->delay > 0 && 8 * c->delay > limit)
		limit = 8 * c->delay;   /* four round trips */
	return now - c->t_progress >= limit;
}

double
sched_eta(const struct sched_circ *c, size_t len, double delay_unknown)
{
	double d = c->delay >= 0 ? c->delay : delay_unknown;

	return ((double)c->queued + (double)c->below + (double)len) /
	    sched_rate(c) + d;
}

/* What an unmeasured circuit's delay is taken to be: the mean of the
 * measured ones (it is most likely like them), 0 when none is. */
static double
delay_unknown(struct sched_circ *const *v, size_t n)
{
	double sum = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (v[i]->up && v[i]->delay >= 0) {
			sum += v[i]->delay;
			k++;
		}
	return k ? sum / (double)k : 0;
}

int
sched_pick(struct sched *s, struct sched_circ *const *v, size_t n,
    size_t len, double now)
{
	double du, best = INFINITY, eta;
	size_t i, j;
	int pick = -1;

	if (n > SCHED_MAX)
		n = SCHED_MAX;
	du = delay_unknown(v, n);
	/* Start after the last pick so that ties take turns. */
	for (j = 0; j < n; j++) {
		i = (s->turn + 1 + j) % n;
		if (!v[i]->up)
			continue;
		if (sched_is_stalled(v[i], now)) {
			if (!v[i]->stalled)
				v[i]->stalls++;
			v[i]->stalled = 1;
			continue;
		}
		v[i]->stalled = 0;
		eta = sched_eta(v[i], len, du);
		if (eta < best - SCHED_TIE) {
			best = eta;
			pick = (int)i;
		}
	}
	if (pick >= 0) {
		s->turn = (unsigned)pick;
		v[pick]->scheduled++;
	}
	return pick;
}
