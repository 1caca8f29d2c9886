/*
 * ipc.c in one process: a pair1 channel (routed listens, linkd dials)
 * over a socket in a temp dir on one libev loop, with real catalogue
 * encodings both ways; the dispatcher drops what msg_check refuses
 * (wrong sender, wrong length, bad header) before the handler; a peer
 * with the wrong uid is refused; on_up fires on connect and again on
 * each reconnect, from either side; the rpc (req/rep) and the JSON ctl
 * socket round-trip, time out and fail with clear messages.
 *
 * The rpc and ctl clients block, so their servers run on a second loop
 * in a thread, as they would in another process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "proto/ipc.h"
#include "proto/log.h"
#include "proto/msg.h"

#define WAIT_S 5.0 /* upper bound for anything to happen */

struct fx {
	char dir[64];
	char path[128];
	struct ev_loop *loop;
};

/* What one side of a channel saw. */
struct side {
	int ups;
	int msgs;
	struct msg_hdr last;
	uint8_t payload[MSG_MAX_LEN];
	size_t len;
	int send_on_up;     /* send a PEER_STATE from on_up */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/om-test-ipc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(ipc_path(f->path, sizeof(f->path), f->dir,
	    IPC_ROUTED_LINKD), 0);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ev_loop_destroy(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->dir);
	free(f);
	return 0;
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* Run the loop until *counter reaches want or the time is up. */
static int
run_until(struct ev_loop *loop, const int *counter, int want, double secs)
{
	ev_timer t;
	double deadline;

	ev_timer_init(&t, tick_cb, 0.01, 0.01);
	ev_timer_start(loop, &t);
	ev_now_update(loop);
	deadline = ev_now(loop) + secs;
	while (*counter < want && ev_now(loop) < deadline) {
		ev_run(loop, EVRUN_ONCE);
		ev_now_update(loop);
	}
	ev_timer_stop(loop, &t);
	return *counter >= want;
}

/* Run the loop for a while regardless. */
static void
run_for(struct ev_loop *loop, double secs)
{
	int never = 0;

	(void)run_until(loop, &never, 1, secs);
}

static void
on_msg(struct ipc_chan *c, const struct msg_hdr *h, const uint8_t *payload,
    void *arg)
{
	struct side *s = arg;

	(void)c;
	s->msgs++;
	s->last = *h;
	assert_true(h->length <= sizeof(s->payload));
	memcpy(s->payload, payload, h->length);
	s->len = h->length;
}

static void
send_peer_state(struct ipc_chan *c, uint16_t links, int want)
{
	struct msg_peer_state ps;
	struct buf_w w;
	uint8_t buf[128];

	memset(&ps, 0, sizeof(ps));
	memset(ps.id, 0xab, sizeof(ps.id));
	ps.links_up = links;
	ps.rtt_us = 1234;
	ps.rate_kbps = 8192;
	bw_init(&w, buf, sizeof(buf));
	msg_peer_state_encode(&w, &ps);
	assert_int_equal(w.err, 0);
	assert_int_equal(ipc_send(c, MSG_PEER_STATE, 7, 0, &w), want);
}

static void
on_up(struct ipc_chan *c, void *arg)
{
	struct side *s = arg;

	/* No assertion that the channel is still connected: a listener
	 * that refuses us closes the pipe right after our side added it,
	 * and that can land between the up report and this call. */
	s->ups++;
	if (s->send_on_up)
		send_peer_state(c, (uint16_t)s->ups, 0);
}

static struct ipc_chan *
chan(struct fx *f, struct side *s, int listen, uid_t peer_uid)
{
	struct ipc_chan_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = f->loop;
	cfg.path = f->path;
	cfg.self = listen ? D_ROUTED : D_LINKD;
	cfg.peer = listen ? D_LINKD : D_ROUTED;
	cfg.peer_uid = peer_uid;
	cfg.on_msg = on_msg;
	cfg.on_up = on_up;
	cfg.arg = s;
	return listen ? ipc_chan_listen(&cfg) : ipc_chan_dial(&cfg);
}

static void
test_path(void **state)
{
	char out[200], longdir[150];

	(void)state;
	assert_int_equal(ipc_path(out, sizeof(out), "/run/onionmesh/x",
	    IPC_KEYD_LINKD), 0);
	assert_string_equal(out, "/run/onionmesh/x/keyd.linkd");
	/* Longer than sun_path: refused even though out could hold it. */
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(ipc_path(out, sizeof(out), longdir, "ctl.keyd"),
	    -1);
	assert_int_equal(ipc_path(out, 8, "/run", "ctl.keyd"), -1);
}

static void
test_chan_both_ways(void **state)
{
	struct fx *f = *state;
	struct side *ls = calloc(1, sizeof(*ls)), *ds = calloc(1, sizeof(*ds));
	struct ipc_chan *l, *d;
	struct msg_peer_state ps;
	struct msg_fib_entry fe, got;
	struct msg_fib_begin fb;
	struct buf_w w;
	uint8_t buf[256];
	struct stat st;

	assert_non_null(ls);
	assert_non_null(ds);
	l = chan(f, ls, 1, getuid());
	assert_non_null(l);
	/* The socket file exists with mode 0660. */
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_false(ipc_chan_connected(l));
	/* Nobody there: a send is refused, not queued. */
	bw_init(&w, buf, sizeof(buf));
	fb.generation = 1;
	msg_fib_begin_encode(&w, &fb);
	assert_int_equal(ipc_send(l, MSG_FIB_BEGIN, 0, 0, &w), -1);

	d = chan(f, ds, 0, getuid());
	assert_non_null(d);
	assert_true(run_until(f->loop, &ls->ups, 1, WAIT_S));
	assert_true(run_until(f->loop, &ds->ups, 1, WAIT_S));
	assert_true(ipc_chan_connected(l));
	assert_true(ipc_chan_connected(d));

	/* linkd -> routed: PEER_STATE. */
	send_peer_state(d, 3, 0);
	assert_true(run_until(f->loop, &ls->msgs, 1, WAIT_S));
	assert_int_equal(ls->last.type, MSG_PEER_STATE);
	assert_int_equal(ls->last.obj, 7);
	assert_int_equal(msg_peer_state_decode(&ps, ls->payload, ls->len), 0);
	assert_int_equal(ps.links_up, 3);
	assert_int_equal(ps.rtt_us, 1234);
	assert_int_equal(ps.rate_kbps, 8192);

	/* routed -> linkd: a FIB. */
	bw_init(&w, buf, sizeof(buf));
	fb.generation = 9;
	msg_fib_begin_encode(&w, &fb);
	assert_int_equal(ipc_send(l, MSG_FIB_BEGIN, 0, 0, &w), 0);
	memset(&fe, 0, sizeof(fe));
	fe.generation = 9;
	assert_int_equal(prefix_parse(&fe.dst, "10.77.0.2/32"), 0);
	memset(fe.dest, 1, sizeof(fe.dest));
	memset(fe.next_hop, 2, sizeof(fe.next_hop));
	fe.cost = 5;
	bw_init(&w, buf, sizeof(buf));
	msg_fib_entry_encode(&w, &fe);
	assert_int_equal(w.err, 0);
	assert_int_equal(ipc_send(l, MSG_FIB_ENTRY, 0, 42, &w), 0);
	assert_true(run_until(f->loop, &ds->msgs, 2, WAIT_S));
	assert_int_equal(ds->last.type, MSG_FIB_ENTRY);
	assert_int_equal(ds->last.req, 42);
	assert_int_equal(msg_fib_entry_decode(&got, ds->payload, ds->len), 0);
	assert_int_equal(got.generation, 9);
	assert_int_equal(got.cost, 5);
	assert_true(prefix_equal(&got.dst, &fe.dst));
	assert_memory_equal(got.next_hop, fe.next_hop, sizeof(fe.next_hop));

	/* The sender's own side of the table: linkd may not send a FIB,
	 * and a payload of the wrong length is not sent either. */
	bw_init(&w, buf, sizeof(buf));
	msg_fib_begin_encode(&w, &fb);
	assert_int_equal(ipc_send(d, MSG_FIB_BEGIN, 0, 0, &w), -1);
	bw_init(&w, buf, sizeof(buf));
	bw_u32(&w, 1);
	assert_int_equal(ipc_send(d, MSG_PEER_STATE, 0, 0, &w), -1);
	/* An encoding that overflowed its buffer is not sent. */
	bw_init(&w, buf, 4);
	msg_peer_state_encode(&w, &ps);
	assert_true(w.err);
	assert_int_equal(ipc_send(d, MSG_PEER_STATE, 0, 0, &w), -1);

	/* Many messages in a burst arrive in order (batching across
	 * wake-ups). */
	for (int i = 0; i < 300; i++)
		send_peer_state(d, (uint16_t)i, 0);
	assert_true(run_until(f->loop, &ls->msgs, 301, WAIT_S));
	assert_int_equal(msg_peer_state_decode(&ps, ls->payload, ls->len), 0);
	assert_int_equal(ps.links_up, 299);

	ipc_chan_close(d);
	ipc_chan_close(l);
	free(ls);
	free(ds);
}

/* Send raw bytes as "linkd" through a bare nng pair1 socket. */
static void
raw_send(nng_socket s, uint8_t version, uint16_t type, uint32_t hdr_len,
    const void *payload, size_t len)
{
	struct msg_hdr h;
	uint8_t buf[256];

	assert_true(MSG_HDR_LEN + len <= sizeof(buf));
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.length = hdr_len;
	msg_hdr_encode(buf, &h);
	buf[0] = version;
	memcpy(buf + MSG_HDR_LEN, payload, len);
	assert_int_equal(nng_send(s, buf, MSG_HDR_LEN + len, 0), 0);
}

static void
test_chan_drops(void **state)
{
	struct fx *f = *state;
	struct side *ls = calloc(1, sizeof(*ls));
	struct ipc_chan *l;
	struct msg_peer_state ps;
	struct msg_fib_begin fb = {.generation = 1};
	struct buf_w w;
	uint8_t good[64], fib[8], url[160];
	nng_socket raw;
	size_t goodlen;

	assert_non_null(ls);
	l = chan(f, ls, 1, getuid());
	assert_non_null(l);

	memset(&ps, 0, sizeof(ps));
	ps.links_up = 77;
	ps.rate_kbps = 65536;
	bw_init(&w, good, sizeof(good));
	msg_peer_state_encode(&w, &ps);
	assert_int_equal(w.err, 0);
	goodlen = w.len;
	bw_init(&w, fib, sizeof(fib));
	msg_fib_begin_encode(&w, &fb);

	assert_int_equal(nng_pair1_open(&raw), 0);
	snprintf((char *)url, sizeof(url), "ipc://%s", f->path);
	assert_int_equal(nng_dial(raw, (char *)url, NULL, 0), 0);
	assert_true(run_until(f->loop, &ls->ups, 1, WAIT_S));

	/* linkd may not send FIB_BEGIN (only routed does). */
	raw_send(raw, MSG_VERSION, MSG_FIB_BEGIN, (uint32_t)w.len, fib,
	    w.len);
	/* PEER_STATE of the wrong length (header and body agree). */
	raw_send(raw, MSG_VERSION, MSG_PEER_STATE, 10, good, 10);
	raw_send(raw, MSG_VERSION, MSG_PEER_STATE, (uint32_t)goodlen + 1,
	    good, goodlen + 1);
	/* The form before rates (no rate_kbps): 4 bytes short. */
	raw_send(raw, MSG_VERSION, MSG_PEER_STATE, (uint32_t)goodlen - 4,
	    good, goodlen - 4);
	/* Header length that does not match the body. */
	raw_send(raw, MSG_VERSION, MSG_PEER_STATE, (uint32_t)goodlen + 4,
	    good, goodlen);
	/* Unknown version, unknown type, and a stub shorter than a
	 * header. */
	raw_send(raw, MSG_VERSION + 1, MSG_PEER_STATE, (uint32_t)goodlen,
	    good, goodlen);
	raw_send(raw, MSG_VERSION, 0x7777, (uint32_t)goodlen, good, goodlen);
	assert_int_equal(nng_send(raw, good, 5, 0), 0);
	/* And finally one good message: pair1 keeps order, so when it
	 * arrives every bad one before it has been looked at. */
	raw_send(raw, MSG_VERSION, MSG_PEER_STATE, (uint32_t)goodlen, good,
	    goodlen);
	assert_true(run_until(f->loop, &ls->msgs, 1, WAIT_S));
	run_for(f->loop, 0.1);
	assert_int_equal(ls->msgs, 1);
	assert_int_equal(ls->last.type, MSG_PEER_STATE);
	assert_int_equal(msg_peer_state_decode(&ps, ls->payload, ls->len), 0);
	assert_int_equal(ps.links_up, 77);
	assert_int_equal(ps.rate_kbps, 65536);

	nng_close(raw);
	ipc_chan_close(l);
	free(ls);
}

static void
test_chan_reconnect(void **state)
{
	struct fx *f = *state;
	struct side *ls = calloc(1, sizeof(*ls)), *ds = calloc(1, sizeof(*ds));
	struct side *ls2 = calloc(1, sizeof(*ls2));
	struct ipc_chan *l, *d, *l2;
	int i;

	assert_non_null(ls);
	assert_non_null(ds);
	assert_non_null(ls2);
	/* The dialer comes first: it keeps trying until the listener
	 * appears. */
	ds->send_on_up = 1;
	d = chan(f, ds, 0, getuid());
	assert_non_null(d);
	run_for(f->loop, 0.2);
	assert_int_equal(ds->ups, 0);
	l = chan(f, ls, 1, getuid());
	assert_non_null(l);
	assert_true(run_until(f->loop, &ls->ups, 1, WAIT_S));
	assert_true(run_until(f->loop, &ds->ups, 1, WAIT_S));
	/* The dialer's on_up resend reached the listener. */
	assert_true(run_until(f->loop, &ls->msgs, 1, WAIT_S));

	/* A second listener on the same live path is refused. */
	assert_null(chan(f, ls2, 1, getuid()));

	/* The dialer goes away and comes back: the listener sees both. */
	ipc_chan_close(d);
	for (i = 0; i < 500 && ipc_chan_connected(l); i++)
		run_for(f->loop, 0.01);
	assert_false(ipc_chan_connected(l));
	memset(ds, 0, sizeof(*ds));
	ds->send_on_up = 1;
	d = chan(f, ds, 0, getuid());
	assert_non_null(d);
	assert_true(run_until(f->loop, &ls->ups, 2, WAIT_S));
	assert_true(run_until(f->loop, &ds->ups, 1, WAIT_S));
	assert_true(run_until(f->loop, &ls->msgs, 2, WAIT_S));

	/* The listener restarts (a new process would find a stale or no
	 * socket file): the dialer reconnects by itself. */
	ipc_chan_close(l);
	for (i = 0; i < 500 && ipc_chan_connected(d); i++)
		run_for(f->loop, 0.01);
	assert_false(ipc_chan_connected(d));
	l2 = chan(f, ls2, 1, getuid());
	assert_non_null(l2);
	assert_true(run_until(f->loop, &ls2->ups, 1, WAIT_S));
	assert_true(run_until(f->loop, &ds->ups, 2, WAIT_S));
	assert_true(run_until(f->loop, &ls2->msgs, 1, WAIT_S));
	assert_int_equal(ls2->last.type, MSG_PEER_STATE);

	ipc_chan_close(d);
	ipc_chan_close(l2);
	free(ls);
	free(ls2);
	free(ds);
}

static void
test_chan_stale_socket(void **state)
{
	struct fx *f = *state;
	struct side *ls = calloc(1, sizeof(*ls));
	struct sockaddr_un sun;
	struct ipc_chan *l;
	int fd;

	assert_non_null(ls);
	/* A socket file nobody listens on, as a crash leaves it. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	l = chan(f, ls, 1, getuid());
	assert_non_null(l);
	ipc_chan_close(l);

	/* A regular file in the way is not removed. */
	unlink(f->path);
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(chan(f, ls, 1, getuid()));
	assert_int_equal(access(f->path, F_OK), 0);
	free(ls);
}

static void
test_chan_wrong_uid(void **state)
{
	struct fx *f = *state;
	struct side *ls = calloc(1, sizeof(*ls)), *ds = calloc(1, sizeof(*ds));
	struct ipc_chan *l, *d;

	assert_non_null(ls);
	assert_non_null(ds);
	/* The listener expects another uid than ours: refused. */
	l = chan(f, ls, 1, getuid() + 4242);
	assert_non_null(l);
	d = chan(f, ds, 0, getuid());
	assert_non_null(d);
	run_for(f->loop, 0.5);
	assert_int_equal(ls->ups, 0);
	assert_false(ipc_chan_connected(l));
	ipc_chan_close(d);
	ipc_chan_close(l);

	/* And the dialer checks the listener too, except that a listener
	 * created by root is trusted (daemons listen before they drop
	 * privileges, and only root or the onionmesh group can create a
	 * socket in the run dir). */
	memset(ls, 0, sizeof(*ls));
	memset(ds, 0, sizeof(*ds));
	l = chan(f, ls, 1, getuid());
	assert_non_null(l);
	d = chan(f, ds, 0, getuid() + 4242);
	assert_non_null(d);
	run_for(f->loop, 0.5);
	if (getuid() == 0) {
		assert_int_equal(ds->ups, 1);
		assert_true(ipc_chan_connected(d));
	} else {
		assert_int_equal(ds->ups, 0);
		assert_false(ipc_chan_connected(d));
	}
	ipc_chan_close(d);
	ipc_chan_close(l);
	free(ls);
	free(ds);
}

/* A message cut inside a UTF-8 sequence still makes a reply: the cut
 * sequence becomes '?', valid text is kept byte for byte. */
static void
test_utf8_scrub(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain ascii", "plain ascii" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL },
		{ "cut \xed\x9e", "cut ??" },        /* 3-byte seq, 2 left */
		{ "cut \xf0\x9f\x98", "cut ???" },
		{ "lone \x80 cont", "lone ? cont" },
		{ "overlong \xc0\xaf", "overlong ??" },
		{ "overlong \xe0\x80\xaf", "overlong ???" },
		{ "surrogate \xed\xa0\x80", "surrogate ???" },
		{ "too big \xf4\x90\x80\x80", "too big ????" },
		{ "\xff\xfe", "??" },
	};
	char buf[64];
	json_t *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		(void)utf8_scrub(buf);
		assert_string_equal(buf, cases[i].out != NULL ?
		    cases[i].out : cases[i].in);
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		r = json_error_msg(buf);
		assert_non_null(r);
		assert_false(json_is_true(json_object_get(r, "ok")));
		json_decref(r);
	}
}

