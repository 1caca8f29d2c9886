/*
 * onionmesh-health: the HEALTHCHECK of a daemon's container. Asks one
 * daemon over its ctl socket ({"cmd":"status"}), as `onionmesh status`
 * does for all four, and exits 0 when it answers "ok", 1 (with the
 * reason on stderr) when it does not answer within the timeout.
 *
 *   onionmesh-health [-n NET] [-d DIR] DAEMON
 *
 * Without arguments, NET and DAEMON come from the environment
 * (ONIONMESH_NET, ONIONMESH_DAEMON), which each container of the image
 * sets: so one HEALTHCHECK line in the image serves all four, with no
 * shell to run under the container's seccomp profile.
 *
 * One daemon, not the set: a container's health is its own daemon's,
 * so a pod restarts the one that hangs, not its siblings. Read-only:
 * the ctl socket answers a member of group onionmesh, which every
 * daemon user is; it makes only the calls of the daemons' own seccomp
 * list, so it runs under the container's profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "proto/conf.h"
#include "proto/ipc.h"

#define HEALTH_TIMEOUT_MS 5000

static int
usage(void)
{
	fprintf(stderr, "usage: onionmesh-health [-n NET] [-d DIR] "
	    "tund|linkd|keyd|routed\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static struct conf conf;
	char err[1024], name[32], path[4096];
	const char *net = NULL, *dir = NULL, *d;
	json_t *req, *rep;
	int ch, ok;

	while ((ch = getopt(argc, argv, "n:d:")) != -1) {
		switch (ch) {
		case 'n':
			net = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			return usage();
		}
	}
	if (net == NULL)
		net = getenv("ONIONMESH_NET");
	if (optind == argc && (d = getenv("ONIONMESH_DAEMON")) != NULL)
		;
	else if (optind == argc - 1)
		d = argv[optind];
	else
		return usage();
	if (strcmp(d, "tund") != 0 && strcmp(d, "linkd") != 0 &&
	    strcmp(d, "keyd") != 0 && strcmp(d, "routed") != 0) {
		fprintf(stderr, "onionmesh-health: no daemon \"%s\" (want "
		    "tund, linkd, keyd or routed)\n", d);
		return 2;
	}
	if (conf_paths(&conf.paths, net, dir, err, sizeof(err)) == -1) {
		fprintf(stderr, "onionmesh-health: %s\n", err);
		return 2;
	}
	snprintf(name, sizeof(name), IPC_CTL_FMT, d);
	if (ipc_path(path, sizeof(path), conf.paths.run_dir, name) == -1) {
		fprintf(stderr, "onionmesh-health: socket path %s/%s is too "
		    "long\n", conf.paths.run_dir, name);
		return 2;
	}
	if ((req = json_pack("{s:s}", "cmd", "status")) == NULL)
		return 1;
	err[0] = '\0';
	rep = ipc_ctl_call(path, req, HEALTH_TIMEOUT_MS, err, sizeof(err));
	json_decref(req);
	if (rep == NULL) {
		fprintf(stderr, "onionmesh-health: %s did not answer on %s%s%s"
		    "\n", d, path, err[0] ? ": " : "", err);
		return 1;
	}
	ok = json_is_true(json_object_get(rep, "ok"));
	if (!ok)
		fprintf(stderr, "onionmesh-health: %s answered not ok\n", d);
	else
		printf("%s: ok\n", d);
	json_decref(rep);
	return ok ? 0 : 1;
}
