/*
 * Reloading keyd (SIGHUP, ctl "reload"): re-read the config and hosts/,
 * re-sign our record, and push everything again. The new state is built
 * aside and only replaces the old one when all of it loaded, so a
 * failed reload keeps the previous state whole.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keyd/keyd.h"
#include "proto/log.h"

/* The config and records a reload would switch to, in nc and ns. 0, or
 * -1 with err and nothing held. */
static int
reload_load(struct keyd *k, struct conf *nc, struct keyd_records *ns,
    int *bad, char *err, size_t errlen)
{
	memset(nc, 0, sizeof(*nc));
	nc->paths = k->d.conf.paths;
	if (conf_load(nc, err, errlen) == -1)
		return -1;
	/* Paths and the process set-up stay as they were at start. */
	nc->paths = k->d.conf.paths;

	/* Onion mode turned on: our record needs the onion key now. */
	if (keyd_tor_key(nc, err, errlen) == -1)
		return -1;

	records_init(ns);
	*bad = records_load_dir(ns, nc->paths.hosts_dir, k->netid);
	if (*bad == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s",
		    nc->paths.hosts_dir, strerror(errno));
		records_free(ns);
		return -1;
	}
	if (records_own_refresh(ns, nc, k->netid, 0, 0, 0, err,
	    errlen) == -1) {
		records_free(ns);
		return -1;
	}
	return 0;
}

int
keyd_reload(struct keyd *k, char *err, size_t errlen)
{
	struct keyd_records ns;
	struct conf nc;
	size_t i;
	int bad;

	if (reload_load(k, &nc, &ns, &bad, err, errlen) == -1)
		return -1;

	/* Tell the peers at once about members that are gone; the full
	 * resend below would drop them too, this is only sooner. */
	for (i = 0; i < k->recs.n; i++) {
		if (records_find(&ns, k->recs.v[i].rec.id) != NULL)
			continue;
		log_info("record of %s is gone", k->recs.v[i].rec.name);
		push_record_del(k, k->recs.v[i].rec.id);
	}

	records_free(&k->recs);
	k->recs = ns;
	gossip_records_changed(k);
	nc.privsep = k->d.conf.privsep;
	nc.sandbox = k->d.conf.sandbox;
	k->d.conf = nc;
	log_info("reloaded: %zu records%s", k->recs.n,
	    bad > 0 ? " (some files skipped, see above)" : "");
	push_all(k);
	/* The records are in; a tor that cannot be used is logged and
	 * does not undo them. */
	(void)keyd_tor_apply(k);
	return 0;
}
