/*
 * The config file: tinc's "key = value" lines, read into struct conf.
 *
 * One table lists every key with its setter, so the parser, the
 * "unknown key (known: ...)" message and the duplicate check all come
 * from the same place. A setter validates its value completely and, when
 * it refuses, says what would be right; the caller adds file, line, key
 * and value, so every message reads like
 *
 *   onionmesh.conf:7: mtu = 70000: out of range (want 1280..65535)
 *
 * Nothing is guessed: an unknown key, a single key given twice or a
 * value with trailing junk is an error, never a warning, because a VPN
 * that silently ignores "anonymous = yess" is worse than one that does
 * not start.
 *
 * conf_format writes the canonical text (what init writes); parsing it
 * again gives the same struct, which the unit test checks.
 */
#include "proto/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "proto/errbuf.h"
#include "proto/file.h"
#include "proto/log.h"
#include "proto/record.h"
#include "proto/trust.h"

#define CONF_LINE_MAX  1024
#define CONF_FILE_MAX  (1024 * 1024)
#define SUN_PATH_MAX   108 /* sizeof(sockaddr_un.sun_path) */
#define WHY_MAX        256

/* Copy a checked string into a fixed field, clearing the rest so two
 * structs with the same settings compare equal byte for byte. */
static void
set_field(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	memset(dst, 0, cap);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
}

/* Every message names the value and what would be right. */
#define why_set(why, ...) err_set((why), WHY_MAX, __VA_ARGS__)

int
name_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= NAME_MAX_LEN)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '-'))
			continue;
		return 0;
	}
	return i > 0;
}

/* Every byte is one of POSIX's portable file name characters. */
static int
portable_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			return 0;
	return 1;
}

int
netns_name_valid(const char *s)
{
	size_t n = strlen(s);

	/* A file name under /run/netns. */
	return n > 0 && n < sizeof(((struct conf *)0)->netns) &&
	    portable_chars(s) && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int
group_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < sizeof(((struct conf *)0)->tor_group) &&
	    portable_chars(s) && s[0] != '-' && strcmp(s, "root") != 0;
}

/* Paths */

static int
join(char *out, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, PATH_MAX, "%s%s%s", a, b, c);

	return (n < 0 || n >= PATH_MAX) ? -1 : 0;
}

int
conf_paths(struct conf_paths *p, const char *net, const char *dir,
    char *err, size_t errlen)
{
	char base[PATH_MAX];
	size_t n;
	int bad = 0;

	memset(p, 0, sizeof(*p));
	if (net == NULL)
		net = DEFAULT_NET;
	if (!name_valid(net)) {
		snprintf(err, errlen,
		    "network name '%s' is not valid (want 1..%d of a-z, 0-9,"
		    " '_', '-', starting with a letter or digit)",
		    net, NAME_MAX_LEN);
		return -1;
	}
	set_field(p->net, sizeof(p->net), net);
	if (dir == NULL) {
		bad |= join(p->conf_dir, "/etc/onionmesh/", net, "");
		bad |= join(p->conf_file, p->conf_dir, "/", CONF_FILE);
		bad |= join(p->keys_dir, "/var/lib/onionmesh/", net,
		    "/keys");
		bad |= join(p->hosts_dir, "/var/lib/onionmesh/", net,
		    "/hosts");
		bad |= join(p->run_dir, "/run/onionmesh/", net, "");
		bad |= join(p->revoked_dir, "/var/lib/onionmesh/", net,
		    "/revoked");
		bad |= join(p->grants_dir, "/var/lib/onionmesh/", net,
		    "/grants");
		return bad ? -1 : 0;
	}
	n = strlen(dir);
	if (n == 0) {
		snprintf(err, errlen, "-d '': the directory is empty");
		return -1;
	}
	if (n >= sizeof(base)) {
		snprintf(err, errlen, "-d %.64s...: path too long (max %d)",
		    dir, PATH_MAX - 1);
		return -1;
	}
	memcpy(base, dir, n + 1);
	/* "dir/" and "dir" are the same place; keep "/" itself. */
	while (n > 1 && base[n - 1] == '/')
		base[--n] = '\0';
	bad |= join(p->conf_dir, base, "", "");
	bad |= join(p->conf_file, base, "/", CONF_FILE);
	bad |= join(p->keys_dir, base, "/", "keys");
	bad |= join(p->hosts_dir, base, "/", "hosts");
	bad |= join(p->run_dir, base, "/", "run");
	/* STATE: the parent of keys/ and hosts/. */
	bad |= join(p->revoked_dir, base, "/", "revoked");
	bad |= join(p->grants_dir, base, "/", "grants");
	if (bad) {
		snprintf(err, errlen, "-d %.64s...: path too long (max %d)",
		    dir, PATH_MAX - 1);
		return -1;
	}
	return 0;
}

