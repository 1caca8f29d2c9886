/*
 * The join exchange: how a newcomer holding an invitation URL becomes a
 * member. Both sides are pure state machines here (feed a frame body,
 * take the frame bodies to send), so the unit test runs the two against
 * each other in memory and the fuzzer feeds the inviter's side anything;
 * keyd/join_serve.c (inviter, frames relayed by linkd) and
 * keyd/join_client.c (joiner, a blocking one-shot) only move bytes.
 *
 * Frames travel as WIRE_JOIN frames on a link connection; a body is
 * u8 step || data:
 *
 *   1 HELLO   J->I  u8 version (2) || invite id (8) || MAC (16)
 *   2 KEY     I->J  inviter's join key (32) || root id (32)
 *   3 HS1     J->I  Noise IK msg1, payload = the joiner's Ed25519 id
 *   4 HS2     I->J  Noise IK msg2, empty payload
 *   5 REDEEM  J->I  AEAD(c1, n=0, ad=step): invite id (8) || secret (20)
 *   6 ADMIT   I->J  AEAD(c2, n=0.., ad=step): u8 more || chunk
 *   7 RECORD  J->I  AEAD(c1, n=1, ad=step): the joiner's own record,
 *                   signed with its new key (only after an admission)
 *   8 DONE    I->J  AEAD(c2, n=next, ad=step): u8 status || text; then
 *                   the inviter closes
 *
 * HELLO's MAC (proto/invite.h, invite_hello_mac) proves the sender
 * holds the invitation: the inviter checks it against the invitation
 * it keeps (join_hello_fn) before it answers anything, and a stranger
 * gets silence (the connection closes, no byte sent): it learns
 * neither which member answers nor which network, and costs no DH.
 *
 * The inviter's Noise static key is its join key (keyd/keys.c), not
 * the X25519 form of its identity: linkd, which may ask keyd for DH
 * with the identity for its links, can never finish a joiner's
 * handshake. The joiner checks that key against the URL's KEYHASH
 * (constant time) before anything else; who the inviter is comes
 * with the admission, signed, and its chain is checked; the root travels in KEY unauthenticated
 * but enters the prologue ("onionmesh join v1\n" || netid(net, root)),
 * so a wrong one only makes the handshake fail. The joiner's Noise
 * static key is the X25519 form of its new identity, and the id itself
 * rides encrypted in msg1 (X25519 does not give back the Ed25519 key);
 * the inviter checks that the two match. The secret is sent only under
 * keys that include the inviter's fresh ephemeral, so a recorded
 * exchange replayed later admits nothing, and it is never a key by
 * itself (no offline guessing from a capture).
 *
 * RECORD exists because of onion mode's dial rule (only the member with
 * the lower id dials): without it an inviter whose id is the lower one
 * would not know the newcomer, so neither side would dial and no link,
 * and so no gossip, would ever come. With it the inviter holds the
 * newcomer's record (checked: self-signed, the admission it just made,
 * the chain) before the newcomer's daemons start.
 *
 * ADMIT's chunks concatenate to the admit blob (join_admit_encode):
 * status first; on success the joiner's admission (with the subnets it
 * grants: u8 count, then each prefix), the root, the network
 * settings a member may be told and the text of every current valid
 * record and revocation. Nothing executable, no paths, no tor settings.
 */
#ifndef OM_KEYD_JOIN_H
#define OM_KEYD_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/invite.h"
#include "proto/msg.h"
#include "proto/noise.h"
#include "proto/wire.h"

#define JOIN_VERSION      2
/* HELLO body: step, version, invite id, MAC */
#define JOIN_HELLO_LEN    (2 + INVITE_ID_BYTES + INVITE_HELLO_MAC_BYTES)
#define JOIN_PROLOGUE     "onionmesh join v1\n"
#define JOIN_PROLOGUE_MAX (sizeof(JOIN_PROLOGUE) - 1 + NETID_BYTES)
#define JOIN_BODY_MAX     WIRE_JOIN_MAX_BODY
/* One ADMIT chunk's data: body minus step, more flag and tag. */
#define JOIN_CHUNK_MAX    (JOIN_BODY_MAX - 1 - 1 - NOISE_TAGLEN)
#define JOIN_ADMIT_MAX    (8 * 1024 * 1024) /* the whole admit blob */
#define JOIN_MAX_TEXTS    65536  /* records, revocations in one admit */
#define JOIN_MSG_MAX      255    /* a refusal's text */
#define JOIN_TIMEOUT      30.0   /* s: inviter side, per connection */
#define JOIN_CLIENT_TIMEOUT 60.0 /* s: the whole join, joiner side */
#define JOIN_MAX_CONNS    128    /* join relays at once (linkd, keyd) */
#define JOIN_REDEEM_LEN   (INVITE_ID_BYTES + INVITE_SECRET_BYTES)

