/*
 * onionmesh and systemd (see systemd.h). Which one runs a network is
 * decided by what the host says, never guessed: the supervisor when the
 * host has no systemd or -d DIR names a tree of its own (tests,
 * containers), systemctl when onionmesh@NET.target is enabled or
 * running. So `up` never starts a second set next to systemd's, and a
 * `down` stops what is there.
 *
 * keyd and tor's group. Debian's tor lets its group (debian-tor) use its
 * control socket and read its cookie. Under the supervisor keyd starts
 * as root and keeps that one group when it drops (proto/privdrop.c);
 * under systemd keyd starts as onionmesh-keyd and can add no group, so
 * its unit must: `up` writes
 * /etc/systemd/system/onionmesh-keyd@NET.service.d/50-tor.conf with
 * SupplementaryGroups= the group named by tor_group, else the group of
 * tor's cookie file (conf_tor_cookie: the config's or tor's default,
 * never what tor says), and Wants=tor.service; and removes it when the
 * config names no tor. A unit file cannot read our config, and
 * SupplementaryGroups= takes no variables, so a drop-in it is. The file
 * is rewritten only when its text changes, then systemd reloaded.
 */
#include "ctl/systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/clock.h"
#include "proto/file.h"
#include "proto/privdrop.h"
#include "proto/reach.h"

#define SYSTEMD_RUN    "/run/systemd/system"
#define SYSTEMD_ETC    "/etc/systemd/system"
#define TOR_DROPIN     "50-tor.conf"
#define SD_UP_WAIT     30.0  /* systemctl start returned: all READY=1 */
#define SYSTEMCTL_WAIT 90    /* seconds, for start/stop jobs */

/*
 * Run systemctl with args (NULL-terminated, without "systemctl"); its
 * output goes to ours unless quiet. The exit status, or -1 when it
 * could not run (printed) or ran longer than SYSTEMCTL_WAIT s.
 */
