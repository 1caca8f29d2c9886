/*
 * The key store: keyd's directory of secrets (mode 0700, files 0600).
 * Only keyd (and `onionmesh-keyd --genkey`, run by init) calls this.
 *
 *   identity  the member's Ed25519 secret key (seed), hex, one line
 *   onion     the onion service's ed25519 key as tor's ADD_ONION takes it
 */
#ifndef OM_KEYSTORE_H
#define OM_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

/* Create the identity if none exists (0), or leave it (1); -1 on error.
 * pk receives the public key either way. */
int keystore_identity_ensure(const char *keys_dir,
    uint8_t pk[crypto_sign_PUBLICKEYBYTES]) __attribute__((warn_unused_result));
/* Load the identity; sk is libsodium's 64-byte form. */
int keystore_identity_load(const char *keys_dir,
    uint8_t sk[crypto_sign_SECRETKEYBYTES], char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
