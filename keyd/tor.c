/*
 * keyd and tor: in onion mode (tor_control and tor_socks set) keyd
 * publishes the member's onion service through tor's ControlPort, with
 * the stored onion key, mapped to the Unix socket linkd listens on
 * (<run_dir>/linkd.onion). torctl_io.c does the talking, the retrying and
 * the DEL_ONION on the way out; this file decides when it runs and with
 * what, and says in keyd's log what happens to the service.
 *
 * The onion key is loaded here, into keys.c's locked memory, before
 * privileges are dropped; torctl_io gets the ADD_ONION blob once, keeps
 * its own copy for every republish, and our copy is wiped at once. A
 * reload that turns onion mode on loads the key then (keyd owns the key
 * store, so it can); one that turns it off withdraws the service and
 * wipes the key. The key itself never changes, so a reload that keeps
 * the same control port, method and cookie leaves the running
 * connection alone.
 *
 * Client authorization (issue 15). Every member has an x25519 key
 * (keys/client-auth, made like the onion key); its public half rides
 * in the member's record. With client_auth on (conf_client_auth) our
 * service takes only the keys of the members we hold (revoked ones are
 * dropped with their records), our own, and those of our invitations
 * still pending, so a stranger who knows the address cannot even open
 * a stream. Whatever our own setting, our tor gets our secret for every
 * other member's address, so we reach members that take only members.
 * keyd_tor_auth works the lists out again on every record change and
 * every TOR_AUTH_PERIOD seconds (invitations expire on their own);
 * torctl_io re-issues ADD_ONION only when the clients changed.
 *
 * tor's group. Debian's tor (tor-service-defaults-torrc) lets its group
 * debian-tor use /run/tor/control (GroupWritable) and read
 * /run/tor/control.authcookie (CookieAuthFileGroupReadable), and
 * nobody else. keyd, alone of the daemons, keeps that one group as a
 * supplementary group when it drops privileges: named by tor_group, or
 * else the group of the cookie file it will read (of its folder when
 * tor has not written the file yet: Debian's /run/tor is setgid
 * debian-tor). That file's path comes from root's config or tor's
 * known default, never from tor's PROTOCOLINFO, and group root is
 * never taken. A group added to keyd's user with usermod would be of no
 * use: privdrop sets the groups itself.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "keyd/invites.h"
#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "keyd/torctl_io.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/torctl.h"

#define TOR_AUTH_PERIOD 5.0
#define TOR_ONCE_WAIT   30.0
#define TOR_AUTH_SOON   0.5
/* Pending invitations whose keys the service takes, at most. */
#define TOR_AUTH_INVITES 256

/* keys/client-auth, made when missing (a member from before issue 15
 * gets it now; its next record carries it), and loaded. */
int
keyd_tor_client_key(const struct conf *c, char *err, size_t errlen)
{
	int made;

	if (keys_client_auth_pub() != NULL)
		return 0;
	if ((made = keystore_client_auth_ensure(c->paths.keys_dir,
	    NULL)) == -1) {
		snprintf(err, errlen, "cannot make the onion client "
		    "authorization key in %s (see above)", c->paths.keys_dir);
		return -1;
	}
	if (made == 0)
		log_info("%s/client-auth: new onion client authorization key",
		    c->paths.keys_dir);
	return keys_client_auth_load(c->paths.keys_dir, err, errlen);
}

int
keyd_tor_key(const struct conf *c, char *err, size_t errlen)
{
	int made;

	if (keyd_onion_mode(c) && keyd_tor_client_key(c, err, errlen) != 0)
		return -1;
	if (!keyd_onion_mode(c) || keys_onion_addr() != NULL)
		return 0;
	/* --genkey makes it for every member; one made before onion mode
	 * existed gets it now, and keeps it from here on. */
	if ((made = keystore_onion_ensure(c->paths.keys_dir, NULL)) == -1) {
		snprintf(err, errlen, "cannot make the onion service key in "
		    "%s (see above)", c->paths.keys_dir);
		return -1;
	}
	if (made == 0)
		log_info("%s/onion: new onion service key", c->paths.keys_dir);
	return keys_onion_load(c->paths.keys_dir, err, errlen);
}

