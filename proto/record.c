/*
 * Host records: parse, format, sign and verify, plus the address and
 * network-id derivations that records and config share.
 *
 * The text form is the signed form, so it must have exactly one
 * spelling per record: fields in a fixed order, "key = value" with one
 * space either side of '=', lower-case hex, addresses as inet_ntop
 * writes them, subnets with their host bits clear, a newline after every
 * line, nothing else. record_parse refuses anything else with a message
 * naming the line, the field and the value; record_format refuses a
 * struct it could not write in that form (a name with a newline would
 * otherwise smuggle in a "subnet = 0.0.0.0/0" line under a valid
 * signature). Verification re-formats the parsed struct, so the bytes
 * that were signed are the bytes a member stores and acts on.
 *
 * ipv4 is optional in a record (a network may run without IPv4, as the
 * config's ipv4 may be unset); ipv6 is not, since every member has one
 * derived from its key.
 */
#include "proto/record.h"
#include "proto/errbuf.h"
#include "proto/onion.h"
#include "proto/trust.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define RECORD_SIG_CONTEXT "onionmesh record v1\n"
#define NETID_CONTEXT      "onionmesh network v1\n"
#define WHY_MAX            256

enum field {
	F_NAME,
	F_ID,
	F_ONION,
	F_CLIENT_AUTH,
	F_TCP,
	F_IPV4,
	F_IPV6,
	F_SUBNET,
	F_SERIAL,
	F_ROLE,
	F_INVITE,
	F_ADMITTED_SUBNET,
	F_ADMITTED_BY,
	F_ADMISSION,
	F_SIGNATURE,
	F_COUNT
};

static const struct {
	const char *key;
	int max;      /* how many lines of it */
	int required;
} fields[F_COUNT] = {
	[F_NAME] = {"name", 1, 1},
	[F_ID] = {"id", 1, 1},
	[F_ONION] = {"onion", 1, 0},
	[F_CLIENT_AUTH] = {"client-auth", 1, 0},
	[F_TCP] = {"tcp", RECORD_MAX_TCP, 0},
	[F_IPV4] = {"ipv4", 1, 0},
	[F_IPV6] = {"ipv6", 1, 1},
	[F_SUBNET] = {"subnet", RECORD_MAX_SUBNETS, 0},
	[F_SERIAL] = {"serial", 1, 1},
	[F_ROLE] = {"role", 1, 0},
	[F_INVITE] = {"invite", 1, 0},
	[F_ADMITTED_SUBNET] = {"admitted-subnet", RECORD_MAX_SUBNETS, 0},
	[F_ADMITTED_BY] = {"admitted-by", 1, 0},
	[F_ADMISSION] = {"admission", 1, 0},
	[F_SIGNATURE] = {"signature", 1, 1},
};

#define why_set(why, ...) err_set((why), WHY_MAX, __VA_ARGS__)

/* Hex */

