/*
 * keyd's identity key: the one place in onionmesh that holds a member's
 * long-term secret in memory. It is loaded once, before keyd drops its
 * privileges, into memory from sodium_malloc (guard pages, locked, never
 * in a core dump), and only three operations reach it: X25519 with the
 * key's Curve25519 form (linkd's Noise static DH), Ed25519 signatures,
 * and signing host records. Nothing here returns or logs the secret.
 *
 * The X25519 secret is derived from the Ed25519 one with libsodium's
 * crypto_sign_ed25519_sk_to_curve25519, so a member has one key and its
 * Noise static key is the Montgomery form of its id
 * (crypto_sign_ed25519_pk_to_curve25519), as the record promises.
 *
 * The join channel (keyd/join.c, an invitation's handshake) has a
 * static X25519 key of its own, derived one way from the identity
 * secret (keyed BLAKE2b, so it is stable across restarts and needs no
 * file): keys_dh, which linkd may call for its link handshakes, never
 * uses it, so a compromised linkd cannot finish a joiner's handshake
 * and read the invitation's secret. Only keys_join_dh does, for
 * join_serve.c.
 *
 * The onion service key lives here too, in its own locked allocation,
 * loaded only when the member is in onion mode. Its one use is the
 * ADD_ONION argument, which keys_onion_blob() formats for torctl_io (the
 * caller wipes it); its address is public and kept apart. So does the
 * onion client authorization key (keys/client-auth, issue 15): its
 * public half goes into our record, its secret only to torctl_io, for
 * ONION_CLIENT_AUTH_ADD.
 *
 * keys_sign (our edge announcements) refuses the admission, grant and
 * revocation domains, and any prefix of them: those are signed only
 * through keys_sign_admission / keys_sign_revocation /
 * keys_sign_grant, which build the signed bytes themselves from a
 * struct. Nothing outside keyd can ask for a signature (linkd's rpc
 * is DH only).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keyd/keyd.h"
#include "proto/keystore.h"
#include "proto/log.h"
#include "proto/onion.h"
#include "proto/trust.h"

struct keys_secret {
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t dh_sk[crypto_scalarmult_curve25519_SCALARBYTES];
	uint8_t join_sk[crypto_scalarmult_curve25519_SCALARBYTES];
};

#define JOIN_KEY_CONTEXT "onionmesh join static key v1\n"

static struct keys_secret *secret;
static struct onion_key *onion_secret;
static char onion_addr[ONION_ADDR_LEN + 1];
static uint8_t *client_auth_sk;
static uint8_t client_auth_pk[ONION_AUTH_KEY_BYTES];

static void keys_id_wipe(void);
static uint8_t id_pk[crypto_sign_PUBLICKEYBYTES];
static uint8_t dh_pk[crypto_scalarmult_curve25519_BYTES];
static uint8_t join_pk[crypto_scalarmult_curve25519_BYTES];

int
keys_load(const char *keys_dir, char *err, size_t errlen)
{
	uint8_t check[crypto_scalarmult_curve25519_BYTES];

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	keys_id_wipe();
	secret = sodium_malloc(sizeof(*secret));
	if (secret == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory for the "
		    "identity key");
		return -1;
	}
	if (keystore_identity_load(keys_dir, secret->sk, err, errlen) == -1)
		goto fail;
	crypto_sign_ed25519_sk_to_pk(id_pk, secret->sk);
	if (crypto_sign_ed25519_sk_to_curve25519(secret->dh_sk,
	    secret->sk) != 0 ||
	    crypto_scalarmult_curve25519_base(dh_pk, secret->dh_sk) != 0) {
		snprintf(err, errlen, "identity key in %s cannot be converted "
		    "to X25519", keys_dir);
		goto fail;
	}
	/* The peers compute our Noise static key from our id; make sure
	 * both ways agree before anyone relies on it. */
	if (crypto_sign_ed25519_pk_to_curve25519(check, id_pk) != 0 ||
	    sodium_memcmp(check, dh_pk, sizeof(check)) != 0) {
		snprintf(err, errlen, "identity key in %s: X25519 forms of "
		    "the secret and public key differ", keys_dir);
		goto fail;
	}
	if (crypto_generichash(secret->join_sk, sizeof(secret->join_sk),
	    (const uint8_t *)JOIN_KEY_CONTEXT, sizeof(JOIN_KEY_CONTEXT) - 1,
	    secret->sk, sizeof(secret->sk)) != 0 ||
	    crypto_scalarmult_curve25519_base(join_pk, secret->join_sk) !=
	    0) {
		snprintf(err, errlen, "identity key in %s: cannot derive the "
		    "join key", keys_dir);
		goto fail;
	}
	return 0;
