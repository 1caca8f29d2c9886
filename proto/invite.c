/*
 * Invitation URLs and invitation files: strict parsers and formatters.
 *
 * The URL is typed or pasted by a person and parsed by a program that
 * then dials what it says, so the parser accepts exactly one spelling:
 * lower-case hex of exact lengths, a fixed order of path parts, only the
 * parameters onion= and tcp=, each at most once, and nothing we would
 * have to decode (no '%', no '+', no fragment). Each refusal names the
 * part that is wrong, since "invalid URL" helps nobody who has one
 * character missing.
 *
 * The invite file is canonical text like a host record (proto/record.c):
 * fixed field order, one space either side of '=', a newline after
 * every line, nothing else, so two files with the same content are the
 * same bytes.
 */
#include "proto/invite.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/errbuf.h"
#include "proto/onion.h"
#include "proto/trust.h"

#define KEYHASH_CONTEXT "onionmesh key v1\n"
#define SECRET_CONTEXT  "onionmesh invite v1\n"
#define HELLO_CONTEXT   "onionmesh hello v1\n"
#define CLIENT_AUTH_CONTEXT "onionmesh invite client-auth v1\n"

/* Exactly 2n lower-case hex digits in s[0..len). */
static int
hex_exact(uint8_t *out, size_t n, const char *s, size_t len)
{
	char tmp[2 * 64 + 1];
	size_t i;

	if (len != 2 * n || len >= sizeof(tmp))
		return -1;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return hex_decode(out, n, tmp);
}

void
invite_keyhash(uint8_t out[INVITE_KEYHASH_BYTES],
    const uint8_t id[MEMBER_ID_BYTES])
{
	crypto_generichash_state st;
	uint8_t h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)KEYHASH_CONTEXT,
	    sizeof(KEYHASH_CONTEXT) - 1);
	crypto_generichash_update(&st, id, MEMBER_ID_BYTES);
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, h, INVITE_KEYHASH_BYTES);
}

/* BLAKE2b(context || secret), n bytes: the invitation secret's two
 * uses kept apart by their context. */
static void
secret_derive(uint8_t *out, size_t n, const char *context,
    const uint8_t secret[INVITE_SECRET_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, n);
	crypto_generichash_update(&st, (const uint8_t *)context,
	    strlen(context));
	crypto_generichash_update(&st, secret, INVITE_SECRET_BYTES);
	crypto_generichash_final(&st, out, n);
	sodium_memzero(&st, sizeof(st));
}

void
invite_secret_hash(uint8_t out[32], const uint8_t secret[INVITE_SECRET_BYTES])
{
	secret_derive(out, 32, SECRET_CONTEXT, secret);
}

void
invite_client_auth_sk(uint8_t sk[ONION_AUTH_KEY_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES])
{
	secret_derive(sk, ONION_AUTH_KEY_BYTES, CLIENT_AUTH_CONTEXT, secret);
}

void
invite_hello_mac(uint8_t out[INVITE_HELLO_MAC_BYTES],
    const uint8_t secret_hash[32], const uint8_t id[INVITE_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, secret_hash, 32,
	    INVITE_HELLO_MAC_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)HELLO_CONTEXT,
	    sizeof(HELLO_CONTEXT) - 1);
	crypto_generichash_update(&st, id, INVITE_ID_BYTES);
	crypto_generichash_final(&st, out, INVITE_HELLO_MAC_BYTES);
}

/* A v3 onion address as records hold it (checksum included). */
static int
onion_ok(const char *v, size_t len)
{
	char tmp[ONION_ADDR_LEN + 1];

	if (len != ONION_ADDR_LEN)
		return 0;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	if (strcmp(tmp + 56, ".onion") != 0)
		return 0;
	return onion_addr_valid(tmp);
}

static int
tcp_ok(const char *v, size_t len)
{
	char tmp[CONF_ADDR_LEN];

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	return endpoint_parse(tmp, NULL, 0, NULL) == 0;
}

