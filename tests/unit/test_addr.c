/*
 * Unit tests for proto/addr.c: prefixes and endpoints. The tables of
 * bad input are the point: each entry is a typo someone could make in a
 * config or record, and each must be refused rather than read as some
 * other address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/addr.h"

static void
test_prefix_parse_good(void **state)
{
	static const struct {
		const char *in;
		int family;
		int len;
		const char *out;
	} t[] = {
		{"10.1.2.3/24", 4, 24, "10.1.2.3/24"},
		{"10.1.2.3", 4, 32, "10.1.2.3/32"},
		{"0.0.0.0/0", 4, 0, "0.0.0.0/0"},
		{"255.255.255.255/32", 4, 32, "255.255.255.255/32"},
		{"fd00::1/64", 6, 64, "fd00::1/64"},
		{"fd00::1", 6, 128, "fd00::1/128"},
		{"::/0", 6, 0, "::/0"},
		{"FD00:0:0::1/48", 6, 48, "fd00::1/48"},
		{"::ffff:10.0.0.1/128", 6, 128, "::ffff:10.0.0.1/128"},
	};
	struct prefix p;
	char s[PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(prefix_parse(&p, t[i].in), 0);
		assert_int_equal(p.family, t[i].family);
		assert_int_equal(p.len, t[i].len);
		prefix_fmt(&p, s, sizeof(s), 1);
		assert_string_equal(s, t[i].out);
	}
}

static void
test_prefix_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "/", "/24", "10.1.2", "10.1.2/24", "10.1.2.3/33",
		"10.1.2.3/", "10.1.2.3/-1", "10.1.2.3/+8", "10.1.2.3/024",
		"10.1.2.3/24x", "10.1.2.3 /24", " 10.1.2.3", "10.1.2.3 ",
		"10.1.2.3x", "10.1.2.256", "010.1.2.3", "1.2.3.4.5",
		"fd00::1/129", "fd00::1/64/64", "fd00:::1", "fe80::1%eth0",
		"fd00::g", "10.1.2.3/4294967320", "localhost", "0x0a.1.2.3",
		"10.1.2.3\n",
	};
	struct prefix p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (prefix_parse(&p, bad[i]) != -1)
			fail_msg("prefix_parse accepted '%s'", bad[i]);
	}
}

static void
test_addr_parse(void **state)
{
	struct prefix p;
	char s[PREFIX_STRLEN];

	assert_int_equal(addr_parse(&p, "192.0.2.7"), 0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 32);
	prefix_fmt(&p, s, sizeof(s), 0);
	assert_string_equal(s, "192.0.2.7");
	assert_int_equal(addr_parse(&p, "2001:db8::7"), 0);
	assert_int_equal(p.family, 6);
	prefix_fmt(&p, s, sizeof(s), 0);
	assert_string_equal(s, "2001:db8::7");
	assert_int_equal(addr_parse(&p, "192.0.2.7/32"), -1);
	assert_int_equal(addr_parse(&p, "2001:db8::7/128"), -1);
	assert_int_equal(addr_parse(&p, "192.0.2"), -1);
	assert_int_equal(addr_parse(&p, ""), -1);
}

static void
test_prefix_parse_failure_keeps_output(void **state)
{
	struct prefix p;

	assert_int_equal(prefix_parse(&p, "10.0.0.1/8"), 0);
	assert_int_equal(prefix_parse(&p, "10.0.0.1/33"), -1);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 8);
}

static void
test_prefix_fmt(void **state)
{
	struct prefix p;
	char s[PREFIX_STRLEN], tiny[4];

	assert_int_equal(prefix_parse(&p, "10.1.2.3/24"), 0);
	prefix_fmt(&p, s, sizeof(s), 0); /* not full: keeps /24 */
	assert_string_equal(s, "10.1.2.3/24");
	assert_int_equal(prefix_parse(&p,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 0);
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	prefix_fmt(&p, tiny, sizeof(tiny), 1); /* truncated, terminated */
	assert_int_equal(strlen(tiny), 3);
	memset(&p, 0, sizeof(p));
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "unset");
}

static void
test_prefix_mask(void **state)
{
	struct prefix p;
	char s[PREFIX_STRLEN];

	assert_int_equal(prefix_parse(&p, "10.1.2.3/20"), 0);
	prefix_mask(&p);
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "10.1.0.0/20");
	assert_int_equal(prefix_parse(&p, "10.1.255.3/23"), 0);
	prefix_mask(&p);
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "10.1.254.0/23");
	assert_int_equal(prefix_parse(&p, "fd12:3456:789a:1:2:3:4:5/49"), 0);
	prefix_mask(&p);
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "fd12:3456:789a::/49");
	assert_int_equal(prefix_parse(&p, "1.2.3.4/0"), 0);
	prefix_mask(&p);
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "0.0.0.0/0");
	assert_int_equal(prefix_parse(&p, "1.2.3.4/32"), 0);
	prefix_mask(&p);
	prefix_fmt(&p, s, sizeof(s), 1);
	assert_string_equal(s, "1.2.3.4/32");
}