void
conf_defaults(struct conf *c)
{
	struct conf_paths saved = c->paths;
	const char *net = saved.net[0] ? saved.net : DEFAULT_NET;
	char ifname[sizeof(c->ifname)];
	size_t n;

	memset(c, 0, sizeof(*c));
	c->paths = saved;
	/* "om-" + net, cut to what the kernel takes (IFNAMSIZ - 1). */
	memcpy(ifname, "om-", 3);
	n = strnlen(net, sizeof(ifname) - 4);
	memcpy(ifname + 3, net, n);
	ifname[3 + n] = '\0';
	set_field(c->ifname, sizeof(c->ifname), ifname);
	c->mtu = DEFAULT_MTU;
	c->circuits = 4;
	c->max_admitted = CONF_MAX_ADMITTED_DEFAULT;
	c->sandbox = 1;
	c->privsep = -1;
	c->client_auth = -1;
	c->loglevel = LOG_LVL_INFO;
}

/* Value checkers shared by the setters */

static int
parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out, char *why)
{
	uint64_t x = 0;
	const char *s;

	if (*v == '\0')
		return why_set(why, "not a number (want %u..%u)", lo, hi);
	for (s = v; *s; s++) {
		if (*s < '0' || *s > '9')
			return why_set(why, "not a number (want %u..%u)", lo,
			    hi);
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > UINT32_MAX)
			break;
	}
	if (x < lo || x > hi)
		return why_set(why, "out of range (want %u..%u)", lo, hi);
	*out = (uint32_t)x;
	return 0;
}

static int
parse_bool(const char *v, int *out, char *why)
{
	if (strcasecmp(v, "yes") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0)
		*out = 0;
	else {
		return why_set(why, "want yes or no");
	}
	return 0;
}

/* Linux's dev_valid_name: 1..15 bytes, no '/', ':' or white space, not
 * "." or "..". We also keep to printable ASCII. */
static int
ifname_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/' ||
		    s[i] == ':')
			return 0;
	return 1;
}

/* unix:/absolute/path that fits a socket address. */
static int
unix_addr_valid(const char *v)
{
	const char *path = v + 5;
	size_t i, n;

	if (strncmp(v, "unix:", 5) != 0 || path[0] != '/')
		return 0;
	n = strlen(path);
	if (n >= SUN_PATH_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)path[i]))
			return 0;
	return 1;
}

static int
endpoint_valid(const char *v)
{
	return strlen(v) < CONF_ADDR_LEN &&
	    endpoint_parse(v, NULL, 0, NULL) == 0;
}

#define WANT_ENDPOINT "HOST:PORT, e.g. 192.0.2.1:6550, [2001:db8::1]:6550" \
	" or host.example:6550"
#define WANT_TOR      WANT_ENDPOINT " or unix:/ABSOLUTE/PATH"

/* Address with range: "A.B.C.D/LEN", a host inside its range. */
static int
parse_member_prefix(const char *v, int family, struct prefix *out,
    char *why)
{
	const char *want = family == 4 ?
	    "want A.B.C.D/LEN, e.g. 10.77.0.1/16" :
	    "want ADDR/LEN, e.g. fd00:1:2::1/48";
	struct prefix p, net;
	int bits = family == 4 ? 32 : 128;

	if (prefix_parse(&p, v) == -1 || p.family != family)
		return why_set(why, "not an IPv%d address with length (%s)",
		    family, want);
	if (strchr(v, '/') == NULL)
		return why_set(why, "no /LEN: the length gives the network's "
		    "range (%s)", want);
	if (p.len == 0)
		return why_set(why, "length 0 covers every address (%s)",
		    want);
	if (p.len < bits - 1) {
		net = p;
		prefix_mask(&net);
		if (memcmp(net.addr, p.addr, sizeof(p.addr)) == 0) {
			why_set(why, "is the network address of its range;"
			    " want a host address in it (%s)", want);
			return -1;
		}
	}
	*out = p;
	return 0;
}