static int
systemctl(int quiet, const char *const *args)
{
	const char *argv[12];
	pid_t pid, r;
	int i, n = 0, st, fd;
	double end;

	argv[n++] = "systemctl";
	for (i = 0; args[i] != NULL && n < 11; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		ctl_warn("fork");
		return -1;
	}
	if (pid == 0) {
		if (quiet && (fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp("systemctl", (char *const *)argv);
		dprintf(2, "onionmesh: cannot run systemctl: %s\n",
		    strerror(errno));
		_exit(127);
	}
	end = mono_now() + SYSTEMCTL_WAIT;
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			ctl_warn("waitpid systemctl");
			return -1;
		}
		if (mono_now() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			ctl_warnx("systemctl %s did not finish within %d s",
			    args[0], SYSTEMCTL_WAIT);
			return -1;
		}
		usleep(50 * 1000);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 127 ? -1 : WEXITSTATUS(st);
	return -1;
}

static void
unit_name(char *out, size_t cap, const char *daemon, const char *net)
{
	if (daemon == NULL)
		snprintf(out, cap, "onionmesh@%s.target", net);
	else
		snprintf(out, cap, "onionmesh-%s@%s.service", daemon, net);
}

int
ctl_systemd_manages(struct ctl *c)
{
	char unit[128];
	const char *args[4];
	struct stat st;
	int i;

	if (c->dir != NULL || stat(SYSTEMD_RUN, &st) == -1 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	unit_name(unit, sizeof(unit), NULL, c->paths.net);
	args[0] = "is-enabled";
	args[1] = "--quiet";
	args[2] = unit;
	args[3] = NULL;
	if (systemctl(1, args) == 0)
		return 1;
	args[0] = "is-active";
	if (systemctl(1, args) == 0)
		return 1;
	for (i = 0; i < CTL_NDAEMONS; i++) {
		unit_name(unit, sizeof(unit), ctl_daemons[i], c->paths.net);
		if (systemctl(1, args) == 0)
			return 1;
	}
	return 0;
}

/*
 * The group keyd's unit must give it for tor, in out: tor_group, else
 * the cookie file's group. 1 found, 0 the config uses no tor control
 * port, -1 tor is configured but no group can be named (printed: keyd
 * will say what it misses).
 */
static int
tor_group(const struct conf *conf, char *out, size_t cap)
{
	char cookie[PATH_MAX];
	struct group *gr;
	struct stat st;

	if (conf->tor_control[0] == '\0')
		return 0;
	if (conf->tor_group[0] != '\0') {
		snprintf(out, cap, "%s", conf->tor_group);
		return 1;
	}
	if (conf_tor_cookie(conf, cookie, sizeof(cookie)) == -1 ||
	    stat(cookie, &st) == -1) {
		ctl_warnx("tor's cookie file %s is not there yet: keyd's "
		    "unit gets no group for tor; set tor_group = GROUP in "
		    "the config (Debian: debian-tor)", cookie);
		return -1;
	}
	if ((gr = getgrgid(st.st_gid)) == NULL || st.st_gid == 0 ||
	    !group_name_valid(gr->gr_name)) {
		ctl_warnx("tor's cookie file %s belongs to group %u, which "
		    "keyd's unit cannot be given; set tor_group = GROUP in "
		    "the config", cookie, (unsigned)st.st_gid);
		return -1;
	}
	snprintf(out, cap, "%s", gr->gr_name);
	return 1;
}

/* Write or remove keyd's drop-in; 1 when it changed, 0 not, -1 error. */
static int
tor_dropin(struct ctl *c, const struct conf *conf)
{
	char dir[PATH_MAX], path[PATH_MAX], group[64], text[1024], *old;
	size_t len;
	int r, n;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/onionmesh-keyd@%s."
	    "service.d", SYSTEMD_ETC, c->paths.net) >= sizeof(dir) - 16 ||
	    (size_t)snprintf(path, sizeof(path), "%s/" TOR_DROPIN, dir) >=
	    sizeof(path)) {
		ctl_warnx("network name %s is too long for a unit name",
		    c->paths.net);
		return -1;
	}
	if ((r = tor_group(conf, group, sizeof(group))) <= 0) {
		if (r == 0 && unlink(path) == 0)
			return 1;
		return 0;
	}
	n = snprintf(text, sizeof(text),
	    "# Written by `onionmesh -n %s up' from\n# %s:\n"
	    "# keyd reaches tor's control socket and cookie through tor's "
	    "group\n# (tor_group, else the cookie file's). Rewritten by "
	    "each `up';\n# removed when the config names no tor_control.\n"
	    "[Unit]\nWants=tor.service\nAfter=tor.service "
	    "tor@default.service\n\n"
	    "[Service]\nSupplementaryGroups=%s\n", c->paths.net,
	    c->paths.conf_file, group);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	if ((old = file_read(path, sizeof(text), &len)) != NULL) {
		r = (len == (size_t)n && memcmp(old, text, len) == 0);
		free(old);
		if (r)
			return 0;
	}
	if (mkdir_p(dir, 0755) == -1 ||
	    file_write_atomic(path, text, (size_t)n, 0644) == -1) {
		ctl_warn("cannot write %s", path);
		return -1;
	}
	printf("wrote %s (SupplementaryGroups=%s)\n", path, group);
	return 1;
}

int
ctl_systemd_up(struct ctl *c, const struct conf *conf)
{
	const char *args[4];
	char unit[128], err[512];
	json_t *rep;
	pid_t pid;
	double end;
	int i, r, up = 0, down;

	if (ctl_supervisor_running(c, &pid) == 1) {
		ctl_warnx("network %s is up under onionmesh's supervisor "
		    "(pid %d) and its systemd units are enabled: stop one "
		    "(`onionmesh down', or `systemctl disable "
		    "onionmesh@%s.target')", c->paths.net, (int)pid,
		    c->paths.net);
		return CTL_FAIL;
	}
	if ((r = tor_dropin(c, conf)) == -1)
		return CTL_FAIL;
	if (r == 1) {
		args[0] = "daemon-reload";
		args[1] = NULL;
		if (systemctl(0, args) != 0) {
			ctl_warnx("systemctl daemon-reload failed");
			return CTL_FAIL;
		}
	}
	unit_name(unit, sizeof(unit), NULL, c->paths.net);
	printf("network %s is run by systemd: systemctl start %s\n",
	    c->paths.net, unit);
	args[0] = "start";
	args[1] = unit;
	args[2] = NULL;
	if (systemctl(0, args) != 0) {
		ctl_warnx("systemctl start %s failed; see systemctl status "
		    "'onionmesh*@%s*' and journalctl -u 'onionmesh-*@%s'",
		    unit, c->paths.net, c->paths.net);
		return CTL_FAIL;
	}
	/* Type=notify: started means READY=1; ask each daemon all the
	 * same, as the supervisor's `up' does. */
	end = mono_now() + SD_UP_WAIT;
	for (i = 0; i < CTL_NDAEMONS; i++) {
		for (;;) {
			rep = ctl_call(c, ctl_daemons[i], "status", 500, err,
			    sizeof(err), &down);
			if (rep != NULL || mono_now() >= end)
				break;
			usleep(200 * 1000);
		}
		if (rep == NULL) {
			printf("%-8s not up: %s\n", ctl_daemons[i], err);
			continue;
		}
		printf("%-8s up (pid %lld)\n", ctl_daemons[i],
		    (long long)json_integer_value(json_object_get(rep,
		    "pid")));
		json_decref(rep);
		up++;
	}
	if (up == CTL_NDAEMONS) {
		printf("network %s is up (%s)\n", c->paths.net, unit);
		return CTL_OK;
	}
	fflush(stdout);
	ctl_warnx("not every daemon answered within %.0f s; see "
	    "journalctl -u 'onionmesh-*@%s'", SD_UP_WAIT, c->paths.net);
	return CTL_FAIL;
}

