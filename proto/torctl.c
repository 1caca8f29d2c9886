/*
 * Tor control protocol: parsing and formatting, no I/O.
 *
 * The reply parser copies each line into one fixed buffer as its bytes
 * arrive, so a reply split anywhere across reads (down to one byte at a
 * time) parses the same as one that arrives whole, and nothing is ever
 * reallocated: the limits in torctl.h are the only memory there is. Lines
 * are NUL-terminated in place (a NUL from tor is refused), which lets the
 * reply parsers below use plain C string functions on them.
 *
 * Replies are parsed leniently where tor's grammar may grow (unknown
 * lines, keywords and auth methods are skipped) and strictly where a
 * value is used (hex lengths, the ServiceID checksum, progress range).
 */
#include "proto/torctl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/endpoint.h"
#include "proto/errbuf.h"
#include "proto/record.h" /* hex_decode */

#define TOKEN_KEY_MAX 64

/* A protocol error: torctl_parser_feed marks the parser failed. */
#define PARSER_FAIL(p, ...) err_set((p)->err, sizeof((p)->err), __VA_ARGS__)

/* Reply parser */

static void
parser_reset_reply(struct torctl_parser *p)
{
	p->len = 0;
	p->line_start = 0;
	p->data_start = 0;
	p->in_data = 0;
	p->ready = 0;
	p->reply.code = 0;
	p->reply.async = 0;
	p->reply.n = 0;
}

void
torctl_parser_init(struct torctl_parser *p)
{
	parser_reset_reply(p);
	p->failed = 0;
	p->err[0] = '\0';
}


/* A data line is complete at buf[line_start..len): unstuff it, or close
 * the block on ".". */
static int
parser_data_line(struct torctl_parser *p)
{
	char *line = p->buf + p->line_start;
	size_t ll = p->len - p->line_start;
	struct torctl_line *l = &p->reply.line[p->reply.n - 1];
	size_t dlen;

	if (ll == 1 && line[0] == '.') {
		/* End of the block: drop the "." and the last '\n'. */
		p->len = p->line_start;
		dlen = p->len - p->data_start;
		if (dlen > 0)
			dlen--;
		p->buf[p->data_start + dlen] = '\0';
		p->len = p->data_start + dlen + 1;
		l->data = p->buf + p->data_start;
		l->data_len = dlen;
		p->in_data = 0;
		p->line_start = p->len;
		return 0;
	}
	if (ll > 0 && line[0] == '.') {
		memmove(line, line + 1, ll - 1);
		p->len--;
	}
	if (p->len >= TORCTL_REPLY_MAX)
		return PARSER_FAIL(p, "reply from tor longer than %d bytes",
		    TORCTL_REPLY_MAX);
	p->buf[p->len++] = '\n';
	p->line_start = p->len;
	return 0;
}

/* A status line is complete: 1 when it ends the reply. */
static int
parser_status_line(struct torctl_parser *p)
{
	char *line = p->buf + p->line_start;
	size_t ll = p->len - p->line_start;
	struct torctl_line *l;
	int code;

	if (ll < 4 || line[0] < '0' || line[0] > '9' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
	    (line[3] != '-' && line[3] != ' ' && line[3] != '+'))
		return PARSER_FAIL(p, "malformed line from tor (want three "
		    "digits and '-', ' ' or '+', got %zu bytes starting "
		    "with 0x%02x)", ll, ll ? (unsigned char)line[0] : 0);
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (p->reply.n > 0 && code != p->reply.code)
		return PARSER_FAIL(p, "reply from tor mixes status codes %d "
		    "and %d", p->reply.code, code);
	if (p->reply.n == TORCTL_LINES_MAX)
		return PARSER_FAIL(p, "reply from tor has more than %d lines",
		    TORCTL_LINES_MAX);
	p->reply.code = code;
	l = &p->reply.line[p->reply.n++];
	l->code = code;
	l->sep = line[3];
	l->text = line + 4;
	l->len = ll - 4;
	l->data = NULL;
	l->data_len = 0;
	p->buf[p->len++] = '\0'; /* fits: buf has one byte to spare */
	p->line_start = p->len;
	if (l->sep == '+') {
		p->in_data = 1;
		p->data_start = p->len;
		l->data = p->buf + p->len;
		return 0;
	}
	if (l->sep == ' ') {
		p->reply.async = code == 650;
		return 1;
	}
	return 0;
}

