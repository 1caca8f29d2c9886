/*
 * Fuzz target: routed's ctl handlers (routed/ctl.c, routed_ctl_cmds) on
 * JSON requests, with a graph of three members (us and two peers, one
 * link up) and no channels, so "routes" recomputes the table the first
 * time and pushes nothing. The request goes through the table as
 * ipc.c's door sends it: unknown commands and changes without the
 * privilege are answered there. See fuzz_ctl.h for the request path and
 * the reply checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "routed/routed.h"
#include "tests/fuzz/fuzz_ctl.h"
#include "tests/fuzz/fuzz_records.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct routed *rd;

/* What the door in ipc.c does before a row's handler runs. */
static json_t *
routed_ctl_door(json_t *req, int may_change, void *arg)
{
	const struct ctl_cmd *c;

	c = ctl_cmd_find(routed_ctl_cmds, routed_nctl_cmds,
	    json_string_value(json_object_get(req, "cmd")));
	if (c == NULL)
		return json_error("unknown command");
	if (!may_change && ctl_cmd_changes(c, req))
		return json_error("changes routed's state");
	return c->fn(arg, req);
}

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
	prefix_set_init(&rd->routes);
	routed_accept_init(&rd->acc);
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
	fuzz_ctl_one(data, size, routed_ctl_door, rd);
	return 0;
}
