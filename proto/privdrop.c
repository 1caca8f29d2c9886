/*
 * Privilege separation: the uid and gid of each daemon, and the one-way
 * drop a daemon makes once its privileged set-up is done.
 *
 * The drop follows OpenBSD's daemons: supplementary groups, then gid,
 * then uid (in that order, since after setresuid we could no longer
 * change groups), each with setres* so the saved ids go too, and a check
 * that root cannot be regained. Capabilities are cleared with the raw
 * capset syscall (no libcap: one struct and one call), the bounding and
 * ambient sets emptied while we still may, and PR_SET_NO_NEW_PRIVS makes
 * sure no execve can hand any of it back. Cores are off for every
 * daemon: a core of keyd holds keys, and the others hold session keys.
 *
 * privdrop_keepcap() is the same drop for the one daemon that needs a
 * capability at run time (tund: CAP_NET_ADMIN, to change routes as
 * members come and go). PR_SET_KEEPCAPS keeps the permitted set across
 * setresuid; right after, capset leaves that one capability effective
 * and permitted and nothing else, none inheritable, so ambient is empty
 * too and the bounding set stays empty: no execve can carry it on. The
 * "no way back to root" check runs after the capset, when CAP_SETUID is
 * gone from every set.
 */
#include "proto/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/capability.h>

#include "proto/log.h"

static const enum daemon privsep_daemons[] = {
	D_TUND, D_LINKD, D_KEYD, D_ROUTED
};
#define NDAEMONS (sizeof(privsep_daemons) / sizeof(privsep_daemons[0]))

int
daemon_ids_resolve(struct daemon_ids *ids, int privsep, char *err,
    size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	char user[64], missing[160] = "";
	size_t i, n;
	int d;

	memset(ids, 0, sizeof(*ids));
	/* Without privsep every daemon is the caller, and so is every
	 * peer the IPC uid check expects. */
	for (d = 0; d < D_COUNT; d++) {
		ids->uid[d] = getuid();
		ids->gid[d] = getgid();
	}
	ids->group = getgid();
	if (privsep == 0)
		return 0;

	if (geteuid() != 0) {
		if (privsep == 1) {
			snprintf(err, errlen, "privsep = yes needs root, but "
			    "this runs as uid %u; start as root or set "
			    "privsep = no", (unsigned)geteuid());
			return -1;
		}
		return 0;
	}

	/* Root in auto mode runs privsep or nothing: quietly running
	 * every daemon as root because a user is missing would turn a
	 * packaging slip into a root-owned keyd and linkd. Running as root
	 * on purpose takes an explicit privsep = no. */
	errno = 0;
	if ((gr = getgrnam(PRIVSEP_GROUP)) == NULL) {
		snprintf(err, errlen, "group %s does not exist; create it "
		    "with \"groupadd --system %s\" (or run scripts/deps.sh, "
		    "or install deploy/sysusers.d), or set privsep = no to "
		    "run every daemon as root", PRIVSEP_GROUP,
		    PRIVSEP_GROUP);
		return -1;
	}
	ids->group = gr->gr_gid;

	for (i = 0; i < NDAEMONS; i++) {
		d = privsep_daemons[i];
		snprintf(user, sizeof(user), "onionmesh-%s", daemon_name(d));
		if ((pw = getpwnam(user)) == NULL) {
			n = strlen(missing);
			snprintf(missing + n, sizeof(missing) - n, "%s%s",
			    n ? ", " : "", user);
			continue;
		}
		if (pw->pw_uid == 0) {
			snprintf(err, errlen, "user %s has uid 0; a daemon "
			    "user must not be root", user);
			return -1;
		}
		ids->uid[d] = pw->pw_uid;
		/* Each daemon runs with the shared group as its gid, so
		 * the 0660 sockets and the 03771 run dir (group
		 * onionmesh) are reachable by every sibling. */
		ids->gid[d] = gr->gr_gid;
	}
	if (missing[0] != '\0') {
		snprintf(err, errlen, "privsep %s: the daemon user%s %s "
		    "do%s not exist; create %s with \"useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin --gid %s "
		    "NAME\" (or run scripts/deps.sh, or install "
		    "deploy/sysusers.d), or set privsep = no to run every "
		    "daemon as root", privsep == 1 ? "= yes" : "is auto and "
		    "this runs as root, but", strchr(missing, ',') ? "s" :
		    "", missing, strchr(missing, ',') ? "" : "es",
		    strchr(missing, ',') ? "them" : "it", PRIVSEP_GROUP);
		return -1;
	}
	/* ctl is whoever runs the command; root here. */
	ids->uid[D_CTL] = getuid();
	ids->gid[D_CTL] = gr->gr_gid;
	ids->privsep = 1;
	return 0;
}

