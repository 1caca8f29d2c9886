/*
 * keyd's invitations: make, redeem, admit (keyd/invites.h).
 *
 * A pending invitation is keys/invites/<16 hex id>, 0600, in keyd's key
 * store (nobody else reads it), holding proto/invite.h's canonical text
 * with BLAKE2b of the secret, never the secret: whoever reads the file
 * cannot redeem it. The secret exists in keyd's memory only while the
 * URL is built, and is wiped then; it is never logged.
 *
 * Redeeming checks the secret in constant time, then the expiry, then
 * consumes with rename(<id>, <id>.used): rename is atomic and keyd is
 * single-threaded, so of 100 concurrent redeems exactly one finds the
 * file; a wrong secret or an expired invitation consumes nothing.
 *
 * IPv4 addresses: the inviter decides. One given must lie in the
 * network's range, not be its network or broadcast address, and be free
 * (no held record, no pending invitation holds it); without one, keyd
 * starts at a random host of the range and takes the first free one, so
 * two inviters rarely race for the same address.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/invites.h"
#include "keyd/revoke.h"
#include "proto/file.h"
#include "proto/log.h"
#include "proto/trust.h"

#define INVITES_SUBDIR   "invites"
#define INVITE_FILE_MODE 0600
#define INVITE_DIR_MODE  0700
#define INVITES_MAX      4096   /* pending files looked at */

static int
invites_dir(const struct keyd *k, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "%s/%s", k->d.conf.paths.keys_dir,
	    INVITES_SUBDIR) >= cap ? -1 : 0;
}

static int
invite_path(const struct keyd *k, const uint8_t id[INVITE_ID_BYTES],
    const char *suffix, char *out, size_t cap)
{
	char hex[2 * INVITE_ID_BYTES + 1];

	hex_encode(hex, id, INVITE_ID_BYTES);
	return (size_t)snprintf(out, cap, "%s/%s/%s%s",
	    k->d.conf.paths.keys_dir, INVITES_SUBDIR, hex, suffix) >= cap ?
	    -1 : 0;
}

