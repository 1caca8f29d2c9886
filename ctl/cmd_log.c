/*
 * onionmesh log [LEVEL]: each running daemon's log level, or a new one
 * for all four at run time (warn, info, debug), through the "log" ctl
 * request every daemon answers (proto/logctl.h). The config's
 * `loglevel` is what a daemon starts with; this changes the running
 * daemons only, until they restart.
 *
 * Exit 0 when every daemon answered, 1 when one did not or refused
 * (not running; not root or the daemon's user, for a change), 2 for a
 * LEVEL that is not a level.
 */
#include "ctl/ctl.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "proto/ipc.h"
#include "proto/log.h"

#define LOG_TIMEOUT_MS 3000

/* One request to one daemon; the reply ("ok" true) or NULL and err. */
static json_t *
log_call(struct ctl *c, const char *daemon, const char *level, char *err,
    size_t errlen)
{
	char name[32], path[PATH_MAX], e[512];
	json_t *req, *rep;

	snprintf(name, sizeof(name), IPC_CTL_FMT, daemon);
	if (ipc_path(path, sizeof(path), c->paths.run_dir, name) == -1) {
		snprintf(err, errlen, "socket path %.300s/%s is too long",
		    c->paths.run_dir, name);
		return NULL;
	}
	req = level != NULL ? json_pack("{s:s, s:s}", "cmd", "log", "level",
	    level) : json_pack("{s:s}", "cmd", "log");
	if (req == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e[0] = '\0';
	rep = ipc_ctl_call(path, req, LOG_TIMEOUT_MS, e, sizeof(e));
	json_decref(req);
	if (rep == NULL) {
		snprintf(err, errlen, "%.500s", e[0] ? e : "not running");
		return NULL;
	}
	if (!json_is_object(rep) || !json_is_true(json_object_get(rep,
	    "ok"))) {
		snprintf(err, errlen, "refused: %.500s", ctl_json_str(rep,
		    "error", "no reason given"));
		json_decref(rep);
		return NULL;
	}
	return rep;
}

int
cmd_log(struct ctl *c, int argc, char **argv)
{
	char *pos[1], err[600];
	const char *level = NULL, *was;
	json_t *rep;
	int n, rc, i, failed = 0;

	if ((rc = ctl_getopt(c, argc, argv, NULL, pos, 0, 1, &n)) != CTL_OK)
		return rc;
	if (n == 1) {
		if (log_level_parse(pos[0]) == -1)
			return ctl_usage(c, "log level `%s' is not one of "
			    "warn, info, debug", pos[0]);
		level = log_level_name(log_level_parse(pos[0]));
	}
	for (i = 0; i < CTL_NDAEMONS; i++) {
		rep = log_call(c, ctl_daemons[i], level, err, sizeof(err));
		if (rep == NULL) {
			printf("%-7s -\n", ctl_daemons[i]);
			ctl_warnx("%s: %s", ctl_daemons[i], err);
			failed = 1;
			continue;
		}
		was = ctl_json_str(rep, "was", NULL);
		if (was != NULL && strcmp(was, ctl_json_str(rep, "level",
		    "")) != 0)
			printf("%-7s %s (was %s)\n", ctl_daemons[i],
			    ctl_json_str(rep, "level", "?"), was);
		else
			printf("%-7s %s\n", ctl_daemons[i],
			    ctl_json_str(rep, "level", "?"));
		json_decref(rep);
	}
	return failed ? CTL_FAIL : CTL_OK;
}