/* torctl_io's status moved: log what an operator wants to see and
 * torctl_io does not already say. */
static void
keyd_tor_changed(void *arg)
{
	struct keyd *k = arg;
	struct torctl_io_status st;

	if (k->tor == NULL)
		return; /* still inside torctl_io_start */
	torctl_io_get_status(k->tor, &st);
	if (k->tor_last.published && !st.published)
		log_warnx("tor: onion service %s is not published any "
		    "more%s%s", st.address, st.last_error[0] ? ": " : "",
		    st.last_error);
	if (st.progress != k->tor_last.progress && st.progress >= 0)
		log_debug("tor: bootstrap %d%% (%s)", st.progress, st.tag);
	if (st.connected != k->tor_last.connected ||
	    st.authenticated != k->tor_last.authenticated ||
	    st.published != k->tor_last.published)
		log_debug("tor: control connection %s%s, service %s",
		    st.connected ? "open" : "closed",
		    st.authenticated ? " and authenticated" : "",
		    st.published ? "published" : "not published");
	k->tor_last = st;
}

/* "debian-tor (gid 105)" or "gid 105". */
static void
group_str(char *out, size_t cap, gid_t gid)
{
	struct group *gr = getgrgid(gid);

	if (gr != NULL)
		snprintf(out, cap, "%s (gid %u)", gr->gr_name, (unsigned)gid);
	else
		snprintf(out, cap, "gid %u", (unsigned)gid);
}

void
keyd_tor_group(struct keyd *k)
{
	const struct conf *c = &k->d.conf;
	char cookie[PATH_MAX], dir[PATH_MAX], name[96];
	const char *from = cookie;
	struct group *gr;
	struct stat st;
	gid_t gid;

	k->tor_hint[0] = '\0';
	k->d.have_extra_gid = 0;
	if (!keyd_onion_mode(c))
		return;
	if (conf_tor_cookie(c, cookie, sizeof(cookie)) == -1)
		fatalx("tor's cookie path for %s is too long; set tor_cookie",
		    c->tor_control);
	if (!k->d.ids.privsep) {
		snprintf(k->tor_hint, sizeof(k->tor_hint), "keyd runs "
		    "without privsep as uid %u: that user needs tor's group "
		    "(the group of %s)", (unsigned)getuid(), cookie);
		return;
	}
	if (c->tor_group[0] != '\0') {
		errno = 0;
		if ((gr = getgrnam(c->tor_group)) == NULL)
			fatalx("%s: tor_group = %s: no such group (want "
			    "tor's group, the group of %s; debian-tor on "
			    "Debian)", c->paths.conf_file, c->tor_group,
			    cookie);
		if (gr->gr_gid == 0)
			fatalx("%s: tor_group = %s is gid 0; keyd takes no "
			    "root group", c->paths.conf_file, c->tor_group);
		gid = gr->gr_gid;
		from = "tor_group";
	} else {
		snprintf(dir, sizeof(dir), "%s", cookie);
		if (stat(cookie, &st) == 0) {
			gid = st.st_gid;
		} else if (stat(dirname(dir), &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			gid = st.st_gid;
			from = dir;
		} else {
			snprintf(k->tor_hint, sizeof(k->tor_hint), "keyd "
			    "took no group of tor's: neither %s nor its "
			    "folder existed when keyd started; start tor "
			    "first and restart keyd, or set tor_group = "
			    "GROUP (debian-tor on Debian)", cookie);
			log_warnx("tor: %s", k->tor_hint);
			return;
		}
		if (gid == 0) {
			snprintf(k->tor_hint, sizeof(k->tor_hint),
			    "%s belongs to group root, and keyd takes no "
			    "root group; give tor CookieAuthFileGroupReadable"
			    " 1 and a group of its own, or set tor_group = "
			    "GROUP",
			    from);
			log_warnx("tor: %s", k->tor_hint);
			return;
		}
	}
	group_str(name, sizeof(name), gid);
	if (gid == k->d.ids.gid[D_KEYD]) {
		snprintf(k->tor_hint, sizeof(k->tor_hint), "keyd's group is "
		    "%s already (from %s)", name, from);
		return;
	}
	k->d.have_extra_gid = 1;
	k->d.extra_gid = gid;
	snprintf(k->tor_hint, sizeof(k->tor_hint), "keyd has tor's group %s "
	    "(from %s); tor must let that group use its control socket "
	    "(ControlSocket ... GroupWritable) and read the cookie "
	    "(CookieAuthFileGroupReadable 1)%s", name, from,
	    c->tor_group[0] != '\0' ? ", or tor_group must name the "
	    "group tor gives them (remove the line to take the cookie "
	    "file's group)" : "");
	log_info("tor: keeping group %s for tor's control port (from %s)",
	    name, from);
}

static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ONION_AUTH_KEY_BYTES);
}

