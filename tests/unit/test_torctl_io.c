/*
 * keyd/torctl_io.c against a scripted fake tor (a thread serving a unix
 * socket), for what a real tor in tests/tornet does not let us choose:
 * each authentication method, a wrong SAFECOOKIE server hash, a missing
 * cookie file, a password tor wants and we lack, ADD_ONION refused,
 * SETEVENTS refused (polling), garbage, and tor closing on us. The real
 * thing is tests/tornet/check_torctl.sh.
 *
 * The hardening rules: the one method the config names is used and no
 * other (a tor that offers only COOKIE or NULL is refused when
 * SAFECOOKIE is asked for, before any AUTHENTICATE), and the cookie is
 * read from the configured path, never from the COOKIEFILE tor names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <sodium.h>

#include "keyd/torctl_io.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/torctl.h"

struct fake {
	/* the scenario, fixed while the thread runs */
	const char *methods;
	int with_cookiefile;
	const char *said_cookiefile; /* COOKIEFILE it names (cookie_path) */
	unsigned client_auth;        /* what the client is configured to */
	const char *client_cookie;   /* its cookie path (cookie_path) */
	const char *client_target;   /* its ADD_ONION target */
	uint8_t cookie[32];   /* what this "tor" believes the cookie is */
	const char *password; /* HASHEDPASSWORD it accepts */
	int add_collision;
	int setevents_refuse;
	int garbage;
	int close_after_publish; /* the first time only */
	/* what happened */
	atomic_int conns;
	atomic_int auth_cmds;
	atomic_int auths_ok;
	atomic_int getinfos;
	atomic_int publishes;
	atomic_int del_onions;
	atomic_int auth_adds;    /* ONION_CLIENT_AUTH_ADD (issue 15) */
	atomic_int auth_removes;
	char last_auth_add[128]; /* its service id, never the key */
	char published[ONION_ADDR_LEN + 1]; /* the last ADD_ONION's */
	atomic_int circ_queries; /* GETINFO circuit-status */
	char closed[256];        /* CLOSECIRCUIT ids, space-separated */
	int svc_client_auth;     /* the client's cfg.client_auth */
	char last_auth[256];
	char last_add_args[512]; /* ADD_ONION minus the key */
	pthread_mutex_t mu;
	/* plumbing */
	char dir[64];
	char sock[128];
	char cookie_path[128];
	int lfd;
	atomic_int quit;
	pthread_t th;
};

static struct fake *F;

/* tor's own test vector (test_hs_common.c): a valid v3 address. */
#define ONION_TEST_ADDR \
	"25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copy, cut to fit. */
