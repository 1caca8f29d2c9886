/*
 * torctl_probe: keyd/torctl_io.c and proto/socks5.c against a running
 * private Tor network (tests/tornet/tornet.sh). Not a unit test: without
 * a network it refuses to run (exit 2) instead of passing, so it is not
 * named test_*.c and the Makefile does not build it. Build by hand:
 *
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. \
 *       -o build/tests/torctl_probe tests/tornet/torctl_probe.c \
 *       build/libkeyd.a build/libproto.a \
 *       -lsodium -ljansson -lev -lnng -lseccomp -lpthread
 *
 *   OM_TORNET_DIR=DIR build/tests/torctl_probe      (tornet.sh start DIR 2)
 *
 * What it checks, in order (each step bounded in time):
 *  1. tor not reachable yet: torctl_io reports why and keeps retrying;
 *  2. once it is: SAFECOOKIE authentication, ADD_ONION, and tor's
 *     ServiceID equal to the address we compute from the seed;
 *  3. bootstrap reaches 100 % and tor reports the descriptor uploaded;
 *  4. a stream through another client's SocksPort (proto/socks5.c, with
 *     a per-stream username) reaches our unix-socket target and back;
 *  5. tor goes away (the relay between us and tor drops the connection):
 *     torctl_io notices, reconnects and publishes again;
 *  6. torctl_io_stop() sends DEL_ONION and returns within 1.5 s.
 *
 * The control connection goes through a small relay thread so the probe
 * can cut it (step 5) and see the DEL_ONION on the wire (step 6).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <sodium.h>

#include "keyd/torctl_io.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/socks5.h"

#define VIRT_PORT 80

static char tmpdir[64];
static char relay_path[128], target_path[128], tor_control[256];
static char socks_path[256];
static int failures;

#define CHECK(cond, ...) do {                                          \
	if (!(cond)) {                                                 \
		fprintf(stderr, "torctl_probe: FAIL %s:%d: ", __FILE__,\
		    __LINE__);                                         \
		fprintf(stderr, __VA_ARGS__);                          \
		fputc('\n', stderr);                                   \
		failures++;                                            \
	}                                                              \
} while (0)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
unix_listen(const char *path)
{
	struct sockaddr_un su;
	int fd;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&su, sizeof(su)) == -1 ||
	    listen(fd, 8) == -1) {
		perror(path);
		exit(1);
	}
	chmod(path, 0666);
	return fd;
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un su;
	int fd;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&su, sizeof(su)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The relay: torctl_io <-> relay_path <-> tor's control socket. */
static atomic_int relay_listen_on, relay_cut, relay_quit;
static pthread_mutex_t sniff_mu = PTHREAD_MUTEX_INITIALIZER;
static char sniff[65536]; /* what the client sent, last 64 KiB */
static size_t sniff_len;

static void
sniff_add(const char *b, size_t n)
{
	pthread_mutex_lock(&sniff_mu);
	if (n >= sizeof(sniff) - 1) {
		b += n - (sizeof(sniff) - 1);
		n = sizeof(sniff) - 1;
	}
	if (sniff_len + n >= sizeof(sniff)) {
		size_t drop = sniff_len + n - (sizeof(sniff) - 1);

		memmove(sniff, sniff + drop, sniff_len - drop);
		sniff_len -= drop;
	}
	memcpy(sniff + sniff_len, b, n);
	sniff_len += n;
	sniff[sniff_len] = '\0';
	pthread_mutex_unlock(&sniff_mu);
}

static int
sniffed(const char *what)
{
	int found;

	pthread_mutex_lock(&sniff_mu);
	found = strstr(sniff, what) != NULL;
	pthread_mutex_unlock(&sniff_mu);
	return found;
}

