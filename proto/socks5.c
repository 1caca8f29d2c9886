/*
 * SOCKS5 client state machine for tor's SocksPort: greeting (method 0x02
 * only), RFC 1929 username/password, CONNECT to a host name and port.
 *
 * Replies are collected one byte at a time into a small buffer and the
 * matching parser is asked after each byte whether the reply is complete.
 * That is quadratic in a reply of at most 262 bytes, which costs nothing,
 * and it makes "consume exactly the reply, never the peer's first bytes"
 * true by construction rather than by arithmetic on lengths.
 */
#include "proto/socks5.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define SOCKS5_VERSION      0x05
#define SOCKS5_AUTH_VERSION 0x01
#define SOCKS5_METHOD_PASS  0x02
#define SOCKS5_METHOD_NONE  0xff
#define SOCKS5_CMD_CONNECT  0x01
#define SOCKS5_ATYP_IPV4    0x01
#define SOCKS5_ATYP_DOMAIN  0x03
#define SOCKS5_ATYP_IPV6    0x04

const char *
socks5_reply_str(uint8_t rep)
{
	switch (rep) {
	case SOCKS5_REP_SUCCEEDED:
		return "succeeded";
	case SOCKS5_REP_GENERAL_FAILURE:
		return "general SOCKS server failure";
	case SOCKS5_REP_NOT_ALLOWED:
		return "connection not allowed by ruleset";
	case SOCKS5_REP_NET_UNREACHABLE:
		return "network unreachable";
	case SOCKS5_REP_HOST_UNREACHABLE:
		return "host unreachable";
	case SOCKS5_REP_REFUSED:
		return "connection refused";
	case SOCKS5_REP_TTL_EXPIRED:
		return "TTL expired";
	case SOCKS5_REP_CMD_UNSUPPORTED:
		return "command not supported";
	case SOCKS5_REP_ATYP_UNSUPPORTED:
		return "address type not supported";
	case SOCKS5_REP_HS_DESC_NOT_FOUND:
		return "onion service descriptor can not be found";
	case SOCKS5_REP_HS_DESC_INVALID:
		return "onion service descriptor is invalid";
	case SOCKS5_REP_HS_INTRO_FAILED:
		return "onion service introduction failed";
	case SOCKS5_REP_HS_REND_FAILED:
		return "onion service rendezvous failed";
	case SOCKS5_REP_HS_MISSING_AUTH:
		return "onion service missing client authorization";
	case SOCKS5_REP_HS_WRONG_AUTH:
		return "onion service wrong client authorization";
	case SOCKS5_REP_HS_BAD_ADDRESS:
		return "onion service invalid address";
	case SOCKS5_REP_HS_INTRO_TIMEOUT:
		return "onion service introduction timed out";
	}
	return "unknown SOCKS5 reply code";
}

/* 1..255 bytes. */
static int
field_ok(const char *s)
{
	size_t n = strnlen(s, SOCKS5_FIELD_MAX + 1);

	return n >= 1 && n <= SOCKS5_FIELD_MAX;
}

static int
host_ok(const char *h)
{
	if (!field_ok(h))
		return 0;
	for (; *h != '\0'; h++)
		if (*h <= ' ' || *h >= 0x7f)
			return 0;
	return 1;
}

int
socks5_greeting(uint8_t *out, size_t cap)
{
	if (cap < 3)
		return -1;
	out[0] = SOCKS5_VERSION;
	out[1] = 1; /* one method: */
	out[2] = SOCKS5_METHOD_PASS;
	return 3;
}

int
socks5_auth_request(uint8_t *out, size_t cap, const char *user,
    const char *pass)
{
	size_t ul, pl;

	if (!field_ok(user) || !field_ok(pass))
		return -1;
	ul = strlen(user);
	pl = strlen(pass);
	if (cap < 3 + ul + pl)
		return -1;
	out[0] = SOCKS5_AUTH_VERSION;
	out[1] = (uint8_t)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (uint8_t)pl;
	memcpy(out + 3 + ul, pass, pl);
	return (int)(3 + ul + pl);
}