static void
cut(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(int fd, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	/* The client may have gone already: that is its right. */
	if (n > 0 && write(fd, b, (size_t)n) != n)
		return;
}

/* ONION_CLIENT_AUTH_ADD and _REMOVE, GETINFO circuit-status and
 * CLOSECIRCUIT (issue 15): 0 when l was one. The circuits: 7 and 9
 * are rendezvous circuits of the service last published, 8 of another
 * purpose, 10 of another service. */
static int
fake_client_auth(struct fake *f, int fd, const char *l)
{
	const char *sp;

	if (strcmp(l, "GETINFO circuit-status") == 0) {
		atomic_fetch_add(&f->circ_queries, 1);
		pthread_mutex_lock(&f->mu);
		say(fd, "250+circuit-status=\r\n"
		    "7 BUILT $AAAA~relay0,$BBBB~relay1 BUILD_FLAGS=IS_INTERNAL "
		    "PURPOSE=HS_SERVICE_REND HS_STATE=HSSR_JOINED "
		    "REND_QUERY=%.56s TIME_CREATED=2026-01-01T00:00:00.000000"
		    "\r\n8 BUILT $AAAA~relay0 PURPOSE=HS_SERVICE_INTRO "
		    "REND_QUERY=%.56s\r\n9 EXTENDED $AAAA~relay0 "
		    "PURPOSE=HS_SERVICE_REND REND_QUERY=%.56s\r\n"
		    "10 BUILT $AAAA~relay0 PURPOSE=HS_SERVICE_REND "
		    "REND_QUERY=%.56s\r\n.\r\n250 OK\r\n", f->published,
		    f->published, f->published, ONION_TEST_ADDR);
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	if (strncmp(l, "CLOSECIRCUIT ", 13) == 0) {
		pthread_mutex_lock(&f->mu);
		snprintf(f->closed + strlen(f->closed),
		    sizeof(f->closed) - strlen(f->closed), "%s ", l + 13);
		pthread_mutex_unlock(&f->mu);
		say(fd, "250 OK\r\n");
		return 0;
	}
	if (strncmp(l, "ONION_CLIENT_AUTH_REMOVE ", 25) == 0) {
		atomic_fetch_add(&f->auth_removes, 1);
		say(fd, "250 OK\r\n");
		return 0;
	}
	if (strncmp(l, "ONION_CLIENT_AUTH_ADD ", 22) != 0)
		return -1;
	sp = strchr(l + 22, ' ');
	if (sp == NULL || strncmp(sp, " x25519:", 8) != 0 ||
	    strlen(sp + 8) != 44) {
		say(fd, "512 Bad arguments\r\n");
		return 0;
	}
	pthread_mutex_lock(&f->mu);
	cut(f->last_auth_add, sizeof(f->last_auth_add), l + 22);
	f->last_auth_add[sp - l - 22] = '\0';
	pthread_mutex_unlock(&f->mu);
	say(fd, atomic_fetch_add(&f->auth_adds, 1) == 0 ? "250 OK\r\n" :
	    "251 Client for onion existed and replaced\r\n");
	return 0;
}

/* One command line; returns 0 to go on, -1 to close. */
static int
fake_line(struct fake *f, int fd, const char *l, struct torctl_safecookie *sc,
    int *challenged)
{
	char want[256], hex[65];
	uint8_t h[32];
	struct onion_key k;
	char blob[ONION_BLOB_LEN + 1], addr[ONION_ADDR_LEN + 1], why[128];
	const char *sp;

	if (strcmp(l, "PROTOCOLINFO 1") == 0) {
		if (f->garbage) {
			say(fd, "hello there\r\n");
			return 0;
		}
		say(fd, "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=%s",
		    f->methods);
		if (f->with_cookiefile)
			say(fd, " COOKIEFILE=\"%s\"", f->said_cookiefile ?
			    f->said_cookiefile : f->cookie_path);
		say(fd, "\r\n250-VERSION Tor=\"0.4.9.99-fake\"\r\n250 OK\r\n");
		return 0;
	}
	if (strncmp(l, "AUTHCHALLENGE SAFECOOKIE ", 25) == 0) {
		size_t n = 0;

		if (sodium_hex2bin(sc->client_nonce, 32, l + 25,
		    strlen(l + 25), NULL, &n, NULL) != 0 || n != 32) {
			say(fd, "513 Invalid base16 client nonce\r\n");
			return -1;
		}
		randombytes_buf(sc->server_nonce, 32);
		torctl_safecookie_hash(h, TORCTL_SAFECOOKIE_SERVER_KEY, sc,
		    f->cookie);
		sodium_bin2hex(hex, sizeof(hex), h, 32);
		say(fd, "250 AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=", hex);
		sodium_bin2hex(hex, sizeof(hex), sc->server_nonce, 32);
		say(fd, "%s\r\n", hex);
		*challenged = 1;
		return 0;
	}
	if (strncmp(l, "AUTHENTICATE", 12) == 0) {
		atomic_fetch_add(&f->auth_cmds, 1);
		pthread_mutex_lock(&f->mu);
		cut(f->last_auth, sizeof(f->last_auth), l);
		pthread_mutex_unlock(&f->mu);
		if (*challenged) {
			torctl_safecookie_hash(h, TORCTL_SAFECOOKIE_CLIENT_KEY,
			    sc, f->cookie);
			sodium_bin2hex(hex, sizeof(hex), h, 32);
			snprintf(want, sizeof(want), "AUTHENTICATE %s", hex);
		} else if (strstr(f->methods, "COOKIE") != NULL) {
			sodium_bin2hex(hex, sizeof(hex), f->cookie, 32);
			snprintf(want, sizeof(want), "AUTHENTICATE %s", hex);
		} else if (strstr(f->methods, "HASHEDPASSWORD") != NULL) {
			char q[200];

			assert_int_equal(torctl_quote(q, sizeof(q),
			    f->password), 0);
			snprintf(want, sizeof(want), "AUTHENTICATE %s", q);
		} else
			snprintf(want, sizeof(want), "AUTHENTICATE");
		if (strcmp(l, want) != 0) {
			say(fd, "515 Authentication failed: Password did not "
			    "match HashedControlPassword *or* authentication "
			    "cookie.\r\n");
			return -1;
		}
		atomic_fetch_add(&f->auths_ok, 1);
		say(fd, "250 OK\r\n");
		return 0;
	}
	if (strncmp(l, "SETEVENTS ", 10) == 0) {
		if (f->setevents_refuse)
			say(fd, "552 Unrecognized event \"HS_DESC\"\r\n");
		else
			say(fd, "250 OK\r\n");
		return 0;
	}
	if (strcmp(l, "GETINFO status/bootstrap-phase") == 0) {
		atomic_fetch_add(&f->getinfos, 1);
		say(fd, "250-status/bootstrap-phase=NOTICE BOOTSTRAP "
		    "PROGRESS=42 TAG=loading_descriptors SUMMARY=\"Loading "
		    "relay descriptors\"\r\n250 OK\r\n");
		return 0;
	}
	if (strncmp(l, "ADD_ONION ", 10) == 0) {
		sp = strchr(l + 10, ' ');
		if (sp == NULL || (size_t)(sp - l - 10) > ONION_BLOB_LEN) {
			say(fd, "512 Bad arguments\r\n");
			return 0;
		}
		memcpy(blob, l + 10, (size_t)(sp - l - 10));
		blob[sp - l - 10] = '\0';
		pthread_mutex_lock(&f->mu);
		cut(f->last_add_args, sizeof(f->last_add_args), sp + 1);
		pthread_mutex_unlock(&f->mu);
		if (onion_key_from_blob(&k, blob, why, sizeof(why)) != 0) {
			say(fd, "512 Failed to decode ED25519-V3 key\r\n");
			return 0;
		}
		onion_addr_from_pk(addr, k.pk);
		onion_key_wipe(&k);
		pthread_mutex_lock(&f->mu);
		memcpy(f->published, addr, sizeof(f->published));
		pthread_mutex_unlock(&f->mu);
		if (f->add_collision) {
			say(fd, "550 Onion address collision\r\n");
			return 0;
		}
		say(fd, "250-ServiceID=%.56s\r\n250 OK\r\n", addr);
		say(fd, "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 "
		    "TAG=done SUMMARY=\"Done\"\r\n");
		say(fd, "650 HS_DESC UPLOADED %.56s UNKNOWN $AAAA~relay0 "
		    "HSDIR_INDEX=00\r\n", addr);
		say(fd, "650 HS_DESC UPLOADED aaaa UNKNOWN $AAAA~relay0\r\n");
		if (atomic_fetch_add(&f->publishes, 1) == 0 &&
		    f->close_after_publish)
			return -1;
		return 0;
	}
	if (strncmp(l, "DEL_ONION ", 10) == 0) {
		atomic_fetch_add(&f->del_onions, 1);
		say(fd, "250 OK\r\n");
		return 0;
	}
	if (fake_client_auth(f, fd, l) == 0)
		return 0;
	say(fd, "510 Unrecognized command\r\n");
	return 0;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct torctl_safecookie sc;
	struct pollfd p[2];
	char buf[8192], *nl;
	size_t have = 0;
	int cfd = -1, challenged = 0, nfd;
	ssize_t n;

	while (!atomic_load(&f->quit)) {
		p[0].fd = f->lfd;
		p[0].events = POLLIN;
		p[1].fd = cfd;
		p[1].events = POLLIN;
		if (poll(p, 2, 20) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			nfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (nfd != -1) {
				if (cfd != -1)
					close(cfd);
				cfd = nfd;
				have = 0;
				challenged = 0;
				atomic_fetch_add(&f->conns, 1);
			}
			continue;
		}
		if (cfd == -1 || !(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(cfd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0) {
			close(cfd);
			cfd = -1;
			continue;
		}
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strstr(buf, "\r\n")) != NULL) {
			*nl = '\0';
			if (fake_line(f, cfd, buf, &sc, &challenged) != 0) {
				close(cfd);
				cfd = -1;
				have = 0;
				break;
			}
			have -= (size_t)(nl + 2 - buf);
			memmove(buf, nl + 2, have + 1);
		}
	}
	if (cfd != -1)
		close(cfd);
	return NULL;
}

static int
setup(void **state)
{
	struct sockaddr_un su;
	struct fake *f = calloc(1, sizeof(*f));
	FILE *fp;
	size_t i;

	assert_non_null(f);
	pthread_mutex_init(&f->mu, NULL);
	strcpy(f->dir, "/tmp/om-test-torctl-io.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/control", f->dir);
	snprintf(f->cookie_path, sizeof(f->cookie_path), "%s/cookie", f->dir);
	for (i = 0; i < 32; i++)
		f->cookie[i] = (uint8_t)(0x40 + i);
	fp = fopen(f->cookie_path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f->cookie, 1, 32, fp), 32);
	fclose(fp);
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	cut(su.sun_path, sizeof(su.sun_path), f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd != -1);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&su, sizeof(su)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->methods = "NULL";
	f->client_auth = TORCTL_AUTH_NULL;
	F = f;
	*state = f;
	return 0;
}

static void
fake_start(struct fake *f)
{
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static int
teardown(void **state)
{
	struct fake *f = *state;

	atomic_store(&f->quit, 1);
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->sock);
	unlink(f->cookie_path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

/* The client side. */
struct cli {
	struct ev_loop *loop;
	struct torctl_io *t;
	struct torctl_io_status st;
	char blob[ONION_BLOB_LEN + 1];
	char addr[ONION_ADDR_LEN + 1];
	char control[160];
	int changes;
	ev_timer tick;
};

static void
on_change(void *arg)
{
	struct cli *c = arg;

	c->changes++;
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
}

static void
cli_start(struct cli *c, struct fake *f, const char *password)
{
	struct torctl_io_cfg cfg;
	struct onion_key k;
	uint8_t seed[32];

	memset(c, 0, sizeof(*c));
	c->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(c->loop);
	ev_timer_init(&c->tick, tick_cb, 0.05, 0.05);
	ev_timer_start(c->loop, &c->tick);
	randombytes_buf(seed, sizeof(seed));
	assert_int_equal(onion_key_from_seed(&k, seed), 0);
	assert_int_equal(onion_key_blob(c->blob, sizeof(c->blob), &k), 0);
	onion_addr_from_pk(c->addr, k.pk);
	onion_key_wipe(&k);
	snprintf(c->control, sizeof(c->control), "unix:%s", f->sock);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = c->loop;
	cfg.control = c->control;
	cfg.password = password;
	cfg.auth = f->client_auth;
	cfg.cookie = f->client_cookie ? f->client_cookie : f->cookie_path;
	cfg.key_blob = c->blob;
	cfg.virt_port = 443;
	cfg.target = f->client_target ? f->client_target :
	    "unix:/run/onionmesh/test/linkd.onion";
	cfg.on_change = on_change;
	cfg.arg = c;
	cfg.client_auth = f->svc_client_auth;
	c->t = torctl_io_start(&cfg);
	assert_non_null(c->t);
	/* Nothing happens before the loop runs. */
	assert_int_equal(c->changes, 0);
}

static void
cli_stop(struct cli *c)
{
	torctl_io_stop(c->t);
	ev_timer_stop(c->loop, &c->tick);
	ev_loop_destroy(c->loop);
}

/* Run the loop until cond holds (1) or timeout passes (0). */
static int
run_until(struct cli *c, int (*cond)(struct cli *), double timeout)
{
	double end = now_s() + timeout;

	for (;;) {
		torctl_io_get_status(c->t, &c->st);
		if (cond(c))
			return 1;
		if (now_s() > end)
			return 0;
		ev_run(c->loop, EVRUN_ONCE);
	}
}

static int
c_published(struct cli *c)
{
	return c->st.published && c->st.desc_uploads > 0 &&
	    c->st.progress == 100;
}

static int
c_error(struct cli *c)
{
	return c->st.last_error[0] != '\0';
}

static int
c_two_conns(struct cli *c)
{
	return atomic_load(&F->conns) >= 2;
}

static int
c_polled(struct cli *c)
{
	/* The first GETINFO said 42, ADD_ONION's event 100; only a later
	 * poll brings 42 back. */
	return atomic_load(&F->getinfos) >= 3 && c->st.progress == 42;
}

static int
c_republished(struct cli *c)
{
	return c->st.published && c->st.connects >= 2;
}

static void
check_published(struct cli *c, struct fake *f, const char *method)
{
	char want_port[128];
	json_t *j;
	char *s;
	double t0;

	assert_true(run_until(c, c_published, 5));
	assert_string_equal(c->st.service_id, c->addr);
	assert_string_equal(c->st.address, c->addr);
	assert_string_equal(c->st.auth_method, method);
	assert_string_equal(c->st.tor_version, "0.4.9.99-fake");
	assert_string_equal(c->st.tag, "done");
	assert_int_equal(c->st.desc_uploads, 1); /* not the other one */
	assert_true(c->st.connected && c->st.authenticated);
	assert_int_equal(c->st.connects, 1);
	assert_string_equal(c->st.last_error, "");
	assert_true(c->changes > 0);
	snprintf(want_port, sizeof(want_port),
	    "Port=443,unix:/run/onionmesh/test/linkd.onion");
	pthread_mutex_lock(&f->mu);
	assert_string_equal(f->last_add_args, want_port);
	pthread_mutex_unlock(&f->mu);

	j = torctl_io_status_json(c->t);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"published\":true"));
	assert_non_null(strstr(s, "\"progress\":100"));
	assert_non_null(strstr(s, "\"last_error\":null"));
	assert_null(strstr(s, c->blob + 11)); /* never the key */
	free(s);
	json_decref(j);

	t0 = now_s();
	cli_stop(c);
	assert_true(now_s() - t0 < 0.9);
	/* The fake answers in its own thread: DEL_ONION got through. */
	assert_int_equal(atomic_load(&f->del_onions), 1);
}

static void
test_null_auth(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "NULL";
	fake_start(f);
	cli_start(&c, f, NULL);
	check_published(&c, f, "NULL");
	assert_string_equal(f->last_auth, "AUTHENTICATE");
}

static void
test_password(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "HASHEDPASSWORD";
	f->client_auth = TORCTL_AUTH_HASHEDPASSWORD;
	f->password = "se\"cr\\et pw";
	fake_start(f);
	cli_start(&c, f, "se\"cr\\et pw");
	check_published(&c, f, "HASHEDPASSWORD");
}

static void
test_password_missing(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "HASHEDPASSWORD";
	f->client_auth = TORCTL_AUTH_HASHEDPASSWORD;
	f->password = "pw";
	fake_start(f);
	cli_start(&c, f, "");
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "wants a password"));
	assert_false(c.st.connected);
	/* Retried after a second, and never an AUTHENTICATE sent. */
	assert_true(run_until(&c, c_two_conns, 3));
	assert_int_equal(atomic_load(&f->auth_cmds), 0);
	cli_stop(&c);
}