/* A loop in a thread, for the servers the blocking clients talk to. */
struct srv {
	struct ev_loop *loop;
	ev_async stop;
	pthread_t th;
	struct ipc_rpc *rpc;
	struct ipc_ctl *ctl;
	int calls;
};

static void
srv_stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)a;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void *
srv_run(void *arg)
{
	struct srv *s = arg;

	ev_run(s->loop, 0);
	return NULL;
}

static void
srv_init(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	s->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(s->loop);
	ev_async_init(&s->stop, srv_stop_cb);
	ev_async_start(s->loop, &s->stop);
}

static void
srv_start(struct srv *s)
{
	assert_int_equal(pthread_create(&s->th, NULL, srv_run, s), 0);
}

static void
srv_fini(struct srv *s)
{
	ev_async_send(s->loop, &s->stop);
	assert_int_equal(pthread_join(s->th, NULL), 0);
	ipc_rpc_close(s->rpc);
	ipc_ctl_close(s->ctl);
	ev_async_stop(s->loop, &s->stop);
	ev_loop_destroy(s->loop);
}

static uint16_t
rpc_handler(const struct msg_hdr *h, const uint8_t *payload,
    struct buf_w *reply, void *arg)
{
	struct srv *s = arg;
	struct msg_dh_req rq;
	struct msg_dh_resp rs;
	size_t i;

