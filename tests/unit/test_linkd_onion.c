/*
 * linkd in onion mode, the parts that need no tor:
 *  - dial policy: TCP mode unchanged (one link, tcp endpoint needed,
 *    never in anonymous mode); onion mode dials conf.circuits links, only
 *    from the lower id and only to a member with an onion address, so
 *    of two members exactly one dials;
 *  - the handshake timestamp window: handshakes of several circuits
 *    arrive in any order and are all taken, every replay is refused
 *    (remembered, older than the forgotten ones, or too old);
 *  - anonymous mode refuses to start without tor and with a SOCKS port
 *    off this host, naming the key;
 *  - SOCKS credentials are fresh, hex and 32 characters; SOCKS errors
 *    come out in tor's words;
 *  - the Unix listener: mode 0666, a stale socket replaced, anything
 *    else at the path left alone; socks_proxy_connect reaches it and
 *    explains a missing socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "linkd/linkd.h"
#include "proto/conf.h"
#include "proto/record.h"
#include "proto/socks5.h"

#define ONION "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"

static void
test_dial_count(void **state)
{
	static struct conf c;
	static struct record r;
	uint8_t low[32], high[32];

	conf_defaults(&c);
	memset(&r, 0, sizeof(r));
	memset(low, 1, sizeof(low));
	memset(high, 2, sizeof(high));
	high[31] = 0;       /* still above low: the first byte decides */
	strcpy(r.name, "bob");

	/* TCP mode: as before. */
	assert_int_equal(linkd_onion_mode(&c), 0);
	memcpy(r.id, high, 32);
	strcpy(r.onion, ONION);
	assert_int_equal(peers_dial_count(&c, low, &r), 0); /* no tcp */
	strcpy(r.tcp[0], "192.0.2.1:6550");
	r.ntcp = 1;
	assert_int_equal(peers_dial_count(&c, low, &r), 1);
	memcpy(r.id, low, 32);
	assert_int_equal(peers_dial_count(&c, high, &r), 1); /* both dial */
	assert_int_equal(peers_dial_count(&c, low, &r), 0);  /* not self */
	/* Anonymous without tor: never TCP (linkd refuses to start, too). */
	c.anonymous = 1;
	assert_int_equal(peers_dial_count(&c, high, &r), 0);
	c.anonymous = 0;

	/* Onion mode: circuits links, lower id only. */
	strcpy(c.tor_control, "unix:/run/tor/control");
	strcpy(c.tor_socks, "unix:/run/tor/socks");
	assert_int_equal(linkd_onion_mode(&c), 1);
	assert_int_equal(c.circuits, 4);
	memcpy(r.id, high, 32);
	assert_int_equal(peers_dial_count(&c, low, &r), 4);
	assert_int_equal(peers_dial_wanted(&c, low, &r), 1);
	memcpy(r.id, low, 32);
	assert_int_equal(peers_dial_count(&c, high, &r), 0);
	assert_int_equal(peers_dial_wanted(&c, high, &r), 0);
	/* No onion address: nothing, whatever tcp endpoints it has. */
	memcpy(r.id, high, 32);
	r.onion[0] = '\0';
	assert_int_equal(peers_dial_count(&c, low, &r), 0);
	strcpy(r.onion, ONION);
	c.circuits = 1;
	assert_int_equal(peers_dial_count(&c, low, &r), 1);
	c.circuits = CONF_CIRCUITS_MAX;
	assert_int_equal(peers_dial_count(&c, low, &r), 8);
	/* noconnect / connect apply too. */
	strcpy(c.noconnect[0], "bob");
	c.nnoconnect = 1;
	assert_int_equal(peers_dial_count(&c, low, &r), 0);
	c.nnoconnect = 0;
	strcpy(c.connect[0], "carol");
	c.nconnect = 1;
	assert_int_equal(peers_dial_count(&c, low, &r), 0);
	/* Only one of the two settings: TCP mode. */
	c.nconnect = 0;
	c.tor_control[0] = '\0';
	assert_int_equal(linkd_onion_mode(&c), 0);
	assert_int_equal(peers_dial_count(&c, low, &r), 1);
}

