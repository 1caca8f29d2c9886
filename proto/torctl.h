/*
 * Tor control protocol (control-spec.txt), the pure half: a reply parser
 * fed with bytes as they arrive, parsers for the few replies and events
 * keyd reads, and formatters for the few commands it sends. No I/O and no
 * clock: keyd/torctl_io.c owns the socket, the cookie file and the timers,
 * so everything here is driven directly by unit tests and fuzzers.
 *
 * Everything tor sends is treated as untrusted input of bounded size: a
 * line longer than TORCTL_LINE_MAX, a reply longer than TORCTL_REPLY_MAX
 * or with more than TORCTL_LINES_MAX lines is a protocol error (and keyd
 * drops the connection), never a reallocation. Command formatters refuse
 * arguments that could smuggle a second command (CR, LF, spaces where
 * tor splits arguments) with a message naming the value.
 */
#ifndef OM_TORCTL_H
#define OM_TORCTL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/onion.h"

#define TORCTL_LINE_MAX   4096  /* one line, without CRLF */
#define TORCTL_REPLY_MAX  131072 /* all lines and data of one reply */
/* Status lines of one reply: ADD_ONION echoes one per client. */
#define TORCTL_LINES_MAX  (TORCTL_AUTH_CLIENTS_MAX + 16)
#define TORCTL_ERRLEN     256
#define TORCTL_CMD_MAX    1024  /* every command we format fits, but */
/* ADD_ONION with clients (a line each; tor takes lines up to 1 MiB): */
#define TORCTL_AUTH_CLIENTS_MAX 1024
#define TORCTL_ADD_ONION_MAX(n) \
	(TORCTL_CMD_MAX + (size_t)(n) * (14 + ONION_AUTH_B32_LEN))

#define TORCTL_COOKIE_BYTES 32
#define TORCTL_NONCE_BYTES  32
#define TORCTL_HASH_BYTES   32

/* One status line: "250-text", "250 text", or "250+text" followed by a
 * data block (dot-unstuffed, lines joined with '\n', no final newline).
 * text and data are NUL-terminated (a NUL byte from tor is a protocol
 * error) and point into the parser: valid until the next feed. */
struct torctl_line {
	int code;
	char sep; /* '-', ' ' or '+' */
	const char *text;
	size_t len;
	const char *data; /* NULL unless sep == '+' */
	size_t data_len;
};

struct torctl_reply {
	int code;  /* the same on every line, else a protocol error */
	int async; /* 650: an event, not the answer to a command */
	size_t n;
	struct torctl_line line[TORCTL_LINES_MAX];
};

/* Large (about 80 KiB): allocate it, do not put it on a small stack. */
struct torctl_parser {
	char buf[TORCTL_REPLY_MAX + 1]; /* text of the reply so far */
	size_t len;                     /* bytes of buf in use */
	size_t line_start;              /* where the current line begins */
	size_t data_start;              /* start of the open data block */
	int in_data;                    /* inside a '+' data block */
	int ready;                      /* reply handed out, reset on feed */
	int failed;                     /* sticky until torctl_parser_init */
	struct torctl_reply reply;
	char err[TORCTL_ERRLEN];
};

void torctl_parser_init(struct torctl_parser *p);
/* Consume bytes of buf until one reply is complete or buf is used up.
 *  1: p->reply holds a complete reply; *used bytes were consumed (call
 *     again with the rest);
 *  0: all of buf was consumed, no reply complete yet;
 * -1: protocol error, p->err says which; every later call fails too. */
int torctl_parser_feed(struct torctl_parser *p, const char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));

/* "550 Onion address collision": code and first line, control
 * characters replaced, cut to fit. For error messages. */
void torctl_reply_describe(const struct torctl_reply *r, char *out,
    size_t cap);

/* Walk "WORD KEY=VALUE KEY="quoted \"value\"" ..." one token at a time.
 * *cur advances past the token. key receives the word or the key, val
 * the value unquoted and unescaped (or "" for a bare word, *has_val 0).
 * 1 token, 0 end of input, -1 malformed or too long for key/val. */
int torctl_next_token(const char **cur, char *key, size_t keycap,
    char *val, size_t valcap, int *has_val)
    __attribute__((warn_unused_result));
/* Unescape a QuotedString starting at s (which must be '"'): C escapes
 * \\ \" \' \n \r \t, \ooo octal and \xHH; a NUL result is refused.
 * *end is set past the closing quote. 0 or -1. */
