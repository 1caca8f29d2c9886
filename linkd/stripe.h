/*
 * Striping a member's packets over its circuits (multipath = stripe):
 * the glue between the packet path and the two pure parts, sched.h
 * (which circuit) and reorder.h (back in order).
 *
 * Sending: every packet gets the member's next sequence number (the
 * first one random, so a restart looks like a new epoch to the
 * receiver) and goes sealed as INNER_SEQ_PACKET on the circuit the
 * scheduler picks; the number is inside the sealed frame, so a relay
 * learns nothing new. When every circuit's window is full (sched.h) the
 * packet waits in the member's queue, in order, and goes out as the far
 * end's acknowledgements open a window: the circuits set the pace, the
 * queue stays in linkd where the scheduler still chooses for it, and
 * tor's buffers hold no more than each circuit's window. Only a full
 * queue (STRIPE_QUEUE_BYTES, a fraction of a second at a few MB/s)
 * drops: the inner TCP's signal to slow down, as a router's full queue
 * gives, and only this member's packets. Receiving: INNER_SEQ_PACKET from any member goes
 * through that member's reorder buffer (made on the first one) to the
 * datapath; a timer skips a gap once its timeout passes, and the
 * timeout follows the spread of the member's circuits' delays. When the
 * member's last link goes down, what is held is handed on.
 */
#ifndef OM_LINKD_STRIPE_H
#define OM_LINKD_STRIPE_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "linkd/reorder.h"
#include "linkd/sched.h"

#define STRIPE_SEQ_BYTES 8      /* u64 big-endian before the packet */
#define STRIPE_SPREAD_EVERY 1.0 /* s between timeout updates */
#define STRIPE_QUEUE_BYTES  (256 * 1024) /* a member's waiting packets */
#define STRIPE_QUEUE_PKTS   512

enum stripe_tx {
	STRIPE_SENT = 0,        /* on a circuit */
	STRIPE_QUEUED,          /* waiting for a window */
	STRIPE_DROPPED,         /* the queue is full */
	STRIPE_FAILED,          /* the circuit refused it (counted there) */
	STRIPE_NO_LINK,         /* no circuit up: the caller's other way */
};

struct stripe_pkt {
	uint8_t *p;             /* vnet header + IP, a copy */
	size_t len;
};

struct linkd;
struct peer;
struct link;

struct stripe {
	struct linkd *ld;
	struct peer *p;
	uint64_t tx_seq;         /* the number our next packet gets */
	struct sched sched;
	struct reorder ro;       /* valid when ro_live */
	int ro_live;
	ev_timer ro_timer;       /* the reorder deadline */
	double ro_armed;         /* the deadline it is set for, < 0 none */
	double t_spread;         /* when the timeout was last set */
	uint64_t rx_bad;         /* numbered frames too short */
	uint64_t rx_nomem;       /* could not be held: dropped */
	struct stripe_pkt *q;    /* waiting packets (a ring), made on the
	                          * first */
	size_t q_head, q_n, q_bytes;
	uint64_t q_total;        /* packets that had to wait */
	uint64_t q_drops;        /* dropped: the queue was full */
};

/* p's striping state, with ld and p for the callbacks. */
void stripe_init(struct linkd *ld, struct peer *p);
/* Frees what is held (not handed on) or waits, and stops the timer. */
void stripe_free(struct stripe *st);
/* One packet (vnet hdr + IP) for p: on the circuit where it arrives
 * first, or into p's queue when every window is full. */
enum stripe_tx stripe_send(struct peer *p, const uint8_t *pkt, size_t len,
    double now);
/* Send what waits in p's queue while windows have room (an ack came, a
 * link came up; also once a tick). */
void stripe_drain(struct peer *p, double now);
/* Seal pkt (vnet header + IP) on l as INNER_SEQ_PACKET with the next
 * number of l's member. 0, or -1 as session_send_kind. */
int stripe_seal(struct link *l, const uint8_t *pkt, size_t len, double now)
    __attribute__((warn_unused_result));
/* INNER_SEQ_PACKET from member from (linkd.c's table). */
void stripe_input(struct linkd *ld, struct peer *from, const uint8_t *p,
    size_t len);
/* p's last link went down: hand on what its reorder buffer holds, drop
 * what waits to be sent. */
void stripe_links_down(struct peer *p);
/* o (a link's object for links --json) with l's scheduler figures
 * added; o itself, NULL when o is. */
json_t *stripe_link_json(json_t *o, const struct link *l);
/* The member's reorder figures, for links --json. */
json_t *stripe_json(const struct stripe *st);

#endif
