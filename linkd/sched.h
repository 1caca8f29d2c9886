/*
 * The per-peer circuit scheduler for striping: which of a member's up
 * circuits carries the next packet so that it arrives first. Pure: it
 * sees a small view of each circuit (struct sched_circ, kept up to date
 * by the link code through sched_sent / sched_acked and its delay) and
 * the time as an argument, so unit tests drive it without sockets.
 *
 * What a circuit holds is counted end to end, not guessed from our
 * side: the far end acknowledges the bytes it has received on the link
 * (INNER_LINK_ACK, a running total), so in flight = sent - acked covers
 * our queue, the socket, tor's buffers at both ends and the circuit
 * itself. (Our queue and socket alone said little: tor takes megabytes
 * into buffers we cannot see, so a circuit looked empty while seconds
 * of data waited in it, and the other circuits' packets waited for it
 * in the receiver's reorder buffer.) The same totals give the rate: the
 * bytes acknowledged per second over a quarter of a second, and the
 * rate is the best of the last SCHED_RATE_KEEP samples (a circuit's
 * acks come in bursts, as tor hands on cells in batches and relays
 * refill their buckets; its best recent second is what it carries). A
 * sample may count below the rate only when the circuit, not we, set
 * the pace (its window was full, or a queue stood in it throughout);
 * any other counts as at least the rate: a circuit the scheduler gave
 * little would otherwise look slow, get less, and look slower still.
 *
 * A packet of N bytes put on circuit c is expected to arrive at
 *     now + max(inflight(c) + N - rate(c) x rtt(c), N) / rate(c) + delay(c)
 * (what is in flight beyond one round trip's worth is queued ahead of
 * it and drains at the circuit's rate; then it travels one way).
 * The scheduler picks the smallest among the circuits with room in
 * their window (rate x (SCHED_WIN_GAIN x rtt + SCHED_WIN_QUEUE) +
 * SCHED_WIN_SLACK, at least SCHED_WIN_MIN: a round trip's worth in the
 * circuit and as much again plus a tenth of a second queued; a relay's
 * token bucket alone refills every tenth of a second, so a circuit's
 * round trip under load is seldom its idle one):
 * faster and shorter circuits carry more, a slow one carries little,
 * and no circuit queues more than about one round trip's worth inside
 * tor. When every circuit's window is full the packet has nowhere to go
 * without waiting behind a full circuit's queue: the caller keeps it
 * until an acknowledgement opens a window (stripe.h).
 * Ties (equal to within SCHED_TIE seconds) take turns, so an idle
 * peer's packets do not all pile on the first.
 *
 * A circuit leaves the schedule at once when it is down or stalled: it
 * has bytes in flight and no acknowledgement moved for the stall time
 * (SCHED_STALL_MIN, or four of its round trips if longer). It joins
 * again as soon as an acknowledgement moves.
 *
 * A circuit whose far end has never acknowledged anything (a linkd from
 * before acknowledgements) has no window and never stalls: it is
 * scheduled by its delay alone. (Such a member cannot put striped
 * packets back in order either: a network with one keeps
 * multipath = flow until it is upgraded.)
 */
#ifndef OM_LINKD_SCHED_H
#define OM_LINKD_SCHED_H

#include <stddef.h>
#include <stdint.h>

/* Until measured: a Tor circuit moves a few hundred KB/s to a few MB/s;
 * starting low only means the window opens a sample later. */
#define SCHED_RATE_DEFAULT (512.0 * 1024)  /* bytes/s */
#define SCHED_RATE_MIN     (8.0 * 1024)    /* a sample below is noise */
#define SCHED_RATE_WINDOW  0.25            /* s of acknowledgements per
                                            * rate sample, at least */
#define SCHED_RATE_KEEP    4               /* samples the rate is the
                                            * best of */
#define SCHED_RTT_DEFAULT  0.1             /* s, for the window until the
                                            * delay is measured */