fail:
	keys_id_wipe();
	return -1;
}

int
keys_loaded(void)
{
	return secret != NULL;
}

const uint8_t *
keys_id(void)
{
	return id_pk;
}

const uint8_t *
keys_dh_pub(void)
{
	return dh_pk;
}

const uint8_t *
keys_join_pub(void)
{
	return join_pk;
}

/* X25519 of sk (a secret kept here) with pub. */
static int
dh_with(uint8_t out[32], const uint8_t *sk, const uint8_t pub[32])
{
	/* crypto_scalarmult already fails on an all-zero result; the
	 * explicit check keeps the rule visible and independent of the
	 * library's build options. */
	if (crypto_scalarmult_curve25519(out, sk, pub) != 0 ||
	    sodium_is_zero(out, 32)) {
		sodium_memzero(out, 32);
		return -1;
	}
	return 0;
}

int
keys_dh(uint8_t out[32], const uint8_t pub[32])
{
	if (secret == NULL) {
		sodium_memzero(out, 32);
		return -1;
	}
	return dh_with(out, secret->dh_sk, pub);
}

int
keys_join_dh(uint8_t out[32], const uint8_t pub[32])
{
	if (secret == NULL) {
		sodium_memzero(out, 32);
		return -1;
	}
	return dh_with(out, secret->join_sk, pub);
}

/* Does m start with ctx, or is it a non-empty prefix of it? */
static int
in_domain(const uint8_t *m, size_t n, const char *ctx)
{
	size_t c = strlen(ctx);

	if (n < c)
		return n > 0 && memcmp(m, ctx, n) == 0;
	return memcmp(m, ctx, c) == 0;
}

int
keys_sign_domain_ok(const uint8_t *m, size_t n)
{
	return !in_domain(m, n, ADMISSION_CONTEXT) &&
	    !in_domain(m, n, ADMISSION_CONTEXT2) &&
	    !in_domain(m, n, REVOCATION_CONTEXT) &&
	    !in_domain(m, n, GRANT_CONTEXT);
}

int
keys_sign(uint8_t sig[64], const uint8_t *m, size_t n)
{
	if (secret == NULL)
		return -1;
	if (!keys_sign_domain_ok(m, n)) {
		sodium_memzero(sig, 64);
		return -1;
	}
	if (crypto_sign_detached(sig, NULL, m, n, secret->sk) != 0)
		return -1;
	return 0;
}

int
keys_sign_record(struct record *r, const uint8_t netid[NETID_BYTES])
{
	if (secret == NULL)
		return -1;
	if (sodium_memcmp(r->id, id_pk, sizeof(id_pk)) != 0)
		return -1;
	return record_sign(r, secret->sk, netid);
}

/* sig over the n bytes a *_signed_bytes() made (n < 0: it could not):
 * the admission and revocation domains, which keys_sign refuses. */
static int
keys_sign_signed_bytes(uint8_t sig[64], const uint8_t *buf, int n)
{
	if (n < 0)
		return -1;
	if (crypto_sign_detached(sig, NULL, buf, (size_t)n, secret->sk) != 0)
		return -1;
	return 0;
}

