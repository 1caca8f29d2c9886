/*
 * Multipath scheduling (see multipath.h for the policies and why).
 *
 * The per-packet cost matters more than cleverness here: a peer has a
 * handful of links, so each choice is one pass over a short array of
 * pointers with no allocation. The sticky choice is remembered as a
 * pointer to the chosen path (not an index) because the peer's array
 * shifts when a link closes; the peer calls mp_forget() before that.
 *
 * MP_FLOW remembers flows in a fixed table (no allocation, nothing an
 * unbounded number of flows could grow) and names paths by a random key
 * each carries rather than by index, so closing a link (which shifts
 * the peer's array) moves no other flow. A known flow costs one table
 * lookup and a scan of the paths for its key; only a new flow scans the
 * table to count the live flows of each path. Hashing alone was tried
 * first: 4 iperf flows over 4 circuits landed on 2 of them, as the
 * birthday bound says they would.
 */
#include "linkd/multipath.h"

#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* Inner protocols whose first 4 bytes are source and destination port. */
#define IPPROTO_NUM_TCP     6
#define IPPROTO_NUM_UDP     17
#define IPPROTO_NUM_SCTP    132
#define IPPROTO_NUM_UDPLITE 136

/* IPv6 extension headers walked past (each (len + 1) * 8 bytes). */
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_DSTOPTS 60
#define IP6_EXT_MAX 8     /* walk at most this many */

void
mp_init(struct mp_sched *m, enum mp_policy policy)
{
	memset(m, 0, sizeof(*m));
	m->policy = policy;
}

void
mp_forget(struct mp_sched *m, const struct mp_path *p)
{
	if (m->current == p)
		m->current = NULL;
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static int
has_ports(uint8_t proto)
{
	return proto == IPPROTO_NUM_TCP || proto == IPPROTO_NUM_UDP ||
	    proto == IPPROTO_NUM_SCTP || proto == IPPROTO_NUM_UDPLITE;
}

uint32_t
mp_flow_hash(const uint8_t *ip, size_t len)
{
	const uint8_t *ports = NULL;
	uint64_t h = FNV_OFFSET;
	uint8_t tag[2];
	size_t ihl, off;
	int i;

	if (len < 1)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl)
			return 0;
		tag[0] = 4;
		tag[1] = ip[9];
		h = fnv(h, tag, 2);
		h = fnv(h, ip + 12, 8);         /* source, destination */
		/* A fragment (MF set or an offset) has no ports after the
		 * first: none of them use ports, so all stay together. */
		if ((ip[6] & 0x3f) == 0 && ip[7] == 0 && has_ports(ip[9]) &&
		    len >= ihl + 4)
			ports = ip + ihl;
		break;
	case 6:
		if (len < 40)
			return 0;
		tag[0] = 6;
		tag[1] = ip[6];
		off = 40;
		for (i = 0; i < IP6_EXT_MAX; i++) {
			if (tag[1] != IP6_HOPOPTS && tag[1] != IP6_ROUTING &&
			    tag[1] != IP6_DSTOPTS)
				break;
			if (len < off + 8)
				break;
			tag[1] = ip[off];
			off += ((size_t)ip[off + 1] + 1) * 8;
		}
		h = fnv(h, tag, 2);
		h = fnv(h, ip + 8, 32);         /* source, destination */
		if (has_ports(tag[1]) && len >= off + 4)
			ports = ip + off;
		break;
	default:
		return 0;
	}
	if (ports != NULL)
		h = fnv(h, ports, 4);
	return (uint32_t)mix64(h);
}

/* The up path that became established first (lowest index on a tie). */
static int
first_established(struct mp_path *const *paths, size_t n)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!paths[i]->up)
			continue;
		if (best == -1 || paths[i]->t_up < paths[best]->t_up)
			best = (int)i;
	}
	return best;
}