/* TAI64N of (sec, nsec). */
static void
ts_make(uint8_t ts[WIRE_HS_PAYLOAD], uint64_t sec, uint32_t nsec)
{
	int i;

	sec += 0x400000000000000aULL + 1700000000ULL;
	for (i = 7; i >= 0; i--, sec >>= 8)
		ts[i] = (uint8_t)sec;
	for (i = 11; i >= 8; i--, nsec >>= 8)
		ts[i] = (uint8_t)nsec;
}

static void
test_ts_window(void **state)
{
	static struct ts_window w;
	uint8_t ts[WIRE_HS_PAYLOAD];
	int i;

	memset(&w, 0, sizeof(w));
	/* Four circuits' handshakes, made in order 0..3, arrive 2 0 3 1:
	 * all fresh. */
	ts_make(ts, 100, 2);
	assert_int_equal(ts_window_check(&w, ts), 0);
	ts_make(ts, 100, 0);
	assert_int_equal(ts_window_check(&w, ts), 0);
	ts_make(ts, 100, 3);
	assert_int_equal(ts_window_check(&w, ts), 0);
	ts_make(ts, 100, 1);
	assert_int_equal(ts_window_check(&w, ts), 0);
	/* Any of them again: a replay. */
	for (i = 0; i < 4; i++) {
		ts_make(ts, 100, (uint32_t)i);
		assert_int_equal(ts_window_check(&w, ts), -1);
	}
	assert_int_equal(w.n, 4);
	/* Older than the newest by more than the slack: refused even if
	 * never seen (it could be from before a restart of ours). */
	ts_make(ts, 100 - TS_SLACK - 1, 0);
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 100 - TS_SLACK + 1, 0);
	assert_int_equal(ts_window_check(&w, ts), 0);

	/* Fill past the window: the oldest are forgotten, and then every
	 * timestamp not newer than them is refused. */
	for (i = 0; i < TS_WINDOW; i++) {
		ts_make(ts, 110, (uint32_t)(1000 + i));
		assert_int_equal(ts_window_check(&w, ts), 0);
	}
	assert_int_equal(w.n, TS_WINDOW);
	assert_int_equal(w.has_floor, 1);
	ts_make(ts, 100, 2);                    /* forgotten: replay */
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 110, 1000);                 /* remembered: replay */
	assert_int_equal(ts_window_check(&w, ts), -1);
	/* Never seen, between the floor and the remembered ones: taken,
	 * and (the window being full) becomes the floor itself, so
	 * anything older is refused from now on. */
	ts_make(ts, 110, 999);
	assert_int_equal(ts_window_check(&w, ts), 0);
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 110, 998);
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 110, 1010);                 /* remembered: replay */
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 110, 1063);
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 110, 5000);
	assert_int_equal(ts_window_check(&w, ts), 0);
	assert_int_equal(ts_window_check(&w, ts), -1);
	ts_make(ts, 110, 1000);                 /* forgotten just now */
	assert_int_equal(ts_window_check(&w, ts), -1);
	assert_int_equal(memcmp(w.floor, ts, WIRE_HS_PAYLOAD), 0);
	ts_make(ts, 110, 1001);                 /* still remembered */
	assert_int_equal(ts_window_check(&w, ts), -1);
	/* Ascending order kept. */
	for (i = 1; i < w.n; i++)
		assert_true(memcmp(w.ts[i - 1], w.ts[i], WIRE_HS_PAYLOAD) < 0);
}

