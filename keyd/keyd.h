/*
 * keyd's internal interfaces, shared by its files and its unit tests.
 *
 * keys.c holds the identity secret and is the only file that sees it;
 * records.c is the set of verified host records and the building of our
 * own (pure apart from reading and writing hosts/, so a test calls it
 * without a loop); dispatch.c (messages) and ctl.c (requests) are the
 * IPC faces, and turn what comes in into calls; what keyd sends to
 * linkd and routed goes down through push.c, so the modules never call
 * back up into them. The daemon state lives in one struct keyd that
 * main owns and passes around, so no file reaches into another's
 * globals.
 */
#ifndef OM_KEYD_H
#define OM_KEYD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sodium.h>

#include "keyd/torctl_io.h"
#include "proto/claims.h"
#include "proto/conf.h"
#include "proto/dispatch.h"
#include "proto/edges.h"
#include "proto/daemon.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "proto/trust.h"

/* Domain of host record signatures. */
#define RECORD_SIG_CONTEXT "onionmesh record v1\n"

/* Error messages name up to two paths. */
#define KEYD_ERRLEN (2 * PATH_MAX + 512)

/* Onion mode (the Tor contract): tor_control and tor_socks both set.
 * keyd then publishes our onion service and our record carries its
 * address. */
static inline int
keyd_onion_mode(const struct conf *c)
{
	return c->tor_control[0] != '\0' && c->tor_socks[0] != '\0';
}