static void
test_password_wrong(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "HASHEDPASSWORD";
	f->client_auth = TORCTL_AUTH_HASHEDPASSWORD;
	f->password = "right";
	fake_start(f);
	cli_start(&c, f, "wrong");
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "refused HASHEDPASSWORD "
	    "authentication: 515 Authentication failed"));
	assert_null(strstr(c.st.last_error, "wrong"));
	assert_false(c.st.published);
	cli_stop(&c);
}

static void
test_cookie(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "COOKIE";
	f->with_cookiefile = 1;
	f->client_auth = TORCTL_AUTH_COOKIE;
	fake_start(f);
	cli_start(&c, f, NULL);
	check_published(&c, f, "COOKIE");
}

static void
test_safecookie(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "COOKIE,SAFECOOKIE";
	f->with_cookiefile = 1;
	f->client_auth = 0; /* the default: SAFECOOKIE */
	fake_start(f);
	cli_start(&c, f, NULL);
	check_published(&c, f, "SAFECOOKIE");
}

static void
test_safecookie_impostor(void **state)
{
	/* Something on the control socket that does not know the cookie:
	 * its SERVERHASH is wrong, and we must not answer it. */
	struct fake *f = *state;
	struct cli c;

	f->methods = "SAFECOOKIE";
	f->with_cookiefile = 1;
	f->client_auth = TORCTL_AUTH_SAFECOOKIE;
	f->cookie[0] ^= 0xff;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "server hash is wrong"));
	assert_int_equal(atomic_load(&f->auth_cmds), 0);
	cli_stop(&c);
}

