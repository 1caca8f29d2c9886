/*
 * onionmesh: the command that sets up, starts, stops and inspects one
 * network's daemon set. Shaped like wireguard-tools' wg.c: the global
 * flags, then a table of subcommands, each a function in the file for
 * its group (cmd_init.c, cmd_up.c, cmd_show.c, cmd_records.c).
 *
 *   onionmesh [-n NET] [-d DIR] COMMAND [ARGS]
 *
 * Every subcommand parses its own options with ctl_getopt (long options
 * only, so "-n"/"-d" are never ambiguous with a subcommand's), and every
 * message about a bad value quotes the value and says what would be
 * right. The exit status convention is in ctl.h.
 *
 * This file also holds the small helpers every subcommand uses: messages,
 * loading the config, finding the daemon binaries, one ctl request.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/addr.h"
#include "proto/ipc.h"
#include "proto/log.h"

/* OM_VERSION, OM_GIT_DESC, OM_LIBEXECDIR: written by the Makefile into
 * $(B)/gen/ from VERSION, `git describe` and PREFIX. */
#include "om_config.h"

const char *const ctl_daemons[CTL_NDAEMONS] = {
	"keyd", "routed", "linkd", "tund",
};

static const struct subcommand {
	const char *name;
	ctl_cmd_fn fn;
	const char *args;
	const char *desc;
} subcommands[] = {
	{ "init", cmd_init,
	    "NAME [--ipv4 A.B.C.D/LEN] [--tcp HOST:PORT]\n"
	    "           [--listen HOST:PORT] [--anonymous]\n"
	    "           [--tor-control ADDR] [--tor-socks ADDR]\n"
	    "           [--netns NAME] [--no-privsep] [--root ID]",
	    "found a network as member NAME (--root ID: join one by hand)" },
	{ "invite", cmd_invite,
	    "NAME [--ipv4 A.B.C.D] [--expires DURATION] [--admin]\n"
	    "           [--subnet PREFIX]...",
	    "print a single-use invitation URL for a new member NAME" },
	{ "grant", cmd_grant, "NAME --subnet PREFIX [--subnet PREFIX]...",
	    "give member NAME subnets (root or admin only)" },
	{ "revoke", cmd_revoke, "NAME",
	    "end member NAME's membership everywhere" },
	{ "join", cmd_join,
	    "URL|- [--tor-control ADDR --tor-socks ADDR] [--tcp]\n"
	    "           [--endpoint HOST:PORT] [--listen HOST:PORT]\n"
	    "           [--no-up] [--no-privsep]",
	    "become a member with an invitation URL (-: read it from stdin)" },
	{ "up", cmd_up, "[--foreground]",
	    "start the daemon set (restarting any that dies)" },
	{ "down", cmd_down, "", "stop the daemon set" },
	{ "status", cmd_status, "[--json]",
	    "this member, its daemons, members and links" },
	{ "peers", cmd_peers, "[--json]", "every member and its links" },
	{ "links", cmd_links, "[--json]", "every link of linkd" },
	{ "routes", cmd_routes, "[--json]", "routed's forwarding table" },
	{ "export", cmd_export, "[FILE]",
	    "print (or write to FILE) this member's host record" },
	{ "import", cmd_import, "FILE...",
	    "add other members' host records" },
	{ "log", cmd_log, "[warn|info|debug]",
	    "show or set every running daemon's log level" },
};
#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static const struct subcommand *
subcommand_find(const char *name)
{
	size_t i;

	for (i = 0; i < NSUBCOMMANDS; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

static void
usage_global(FILE *f)
{
	size_t i;

	fprintf(f, "usage: onionmesh [-n NET] [-d DIR] COMMAND [ARGS]\n"
	    "       onionmesh --version\n\n"
	    "  -n NET   network name (default \"%s\"; [a-z0-9][a-z0-9_-]"
	    "{0,31})\n"
	    "  -d DIR   keep config, keys, host records and sockets under "
	    "DIR\n\ncommands:\n", DEFAULT_NET);
	for (i = 0; i < NSUBCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name,
		    subcommands[i].desc);
	fprintf(f, "\n\"onionmesh COMMAND --help\" shows a command's "
	    "options.\n");
}

void
ctl_print_usage(struct ctl *c, FILE *f)
{
	const struct subcommand *s;

	if (c->cmd == NULL || (s = subcommand_find(c->cmd)) == NULL) {
		if (f == stderr)
			fprintf(f, "usage: onionmesh [-n NET] [-d DIR] "
			    "COMMAND [ARGS] (onionmesh --help lists the "
			    "commands)\n");
		else
			usage_global(f);
		return;
	}
	fprintf(f, "usage: onionmesh [-n NET] [-d DIR] %s%s%s\n", s->name,
	    s->args[0] ? " " : "", s->args);
}

void
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("onionmesh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
ctl_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fputs("onionmesh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	errno = saved;
}

int
ctl_usage(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "onionmesh%s%s: ", c->cmd ? " " : "",
	    c->cmd ? c->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctl_print_usage(c, stderr);
	return CTL_USAGE;
}

/* The first positional argument of the running command's usage:
 * "NAME" for init, "FILE..." for import. */
static const char *
missing_what(struct ctl *c)
{
	static char what[32];
	const struct subcommand *s = subcommand_find(c->cmd ? c->cmd : "");
	size_t n;

	if (s == NULL || s->args[0] == '[' || s->args[0] == '\0')
		return "argument";
	n = strcspn(s->args, " \n");
	snprintf(what, sizeof(what), "%.*s", (int)n, s->args);
	return what;
}

int
ctl_getopt(struct ctl *c, int argc, char **argv, struct ctl_opt *opts,
    char **pos, int minpos, int maxpos, int *npos)
{
	struct ctl_opt *o;
	const char *a, *name, *eq;
	size_t nlen;
	int i, n = 0, only_pos = 0;

	for (o = opts; o && o->name; o++)
		o->val = NULL;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (n >= maxpos)
				return ctl_usage(c, "unexpected argument `%s'",
				    a);
			pos[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ctl_print_usage(c, stdout);
			return CTL_HELP;
		}
		if (a[1] != '-')
			return ctl_usage(c, "unknown option `%s' (options "
			    "of %s are long: --NAME)", a, c->cmd);
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		for (o = opts; o && o->name; o++)
			if (strlen(o->name) == nlen &&
			    strncmp(o->name, name, nlen) == 0)
				break;
		if (o == NULL || o->name == NULL)
			return ctl_usage(c, "unknown option `%s'", a);
		if (o->val != NULL)
			return ctl_usage(c, "option --%s given twice",
			    o->name);
		if (o->metavar == NULL) {
			if (eq)
				return ctl_usage(c, "option --%s takes no "
				    "value (got `%s')", o->name, a);
			o->val = "";
		} else if (eq) {
			o->val = eq + 1;
		} else if (i + 1 < argc) {
			o->val = argv[++i];
		} else {
			return ctl_usage(c, "option --%s needs a value (%s)",
			    o->name, o->metavar);
		}
	}
	if (n < minpos)
		return ctl_usage(c, "missing %s", missing_what(c));
	*npos = n;
	return CTL_OK;
}

int
ctl_member_arg(struct ctl *c, int argc, char **argv, struct ctl_opt *opts,
    char **pos)
{
	int n, rc;

	if ((rc = ctl_getopt(c, argc, argv, opts, pos, 1, 1, &n)) != CTL_OK)
		return rc;
	if (!name_valid(pos[0]))
		return ctl_usage(c, "member name `%s' is not valid (1 to %d "
		    "of a-z 0-9 _ -, starting with a letter or digit)",
		    pos[0], NAME_MAX_LEN);
	return CTL_OK;
}

int
ctl_path(char *out, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap) {
		ctl_warnx("path %s/%s is too long", dir, name);
		return -1;
	}
	return 0;
}

int
ctl_conf_load(struct ctl *c, struct conf *conf)
{
	char err[512];
	struct stat st;

	if (stat(c->paths.conf_file, &st) == -1 && errno == ENOENT) {
		ctl_warnx("no config at %s: network \"%s\" is not set up "
		    "here (onionmesh%s%s%s%s init NAME makes one)",
		    c->paths.conf_file, c->paths.net,
		    strcmp(c->paths.net, DEFAULT_NET) ? " -n " : "",
		    strcmp(c->paths.net, DEFAULT_NET) ? c->paths.net : "",
		    c->dir ? " -d " : "", c->dir ? c->dir : "");
		return -1;
	}
	memset(conf, 0, sizeof(*conf));
	conf->paths = c->paths;
	err[0] = '\0';
	if (conf_load(conf, err, sizeof(err)) == -1) {
		ctl_warnx("%s", err[0] ? err : c->paths.conf_file);
		return -1;
	}
	return 0;
}

/* A regular file we may run. */
static int
runnable(const char *path)
{
	struct stat st;

	errno = 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/*
 * $ONIONMESH_LIBEXEC when set (a test's fake keyd, a moved tree); else
 * next to the command itself, which is where they are in a build tree;
 * else LIBEXECDIR as the Makefile compiled it in, which is where `make
 * install` puts them (the command itself goes to sbin/).
 */
int
ctl_daemon_path(const char *daemon, char *out, size_t cap)
{
	char self[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("ONIONMESH_LIBEXEC");
	ssize_t n;
	char *slash;
	int err;

	if (env && env[0]) {
		if (realpath(env, dir) == NULL) {
			ctl_warn("ONIONMESH_LIBEXEC=%s: not a directory that "
			    "holds the onionmesh daemons", env);
			return -1;
		}
		if ((size_t)snprintf(out, cap, "%s/onionmesh-%s", dir,
		    daemon) >= cap) {
			ctl_warnx("path of onionmesh-%s in %s is too long",
			    daemon, dir);
			return -1;
		}
		if (runnable(out))
			return 0;
		ctl_warnx("cannot run %s: %s (the daemons are looked for in "
		    "$ONIONMESH_LIBEXEC; set it to the directory that holds "
		    "them, or unset it)", out,
		    errno ? strerror(errno) : "not a file");
		return -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(out, cap, "%s/onionmesh-%s",
			    self[0] ? self : "", daemon) < cap &&
			    runnable(out))
				return 0;
		}
	} else
		snprintf(self, sizeof(self), "(unknown: /proc/self/exe)");
	if ((size_t)snprintf(out, cap, "%s/onionmesh-%s", OM_LIBEXECDIR,
	    daemon) >= cap) {
		ctl_warnx("path of onionmesh-%s in %s is too long", daemon,
		    OM_LIBEXECDIR);
		return -1;
	}
	if (runnable(out))
		return 0;
	err = errno;
	ctl_warnx("cannot run %s: %s (the daemons are looked for next to "
	    "onionmesh, in %s, then in %s; set ONIONMESH_LIBEXEC to the "
	    "directory that holds them)", out, err ? strerror(err) :
	    "not a file", self, OM_LIBEXECDIR);
	return -1;
}

int
ctl_listen_any(const char *endpoint, char *out, size_t cap)
{
	char host[CONF_ADDR_LEN];
	uint16_t port;

	if (strlen(endpoint) >= sizeof(host) ||
	    endpoint_parse(endpoint, host, sizeof(host), &port) == -1)
		return -1;
	if ((size_t)snprintf(out, cap, "%s:%u", strchr(host, ':') ?
	    "[::]" : "0.0.0.0", (unsigned)port) >= cap)
		return -1;
	return 0;
}

const char *
ctl_version(void)
{
	return OM_VERSION;
}

json_t *
ctl_call(struct ctl *c, const char *daemon, const char *cmd, int timeout_ms,
    char *err, size_t errlen, int *down)
{
	char name[32], path[PATH_MAX], e[512];
	json_t *req, *rep;
	json_t *ok;

	if (down)
		*down = 1;
	snprintf(name, sizeof(name), IPC_CTL_FMT, daemon);
	if (ipc_path(path, sizeof(path), c->paths.run_dir, name) == -1) {
		snprintf(err, errlen, "socket path %s/%s is too long",
		    c->paths.run_dir, name);
		return NULL;
	}
	if ((req = json_pack("{s:s}", "cmd", cmd)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e[0] = '\0';
	rep = ipc_ctl_call(path, req, timeout_ms, e, sizeof(e));
	json_decref(req);
	if (rep == NULL) {
		if (e[0])
			snprintf(err, errlen, "%s", e);
		else
			snprintf(err, errlen, "%s is not running (no answer "
			    "on %s)", daemon, path);
		return NULL;
	}
	if (down)
		*down = 0;
	ok = json_object_get(rep, "ok");
	if (!json_is_object(rep) || !json_is_true(ok)) {
		snprintf(err, errlen, "%s refused \"%s\": %s", daemon, cmd,
		    ctl_json_str(rep, "error", "no reason given"));
		json_decref(rep);
		return NULL;
	}
	return rep;
}

/* -d DIR is handed to daemons that chdir("/"), so make it absolute. */
static int
absolute_dir(const char *dir, char *out, size_t cap)
{
	char cwd[PATH_MAX];
	size_t n;

	if (dir[0] == '/') {
		if ((size_t)snprintf(out, cap, "%s", dir) >= cap)
			return -1;
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		if ((size_t)snprintf(out, cap, "%s/%s", cwd, dir) >= cap)
			return -1;
	}
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

/*
 * The global flags before COMMAND. -1 when COMMAND follows at argv[*next]
 * (or is missing), else the exit status (--help, --version, a bad flag).
 */
static int
global_flags(struct ctl *c, int argc, char **argv, const char **dir,
    int *next)
{
	const char **dst;
	const char *a;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage_global(stdout);
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("onionmesh %s%s%s%s\n", OM_VERSION,
			    OM_GIT_DESC[0] ? " (git " : "", OM_GIT_DESC,
			    OM_GIT_DESC[0] ? ")" : "");
			return fflush(stdout) == EOF ? CTL_FAIL : CTL_OK;
		}
		if (a[1] == 'n')
			dst = &c->net;
		else if (a[1] == 'd')
			dst = dir;
		else
			return ctl_usage(c, "unknown option `%s'", a);
		if (a[2] != '\0')
			*dst = a + 2;
		else if (i + 1 < argc)
			*dst = argv[++i];
		else
			return ctl_usage(c, "option -%c needs a value (%s)",
			    a[1], a[1] == 'n' ? "NET" : "DIR");
	}
	*next = i;
	return -1;
}

/* onionmesh help [COMMAND] */
static int
help(struct ctl *c, const char *cmd)
{
	const struct subcommand *s;

	if (cmd == NULL) {
		usage_global(stdout);
		return 0;
	}
	if ((s = subcommand_find(cmd)) == NULL)
		return ctl_usage(c, "unknown command `%s'", cmd);
	c->cmd = s->name;
	ctl_print_usage(c, stdout);
	printf("  %s\n", s->desc);
	return 0;
}

/* -n and -d: the paths every subcommand works on. CTL_OK or the exit
 * status. */
static int
network_paths(struct ctl *c, const char *dir)
{
	static char dirbuf[PATH_MAX];
	char err[512];

	if (!name_valid(c->net))
		return ctl_usage(c, "network name `%s' is not valid (1 to "
		    "%d of a-z 0-9 _ -, starting with a letter or digit)",
		    c->net, NAME_MAX_LEN);
	if (dir != NULL) {
		if (dir[0] == '\0' ||
		    absolute_dir(dir, dirbuf, sizeof(dirbuf)) == -1)
			return ctl_usage(c, "directory `%s' is not usable "
			    "(an existing or creatable path)", dir);
		c->dir = dirbuf;
	}
	err[0] = '\0';
	if (conf_paths(&c->paths, c->net, c->dir, err, sizeof(err)) == -1)
		return ctl_usage(c, "%s", err[0] ? err : "bad -n or -d");
	return CTL_OK;
}

int
main(int argc, char **argv)
{
	struct ctl c;
	const struct subcommand *s;
	const char *dir = NULL;
	int i = 0, rc;

	memset(&c, 0, sizeof(c));
	c.prog = "onionmesh";
	c.net = DEFAULT_NET;
	log_init("onionmesh", LOG_LVL_WARN, 0);

	if ((rc = global_flags(&c, argc, argv, &dir, &i)) != -1)
		return rc;
	if (i >= argc)
		return ctl_usage(&c, "no command given");
	if (strcmp(argv[i], "help") == 0)
		return help(&c, i + 1 < argc ? argv[i + 1] : NULL);
	if ((s = subcommand_find(argv[i])) == NULL)
		return ctl_usage(&c, "unknown command `%s'", argv[i]);
	if ((rc = network_paths(&c, dir)) != CTL_OK)
		return rc;

	c.cmd = s->name;
	rc = s->fn(&c, argc - i, argv + i);
	if (rc == CTL_HELP)
		rc = CTL_OK;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ctl_warn("writing to standard output");
		if (rc == CTL_OK)
			rc = CTL_FAIL;
	}
	return rc;
}
