/*
 * Fuzz target: the config file (proto/conf.c). It is written by root
 * or by `onionmesh init`, so it is only semi-trusted input, but every
 * daemon parses it before it drops privileges.
 *
 * Input: the text of onionmesh.conf. When conf_parse accepts it,
 * conf_format must write it (every value the parser accepts can be
 * written), and parsing that text again must give the same struct:
 * what `onionmesh init` writes is what the daemons will read.
 * conf_check runs on it too (its answer is not checked: many parsed
 * configs fail its cross checks on purpose).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/conf.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (256 * 1024)

static struct conf *ca, *cb;
static char *out, *out2;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	ca = malloc(sizeof(*ca));
	cb = malloc(sizeof(*cb));
	out = malloc(OUT_CAP);
	out2 = malloc(OUT_CAP);
	if (ca == NULL || cb == NULL || out == NULL || out2 == NULL)
		abort();
	return 0;
}

static void
fresh(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	conf_defaults(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	char *text;
	int n, m, i;

	/* Exactly size bytes: ASan sees a read past the end. */
	text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	fresh(ca);
	err[0] = '\0';
	if (conf_parse(ca, "fuzz.conf", text, size, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		free(text);
		return 0;
	}
	free(text);
	FUZZ_CHECK(ca->nconnect >= 0 && ca->nconnect <= CONF_MAX_PEERS);
	FUZZ_CHECK(ca->nnoconnect >= 0 && ca->nnoconnect <= CONF_MAX_PEERS);
	FUZZ_CHECK(ca->nsubnets >= 0 && ca->nsubnets <= CONF_MAX_SUBNETS);
	FUZZ_CHECK(ca->name[0] == '\0' || name_valid(ca->name));
	for (i = 0; i < ca->nconnect; i++)
		FUZZ_CHECK(name_valid(ca->connect[i]));
	FUZZ_CHECK(ca->mtu >= 1280 && ca->mtu <= 65535);
	FUZZ_CHECK(ca->circuits >= 1 && ca->circuits <= 16);
	(void)conf_check(ca, err, sizeof(err));

	n = conf_format(ca, out, OUT_CAP);
	FUZZ_CHECK(n > 0 && (size_t)n < OUT_CAP);
	FUZZ_CHECK(strlen(out) == (size_t)n);
	fresh(cb);
	if (conf_parse(cb, "formatted", out, (size_t)n, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "formatted config does not parse: %s\n%s\n",
		    err, out);
		FUZZ_CHECK(!"formatted config parses");
	}
	if (memcmp(ca, cb, sizeof(*ca)) != 0) {
		fprintf(stderr, "config changed through format+parse:\n%s\n",
		    out);
		FUZZ_CHECK(!"format+parse keeps the config");
	}
	/* And the canonical text is a fixed point. */
	m = conf_format(cb, out2, OUT_CAP);
	FUZZ_CHECK(m == n && memcmp(out, out2, (size_t)n) == 0);
	return 0;
}
