/*
 * Fuzz target: onion addresses and keys (proto/onion.c). Addresses come
 * in host records and in tor's replies (ServiceID=, HS_DESC events); the
 * key blob is read back from keyd's key store.
 *
 * Input: one mode byte, then
 *   mode 0  a string for onion_addr_valid. A valid address must be
 *           the canonical spelling of its key: decoding its id and
 *           encoding the key again gives the same 62 characters.
 *   mode 1  bytes for onion_id_decode (the 56-character service id),
 *           with the same round trip.
 *   mode 2  a string for onion_key_from_blob; an accepted blob must be
 *           exactly what onion_key_blob writes for that key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/onion.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static void
mode_addr(const char *s)
{
	uint8_t pk[ONION_PK_BYTES];
	char again[ONION_ADDR_LEN + 1];

	if (!onion_addr_valid(s)) {
		/* The id part of an invalid address may still decode (bad
		 * suffix), but then the whole string is not canonical. */
		return;
	}
	FUZZ_CHECK(strlen(s) == ONION_ADDR_LEN);
	FUZZ_CHECK(strcmp(s + ONION_ID_LEN, ".onion") == 0);
	FUZZ_CHECK(onion_id_decode(pk, s, ONION_ID_LEN) == 0);
	onion_addr_from_pk(again, pk);
	FUZZ_CHECK(strcmp(again, s) == 0);
}

static void
mode_id(const uint8_t *p, size_t len)
{
	uint8_t pk[ONION_PK_BYTES];
	char again[ONION_ADDR_LEN + 1];
	char *exact;

	/* Exactly len bytes: ASan sees a read past n. */
	exact = malloc(len ? len : 1);
	if (exact == NULL)
		abort();
	memcpy(exact, p, len);
	if (onion_id_decode(pk, exact, len) == 0) {
		FUZZ_CHECK(len == ONION_ID_LEN);
		onion_addr_from_pk(again, pk);
		FUZZ_CHECK(memcmp(again, exact, ONION_ID_LEN) == 0);
		FUZZ_CHECK(onion_addr_valid(again));
		FUZZ_CHECK(onion_id_decode(NULL, exact, len) == 0);
	}
	free(exact);
}

static void
mode_blob(const char *s)
{
	struct onion_key k;
	char why[256], again[ONION_BLOB_LEN + 1];

	why[0] = '\0';
	if (onion_key_from_blob(&k, s, why, sizeof(why)) == -1) {
		FUZZ_CHECK(why[0] != '\0');
		/* The reason never quotes the secret. */
		FUZZ_CHECK(strlen(s) < 24 || strstr(why, s) == NULL);
		return;
	}
	FUZZ_CHECK(onion_key_blob(again, sizeof(again), &k) == 0);
	FUZZ_CHECK(strcmp(again, s) == 0);
	onion_key_wipe(&k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_strdup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		mode_addr(s);
		break;
	case 1:
		mode_id(data + 1, size - 1);
		break;
	default:
		mode_blob(s);
		break;
	}
	free(s);
	return 0;
}
