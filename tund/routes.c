/*
 * The routes tund puts on its TUN device: a table from routed received
 * whole (tund_route_begin/entry/commit, called by
 * dispatch.c's handlers), and the walk that brings the kernel from what
 * is installed to what routed last committed (tund_routes_apply over
 * rtnetlink).
 *
 * Why this shape:
 *  - routed pushes whole tables (a restarted routed, or tund, is whole
 *    again after one push), so tund compares the committed set with what
 *    it installed and changes only the difference: a member coming or
 *    going moves its own prefixes, not every route.
 *  - The sets are plain sorted arrays (proto/prefixset.h, the same as
 *    routed builds them in) and the walk calls back for every
 *    kernel change (route_set_sync's op), so the unit tests run it with
 *    a fake kernel; tund.c passes the rtnetlink one.
 *  - A route the kernel would not take (a prefix someone else routes
 *    already: EEXIST) is not installed and is tried again with the next
 *    table; a delete that finds the route gone (ESRCH) counts as done,
 *    so a set never keeps a route that is not there.
 *  - A table that was not received whole (an entry of another
 *    generation, one that did not fit, a count that disagrees) is
 *    refused and the routes stay as they were. route_check() refuses
 *    what no device route may be, so a default route (length 0) is
 *    never installed even if routed sent one.
 */
#include "tund/tund.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"

const char *
route_check(const struct prefix *p)
{
	struct prefix m;
	unsigned max;

	if (p->family == 4)
		max = 32;
	else if (p->family == 6)
		max = 128;
	else
		return "family is neither IPv4 nor IPv6";
	if (p->len == 0)
		return "a default route (length 0); a gateway's default "
		    "arrives as two halves (/1)";
	if (p->len > max)
		return "prefix length is longer than the address";
	m = *p;
	prefix_mask(&m);
	if (memcmp(m.addr, p->addr, p->family == 4 ? 4 : 16) != 0)
		return "host bits are set";
	return NULL;
}

int
route_set_sync(struct prefix_set *have, const struct prefix_set *want,
    route_op_fn op, void *arg, struct route_sync_stats *st)
{
	struct prefix_set next;
	size_t i;
	int r;

	memset(st, 0, sizeof(*st));
	prefix_set_init(&next);
	/* Room for the worst case up front: no allocation can fail in the
	 * middle, after the kernel has changed. */
	if (have->n + want->n > 0) {
		next.cap = have->n + want->n;
		if ((next.v = calloc(next.cap, sizeof(*next.v))) == NULL)
			return -1;
	}

	/* Deletes first: a prefix moving between two members' subnets is
	 * never routed twice. */
	for (i = 0; i < have->n; i++) {
		if (prefix_set_has(want, &have->v[i])) {
			next.v[next.n++] = have->v[i];
			continue;
		}
		r = op(arg, &have->v[i], 0);
		if (r == 0 || r == -ESRCH) {
			st->removed++;
			continue;
		}
		st->failed++;
		next.v[next.n++] = have->v[i]; /* still there: retry */
	}
	for (i = 0; i < want->n; i++) {
		if (prefix_set_has(have, &want->v[i]))
			continue;
		r = op(arg, &want->v[i], 1);
		if (r == 0) {
			st->added++;
			next.v[next.n++] = want->v[i];
		} else
			st->failed++;
	}
	prefix_set_sort(&next);
	prefix_set_free(have);
	*have = next;
	return 0;
}

/* ---- a table from routed ---- */

/* -1 out of memory, or E2BIG at TUND_ROUTES_MAX: a bound on what a
 * (buggy) routed sends. */
static int
route_rx_add(struct tund *t, const struct prefix *p)
{
	if (t->rt_rx.n >= TUND_ROUTES_MAX) {
		errno = E2BIG;
		return -1;
	}
	return prefix_set_add(&t->rt_rx, p);
}

void
tund_route_begin(struct tund *t, const struct msg_fib_begin *b)
{
	t->route_begins++;
	t->route_gen = b->generation;
	t->route_count = 0;
	prefix_set_clear(&t->rt_rx);
	t->rt_rx_failed = 0;
	log_debug("routed: route table %u begins", b->generation);
}

