/*
 * IP prefixes as members, records, config and the forwarding table use
 * them. One representation for IPv4 and IPv6 (v4 stored in the first 4
 * bytes) so the fib and route code handles both with one path.
 */
#ifndef OM_ADDR_H
#define OM_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define PREFIX_STRLEN 50 /* "ffff:...:ffff/128" with NUL */

struct prefix {
	uint8_t family; /* 4 or 6; 0 = unset */
	uint8_t len;    /* prefix length in bits */
	uint8_t addr[16];
};

/* "10.1.2.3/24", "fd00::1/64"; a bare address gets /32 or /128.
 * Returns 0 or -1. Host bits are kept (an interface address). */
int prefix_parse(struct prefix *p, const char *s)
    __attribute__((warn_unused_result));
/* Only an address, no "/LEN" allowed. */
int addr_parse(struct prefix *p, const char *s)
    __attribute__((warn_unused_result));
/* "A.B.C.D/LEN" or "A.B.C.D" when len is full and with_len is 0. */
void prefix_fmt(const struct prefix *p, char *out, size_t cap, int with_len);
/* A family's (4 or 6) address in bytes, 4 or 16, and its longest
 * prefix, 32 or 128. Inline: linkd's lookup uses it on every packet. */
static inline int
prefix_addr_bytes(int family)
{
	return family == 4 ? 4 : 16;
}

static inline int
prefix_max_len(int family)
{
	return family == 4 ? 32 : 128;
}
/* Clear host bits. */
void prefix_mask(struct prefix *p);
/* Is addr (family 4/6, raw bytes) inside p? */
int prefix_contains(const struct prefix *p, int family, const uint8_t *addr);
/* Is q inside p (same family, q->len >= p->len, masked equal)? */
int prefix_covers(const struct prefix *p, const struct prefix *q);
int prefix_equal(const struct prefix *a, const struct prefix *b);

/* HOST:PORT where HOST is an IPv4 address, [IPv6] or a DNS name;
 * port 1..65535. Splits into host (no brackets) and port; host and
 * port may be NULL to only check the form. */
int endpoint_parse(const char *s, char *host, size_t hostcap,
    uint16_t *port) __attribute__((warn_unused_result));

#endif