/* Setters: one per key. Each returns 0, or -1 with *why filled. */

typedef int (*conf_set_fn)(struct conf *, const char *, char *);

static int
set_name(struct conf *c, const char *v, char *why)
{
	if (!name_valid(v))
		return why_set(why, "not a valid name (want 1..%d of a-z, "
		    "0-9, '_', '-', starting with a letter or digit)",
		    NAME_MAX_LEN);
	set_field(c->name, sizeof(c->name), v);
	return 0;
}

static int
set_interface(struct conf *c, const char *v, char *why)
{
	if (!ifname_valid(v))
		return why_set(why, "not a valid interface name (want 1..15"
		    " printable characters without '/', ':' or spaces)");
	set_field(c->ifname, sizeof(c->ifname), v);
	return 0;
}

static int
set_ipv4(struct conf *c, const char *v, char *why)
{
	return parse_member_prefix(v, 4, &c->ipv4, why);
}

static int
set_ipv6(struct conf *c, const char *v, char *why)
{
	return parse_member_prefix(v, 6, &c->ipv6, why);
}

static int
set_mtu(struct conf *c, const char *v, char *why)
{
	return parse_u32(v, 1280, 65535, &c->mtu, why);
}

static int
set_listen(struct conf *c, const char *v, char *why)
{
	if (!endpoint_valid(v) && !unix_addr_valid(v))
		return why_set(why, "not an address to listen on (want %s)",
		    WANT_TOR);
	set_field(c->listen, sizeof(c->listen), v);
	return 0;
}

static int
set_tcp(struct conf *c, const char *v, char *why)
{
	if (!endpoint_valid(v))
		return why_set(why, "not an address peers can reach (want %s)",
		    WANT_ENDPOINT);
	set_field(c->tcp, sizeof(c->tcp), v);
	return 0;
}

static int
add_name(char list[][NAME_MAX_LEN + 1], int *n, const char *key,
    const char *v, char *why)
{
	int i;

	if (!name_valid(v))
		return why_set(why, "not a valid member name (want 1..%d of "
		    "a-z, 0-9, '_', '-', starting with a letter or digit)",
		    NAME_MAX_LEN);
	for (i = 0; i < *n; i++) {
		if (strcmp(list[i], v) == 0)
			return why_set(why, "listed twice");
	}
	if (*n >= CONF_MAX_PEERS)
		return why_set(why, "too many %s lines (max %d)", key,
		    CONF_MAX_PEERS);
	set_field(list[*n], NAME_MAX_LEN + 1, v);
	(*n)++;
	return 0;
}

static int
set_connect(struct conf *c, const char *v, char *why)
{
	return add_name(c->connect, &c->nconnect, "connect", v, why);
}

static int
set_noconnect(struct conf *c, const char *v, char *why)
{
	return add_name(c->noconnect, &c->nnoconnect, "noconnect", v, why);
}

/* Append v to list (of *n, at most max: "too many <what>") as a prefix
 * with its host bits clear, not listed before. named: the message
 * starts with v (one of several values on its line). */
static int
add_prefix(struct prefix *list, int *n, int max, const char *what,
    const char *v, int named, char *why)
{
	struct prefix p, m;
	char want[PREFIX_STRLEN];
	const char *who = named ? v : "", *sep = named ? ": " : "";
	int i;

	if (prefix_parse(&p, v) == -1 || strchr(v, '/') == NULL)
		return why_set(why, "%s%snot a prefix (want ADDR/LEN, e.g. "
		    "192.168.5.0/24 or fd00:5::/64)", who, sep);
	m = p;
	prefix_mask(&m);
	if (!prefix_equal(&m, &p)) {
		prefix_fmt(&m, want, sizeof(want), 1);
		return why_set(why, "%s%shost bits set (did you mean %s?)",
		    who, sep, want);
	}
	for (i = 0; i < *n; i++)
		if (prefix_equal(&list[i], &p))
			return why_set(why, "%s%slisted twice", who, sep);
	if (*n >= max)
		return why_set(why, "too many %s (max %d)", what, max);
	list[(*n)++] = p;
	return 0;
}

static int
set_subnet(struct conf *c, const char *v, char *why)
{
	return add_prefix(c->subnets, &c->nsubnets, CONF_MAX_SUBNETS,
	    "subnet lines", v, 0, why);
}