void
hex_encode(char *out, const uint8_t *in, size_t n)
{
	/* libsodium's encoder runs in constant time: keys pass here. */
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

/*
 * Either case; no branch on the value of a valid digit (libsodium's
 * sodium_hex2bin trick), because the key store decodes secrets here.
 */
int
hex_decode(uint8_t *out, size_t n, const char *in)
{
	size_t i;
	unsigned c, num, num0, alpha, alpha0, v[2];
	int j;

	if (strnlen(in, 2 * n + 1) != 2 * n)
		goto bad;
	for (i = 0; i < n; i++) {
		for (j = 0; j < 2; j++) {
			c = (unsigned char)in[2 * i + j];
			num = c ^ 48U;
			num0 = (num - 10U) >> 8;
			alpha = (c & ~32U) - 55U;
			alpha0 = ((alpha - 10U) ^ (alpha - 16U)) >> 8;
			if (((num0 | alpha0) & 0xff) == 0)
				goto bad;
			v[j] = ((num0 & num) | (alpha0 & alpha)) & 0xf;
		}
		out[i] = (uint8_t)(v[0] << 4 | v[1]);
	}
	return 0;
bad:
	sodium_memzero(out, n);
	return -1;
}

int
hex_decode_lower(uint8_t *out, size_t n, const char *v)
{
	size_t i, len = strlen(v);

	for (i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f')))
			return -1;
	return len == 2 * n ? hex_decode(out, n, v) : -1;
}

/* Records use lower case only, so one record has one spelling. */
static int
hex_lower(uint8_t *out, size_t n, const char *v, char *why)
{
	if (hex_decode_lower(out, n, v) == -1) {
		why_set(why, "not %zu lower-case hex digits", 2 * n);
		return -1;
	}
	return 0;
}

/* Field checkers, shared by parse (text in) and format (struct out) */

static int
check_name(const char *v, char *why)
{
	if (!name_valid(v)) {
		why_set(why, "not a valid name (want 1..%d of a-z, 0-9, '_',"
		    " '-', starting with a letter or digit)", NAME_MAX_LEN);
		return -1;
	}
	return 0;
}

/*
 * A v3 onion address: base32 of pubkey(32) || checksum(2) || version(1)
 * = 56 characters. The last one carries the low 5 bits of the version
 * byte (3), so it is always 'd'; checking the checksum would need
 * SHA3, which tor does when we connect anyway.
 */
static int
check_onion(const char *v, char *why)
{
	size_t i;

	if (strlen(v) != ONION_ADDR_LEN || strcmp(v + 56, ".onion") != 0)
		goto bad;
	for (i = 0; i < 56; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= '2' && v[i] <= '7')))
			goto bad;
	if (v[55] != 'd') {
		why_set(why, "not a version 3 onion address (the last"
		    " character before .onion must be 'd')");
		return -1;
	}
	/* Checksum and key: a typo must not become a peer we dial forever. */
	if (!onion_addr_valid(v)) {
		why_set(why, "not a valid onion address (its checksum or key"
		    " is wrong: copy it again)");
		return -1;
	}
	return 0;
bad:
	why_set(why, "not an onion address (want 56 of a-z, 2-7, then"
	    " \".onion\")");
	return -1;
}

static int
check_tcp(const char *v, char *why)
{
	if (strlen(v) >= CONF_ADDR_LEN || endpoint_parse(v, NULL, 0,
	    NULL) == -1) {
		why_set(why, "not HOST:PORT (want e.g. 192.0.2.1:6550,"
		    " [2001:db8::1]:6550 or host.example:6550)");
		return -1;
	}
	return 0;
}

/* An address as inet_ntop writes it. */
static int
parse_addr(struct prefix *p, int family, const char *v, char *why)
{
	char canon[PREFIX_STRLEN];

	if (addr_parse(p, v) == -1 || p->family != family) {
		why_set(why, "not an IPv%d address", family);
		return -1;
	}
	prefix_fmt(p, canon, sizeof(canon), 0);
	if (strcmp(canon, v) != 0) {
		why_set(why, "not in canonical form (want %s)", canon);
		return -1;
	}
	return 0;
}

int
subnet_parse(struct prefix *p, const char *v, char *why, size_t whylen)
{
	char canon[PREFIX_STRLEN];
	struct prefix m;

	if (strchr(v, '/') == NULL || prefix_parse(p, v) == -1)
		return err_set(why, whylen, "not a prefix (want ADDR/LEN)");
	m = *p;
	prefix_mask(&m);
	prefix_fmt(&m, canon, sizeof(canon), 1);
	if (!prefix_equal(&m, p))
		return err_set(why, whylen, "host bits set (want %s)", canon);
	if (strcmp(canon, v) != 0)
		return err_set(why, whylen, "not in canonical form (want %s)",
		    canon);
	return 0;
}

