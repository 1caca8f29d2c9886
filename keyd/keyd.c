/*
 * onionmesh-keyd: the keeper of a member's secrets and host records.
 *
 * It is the only process that reads the key store. The identity key is
 * loaded once, before privileges are dropped; from then on linkd gets
 * X25519 and signatures from it over an rpc, and never the key. keyd
 * also verifies, stores and hands out the host records in hosts/, and
 * keeps our own record in step with the config.
 *
 * Two modes:
 *   onionmesh-keyd [-n NET] [-d DIR] [-f] [-s] [-v]       the daemon
 *   onionmesh-keyd [-n NET] [-d DIR] [-v] --genkey        make sure the
 *       identity and the onion service key exist (and, when the config
 *       exists, our signed record), print the public key in hex and
 *       exit. `onionmesh init` runs this, so the command never holds the
 *       key itself. The onion key is made whether or not tor is
 *       configured, so a member's onion address is fixed from the start.
 *
 *   onionmesh-keyd [-v] [-n NET] [-d DIR] --join URL [--tcp]
 *       [--tor-socks ADDR] [--anonymous] [--onion]   the joiner's one-shot
 *       (join_client.c): redeem an invitation with the identity --genkey
 *       made, write hosts/ and revoked/, JSON lines on stdout for
 *       `onionmesh join`; --onion: our record carries our onion
 *       address (the config join writes is in onion mode). tor's
 *       SocksPort comes from the flag or the config when there is one.
 *
 * In onion mode (tor_control and tor_socks in the config) the daemon
 * also publishes the member's onion service through tor (tor.c).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "proto/file.h"
#include "proto/invite.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/notify.h"
#include "proto/privdrop.h"

#define KEYS_DIR_MODE 0700

static void
usage(void)
{
	fprintf(stderr, "usage: onionmesh-keyd [-fsv] [-n NET] [-d DIR]\n"
	    "       onionmesh-keyd [-v] [-n NET] [-d DIR] --genkey\n"
	    "       onionmesh-keyd [-v] [-n NET] [-d DIR] --join URL [--tcp] "
	    "[--tor-socks ADDR] [--anonymous] [--onion]\n");
	exit(2);
}

/* Remove every "--genkey" from argv (before getopt sees it); 1 if one
 * was there. */
