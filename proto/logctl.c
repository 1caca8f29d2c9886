/*
 * The "log" ctl request (see logctl.h): one implementation for the four
 * daemons, so `onionmesh log` finds the same reply and the same rule
 * (reading is for anyone on the socket, changing for root or the
 * daemon's own user) everywhere.
 */
#include "proto/logctl.h"

#include <stdio.h>

#include "proto/ipc.h"
#include "proto/log.h"

json_t *
logctl_handle(json_t *req, int may_change, const char *daemon)
{
	json_t *lv = json_object_get(req, "level");
	char msg[256];
	int level, was = log_getlevel();

	if (lv == NULL)
		return json_pack("{s:b, s:s, s:s}", "ok", 1, "daemon", daemon,
		    "level", log_level_name(was));
	if (!json_is_string(lv) ||
	    (level = log_level_parse(json_string_value(lv))) == -1) {
		snprintf(msg, sizeof(msg), "log level %.64s%s%s is not one of "
		    "warn, info, debug", json_is_string(lv) ? "\"" : "",
		    json_is_string(lv) ? json_string_value(lv) :
		    "(not a string)", json_is_string(lv) ? "\"" : "");
		return ipc_ctl_error_reply(msg);
	}
	if (!may_change) {
		snprintf(msg, sizeof(msg), "changing %s's log level needs "
		    "root or %s's own user", daemon, daemon);
		return ipc_ctl_error_reply(msg);
	}
	log_setlevel(level);
	/* Said at warn so the change shows whatever the level. */
	if (level != was)
		log_warnx("log level %s (was %s), changed at run time",
		    log_level_name(level), log_level_name(was));
	return json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "daemon", daemon,
	    "level", log_level_name(level), "was", log_level_name(was));
}
