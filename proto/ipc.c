/*
 * IPC glue: nng sockets over ipc:// paths, driven by each daemon's libev
 * loop.
 *
 * Threads. nng runs its own worker threads; a daemon's handlers must run
 * on its loop thread only, so that no daemon state needs a lock. The two
 * meet in two places:
 *  - receiving: nng's NNG_OPT_RECVFD is a descriptor that is readable
 *    while a message waits. An ev_io watches it and the callback drains
 *    with NNG_FLAG_NONBLOCK (a bounded batch per wake-up, so one busy
 *    peer cannot starve the rest of the loop);
 *  - pipe events: nng calls the pipe notifier on its own thread. That
 *    callback touches only atomics and ev_async_send(); the async
 *    watcher then runs on_up, and logs refused connections, on the loop.
 *
 * Trust. Every pipe is checked before it is added (NNG_PIPE_EV_ADD_PRE):
 * the peer's uid from SO_PEERCRED (NNG_OPT_IPC_PEER_UID) must be the uid
 * of the daemon this socket expects, on the listening side and on the
 * dialing side (so a process that got to the socket path first cannot
 * pose as keyd). Every message then passes msg_hdr_decode() and
 * msg_check() against the peer's role before a handler sees it; a
 * refused one is logged rate-limited and dropped. A sibling that sends
 * garbage is a bug, but it must not be able to crash or flood us.
 *
 * Sending never blocks the loop: nonblocking sends into a generous send
 * buffer, and -1 when it is full or nobody is connected; the daemon's
 * on_up resend covers what was lost.
 *
 * The rpc client (linkd asking keyd for a DH or a signature) is the one
 * blocking call: a req0 socket with a deadline, like OpenSSH's mm_*
 * wrappers. The ctl server answers JSON on a rep0 socket; whether the
 * caller may change things is decided per request from its uid.
 */
#include "proto/ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "proto/dispatch.h"
#include "proto/log.h"

#define IPC_PATH_MAX   sizeof(((struct sockaddr_un *)0)->sun_path)
#define IPC_URL_MAX    (IPC_PATH_MAX + 8)
#define IPC_RECV_BATCH 64      /* messages per wake-up of a channel */
#define IPC_SENDBUF    1024    /* messages queued towards a slow peer */
#define IPC_RECONN_MIN 100     /* ms: a restarted sibling is back fast */
#define IPC_RECONN_MAX 1000
#define IPC_CTL_MAX    (1024 * 1024)      /* a ctl request */
#define IPC_CTL_REPLY_MAX (64 * 1024 * 1024) /* a ctl reply (lists) */

/*
 * What the pipe notifier (nng's thread) shares with the loop. Only
 * atomics and immutable fields are touched from nng's side.
 */
struct ipc_watch {
	char path[IPC_PATH_MAX];
	int check_uid;
	uid_t want_uid;
	/* Dialing side: a listener's credentials are those it had when it
	 * called listen(), and daemons listen before they drop privileges,
	 * so root is the expected uid too. Only root and the onionmesh
	 * group can create a socket in the run dir (sticky, so no member
	 * can replace another's). */
	int allow_root;
	struct ev_loop *loop;  /* NULL: no loop, log from nng's thread */
	ev_async *async;
	atomic_uint cur_pipe;  /* id of the added pipe, 0 none */
	atomic_uint ups;       /* pipes added so far */
	atomic_uint refused;   /* pipes refused so far */
	atomic_ullong refused_uid;
	atomic_llong last_log;  /* time of the last line from nng's side */
	unsigned int ups_seen; /* loop side */
	unsigned int refused_seen;
};

struct ipc_chan {
	struct ipc_chan_cfg cfg;
	struct ipc_watch w;
	nng_socket sock;
	ev_io rd;
	ev_async async;
	int busy;              /* inside a handler */
	int closed;            /* ipc_chan_close ran during a handler */
};

struct ipc_rpc {
	struct ipc_watch w;
	nng_socket sock;
	struct ev_loop *loop;  /* NULL on the client side */
	ev_io rd;
	ev_async async;
	enum daemon self;
	enum daemon peer;
	ipc_rpc_cb cb;
	void *arg;
	uint32_t next_req;
	uint8_t *reply;        /* server: MSG_MAX_LEN scratch */
};

struct ipc_ctl {
	struct ev_loop *loop;
	char path[IPC_PATH_MAX];
	nng_socket sock;
	ev_io rd;
	const struct ctl_cmd *tab;
	size_t ntab;
	const char *daemon;
	void *arg;
};

