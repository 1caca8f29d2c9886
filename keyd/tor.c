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
 * the same control port leaves the running connection alone.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "keyd/torctl_io.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/onion.h"

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

void
keyd_tor_stop(struct keyd *k)
{
	if (k->tor == NULL)
		return;
	torctl_io_stop(k->tor);
	k->tor = NULL;
	k->tor_control[0] = '\0';
	memset(&k->tor_last, 0, sizeof(k->tor_last));
}

int
keyd_tor_apply(struct keyd *k)
{
	const struct conf *c = &k->d.conf;
	struct torctl_io_cfg cfg;
	char blob[ONION_BLOB_LEN + 1], target[CONF_ADDR_LEN];

	if (!keyd_onion_mode(c)) {
		if (k->tor != NULL)
			log_info("tor: onion mode is off in %s; withdrawing "
			    "the onion service", c->paths.conf_file);
		keyd_tor_stop(k);
		keys_onion_wipe();
		return 0;
	}
	if (k->tor != NULL && strcmp(k->tor_control, c->tor_control) == 0)
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
	log_info("tor: publishing %s (port %d to %s) through %s",
	    keys_onion_addr(), DEFAULT_PORT, target, c->tor_control);
	return 0;
}
