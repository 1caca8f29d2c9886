/*
 * Two fixed, signed host records for the fuzz targets and the seed
 * generator: "alice" (TCP endpoint, IPv4, a subnet) and "bob" (onion
 * address, admitted by alice), and alice's edge announcement. All are
 * signed for the fuzz netid, so seeds verify and daemon state built
 * from them is realistic.
 */
#ifndef OM_FUZZ_RECORDS_H
#define OM_FUZZ_RECORDS_H

#include <stdlib.h>
#include <string.h>

#include "proto/edges.h"
#include "proto/onion.h"
#include "proto/record.h"
#include "tests/fuzz/fuzz_common.h"

/* which: 0 alice, 1 bob. 0, or -1 if the library refused to build it. */
static inline int
fuzz_record_make(struct record *r, int which)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct onion_key ok;
	uint8_t seed[ONION_SEED_BYTES];

	memset(r, 0, sizeof(*r));
	if (which == 0) {
		snprintf(r->name, sizeof(r->name), "alice");
		memcpy(r->id, k->sign_pk, sizeof(r->id));
		snprintf(r->tcp[0], sizeof(r->tcp[0]), "127.0.0.1:6550");
		r->ntcp = 1;
		if (prefix_parse(&r->ipv4, "10.77.0.1") == -1 ||
		    prefix_parse(&r->subnets[0], "192.168.77.0/24") == -1)
			return -1;
		r->nsubnets = 1;
		r->serial = 1;
	} else {
		snprintf(r->name, sizeof(r->name), "bob");
		memcpy(r->id, k->sign2_pk, sizeof(r->id));
		fuzz_fill(seed, sizeof(seed), 0xaa);
		if (onion_key_from_seed(&ok, seed) == -1)
			return -1;
		onion_addr_from_pk(r->onion, ok.pk);
		onion_key_wipe(&ok);
		if (prefix_parse(&r->ipv4, "10.77.0.2") == -1)
			return -1;
		r->serial = 7;
		r->admitted = 1;
		memcpy(r->admitted_by, k->sign_pk, sizeof(r->admitted_by));
		/* Not checked yet (issue 4): any 64 bytes do. */
		crypto_sign_detached(r->admission, NULL, r->id,
		    sizeof(r->id), k->sign_sk);
	}
	ipv6_member_addr(&r->ipv6, k->netid, r->id);
	return record_sign(r, which == 0 ? k->sign_sk : k->sign2_sk,
	    k->netid);
}

/* alice's signed edge announcement: links to bob and to carol (id
 * 0x5a...), sorted as the format wants. Caller frees; NULL on failure
 * (the struct is large: 512 peers). */
static inline struct edges *
fuzz_edges_make(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct edges *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	memcpy(e->id, k->sign_pk, sizeof(e->id));
	e->serial = 1700000000123ULL;
	e->npeers = 2;
	memcpy(e->peers[0].id, k->sign2_pk, sizeof(e->peers[0].id));
	e->peers[0].rtt_us = 25000;
	fuzz_fill(e->peers[1].id, sizeof(e->peers[1].id), 0x5a);
	if (edges_sort(e) == -1 || edges_sign(e, k->sign_sk, k->netid) == -1) {
		free(e);
		return NULL;
	}
	return e;
}

#endif
