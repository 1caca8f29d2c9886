/*
 * Names off the event loop (linkd/resolve_table.c, linkd/resolve.c).
 *
 * What must hold: literals of both families (with a scope id) are
 * addresses at once and names are not; a name asked for by two dials
 * is looked up once and answers both; a dial whose deadline passes
 * gets "timed out" with the host named while the lookup goes on, and
 * the lookup's late answer frees it; a later dial for that name joins
 * the lookup still running instead of taking another thread; a
 * cancelled dial gets nothing and its unstarted lookup is dropped; a
 * full table refuses instead of growing; an error answer reaches every
 * waiter. And through the threads and the loop: "localhost" comes back
 * with its port, a cancelled request never calls back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "linkd/resolve.h"

static struct rtab tab;  /* ~80 KiB: not on the stack */
static char taken[RESOLVE_HOST_MAX + 1];  /* what take() took */
static uint16_t taken_port;
static int q;                            /* rtab_wait's *queued */
static int x = 1, y = 2;                 /* waiters' args */

/* A worker takes the next lookup: its index, or -1. */
static int
take(void)
{
	return rtab_take(&tab, taken, sizeof(taken), &taken_port);
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void
test_numeric(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	assert_int_equal(resolve_numeric("192.0.2.1", 6550, &ss, &len), 1);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(port_of(&ss), 6550);
	assert_int_equal(resolve_numeric("2001:db8::1", 7, &ss, &len), 1);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(port_of(&ss), 7);
	assert_int_equal(resolve_numeric("fe80::1%lo", 7, &ss, &len), 1);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(resolve_numeric("example.org", 7, &ss, &len), 0);
	assert_int_equal(resolve_numeric("localhost", 7, &ss, &len), 0);
	assert_int_equal(resolve_numeric("192.0.2.1.example", 7, &ss, &len),
	    0);
	assert_int_equal(resolve_numeric("", 7, &ss, &len), 0);
}

static void
answer(int j, const char *ip, uint16_t port)
{
	struct sockaddr_in in;

	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &in.sin_addr), 1);
	rtab_done(&tab, j, 0, (struct sockaddr *)&in, sizeof(in));
}

static void
test_shared_lookup(void **state)
{
	struct rresult r;
	uint32_t a, b;
	int j, seen = 0;

	rtab_init(&tab);
	a = rtab_wait(&tab, "peer.example", 6550, 100, 5, &x, &q);
	assert_int_not_equal(a, 0);
	assert_int_equal(q, 1);
	b = rtab_wait(&tab, "peer.example", 6550, 101, 5, &y, &q);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(a, b);
	assert_int_equal(q, 0);                 /* joined, not queued */
	assert_int_equal(tab.lookups, 1);
	/* Another port is another lookup. */
	assert_int_not_equal(rtab_wait(&tab, "peer.example", 6551, 101, 5,
	    &y, &q), 0);
	assert_int_equal(q, 1);

	j = take();
	assert_int_not_equal(j, -1);
	assert_string_equal(taken, "peer.example");
	assert_int_equal(taken_port, 6550);
	assert_int_equal(rtab_collect(&tab, 102, &r), 0);  /* not yet */
	answer(j, "192.0.2.9", 6550);
	while (rtab_collect(&tab, 102, &r)) {
		assert_int_equal(r.timed_out, 0);
		assert_int_equal(r.gai, 0);
		assert_int_equal(port_of(&r.ss), 6550);
		assert_string_equal(r.host, "peer.example");
		assert_true(r.id == a || r.id == b);
		assert_true(r.arg == (r.id == a ? (void *)&x : (void *)&y));
		seen++;
	}
	assert_int_equal(seen, 2);
	/* Only the 6551 lookup is left, still queued. */
	assert_int_equal(rtab_busy(&tab), 1);
}

static void
test_deadline(void **state)
{
	struct rresult r;
	uint32_t a, b;
	int j;

	rtab_init(&tab);
	a = rtab_wait(&tab, "slow.example", 6550, 100, 5, &x, &q);
	assert_true(rtab_next_deadline(&tab) == 105);
	j = take();
	assert_int_equal(rtab_collect(&tab, 104.9, &r), 0);
	assert_int_equal(rtab_collect(&tab, 105, &r), 1);
	assert_int_equal(r.id, a);
	assert_int_equal(r.timed_out, 1);
	assert_string_equal(r.host, "slow.example");
	assert_int_equal(tab.timeouts, 1);
	assert_true(rtab_next_deadline(&tab) < 0);
	/* The thread is still in getaddrinfo: the lookup stays, and the
	 * next dial joins it rather than queueing another. */
	assert_int_equal(rtab_busy(&tab), 1);
	b = rtab_wait(&tab, "slow.example", 6550, 110, 5, &x, &q);
	assert_int_not_equal(b, 0);
	assert_int_equal(q, 0);
	assert_int_equal(take(), -1);
	assert_int_equal(rtab_collect(&tab, 114, &r), 0);
	assert_int_equal(rtab_collect(&tab, 115, &r), 1);
	assert_int_equal(r.id, b);
	assert_int_equal(r.timed_out, 1);
	/* The late answer, with nobody waiting, frees the lookup. */
	answer(j, "192.0.2.9", 6550);
	assert_int_equal(rtab_busy(&tab), 0);
	assert_int_equal(rtab_collect(&tab, 200, &r), 0);
}

