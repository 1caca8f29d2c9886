/*
 * keyd <-> tor ControlPort: the I/O half of proto/torctl.c.
 *
 * One non-blocking stream socket, one reply parser, and a small FIFO of
 * the commands sent and not yet answered: tor answers commands in order
 * and marks events (650) apart, so the FIFO head says what each reply is
 * for. The conversation is
 *
 *   PROTOCOLINFO 1
 *   [AUTHCHALLENGE SAFECOOKIE <nonce>]        SAFECOOKIE only
 *   AUTHENTICATE ...                          the one method the
 *                                             config names (tor_auth,
 *                                             SAFECOOKIE by default)
 *   SETEVENTS STATUS_CLIENT HS_DESC           else poll GETINFO every 2 s
 *   GETINFO status/bootstrap-phase
 *   ADD_ONION ED25519-V3:<key> Port=V,TARGET  not detached: see the .h
 *
 * Anything unexpected (tor closes, refuses, sends what we cannot parse,
 * or does not answer within 20 s) closes the connection and schedules a
 * new attempt after a backoff of 1 s doubling to 30 s; a publish resets
 * it. Every attempt starts from scratch, re-reading the cookie file, so
 * a tor that restarted with a new cookie is picked up by itself.
 *
 * Secrets here: the service key (in t->key_blob and briefly in wbuf), the
 * cookie and the password. The write buffer is wiped as soon as it has
 * been sent, and nothing but tor's replies and our own words is logged.
 */
#include "keyd/torctl_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/endpoint.h"
#include "proto/log.h"
#include "proto/torctl.h"

#define TIO_BACKOFF_MIN 1.0
#define TIO_BACKOFF_MAX 30.0
#define TIO_POLL_S      2.0
#define TIO_ANSWER_S    20.0 /* connect, or any reply */
#define TIO_STOP_MS     1000
#define TIO_PENDING_MAX 8
/* ADD_ONION with every client it takes, and a few small commands. */
#define TIO_WBUF_MAX    (TORCTL_ADD_ONION_MAX(TORCTL_AUTH_CLIENTS_MAX) + 4096)
/* Client credentials in flight at once, so ADD_ONION's re-issue always
 * finds room in the FIFO. */
#define TIO_AUTH_INFLIGHT 4
/* Rendezvous circuits of our service closed after a key is withdrawn,
 * at most (more are left to tor's own timeouts). */
#define TIO_CUT_MAX       512
#define TIO_READ_MAX    4096

enum tio_cmd {
	C_PROTOCOLINFO,
	C_AUTHCHALLENGE,
	C_AUTHENTICATE,
	C_SETEVENTS,
	C_GETINFO,
	C_ADD_ONION,
	C_DEL_ONION,
	C_AUTH_ADD,
	C_AUTH_REMOVE,
	C_GETINFO_CIRCS,
	C_CLOSECIRCUIT,
};

static const char *const tio_cmd_name[] = {
	[C_PROTOCOLINFO] = "PROTOCOLINFO",
	[C_AUTHCHALLENGE] = "AUTHCHALLENGE",
	[C_AUTHENTICATE] = "AUTHENTICATE",
	[C_SETEVENTS] = "SETEVENTS",
	[C_GETINFO] = "GETINFO",
	[C_ADD_ONION] = "ADD_ONION",
	[C_DEL_ONION] = "DEL_ONION",
	[C_AUTH_ADD] = "ONION_CLIENT_AUTH_ADD",
	[C_AUTH_REMOVE] = "ONION_CLIENT_AUTH_REMOVE",
	[C_GETINFO_CIRCS] = "GETINFO circuit-status",
	[C_CLOSECIRCUIT] = "CLOSECIRCUIT",
};

/* A service our tor reaches as a client with our key. */
enum svc_state { SVC_WANT, SVC_SENT, SVC_DONE, SVC_FAILED, SVC_GONE };
struct tio_svc {
	char addr[ONION_ADDR_LEN + 1];
	enum svc_state state; /* SVC_GONE: to remove from tor */
};

enum tio_state {
	S_IDLE,       /* not connected; retry timer running or stopped */
	S_CONNECTING, /* non-blocking connect in progress */
	S_OPEN,
};

struct torctl_io {
	struct ev_loop *loop;
	char *control;
	char *cookie_path;
	char *access_hint;
	unsigned auth;
	char *password;
	char *key_blob;   /* NULL: no service, a client only (--join) */
	char *target;
	uint16_t virt_port;
	int client_auth;  /* the service takes only t->clients */
	/* Client authorization: the service's clients (x25519 public
	 * keys), the generation tor has, and the services we reach. */
	uint8_t (*clients)[ONION_AUTH_KEY_BYTES];
	size_t nclients;
	unsigned clients_gen;
	unsigned clients_published;
	uint8_t *our_sk;  /* sodium_malloc'd; NULL: none */
	struct tio_svc *svcs;
	size_t nsvcs;
	/* A member was revoked: once tor has the new list, close the
	 * service's rendezvous circuits (tor keeps them through DEL_ONION
	 * and ADD_ONION), so the revoked member's open circuit goes too. */
	int cut_pending;
	char (*cut)[TORCTL_CIRC_ID_MAX + 1];
	size_t ncut, cut_next;
	void (*on_change)(void *arg);
	void *arg;
	struct sockaddr_storage sa;
	socklen_t salen;

	enum tio_state state;
	int fd;
	unsigned gen; /* bumped on every close: stale work checks it */
	ev_io rio;
	ev_io wio;
	ev_timer retry;
	ev_timer answer;
	ev_timer poll;
	double backoff;
	int polling; /* SETEVENTS refused: poll GETINFO */

	struct torctl_parser *parser;
	char wbuf[TIO_WBUF_MAX];
	size_t wlen;
	size_t woff;
	enum tio_cmd pending[TIO_PENDING_MAX];
	size_t phead;
	size_t pn;

	struct torctl_safecookie sc;
	uint8_t cookie[TORCTL_COOKIE_BYTES];
	struct torctl_io_status st;
};

static void tio_connect(struct torctl_io *t);

static void
tio_changed(struct torctl_io *t)
{
	if (t->on_change != NULL)
		t->on_change(t->arg);
}

