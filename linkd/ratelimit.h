/*
 * Token buckets for handshakes that cost linkd a DH (two, in fact, both
 * through keyd): one bucket for everyone and one per source address.
 *
 * A responder must run the Noise handshake before it knows whether the
 * initiator is a member, and anyone who knows our public key (it is in
 * our host record) can make a valid mac1. Without a limit, a stranger
 * sending HS_INITs as fast as it can keeps linkd and keyd busy with DHs
 * and starves the links that carry traffic. WireGuard answers this with
 * cookies under load; we cannot answer a stranger at all (no byte back
 * before authentication), so we drop what is over the limit instead.
 *
 * Per source: a fixed table (no allocation, no growth an attacker could
 * drive) indexed by a keyed hash (SipHash, a random key per process, so
 * nobody can aim sources at one slot). A source whose bucket has refilled
 * to the brim is indistinguishable from a new one, so its slot may be
 * taken over; when every slot a source may use is busy, the least
 * recently used one is taken over. Forgetting a source can only make it
 * look fresh: the global bucket still holds.
 *
 * Pure: no clock (now comes in, seconds, monotonic), no I/O, so the unit
 * test drives time by hand.
 */
#ifndef OM_LINKD_RATELIMIT_H
#define OM_LINKD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* Handshakes that need a DH, per second, and how many may come at once.
 * A restarting member with several links dials them together, so the
 * bursts leave room for that. */
#define RL_HS_RATE        50.0
#define RL_HS_BURST       50.0
#define RL_HS_SRC_RATE    10.0
#define RL_HS_SRC_BURST   20.0
/* Joins (a HELLO each, whose MAC keyd checks with a file read before
 * any DH): their own budget, so neither a flood of HELLOs nor of
 * handshakes locks the other out. As large as the members' one: a
 * HELLO costs keyd far less than a handshake, and a joiner whose
 * HELLO is dropped here only sees silence and tries again. */
#define RL_JOIN_RATE      50.0
#define RL_JOIN_BURST     50.0
#define RL_JOIN_SRC_RATE  10.0
#define RL_JOIN_SRC_BURST 20.0

#define RL_KEY_MAX        16   /* an IPv6 /64 prefix or an IPv4 address */
#define RL_SLOTS          1024 /* power of two */
#define RL_PROBES         8    /* slots one source may use */
#define RL_SEED_BYTES     16   /* SipHash key */

enum rl_verdict {
	RL_OK = 0,
	RL_GLOBAL,            /* everyone together is over the limit */
	RL_SOURCE,            /* this source is over its own limit */
};

struct rl_bucket {
	double tokens;
	double t;             /* when tokens was last brought up to date */
};

struct rl_slot {
	struct rl_bucket b;
	double t_used;
	uint8_t key[RL_KEY_MAX];
	uint8_t keylen;       /* 0: free */
};

struct ratelimit {
	double rate, burst;           /* global */
	double src_rate, src_burst;   /* per source */
	struct rl_bucket global;
	struct rl_slot slots[RL_SLOTS];
	uint8_t seed[RL_SEED_BYTES];
	uint64_t limited_global, limited_source;
	int ready;
};

/* rate/burst for everyone together and per source; seed keys the hash
 * (randombytes in the daemon, fixed in tests). Buckets start full. */
void ratelimit_init(struct ratelimit *rl, double rate, double burst,
    double src_rate, double src_burst,
    const uint8_t seed[RL_SEED_BYTES], double now);

/* One token from the bucket, refilled at rate up to burst first.
 * 1 taken, 0 empty. */
int rl_bucket_take(struct rl_bucket *b, double rate, double burst,
    double now);

/* May a handshake from this source go ahead? Takes a token from the
 * source's bucket and the global one only when both have one. key may
 * be NULL (keylen 0): a transport whose sources cannot be told apart
 * (every onion link comes from tor), limited globally only. Keys longer
 * than RL_KEY_MAX are cut. */
enum rl_verdict ratelimit_allow(struct ratelimit *rl, const uint8_t *key,
    size_t keylen, double now);

/* The source key of a link's remote address as linkd writes it
 * ("192.0.2.7:6550", "[2001:db8::1]:6550"): the IPv4 address (4 bytes)
 * or the IPv6 /64 (8 bytes; one host holds a whole /64). 0 with *len
 * set, -1 when it is no address (e.g. "onion"). */
int ratelimit_source_key(const char *remote, uint8_t key[RL_KEY_MAX],
    size_t *len) __attribute__((warn_unused_result));

#endif