int torctl_unquote(const char *s, const char **end, char *out, size_t cap)
    __attribute__((warn_unused_result));
/* The reverse: "..." with \\, \", \r, \n, \t and \ooo for other
 * control characters. 0, or -1 when it does not fit. */
int torctl_quote(char *out, size_t cap, const char *s)
    __attribute__((warn_unused_result));

/* PROTOCOLINFO */
#define TORCTL_AUTH_NULL           0x01
#define TORCTL_AUTH_HASHEDPASSWORD 0x02
#define TORCTL_AUTH_COOKIE         0x04
#define TORCTL_AUTH_SAFECOOKIE     0x08

struct torctl_protocolinfo {
	unsigned methods;          /* TORCTL_AUTH_* offered */
	char cookie_file[PATH_MAX]; /* "" when none given */
	char version[64];           /* tor's version, "" when not given */
};

#define TORCTL_CMD_PROTOCOLINFO "PROTOCOLINFO 1\r\n"
int torctl_parse_protocolinfo(const struct torctl_reply *r,
    struct torctl_protocolinfo *pi, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* SAFECOOKIE: we send a random nonce, tor proves it knows the cookie
 * (SERVERHASH) before we prove it (AUTHENTICATE with our hash), so a
 * process posing as tor on the control socket never learns anything that
 * it could replay to the real tor. */
#define TORCTL_SAFECOOKIE_SERVER_KEY \
	"Tor safe cookie authentication server-to-controller hash"
#define TORCTL_SAFECOOKIE_CLIENT_KEY \
	"Tor safe cookie authentication controller-to-server hash"

struct torctl_safecookie {
	uint8_t client_nonce[TORCTL_NONCE_BYTES];
	uint8_t server_nonce[TORCTL_NONCE_BYTES];
	uint8_t server_hash[TORCTL_HASH_BYTES];
};

/* Fresh random client nonce, and "AUTHCHALLENGE SAFECOOKIE <hex>\r\n". */
int torctl_safecookie_begin(struct torctl_safecookie *sc, char *out,
    size_t cap) __attribute__((warn_unused_result));
/* "250 AUTHCHALLENGE SERVERHASH=<hex> SERVERNONCE=<hex>". */
int torctl_parse_authchallenge(const struct torctl_reply *r,
    struct torctl_safecookie *sc, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Both HMAC-SHA256 over cookie || client nonce || server nonce. */
void torctl_safecookie_hash(uint8_t out[TORCTL_HASH_BYTES], const char *key,
    const struct torctl_safecookie *sc,
    const uint8_t cookie[TORCTL_COOKIE_BYTES]);
/* 0 when tor's SERVERHASH is right (constant time), else -1. */
int torctl_safecookie_verify(const struct torctl_safecookie *sc,
    const uint8_t cookie[TORCTL_COOKIE_BYTES])
    __attribute__((warn_unused_result));
/* Verify, then "AUTHENTICATE <hex client hash>\r\n". -1 when tor's hash
 * is wrong (err says so) or out is too small. out is secret-derived:
 * wipe it after sending. */
int torctl_safecookie_answer(char *out, size_t cap,
    const struct torctl_safecookie *sc,
    const uint8_t cookie[TORCTL_COOKIE_BYTES], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* "AUTHENTICATE <hex cookie>\r\n" (COOKIE), "AUTHENTICATE "<pw>"\r\n"
 * (HASHEDPASSWORD), "AUTHENTICATE\r\n" (NULL). Secret: wipe after use. */
int torctl_fmt_auth_cookie(char *out, size_t cap,
    const uint8_t cookie[TORCTL_COOKIE_BYTES])
    __attribute__((warn_unused_result));
int torctl_fmt_auth_password(char *out, size_t cap, const char *password)
    __attribute__((warn_unused_result));
#define TORCTL_CMD_AUTH_NULL "AUTHENTICATE\r\n"

/* An onion service target: "unix:/abs/path" (printable ASCII, no space,
 * comma or quote) or "IPv4:PORT" / "[IPv6]:PORT" with PORT 1..65535.
 * 0, or -1 with err naming the value and what would be right. */
int torctl_target_check(const char *target, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* "ADD_ONION <blob> Port=<virt>,<target>\r\n". blob is the key as
 * onion_key_blob() makes it; the service is not detached, so it lives
 * only as long as our control connection. With nclients > 0 (at most
 * TORCTL_AUTH_CLIENTS_MAX; cap TORCTL_ADD_ONION_MAX(nclients)) it
 * takes only those clients (v3 client authorization): "Flags=V3Auth"
 * and one "ClientAuthV3=<52 base32>" per x25519 public key. Secret:
 * wipe after use. */
int torctl_fmt_add_onion(char *out, size_t cap, const char *blob,
    uint16_t virt_port, const char *target,
    const uint8_t (*clients)[ONION_AUTH_KEY_BYTES], size_t nclients,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* The ServiceID (56 characters, checked like an address) of a 250 reply
 * to ADD_ONION, as "<id>.onion". -1 with err (tor's refusal quoted). */
int torctl_parse_add_onion(const struct torctl_reply *r,
    char addr[ONION_ADDR_LEN + 1], char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* "DEL_ONION <id>\r\n" from "<id>.onion" or "<id>". */
int torctl_fmt_del_onion(char *out, size_t cap, const char *addr)
    __attribute__((warn_unused_result));
/* Our tor as a client of the service addr ("<id>[.onion]"):
 * "ONION_CLIENT_AUTH_ADD <id> x25519:<base64 sk>\r\n" (secret: wipe
 * after use; tor answers 250, or 251 when it replaced a key) and
 * "ONION_CLIENT_AUTH_REMOVE <id>\r\n". 0, or -1 (bad address, too
 * small). */
int torctl_fmt_client_auth_add(char *out, size_t cap, const char *addr,
    const uint8_t sk[ONION_AUTH_KEY_BYTES])
    __attribute__((warn_unused_result));
int torctl_fmt_client_auth_remove(char *out, size_t cap, const char *addr)
    __attribute__((warn_unused_result));

/* Our service's rendezvous circuits, to close when a client key is
 * withdrawn: tor's DEL_ONION keeps them, and a re-added service with
 * the same key serves them again, so a revoked member's circuit would
 * still carry its streams. In a reply to TORCTL_CMD_GETINFO_CIRCS, the
 * ids (decimal, at most TORCTL_CIRC_ID_MAX digits) of the circuits
 * with PURPOSE=HS_SERVICE_REND and REND_QUERY=<addr's id>, at most cap.
 * How many, or -1 with err. */
#define TORCTL_CMD_GETINFO_CIRCS "GETINFO circuit-status\r\n"
#define TORCTL_CIRC_ID_MAX 15
int torctl_parse_rend_circuits(const struct torctl_reply *r,
    const char *addr, char (*ids)[TORCTL_CIRC_ID_MAX + 1], size_t cap,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* "CLOSECIRCUIT <id>\r\n"; -1 for an id that is not 1..15 digits. */
int torctl_fmt_close_circuit(char *out, size_t cap, const char *id)
    __attribute__((warn_unused_result));

/* Bootstrap status, from GETINFO status/bootstrap-phase or a
 * STATUS_CLIENT event. */
#define TORCTL_CMD_GETINFO_BOOTSTRAP "GETINFO status/bootstrap-phase\r\n"
#define TORCTL_CMD_SETEVENTS         "SETEVENTS STATUS_CLIENT HS_DESC\r\n"

struct torctl_bootstrap {
	int progress;      /* 0..100 */
	int warn;          /* severity WARN: tor has a problem bootstrapping */
	char tag[64];
	char summary[128];
	char warning[128]; /* WARNING= when warn */
};

/* text: "[STATUS_CLIENT ]SEVERITY BOOTSTRAP PROGRESS=NN TAG=... ...".
 * 0 parsed, 1 a status of another kind (not BOOTSTRAP), -1 malformed. */
int torctl_parse_bootstrap(const char *text, struct torctl_bootstrap *b)
    __attribute__((warn_unused_result));
/* The reply to TORCTL_CMD_GETINFO_BOOTSTRAP. 0 or -1 with err. */
int torctl_parse_getinfo_bootstrap(const struct torctl_reply *r,
    struct torctl_bootstrap *b, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* "HS_DESC ACTION ADDRESS AUTH HSDIR ...": action ("UPLOAD",
 * "UPLOADED", "FAILED", ...) and the address (as "<id>.onion" when it is
 * a valid v3 id, else "" — tor sends UNKNOWN for some actions).
 * 0, 1 for an event of another kind, -1 malformed. */
int torctl_parse_hs_desc(const char *text, char *action, size_t actcap,
    char addr[ONION_ADDR_LEN + 1]) __attribute__((warn_unused_result));

#endif