/* Close the connection and forget everything learnt on it. */
static void
tio_close(struct torctl_io *t)
{
	ev_io_stop(t->loop, &t->rio);
	ev_io_stop(t->loop, &t->wio);
	ev_timer_stop(t->loop, &t->answer);
	ev_timer_stop(t->loop, &t->poll);
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	t->gen++;
	t->state = S_IDLE;
	t->polling = 0;
	sodium_memzero(t->wbuf, sizeof(t->wbuf));
	t->wlen = t->woff = 0;
	t->phead = t->pn = 0;
	sodium_memzero(&t->sc, sizeof(t->sc));
	sodium_memzero(t->cookie, sizeof(t->cookie));
	for (size_t i = 0; i < t->nsvcs; i++)
		if (t->svcs[i].state != SVC_GONE)
			t->svcs[i].state = SVC_WANT;
	t->st.auth_services = 0;
	t->ncut = t->cut_next = 0; /* ids of a connection gone */
	t->st.connected = 0;
	t->st.authenticated = 0;
	t->st.published = 0;
	t->st.service_id[0] = '\0';
	t->st.auth_method[0] = '\0';
	t->st.progress = -1;
	t->st.tag[0] = '\0';
	t->st.summary[0] = '\0';
}

/* Something went wrong with this connection: say so (once per distinct
 * message, so a tor that stays away does not fill the log), close, and
 * try again later. */
static void
tio_fail(struct torctl_io *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tio_fail(struct torctl_io *t, const char *fmt, ...)
{
	char msg[sizeof(t->st.last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(msg, t->st.last_error) != 0)
		log_warnx("tor: %s; retrying in %.0f s", msg, t->backoff);
	else
		log_debug("tor: %s; retrying in %.0f s", msg, t->backoff);
	memcpy(t->st.last_error, msg, sizeof(msg));
	tio_close(t);
	ev_timer_set(&t->retry, t->backoff, 0.);
	ev_timer_start(t->loop, &t->retry);
	t->backoff *= 2;
	if (t->backoff > TIO_BACKOFF_MAX)
		t->backoff = TIO_BACKOFF_MAX;
	tio_changed(t);
}

/* Write what is queued; 0, or -1 when the connection failed. */
static int
tio_flush(struct torctl_io *t)
{
	ssize_t n;

	while (t->woff < t->wlen) {
		n = send(t->fd, t->wbuf + t->woff, t->wlen - t->woff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			t->woff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(t->loop, &t->wio);
			return 0;
		}
		tio_fail(t, "writing to tor's control port %s: %s",
		    t->control, strerror(errno));
		return -1;
	}
	sodium_memzero(t->wbuf, t->wlen);
	t->wlen = t->woff = 0;
	ev_io_stop(t->loop, &t->wio);
	return 0;
}

/* Queue one command (CRLF-terminated) and expect its reply. The caller
 * wipes its own copy of line when it is secret. 0 or -1 (failed). */
static int
tio_send(struct torctl_io *t, enum tio_cmd cmd, const char *line)
{
	size_t n = strlen(line);

	if (t->pn == TIO_PENDING_MAX || n > sizeof(t->wbuf) - t->wlen) {
		tio_fail(t, "too many commands waiting for tor");
		return -1;
	}
	memcpy(t->wbuf + t->wlen, line, n);
	t->wlen += n;
	t->pending[(t->phead + t->pn) % TIO_PENDING_MAX] = cmd;
	t->pn++;
	if (!ev_is_active(&t->answer))
		ev_timer_again(t->loop, &t->answer);
	return tio_flush(t);
}

static int
tio_pending(const struct torctl_io *t, enum tio_cmd cmd)
{
	size_t i;

	for (i = 0; i < t->pn; i++)
		if (t->pending[(t->phead + i) % TIO_PENDING_MAX] == cmd)
			return 1;
	return 0;
}

/* The cookie: a regular file of exactly 32 bytes. */
static int
tio_read_cookie(const char *path, uint8_t cookie[TORCTL_COOKIE_BYTES],
    char *err, size_t errlen)
{
	struct stat sb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		int e = errno;

		snprintf(err, errlen, "cannot read tor's cookie file %s: %s "
		    "(%s)", path, strerror(errno), errno == ENOENT ?
		    "is tor running, and is this its CookieAuthFile? set "
		    "tor_cookie = PATH in onionmesh.conf if not" :
		    "keyd needs tor's CookieAuthFileGroupReadable 1 and the "
		    "file's group; see tor_group in onionmesh.conf(5)");
		errno = e;
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size != TORCTL_COOKIE_BYTES) {
		snprintf(err, errlen, "tor's cookie file %s is not a file of "
		    "%d bytes", path, TORCTL_COOKIE_BYTES);
		close(fd);
		return -1;
	}
	do {
		n = read(fd, cookie, TORCTL_COOKIE_BYTES);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n != TORCTL_COOKIE_BYTES) {
		sodium_memzero(cookie, TORCTL_COOKIE_BYTES);
		snprintf(err, errlen, "cannot read %d bytes from tor's cookie "
		    "file %s", TORCTL_COOKIE_BYTES, path);
		return -1;
	}
	return 0;
}

static const char *
tio_auth_name(unsigned m)
{
	switch (m) {
	case TORCTL_AUTH_SAFECOOKIE:
		return "SAFECOOKIE";
	case TORCTL_AUTH_COOKIE:
		return "COOKIE";
	case TORCTL_AUTH_HASHEDPASSWORD:
		return "HASHEDPASSWORD";
	case TORCTL_AUTH_NULL:
		return "NULL";
	}
	return "?";
}

/* What tor offers, and the config line that would accept it. */
static void
tio_offer_hint(unsigned methods, char *out, size_t cap)
{
	static const unsigned order[] = {TORCTL_AUTH_SAFECOOKIE,
	    TORCTL_AUTH_COOKIE, TORCTL_AUTH_HASHEDPASSWORD, TORCTL_AUTH_NULL};
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (methods & order[i])
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0,
			    "%s%s", n ? "," : "", tio_auth_name(order[i]));
	if (n == 0)
		snprintf(out, cap, "nothing");
	n = strlen(out);
	if (methods & TORCTL_AUTH_SAFECOOKIE)
		return;
	if (methods & TORCTL_AUTH_COOKIE)
		snprintf(out + n, cap - n, "; better, tor's "
		    "CookieAuthentication 1 (tor 0.2.3 and later offer "
		    "SAFECOOKIE with it), or set tor_auth = cookie to accept "
		    "plain COOKIE");
	else if (methods & TORCTL_AUTH_NULL)
		snprintf(out + n, cap - n, "; give tor "
		    "CookieAuthentication 1, or set tor_auth = none to use "
		    "a control port without authentication");
	else
		snprintf(out + n, cap - n, "; give tor "
		    "CookieAuthentication 1");
}

