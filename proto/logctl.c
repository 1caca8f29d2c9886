/*
 * The "log" ctl request (see logctl.h): one implementation for the four
 * daemons, so `onionmesh log` finds the same reply and the same rule
 * (reading is for anyone on the socket, changing for root or the
 * daemon's own user) everywhere.
 */
#include "proto/logctl.h"

#include <stdio.h>

#include "proto/json.h"
#include "proto/log.h"

json_t *
logctl_cmd(void *ctx, json_t *req)
{
	json_t *lv = json_object_get(req, "level");
	const char *daemon = log_getname();
	int level, was = log_getlevel();

	(void)ctx;
	if (lv == NULL)
		return json_pack("{s:b, s:s, s:s}", "ok", 1, "daemon", daemon,
		    "level", log_level_name(was));
	if (!json_is_string(lv) ||
	    (level = log_level_parse(json_string_value(lv))) == -1)
		return json_error("log level %s%.64s%s is not one of warn, "
		    "info, debug", json_is_string(lv) ? "\"" : "",
		    json_is_string(lv) ? json_string_value(lv) :
		    "(not a string)", json_is_string(lv) ? "\"" : "");
	/* Changing needs root or the daemon's own user: the ctl door
	 * (ipc.c) has checked that before this runs (LOGCTL_ROW). */
	log_setlevel(level);
	/* Said at warn so the change shows whatever the level. */
	if (level != was)
		log_warnx("log level %s (was %s), changed at run time",
		    log_level_name(level), log_level_name(was));
	return json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "daemon", daemon,
	    "level", log_level_name(level), "was", log_level_name(was));
}