/* Empty the bounding and ambient sets; needs CAP_SETPCAP, so only while
 * we are still root. Errors past the kernel's last cap are expected. */
static int
privdrop_bounding(void)
{
	int cap;

	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == -1)
		return 0; /* no bounding set support at all */
	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == -1)
			break; /* EINVAL: past the last cap */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EPERM)
			return -1;
	}
	return 0;
}

/* Do our capability sets hold exactly `want` (effective and
 * permitted), nothing inheritable? */
/* Our capability sets (all three words), or -1. */
static int
privdrop_capget(struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct hdr;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(*data) * _LINUX_CAPABILITY_U32S_3);
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capget, &hdr, data);
}

static int
privdrop_caps_are(const uint32_t *want)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (privdrop_capget(data) == -1)
		return -1;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != want[i] ||
		    data[i].permitted != want[i] || data[i].inheritable)
			return 0;
	return 1;
}

/* Leave exactly `keep` (a CAP_* number, or -1 for none) effective and
 * permitted, nothing inheritable; read back to be sure. No capset when
 * the sets are that already: a daemon started by systemd as its own
 * user without capabilities has nothing to drop, and its unit's
 * SystemCallFilter= refuses capset (EPERM). */
static int
privdrop_caps(int keep)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint32_t want[_LINUX_CAPABILITY_U32S_3];
	int r;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	memset(want, 0, sizeof(want));
	if (keep >= 0)
		want[CAP_TO_INDEX(keep)] = CAP_TO_MASK(keep);
	if ((r = privdrop_caps_are(want)) != 0)
		return r == 1 ? 0 : -1;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		data[i].effective = data[i].permitted = want[i];
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	/* Read back: every set must be what we asked for. */
	if ((r = privdrop_caps_are(want)) != 1) {
		if (r == 0)
			errno = EPERM;
		return -1;
	}
	return 0;
}

/* Is capability `cap` in our permitted set now? */
static int
privdrop_permitted(int cap)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (privdrop_capget(data) == -1)
		return 0;
	return (data[CAP_TO_INDEX(cap)].permitted & CAP_TO_MASK(cap)) != 0;
}

/* Is every gid of a[0..na) one of b[0..nb)? */
static int
gids_within(const gid_t *a, int na, const gid_t *b, int nb)
{
	int i, j;

	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (a[i] == b[j])
				break;
		if (j == nb)
			return 0;
	}
	return 1;
}

/* Are our supplementary groups exactly `want` (any order)? */
static int
privdrop_groups_are(const gid_t *want, int nwant)
{
	gid_t have[64];
	int n;

	if ((n = getgroups(64, have)) == -1)
		return 0;
	return gids_within(have, n, want, nwant) &&
	    gids_within(want, nwant, have, n);
}