int
dec_u64(uint64_t *out, const char *v)
{
	uint64_t x = 0;
	const char *s;

	if (v[0] == '\0' || (v[0] == '0' && v[1] != '\0'))
		return -1;
	for (s = v; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*out = x;
	return 0;
}

static int
parse_serial(uint64_t *out, const char *v, char *why)
{
	if (dec_u64(out, v) == 0)
		return 0;
	why_set(why, "not a decimal number 0..%llu without leading zeros",
	    (unsigned long long)UINT64_MAX);
	return -1;
}

/* Parse */

int
subnet_list_add(struct prefix *list, int *n, int max, const char *v,
    char *why, size_t whylen)
{
	struct prefix p;
	int i;

	if (subnet_parse(&p, v, why, whylen) == -1)
		return -1;
	for (i = 0; i < *n; i++)
		if (prefix_equal(&list[i], &p))
			return err_set(why, whylen, "listed twice");
	if (*n >= max)
		return err_set(why, whylen, "more than %d subnets", max);
	list[(*n)++] = p;
	return 0;
}

/* The fields of tor and of the Noise static key: id, onion,
 * client-auth. */
static int
parse_key_value(struct record *r, enum field f, const char *v, char *why)
{
	uint8_t x[crypto_scalarmult_curve25519_BYTES];

	switch (f) {
	case F_ID:
		if (hex_lower(r->id, sizeof(r->id), v, why) == -1)
			return -1;
		/* Its X25519 form is the Noise static key: it must exist. */
		if (crypto_sign_ed25519_pk_to_curve25519(x, r->id) != 0) {
			why_set(why, "not a valid Ed25519 public key");
			return -1;
		}
		return 0;
	case F_ONION:
		if (check_onion(v, why) == -1)
			return -1;
		memcpy(r->onion, v, ONION_ADDR_LEN + 1);
		return 0;
	case F_CLIENT_AUTH:
		if (onion_auth_pk_decode(r->client_auth, v) == -1) {
			why_set(why, "not an onion client authorization key "
			    "(want tor's x25519 public key: 52 of a-z, 2-7)");
			return -1;
		}
		r->has_client_auth = 1;
		return 0;
	default:
		break;
	}
	why_set(why, "internal error");
	return -1;
}

static int
parse_value(struct record *r, enum field f, const char *v, char *why)
{
	int i;

	switch (f) {
	case F_NAME:
		if (check_name(v, why) == -1)
			return -1;
		snprintf(r->name, sizeof(r->name), "%s", v);
		return 0;
	case F_ID:
	case F_ONION:
	case F_CLIENT_AUTH:
		return parse_key_value(r, f, v, why);
	case F_TCP:
		if (check_tcp(v, why) == -1)
			return -1;
		for (i = 0; i < r->ntcp; i++) {
			if (strcmp(r->tcp[i], v) == 0) {
				why_set(why, "listed twice");
				return -1;
			}
		}
		snprintf(r->tcp[r->ntcp++], CONF_ADDR_LEN, "%s", v);
		return 0;
	case F_IPV4:
		return parse_addr(&r->ipv4, 4, v, why);
	case F_IPV6:
		return parse_addr(&r->ipv6, 6, v, why);
	case F_SUBNET:
		return subnet_list_add(r->subnets, &r->nsubnets,
		    RECORD_MAX_SUBNETS, v, why, WHY_MAX);
	case F_ADMITTED_SUBNET:
		return subnet_list_add(r->admitted_subnets,
		    &r->nadmitted_subnets, RECORD_MAX_SUBNETS, v, why,
		    WHY_MAX);
	case F_SERIAL:
		return parse_serial(&r->serial, v, why);
	case F_ROLE:
		/* Only "admin" is written: a member has no line, so the
		 * text keeps one spelling. */
		if (strcmp(v, "admin") != 0) {
			why_set(why, "not a role (want admin; a plain member"
			    " has no role line)");
			return -1;
		}
		r->role = ROLE_ADMIN;
		return 0;
	case F_INVITE:
		/* One spelling again: absent means only the root and
		 * admins admit. */
		if (strcmp(v, "members") != 0) {
			why_set(why, "not who may invite (want members; "
			    "without the line only the root and admins "
			    "may)");
			return -1;
		}
		r->members_invite = 1;
		return 0;
	case F_ADMITTED_BY:
		r->admitted = 1;
		return hex_lower(r->admitted_by, sizeof(r->admitted_by), v,
		    why);
	case F_ADMISSION:
		return hex_lower(r->admission, sizeof(r->admission), v, why);
	case F_SIGNATURE:
		return hex_lower(r->signature, sizeof(r->signature), v, why);
	case F_COUNT:
		break;
	}
	why_set(why, "internal error");
	return -1;
}

/* A parse error: nothing half-filled is left in r. */
#define fail(r, ...) err_wipe((r), sizeof(*(r)), __VA_ARGS__)

int
record_parse(struct record *r, const char *text, size_t len, char *err,
    size_t errlen)
{
	char line[RECORD_MAX_LEN + 1], why[WHY_MAX];
	const char *p = text, *end = text + len;
	char *val;
	int count[F_COUNT] = {0};
	int cur = -1, f, i, lineno = 0, rc;

	memset(r, 0, sizeof(*r));
	if (text_check(text, len, RECORD_MAX_LEN, "record", err,
	    errlen) == -1)
		return -1;
	while ((rc = kv_line(&p, end, line, sizeof(line), &val)) == 1) {
		lineno++;
		if (val == NULL)
			return fail(r, err, errlen, "line %d: '%.80s': not in"
			    " the form 'key = value'", lineno, line);
		for (f = 0; f < F_COUNT; f++)
			if (strcmp(line, fields[f].key) == 0)
				break;
		if (f == F_COUNT)
			return fail(r, err, errlen, "line %d: unknown field"
			    " '%.40s'", lineno, line);
		if (f < cur)
			return fail(r, err, errlen, "line %d: %s after %s"
			    " (fields must come in the order name, id,"
			    " onion, client-auth, tcp, ipv4, ipv6, subnet,"
			    " serial,"
			    " role, invite, admitted-subnet, admitted-by,"
			    " admission, signature)",
			    lineno,
			    fields[f].key, fields[cur].key);
		if (count[f] >= fields[f].max)
			return fail(r, err, errlen, fields[f].max == 1 ?
			    "line %d: %s given twice" :
			    "line %d: too many %s lines", lineno,
			    fields[f].key);
		for (i = cur + 1; i < f; i++)
			if (fields[i].required)
				return fail(r, err, errlen, "line %d: %s"
				    " missing before %s", lineno,
				    fields[i].key, fields[f].key);
		if (f == F_ADMISSION && count[F_ADMITTED_BY] == 0)
			return fail(r, err, errlen, "line %d: admission"
			    " without admitted-by", lineno);
		if (f > F_ADMITTED_SUBNET && f > F_ADMISSION &&
		    count[F_ADMITTED_SUBNET] > 0 &&
		    count[F_ADMITTED_BY] == 0)
			return fail(r, err, errlen, "line %d: admitted-subnet"
			    " without admitted-by", lineno);
		if (f > F_ADMISSION && count[F_ADMITTED_BY] !=
		    count[F_ADMISSION])
			return fail(r, err, errlen, "line %d: admitted-by"
			    " without admission", lineno);
		why[0] = '\0';
		if (parse_value(r, (enum field)f, val, why) == -1)
			return fail(r, err, errlen, "line %d: %s = %.140s:"
			    " %s", lineno, fields[f].key, val, why);
		count[f]++;
		cur = f;
	}
	if (rc == -1)
		return fail(r, err, errlen, "line %d: no newline at the end",
		    lineno + 1);
	for (f = 0; f < F_COUNT; f++)
		if (fields[f].required && count[f] == 0)
			return fail(r, err, errlen, "field %s missing",
			    fields[f].key);
	return 0;
}

/* Format */

int
text_check(const char *text, size_t len, size_t max, const char *what,
    char *err, size_t errlen)
{
	if (len > max)
		return err_set(err, errlen, "%s is %zu bytes (max %zu)", what,
		    len, max);
	if (memchr(text, '\0', len) != NULL)
		return err_set(err, errlen, "%s holds a NUL byte", what);
	return 0;
}

int
text_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl;

	if (*p >= end)
		return 0;
	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
		return -1;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl + 1;
	return 1;
}

