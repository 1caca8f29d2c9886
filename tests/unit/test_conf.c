/*
 * Unit tests for proto/conf.c. A full config goes through parse ->
 * format -> parse and must come back identical; then a table of bad
 * lines, each of which must be refused with a message that names the
 * file, the line and the offending value, so a user can find and fix
 * it. conf_load is run on a real file in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/conf.h"
#include "proto/log.h"

static const char good[] =
    "# alice's config\n"
    "\n"
    "name = alice\n"
    "Interface = om-test   # trailing comment\n"
    "ipv4 = 10.77.0.5/16\n"
    "ipv6\t=\tfd01:2:3::5/48\r\n"
    "mtu = 1500\n"
    "listen = 0.0.0.0:6550\n"
    "tcp = alice.example:6550\n"
    "connect = bob\n"
    "connect = carol\n"
    "noconnect = dave\n"
    "max_links = 3\n"
    "subnet = 192.168.5.0/24\n"
    "subnet = fd00:5::/64\n"
    "gateway = bob\n"
    "netns = ns-alice\n"
    "privsep = no\n"
    "sandbox = no\n"
    "anonymous = no\n"
    "tor_control = unix:/run/tor/control\n"
    "tor_socks = 127.0.0.1:9050\n"
    "tor_auth = cookie\n"
    "tor_cookie = /var/lib/tor/control_auth_cookie\n"
    "tor_group = debian-tor\n"
    "circuits = 8\n"
    "multipath = flow\n"
    "loglevel = debug\n"
    "root = 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n"
    "role = admin\n"
    "admitted_by = d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n"
    "admission = 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";

static void
new_conf(struct conf *c, const char *net)
{
	char err[256];

	memset(c, 0xa5, sizeof(*c)); /* defaults must set everything */
	assert_int_equal(conf_paths(&c->paths, net, "/tmp/x", err,
	    sizeof(err)), 0);
	conf_defaults(c);
}

