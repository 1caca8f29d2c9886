/*
 * The per-peer circuit scheduler (see sched.h for the rule). Its view of
 * a circuit comes from the two running totals, sent and acknowledged:
 * what is in flight, how fast acknowledgements come while enough is in
 * flight to keep the circuit busy (the rate), and whether they still
 * come at all (a stall).
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
sched_circ_init(struct sched_circ *c, uint64_t base, double now)
{
	memset(c, 0, sizeof(*c));
	c->sent = c->acked = base;
	c->delay = -1;
	c->t_progress = now;
}

uint64_t
sched_inflight(const struct sched_circ *c)
{
	return c->sent - c->acked;
}

void
sched_sent(struct sched_circ *c, size_t n, double now)
{
	if (n == 0)
		return;
	/* The stall clock starts with the first byte in flight. */
	if (c->sent == c->acked)
		c->t_progress = now;
	c->sent += n;
}

/* The round trip the window and the queue estimate use. */
static double
circ_rtt(const struct sched_circ *c)
{
	return c->delay > 0 ? 2 * c->delay : SCHED_RTT_DEFAULT;
}

double
sched_rate(const struct sched_circ *c)
{
	return c->rate > 0 ? c->rate : SCHED_RATE_DEFAULT;
}

uint64_t
sched_window(const struct sched_circ *c)
{
	double w = sched_rate(c) * (SCHED_WIN_GAIN * circ_rtt(c) +
	    SCHED_WIN_QUEUE) + SCHED_WIN_SLACK;

	if (w < SCHED_WIN_MIN)
		return SCHED_WIN_MIN;
	if (w > SCHED_WIN_MAX)
		return SCHED_WIN_MAX;
	return (uint64_t)w;
}

/* One rate sample of acked bytes per second. busy: the circuit, not
 * we, set the pace: its window was full at some pick, or it had at
 * least a round trip's worth at its rate in flight at every ack (a
 * queue stood in it). Then the sample is what it carries and may pull
 * the rate down once the better ones have aged out. Otherwise it counts
 * as at least the rate: a circuit we gave little would else look slow,
 * get less, and look slower still. */
static void
rate_sample(struct sched_circ *c, double sample, int busy)
{
	double best = 0;
	int i;

	if (sample < SCHED_RATE_MIN && !busy)
		return;
	/* (Before the first busy sample that is the default: a new
	 * circuit's handshake and keepalives say nothing of its speed.) */
	if (!busy && sched_rate(c) > sample)
		sample = sched_rate(c);
	c->samples[c->next_sample] = sample;
	c->next_sample = (c->next_sample + 1) % SCHED_RATE_KEEP;
	for (i = 0; i < SCHED_RATE_KEEP; i++)
		if (c->samples[i] > best)
			best = c->samples[i];
	c->rate = best >= SCHED_RATE_MIN ? best : SCHED_RATE_MIN;
}

int
sched_acked(struct sched_circ *c, uint64_t total, double now)
{
	uint64_t flight;
	double dt;

	if (total > c->sent) {
		if (total - c->sent > SCHED_ACK_SLACK)
			return -1;
		total = c->sent;
	}
	if (total <= c->acked)
		return 0;
	c->acked = total;
	c->acks++;
	c->t_progress = now;
	c->stalled = 0;
	flight = c->sent - c->acked;
	if (!c->sampling) {
		c->sampling = 1;
		c->t_sample = now;
		c->a_sample = total;
		c->limited = 0;
		c->min_flight = flight;
		return 0;
	}
	if (flight < c->min_flight)
		c->min_flight = flight;
	dt = now - c->t_sample;
	if (dt >= SCHED_RATE_WINDOW) {
		rate_sample(c, (double)(total - c->a_sample) / dt,
		    c->limited || (double)c->min_flight >=
		    sched_rate(c) * circ_rtt(c));
		c->t_sample = now;
		c->a_sample = total;
		c->limited = 0;
		c->min_flight = flight;
	}
	/* (A sample across an idle time has min_flight 0: it can only
	 * raise the rate, never make the circuit look slow.) */
	return 0;
}

void
sched_set_rtt(struct sched_circ *c, double rtt)
{
	if (!(rtt > 0) || !isfinite(rtt))
		return;
	c->delay = rtt / 2;
}

int
sched_is_stalled(const struct sched_circ *c, double now)
{
	double limit = SCHED_STALL_MIN;

	if (c->sent == c->acked || c->acks == 0)
		return 0;
	if (c->delay > 0 && 8 * c->delay > limit)
		limit = 8 * c->delay;   /* four round trips */
	return now - c->t_progress >= limit;
}

/* The one-way delay of c, or d_unknown for an unmeasured one. */
static double
circ_delay(const struct sched_circ *c, double d_unknown)
{
	return c->delay >= 0 ? c->delay : d_unknown;
}

double
sched_eta(const struct sched_circ *c, size_t len, double delay_unknown)
{
	double rate = sched_rate(c), ahead;

	/* A far end that never acknowledged: nothing is known in flight. */
	ahead = c->acks == 0 ? (double)len :
	    (double)sched_inflight(c) + (double)len - rate * circ_rtt(c);
	if (ahead < (double)len)
		ahead = (double)len;
	return ahead / rate + circ_delay(c, delay_unknown);
}

/* Whether c can take len more bytes in flight. */
static int
has_room(const struct sched_circ *c, size_t len)
{
	return c->acks == 0 || sched_inflight(c) + len <= sched_window(c);
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
	int pick = SCHED_NONE, full = 0;

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
		if (!has_room(v[i], len)) {
			v[i]->limited = 1;
			full = 1;
			continue;
		}
		if (eta < best - SCHED_TIE) {
			best = eta;
			pick = (int)i;
		}
	}
	if (pick >= 0) {
		s->turn = (unsigned)pick;
		v[pick]->scheduled++;
		return pick;
	}
	return full ? SCHED_FULL : SCHED_NONE;
}