static void
tio_on_protocolinfo(struct torctl_io *t, const struct torctl_reply *r)
{
	struct torctl_protocolinfo pi;
	char err[TORCTL_ERRLEN + PATH_MAX + 256], cmd[TORCTL_CMD_MAX];
	char hint[320];
	int rc;

	if (torctl_parse_protocolinfo(r, &pi, err, sizeof(err)) != 0) {
		tio_fail(t, "%s", err);
		return;
	}
	snprintf(t->st.tor_version, sizeof(t->st.tor_version), "%s",
	    pi.version);
	if (!(pi.methods & t->auth)) {
		tio_offer_hint(pi.methods, hint, sizeof(hint));
		tio_fail(t, "tor at %s does not offer %s authentication, "
		    "which tor_auth asks for (it offers %s)", t->control,
		    tio_auth_name(t->auth), hint);
		return;
	}
	snprintf(t->st.auth_method, sizeof(t->st.auth_method), "%s",
	    tio_auth_name(t->auth));
	if (t->auth == TORCTL_AUTH_SAFECOOKIE ||
	    t->auth == TORCTL_AUTH_COOKIE) {
		errno = 0;
		if (tio_read_cookie(t->cookie_path, t->cookie, err,
		    sizeof(err)) != 0) {
			/* tor's word is a hint for the operator only. */
			if (errno == EACCES)
				tio_fail(t, "%s; %s", err, t->access_hint);
			else if (pi.cookie_file[0] != '\0' &&
			    strcmp(pi.cookie_file, t->cookie_path) != 0)
				tio_fail(t, "%s; tor says its cookie is %s: "
				    "set tor_cookie = %s if that is right",
				    err, pi.cookie_file, pi.cookie_file);
			else
				tio_fail(t, "%s", err);
			return;
		}
		if (t->auth == TORCTL_AUTH_SAFECOOKIE) {
			if (torctl_safecookie_begin(&t->sc, cmd,
			    sizeof(cmd)) != 0) {
				tio_fail(t, "AUTHCHALLENGE does not fit");
				return;
			}
			(void)tio_send(t, C_AUTHCHALLENGE, cmd);
			return;
		}
		rc = torctl_fmt_auth_cookie(cmd, sizeof(cmd), t->cookie);
		sodium_memzero(t->cookie, sizeof(t->cookie));
	} else if (t->auth == TORCTL_AUTH_HASHEDPASSWORD) {
		if (t->password == NULL) {
			tio_fail(t, "tor's control port %s wants a password "
			    "(HASHEDPASSWORD) and none is configured",
			    t->control);
			return;
		}
		rc = torctl_fmt_auth_password(cmd, sizeof(cmd), t->password);
	} else {
		rc = snprintf(cmd, sizeof(cmd), "%s",
		    TORCTL_CMD_AUTH_NULL) < 0;
	}
	if (rc != 0) {
		sodium_memzero(cmd, sizeof(cmd));
		tio_fail(t, "AUTHENTICATE does not fit");
		return;
	}
	(void)tio_send(t, C_AUTHENTICATE, cmd);
	sodium_memzero(cmd, sizeof(cmd));
}

static void
tio_on_authchallenge(struct torctl_io *t, const struct torctl_reply *r)
{
	char err[TORCTL_ERRLEN], cmd[TORCTL_CMD_MAX];
	int rc;

	if (torctl_parse_authchallenge(r, &t->sc, err, sizeof(err)) != 0) {
		tio_fail(t, "%s", err);
		return;
	}
	rc = torctl_safecookie_answer(cmd, sizeof(cmd), &t->sc, t->cookie,
	    err, sizeof(err));
	sodium_memzero(t->cookie, sizeof(t->cookie));
	sodium_memzero(&t->sc, sizeof(t->sc));
	if (rc != 0) {
		tio_fail(t, "%s (control port %s, cookie %s: is something "
		    "else on tor's socket path, or is this not tor's "
		    "CookieAuthFile? see tor_cookie)", err, t->control,
		    t->cookie_path);
		return;
	}
	(void)tio_send(t, C_AUTHENTICATE, cmd);
	sodium_memzero(cmd, sizeof(cmd));
}

/* ADD_ONION with our key and, when the service takes only members,
 * the clients as they are now; first DEL_ONION when tor has the
 * service already (tor refuses a second service with the same key, and
 * keeps the rendezvous circuits open through the change). 0 or -1
 * (failed, closed). */
static int
tio_publish(struct torctl_io *t)
{
	size_t n = t->client_auth ? t->nclients : 0;
	size_t cap = TORCTL_ADD_ONION_MAX(n);
	char err[TORCTL_ERRLEN], del[128], *cmd;
	int rc;

	if ((cmd = malloc(cap)) == NULL) {
		tio_fail(t, "out of memory for ADD_ONION");
		return -1;
	}
	rc = torctl_fmt_add_onion(cmd, cap, t->key_blob, t->virt_port,
	    t->target, t->clients, n, err, sizeof(err));
	if (rc != 0) {
		free(cmd);
		tio_fail(t, "%s", err);
		return -1;
	}
	if (t->st.published && (torctl_fmt_del_onion(del, sizeof(del),
	    t->st.service_id) != 0 || tio_send(t, C_DEL_ONION, del) != 0))
		rc = -1;
	if (rc == 0)
		rc = tio_send(t, C_ADD_ONION, cmd);
	t->clients_published = t->clients_gen;
	sodium_memzero(cmd, cap);
	free(cmd);
	return rc;
}

/* Our service: again when its clients changed; then, when a key was
 * withdrawn, its rendezvous circuits closed (a few at a time). 0, or
 * -1 when the connection failed. */
