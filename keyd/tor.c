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
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "keyd/torctl_io.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/torctl.h"

int
keyd_tor_key(const struct conf *c, char *err, size_t errlen)
{
	int made;

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

void
keyd_tor_stop(struct keyd *k)
{
	if (k->tor == NULL)
		return;
	torctl_io_stop(k->tor);
	k->tor = NULL;
	k->tor_control[0] = '\0';
	k->tor_applied[0] = '\0';
	memset(&k->tor_last, 0, sizeof(k->tor_last));
}

int
keyd_tor_apply(struct keyd *k)
{
	const struct conf *c = &k->d.conf;
	struct torctl_io_cfg cfg;
	char blob[ONION_BLOB_LEN + 1], target[CONF_ADDR_LEN];
	char cookie[PATH_MAX], applied[sizeof(k->tor_applied)];
	static const unsigned auths[] = {
		[CONF_TOR_AUTH_SAFECOOKIE] = TORCTL_AUTH_SAFECOOKIE,
		[CONF_TOR_AUTH_COOKIE] = TORCTL_AUTH_COOKIE,
		[CONF_TOR_AUTH_NONE] = TORCTL_AUTH_NULL,
	};

	if (!keyd_onion_mode(c)) {
		if (k->tor != NULL)
			log_info("tor: onion mode is off in %s; withdrawing "
			    "the onion service", c->paths.conf_file);
		keyd_tor_stop(k);
		keys_onion_wipe();
		return 0;
	}
	if (conf_tor_cookie(c, cookie, sizeof(cookie)) == -1 ||
	    c->tor_auth < 0 || c->tor_auth >= (int)(sizeof(auths) /
	    sizeof(auths[0]))) {
		log_warnx("tor: the cookie path for %s is too long; set "
		    "tor_cookie", c->tor_control);
		return -1;
	}
	snprintf(applied, sizeof(applied), "%s %d %s", c->tor_control,
	    c->tor_auth, cookie);
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
	cfg.auth = auths[c->tor_auth];
	cfg.cookie = c->tor_auth == CONF_TOR_AUTH_NONE ? NULL : cookie;
	cfg.access_hint = k->tor_hint[0] != '\0' ? k->tor_hint : NULL;
	cfg.key_blob = blob;
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
	log_info("tor: publishing %s (port %d to %s) through %s (%s%s%s)",
	    keys_onion_addr(), DEFAULT_PORT, target, c->tor_control,
	    conf_tor_auth_name(c->tor_auth), cfg.cookie != NULL ? ", "
	    "cookie " : "", cfg.cookie != NULL ? cookie : "");
	return 0;
}
