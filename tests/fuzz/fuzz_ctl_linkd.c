/*
 * Fuzz target: linkd's ctl handlers (linkd/ctl.c, linkd_ctl_cmds) on
 * JSON requests, with a linkd that knows two members and has no links,
 * sessions or sockets. The request goes through the table as ipc.c's
 * door sends it: unknown commands and changes without the privilege are
 * answered there. "debug_route" (privileged) changes the route
 * overrides kept between inputs, which is fine: they are bounded
 * (ROUTE_DEBUG_MAX). See fuzz_ctl.h for the request path and the reply
 * checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "linkd/linkd.h"
#include "proto/dispatch.h"
#include "proto/json.h"
#include "tests/fuzz/fuzz_ctl.h"
#include "tests/fuzz/fuzz_records.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct linkd *ld;
static struct conf *conf;

/* What the door in ipc.c does before a row's handler runs. */
static json_t *
linkd_ctl_door(json_t *req, int may_change, void *arg)
{
	const struct ctl_cmd *c;

	c = ctl_cmd_find(linkd_ctl_cmds, linkd_nctl_cmds,
	    json_string_value(json_object_get(req, "cmd")));
	if (c == NULL)
		return json_error("unknown command");
	if (!may_change && ctl_cmd_changes(c, req))
		return json_error("changes linkd's state");
	return c->fn(arg, req);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct record r;
	int i;

	fuzz_init();
	ld = calloc(1, sizeof(*ld));
	conf = calloc(1, sizeof(*conf));
	if (ld == NULL || conf == NULL)
		abort();
	conf_defaults(conf);
	snprintf(conf->name, sizeof(conf->name), "carol");
	ld->conf = conf;
	TAILQ_INIT(&ld->peers);
	TAILQ_INIT(&ld->links);
	TAILQ_INIT(&ld->reap);
	ld->lfd = -1;
	ld->ofd = -1;
	ld->dp.fd = -1;
	e2e_init(ld);
	ld->self_known = 1;
	fuzz_fill(ld->self_id, sizeof(ld->self_id), 0x5a);
	snprintf(ld->self_name, sizeof(ld->self_name), "carol");
	hex_encode(ld->self_hex, ld->self_id, sizeof(ld->self_id));
	for (i = 0; i < 2; i++) {
		if (fuzz_record_make(&r, i) == -1 ||
		    peers_update(ld, &r) == NULL)
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ctl_one(data, size, linkd_ctl_door, ld);
	FUZZ_CHECK(ld->npeers == 2);
	FUZZ_CHECK(ld->routes.n >= 0 && ld->routes.n <= ROUTE_DEBUG_MAX);
	return 0;
}
