/*
 * linkd's two channels (nng pair1, both dialled: the listener is the
 * daemon named first in the socket name):
 *
 *   keyd.linkd    keyd -> linkd: MSG_SELF, MSG_RECORD..., MSG_SYNC_DONE
 *                 (all of it again whenever keyd (re)connects or a
 *                 record changes), MSG_RECORD_DEL.
 *                 Gossip: keyd -> linkd MSG_GOSSIP_OUT, linkd -> keyd
 *                 MSG_GOSSIP_IN (gossip.c carries them), and
 *                 MSG_PEER_STATE as routed gets it (a member's first
 *                 link up starts keyd's digest exchange with it).
 *   routed.linkd  routed -> linkd: MSG_FIB_BEGIN, ENTRY..., COMMIT;
 *                 linkd -> routed: MSG_PEER_STATE when a member's count
 *                 of established links changes or (to routed only) its
 *                 rate moves to another power of two, and for every
 *                 member when routed (re)connects, so a restarted
 *                 routed rebuilds its graph from us (keyd likewise).
 *
 * ipc.c has already checked the sender's uid and msg_check()ed type and
 * length; decoders still check every field. A message that does not
 * decode comes from a sibling that broke the contract: logged and
 * dropped, never fatal, since the sibling may be restarted fixed.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/ipc.h"
#include "proto/log.h"

static void
on_self(struct linkd *ld, const struct msg_self *m)
{
	uint8_t dh[NOISE_DHLEN];

	if (crypto_sign_ed25519_pk_to_curve25519(dh, m->id) != 0) {
		log_warnx("keyd sent an identity key with no X25519 form; "
		    "ignored");
		return;
	}
	if (crypto_verify_32(dh, m->dh_pub) != 0)
		log_warnx("keyd's MSG_SELF X25519 key does not match its "
		    "identity key; using the one derived from the identity");
	if (ld->self_known && (crypto_verify_32(ld->self_id, m->id) != 0 ||
	    memcmp(ld->netid, m->netid, NETID_BYTES) != 0)) {
		log_warnx("keyd's identity or network changed: closing "
		    "every link");
		peers_clear(ld);
		ld->have_self_rec = 0;
	}
	memcpy(ld->self_id, m->id, MEMBER_ID_BYTES);
	memcpy(ld->self_dh, dh, NOISE_DHLEN);
	memcpy(ld->netid, m->netid, NETID_BYTES);
	snprintf(ld->self_name, sizeof(ld->self_name), "%s", m->name);
	hex_encode(ld->self_hex, m->id, MEMBER_ID_BYTES);
	ld->prologue_len = session_prologue(ld->prologue, m->netid);
	if (!ld->self_known)
		log_info("I am %s (%.16s...)", ld->self_name, ld->self_hex);
	ld->self_known = 1;
	/* A full resend of the records follows. */
	ld->sync_epoch++;
	ld->syncing = 1;
}

static void
on_record(struct linkd *ld, const uint8_t *payload, size_t len)
{
	static struct msg_record m;      /* 8 KiB: not on the stack */
	static struct record r;
	char err[256];
	struct peer *p;

	if (msg_record_decode(&m, payload, len) == -1) {
		log_warnx("keyd sent a MSG_RECORD that does not decode");
		return;
	}
	if (record_parse(&r, m.text, m.len, err, sizeof(err)) == -1) {
		log_warnx("keyd sent a record linkd cannot parse: %s", err);
		return;
	}
	if ((p = peers_update(ld, &r)) != NULL)
		peers_apply_policy(ld, p);
}

static void
on_keyd(struct ipc_chan *c, const struct msg_hdr *h, const uint8_t *payload,
    void *arg)
{
	struct linkd *ld = arg;
	struct msg_self self;
	struct msg_member mem;
	struct msg_sync_done sd;
	struct peer *p;

	switch (h->type) {
	case MSG_SELF:
		if (msg_self_decode(&self, payload, h->length) == -1) {
			log_warnx("keyd sent a MSG_SELF that does not decode");
			return;
		}
		on_self(ld, &self);
		break;
	case MSG_RECORD:
		if (!ld->self_known) {
			log_warnx("keyd sent a record before MSG_SELF; "
			    "dropped");
			return;
		}
		on_record(ld, payload, h->length);
		break;
	case MSG_RECORD_DEL:
		if (msg_member_decode(&mem, payload, h->length) == -1) {
			log_warnx("keyd sent a MSG_RECORD_DEL that does not "
			    "decode");
			return;
		}
		if ((p = peers_find(ld, mem.id)) != NULL)
			peers_remove(ld, p, "removed (keyd)");
		break;
	case MSG_GOSSIP_OUT:
		linkd_gossip_output(ld, payload, h->length);
		break;
	case MSG_JOIN_OUT:
		join_relay_out(ld, payload, h->length);
		break;
	case MSG_SYNC_DONE:
		if (msg_sync_done_decode(&sd, payload, h->length) == -1) {
			log_warnx("keyd sent a MSG_SYNC_DONE that does not "
			    "decode");
			return;
		}
		if (ld->syncing)
			peers_sweep(ld);
		ld->syncing = 0;
		peers_apply_policy_all(ld);
		log_info("members from keyd: %zu besides me (keyd counted "
		    "%u records)", ld->npeers, sd.count);
		break;
	default:
		log_warnx_rl(ld->keyd, "keyd sent %s, which linkd does not "
		    "handle", msg_name(h->type));
		break;
	}
}