	s->calls++;
	assert_int_equal(h->type, MSG_DH_REQ);
	assert_int_equal(msg_dh_req_decode(&rq, payload, h->length), 0);
	if (rq.pub[0] == 0xff)
		return 0; /* no answer: the caller times out */
	if (rq.pub[0] == 0xfe) {
		/* Wrong answer type on purpose. */
		struct msg_sync_done d = {0};

		msg_sync_done_encode(reply, &d);
		return MSG_SYNC_DONE;
	}
	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < sizeof(rs.shared); i++)
		rs.shared[i] = rq.pub[i] ^ 0x5a;
	msg_dh_resp_encode(reply, &rs);
	return MSG_DH_RESP;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ssize_t
dh_call(struct ipc_rpc *c, uint8_t first, struct msg_dh_resp *rs,
    int timeout_ms)
{
	struct msg_dh_req rq;
	struct buf_w w;
	uint8_t buf[64], out[64];
	ssize_t n;

	memset(&rq, 0, sizeof(rq));
	memset(rq.pub, 0x11, sizeof(rq.pub));
	rq.pub[0] = first;
	bw_init(&w, buf, sizeof(buf));
	msg_dh_req_encode(&w, &rq);
	n = ipc_rpc_call(c, MSG_DH_REQ, &w, MSG_DH_RESP, out, sizeof(out),
	    timeout_ms);
	if (n >= 0)
		assert_int_equal(msg_dh_resp_decode(rs, out, (size_t)n), 0);
	return n;
}