static void
test_cookie_unreadable(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->methods = "COOKIE,SAFECOOKIE";
	f->with_cookiefile = 1;
	f->client_auth = TORCTL_AUTH_SAFECOOKIE;
	unlink(f->cookie_path);
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "cannot read tor's cookie "
	    "file"));
	assert_non_null(strstr(c.st.last_error, f->cookie_path));
	cli_stop(&c);
}


static void
test_safecookie_required(void **state)
{
	/* A tor that offers only plain COOKIE: with tor_auth at its
	 * default keyd sends nothing derived from the cookie, and says
	 * which config line would accept it. */
	struct fake *f = *state;
	struct cli c;

	f->methods = "COOKIE";
	f->with_cookiefile = 1;
	f->client_auth = 0;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "does not offer SAFECOOKIE"));
	assert_non_null(strstr(c.st.last_error, "tor_auth = cookie"));
	assert_true(run_until(&c, c_two_conns, 3));
	assert_int_equal(atomic_load(&f->auth_cmds), 0);
	assert_false(c.st.authenticated);
	cli_stop(&c);
}

static void
test_null_needs_config(void **state)
{
	/* A control port without authentication is not used unless the
	 * config says tor_auth = none. */
	struct fake *f = *state;
	struct cli c;

	f->methods = "NULL";
	f->client_auth = TORCTL_AUTH_SAFECOOKIE;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "does not offer SAFECOOKIE"));
	assert_non_null(strstr(c.st.last_error, "tor_auth = none"));
	assert_int_equal(atomic_load(&f->auth_cmds), 0);
	cli_stop(&c);
}

