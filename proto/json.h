/*
 * The JSON every ctl reply is made of, written once: {"ok": true, ...}
 * and {"ok": false, "error": "message naming the value and what would
 * be right"}.
 */
#ifndef OM_JSON_H
#define OM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/addr.h"

/* {"ok": false, "error": msg}. JSON strings must be valid UTF-8 and a
 * message may quote back a value cut inside a UTF-8 sequence by a
 * fixed-size buffer, so bad bytes become '?' instead of the reply
 * vanishing. NULL only when out of memory. */
json_t *json_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* The same for a message already formatted; msg is scrubbed in place. */
json_t *json_error_msg(char *msg);
/* {"ok": true}, to which a handler adds its fields. */
json_t *json_ok(void);
/* A member id (32 bytes) as 64 lowercase hex digits. */
json_t *json_hex(const uint8_t *p, size_t n);
/* A prefix as text ("10.0.0.1/32"; without "/len" when with_len is 0),
 * or null for an unset one (family 0). */
json_t *json_prefix(const struct prefix *p, int with_len);
/* Replace every byte that is not part of a valid UTF-8 sequence
 * (RFC 3629: no overlongs, surrogates or code points past U+10FFFF)
 * with '?'. Returns how many bytes were replaced. */
size_t utf8_scrub(char *s);

#endif
