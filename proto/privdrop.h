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

/* privsep: -1 auto (yes when root, no otherwise), 0 no, 1 yes. Root
 * with auto or yes and a missing group or daemon user is an error: err
 * names every missing user and how to create it (running as root takes
 * an explicit privsep = no). */
int daemon_ids_resolve(struct daemon_ids *ids, int privsep, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* The same for daemon `self`; when the process already runs as that
 * daemon's user (onionmesh-<self>, gid onionmesh: a systemd unit's
 * User= and Group=), the ids are every daemon's as under privsep, and
 * privdrop() has nothing left to change. */
int daemon_ids_resolve_self(struct daemon_ids *ids, int privsep,
    enum daemon self, char *err, size_t errlen)
    __attribute__((warn_unused_result));
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
/* privdrop, keeping one supplementary group besides gid (keyd: tor's
 * cookie group, so it can read the cookie and use a group-writable
 * ControlSocket). Only root can set groups: as anyone else the current
 * groups must already be exactly {gid, extra}, else EPERM. */
int privdrop_extra_group(uid_t uid, gid_t gid, gid_t extra)
    __attribute__((warn_unused_result));
/* Give a path to the daemon that owns it (privsep only; else a no-op). */
int chown_for(const char *path, uid_t uid, gid_t gid)
    __attribute__((warn_unused_result));

#endif