int
kv_line(const char **p, const char *end, char *buf, size_t cap,
    char **val)
{
	const char *l;
	char *eq;
	size_t n;
	int rc;

	if ((rc = text_line(p, end, &l, &n)) != 1)
		return rc;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, l, n);
	buf[n] = '\0';
	*val = NULL;
	if ((eq = strstr(buf, " = ")) != NULL && eq != buf) {
		*eq = '\0';
		*val = eq + 3;
	}
	return 1;
}

int
kv_open(struct kv_out *o, char *out, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->p = out;
	o->cap = cap;
	if (cap == 0)
		return -1;
	out[0] = '\0';
	return 0;
}

int
kv_close(struct kv_out *o, size_t max)
{
	if (o->err || o->len > max) {
		o->p[0] = '\0';
		return -1;
	}
	return (int)o->len;
}

void
kv_put(struct kv_out *o, const char *key, const char *val)
{
	int k;

	if (o->err)
		return;
	k = snprintf(o->p + o->len, o->cap - o->len, "%s = %s\n", key, val);
	if (k < 0 || (size_t)k >= o->cap - o->len) {
		o->err = 1;
		return;
	}
	o->len += (size_t)k;
}

static void
out_hex(struct kv_out *o, const char *key, const uint8_t *b, size_t n)
{
	char h[2 * 64 + 1];

	hex_encode(h, b, n);
	kv_put(o, key, h);
}