/* The next '/'-separated part of the path, or -1 when there is none. */
static int
next_part(const char **p, const char *end, const char **s, size_t *n)
{
	const char *q = *p;

	while (q < end && *q != '/' && *q != '?')
		q++;
	*s = *p;
	*n = (size_t)(q - *p);
	*p = q;
	return 0;
}

/* Length, characters and scheme of the whole text. */
static int
url_text(const char *s, size_t *lenp, char *err, size_t errlen)
{
	size_t len, slen = strlen(INVITE_SCHEME), i;

	len = strnlen(s, INVITE_URL_MAX + 1);
	if (len > INVITE_URL_MAX)
		return err_set(err, errlen, "the invitation is longer than %d"
		    " characters", INVITE_URL_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '%' || c == '#' ||
		    c == '+' || c == '\\')
			return err_set(err, errlen, "the invitation holds %s"
			    " at position %zu (copy it again, whole)",
			    c <= ' ' || c >= 0x7f ? "a space or control"
			    " character" : "a character no invitation has",
			    i + 1);
	}
	if (len < slen || memcmp(s, INVITE_SCHEME, slen) != 0)
		return err_set(err, errlen, "not an invitation: it must start"
		    " with %s", INVITE_SCHEME);
	*lenp = len;
	return 0;
}

static int
url_net(struct invite_url *u, const char **p, const char *end, char *err,
    size_t errlen)
{
	char tmp[NAME_MAX_LEN + 1];
	const char *part;
	size_t n;

	next_part(p, end, &part, &n);
	if (n == 0 || n > NAME_MAX_LEN)
		return err_set(err, errlen, "network name: %s (want 1..%d of"
		    " a-z, 0-9, '_', '-')", n == 0 ? "missing" : "too long",
		    NAME_MAX_LEN);
	memcpy(tmp, part, n);
	tmp[n] = '\0';
	if (!name_valid(tmp))
		return err_set(err, errlen, "network name '%s' is not valid"
		    " (want 1..%d of a-z, 0-9, '_', '-', starting with a"
		    " letter or digit)", tmp, NAME_MAX_LEN);
	memcpy(u->net, tmp, n + 1);
	return 0;
}

/* "/PART": the part after the next '/', or -1 with `missing`. */
static int
url_slash_part(const char **p, const char *end, const char **part,
    size_t *n, const char *missing, char *err, size_t errlen)
{
	if (*p >= end || **p != '/')
		return err_set(err, errlen, "%s", missing);
	(*p)++;
	return next_part(p, end, part, n);
}

/* "/HEX" of exactly 2 * cap digits into out; what names it in errors. */
static int
url_hex(const char **p, const char *end, uint8_t *out, size_t cap,
    const char *what, const char *missing, char *err, size_t errlen)
{
	const char *part;
	size_t n;

	if (url_slash_part(p, end, &part, &n, missing, err, errlen) == -1)
		return -1;
	if (hex_exact(out, cap, part, n) == -1)
		return err_set(err, errlen, "%s '%.*s' is not %d lower-case"
		    " hex digits", what, (int)(n > 80 ? 80 : n), part,
		    (int)(2 * cap));
	return 0;
}

/* NET/KEYHASH/ID/SECRET */
static int
url_path(struct invite_url *u, const char **p, const char *end, char *err,
    size_t errlen)
{
	const char *part;
	size_t n;

	if (url_net(u, p, end, err, errlen) == -1 ||
	    url_hex(p, end, u->keyhash, sizeof(u->keyhash), "key hash",
	    "key hash missing after the network name (want "
	    "onionmesh://NET/KEYHASH/ID/SECRET?...)", err, errlen) == -1 ||
	    url_hex(p, end, u->id, sizeof(u->id), "invitation id",
	    "invitation id missing after the key hash", err, errlen) == -1 ||
	    url_slash_part(p, end, &part, &n, "secret missing after the "
	    "invitation id", err, errlen) == -1)
		return -1;
	/* The secret is not echoed: it may be nearly right. */
	if (hex_exact(u->secret, sizeof(u->secret), part, n) == -1)
		return err_set(err, errlen, "secret is not %d lower-case hex "
		    "digits (it has %zu characters)", 2 * INVITE_SECRET_BYTES,
		    n);
	return 0;
}