static int
tio_kick_service(struct torctl_io *t)
{
	char cmd[TORCTL_CMD_MAX];

	if (t->key_blob == NULL || !t->st.published || !t->client_auth)
		return 0;
	if (t->clients_published != t->clients_gen &&
	    !tio_pending(t, C_ADD_ONION) && t->pn + 3 < TIO_PENDING_MAX) {
		log_info("tor: %zu clients may reach %s now; giving tor the "
		    "new list", t->nclients, t->st.address);
		return tio_publish(t);
	}
	if (t->cut_pending && t->clients_published == t->clients_gen &&
	    !tio_pending(t, C_ADD_ONION) && t->pn + 3 < TIO_PENDING_MAX) {
		t->cut_pending = 0;
		return tio_send(t, C_GETINFO_CIRCS, TORCTL_CMD_GETINFO_CIRCS);
	}
	while (t->cut_next < t->ncut && t->pn + 3 < TIO_PENDING_MAX &&
	    !tio_pending(t, C_CLOSECIRCUIT)) {
		if (torctl_fmt_close_circuit(cmd, sizeof(cmd),
		    t->cut[t->cut_next++]) == 0 &&
		    tio_send(t, C_CLOSECIRCUIT, cmd) != 0)
			return -1;
	}
	return 0;
}

/* Send what is owed once tor has answered something: the service
 * (tio_kick_service), and our client credentials (a few at a time, so
 * the FIFO keeps room). */
static void
tio_kick(struct torctl_io *t)
{
	char cmd[TORCTL_CMD_MAX];
	size_t i, inflight = 0;
	int rc;

	if (t->state != S_OPEN || !t->st.authenticated ||
	    tio_kick_service(t) != 0)
		return;
	for (i = 0; i < t->nsvcs; i++)
		inflight += t->svcs[i].state == SVC_SENT;
	for (i = 0; i < t->nsvcs && inflight < TIO_AUTH_INFLIGHT &&
	    t->pn + 3 < TIO_PENDING_MAX; i++) {
		struct tio_svc *v = &t->svcs[i];

		if (v->state == SVC_GONE) {
			rc = torctl_fmt_client_auth_remove(cmd, sizeof(cmd),
			    v->addr) == 0 ? tio_send(t, C_AUTH_REMOVE, cmd) :
			    0;
			memmove(v, v + 1, (t->nsvcs - i - 1) * sizeof(*v));
			t->nsvcs--;
			i--;
		} else if (v->state == SVC_WANT && t->our_sk != NULL) {
			if (torctl_fmt_client_auth_add(cmd, sizeof(cmd),
			    v->addr, t->our_sk) != 0) {
				v->state = SVC_FAILED;
				continue;
			}
			rc = tio_send(t, C_AUTH_ADD, cmd);
			sodium_memzero(cmd, sizeof(cmd));
			v->state = SVC_SENT;
			inflight++;
		} else {
			continue;
		}
		if (rc != 0)
			return;
	}
}

static void
tio_on_circs(struct torctl_io *t, const struct torctl_reply *r)
{
	char err[TORCTL_ERRLEN];
	int n;

	n = torctl_parse_rend_circuits(r, t->st.address, t->cut, TIO_CUT_MAX,
	    err, sizeof(err));
	if (n < 0) {
		log_warnx("tor: %s; the rendezvous circuits of %s stay open",
		    err, t->st.address);
		return;
	}
	t->ncut = (size_t)n;
	t->cut_next = 0;
	t->st.circuits_closed += (size_t)n;
	log_info("tor: a member was revoked: closing the %d rendezvous "
	    "circuits of %s (members dial again)", n, t->st.address);
}

static void
tio_on_auth_add(struct torctl_io *t, const struct torctl_reply *r)
{
	char d[160];
	size_t i;

	for (i = 0; i < t->nsvcs && t->svcs[i].state != SVC_SENT; i++)
		;
	if (i == t->nsvcs)
		return; /* its service left the list meanwhile */
	/* 251: tor had a key for it and took ours instead. */
	if (r->code == 250 || r->code == 251) {
		t->svcs[i].state = SVC_DONE;
		t->st.auth_services++;
		log_debug("tor: our client key given for %s",
		    t->svcs[i].addr);
		tio_changed(t);
		return;
	}
	t->svcs[i].state = SVC_FAILED;
	t->st.auth_refused++;
	torctl_reply_describe(r, d, sizeof(d));
	log_warnx("tor: refused our client key for %s: %s",
	    t->svcs[i].addr, d);
	tio_changed(t);
}

static void
tio_on_authenticate(struct torctl_io *t, const struct torctl_reply *r)
{
	char d[160];
	unsigned gen = t->gen;
	int rc = 0, ck;

	if (r->code != 250) {
		torctl_reply_describe(r, d, sizeof(d));
		ck = (t->auth & (TORCTL_AUTH_SAFECOOKIE |
		    TORCTL_AUTH_COOKIE)) != 0;
		tio_fail(t, "tor at %s refused %s authentication: %s%s%s%s",
		    t->control, t->st.auth_method, d, ck ? " (is " : "",
		    ck ? t->cookie_path : "", ck ? " this tor's cookie, its "
		    "CookieAuthFile? see tor_cookie)" : "");
		return;
	}
	t->st.authenticated = 1;
	t->st.connects++;
	log_info("tor: authenticated to tor %s at %s (%s)",
	    t->st.tor_version[0] ? t->st.tor_version : "(version unknown)",
	    t->control, t->st.auth_method);
	if (tio_send(t, C_SETEVENTS, TORCTL_CMD_SETEVENTS) != 0 ||
	    tio_send(t, C_GETINFO, TORCTL_CMD_GETINFO_BOOTSTRAP) != 0)
		return;
	if (t->key_blob != NULL)
		rc = tio_publish(t);
	if (rc == 0 && t->gen == gen)
		tio_changed(t);
}

static void
tio_set_bootstrap(struct torctl_io *t, const struct torctl_bootstrap *b)
{
	if (b->warn)
		log_warnx_rl(t, "tor: trouble bootstrapping at %d%% (%s): %s",
		    b->progress, b->tag, b->warning[0] ? b->warning :
		    b->summary);
	if (t->st.progress == b->progress &&
	    strcmp(t->st.tag, b->tag) == 0 &&
	    strcmp(t->st.summary, b->summary) == 0)
		return;
	if (b->progress == 100 && t->st.progress != 100)
		log_info("tor: bootstrapped 100%%");
	t->st.progress = b->progress;
	snprintf(t->st.tag, sizeof(t->st.tag), "%s", b->tag);
	snprintf(t->st.summary, sizeof(t->st.summary), "%s", b->summary);
	tio_changed(t);
}

static void
tio_on_setevents(struct torctl_io *t, const struct torctl_reply *r)
{
	char d[160];

	if (r->code == 250)
		return;
	torctl_reply_describe(r, d, sizeof(d));
	log_warnx("tor: refused SETEVENTS (%s): asking for the bootstrap "
	    "status every %.0f s instead", d, TIO_POLL_S);
	t->polling = 1;
	ev_timer_again(t->loop, &t->poll);
}