/* Sorted, without repeats; the new count. */
static size_t
keys_sort_unique(uint8_t (*v)[ONION_AUTH_KEY_BYTES], size_t n)
{
	size_t i, o = 0;

	qsort(v, n, sizeof(*v), key_cmp);
	for (i = 0; i < n; i++)
		if (o == 0 || memcmp(v[o - 1], v[i], sizeof(*v)) != 0)
			memmove(v[o++], v[i], sizeof(*v));
	return o;
}

void
keyd_tor_auth(struct keyd *k)
{
	const uint8_t *own = keys_client_auth_pub();
	uint8_t (*cl)[ONION_AUTH_KEY_BYTES];
	char (*sv)[ONION_ADDR_LEN + 1];
	size_t i, ncl = 0, nsv = 0;

	if (k->tor == NULL || own == NULL) {
		k->tor_cut = 0; /* no service: nothing to close later */
		return;
	}
	cl = calloc(k->recs.n + TOR_AUTH_INVITES + 1, sizeof(*cl));
	sv = calloc(k->recs.n + 1, sizeof(*sv));
	if (cl == NULL || sv == NULL) {
		log_warnx("tor: out of memory for the client keys");
		goto out;
	}
	/* Ours too: the list is never empty, so tor never publishes an
	 * open door for want of members. */
	memcpy(cl[ncl++], own, ONION_AUTH_KEY_BYTES);
	for (i = 0; i < k->recs.n; i++) {
		const struct record *r = &k->recs.v[i].rec;

		if (revoked_is(k, r->id) ||
		    memcmp(r->id, keys_id(), MEMBER_ID_BYTES) == 0)
			continue;
		if (r->has_client_auth)
			memcpy(cl[ncl++], r->client_auth,
			    ONION_AUTH_KEY_BYTES);
		if (r->onion[0] != '\0')
			memcpy(sv[nsv++], r->onion, ONION_ADDR_LEN + 1);
	}
	ncl += invites_client_keys(k, cl + ncl, TOR_AUTH_INVITES);
	ncl = keys_sort_unique(cl, ncl);
	if (torctl_io_set_auth(k->tor, cl, ncl, k->tor_cut,
	    keys_client_auth_secret(), (const char (*)[ONION_ADDR_LEN + 1])sv,
	    nsv) == 0)
		k->tor_cut = 0;
out:
	free(cl);
	free(sv);
}

static void
keyd_tor_auth_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	keyd_tor_auth(w->data);
}

void
keyd_tor_auth_soon(struct keyd *k)
{
	ev_timer *w = &k->tor_auth_timer;

	/* A burst of records (a join, a flood of gossip) costs one pass:
	 * the timer is brought forward, never pushed back. */
	if (k->tor == NULL || !ev_is_active(w) ||
	    ev_timer_remaining(k->d.loop, w) <= TOR_AUTH_SOON)
		return;
	ev_timer_stop(k->d.loop, w);
	ev_timer_set(w, TOR_AUTH_SOON, TOR_AUTH_PERIOD);
	ev_timer_start(k->d.loop, w);
}

