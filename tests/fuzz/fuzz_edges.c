/*
 * Fuzz target: edge announcements (proto/edges.c), which every member
 * gossips to every other and which are parsed before their signature is
 * checked.
 *
 * Input: the text of an announcement. When edges_parse accepts it,
 * edges_format must give back exactly the same bytes (the text is what
 * is signed: one spelling only), the unsigned form must be its prefix,
 * the peers must be sorted with no repeats and never the announcer (so
 * edges_find finds each of them), and edges_verify must agree with a
 * check of the signature done here over edges_signed_bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/edges.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (EDGES_MAX_LEN + 1024)

static struct edges *e;
static char *out;
static uint8_t *signed_buf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	e = malloc(sizeof(*e));
	out = malloc(OUT_CAP);
	signed_buf = malloc(EDGES_SIGNED_MAX);
	if (e == NULL || out == NULL || signed_buf == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	char err[512], *text;
	size_t i;
	int n, m, v, sb;

	/* Exactly size bytes: ASan sees a read past the end. */
	text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	err[0] = '\0';
	if (edges_parse(e, text, size, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	FUZZ_CHECK(e->npeers <= EDGES_MAX_PEERS);
	for (i = 0; i < e->npeers; i++) {
		FUZZ_CHECK(memcmp(e->peers[i].id, e->id,
		    MEMBER_ID_BYTES) != 0);
		if (i > 0)
			FUZZ_CHECK(memcmp(e->peers[i - 1].id, e->peers[i].id,
			    MEMBER_ID_BYTES) < 0);
		FUZZ_CHECK(edges_find(e, e->peers[i].id) == &e->peers[i]);
	}
	FUZZ_CHECK(edges_find(e, e->id) == NULL);

	n = edges_format(e, out, OUT_CAP, 1);
	FUZZ_CHECK(n >= 0);
	FUZZ_CHECK((size_t)n == size && memcmp(out, data, size) == 0);
	FUZZ_CHECK(edges_format(e, out, (size_t)n - 1, 1) == -1);
	m = edges_format(e, out, OUT_CAP, 0);
	FUZZ_CHECK(m > 0 && m < n && memcmp(out, data, (size_t)m) == 0);

	sb = edges_signed_bytes(e, k->netid, signed_buf, EDGES_SIGNED_MAX);
	FUZZ_CHECK(sb == (int)(sizeof(EDGES_SIG_CONTEXT) - 1 + NETID_BYTES) +
	    m);
	v = crypto_sign_verify_detached(e->signature, signed_buf,
	    (size_t)sb, e->id) == 0 ? 0 : -1;
	FUZZ_CHECK(edges_verify(e, k->netid) == v);
	/* Sorting what is sorted changes nothing. */
	FUZZ_CHECK(edges_sort(e) == 0);
	n = edges_format(e, out, OUT_CAP, 1);
	FUZZ_CHECK((size_t)n == size && memcmp(out, data, size) == 0);
out:
	free(text);
	return 0;
}