int
keys_sign_admission(struct record *r, const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[ADMISSION_SIGNED_MAX];

	if (secret == NULL)
		return -1;
	memcpy(r->admitted_by, id_pk, sizeof(id_pk));
	r->admitted = 1;
	return keys_sign_signed_bytes(r->admission, buf,
	    admission_signed_bytes(r, netid, buf, sizeof(buf)));
}

int
keys_sign_revocation(struct revocation *v, const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[REVOCATION_SIGNED_MAX];

	if (secret == NULL)
		return -1;
	/* The signer is part of what is signed. */
	memcpy(v->by, id_pk, sizeof(id_pk));
	return keys_sign_signed_bytes(v->signature, buf,
	    revocation_signed_bytes(v, netid, buf, sizeof(buf)));
}

int
keys_sign_grant(struct grant *g, const uint8_t netid[NETID_BYTES])
{
	uint8_t buf[GRANT_SIGNED_MAX];

	if (secret == NULL)
		return -1;
	memcpy(g->by, id_pk, sizeof(id_pk));
	return keys_sign_signed_bytes(g->signature, buf,
	    grant_signed_bytes(g, netid, buf, sizeof(buf)));
}

/* n bytes of locked memory for the key called what; NULL with err. */
static void *
keys_locked(size_t n, const char *what, char *err, size_t errlen)
{
	void *p;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return NULL;
	}
	if ((p = sodium_malloc(n)) == NULL)
		snprintf(err, errlen, "cannot allocate locked memory for the "
		    "%s", what);
	return p;
}

int
keys_onion_load(const char *keys_dir, char *err, size_t errlen)
{
	struct onion_key *k;

	if ((k = keys_locked(sizeof(*k), "onion service key", err,
	    errlen)) == NULL)
		return -1;
	if (keystore_onion_load(keys_dir, k, err, errlen) == -1) {
		sodium_free(k);
		return -1;
	}
	keys_onion_wipe();
	onion_secret = k;
	onion_addr_from_pk(onion_addr, k->pk);
	return 0;
}

const char *
keys_onion_addr(void)
{
	return onion_secret != NULL ? onion_addr : NULL;
}

int
keys_onion_blob(char *out, size_t cap)
{
	if (onion_secret == NULL)
		return -1;
	return onion_key_blob(out, cap, onion_secret);
}

void
keys_onion_wipe(void)
{
	if (onion_secret != NULL) {
		onion_key_wipe(onion_secret);
		sodium_free(onion_secret);
		onion_secret = NULL;
	}
	onion_addr[0] = '\0';
}

int
keys_client_auth_load(const char *keys_dir, char *err, size_t errlen)
{
	uint8_t *sk;

	if ((sk = keys_locked(ONION_AUTH_KEY_BYTES, "onion client "
	    "authorization key", err, errlen)) == NULL)
		return -1;
	if (keystore_client_auth_load(keys_dir, sk, err, errlen) == 0) {
		keys_client_auth_wipe();
		client_auth_sk = sk;
		onion_auth_pk_from_sk(client_auth_pk, sk);
		return 0;
	}
	sodium_free(sk);
	return -1;
}

const uint8_t *
keys_client_auth_pub(void)
{
	return client_auth_sk != NULL ? client_auth_pk : NULL;
}

const uint8_t *
keys_client_auth_secret(void)
{
	return client_auth_sk;
}

void
keys_client_auth_wipe(void)
{
	if (client_auth_sk != NULL) {
		sodium_free(client_auth_sk);
		client_auth_sk = NULL;
	}
	memset(client_auth_pk, 0, sizeof(client_auth_pk));
}

static void
keys_id_wipe(void)
{
	if (secret != NULL) {
		/* sodium_free wipes before it unmaps; the explicit zero
		 * does not depend on that. */
		sodium_memzero(secret, sizeof(*secret));
		sodium_free(secret);
		secret = NULL;
	}
}

void
keys_wipe(void)
{
	keys_id_wipe();
	keys_onion_wipe();
	keys_client_auth_wipe();
}
