/*
 * IP prefixes and endpoints as text. Everything here is strict on
 * purpose: an address comes from a config file, a host record or the
 * command line, and a lenient parser ("10.1.2" meaning 10.1.0.2, as
 * inet_aton reads it) would turn a typo into a route to the wrong
 * place. So addresses go through inet_pton, lengths are plain decimal
 * within the family's range, and anything left over is an error.
 */
#include "proto/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Longest address text inet_pton is given; longer input is an error. */
#define ADDR_TEXT_MAX INET6_ADDRSTRLEN

/* Parse the address part (exactly n bytes of s) into p. */
static int
parse_host(struct prefix *p, const char *s, size_t n)
{
	char buf[ADDR_TEXT_MAX + 1];

	if (n == 0 || n > ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p, 0, sizeof(*p));
	/* A ':' can only be IPv6; inet_pton refuses everything else. */
	if (memchr(buf, ':', n) != NULL) {
		if (inet_pton(AF_INET6, buf, p->addr) != 1)
			return -1;
		p->family = 6;
		p->len = 128;
	} else {
		if (inet_pton(AF_INET, buf, p->addr) != 1)
			return -1;
		p->family = 4;
		p->len = 32;
	}
	return 0;
}

/* Plain decimal 0..max, no sign, no spaces, no leading zero. */
static int
parse_bits(const char *s, int max, uint8_t *out)
{
	int v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*out = (uint8_t)v;
	return 0;
}

int
prefix_parse(struct prefix *p, const char *s)
{
	const char *slash;
	struct prefix q;

	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	if (slash == NULL)
		return addr_parse(p, s);
	if (parse_host(&q, s, (size_t)(slash - s)) == -1)
		return -1;
	if (parse_bits(slash + 1, prefix_max_len(q.family), &q.len) == -1)
		return -1;
	*p = q;
	return 0;
}

int
addr_parse(struct prefix *p, const char *s)
{
	struct prefix q;

	if (s == NULL || strchr(s, '/') != NULL)
		return -1;
	if (parse_host(&q, s, strlen(s)) == -1)
		return -1;
	*p = q;
	return 0;
}

void
prefix_fmt(const struct prefix *p, char *out, size_t cap, int with_len)
{
	char a[INET6_ADDRSTRLEN];
	int af;

	if (cap == 0)
		return;
	if (p->family != 4 && p->family != 6) {
		snprintf(out, cap, "unset");
		return;
	}
	af = p->family == 4 ? AF_INET : AF_INET6;
	if (inet_ntop(af, p->addr, a, sizeof(a)) == NULL) {
		snprintf(out, cap, "invalid");
		return;
	}
	if (!with_len && p->len == prefix_max_len(p->family))
		snprintf(out, cap, "%s", a);
	else
		snprintf(out, cap, "%s/%u", a, p->len);
}

/* Clear every bit of a past the first `bits`. */
static void
mask_bits(uint8_t *a, int n, int bits)
{
	int i;

	for (i = 0; i < n; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a[i] &= (uint8_t)(0xff00 >> bits);
			bits = 0;
		}
	}
}

void
prefix_mask(struct prefix *p)
{
	if (p->family != 4 && p->family != 6)
		return;
	mask_bits(p->addr, prefix_addr_bytes(p->family), p->len);
	if (p->family == 4)
		memset(p->addr + 4, 0, 12);
}

/* Are the first `bits` bits of a and b equal? */
static int
bits_equal(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	uint8_t m;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	m = (uint8_t)(0xff00 >> rest);
	return (a[full] & m) == (b[full] & m);
}

int
prefix_contains(const struct prefix *p, int family, const uint8_t *addr)
{
	if ((p->family != 4 && p->family != 6) || p->family != family)
		return 0;
	if (p->len > prefix_max_len(p->family))
		return 0;
	return bits_equal(p->addr, addr, p->len);
}

int
prefix_covers(const struct prefix *p, const struct prefix *q)
{
	if (p->family != q->family || q->len < p->len)
		return 0;
	if (q->len > prefix_max_len(q->family))
		return 0;
	return prefix_contains(p, q->family, q->addr);
}

int
prefix_equal(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family || a->len != b->len)
		return 0;
	if (a->family != 4 && a->family != 6)
		return 1;
	return memcmp(a->addr, b->addr,
	    (size_t)prefix_addr_bytes(a->family)) == 0;
}

/*
 * A DNS name as RFC 1123 allows it: labels of letters, digits and '-',
 * 1..63 bytes each, not starting or ending with '-', 253 bytes at most.
 * A name made only of digits and dots is an IPv4 address that
 * inet_pton refused ("10.1.2"), never a name.
 */
static int
dns_name_valid(const char *s, size_t n)
{
	size_t i, label = 0;
	int alpha = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha = 1;
		else if (c == '-') {
			if (label == 0)
				return 0;
			alpha = 1;
		} else if (c < '0' || c > '9')
			return 0;
		if (++label > 63)
			return 0;
	}
	if (label == 0 || s[n - 1] == '-')
		return 0;
	return alpha;
}

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned v = 0;

	if (*s == '\0' || s[0] == '0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int
endpoint_parse(const char *s, char *host, size_t hostcap, uint16_t *port)
{
	const char *h, *colon;
	size_t hn;
	struct prefix p;
	uint16_t pt;

	if (s == NULL)
		return -1;
	if (s[0] == '[') {
		/* [IPv6]:PORT; the brackets keep the port apart. */
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hn = (size_t)(close - h);
		colon = close + 1;
		if (parse_host(&p, h, hn) == -1 || p.family != 6)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		h = s;
		hn = (size_t)(colon - s);
		/* A bare IPv6 address is ambiguous with the port. */
		if (memchr(h, ':', hn) != NULL)
			return -1;
		if (parse_host(&p, h, hn) == -1 && !dns_name_valid(h, hn))
			return -1;
	}
	if (parse_port(colon + 1, &pt) == -1)
		return -1;
	/* host may be NULL: the caller only validates. */
	if (host != NULL) {
		if (hn >= hostcap)
			return -1;
		memcpy(host, h, hn);
		host[hn] = '\0';
	}
	if (port != NULL)
		*port = pt;
	return 0;
}
