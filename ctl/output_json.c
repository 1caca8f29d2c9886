/*
 * --json: the model each read command built, printed as it is. Scripts
 * and monitoring get exactly the facts the table shows, including which
 * daemons answered ("daemons": {"linkd": {"running": false, "error":
 * ...}}), with stable keys; stdout carries nothing but this one JSON
 * document, so `onionmesh status --json | jq` works even when the
 * command exits 1.
 */
#include "ctl/ctl.h"

#include <stdio.h>

static void
json_out(FILE *f, json_t *m)
{
	if (json_dumpf(m, f, JSON_INDENT(2) | JSON_SORT_KEYS) == -1) {
		ctl_warnx("cannot print the JSON output");
		return;
	}
	fputc('\n', f);
}

const struct output output_json = {
	.status = json_out,
	.peers = json_out,
	.links = json_out,
	.routes = json_out,
};
