/*
 * Token buckets for responder handshakes (ratelimit.h says why). Plain
 * arithmetic on doubles: tokens grow by rate per second of `now`, up to
 * burst, and a handshake spends one.
 */
#include "linkd/ratelimit.h"

#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

void
ratelimit_init(struct ratelimit *rl, double rate, double burst,
    double src_rate, double src_burst, const uint8_t seed[RL_SEED_BYTES],
    double now)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst < 1.0 ? 1.0 : burst;
	rl->src_rate = src_rate;
	rl->src_burst = src_burst < 1.0 ? 1.0 : src_burst;
	rl->global.tokens = rl->burst;
	rl->global.t = now;
	memcpy(rl->seed, seed, RL_SEED_BYTES);
	rl->ready = 1;
}

/* Bring tokens up to date. A clock that went back adds nothing. */
static void
rl_bucket_fill(struct rl_bucket *b, double rate, double burst, double now)
{
	if (now > b->t) {
		b->tokens += (now - b->t) * rate;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->t = now;
}

int
rl_bucket_take(struct rl_bucket *b, double rate, double burst, double now)
{
	rl_bucket_fill(b, rate, burst, now);
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

/* Would this slot's bucket be full by now (so the slot is as good as
 * free)? */
static int
rl_slot_idle(const struct ratelimit *rl, const struct rl_slot *s,
    double now)
{
	double dt = now > s->b.t ? now - s->b.t : 0.0;

	return s->keylen == 0 || s->b.tokens + dt * rl->src_rate >=
	    rl->src_burst;
}

/* The slot of this source: its own, else a free or idle one, else the
 * least recently used of those it may use, started afresh. */
static struct rl_slot *
rl_slot_get(struct ratelimit *rl, const uint8_t *key, size_t keylen,
    double now)
{
	uint8_t h[crypto_shorthash_BYTES];
	struct rl_slot *s, *reuse = NULL, *lru = NULL;
	uint64_t idx;
	int i;

	crypto_shorthash(h, key, keylen, rl->seed);
	memcpy(&idx, h, sizeof(idx));
	for (i = 0; i < RL_PROBES; i++) {
		s = &rl->slots[(idx + (uint64_t)i) & (RL_SLOTS - 1)];
		if (s->keylen == keylen && memcmp(s->key, key, keylen) == 0)
			return s;
		if (reuse == NULL && rl_slot_idle(rl, s, now))
			reuse = s;
		if (lru == NULL || s->t_used < lru->t_used)
			lru = s;
	}
	s = reuse != NULL ? reuse : lru;
	memset(s, 0, sizeof(*s));
	memcpy(s->key, key, keylen);
	s->keylen = (uint8_t)keylen;
	s->b.tokens = rl->src_burst;
	s->b.t = now;
	return s;
}

enum rl_verdict
ratelimit_allow(struct ratelimit *rl, const uint8_t *key, size_t keylen,
    double now)
{
	struct rl_slot *s = NULL;

	if (key == NULL)
		keylen = 0;
	if (keylen > RL_KEY_MAX)
		keylen = RL_KEY_MAX;
	rl_bucket_fill(&rl->global, rl->rate, rl->burst, now);
	if (keylen > 0) {
		s = rl_slot_get(rl, key, keylen, now);
		s->t_used = now;
		rl_bucket_fill(&s->b, rl->src_rate, rl->src_burst, now);
		if (s->b.tokens < 1.0) {
			rl->limited_source++;
			return RL_SOURCE;
		}
	}
	if (rl->global.tokens < 1.0) {
		rl->limited_global++;
		return RL_GLOBAL;
	}
	rl->global.tokens -= 1.0;
	if (s != NULL)
		s->b.tokens -= 1.0;
	return RL_OK;
}

int
ratelimit_source_key(const char *remote, uint8_t key[RL_KEY_MAX],
    size_t *len)
{
	char host[64];
	const char *end;
	uint8_t a6[16];
	size_t n;

	if (remote == NULL)
		return -1;
	if (remote[0] == '[') {
		/* "[v6]:port" */
		if ((end = strchr(remote, ']')) == NULL)
			return -1;
		remote++;
	} else if ((end = strrchr(remote, ':')) == NULL) {
		return -1;
	}
	n = (size_t)(end - remote);
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, remote, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, key) == 1) {
		*len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a6) == 1) {
		/* An IPv4-mapped address is the IPv4 host it maps. */
		if (memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memcpy(key, a6 + 12, 4);
			*len = 4;
			return 0;
		}
		memcpy(key, a6, 8);
		*len = 8;
		return 0;
	}
	return -1;
}