#define SCHED_WIN_GAIN     2.0             /* window: rate x (rtt x this */
#define SCHED_WIN_QUEUE    0.1             /* + this many s) */
#define SCHED_WIN_MIN      (64u * 1024)    /* bytes */
#define SCHED_WIN_SLACK    (32u * 1024)    /* bytes on top: the far end
                                            * acknowledges every 16 KiB
                                            * (LINK_ACK_BYTES), so that
                                            * much may be there already */
#define SCHED_WIN_MAX      (4u << 20)      /* bytes */
/* Totals may disagree by a frame's worth (one the far end counted that
 * we did not send as counted): an ack this far past `sent` is taken as
 * `sent`; further is not believed. */
#define SCHED_ACK_SLACK    (64u * 1024)
#define SCHED_STALL_MIN    0.5             /* s without progress */
#define SCHED_TIE          1e-6            /* s: equal expectations */
#define SCHED_MAX          64              /* circuits looked at */

enum {
	SCHED_NONE = -1,     /* no circuit up and moving */
	SCHED_FULL = -2,     /* some are, but every window is full */
};

struct sched_circ {
	int up;               /* established and writable */
	uint64_t sent;        /* stream bytes handed to the circuit */
	uint64_t acked;       /* of those, what the far end says it has */
	uint64_t acks;        /* acknowledgements that moved `acked` */
	double rate;          /* bytes/s, 0 until measured */
	double delay;         /* one way (its min rtt / 2), s; < 0 until
	                       * measured */
	double t_progress;    /* last ack that moved, or when bytes went in
	                       * flight after none were */
	/* The rate sample under way: since (t_sample, a_sample); limited:
	 * a pick found its window full meanwhile; min_flight: the least in
	 * flight at its acks. */
	int sampling;
	double t_sample;
	uint64_t a_sample;
	int limited;
	uint64_t min_flight;
	double samples[SCHED_RATE_KEEP];  /* the last ones, 0: none */
	int next_sample;
	uint64_t scheduled;   /* packets the scheduler gave it */
	uint64_t stalls;      /* times it left the schedule stalled */
	int stalled;          /* out of the schedule as stalled right now */
};

struct sched {
	unsigned turn;        /* tie breaker: where the last pick was */
};

void sched_init(struct sched *s);
/* A circuit (re)joining: base is what the stream has carried so far
 * (both ends count from the link's start), taken as delivered. */
void sched_circ_init(struct sched_circ *c, uint64_t base, double now);
/* n stream bytes were handed to c. */
void sched_sent(struct sched_circ *c, size_t n, double now);
/* The far end has received total stream bytes on c. 0 (taken, or no
 * news: not above what it said before), -1 when total is more than
 * SCHED_ACK_SLACK past what was ever sent (not taken). */
int sched_acked(struct sched_circ *c, uint64_t total, double now)
    __attribute__((warn_unused_result));
/* A round trip measured on c (its minimum, s); ignored when not above
 * 0. */
void sched_set_rtt(struct sched_circ *c, double rtt);
/* Bytes sent on c that the far end has not acknowledged. */
uint64_t sched_inflight(const struct sched_circ *c);
/* The rate the scheduler uses for c (measured or the default). */
double sched_rate(const struct sched_circ *c);
/* What c may have in flight (bytes). */
uint64_t sched_window(const struct sched_circ *c);
/* Whether c has bytes in flight and no ack moved for its stall time. */
int sched_is_stalled(const struct sched_circ *c, double now);
/* When a packet of len bytes put on c now is expected to arrive,
 * counted from now; delay_unknown stands for an unmeasured delay. */
double sched_eta(const struct sched_circ *c, size_t len,
    double delay_unknown);
/* Index into v of the circuit for a packet of len bytes; SCHED_NONE
 * when none is up and moving, SCHED_FULL when every window is full
 * (each such circuit is marked window-limited for its rate sample).
 * Counts the packet in
 * v[i]->scheduled; marks (and counts, once per episode) stalled
 * circuits. Only the first SCHED_MAX entries are looked at. */
int sched_pick(struct sched *s, struct sched_circ *const *v, size_t n,
    size_t len, double now);

#endif
