/*
 * The per-peer receive reorder buffer for striping: packets that come
 * over several circuits carry a per-peer sequence number, and this puts
 * them back in order. Pure: it takes the time as an argument and hands
 * packets on through a callback, so unit tests and a fuzzer drive it.
 *
 * A packet that arrives in order is handed on at once (an idle ping
 * waits for nothing); one ahead of a gap is copied and held. The gap is
 * given up (skipped) when the oldest held packet has waited the
 * timeout, which the caller ties to the spread of its circuits' delays
 * and what the sender lets queue in them (reorder_timeout_for), or at once when the held bytes would pass the
 * byte bound, or when a packet too far ahead for the slots arrives. So a
 * lost packet costs one timeout, never a stall. What comes after its
 * number was passed is dropped: a duplicate if it was handed on (a
 * window of the last nslots numbers remembers), late otherwise.
 *
 * A late arrival says the gap was given up too early: the circuits'
 * delays under load differ by more than their idle round trips tell
 * (queues inside tor that the sender cannot see). Each such episode
 * doubles the timeout (up to REORDER_T_MAX) on top of the caller's
 * figure, and that learnt part halves after every REORDER_DECAY s
 * without one. A packet that is truly lost never arrives, so it raises
 * nothing.
 *
 * Numbers are 64-bit and compared by their difference, so wrapping is
 * harmless. A jump of REORDER_FAR or more either way means the sender
 * started over (a fresh random first number): what is held is handed
 * on, and the buffer follows the new numbers (an epoch, counted).
 */
#ifndef OM_LINKD_REORDER_H
#define OM_LINKD_REORDER_H

#include <stddef.h>
#include <stdint.h>

#define REORDER_SLOTS     1024            /* packets held at most */
#define REORDER_BYTES     (2u << 20)      /* bytes held at most */
#define REORDER_FAR       (1ull << 24)    /* a jump: sender started over */
#define REORDER_T_MIN     0.02            /* s: gap timeout bounds */
#define REORDER_T_MAX     1.0
#define REORDER_T_DEFAULT 0.25            /* until delays are measured */
#define REORDER_T_QUEUE   0.2             /* s on top of the spread: the
                                           * striping sender lets a
                                           * circuit queue its round trip
                                           * plus 0.1 s (linkd/sched.h),
                                           * and acks lag */
#define REORDER_DECAY     10.0            /* s without a late arrival: the
                                           * learnt part halves */

typedef void reorder_deliver_fn(void *ctx, uint64_t seq, const uint8_t *p,
    size_t len);

enum reorder_verdict {
	REORDER_DELIVERED = 0,   /* in order: handed on (with what followed) */
	REORDER_HELD,            /* ahead of a gap: kept */
	REORDER_LATE,            /* its number was skipped or is too old */
	REORDER_DUPLICATE,       /* handed on before or held already */
	REORDER_NOMEM,           /* could not copy it: dropped */
};

struct reorder_stats {
	uint64_t delivered;      /* packets handed on */
	uint64_t held;           /* packets that had to wait */
	uint64_t late;           /* dropped, arrived after their number */
	uint64_t skipped;        /* numbers given up */
	uint64_t duplicates;     /* dropped, seen before */
	uint64_t epochs;         /* times the sender started over */
	size_t held_now;         /* packets held right now */
	size_t bytes;            /* bytes held right now */
};

struct reorder_slot {
	uint8_t *p;              /* NULL: free */
	size_t len;
	uint64_t seq;
	double t;                /* arrival */
};

struct reorder {
	struct reorder_slot *slot;
	uint64_t *seen;          /* bit per number below next: handed on */
	size_t nslots;           /* a power of 2 */
	size_t max_bytes;
	double timeout;          /* in use: base plus learnt, bounded */
	double base;             /* the caller's (reorder_set_timeout) */
	double learnt;           /* added after late arrivals */
	double t_learnt;         /* last raise or halving of learnt */
	uint64_t next;           /* the number handed on next */
	uint64_t hi;             /* one past the highest held */
	double t_oldest;         /* arrival of the oldest held packet */
	int started;
	struct reorder_stats st;
	reorder_deliver_fn *deliver;
	void *ctx;
};

/* nslots a power of 2 (at least 2), max_bytes at least 1. 0, or -1
 * with errno (EINVAL, ENOMEM). */
int reorder_init(struct reorder *r, size_t nslots, size_t max_bytes,
    reorder_deliver_fn *fn, void *ctx) __attribute__((warn_unused_result));
/* Frees what is held without handing it on. */
void reorder_free(struct reorder *r);
/* One packet in; hands on whatever it makes ready (and whatever timed
 * out by now) before it returns. */
enum reorder_verdict reorder_push(struct reorder *r, uint64_t seq,
    const uint8_t *p, size_t len, double now);
/* Skips the gaps whose oldest held packet waited the timeout. */
void reorder_tick(struct reorder *r, double now);
/* When reorder_tick has work: the oldest arrival plus the timeout, or
 * a negative number when nothing is held. */
double reorder_deadline(const struct reorder *r);
/* Hands on everything held, in order, skipping the gaps (the peer's last
 * circuit went away: nothing will fill them). */
void reorder_flush(struct reorder *r);
/* The caller's gap timeout (bounded to REORDER_T_MIN..REORDER_T_MAX);
 * what late arrivals taught is added on top. */
void reorder_set_timeout(struct reorder *r, double t);
/* The gap timeout for circuits whose one-way delays differ by spread
 * seconds (at most minus least), within REORDER_T_MIN..REORDER_T_MAX. */
double reorder_timeout_for(double spread);

#endif
