/*
 * Invitations: the URL a member hands to a newcomer and the file the
 * inviting keyd keeps (keys/invites/<16 hex id>).
 *
 *   onionmesh://NET/KEYHASH/ID/SECRET?onion=X.onion&tcp=HOST:PORT
 *
 * KEYHASH (32 hex) = first 16 bytes of BLAKE2b-256("onionmesh key v1\n"
 * || the inviter's join key, keyd/keys.c): it authenticates that key
 * during the join.
 * ID 16 hex, SECRET 40 hex (160 bits). At least one of onion= / tcp=.
 * The parser is strict (fuzzed): lower-case hex only, every field's
 * length exact, no unknown or repeated parameter; errors name the part.
 *
 * The invite file is canonical text (one spelling, strict parse):
 *   id = <16 hex>
 *   name = NAME
 *   ipv4 = A.B.C.D          (optional)
 *   role = member|admin
 *   subnet = PREFIX         (0..16; issue 14: granted in the admission)
 *   expires = N             (unix seconds)
 *   secret-hash = <64 hex>  BLAKE2b-256("onionmesh invite v1\n" || secret)
 *   client-auth = <52 base32> (optional; issue 15: the public half of
 *                           invite_client_auth_sk, which the inviter's
 *                           onion service takes until the invitation is
 *                           used or expires)
 *   made-by = NAME
 * The secret itself is never stored.
 */
#ifndef OM_INVITE_H
#define OM_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/msg.h"
#include "proto/record.h"

#define INVITE_ID_BYTES      8
#define INVITE_SECRET_BYTES  20
#define INVITE_KEYHASH_BYTES 16
#define INVITE_URL_MAX       (16 + NAME_MAX_LEN + 1 + 32 + 1 + 16 + 1 + \
	40 + 7 + ONION_ADDR_LEN + 5 + CONF_ADDR_LEN)
#define INVITE_TEXT_MAX      2048
#define INVITE_SCHEME        "onionmesh://"

struct invite_url {
	char net[NAME_MAX_LEN + 1];
	uint8_t keyhash[INVITE_KEYHASH_BYTES];
	uint8_t id[INVITE_ID_BYTES];
	uint8_t secret[INVITE_SECRET_BYTES];
	char onion[ONION_ADDR_LEN + 1];  /* "" when absent */
	char tcp[CONF_ADDR_LEN];         /* "" when absent */
};

int invite_url_parse(struct invite_url *u, const char *s, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Length, or -1 when cap is too small or a field cannot be written. */
int invite_url_format(const struct invite_url *u, char *out, size_t cap)
    __attribute__((warn_unused_result));
void invite_keyhash(uint8_t out[INVITE_KEYHASH_BYTES],
    const uint8_t id[MEMBER_ID_BYTES]);
void invite_secret_hash(uint8_t out[32],
    const uint8_t secret[INVITE_SECRET_BYTES]);
/* A join's HELLO proves its sender holds the invitation before the
 * inviter answers anything (issue 15): BLAKE2b-128 keyed with the
 * secret's hash (what the inviter keeps) over "onionmesh hello v1\n" ||
 * the invitation id. */
#define INVITE_HELLO_MAC_BYTES 16
void invite_hello_mac(uint8_t out[INVITE_HELLO_MAC_BYTES],
    const uint8_t secret_hash[32], const uint8_t id[INVITE_ID_BYTES]);
/* The invitation's one-time onion client authorization key (x25519
 * secret): BLAKE2b-256("onionmesh invite client-auth v1\n" || secret).
 * The joiner gives it to its tor for the inviter's onion address; the
 * inviter keeps only its public half (the file's client-auth line), so
 * the URL needs no parameter of its own and stays one secret. */
void invite_client_auth_sk(uint8_t sk[32],
    const uint8_t secret[INVITE_SECRET_BYTES]);

struct invite {
	uint8_t id[INVITE_ID_BYTES];
	char name[NAME_MAX_LEN + 1];
	struct prefix ipv4;              /* family 0: none */
	int role;                        /* ROLE_MEMBER / ROLE_ADMIN */
	struct prefix subnets[RECORD_MAX_SUBNETS]; /* to grant (issue 14) */
	int nsubnets;
	uint64_t expires;                /* unix seconds */
	uint8_t secret_hash[32];
	int has_client_auth;
	uint8_t client_auth[32];
	char made_by[NAME_MAX_LEN + 1];
};

int invite_parse(struct invite *i, const char *text, size_t len,
    char *err, size_t errlen) __attribute__((warn_unused_result));
int invite_format(const struct invite *i, char *out, size_t cap)
    __attribute__((warn_unused_result));

#endif
