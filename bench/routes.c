/*
 * Route recomputation benchmark: what routed does when the graph
 * changes, on a network far larger than any we run today.
 *
 *   build/bench/routes [-n MEMBERS] [-e EDGES] [-r RUNS] [-s SEED]
 *   (make bench-routes; defaults 10,000 members, 50,000 edges, 7 runs)
 *
 * A random connected graph (a random spanning tree, then random extra
 * links, never twice the same pair) from a fixed seed, so every run and
 * every machine measures the same graph. Every link is announced by
 * both ends with its rtt (200 us .. 50 ms) and a rate (a power of two,
 * 0 or 1 .. 2^19 kbit/s, as keyd announces them), as keyd hands
 * announcements to routed; member 0 is us, and its links are our
 * direct ones. The rates come from a hash of the pair, not from the
 * generator, so the graph and its rtts are the ones measured before
 * rates existed. Each
 * run then times, from nothing:
 *   build  graph_init, every record (graph_member_set), our links
 *          (graph_link_set) and every announcement (graph_edges_set);
 *   spf    graph_shortest_paths (Dijkstra over the usable edges);
 *   fib    routed_fib_build (an entry per member address, sorted);
 * and, on the built graph, "recompute" (spf + fib again), which is what
 * one change costs once the graph is there. Printed: the median of each
 * over the runs, and the median total against the target (50 ms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/edges.h"
#include "routed/fib.h"
#include "routed/graph.h"

#define TARGET_MS 50.0

static uint64_t rng;

static uint64_t
rnd(void)
{
	/* xorshift64*: fixed seed, same graph everywhere */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Undirected pairs seen, so no link is drawn twice. */
struct pairset {
	uint64_t *v;
	size_t cap;
};

static int
pair_add(struct pairset *s, uint32_t a, uint32_t b)
{
	uint64_t key, h;
	size_t i;

	if (a > b) {
		uint32_t t = a;

		a = b;
		b = t;
	}
	key = ((uint64_t)a << 32 | b) + 1;
	h = key * 0x9e3779b97f4a7c15ULL;
	for (i = (size_t)(h >> 20) & (s->cap - 1); s->v[i] != 0;
	    i = (i + 1) & (s->cap - 1))
		if (s->v[i] == key)
			return 0;
	s->v[i] = key;
	return 1;
}

struct member {
	struct record rec;
	struct edges_peer *peers;
	size_t npeers, cap;
};

/* A link's rate from its pair: a power of two, or 0 (not measured)
 * for about one link in 21. */
static uint32_t
pair_rate(uint32_t a, uint32_t b)
{
	uint64_t h = ((uint64_t)(a < b ? a : b) << 32 | (a < b ? b : a)) *
	    0x9e3779b97f4a7c15ULL;
	unsigned k = (unsigned)((h >> 40) % 21);

	return k == 0 ? 0 : 1u << (k - 1);
}

static void
peer_add(struct member *m, const struct member *to, uint32_t rtt,
    uint32_t rate)
{
	if (m->npeers == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->peers = reallocarray(m->peers, m->cap, sizeof(*m->peers));
		if (m->peers == NULL) {
			perror("reallocarray");
			exit(1);
		}
	}
	memcpy(m->peers[m->npeers].id, to->rec.id, MEMBER_ID_BYTES);
	m->peers[m->npeers].rtt_us = rtt;
	m->peers[m->npeers++].rate_kbps = rate;
}

static int
peer_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MEMBER_ID_BYTES);
}

