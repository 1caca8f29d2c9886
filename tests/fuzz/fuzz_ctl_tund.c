/*
 * Fuzz target: tund's ctl handlers (tund/ctl.c, tund_ctl_cmds) on JSON
 * requests, with a tund whose device is configured but that has no
 * sockets. The request goes through the table as ipc.c's door sends
 * it: unknown commands and changes without the privilege are answered
 * there. See fuzz_ctl.h for the request path and the reply checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "tund/tund.h"
#include "tests/fuzz/fuzz_ctl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tund *td;

/* What the door in ipc.c does before a row's handler runs. */
static json_t *
tund_ctl_door(json_t *req, int may_change, void *arg)
{
	const struct ctl_cmd *c;

	c = ctl_cmd_find(tund_ctl_cmds, tund_nctl_cmds,
	    json_string_value(json_object_get(req, "cmd")));
	if (c == NULL)
		return json_error("unknown command");
	if (!may_change && ctl_cmd_changes(c, req))
		return json_error("changes tund's state");
	return c->fn(arg, req);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	if ((td = calloc(1, sizeof(*td))) == NULL)
		abort();
	conf_defaults(&td->d.conf);
	td->d.self = D_TUND;
	if (prefix_parse(&td->d.conf.ipv4, "10.77.0.3/16") == -1 ||
	    prefix_parse(&td->d.conf.ipv6, "fd12:3456:789a::3/48") == -1)
		abort();
	td->tun.fd = -1;
	snprintf(td->tun.ifname, sizeof(td->tun.ifname), "om-fuzz");
	td->tun.offloads = 0x67;
	td->dp.tun_fd = -1;
	td->dp.lfd = -1;
	td->dp.cfd = -1;
	td->up = 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ctl_one(data, size, tund_ctl_door, td);
	return 0;
}