static void
test_rpc(void **state)
{
	struct fx *f = *state;
	struct msg_dh_resp rs;
	struct ipc_rpc *c;
	struct srv s;
	struct buf_w w;
	char path[128];
	uint8_t buf[128], out[64];
	double t0, dt;

	assert_int_equal(ipc_path(path, sizeof(path), f->dir,
	    IPC_KEYD_CRYPTO), 0);
	srv_init(&s);
	s.rpc = ipc_rpc_listen(s.loop, path, D_KEYD, D_LINKD, getuid(),
	    rpc_handler, &s);
	assert_non_null(s.rpc);
	srv_start(&s);

	c = ipc_rpc_dial(path, D_LINKD, D_KEYD, getuid());
	assert_non_null(c);
	assert_int_equal(dh_call(c, 0x01, &rs, 3000), 33);
	assert_int_equal(rs.status, 0);
	assert_int_equal(rs.shared[0], 0x01 ^ 0x5a);
	assert_int_equal(rs.shared[31], 0x11 ^ 0x5a);

	/* No answer: -1 with ETIMEDOUT, after about the timeout. */
	t0 = now_s();
	errno = 0;
	assert_int_equal(dh_call(c, 0xff, &rs, 200), -1);
	dt = now_s() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(dt >= 0.15);
	assert_true(dt < 2.0);
	/* The next call gets its own answer, not a stale one. */
	assert_int_equal(dh_call(c, 0x02, &rs, 3000), 33);
	assert_int_equal(rs.shared[0], 0x02 ^ 0x5a);

	/* A reply of another type than asked for is refused. */
	assert_int_equal(dh_call(c, 0xfe, &rs, 2000), -1);
	/* linkd may not send what keyd sends: refused before sending. */
	bw_init(&w, buf, sizeof(buf));
	msg_dh_resp_encode(&w, &rs);
	assert_int_equal(ipc_rpc_call(c, MSG_DH_RESP, &w, MSG_DH_RESP, out,
	    sizeof(out), 200), -1);
	/* A reply too large for the caller's buffer. */
	memset(buf, 0, sizeof(buf));
	bw_init(&w, buf, sizeof(buf));
	bw_bytes(&w, buf, 32);
	assert_int_equal(ipc_rpc_call(c, MSG_DH_REQ, &w, MSG_DH_RESP, out,
	    8, 2000), -1);
	ipc_rpc_close(c);

	/* A client expecting keyd under another uid never gets through,
	 * unless the server is root (trusted, as for channels). */
	c = ipc_rpc_dial(path, D_LINKD, D_KEYD, getuid() + 4242);
	assert_non_null(c);
	if (getuid() == 0)
		assert_int_equal(dh_call(c, 0x03, &rs, 2000), 33);
	else
		assert_int_equal(dh_call(c, 0x03, &rs, 300), -1);
	ipc_rpc_close(c);

	srv_fini(&s);
	assert_true(s.calls >= 4);
}

