/*
 * What linkd does with each message from keyd and routed: one row per
 * message in linkd_msgs (proto/dispatch.h), one on_<msg> per row. The
 * channels themselves are linkd.c's (nng pair1, both dialled: the
 * listener is the daemon named first in the socket name):
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
 * ipc.c has already checked the sender's uid, msg_check()ed type and
 * length and found the row; decoders still check every field. A
 * message that does not decode comes from a sibling that broke the
 * contract: logged and dropped, never fatal, since the sibling may be
 * restarted fixed.
 */
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/dispatch.h"
#include "proto/log.h"

static void
undecodable(const char *from, const struct msg_hdr *h)
{
	log_warnx("%s sent a MSG_%s that does not decode", from,
	    msg_name(h->type));
}

/* ---- keyd ---- */

static void
on_self(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	struct linkd *ld = ctx;
	struct msg_self self, *m = &self;
	uint8_t dh[NOISE_DHLEN];

	if (msg_self_decode(&self, payload, h->length) == -1) {
		undecodable("keyd", h);
		return;
	}

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
	ld->prologue_len = wire_prologue(ld->prologue, m->netid);
	if (!ld->self_known)
		log_info("I am %s (%.16s...)", ld->self_name, ld->self_hex);
	ld->self_known = 1;
	/* A full resend of the records follows. */
	ld->sync_epoch++;
	ld->syncing = 1;
}

static void
on_record(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	static struct msg_record m;      /* 8 KiB: not on the stack */
	static struct record r;
	struct linkd *ld = ctx;
	char err[256];
	struct peer *p;

	if (!ld->self_known) {
		log_warnx("keyd sent a record before MSG_SELF; dropped");
		return;
	}
	if (msg_record_decode(&m, payload, h->length) == -1) {
		undecodable("keyd", h);
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
on_record_del(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	struct linkd *ld = ctx;
	struct msg_member mem;
	struct peer *p;

	if (msg_member_decode(&mem, payload, h->length) == -1) {
		undecodable("keyd", h);
		return;
	}
	if ((p = peers_find(ld, mem.id)) != NULL)
		peers_remove(ld, p, "removed (keyd)");
}

static void
on_gossip_out(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	linkd_gossip_output(ctx, payload, h->length);
}

static void
on_join_out(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	join_relay_out(ctx, payload, h->length);
}

static void
on_sync_done(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	struct linkd *ld = ctx;
	struct msg_sync_done sd;

	if (msg_sync_done_decode(&sd, payload, h->length) == -1) {
		undecodable("keyd", h);
		return;
	}
	if (ld->syncing)
		peers_sweep(ld);
	ld->syncing = 0;
	peers_apply_policy_all(ld);
	log_info("members from keyd: %zu besides me (keyd counted "
	    "%u records)", ld->npeers, sd.count);
}

/* ---- routed ---- */

static void
on_fib_begin(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	struct linkd *ld = ctx;
	struct msg_fib_begin b;

	if (msg_fib_begin_decode(&b, payload, h->length) == -1) {
		undecodable("routed", h);
		return;
	}
	fib_builder_begin(&ld->fb, b.generation);
}

static void
on_fib_entry(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	struct linkd *ld = ctx;
	struct msg_fib_entry e;

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
}

static void
on_fib_commit(void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	struct linkd *ld = ctx;
	struct msg_fib_commit cm, *m = &cm;
	const char *why = NULL;
	struct fib *f;

	if (msg_fib_commit_decode(&cm, payload, h->length) == -1) {
		undecodable("routed", h);
		return;
	}
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

const struct msg_handler linkd_msgs[] = {
	{ MSG_SELF,        D_KEYD,   on_self },
	{ MSG_RECORD,      D_KEYD,   on_record },
	{ MSG_RECORD_DEL,  D_KEYD,   on_record_del },
	{ MSG_GOSSIP_OUT,  D_KEYD,   on_gossip_out },
	{ MSG_JOIN_OUT,    D_KEYD,   on_join_out },
	{ MSG_SYNC_DONE,   D_KEYD,   on_sync_done },
	{ MSG_FIB_BEGIN,   D_ROUTED, on_fib_begin },
	{ MSG_FIB_ENTRY,   D_ROUTED, on_fib_entry },
	{ MSG_FIB_COMMIT,  D_ROUTED, on_fib_commit },
};
const size_t linkd_nmsgs = TABLE_LEN(linkd_msgs);