static int
set_admitted_subnet(struct conf *c, const char *v, char *why)
{
	return add_prefix(c->admitted_subnets, &c->nadmitted_subnets,
	    CONF_MAX_SUBNETS, "admitted_subnet lines", v, 0, why);
}

/* accept_subnets = PREFIX [PREFIX...]: blank-separated, and the line
 * may be repeated; all of it is one list. */
static int
set_accept_subnets(struct conf *c, const char *v, char *why)
{
	char tok[PREFIX_STRLEN + 8];
	size_t n;
	int any = 0;

	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			break;
		n = strcspn(v, " \t");
		if (n >= sizeof(tok))
			return why_set(why, "%.*s: not a prefix (want "
			    "ADDR/LEN ...)", (int)n, v);
		memcpy(tok, v, n);
		tok[n] = '\0';
		if (add_prefix(c->accept_subnets, &c->naccept_subnets,
		    CONF_MAX_ACCEPT, "accept_subnets prefixes", tok, 1,
		    why) == -1)
			return -1;
		any = 1;
		v += n;
	}
	if (!any)
		return why_set(why, "no prefix (want ADDR/LEN ..., e.g. "
		    "192.168.50.0/24 fd50::/64)");
	return 0;
}

static int
set_gateway(struct conf *c, const char *v, char *why)
{
	if (!name_valid(v))
		return why_set(why, "not a valid member name (want the name "
		    "of the member that announces 0.0.0.0/0 or ::/0: 1..%d of "
		    "a-z, 0-9, '_', '-', starting with a letter or digit)",
		    NAME_MAX_LEN);
	set_field(c->gateway, sizeof(c->gateway), v);
	return 0;
}

static int
set_netns(struct conf *c, const char *v, char *why)
{
	if (!netns_name_valid(v))
		return why_set(why, "not a network namespace name (want "
		    "1..%zu of A-Z, a-z, 0-9, '_', '-', '.')",
		    sizeof(c->netns) - 1);
	set_field(c->netns, sizeof(c->netns), v);
	return 0;
}

static int
set_privsep(struct conf *c, const char *v, char *why)
{
	if (strcasecmp(v, "auto") == 0) {
		c->privsep = -1;
		return 0;
	}
	if (parse_bool(v, &c->privsep, why) == -1)
		return why_set(why, "want yes, no or auto");
	return 0;
}

static int
set_sandbox(struct conf *c, const char *v, char *why)
{
	return parse_bool(v, &c->sandbox, why);
}

static int
set_anonymous(struct conf *c, const char *v, char *why)
{
	return parse_bool(v, &c->anonymous, why);
}

static int
set_client_auth(struct conf *c, const char *v, char *why)
{
	return parse_bool(v, &c->client_auth, why);
}

int
conf_client_auth(const struct conf *c)
{
	return c->client_auth < 0 ? c->anonymous : c->client_auth;
}

static int
set_tor_addr(char *dst, const char *v, char *why)
{
	if (!endpoint_valid(v) && !unix_addr_valid(v))
		return why_set(why, "not an address of tor (want %s)",
		    WANT_TOR);
	set_field(dst, CONF_ADDR_LEN, v);
	return 0;
}

/* A TCP control port must be on this host: keyd sends tor its cookie
 * proof and the onion service key over it, in the clear. */
static int
set_tor_control(struct conf *c, const char *v, char *why)
{
	char host[CONF_ADDR_LEN];
	struct in_addr a4;
	struct in6_addr a6;

	if (set_tor_addr(c->tor_control, v, why) == -1)
		return -1;
	if (strncmp(v, "unix:", 5) == 0)
		return 0;
	if (endpoint_parse(v, host, sizeof(host), NULL) == 0 &&
	    (strcmp(host, "localhost") == 0 ||
	    (inet_pton(AF_INET, host, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127) ||
	    (inet_pton(AF_INET6, host, &a6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&a6))))
		return 0;
	c->tor_control[0] = '\0';
	why_set(why, "not on this host: keyd sends the onion service key "
	    "over the control connection, so a TCP control port must be "
	    "loopback (127.0.0.1:9051, [::1]:9051 or localhost:9051); "
	    "better, tor's unix:/run/tor/control");
	return -1;
}

static const char *const tor_auths[] = {
	[CONF_TOR_AUTH_SAFECOOKIE] = "safecookie",
	[CONF_TOR_AUTH_COOKIE] = "cookie",
	[CONF_TOR_AUTH_NONE] = "none",
};

const char *
conf_tor_auth_name(int auth)
{
	if (auth < 0 || auth >= (int)(sizeof(tor_auths) /
	    sizeof(tor_auths[0])))
		return "?";
	return tor_auths[auth];
}

static int
set_tor_auth(struct conf *c, const char *v, char *why)
{
	int i;

	for (i = 0; i < (int)(sizeof(tor_auths) / sizeof(tor_auths[0])); i++)
		if (strcasecmp(v, tor_auths[i]) == 0) {
			c->tor_auth = i;
			return 0;
		}
	return why_set(why, "want safecookie (the default), cookie or none");
}

static int
set_tor_cookie(struct conf *c, const char *v, char *why)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)v[i]))
			break;
	if (v[0] != '/' || i < n || n >= sizeof(c->tor_cookie))
		return why_set(why, "not an absolute path of tor's cookie "
		    "file (want e.g. %s, tor's CookieAuthFile)",
		    TOR_COOKIE_DEFAULT);
	set_field(c->tor_cookie, sizeof(c->tor_cookie), v);
	return 0;
}