void
keyd_tor_stop(struct keyd *k)
{
	ev_timer_stop(k->d.loop, &k->tor_auth_timer);
	if (k->tor == NULL)
		return;
	torctl_io_stop(k->tor);
	k->tor = NULL;
	k->tor_control[0] = '\0';
	k->tor_applied[0] = '\0';
	memset(&k->tor_last, 0, sizeof(k->tor_last));
}

/* tor_auth as torctl_io's method, or 0 when out of range. */
static unsigned
tor_auth_method(const struct conf *c)
{
	static const unsigned auths[] = {
		[CONF_TOR_AUTH_SAFECOOKIE] = TORCTL_AUTH_SAFECOOKIE,
		[CONF_TOR_AUTH_COOKIE] = TORCTL_AUTH_COOKIE,
		[CONF_TOR_AUTH_NONE] = TORCTL_AUTH_NULL,
	};

	if (c->tor_auth < 0 || c->tor_auth >= (int)(sizeof(auths) /
	    sizeof(auths[0])))
		return 0;
	return auths[c->tor_auth];
}

struct tor_once {
	struct ev_loop *loop;
	struct torctl_io *t;
};

static void
tor_once_changed(void *arg)
{
	struct tor_once *o = arg;
	struct torctl_io_status st;

	if (o->t == NULL)
		return;
	torctl_io_get_status(o->t, &st);
	if (st.auth_services > 0 || st.auth_refused > 0)
		ev_break(o->loop, EVBREAK_ALL);
}

static void
tor_once_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