/* Could parse read these subnet lines back (each once, masked)? */
static int
subnets_valid(const struct prefix *list, int n)
{
	struct prefix m;
	int i, j;

	if (n < 0 || n > RECORD_MAX_SUBNETS)
		return -1;
	for (i = 0; i < n; i++) {
		m = list[i];
		if (m.family != 4 && m.family != 6)
			return -1;
		if (m.len > (m.family == 4 ? 32 : 128))
			return -1;
		prefix_mask(&m);
		if (!prefix_equal(&m, &list[i]))
			return -1;
		for (j = 0; j < i; j++)
			if (prefix_equal(&list[j], &list[i]))
				return -1;
	}
	return 0;
}

/* Could parse read this struct back from its text? */
static int
record_valid(const struct record *r)
{
	char why[WHY_MAX];
	int i;

	if (check_name(r->name, why) == -1)
		return -1;
	if (memchr(r->onion, '\0', sizeof(r->onion)) == NULL ||
	    (r->onion[0] != '\0' && check_onion(r->onion, why) == -1))
		return -1;
	if (r->has_client_auth != 0 && r->has_client_auth != 1)
		return -1;
	if (r->ntcp < 0 || r->ntcp > RECORD_MAX_TCP)
		return -1;
	for (i = 0; i < r->ntcp; i++)
		if (memchr(r->tcp[i], '\0', CONF_ADDR_LEN) == NULL ||
		    check_tcp(r->tcp[i], why) == -1)
			return -1;
	if (r->ipv4.family != 0 && (r->ipv4.family != 4 || r->ipv4.len != 32))
		return -1;
	if (r->ipv6.family != 6 || r->ipv6.len != 128)
		return -1;
	if (r->role != ROLE_MEMBER && r->role != ROLE_ADMIN)
		return -1;
	if (r->members_invite != 0 && r->members_invite != 1)
		return -1;
	if (subnets_valid(r->subnets, r->nsubnets) == -1 ||
	    subnets_valid(r->admitted_subnets, r->nadmitted_subnets) == -1)
		return -1;
	/* Admitted subnets go with an admission, which signs them. */
	if (r->nadmitted_subnets > 0 && !r->admitted)
		return -1;
	return 0;
}

