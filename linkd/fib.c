/*
 * Longest-prefix match for linkd's forwarding table.
 *
 * The table is small (a few prefixes per member) but is consulted for
 * every packet read from tund, so it is laid out for lookup: entries
 * sorted by family, then prefix length (longest first), then address;
 * for each family a short list of "length groups". A lookup masks the
 * destination to each group's length in turn and binary-searches that
 * group, so a /32 host route costs one mask and one bsearch, whatever the
 * number of members. Building sorts once, at COMMIT, off the packet path.
 *
 * Forwarding asks the other way round (which next hop for this member?),
 * so the build also sorts a second index of the entries by member, one
 * per member, cheapest first: a bsearch there too.
 */
#include "linkd/fib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/addr.h"

struct fib_group {
	uint8_t len;
	size_t start;
	size_t count;
};

struct fib {
	uint32_t generation;
	size_t n;
	struct fib_entry *v;
	/* [0] IPv4, [1] IPv6; at most one group per length. */
	struct fib_group g[2][129];
	int ng[2];
	/* one entry per member (the cheapest), sorted by dest */
	const struct fib_entry **by_dest;
	size_t ndest;
};

static int
fam_index(int family)
{
	return family == 4 ? 0 : 1;
}

/* out = addr with every bit after len cleared (and bytes past the
 * family's length zero). */
static void
mask_addr(uint8_t out[16], int family, const uint8_t *addr, unsigned len)
{
	size_t nb = (size_t)prefix_addr_bytes(family), full = len / 8, i;

	memset(out, 0, 16);
	memcpy(out, addr, nb);
	if (full < nb) {
		out[full] &= (uint8_t)(0xff00 >> (len % 8));
		for (i = full + 1; i < nb; i++)
			out[i] = 0;
	}
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct fib_entry *x = a, *y = b;
	int c;

	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	if (x->dst.len != y->dst.len)
		return x->dst.len > y->dst.len ? -1 : 1;   /* longest first */
	if ((c = memcmp(x->dst.addr, y->dst.addr, 16)) != 0)
		return c;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return memcmp(x->next_hop, y->next_hop, MEMBER_ID_BYTES);
}

/* By member, then cost, then next hop (deterministic). */
static int
dest_cmp(const void *a, const void *b)
{
	const struct fib_entry *x = *(const struct fib_entry *const *)a;
	const struct fib_entry *y = *(const struct fib_entry *const *)b;
	int c;

	if ((c = memcmp(x->dest, y->dest, MEMBER_ID_BYTES)) != 0)
		return c;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return memcmp(x->next_hop, y->next_hop, MEMBER_ID_BYTES);
}

static int
fib_index_dest(struct fib *f)
{
	size_t i, out;

	if (f->n == 0)
		return 0;
	if ((f->by_dest = calloc(f->n, sizeof(*f->by_dest))) == NULL)
		return -1;
	for (i = 0; i < f->n; i++)
		f->by_dest[i] = &f->v[i];
	qsort(f->by_dest, f->n, sizeof(*f->by_dest), dest_cmp);
	for (i = 0, out = 0; i < f->n; i++) {
		if (out > 0 && memcmp(f->by_dest[out - 1]->dest,
		    f->by_dest[i]->dest, MEMBER_ID_BYTES) == 0)
			continue;
		f->by_dest[out++] = f->by_dest[i];
	}
	f->ndest = out;
	return 0;
}

static int
entry_valid(const struct fib_entry *e, const char **why)
{
	if (e->dst.family != 4 && e->dst.family != 6) {
		*why = "prefix family is neither 4 nor 6";
		return -1;
	}
	if (e->dst.len > (e->dst.family == 4 ? 32 : 128)) {
		*why = "prefix length is longer than the address";
		return -1;
	}
	return 0;
}