static void
test_cookie_path_not_from_tor(void **state)
{
	/* tor names a decoy file: keyd reads the configured one, and the
	 * cookie it sends is the real one, not the decoy's content. */
	struct fake *f = *state;
	struct cli c;
	char decoy[160], hex[65];
	uint8_t junk[32];
	FILE *fp;

	snprintf(decoy, sizeof(decoy), "%s/decoy", f->dir);
	memset(junk, 0x5a, sizeof(junk));
	fp = fopen(decoy, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(junk, 1, 32, fp), 32);
	fclose(fp);
	f->methods = "COOKIE";
	f->with_cookiefile = 1;
	f->said_cookiefile = decoy;
	f->client_auth = TORCTL_AUTH_COOKIE;
	fake_start(f);
	cli_start(&c, f, NULL);
	check_published(&c, f, "COOKIE");
	sodium_bin2hex(hex, sizeof(hex), f->cookie, 32);
	assert_non_null(strstr(f->last_auth, hex));
	unlink(decoy);
}

static void
test_cookie_path_missing(void **state)
{
	/* The configured file is not there, the one tor names is: keyd
	 * does not fall back to tor's word, it names tor's path as a hint
	 * and sends no AUTHENTICATE. */
	struct fake *f = *state;
	struct cli c;
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/nothing-here", f->dir);
	f->methods = "COOKIE,SAFECOOKIE";
	f->with_cookiefile = 1;
	f->client_auth = TORCTL_AUTH_SAFECOOKIE;
	f->client_cookie = missing;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, missing));
	assert_non_null(strstr(c.st.last_error, "tor says its cookie is"));
	assert_non_null(strstr(c.st.last_error, "tor_cookie ="));
	assert_int_equal(atomic_load(&f->auth_cmds), 0);
	cli_stop(&c);
}