enum join_step {
	JOIN_HELLO = 1,
	JOIN_KEY = 2,
	JOIN_HS1 = 3,
	JOIN_HS2 = 4,
	JOIN_REDEEM = 5,
	JOIN_ADMIT = 6,
	JOIN_RECORD = 7,
	JOIN_DONE = 8,
};

/* The admit blob's status. */
enum join_status {
	JOIN_OK = 0,
	JOIN_E_INVALID = 1,   /* unknown invitation or wrong secret */
	JOIN_E_EXPIRED = 2,
	JOIN_E_USED = 3,
	JOIN_E_REFUSED = 4,   /* anything else (inviter's side) */
};

struct join_text {
	const char *p;        /* not NUL-terminated */
	size_t len;
};

/* What the inviter tells the joiner (the admit blob, decoded). */
struct join_admit {
	uint8_t status;                 /* enum join_status */
	char message[JOIN_MSG_MAX + 1]; /* why, when status != JOIN_OK */
	char name[NAME_MAX_LEN + 1];
	struct prefix ipv4;             /* family 0: none */
	struct prefix ipv6;
	int role;                       /* ROLE_MEMBER / ROLE_ADMIN */
	uint8_t admitted_by[MEMBER_ID_BYTES];
	uint8_t admission[64];
	/* the subnets the admission grants (issue 14; signed with it) */
	struct prefix subnets[RECORD_MAX_SUBNETS];
	int nsubnets;
	uint8_t root[MEMBER_ID_BYTES];
	char net[NAME_MAX_LEN + 1];
	struct prefix range4;           /* the network's IPv4 range; 0 none */
	uint32_t mtu;
	int anonymous;
	struct join_text *records;      /* canonical signed texts */
	size_t nrecords;
	struct join_text *revs;         /* revocation texts */
	size_t nrevs;
	struct join_text *grants;       /* grant texts (issue 14) */
	size_t ngrants;
};

/* The blob for a (malloc'd into *out, *len). 0 or -1 (a field cannot
 * be written, too big, out of memory). */
int join_admit_encode(const struct join_admit *a, uint8_t **out,
    size_t *len) __attribute__((warn_unused_result));
/* A refusal: status != JOIN_OK and its text. */
int join_admit_encode_error(uint8_t status, const char *message,
    uint8_t **out, size_t *len) __attribute__((warn_unused_result));
/* Decode (records/revs point into p, which must outlive a). 0, or -1
 * with err; join_admit_free afterwards either way. */
int join_admit_decode(struct join_admit *a, const uint8_t *p, size_t n,
    char *err, size_t errlen) __attribute__((warn_unused_result));
void join_admit_free(struct join_admit *a);
const char *join_status_str(uint8_t status);
/* "onionmesh join v1\n" || netid; returns the length. */
size_t join_prologue(uint8_t out[JOIN_PROLOGUE_MAX],
    const uint8_t netid[NETID_BYTES]);

/*
 * The inviter redeems: given the joiner's id (checked against its Noise
 * static key) and the invitation id and secret it proved inside the
 * channel, return the admit blob to send (malloc'd; a refusal is a blob
 * too, from join_admit_encode_error). 0, or -1 when nothing can be sent
 * (the connection just closes).
 */
/* The joiner's record (RECORD) for the inviter to check and keep: 0
 * kept, or -1 with a reason (msg) the joiner is told. */
typedef int (*join_record_fn)(void *arg,
    const uint8_t joiner_id[MEMBER_ID_BYTES], const char *text,
    size_t len, char *msg, size_t msgcap);

/* Is mac HELLO's MAC for invitation id, one the inviter holds unused
 * and unexpired? 1 yes, 0 no (same arg as the redeem callback). */
typedef int (*join_hello_fn)(void *arg,
    const uint8_t invite_id[INVITE_ID_BYTES],
    const uint8_t mac[INVITE_HELLO_MAC_BYTES]);

typedef int (*join_redeem_fn)(void *arg,
    const uint8_t joiner_id[MEMBER_ID_BYTES],
    const uint8_t invite_id[INVITE_ID_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES], uint8_t **blob, size_t *len);

enum join_inviter_state {
	JI_HELLO = 0,         /* waiting for HELLO */
	JI_HS1,               /* KEY sent; waiting for HS1 */
	JI_REDEEM,            /* HS2 sent; waiting for REDEEM */
	JI_ADMIT,             /* sending ADMIT chunks */
	JI_RECORD,            /* admitted; waiting for its record */
	JI_DONE,              /* everything handed out */
	JI_FAILED,
};