void
tund_route_entry(struct tund *t, const struct msg_route_entry *e)
{
	char pfx[PREFIX_STRLEN];
	const char *why;

	if (e->generation != t->route_gen) {
		log_warnx_rl(&t->route_bad, "routed: route entry of table %u "
		    "while receiving table %u; ignored", e->generation,
		    t->route_gen);
		t->route_bad++;
		return;
	}
	t->route_entries++;
	t->route_count++;
	prefix_fmt(&e->dst, pfx, sizeof(pfx), 1);
	if ((why = route_check(&e->dst)) != NULL) {
		/* Counted in the table (the commit's count is routed's),
		 * but never installed. */
		log_warnx_rl(&t->route_entries, "routed: route %s (table %u) "
		    "refused: %s", pfx, e->generation, why);
		t->route_bad++;
		return;
	}
	if (route_rx_add(t, &e->dst) == -1) {
		if (!t->rt_rx_failed)
			log_warnx("routed: route table %u: no room for %s "
			    "(%s; at most %d routes); the table will be "
			    "refused", e->generation, pfx, strerror(errno),
			    TUND_ROUTES_MAX);
		t->rt_rx_failed = 1;
		return;
	}
	log_debug("routed: route %s (table %u)", pfx, e->generation);
}

void
tund_route_commit(struct tund *t, const struct msg_fib_commit *c)
{
	struct prefix_set tmp;

	if (c->generation != t->route_gen || c->count != t->route_count) {
		log_warnx_rl(&t->route_bad, "routed: commit of table %u with "
		    "%u routes, but received table %u with %u; ignored",
		    c->generation, c->count, t->route_gen, t->route_count);
		t->route_bad++;
		return;
	}
	if (t->rt_rx_failed) {
		t->route_bad++;
		log_warnx("routed: route table %u not taken whole; the routes "
		    "stay as they were", c->generation);
		return;
	}
	t->route_commits++;
	t->routes = c->count;
	log_debug("routed: route table %u committed, %u routes",
	    c->generation, c->count);
	prefix_set_sort(&t->rt_rx);
	tmp = t->rt_want;
	t->rt_want = t->rt_rx;
	t->rt_rx = tmp;
	prefix_set_clear(&t->rt_rx);
	tund_routes_apply(t);
}

/* ---- onto the device ---- */

int
tund_route_kernel(void *arg, const struct prefix *p, int add)
{
	struct tund *t = arg;
	char pfx[PREFIX_STRLEN];
	int r;

	prefix_fmt(p, pfx, sizeof(pfx), 1);
	r = tun_route(t->nlfd, &t->tun, p, add);
	if (r == 0) {
		log_info("route %s dev %s %s", pfx, t->tun.ifname,
		    add ? "added" : "removed");
		return 0;
	}
	if (add && r == -EEXIST)
		log_warnx_rl(&t->route_failed, "route %s dev %s not added: "
		    "this host routes %s already (an interface or a route "
		    "of its own); it stays as it is", pfx, t->tun.ifname,
		    pfx);
	else if (r == -EPERM)
		log_warnx_rl(&t->route_failed, "route %s dev %s not %s: %s "
		    "(tund needs CAP_NET_ADMIN)", pfx, t->tun.ifname,
		    add ? "added" : "removed", strerror(-r));
	else if (!add && r == -ESRCH)
		log_debug("route %s dev %s: already gone", pfx,
		    t->tun.ifname);
	else
		log_warnx_rl(&t->route_failed, "route %s dev %s not %s: %s",
		    pfx, t->tun.ifname, add ? "added" : "removed",
		    strerror(-r));
	return r;
}

void
tund_routes_apply(struct tund *t)
{
	struct route_sync_stats st;

	if (t->route_op == NULL)
		return; /* no kernel (unit tests) */
	if (prefix_set_equal(&t->rt_have, &t->rt_want))
		return;
	if (route_set_sync(&t->rt_have, &t->rt_want, t->route_op, t,
	    &st) == -1) {
		log_warnx("out of memory changing routes; they change with "
		    "the next table");
		return;
	}
	t->route_added += st.added;
	t->route_removed += st.removed;
	t->route_failed += st.failed;
	if (st.failed)
		log_warnx("routes on %s: %zu (%zu added, %zu removed, %zu "
		    "refused by the kernel: tried again with the next "
		    "table)", t->tun.ifname, t->rt_have.n, st.added,
		    st.removed, st.failed);
	else
		log_info("routes on %s: %zu (%zu added, %zu removed)",
		    t->tun.ifname, t->rt_have.n, st.added, st.removed);
}