static void *
relay_main(void *arg)
{
	int lfd = -1, cfd = -1, tfd = -1, nfd;
	struct pollfd p[3];
	char buf[4096];
	ssize_t n;

	(void)arg;
	while (!atomic_load(&relay_quit)) {
		if (lfd == -1 && atomic_load(&relay_listen_on))
			lfd = unix_listen(relay_path);
		if (atomic_exchange(&relay_cut, 0) && cfd != -1) {
			close(cfd);
			close(tfd);
			cfd = tfd = -1;
		}
		p[0].fd = lfd;
		p[0].events = POLLIN;
		p[1].fd = cfd;
		p[1].events = POLLIN;
		p[2].fd = tfd;
		p[2].events = POLLIN;
		if (poll(p, 3, 50) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			nfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (nfd != -1) {
				if (cfd != -1) {
					close(cfd);
					close(tfd);
				}
				cfd = nfd;
				tfd = unix_connect(tor_control);
				if (tfd == -1) {
					close(cfd);
					cfd = -1;
				}
			}
		}
		if (cfd != -1 && (p[1].revents & (POLLIN | POLLHUP))) {
			n = read(cfd, buf, sizeof(buf));
			if (n <= 0 || write(tfd, buf, (size_t)n) != n) {
				close(cfd);
				close(tfd);
				cfd = tfd = -1;
				continue;
			}
			sniff_add(buf, (size_t)n);
		}
		if (cfd != -1 && (p[2].revents & (POLLIN | POLLHUP))) {
			n = read(tfd, buf, sizeof(buf));
			if (n <= 0 || write(cfd, buf, (size_t)n) != n) {
				close(cfd);
				close(tfd);
				cfd = tfd = -1;
			}
		}
	}
	if (cfd != -1) {
		close(cfd);
		close(tfd);
	}
	if (lfd != -1)
		close(lfd);
	return NULL;
}

/* The onion service's target: answers "ping\n" with "pong\n". */
static atomic_int echo_quit, echo_served;

static void *
echo_main(void *arg)
{
	int lfd = *(int *)arg, fd;
	struct pollfd p;
	char buf[16];
	size_t got;
	ssize_t n;

	while (!atomic_load(&echo_quit)) {
		p.fd = lfd;
		p.events = POLLIN;
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1)
			continue;
		for (got = 0; got < 5;) {
			p.fd = fd;
			p.events = POLLIN;
			if (poll(&p, 1, 5000) <= 0)
				break;
			n = read(fd, buf + got, 5 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got == 5 && memcmp(buf, "ping\n", 5) == 0 &&
		    write(fd, "pong\n", 5) == 5)
			atomic_fetch_add(&echo_served, 1);
		close(fd);
	}
	return NULL;
}

/* The loop side. */
static struct torctl_io *tio;
static int changes;
static char seen_errors[4096];

static void
on_change(void *arg)
{
	struct torctl_io_status st;

	(void)arg;
	changes++;
	torctl_io_get_status(tio, &st);
	if (st.last_error[0] != '\0' && strstr(seen_errors,
	    st.last_error) == NULL && strlen(seen_errors) +
	    strlen(st.last_error) + 2 < sizeof(seen_errors)) {
		strcat(seen_errors, st.last_error);
		strcat(seen_errors, "\n");
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static struct torctl_io_status cur;

static int
run_until(struct ev_loop *loop, int (*cond)(void), double timeout,
    const char *what)
{
	double end = now_s() + timeout;

	for (;;) {
		if (tio != NULL)
			torctl_io_get_status(tio, &cur);
		if (cond())
			return 0;
		if (now_s() > end) {
			fprintf(stderr, "torctl_probe: FAIL: %s not within "
			    "%.0f s (last error: %s)\n", what, timeout,
			    cur.last_error[0] ? cur.last_error : "none");
			failures++;
			return -1;
		}
		ev_run(loop, EVRUN_ONCE);
	}
}

static int
c_error_seen(void)
{
	return cur.last_error[0] != '\0';
}

static int
c_published(void)
{
	return cur.published;
}

static int
c_ready(void)
{
	return cur.progress == 100 && cur.desc_uploads > 0;
}

static int
c_republished(void)
{
	return cur.published && cur.connects >= 2;
}

static int
c_disconnected(void)
{
	return !cur.connected;
}

/* One stream through the SocksPort to addr:80 and one ping. 0 ok, -1
 * with why. Blocking, with poll() timeouts. */
static int
socks_ping(const char *addr, int attempt, char *why, size_t whylen)
{
	struct socks5_client c;
	char user[32];
	uint8_t buf[512];
	struct pollfd p;
	size_t used, got = 0;
	ssize_t n;
	int fd, rc = SOCKS5_MORE;

	snprintf(user, sizeof(user), "probe-%d", attempt);
	if (socks5_client_init(&c, addr, VIRT_PORT, user, "x") != 0) {
		snprintf(why, whylen, "%s", c.err);
		return -1;
	}
	if ((fd = unix_connect(socks_path)) == -1) {
		snprintf(why, whylen, "connect %s: %s", socks_path,
		    strerror(errno));
		return -1;
	}
	while (rc == SOCKS5_MORE) {
		if (c.out_len > 0) {
			if (write(fd, c.out, c.out_len) != (ssize_t)c.out_len)
				break;
			c.out_len = 0;
		}
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 60000) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		rc = socks5_client_input(&c, buf, (size_t)n, &used);
		if (rc == SOCKS5_OK && used != (size_t)n) {
			snprintf(why, whylen, "peer data before ping");
			rc = SOCKS5_ERROR;
		}
	}
	if (rc != SOCKS5_OK) {
		if (why[0] == '\0')
			snprintf(why, whylen, "%s", rc == SOCKS5_ERROR ?
			    c.err : "SOCKS connection ended");
		close(fd);
		return -1;
	}
	if (write(fd, "ping\n", 5) != 5) {
		close(fd);
		return -1;
	}
	while (got < 5) {
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 30000) <= 0)
			break;
		n = read(fd, buf + got, 5 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != 5 || memcmp(buf, "pong\n", 5) != 0) {
		snprintf(why, whylen, "no pong through the onion service");
		return -1;
	}
	return 0;
}