static void
usage(void)
{
	fprintf(stderr, "usage: routes [-n members] [-e edges] [-r runs] "
	    "[-s seed]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long n = 10000, e = 50000, runs = 7, seed = 1;
	struct member *mem;
	struct pairset ps;
	struct graph g;
	struct routed_fib f;
	double *tb, *ts, *tf, *tt, *tr, t0, t1, t2, t3;
	size_t i, k, reach = 0, fibn = 0;
	long links, run;
	int c;

	while ((c = getopt(argc, argv, "n:e:r:s:")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		case 'e': e = atol(optarg); break;
		case 'r': runs = atol(optarg); break;
		case 's': seed = atol(optarg); break;
		default: usage();
		}
	}
	if (n < 2 || n > 1000000 || e < n - 1 || e > n * (n - 1) / 2 / 2 ||
	    runs < 1 || runs > 1000)
		usage();
	rng = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + 1;

	/* Members: random ids, an IPv4 and an IPv6 address each. */
	if ((mem = calloc((size_t)n, sizeof(*mem))) == NULL) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < (size_t)n; i++) {
		struct record *r = &mem[i].rec;

		snprintf(r->name, sizeof(r->name), "m%zu", i);
		for (k = 0; k < MEMBER_ID_BYTES; k += 8) {
			uint64_t x = rnd();

			memcpy(r->id + k, &x, 8);
		}
		r->ipv4.family = 4;
		r->ipv4.len = 32;
		r->ipv4.addr[0] = 10;
		r->ipv4.addr[1] = (uint8_t)(64 + (i >> 16));
		r->ipv4.addr[2] = (uint8_t)(i >> 8);
		r->ipv4.addr[3] = (uint8_t)i;
		r->ipv6.family = 6;
		r->ipv6.len = 128;
		r->ipv6.addr[0] = 0xfd;
		memcpy(r->ipv6.addr + 8, r->id, 8);
		r->serial = 1;
	}

	/* Links: a spanning tree, then random pairs up to e. */
	ps.cap = 1;
	while (ps.cap < 4 * (size_t)e)
		ps.cap *= 2;
	if ((ps.v = calloc(ps.cap, sizeof(*ps.v))) == NULL) {
		perror("calloc");
		return 1;
	}
	for (links = 0; links < e; ) {
		uint32_t a, b, rtt;

		if (links < n - 1) {
			a = (uint32_t)(links + 1);
			b = (uint32_t)(rnd() % (uint64_t)a);
		} else {
			a = (uint32_t)(rnd() % (uint64_t)n);
			b = (uint32_t)(rnd() % (uint64_t)n);
			if (a == b)
				continue;
		}
		if (!pair_add(&ps, a, b))
			continue;
		rtt = (uint32_t)(200 + rnd() % 49800);
		/* each end measures its own rtt, a little apart; the
		 * same bytes, so the same rate bucket */
		peer_add(&mem[a], &mem[b], rtt, pair_rate(a, b));
		peer_add(&mem[b], &mem[a], rtt + (uint32_t)(rnd() % 100),
		    pair_rate(a, b));
		links++;
	}
	for (i = 0; i < (size_t)n; i++)
		qsort(mem[i].peers, mem[i].npeers, sizeof(*mem[i].peers),
		    peer_cmp);

	tb = calloc((size_t)runs, sizeof(double));
	ts = calloc((size_t)runs, sizeof(double));
	tf = calloc((size_t)runs, sizeof(double));
	tt = calloc((size_t)runs, sizeof(double));
	tr = calloc((size_t)runs, sizeof(double));
	if (tb == NULL || ts == NULL || tf == NULL || tt == NULL ||
	    tr == NULL) {
		perror("calloc");
		return 1;
	}
	for (run = 0; run < runs; run++) {
		t0 = now_ms();
		graph_init(&g);
		(void)graph_set_self(&g, mem[0].rec.id, mem[0].rec.name);
		for (i = 0; i < (size_t)n; i++)
			if (graph_member_set(&g, &mem[i].rec) == -1)
				goto nomem;
		for (k = 0; k < mem[0].npeers; k++)
			if (graph_link_set_rate(&g, mem[0].peers[k].id, 1,
			    mem[0].peers[k].rtt_us,
			    mem[0].peers[k].rate_kbps) == -1)
				goto nomem;
		for (i = 1; i < (size_t)n; i++)
			if (graph_edges_set(&g, mem[i].rec.id, 1,
			    mem[i].peers, mem[i].npeers) == -1)
				goto nomem;
		t1 = now_ms();
		reach = graph_shortest_paths(&g);
		t2 = now_ms();
		routed_fib_init(&f);
		if (routed_fib_build(&f, &g, NULL) == -1)
			goto nomem;
		t3 = now_ms();
		fibn = f.n;
		tb[run] = t1 - t0;
		ts[run] = t2 - t1;
		tf[run] = t3 - t2;
		tt[run] = t3 - t0;
		/* one change on a built graph */
		t0 = now_ms();
		(void)graph_shortest_paths(&g);
		if (routed_fib_build(&f, &g, NULL) == -1)
			goto nomem;
		tr[run] = now_ms() - t0;
		routed_fib_free(&f);
		graph_free(&g);
	}
	if (reach != (size_t)n - 1) {
		fprintf(stderr, "routes: %zu of %ld members reachable; the "
		    "graph is connected, so all should be\n", reach, n - 1);
		return 1;
	}
	printf("members %ld, edges %ld (announced by both ends), runs %ld, "
	    "seed %ld\n", n, e, runs, seed);
	printf("reachable %zu, fib entries %zu\n", reach, fibn);
	printf("median ms: build %.2f, spf %.2f, fib %.2f, total %.2f; "
	    "recompute (spf + fib) %.2f\n", median(tb, (int)runs),
	    median(ts, (int)runs), median(tf, (int)runs),
	    median(tt, (int)runs), median(tr, (int)runs));
	printf("target: total <= %.0f ms; ratio %.2f (below 1 meets it)\n",
	    TARGET_MS, median(tt, (int)runs) / TARGET_MS);
	for (i = 0; i < (size_t)n; i++)
		free(mem[i].peers);
	free(mem);
	free(ps.v);
	free(tb);
	free(ts);
	free(tf);
	free(tt);
	free(tr);
	return 0;
nomem:
	fprintf(stderr, "routes: out of memory\n");
	return 1;
}
