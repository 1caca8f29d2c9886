/*
 * keyd's internal interfaces, shared by its files and its unit tests.
 *
 * keys.c holds the identity secret and is the only file that sees it;
 * records.c is the set of verified host records and the building of our
 * own (pure apart from reading and writing hosts/, so a test calls it
 * without a loop); dispatch.c and ctl.c are the IPC faces. The daemon
 * state lives in one struct keyd that main owns and passes around, so no
 * file reaches into another's globals.
 */
#ifndef OM_KEYD_H
#define OM_KEYD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sodium.h>

#include "keyd/torctl_io.h"
#include "proto/conf.h"
#include "proto/daemon.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "proto/record.h"

/* Domain of host record signatures: keyd refuses to sign anything that
 * starts with it for linkd, so a compromised linkd cannot forge our
 * record through MSG_SIGN_REQ. */
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
int keys_sign(uint8_t sig[64], const uint8_t *m, size_t n)
    __attribute__((warn_unused_result));
int keys_sign_record(struct record *r, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
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
/* Both keys. */
void keys_wipe(void);

/* records.c */
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
int records_own_refresh(struct keyd_records *s, const struct conf *c,
    const uint8_t netid[NETID_BYTES], int do_chown, uid_t uid, gid_t gid,
    char *err, size_t errlen) __attribute__((warn_unused_result));

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
	uint64_t signs;
	double started;
	struct torctl_io *tor;   /* onion mode only */
	char tor_control[CONF_ADDR_LEN]; /* what tor was started with */
	struct torctl_io_status tor_last; /* for logging changes */
};

/* dispatch.c */
void keyd_dispatch_start(struct keyd *k);
void keyd_dispatch_stop(struct keyd *k);
/* Full resend to one peer: MSG_SELF, every record, MSG_SYNC_DONE. */
int keyd_push(struct keyd *k, struct ipc_chan *c);
void keyd_push_all(struct keyd *k);
/* Re-read the config and hosts/, re-sign our record, push everything
 * again. 0 or -1 with err (the previous state is kept). */
int keyd_reload(struct keyd *k, char *err, size_t errlen);

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

/* ctl.c */
json_t *keyd_ctl(json_t *req, int may_change, void *arg);

#endif