int
record_format(const struct record *r, char *out, size_t cap, int with_sig)
{
	struct kv_out o;
	char s[PREFIX_STRLEN], num[24], ca[ONION_AUTH_B32_LEN + 1];
	int i;

	if (kv_open(&o, out, cap) == -1 || record_valid(r) == -1)
		return -1;
	kv_put(&o, "name", r->name);
	out_hex(&o, "id", r->id, sizeof(r->id));
	if (r->onion[0] != '\0')
		kv_put(&o, "onion", r->onion);
	if (r->has_client_auth) {
		onion_auth_pk_encode(ca, r->client_auth);
		kv_put(&o, "client-auth", ca);
	}
	for (i = 0; i < r->ntcp; i++)
		kv_put(&o, "tcp", r->tcp[i]);
	if (r->ipv4.family == 4) {
		prefix_fmt(&r->ipv4, s, sizeof(s), 0);
		kv_put(&o, "ipv4", s);
	}
	prefix_fmt(&r->ipv6, s, sizeof(s), 0);
	kv_put(&o, "ipv6", s);
	for (i = 0; i < r->nsubnets; i++) {
		prefix_fmt(&r->subnets[i], s, sizeof(s), 1);
		kv_put(&o, "subnet", s);
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->serial);
	kv_put(&o, "serial", num);
	if (r->role == ROLE_ADMIN)
		kv_put(&o, "role", "admin");
	if (r->members_invite)
		kv_put(&o, "invite", "members");
	for (i = 0; i < r->nadmitted_subnets; i++) {
		prefix_fmt(&r->admitted_subnets[i], s, sizeof(s), 1);
		kv_put(&o, "admitted-subnet", s);
	}
	if (r->admitted) {
		out_hex(&o, "admitted-by", r->admitted_by,
		    sizeof(r->admitted_by));
		out_hex(&o, "admission", r->admission, sizeof(r->admission));
	}
	if (with_sig)
		out_hex(&o, "signature", r->signature, sizeof(r->signature));
	return kv_close(&o, RECORD_MAX_LEN);
}

/* Sign and verify */

#define SIGNED_MAX (sizeof(RECORD_SIG_CONTEXT) - 1 + NETID_BYTES + \
	RECORD_MAX_LEN + 1)

int
signed_head(uint8_t *buf, size_t cap, const char *context,
    const uint8_t netid[NETID_BYTES])
{
	size_t ctx = strlen(context);

	if (cap < ctx + NETID_BYTES + 1)
		return -1;
	memcpy(buf, context, ctx);
	memcpy(buf + ctx, netid, NETID_BYTES);
	return (int)(ctx + NETID_BYTES);
}

int
signed_sign(uint8_t sig[64], const uint8_t *buf, int n,
    const uint8_t sk[64], const uint8_t id[32])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	if (n < 0 || sodium_init() < 0 ||
	    crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
	    sodium_memcmp(pk, id, sizeof(pk)) != 0 ||
	    crypto_sign_detached(sig, NULL, buf, (size_t)n, sk) != 0)
		return -1;
	return 0;
}

int
signed_verify(const uint8_t sig[64], const uint8_t *buf, int n,
    const uint8_t pk[32])
{
	if (n < 0 ||
	    crypto_sign_verify_detached(sig, buf, (size_t)n, pk) != 0)
		return -1;
	return 0;
}

