/*
 * The ctl request every daemon answers the same way: "log", its log
 * level read or changed at run time (`onionmesh log [LEVEL]`).
 *
 *   {"cmd": "log"}                  {"ok": true, "daemon": "linkd",
 *                                    "level": "info"}
 *   {"cmd": "log", "level": "debug"} the same after the change, with
 *                                    "was": "info"; changing needs
 *                                    root or the daemon's own user,
 *                                    as every changing request does
 */
#ifndef OM_LOGCTL_H
#define OM_LOGCTL_H

#include <jansson.h>

#include "proto/dispatch.h"

/* The handler; the reply names the daemon by its log name
 * (log_init). A new reference, or NULL when out of memory. */
json_t *logctl_cmd(void *ctx, json_t *req);

/* The row every daemon's ctl table has: reading is open, setting a
 * level changes state. */
#define LOGCTL_ROW { "log", CTL_CHANGE_WITH, "level", logctl_cmd }

#endif