static json_t *
ctl_status(void *ctx, json_t *req)
{
	(void)ctx;
	(void)req;
	return json_pack("{s:b, s:s, s:i}", "ok", 1, "daemon", "test",
	    "pid", (int)getpid());
}

static json_t *
ctl_broken(void *ctx, json_t *req)
{
	(void)ctx;
	(void)req;
	return NULL;
}

static json_t *
ctl_set(void *ctx, json_t *req)
{
	int *sets = ctx;

	(void)req;
	(*sets)++;
	return json_pack("{s:b, s:i}", "ok", 1, "sets", *sets);
}

static const struct ctl_cmd test_ctl_cmds[] = {
	{"status", CTL_READ, NULL, ctl_status},
	{"broken", CTL_READ, NULL, ctl_broken},
	{"set", CTL_CHANGE, NULL, ctl_set},
	{"log", CTL_CHANGE_WITH, "level", ctl_set},
};

static void
expect_error(const char *path, json_t *req, const char *needle)
{
	char err[256] = "";
	json_t *r;

	r = ipc_ctl_call(path, req, 3000, err, sizeof(err));
	json_decref(req);
	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "ok")));
	if (strstr(json_string_value(json_object_get(r, "error")),
	    needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"",
		    json_string_value(json_object_get(r, "error")), needle);
	json_decref(r);
}

