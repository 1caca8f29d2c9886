/*
 * Fuzz target: revocations (proto/trust.c), which arrive by gossip from
 * any member and are parsed before their signature is checked.
 *
 * Input: the text of a revocation. When revocation_parse accepts it,
 * revocation_format must give back exactly the same bytes (the text is
 * the signed form), the unsigned form must be a prefix of it, and
 * revocation_verify must agree with a direct Ed25519 check over
 * revocation_signed_bytes, for the fuzz netid. revocation_check runs
 * with the fuzz key as the root and no records held: it may accept only
 * what verifies and is signed by that root.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/trust.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static const struct record *
no_record(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct revocation v;
	uint8_t buf[REVOCATION_SIGNED_MAX];
	char err[256], out[REVOCATION_MAX_LEN + 1], why[256];
	char *text;
	int n, m, sb, ok, ck;

	if (size > 2 * REVOCATION_MAX_LEN)
		return 0;
	if ((text = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(text, data, size);
	err[0] = '\0';
	if (revocation_parse(&v, text, size, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	n = revocation_format(&v, out, sizeof(out), 1);
	FUZZ_CHECK(n >= 0 && (size_t)n == size &&
	    memcmp(out, data, size) == 0);
	m = revocation_format(&v, out, sizeof(out), 0);
	FUZZ_CHECK(m > 0 && m < n && memcmp(out, data, (size_t)m) == 0);
	FUZZ_CHECK(revocation_format(&v, out, (size_t)n, 1) == -1);
	sb = revocation_signed_bytes(&v, k->netid, buf, sizeof(buf));
	FUZZ_CHECK(sb > 0);
	ok = crypto_sign_verify_detached(v.signature, buf, (size_t)sb,
	    v.by) == 0;
	FUZZ_CHECK((revocation_verify(&v, k->netid) == 0) == ok);
	ck = revocation_check(&v, k->sign_pk, k->netid, no_record, NULL,
	    NULL, why, sizeof(why)) == 0;
	FUZZ_CHECK(!ck || (ok && memcmp(v.by, k->sign_pk, 32) == 0 &&
	    memcmp(v.revoked, k->sign_pk, 32) != 0));
out:
	free(text);
	return 0;
}