struct fib *
fib_build(const struct fib_entry *v, size_t n, uint32_t generation,
    const char **why)
{
	struct fib *f;
	size_t i, out;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (n > FIB_MAX_ENTRIES) {
		*why = "too many entries";
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	f->generation = generation;
	if (n > 0 && (f->v = calloc(n, sizeof(*f->v))) == NULL) {
		free(f);
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (entry_valid(&v[i], why) == -1) {
			fib_free(f);
			return NULL;
		}
		f->v[i] = v[i];
		mask_addr(f->v[i].dst.addr, v[i].dst.family, v[i].dst.addr,
		    v[i].dst.len);
	}
	if (n > 1)
		qsort(f->v, n, sizeof(*f->v), entry_cmp);

	/* Drop duplicate prefixes: the sort put the preferred one first. */
	for (i = 0, out = 0; i < n; i++) {
		const struct prefix *prev;

		prev = out > 0 ? &f->v[out - 1].dst : NULL;
		if (prev != NULL && prev->family == f->v[i].dst.family &&
		    prev->len == f->v[i].dst.len &&
		    memcmp(prev->addr, f->v[i].dst.addr, 16) == 0)
			continue;
		f->v[out++] = f->v[i];
	}
	f->n = out;

	for (i = 0; i < f->n; i++) {
		int fi = fam_index(f->v[i].dst.family);
		struct fib_group *g = &f->g[fi][f->ng[fi] > 0 ?
		    f->ng[fi] - 1 : 0];

		if (f->ng[fi] == 0 || g->len != f->v[i].dst.len) {
			g = &f->g[fi][f->ng[fi]++];
			g->len = f->v[i].dst.len;
			g->start = i;
			g->count = 0;
		}
		g->count++;
	}
	if (fib_index_dest(f) == -1) {
		fib_free(f);
		*why = "out of memory";
		return NULL;
	}
	return f;
}

void
fib_free(struct fib *f)
{
	if (f == NULL)
		return;
	free(f->by_dest);
	free(f->v);
	free(f);
}

const struct fib_entry *
fib_lookup(const struct fib *f, int family, const uint8_t *addr)
{
	uint8_t key[16];
	size_t nb;
	int fi, gi;

	if (f == NULL || (family != 4 && family != 6))
		return NULL;
	fi = fam_index(family);
	nb = (size_t)prefix_addr_bytes(family);
	for (gi = 0; gi < f->ng[fi]; gi++) {
		const struct fib_group *g = &f->g[fi][gi];
		size_t lo = g->start, hi = g->start + g->count;

		mask_addr(key, family, addr, g->len);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = memcmp(f->v[mid].dst.addr, key, nb);

			if (c == 0)
				return &f->v[mid];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}

const struct fib_entry *
fib_lookup_member(const struct fib *f, const uint8_t dest[MEMBER_ID_BYTES])
{
	size_t lo = 0, hi;

	if (f == NULL)
		return NULL;
	hi = f->ndest;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(f->by_dest[mid]->dest, dest, MEMBER_ID_BYTES);

		if (c == 0)
			return f->by_dest[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t
fib_count(const struct fib *f)
{
	return f == NULL ? 0 : f->n;
}

uint32_t
fib_generation(const struct fib *f)
{
	return f == NULL ? 0 : f->generation;
}

const struct fib_entry *
fib_entry_at(const struct fib *f, size_t i)
{
	if (f == NULL || i >= f->n)
		return NULL;
	return &f->v[i];
}

void
fib_builder_init(struct fib_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void
fib_builder_begin(struct fib_builder *b, uint32_t generation)
{
	b->active = 1;
	b->generation = generation;
	b->n = 0;
	b->failed = 0;
	b->why = NULL;
}

static int
builder_fail(struct fib_builder *b, const char *why)
{
	if (!b->failed) {
		b->failed = 1;
		b->why = why;
	}
	return -1;
}

int
fib_builder_add(struct fib_builder *b, const struct msg_fib_entry *e)
{
	struct fib_entry *fe;
	const char *why;

	if (!b->active) {
		b->why = "entry without a table begun";
		return -1;
	}
	if (e->generation != b->generation)
		return builder_fail(b, "entry of another generation");
	if (b->n >= FIB_MAX_ENTRIES)
		return builder_fail(b, "too many entries");
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct fib_entry *nv;

		if ((nv = realloc(b->v, ncap * sizeof(*nv))) == NULL)
			return builder_fail(b, "out of memory");
		b->v = nv;
		b->cap = ncap;
	}
	fe = &b->v[b->n];
	memset(fe, 0, sizeof(*fe));
	fe->dst = e->dst;
	memcpy(fe->dest, e->dest, MEMBER_ID_BYTES);
	memcpy(fe->next_hop, e->next_hop, MEMBER_ID_BYTES);
	fe->cost = e->cost;
	if (entry_valid(fe, &why) == -1)
		return builder_fail(b, why);
	b->n++;
	return 0;
}

struct fib *
fib_builder_commit(struct fib_builder *b, const struct msg_fib_commit *c,
    const char **why)
{
	struct fib *f = NULL;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (!b->active)
		*why = "commit without a table begun";
	else if (c->generation != b->generation)
		*why = "commit of another generation";
	else if (b->failed)
		*why = b->why;
	else if (c->count != b->n)
		*why = "commit count differs from the entries received";
	else
		f = fib_build(b->v, b->n, b->generation, why);
	b->active = 0;
	b->n = 0;
	b->failed = 0;
	return f;
}

void
fib_builder_free(struct fib_builder *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}
