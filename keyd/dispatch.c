/*
 * keyd's IPC: the two channels on which it hands host records to linkd
 * and routed, and the rpc on which linkd asks for operations with the
 * identity key.
 *
 * Records are always sent as a whole set (MSG_SELF, every record,
 * MSG_SYNC_DONE) rather than as deltas: when a peer (re)connects and
 * whenever the set changes. A receiver then needs no memory of what it
 * was told before — it drops whatever the last full set did not hold —
 * so any daemon can restart at any time and be whole again after one
 * resend. If a send does not fit the peer's queue, the whole set is
 * sent again a second later rather than leaving the peer with a hole.
 *
 * The rpc serves X25519 and Ed25519 for linkd only (ipc.c checks the
 * peer uid). Signing refuses anything in the host record or edge
 * announcement signature domains, so linkd cannot be used to forge our
 * record or our links.
 *
 * Gossip (gossip.c) rides the same channels: linkd hands keyd what
 * members sent (MSG_GOSSIP_IN) and its link counts (MSG_PEER_STATE),
 * routed hands keyd our live links (MSG_EDGES_LOCAL); keyd sends
 * gossip out through linkd (MSG_GOSSIP_OUT) and every verified edge
 * announcement to routed (MSG_EDGES, also after each full resend).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "proto/log.h"

#define KEYD_RETRY_S 1.0

static const char *
keyd_chan_name(const struct keyd *k, const struct ipc_chan *c)
{
	return c == k->linkd ? "linkd" : "routed";
}

static void
keyd_retry_later(struct keyd *k, struct ipc_chan *c)
{
	if (c == k->linkd)
		k->retry_linkd = 1;
	else
		k->retry_routed = 1;
	if (!ev_is_active(&k->retry)) {
		ev_timer_set(&k->retry, KEYD_RETRY_S, 0.);
		ev_timer_start(k->d.loop, &k->retry);
	}
}

static int
keyd_send(struct keyd *k, struct ipc_chan *c, uint16_t type,
    const struct buf_w *w)
{
	if (w->err) {
		log_warnx("%s for %s does not fit its buffer", msg_name(type),
		    keyd_chan_name(k, c));
		return -1;
	}
	if (ipc_send(c, type, 0, 0, w) == -1) {
		log_debug("%s to %s not queued; full resend later",
		    msg_name(type), keyd_chan_name(k, c));
		return -1;
	}
	return 0;
}

int
keyd_push(struct keyd *k, struct ipc_chan *c)
{
	static uint8_t buf[RECORD_MAX_LEN + 64];
	static struct msg_record mr;
	struct msg_self self;
	struct msg_sync_done done;
	struct buf_w w;
	size_t i;

	if (c == NULL || !ipc_chan_connected(c))
		return -1;

	memset(&self, 0, sizeof(self));
	memcpy(self.id, keys_id(), sizeof(self.id));
	memcpy(self.dh_pub, keys_dh_pub(), sizeof(self.dh_pub));
	memcpy(self.netid, k->netid, sizeof(self.netid));
	snprintf(self.name, sizeof(self.name), "%s", k->d.conf.name);
	bw_init(&w, buf, sizeof(buf));
	msg_self_encode(&w, &self);
	if (keyd_send(k, c, MSG_SELF, &w) == -1)
		goto retry;

	for (i = 0; i < k->recs.n; i++) {
		memset(&mr, 0, sizeof(mr));
		mr.len = (uint16_t)k->recs.v[i].len;
		memcpy(mr.text, k->recs.v[i].text, k->recs.v[i].len);
		bw_init(&w, buf, sizeof(buf));
		msg_record_encode(&w, &mr);
		if (keyd_send(k, c, MSG_RECORD, &w) == -1)
			goto retry;
	}

	done.count = (uint32_t)k->recs.n;
	bw_init(&w, buf, sizeof(buf));
	msg_sync_done_encode(&w, &done);
	if (keyd_send(k, c, MSG_SYNC_DONE, &w) == -1)
		goto retry;
	/* After the records: routed takes an announcement of any member,
	 * but uses only those of members it holds a record of. */
	if (c == k->routed && gossip_push_edges(k, c) == -1)
		goto retry;
	log_debug("sent %zu records to %s", k->recs.n, keyd_chan_name(k, c));
	return 0;
retry:
	keyd_retry_later(k, c);
	return -1;
}

void
keyd_resend_later(struct keyd *k, struct ipc_chan *c)
{
	if (c != NULL)
		keyd_retry_later(k, c);
}

void
keyd_push_all(struct keyd *k)
{
	(void)keyd_push(k, k->linkd);
	(void)keyd_push(k, k->routed);
}

static void
keyd_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct keyd *k = t->data;

	if (k->retry_linkd) {
		k->retry_linkd = 0;
		(void)keyd_push(k, k->linkd);
	}
	if (k->retry_routed) {
		k->retry_routed = 0;
		(void)keyd_push(k, k->routed);
	}
}

