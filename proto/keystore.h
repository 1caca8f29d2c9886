/*
 * The key store: keyd's directory of secrets (mode 0700, files 0600).
 * Only keyd (and `onionmesh-keyd --genkey`, run by init) calls this.
 *
 *   identity  the member's Ed25519 secret key (seed), hex, one line
 *   onion     the onion service's Ed25519 seed, hex, one line (tor's
 *             ADD_ONION key is derived from it: proto/onion.h)
 *   client-auth  the member's x25519 key for onion client
 *             authorization, "x25519-secret <64 hex>" (issue 15: its
 *             public half is in the member's record, the secret goes
 *             to our tor only, for the other members' services)
 */
#ifndef OM_KEYSTORE_H
#define OM_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "proto/onion.h"

/* Create the identity if none exists (0), or leave it (1); -1 on error.
 * pk receives the public key either way. */
int keystore_identity_ensure(const char *keys_dir,
    uint8_t pk[crypto_sign_PUBLICKEYBYTES])
    __attribute__((warn_unused_result));
/* Load the identity; sk is libsodium's 64-byte form. */
int keystore_identity_load(const char *keys_dir,
    uint8_t sk[crypto_sign_SECRETKEYBYTES], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The onion service key, keys/onion: the same format, mode and checks
 * as the identity, a seed of its own, so the onion address is not
 * linked to the member id by anything but the signed record. Created
 * once (by --genkey, in onion mode or not) so the address stays the
 * same whenever tor is configured. ensure: 0 created, 1 kept, -1 error
 * (logged); pk (may be NULL) receives the service's public key. */
int keystore_onion_ensure(const char *keys_dir,
    uint8_t pk[ONION_PK_BYTES]) __attribute__((warn_unused_result));
/* Load it as tor wants it: k->expanded is secret (onion_key_wipe). 0,
 * or -1 with the path and the reason (never the content) in err. */
int keystore_onion_load(const char *keys_dir, struct onion_key *k,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* keys/client-auth, the same way: ensure 0 created, 1 kept, -1 error
 * (logged), pk (may be NULL) the public half; load the secret (wipe
 * it), 0 or -1 with err. */
int keystore_client_auth_ensure(const char *keys_dir,
    uint8_t pk[ONION_AUTH_KEY_BYTES]) __attribute__((warn_unused_result));
int keystore_client_auth_load(const char *keys_dir,
    uint8_t sk[ONION_AUTH_KEY_BYTES], char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