static int
parser_feed(struct torctl_parser *p, const char *buf, size_t len,
    size_t *used)
{
	size_t i = 0, ll;
	int rc;
	char c;

	while (i < len) {
		c = buf[i++];
		if (c == '\0') {
			*used = i;
			return PARSER_FAIL(p, "NUL byte in a reply from tor");
		}
		if (c != '\n') {
			/* One byte more than a line may hold: its CR. */
			if (p->len - p->line_start > TORCTL_LINE_MAX) {
				*used = i;
				return PARSER_FAIL(p, "line from tor longer "
				    "than %d bytes", TORCTL_LINE_MAX);
			}
			if (p->len >= TORCTL_REPLY_MAX) {
				*used = i;
				return PARSER_FAIL(p, "reply from tor longer "
				    "than %d bytes", TORCTL_REPLY_MAX);
			}
			p->buf[p->len++] = c;
			continue;
		}
		ll = p->len - p->line_start;
		if (ll > 0 && p->buf[p->len - 1] == '\r') {
			p->len--;
			ll--;
		}
		if (ll > TORCTL_LINE_MAX) {
			*used = i;
			return PARSER_FAIL(p, "line from tor longer than %d "
			    "bytes", TORCTL_LINE_MAX);
		}
		rc = p->in_data ? parser_data_line(p) : parser_status_line(p);
		if (rc != 0) {
			*used = i;
			if (rc == 1)
				p->ready = 1;
			return rc;
		}
	}
	*used = len;
	return 0;
}

int
torctl_parser_feed(struct torctl_parser *p, const char *buf, size_t len,
    size_t *used)
{
	int rc;

	*used = 0;
	if (p->failed)
		return -1;
	if (p->ready)
		parser_reset_reply(p);
	if ((rc = parser_feed(p, buf, len, used)) == -1)
		p->failed = 1;
	return rc;
}