int
ctl_systemd_down(struct ctl *c)
{
	const char *args[3];
	char unit[128];

	unit_name(unit, sizeof(unit), NULL, c->paths.net);
	args[0] = "stop";
	args[1] = unit;
	args[2] = NULL;
	if (systemctl(0, args) != 0) {
		ctl_warnx("systemctl stop %s failed", unit);
		return CTL_FAIL;
	}
	printf("network %s is down (systemctl stop %s; still enabled: "
	    "systemctl disable %s keeps it down after a reboot)\n",
	    c->paths.net, unit, unit);
	return CTL_OK;
}

#define REACH_MAX 8

/* The folders no daemon user could reach, one entry per reason (the
 * same 0700 parent stops every daemon: said once, with every user). */
struct reach_fail {
	char why[PATH_MAX + 128];
	char what[PATH_MAX + 32];
	char users[128];
};

static void
reach_note(struct reach_fail *f, int *n, const char *daemon,
    const struct reach_who *who, const char *path, const char *what)
{
	char why[PATH_MAX + 128];
	size_t len;
	int i;

	if (reach_path(path, who, 0, why, sizeof(why)) == 0)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(f[i].why, why) == 0)
			break;
	if (i == *n) {
		if (*n == REACH_MAX)
			return;
		(*n)++;
		memset(&f[i], 0, sizeof(f[i]));
		snprintf(f[i].why, sizeof(f[i].why), "%s", why);
		snprintf(f[i].what, sizeof(f[i].what), "%s %s", what, path);
	}
	len = strlen(f[i].users);
	if (strstr(f[i].users, daemon) == NULL)
		snprintf(f[i].users + len, sizeof(f[i].users) - len,
		    "%sonionmesh-%s", len ? ", " : "", daemon);
}

int
ctl_check_reach(struct ctl *c, const struct conf *conf)
{
	struct reach_fail fail[REACH_MAX];
	struct passwd *pw;
	struct group *gr;
	struct reach_who who;
	char user[64];
	gid_t gid;
	int i, n = 0;

	/* Only root starts daemons under other users; auto or yes. */
	if (geteuid() != 0 || conf->privsep == 0 ||
	    (gr = getgrnam(PRIVSEP_GROUP)) == NULL)
		return CTL_OK;
	gid = gr->gr_gid;
	for (i = 0; i < CTL_NDAEMONS; i++) {
		snprintf(user, sizeof(user), "onionmesh-%s", ctl_daemons[i]);
		if ((pw = getpwnam(user)) == NULL)
			continue;  /* the daemon says which users miss */
		who.uid = pw->pw_uid;
		who.gids = &gid;
		who.ngids = 1;
		/* The folders themselves are made (or given to their
		 * daemon) as root before the drop; what the users need is
		 * a way through every folder above them. The config is
		 * read before the drop. */
		reach_note(fail, &n, ctl_daemons[i], &who, c->paths.run_dir,
		    "runtime folder");
		if (strcmp(ctl_daemons[i], "keyd") != 0)
			continue;
		reach_note(fail, &n, "keyd", &who, c->paths.keys_dir,
		    "keys folder");
		reach_note(fail, &n, "keyd", &who, c->paths.hosts_dir,
		    "hosts folder");
		reach_note(fail, &n, "keyd", &who, c->paths.revoked_dir,
		    "revoked folder");
		reach_note(fail, &n, "keyd", &who, c->paths.grants_dir,
		    "grants folder");
	}
	for (i = 0; i < n; i++)
		ctl_warnx("%s cannot reach the %s: %s; give that folder o+x "
		    "(or group %s), or keep the network under folders every "
		    "user may pass through", fail[i].users, fail[i].what,
		    fail[i].why, PRIVSEP_GROUP);
	return n ? CTL_FAIL : CTL_OK;
}