static void
tio_on_getinfo(struct torctl_io *t, const struct torctl_reply *r)
{
	struct torctl_bootstrap b;
	char err[TORCTL_ERRLEN];

	if (torctl_parse_getinfo_bootstrap(r, &b, err, sizeof(err)) != 0) {
		log_warnx_rl(t, "tor: %s", err);
		return;
	}
	tio_set_bootstrap(t, &b);
}

/* May tor's user pass `st` (search a folder: X_OK, or connect to a
 * socket: W_OK)? By owner, primary group, others, as the kernel checks;
 * tor's supplementary groups are not known here. */
static int
tio_may(const struct stat *st, uid_t uid, gid_t gid, unsigned bit)
{
	if (uid == 0)
		return 1;
	if (st->st_uid == uid)
		return (st->st_mode & (bit << 6)) != 0;
	if (st->st_gid == gid)
		return (st->st_mode & (bit << 3)) != 0;
	return (st->st_mode & bit) != 0;
}

/* Can tor (the peer of our Unix control connection) reach the target
 * socket? Sets st.target_error and logs it once when it cannot. */
static void
tio_check_target(struct torctl_io *t)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char msg[sizeof(t->st.target_error)];
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct stat sb;
	size_t i, n;

	msg[0] = '\0';
	if (t->sa.ss_family != AF_UNIX || strncmp(t->target, "unix:", 5) ||
	    getsockopt(t->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		goto done;
	snprintf(path, sizeof(path), "%s", t->target + 5);
	n = strlen(path);
	for (i = 1; i <= n; i++) {
		if (i < n && path[i] != '/')
			continue;
		path[i] = '\0';
		if (stat(path, &sb) == -1) {
			/* linkd has not made the socket yet: no verdict. */
			path[i] = i < n ? '/' : '\0';
			break;
		}
		if (!tio_may(&sb, uc.uid, uc.gid, S_ISDIR(sb.st_mode) ?
		    S_IXOTH : S_IWOTH)) {
			snprintf(msg, sizeof(msg), "tor (uid %u, gid %u) "
			    "cannot reach the onion service socket %s: %s "
			    "is mode %04o, owner %u, group %u; %s",
			    (unsigned)uc.uid, (unsigned)uc.gid,
			    t->target + 5, path,
			    (unsigned)(sb.st_mode & 07777),
			    (unsigned)sb.st_uid, (unsigned)sb.st_gid,
			    S_ISDIR(sb.st_mode) ? "tor must be able to "
			    "pass through it (chmod o+x, or put -d DIR "
			    "under folders anyone may pass, as /run is)" :
			    "restart linkd (it makes the socket 0666)");
			break;
		}
		if (i < n)
			path[i] = '/';
	}
done:
	if (msg[0] != '\0' && strcmp(msg, t->st.target_error) != 0)
		log_warnx("tor: %s", msg);
	memcpy(t->st.target_error, msg, sizeof(msg));
}

static void
tio_on_add_onion(struct torctl_io *t, const struct torctl_reply *r)
{
	char addr[ONION_ADDR_LEN + 1], err[TORCTL_ERRLEN];

	if (torctl_parse_add_onion(r, addr, err, sizeof(err)) != 0) {
		tio_fail(t, "%s", err);
		return;
	}
	if (strcmp(addr, t->st.address) != 0) {
		tio_fail(t, "tor published %s for our key, which gives %s",
		    addr, t->st.address);
		return;
	}
	memcpy(t->st.service_id, addr, sizeof(addr));
	t->st.published = 1;
	t->st.clients = t->client_auth ? t->nclients : 0;
	tio_check_target(t);
	t->st.last_error[0] = '\0';
	t->backoff = TIO_BACKOFF_MIN;
	log_info("tor: onion service %s published (port %u to %s%s)", addr,
	    (unsigned)t->virt_port, t->target, t->client_auth ?
	    ", members only" : "");
	tio_changed(t);
}

static void
tio_on_event(struct torctl_io *t, const struct torctl_reply *r)
{
	struct torctl_bootstrap b;
	char action[32], addr[ONION_ADDR_LEN + 1];
	const char *text = r->line[0].text;

	if (strncmp(text, "STATUS_CLIENT ", 14) == 0) {
		if (torctl_parse_bootstrap(text, &b) == 0)
			tio_set_bootstrap(t, &b);
		return;
	}
	if (torctl_parse_hs_desc(text, action, sizeof(action), addr) != 0 ||
	    strcmp(addr, t->st.address) != 0)
		return;
	if (strcmp(action, "UPLOADED") == 0) {
		if (t->st.desc_uploads++ == 0)
			log_info("tor: descriptor of %s uploaded", addr);
		tio_changed(t);
	} else if (strcmp(action, "FAILED") == 0)
		log_debug("tor: a descriptor upload of %s failed", addr);
}

/* What each command's answer does (DEL_ONION's: nothing, on the way
 * out). */
static void (*const tio_on_answer[])(struct torctl_io *,
    const struct torctl_reply *) = {
	[C_PROTOCOLINFO] = tio_on_protocolinfo,
	[C_AUTHCHALLENGE] = tio_on_authchallenge,
	[C_AUTHENTICATE] = tio_on_authenticate,
	[C_SETEVENTS] = tio_on_setevents,
	[C_GETINFO] = tio_on_getinfo,
	[C_ADD_ONION] = tio_on_add_onion,
	[C_DEL_ONION] = NULL,
	[C_AUTH_ADD] = tio_on_auth_add,
	[C_AUTH_REMOVE] = NULL,
	[C_GETINFO_CIRCS] = tio_on_circs,
	[C_CLOSECIRCUIT] = NULL,
};

static void
tio_on_reply(struct torctl_io *t, const struct torctl_reply *r)
{
	enum tio_cmd cmd;

	if (r->async) {
		tio_on_event(t, r);
		return;
	}
	if (t->pn == 0) {
		tio_fail(t, "tor sent a reply (%d) to no command of ours",
		    r->code);
		return;
	}
	cmd = t->pending[t->phead];
	t->phead = (t->phead + 1) % TIO_PENDING_MAX;
	t->pn--;
	if (t->pn == 0)
		ev_timer_stop(t->loop, &t->answer);
	else
		ev_timer_again(t->loop, &t->answer);
	if (tio_on_answer[cmd] != NULL)
		tio_on_answer[cmd](t, r);
	tio_kick(t);
}

static void
tio_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct torctl_io *t = w->data;
	char buf[TIO_READ_MAX];
	size_t off = 0, used;
	unsigned gen = t->gen;
	ssize_t n;
	int rc;

	n = read(t->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == 0) {
		tio_fail(t, "tor closed the control connection %s",
		    t->control);
		return;
	}
	if (n < 0) {
		tio_fail(t, "reading from tor's control port %s: %s",
		    t->control, strerror(errno));
		return;
	}
	while (off < (size_t)n) {
		rc = torctl_parser_feed(t->parser, buf + off, (size_t)n - off,
		    &used);
		off += used;
		if (rc < 0) {
			tio_fail(t, "tor's control port %s: %s", t->control,
			    t->parser->err);
			break;
		}
		if (rc == 0)
			break;
		tio_on_reply(t, &t->parser->reply);
		if (t->gen != gen)
			break; /* closed by the handler */
	}
	sodium_memzero(buf, sizeof(buf));
}

