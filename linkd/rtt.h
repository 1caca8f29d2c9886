/*
 * A link's rtt, measured by its own keepalives at each end (proto/wire.h:
 * the timestamp echo), pure: no clock of its own, `now` comes in
 * (seconds, monotonic), so a unit test drives it directly.
 *
 * Why here and not from the handshake: only the dialling end of a link
 * times a handshake, so the accepting end of an onion link had no figure
 * and routed weighed the edge as unknown from that side. Every keepalive
 * now carries our timestamp and echoes the peer's last one with how long
 * it was held; a probe (WIRE_KA_PROBE) is answered at once. Both ends
 * probe every RTT_PROBE_INTERVAL s, from the first tick after the
 * session is up, whether or not the link is busy.
 *
 * The estimate is the minimum of the samples of the last RTT_WINDOW_S
 * s (at most RTT_SAMPLES of them), as the kernel's tcpi_min_rtt that
 * TCP links report (linkd/tcp_rtt.c), so both transports give routed
 * the same kind of figure. A smoothed mean (srtt) would let one probe
 * that waited behind a megabyte of bulk in the link's output queue (or
 * in tor's) pull the figure up by its whole wait; a windowed minimum is
 * not moved by it at all, and still follows a path that got slower once
 * the window has passed.
 */
#ifndef OM_RTT_H
#define OM_RTT_H

#include <stdint.h>

#include "proto/wire.h"

#define RTT_SAMPLES        8
#define RTT_WINDOW_S       40.0
#define RTT_PROBE_INTERVAL 5.0
/* Answer probes at most this often (a peer that probes faster gets its
 * echo with the next keepalive, held time included). */
#define RTT_ANSWER_GAP     0.5
/* The held time a peer states is its word alone: a sample counts only
 * when the peer says it answered within this (a probe is answered at
 * once), so a member that lies can take at most this off our figure of
 * its link, not make itself everyone's cheapest relay (issue 14). */
#define RTT_HELD_MAX_US    2000u
/* A sample above this is no round trip of a live link. */
#define RTT_MAX_US         (60u * 1000u * 1000u)
/* Our timestamps a late echo may still match. */
#define RTT_SENT           4

struct rtt_est {
	uint32_t us[RTT_SAMPLES];
	double t[RTT_SAMPLES];
	int n;                    /* samples kept */
	int next;                 /* where the next one goes */
};

struct rtt_probe {
	struct rtt_est est;
	uint64_t sent[RTT_SENT];  /* our last timestamps (0: free) */
	int sent_next;
	uint64_t peer_ts;         /* the peer's last timestamp (0: none) */
	double t_peer_ts;         /* when it came in */
	double t_probe;           /* our last probe (-1: none yet) */
	double t_answer;          /* our last answer (-1: none yet) */
	uint64_t samples;         /* taken */
	uint64_t received;        /* keepalive echoes read */
};

/* now in seconds -> a keepalive timestamp in microseconds (never 0). */
uint64_t rtt_ts(double now);

void rtt_est_init(struct rtt_est *e);
void rtt_est_add(struct rtt_est *e, uint32_t us, double now);
/* The windowed minimum at now; 0 when no sample is recent enough. */
uint32_t rtt_est_get(const struct rtt_est *e, double now);

void rtt_probe_init(struct rtt_probe *p);
/* Is a probe due (none yet, or RTT_PROBE_INTERVAL since the last)? */
int rtt_probe_due(const struct rtt_probe *p, double now);
/* Fill the keepalive we send now: our timestamp (remembered), the
 * echo of the peer's last one with its held time; probe: ask for an
 * answer at once. */
void rtt_probe_fill(struct rtt_probe *p, struct wire_ka *ka, int probe,
    double now);
/* A keepalive came in at now: remember its timestamp, take a sample
 * from its echo. Returns 1 when it is a probe to answer now. */
int rtt_probe_input(struct rtt_probe *p, const struct wire_ka *ka,
    double now);

#endif