/* keys.c: the identity, loaded once before privileges are dropped. */
int keys_load(const char *keys_dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int keys_loaded(void);
const uint8_t *keys_id(void);     /* Ed25519 public key, 32 bytes */
const uint8_t *keys_dh_pub(void); /* X25519 public key, 32 bytes */
/* X25519(our secret, pub). -1 (and out zeroed) when the result is all
 * zeros, i.e. pub is a low-order point. */
int keys_dh(uint8_t out[32], const uint8_t pub[32])
    __attribute__((warn_unused_result));
/* The join channel's own static key (X25519, derived from the identity;
 * never used by keys_dh): its public half, which invitations name by
 * hash, and X25519 with it, for join_serve.c only. */
const uint8_t *keys_join_pub(void);
int keys_join_dh(uint8_t out[32], const uint8_t pub[32])
    __attribute__((warn_unused_result));
int keys_sign(uint8_t sig[64], const uint8_t *m, size_t n)
    __attribute__((warn_unused_result));
int keys_sign_record(struct record *r, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
/* keys_sign refuses these domains (only keys_sign_admission and
 * keys_sign_revocation build such bytes): 1 when m is outside the
 * admission and revocation domains. */
int keys_sign_domain_ok(const uint8_t *m, size_t n);
/* Sign g as its granter (sets by = us). */
int keys_sign_grant(struct grant *g, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
/* Sign r's admission as its admitter (sets admitted_by = us). */
int keys_sign_admission(struct record *r, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
/* Sign a revocation (sets by = us). */
int keys_sign_revocation(struct revocation *v,
    const uint8_t netid[NETID_BYTES]) __attribute__((warn_unused_result));
/* The onion service key (keys/onion), loaded in onion mode only. 0, or
 * -1 with err (a key already loaded stays). */
int keys_onion_load(const char *keys_dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* "<56 base32>.onion", or NULL when the key is not loaded. */
const char *keys_onion_addr(void);
/* ADD_ONION's key argument (onion_key_blob); a secret the caller wipes.
 * cap > ONION_BLOB_LEN. 0, or -1 when not loaded. */
int keys_onion_blob(char *out, size_t cap)
    __attribute__((warn_unused_result));
void keys_onion_wipe(void);
/* The onion client authorization key (keys/client-auth), loaded with
 * the onion key. 0, or -1 with err. Its x25519 public key, or NULL when
 * not loaded; its secret, for torctl_io only (never logged). */
int keys_client_auth_load(const char *keys_dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
const uint8_t *keys_client_auth_pub(void);
const uint8_t *keys_client_auth_secret(void);
void keys_client_auth_wipe(void);
/* All keys. */
void keys_wipe(void);

/* records.c */
/* Room for one more element in *v (n held, *cap allocated, each size
 * bytes): the array doubles, from first. 0, or -1 when out of memory
 * (*v unchanged). Every growing set in keyd grows this way. */
int keyd_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
    __attribute__((warn_unused_result));
/* The element of the set *v (*n held, each size bytes, its member id
 * at offset off) for id, or a new zeroed one with that id at the end;
 * NULL when out of memory. */
void *keyd_id_slot(void *v, size_t *n, size_t *cap, size_t size, size_t off,
    const uint8_t id[MEMBER_ID_BYTES]);
/* A serial from the wall clock (ms since the epoch), so one made after
 * a restart is still above the last; if_none when the clock is not
 * usable. */
uint64_t keyd_serial_now(uint64_t if_none);
struct keyd_rec {
	struct record rec;
	size_t len;
	char text[RECORD_MAX_LEN + 1]; /* canonical signed text */
};

struct keyd_records {
	struct keyd_rec *v;
	size_t n;
	size_t cap;
};

void records_init(struct keyd_records *s);
void records_free(struct keyd_records *s);
const struct keyd_rec *records_find(const struct keyd_records *s,
    const uint8_t id[MEMBER_ID_BYTES]);
/* Keep r when no record with its id is held or r's serial is higher:
 * 1 stored, 0 the held one stays, -1 out of memory. */
int records_put(struct keyd_records *s, const struct record *r,
    const char *text, size_t len) __attribute__((warn_unused_result));
/* Forget the record of id (memory only). 1 removed, 0 not held. */
int records_remove(struct keyd_records *s, const uint8_t id[MEMBER_ID_BYTES]);
/* Parse and verify one hosts/ file: it must be canonical, signed by its
 * own id for this network, and named after its name = line. 0, or -1
 * with the reason in err. */
int records_check(struct record *r, const char *fname, const char *text,
    size_t len, const uint8_t netid[NETID_BYTES], char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Read every file of dir into s (highest serial per id wins); each bad
 * file is logged with its path and why and skipped. Returns the number
 * of files skipped, or -1 when dir cannot be read. */
int records_load_dir(struct keyd_records *s, const char *dir,
    const uint8_t netid[NETID_BYTES]);
/* Our record from the config, unsigned: name, id, onion (may be NULL),
 * tcp, ipv4/ipv6 host addresses (ipv6 derived from netid and id when
 * the config has none: a record always has one), subnets. serial is
 * prev's when the content is the same as prev (prev's admission is
 * carried over), else prev's + 1, or 1 without prev. 0 or -1 with err.
 */
int records_own_build(struct record *out, const struct conf *c,
    const uint8_t netid[NETID_BYTES], const uint8_t id[MEMBER_ID_BYTES],
    const char *onion,
    const struct record *prev, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Build, sign (keys.c) and, when it differs from what hosts/<name> holds,
 * write our record (0644, owned by uid/gid when chown is set); then put
 * it into s. In onion mode it carries keys_onion_addr() (an error when
 * that key is not loaded). 1 written, 0 unchanged, -1 with err. */
/* Grants to us that our own record may announce subnets of (besides
 * the admission's): fn(arg, id, prefix), as claims.h's granted. */
void records_own_grants(claims_granted_fn fn, void *arg);
int records_own_refresh(struct keyd_records *s, const struct conf *c,
    const uint8_t netid[NETID_BYTES], int do_chown, uid_t uid, gid_t gid,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* gossip.c: spreading records and edge announcements between members.
 *
 * The pure part: an object in a digest is (kind, member id, serial);
 * digests are sorted by (kind, id), so records come before edges (an
 * announcement is only accepted from a member whose record is held).
 */
struct gossip_obj {
	uint8_t kind;                  /* GOSSIP_RECORD or GOSSIP_EDGES */
	uint8_t id[MEMBER_ID_BYTES];
	uint64_t serial;
};

#define GOSSIP_DIGEST_ENTRY (1 + MEMBER_ID_BYTES + 8)
#define GOSSIP_WANT_ENTRY   (1 + MEMBER_ID_BYTES)
/* Entries in one INNER_GOSSIP payload (type byte, u16 count). */
#define GOSSIP_DIGEST_MAX   ((GOSSIP_MAX_PAYLOAD - 3) / GOSSIP_DIGEST_ENTRY)
#define GOSSIP_WANT_MAX     ((GOSSIP_MAX_PAYLOAD - 3) / GOSSIP_WANT_ENTRY)

int gossip_obj_cmp(const struct gossip_obj *a, const struct gossip_obj *b);
void gossip_objs_sort(struct gossip_obj *v, size_t n);
struct gossip_peer;
/* May we send one more object to this member in answer to its digests
 * and wants? A token bucket sized by what we hold (inventory objects):
 * it holds two whole exchanges and refills one every 30 s, at least
 * GOSSIP_ANSWER_MIN and GOSSIP_ANSWER_MIN / 4 a second. */
int gossip_answer_take(struct gossip_peer *gp, size_t inventory,
    double now);
/*
 * What to do about (one chunk of) a peer's digest. ours and theirs are
 * sorted; only our objects with lo < (kind, id) <= hi count (lo NULL:
 * no lower bound, hi NULL: no upper bound), because a digest too big
 * for one payload comes in chunks and this one covers only its range.
 * send gets what we hold that they lack or hold older (cap >= nours),
 * want what they hold that we lack or hold older (cap >= ntheirs); both
 * sorted, records first.
 */
void gossip_diff(const struct gossip_obj *ours, size_t nours,
    const struct gossip_obj *theirs, size_t ntheirs,
    const struct gossip_obj *lo, const struct gossip_obj *hi,
    struct gossip_obj *send, size_t *nsend,
    struct gossip_obj *want, size_t *nwant);
/* A whole GOSSIP_DIGEST (or GOSSIP_WANT) payload with the first
 * min(n, GOSSIP_DIGEST_MAX (GOSSIP_WANT_MAX)) objects of v; out holds
 * GOSSIP_MAX_PAYLOAD bytes. Returns the number of objects written; the
 * payload length in *len. */
size_t gossip_digest_encode(uint8_t *out, size_t *len,
    const struct gossip_obj *v, size_t n);
size_t gossip_want_encode(uint8_t *out, size_t *len,
    const struct gossip_obj *v, size_t n);
/* Decode a whole payload (type byte included) into v (cap entries):
 * the count, or -1 (wrong type, unknown kind, short, trailing bytes,
 * more than cap). */
int gossip_digest_decode(const uint8_t *p, size_t len, struct gossip_obj *v,
    size_t cap) __attribute__((warn_unused_result));
int gossip_want_decode(const uint8_t *p, size_t len, struct gossip_obj *v,
    size_t cap) __attribute__((warn_unused_result));
/* Is the list of our live links (sorted by id) worth a new
 * announcement over the one held? Yes when a peer came or went, an rtt
 * moved by more than GOSSIP_RTT_MOVE_US and a fifth, or a rate moved by
 * GOSSIP_RATE_MOVE_STEPS powers of two (edges_rate_step; x4 with 2):
 * rtts jitter, traffic comes and goes, and every announcement is
 * flooded to the whole network. Rates are compared as announced
 * (edges_rate_bucket), so one step up and down again changes nothing. */
#define GOSSIP_RTT_MOVE_US 1000
#define GOSSIP_RATE_MOVE_STEPS 2
int gossip_edges_differ(const struct edges *held,
    const struct edges_peer *peers, size_t n);
/* A copy of our own edge announcement came back by gossip: is it one we
 * must announce above (from before a restart of ours, so its serial is
 * above what we hold), rather than our current one echoed by a peer?
 * Pure. */
int gossip_own_copy_newer(uint64_t copy_serial, uint64_t own_serial);

struct keyd_edges {                    /* a verified edge announcement */
	uint8_t id[MEMBER_ID_BYTES];
	uint64_t serial;
	char *text;                    /* canonical signed text */
	size_t len;
	double t_flood;                /* last flooded (ev_now) */
	int flood_pending;             /* a newer one waits for the limit */
};

struct gossip_peer {                   /* what linkd told us of a member */
	uint8_t id[MEMBER_ID_BYTES];
	uint16_t links_up;
	uint32_t gen;                  /* keyd_gossip.gen when reported */
	/* a digest from it that came in chunks: where the last ended */
	int cont;
	struct gossip_obj last;
	double t_last;
	/* objects we may still send it in answer to digests and wants */
	double answer_tokens, t_answer;
};

struct gossip_rec_flood {              /* flood rate limit for records */
	uint8_t id[MEMBER_ID_BYTES];
	double t_flood;
	int pending;
};

struct keyd_gossip {
	struct keyd_edges *e;
	size_t ne, ecap;
	struct gossip_peer *p;
	size_t np, pcap;
	uint32_t gen;                  /* bumped when linkd (re)connects */
	struct gossip_rec_flood *rf;
	size_t nrf, rfcap;
	/* our own announcement */
	uint64_t own_serial;           /* highest of ours made or seen */
	double t_own;                  /* when we last made one */
	int own_wait;                  /* own_next waits for the limit */
	struct edges_peer *own_next;   /* EDGES_MAX_PEERS entries */
	size_t own_nnext;
	ev_timer own_timer;
	ev_timer flood_timer;
	/* anti-entropy: a digest now and then */
	ev_timer ae_timer;
	int started;
	/* counters (ctl status) */
	uint64_t rx, rx_bad, rx_old, rx_unknown;
	uint64_t records_stored, edges_stored, own_made;
	uint64_t floods, floods_delayed, objects_sent, send_failed;
	uint64_t digests_sent, digests_rx, wants_rx;
	uint64_t answers_limited;      /* objects not sent: over budget */
};

/* revoke.c: the revocations held (each verified when it came). */
struct keyd_revocation {
	struct revocation rv;
	size_t len;
	char text[REVOCATION_MAX_LEN]; /* canonical signed text */
};

struct keyd_revoked {
	struct keyd_revocation *v;
	size_t n, cap;
	uint64_t accepted, refused;    /* counters (ctl status) */
	uint64_t over_bound;           /* of refused: an admin's bound */
};

/* admit.c: proto/claims.h's rules on the records keyd holds (issue
 * 14). Refusals are counted by reason and logged once per record
 * (id and serial) of the last KEYD_CLAIMS_LOGGED, since gossip offers
 * a refused record again and again. */
#define KEYD_CLAIMS_LOGGED 256
struct keyd_claims {
	uint64_t refused[CLAIM_NREASONS];
	uint64_t displaced;            /* held records a better one beat */
	struct {
		uint8_t id[MEMBER_ID_BYTES];
		uint64_t serial;
	} logged[KEYD_CLAIMS_LOGGED];
	size_t nlogged;                /* entries written, mod the ring */
};

/* grants.c: the grants held (issue 14), one per member (the highest
 * serial), each checked when it came, kept in STATE/grants. */
struct keyd_grant {
	struct grant g;
	size_t len;
	char text[GRANT_MAX_LEN + 1];  /* canonical signed text */
};

struct keyd_grants {
	struct keyd_grant *v;
	size_t n, cap;
	uint64_t accepted, refused;    /* counters (ctl status) */
};

/* The daemon. */
struct keyd {
	struct daemon_ctx d;
	uint8_t netid[NETID_BYTES];
	struct keyd_records recs;
	struct ipc_chan *linkd;
	struct ipc_chan *routed;
	struct ipc_rpc *crypto;
	struct ipc_ctl *ctl;
	ev_timer retry;        /* a push that did not fit is tried again */
	int retry_linkd;
	int retry_routed;
	uint64_t dh_ok;
	uint64_t dh_refused;
	double started;
	struct torctl_io *tor;   /* onion mode only */
	char tor_control[CONF_ADDR_LEN]; /* what tor was started with */
	char tor_applied[CONF_ADDR_LEN + PATH_MAX + 16]; /* control,
	                                  * auth and cookie it was started
	                                  * with: a reload restarts on a
	                                  * change of any */
	char tor_hint[PATH_MAX + 384];   /* keyd's access to tor, for
	                                  * "permission denied" errors */
	struct torctl_io_status tor_last; /* for logging changes */
	ev_timer tor_auth_timer;         /* keyd_tor_auth, for expiries */
	int tor_cut;                     /* a member was revoked since the
	                                  * last keyd_tor_auth */
	struct keyd_gossip gossip;
	struct keyd_revoked revoked;   /* revoke.c (issue 4) */
	struct keyd_joins *joins;      /* join_serve.c (issue 4) */
	struct keyd_claims claims;     /* admit.c (issue 14) */
	struct keyd_grants grants;     /* grants.c (issue 14) */
};

/* admit.c */
void keyd_claims_net(const struct keyd *k, struct claims_net *n);
/* May r (verified, admitted) be held next to what keyd holds? Held
 * records it beats (claims.h's order) are dropped first. 0, or -1 when
 * refused: counted, logged once (via: where it came from), why set. */
int keyd_claims_take(struct keyd *k, const struct record *r,
    const char *via, char *why, size_t whylen)
    __attribute__((warn_unused_result));
/* r failed trust_check (why): when its admitter is a held plain
 * member and the root does not let members invite, count and log it as
 * CLAIM_ADMITTER_ROLE (the chain's other failures are gossip's). */
void keyd_claims_untrusted(struct keyd *k, const struct record *r,
    const char *via, const char *why);
/* After r was stored: drop what is past its admitter's bound. */
void keyd_claims_bound(struct keyd *k, const struct record *r);
/* The whole held set checked in claims.h's order (after a load or a
 * reload): what loses is dropped. Returns how many. */
size_t keyd_claims_prune(struct keyd *k);
json_t *keyd_claims_status(const struct keyd *k);

/* grants.c: may we give member (NULL: a newcomer) these subnets? We
 * must be the root or an admin (when n > 0), and no subnet may overlap
 * the network's ranges or a held member's addresses (but member's
 * own). 0, or -1 with err. */
int keyd_grant_ok(const struct keyd *k, const uint8_t *member,
    const struct prefix *subnets, int n, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* claims_granted_fn over the grants held (arg: the keyd). */
int keyd_granted(void *arg, const uint8_t id[MEMBER_ID_BYTES],
    const struct prefix *p);
size_t grants_count(const struct keyd *k);
/* The i-th grant and its canonical text (NULL past the end). */
const struct grant *grants_get(const struct keyd *k, size_t i);
const char *grants_text(const struct keyd *k, size_t i, size_t *len);
/* ctl "grant": sign a grant giving member name the subnets (with those
 * an earlier grant gave it), keep it, act on it and flood it. 0, or -1
 * with err. */
int grant_make(struct keyd *k, const char *name,
    const struct prefix *subnets, int n, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* A grant from gossip (from: not flooded back to it): parse, check,
 * keep, flood, act. 1 new, 0 not newer than the one held, -1 refused
 * (why). */
int grant_accept(struct keyd *k, const char *text, size_t len,
    const uint8_t *from, char *why, size_t whylen)
    __attribute__((warn_unused_result));
/* At start, before our record is signed: STATE/grants, each checked
 * against the records held (revocations come later: grants_prune). */
void grants_load(struct keyd *k);
/* Drop the grants whose member is revoked or whose granter no longer
 * checks out (file too), then the held records announcing a subnet
 * no longer given; a grant of ours gone re-signs our record. Returns
 * how many grants went. */
size_t grants_prune(struct keyd *k);
void grants_free(struct keyd *k);
json_t *grants_status(const struct keyd *k);
/* gossip.c: the grant held for member id to every direct peer but
 * except (NULL: all). */
void gossip_flood_grant(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES],
    const uint8_t *except);
/* Gossip's kind for grants (after GOSSIP_REVOCATION, revoke.h). */
#define GOSSIP_GRANT 6

/* push.c: what keyd sends to linkd and routed. */
void push_start(struct keyd *k);
void push_stop(struct keyd *k);
/* Full resend to one peer: MSG_SELF, every record, MSG_SYNC_DONE (and
 * to routed every held edge announcement). -1 if not connected, or a
 * message did not fit (a full resend follows a second later). */
int push_full(struct keyd *k, struct ipc_chan *c);
void push_all(struct keyd *k);
/* A message to c was dropped: send c the whole set again shortly. */
void push_resend_later(struct keyd *k, struct ipc_chan *c);
/* One record that changed, to both peers. */
void push_record(struct keyd *k, const char *text, size_t len);
/* A record that is gone (MSG_RECORD_DEL), to both peers. */
void push_record_del(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES]);
/* One held edge announcement to c, or all of them. -1 if one could not
 * be queued. */
int push_edges_one(struct keyd *k, struct ipc_chan *c,
    const struct keyd_edges *e);
int push_edges(struct keyd *k, struct ipc_chan *c);

/* store.c: the key store and hosts/ on disk. */
/* chown, but only when the owner differs: keyd started as its own user
 * (a systemd unit's User=) cannot chown at all, and need not when the
 * store is already its own. */
int keyd_chown_if(const char *path, uid_t uid, gid_t gid);
/* Give a directory and the files directly in it to uid/gid. 0, or -1
 * with err. */
int keyd_chown_tree(const char *dir, uid_t uid, gid_t gid, char *err,
    size_t errlen);
/* Create the keys dir with 0700; refuse one that others can enter. */
int keyd_keys_dir_ensure(const char *dir, char *err, size_t errlen);
/* Signed texts kept one file per member id, named by its hex
 * (STATE/revoked, STATE/grants): stored atomically (a failure is
 * logged, what = "revocation", "grant": it still holds in memory, and
 * gossip brings it back after a restart), removed, and loaded, each
 * file (at most maxlen bytes) handed to fn, which returns 0 or -1
 * (skipped; counted in *bad). 0, or -1 with err when dir cannot be
 * read (a missing one holds nothing). */
typedef int (*keyd_signed_fn)(void *arg, const char *path,
    const char *fname, const char *text, size_t len);
void keyd_signed_store(const char *dir, const uint8_t id[MEMBER_ID_BYTES],
    const char *text, size_t len, const char *what);
void keyd_signed_remove(const char *dir, const uint8_t id[MEMBER_ID_BYTES]);
int keyd_signed_load(const char *dir, size_t maxlen, keyd_signed_fn fn,
    void *arg, size_t *bad, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* reload.c: re-read the config and hosts/, re-sign our record, push
 * everything again. 0 or -1 with err (the previous state is kept). */
int keyd_reload(struct keyd *k, char *err, size_t errlen);

/* dispatch.c: the message table ipc.c runs (cfg.arg is the keyd), the
 * channels' on_up, and the crypto rpc. */
extern const struct msg_handler keyd_msgs[];
extern const size_t keyd_nmsgs;
void keyd_on_up(struct ipc_chan *c, void *arg);
uint16_t keyd_rpc(const struct msg_hdr *h, const uint8_t *payload,
    struct buf_w *reply, void *arg);

/* gossip.c, the daemon side (dispatch.c and keyd.c call these) */
void gossip_start(struct keyd *k);
void gossip_stop(struct keyd *k);
/* linkd (re)connected: it reports every member's links afresh. */
void gossip_linkd_up(struct keyd *k);
void gossip_on_peer_state(struct keyd *k, const uint8_t *p, size_t n);
void gossip_on_in(struct keyd *k, const uint8_t *p, size_t n);
void gossip_on_edges_local(struct keyd *k, const uint8_t *p, size_t n);
/* The records changed (reload): drop announcements of members gone. */
void gossip_records_changed(struct keyd *k);
void gossip_record_new(struct keyd *k, const uint8_t id[MEMBER_ID_BYTES]);
json_t *gossip_ctl_status(const struct keyd *k);
json_t *gossip_ctl_edges(const struct keyd *k);

/* tor.c: the onion service, in onion mode. */
/* In onion mode make sure the onion key exists (created when missing)
 * and is loaded; nothing otherwise. 0 or -1 with err. */
int keyd_tor_key(const struct conf *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Start, restart or stop torctl_io to match k->d.conf (the key must be
 * loaded: keyd_tor_key). 0, or -1 when it cannot start (logged). */
int keyd_tor_apply(struct keyd *k);
/* Withdraw the service (DEL_ONION) and stop; fine when not running. */
void keyd_tor_stop(struct keyd *k);
/* Client authorization (issue 15) as the records, revocations and
 * invitations now say: the clients our service takes, the members'
 * services our tor reaches with our key. Cheap when nothing changed;
 * called on every record change and every few seconds (invitations
 * expire). */
void keyd_tor_auth(struct keyd *k);
/* The same within TOR_AUTH_SOON (0.5 s), once for a burst: for every
 * change of the records (push.c). */
void keyd_tor_auth_soon(struct keyd *k);
/* keys/client-auth made when missing, and loaded. 0, or -1 with err. */
int keyd_tor_client_key(const struct conf *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* --join: give our tor (c's tor_control, tor_auth, tor_cookie) the
 * invitation's client key sk for the inviter's onion address, on a
 * loop of its own, waiting at most timeout_s. 0, or -1 with err. */
int keyd_tor_client_once(const struct conf *c, const char *onion,
    const uint8_t sk[32], double timeout_s, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* --join over tor: keyd_tor_client_once with the key the invitation
 * URL's secret gives (invite_client_auth_sk); a failure is logged, and
 * the join tried anyway. */
void keyd_tor_invite_key(const struct conf *c, const char *url);
/* Before the drop, in onion mode: the group of tor's that keyd keeps
 * (tor_group, else the cookie file's group, else its folder's) into
 * k->d.extra_gid, and k->tor_hint. Exits (fatalx) when tor_group names
 * no group or root. */
void keyd_tor_group(struct keyd *k);

/* join_serve.c: the inviter's side of the join exchange (keyd/join.h),
 * frames relayed by linkd as MSG_JOIN_IN / MSG_JOIN_OUT. */
struct keyd_joins;
void join_serve_start(struct keyd *k);
void join_serve_stop(struct keyd *k);
/* linkd (re)connected: its relays from before are gone. */
void join_serve_linkd_up(struct keyd *k);
void join_serve_on_in(struct keyd *k, const uint8_t *p, size_t n);
/* Counters for ctl "status". */
json_t *join_serve_status(const struct keyd *k);
/* join_client.c: onionmesh-keyd --join URL, the joiner's one-shot.
 * p: this member's paths (keys/ holds the identity made by --genkey);
 * tor_socks: tor's SocksPort ("" none); tcp: use the URL's tcp=
 * endpoint instead of tor (refused when anonymous); onion: our record
 * carries our onion address (the config will be in onion mode). JSON
 * lines on stdout; returns the exit code (0 admitted, 1 not). */
int join_client_run(const struct conf_paths *p, const char *url,
    const char *tor_socks, int tcp, int anonymous, int onion);

/* ctl.c: the ctl socket's table (proto/dispatch.h); ctx is the keyd. */
extern const struct ctl_cmd keyd_ctl_cmds[];
extern const size_t keyd_nctl_cmds;

#endif
