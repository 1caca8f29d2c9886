/*
 * Can a given uid with a given set of groups reach a folder? Used by
 * `onionmesh up` before it starts the daemons: each runs as its own user
 * and needs to pass through every parent of its folders (a -d DIR under
 * a 0700 parent made keyd and routed fail with only "did not answer").
 *
 * Pure logic over stat(2) results: the kernel's rule for the mode bits
 * (owner, else a group in the set, else others; uid 0 passes folders
 * always), without ACLs or capabilities other than root's. A path that
 * does not exist yet stops the walk: whoever creates it decides.
 */
#ifndef OM_REACH_H
#define OM_REACH_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct reach_who {
	uid_t uid;
	const gid_t *gids;       /* primary group first */
	size_t ngids;
};

/* Do the mode bits of st give `who` every access in want (R_OK, W_OK,
 * X_OK from unistd.h, or'ed)? 1 yes, 0 no. */
int reach_mode_allows(const struct stat *st, const struct reach_who *who,
    int want);

/* Walk the absolute path: `who` must pass (X_OK) through every existing
 * folder above it, and have `want` on path itself when it exists. 0
 * when so; -1 with why naming the folder, its owner, group and mode, and
 * the access missing, not the uid (errno EACCES), or an error of stat
 * other than ENOENT/ENOTDIR. */
int reach_path(const char *path, const struct reach_who *who, int want,
    char *why, size_t whylen);

#endif