static int
privdrop_common(uid_t uid, gid_t gid, int keep, const gid_t *extra)
{
	struct rlimit rl = {0, 0};
	gid_t groups[2] = {gid, gid};
	int ngroups = 1;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (extra != NULL && *extra != gid)
		groups[ngroups++] = *extra;
	if (keep >= 0 && !privdrop_permitted(keep)) {
		/* Nothing to keep: say so rather than run without it. */
		errno = EPERM;
		return -1;
	}
	if (geteuid() == 0 && privdrop_bounding() == -1)
		return -1;

	if (getresgid(&rg, &eg, &sg) == -1 ||
	    getresuid(&ru, &eu, &su) == -1)
		return -1;
	if (rg != gid || eg != gid || sg != gid || ru != uid || eu != uid ||
	    su != uid) {
		if (geteuid() == 0 && setgroups((size_t)ngroups,
		    groups) == -1)
			return -1;
		if (setresgid(gid, gid, gid) == -1)
			return -1;
		/* Keep the permitted set across the uid change (the kernel
		 * would clear it); capset below trims it to `keep`. */
		if (keep >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
			return -1;
		if (setresuid(uid, uid, uid) == -1)
			return -1;
		if (keep >= 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			return -1;
	}
	if (keep >= 0 && privdrop_caps(keep) == -1)
		return -1;
	/* Paranoia, as OpenBSD's daemons: there is no way back to root. */
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		errno = EPERM;
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || ru != uid || eu != uid ||
	    su != uid || getresgid(&rg, &eg, &sg) == -1 || rg != gid ||
	    eg != gid || sg != gid ||
	    (extra != NULL && !privdrop_groups_are(groups, ngroups))) {
		errno = EPERM;
		return -1;
	}

	if (keep < 0 && privdrop_caps(-1) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	return 0;
}

int
privdrop(uid_t uid, gid_t gid)
{
	return privdrop_common(uid, gid, -1, NULL);
}

int
privdrop_extra_group(uid_t uid, gid_t gid, gid_t extra)
{
	return privdrop_common(uid, gid, -1, &extra);
}

int
privdrop_keepcap(uid_t uid, gid_t gid, int cap)
{
	if (cap < 0 || cap > CAP_LAST_CAP) {
		errno = EINVAL;
		return -1;
	}
	return privdrop_common(uid, gid, cap, NULL);
}

int
chown_for(const char *path, uid_t uid, gid_t gid)
{
	/* Without privsep the ids are the caller's: nothing to give. */
	if (uid == geteuid() && gid == getegid())
		return 0;
	return chown(path, uid, gid);
}

/*
 * A daemon started as its own user from the start (a systemd unit's
 * User=onionmesh-keyd, Group=onionmesh) has nothing to drop, but its
 * siblings still run as theirs: the IPC uid checks need every daemon's
 * uid as under privsep. Anything else goes to daemon_ids_resolve.
 */
int
daemon_ids_resolve_self(struct daemon_ids *ids, int privsep,
    enum daemon self, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	char user[64];
	size_t i;
	int d;

	snprintf(user, sizeof(user), "onionmesh-%s", daemon_name(self));
	if (geteuid() == 0 || privsep == 0 || (pw = getpwuid(geteuid())) ==
	    NULL || strcmp(pw->pw_name, user) != 0)
		return daemon_ids_resolve(ids, privsep, err, errlen);

	memset(ids, 0, sizeof(*ids));
	if ((gr = getgrnam(PRIVSEP_GROUP)) == NULL) {
		snprintf(err, errlen, "running as %s, but group %s does not "
		    "exist; install deploy/sysusers.d (or run "
		    "scripts/deps.sh)", user, PRIVSEP_GROUP);
		return -1;
	}
	if (getegid() != gr->gr_gid) {
		snprintf(err, errlen, "running as %s with gid %u, but a "
		    "daemon's gid must be group %s (%u), which its siblings "
		    "share: start it with Group=%s (or setpriv --regid %s)",
		    user, (unsigned)getegid(), PRIVSEP_GROUP,
		    (unsigned)gr->gr_gid, PRIVSEP_GROUP, PRIVSEP_GROUP);
		return -1;
	}
	ids->group = gr->gr_gid;
	for (i = 0; i < NDAEMONS; i++) {
		d = privsep_daemons[i];
		snprintf(user, sizeof(user), "onionmesh-%s", daemon_name(d));
		if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0) {
			snprintf(err, errlen, "user %s %s; its siblings need "
			    "one user each: install deploy/sysusers.d (or "
			    "run scripts/deps.sh)", user, pw == NULL ?
			    "does not exist" : "has uid 0");
			return -1;
		}
		ids->uid[d] = pw->pw_uid;
		ids->gid[d] = gr->gr_gid;
	}
	ids->uid[D_CTL] = 0;
	ids->gid[D_CTL] = gr->gr_gid;
	ids->privsep = 1;
	return 0;
}
