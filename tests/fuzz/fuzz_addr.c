/*
 * Fuzz target: addresses, prefixes and endpoints (proto/addr.c), the
 * values inside config files, host records and ctl requests.
 *
 * Input: one mode byte, then a string:
 *   mode 0  prefix_parse: an accepted prefix, formatted and parsed
 *           again, is the same prefix (and its length fits its family).
 *   mode 1  addr_parse: the same, and never a "/LEN".
 *   mode 2  endpoint_parse: host and port out; the host must be
 *           shorter than the input and the port 1..65535.
 * prefix_mask and the containment helpers run on what parsed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/addr.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static void
check_prefix(const struct prefix *p, int want_full)
{
	struct prefix q, m;
	char buf[PREFIX_STRLEN];

	FUZZ_CHECK(p->family == 4 || p->family == 6);
	FUZZ_CHECK(p->len <= (p->family == 4 ? 32 : 128));
	if (want_full)
		FUZZ_CHECK(p->len == (p->family == 4 ? 32 : 128));
	if (p->family == 4) {
		static const uint8_t zero[12];

		FUZZ_CHECK(memcmp(p->addr + 4, zero, sizeof(zero)) == 0);
	}
	prefix_fmt(p, buf, sizeof(buf), 1);
	FUZZ_CHECK(strlen(buf) < sizeof(buf));
	FUZZ_CHECK(prefix_parse(&q, buf) == 0);
	FUZZ_CHECK(prefix_equal(p, &q));
	prefix_fmt(p, buf, sizeof(buf), 0);
	FUZZ_CHECK(prefix_parse(&q, buf) == 0 && prefix_equal(p, &q));
	/* A prefix holds its own address and covers itself masked. */
	FUZZ_CHECK(prefix_contains(p, p->family, p->addr));
	m = *p;
	prefix_mask(&m);
	FUZZ_CHECK(prefix_covers(&m, p) && prefix_covers(p, &m));
	FUZZ_CHECK(prefix_contains(&m, p->family, p->addr));
	/* Tiny buffers are cut, never overrun. */
	prefix_fmt(p, buf, 4, 1);
	FUZZ_CHECK(strlen(buf) < 4);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prefix p;
	char *s, *host;
	uint16_t port = 0;

	if (size < 1)
		return 0;
	s = fuzz_strdup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		if (prefix_parse(&p, s) == 0)
			check_prefix(&p, 0);
		break;
	case 1:
		if (addr_parse(&p, s) == 0) {
			FUZZ_CHECK(strchr(s, '/') == NULL);
			check_prefix(&p, 1);
		}
		break;
	default:
		host = malloc(size);
		if (host == NULL)
			abort();
		if (endpoint_parse(s, host, size, &port) == 0) {
			FUZZ_CHECK(port >= 1);
			FUZZ_CHECK(strlen(host) < strlen(s));
			FUZZ_CHECK(endpoint_parse(s, NULL, 0, NULL) == 0);
		}
		free(host);
		break;
	}
	free(s);
	return 0;
}