static void
tio_opened(struct torctl_io *t)
{
	t->state = S_OPEN;
	t->st.connected = 1;
	ev_io_stop(t->loop, &t->wio);
	ev_timer_stop(t->loop, &t->answer);
	ev_io_set(&t->rio, t->fd, EV_READ);
	ev_io_set(&t->wio, t->fd, EV_WRITE);
	ev_io_start(t->loop, &t->rio);
	log_debug("tor: connected to %s", t->control);
	if (tio_send(t, C_PROTOCOLINFO, TORCTL_CMD_PROTOCOLINFO) == 0)
		tio_changed(t);
}

/* A refused connect names the fix: for a Unix control socket, its
 * owner, group and mode next to what keyd has (t->access_hint). */
static void
tio_connect_failed(struct torctl_io *t, int err)
{
	const struct sockaddr_un *su = (const struct sockaddr_un *)&t->sa;
	char what[PATH_MAX + 96];
	struct stat sb;

	what[0] = '\0';
	if (err == EACCES && t->sa.ss_family == AF_UNIX &&
	    stat(su->sun_path, &sb) == 0)
		snprintf(what, sizeof(what), "; the socket is mode %04o, "
		    "owner %u, group %u", (unsigned)(sb.st_mode & 07777),
		    (unsigned)sb.st_uid, (unsigned)sb.st_gid);
	tio_fail(t, "cannot connect to tor's control port %s: %s%s%s%s",
	    t->control, strerror(err), what, err == EACCES ? "; " : "",
	    err == EACCES ? t->access_hint : "");
}

static void
tio_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct torctl_io *t = w->data;
	socklen_t len = sizeof(int);
	int err = 0;

	if (t->state == S_CONNECTING) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			tio_connect_failed(t, err);
			return;
		}
		tio_opened(t);
		return;
	}
	(void)tio_flush(t);
}

static void
tio_connect(struct torctl_io *t)
{
	int fd;

	fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		tio_fail(t, "cannot make a socket for tor's control port: %s",
		    strerror(errno));
		return;
	}
	t->fd = fd;
	torctl_parser_init(t->parser);
	if (connect(fd, (struct sockaddr *)&t->sa, t->salen) == 0) {
		tio_opened(t);
		return;
	}
	if (errno == EINPROGRESS) {
		t->state = S_CONNECTING;
		ev_io_set(&t->wio, fd, EV_WRITE);
		ev_io_start(t->loop, &t->wio);
		ev_timer_again(t->loop, &t->answer);
		return;
	}
	tio_connect_failed(t, errno);
}

static void
tio_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct torctl_io *t = w->data;

	if (t->state == S_IDLE)
		tio_connect(t);
}

static void
tio_answer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct torctl_io *t = w->data;

	if (t->state == S_CONNECTING)
		tio_fail(t, "connecting to tor's control port %s timed out",
		    t->control);
	else if (t->pn > 0)
		tio_fail(t, "tor at %s did not answer %s within %.0f s",
		    t->control, tio_cmd_name[t->pending[t->phead]],
		    TIO_ANSWER_S);
}

static void
tio_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct torctl_io *t = w->data;

	if (t->state == S_OPEN && t->st.authenticated &&
	    !tio_pending(t, C_GETINFO))
		(void)tio_send(t, C_GETINFO, TORCTL_CMD_GETINFO_BOOTSTRAP);
}

/* "unix:/path", "/path", "IPV4:PORT", "[IPV6]:PORT", "localhost:PORT"
 * (endpoint_split), into t->sa: numeric only, so connecting needs no
 * name lookup inside the sandbox. */
static int
tio_parse_control(struct torctl_io *t, const char *s)
{
	struct sockaddr_un *su = (struct sockaddr_un *)&t->sa;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->sa;
	char spec[sizeof(su->sun_path) + 8], err[256];
	struct endpoint ep;

	memset(&t->sa, 0, sizeof(t->sa));
	/* A bare absolute path is tor's own spelling of a socket. */
	snprintf(spec, sizeof(spec), "%s%s", s[0] == '/' ? "unix:" : "", s);
	if (endpoint_split(spec, &ep, err, sizeof(err)) == -1)
		goto bad;
	if (ep.is_unix) {
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, ep.path, strlen(ep.path) + 1);
		t->salen = (socklen_t)sizeof(*su);
		return 0;
	}
	if (strcmp(ep.host, "localhost") == 0)
		snprintf(ep.host, sizeof(ep.host), "127.0.0.1");
	if (inet_pton(AF_INET6, ep.host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ep.port);
		t->salen = (socklen_t)sizeof(*s6);
		return 0;
	}
	if (inet_pton(AF_INET, ep.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(ep.port);
		t->salen = (socklen_t)sizeof(*s4);
		return 0;
	}
bad:
	log_warnx("tor control port \"%s\" is not usable (want unix:/PATH, "
	    "IPV4:PORT, [IPV6]:PORT or localhost:PORT)", s);
	return -1;
}