int
socks5_connect_request(uint8_t *out, size_t cap, const char *host,
    uint16_t port)
{
	size_t hl;

	if (!host_ok(host) || port == 0)
		return -1;
	hl = strlen(host);
	if (cap < 7 + hl)
		return -1;
	out[0] = SOCKS5_VERSION;
	out[1] = SOCKS5_CMD_CONNECT;
	out[2] = 0;
	out[3] = SOCKS5_ATYP_DOMAIN;
	out[4] = (uint8_t)hl;
	memcpy(out + 5, host, hl);
	out[5 + hl] = (uint8_t)(port >> 8);
	out[6 + hl] = (uint8_t)port;
	return (int)(7 + hl);
}

/* The two-byte replies: VERSION, VALUE. */
static int
parse_pair(const uint8_t *in, size_t len, uint8_t version, uint8_t *value)
{
	if (len < 1)
		return 0;
	if (in[0] != version)
		return -1;
	if (len < 2)
		return 0;
	*value = in[1];
	return 2;
}

int
socks5_parse_method(const uint8_t *in, size_t len, uint8_t *method)
{
	return parse_pair(in, len, SOCKS5_VERSION, method);
}

int
socks5_parse_auth(const uint8_t *in, size_t len, uint8_t *status)
{
	return parse_pair(in, len, SOCKS5_AUTH_VERSION, status);
}

int
socks5_parse_connect(const uint8_t *in, size_t len, uint8_t *rep)
{
	size_t total;

	if (len < 1)
		return 0;
	if (in[0] != SOCKS5_VERSION)
		return -1;
	if (len < 3)
		return 0;
	if (in[2] != 0) /* reserved */
		return -1;
	if (len < 4)
		return 0;
	switch (in[3]) {
	case SOCKS5_ATYP_IPV4:
		total = 4 + 4 + 2;
		break;
	case SOCKS5_ATYP_IPV6:
		total = 4 + 16 + 2;
		break;
	case SOCKS5_ATYP_DOMAIN:
		if (len < 5)
			return 0;
		total = 4 + 1 + in[4] + 2;
		break;
	default:
		return -1;
	}
	if (len < total)
		return 0;
	*rep = in[1];
	return (int)total;
}

