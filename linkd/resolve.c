/*
 * The resolver's threads and its side of the loop (resolve.h says why).
 *
 * RESOLVE_THREADS workers, started at the first name linkd looks up
 * (a mesh whose endpoints are all addresses never starts one), wait on
 * a condition variable for a queued lookup, run getaddrinfo and put the
 * answer in the table, then ev_async_send wakes the loop. The loop
 * hands out answers and expired deadlines from its async watcher and
 * one timer set to the earliest deadline. Everything shared is in the
 * table, under one mutex; a worker touches nothing else.
 *
 * Why threads and not getaddrinfo_a: it makes threads as well (one per
 * request, unbounded), and its completions come as signals or as
 * threads of its own; here the number is bounded and a name asked for
 * by many dials is looked up once. The sandbox needs nothing new:
 * threads (clone with CLONE_THREAD, futex) are on every daemon's list
 * for nng, and what getaddrinfo does (read resolv.conf and hosts, a
 * UDP or TCP socket of AF_INET or AF_INET6) linkd's tcp mode allowed
 * already, when it resolved in the loop. Onion mode never gets here:
 * tor resolves onion addresses.
 */
#include "linkd/resolve.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "proto/clock.h"
#include "proto/log.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rtab tab;               /* under mu */
	int nthreads;                  /* started; only the loop's */
	struct ev_loop *loop;
	ev_async wake;
	ev_timer timer;
	resolve_cb *cb;
	int live;                      /* watchers set up (under mu) */
} rs = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

static void *
resolve_worker(void *unused)
{
	struct addrinfo hints, *res;
	char host[RESOLVE_HOST_MAX + 1], pt[8];
	uint16_t port;
	int j, r;

	for (;;) {
		pthread_mutex_lock(&rs.mu);
		while ((j = rtab_take(&rs.tab, host, sizeof(host),
		    &port)) == -1)
			pthread_cond_wait(&rs.cv, &rs.mu);
		pthread_mutex_unlock(&rs.mu);

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(pt, sizeof(pt), "%u", port);
		r = getaddrinfo(host, pt, &hints, &res);

		pthread_mutex_lock(&rs.mu);
		/* The first address only: the next dial (after backoff)
		 * tries the member's next endpoint. */
		rtab_done(&rs.tab, j, r, r == 0 ? res->ai_addr : NULL,
		    r == 0 ? res->ai_addrlen : 0);
		/* Under mu: resolve_stop cannot take the loop away
		 * between the check and the send. */
		if (rs.live)
			ev_async_send(rs.loop, &rs.wake);
		pthread_mutex_unlock(&rs.mu);
		if (r == 0)
			freeaddrinfo(res);
	}
	return NULL;
}

/* The timer to the earliest deadline, if anyone waits. */
static void
resolve_arm(void)
{
	double next;

	pthread_mutex_lock(&rs.mu);
	next = rtab_next_deadline(&rs.tab);
	pthread_mutex_unlock(&rs.mu);
	ev_timer_stop(rs.loop, &rs.timer);
	if (next < 0)
		return;
	next -= mono_now();
	/* A little after the deadline, so it has passed by then. */
	ev_timer_set(&rs.timer, (next > 0 ? next : 0) + 0.01, 0.);
	ev_timer_start(rs.loop, &rs.timer);
}

/* Every answer and expired deadline to its caller, then the timer.
 * Called with mu free, from the loop's watchers only (never inside
 * resolve_start): cb may start or cancel lookups. */
static void
resolve_deliver(void)
{
	struct rresult r;
	char err[RESOLVE_HOST_MAX + 96];
	double now;
	int got;

	for (;;) {
		now = mono_now();
		pthread_mutex_lock(&rs.mu);
		got = rtab_collect(&rs.tab, now, &r);
		pthread_mutex_unlock(&rs.mu);
		if (!got)
			break;
		if (r.timed_out)
			snprintf(err, sizeof(err), "cannot resolve '%s': no "
			    "answer within %.0f s", r.host, RESOLVE_TIMEOUT);
		else if (r.gai != 0)
			snprintf(err, sizeof(err), "cannot resolve '%s': %s",
			    r.host, gai_strerror(r.gai));
		rs.cb(r.arg, r.timed_out || r.gai != 0 ? NULL :
		    (const struct sockaddr *)&r.ss, r.sslen,
		    r.timed_out || r.gai != 0 ? err : NULL);
	}
	resolve_arm();
}

static void
resolve_wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	resolve_deliver();
}

static void
resolve_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	resolve_deliver();
}

/* Watchers on first use; threads up to RESOLVE_THREADS, one more each
 * time a lookup is queued. -1 with err when not even one runs. */
static int
resolve_setup(struct ev_loop *loop, resolve_cb *cb, char *err,
    size_t errlen)
{
	pthread_attr_t attr;
	pthread_t th;
	int r;

	if (!rs.live) {
		rs.loop = loop;
		rs.cb = cb;
		ev_async_init(&rs.wake, resolve_wake_cb);
		ev_async_start(loop, &rs.wake);
		ev_timer_init(&rs.timer, resolve_timer_cb, 0., 0.);
		pthread_mutex_lock(&rs.mu);
		rs.live = 1;
		pthread_mutex_unlock(&rs.mu);
	}
	if (rs.nthreads >= RESOLVE_THREADS)
		return 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, resolve_worker, NULL);
	pthread_attr_destroy(&attr);
	if (r == 0) {
		rs.nthreads++;
		return 0;
	}
	if (rs.nthreads > 0)           /* the ones we have will do */
		return 0;
	snprintf(err, errlen, "cannot start a resolver thread: %s",
	    strerror(r));
	return -1;
}

uint32_t
resolve_start(struct ev_loop *loop, const char *host, uint16_t port,
    resolve_cb *cb, void *arg, char *err, size_t errlen)
{
	uint32_t id;
	int queued;

	if (resolve_setup(loop, cb, err, errlen) == -1)
		return 0;
	pthread_mutex_lock(&rs.mu);
	id = rtab_wait(&rs.tab, host, port, mono_now(), RESOLVE_TIMEOUT, arg,
	    &queued);
	if (queued)
		pthread_cond_signal(&rs.cv);
	pthread_mutex_unlock(&rs.mu);
	if (id == 0) {
		snprintf(err, errlen, "cannot resolve '%.*s': the resolver "
		    "is full (%d names, %d dials)", RESOLVE_HOST_MAX, host,
		    RESOLVE_JOBS_MAX, RESOLVE_WAITS_MAX);
		return 0;
	}
	if (!ev_is_active(&rs.timer))
		resolve_arm();
	return id;
}

void
resolve_cancel(uint32_t id)
{
	pthread_mutex_lock(&rs.mu);
	rtab_cancel(&rs.tab, id);
	pthread_mutex_unlock(&rs.mu);
}

void
resolve_stop(void)
{
	if (!rs.live)
		return;
	pthread_mutex_lock(&rs.mu);
	rs.live = 0;
	pthread_mutex_unlock(&rs.mu);
	ev_async_stop(rs.loop, &rs.wake);
	ev_timer_stop(rs.loop, &rs.timer);
}
