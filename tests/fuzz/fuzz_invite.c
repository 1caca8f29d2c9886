/*
 * Fuzz target: invitations (proto/invite.c). The URL is pasted by a
 * person into `onionmesh join` and then dialed; the invite file is read
 * back by keyd from its key store. Both parsers are strict.
 *
 * Input: byte 0 chooses (even: the URL, odd: the invite file), the rest
 * is the text. For the URL (made a C string, as join gets it): when it
 * parses, formatting it must succeed and parse back to the same struct,
 * and the message buffer is left alone; when it does not, the struct is
 * all zeros and there is a message. For the file: when it parses,
 * invite_format must give back exactly the input bytes (one spelling).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/invite.h"
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

static void
one_url(const uint8_t *data, size_t size)
{
	struct invite_url u, u2;
	char err[256], out[INVITE_URL_MAX + 1];
	char *s;
	int n;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (invite_url_parse(&u, s, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(sodium_is_zero((const uint8_t *)&u, sizeof(u)));
		goto out;
	}
	FUZZ_CHECK(name_valid(u.net));
	FUZZ_CHECK(u.onion[0] != '\0' || u.tcp[0] != '\0');
	n = invite_url_format(&u, out, sizeof(out));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(out));
	/* Same length as the input: only the parameter order may differ. */
	FUZZ_CHECK((size_t)n == strlen(s));
	FUZZ_CHECK(invite_url_parse(&u2, out, err, sizeof(err)) == 0);
	FUZZ_CHECK(memcmp(&u, &u2, sizeof(u)) == 0);
	FUZZ_CHECK(invite_url_format(&u, out, (size_t)n) == -1);
out:
	free(s);
}

static void
one_file(const uint8_t *data, size_t size)
{
	struct invite iv;
	char err[256], out[INVITE_TEXT_MAX + 1];
	char *text;
	int n;

	/* A copy exactly size long: ASan catches a read past the end. */
	if ((text = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(text, data, size);
	err[0] = '\0';
	if (invite_parse(&iv, text, size, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	FUZZ_CHECK(name_valid(iv.name) && name_valid(iv.made_by));
	FUZZ_CHECK(iv.role == ROLE_MEMBER || iv.role == ROLE_ADMIN);
	FUZZ_CHECK(iv.nsubnets >= 0 && iv.nsubnets <= RECORD_MAX_SUBNETS);
	n = invite_format(&iv, out, sizeof(out));
	FUZZ_CHECK(n >= 0 && (size_t)n == size &&
	    memcmp(out, data, size) == 0);
out:
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		one_file(data + 1, size - 1);
	else
		one_url(data + 1, size - 1);
	return 0;
}