static void
test_cancel(void **state)
{
	struct rresult r;
	uint32_t a, b;
	int j;

	rtab_init(&tab);
	a = rtab_wait(&tab, "gone.example", 1, 100, 5, &x, &q);
	rtab_cancel(&tab, a);
	assert_int_equal(rtab_busy(&tab), 0);   /* never started: gone */
	assert_int_equal(take(), -1);
	assert_int_equal(rtab_collect(&tab, 1000, &r), 0);

	/* Cancelled while running: the answer is dropped. */
	a = rtab_wait(&tab, "gone.example", 1, 100, 5, &x, &q);
	b = rtab_wait(&tab, "gone.example", 1, 100, 5, &x, &q);
	j = take();
	rtab_cancel(&tab, a);
	rtab_cancel(&tab, a);                   /* twice: harmless */
	rtab_cancel(&tab, 0);
	answer(j, "192.0.2.1", 1);
	assert_int_equal(rtab_collect(&tab, 101, &r), 1);
	assert_int_equal(r.id, b);
	assert_int_equal(rtab_collect(&tab, 1000, &r), 0);
	assert_int_equal(rtab_busy(&tab), 0);
}

static void
test_error_and_full(void **state)
{
	struct rresult r;
	char name[32], lng[RESOLVE_HOST_MAX + 2];
	int i, j;

	rtab_init(&tab);
	(void)rtab_wait(&tab, "nx.example", 1, 100, 5, &x, &q);
	j = take();
	rtab_done(&tab, j, EAI_NONAME, NULL, 0);
	assert_int_equal(rtab_collect(&tab, 100, &r), 1);
	assert_int_equal(r.timed_out, 0);
	assert_int_equal(r.gai, EAI_NONAME);
	assert_int_equal(tab.failures, 1);
	/* "ok" with no address is an error, not a zeroed address. */
	(void)rtab_wait(&tab, "nx.example", 1, 100, 5, &x, &q);
	j = take();
	rtab_done(&tab, j, 0, NULL, 0);
	assert_int_equal(rtab_collect(&tab, 100, &r), 1);
	assert_int_not_equal(r.gai, 0);

	/* Names beyond the table: refused, nothing overwritten. */
	rtab_init(&tab);
	for (i = 0; i < RESOLVE_JOBS_MAX; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		assert_int_not_equal(rtab_wait(&tab, name, 1, 100, 5, &x, &q),
		    0);
	}
	assert_int_equal(rtab_wait(&tab, "one-more.example", 1, 100, 5, &x,
	    &q), 0);
	/* ... but a dial for a name in flight still joins it, up to the
	 * waiters' bound. */
	for (i = RESOLVE_JOBS_MAX; i < RESOLVE_WAITS_MAX; i++)
		assert_int_not_equal(rtab_wait(&tab, "h0.example", 1, 100, 5,
		    &x, &q), 0);
	assert_int_equal(rtab_wait(&tab, "h0.example", 1, 100, 5, &x, &q), 0);

	rtab_init(&tab);
	memset(lng, 'a', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(rtab_wait(&tab, lng, 1, 100, 5, &x, &q), 0);
	assert_int_equal(rtab_wait(&tab, "", 1, 100, 5, &x, &q), 0);
	rtab_done(&tab, -1, 0, NULL, 0);        /* out of range: ignored */
	rtab_done(&tab, RESOLVE_JOBS_MAX, 0, NULL, 0);
}

/* ---- through the threads and the loop ---- */

struct got {
	int calls;
	int ok;
	uint16_t port;
	char err[300];
};

static void
on_answer(void *arg, const struct sockaddr *sa, socklen_t salen,
    const char *err)
{
	struct got *g = arg;

	g->calls++;
	if (sa != NULL) {
		struct sockaddr_storage ss;

		assert_true(salen <= sizeof(ss));
		memcpy(&ss, sa, salen);
		g->ok = 1;
		g->port = port_of(&ss);
	} else {
		snprintf(g->err, sizeof(g->err), "%s", err);
	}
}

static void
on_bound(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void
on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct got *g = w->data;

	if (g->calls > 0)
		ev_break(loop, EVBREAK_ALL);
}

static void
test_threads(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct got g, never;
	ev_timer bound, poll;
	char err[256];
	uint32_t id;

	memset(&g, 0, sizeof(g));
	memset(&never, 0, sizeof(never));
	id = resolve_start(loop, "localhost", 6550, on_answer, &never, err,
	    sizeof(err));
	assert_int_not_equal(id, 0);
	resolve_cancel(id);
	id = resolve_start(loop, "localhost", 6551, on_answer, &g, err,
	    sizeof(err));
	assert_int_not_equal(id, 0);
	/* Nothing is called back from inside resolve_start. */
	assert_int_equal(g.calls, 0);
	ev_timer_init(&bound, on_bound, 10., 0.);
	ev_timer_init(&poll, on_poll, 0.01, 0.01);
	poll.data = &g;
	ev_timer_start(loop, &bound);
	ev_timer_start(loop, &poll);
	ev_run(loop, 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ok, 1);
	assert_int_equal(g.port, 6551);
	assert_int_equal(never.calls, 0);
	resolve_stop();
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_shared_lookup),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_error_and_full),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