int
ipc_path(char *out, size_t cap, const char *rundir, const char *name)
{
	int n;

	n = snprintf(out, cap, "%s/%s", rundir, name);
	if (n < 0 || (size_t)n >= cap || (size_t)n >= IPC_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
ipc_url(char *url, size_t cap, const char *path)
{
	int n = snprintf(url, cap, "ipc://%s", path);

	if (n < 0 || (size_t)n >= cap || strlen(path) >= IPC_PATH_MAX) {
		log_warnx("socket path %s is too long: at most %zu bytes fit "
		    "a Unix socket address", path, IPC_PATH_MAX - 1);
		return -1;
	}
	return 0;
}

static int
ipc_copy_path(char *dst, const char *path)
{
	if (path == NULL || *path == '\0') {
		log_warnx("IPC socket path is empty");
		return -1;
	}
	if (strlen(path) >= IPC_PATH_MAX) {
		log_warnx("socket path %s is too long: at most %zu bytes fit "
		    "a Unix socket address", path, IPC_PATH_MAX - 1);
		return -1;
	}
	strcpy(dst, path);
	return 0;
}

/* Pipe events, on nng's threads. */

/* At most one line per 10 s from nng's threads, where log_warnx_rl
 * (not thread-safe) cannot be used. */
static int
ipc_log_ok(struct ipc_watch *w)
{
	long long now = (long long)time(NULL);
	long long last = atomic_load(&w->last_log);

	if (last != 0 && now - last < 10)
		return 0;
	return atomic_compare_exchange_strong(&w->last_log, &last, now);
}

static void
ipc_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ipc_watch *w = arg;
	uint64_t uid = UINT64_MAX;
	unsigned int id = (unsigned int)nng_pipe_id(p);
	unsigned int expect;

	switch (ev) {
	case NNG_PIPE_EV_ADD_PRE:
		if (!w->check_uid)
			break;
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0 &&
		    (uid == (uint64_t)w->want_uid ||
		    (w->allow_root && uid == 0)))
			break;
		nng_pipe_close(p);
		atomic_store(&w->refused_uid, (unsigned long long)uid);
		atomic_fetch_add(&w->refused, 1);
		if (w->loop != NULL)
			ev_async_send(w->loop, w->async);
		else if (ipc_log_ok(w))
			log_warnx("refused IPC connection on %s from uid %lld "
			    "(want uid %u)", w->path,
			    uid == UINT64_MAX ? -1LL : (long long)uid,
			    (unsigned)w->want_uid);
		break;
	case NNG_PIPE_EV_ADD_POST:
		atomic_store(&w->cur_pipe, id);
		atomic_fetch_add(&w->ups, 1);
		if (w->loop != NULL)
			ev_async_send(w->loop, w->async);
		break;
	case NNG_PIPE_EV_REM_POST:
		/* Only the pipe that was added counts: a second one that
		 * pair1 turned away must not mark the channel down. */
		expect = id;
		atomic_compare_exchange_strong(&w->cur_pipe, &expect, 0);
		break;
	default:
		break;
	}
}

static int
ipc_notify(nng_socket s, struct ipc_watch *w)
{
	int rv;

	if ((rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, ipc_pipe_cb,
	    w)) != 0 ||
	    (rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, ipc_pipe_cb,
	    w)) != 0 ||
	    (rv = nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, ipc_pipe_cb,
	    w)) != 0) {
		log_warnx("%s: cannot watch connections: %s", w->path,
		    nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* On the loop: report refused pipes; 1 if a pipe came up since the last
 * call (and is still up). */
static int
ipc_watch_poll(struct ipc_watch *w)
{
	unsigned int ups, refused;
	unsigned long long uid;

	refused = atomic_load(&w->refused);
	if (refused != w->refused_seen) {
		w->refused_seen = refused;
		uid = atomic_load(&w->refused_uid);
		log_warnx_rl(w, "refused IPC connection on %s from uid %lld "
		    "(want uid %u)", w->path,
		    uid == UINT64_MAX ? -1LL : (long long)uid,
		    (unsigned)w->want_uid);
	}
	ups = atomic_load(&w->ups);
	if (ups == w->ups_seen)
		return 0;
	w->ups_seen = ups;
	return atomic_load(&w->cur_pipe) != 0;
}

/*
 * A live nng listener answers a connection with its 8-byte SP header.
 * The probe reads it and sends a header nng refuses (EPROTO), then
 * closes. The dance matters: nng 1.5.2 stops accepting for good when a
 * client closes before the listener has sent its header (the EPIPE
 * becomes NNG_ECLOSED, which its accept loop takes as "listener
 * closed"); after a refused header it only pauses 100 ms.
 */
static void
ipc_probe_live(int fd)
{
	static const char junk[8] = "probe!!!";
	struct pollfd pfd;
	char hdr[8];

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN))
		(void)read(fd, hdr, sizeof(hdr));
	(void)send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
}

/*
 * Before listening: a socket file left by a dead process is removed, a
 * live one (someone answers) is not, and neither is anything that is
 * not a socket.
 */
