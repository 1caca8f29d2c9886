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
 *   client-auth = <52 base32>            (optional; issue 15: the
 *                                         member's x25519 key for onion
 *                                         client authorization)
 *   tcp = HOST:PORT                      (0..4)
 *   ipv4 = A.B.C.D                       (optional)
 *   ipv6 = ADDR
 *   subnet = PREFIX                      (0..16)
 *   serial = N
 *   role = admin                         (optional; absent: member)
 *   invite = members                     (optional; issue 14: on the
 *                                         root's record, plain members
 *                                         may admit plain members)
 *   admitted-subnet = PREFIX             (0..16; issue 14: the subnets
 *                                         its admission grants, signed
 *                                         with it: proto/trust.h)
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
	/* Our tor lets the member in when it holds the secret half. */
	int has_client_auth;
	uint8_t client_auth[32];
	char tcp[RECORD_MAX_TCP][CONF_ADDR_LEN];
	int ntcp;
	struct prefix ipv4;  /* /32 */
	struct prefix ipv6;  /* /128 */
	struct prefix subnets[RECORD_MAX_SUBNETS];
	int nsubnets;
	uint64_t serial;
	int role;            /* ROLE_MEMBER (no line) or ROLE_ADMIN */
	int members_invite;  /* invite = members (1) or no line (0) */
	/* The subnets the admission grants (admitted-subnet lines): the
	 * only subnets, with grants (trust.h), other members take. */
	struct prefix admitted_subnets[RECORD_MAX_SUBNETS];
	int nadmitted_subnets;
	int admitted;        /* admitted-by/admission present */
	uint8_t admitted_by[MEMBER_ID_BYTES];
	uint8_t admission[64];
	uint8_t signature[64];
};

int record_parse(struct record *r, const char *text, size_t len, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Canonical text; with_sig 0 stops before the signature line (what is
 * signed). Returns length or -1 if cap is too small. */
/* A "key = value\n" text written into a fixed buffer (records and the
 * config): the first line that does not fit sets err, and every later
 * one is skipped, so the caller checks err once at the end. */
struct kv_out {
	char *p;
	size_t len;
	size_t cap;
	int err;
};
/* Start a text in out (cap bytes; "" until a line fits): -1 when cap
 * is 0. */
int kv_open(struct kv_out *o, char *out, size_t cap);
void kv_put(struct kv_out *o, const char *key, const char *val);
/* The text's length, or -1 (and out "") when a line did not fit or the
 * text is longer than max. */
int kv_close(struct kv_out *o, size_t max);
/* The next line of a text at *p (before end): *line and its length *n,
 * without the newline, and *p past it. 1; 0 at the end of the text; -1
 * when the last line has no newline. */
int text_line(const char **p, const char *end, const char **line,
    size_t *n);
/* text_line, copied into buf (cap bytes, longer lines cut) and split
 * at the first " = ": buf holds the key and *val the value, or *val is
 * NULL (and buf the whole line) when there is no " = " after a key. */
int kv_line(const char **p, const char *end, char *buf, size_t cap,
    char **val);
/* A text to parse (a record, an announcement, ...; what names it in the
 * message): at most max bytes, no NUL. 0, or -1 with err. */
int text_check(const char *text, size_t len, size_t max, const char *what,
    char *err, size_t errlen);

int record_format(const struct record *r, char *out, size_t cap,
    int with_sig) __attribute__((warn_unused_result));
int record_sign(struct record *r, const uint8_t sk[64],
    const uint8_t netid[NETID_BYTES]) __attribute__((warn_unused_result));
/* 0 when the self-signature verifies. */
/* CONTEXT || netid: the head of every signed text (records, edges,
 * admissions, revocations), so that a signature made for one kind of
 * text or one network is never valid for another. Its length, or -1
 * when buf cannot hold it and one byte more. */
int signed_head(uint8_t *buf, size_t cap, const char *context,
    const uint8_t netid[NETID_BYTES]);
/* Sign buf[0..n) with sk into sig, if sk is the key of id (a signature
 * by another key would never verify). -1, sig untouched, when not or
 * when n < 0. */
int signed_sign(uint8_t sig[64], const uint8_t *buf, int n,
    const uint8_t sk[64], const uint8_t id[32]);
/* 0 when sig over buf[0..n) is pk's; -1 when not, or when n < 0 (the
 * signed text could not be made). */
int signed_verify(const uint8_t sig[64], const uint8_t *buf, int n,
    const uint8_t pk[32]);
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

/* A subnet line's value: ADDR/LEN as prefix_fmt writes it, host bits
 * clear (one spelling). 0, or -1 with why. */
int subnet_parse(struct prefix *p, const char *v, char *why,
    size_t whylen) __attribute__((warn_unused_result));
/* subnet_parse, appended to list (*n of max): each once. 0, or -1 with
 * why. */
int subnet_list_add(struct prefix *list, int *n, int max, const char *v,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* hex helpers used by records, keys and the CLI */
void hex_encode(char *out, const uint8_t *in, size_t n); /* out 2n+1 */
/* The one decimal spelling of a number (signed texts have one encoding):
 * digits only, no leading zero, at most UINT64_MAX. 0 or -1. */
int dec_u64(uint64_t *out, const char *s) __attribute__((warn_unused_result));
int hex_decode(uint8_t *out, size_t n, const char *in)
    __attribute__((warn_unused_result)); /* exactly 2n hex chars */
/* hex_decode of lower-case digits only (signed texts have one
 * spelling). 0 or -1. */
int hex_decode_lower(uint8_t *out, size_t n, const char *in)
    __attribute__((warn_unused_result));

#endif
