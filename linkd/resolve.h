/*
 * Host names of members' tcp endpoints, resolved off the event loop.
 *
 * getaddrinfo blocks for as long as the DNS server named in
 * resolv.conf takes, and one that never answers takes glibc's
 * timeout times its attempts times the servers: tens of seconds in
 * which, inside the loop, no link would move. So a numeric endpoint
 * is turned into an address here at once (no lookup at all), and a
 * name is looked up by a few worker threads (resolve.c) that wake the
 * loop with ev_async when done. Whoever asked waits at most
 * RESOLVE_TIMEOUT: then its dial fails and is retried with the link's
 * backoff, while the lookup itself may go on in its thread.
 *
 * The bookkeeping (struct rtab, resolve_table.c) is pure, for unit
 * tests: lookups ("jobs", one per HOST:PORT in flight, shared by every
 * dial that wants it, so a name whose server never answers holds one
 * thread, not one per retry) and waiters (one per dial, each with its
 * own deadline). The threads and the loop only lock around it.
 */
#ifndef OM_LINKD_RESOLVE_H
#define OM_LINKD_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#define RESOLVE_TIMEOUT   5.0   /* seconds a dial waits for a name */
#define RESOLVE_THREADS   4     /* lookups running at once */
#define RESOLVE_JOBS_MAX  32    /* names in flight (queued or running) */
#define RESOLVE_WAITS_MAX 256   /* dials waiting for a name */
#define RESOLVE_HOST_MAX  255

/* ---- numeric endpoints (pure) ---- */

/* host as an IPv4 or IPv6 literal (with %scope): 1 and the address in
 * ss/len, 0 if host is a name. Never a DNS lookup. */
int resolve_numeric(const char *host, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len);

/* ---- the bookkeeping (pure) ---- */

enum rjob_state {
	RJOB_FREE = 0,
	RJOB_QUEUED,    /* waiting for a thread */
	RJOB_RUNNING,   /* a thread is in getaddrinfo */
	RJOB_DONE,      /* result in gai / ss */
};

struct rjob {
	enum rjob_state state;
	char host[RESOLVE_HOST_MAX + 1];
	uint16_t port;
	int nwait;                     /* waiters attached */
	int gai;                       /* getaddrinfo's result (0: ok) */
	struct sockaddr_storage ss;    /* the first address, if gai == 0 */
	socklen_t sslen;
};

struct rwait {
	uint32_t id;                   /* 0: free */
	int job;                       /* index in jobs[] */
	double deadline;               /* monotonic */
	void *arg;                     /* the caller's (a link) */
};

struct rtab {
	struct rjob jobs[RESOLVE_JOBS_MAX];
	struct rwait waits[RESOLVE_WAITS_MAX];
	uint32_t next_id;
	uint64_t lookups;              /* jobs started */
	uint64_t timeouts;             /* waiters that gave up */
	uint64_t failures;             /* lookups that answered an error */
};

/* What rtab_collect hands back for one waiter. */
struct rresult {
	uint32_t id;
	void *arg;
	int timed_out;                 /* deadline passed, no answer yet */
	int gai;                       /* else getaddrinfo's result */
	char host[RESOLVE_HOST_MAX + 1];
	struct sockaddr_storage ss;
	socklen_t sslen;
};

void rtab_init(struct rtab *t);
/* A waiter for host:port until now + timeout, joining the lookup of the
 * same name already in flight or queueing a new one (*queued = 1).
 * Its id (never 0), or 0 when the table is full or host too long. */
uint32_t rtab_wait(struct rtab *t, const char *host, uint16_t port,
    double now, double timeout, void *arg, int *queued);
/* The waiter gives up (its link closed): nothing will be handed back
 * for it. A lookup nobody waits for any more is dropped if no thread
 * took it yet. */
void rtab_cancel(struct rtab *t, uint32_t id);
/* A thread takes the oldest queued lookup: its index (host and port
 * copied out), or -1 when none is queued. */
int rtab_take(struct rtab *t, char *host, size_t hostcap, uint16_t *port);
/* The thread's answer for job j (sa NULL when gai != 0). */
void rtab_done(struct rtab *t, int j, int gai, const struct sockaddr *sa,
    socklen_t salen);
/* One waiter that has its answer or whose deadline passed, removed from
 * the table: 1 and *r, or 0 when none is due. */
int rtab_collect(struct rtab *t, double now, struct rresult *r);
/* The earliest deadline of a waiter, or -1 when none waits. */
double rtab_next_deadline(const struct rtab *t);
/* Lookups queued or running. */
int rtab_busy(const struct rtab *t);

/* ---- the resolver (resolve.c: threads and the loop) ---- */

/* Called from the loop with the answer: sa/salen, or err ("cannot
 * resolve 'HOST': ...", naming the host and the reason). */
typedef void resolve_cb(void *arg, const struct sockaddr *sa,
    socklen_t salen, const char *err);

/* Look host:port up for arg; cb runs later from the loop, exactly once
 * unless resolve_cancel comes first, and never from inside this call.
 * cb is the resolver's one callback: the first call's is kept, so
 * every caller passes the same. The request's id, or 0 with err. */
uint32_t resolve_start(struct ev_loop *loop, const char *host,
    uint16_t port, resolve_cb *cb, void *arg, char *err, size_t errlen);
void resolve_cancel(uint32_t id);
/* Stop the loop's watchers (threads still in getaddrinfo are left to
 * finish; their answers are dropped). */
void resolve_stop(void);

#endif