static int
set_tor_group(struct conf *c, const char *v, char *why)
{
	if (!group_name_valid(v))
		return why_set(why, "not a group keyd may get (want the group "
		    "of tor's cookie file, e.g. debian-tor: 1..%zu of A-Z, "
		    "a-z, 0-9, '_', '-', '.', not root)",
		    sizeof(c->tor_group) - 1);
	set_field(c->tor_group, sizeof(c->tor_group), v);
	return 0;
}

int
conf_tor_cookie(const struct conf *c, char *out, size_t cap)
{
	const char *slash;
	int n;

	if (c->tor_cookie[0] != '\0')
		n = snprintf(out, cap, "%s", c->tor_cookie);
	else if (strncmp(c->tor_control, "unix:", 5) == 0 &&
	    (slash = strrchr(c->tor_control + 5, '/')) != NULL)
		n = snprintf(out, cap, "%.*s/%s",
		    (int)(slash - (c->tor_control + 5)), c->tor_control + 5,
		    TOR_COOKIE_NAME);
	else
		n = snprintf(out, cap, "%s", TOR_COOKIE_DEFAULT);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int
set_tor_socks(struct conf *c, const char *v, char *why)
{
	return set_tor_addr(c->tor_socks, v, why);
}

static int
set_circuits(struct conf *c, const char *v, char *why)
{
	return parse_u32(v, 1, CONF_CIRCUITS_MAX, &c->circuits, why);
}

static int
set_multipath(struct conf *c, const char *v, char *why)
{
	if (strcasecmp(v, "stripe") == 0)
		c->multipath = CONF_MP_STRIPE;
	else if (strcasecmp(v, "flow") == 0)
		c->multipath = CONF_MP_FLOW;
	else
		return why_set(why, "want stripe (the default) or flow");
	return 0;
}

static int
set_max_links(struct conf *c, const char *v, char *why)
{
	return parse_u32(v, 0, 65535, &c->max_links, why);
}

static int
set_members_invite(struct conf *c, const char *v, char *why)
{
	return parse_bool(v, &c->members_invite, why);
}

static int
set_max_admitted(struct conf *c, const char *v, char *why)
{
	return parse_u32(v, 1, 1000000, &c->max_admitted, why);
}

static const char *const loglevels[] = {
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static int
set_loglevel(struct conf *c, const char *v, char *why)
{
	int i;

	for (i = 0; i < (int)(sizeof(loglevels) / sizeof(loglevels[0])); i++) {
		if (strcasecmp(v, loglevels[i]) == 0) {
			c->loglevel = i;
			return 0;
		}
	}
	return why_set(why, "want warn, info or debug");
}

/* 2n hex digits, either case (the file is written by hand too). */
static int
parse_hex(uint8_t *out, size_t n, const char *v, const char *what,
    char *why)
{
	if (hex_decode(out, n, v) == -1)
		return why_set(why, "not %s (want %zu hex digits)", what,
		    2 * n);
	return 0;
}

static int
set_root(struct conf *c, const char *v, char *why)
{
	if (parse_hex(c->root, sizeof(c->root), v, "a member id (the"
	    " network founder's, as 'onionmesh status' shows it)", why) == -1)
		return -1;
	c->have_root = 1;
	return 0;
}

static int
set_role(struct conf *c, const char *v, char *why)
{
	if (strcmp(v, "member") == 0)
		c->role = ROLE_MEMBER;
	else if (strcmp(v, "admin") == 0)
		c->role = ROLE_ADMIN;
	else {
		return why_set(why, "want member or admin");
	}
	return 0;
}

static int
set_admitted_by(struct conf *c, const char *v, char *why)
{
	return parse_hex(c->admitted_by, sizeof(c->admitted_by), v,
	    "a member id", why);
}

static int
set_admission(struct conf *c, const char *v, char *why)
{
	if (parse_hex(c->admission, sizeof(c->admission), v,
	    "an admission signature", why) == -1)
		return -1;
	c->admitted = 1;
	return 0;
}

static const struct conf_key {
	const char *key;
	conf_set_fn set;
	int repeat;
} conf_keys[] = {
	{"name", set_name, 0},
	{"interface", set_interface, 0},
	{"ipv4", set_ipv4, 0},
	{"ipv6", set_ipv6, 0},
	{"mtu", set_mtu, 0},
	{"listen", set_listen, 0},
	{"tcp", set_tcp, 0},
	{"connect", set_connect, 1},
	{"noconnect", set_noconnect, 1},
	{"max_links", set_max_links, 0},
	{"max_admitted", set_max_admitted, 0},
	{"members_invite", set_members_invite, 0},
	{"subnet", set_subnet, 1},
	{"accept_subnets", set_accept_subnets, 1},
	{"gateway", set_gateway, 0},
	{"netns", set_netns, 0},
	{"privsep", set_privsep, 0},
	{"sandbox", set_sandbox, 0},
	{"anonymous", set_anonymous, 0},
	{"client_auth", set_client_auth, 0},
	{"tor_control", set_tor_control, 0},
	{"tor_socks", set_tor_socks, 0},
	{"tor_auth", set_tor_auth, 0},
	{"tor_cookie", set_tor_cookie, 0},
	{"tor_group", set_tor_group, 0},
	{"circuits", set_circuits, 0},
	{"multipath", set_multipath, 0},
	{"loglevel", set_loglevel, 0},
	{"root", set_root, 0},
	{"role", set_role, 0},
	{"admitted_by", set_admitted_by, 0},
	{"admission", set_admission, 0},
	{"admitted_subnet", set_admitted_subnet, 1},
};
#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static void
known_keys(char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < NKEYS && n < cap; i++) {
		int k = snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
		    conf_keys[i].key);

		if (k < 0)
			break;
		n += (size_t)k;
	}
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trim blanks at both ends of s[0..n), in place; returns the start. */
static char *
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	while (is_blank(*s))
		s++;
	return s;
}

