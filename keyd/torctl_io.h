/*
 * keyd's connection to tor's ControlPort, on the daemon's libev loop:
 * connect, authenticate, publish the member's onion service with
 * ADD_ONION and the stored key, follow tor's bootstrap, and when tor goes
 * away, reconnect and publish again.
 *
 * The service is added without Flags=Detach, so it lives exactly as long
 * as this control connection: if keyd dies, tor withdraws the service by
 * itself, and nothing stale is left for the next keyd to collide with.
 * On an orderly stop it is also withdrawn explicitly (DEL_ONION).
 *
 * The protocol text is parsed and formatted by proto/torctl.c; this file
 * holds only sockets, timers, the cookie file and the order of commands.
 */
#ifndef OM_KEYD_TORCTL_IO_H
#define OM_KEYD_TORCTL_IO_H

#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "proto/onion.h"

struct torctl_io;

struct torctl_io_cfg {
	struct ev_loop *loop;
	/* "unix:/path" (or just "/path"), "IPV4:PORT", "[IPV6]:PORT" or
	 * "localhost:PORT". */
	const char *control;
	/* The one method keyd uses (TORCTL_AUTH_*; 0 is SAFECOOKIE). A tor
	 * that does not offer it is refused with a message naming the
	 * config line that would accept what it offers: keyd never falls
	 * back to a weaker method by itself. */
	unsigned auth;
	/* The cookie file for SAFECOOKIE and COOKIE (conf_tor_cookie()).
	 * The COOKIEFILE of tor's PROTOCOLINFO is never read: whatever
	 * answers on the control socket could name any file keyd can
	 * read, and COOKIE would then send its content in the clear. */
	const char *cookie;
	/* Appended to "permission denied" errors (the control socket, the
	 * cookie): what keyd's groups are and how to change them. */
	const char *access_hint;
	/* For HASHEDPASSWORD; NULL or "" when none is configured. */
	const char *password;
	/* "ED25519-V3:<base64>", as onion_key_blob() makes it. Copied;
	 * the caller may wipe its own copy after start. NULL: no service,
	 * our tor only a client (onionmesh-keyd --join gives it the
	 * invitation's client key). */
	const char *key_blob;
	/* The service takes only the clients torctl_io_set_auth names
	 * (ADD_ONION Flags=V3Auth); 0: anyone who knows the address. */
	int client_auth;
	uint16_t virt_port;  /* port peers dial on the onion address */
	const char *target;  /* where tor sends them: "unix:/path", IP:PORT */
	/* Called on the loop whenever the status changes; may be NULL.
	 * It must not call torctl_io_stop(). */
	void (*on_change)(void *arg);
	void *arg;
};

struct torctl_io_status {
	int connected;       /* control connection open */
	int authenticated;
	int progress;        /* bootstrap 0..100, -1 not known */
	char tag[64];        /* bootstrap phase, "done" at 100 */
	char summary[128];
	int published;       /* tor accepted ADD_ONION for our key */
	char address[ONION_ADDR_LEN + 1]; /* ours, from the key */
	char service_id[ONION_ADDR_LEN + 1]; /* tor's, "" until published */
	char auth_method[16]; /* "SAFECOOKIE", ... or "" */
	char tor_version[64];
	unsigned desc_uploads; /* descriptors tor reported uploaded */
	size_t clients;        /* client keys the published service takes */
	size_t auth_services;  /* services tor took our client key for */
	size_t auth_refused;   /* ... and refused it for */
	size_t circuits_closed; /* rendezvous circuits of ours closed when
	                         * a member was revoked */
	unsigned connects;     /* successful authentications so far */
	char last_error[1024]; /* "" when none since the last publish */
	/* tor's user cannot reach the target socket (checked on every
	 * connection with tor's uid and gid from SO_PEERCRED); "" when it
	 * can or when this is not known (a TCP control port). */
	char target_error[512];
};

/* Copies cfg, checks it (the key, the target, the control address) and
 * starts connecting. NULL, with a log line naming the bad value, when
 * the configuration is unusable; a tor that is not there yet is not an
 * error: it is retried (1 s, doubling, at most 30 s apart). */
struct torctl_io *torctl_io_start(const struct torctl_io_cfg *cfg);
/* Withdraw the service (DEL_ONION, waiting at most 1 s for tor's
 * answer), close, stop every watcher, wipe the key and free. NULL is
 * fine. */
void torctl_io_stop(struct torctl_io *t);

/* Client authorization, given whole whenever it may have changed:
 * the x25519 public keys the service takes (sorted, no repeats; used
 * with cfg.client_auth), our secret (NULL: none) and the services our
 * tor is to reach with it. Copied. When tor's copy differs it is
 * given again: DEL_ONION and ADD_ONION with the new clients (only when
 * they changed), ONION_CLIENT_AUTH_ADD for services new or with a new
 * key, ONION_CLIENT_AUTH_REMOVE for services gone; on every new
 * control connection all of it. cut (a member was revoked): then also
 * close the service's rendezvous circuits (GETINFO circuit-status,
 * CLOSECIRCUIT), which tor keeps through DEL_ONION and serves again
 * after ADD_ONION: every member dials again, the revoked one cannot.
 * Not for a used invitation: it would cut the join in progress. 0, or
 * -1 (logged; nothing changed). */
int torctl_io_set_auth(struct torctl_io *t,
    const uint8_t (*clients)[ONION_AUTH_KEY_BYTES], size_t nclients,
    int cut, const uint8_t *our_sk,
    const char (*svcs)[ONION_ADDR_LEN + 1], size_t nsvcs);

void torctl_io_get_status(const struct torctl_io *t,
    struct torctl_io_status *st);
/* {"control", "cookie", "connected", "authenticated", "auth",
 *  "tor_version",
 *  "bootstrap": {"progress", "tag", "summary"}, "published", "address",
 *  "service_id", "desc_uploads", "connects", "last_error",
 *  "target_error", "client_auth", "clients", "client_keys_given",
 *  "circuits_closed"};
 *  null for
 * what is not known. Never holds anything secret. */
json_t *torctl_io_status_json(const struct torctl_io *t);

#endif