/* "onionmesh record v1\n" || netid || text without the signature. */
static int
signed_bytes(const struct record *r, const uint8_t netid[NETID_BYTES],
    uint8_t *buf, size_t *len)
{
	int k, n;

	if ((k = signed_head(buf, SIGNED_MAX, RECORD_SIG_CONTEXT,
	    netid)) < 0)
		return -1;
	n = record_format(r, (char *)buf + k, SIGNED_MAX - (size_t)k, 0);
	if (n < 0)
		return -1;
	*len = (size_t)k + (size_t)n;
	return 0;
}

int
record_sign(struct record *r, const uint8_t sk[64],
    const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[SIGNED_MAX];
	size_t len;

	if (signed_bytes(r, netid, buf, &len) == -1)
		return -1;
	return signed_sign(r->signature, buf, (int)len, sk, r->id);
}

int
record_verify(const struct record *r, const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[SIGNED_MAX];
	size_t len;

	if (sodium_init() < 0 || signed_bytes(r, netid, buf, &len) == -1)
		return -1;
	return signed_verify(r->signature, buf, (int)len, r->id);
}

int
record_owns_addr(const struct record *r, int family, const uint8_t *a)
{
	int i;

	if (family != 4 && family != 6)
		return 0;
	if (prefix_contains(&r->ipv4, family, a) ||
	    prefix_contains(&r->ipv6, family, a))
		return 1;
	for (i = 0; i < r->nsubnets && i < RECORD_MAX_SUBNETS; i++)
		if (prefix_contains(&r->subnets[i], family, a))
			return 1;
	return 0;
}

/* Derivations */

void
netid_derive(uint8_t out[NETID_BYTES], const char *net,
    const uint8_t root[MEMBER_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, NETID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)NETID_CONTEXT,
	    sizeof(NETID_CONTEXT) - 1);
	crypto_generichash_update(&st, (const uint8_t *)net, strlen(net));
	crypto_generichash_update(&st, root, MEMBER_ID_BYTES);
	crypto_generichash_final(&st, out, NETID_BYTES);
}

/* 64 bits of BLAKE2b(id): the IPv6 interface id and the IPv4 host. */
static void
id_hash64(uint8_t out[8], const uint8_t id[MEMBER_ID_BYTES])
{
	crypto_generichash(out, 8, id, MEMBER_ID_BYTES, NULL, 0);
}

void
ipv6_member_addr(struct prefix *out, const uint8_t netid[NETID_BYTES],
    const uint8_t id[MEMBER_ID_BYTES])
{
	memset(out, 0, sizeof(*out));
	out->family = 6;
	out->len = 128;
	out->addr[0] = 0xfd;                 /* ULA, locally assigned */
	memcpy(out->addr + 1, netid, 5);     /* global id: 40 bits */
	/* addr[6..7]: subnet id 0 */
	id_hash64(out->addr + 8, id);        /* interface id */
}

void
ipv4_member_addr(struct prefix *out, const struct prefix *range,
    const uint8_t id[MEMBER_ID_BYTES])
{
	uint8_t h[8];
	uint64_t hash, span, host;
	uint32_t base, hostbits;

	memset(out, 0, sizeof(*out));
	if (range == NULL || range->family != 4 || range->len > 32)
		return;
	hostbits = 32u - range->len;
	base = be32_get(range->addr);
	if (hostbits == 32)
		base = 0;
	else
		base &= ~(uint32_t)((1ULL << hostbits) - 1);
	id_hash64(h, id);
	hash = be64_get(h);
	if (hostbits == 0)
		host = 0;
	else if (hostbits == 1)
		host = hash & 1;              /* RFC 3021: both usable */
	else {
		/* Skip the network (all 0) and broadcast (all 1) hosts. */
		span = (1ULL << hostbits) - 2;
		host = 1 + hash % span;
	}
	out->family = 4;
	out->len = 32;
	be32_put(out->addr, base | (uint32_t)host);
}