static void
keyd_on_up(struct ipc_chan *c, void *arg)
{
	struct keyd *k = arg;

	log_info("%s connected; sending %zu records", keyd_chan_name(k, c),
	    k->recs.n);
	if (c == k->linkd) {
		gossip_linkd_up(k);
		join_serve_linkd_up(k);
	}
	(void)keyd_push(k, c);
}

static void
keyd_on_msg(struct ipc_chan *c, const struct msg_hdr *h,
    const uint8_t *payload, void *arg)
{
	struct keyd *k = arg;

	/* ipc.c has checked sender and length against the catalogue;
	 * each type is taken only on the channel it belongs to. */
	if (c == k->linkd && h->type == MSG_PEER_STATE)
		gossip_on_peer_state(k, payload, h->length);
	else if (c == k->linkd && h->type == MSG_GOSSIP_IN)
		gossip_on_in(k, payload, h->length);
	else if (c == k->linkd && h->type == MSG_JOIN_IN)
		join_serve_on_in(k, payload, h->length);
	else if (c == k->routed && h->type == MSG_EDGES_LOCAL)
		gossip_on_edges_local(k, payload, h->length);
	else
		log_warnx_rl(c, "%s from %s: not handled by keyd; dropped",
		    msg_name(h->type), keyd_chan_name(k, c));
}

static int
keyd_sign_domain_ok(const uint8_t *data, size_t len, const char *ctx)
{
	size_t n = strlen(ctx);

	/* A prefix of the context is refused too: linkd must not get a
	 * signature over something that could be extended into one. */
	if (len < n)
		return len == 0 || memcmp(data, ctx, len) != 0;
	return memcmp(data, ctx, n) != 0;
}

static int
keyd_sign_allowed(const uint8_t *data, size_t len)
{
	return keyd_sign_domain_ok(data, len, RECORD_SIG_CONTEXT) &&
	    keyd_sign_domain_ok(data, len, EDGES_SIG_CONTEXT);
}

static uint16_t
keyd_crypto_cb(const struct msg_hdr *h, const uint8_t *payload,
    struct buf_w *reply, void *arg)
{
	struct keyd *k = arg;
	struct msg_dh_req dq;
	struct msg_dh_resp dr;
	static struct msg_sign_req sq;
	struct msg_sign_resp sr;

	switch (h->type) {
	case MSG_DH_REQ:
		memset(&dr, 0, sizeof(dr));
		if (msg_dh_req_decode(&dq, payload, h->length) == -1) {
			log_warnx_rl(&k->dh_refused, "malformed %s from linkd "
			    "(%u bytes); refused", msg_name(h->type),
			    h->length);
			dr.status = 1;
		} else if (keys_dh(dr.shared, dq.pub) == -1) {
			/* A low-order point: the result would be known to
			 * anyone, so it must never become a key. */
			log_warnx_rl(&k->dh_refused, "DH with a low-order "
			    "public key refused");
			dr.status = 1;
			k->dh_refused++;
		} else
			k->dh_ok++;
		msg_dh_resp_encode(reply, &dr);
		sodium_memzero(&dr, sizeof(dr));
		return MSG_DH_RESP;
	case MSG_SIGN_REQ:
		memset(&sr, 0, sizeof(sr));
		if (msg_sign_req_decode(&sq, payload, h->length) == -1 ||
		    sq.len > sizeof(sq.data)) {
			log_warnx_rl(&k->signs, "malformed %s from linkd "
			    "(%u bytes); refused", msg_name(h->type),
			    h->length);
			sr.status = 1;
		} else if (!keyd_sign_allowed(sq.data, sq.len)) {
			log_warnx_rl(&k->signs, "linkd asked to sign data in "
			    "the host record domain; refused");
			sr.status = 1;
		} else if (keys_sign(sr.sig, sq.data, sq.len) == -1) {
			log_warnx_rl(&k->signs, "signing failed");
			sr.status = 1;
		} else
			k->signs++;
		msg_sign_resp_encode(reply, &sr);
		return MSG_SIGN_RESP;
	default:
		log_warnx_rl(k, "%s on the crypto rpc: not handled; no reply",
		    msg_name(h->type));
		return 0;
	}
}

static void
keyd_on_hup(struct daemon_ctx *d)
{
	struct keyd *k = (struct keyd *)((char *)d -
	    offsetof(struct keyd, d));
	char err[KEYD_ERRLEN];

	log_info("SIGHUP: reloading");
	if (keyd_reload(k, err, sizeof(err)) == -1)
		log_warnx("reload failed, previous state kept: %s", err);
}