static void
test_target_unreachable(void **state)
{
	/* tor's user (SO_PEERCRED of the control socket: here a listener
	 * made with euid 65534) cannot pass the target's folder (mkdtemp:
	 * 0700, ours): status says so, naming the folder. Only root can
	 * make such a listener; others check that a reachable target gets
	 * no verdict. */
	struct fake *f = *state;
	struct sockaddr_un su;
	struct cli c;
	char target[200];

	snprintf(target, sizeof(target), "unix:%s/linkd.onion", f->dir);
	f->client_target = target;
	if (geteuid() == 0) {
		close(f->lfd);
		unlink(f->sock);
		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		cut(su.sun_path, sizeof(su.sun_path), f->sock);
		f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(f->lfd != -1);
		assert_int_equal(bind(f->lfd, (struct sockaddr *)&su,
		    sizeof(su)), 0);
		/* This thread only (the raw call, not glibc's broadcast);
		 * listen() records the credentials the client will see. */
		assert_int_equal(syscall(SYS_setresuid, -1, 65534, -1), 0);
		assert_int_equal(listen(f->lfd, 4), 0);
		assert_int_equal(syscall(SYS_setresuid, -1, 0, -1), 0);
	}
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_published, 5));
	if (geteuid() == 0) {
		assert_non_null(strstr(c.st.target_error, "tor (uid 65534"));
		assert_non_null(strstr(c.st.target_error, f->dir));
		assert_non_null(strstr(c.st.target_error, "mode 0700"));
	} else
		assert_string_equal(c.st.target_error, "");
	cli_stop(&c);
}

static void
test_collision(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->add_collision = 1;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_string_equal(c.st.last_error, "tor refused ADD_ONION: 550 "
	    "Onion address collision");
	assert_false(c.st.published);
	assert_true(run_until(&c, c_two_conns, 3));
	cli_stop(&c);
	assert_int_equal(atomic_load(&f->del_onions), 0);
}

static void
test_setevents_refused_polls(void **state)
{
	struct fake *f = *state;
	struct cli c;
	double t0 = now_s();

	f->setevents_refuse = 1;
	fake_start(f);
	cli_start(&c, f, NULL);
	/* One GETINFO at once, then one every 2 s. */
	assert_true(run_until(&c, c_polled, 6));
	assert_true(now_s() - t0 > 3.5);
	cli_stop(&c);
}