int
conf_parse(struct conf *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	int first[NKEYS] = {0};
	char line[CONF_LINE_MAX], why[WHY_MAX], known[512];
	const char *p = text, *end = text + len, *nl;
	char *key, *val, *eq, *hash;
	size_t i, n;
	int lineno = 0;

	if (name == NULL)
		name = CONF_FILE;
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl ? nl : end) - p;
		if (memchr(p, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", name,
			    lineno);
			return -1;
		}
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%d: line too long (max %zu"
			    " bytes)", name, lineno, sizeof(line) - 1);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;

		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: '%s': not a 'key ="
			    " value' line", name, lineno, key);
			return -1;
		}
		*eq = '\0';
		val = trim(eq + 1);
		key = trim(key);
		for (i = 0; i < NKEYS; i++)
			if (strcasecmp(key, conf_keys[i].key) == 0)
				break;
		if (i == NKEYS) {
			known_keys(known, sizeof(known));
			snprintf(err, errlen, "%s:%d: unknown key '%s' (known:"
			    " %s)", name, lineno, key, known);
			return -1;
		}
		if (first[i] && !conf_keys[i].repeat) {
			snprintf(err, errlen, "%s:%d: %s = %s: %s given twice"
			    " (first on line %d)", name, lineno,
			    conf_keys[i].key, val, conf_keys[i].key,
			    first[i]);
			return -1;
		}
		if (*val == '\0') {
			snprintf(err, errlen, "%s:%d: %s = : empty value",
			    name, lineno, conf_keys[i].key);
			return -1;
		}
		why[0] = '\0';
		if (conf_keys[i].set(c, val, why) == -1) {
			snprintf(err, errlen, "%s:%d: %s = %s: %s", name,
			    lineno, conf_keys[i].key, val, why);
			return -1;
		}
		if (!first[i])
			first[i] = lineno;
	}
	return 0;
}

