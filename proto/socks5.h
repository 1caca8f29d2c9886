/*
 * SOCKS5 client (RFC 1928) with username/password authentication
 * (RFC 1929), as linkd speaks it to tor's SocksPort: pure, no I/O.
 *
 * linkd gives every link its own username/password. tor's default
 * IsolateSOCKSAuth then puts each link on its own circuit, which is how
 * several circuits to one peer come about. So the greeting offers only
 * method 0x02: a tor that would not look at the credentials must not be
 * used silently, since all links would then share one circuit.
 *
 * The state machine consumes exactly the bytes of the SOCKS replies and
 * not one more, so peer data that arrives in the same read as the final
 * reply stays with the caller.
 */
#ifndef OM_SOCKS5_H
#define OM_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS5_FIELD_MAX   255 /* username, password, host name */
/* Largest request: auth, 3 + 255 + 255. */
#define SOCKS5_REQUEST_MAX (3 + 2 * SOCKS5_FIELD_MAX)
/* Largest reply: CONNECT with a domain name, 4 + 1 + 255 + 2. */
#define SOCKS5_REPLY_MAX   (4 + 1 + SOCKS5_FIELD_MAX + 2)

/* tor reads usernames starting with this as extended SOCKS parameters
 * (prop 351); ours must never look like that. */
#define SOCKS5_TOR_EXT_PREFIX "<torS0X>"

/* Reply codes: RFC 1928, then tor's for onion services. */
#define SOCKS5_REP_SUCCEEDED          0x00
#define SOCKS5_REP_GENERAL_FAILURE    0x01
#define SOCKS5_REP_NOT_ALLOWED        0x02
#define SOCKS5_REP_NET_UNREACHABLE    0x03
#define SOCKS5_REP_HOST_UNREACHABLE   0x04
#define SOCKS5_REP_REFUSED            0x05
#define SOCKS5_REP_TTL_EXPIRED        0x06
#define SOCKS5_REP_CMD_UNSUPPORTED    0x07
#define SOCKS5_REP_ATYP_UNSUPPORTED   0x08
#define SOCKS5_REP_HS_DESC_NOT_FOUND  0xf0
#define SOCKS5_REP_HS_DESC_INVALID    0xf1
#define SOCKS5_REP_HS_INTRO_FAILED    0xf2
#define SOCKS5_REP_HS_REND_FAILED     0xf3
#define SOCKS5_REP_HS_MISSING_AUTH    0xf4
#define SOCKS5_REP_HS_WRONG_AUTH      0xf5
#define SOCKS5_REP_HS_BAD_ADDRESS     0xf6
#define SOCKS5_REP_HS_INTRO_TIMEOUT   0xf7

/* Words for a reply code ("onion service rendezvous failed"); never
 * NULL: unknown codes give "unknown SOCKS5 reply code". */
const char *socks5_reply_str(uint8_t rep);

/* Builders: the number of bytes written, or -1 when an argument is out
 * of range (empty, longer than 255 bytes, containing a NUL or, for the
 * host, a control character or space) or out is too small. */
int socks5_greeting(uint8_t *out, size_t cap);
int socks5_auth_request(uint8_t *out, size_t cap, const char *user,
    const char *pass);
int socks5_connect_request(uint8_t *out, size_t cap, const char *host,
    uint16_t port);

/* Incremental reply parsers: the length of the complete reply at the
 * start of in (> 0), 0 when more bytes are needed, -1 when it is not a
 * well-formed reply. They only look at the bytes; whether the reply
 * means success is in *method / *status / *rep. */
int socks5_parse_method(const uint8_t *in, size_t len, uint8_t *method);
int socks5_parse_auth(const uint8_t *in, size_t len, uint8_t *status);
int socks5_parse_connect(const uint8_t *in, size_t len, uint8_t *rep);

enum socks5_state {
	SOCKS5_WAIT_METHOD,  /* greeting sent */
	SOCKS5_WAIT_AUTH,    /* username/password sent */
	SOCKS5_WAIT_CONNECT, /* CONNECT sent */
	SOCKS5_DONE,         /* the stream is open */
	SOCKS5_FAILED,
};

/* Results of socks5_client_input(). */
#define SOCKS5_MORE  0  /* send out[] if out_len > 0, then read more */
#define SOCKS5_OK    1  /* connected: what follows is the peer's */
#define SOCKS5_ERROR -1 /* err says why; rep holds tor's code if any */

struct socks5_client {
	enum socks5_state state;
	uint8_t out[SOCKS5_REQUEST_MAX]; /* next request to send */
	size_t out_len;
	uint8_t in[SOCKS5_REPLY_MAX];    /* reply bytes so far */
	size_t in_len;
	char user[SOCKS5_FIELD_MAX + 1]; /* secret-ish: wiped when done */
	char pass[SOCKS5_FIELD_MAX + 1];
	char host[SOCKS5_FIELD_MAX + 1];
	uint16_t port;
	int rep;                         /* CONNECT reply code, -1 none */
	char err[256];
};

/* Check the arguments and put the greeting into c->out. 0, or -1 with
 * c->err naming the argument that is wrong. */
int socks5_client_init(struct socks5_client *c, const char *host,
    uint16_t port, const char *user, const char *pass)
    __attribute__((warn_unused_result));
/* Bytes from the proxy. *used is how many belong to SOCKS (the rest are
 * the peer's). After each call, send c->out (c->out_len bytes) if any;
 * the caller clears out_len once sent. */
int socks5_client_input(struct socks5_client *c, const uint8_t *in,
    size_t len, size_t *used) __attribute__((warn_unused_result));
/* Wipe the credentials held in c. */
void socks5_client_wipe(struct socks5_client *c);

#endif