/* The reader's side, in a fresh process (nng does not survive a
 * fork of a process whose nng threads run): one request, and the exit
 * code says what came back. 0: "ok": true; 1: false, and its error
 * holds needle; 2: anything else. */
static int
reader_main(const char *path, const char *cmd, const char *arg,
    const char *needle)
{
	char err[256];
	const char *e;
	json_t *req, *r;
	int rc;

	req = arg[0] ? json_pack("{s:s, s:s}", "cmd", cmd, arg, "debug") :
	    json_pack("{s:s}", "cmd", cmd);
	r = ipc_ctl_call(path, req, 3000, err, sizeof(err));
	json_decref(req);
	if (r == NULL) {
		fprintf(stderr, "reader: %s\n", err);
		return 2;
	}
	e = json_string_value(json_object_get(r, "error"));
	if (json_is_true(json_object_get(r, "ok")))
		rc = 0;
	else
		rc = (e != NULL && strstr(e, needle) != NULL) ? 1 : 2;
	json_decref(r);
	return rc;
}

/* One request from a process that may only read: another uid in the
 * socket's group, as a user in the onionmesh group is. */
static int
ctl_as_reader(const char *path, const char *cmd, const char *arg,
    const char *needle)
{
	char *argv[] = {"test_ipc", "--reader", (char *)path, (char *)cmd,
	    (char *)(arg ? arg : ""), (char *)needle, NULL};
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		if (setgroups(0, NULL) != 0 || setgid(getgid()) != 0 ||
		    setuid(65534) != 0)
			_exit(3);
		execv("/proc/self/exe", argv);
		_exit(4);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The door refuses state changes from a reader before any handler runs
 * (sets stays), and lets it read. */
static void
ctl_door_reader(const char *dir, const char *path, int *sets)
{
	int before = *sets;

	/* The run dir lets the group in, as /run/onionmesh/NET does. */
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(ctl_as_reader(path, "status", NULL, ""), 0);
	assert_int_equal(ctl_as_reader(path, "set", NULL,
	    "\"set\" changes test's state: only root or test's own user "
	    "may send it"), 1);
	assert_int_equal(ctl_as_reader(path, "log", NULL, ""), 0);
	assert_int_equal(ctl_as_reader(path, "log", "level",
	    "\"log\" changes test's state"), 1);
	/* Only the reader's plain "log" ran a handler. */
	assert_int_equal(*sets, before + 1);
}

static void
test_ctl(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sun;
	char path[128], err[256];
	struct srv s;
	struct stat st;
	json_t *req, *r;
	int fd, sets = 0;

	assert_int_equal(ipc_path(path, sizeof(path), f->dir, "ctl.linkd"),
	    0);
	/* Nobody there yet: a clear message naming daemon and path. */
	err[0] = '\0';
	req = json_pack("{s:s}", "cmd", "status");
	assert_null(ipc_ctl_call(path, req, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "linkd is not running (no socket at "));
	assert_non_null(strstr(err, path));

	/* A socket file left by a dead daemon. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	err[0] = '\0';
	assert_null(ipc_ctl_call(path, req, 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "linkd is not running"));

	srv_init(&s);
	s.ctl = ipc_ctl_listen(s.loop, path, "test", test_ctl_cmds,
	    TABLE_LEN(test_ctl_cmds), &sets);
	assert_non_null(s.ctl);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	srv_start(&s);

	r = ipc_ctl_call(path, req, 3000, err, sizeof(err));
	if (r == NULL)
		fail_msg("ctl call: %s", err);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "daemon")),
	    "test");
	assert_int_equal(json_integer_value(json_object_get(r, "pid")),
	    getpid());
	json_decref(r);
	json_decref(req);
	/* The daemon's own uid (ours) may change state. */
	req = json_pack("{s:s}", "cmd", "set");
	r = ipc_ctl_call(path, req, 3000, err, sizeof(err));
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(sets, 1);
	json_decref(r);
	json_decref(req);
	if (getuid() == 0)
		ctl_door_reader(f->dir, path, &sets);

	expect_error(path, json_pack("[s]", "status"), "JSON object");
	expect_error(path, json_pack("{s:s}", "verb", "status"), "\"cmd\"");
	expect_error(path, json_pack("{s:i}", "cmd", 3), "\"cmd\"");
	expect_error(path, json_pack("{s:s}", "cmd", "nope"),
	    "unknown command \"nope\" (test answers status, broken, set, "
	    "log)");
	expect_error(path, json_pack("{s:s}", "cmd", "broken"),
	    "internal error");

	srv_fini(&s);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_utf8_scrub),
		cmocka_unit_test_setup_teardown(test_chan_both_ways, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chan_drops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chan_reconnect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chan_stale_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chan_wrong_uid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rpc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl, setup, teardown),
	};

	if (argc == 6 && strcmp(argv[1], "--reader") == 0)
		return reader_main(argv[2], argv[3], argv[4], argv[5]);

	int rv;

	log_init("test_ipc", LOG_LVL_INFO, 0);
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	/* Closed sockets are freed by nng's reaper thread; wait for it so
	 * LeakSanitizer sees only what we lost, not what nng still held. */
	nng_fini();
	return rv;
}