static void
test_prefix_contains(void **state)
{
	struct prefix p, a;

	assert_int_equal(prefix_parse(&p, "10.1.0.0/16"), 0);
	assert_int_equal(addr_parse(&a, "10.1.200.3"), 0);
	assert_true(prefix_contains(&p, 4, a.addr));
	assert_int_equal(addr_parse(&a, "10.2.0.1"), 0);
	assert_false(prefix_contains(&p, 4, a.addr));
	/* Same bytes, other family: never contained. */
	assert_int_equal(addr_parse(&a, "a01::"), 0);
	assert_false(prefix_contains(&p, 6, a.addr));

	assert_int_equal(prefix_parse(&p, "10.1.2.128/25"), 0);
	assert_int_equal(addr_parse(&a, "10.1.2.200"), 0);
	assert_true(prefix_contains(&p, 4, a.addr));
	assert_int_equal(addr_parse(&a, "10.1.2.127"), 0);
	assert_false(prefix_contains(&p, 4, a.addr));

	assert_int_equal(prefix_parse(&p, "fd00:1::/33"), 0);
	assert_int_equal(addr_parse(&a, "fd00:1:7fff::1"), 0);
	assert_true(prefix_contains(&p, 6, a.addr));
	assert_int_equal(addr_parse(&a, "fd00:1:8000::1"), 0);
	assert_false(prefix_contains(&p, 6, a.addr));

	assert_int_equal(prefix_parse(&p, "0.0.0.0/0"), 0);
	assert_int_equal(addr_parse(&a, "203.0.113.9"), 0);
	assert_true(prefix_contains(&p, 4, a.addr));

	memset(&p, 0, sizeof(p)); /* unset contains nothing */
	assert_false(prefix_contains(&p, 4, a.addr));
}

static void
test_prefix_covers_equal(void **state)
{
	struct prefix p, q;

	assert_int_equal(prefix_parse(&p, "10.1.0.0/16"), 0);
	assert_int_equal(prefix_parse(&q, "10.1.5.0/24"), 0);
	assert_true(prefix_covers(&p, &q));
	assert_false(prefix_covers(&q, &p));
	assert_true(prefix_covers(&p, &p));
	assert_int_equal(prefix_parse(&q, "10.2.5.0/24"), 0);
	assert_false(prefix_covers(&p, &q));
	assert_int_equal(prefix_parse(&q, "fd00::/64"), 0);
	assert_false(prefix_covers(&p, &q));

	assert_int_equal(prefix_parse(&q, "10.1.0.0/16"), 0);
	assert_true(prefix_equal(&p, &q));
	assert_int_equal(prefix_parse(&q, "10.1.0.0/17"), 0);
	assert_false(prefix_equal(&p, &q));
	assert_int_equal(prefix_parse(&q, "10.1.0.1/16"), 0);
	assert_false(prefix_equal(&p, &q));
}

static void
test_endpoint_good(void **state)
{
	static const struct {
		const char *in;
		const char *host;
		uint16_t port;
	} t[] = {
		{"192.0.2.1:6550", "192.0.2.1", 6550},
		{"[2001:db8::1]:443", "2001:db8::1", 443},
		{"[::1]:1", "::1", 1},
		{"host.example:65535", "host.example", 65535},
		{"localhost:80", "localhost", 80},
		{"a-b.c-d.example:9", "a-b.c-d.example", 9},
		{"xn--bcher-kva.example:22", "xn--bcher-kva.example", 22},
		{"7hostname:1", "7hostname", 1},
	};
	char host[256];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (endpoint_parse(t[i].in, host, sizeof(host), &port) != 0)
			fail_msg("endpoint_parse refused '%s'", t[i].in);
		assert_string_equal(host, t[i].host);
		assert_int_equal(port, t[i].port);
	}
	/* Validation only. */
	assert_int_equal(endpoint_parse("192.0.2.1:1", NULL, 0, NULL), 0);
}

static void
test_endpoint_bad(void **state)
{
	static const char *const bad[] = {
		"", ":", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0",
		"192.0.2.1:65536", "192.0.2.1:99999999999", "192.0.2.1:-1",
		"192.0.2.1:+80", "192.0.2.1:080", "192.0.2.1:80x",
		"192.0.2.1: 80", "10.1.2:80", "1.2.3.4.5:80", "300.1.1.1:80",
		"2001:db8::1:80", "[2001:db8::1]", "[2001:db8::1]80",
		"[192.0.2.1]:80", "[fd00::g]:80", "[2001:db8::1:80",
		":80", "-host:80", "host-:80", "ho_st:80", "a..b:80",
		".host:80", "host .example:80", "host/x:80",
	};
	char host[256];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (endpoint_parse(bad[i], host, sizeof(host), &port) != -1)
			fail_msg("endpoint_parse accepted '%s'", bad[i]);
	}
}

static void
test_endpoint_host_cap(void **state)
{
	char host[10];
	uint16_t port;

	assert_int_equal(endpoint_parse("123456789:1", host, sizeof(host),
	    &port), -1); /* all digits: not a name, not an address */
	assert_int_equal(endpoint_parse("abcdefghi:1", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "abcdefghi");
	assert_int_equal(endpoint_parse("abcdefghij:1", host, sizeof(host),
	    &port), -1);
}

static void
test_endpoint_long_label(void **state)
{
	char in[128], host[128];
	uint16_t port;

	memset(in, 'a', 63);
	strcpy(in + 63, ".example:1");
	assert_int_equal(endpoint_parse(in, host, sizeof(host), &port), 0);
	memset(in, 'a', 64);
	strcpy(in + 64, ".example:1");
	assert_int_equal(endpoint_parse(in, host, sizeof(host), &port), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse_good),
		cmocka_unit_test(test_prefix_parse_bad),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_prefix_parse_failure_keeps_output),
		cmocka_unit_test(test_prefix_fmt),
		cmocka_unit_test(test_prefix_mask),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_prefix_covers_equal),
		cmocka_unit_test(test_endpoint_good),
		cmocka_unit_test(test_endpoint_bad),
		cmocka_unit_test(test_endpoint_host_cap),
		cmocka_unit_test(test_endpoint_long_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
