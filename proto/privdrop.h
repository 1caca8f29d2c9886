/*
 * Privilege separation: which uid each daemon runs as, and giving up
 * privileges once the privileged set-up is done (OpenBSD style: set the
 * groups, gid, uid; drop every capability; PR_SET_NO_NEW_PRIVS; no core
 * dumps, since a core of keyd would hold keys).
 *
 * With privsep each daemon has its own system user, onionmesh-<daemon>,
 * all in the group "onionmesh" (scripts/deps.sh and deploy/ create them);
 * sockets are 0660 group onionmesh. Without privsep (an unprivileged
 * trial) every daemon runs as the caller and the uid check on IPC
 * expects the caller's uid.
 */
#ifndef OM_PRIVDROP_H
#define OM_PRIVDROP_H

#include <sys/types.h>

#include "proto/msg.h"

#define PRIVSEP_GROUP "onionmesh"

struct daemon_ids {
	int privsep;
	uid_t uid[D_COUNT];
	gid_t gid[D_COUNT];
	gid_t group;          /* onionmesh group (privsep) or caller's gid */
};

/* privsep: -1 auto (yes when root and the users exist), 0 no, 1 yes
 * (an error if the users are missing; err names the missing user and
 * how to create it). */
int daemon_ids_resolve(struct daemon_ids *ids, int privsep, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Become uid/gid (when different from now) and drop every capability.
 * 0 or -1 with errno; the caller treats -1 as fatal. */
int privdrop(uid_t uid, gid_t gid) __attribute__((warn_unused_result));
/* The same drop, but capability `cap` (a CAP_* number) stays effective
 * and permitted, and nothing else: no other capability, none
 * inheritable or ambient, an empty bounding set. For tund, which
 * changes routes at run time. -1 with errno (EPERM when `cap` is not
 * permitted to begin with: nothing to keep). */
int privdrop_keepcap(uid_t uid, gid_t gid, int cap)
    __attribute__((warn_unused_result));
/* Give a path to the daemon that owns it (privsep only; else a no-op). */
int chown_for(const char *path, uid_t uid, gid_t gid)
    __attribute__((warn_unused_result));

#endif
