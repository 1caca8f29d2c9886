/*
 * linkd's forwarding table: which member an inner packet goes to, by
 * longest-prefix match on its destination address. routed computes the
 * table and pushes it whole (MSG_FIB_BEGIN, ENTRY..., COMMIT); linkd
 * collects the entries in a builder and swaps the finished table in on
 * COMMIT, so a lookup never sees half a table.
 *
 * A built table is immutable and pure data: no I/O, no clock, so unit
 * tests call it directly and the datapath can look up without locks.
 */
#ifndef OM_LINKD_FIB_H
#define OM_LINKD_FIB_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/msg.h"

#define FIB_MAX_ENTRIES 65536 /* bound on what a (buggy) routed can make */

struct fib_entry {
	struct prefix dst;                    /* host bits cleared */
	uint8_t dest[MEMBER_ID_BYTES];        /* member that owns dst */
	uint8_t next_hop[MEMBER_ID_BYTES];    /* direct peer to send to */
	uint32_t cost;
};

struct fib;

/* Build a table from n entries (copied). Entries with a bad prefix are
 * refused (-1 via NULL and *why); for two equal prefixes the lower
 * cost wins, then the lower next hop, so the result does not depend on
 * the order routed sent them in. NULL with *why on error. */
struct fib *fib_build(const struct fib_entry *v, size_t n, uint32_t generation,
    const char **why);
void fib_free(struct fib *f);

/* Longest-prefix match. family 4 or 6, addr 4 or 16 raw bytes. NULL
 * when no prefix covers it (or f is NULL). */
const struct fib_entry *fib_lookup(const struct fib *f, int family,
    const uint8_t *addr);

/* The cheapest entry whose dest is this member: its next hop. NULL
 * when the table has no prefix of that member (or f is NULL). For
 * forwarding, which knows the member from the frame, not an address. */
const struct fib_entry *fib_lookup_member(const struct fib *f,
    const uint8_t dest[MEMBER_ID_BYTES]);

size_t fib_count(const struct fib *f);
uint32_t fib_generation(const struct fib *f);
/* Entries in table order (family, longest prefix first); for ctl. */
const struct fib_entry *fib_entry_at(const struct fib *f, size_t i);

/*
 * Collecting one table from routed. A BEGIN starts over (a table that
 * was never committed is dropped); ENTRY and COMMIT must carry the
 * BEGIN's generation, and COMMIT's count must equal the entries
 * received, or the table is refused and the old one stays.
 */
struct fib_builder {
	int active;
	uint32_t generation;
	struct fib_entry *v;
	size_t n;
	size_t cap;
	int failed;           /* an entry was refused: refuse the commit */
	const char *why;
};

void fib_builder_init(struct fib_builder *b);
void fib_builder_begin(struct fib_builder *b, uint32_t generation);
/* 0, or -1 with b->why (and the commit will be refused). */
int fib_builder_add(struct fib_builder *b, const struct msg_fib_entry *e)
    __attribute__((warn_unused_result));
/* The new table, or NULL with *why. The builder is reset either way. */
struct fib *fib_builder_commit(struct fib_builder *b,
    const struct msg_fib_commit *c, const char **why);
void fib_builder_free(struct fib_builder *b);

#endif