static void
cleanup(void)
{
	char p[160];

	unlink(relay_path);
	unlink(target_path);
	snprintf(p, sizeof(p), "%s", tmpdir);
	if (tmpdir[0] != '\0')
		rmdir(p);
}

int
main(void)
{
	const char *net = getenv("OM_TORNET_DIR");
	struct ev_loop *loop = ev_default_loop(0);
	struct torctl_io_cfg cfg;
	struct onion_key k;
	uint8_t seed[ONION_SEED_BYTES];
	char blob[ONION_BLOB_LEN + 1], want[ONION_ADDR_LEN + 1];
	char target[160], control[160], why[512], del[128];
	pthread_t relay, echo;
	ev_timer tick;
	struct stat sb;
	double t0;
	int tfd, i, ok = 0;
	json_t *j;
	char *js;
	static char cookie[PATH_MAX];

	if (net == NULL || net[0] == '\0') {
		fprintf(stderr, "torctl_probe: OM_TORNET_DIR is not set: "
		    "start a private network (tests/tornet/tornet.sh start "
		    "DIR 2; tornet.sh wait DIR) and point it there\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	log_init("probe", getenv("OM_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    0);
	snprintf(tor_control, sizeof(tor_control), "%s/client0/run/control",
	    net);
	snprintf(socks_path, sizeof(socks_path), "%s/client1/run/socks",
	    net);
	if (stat(socks_path, &sb) != 0)
		snprintf(socks_path, sizeof(socks_path),
		    "%s/client0/run/socks", net);
	if (stat(tor_control, &sb) != 0) {
		fprintf(stderr, "torctl_probe: no tor control socket at %s\n",
		    tor_control);
		return 2;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/om-probe.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	chmod(tmpdir, 0755);
	atexit(cleanup);
	snprintf(relay_path, sizeof(relay_path), "%s/ctl", tmpdir);
	snprintf(target_path, sizeof(target_path), "%s/target", tmpdir);

	randombytes_buf(seed, sizeof(seed));
	if (onion_key_from_seed(&k, seed) != 0 ||
	    onion_key_blob(blob, sizeof(blob), &k) != 0)
		return 1;
	onion_addr_from_pk(want, k.pk);
	onion_key_wipe(&k);

	tfd = unix_listen(target_path);
	pthread_create(&echo, NULL, echo_main, &tfd);
	pthread_create(&relay, NULL, relay_main, NULL);
	ev_timer_init(&tick, tick_cb, 0.1, 0.1);
	ev_timer_start(loop, &tick);

	/* 0. Bad configuration is refused at start, naming the value. */
	snprintf(target, sizeof(target), "unix:%s", target_path);
	snprintf(control, sizeof(control), "unix:%s", relay_path);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = loop;
	cfg.control = control;
	cfg.key_blob = blob;
	cfg.virt_port = VIRT_PORT;
	/* The cookie comes from the config, never from PROTOCOLINFO: here
	 * tor's, next to its control socket as Debian's. */
	snprintf(cookie, sizeof(cookie), "%s/client0/run/control.authcookie",
	    net);
	cfg.cookie = cookie;
	cfg.target = "unix:relative";
	CHECK(torctl_io_start(&cfg) == NULL, "relative target accepted");
	cfg.target = target;
	cfg.control = "tor.example:9051";
	CHECK(torctl_io_start(&cfg) == NULL, "host name control accepted");
	cfg.control = control;
	cfg.key_blob = "ED25519-V3:AAAA";
	CHECK(torctl_io_start(&cfg) == NULL, "short key accepted");
	cfg.key_blob = blob;

	/* 1. Nothing listens yet. */
	cfg.on_change = on_change;
	tio = torctl_io_start(&cfg);
	sodium_memzero(blob, sizeof(blob));
	CHECK(tio != NULL, "torctl_io_start failed");
	if (tio == NULL)
		goto out;
	if (run_until(loop, c_error_seen, 5, "an error for a missing tor") ==
	    0)
		CHECK(strstr(cur.last_error, "cannot connect") != NULL,
		    "unexpected error: %s", cur.last_error);
	CHECK(!cur.connected && !cur.published, "connected to nothing?");
	CHECK(strcmp(cur.address, want) == 0, "address %s, want %s",
	    cur.address, want);
	atomic_store(&relay_listen_on, 1);

	/* 2. Published with our address. */
	if (run_until(loop, c_published, 40, "publishing") == 0) {
		CHECK(strcmp(cur.service_id, want) == 0,
		    "tor's ServiceID %s, ours %s", cur.service_id, want);
		CHECK(strcmp(cur.auth_method, "SAFECOOKIE") == 0,
		    "auth method %s, want SAFECOOKIE", cur.auth_method);
		CHECK(cur.connects == 1, "connects %u", cur.connects);
		CHECK(cur.last_error[0] == '\0', "error after publish: %s",
		    cur.last_error);
		CHECK(sniffed("AUTHCHALLENGE SAFECOOKIE "),
		    "no AUTHCHALLENGE on the wire");
		CHECK(sniffed("SETEVENTS STATUS_CLIENT HS_DESC\r\n"),
		    "no SETEVENTS on the wire");
		printf("torctl_probe: published %s (tor %s)\n",
		    cur.service_id, cur.tor_version);
	}

	/* 3. Bootstrapped, descriptor uploaded. */
	if (run_until(loop, c_ready, 180, "bootstrap 100% and a descriptor "
	    "upload") == 0)
		printf("torctl_probe: bootstrapped, %u descriptor uploads\n",
		    cur.desc_uploads);
	j = torctl_io_status_json(tio);
	js = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(js != NULL && strstr(js, "\"published\":true") != NULL &&
	    strstr(js, want) != NULL && strstr(js, "ED25519") == NULL,
	    "status json: %s", js ? js : "(null)");
	printf("torctl_probe: status %s\n", js ? js : "(null)");
	free(js);
	json_decref(j);

	/* 4. A stream reaches the service through SOCKS. Tor may need a
	 * few tries while descriptors spread in a fresh network. */
	t0 = now_s();
	for (i = 0; now_s() - t0 < 120; i++) {
		why[0] = '\0';
		if (socks_ping(want, i, why, sizeof(why)) == 0) {
			ok = 1;
			break;
		}
		fprintf(stderr, "torctl_probe: attempt %d: %s\n", i, why);
		/* Keep the control connection serviced between tries. */
		for (double w = now_s() + 2; now_s() < w;)
			ev_run(loop, EVRUN_ONCE);
	}
	CHECK(ok, "no stream through SOCKS to %s in 120 s", want);
	CHECK(!ok || atomic_load(&echo_served) >= 1, "target never pinged");
	if (ok)
		printf("torctl_probe: ping/pong through %s after %d "
		    "attempt(s)\n", socks_path, i + 1);

	/* 5. Tor goes away and comes back. */
	atomic_store(&relay_cut, 1);
	if (run_until(loop, c_disconnected, 10, "noticing tor left") == 0)
		CHECK(!cur.published, "still published without tor");
	if (run_until(loop, c_republished, 40, "publishing again") == 0) {
		CHECK(strcmp(cur.service_id, want) == 0, "new address %s",
		    cur.service_id);
		CHECK(strstr(seen_errors, "tor closed the control "
		    "connection") != NULL, "errors seen: %s", seen_errors);
		printf("torctl_probe: reconnected and published again\n");
	}

	/* 6. Orderly stop. */
	snprintf(del, sizeof(del), "DEL_ONION %.*s\r\n", ONION_ID_LEN, want);
	t0 = now_s();
	torctl_io_stop(tio);
	tio = NULL;
	CHECK(now_s() - t0 < 1.5, "stop took %.2f s", now_s() - t0);
	CHECK(sniffed(del), "no DEL_ONION on the wire");
	CHECK(changes > 0, "on_change never called");

out:
	atomic_store(&relay_quit, 1);
	atomic_store(&echo_quit, 1);
	pthread_join(relay, NULL);
	pthread_join(echo, NULL);
	close(tfd);
	ev_timer_stop(loop, &tick);
	if (failures) {
		fprintf(stderr, "torctl_probe: %d check(s) failed\n",
		    failures);
		return 1;
	}
	printf("torctl_probe: all checks passed\n");
	return 0;
}