static void
test_paths(void **state)
{
	struct conf_paths p;
	char err[256];

	assert_int_equal(conf_paths(&p, "corp", NULL, err, sizeof(err)), 0);
	assert_string_equal(p.net, "corp");
	assert_string_equal(p.conf_dir, "/etc/onionmesh/corp");
	assert_string_equal(p.conf_file, "/etc/onionmesh/corp/onionmesh.conf");
	assert_string_equal(p.keys_dir, "/var/lib/onionmesh/corp/keys");
	assert_string_equal(p.hosts_dir, "/var/lib/onionmesh/corp/hosts");
	assert_string_equal(p.run_dir, "/run/onionmesh/corp");
	assert_string_equal(p.revoked_dir, "/var/lib/onionmesh/corp/revoked");

	assert_int_equal(conf_paths(&p, "corp", "/tmp/m1//", err,
	    sizeof(err)), 0);
	assert_string_equal(p.conf_dir, "/tmp/m1");
	assert_string_equal(p.conf_file, "/tmp/m1/onionmesh.conf");
	assert_string_equal(p.keys_dir, "/tmp/m1/keys");
	assert_string_equal(p.hosts_dir, "/tmp/m1/hosts");
	assert_string_equal(p.run_dir, "/tmp/m1/run");
	assert_string_equal(p.revoked_dir, "/tmp/m1/revoked");

	assert_int_equal(conf_paths(&p, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(p.net, DEFAULT_NET);
}

static void
test_paths_bad(void **state)
{
	struct conf_paths p;
	char err[256], *dir;

	assert_int_equal(conf_paths(&p, "../etc", NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "'../etc'"));
	assert_int_equal(conf_paths(&p, "", NULL, err, sizeof(err)), -1);
	assert_int_equal(conf_paths(&p, "Corp", NULL, err, sizeof(err)), -1);
	assert_int_equal(conf_paths(&p, "corp", "", err, sizeof(err)), -1);
	dir = malloc(PATH_MAX);
	memset(dir, 'd', PATH_MAX - 5);
	dir[0] = '/';
	dir[PATH_MAX - 5] = '\0';
	assert_int_equal(conf_paths(&p, "corp", dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	free(dir);
}

static void
test_name_valid(void **state)
{
	assert_true(name_valid("a"));
	assert_true(name_valid("alice"));
	assert_true(name_valid("0day"));
	assert_true(name_valid("a_b-c9"));
	assert_true(name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_false(name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(name_valid(""));
	assert_false(name_valid(NULL));
	assert_false(name_valid("-a"));
	assert_false(name_valid("_a"));
	assert_false(name_valid("Alice"));
	assert_false(name_valid("a b"));
	assert_false(name_valid("a.b"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("é"));
}

static void
test_defaults(void **state)
{
	struct conf c;
	char err[256];

	new_conf(&c, "corp");
	assert_string_equal(c.paths.net, "corp");
	assert_string_equal(c.ifname, "om-corp");
	assert_int_equal(c.mtu, DEFAULT_MTU);
	assert_int_equal(c.circuits, 4);
	assert_int_equal(c.multipath, CONF_MP_STRIPE);
	assert_int_equal(c.max_links, 0);
	assert_int_equal(c.max_admitted, CONF_MAX_ADMITTED_DEFAULT);
	assert_int_equal(c.sandbox, 1);
	assert_int_equal(c.privsep, -1);
	assert_int_equal(c.anonymous, 0);
	assert_int_equal(c.loglevel, LOG_LVL_INFO);
	assert_int_equal(c.ipv4.family, 0);
	assert_int_equal(c.ipv6.family, 0);
	assert_int_equal(c.nconnect, 0);
	assert_int_equal(c.nsubnets, 0);
	assert_string_equal(c.name, "");
	assert_string_equal(c.listen, "");
	assert_string_equal(c.tor_socks, "");

	/* "om-" + a 32-byte name is cut to 15 characters */
	assert_int_equal(conf_paths(&c.paths,
	    "abcdefghijklmnopqrstuvwxyz012345", NULL, err, sizeof(err)), 0);
	conf_defaults(&c);
	assert_string_equal(c.ifname, "om-abcdefghijkl");
	assert_int_equal(strlen(c.ifname), 15);
}

static void
test_parse_good(void **state)
{
	struct conf c;
	char err[256] = "";
	char s[PREFIX_STRLEN];

	new_conf(&c, "corp");
	if (conf_parse(&c, "t.conf", good, strlen(good), err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.name, "alice");
	assert_string_equal(c.ifname, "om-test");
	prefix_fmt(&c.ipv4, s, sizeof(s), 1);
	assert_string_equal(s, "10.77.0.5/16");
	prefix_fmt(&c.ipv6, s, sizeof(s), 1);
	assert_string_equal(s, "fd01:2:3::5/48");
	assert_int_equal(c.mtu, 1500);
	assert_string_equal(c.listen, "0.0.0.0:6550");
	assert_string_equal(c.tcp, "alice.example:6550");
	assert_int_equal(c.nconnect, 2);
	assert_string_equal(c.connect[0], "bob");
	assert_string_equal(c.connect[1], "carol");
	assert_int_equal(c.nnoconnect, 1);
	assert_string_equal(c.noconnect[0], "dave");
	assert_int_equal(c.max_links, 3);
	assert_int_equal(c.nsubnets, 2);
	prefix_fmt(&c.subnets[1], s, sizeof(s), 1);
	assert_string_equal(s, "fd00:5::/64");
	assert_string_equal(c.gateway, "bob");
	assert_string_equal(c.netns, "ns-alice");
	assert_int_equal(c.privsep, 0);
	assert_int_equal(c.sandbox, 0);
	assert_int_equal(c.anonymous, 0);
	assert_string_equal(c.tor_control, "unix:/run/tor/control");
	assert_string_equal(c.tor_socks, "127.0.0.1:9050");
	assert_int_equal(c.tor_auth, CONF_TOR_AUTH_COOKIE);
	assert_string_equal(c.tor_cookie, "/var/lib/tor/control_auth_cookie");
	assert_string_equal(c.tor_group, "debian-tor");
	assert_int_equal(c.circuits, 8);
	assert_int_equal(c.multipath, CONF_MP_FLOW);
	assert_int_equal(c.loglevel, LOG_LVL_DEBUG);
	assert_int_equal(c.have_root, 1);
	assert_int_equal(c.root[0], 0x3b);
	assert_int_equal(c.role, 1);
	assert_int_equal(c.admitted, 1);
	assert_int_equal(c.admitted_by[31], 0x1a);
	assert_int_equal(c.admission[63], 0xef);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
}

static void
test_round_trip(void **state)
{
	struct conf a, b;
	char err[256] = "", text[8192], text2[8192];
	int n, n2;

	new_conf(&a, "corp");
	assert_int_equal(conf_parse(&a, "t.conf", good, strlen(good), err,
	    sizeof(err)), 0);
	n = conf_format(&a, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(text));

	new_conf(&b, "corp");
	if (conf_parse(&b, "formatted", text, (size_t)n, err,
	    sizeof(err)) != 0)
		fail_msg("%s\n%s", err, text);
	assert_memory_equal(&a, &b, sizeof(a));
	/* and the canonical text is a fixed point */
	n2 = conf_format(&b, text2, sizeof(text2));
	assert_int_equal(n, n2);
	assert_string_equal(text, text2);

	/* defaults (plus a name) round trip too */
	new_conf(&a, "corp");
	strcpy(a.name, "solo");
	n = conf_format(&a, text, sizeof(text));
	assert_true(n > 0);
	new_conf(&b, "corp");
	assert_int_equal(conf_parse(&b, "f", text, (size_t)n, err,
	    sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_null(strstr(text, "ipv4")); /* unset stays unset */
}

/* Loopback control ports are taken; the cookie path is the config's or
 * tor's known default for the control port, nothing else. */
static void
test_tor_control(void **state)
{
	static const char *const ok[] = {
		"127.0.0.1:9051", "127.1.2.3:9051", "[::1]:9051",
		"localhost:9051", "unix:/run/tor/control",
	};
	struct conf c;
	char err[256] = "", text[256], path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		new_conf(&c, "corp");
		snprintf(text, sizeof(text), "tor_control = %s\n", ok[i]);
		if (conf_parse(&c, "t", text, strlen(text), err,
		    sizeof(err)) != 0)
			fail_msg("%s: %s", ok[i], err);
		assert_string_equal(c.tor_control, ok[i]);
	}
	new_conf(&c, "corp");
	assert_int_equal(c.tor_auth, CONF_TOR_AUTH_SAFECOOKIE);
	strcpy(c.tor_control, "unix:/run/tor/control");
	assert_int_equal(conf_tor_cookie(&c, path, sizeof(path)), 0);
	assert_string_equal(path, "/run/tor/control.authcookie");
	strcpy(c.tor_control, "unix:/tmp/t/client0/run/control");
	assert_int_equal(conf_tor_cookie(&c, path, sizeof(path)), 0);
	assert_string_equal(path, "/tmp/t/client0/run/control.authcookie");
	strcpy(c.tor_control, "127.0.0.1:9051");
	assert_int_equal(conf_tor_cookie(&c, path, sizeof(path)), 0);
	assert_string_equal(path, TOR_COOKIE_DEFAULT);
	strcpy(c.tor_cookie, "/etc/tor/cookie");
	assert_int_equal(conf_tor_cookie(&c, path, sizeof(path)), 0);
	assert_string_equal(path, "/etc/tor/cookie");
	assert_int_equal(conf_tor_cookie(&c, path, 5), -1);
	assert_string_equal(conf_tor_auth_name(CONF_TOR_AUTH_NONE), "none");
}

/* Issue 15: client authorization follows anonymous mode unless set;
 * set, it is kept in the canonical text, unset it is not written. */
static void
test_client_auth(void **state)
{
	struct conf c, b;
	char err[256] = "", text[8192];
	int n;

	new_conf(&c, "corp");
	assert_int_equal(c.client_auth, -1);
	assert_int_equal(conf_client_auth(&c), 0);
	c.anonymous = 1;
	assert_int_equal(conf_client_auth(&c), 1);
	assert_int_equal(conf_parse(&c, "t", "client_auth = no\n", 16, err,
	    sizeof(err)), 0);
	c.anonymous = 1;
	assert_int_equal(conf_client_auth(&c), 0);
	strcpy(c.name, "solo");
	n = conf_format(&c, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "\nclient_auth = no\n"));
	new_conf(&b, "corp");
	assert_int_equal(conf_parse(&b, "f", text, (size_t)n, err,
	    sizeof(err)), 0);
	assert_int_equal(b.client_auth, 0);
	new_conf(&c, "corp");
	assert_int_equal(conf_parse(&c, "t", "client_auth = yes\n", 18, err,
	    sizeof(err)), 0);
	assert_int_equal(conf_client_auth(&c), 1);
	new_conf(&c, "corp");
	strcpy(c.name, "solo");
	n = conf_format(&c, text, sizeof(text));
	assert_null(strstr(text, "client_auth"));
	assert_int_equal(conf_parse(&c, "t", "client_auth = on\n", 17, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "client_auth = on"));
	assert_non_null(strstr(err, "yes or no"));
}

static void
test_format_small_buffer(void **state)
{
	struct conf c;
	char err[256], text[8192];
	int n, k;

	new_conf(&c, "corp");
	assert_int_equal(conf_parse(&c, "t", good, strlen(good), err,
	    sizeof(err)), 0);
	n = conf_format(&c, text, sizeof(text));
	assert_true(n > 0);
	for (k = 0; k <= n; k++)
		assert_int_equal(conf_format(&c, text, (size_t)k), -1);
	assert_int_equal(conf_format(&c, text, (size_t)n + 1), n);
}

/* Each line alone (after a valid name) must be refused, the message
 * naming the value. */
static const struct {
	const char *line;
	const char *want; /* in the error; the value unless noted */
} bad[] = {
	{"mtu = 70000", "mtu = 70000: out of range (want 1280..65535)"},
	{"mtu = 1279", "1279"},
	{"mtu = 1400x", "1400x"},
	{"mtu = -1400", "-1400"},
	{"mtu = 99999999999999999999", "99999999999999999999"},
	{"mtuu = 1400", "unknown key 'mtuu' (known: name, interface,"},
	{"name = Alice", "Alice"},
	{"name = a b", "a b"},
	{"interface = this-is-too-long0", "this-is-too-long0"},
	{"interface = a/b", "a/b"},
	{"ipv4 = 10.1.2", "10.1.2"},
	{"ipv4 = 10.1.2.3/33", "10.1.2.3/33"},
	{"ipv4 = 10.77.0.5", "10.77.0.5"},
	{"ipv4 = 10.77.0.0/16", "10.77.0.0/16"},
	{"ipv4 = fd00::1/64", "fd00::1/64"},
	{"ipv4 = 10.77.0.5/16 junk", "10.77.0.5/16 junk"},
	{"ipv6 = 10.77.0.5/16", "10.77.0.5/16"},
	{"ipv6 = fd00::1/129", "fd00::1/129"},
	{"listen = 0.0.0.0", "0.0.0.0"},
	{"listen = unix:relative", "unix:relative"},
	{"tcp = 1.2.3.4:0", "1.2.3.4:0"},
	{"tcp = unix:/x", "unix:/x"},
	{"tcp = fd00::1:80", "fd00::1:80"},
	{"connect = Bob", "Bob"},
	{"noconnect = -x", "-x"},
	{"max_links = -1", "max_links = -1: not a number (want 0..65535)"},
	{"max_links = 65536", "max_links = 65536: out of range"},
	{"max_admitted = 0", "max_admitted = 0: out of range (want "
	    "1..1000000)"},
	{"max_admitted = x", "max_admitted = x: not a number"},
	{"subnet = 192.168.5.1/24", "192.168.5.1/24: host bits set (did you"
	    " mean 192.168.5.0/24?)"},
	{"subnet = 192.168.5.0", "192.168.5.0"},
	{"subnet = 192.168.5.0/24/1", "192.168.5.0/24/1"},
	{"gateway = Bob", "gateway = Bob: not a valid member name"},
	{"netns = a/b", "a/b"},
	{"netns = ..", ".."},
	{"privsep = maybe", "maybe"},
	{"sandbox = 1", "sandbox = 1: want yes or no"},
	{"anonymous = yess", "yess"},
	{"tor_control = localhost", "localhost"},
	{"tor_socks = unix:", "unix:"},
	/* A TCP control port must be loopback: keyd sends the onion key. */
	{"tor_control = 192.0.2.1:9051", "192.0.2.1:9051: not on this host"},
	{"tor_control = 10.0.0.1:9051", "must be loopback"},
	{"tor_control = [2001:db8::1]:9051", "not on this host"},
	{"tor_control = [::ffff:127.0.0.1]:9051", "not on this host"},
	{"tor_control = tor.example:9051", "tor.example:9051: not on this"},
	{"tor_control = 0.0.0.0:9051", "not on this host"},
	{"tor_auth = password", "tor_auth = password: want safecookie (the"
	    " default), cookie or none"},
	{"tor_auth = safe", "safe"},
	{"tor_cookie = run/tor/control.authcookie", "not an absolute path"},
	{"tor_group = root", "tor_group = root: not a group keyd may get"},
	{"tor_group = -x", "not a group"},
	{"tor_group = a/b", "not a group"},
	{"circuits = 0", "circuits = 0: out of range (want 1..8)"},
	{"circuits = 9", "circuits = 9: out of range (want 1..8)"},
	{"circuits = 17", "17"},
	{"multipath = packet", "multipath = packet: want stripe (the "
	    "default) or flow"},
	{"loglevel = verbose", "verbose"},
	{"root = 3b6a", "root = 3b6a: not a member id"},
	{"root = xyz", "want 64 hex digits"},
	{"role = boss", "role = boss: want member or admin"},
	{"admitted_by = 00", "admitted_by = 00: not a member id"},
	{"admission = 12", "admission = 12: not an admission signature"},
	{"name alice", "'name alice'"},
	{"= alice", "unknown key ''"},
	{"mtu =", "mtu = : empty value"},
	{"name = bob", "name given twice (first on line 1)"},
};

static void
test_bad_lines(void **state)
{
	struct conf c;
	char text[512], err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		new_conf(&c, "corp");
		snprintf(text, sizeof(text), "name = alice\n%s\n",
		    bad[i].line);
		err[0] = '\0';
		if (conf_parse(&c, "onionmesh.conf", text, strlen(text), err,
		    sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i].line);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", bad[i].line,
			    err, bad[i].want);
		/* every message names the file and line */
		if (strncmp(err, "onionmesh.conf:2: ", 18) != 0)
			fail_msg("'%s': error '%s' lacks file:line",
			    bad[i].line, err);
	}
	/* the exact form of the example */
	new_conf(&c, "corp");
	snprintf(text, sizeof(text), "\n\n\n\n\n# x\nmtu = 70000\n");
	assert_int_equal(conf_parse(&c, "onionmesh.conf", text, strlen(text),
	    err, sizeof(err)), -1);
	assert_string_equal(err, "onionmesh.conf:7: mtu = 70000: out of range"
	    " (want 1280..65535)");
}

static void
test_bad_bytes(void **state)
{
	struct conf c;
	char err[256], text[2048];
	static const char nul[] = "name = al\0ice\n";

	new_conf(&c, "corp");
	assert_int_equal(conf_parse(&c, "f", nul, sizeof(nul) - 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	memset(text, 'x', sizeof(text));
	memcpy(text, "name = ", 7);
	assert_int_equal(conf_parse(&c, "f", text, sizeof(text), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	/* only len bytes are read: no terminator needed */
	new_conf(&c, "corp");
	assert_int_equal(conf_parse(&c, "f", "name = bobXXX", 10, err,
	    sizeof(err)), 0);
	assert_string_equal(c.name, "bob");
}

static void
test_repeat_limits(void **state)
{
	struct conf c;
	char err[256], *text = malloc(8192), *p;
	int i;

	new_conf(&c, "corp");
	p = text;
	for (i = 0; i <= CONF_MAX_SUBNETS; i++)
		p += sprintf(p, "subnet = 10.%d.0.0/16\n", i);
	assert_int_equal(conf_parse(&c, "f", text, strlen(text), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too many subnet lines"));
	assert_non_null(strstr(err, "10.16.0.0/16"));

	new_conf(&c, "corp");
	p = text;
	for (i = 0; i <= CONF_MAX_PEERS; i++)
		p += sprintf(p, "connect = m%d\n", i);
	assert_int_equal(conf_parse(&c, "f", text, strlen(text), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "m64"));

	new_conf(&c, "corp");
	strcpy(text, "connect = bob\nconnect = bob\n");
	assert_int_equal(conf_parse(&c, "f", text, strlen(text), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "f:2: connect = bob: listed twice"));
	free(text);
}

static void
test_check(void **state)
{
	struct conf c;
	char err[512];

	new_conf(&c, "corp");
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name"));

	strcpy(c.name, "alice");
	/* The root is required. */
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "root"));
	memset(c.root, 7, sizeof(c.root));
	c.have_root = 1;
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	/* admitted_by and admission come together */
	c.admitted = 1;
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "admission without admitted_by"));
	c.admitted = 0;
	c.admitted_by[0] = 1;
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "admitted_by without admission"));
	c.admitted_by[0] = 0;
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	c.anonymous = 1;
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	strcpy(c.tcp, "198.51.100.7:6550");
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tcp = 198.51.100.7:6550"));
	c.tcp[0] = '\0';
	strcpy(c.listen, "0.0.0.0:6550");
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "listen = 0.0.0.0:6550"));
	strcpy(c.listen, "unix:/run/onionmesh/corp/onion.sock");
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	c.anonymous = 0;
	strcpy(c.listen, "0.0.0.0:6550");
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);

	strcpy(c.connect[0], "bob");
	c.nconnect = 1;
	strcpy(c.noconnect[0], "bob");
	c.nnoconnect = 1;
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bob"));
	c.nnoconnect = 0;

	/* A member is not its own gateway. */
	strcpy(c.gateway, "alice");
	assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "gateway = alice"));
	strcpy(c.gateway, "bob");
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
}

static char tmpdir[] = "/tmp/test_conf.XXXXXX";

#define ROOT_LINE "root = 07070707070707070707070707070707" \
	"07070707070707070707070707070707\n"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_load(void **state)
{
	struct conf c;
	char err[512];

	assert_non_null(mkdtemp(tmpdir));
	memset(&c, 0, sizeof(c));
	assert_int_equal(conf_paths(&c.paths, "corp", tmpdir, err,
	    sizeof(err)), 0);

	/* missing file: says which and what to do */
	assert_int_equal(conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, c.paths.conf_file));
	assert_non_null(strstr(err, "init"));

	write_file(c.paths.conf_file, good);
	if (conf_load(&c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.name, "alice");
	assert_int_equal(c.circuits, 8);

	/* a bad line: error names the file path and the line */
	write_file(c.paths.conf_file, "name = alice\n\ncircuits = 99\n");
	assert_int_equal(conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, c.paths.conf_file));
	assert_non_null(strstr(err, ":3: circuits = 99"));

	/* cross checks run */
	write_file(c.paths.conf_file, "anonymous = yes\nname = alice\n"
	    "tcp = alice.example:6550\n" ROOT_LINE);
	assert_int_equal(conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tcp = alice.example:6550"));
	write_file(c.paths.conf_file, "mtu = 1300\n");
	assert_int_equal(conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name"));

	/* defaults are re-applied on every load */
	write_file(c.paths.conf_file, "name = bob\n");
	assert_int_equal(conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "root"));
	write_file(c.paths.conf_file, "name = bob\n" ROOT_LINE);
	assert_int_equal(conf_load(&c, err, sizeof(err)), 0);
	assert_int_equal(c.circuits, 4);
	assert_string_equal(c.ifname, "om-corp");

	unlink(c.paths.conf_file);
	rmdir(tmpdir);
}


/* The names the config and the command both check (netns =, --netns;
 * tor_group = and the group keyd's unit gets). */
static void
test_portable_names(void **state)
{
	char long64[65];

	(void)state;
	memset(long64, 'a', 64);
	long64[64] = '\0';
	assert_true(netns_name_valid("ns-1.a_B"));
	assert_false(netns_name_valid(""));
	assert_false(netns_name_valid("."));
	assert_false(netns_name_valid(".."));
	assert_false(netns_name_valid("a/b"));
	assert_false(netns_name_valid("a b"));
	assert_false(netns_name_valid(long64));
	long64[63] = '\0';
	assert_true(netns_name_valid(long64));
	assert_true(group_name_valid("debian-tor"));
	assert_false(group_name_valid("root"));
	assert_false(group_name_valid("-x"));
	assert_false(group_name_valid("a:b"));
	long64[33] = '\0';
	assert_false(group_name_valid(long64));
	long64[32] = '\0';
	assert_true(group_name_valid(long64));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_paths_bad),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_client_auth),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_tor_control),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_repeat_limits),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_portable_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