int
keyd_tor_client_once(const struct conf *c, const char *onion,
    const uint8_t sk[ONION_AUTH_KEY_BYTES], double timeout_s, char *err,
    size_t errlen)
{
	char addr[1][ONION_ADDR_LEN + 1], cookie[PATH_MAX];
	struct torctl_io_cfg cfg = { 0 };
	struct torctl_io_status st;
	struct tor_once o = { 0 };
	ev_timer tm;

	if (snprintf(addr[0], sizeof(addr[0]), "%s", onion) < 0 ||
	    conf_tor_cookie(c, cookie, sizeof(cookie)) == -1 ||
	    (cfg.auth = tor_auth_method(c)) == 0) {
		snprintf(err, errlen, "tor's cookie path for %s is too long",
		    c->tor_control);
		return -1;
	}
	if ((o.loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		snprintf(err, errlen, "cannot make an event loop");
		return -1;
	}
	cfg.loop = o.loop;
	cfg.control = c->tor_control;
	cfg.cookie = c->tor_auth == CONF_TOR_AUTH_NONE ? NULL : cookie;
	cfg.on_change = tor_once_changed;
	cfg.arg = &o;
	if ((o.t = torctl_io_start(&cfg)) == NULL ||
	    torctl_io_set_auth(o.t, NULL, 0, 0, sk, addr, 1) != 0) {
		snprintf(err, errlen, "cannot use tor's control port %s (see "
		    "above)", c->tor_control);
		torctl_io_stop(o.t);
		ev_loop_destroy(o.loop);
		return -1;
	}
	ev_timer_init(&tm, tor_once_timeout, timeout_s, 0.);
	ev_timer_start(o.loop, &tm);
	ev_run(o.loop, 0);
	torctl_io_get_status(o.t, &st);
	torctl_io_stop(o.t);
	ev_loop_destroy(o.loop);
	if (st.auth_services > 0)
		return 0;
	snprintf(err, errlen, "tor at %s did not take the invitation's "
	    "client key for %s within %.0f s%s%s", c->tor_control, onion,
	    timeout_s, st.last_error[0] != '\0' ? ": " : "",
	    st.last_error);
	return -1;
}

void
keyd_tor_invite_key(const struct conf *c, const char *url)
{
	uint8_t sk[ONION_AUTH_KEY_BYTES];
	struct invite_url u;
	char err[KEYD_ERRLEN];
	int rc;

	/* A bad URL is join_client_run's to report. */
	if (invite_url_parse(&u, url, err, sizeof(err)) != 0 ||
	    u.onion[0] == '\0') {
		sodium_memzero(&u, sizeof(u));
		return;
	}
	invite_client_auth_sk(sk, u.secret);
	rc = keyd_tor_client_once(c, u.onion, sk, TOR_ONCE_WAIT, err,
	    sizeof(err));
	sodium_memzero(sk, sizeof(sk));
	if (rc == 0)
		log_info("tor: has the invitation's client key for %s",
		    u.onion);
	else
		log_warnx("%s; trying without it (an inviter that takes "
		    "only members will not answer)", err);
	sodium_memzero(&u, sizeof(u));
}

int
keyd_tor_apply(struct keyd *k)
{
	const struct conf *c = &k->d.conf;
	struct torctl_io_cfg cfg;
	char blob[ONION_BLOB_LEN + 1], target[CONF_ADDR_LEN];
	char cookie[PATH_MAX], applied[sizeof(k->tor_applied)];

	if (!keyd_onion_mode(c)) {
		if (k->tor != NULL)
			log_info("tor: onion mode is off in %s; withdrawing "
			    "the onion service", c->paths.conf_file);
		keyd_tor_stop(k);
		keys_onion_wipe();
		keys_client_auth_wipe();
		return 0;
	}
	if (conf_tor_cookie(c, cookie, sizeof(cookie)) == -1 ||
	    tor_auth_method(c) == 0) {
		log_warnx("tor: the cookie path for %s is too long; set "
		    "tor_cookie", c->tor_control);
		return -1;
	}
	snprintf(applied, sizeof(applied), "%s %d %d %s", c->tor_control,
	    c->tor_auth, conf_client_auth(c), cookie);
	if (k->tor != NULL && strcmp(k->tor_applied, applied) == 0)
		return 0;
	if (k->tor != NULL)
		log_info("tor: control port is now %s (was %s)",
		    c->tor_control, k->tor_control);
	keyd_tor_stop(k);

	if ((size_t)snprintf(target, sizeof(target), "unix:%s",
	    daemon_sock(&k->d, IPC_LINKD_ONION)) >= sizeof(target)) {
		log_warnx("tor: onion service target unix:%s is too long",
		    daemon_sock(&k->d, IPC_LINKD_ONION));
		return -1;
	}
	if (keys_onion_blob(blob, sizeof(blob)) == -1) {
		log_warnx("tor: the onion service key is not loaded");
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = k->d.loop;
	cfg.control = c->tor_control;
	cfg.auth = tor_auth_method(c);
	cfg.cookie = c->tor_auth == CONF_TOR_AUTH_NONE ? NULL : cookie;
	cfg.access_hint = k->tor_hint[0] != '\0' ? k->tor_hint : NULL;
	cfg.key_blob = blob;
	cfg.client_auth = conf_client_auth(c);
	cfg.virt_port = DEFAULT_PORT;
	cfg.target = target;
	cfg.on_change = keyd_tor_changed;
	cfg.arg = k;
	memset(&k->tor_last, 0, sizeof(k->tor_last));
	k->tor_last.progress = -1;
	k->tor = torctl_io_start(&cfg);
	sodium_memzero(blob, sizeof(blob));
	if (k->tor == NULL)
		return -1; /* torctl_io said which value is wrong */
	snprintf(k->tor_control, sizeof(k->tor_control), "%s",
	    c->tor_control);
	snprintf(k->tor_applied, sizeof(k->tor_applied), "%s", applied);
	keyd_tor_auth(k);
	ev_timer_init(&k->tor_auth_timer, keyd_tor_auth_cb, TOR_AUTH_PERIOD,
	    TOR_AUTH_PERIOD);
	k->tor_auth_timer.data = k;
	ev_timer_start(k->d.loop, &k->tor_auth_timer);
	log_info("tor: publishing %s (port %d to %s%s) through %s (%s%s%s)",
	    keys_onion_addr(), DEFAULT_PORT, target, cfg.client_auth ?
	    ", members only" : "", c->tor_control,
	    conf_tor_auth_name(c->tor_auth), cfg.cookie != NULL ? ", "
	    "cookie " : "", cfg.cookie != NULL ? cookie : "");
	return 0;
}