static void
test_garbage(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->garbage = 1;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_error, 5));
	assert_non_null(strstr(c.st.last_error, "malformed line"));
	assert_true(run_until(&c, c_two_conns, 3));
	cli_stop(&c);
}

static void
test_tor_leaves(void **state)
{
	struct fake *f = *state;
	struct cli c;

	f->close_after_publish = 1;
	fake_start(f);
	cli_start(&c, f, NULL);
	assert_true(run_until(&c, c_republished, 6));
	assert_int_equal(atomic_load(&f->conns), 2);
	assert_string_equal(c.st.last_error, "");
	cli_stop(&c);
	assert_int_equal(atomic_load(&f->del_onions), 1);
}

static int
c_auth_given(struct cli *c)
{
	return c_published(c) && c->st.auth_services == 1;
}

static int
c_cut(struct cli *c)
{
	int done;

	pthread_mutex_lock(&F->mu);
	done = strcmp(F->closed, "7 9 ") == 0;
	pthread_mutex_unlock(&F->mu);
	return done && c->st.clients == 1;
}

static int
c_publishes_3(struct cli *c)
{
	return atomic_load(&F->publishes) == 3 && c->st.clients == 2;
}

static int
c_auth_again(struct cli *c)
{
	return atomic_load(&F->publishes) == 2 &&
	    atomic_load(&F->auth_removes) == 1 && c->st.published &&
	    c->st.clients == 3;
}

/* What status says after test_client_auth, and never our secret. */
static void
check_auth_json(struct cli *c)
{
	json_t *j = torctl_io_status_json(c->t);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(s);
	assert_non_null(strstr(s, "\"client_auth\":true"));
	assert_non_null(strstr(s, "\"clients\":1"));
	assert_non_null(strstr(s, "\"circuits_closed\":2"));
	assert_non_null(strstr(s, "\"client_keys_given\":0"));
	assert_null(strstr(s, "d3d3d3d3")); /* never our secret's base64 */
	free(s);
	json_decref(j);
}

/* Issue 15: the service takes only the clients given, given again
 * (DEL_ONION, ADD_ONION) when they change and only then; our key goes
 * to tor for the members' services, and is taken back for those gone. */
static void
test_client_auth(void **state)
{
	struct fake *f = *state;
	uint8_t keys[3][ONION_AUTH_KEY_BYTES], sk[ONION_AUTH_KEY_BYTES];
	char b32[3][ONION_AUTH_B32_LEN + 1], want[512], svc[1][ONION_ADDR_LEN
	    + 1];
	struct cli c;
	int i;

	f->methods = "NULL";
	f->svc_client_auth = 1;
	fake_start(f);
	cli_start(&c, f, NULL);
	for (i = 0; i < 3; i++) {
		memset(keys[i], 0x10 + i, sizeof(keys[i]));
		onion_auth_pk_encode(b32[i], keys[i]);
	}
	memset(sk, 0x77, sizeof(sk));
	snprintf(svc[0], sizeof(svc[0]), "%s", ONION_TEST_ADDR);
	assert_int_equal(torctl_io_set_auth(c.t,
	    (const uint8_t (*)[32])keys, 2, 0, sk,
	    (const char (*)[ONION_ADDR_LEN + 1])svc, 1), 0);
	assert_true(run_until(&c, c_auth_given, 5));
	snprintf(want, sizeof(want), "Flags=V3Auth Port=443,unix:/run/"
	    "onionmesh/test/linkd.onion ClientAuthV3=%s ClientAuthV3=%s",
	    b32[0], b32[1]);
	pthread_mutex_lock(&f->mu);
	assert_string_equal(f->last_add_args, want);
	assert_memory_equal(f->last_auth_add, ONION_TEST_ADDR, 56);
	assert_int_equal(strlen(f->last_auth_add), 56);
	pthread_mutex_unlock(&f->mu);
	assert_int_equal(c.st.clients, 2);
	assert_int_equal(atomic_load(&f->del_onions), 0);

	/* A third member, the service gone: the service again, with three
	 * clients; our key taken back. */
	assert_int_equal(torctl_io_set_auth(c.t,
	    (const uint8_t (*)[32])keys, 3, 0, sk, NULL, 0), 0);
	assert_true(run_until(&c, c_auth_again, 5));
	assert_int_equal(atomic_load(&f->del_onions), 1);
	pthread_mutex_lock(&f->mu);
	assert_non_null(strstr(f->last_add_args, b32[2]));
	pthread_mutex_unlock(&f->mu);
	/* The same lists again: nothing sent. */
	assert_int_equal(torctl_io_set_auth(c.t,
	    (const uint8_t (*)[32])keys, 3, 0, sk, NULL, 0), 0);
	for (i = 0; i < 10; i++)
		ev_run(c.loop, EVRUN_ONCE);
	assert_int_equal(atomic_load(&f->publishes), 2);
	assert_int_equal(atomic_load(&f->auth_adds), 1);
	/* A key withdrawn (a used invitation) closes no circuit: it
	 * would cut the join in progress. */
	assert_int_equal(torctl_io_set_auth(c.t,
	    (const uint8_t (*)[32])keys, 2, 0, sk, NULL, 0), 0);
	assert_true(run_until(&c, c_publishes_3, 5));
	for (i = 0; i < 10; i++)
		ev_run(c.loop, EVRUN_ONCE);
	assert_int_equal(atomic_load(&f->circ_queries), 0);
	/* A revocation does, once tor has the new list: the service's
	 * rendezvous circuits, no other. */
	assert_int_equal(torctl_io_set_auth(c.t,
	    (const uint8_t (*)[32])keys + 1, 1, 1, sk, NULL, 0), 0);
	assert_true(run_until(&c, c_cut, 5));
	assert_int_equal(atomic_load(&f->publishes), 4);
	assert_int_equal(atomic_load(&f->circ_queries), 1);
	pthread_mutex_lock(&f->mu);
	assert_string_equal(f->closed, "7 9 ");
	pthread_mutex_unlock(&f->mu);
	assert_int_equal(c.st.circuits_closed, 2);
	/* Too many clients: refused, the old list kept. */
	assert_int_equal(torctl_io_set_auth(c.t,
	    (const uint8_t (*)[32])keys, TORCTL_AUTH_CLIENTS_MAX + 1, 0, sk,
	    NULL, 0), -1);

	check_auth_json(&c);
	cli_stop(&c);
}

