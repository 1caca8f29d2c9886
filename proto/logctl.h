/*
 * The ctl request every daemon answers the same way: "log", its log
 * level read or changed at run time (`onionmesh log [LEVEL]`).
 *
 *   {"cmd": "log"}                  {"ok": true, "daemon": "linkd",
 *                                    "level": "info"}
 *   {"cmd": "log", "level": "debug"} the same after the change, with
 *                                    "was": "info"; changing needs
 *                                    may_change (root or the daemon's
 *                                    own user), as every changing
 *                                    request does
 */
#ifndef OM_LOGCTL_H
#define OM_LOGCTL_H

#include <jansson.h>

/* daemon: "keyd", ... for the reply. A new reference, or NULL when out
 * of memory. */
json_t *logctl_handle(json_t *req, int may_change, const char *daemon);

#endif