static void
tio_free(struct torctl_io *t)
{
	if (t->key_blob != NULL) {
		sodium_memzero(t->key_blob, strlen(t->key_blob));
		free(t->key_blob);
	}
	if (t->password != NULL) {
		sodium_memzero(t->password, strlen(t->password));
		free(t->password);
	}
	if (t->our_sk != NULL)
		sodium_free(t->our_sk);
	free(t->clients);
	free(t->svcs);
	free(t->cut);
	free(t->control);
	free(t->cookie_path);
	free(t->access_hint);
	free(t->target);
	free(t->parser);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

/* A torctl_io holding copies of cfg's strings; NULL when out of
 * memory (logged). */
static struct torctl_io *
tio_new(const struct torctl_io_cfg *cfg)
{
	struct torctl_io *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = -1;
	t->loop = cfg->loop;
	t->virt_port = cfg->virt_port;
	t->on_change = cfg->on_change;
	t->arg = cfg->arg;
	t->backoff = TIO_BACKOFF_MIN;
	t->st.progress = -1;
	t->control = strdup(cfg->control);
	t->auth = cfg->auth != 0 ? cfg->auth : TORCTL_AUTH_SAFECOOKIE;
	t->cookie_path = strdup(cfg->cookie != NULL ? cfg->cookie : "");
	t->access_hint = strdup(cfg->access_hint != NULL ?
	    cfg->access_hint : "keyd's user needs access to it");
	t->client_auth = cfg->client_auth;
	if (cfg->key_blob != NULL)
		t->key_blob = strdup(cfg->key_blob);
	t->target = strdup(cfg->target != NULL ? cfg->target : "");
	if (cfg->password != NULL && cfg->password[0] != '\0')
		t->password = strdup(cfg->password);
	t->parser = malloc(sizeof(*t->parser));
	t->cut = calloc(TIO_CUT_MAX, sizeof(*t->cut));
	if (t->cut == NULL || t->control == NULL || (cfg->key_blob != NULL &&
	    t->key_blob == NULL) || t->target == NULL ||
	    t->cookie_path == NULL || t->access_hint == NULL ||
	    t->parser == NULL || (cfg->password != NULL &&
	    cfg->password[0] != '\0' && t->password == NULL)) {
		log_warnx("tor: out of memory");
		tio_free(t);
		return NULL;
	}
	return t;
}

/* The key, the method, the ports and the target are usable; the
 * service's address into t->st. 0, or -1 (logged). */
static int
tio_check_cfg(struct torctl_io *t)
{
	struct onion_key k;
	char why[TORCTL_ERRLEN];

	if (t->key_blob == NULL)
		goto auth; /* a client only */
	if (onion_key_from_blob(&k, t->key_blob, why, sizeof(why)) != 0) {
		log_warnx("tor: %s", why);
		return -1;
	}
	onion_addr_from_pk(t->st.address, k.pk);
	onion_key_wipe(&k);
	if (t->virt_port == 0) {
		log_warnx("tor: onion service port 0 is not usable (want "
		    "1..65535)");
		return -1;
	}
	if (torctl_target_check(t->target, why, sizeof(why)) != 0) {
		log_warnx("tor: %s", why);
		return -1;
	}
auth:
	if (t->auth != TORCTL_AUTH_SAFECOOKIE &&
	    t->auth != TORCTL_AUTH_COOKIE &&
	    t->auth != TORCTL_AUTH_HASHEDPASSWORD &&
	    t->auth != TORCTL_AUTH_NULL) {
		log_warnx("tor: authentication method %#x is not one method",
		    t->auth);
		return -1;
	}
	if ((t->auth == TORCTL_AUTH_SAFECOOKIE ||
	    t->auth == TORCTL_AUTH_COOKIE) && t->cookie_path[0] != '/') {
		log_warnx("tor: %s authentication needs the absolute path of "
		    "tor's cookie file (tor_cookie), not \"%s\"",
		    tio_auth_name(t->auth), t->cookie_path);
		return -1;
	}
	return tio_parse_control(t, t->control);
}

struct torctl_io *
torctl_io_start(const struct torctl_io_cfg *cfg)
{
	struct torctl_io *t;

	if (cfg->loop == NULL || cfg->control == NULL ||
	    (cfg->key_blob != NULL && cfg->target == NULL)) {
		log_warnx("tor: control port, onion key and target are all "
		    "needed to publish the onion service");
		errno = EINVAL;
		return NULL;
	}
	if ((t = tio_new(cfg)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (tio_check_cfg(t) != 0) {
		tio_free(t);
		errno = EINVAL;
		return NULL;
	}
	torctl_parser_init(t->parser);
	ev_io_init(&t->rio, tio_read_cb, 0, EV_READ);
	ev_io_init(&t->wio, tio_write_cb, 0, EV_WRITE);
	ev_timer_init(&t->retry, tio_retry_cb, 0., 0.);
	ev_timer_init(&t->answer, tio_answer_cb, 0., TIO_ANSWER_S);
	ev_timer_init(&t->poll, tio_poll_cb, 0., TIO_POLL_S);
	t->rio.data = t->wio.data = t;
	t->retry.data = t->answer.data = t->poll.data = t;
	/* First attempt from the loop, so on_change never runs before the
	 * caller has our pointer. */
	ev_timer_set(&t->retry, 0., 0.);
	ev_timer_start(t->loop, &t->retry);
	return t;
}

static long
ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 +
	    (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* On the way out the loop no longer runs: write DEL_ONION and wait for
 * its answer in place, at most TIO_STOP_MS. Everything else tor says
 * meanwhile is dropped. */
static void
tio_del_onion_now(struct torctl_io *t)
{
	struct pollfd pfd;
	struct timespec t0;
	char cmd[128], buf[TIO_READ_MAX];
	size_t off, used;
	ssize_t n;
	long left;
	int rc;

	if (torctl_fmt_del_onion(cmd, sizeof(cmd), t->st.service_id) != 0)
		return;
	n = (ssize_t)strlen(cmd);
	if (t->pn == TIO_PENDING_MAX || (size_t)n > sizeof(t->wbuf) - t->wlen)
		return;
	memcpy(t->wbuf + t->wlen, cmd, (size_t)n);
	t->wlen += (size_t)n;
	t->pending[(t->phead + t->pn++) % TIO_PENDING_MAX] = C_DEL_ONION;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = TIO_STOP_MS - ms_since(&t0)) > 0) {
		pfd.fd = t->fd;
		pfd.events = t->woff < t->wlen ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (t->woff < t->wlen) {
			n = send(t->fd, t->wbuf + t->woff, t->wlen - t->woff,
			    MSG_NOSIGNAL);
			if (n <= 0 && errno != EAGAIN && errno != EINTR)
				return;
			if (n > 0)
				t->woff += (size_t)n;
			continue;
		}
		n = read(t->fd, buf, sizeof(buf));
		if (n <= 0 && !(n == -1 && (errno == EAGAIN ||
		    errno == EINTR)))
			return;
		for (off = 0; n > 0 && off < (size_t)n; off += used) {
			rc = torctl_parser_feed(t->parser, buf + off,
			    (size_t)n - off, &used);
			if (rc < 0)
				return;
			if (rc == 0)
				break;
			if (t->parser->reply.async || t->pn == 0)
				continue;
			if (t->pending[t->phead] == C_DEL_ONION) {
				if (t->parser->reply.code == 250)
					log_info("tor: onion service %s "
					    "withdrawn", t->st.service_id);
				return;
			}
			t->phead = (t->phead + 1) % TIO_PENDING_MAX;
			t->pn--;
		}
	}
	log_debug("tor: no answer to DEL_ONION; closing anyway");
}

void
torctl_io_stop(struct torctl_io *t)
{
	if (t == NULL)
		return;
	if (t->state == S_OPEN && t->st.published)
		tio_del_onion_now(t);
	tio_close(t);
	ev_timer_stop(t->loop, &t->retry);
	tio_free(t);
}

/* The clients as given (sorted by the caller): new when they differ. */
static int
tio_set_clients(struct torctl_io *t,
    const uint8_t (*clients)[ONION_AUTH_KEY_BYTES], size_t n)
{
	uint8_t (*c)[ONION_AUTH_KEY_BYTES] = NULL;

	if (n == t->nclients && (n == 0 ||
	    memcmp(clients, t->clients, n * sizeof(*clients)) == 0))
		return 0;
	if (n > 0 && (c = malloc(n * sizeof(*c))) == NULL)
		return -1;
	if (n > 0)
		memcpy(c, clients, n * sizeof(*c));
	free(t->clients);
	t->clients = c;
	t->nclients = n;
	t->clients_gen++;
	return 0;
}

/* Our key, and the services to use it for: new ones are wanted, those
 * no longer named are to be removed from tor. */
static int
tio_set_services(struct torctl_io *t, const uint8_t *sk,
    const char (*svcs)[ONION_ADDR_LEN + 1], size_t n)
{
	struct tio_svc *v;
	size_t i, j, keep = t->nsvcs;
	int sk_new;

	sk_new = (sk == NULL) != (t->our_sk == NULL) || (sk != NULL &&
	    sodium_memcmp(sk, t->our_sk, ONION_AUTH_KEY_BYTES) != 0);
	if (sk != NULL && t->our_sk == NULL &&
	    (t->our_sk = sodium_malloc(ONION_AUTH_KEY_BYTES)) == NULL)
		return -1;
	if (sk != NULL)
		memcpy(t->our_sk, sk, ONION_AUTH_KEY_BYTES);
	if ((v = realloc(t->svcs, (keep + n + 1) * sizeof(*v))) == NULL)
		return -1;
	t->svcs = v;
	/* Named again: kept (wanted again with a new key or after it
	 * was to go); new: wanted; the old ones not named (marked by a
	 * non-NUL in the spare byte while we look): gone. */
	for (j = 0; j < n; j++) {
		for (i = 0; i < keep && strcmp(v[i].addr, svcs[j]) != 0; i++)
			;
		if (i == keep) {
			memcpy(v[t->nsvcs].addr, svcs[j], ONION_ADDR_LEN + 1);
			v[t->nsvcs++].state = SVC_WANT;
			continue;
		}
		if (sk_new || v[i].state == SVC_GONE)
			v[i].state = SVC_WANT;
		v[i].addr[ONION_ADDR_LEN] = 1;
	}
	t->st.auth_services = 0;
	for (i = 0; i < keep; i++) {
		if (v[i].addr[ONION_ADDR_LEN] == 1)
			v[i].addr[ONION_ADDR_LEN] = '\0';
		else
			v[i].state = SVC_GONE;
		t->st.auth_services += v[i].state == SVC_DONE;
	}
	return 0;
}

int
torctl_io_set_auth(struct torctl_io *t,
    const uint8_t (*clients)[ONION_AUTH_KEY_BYTES], size_t nclients,
    int cut, const uint8_t *our_sk,
    const char (*svcs)[ONION_ADDR_LEN + 1], size_t nsvcs)
{
	if (nclients > TORCTL_AUTH_CLIENTS_MAX) {
		log_warnx("tor: %zu members' client keys are more than "
		    "ADD_ONION takes from us (%d): keeping the list as it "
		    "was", nclients, TORCTL_AUTH_CLIENTS_MAX);
		return -1;
	}
	if (tio_set_clients(t, clients, nclients) != 0 ||
	    tio_set_services(t, our_sk, svcs, nsvcs) != 0) {
		log_warnx("tor: out of memory for the client keys");
		return -1;
	}
	if (cut && t->client_auth)
		t->cut_pending = 1;
	tio_kick(t);
	return 0;
}

void
torctl_io_get_status(const struct torctl_io *t, struct torctl_io_status *st)
{
	*st = t->st;
}

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
torctl_io_status_json(const struct torctl_io *t)
{
	const struct torctl_io_status *s = &t->st;
	json_t *b;

	b = json_pack("{s:o, s:o, s:o}",
	    "progress", s->progress >= 0 ? json_integer(s->progress) :
	    json_null(),
	    "tag", str_or_null(s->tag),
	    "summary", str_or_null(s->summary));
	return json_pack("{s:s, s:o, s:b, s:b, s:o, s:o, s:o, s:b, s:s, s:o,"
	    " s:I, s:I, s:o, s:o, s:b, s:I, s:I, s:I}",
	    "control", t->control,
	    "cookie", str_or_null(t->cookie_path),
	    "connected", s->connected,
	    "authenticated", s->authenticated,
	    "auth", str_or_null(s->auth_method),
	    "tor_version", str_or_null(s->tor_version),
	    "bootstrap", b,
	    "published", s->published,
	    "address", s->address,
	    "service_id", str_or_null(s->service_id),
	    "desc_uploads", (json_int_t)s->desc_uploads,
	    "connects", (json_int_t)s->connects,
	    "last_error", str_or_null(s->last_error),
	    "target_error", str_or_null(s->target_error),
	    "client_auth", t->client_auth,
	    "clients", (json_int_t)s->clients,
	    "client_keys_given", (json_int_t)s->auth_services,
	    "circuits_closed", (json_int_t)s->circuits_closed);
}