static int
is_pending_name(const char *n)
{
	size_t i;

	if (strlen(n) != 2 * INVITE_ID_BYTES)
		return 0;
	for (i = 0; i < 2 * INVITE_ID_BYTES; i++)
		if (!((n[i] >= '0' && n[i] <= '9') ||
		    (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Call fn for every pending (not used, not expired) invitation; stops
 * when fn returns non-zero and returns that. Unreadable or bad files
 * are logged and skipped.
 */
static int
invites_each(const struct keyd *k, int (*fn)(const struct invite *, void *),
    void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], err[256];
	struct invite iv;
	struct dirent *de;
	uint64_t now = (uint64_t)time(NULL);
	size_t len, seen = 0;
	char *text;
	DIR *d;
	int rc = 0;

	if (invites_dir(k, dir, sizeof(dir)) == -1 ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL && seen < INVITES_MAX) {
		if (!is_pending_name(de->d_name))
			continue;
		seen++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((text = file_read(path, INVITE_TEXT_MAX, &len)) == NULL)
			continue;
		if (invite_parse(&iv, text, len, err, sizeof(err)) == -1)
			log_warnx("%s: %s; ignored", path, err);
		else if (iv.expires >= now)
			rc = fn(&iv, arg);
		free(text);
	}
	closedir(d);
	return rc;
}

struct keys_acc {
	uint8_t (*v)[ONION_AUTH_KEY_BYTES];
	size_t n, cap;
};

static int
client_key_cb(const struct invite *iv, void *arg)
{
	struct keys_acc *a = arg;

	if (iv->has_client_auth && a->n < a->cap)
		memcpy(a->v[a->n++], iv->client_auth, ONION_AUTH_KEY_BYTES);
	return 0;
}

size_t
invites_client_keys(const struct keyd *k,
    uint8_t (*out)[ONION_AUTH_KEY_BYTES], size_t cap)
{
	struct keys_acc a = { out, 0, cap };

	(void)invites_each(k, client_key_cb, &a);
	return a.n;
}

static int
name_taken_cb(const struct invite *iv, void *arg)
{
	return strcmp(iv->name, arg) == 0;
}

struct addr_arg {
	const uint8_t *a;
};

static int
addr_taken_cb(const struct invite *iv, void *arg)
{
	const struct addr_arg *x = arg;

	return iv->ipv4.family == 4 && memcmp(iv->ipv4.addr, x->a, 4) == 0;
}

/* Is the IPv4 address a (4 bytes) held by a record or an invitation? */
static int
addr_taken(const struct keyd *k, const uint8_t a[4])
{
	struct addr_arg x = {a};
	size_t i;

	for (i = 0; i < k->recs.n; i++)
		if (k->recs.v[i].rec.ipv4.family == 4 &&
		    memcmp(k->recs.v[i].rec.ipv4.addr, a, 4) == 0)
			return 1;
	/* Our own, even before our record exists. */
	if (k->d.conf.ipv4.family == 4 &&
	    memcmp(k->d.conf.ipv4.addr, a, 4) == 0)
		return 1;
	return invites_each(k, addr_taken_cb, &x);
}

static int
name_taken(const struct keyd *k, const char *name)
{
	size_t i;

	if (strcmp(name, k->d.conf.name) == 0)
		return 1;
	for (i = 0; i < k->recs.n; i++)
		if (strcmp(k->recs.v[i].rec.name, name) == 0)
			return 1;
	return invites_each(k, name_taken_cb, (void *)(uintptr_t)name);
}

/* The range's first host, its size in hosts (network and broadcast
 * left out when the range has them). */
static void
range_hosts(const struct prefix *r, uint32_t *first, uint64_t *n)
{
	uint32_t base, hostbits = 32u - r->len;

	base = be32_get(r->addr);
	base = hostbits >= 32 ? 0 : base & ~(uint32_t)((1ULL << hostbits) - 1);
	if (hostbits <= 1) {
		*first = base;
		*n = 1ULL << hostbits;
	} else {
		*first = base + 1;
		*n = (1ULL << hostbits) - 2;
	}
}

static int
pick_ipv4(const struct keyd *k, struct prefix *out, const char *want,
    char *err, size_t errlen)
{
	const struct prefix *r = &k->d.conf.ipv4;
	struct prefix net;
	char rs[PREFIX_STRLEN];
	uint32_t first, a;
	uint64_t n, i, start;
	uint8_t b[4];

	memset(out, 0, sizeof(*out));
	if (r->family != 4) {
		if (want != NULL && want[0] != '\0') {
			snprintf(err, errlen, "--ipv4 %s: this network has no "
			    "IPv4 range (no ipv4 = in the config)", want);
			return -1;
		}
		return 0;   /* an IPv6-only network */
	}
	net = *r;
	prefix_mask(&net);
	prefix_fmt(&net, rs, sizeof(rs), 1);
	range_hosts(r, &first, &n);
	if (want != NULL && want[0] != '\0') {
		if (addr_parse(out, want) == -1 || out->family != 4 ||
		    strchr(want, '/') != NULL) {
			snprintf(err, errlen, "--ipv4 %s is not an IPv4 "
			    "address (want A.B.C.D in %s)", want, rs);
			return -1;
		}
		a = be32_get(out->addr);
		if (a < first || (uint64_t)(a - first) >= n) {
			snprintf(err, errlen, "--ipv4 %s is not a host "
			    "address of the network's range %s", want, rs);
			return -1;
		}
		if (addr_taken(k, out->addr)) {
			snprintf(err, errlen, "--ipv4 %s is taken (by a "
			    "member or a pending invitation)", want);
			return -1;
		}
		out->len = 32;
		return 0;
	}
	start = randombytes_uniform(n > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)n);
	/* Bounded by the range (at most 2^24 for a /8, and every step
	 * cheap unless many invitations are pending). */
	for (i = 0; i < n; i++) {
		a = first + (uint32_t)((start + i) % n);
		be32_put(b, a);
		if (!addr_taken(k, b)) {
			out->family = 4;
			out->len = 32;
			memcpy(out->addr, b, 4);
			return 0;
		}
	}
	snprintf(err, errlen, "no free IPv4 address left in %s", rs);
	return -1;
}

/* How many held records we admitted: every member refuses those past
 * max_admitted (proto/claims.h), so an invitation past it is useless. */
static size_t
admitted_by_us(const struct keyd *k)
{
	size_t i, n = 0;

	for (i = 0; i < k->recs.n; i++)
		if (k->recs.v[i].rec.admitted && memcmp(
		    k->recs.v[i].rec.admitted_by, keys_id(),
		    MEMBER_ID_BYTES) == 0)
			n++;
	return n;
}

/* May we invite (a role)? Our own record must stand. */
static int
may_invite(const struct keyd *k, int role, char *err, size_t errlen)
{
	const struct keyd_rec *own = records_find(&k->recs, keys_id());
	char why[512];
	int root = memcmp(keys_id(), k->d.conf.root, MEMBER_ID_BYTES) == 0;

	if (own == NULL) {
		snprintf(err, errlen, "this member's own record is missing");
		return -1;
	}
	if (keyd_trust_check(k, &own->rec, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "this member cannot invite: its own "
		    "admission does not reach the network's root (%s); a "
		    "member set up by hand (init --root, import) cannot "
		    "vouch for others", why);
		return -1;
	}
	if (role == ROLE_ADMIN && !root && own->rec.role != ROLE_ADMIN) {
		snprintf(err, errlen, "--admin: only the root or an admin may "
		    "make an admin, and this member (%s) is a plain member",
		    k->d.conf.name);
		return -1;
	}
	if (!root && own->rec.role != ROLE_ADMIN &&
	    !keyd_members_invite(k)) {
		snprintf(err, errlen, "only the root or an admin may invite, "
		    "and this member (%s) is a plain member (the root can "
		    "let members invite: members_invite = yes in its "
		    "config)", k->d.conf.name);
		return -1;
	}
	if (admitted_by_us(k) >= k->d.conf.max_admitted) {
		snprintf(err, errlen, "this member has admitted %zu members "
		    "already, and members hold at most max_admitted = %u "
		    "admitted by one member", admitted_by_us(k),
		    k->d.conf.max_admitted);
		return -1;
	}
	return 0;
}

/* The request itself: a valid name, role and expiry, from a member
 * that may invite. 0, or -1 with err. */
static int
invite_request_ok(const struct keyd *k, const char *name, uint64_t ttl_s,
    int role, char *err, size_t errlen)
{
	if (!name_valid(name)) {
		snprintf(err, errlen, "member name \"%.64s\" is not valid "
		    "(1 to %d of a-z 0-9 _ -, starting with a letter or "
		    "digit)", name, NAME_MAX_LEN);
		return -1;
	}
	if (role != ROLE_MEMBER && role != ROLE_ADMIN) {
		snprintf(err, errlen, "role %d is neither member nor admin",
		    role);
		return -1;
	}
	if (ttl_s < INVITE_TTL_MIN || ttl_s > INVITE_TTL_MAX) {
		snprintf(err, errlen, "expiry %llu s is out of range (want "
		    "30s..30d)", (unsigned long long)ttl_s);
		return -1;
	}
	if (may_invite(k, role, err, errlen) == -1)
		return -1;
	if (name_taken(k, name)) {
		snprintf(err, errlen, "the name \"%s\" is taken (by a member "
		    "or a pending invitation)", name);
		return -1;
	}
	return 0;
}

/* Where the joiner reaches us, into u. 0, or -1 with err when we
 * publish no address. */
static int
invite_where(const struct keyd *k, struct invite_url *u, char *err,
    size_t errlen)
{
	const char *onion = keys_onion_addr();

	if (onion != NULL)
		snprintf(u->onion, sizeof(u->onion), "%s", onion);
	if (k->d.conf.tcp[0] != '\0' && !k->d.conf.anonymous)
		snprintf(u->tcp, sizeof(u->tcp), "%s", k->d.conf.tcp);
	if (u->onion[0] == '\0' && u->tcp[0] == '\0') {
		snprintf(err, errlen, "this member publishes no address a "
		    "joiner could reach (no onion service, no tcp = in %s)",
		    k->d.conf.paths.conf_file);
		return -1;
	}
	return 0;
}

/* Write iv to keys/invites/<id> (never over another); its path into
 * path and the folder into dir. 0, or -1 with err. */
static int
invite_store(const struct keyd *k, const struct invite *iv, char *dir,
    size_t dircap, char *path, size_t pathcap, char *err, size_t errlen)
{
	char text[INVITE_TEXT_MAX];
	int len;

	if ((len = invite_format(iv, text, sizeof(text))) < 0) {
		snprintf(err, errlen, "cannot format the invitation");
		return -1;
	}
	if (invites_dir(k, dir, dircap) == -1 ||
	    invite_path(k, iv->id, "", path, pathcap) == -1) {
		snprintf(err, errlen, "%s: path too long",
		    k->d.conf.paths.keys_dir);
		return -1;
	}
	if (mkdir_p(dir, INVITE_DIR_MODE) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (file_create_excl(path, text, (size_t)len,
	    INVITE_FILE_MODE) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
invites_create(struct keyd *k, const char *name, const char *ipv4,
    uint64_t ttl_s, int role, char *url, size_t urlcap, char *err,
    size_t errlen)
{
	return invites_create_granting(k, name, ipv4, ttl_s, role, NULL, url,
	    urlcap, err, errlen);
}

int
invites_create_granting(struct keyd *k, const char *name,
    const char *ipv4, uint64_t ttl_s, int role,
    const struct invite_grant *g, char *url, size_t urlcap, char *err,
    size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct invite iv;
	struct invite_url u;
	int rc = -1;

	memset(&u, 0, sizeof(u));
	memset(&iv, 0, sizeof(iv));
	if (invite_request_ok(k, name, ttl_s, role, err, errlen) == -1 ||
	    (g != NULL && keyd_grant_ok(k, NULL, g->subnets, g->nsubnets,
	    err, errlen) == -1) ||
	    pick_ipv4(k, &iv.ipv4, ipv4, err, errlen) == -1 ||
	    invite_where(k, &u, err, errlen) == -1)
		goto out;
	if (g != NULL) {
		memcpy(iv.subnets, g->subnets,
		    (size_t)g->nsubnets * sizeof(iv.subnets[0]));
		iv.nsubnets = g->nsubnets;
	}

	randombytes_buf(iv.id, sizeof(iv.id));
	randombytes_buf(u.secret, sizeof(u.secret));
	invite_secret_hash(iv.secret_hash, u.secret);
	if (u.onion[0] != '\0') {
		uint8_t ca[ONION_AUTH_KEY_BYTES];

		/* Our onion service lets the newcomer in with it, once. */
		invite_client_auth_sk(ca, u.secret);
		onion_auth_pk_from_sk(iv.client_auth, ca);
		sodium_memzero(ca, sizeof(ca));
		iv.has_client_auth = 1;
	}
	snprintf(iv.name, sizeof(iv.name), "%s", name);
	snprintf(iv.made_by, sizeof(iv.made_by), "%s", k->d.conf.name);
	iv.role = role;
	iv.expires = (uint64_t)time(NULL) + ttl_s;
	memcpy(u.id, iv.id, sizeof(u.id));
	snprintf(u.net, sizeof(u.net), "%s", k->d.conf.paths.net);
	invite_keyhash(u.keyhash, keys_join_pub());

	if (invite_store(k, &iv, dir, sizeof(dir), path, sizeof(path), err,
	    errlen) == -1)
		goto out;
	if (invite_url_format(&u, url, urlcap) < 0) {
		(void)unlink(path);
		snprintf(err, errlen, "the invitation URL does not fit");
		goto out;
	}
	log_info("invitation %.16s for %s (%s, %d subnets granted) made, "
	    "expires in %llu s", path + strlen(dir) + 1, name,
	    role_name(role), iv.nsubnets, (unsigned long long)ttl_s);
	keyd_tor_auth(k);
	rc = 0;
out:
	sodium_memzero(&u, sizeof(u));
	return rc;
}

/* The invitation at path, parsed. 0, or -1 with err (used: the path
 * of its used copy, to tell "already used" from "unknown"). */
static int
invite_read(const char *path, const char *used, struct invite *iv,
    char *err, size_t errlen)
{
	char perr[256];
	struct stat st;
	size_t len;
	char *text;
	int rc;

	text = file_read(path, INVITE_TEXT_MAX, &len);
	if (text == NULL) {
		if (errno == ENOENT && stat(used, &st) == 0)
			snprintf(err, errlen, "this invitation was already "
			    "used");
		else
			snprintf(err, errlen, "no such invitation (unknown "
			    "id: it was never made here, or was removed)");
		return -1;
	}
	rc = invite_parse(iv, text, len, perr, sizeof(perr));
	free(text);
	if (rc == -1) {
		log_warnx("%s: %s", path, perr);
		snprintf(err, errlen, "the inviter's copy of this invitation "
		    "is damaged");
		return -1;
	}
	return 0;
}

int
invites_hello_ok(const struct keyd *k, const uint8_t id[INVITE_ID_BYTES],
    const uint8_t mac[INVITE_HELLO_MAC_BYTES])
{
	char path[PATH_MAX], used[PATH_MAX], err[256];
	uint8_t want[INVITE_HELLO_MAC_BYTES];
	struct invite iv;
	int ok;

	if (invite_path(k, id, "", path, sizeof(path)) == -1 ||
	    invite_path(k, id, ".used", used, sizeof(used)) == -1)
		return 0;
	/* A used or expired invitation still answers its holder, whom
	 * the redeem step then tells which it is; a stranger never gets
	 * that far. */
	if (invite_read(path, used, &iv, err, sizeof(err)) == -1 &&
	    invite_read(used, used, &iv, err, sizeof(err)) == -1)
		return 0;
	invite_hello_mac(want, iv.secret_hash, iv.id);
	ok = sodium_memcmp(iv.id, id, INVITE_ID_BYTES) == 0 &&
	    crypto_verify_16(want, mac) == 0;
	sodium_memzero(&iv, sizeof(iv));
	return ok;
}

/* The invitation at path, parsed, if secret is its secret and it has
 * not expired. 0, or -1 with err. */
static int
invite_check(const char *path, const char *used,
    const uint8_t id[INVITE_ID_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES], struct invite *iv,
    char *err, size_t errlen)
{
	char when[64];
	uint8_t h[32];
	struct tm tm;
	time_t t;

	if (invite_read(path, used, iv, err, errlen) == -1)
		return -1;
	invite_secret_hash(h, secret);
	if (sodium_memcmp(iv->id, id, INVITE_ID_BYTES) != 0 ||
	    crypto_verify_32(h, iv->secret_hash) != 0) {
		sodium_memzero(h, sizeof(h));
		snprintf(err, errlen, "wrong secret for this invitation "
		    "(copy the whole URL again)");
		return -1;
	}
	sodium_memzero(h, sizeof(h));
	if ((uint64_t)time(NULL) > iv->expires) {
		t = (time_t)iv->expires;
		if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
		    "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
			snprintf(when, sizeof(when), "%llu",
			    (unsigned long long)iv->expires);
		snprintf(err, errlen, "this invitation expired at %s", when);
		return -1;
	}
	return 0;
}

/* The name or address may have gone to someone else since. 0, or -1
 * with err. */
static int
invite_still_free(const struct keyd *k, const struct invite *iv,
    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < k->recs.n; i++) {
		if (strcmp(k->recs.v[i].rec.name, iv->name) == 0) {
			snprintf(err, errlen, "the name \"%s\" was taken by "
			    "another member since this invitation was made",
			    iv->name);
			return -1;
		}
		if (iv->ipv4.family == 4 &&
		    k->recs.v[i].rec.ipv4.family == 4 &&
		    memcmp(k->recs.v[i].rec.ipv4.addr, iv->ipv4.addr,
		    4) == 0) {
			snprintf(err, errlen, "the address of this invitation "
			    "was taken by another member since it was made");
			return -1;
		}
	}
	return 0;
}

int
invites_redeem(struct keyd *k, const uint8_t id[INVITE_ID_BYTES],
    const uint8_t secret[INVITE_SECRET_BYTES], struct invite *inv,
    char *err, size_t errlen)
{
	char path[PATH_MAX], used[PATH_MAX];
	struct invite iv;

	memset(inv, 0, sizeof(*inv));
	if (invite_path(k, id, "", path, sizeof(path)) == -1 ||
	    invite_path(k, id, ".used", used, sizeof(used)) == -1) {
		snprintf(err, errlen, "internal error (path too long)");
		return -1;
	}
	if (invite_check(path, used, id, secret, &iv, err, errlen) == -1 ||
	    invite_still_free(k, &iv, err, errlen) == -1)
		return -1;
	/* The atomic consume: only one redeemer finds the file. */
	if (rename(path, used) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "this invitation was already "
			    "used");
		else {
			log_warn("%s: cannot consume", path);
			snprintf(err, errlen, "the inviter cannot consume "
			    "this invitation (see its log)");
		}
		return -1;
	}
	log_info("invitation for %s redeemed", iv.name);
	*inv = iv;
	keyd_tor_auth(k);
	return 0;
}

int
invites_admit(struct keyd *k, const struct invite *inv,
    const uint8_t joiner_id[MEMBER_ID_BYTES], struct record *out)
{
	uint8_t x[crypto_scalarmult_curve25519_BYTES];

	memset(out, 0, sizeof(*out));
	if (!name_valid(inv->name) ||
	    crypto_sign_ed25519_pk_to_curve25519(x, joiner_id) != 0)
		return -1;
	snprintf(out->name, sizeof(out->name), "%s", inv->name);
	memcpy(out->id, joiner_id, MEMBER_ID_BYTES);
	if (inv->ipv4.family == 4) {
		out->ipv4 = inv->ipv4;
		out->ipv4.len = 32;
	}
	ipv6_member_addr(&out->ipv6, k->netid, joiner_id);
	out->role = inv->role == ROLE_ADMIN ? ROLE_ADMIN : ROLE_MEMBER;
	if (inv->nsubnets < 0 || inv->nsubnets > RECORD_MAX_SUBNETS)
		return -1;
	memcpy(out->admitted_subnets, inv->subnets,
	    sizeof(out->admitted_subnets));
	out->nadmitted_subnets = inv->nsubnets;
	out->serial = 1;
	if (keys_sign_admission(out, k->netid) == -1)
		return -1;
	return 0;
}

void
invites_cleanup(struct keyd *k)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], err[256];
	struct invite iv;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	size_t len, n = 0, seen = 0;
	char *text;
	DIR *d;
	int old;

	if (invites_dir(k, dir, sizeof(dir)) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && seen++ < 4 * INVITES_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		old = 0;
		if (strlen(de->d_name) == 2 * INVITE_ID_BYTES + 5 &&
		    strcmp(de->d_name + 2 * INVITE_ID_BYTES, ".used") == 0)
			old = now - st.st_mtime > INVITE_KEEP_S;
		else if (is_pending_name(de->d_name) &&
		    (text = file_read(path, INVITE_TEXT_MAX, &len)) != NULL) {
			if (invite_parse(&iv, text, len, err,
			    sizeof(err)) == 0)
				old = (uint64_t)now > iv.expires +
				    INVITE_KEEP_S;
			free(text);
		}
		if (old && unlink(path) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		log_info("%s: %zu used or expired invitations removed", dir,
		    n);
}