void
torctl_reply_describe(const struct torctl_reply *r, char *out, size_t cap)
{
	size_t o, i;
	int n;

	if (cap == 0)
		return;
	n = snprintf(out, cap, "%03d", r->code);
	if (n < 0 || (size_t)n >= cap || r->n == 0)
		return;
	o = (size_t)n;
	if (o + 1 < cap)
		out[o++] = ' ';
	for (i = 0; i < r->line[0].len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)r->line[0].text[i];

		out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

/* Strings and tokens */

int
torctl_unquote(const char *s, const char **end, char *out, size_t cap)
{
	char c, hh[3] = "";
	size_t o = 0;
	uint8_t b;
	int v;

	if (cap == 0 || *s != '"')
		return -1;
	s++;
	for (;;) {
		c = *s++;
		if (c == '\0')
			return -1; /* no closing quote */
		if (c == '"')
			break;
		v = (unsigned char)c;
		if (c == '\\') {
			c = *s++;
			switch (c) {
			case 'n': v = '\n'; break;
			case 'r': v = '\r'; break;
			case 't': v = '\t'; break;
			case '\\':
			case '"':
			case '\'': v = (unsigned char)c; break;
			case 'x':
				/* Two hex digits, either case. */
				if (s[0] == '\0' || s[1] == '\0')
					return -1;
				memcpy(hh, s, 2);
				if (hex_decode(&b, 1, hh) == -1)
					return -1;
				v = b;
				s += 2;
				break;
			case '0': case '1': case '2': case '3':
				if (s[0] < '0' || s[0] > '7' || s[1] < '0' ||
				    s[1] > '7')
					return -1;
				v = (c - '0') * 64 + (s[0] - '0') * 8 +
				    (s[1] - '0');
				s += 2;
				break;
			default:
				return -1;
			}
			if (v == 0)
				return -1;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)v;
	}
	out[o] = '\0';
	if (end != NULL)
		*end = s;
	return 0;
}

int
torctl_quote(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	char esc[5];
	const char *add;
	size_t n;

	if (cap < 3)
		return -1;
	out[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			add = "\\\"";
		else if (c == '\\')
			add = "\\\\";
		else if (c == '\n')
			add = "\\n";
		else if (c == '\r')
			add = "\\r";
		else if (c == '\t')
			add = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\%03o", c);
			add = esc;
		} else {
			esc[0] = (char)c;
			esc[1] = '\0';
			add = esc;
		}
		n = strlen(add);
		if (o + n + 2 > cap)
			return -1;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

int
torctl_next_token(const char **cur, char *key, size_t keycap, char *val,
    size_t valcap, int *has_val)
{
	const char *s = *cur;
	size_t k = 0, v = 0;

	if (keycap == 0 || valcap == 0)
		return -1;
	key[0] = '\0';
	val[0] = '\0';
	*has_val = 0;
	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*cur = s;
		return 0;
	}
	while (*s != '\0' && *s != ' ' && *s != '=') {
		if (k + 1 >= keycap)
			return -1;
		key[k++] = *s++;
	}
	key[k] = '\0';
	if (k == 0)
		return -1;
	if (*s == '=') {
		s++;
		*has_val = 1;
		if (*s == '"') {
			if (torctl_unquote(s, &s, val, valcap) != 0)
				return -1;
			if (*s != '\0' && *s != ' ')
				return -1;
		} else {
			while (*s != '\0' && *s != ' ') {
				if (v + 1 >= valcap)
					return -1;
				val[v++] = *s++;
			}
			val[v] = '\0';
		}
	}
	*cur = s;
	return 1;
}

/* "KEYWORD" or "KEYWORD rest": pointer to rest ("" for none), or NULL. */
static const char *
after_keyword(const char *text, const char *kw)
{
	size_t n = strlen(kw);

	if (strncmp(text, kw, n) != 0)
		return NULL;
	if (text[n] == '\0')
		return text + n;
	if (text[n] == ' ')
		return text + n + 1;
	return NULL;
}

static int
str_put(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Copy, cutting to fit: for human text tor sends. */
static void
str_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
refused(const struct torctl_reply *r, const char *what, char *err,
    size_t errlen)
{
	char d[160];

	torctl_reply_describe(r, d, sizeof(d));
	err_set(err, errlen, "tor refused %s: %s", what, d);
	return -1;
}

/* PROTOCOLINFO */

static unsigned
auth_method(const char *m, size_t n)
{
	static const struct {
		const char *name;
		unsigned bit;
	} t[] = {
		{"NULL", TORCTL_AUTH_NULL},
		{"HASHEDPASSWORD", TORCTL_AUTH_HASHEDPASSWORD},
		{"COOKIE", TORCTL_AUTH_COOKIE},
		{"SAFECOOKIE", TORCTL_AUTH_SAFECOOKIE},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, m, n) == 0)
			return t[i].bit;
	return 0; /* a method we do not know: ignore it */
}

static int
cookie_file_set(struct torctl_protocolinfo *pi, const char *val, char *err,
    size_t errlen)
{
	if (val[0] != '/' ||
	    str_put(pi->cookie_file, sizeof(pi->cookie_file), val) != 0) {
		err_set(err, errlen, "tor's PROTOCOLINFO names a cookie file "
		    "that is not an absolute path");
		return -1;
	}
	return 0;
}

int
torctl_parse_protocolinfo(const struct torctl_reply *r,
    struct torctl_protocolinfo *pi, char *err, size_t errlen)
{
	char key[TOKEN_KEY_MAX], val[TORCTL_LINE_MAX + 1];
	const char *rest, *m, *comma;
	int has_val, rc, have_auth = 0;
	size_t i;

	memset(pi, 0, sizeof(*pi));
	if (r->code != 250)
		return refused(r, "PROTOCOLINFO", err, errlen);
	for (i = 0; i < r->n; i++) {
		if ((rest = after_keyword(r->line[i].text, "AUTH")) != NULL) {
			have_auth = 1;
			while ((rc = torctl_next_token(&rest, key,
			    sizeof(key), val, sizeof(val), &has_val)) == 1) {
				if (!has_val)
					continue;
				if (strcmp(key, "METHODS") == 0) {
					for (m = val; *m != '\0';) {
						comma = strchr(m, ',');
						if (comma == NULL)
							comma = m + strlen(m);
						pi->methods |= auth_method(m,
						    (size_t)(comma - m));
						m = *comma ? comma + 1 : comma;
					}
				} else if (strcmp(key, "COOKIEFILE") == 0 &&
				    cookie_file_set(pi, val, err, errlen) != 0)
					return -1;
			}
			if (rc < 0) {
				err_set(err, errlen, "malformed AUTH line in "
				    "tor's PROTOCOLINFO reply");
				return -1;
			}
		} else if ((rest = after_keyword(r->line[i].text,
		    "VERSION")) != NULL) {
			while ((rc = torctl_next_token(&rest, key,
			    sizeof(key), val, sizeof(val), &has_val)) == 1)
				if (has_val && strcmp(key, "Tor") == 0)
					str_cut(pi->version,
					    sizeof(pi->version), val);
			if (rc < 0) {
				err_set(err, errlen, "malformed VERSION line "
				    "in tor's PROTOCOLINFO reply");
				return -1;
			}
		}
	}
	if (!have_auth) {
		err_set(err, errlen, "tor's PROTOCOLINFO reply has no AUTH "
		    "line");
		return -1;
	}
	if (pi->cookie_file[0] == '\0')
		pi->methods &= ~(unsigned)(TORCTL_AUTH_COOKIE |
		    TORCTL_AUTH_SAFECOOKIE);
	if (pi->methods == 0) {
		err_set(err, errlen, "tor offers no authentication method "
		    "onionmesh can use (NULL, HASHEDPASSWORD, COOKIE or "
		    "SAFECOOKIE with a COOKIEFILE)");
		return -1;
	}
	return 0;
}

/* SAFECOOKIE */

int
torctl_safecookie_begin(struct torctl_safecookie *sc, char *out, size_t cap)
{
	char hex[2 * TORCTL_NONCE_BYTES + 1];
	int n;

	memset(sc, 0, sizeof(*sc));
	randombytes_buf(sc->client_nonce, sizeof(sc->client_nonce));
	sodium_bin2hex(hex, sizeof(hex), sc->client_nonce,
	    sizeof(sc->client_nonce));
	n = snprintf(out, cap, "AUTHCHALLENGE SAFECOOKIE %s\r\n", hex);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
torctl_parse_authchallenge(const struct torctl_reply *r,
    struct torctl_safecookie *sc, char *err, size_t errlen)
{
	char key[TOKEN_KEY_MAX], val[2 * TORCTL_HASH_BYTES + 2];
	const char *rest;
	int has_val, rc, have_hash = 0, have_nonce = 0;

	if (r->code != 250)
		return refused(r, "AUTHCHALLENGE", err, errlen);
	if (r->n != 1 ||
	    (rest = after_keyword(r->line[0].text, "AUTHCHALLENGE")) == NULL)
		goto bad;
	while ((rc = torctl_next_token(&rest, key, sizeof(key), val,
	    sizeof(val), &has_val)) == 1) {
		if (!has_val)
			continue;
		if (strcmp(key, "SERVERHASH") == 0) {
			if (hex_decode(sc->server_hash, TORCTL_HASH_BYTES,
			    val) != 0)
				goto bad;
			have_hash = 1;
		} else if (strcmp(key, "SERVERNONCE") == 0) {
			if (hex_decode(sc->server_nonce, TORCTL_NONCE_BYTES,
			    val) != 0)
				goto bad;
			have_nonce = 1;
		}
	}
	if (rc == 0 && have_hash && have_nonce)
		return 0;
bad:
	err_set(err, errlen, "malformed AUTHCHALLENGE reply from tor (want "
	    "SERVERHASH and SERVERNONCE of %d hex digits)",
	    2 * TORCTL_HASH_BYTES);
	return -1;
}

void
torctl_safecookie_hash(uint8_t out[TORCTL_HASH_BYTES], const char *key,
    const struct torctl_safecookie *sc,
    const uint8_t cookie[TORCTL_COOKIE_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key,
	    strlen(key));
	crypto_auth_hmacsha256_update(&st, cookie, TORCTL_COOKIE_BYTES);
	crypto_auth_hmacsha256_update(&st, sc->client_nonce,
	    TORCTL_NONCE_BYTES);
	crypto_auth_hmacsha256_update(&st, sc->server_nonce,
	    TORCTL_NONCE_BYTES);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

int
torctl_safecookie_verify(const struct torctl_safecookie *sc,
    const uint8_t cookie[TORCTL_COOKIE_BYTES])
{
	uint8_t want[TORCTL_HASH_BYTES];
	int rc;

	torctl_safecookie_hash(want, TORCTL_SAFECOOKIE_SERVER_KEY, sc, cookie);
	rc = crypto_verify_32(want, sc->server_hash);
	sodium_memzero(want, sizeof(want));
	return rc == 0 ? 0 : -1;
}

int
torctl_safecookie_answer(char *out, size_t cap,
    const struct torctl_safecookie *sc,
    const uint8_t cookie[TORCTL_COOKIE_BYTES], char *err, size_t errlen)
{
	uint8_t h[TORCTL_HASH_BYTES];
	char hex[2 * TORCTL_HASH_BYTES + 1];
	int n;

	if (torctl_safecookie_verify(sc, cookie) != 0) {
		err_set(err, errlen, "tor's SAFECOOKIE server hash is wrong: "
		    "whatever answers on the control port did not read the "
		    "cookie file, so we do not authenticate to it");
		return -1;
	}
	torctl_safecookie_hash(h, TORCTL_SAFECOOKIE_CLIENT_KEY, sc, cookie);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	n = snprintf(out, cap, "AUTHENTICATE %s\r\n", hex);
	sodium_memzero(h, sizeof(h));
	sodium_memzero(hex, sizeof(hex));
	if (n < 0 || (size_t)n >= cap) {
		err_set(err, errlen, "AUTHENTICATE command does not fit");
		return -1;
	}
	return 0;
}

/* Other authentication */

int
torctl_fmt_auth_cookie(char *out, size_t cap,
    const uint8_t cookie[TORCTL_COOKIE_BYTES])
{
	char hex[2 * TORCTL_COOKIE_BYTES + 1];
	int n;

	sodium_bin2hex(hex, sizeof(hex), cookie, TORCTL_COOKIE_BYTES);
	n = snprintf(out, cap, "AUTHENTICATE %s\r\n", hex);
	sodium_memzero(hex, sizeof(hex));
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
torctl_fmt_auth_password(char *out, size_t cap, const char *password)
{
	char q[TORCTL_CMD_MAX];
	int n;

	if (torctl_quote(q, sizeof(q), password) != 0)
		return -1;
	n = snprintf(out, cap, "AUTHENTICATE %s\r\n", q);
	sodium_memzero(q, sizeof(q));
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ADD_ONION / DEL_ONION */

int
torctl_target_check(const char *target, char *err, size_t errlen)
{
	struct endpoint ep;
	unsigned char addr[16];
	const char *p;

	if (strncmp(target, "unix:", 5) == 0) {
		if (endpoint_split(target, &ep, NULL, 0) == -1)
			goto bad_unix;
		/* It goes into ADD_ONION's Port= argument unquoted. */
		for (p = ep.path; *p != '\0'; p++)
			if (*p <= ' ' || *p >= 0x7f || *p == '"' ||
			    *p == ',' || *p == '\\')
				goto bad_unix;
		return 0;
	}
	/* An address, not a name: tor would not look it up. */
	if (endpoint_split(target, &ep, NULL, 0) == -1 ||
	    inet_pton(target[0] == '[' ? AF_INET6 : AF_INET, ep.host,
	    addr) != 1)
		goto bad_ip;
	return 0;
bad_unix:
	err_set(err, errlen, "onion service target \"%s\" is not usable "
	    "(want unix: and an absolute path shorter than %zu bytes, "
	    "without spaces, commas, quotes or backslashes)", target,
	    sizeof(ep.path));
	return -1;
bad_ip:
	err_set(err, errlen, "onion service target \"%s\" is not usable "
	    "(want unix:/PATH, IPV4:PORT or [IPV6]:PORT with PORT "
	    "1..65535)", target);
	return -1;
}

int
torctl_fmt_add_onion(char *out, size_t cap, const char *blob,
    uint16_t virt_port, const char *target,
    const uint8_t (*clients)[ONION_AUTH_KEY_BYTES], size_t nclients,
    char *err, size_t errlen)
{
	struct onion_key k;
	char why[TORCTL_ERRLEN], b32[ONION_AUTH_B32_LEN + 1];
	size_t i, len;
	int n;

	/* Never echo the blob: it is the service's secret key. */
	if (onion_key_from_blob(&k, blob, why, sizeof(why)) != 0) {
		err_set(err, errlen, "cannot use the onion key: %s", why);
		return -1;
	}
	onion_key_wipe(&k);
	if (virt_port == 0) {
		err_set(err, errlen, "onion service port 0 is not usable "
		    "(want 1..65535)");
		return -1;
	}
	if (torctl_target_check(target, err, errlen) != 0)
		return -1;
	if (nclients > TORCTL_AUTH_CLIENTS_MAX) {
		err_set(err, errlen, "%zu authorized clients are more than "
		    "ADD_ONION takes from us (at most %d)", nclients,
		    TORCTL_AUTH_CLIENTS_MAX);
		return -1;
	}
	/* tor wants the flag exactly when clients are named. */
	n = snprintf(out, cap, "ADD_ONION %s%s Port=%u,%s", blob,
	    nclients > 0 ? " Flags=V3Auth" : "", (unsigned)virt_port,
	    target);
	for (i = 0; n >= 0 && (size_t)n < cap && i < nclients; i++) {
		onion_auth_pk_encode(b32, clients[i]);
		len = (size_t)n;
		n = snprintf(out + len, cap - len, " ClientAuthV3=%s", b32);
		n = n < 0 ? n : n + (int)len;
	}
	if (n >= 0 && (size_t)n + 2 < cap)
		memcpy(out + n, "\r\n", 3);
	else
		n = -1;
	if (n < 0) {
		sodium_memzero(out, cap);
		err_set(err, errlen, "ADD_ONION command does not fit");
		return -1;
	}
	return 0;
}

int
torctl_parse_add_onion(const struct torctl_reply *r,
    char addr[ONION_ADDR_LEN + 1], char *err, size_t errlen)
{
	const char *id;
	size_t i;

	addr[0] = '\0';
	if (r->code != 250)
		return refused(r, "ADD_ONION", err, errlen);
	for (i = 0; i < r->n; i++) {
		if (strncmp(r->line[i].text, "ServiceID=", 10) != 0)
			continue;
		id = r->line[i].text + 10;
		if (onion_id_decode(NULL, id, strlen(id)) != 0)
			break;
		memcpy(addr, id, ONION_ID_LEN);
		memcpy(addr + ONION_ID_LEN, ".onion", sizeof(".onion"));
		return 0;
	}
	err_set(err, errlen, "tor's ADD_ONION reply has no valid ServiceID");
	return -1;
}

/* "<id>.onion" or "<id>": a valid v3 address? 0 or -1. */
static int
service_id_ok(const char *addr)
{
	size_t n = strnlen(addr, ONION_ADDR_LEN + 1);

	if (n == ONION_ADDR_LEN)
		return onion_addr_valid(addr) ? 0 : -1;
	if (n != ONION_ID_LEN ||
	    onion_id_decode(NULL, addr, ONION_ID_LEN) != 0)
		return -1;
	return 0;
}

/* "VERB <id>\r\n" for a service address. */
static int
fmt_service_cmd(char *out, size_t cap, const char *verb, const char *addr)
{
	int w;

	if (service_id_ok(addr) != 0)
		return -1;
	w = snprintf(out, cap, "%s %.*s\r\n", verb, ONION_ID_LEN, addr);
	return w < 0 || (size_t)w >= cap ? -1 : 0;
}

int
torctl_fmt_del_onion(char *out, size_t cap, const char *addr)
{
	return fmt_service_cmd(out, cap, "DEL_ONION", addr);
}

int
torctl_fmt_client_auth_add(char *out, size_t cap, const char *addr,
    const uint8_t sk[ONION_AUTH_KEY_BYTES])
{
	char blob[ONION_AUTH_SK_BLOB_LEN + 1];
	int w;

	if (service_id_ok(addr) != 0 ||
	    onion_auth_sk_blob(blob, sizeof(blob), sk) != 0)
		return -1;
	w = snprintf(out, cap, "ONION_CLIENT_AUTH_ADD %.*s %s\r\n",
	    ONION_ID_LEN, addr, blob);
	sodium_memzero(blob, sizeof(blob));
	if (w < 0 || (size_t)w >= cap) {
		sodium_memzero(out, cap);
		return -1;
	}
	return 0;
}

int
torctl_fmt_client_auth_remove(char *out, size_t cap, const char *addr)
{
	return fmt_service_cmd(out, cap, "ONION_CLIENT_AUTH_REMOVE", addr);
}

/* Bootstrap and events */

int
torctl_parse_bootstrap(const char *text, struct torctl_bootstrap *b)
{
	char key[TOKEN_KEY_MAX], val[TORCTL_LINE_MAX + 1];
	const char *cur = text;
	int has_val, rc, idx = 0, have_progress = 0;
	unsigned long v;
	char *end;

	memset(b, 0, sizeof(*b));
	while ((rc = torctl_next_token(&cur, key, sizeof(key), val,
	    sizeof(val), &has_val)) == 1) {
		if (idx == 0 && !has_val && strcmp(key, "STATUS_CLIENT") == 0)
			continue;
		switch (idx++) {
		case 0: /* severity */
			if (has_val)
				return -1;
			if (strcmp(key, "WARN") == 0 ||
			    strcmp(key, "ERR") == 0)
				b->warn = 1;
			else if (strcmp(key, "NOTICE") != 0)
				return -1;
			continue;
		case 1: /* action */
			if (has_val)
				return -1;
			if (strcmp(key, "BOOTSTRAP") != 0)
				return 1;
			continue;
		}
		if (!has_val)
			continue;
		if (strcmp(key, "PROGRESS") == 0) {
			if (val[0] < '0' || val[0] > '9' || strlen(val) > 3)
				return -1;
			v = strtoul(val, &end, 10);
			if (*end != '\0' || v > 100)
				return -1;
			b->progress = (int)v;
			have_progress = 1;
		} else if (strcmp(key, "TAG") == 0)
			str_cut(b->tag, sizeof(b->tag), val);
		else if (strcmp(key, "SUMMARY") == 0)
			str_cut(b->summary, sizeof(b->summary), val);
		else if (strcmp(key, "WARNING") == 0)
			str_cut(b->warning, sizeof(b->warning), val);
	}
	if (rc < 0 || idx < 2 || !have_progress)
		return -1;
	return 0;
}

int
torctl_parse_getinfo_bootstrap(const struct torctl_reply *r,
    struct torctl_bootstrap *b, char *err, size_t errlen)
{
	static const char key[] = "status/bootstrap-phase=";
	const struct torctl_line *l;
	const char *v;
	size_t i;

	memset(b, 0, sizeof(*b));
	if (r->code != 250)
		return refused(r, "GETINFO status/bootstrap-phase", err,
		    errlen);
	for (i = 0; i < r->n; i++) {
		l = &r->line[i];
		if (strncmp(l->text, key, sizeof(key) - 1) != 0)
			continue;
		v = l->sep == '+' ? l->data : l->text + sizeof(key) - 1;
		if (torctl_parse_bootstrap(v, b) == 0)
			return 0;
		break;
	}
	err_set(err, errlen, "tor's status/bootstrap-phase is malformed or "
	    "missing");
	return -1;
}

/* One line of circuit-status: its id when it is a rendezvous circuit
 * of the service id (56 characters), else "". */
static void
rend_circuit_of(const char *line, const char *id,
    char out[TORCTL_CIRC_ID_MAX + 1])
{
	char key[TORCTL_LINE_MAX + 1], val[TORCTL_LINE_MAX + 1];
	char circ[TORCTL_CIRC_ID_MAX + 1];
	const char *cur = line;
	int has_val, purpose = 0, query = 0;
	size_t n;

	out[0] = '\0';
	if (torctl_next_token(&cur, key, sizeof(key), val, sizeof(val),
	    &has_val) != 1 || has_val || (n = strlen(key)) >
	    TORCTL_CIRC_ID_MAX || strspn(key, "0123456789") != n)
		return;
	memcpy(circ, key, n + 1);
	while (torctl_next_token(&cur, key, sizeof(key), val, sizeof(val),
	    &has_val) == 1) {
		if (!has_val)
			continue;
		if (strcmp(key, "PURPOSE") == 0)
			purpose = strcmp(val, "HS_SERVICE_REND") == 0;
		else if (strcmp(key, "REND_QUERY") == 0)
			query = strncmp(val, id, ONION_ID_LEN) == 0 &&
			    val[ONION_ID_LEN] == '\0';
	}
	if (purpose && query)
		memcpy(out, circ, n + 1);
}

int
torctl_parse_rend_circuits(const struct torctl_reply *r, const char *addr,
    char (*ids)[TORCTL_CIRC_ID_MAX + 1], size_t cap, char *err,
    size_t errlen)
{
	static const char key[] = "circuit-status=";
	char line[TORCTL_LINE_MAX + 1];
	const char *p, *nl;
	size_t i, len, n = 0;

	if (r->code != 250)
		return refused(r, "GETINFO circuit-status", err, errlen);
	if (service_id_ok(addr) != 0) {
		err_set(err, errlen, "not a v3 onion address");
		return -1;
	}
	for (i = 0; i < r->n; i++)
		if (strncmp(r->line[i].text, key, sizeof(key) - 1) == 0)
			break;
	if (i == r->n) {
		err_set(err, errlen, "tor's reply has no circuit-status");
		return -1;
	}
	/* One circuit: "250-circuit-status=LINE"; none: nothing after
	 * the '='; more: a data block, a circuit a line. */
	p = r->line[i].sep == '+' ? r->line[i].data :
	    r->line[i].text + sizeof(key) - 1;
	while (p != NULL && *p != '\0' && n < cap) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			rend_circuit_of(line, addr, ids[n]);
			n += ids[n][0] != '\0';
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return (int)n;
}

int
torctl_fmt_close_circuit(char *out, size_t cap, const char *id)
{
	size_t n = strnlen(id, TORCTL_CIRC_ID_MAX + 1);
	int w;

	if (n == 0 || n > TORCTL_CIRC_ID_MAX ||
	    strspn(id, "0123456789") != n)
		return -1;
	w = snprintf(out, cap, "CLOSECIRCUIT %s\r\n", id);
	return w < 0 || (size_t)w >= cap ? -1 : 0;
}

int
torctl_parse_hs_desc(const char *text, char *action, size_t actcap,
    char addr[ONION_ADDR_LEN + 1])
{
	char key[TOKEN_KEY_MAX], val[8];
	const char *cur = text;
	int has_val;

	addr[0] = '\0';
	if (torctl_next_token(&cur, key, sizeof(key), val, sizeof(val),
	    &has_val) != 1 || has_val || strcmp(key, "HS_DESC") != 0)
		return 1;
	if (torctl_next_token(&cur, key, sizeof(key), val, sizeof(val),
	    &has_val) != 1 || has_val || str_put(action, actcap, key) != 0)
		return -1;
	if (torctl_next_token(&cur, key, sizeof(key), val, sizeof(val),
	    &has_val) != 1 || has_val)
		return -1;
	if (onion_id_decode(NULL, key, strlen(key)) == 0) {
		memcpy(addr, key, ONION_ID_LEN);
		memcpy(addr + ONION_ID_LEN, ".onion", sizeof(".onion"));
	}
	return 0;
}