/* Is this listen/tcp value something that would expose the host's IP
 * address? Only a Unix socket (what tor's onion service maps to) is
 * safe for anonymous mode. */
static int
reveals_address(const char *v)
{
	return v[0] != '\0' && strncmp(v, "unix:", 5) != 0;
}

int
conf_check(const struct conf *c, char *err, size_t errlen)
{
	int i, j;

	if (c->name[0] == '\0') {
		snprintf(err, errlen, "%s: no 'name = NAME' line (every"
		    " member needs its name)", c->paths.conf_file);
		return -1;
	}
	if (!c->have_root) {
		snprintf(err, errlen, "%s: no 'root = <64 hex>' line (the id"
		    " of the network's founder: 'onionmesh init' writes it, or"
		    " give it with 'init NAME --root ID')",
		    c->paths.conf_file);
		return -1;
	}
	if (sodium_is_zero(c->admitted_by, sizeof(c->admitted_by)) ==
	    c->admitted) {
		snprintf(err, errlen, "%s: %s without %s (both or neither)",
		    c->paths.conf_file, c->admitted ? "admission" :
		    "admitted_by", c->admitted ? "admitted_by" : "admission");
		return -1;
	}
	if (c->nadmitted_subnets > 0 && !c->admitted) {
		snprintf(err, errlen, "%s: admitted_subnet without an "
		    "admission (they are what an admission grants: join "
		    "writes them with admitted_by and admission)",
		    c->paths.conf_file);
		return -1;
	}
	if (c->anonymous && c->tcp[0] != '\0') {
		snprintf(err, errlen, "%s: anonymous = yes, but tcp = %s would"
		    " publish this host's address in its record; remove the"
		    " tcp line or set anonymous = no", c->paths.conf_file,
		    c->tcp);
		return -1;
	}
	if (c->anonymous && reveals_address(c->listen)) {
		snprintf(err, errlen, "%s: anonymous = yes, but listen = %s"
		    " would accept peers on this host's address; remove the"
		    " listen line (or use unix:PATH) or set anonymous = no",
		    c->paths.conf_file, c->listen);
		return -1;
	}
	if (c->gateway[0] != '\0' && strcmp(c->gateway, c->name) == 0) {
		snprintf(err, errlen, "%s: gateway = %s names this member "
		    "itself; name the member whose record announces "
		    "0.0.0.0/0 or ::/0, or remove the line (a gateway "
		    "announces subnet = 0.0.0.0/0 instead)",
		    c->paths.conf_file, c->gateway);
		return -1;
	}
	for (i = 0; i < c->nconnect; i++) {
		for (j = 0; j < c->nnoconnect; j++) {
			if (strcmp(c->connect[i], c->noconnect[j]) != 0)
				continue;
			snprintf(err, errlen, "%s: connect = %s and noconnect"
			    " = %s contradict each other", c->paths.conf_file,
			    c->connect[i], c->noconnect[j]);
			return -1;
		}
	}
	return 0;
}

int
conf_load(struct conf *c, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	conf_defaults(c);
	text = file_read(c->paths.conf_file, CONF_FILE_MAX, &len);
	if (text == NULL) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: no such file (create it"
			    " with 'onionmesh -n %s init NAME')",
			    c->paths.conf_file, c->paths.net);
		else if (errno == EFBIG)
			snprintf(err, errlen, "%s: larger than %d bytes",
			    c->paths.conf_file, CONF_FILE_MAX);
		else
			snprintf(err, errlen, "%s: %s", c->paths.conf_file,
			    strerror(errno));
		return -1;
	}
	rc = conf_parse(c, c->paths.conf_file, text, len, err, errlen);
	free(text);
	if (rc == -1)
		return -1;
	return conf_check(c, err, errlen);
}

/* Output */

static void
out_kv(struct kv_out *o, const char *key, const char *val)
    __attribute__((nonnull));

/* One "key = value" line; a value the parser would read differently
 * (empty, with '#', a line break or surrounding blanks) cannot be
 * written. */
static void
out_kv(struct kv_out *o, const char *key, const char *val)
{
	size_t n = strlen(val);

	if (n == 0 || strpbrk(val, "#\n\r") != NULL || is_blank(val[0]) ||
	    is_blank(val[n - 1])) {
		o->err = 1;
		return;
	}
	kv_put(o, key, val);
}

