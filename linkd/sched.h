/*
 * The per-peer circuit scheduler for striping: which of a member's up
 * circuits carries the next packet so that it arrives first. Pure: it
 * sees a small view of each circuit (struct sched_circ, kept up to date
 * by the link code through sched_enqueue / sched_drain / sched_set_rtt)
 * and the time as an argument, so unit tests drive it without sockets.
 *
 * A packet of N bytes put on circuit c is expected to arrive at
 *     now + (queued(c) + below(c) + N) / rate(c) + delay(c)
 * (what is ahead of it, in our queue and in the socket's, drains at the
 * circuit's rate, then it travels one way).
 * The scheduler picks the smallest; faster and shorter circuits thus
 * carry more, and a slow one carries little but is not starved once
 * the others have queues. Ties (equal to within SCHED_TIE seconds) take
 * turns, so an idle peer's packets do not all pile on the first.
 *
 * A circuit leaves the schedule at once when it is down or stalled: it
 * has bytes queued and nothing has left its queue for the stall time
 * (SCHED_STALL_MIN, or four of its round trips if longer). It joins
 * again as soon as its queue moves or empties.
 */
#ifndef OM_LINKD_SCHED_H
#define OM_LINKD_SCHED_H

#include <stddef.h>
#include <stdint.h>

/* Until measured: a Tor circuit moves a few hundred KB/s to a few MB/s;
 * starting low only means the first queue builds a little later. */
#define SCHED_RATE_DEFAULT (512.0 * 1024)  /* bytes/s */
#define SCHED_RATE_MIN     (8.0 * 1024)    /* a sample below is noise */
#define SCHED_RATE_WINDOW  0.1             /* s of busy queue per sample */
#define SCHED_STALL_MIN    0.5             /* s without progress */
#define SCHED_TIE          1e-6            /* s: equal expectations */
#define SCHED_MAX          64              /* circuits looked at */

struct sched_circ {
	int up;               /* established and writable */
	size_t queued;        /* bytes waiting to leave for this circuit */
	size_t below;         /* bytes written but still in the socket
	                       * below (the caller's figure): they too
	                       * come before a new packet */
	double rate;          /* bytes/s, 0 until measured */
	double delay;         /* one way (rtt/2), s; < 0 until measured */
	double t_progress;    /* last time its queue moved or was empty */
	double t_busy;        /* start of the current rate sample */
	size_t busy_bytes;    /* bytes drained in the current sample */
	uint64_t scheduled;   /* packets the scheduler gave it */
	uint64_t stalls;      /* times it left the schedule stalled */
	int stalled;          /* out of the schedule as stalled right now */
};

struct sched {
	unsigned turn;        /* tie breaker: where the last pick was */
};

void sched_init(struct sched *s);
void sched_circ_init(struct sched_circ *c, double now);
/* n bytes were queued for c. */
void sched_enqueue(struct sched_circ *c, size_t n, double now);
/* n bytes left c's queue (written out): progress, and a rate sample
 * while the queue stays busy. */
void sched_drain(struct sched_circ *c, size_t n, double now);
/* A round trip measured on c (s); ignored when not above 0. */
void sched_set_rtt(struct sched_circ *c, double rtt);
/* The rate the scheduler uses for c (measured or the default). */
double sched_rate(const struct sched_circ *c);
/* Whether c has bytes queued and made no progress for its stall time. */
int sched_is_stalled(const struct sched_circ *c, double now);
/* When a packet of len bytes put on c now is expected to arrive,
 * counted from now; delay_unknown stands for an unmeasured delay. */
double sched_eta(const struct sched_circ *c, size_t len,
    double delay_unknown);
/* Index into v of the circuit for a packet of len bytes, or -1 when
 * none is up and moving. Counts the packet in v[i]->scheduled; marks
 * (and counts, once per episode) stalled circuits. Only the first
 * SCHED_MAX entries are looked at. */
int sched_pick(struct sched *s, struct sched_circ *const *v, size_t n,
    size_t len, double now);

#endif
