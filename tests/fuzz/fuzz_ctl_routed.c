/*
 * Fuzz target: routed's ctl handler (routed/ctl.c, routed_ctl) on JSON
 * requests, with a graph of three members (us and two peers, one link
 * up) and no channels, so "routes" recomputes the table the first time
 * and pushes nothing. See fuzz_ctl.h for the request path and the reply
 * checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routed/routed.h"
#include "tests/fuzz/fuzz_ctl.h"
#include "tests/fuzz/fuzz_records.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct routed *rd;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct record r, self;
	int i;

	fuzz_init();
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		abort();
	conf_defaults(&rd->d.conf);
	rd->d.self = D_ROUTED;
	graph_init(&rd->g);
	routed_fib_init(&rd->fib);
	routed_routes_init(&rd->routes);
	/* Us: a record of our own, as keyd sends it. */
	if (fuzz_record_make(&self, 0) == -1)
		abort();
	memcpy(self.name, "carol", 6);
	fuzz_fill(self.id, sizeof(self.id), 0x5a);
	(void)graph_set_self(&rd->g, self.id, self.name);
	if (graph_member_set(&rd->g, &self) == -1)
		abort();
	for (i = 0; i < 2; i++) {
		if (fuzz_record_make(&r, i) == -1 ||
		    graph_member_set(&rd->g, &r) == -1)
			abort();
	}
	if (graph_link_set(&rd->g, r.id, 2, 25000) == -1)
		abort();
	rd->have_tun = 1;
	snprintf(rd->tun.ifname, sizeof(rd->tun.ifname), "om-fuzz");
	rd->tun.mtu = 1400;
	rd->tun.up = 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ctl_one(data, size, routed_ctl, rd);
	return 0;
}