static int
select_sticky(struct mp_sched *m, struct mp_path *const *paths, size_t n)
{
	size_t i;
	int best;

	if (m->current != NULL) {
		for (i = 0; i < n; i++)
			if (paths[i] == m->current && paths[i]->up)
				return (int)i;
	}
	best = first_established(paths, n);
	m->current = best == -1 ? NULL : paths[best];
	return best;
}

static int
select_stripe(struct mp_sched *m, struct mp_path *const *paths, size_t n)
{
	int best = -1;
	size_t i, j;

	/* Start the scan at a rotating offset so equal backlogs (idle
	 * links) take turns instead of all landing on the first. */
	for (j = 0; j < n; j++) {
		i = (m->rr + j) % n;
		if (!paths[i]->up)
			continue;
		if (best == -1 || paths[i]->backlog < paths[best]->backlog)
			best = (int)i;
	}
	m->rr++;
	return best;
}

/* Rendezvous hashing: the up path whose (flow, key) scores highest. */
static int
select_hash(struct mp_path *const *paths, size_t n, uint32_t flow)
{
	uint64_t score, best_score = 0;
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!paths[i]->up)
			continue;
		score = mix64((uint64_t)flow << 32 | paths[i]->key);
		if (best == -1 || score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

static int
path_by_key(struct mp_path *const *paths, size_t n, uint32_t key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (paths[i]->up && paths[i]->key == key)
			return (int)i;
	return -1;
}

static int
flow_live(const struct mp_flow *f, double now)
{
	return f->used && now - f->t_last < MP_FLOW_IDLE;
}

/* A new flow: the up path with the fewest live flows, then the least
 * queued, then the highest hash score (so ties do not all go to the
 * first path). */
static int
select_least_loaded(struct mp_sched *m, struct mp_path *const *paths,
    size_t n, uint32_t flow, double now)
{
	unsigned count[MP_MAX_PATHS];
	uint64_t score, best_score = 0;
	size_t i;
	int j, best = -1;

	memset(count, 0, sizeof(count));
	for (i = 0; i < MP_FLOW_SLOTS; i++) {
		if (!flow_live(&m->flows[i], now))
			continue;
		if ((j = path_by_key(paths, n, m->flows[i].key)) >= 0)
			count[j]++;
	}
	for (i = 0; i < n; i++) {
		if (!paths[i]->up)
			continue;
		score = mix64((uint64_t)flow << 32 | paths[i]->key);
		if (best == -1 || count[i] < count[best] ||
		    (count[i] == count[best] &&
		    (paths[i]->backlog < paths[best]->backlog ||
		    (paths[i]->backlog == paths[best]->backlog &&
		    score > best_score)))) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

static int
select_flow(struct mp_sched *m, struct mp_path *const *paths, size_t n,
    uint32_t flow, double now)
{
	struct mp_flow *f = &m->flows[flow & (MP_FLOW_SLOTS - 1)];
	int i;

	if (f->used && f->flow == flow) {
		if ((i = path_by_key(paths, n, f->key)) >= 0) {
			f->t_last = now;
			return i;
		}
		/* Its path is gone: it has to move (once). */
	} else if (flow_live(f, now)) {
		/* The slot is another live flow's. */
		return select_hash(paths, n, flow);
	}
	if ((i = select_least_loaded(m, paths, n, flow, now)) < 0)
		return -1;
	f->flow = flow;
	f->key = paths[i]->key;
	f->t_last = now;
	f->used = 1;
	return i;
}

int
mp_select(struct mp_sched *m, struct mp_path *const *paths, size_t n,
    uint32_t flow, double now)
{
	int i;

	if (n == 0)
		return -1;
	if (n > MP_MAX_PATHS)
		n = MP_MAX_PATHS;
	switch (m->policy) {
	case MP_STRIPE:
		i = select_stripe(m, paths, n);
		break;
	case MP_FLOW:
		i = select_flow(m, paths, n, flow, now);
		break;
	default:
		i = select_sticky(m, paths, n);
		break;
	}
	if (i >= 0)
		paths[i]->sent++;
	return i;
}