static void
out_prefix(struct kv_out *o, const char *key, const struct prefix *p)
{
	char s[PREFIX_STRLEN];

	if (p->family == 0)
		return;
	prefix_fmt(p, s, sizeof(s), 1);
	out_kv(o, key, s);
}

static void
out_opt(struct kv_out *o, const char *key, const char *val)
{
	if (val[0] != '\0')
		out_kv(o, key, val);
}

int
conf_format(const struct conf *c, char *out, size_t cap)
{
	struct kv_out o;
	char num[16], hex[2 * 64 + 1];
	int i;

	if (kv_open(&o, out, cap) == -1)
		return -1;
	out_opt(&o, "name", c->name);
	out_kv(&o, "interface", c->ifname);
	out_prefix(&o, "ipv4", &c->ipv4);
	out_prefix(&o, "ipv6", &c->ipv6);
	snprintf(num, sizeof(num), "%u", c->mtu);
	out_kv(&o, "mtu", num);
	out_opt(&o, "listen", c->listen);
	out_opt(&o, "tcp", c->tcp);
	for (i = 0; i < c->nconnect && i < CONF_MAX_PEERS; i++)
		out_kv(&o, "connect", c->connect[i]);
	for (i = 0; i < c->nnoconnect && i < CONF_MAX_PEERS; i++)
		out_kv(&o, "noconnect", c->noconnect[i]);
	if (c->max_links > 0) {
		snprintf(num, sizeof(num), "%u", c->max_links);
		out_kv(&o, "max_links", num);
	}
	if (c->max_admitted != CONF_MAX_ADMITTED_DEFAULT) {
		snprintf(num, sizeof(num), "%u", c->max_admitted);
		out_kv(&o, "max_admitted", num);
	}
	if (c->members_invite)
		out_kv(&o, "members_invite", "yes");
	for (i = 0; i < c->nsubnets && i < CONF_MAX_SUBNETS; i++)
		out_prefix(&o, "subnet", &c->subnets[i]);
	for (i = 0; i < c->naccept_subnets && i < CONF_MAX_ACCEPT; i++)
		out_prefix(&o, "accept_subnets", &c->accept_subnets[i]);
	out_opt(&o, "gateway", c->gateway);
	out_opt(&o, "netns", c->netns);
	out_kv(&o, "privsep", c->privsep < 0 ? "auto" :
	    c->privsep ? "yes" : "no");
	out_kv(&o, "sandbox", c->sandbox ? "yes" : "no");
	out_kv(&o, "anonymous", c->anonymous ? "yes" : "no");
	if (c->client_auth >= 0)
		out_kv(&o, "client_auth", c->client_auth ? "yes" : "no");
	out_opt(&o, "tor_control", c->tor_control);
	out_opt(&o, "tor_socks", c->tor_socks);
	if (c->tor_auth != CONF_TOR_AUTH_SAFECOOKIE)
		out_kv(&o, "tor_auth", conf_tor_auth_name(c->tor_auth));
	out_opt(&o, "tor_cookie", c->tor_cookie);
	out_opt(&o, "tor_group", c->tor_group);
	snprintf(num, sizeof(num), "%u", c->circuits);
	out_kv(&o, "circuits", num);
	if (c->multipath == CONF_MP_FLOW)
		out_kv(&o, "multipath", "flow");
	if (c->loglevel < LOG_LVL_WARN || c->loglevel > LOG_LVL_DEBUG)
		return -1;
	out_kv(&o, "loglevel", loglevels[c->loglevel]);
	if (c->have_root) {
		hex_encode(hex, c->root, sizeof(c->root));
		out_kv(&o, "root", hex);
	}
	if (c->role == ROLE_ADMIN)
		out_kv(&o, "role", "admin");
	if (c->admitted) {
		hex_encode(hex, c->admitted_by, sizeof(c->admitted_by));
		out_kv(&o, "admitted_by", hex);
		hex_encode(hex, c->admission, sizeof(c->admission));
		out_kv(&o, "admission", hex);
	}
	for (i = 0; i < c->nadmitted_subnets && i < CONF_MAX_SUBNETS; i++)
		out_prefix(&o, "admitted_subnet", &c->admitted_subnets[i]);
	return kv_close(&o, cap);
}