static int
ipc_prepare_listen(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("cannot check socket path %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s exists and is not a socket; move it away",
		    path);
		errno = EEXIST;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path); /* length checked by the caller */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	if (rc == 0)
		ipc_probe_live(fd);
	close(fd);
	if (rc == 0) {
		log_warnx("%s is in use by a running process (is another "
		    "instance of this daemon running?)", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (saved != ECONNREFUSED && saved != ENOENT) {
		errno = saved;
		log_warn("cannot check socket %s", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("cannot remove stale socket %s", path);
		return -1;
	}
	log_debug("removed stale socket %s", path);
	return 0;
}

static int
ipc_listen_url(nng_socket s, const char *path)
{
	char url[IPC_URL_MAX];
	nng_listener l;
	int rv;

	if (ipc_url(url, sizeof(url), path) == -1)
		return -1;
	if (ipc_prepare_listen(path) == -1)
		return -1;
	if ((rv = nng_listener_create(&l, s, url)) != 0) {
		log_warnx("cannot listen on %s: %s", path, nng_strerror(rv));
		return -1;
	}
	/* 0660: the daemons share the group; everyone else stays out. */
	if ((rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS,
	    0660)) != 0) {
		log_warnx("cannot set permissions of %s: %s", path,
		    nng_strerror(rv));
		nng_listener_close(l);
		return -1;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		log_warnx("cannot listen on %s: %s", path, nng_strerror(rv));
		nng_listener_close(l);
		return -1;
	}
	return 0;
}

/* Dial in the background: nng retries until the listener appears. */
static int
ipc_dial_url(nng_socket s, const char *path)
{
	char url[IPC_URL_MAX];
	int rv;

	if (ipc_url(url, sizeof(url), path) == -1)
		return -1;
	if ((rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("cannot dial %s: %s", path, nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void
ipc_sock_opts(nng_socket s, const char *path)
{
	int rv;

	/* A message is at most a header and MSG_MAX_LEN of payload;
	 * nng drops anything larger before we see it. */
	if ((rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ,
	    MSG_HDR_LEN + MSG_MAX_LEN)) != 0)
		log_warnx("%s: cannot bound message size: %s", path,
		    nng_strerror(rv));
	(void)nng_socket_set_ms(s, NNG_OPT_RECONNMINT, IPC_RECONN_MIN);
	(void)nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, IPC_RECONN_MAX);
}

static int
ipc_recv_fd(nng_socket s, const char *path, int *fd)
{
	int rv;

	if ((rv = nng_socket_get_int(s, NNG_OPT_RECVFD, fd)) != 0) {
		log_warnx("%s: no pollable receive descriptor: %s", path,
		    nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* Build a catalogue message: header + payload. */
static nng_msg *
ipc_msg_new(uint16_t type, uint32_t obj, uint32_t req,
    const struct buf_w *payload)
{
	struct msg_hdr h;
	nng_msg *m;
	size_t len = payload != NULL ? payload->len : 0;

	if (nng_msg_alloc(&m, MSG_HDR_LEN + len) != 0)
		return NULL;
	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.type = type;
	h.length = (uint32_t)len;
	h.obj = obj;
	h.req = req;
	msg_hdr_encode(nng_msg_body(m), &h);
	if (len > 0)
		memcpy((uint8_t *)nng_msg_body(m) + MSG_HDR_LEN, payload->p,
		    len);
	return m;
}

/*
 * Our own side of the catalogue: a daemon that tries to send what its
 * peer would drop has a bug, and hears about it here rather than as a
 * silent drop on the other side.
 */
static int
ipc_check_out(const char *path, uint16_t type, const struct buf_w *payload,
    enum daemon self)
{
	const char *why;
	size_t len = payload != NULL ? payload->len : 0;

	if (payload != NULL && payload->err) {
		log_warnx_rl(path, "%s: not sending %s (0x%04x): its encoding "
		    "did not fit", path, msg_name(type), type);
		errno = EINVAL;
		return -1;
	}
	if (msg_check(type, len, self, &why) == -1) {
		log_warnx_rl(path, "%s: not sending %s (0x%04x, %zu bytes) as "
		    "%s: %s", path, msg_name(type), type, len,
		    daemon_name(self), why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * Decode and check one received message from `peer`; on success *h and
 * *payload describe it. Refusals are logged (rate-limited per socket).
 */
static int
ipc_check_in(const void *key, const char *path, nng_msg *m,
    enum daemon peer, struct msg_hdr *h, const uint8_t **payload)
{
	const uint8_t *body = nng_msg_body(m);
	size_t len = nng_msg_len(m);
	const char *why;

	if (msg_hdr_decode(h, body, len) == -1) {
		log_warnx_rl(key, "%s: dropped a %zu-byte message from %s: "
		    "bad header (version, or length not matching the "
		    "message)", path, len, daemon_name(peer));
		return -1;
	}
	if (msg_check(h->type, h->length, peer, &why) == -1) {
		log_warnx_rl(key, "%s: dropped %s (0x%04x, %u bytes) from %s: "
		    "%s", path, msg_name(h->type), h->type, h->length,
		    daemon_name(peer), why);
		return -1;
	}
	*payload = body + MSG_HDR_LEN;
	return 0;
}

/* Channels */

static void
ipc_chan_free(struct ipc_chan *c)
{
	free(c);
}

static void
ipc_chan_async_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct ipc_chan *c = a->data;

	(void)loop;
	(void)revents;
	if (!ipc_watch_poll(&c->w) || c->cfg.on_up == NULL)
		return;
	log_debug("%s: %s connected", c->w.path, daemon_name(c->cfg.peer));
	c->busy++;
	c->cfg.on_up(c, c->cfg.arg);
	c->busy--;
	if (c->closed && c->busy == 0)
		ipc_chan_free(c);
}

static void
ipc_chan_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ipc_chan *c = io->data;
	const uint8_t *payload;
	struct msg_hdr h;
	nng_msg *m;
	int i, rv;

	(void)loop;
	(void)revents;
	c->busy++;
	for (i = 0; i < IPC_RECV_BATCH && !c->closed; i++) {
		rv = nng_recvmsg(c->sock, &m, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			break;
		if (rv != 0) {
			if (rv != NNG_ECLOSED)
				log_warnx_rl(c, "%s: receive: %s", c->w.path,
				    nng_strerror(rv));
			break;
		}
		if (ipc_check_in(c, c->w.path, m, c->cfg.peer, &h,
		    &payload) != 0)
			;
		else if (c->cfg.handlers != NULL)
			(void)msg_dispatch(c->cfg.handlers,
			    c->cfg.nhandlers, c->cfg.peer, c->cfg.arg, &h,
			    payload);
		else
			c->cfg.on_msg(c, &h, payload, c->cfg.arg);
		nng_msg_free(m);
	}
	c->busy--;
	if (c->closed && c->busy == 0)
		ipc_chan_free(c);
}

static struct ipc_chan *
ipc_chan_open(const struct ipc_chan_cfg *cfg, int listen)
{
	struct ipc_chan *c;
	int fd, rv;

	if (cfg->loop == NULL || (cfg->on_msg == NULL &&
	    cfg->handlers == NULL)) {
		log_warnx("IPC channel %s: no loop or message handler",
		    cfg->path ? cfg->path : "(null)");
		return NULL;
	}
	if (cfg->handlers != NULL && msg_table_check(cfg->handlers,
	    cfg->nhandlers, daemon_name(cfg->self)) == -1)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("IPC channel");
		return NULL;
	}
	c->cfg = *cfg;
	if (ipc_copy_path(c->w.path, cfg->path) == -1) {
		free(c);
		return NULL;
	}
	c->cfg.path = c->w.path;
	c->w.check_uid = 1;
	c->w.want_uid = cfg->peer_uid;
	c->w.allow_root = !listen;
	c->w.loop = cfg->loop;
	c->w.async = &c->async;
	if ((rv = nng_pair1_open(&c->sock)) != 0) {
		log_warnx("%s: cannot open a pair socket: %s", c->w.path,
		    nng_strerror(rv));
		free(c);
		return NULL;
	}
	ipc_sock_opts(c->sock, c->w.path);
	if ((rv = nng_socket_set_int(c->sock, NNG_OPT_SENDBUF,
	    IPC_SENDBUF)) != 0)
		log_debug("%s: send buffer: %s", c->w.path, nng_strerror(rv));
	if (ipc_notify(c->sock, &c->w) == -1 ||
	    ipc_recv_fd(c->sock, c->w.path, &fd) == -1)
		goto fail;

	ev_async_init(&c->async, ipc_chan_async_cb);
	c->async.data = c;
	ev_async_start(cfg->loop, &c->async);
	ev_io_init(&c->rd, ipc_chan_read_cb, fd, EV_READ);
	c->rd.data = c;
	ev_io_start(cfg->loop, &c->rd);

	if ((listen ? ipc_listen_url(c->sock, c->w.path) :
	    ipc_dial_url(c->sock, c->w.path)) == -1) {
		ev_io_stop(cfg->loop, &c->rd);
		ev_async_stop(cfg->loop, &c->async);
		goto fail;
	}
	return c;
fail:
	nng_close(c->sock);
	free(c);
	return NULL;
}

struct ipc_chan *
ipc_chan_listen(const struct ipc_chan_cfg *cfg)
{
	return ipc_chan_open(cfg, 1);
}

struct ipc_chan *
ipc_chan_dial(const struct ipc_chan_cfg *cfg)
{
	return ipc_chan_open(cfg, 0);
}

int
ipc_send(struct ipc_chan *c, uint16_t type, uint32_t obj, uint32_t req,
    const struct buf_w *payload)
{
	nng_msg *m;
	int rv;

	if (c == NULL || c->closed) {
		errno = EBADF;
		return -1;
	}
	if (ipc_check_out(c->w.path, type, payload, c->cfg.self) == -1)
		return -1;
	/* pair1 would queue for a peer that is not there and deliver the
	 * stale messages ahead of the on_up resend; refuse instead. */
	if (atomic_load(&c->w.cur_pipe) == 0) {
		errno = ENOTCONN;
		return -1;
	}
	if ((m = ipc_msg_new(type, obj, req, payload)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if ((rv = nng_sendmsg(c->sock, m, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(m);
		log_debug("%s: %s not queued: %s", c->w.path, msg_name(type),
		    nng_strerror(rv));
		errno = rv == NNG_EAGAIN ? EAGAIN : EIO;
		return -1;
	}
	return 0;
}

int
ipc_chan_connected(const struct ipc_chan *c)
{
	return c != NULL &&
	    atomic_load(&((struct ipc_chan *)c)->w.cur_pipe) != 0;
}

void
ipc_chan_close(struct ipc_chan *c)
{
	if (c == NULL || c->closed)
		return;
	/* nng_close returns after the last pipe callback; only then can
	 * the async watcher (which those callbacks poke) go. */
	nng_close(c->sock);
	ev_io_stop(c->cfg.loop, &c->rd);
	ev_async_stop(c->cfg.loop, &c->async);
	c->closed = 1;
	if (c->busy == 0)
		ipc_chan_free(c);
}

/* rpc: server */

#define IPC_RPC_REPLY_MS 200   /* the longest a reply may wait for its pipe */

static void
ipc_rpc_async_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct ipc_rpc *r = a->data;

	(void)loop;
	(void)revents;
	(void)ipc_watch_poll(&r->w);
}

static void
ipc_rpc_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ipc_rpc *r = io->data;
	const uint8_t *payload;
	struct msg_hdr h;
	struct buf_w reply;
	uint16_t rtype;
	nng_msg *m, *out;
	int i, rv;

	(void)loop;
	(void)revents;
	for (i = 0; i < IPC_RECV_BATCH; i++) {
		rv = nng_recvmsg(r->sock, &m, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			break;
		if (rv != 0) {
			if (rv != NNG_ECLOSED)
				log_warnx_rl(r, "%s: receive: %s", r->w.path,
				    nng_strerror(rv));
			break;
		}
		if (ipc_check_in(r, r->w.path, m, r->peer, &h,
		    &payload) == -1) {
			nng_msg_free(m);
			continue;
		}
		bw_init(&reply, r->reply, MSG_MAX_LEN);
		rtype = r->cb(&h, payload, &reply, r->arg);
		nng_msg_free(m);
		/* 0: no answer; the caller's deadline tells it. */
		if (rtype == 0 || ipc_check_out(r->w.path, rtype, &reply,
		    r->self) == -1) {
			explicit_bzero(r->reply, reply.len);
			continue;
		}
		out = ipc_msg_new(rtype, h.obj, h.req, &reply);
		/* A DH reply holds a shared secret: keep no copy here. */
		explicit_bzero(r->reply, reply.len);
		if (out == NULL)
			continue;
		/* Not NNG_FLAG_NONBLOCK: rep0 refuses a reply with EAGAIN
		 * while the pipe still sends the previous one, and a DH
		 * reply lost that way stalls linkd for its whole deadline
		 * (and was seen to leave its next calls failing). A short
		 * wait here is the cheaper side. */
		(void)nng_socket_set_ms(r->sock, NNG_OPT_SENDTIMEO,
		    IPC_RPC_REPLY_MS);
		if ((rv = nng_sendmsg(r->sock, out, 0)) != 0) {
			nng_msg_free(out);
			log_warnx_rl(r, "%s: reply %s not sent: %s", r->w.path,
			    msg_name(rtype), nng_strerror(rv));
		}
	}
}

static struct ipc_rpc *
ipc_rpc_new(const char *path, enum daemon self, enum daemon peer,
    uid_t peer_uid)
{
	struct ipc_rpc *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("IPC rpc");
		return NULL;
	}
	if (ipc_copy_path(r->w.path, path) == -1) {
		free(r);
		return NULL;
	}
	r->w.check_uid = 1;
	r->w.want_uid = peer_uid;
	r->self = self;
	r->peer = peer;
	return r;
}

struct ipc_rpc *
ipc_rpc_listen(struct ev_loop *loop, const char *path, enum daemon self,
    enum daemon peer, uid_t peer_uid, ipc_rpc_cb cb, void *arg)
{
	struct ipc_rpc *r;
	int fd, rv;

	if (loop == NULL || cb == NULL) {
		log_warnx("IPC rpc %s: no loop or handler",
		    path ? path : "(null)");
		return NULL;
	}
	if ((r = ipc_rpc_new(path, self, peer, peer_uid)) == NULL)
		return NULL;
	r->loop = loop;
	r->cb = cb;
	r->arg = arg;
	r->w.loop = loop;
	r->w.async = &r->async;
	if ((r->reply = malloc(MSG_MAX_LEN)) == NULL) {
		log_warn("IPC rpc");
		free(r);
		return NULL;
	}
	if ((rv = nng_rep0_open(&r->sock)) != 0) {
		log_warnx("%s: cannot open a rep socket: %s", r->w.path,
		    nng_strerror(rv));
		free(r->reply);
		free(r);
		return NULL;
	}
	ipc_sock_opts(r->sock, r->w.path);
	if (ipc_notify(r->sock, &r->w) == -1 ||
	    ipc_recv_fd(r->sock, r->w.path, &fd) == -1)
		goto fail;
	ev_async_init(&r->async, ipc_rpc_async_cb);
	r->async.data = r;
	ev_async_start(loop, &r->async);
	ev_io_init(&r->rd, ipc_rpc_read_cb, fd, EV_READ);
	r->rd.data = r;
	ev_io_start(loop, &r->rd);
	if (ipc_listen_url(r->sock, r->w.path) == -1) {
		ev_io_stop(loop, &r->rd);
		ev_async_stop(loop, &r->async);
		goto fail;
	}
	return r;
fail:
	nng_close(r->sock);
	free(r->reply);
	free(r);
	return NULL;
}

/* rpc: client */

struct ipc_rpc *
ipc_rpc_dial(const char *path, enum daemon self, enum daemon peer,
    uid_t peer_uid)
{
	struct ipc_rpc *r;
	int rv;

	if ((r = ipc_rpc_new(path, self, peer, peer_uid)) == NULL)
		return NULL;
	r->w.allow_root = 1;
	if ((rv = nng_req0_open(&r->sock)) != 0) {
		log_warnx("%s: cannot open a req socket: %s", r->w.path,
		    nng_strerror(rv));
		free(r);
		return NULL;
	}
	ipc_sock_opts(r->sock, r->w.path);
	/* A request is never resent by nng: a stale DH answer is useless,
	 * and the caller's deadline is much shorter anyway. */
	(void)nng_socket_set_ms(r->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	if (ipc_notify(r->sock, &r->w) == -1 ||
	    ipc_dial_url(r->sock, r->w.path) == -1) {
		nng_close(r->sock);
		free(r);
		return NULL;
	}
	return r;
}

static int64_t
ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssize_t
ipc_rpc_call(struct ipc_rpc *r, uint16_t type, const struct buf_w *req,
    uint16_t want_type, uint8_t *out, size_t cap, int timeout_ms)
{
	const uint8_t *payload;
	struct msg_hdr h;
	nng_msg *m;
	int64_t deadline, left;
	uint32_t id;
	int rv;

	if (r == NULL || r->loop != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ipc_check_out(r->w.path, type, req, r->self) == -1)
		return -1;
	if (timeout_ms <= 0)
		timeout_ms = 1;
	deadline = ipc_now_ms() + timeout_ms;
	if (++r->next_req == 0)
		r->next_req = 1;
	id = r->next_req;
	if ((m = ipc_msg_new(type, 0, id, req)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	(void)nng_socket_set_ms(r->sock, NNG_OPT_SENDTIMEO, timeout_ms);
	if ((rv = nng_sendmsg(r->sock, m, 0)) != 0) {
		nng_msg_free(m);
		log_debug("%s: %s not sent: %s", r->w.path, msg_name(type),
		    nng_strerror(rv));
		errno = rv == NNG_ETIMEDOUT ? ETIMEDOUT : EIO;
		return -1;
	}
	for (;;) {
		left = deadline - ipc_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		(void)nng_socket_set_ms(r->sock, NNG_OPT_RECVTIMEO,
		    (nng_duration)left);
		if ((rv = nng_recvmsg(r->sock, &m, 0)) != 0) {
			log_debug("%s: no reply to %s: %s", r->w.path,
			    msg_name(type), nng_strerror(rv));
			errno = rv == NNG_ETIMEDOUT ? ETIMEDOUT : EIO;
			return -1;
		}
		if (ipc_check_in(r, r->w.path, m, r->peer, &h,
		    &payload) == -1) {
			nng_msg_free(m);
			errno = EPROTO;
			return -1;
		}
		/* req0 matches replies to the last request already; a
		 * reply naming another one is an old answer: skip it. */
		if (h.req != id) {
			nng_msg_free(m);
			continue;
		}
		break;
	}
	if (h.type != want_type) {
		log_warnx_rl(r, "%s: reply to %s is %s, want %s", r->w.path,
		    msg_name(type), msg_name(h.type), msg_name(want_type));
		nng_msg_free(m);
		errno = EPROTO;
		return -1;
	}
	if (h.length > cap) {
		log_warnx_rl(r, "%s: reply %s of %u bytes does not fit %zu",
		    r->w.path, msg_name(h.type), h.length, cap);
		nng_msg_free(m);
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(out, payload, h.length);
	/* A DH reply holds a shared secret: the caller has its copy. */
	explicit_bzero(nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	return (ssize_t)h.length;
}

void
ipc_rpc_close(struct ipc_rpc *r)
{
	if (r == NULL)
		return;
	nng_close(r->sock);
	if (r->loop != NULL) {
		ev_io_stop(r->loop, &r->rd);
		ev_async_stop(r->loop, &r->async);
	}
	free(r->reply);
	free(r);
}

/* ctl: server */


/* "a, b, c": the commands a table answers, for the unknown-command
 * error. */
static void
ipc_ctl_names(const struct ipc_ctl *c, char *out, size_t cap)
{
	size_t i, used = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < c->ntab && used < cap; i++) {
		n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "",
		    c->tab[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* The door: a command the table does not have, or one that changes
 * state from a caller who may only read, is answered here and never
 * reaches a handler. */
static json_t *
ipc_ctl_door(struct ipc_ctl *c, json_t *req, const char *name,
    int may_change)
{
	const struct ctl_cmd *row;
	char names[512];

	if ((row = ctl_cmd_find(c->tab, c->ntab, name)) == NULL) {
		ipc_ctl_names(c, names, sizeof(names));
		return json_error("unknown command \"%.64s\" (%s answers %s)",
		    name, c->daemon, names);
	}
	if (!may_change && ctl_cmd_changes(row, req))
		return json_error("\"%s\" changes %s's state: only root or "
		    "%s's own user may send it", row->name, c->daemon,
		    c->daemon);
	return row->fn(c->arg, req);
}

/* Parse and check one request; the reply (a new reference) either comes
 * from the daemon's handler or explains what was wrong. */
static json_t *
ipc_ctl_handle(struct ipc_ctl *c, const char *text, size_t len,
    int may_change)
{
	json_error_t jerr;
	json_t *req, *cmd, *reply;

	req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return json_error("request is not valid JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column);
	if (!json_is_object(req)) {
		json_decref(req);
		return json_error("request must be a JSON object such as "
		    "{\"cmd\": \"status\"}");
	}
	cmd = json_object_get(req, "cmd");
	if (!json_is_string(cmd) || json_string_length(cmd) == 0) {
		json_decref(req);
		return json_error("request has no \"cmd\" string; send an "
		    "object such as {\"cmd\": \"status\"}");
	}
	reply = ipc_ctl_door(c, req, json_string_value(cmd), may_change);
	if (reply == NULL || !json_is_object(reply)) {
		log_warnx("%s: handler gave no reply object for \"%s\"",
		    c->path, json_string_value(cmd));
		json_decref(reply);
		reply = json_error("internal error answering \"%s\"",
		    json_string_value(cmd));
	}
	json_decref(req);
	return reply;
}

static void
ipc_ctl_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ipc_ctl *c = io->data;
	json_t *reply;
	nng_msg *m;
	uint64_t uid;
	char *text;
	int i, rv, may_change;

	(void)loop;
	(void)revents;
	for (i = 0; i < IPC_RECV_BATCH; i++) {
		rv = nng_recvmsg(c->sock, &m, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			break;
		if (rv != 0) {
			if (rv != NNG_ECLOSED)
				log_warnx_rl(c, "%s: receive: %s", c->path,
				    nng_strerror(rv));
			break;
		}
		/* Reading needs only the socket (0660, group onionmesh);
		 * changing needs root or this daemon's own uid. */
		may_change = nng_pipe_get_uint64(nng_msg_get_pipe(m),
		    NNG_OPT_IPC_PEER_UID, &uid) == 0 &&
		    (uid == 0 || uid == (uint64_t)geteuid());
		reply = ipc_ctl_handle(c, nng_msg_body(m), nng_msg_len(m),
		    may_change);
		text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
		json_decref(reply);
		if (text == NULL) {
			log_warnx_rl(c, "%s: cannot encode a reply", c->path);
			nng_msg_free(m);
			continue;
		}
		/* Reuse the request message: rep0 keeps its routing in
		 * the header, which nng_msg_clear leaves alone. */
		nng_msg_clear(m);
		if (nng_msg_append(m, text, strlen(text)) != 0) {
			free(text);
			nng_msg_free(m);
			continue;
		}
		free(text);
		if ((rv = nng_sendmsg(c->sock, m, NNG_FLAG_NONBLOCK)) != 0) {
			nng_msg_free(m);
			log_warnx_rl(c, "%s: reply not sent: %s", c->path,
			    nng_strerror(rv));
		}
	}
}

struct ipc_ctl *
ipc_ctl_listen(struct ev_loop *loop, const char *path, const char *daemon,
    const struct ctl_cmd *tab, size_t ntab, void *arg)
{
	struct ipc_ctl *c;
	int fd, rv;

	if (loop == NULL || tab == NULL || ntab == 0 || daemon == NULL) {
		log_warnx("ctl socket %s: no loop or command table",
		    path ? path : "(null)");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("ctl socket");
		return NULL;
	}
	if (ipc_copy_path(c->path, path) == -1) {
		free(c);
		return NULL;
	}
	c->loop = loop;
	c->tab = tab;
	c->ntab = ntab;
	c->daemon = daemon;
	c->arg = arg;
	if ((rv = nng_rep0_open(&c->sock)) != 0) {
		log_warnx("%s: cannot open a rep socket: %s", c->path,
		    nng_strerror(rv));
		free(c);
		return NULL;
	}
	(void)nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, IPC_CTL_MAX);
	if (ipc_recv_fd(c->sock, c->path, &fd) == -1)
		goto fail;
	ev_io_init(&c->rd, ipc_ctl_read_cb, fd, EV_READ);
	c->rd.data = c;
	ev_io_start(loop, &c->rd);
	if (ipc_listen_url(c->sock, c->path) == -1) {
		ev_io_stop(loop, &c->rd);
		goto fail;
	}
	return c;
fail:
	nng_close(c->sock);
	free(c);
	return NULL;
}

void
ipc_ctl_close(struct ipc_ctl *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	ev_io_stop(c->loop, &c->rd);
	free(c);
}

/* ctl: client */

/* "…/ctl.keyd" -> "keyd", for messages a person reads. */
static const char *
ipc_ctl_who(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, "ctl.", 4) == 0 && base[4] != '\0')
		return base + 4;
	return base;
}

json_t *
ipc_ctl_call(const char *path, json_t *req, int timeout_ms, char *err,
    size_t errlen)
{
	char url[IPC_URL_MAX];
	const char *who = ipc_ctl_who(path);
	json_error_t jerr;
	json_t *reply = NULL;
	nng_socket s;
	nng_msg *m = NULL;
	struct stat st;
	char *text;
	int rv;

	if (strlen(path) >= IPC_PATH_MAX) {
		snprintf(err, errlen, "socket path %s is too long (at most "
		    "%zu bytes)", path, IPC_PATH_MAX - 1);
		return NULL;
	}
	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s is not running (no socket "
			    "at %s)", who, path);
		else if (errno == EACCES)
			snprintf(err, errlen, "permission denied on %s (run "
			    "as root or as a member of group onionmesh)",
			    path);
		else
			snprintf(err, errlen, "cannot reach %s at %s: %s",
			    who, path, strerror(errno));
		return NULL;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s is not a socket", path);
		return NULL;
	}
	snprintf(url, sizeof(url), "ipc://%s", path);
	if (timeout_ms <= 0)
		timeout_ms = 1;
	if ((rv = nng_req0_open(&s)) != 0) {
		snprintf(err, errlen, "cannot open a req socket: %s",
		    nng_strerror(rv));
		return NULL;
	}
	(void)nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, IPC_CTL_REPLY_MAX);
	(void)nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	(void)nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	if ((rv = nng_dial(s, url, NULL, 0)) != 0) {
		if (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT)
			snprintf(err, errlen, "%s is not running (the socket "
			    "%s refuses connections)", who, path);
		else if (rv == NNG_EPERM)
			snprintf(err, errlen, "permission denied on %s (run "
			    "as root or as a member of group onionmesh)",
			    path);
		else
			snprintf(err, errlen, "cannot connect to %s at %s: %s",
			    who, path, nng_strerror(rv));
		goto out;
	}
	if ((text = json_dumps(req, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		snprintf(err, errlen, "cannot encode the request");
		goto out;
	}
	rv = nng_send(s, text, strlen(text), 0);
	free(text);
	if (rv != 0) {
		snprintf(err, errlen, "cannot send to %s at %s: %s", who, path,
		    nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_recvmsg(s, &m, 0)) != 0) {
		if (rv == NNG_ETIMEDOUT)
			snprintf(err, errlen, "%s did not answer within %d ms "
			    "(socket %s)", who, timeout_ms, path);
		else
			snprintf(err, errlen, "no answer from %s at %s: %s",
			    who, path, nng_strerror(rv));
		goto out;
	}
	reply = json_loadb(nng_msg_body(m), nng_msg_len(m), 0, &jerr);
	if (reply == NULL) {
		snprintf(err, errlen, "%s sent a reply that is not JSON: %s",
		    who, jerr.text);
	} else if (!json_is_object(reply)) {
		snprintf(err, errlen, "%s sent a reply that is not a JSON "
		    "object", who);
		json_decref(reply);
		reply = NULL;
	}
out:
	if (m != NULL)
		nng_msg_free(m);
	nng_close(s);
	return reply;
}
