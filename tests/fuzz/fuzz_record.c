/*
 * Fuzz target: host records (proto/record.c), which arrive from other
 * members (gossip, import, hosts/ files) and are parsed before their
 * signature is checked.
 *
 * Input: the text of a record. When record_parse accepts it,
 * record_format must give back exactly the same bytes: the text is the
 * canonical form that is signed, so two spellings of one record would
 * let a signature cover something other than what is stored. The
 * unsigned form must be a prefix of the signed one, and keyd's
 * records_check (parse + name + signature, for the fuzz netid) and
 * record_verify must agree. The claims rules (proto/claims.h) run on
 * every record that parses, against the two fixed records: a reason in
 * range, never a clash with itself, and the order that settles clashes
 * total and antisymmetric (else members could disagree on a winner),
 * and every subnet of an accepted record its own (issue 14: admitted
 * or the root's or pinned). The same bytes are also read as a grant
 * (proto/trust.h): one that parses formats back to exactly them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyd/keyd.h"
#include "proto/claims.h"
#include "proto/record.h"
#include "proto/trust.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_records.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *out;
#define OUT_CAP (2 * RECORD_MAX_LEN)
static struct record fixed[2];
static struct claims_net cnet;

static const struct record *
fixed_at(void *arg, size_t i)
{
	return &fixed[i];
}

/* The claims rules on r (parsed) against the fixed records. */
static void
claims_props(const struct record *r)
{
	struct prefix p;
	int rc, i, ab, ba;

	rc = claims_own(&cnet, r, NULL, 0);
	FUZZ_CHECK(rc >= CLAIM_OK && rc < CLAIM_NREASONS);
	if (rc == CLAIM_OK && r->ipv4.family == 4)
		FUZZ_CHECK(prefix_contains(&cnet.v4, 4, r->ipv4.addr));
	if (rc == CLAIM_OK) {
		ipv6_member_addr(&p, cnet.netid, r->id);
		FUZZ_CHECK(prefix_equal(&p, &r->ipv6));
		for (i = 0; i < r->nsubnets; i++)
			FUZZ_CHECK(claims_subnet_owned(&cnet, r,
			    &r->subnets[i]));
	}
	FUZZ_CHECK(claims_clash(r, r, NULL, 0) == CLAIM_OK);
	FUZZ_CHECK(!claims_precedes(&cnet, r, r));
	for (i = 0; i < 2; i++) {
		ab = claims_precedes(&cnet, r, &fixed[i]);
		ba = claims_precedes(&cnet, &fixed[i], r);
		FUZZ_CHECK(!(ab && ba));
		FUZZ_CHECK(ab || ba || memcmp(r->id, fixed[i].id,
		    MEMBER_ID_BYTES) == 0);
		FUZZ_CHECK((claims_clash(r, &fixed[i], NULL, 0) ==
		    CLAIM_OK) == (claims_clash(&fixed[i], r, NULL, 0) ==
		    CLAIM_OK));
	}
	rc = claims_check(&cnet, r, fixed_at, NULL, 2, NULL, 0);
	FUZZ_CHECK(rc >= CLAIM_OK && rc < CLAIM_NREASONS);
}

/* The input as a grant: canonical when it parses. */
static void
grant_props(const char *text, size_t size)
{
	struct grant g;
	char err[256];
	int n;

	err[0] = '\0';
	if (grant_parse(&g, text, size, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(g.nsubnets >= 1 && g.nsubnets <= RECORD_MAX_SUBNETS);
	n = grant_format(&g, out, OUT_CAP, 1);
	FUZZ_CHECK(n >= 0 && (size_t)n == size &&
	    memcmp(out, text, size) == 0);
	FUZZ_CHECK(grant_covers(&g, &g.subnets[0]));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct prefix v4;

	fuzz_init();
	if ((out = malloc(OUT_CAP)) == NULL)
		abort();
	if (fuzz_record_make(&fixed[0], 0) == -1 ||
	    fuzz_record_make(&fixed[1], 1) == -1 ||
	    prefix_parse(&v4, "10.77.0.1/16") == -1)
		abort();
	claims_net_init(&cnet, &v4, fuzz_keys()->netid, fixed[0].id, 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct record *r, *r2;
	char err[512], kerr[KEYD_ERRLEN];
	char *text;
	int n, m, v, i;

	if (size > OUT_CAP)
		return 0;
	r = malloc(sizeof(*r));
	r2 = malloc(sizeof(*r2));
	if (r == NULL || r2 == NULL)
		abort();
	/* A copy exactly size long: ASan catches a read past the end. */
	text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	grant_props(text, size);
	err[0] = '\0';
	if (record_parse(r, text, size, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	FUZZ_CHECK(name_valid(r->name));
	FUZZ_CHECK(r->ntcp >= 0 && r->ntcp <= RECORD_MAX_TCP);
	FUZZ_CHECK(r->nsubnets >= 0 && r->nsubnets <= RECORD_MAX_SUBNETS);
	FUZZ_CHECK(r->nadmitted_subnets >= 0 &&
	    r->nadmitted_subnets <= RECORD_MAX_SUBNETS);
	FUZZ_CHECK(r->nadmitted_subnets == 0 || r->admitted);
	FUZZ_CHECK(r->ipv6.family == 6 && r->ipv6.len == 128);
	FUZZ_CHECK(r->ipv4.family == 0 ||
	    (r->ipv4.family == 4 && r->ipv4.len == 32));
	FUZZ_CHECK(r->onion[0] == '\0' || onion_addr_valid(r->onion));

	n = record_format(r, out, OUT_CAP, 1);
	FUZZ_CHECK(n >= 0);
	FUZZ_CHECK((size_t)n == size && memcmp(out, data, size) == 0);
	m = record_format(r, out, OUT_CAP, 0);
	FUZZ_CHECK(m > 0 && m < n && memcmp(out, data, (size_t)m) == 0);
	/* Too little room is refused. */
	FUZZ_CHECK(record_format(r, out, (size_t)n - 1, 1) == -1);
	FUZZ_CHECK(record_parse(r2, (const char *)data, size, err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(memcmp(r->id, r2->id, sizeof(r->id)) == 0);

	v = record_verify(r, k->netid);
	FUZZ_CHECK(records_check(r2, r->name, text, size, k->netid, kerr,
	    sizeof(kerr)) == (v == 0 ? 0 : -1));
	/* Another name for the file is refused whatever the signature. */
	FUZZ_CHECK(records_check(r2, "x-not-the-name-x", text, size,
	    k->netid, kerr, sizeof(kerr)) == -1 ||
	    strcmp(r->name, "x-not-the-name-x") == 0);

	/* Address ownership matches what the record lists. */
	if (r->ipv4.family == 4)
		FUZZ_CHECK(record_owns_addr(r, 4, r->ipv4.addr));
	FUZZ_CHECK(record_owns_addr(r, 6, r->ipv6.addr));
	for (i = 0; i < r->nsubnets; i++)
		FUZZ_CHECK(record_owns_addr(r, r->subnets[i].family,
		    r->subnets[i].addr));
	claims_props(r);
out:
	free(text);
	free(r);
	free(r2);
	return 0;
}
