/*
 * om-ctl: one raw JSON request to a daemon's ctl socket, for the netns
 * tests and the benchmarks. The onionmesh command shows the daemons'
 * state in tables and asks only what its subcommands need; a test also
 * has to read counters no subcommand prints (linkd's "sessions") and to
 * send the test hooks no user should find in the CLI (linkd's
 * "debug_route"). This sends exactly what it is given and prints the
 * reply as one line of JSON.
 *
 *   om-ctl SOCKET 'JSON' [TIMEOUT_MS]
 *
 * Exit 0 when the daemon answered with "ok": true, 1 when it answered
 * "ok": false or not at all (the reason on stderr), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/ipc.h"

static void
usage(void)
{
	fprintf(stderr, "usage: om-ctl SOCKET 'JSON' [TIMEOUT_MS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	json_t *req, *rep;
	json_error_t jerr;
	char err[512], *text;
	long timeout = 5000;
	int ok;

	if (argc < 3 || argc > 4)
		usage();
	if (argc == 4) {
		char *end;

		timeout = strtol(argv[3], &end, 10);
		if (*end != '\0' || timeout < 1 || timeout > 600000) {
			fprintf(stderr, "om-ctl: timeout '%s': want "
			    "milliseconds, 1..600000\n", argv[3]);
			return 2;
		}
	}
	if ((req = json_loads(argv[2], 0, &jerr)) == NULL ||
	    !json_is_object(req)) {
		fprintf(stderr, "om-ctl: '%s' is not a JSON object: %s\n",
		    argv[2], req == NULL ? jerr.text : "not an object");
		json_decref(req);
		return 2;
	}
	rep = ipc_ctl_call(argv[1], req, (int)timeout, err, sizeof(err));
	json_decref(req);
	if (rep == NULL) {
		fprintf(stderr, "om-ctl: %s\n", err);
		return 1;
	}
	if ((text = json_dumps(rep, JSON_COMPACT)) != NULL) {
		printf("%s\n", text);
		free(text);
	}
	ok = json_is_true(json_object_get(rep, "ok"));
	if (!ok)
		fprintf(stderr, "om-ctl: %s\n", json_string_value(
		    json_object_get(rep, "error")) != NULL ?
		    json_string_value(json_object_get(rep, "error")) :
		    "the daemon said no");
	json_decref(rep);
	return ok ? 0 : 1;
}