/* The value of onion= or tcp=, once, if ok says it is usable. */
static int
url_addr(char *dst, int *seen, const char *name, int ok, const char *v,
    size_t n, const char *want, char *err, size_t errlen)
{
	if ((*seen)++)
		return err_set(err, errlen, "parameter %s= given twice",
		    name);
	if (!ok)
		return err_set(err, errlen, "%s= '%.*s' is not %s", name,
		    (int)(n > 80 ? 80 : n), v, want);
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* One NAME=VALUE of the query, p..amp. */
static int
url_param(struct invite_url *u, const char *p, const char *amp,
    int *seen_onion, int *seen_tcp, char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', (size_t)(amp - p));
	size_t n;

	if (eq == NULL)
		return err_set(err, errlen, "parameter '%.*s' is not "
		    "NAME=VALUE", (int)((amp - p) > 80 ? 80 : (amp - p)), p);
	n = (size_t)(amp - eq - 1);
	if ((size_t)(eq - p) == 5 && memcmp(p, "onion", 5) == 0)
		return url_addr(u->onion, seen_onion, "onion",
		    onion_ok(eq + 1, n), eq + 1, n, "a valid v3 onion address "
		    "(56 of a-z, 2-7, then .onion)", err, errlen);
	if ((size_t)(eq - p) == 3 && memcmp(p, "tcp", 3) == 0)
		return url_addr(u->tcp, seen_tcp, "tcp", tcp_ok(eq + 1, n),
		    eq + 1, n, "HOST:PORT (e.g. 192.0.2.1:6550 or "
		    "[2001:db8::1]:6550)", err, errlen);
	return err_set(err, errlen, "unknown parameter '%.*s' (known: onion,"
	    " tcp)", (int)((eq - p) > 40 ? 40 : (eq - p)), p);
}

/* ?onion=...&tcp=... after the secret. */
static int
url_query(struct invite_url *u, const char *p, const char *end, char *err,
    size_t errlen)
{
	const char *amp;
	int seen_onion = 0, seen_tcp = 0;

	if (p >= end)
		return err_set(err, errlen, "no address of the inviter: want "
		    "?onion=ADDR.onion and/or tcp=HOST:PORT after the "
		    "secret");
	if (*p != '?')
		return err_set(err, errlen, "text after the secret: want '?'"
		    " and the inviter's address (onion=, tcp=)");
	p++;
	while (p <= end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (url_param(u, p, amp, &seen_onion, &seen_tcp, err,
		    errlen) == -1)
			return -1;
		p = amp + 1;
	}
	if (!seen_onion && !seen_tcp)
		return err_set(err, errlen, "no address of the inviter: want "
		    "onion= or tcp=");
	return 0;
}

int
invite_url_parse(struct invite_url *u, const char *s, char *err,
    size_t errlen)
{
	const char *p;
	size_t len = 0;

	memset(u, 0, sizeof(*u));
	if (url_text(s, &len, err, errlen) == -1)
		goto fail;
	p = s + strlen(INVITE_SCHEME);
	if (url_path(u, &p, s + len, err, errlen) == -1 ||
	    url_query(u, p, s + len, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	sodium_memzero(u, sizeof(*u));
	return -1;
}

int
invite_url_format(const struct invite_url *u, char *out, size_t cap)
{
	char kh[2 * INVITE_KEYHASH_BYTES + 1], id[2 * INVITE_ID_BYTES + 1];
	char sec[2 * INVITE_SECRET_BYTES + 1];
	int k;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (memchr(u->net, '\0', sizeof(u->net)) == NULL ||
	    !name_valid(u->net) ||
	    memchr(u->onion, '\0', sizeof(u->onion)) == NULL ||
	    memchr(u->tcp, '\0', sizeof(u->tcp)) == NULL)
		return -1;
	if (u->onion[0] == '\0' && u->tcp[0] == '\0')
		return -1;
	if (u->onion[0] != '\0' && !onion_ok(u->onion, strlen(u->onion)))
		return -1;
	if (u->tcp[0] != '\0' && !tcp_ok(u->tcp, strlen(u->tcp)))
		return -1;
	hex_encode(kh, u->keyhash, sizeof(u->keyhash));
	hex_encode(id, u->id, sizeof(u->id));
	hex_encode(sec, u->secret, sizeof(u->secret));
	k = snprintf(out, cap, "%s%s/%s/%s/%s?%s%s%s%s%s", INVITE_SCHEME,
	    u->net, kh, id, sec,
	    u->onion[0] ? "onion=" : "", u->onion,
	    u->onion[0] && u->tcp[0] ? "&" : "",
	    u->tcp[0] ? "tcp=" : "", u->tcp);
	sodium_memzero(sec, sizeof(sec));
	if (k < 0 || (size_t)k >= cap) {
		sodium_memzero(out, cap);
		out[0] = '\0';
		return -1;
	}
	return k;
}

/* The invite file */

enum { IF_ID, IF_NAME, IF_IPV4, IF_ROLE, IF_SUBNET, IF_EXPIRES, IF_HASH,
    IF_CLIENT_AUTH, IF_MADE_BY, IF_COUNT };
static const struct {
	const char *key;
	int optional;
} if_fields[IF_COUNT] = {
	[IF_ID] = {"id", 0},
	[IF_NAME] = {"name", 0},
	[IF_IPV4] = {"ipv4", 1},
	[IF_ROLE] = {"role", 0},
	[IF_SUBNET] = {"subnet", 1},
	[IF_EXPIRES] = {"expires", 0},
	[IF_HASH] = {"secret-hash", 0},
	[IF_CLIENT_AUTH] = {"client-auth", 1},
	[IF_MADE_BY] = {"made-by", 0},
};

static int
if_value(struct invite *iv, int f, const char *v, char *why, size_t wl)
{
	char canon[PREFIX_STRLEN];

	switch (f) {
	case IF_ID:
		if (hex_exact(iv->id, sizeof(iv->id), v, strlen(v)) == -1)
			return err_set(why, wl, "not %d lower-case hex digits",
			    2 * INVITE_ID_BYTES);
		return 0;
	case IF_NAME:
	case IF_MADE_BY:
		if (!name_valid(v))
			return err_set(why, wl, "not a valid member name");
		snprintf(f == IF_NAME ? iv->name : iv->made_by,
		    NAME_MAX_LEN + 1, "%s", v);
		return 0;
	case IF_IPV4:
		if (addr_parse(&iv->ipv4, v) == -1 || iv->ipv4.family != 4)
			return err_set(why, wl, "not an IPv4 address");
		prefix_fmt(&iv->ipv4, canon, sizeof(canon), 0);
		if (strcmp(canon, v) != 0)
			return err_set(why, wl, "not in canonical form "
			    "(want %s)", canon);
		return 0;
	case IF_ROLE:
		if (strcmp(v, "member") == 0)
			iv->role = ROLE_MEMBER;
		else if (strcmp(v, "admin") == 0)
			iv->role = ROLE_ADMIN;
		else
			return err_set(why, wl, "want member or admin");
		return 0;
	case IF_SUBNET:
		return subnet_list_add(iv->subnets, &iv->nsubnets,
		    RECORD_MAX_SUBNETS, v, why, wl);
	case IF_EXPIRES:
		if (dec_u64(&iv->expires, v) == -1)
			return err_set(why, wl, "not a decimal number without"
			    " leading zeros");
		return 0;
	case IF_HASH:
		if (hex_exact(iv->secret_hash, sizeof(iv->secret_hash), v,
		    strlen(v)) == -1)
			return err_set(why, wl, "not 64 lower-case hex "
			    "digits");
		return 0;
	case IF_CLIENT_AUTH:
		if (onion_auth_pk_decode(iv->client_auth, v) == -1)
			return err_set(why, wl, "not tor's x25519 public key "
			    "(52 of a-z, 2-7)");
		iv->has_client_auth = 1;
		return 0;
	}
	return err_set(why, wl, "internal error");
}

int
invite_parse(struct invite *iv, const char *text, size_t len, char *err,
    size_t errlen)
{
	char line[INVITE_TEXT_MAX + 1], why[160];
	const char *p = text, *end = text + len;
	char *val;
	int f = 0, lineno = 0, rc;

	memset(iv, 0, sizeof(*iv));
	if (text_check(text, len, INVITE_TEXT_MAX, "invitation file", err,
	    errlen) == -1)
		return -1;
	while ((rc = kv_line(&p, end, line, sizeof(line), &val)) == 1) {
		lineno++;
		if (val == NULL) {
			err_set(err, errlen, "line %d: '%.80s': not in the "
			    "form 'key = value'", lineno, line);
			goto bad;
		}
		while (f < IF_COUNT && strcmp(line, if_fields[f].key) != 0) {
			if (!if_fields[f].optional) {
				err_set(err, errlen, "line %d: '%.40s' where "
				    "%s belongs (fields in order: id, name,"
				    " ipv4, role, subnet, expires, "
				    "secret-hash, client-auth, made-by)",
				    lineno, line,
				    if_fields[f].key);
				goto bad;
			}
			f++;
		}
		if (f == IF_COUNT) {
			err_set(err, errlen, "line %d: '%.40s' is unknown,"
			    " repeated or out of order", lineno, line);
			goto bad;
		}
		why[0] = '\0';
		if (if_value(iv, f, val, why, sizeof(why)) == -1) {
			err_set(err, errlen, "line %d: %s = %.80s: %s", lineno,
			    if_fields[f].key, val, why);
			goto bad;
		}
		/* subnet lines repeat; every other field comes once. */
		if (f != IF_SUBNET)
			f++;
	}
	if (rc == -1) {
		err_set(err, errlen, "line %d: no newline at the end",
		    lineno + 1);
		goto bad;
	}
	for (; f < IF_COUNT; f++) {
		if (!if_fields[f].optional) {
			err_set(err, errlen, "field %s missing",
			    if_fields[f].key);
			goto bad;
		}
	}
	return 0;
bad:
	memset(iv, 0, sizeof(*iv));
	return -1;
}

int
invite_format(const struct invite *iv, char *out, size_t cap)
{
	char id[2 * INVITE_ID_BYTES + 1], h[2 * 32 + 1];
	char s[PREFIX_STRLEN], num[24], ca[ONION_AUTH_B32_LEN + 1];
	struct kv_out o;
	int i;

	if (kv_open(&o, out, cap) == -1)
		return -1;
	if (memchr(iv->name, '\0', sizeof(iv->name)) == NULL ||
	    memchr(iv->made_by, '\0', sizeof(iv->made_by)) == NULL ||
	    !name_valid(iv->name) || !name_valid(iv->made_by) ||
	    (iv->role != ROLE_MEMBER && iv->role != ROLE_ADMIN) ||
	    (iv->ipv4.family != 0 && iv->ipv4.family != 4) ||
	    iv->nsubnets < 0 || iv->nsubnets > RECORD_MAX_SUBNETS)
		return -1;
	hex_encode(id, iv->id, sizeof(iv->id));
	kv_put(&o, "id", id);
	kv_put(&o, "name", iv->name);
	if (iv->ipv4.family == 4) {
		prefix_fmt(&iv->ipv4, s, sizeof(s), 0);
		kv_put(&o, "ipv4", s);
	}
	kv_put(&o, "role", role_name(iv->role));
	for (i = 0; i < iv->nsubnets; i++) {
		struct prefix m = iv->subnets[i];

		prefix_mask(&m);
		if ((m.family != 4 && m.family != 6) ||
		    !prefix_equal(&m, &iv->subnets[i])) {
			out[0] = '\0';
			return -1;
		}
		prefix_fmt(&m, s, sizeof(s), 1);
		kv_put(&o, "subnet", s);
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)iv->expires);
	kv_put(&o, "expires", num);
	hex_encode(h, iv->secret_hash, sizeof(iv->secret_hash));
	kv_put(&o, "secret-hash", h);
	if (iv->has_client_auth) {
		onion_auth_pk_encode(ca, iv->client_auth);
		kv_put(&o, "client-auth", ca);
	}
	kv_put(&o, "made-by", iv->made_by);
	return kv_close(&o, INVITE_TEXT_MAX);
}
