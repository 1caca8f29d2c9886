/*
 * What keyd sends down to linkd and routed: host records, their
 * deletions and edge announcements. dispatch.c (a peer connected),
 * reload.c, gossip.c, revoke.c and join_serve.c all send through here,
 * so none of them calls back up into the dispatcher.
 *
 * Records are always sent as a whole set (MSG_SELF, every record,
 * MSG_SYNC_DONE) rather than as deltas: when a peer (re)connects and
 * whenever the set changes. A receiver then needs no memory of what it
 * was told before — it drops whatever the last full set did not hold —
 * so any daemon can restart at any time and be whole again after one
 * resend. If a send does not fit the peer's queue, the whole set is
 * sent again a second later rather than leaving the peer with a hole.
 * Single changes (one record, one deletion, one announcement) go out
 * at once; when one does not fit, the same full resend follows.
 */
#include <stdio.h>
#include <string.h>

#include "keyd/keyd.h"
#include "proto/log.h"

#define PUSH_RETRY_S 1.0

static const char *
push_chan_name(const struct keyd *k, const struct ipc_chan *c)
{
	return c == k->linkd ? "linkd" : "routed";
}

static int
push_live(const struct ipc_chan *c)
{
	return c != NULL && ipc_chan_connected(c);
}

void
push_resend_later(struct keyd *k, struct ipc_chan *c)
{
	if (c == NULL)
		return;
	if (c == k->linkd)
		k->retry_linkd = 1;
	else
		k->retry_routed = 1;
	if (!ev_is_active(&k->retry)) {
		ev_timer_set(&k->retry, PUSH_RETRY_S, 0.);
		ev_timer_start(k->d.loop, &k->retry);
	}
}

static int
push_send(struct keyd *k, struct ipc_chan *c, uint16_t type,
    const struct buf_w *w)
{
	if (w->err) {
		log_warnx("%s for %s does not fit its buffer", msg_name(type),
		    push_chan_name(k, c));
		return -1;
	}
	if (ipc_send(c, type, 0, 0, w) == -1) {
		log_debug("%s to %s not queued; full resend later",
		    msg_name(type), push_chan_name(k, c));
		return -1;
	}
	return 0;
}

static int
push_self(struct keyd *k, struct ipc_chan *c)
{
	static uint8_t buf[RECORD_MAX_LEN + 64];
	struct msg_self self;
	struct buf_w w;

	memset(&self, 0, sizeof(self));
	memcpy(self.id, keys_id(), sizeof(self.id));
	memcpy(self.dh_pub, keys_dh_pub(), sizeof(self.dh_pub));
	memcpy(self.netid, k->netid, sizeof(self.netid));
	snprintf(self.name, sizeof(self.name), "%s", k->d.conf.name);
	bw_init(&w, buf, sizeof(buf));
	msg_self_encode(&w, &self);
	return push_send(k, c, MSG_SELF, &w);
}

static int
push_one_record(struct keyd *k, struct ipc_chan *c, const char *text,
    size_t len)
{
	static uint8_t buf[RECORD_MAX_LEN + 64];
	static struct msg_record mr;
	struct buf_w w;

	memset(&mr, 0, sizeof(mr));
	mr.len = (uint16_t)len;
	memcpy(mr.text, text, len);
	bw_init(&w, buf, sizeof(buf));
	msg_record_encode(&w, &mr);
	return push_send(k, c, MSG_RECORD, &w);
}

static int
push_sync_done(struct keyd *k, struct ipc_chan *c)
{
	static uint8_t buf[64];
	struct msg_sync_done done;
	struct buf_w w;

	done.count = (uint32_t)k->recs.n;
	bw_init(&w, buf, sizeof(buf));
	msg_sync_done_encode(&w, &done);
	return push_send(k, c, MSG_SYNC_DONE, &w);
}

int
push_full(struct keyd *k, struct ipc_chan *c)
{
	size_t i;

	if (!push_live(c))
		return -1;
	if (push_self(k, c) == -1)
		goto retry;
	for (i = 0; i < k->recs.n; i++)
		if (push_one_record(k, c, k->recs.v[i].text,
		    k->recs.v[i].len) == -1)
			goto retry;
	if (push_sync_done(k, c) == -1)
		goto retry;
	/* After the records: routed takes an announcement of any member,
	 * but uses only those of members it holds a record of. */
	if (c == k->routed && push_edges(k, c) == -1)
		goto retry;
	log_debug("sent %zu records to %s", k->recs.n, push_chan_name(k, c));
	return 0;
retry:
	push_resend_later(k, c);
	return -1;
}

/* Every change of the record set passes here (push_all, push_record,
 * push_record_del): tor's list of who may reach our onion service
 * follows it too (issue 15). */
void
push_all(struct keyd *k)
{
	(void)push_full(k, k->linkd);
	(void)push_full(k, k->routed);
	keyd_tor_auth_soon(k);
}

void
push_record(struct keyd *k, const char *text, size_t len)
{
	struct ipc_chan *c[2] = {k->linkd, k->routed};
	int i;

	keyd_tor_auth_soon(k);
	for (i = 0; i < 2; i++) {
		if (!push_live(c[i]))
			continue;  /* its on_up sends everything */
		if (push_one_record(k, c[i], text, len) == -1)
			push_resend_later(k, c[i]);
	}
}

void
push_record_del(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES])
{
	static uint8_t buf[64];
	struct ipc_chan *c[2] = {k->linkd, k->routed};
	struct msg_member m;
	struct buf_w w;
	int i;

	memset(&m, 0, sizeof(m));
	memcpy(m.id, id, MEMBER_ID_BYTES);
	keyd_tor_auth_soon(k);
	for (i = 0; i < 2; i++) {
		if (!push_live(c[i]))
			continue;  /* its on_up sends the set without it */
		bw_init(&w, buf, sizeof(buf));
		msg_member_encode(&w, &m);
		if (push_send(k, c[i], MSG_RECORD_DEL, &w) == -1)
			push_resend_later(k, c[i]);
	}
}

int
push_edges_one(struct keyd *k, struct ipc_chan *c,
    const struct keyd_edges *e)
{
	static struct msg_edges m;
	static uint8_t buf[2 + EDGES_MAX_LEN];
	struct buf_w w;

	if (!push_live(c))
		return -1;
	m.len = (uint16_t)e->len;
	memcpy(m.text, e->text, e->len);
	m.text[e->len] = '\0';
	bw_init(&w, buf, sizeof(buf));
	msg_edges_encode(&w, &m);
	if (w.err || ipc_send(c, MSG_EDGES, 0, 0, &w) == -1)
		return -1;
	return 0;
}

int
push_edges(struct keyd *k, struct ipc_chan *c)
{
	size_t i;

	for (i = 0; i < k->gossip.ne; i++)
		if (push_edges_one(k, c, &k->gossip.e[i]) == -1)
			return -1;
	return 0;
}

static void
push_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct keyd *k = t->data;

	if (k->retry_linkd) {
		k->retry_linkd = 0;
		(void)push_full(k, k->linkd);
	}
	if (k->retry_routed) {
		k->retry_routed = 0;
		(void)push_full(k, k->routed);
	}
}

void
push_start(struct keyd *k)
{
	ev_timer_init(&k->retry, push_retry_cb, PUSH_RETRY_S, 0.);
	k->retry.data = k;
}

void
push_stop(struct keyd *k)
{
	if (ev_is_active(&k->retry))
		ev_timer_stop(k->d.loop, &k->retry);
}
