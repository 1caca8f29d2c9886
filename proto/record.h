/*
 * Host records: what every member knows about every other. The text form
 * is both the file in hosts/ and the canonical encoding that is signed:
 * fields in the fixed order below, one "key = value" per line, lower-case
 * hex for keys and signatures. record_parse accepts only that form (any
 * reordering, unknown key or stray byte is an error), so a record has one
 * encoding and its signature covers exactly what is stored.
 *
 *   name = alice
 *   id = <64 hex: Ed25519 public key>
 *   onion = <56 base32>.onion            (optional)
 *   tcp = HOST:PORT                      (0..4)
 *   ipv4 = A.B.C.D                       (optional)
 *   ipv6 = ADDR
 *   subnet = PREFIX                      (0..16)
 *   serial = N
 *   role = admin                         (optional; absent: member)
 *   admitted-by = <64 hex>               (optional; issue 4)
 *   admission = <128 hex>                (optional; issue 4)
 *   signature = <128 hex>
 *
 * The signature is Ed25519 by `id` over "onionmesh record v1\n" || netid
 * || the text up to (not including) the signature line.
 */
#ifndef OM_RECORD_H
#define OM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/conf.h"
#include "proto/msg.h"

#define RECORD_MAX_TCP     4
#define RECORD_MAX_SUBNETS CONF_MAX_SUBNETS
#define ONION_ADDR_LEN     62 /* 56 + ".onion" */

struct record {
	char name[NAME_MAX_LEN + 1];
	uint8_t id[MEMBER_ID_BYTES];
	char onion[ONION_ADDR_LEN + 1];
	char tcp[RECORD_MAX_TCP][CONF_ADDR_LEN];
	int ntcp;
	struct prefix ipv4;  /* /32 */
	struct prefix ipv6;  /* /128 */
	struct prefix subnets[RECORD_MAX_SUBNETS];
	int nsubnets;
	uint64_t serial;
	int role;            /* ROLE_MEMBER (no line) or ROLE_ADMIN */
	int admitted;        /* admitted-by/admission present */
	uint8_t admitted_by[MEMBER_ID_BYTES];
	uint8_t admission[64];
	uint8_t signature[64];
};

int record_parse(struct record *r, const char *text, size_t len, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Canonical text; with_sig 0 stops before the signature line (what is
 * signed). Returns length or -1 if cap is too small. */
int record_format(const struct record *r, char *out, size_t cap,
    int with_sig) __attribute__((warn_unused_result));
int record_sign(struct record *r, const uint8_t sk[64],
    const uint8_t netid[NETID_BYTES]) __attribute__((warn_unused_result));
/* 0 when the self-signature verifies. */
int record_verify(const struct record *r, const uint8_t netid[NETID_BYTES])
    __attribute__((warn_unused_result));
/* Does the record own this inner source address (its ipv4/ipv6 or one
 * of its subnets)? family 4 or 6, addr raw bytes. */
int record_owns_addr(const struct record *r, int family, const uint8_t *a);

/* Network id: BLAKE2b-256("onionmesh network v1\n" || net name ||
 * root id), so two networks with the same name differ. */
void netid_derive(uint8_t out[NETID_BYTES], const char *net,
    const uint8_t root[MEMBER_ID_BYTES]);
/* The network's ULA /48 from its netid and a member's /128 in it from
 * its identity key (RFC 4193 style: fd + 40 bits; interface id 64 bits
 * of BLAKE2b(id)). */
void ipv6_member_addr(struct prefix *out, const uint8_t netid[NETID_BYTES],
    const uint8_t id[MEMBER_ID_BYTES]);
/* A member's IPv4 host in range (host part from a hash of its id, never
 * the network or broadcast address). */
void ipv4_member_addr(struct prefix *out, const struct prefix *range,
    const uint8_t id[MEMBER_ID_BYTES]);

/* hex helpers used by records, keys and the CLI */
void hex_encode(char *out, const uint8_t *in, size_t n); /* out 2n+1 */
/* The one decimal spelling of a number (signed texts have one encoding):
 * digits only, no leading zero, at most UINT64_MAX. 0 or -1. */
int dec_u64(uint64_t *out, const char *s) __attribute__((warn_unused_result));
int hex_decode(uint8_t *out, size_t n, const char *in)
    __attribute__((warn_unused_result)); /* exactly 2n hex chars */

#endif