static int
take_genkey(int *argc, char **argv)
{
	int i, j, found = 0;

	for (i = 1, j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			/* Options end here; copy the rest untouched. */
			for (; i < *argc; i++)
				argv[j++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--genkey") == 0)
			found = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

struct join_args {
	const char *url;
	const char *tor_socks;
	int tcp;
	int anonymous;
	int onion;
};

/* Take --join URL, --tcp, --tor-socks ADDR and --anonymous out of argv
 * (before getopt sees them); 1 if --join was there. */
static int
take_join(int *argc, char **argv, struct join_args *ja)
{
	int i, j, found = 0;

	memset(ja, 0, sizeof(*ja));
	for (i = 1, j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			for (; i < *argc; i++)
				argv[j++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--join") == 0 && i + 1 < *argc) {
			ja->url = argv[++i];
			found = 1;
		} else if (strcmp(argv[i], "--tor-socks") == 0 &&
		    i + 1 < *argc)
			ja->tor_socks = argv[++i];
		else if (strcmp(argv[i], "--tcp") == 0)
			ja->tcp = 1;
		else if (strcmp(argv[i], "--anonymous") == 0)
			ja->anonymous = 1;
		else if (strcmp(argv[i], "--onion") == 0)
			ja->onion = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

/*
 * The one-shot modes (--genkey, --join): -n NET -d DIR -v (and the
 * daemon's -f -s, which mean nothing here), logs to stderr (stdout is
 * what ctl reads), libsodium, and c's paths. 0, or -1 after saying why.
 */
static int
oneshot_setup(int argc, char **argv, struct conf *c)
{
	char err[KEYD_ERRLEN];
	const char *net = DEFAULT_NET, *dir = NULL;
	int ch, verbose = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "n:d:fsv")) != -1) {
		switch (ch) {
		case 'n':
			net = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
		case 's':
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("keyd", verbose > 1 ? LOG_LVL_DEBUG : verbose ?
	    LOG_LVL_INFO : LOG_LVL_WARN, 0);
	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	memset(c, 0, sizeof(*c));
	if (conf_paths(&c->paths, net, dir, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * --join: like --genkey, no daemon_setup (the config is written after
 * the admission, from what it says). A config that is there already
 * gives tor's SocksPort and the anonymous flag. URL "-": the URL is the
 * first line of stdin, so its secret is not in our argv for every local
 * user to read in /proc (onionmesh join passes it that way).
 */
static int
keyd_join(int argc, char **argv, const struct join_args *ja)
{
	static struct conf c;
	static char line[INVITE_URL_MAX + 2];
	char err[KEYD_ERRLEN];
	const char *socks, *url = ja->url;
	int anonymous = ja->anonymous, rc;
	size_t n;

	if (oneshot_setup(argc, argv, &c) == -1)
		return 1;
	if (strcmp(url, "-") == 0) {
		if (fgets(line, sizeof(line), stdin) == NULL) {
			log_warnx("--join -: no URL on standard input");
			return 1;
		}
		n = strcspn(line, "\r\n");
		if (line[n] == '\0' && n == sizeof(line) - 1) {
			log_warnx("--join -: the URL on standard input is "
			    "longer than any invitation (%d bytes)",
			    INVITE_URL_MAX);
			sodium_memzero(line, sizeof(line));
			return 1;
		}
		line[n] = '\0';
		url = line;
	}
	socks = ja->tor_socks;
	if (access(c.paths.conf_file, F_OK) == 0) {
		if (conf_load(&c, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			sodium_memzero(line, sizeof(line));
			return 1;
		}
		if (socks == NULL)
			socks = c.tor_socks;
		anonymous |= c.anonymous;
	}
	rc = join_client_run(&c.paths, url, socks != NULL ? socks : "",
	    ja->tcp, anonymous, ja->onion || keyd_onion_mode(&c));
	sodium_memzero(line, sizeof(line));
	return rc;
}

/* chown, but only when the owner differs: keyd started as its own user
 * (a systemd unit's User=) cannot chown at all, and need not when the
 * store is already its own. */
static int
chown_if(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid)
		return 0;
	return chown(path, uid, gid);
}

/* Give a directory and the files directly in it to keyd's user (or,
 * without privsep, back to the caller: chown, not chown_for, which
 * skips the caller's own ids). */
static int
chown_tree(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (chown_if(dir, uid, gid) == -1) {
		snprintf(err, errlen, "cannot give %s to uid %u: %s", dir,
		    (unsigned)uid, strerror(errno));
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		if (chown_if(path, uid, gid) == -1) {
			snprintf(err, errlen, "cannot give %s to uid %u: %s",
			    path, (unsigned)uid, strerror(errno));
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/* Create the keys dir with 0700; refuse one that others can enter. */
static int
keys_dir_ensure(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir_p(dir, KEYS_DIR_MODE) == -1) {
		snprintf(err, errlen, "cannot create key store %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "cannot stat key store %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "key store %s is not a directory", dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "key store %s has mode %04o; it must be "
		    "0700 (chmod 700 %s)", dir, (unsigned)(st.st_mode & 07777),
		    dir);
		return -1;
	}
	return 0;
}

/*
 * --genkey: no daemon_setup, because the config may not exist yet
 * (init writes it after it knows the key) and no run dir is needed.
 */
static int
keyd_genkey(int argc, char **argv)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], netid[NETID_BYTES];
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 1], err[KEYD_ERRLEN];
	struct keyd_records recs;
	struct daemon_ids ids;
	static struct conf c;
	int have_conf, bad, rc;

	if (oneshot_setup(argc, argv, &c) == -1)
		return 1;
	have_conf = access(c.paths.conf_file, F_OK) == 0;
	if (have_conf && conf_load(&c, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	/* Before the config exists (init's first run) its privsep line
	 * is not known yet: privsep if the users are there, else the
	 * caller's ids; the second run, with the config, decides (and
	 * refuses privsep = auto without the users). */
	if (daemon_ids_resolve(&ids, have_conf ? c.privsep : -1, err,
	    sizeof(err)) == -1 && (have_conf ||
	    daemon_ids_resolve(&ids, 0, err, sizeof(err)) == -1)) {
		log_warnx("%s", err);
		return 1;
	}
	if (keys_dir_ensure(c.paths.keys_dir, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (keystore_identity_ensure(c.paths.keys_dir, pk) == -1 ||
	    keystore_onion_ensure(c.paths.keys_dir, NULL) == -1)
		return 1; /* keystore logged why */
	/* The first run, before the config exists, assumes privsep; once
	 * the config says privsep = no, the store goes back to whoever runs
	 * keyd (it keeps no capability to read another user's files). */
	if (chown_tree(c.paths.keys_dir, ids.privsep ? ids.uid[D_KEYD] :
	    geteuid(), ids.privsep ? ids.gid[D_KEYD] : getegid(), err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}

	if (have_conf) {
		if (keys_load(c.paths.keys_dir, err, sizeof(err)) == -1 ||
		    keyd_tor_key(&c, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			keys_wipe();
			return 1;
		}
		netid_derive(netid, c.paths.net, c.root);
		records_init(&recs);
		bad = records_load_dir(&recs, c.paths.hosts_dir, netid);
		if (bad == -1 && errno != ENOENT) {
			log_warn("cannot read %s", c.paths.hosts_dir);
			return 1;
		}
		rc = records_own_refresh(&recs, &c, netid, ids.privsep,
		    ids.uid[D_KEYD], ids.gid[D_KEYD], err, sizeof(err));
		records_free(&recs);
		keys_wipe();
		if (rc == -1) {
			log_warnx("%s", err);
			return 1;
		}
		if (ids.privsep && chown_for(c.paths.hosts_dir,
		    ids.uid[D_KEYD], ids.gid[D_KEYD]) == -1) {
			log_warn("cannot give %s to uid %u", c.paths.hosts_dir,
			    (unsigned)ids.uid[D_KEYD]);
			return 1;
		}
	}

	hex_encode(hex, pk, sizeof(pk));
	printf("%s\n", hex);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct keyd k;
	char err[KEYD_ERRLEN];
	struct join_args ja;
	int bad, rc;

	if (take_genkey(&argc, argv))
		return keyd_genkey(argc, argv);
	if (take_join(&argc, argv, &ja))
		return keyd_join(argc, argv, &ja);

	daemon_setup(&k.d, D_KEYD, argc, argv);
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	k.started = ev_now(k.d.loop);
	netid_derive(k.netid, k.d.conf.paths.net, k.d.conf.root);

	if (keys_load(k.d.conf.paths.keys_dir, err, sizeof(err)) == -1)
		fatalx("%s (onionmesh init, or onionmesh-keyd --genkey, "
		    "creates the identity)", err);
	/* Before the drop and before chown_tree, so a key made here is
	 * given to keyd's user like the rest of the store. */
	if (keyd_tor_key(&k.d.conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (mkdir_p(k.d.conf.paths.hosts_dir, 0755) == -1)
		fatal("cannot create %s", k.d.conf.paths.hosts_dir);
	/* After the drop keyd must still write hosts/ and own its keys.
	 * Started as its own user (a unit's User=, a container), it cannot
	 * take over records root wrote there (`onionmesh import`, `join`),
	 * and need not: it reads them, and replaces them through the
	 * folder, which must be its own. */
	if (k.d.ids.privsep) {
		if (chown_tree(k.d.conf.paths.keys_dir, k.d.ids.uid[D_KEYD],
		    k.d.ids.gid[D_KEYD], err, sizeof(err)) == -1)
			fatalx("%s", err);
		if (geteuid() != 0 && chown_if(k.d.conf.paths.hosts_dir,
		    k.d.ids.uid[D_KEYD], k.d.ids.gid[D_KEYD]) == -1)
			fatal("cannot give %s to uid %u (make it keyd's)",
			    k.d.conf.paths.hosts_dir,
			    (unsigned)k.d.ids.uid[D_KEYD]);
		if (geteuid() == 0 && chown_tree(k.d.conf.paths.hosts_dir,
		    k.d.ids.uid[D_KEYD], k.d.ids.gid[D_KEYD], err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
	} else if (chown_tree(k.d.conf.paths.keys_dir, geteuid(), getegid(),
	    err, sizeof(err)) == -1)
		fatalx("%s", err);

	records_init(&k.recs);
	bad = records_load_dir(&k.recs, k.d.conf.paths.hosts_dir, k.netid);
	if (bad == -1)
		fatal("cannot read %s", k.d.conf.paths.hosts_dir);
	rc = records_own_refresh(&k.recs, &k.d.conf, k.netid,
	    k.d.ids.privsep, k.d.ids.uid[D_KEYD], k.d.ids.gid[D_KEYD], err,
	    sizeof(err));
	if (rc == -1)
		fatalx("%s", err);
	log_info("%s: %zu records%s", k.d.conf.paths.hosts_dir, k.recs.n,
	    bad > 0 ? " (some files skipped, see above)" : "");

	/* tor's group, looked up while keyd may still stat the cookie's
	 * folder and read /etc/group. */
	keyd_tor_group(&k);
	/* IPC after the drop: SO_PEERCRED reports the uid a socket had
	 * when it listened or connected, and the peers expect keyd's. */
	daemon_drop(&k.d);
	keyd_dispatch_start(&k);
	/* The first connection to tor is made from the loop, so after the
	 * drop and inside the sandbox. */
	if (keyd_tor_apply(&k) == -1)
		fatalx("cannot publish the onion service with tor_control = "
		    "%s (see above)", k.d.conf.tor_control);
	log_info("ready (member %s%s%s)", k.d.conf.name,
	    keys_onion_addr() ? ", " : "",
	    keys_onion_addr() ? keys_onion_addr() : "");
	notify_ready(k.d.loop);
	ev_run(k.d.loop, 0);

	notify_stopping();
	log_info("shutting down");
	keyd_tor_stop(&k);
	keyd_dispatch_stop(&k);
	records_free(&k.recs);
	keys_wipe();
	return 0;
}