static void
test_bad_config(void **state)
{
	struct fake *f = *state;
	struct torctl_io_cfg cfg;
	struct cli c;

	fake_start(f);
	cli_start(&c, f, NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = c.loop;
	cfg.control = c.control;
	cfg.key_blob = c.blob;
	cfg.virt_port = 443;
	cfg.auth = TORCTL_AUTH_NULL; /* each case below fails on its own */
	cfg.target = "unix:/x";
	cfg.control = "tor:9051";
	assert_null(torctl_io_start(&cfg));
	cfg.control = "127.0.0.1:0";
	assert_null(torctl_io_start(&cfg));
	cfg.control = c.control;
	cfg.target = "example.com:80";
	assert_null(torctl_io_start(&cfg));
	cfg.target = "unix:/x";
	cfg.virt_port = 0;
	assert_null(torctl_io_start(&cfg));
	cfg.virt_port = 443;
	cfg.key_blob = "ED25519-V3:nope";
	assert_null(torctl_io_start(&cfg));
	/* No key: a client only (--join), no target needed. */
	cfg.key_blob = NULL;
	cfg.target = NULL;
	{
		struct torctl_io *t = torctl_io_start(&cfg);

		assert_non_null(t);
		torctl_io_stop(t);
	}
	cfg.target = "unix:/x";
	/* SAFECOOKIE (the default) needs an absolute cookie path. */
	cfg.key_blob = c.blob;
	cfg.auth = 0;
	cfg.cookie = NULL;
	assert_null(torctl_io_start(&cfg));
	cfg.cookie = "relative/cookie";
	assert_null(torctl_io_start(&cfg));
	cfg.auth = TORCTL_AUTH_NULL | TORCTL_AUTH_COOKIE;
	cfg.cookie = "/run/tor/control.authcookie";
	assert_null(torctl_io_start(&cfg));
	cli_stop(&c);
	torctl_io_stop(NULL);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_null_auth),
		T(test_password),
		T(test_password_missing),
		T(test_password_wrong),
		T(test_cookie),
		T(test_safecookie),
		T(test_safecookie_impostor),
		T(test_cookie_unreadable),
		T(test_safecookie_required),
		T(test_null_needs_config),
		T(test_cookie_path_not_from_tor),
		T(test_cookie_path_missing),
		T(test_target_unreachable),
		T(test_collision),
		T(test_setevents_refused_polls),
		T(test_garbage),
		T(test_tor_leaves),
		T(test_client_auth),
		T(test_bad_config),
	};

	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	log_init("test", getenv("OM_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