static void
test_conf_check(void **state)
{
	static struct conf c;
	char err[512];

	conf_defaults(&c);
	strcpy(c.paths.conf_file, "/x/onionmesh.conf");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), 0);
	/* Anonymous without tor: refused, naming both keys. */
	c.anonymous = 1;
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tor_socks"));
	assert_non_null(strstr(err, "/x/onionmesh.conf"));
	strcpy(c.tor_socks, "unix:/run/tor/socks");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tor_control"));
	strcpy(c.tor_control, "unix:/run/tor/control");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), 0);
	/* A SOCKS port on loopback is fine, elsewhere or by name not. */
	strcpy(c.tor_socks, "127.0.0.1:9050");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), 0);
	strcpy(c.tor_socks, "[::1]:9050");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), 0);
	strcpy(c.tor_socks, "192.0.2.1:9050");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tor_socks = 192.0.2.1:9050"));
	strcpy(c.tor_socks, "tor.example:9050");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), -1);
	/* Not anonymous: a remote SOCKS port is the user's choice. */
	c.anonymous = 0;
	strcpy(c.tor_socks, "192.0.2.1:9050");
	assert_int_equal(linkd_conf_check(&c, err, sizeof(err)), 0);
}

static int
is_hex32(const char *s)
{
	size_t i;

	if (strlen(s) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return 1;
}

static void
test_socks_bits(void **state)
{
	static struct socks5_client sc;
	char u1[33], p1[33], u2[33], p2[33], out[LINK_ERR_LEN];
	uint8_t reply[10] = { 5, 0xf0, 0, 1, 0, 0, 0, 0, 0, 0 };
	uint8_t m[2] = { 5, 2 }, a[2] = { 1, 0 };
	size_t used;

	socks_credentials(u1, p1);
	socks_credentials(u2, p2);
	assert_true(is_hex32(u1) && is_hex32(p1));
	assert_true(is_hex32(u2) && is_hex32(p2));
	assert_string_not_equal(u1, u2);
	assert_string_not_equal(u1, p1);
	assert_string_not_equal(p1, p2);

	/* tor's "descriptor not found" in words, with its code. */
	assert_int_equal(socks5_client_init(&sc, ONION, DEFAULT_PORT, u1,
	    p1), 0);
	sc.out_len = 0;
	assert_int_equal(socks5_client_input(&sc, m, 2, &used), SOCKS5_MORE);
	sc.out_len = 0;
	assert_int_equal(socks5_client_input(&sc, a, 2, &used), SOCKS5_MORE);
	sc.out_len = 0;
	assert_int_equal(socks5_client_input(&sc, reply, sizeof(reply),
	    &used), SOCKS5_ERROR);
	socks_error(&sc, out, sizeof(out));
	assert_string_equal(out, "tor: onion service descriptor can not be "
	    "found (SOCKS5 reply 0xf0)");
	/* No reply code: the state machine's reason. */
	assert_int_equal(socks5_client_init(&sc, "", DEFAULT_PORT, u1, p1),
	    -1);
	socks_error(&sc, out, sizeof(out));
	assert_non_null(strstr(out, "tor SOCKS: SOCKS5 host name"));
}

static void
test_unix_listen(void **state)
{
	char dir[] = "/tmp/om-test-onion-XXXXXX", path[128], proxy[140];
	char err[256];
	struct stat st;
	int fd, cfd, fd2;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/linkd.onion", dir);
	snprintf(proxy, sizeof(proxy), "unix:%s", path);

	/* Nobody there yet: the error says tor's SocksPort and why. */
	assert_int_equal(socks_proxy_connect(proxy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tor's SocksPort: cannot connect"));
	assert_non_null(strstr(err, "No such file"));

	fd = unix_listen(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0666);
	cfd = socks_proxy_connect(proxy, err, sizeof(err));
	assert_true(cfd >= 0);
	close(cfd);
	close(fd);
	/* The socket file stays behind (a linkd that died): replaced. */
	fd2 = unix_listen(path, err, sizeof(err));
	assert_true(fd2 >= 0);
	close(fd2);
	unlink(path);
	/* Not a socket: left alone, and said so. */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(unix_listen(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	/* Bad proxy syntax (conf checks it too). */
	assert_int_equal(socks_proxy_connect("unix:relative", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "an absolute path"));
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dial_count),
		cmocka_unit_test(test_ts_window),
		cmocka_unit_test(test_conf_check),
		cmocka_unit_test(test_socks_bits),
		cmocka_unit_test(test_unix_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