static void
on_fib_commit(struct linkd *ld, const struct msg_fib_commit *m)
{
	const char *why = NULL;
	struct fib *f;

	if ((f = fib_builder_commit(&ld->fb, m, &why)) == NULL) {
		log_warnx("routed's forwarding table (generation %u) "
		    "refused: %s; keeping generation %u", m->generation,
		    why != NULL ? why : "?", fib_generation(ld->fib));
		return;
	}
	fib_free(ld->fib);
	ld->fib = f;
	log_debug("forwarding table generation %u: %zu prefixes",
	    fib_generation(f), fib_count(f));
}

static void
on_routed(struct ipc_chan *c, const struct msg_hdr *h, const uint8_t *payload,
    void *arg)
{
	struct linkd *ld = arg;
	struct msg_fib_begin b;
	struct msg_fib_entry e;
	struct msg_fib_commit cm;

	switch (h->type) {
	case MSG_FIB_BEGIN:
		if (msg_fib_begin_decode(&b, payload, h->length) == -1) {
			log_warnx("routed sent a MSG_FIB_BEGIN that does not "
			    "decode");
			return;
		}
		fib_builder_begin(&ld->fb, b.generation);
		break;
	case MSG_FIB_ENTRY:
		if (msg_fib_entry_decode(&e, payload, h->length) == -1) {
			log_warnx_rl(&ld->fb, "routed sent a MSG_FIB_ENTRY "
			    "that does not decode");
			ld->fb.failed = 1;
			ld->fb.why = "an entry did not decode";
			return;
		}
		if (fib_builder_add(&ld->fb, &e) == -1)
			log_warnx_rl(&ld->fb, "routed sent a bad forwarding "
			    "entry: %s", ld->fb.why);
		break;
	case MSG_FIB_COMMIT:
		if (msg_fib_commit_decode(&cm, payload, h->length) == -1) {
			log_warnx("routed sent a MSG_FIB_COMMIT that does "
			    "not decode");
			return;
		}
		on_fib_commit(ld, &cm);
		break;
	default:
		log_warnx_rl(ld->routed, "routed sent %s, which linkd does "
		    "not handle", msg_name(h->type));
		break;
	}
}

static void
peer_state_send(struct linkd *ld, struct ipc_chan *c, struct peer *p,
    const char *to)
{
	struct msg_peer_state m;
	uint8_t buf[64];
	struct buf_w w;

	if (c == NULL)
		return;
	memset(&m, 0, sizeof(m));
	memcpy(m.id, p->rec.id, MEMBER_ID_BYTES);
	m.links_up = (uint16_t)p->links_up;
	m.rtt_us = peer_rtt_us(p);
	m.rate_kbps = p->rate_kbps;
	if (c == ld->routed)
		p->rtt_reported = m.rtt_us;
	bw_init(&w, buf, sizeof(buf));
	msg_peer_state_encode(&w, &m);
	if (w.err) {
		log_warnx("MSG_PEER_STATE does not fit %zu bytes",
		    sizeof(buf));
		return;
	}
	/* Not connected: it gets every state on its on_up. */
	if (ipc_send(c, MSG_PEER_STATE, 0, 0, &w) == -1)
		log_debug("peer state of %s not sent (%s away)",
		    p->rec.name, to);
}

void
dispatch_peer_state(struct linkd *ld, struct peer *p)
{
	p->reported = p->links_up;
	peer_state_send(ld, ld->routed, p, "routed");
	peer_state_send(ld, ld->keyd, p, "keyd");
}

void
dispatch_peer_measured(struct linkd *ld, struct peer *p)
{
	peer_state_send(ld, ld->routed, p, "routed");
}

static void
on_routed_up(struct ipc_chan *c, void *arg)
{
	struct linkd *ld = arg;
	struct peer *p;

	log_info("routed connected: sending the state of %zu members",
	    ld->npeers);
	TAILQ_FOREACH(p, &ld->peers, entry)
		peer_state_send(ld, ld->routed, p, "routed");
}

static void
on_keyd_up(struct ipc_chan *c, void *arg)
{
	struct linkd *ld = arg;
	struct peer *p;

	/* A (re)started keyd starts gossip with every member we have a
	 * link to. */
	log_info("keyd connected");
	TAILQ_FOREACH(p, &ld->peers, entry)
		peer_state_send(ld, ld->keyd, p, "keyd");
}

static struct ipc_chan *
chan_dial(struct linkd *ld, const char *name, enum daemon peer,
    ipc_msg_cb on_msg, ipc_up_cb on_up)
{
	struct ipc_chan_cfg cfg;
	struct ipc_chan *c;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", daemon_sock(ld->d, name));
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = ld->loop;
	cfg.path = path;
	cfg.self = D_LINKD;
	cfg.peer = peer;
	cfg.peer_uid = ld->d->ids.uid[peer];
	cfg.on_msg = on_msg;
	cfg.on_up = on_up;
	cfg.arg = ld;
	if ((c = ipc_chan_dial(&cfg)) == NULL)
		fatalx("cannot set up the %s channel at %s", name, path);
	return c;
}

void
dispatch_init(struct linkd *ld)
{
	fib_builder_init(&ld->fb);
	ld->keyd = chan_dial(ld, IPC_KEYD_LINKD, D_KEYD, on_keyd, on_keyd_up);
	ld->routed = chan_dial(ld, IPC_ROUTED_LINKD, D_ROUTED, on_routed,
	    on_routed_up);
}

void
dispatch_close(struct linkd *ld)
{
	if (ld->keyd != NULL)
		ipc_chan_close(ld->keyd);
	if (ld->routed != NULL)
		ipc_chan_close(ld->routed);
	ld->keyd = ld->routed = NULL;
	fib_builder_free(&ld->fb);
}