static int
client_fail(struct socks5_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
client_fail(struct socks5_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->state = SOCKS5_FAILED;
	c->out_len = 0;
	socks5_client_wipe(c);
	return SOCKS5_ERROR;
}

int
socks5_client_init(struct socks5_client *c, const char *host,
    uint16_t port, const char *user, const char *pass)
{
	int n;

	memset(c, 0, sizeof(*c));
	c->rep = -1;
	c->state = SOCKS5_FAILED;
	if (!host_ok(host)) {
		snprintf(c->err, sizeof(c->err), "SOCKS5 host name must be "
		    "1..255 printable characters without spaces");
		return -1;
	}
	if (port == 0) {
		snprintf(c->err, sizeof(c->err), "SOCKS5 port 0 is not "
		    "usable (want 1..65535)");
		return -1;
	}
	if (!field_ok(user) || !field_ok(pass)) {
		snprintf(c->err, sizeof(c->err), "SOCKS5 username and "
		    "password must be 1..255 bytes each");
		return -1;
	}
	if (strncmp(user, SOCKS5_TOR_EXT_PREFIX,
	    sizeof(SOCKS5_TOR_EXT_PREFIX) - 1) == 0) {
		snprintf(c->err, sizeof(c->err), "SOCKS5 username must not "
		    "start with %s (tor reads that as parameters)",
		    SOCKS5_TOR_EXT_PREFIX);
		return -1;
	}
	memcpy(c->host, host, strlen(host) + 1);
	memcpy(c->user, user, strlen(user) + 1);
	memcpy(c->pass, pass, strlen(pass) + 1);
	c->port = port;
	n = socks5_greeting(c->out, sizeof(c->out));
	c->out_len = (size_t)n;
	c->state = SOCKS5_WAIT_METHOD;
	return 0;
}

/* Queue the next request; the previous one must have been sent. */
static int
client_queue(struct socks5_client *c, int n)
{
	if (c->out_len != 0)
		return client_fail(c, "SOCKS5 proxy replied before our "
		    "request was sent");
	if (n < 0)
		return client_fail(c, "SOCKS5 request does not fit");
	/* n bytes were just written over the previous request; clear the
	 * rest so no password stays behind a shorter CONNECT. */
	sodium_memzero(c->out + n, sizeof(c->out) - (size_t)n);
	c->out_len = (size_t)n;
	c->in_len = 0;
	return 0;
}

int
socks5_client_input(struct socks5_client *c, const uint8_t *in, size_t len,
    size_t *used)
{
	size_t off = 0;
	uint8_t code = 0;
	int r;

	*used = 0;
	if (c->state == SOCKS5_DONE)
		return SOCKS5_OK;
	if (c->state == SOCKS5_FAILED)
		return SOCKS5_ERROR;
	while (off < len) {
		if (c->in_len == sizeof(c->in)) /* parsers end sooner */
			return client_fail(c, "SOCKS5 reply too long");
		c->in[c->in_len++] = in[off++];
		*used = off;
		switch (c->state) {
		case SOCKS5_WAIT_METHOD:
			r = socks5_parse_method(c->in, c->in_len, &code);
			break;
		case SOCKS5_WAIT_AUTH:
			r = socks5_parse_auth(c->in, c->in_len, &code);
			break;
		default:
			r = socks5_parse_connect(c->in, c->in_len, &code);
			break;
		}
		if (r == 0)
			continue;
		if (r < 0)
			return client_fail(c, "malformed SOCKS5 reply from "
			    "the proxy (is it tor's SocksPort?)");
		switch (c->state) {
		case SOCKS5_WAIT_METHOD:
			if (code == SOCKS5_METHOD_NONE)
				return client_fail(c, "SOCKS5 proxy does not "
				    "accept username/password authentication, "
				    "so links cannot be isolated on circuits");
			if (code != SOCKS5_METHOD_PASS)
				return client_fail(c, "SOCKS5 proxy chose "
				    "method 0x%02x, which we did not offer",
				    code);
			if (client_queue(c, socks5_auth_request(c->out,
			    sizeof(c->out), c->user, c->pass)) != 0)
				return SOCKS5_ERROR;
			c->state = SOCKS5_WAIT_AUTH;
			break;
		case SOCKS5_WAIT_AUTH:
			if (code != 0)
				return client_fail(c, "SOCKS5 proxy refused "
				    "the username/password (status 0x%02x)",
				    code);
			if (client_queue(c, socks5_connect_request(c->out,
			    sizeof(c->out), c->host, c->port)) != 0)
				return SOCKS5_ERROR;
			c->state = SOCKS5_WAIT_CONNECT;
			break;
		default:
			c->rep = code;
			if (code != SOCKS5_REP_SUCCEEDED)
				return client_fail(c, "SOCKS5 connect to %s "
				    "port %u failed: %s (0x%02x)", c->host,
				    (unsigned)c->port, socks5_reply_str(code),
				    code);
			c->state = SOCKS5_DONE;
			c->in_len = 0;
			socks5_client_wipe(c);
			return SOCKS5_OK;
		}
	}
	return SOCKS5_MORE;
}

void
socks5_client_wipe(struct socks5_client *c)
{
	sodium_memzero(c->user, sizeof(c->user));
	sodium_memzero(c->pass, sizeof(c->pass));
	if (c->out_len == 0)
		sodium_memzero(c->out, sizeof(c->out));
}