int
keyd_reload(struct keyd *k, char *err, size_t errlen)
{
	static uint8_t buf[64];
	struct keyd_records ns;
	struct msg_member del;
	struct conf nc;
	struct buf_w w;
	size_t i;
	int bad;

	memset(&nc, 0, sizeof(nc));
	nc.paths = k->d.conf.paths;
	if (conf_load(&nc, err, errlen) == -1)
		return -1;
	/* Paths and the process set-up stay as they were at start. */
	nc.paths = k->d.conf.paths;

	/* Onion mode turned on: our record needs the onion key now. */
	if (keyd_tor_key(&nc, err, errlen) == -1)
		return -1;

	records_init(&ns);
	bad = records_load_dir(&ns, nc.paths.hosts_dir, k->netid);
	if (bad == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", nc.paths.hosts_dir,
		    strerror(errno));
		records_free(&ns);
		return -1;
	}
	if (records_own_refresh(&ns, &nc, k->netid, 0, 0, 0, err,
	    errlen) == -1) {
		records_free(&ns);
		return -1;
	}

	/* Tell the peers at once about members that are gone; the full
	 * resend below would drop them too, this is only sooner. */
	for (i = 0; i < k->recs.n; i++) {
		if (records_find(&ns, k->recs.v[i].rec.id) != NULL)
			continue;
		log_info("record of %s is gone", k->recs.v[i].rec.name);
		memcpy(del.id, k->recs.v[i].rec.id, sizeof(del.id));
		bw_init(&w, buf, sizeof(buf));
		msg_member_encode(&w, &del);
		if (k->linkd != NULL && ipc_chan_connected(k->linkd))
			(void)keyd_send(k, k->linkd, MSG_RECORD_DEL, &w);
		if (k->routed != NULL && ipc_chan_connected(k->routed))
			(void)keyd_send(k, k->routed, MSG_RECORD_DEL, &w);
	}

	records_free(&k->recs);
	k->recs = ns;
	gossip_records_changed(k);
	nc.privsep = k->d.conf.privsep;
	nc.sandbox = k->d.conf.sandbox;
	k->d.conf = nc;
	log_info("reloaded: %zu records%s", k->recs.n,
	    bad > 0 ? " (some files skipped, see above)" : "");
	keyd_push_all(k);
	/* The records are in; a tor that cannot be used is logged and
	 * does not undo them. */
	(void)keyd_tor_apply(k);
	return 0;
}

void
keyd_dispatch_start(struct keyd *k)
{
	struct ipc_chan_cfg cfg;
	char path[PATH_MAX], name[64];

	ev_timer_init(&k->retry, keyd_retry_cb, KEYD_RETRY_S, 0.);
	k->retry.data = k;
	k->d.on_hup = keyd_on_hup;
	gossip_start(k);
	join_serve_start(k);

	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = k->d.loop;
	cfg.self = D_KEYD;
	cfg.on_msg = keyd_on_msg;
	cfg.on_up = keyd_on_up;
	cfg.arg = k;

	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d,
	    IPC_KEYD_LINKD));
	cfg.path = path;
	cfg.peer = D_LINKD;
	cfg.peer_uid = k->d.ids.uid[D_LINKD];
	/* Set before listening: on_up may run as soon as the loop does
	 * and compares against these pointers. */
	k->linkd = ipc_chan_listen(&cfg);
	if (k->linkd == NULL)
		fatalx("cannot listen on %s", path);

	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d,
	    IPC_KEYD_ROUTED));
	cfg.peer = D_ROUTED;
	cfg.peer_uid = k->d.ids.uid[D_ROUTED];
	k->routed = ipc_chan_listen(&cfg);
	if (k->routed == NULL)
		fatalx("cannot listen on %s", path);

	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d,
	    IPC_KEYD_CRYPTO));
	k->crypto = ipc_rpc_listen(k->d.loop, path, D_KEYD, D_LINKD,
	    k->d.ids.uid[D_LINKD], keyd_crypto_cb, k);
	if (k->crypto == NULL)
		fatalx("cannot listen on %s", path);

	snprintf(name, sizeof(name), IPC_CTL_FMT, "keyd");
	snprintf(path, sizeof(path), "%s", daemon_sock(&k->d, name));
	k->ctl = ipc_ctl_listen(k->d.loop, path, keyd_ctl, k);
	if (k->ctl == NULL)
		fatalx("cannot listen on %s", path);
}

void
keyd_dispatch_stop(struct keyd *k)
{
	if (ev_is_active(&k->retry))
		ev_timer_stop(k->d.loop, &k->retry);
	gossip_stop(k);
	join_serve_stop(k);
	if (k->ctl != NULL)
		ipc_ctl_close(k->ctl);
	if (k->crypto != NULL)
		ipc_rpc_close(k->crypto);
	if (k->routed != NULL)
		ipc_chan_close(k->routed);
	if (k->linkd != NULL)
		ipc_chan_close(k->linkd);
	k->ctl = NULL;
	k->crypto = NULL;
	k->routed = NULL;
	k->linkd = NULL;
}
