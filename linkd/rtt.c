/*
 * A link's rtt from keepalive timestamp echoes: the estimator and the
 * bookkeeping of what was sent and received (linkd/rtt.h says why a
 * windowed minimum). Pure, so tests/unit/test_rtt.c calls it directly;
 * linkd/session.c carries it in every session.
 */
#include "linkd/rtt.h"

#include <string.h>

uint64_t
rtt_ts(double now)
{
	uint64_t us = now > 0 ? (uint64_t)(now * 1e6) : 0;

	return us == 0 ? 1 : us;
}

void
rtt_est_init(struct rtt_est *e)
{
	memset(e, 0, sizeof(*e));
}

void
rtt_est_add(struct rtt_est *e, uint32_t us, double now)
{
	if (us == 0)
		us = 1;         /* measured, however short: not unknown */
	e->us[e->next] = us;
	e->t[e->next] = now;
	e->next = (e->next + 1) % RTT_SAMPLES;
	if (e->n < RTT_SAMPLES)
		e->n++;
}

uint32_t
rtt_est_get(const struct rtt_est *e, double now)
{
	uint32_t best = 0;
	int i;

	for (i = 0; i < e->n; i++) {
		/* a sample from the future: the clock went back */
		if (now - e->t[i] > RTT_WINDOW_S || e->t[i] > now)
			continue;
		if (best == 0 || e->us[i] < best)
			best = e->us[i];
	}
	return best;
}

void
rtt_probe_init(struct rtt_probe *p)
{
	memset(p, 0, sizeof(*p));
	rtt_est_init(&p->est);
	p->t_probe = -1;
	p->t_answer = -1;
}

int
rtt_probe_due(const struct rtt_probe *p, double now)
{
	return p->t_probe < 0 || now - p->t_probe >= RTT_PROBE_INTERVAL ||
	    now < p->t_probe;
}

void
rtt_probe_fill(struct rtt_probe *p, struct wire_ka *ka, int probe,
    double now)
{
	double held;

	memset(ka, 0, sizeof(*ka));
	ka->ts_us = rtt_ts(now);
	p->sent[p->sent_next] = ka->ts_us;
	p->sent_next = (p->sent_next + 1) % RTT_SENT;
	if (p->peer_ts != 0) {
		held = now - p->t_peer_ts;
		if (held < 0)
			held = 0;
		ka->echo_us = p->peer_ts;
		ka->held_us = held * 1e6 >= (double)RTT_MAX_US ? RTT_MAX_US :
		    (uint32_t)(held * 1e6);
	}
	if (probe) {
		ka->flags |= WIRE_KA_PROBE;
		p->t_probe = now;
	} else
		p->t_answer = now;
}

/* The echo, if it is one of our recent timestamps: one sample, once
 * (the peer echoes its last timestamp from us in every keepalive until
 * a newer one comes, so repeats are normal and ignored). */
static void
rtt_probe_echo(struct rtt_probe *p, const struct wire_ka *ka, double now)
{
	uint64_t now_us = rtt_ts(now), d;
	int i;

	for (i = 0; i < RTT_SENT; i++)
		if (p->sent[i] != 0 && p->sent[i] == ka->echo_us)
			break;
	if (i == RTT_SENT)
		return;
	p->sent[i] = 0;
	if (ka->echo_us > now_us)
		return;
	d = now_us - ka->echo_us;
	/* A held time longer than the whole round trip is a lie or a
	 * clock that went back: no sample rather than a tiny one. */
	if ((uint64_t)ka->held_us > d || ka->held_us > RTT_HELD_MAX_US)
		return;
	d -= ka->held_us;
	if (d > RTT_MAX_US)
		return;
	rtt_est_add(&p->est, (uint32_t)d, now);
	p->samples++;
}

int
rtt_probe_input(struct rtt_probe *p, const struct wire_ka *ka, double now)
{
	p->received++;
	if (ka->ts_us != 0) {
		p->peer_ts = ka->ts_us;
		p->t_peer_ts = now;
	}
	if (ka->echo_us != 0)
		rtt_probe_echo(p, ka, now);
	if (!(ka->flags & WIRE_KA_PROBE) || ka->ts_us == 0)
		return 0;
	return p->t_answer < 0 || now - p->t_answer >= RTT_ANSWER_GAP ||
	    now < p->t_answer;
}
