/*
 * Names to addresses, the pure part (resolve.h says why it is split):
 * numeric endpoints, and the table of lookups in flight and the dials
 * waiting for them. No locks and no threads here; resolve.c holds its
 * mutex around every call.
 *
 * Fixed arrays, small on purpose: a member has a handful of endpoints
 * and at most a few dial slots, and a dial that finds the table full
 * fails like any other and comes back after its backoff.
 */
#include "linkd/resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

int
resolve_numeric(const char *host, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res;
	char pt[8];

	/* AI_NUMERICHOST: glibc parses the literal (scope ids too) and
	 * never asks a name service. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(pt, sizeof(pt), "%u", port);
	if (getaddrinfo(host, pt, &hints, &res) != 0)
		return 0;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 1;
}

void
rtab_init(struct rtab *t)
{
	memset(t, 0, sizeof(*t));
}

static int
rtab_find_job(const struct rtab *t, const char *host, uint16_t port)
{
	int j;

	/* A finished lookup is not joined: its answer may be stale by
	 * the time a new dial asks (it is freed once handed out). */
	for (j = 0; j < RESOLVE_JOBS_MAX; j++)
		if ((t->jobs[j].state == RJOB_QUEUED ||
		    t->jobs[j].state == RJOB_RUNNING) &&
		    t->jobs[j].port == port &&
		    strcmp(t->jobs[j].host, host) == 0)
			return j;
	return -1;
}

/* A free job (state RJOB_FREE) and a free waiter (id 0): 0 with both
 * indexes, or -1 when either table is full. */
static int
rtab_free_slots(const struct rtab *t, int *job, int *wait)
{
	int i;

	*job = *wait = -1;
	for (i = 0; i < RESOLVE_JOBS_MAX && *job == -1; i++)
		if (t->jobs[i].state == RJOB_FREE)
			*job = i;
	for (i = 0; i < RESOLVE_WAITS_MAX && *wait == -1; i++)
		if (t->waits[i].id == 0)
			*wait = i;
	return *wait == -1 ? -1 : 0;
}

uint32_t
rtab_wait(struct rtab *t, const char *host, uint16_t port, double now,
    double timeout, void *arg, int *queued)
{
	struct rwait *w;
	int j, fj, wi;

	*queued = 0;
	if (strlen(host) > RESOLVE_HOST_MAX || host[0] == '\0')
		return 0;
	if (rtab_free_slots(t, &fj, &wi) == -1)
		return 0;
	if ((j = rtab_find_job(t, host, port)) == -1) {
		if ((j = fj) == -1)
			return 0;
		memset(&t->jobs[j], 0, sizeof(t->jobs[j]));
		snprintf(t->jobs[j].host, sizeof(t->jobs[j].host), "%s",
		    host);
		t->jobs[j].port = port;
		t->jobs[j].state = RJOB_QUEUED;
		t->lookups++;
		*queued = 1;
	}
	t->jobs[j].nwait++;
	w = &t->waits[wi];
	if (++t->next_id == 0)
		t->next_id = 1;
	w->id = t->next_id;
	w->job = j;
	w->deadline = now + timeout;
	w->arg = arg;
	return w->id;
}

/* A waiter leaves its job; a job nobody wants any more is freed unless
 * a thread is working on it (the thread frees it with rtab_done). */
static void
rtab_leave(struct rtab *t, struct rwait *w)
{
	struct rjob *jb = &t->jobs[w->job];

	if (jb->nwait > 0)
		jb->nwait--;
	if (jb->nwait == 0 && jb->state != RJOB_RUNNING)
		jb->state = RJOB_FREE;
	memset(w, 0, sizeof(*w));
}

void
rtab_cancel(struct rtab *t, uint32_t id)
{
	int w;

	if (id == 0)
		return;
	for (w = 0; w < RESOLVE_WAITS_MAX; w++)
		if (t->waits[w].id == id) {
			rtab_leave(t, &t->waits[w]);
			return;
		}
}

int
rtab_take(struct rtab *t, char *host, size_t hostcap, uint16_t *port)
{
	int j;

	for (j = 0; j < RESOLVE_JOBS_MAX; j++) {
		if (t->jobs[j].state != RJOB_QUEUED)
			continue;
		t->jobs[j].state = RJOB_RUNNING;
		snprintf(host, hostcap, "%s", t->jobs[j].host);
		*port = t->jobs[j].port;
		return j;
	}
	return -1;
}

void
rtab_done(struct rtab *t, int j, int gai, const struct sockaddr *sa,
    socklen_t salen)
{
	struct rjob *jb;

	if (j < 0 || j >= RESOLVE_JOBS_MAX ||
	    t->jobs[j].state != RJOB_RUNNING)
		return;
	jb = &t->jobs[j];
	if (jb->nwait == 0) {          /* every dial gave up meanwhile */
		jb->state = RJOB_FREE;
		return;
	}
	jb->state = RJOB_DONE;
	jb->gai = gai;
	if (gai == 0 && (sa == NULL || salen > sizeof(jb->ss)))
		jb->gai = EAI_FAIL;
	if (jb->gai == 0) {
		memcpy(&jb->ss, sa, salen);
		jb->sslen = salen;
	} else {
		t->failures++;
	}
}

int
rtab_collect(struct rtab *t, double now, struct rresult *r)
{
	struct rwait *w;
	struct rjob *jb;
	int i;

	for (i = 0; i < RESOLVE_WAITS_MAX; i++) {
		w = &t->waits[i];
		if (w->id == 0)
			continue;
		jb = &t->jobs[w->job];
		if (jb->state != RJOB_DONE && now < w->deadline)
			continue;
		memset(r, 0, sizeof(*r));
		r->id = w->id;
		r->arg = w->arg;
		snprintf(r->host, sizeof(r->host), "%s", jb->host);
		if (jb->state == RJOB_DONE) {
			r->gai = jb->gai;
			r->ss = jb->ss;
			r->sslen = jb->sslen;
		} else {
			r->timed_out = 1;
			t->timeouts++;
		}
		rtab_leave(t, w);
		return 1;
	}
	return 0;
}

double
rtab_next_deadline(const struct rtab *t)
{
	double d = -1;
	int i;

	for (i = 0; i < RESOLVE_WAITS_MAX; i++)
		if (t->waits[i].id != 0 &&
		    (d < 0 || t->waits[i].deadline < d))
			d = t->waits[i].deadline;
	return d;
}

int
rtab_busy(const struct rtab *t)
{
	int j, n = 0;

	for (j = 0; j < RESOLVE_JOBS_MAX; j++)
		if (t->jobs[j].state == RJOB_QUEUED ||
		    t->jobs[j].state == RJOB_RUNNING)
			n++;
	return n;
}
