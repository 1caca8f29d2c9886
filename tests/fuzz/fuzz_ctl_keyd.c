/*
 * Fuzz target: keyd's ctl handlers (keyd/ctl.c, keyd_ctl_cmds) on JSON
 * requests, with a keyd holding two verified records and no channels.
 * The request goes through the table as ipc.c's door sends it: unknown
 * commands and changes without the privilege are answered there.
 * See fuzz_ctl.h for the request path and the reply checks. The config
 * paths point at a directory that does not exist, so "reload" (when the
 * input claims the privilege) fails reading the config and must say so,
 * without touching any file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyd/keyd.h"
#include "tests/fuzz/fuzz_ctl.h"
#include "tests/fuzz/fuzz_records.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyd *kd;

/* What the door in ipc.c does before a row's handler runs. */
static json_t *
keyd_ctl_door(json_t *req, int may_change, void *arg)
{
	const struct ctl_cmd *c;

	c = ctl_cmd_find(keyd_ctl_cmds, keyd_nctl_cmds,
	    json_string_value(json_object_get(req, "cmd")));
	if (c == NULL)
		return json_error("unknown command");
	if (!may_change && ctl_cmd_changes(c, req))
		return json_error("changes keyd's state");
	return c->fn(arg, req);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct record r;
	char text[RECORD_MAX_LEN + 1], err[512];
	int i, n;

	fuzz_init();
	if ((kd = calloc(1, sizeof(*kd))) == NULL)
		abort();
	if (conf_paths(&kd->d.conf.paths, "fuzz",
	    "/nonexistent-onionmesh-fuzz", err, sizeof(err)) == -1)
		abort();
	conf_defaults(&kd->d.conf);
	snprintf(kd->d.conf.name, sizeof(kd->d.conf.name), "alice");
	kd->d.self = D_KEYD;
	memcpy(kd->netid, fuzz_keys()->netid, sizeof(kd->netid));
	records_init(&kd->recs);
	for (i = 0; i < 2; i++) {
		if (fuzz_record_make(&r, i) == -1)
			abort();
		n = record_format(&r, text, sizeof(text), 1);
		if (n < 0 || records_put(&kd->recs, &r, text, (size_t)n) != 1)
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t before = kd->recs.n;

	fuzz_ctl_one(data, size, keyd_ctl_door, kd);
	/* A failed reload keeps the previous state. */
	FUZZ_CHECK(kd->recs.n == before);
	return 0;
}
