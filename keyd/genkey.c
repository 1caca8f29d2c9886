/*
 * onionmesh-keyd --genkey: make sure the identity and the onion service
 * key exist (and, when the config exists, our signed record), print the
 * public key in hex and exit. `onionmesh init` runs this, so the command
 * never holds the key itself. The onion key is made whether or not tor
 * is configured, so a member's onion address is fixed from the start.
 *
 * No daemon_setup, because the config may not exist yet (init writes it
 * after it knows the key) and no run dir is needed.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/oneshot.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/privdrop.h"

/* The users the store goes to. Before the config exists (init's first
 * run) its privsep line is not known yet: privsep if the users are
 * there, else the caller's ids; the second run, with the config,
 * decides (and refuses privsep = auto without the users). */
static int
genkey_ids(const struct conf *c, int have_conf, struct daemon_ids *ids,
    char *err, size_t errlen)
{
	if (daemon_ids_resolve(ids, have_conf ? c->privsep : -1, err,
	    errlen) == -1 && (have_conf ||
	    daemon_ids_resolve(ids, 0, err, errlen) == -1))
		return -1;
	return 0;
}

/* The keys folder and both keys, owned by whoever will run keyd. 0, or
 * -1 after saying why. */
static int
genkey_store(const struct conf *c, const struct daemon_ids *ids,
    uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	char err[KEYD_ERRLEN];

	if (keyd_keys_dir_ensure(c->paths.keys_dir, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	/* Every key a member may need, here, before the store is given to
	 * keyd's user: a keyd that starts as that user (a container, a
	 * unit with User=) could not read one root made later. */
	if (keystore_identity_ensure(c->paths.keys_dir, pk) == -1 ||
	    keystore_onion_ensure(c->paths.keys_dir, NULL) == -1 ||
	    keystore_client_auth_ensure(c->paths.keys_dir, NULL) == -1)
		return -1; /* keystore logged why */
	/* The first run, before the config exists, assumes privsep; once
	 * the config says privsep = no, the store goes back to whoever runs
	 * keyd (it keeps no capability to read another user's files). */
	if (keyd_chown_tree(c->paths.keys_dir, ids->privsep ?
	    ids->uid[D_KEYD] : geteuid(), ids->privsep ? ids->gid[D_KEYD] :
	    getegid(), err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/* With the config: our record, signed, in hosts/. 0, or -1 after
 * saying why. */
static int
genkey_own_record(const struct conf *c, const struct daemon_ids *ids)
{
	uint8_t netid[NETID_BYTES];
	char err[KEYD_ERRLEN];
	struct keyd_records recs;
	int bad, rc;

	if (keys_load(c->paths.keys_dir, err, sizeof(err)) == -1 ||
	    keyd_tor_key(c, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		keys_wipe();
		return -1;
	}
	netid_derive(netid, c->paths.net, c->root);
	records_init(&recs);
	bad = records_load_dir(&recs, c->paths.hosts_dir, netid);
	if (bad == -1 && errno != ENOENT) {
		log_warn("cannot read %s", c->paths.hosts_dir);
		return -1;
	}
	rc = records_own_refresh(&recs, c, netid, ids->privsep,
	    ids->uid[D_KEYD], ids->gid[D_KEYD], err, sizeof(err));
	records_free(&recs);
	keys_wipe();
	if (rc == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (ids->privsep && chown_for(c->paths.hosts_dir, ids->uid[D_KEYD],
	    ids->gid[D_KEYD]) == -1) {
		log_warn("cannot give %s to uid %u", c->paths.hosts_dir,
		    (unsigned)ids->uid[D_KEYD]);
		return -1;
	}
	return 0;
}

int
keyd_genkey(int argc, char **argv)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 1], err[KEYD_ERRLEN];
	struct daemon_ids ids;
	static struct conf c;
	int have_conf;

	if (keyd_oneshot_setup(argc, argv, &c) == -1)
		return 1;
	have_conf = access(c.paths.conf_file, F_OK) == 0;
	if (have_conf && conf_load(&c, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (genkey_ids(&c, have_conf, &ids, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (genkey_store(&c, &ids, pk) == -1)
		return 1;
	if (have_conf && genkey_own_record(&c, &ids) == -1)
		return 1;

	hex_encode(hex, pk, sizeof(pk));
	printf("%s\n", hex);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return 1;
	}
	return 0;
}