struct join_inviter {
	enum join_inviter_state state;
	uint8_t dh_pub[NOISE_DHLEN];    /* the join key (keys_join_pub) */
	uint8_t root[MEMBER_ID_BYTES];
	uint8_t prologue[JOIN_PROLOGUE_MAX];
	size_t prologue_len;
	noise_dh_fn dh;
	void *dh_arg;
	join_redeem_fn redeem;
	void *redeem_arg;
	join_record_fn record;        /* NULL: RECORD is acknowledged only */
	join_hello_fn hello;          /* NULL: every HELLO refused */
	int hello_refused;            /* failed at HELLO's MAC */
	int admit_ok;                 /* the blob says JOIN_OK */
	int record_kept;
	struct noise_hs hs;
	struct noise_cipher c1, c2;     /* joiner->inviter, inviter->joiner */
	uint8_t joiner_id[MEMBER_ID_BYTES];
	/* the frame waiting to be taken (KEY, HS2) */
	uint8_t pend[1 + 1 + JOIN_MSG_MAX + 1 + NOISE_TAGLEN];
	size_t pend_len;
	int pend_last;
	/* the admit blob being chunked out */
	uint8_t *blob;
	size_t blob_len, blob_off;
	uint64_t chunk_n;
	const char *why;              /* static text, when FAILED */
};

/* dh_pub: our join key's public half (dh uses its secret); root,
 * netid: the network's. */
void join_inviter_init(struct join_inviter *s,
    const uint8_t dh_pub[NOISE_DHLEN],
    const uint8_t root[MEMBER_ID_BYTES], const uint8_t netid[NETID_BYTES],
    noise_dh_fn dh, void *dh_arg, join_redeem_fn redeem, void *redeem_arg);
/* Who keeps the joiner's record (RECORD); without one it is only
 * acknowledged (tests). */
void join_inviter_set_hello(struct join_inviter *s, join_hello_fn fn);
void join_inviter_set_record(struct join_inviter *s, join_record_fn fn);
/* One frame body from the joiner. 0 taken (frames may wait: take them
 * with join_inviter_next), -1 the exchange failed (s->why; close
 * without a word). */
int join_inviter_input(struct join_inviter *s, const uint8_t *body,
    size_t len) __attribute__((warn_unused_result));
/* The next frame body to send into out (cap >= JOIN_BODY_MAX): its
 * length, 0 when nothing waits, -1 on failure. *last is set when it is
 * the final frame (close after sending it). */
int join_inviter_next(struct join_inviter *s, uint8_t *out, size_t cap,
    int *last) __attribute__((warn_unused_result));
void join_inviter_wipe(struct join_inviter *s);

enum join_joiner_state {
	JJ_START = 0,         /* HELLO to send */
	JJ_KEY,               /* waiting for KEY */
	JJ_HS2,               /* HS1 sent; waiting for HS2 */
	JJ_ADMIT,             /* REDEEM sent; collecting ADMIT chunks */
	JJ_DONE,              /* the whole admit blob is here */
	JJ_RECORD,            /* our record sent; waiting for DONE */
	JJ_FINISHED,          /* DONE came */
	JJ_FAILED,
};

struct join_joiner {
	enum join_joiner_state state;
	char net[NAME_MAX_LEN + 1];
	uint8_t keyhash[INVITE_KEYHASH_BYTES];
	uint8_t invite_id[INVITE_ID_BYTES];
	uint8_t secret[INVITE_SECRET_BYTES];
	uint8_t id[MEMBER_ID_BYTES];
	uint8_t dh_pub[NOISE_DHLEN];
	noise_dh_fn dh;
	void *dh_arg;
	uint8_t inviter[NOISE_DHLEN];   /* its join key, after KEY */
	uint8_t root[MEMBER_ID_BYTES];
	uint8_t netid[NETID_BYTES];
	struct noise_hs hs;
	struct noise_cipher c1, c2;
	uint64_t rx_n;
	uint8_t pend[1 + NOISE_MSG1_OVERHEAD + MEMBER_ID_BYTES];
	size_t pend_len;
	uint8_t *rec_frame;               /* RECORD (malloc'd) */
	size_t rec_len;
	uint8_t *admit;                   /* the blob, when DONE */
	size_t admit_len, admit_cap;
	uint8_t done_status;              /* DONE: 0 kept */
	char done_msg[JOIN_MSG_MAX + 1];
	char why[256];
};

/* u: the parsed URL; id, dh_pub: the joiner's new identity; dh: X25519
 * with its secret. */
void join_joiner_init(struct join_joiner *s, const struct invite_url *u,
    const uint8_t id[MEMBER_ID_BYTES], const uint8_t dh_pub[NOISE_DHLEN],
    noise_dh_fn dh, void *dh_arg);
/* 0 more to come, 1 the admit blob is complete (s->admit), 2 DONE
 * came (s->done_status, s->done_msg), -1 failed (s->why says what, in
 * words for the user). */
int join_joiner_input(struct join_joiner *s, const uint8_t *body,
    size_t len) __attribute__((warn_unused_result));
/* After an admission (state JJ_DONE): our own signed record to the
 * inviter, then wait for DONE. 0 or -1. */
int join_joiner_send_record(struct join_joiner *s, const char *text,
    size_t len) __attribute__((warn_unused_result));
/* The frame to send now (HELLO, HS1, REDEEM, RECORD): length, 0 none,
 * -1; cap >= JOIN_BODY_MAX. */
int join_joiner_next(struct join_joiner *s, uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));
void join_joiner_wipe(struct join_joiner *s);

#endif
