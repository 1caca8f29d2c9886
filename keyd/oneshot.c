/*
 * The part of keyd's one-shot modes (oneshot.h) they share: finding the
 * mode in argv and the set-up before it runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keyd/oneshot.h"
#include "proto/daemon.h"
#include "proto/log.h"

static void
usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: onionmesh-keyd [-fsv] [-n NET] [-d DIR]\n"
	    "       onionmesh-keyd [-v] [-n NET] [-d DIR] --genkey\n"
	    "       onionmesh-keyd [-v] [-n NET] [-d DIR] --join URL [--tcp] "
	    "[--tor-socks ADDR] [--tor-control ADDR] [--anonymous] "
	    "[--onion]\n");
	exit(2);
}

/* Remove every "--genkey" from argv (before getopt sees it); 1 if one
 * was there. */
static int
take_genkey(int *argc, char **argv)
{
	int i, j, found = 0;

	for (i = 1, j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			/* Options end here; copy the rest untouched. */
			for (; i < *argc; i++)
				argv[j++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--genkey") == 0)
			found = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

/* Take --join URL, --tcp, --tor-socks ADDR, --tor-control ADDR,
 * --anonymous and --onion out of argv
 * (before getopt sees them); 1 if --join was there. */
static int
take_join(int *argc, char **argv, struct join_args *ja)
{
	int i, j, found = 0;

	memset(ja, 0, sizeof(*ja));
	for (i = 1, j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			for (; i < *argc; i++)
				argv[j++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--join") == 0 && i + 1 < *argc) {
			ja->url = argv[++i];
			found = 1;
		} else if (strcmp(argv[i], "--tor-socks") == 0 &&
		    i + 1 < *argc)
			ja->tor_socks = argv[++i];
		else if (strcmp(argv[i], "--tor-control") == 0 &&
		    i + 1 < *argc)
			ja->tor_control = argv[++i];
		else if (strcmp(argv[i], "--tcp") == 0)
			ja->tcp = 1;
		else if (strcmp(argv[i], "--anonymous") == 0)
			ja->anonymous = 1;
		else if (strcmp(argv[i], "--onion") == 0)
			ja->onion = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

int
keyd_oneshot_setup(int argc, char **argv, struct conf *c)
{
	char err[KEYD_ERRLEN];
	struct daemon_flags fl = { .net = DEFAULT_NET };
	int ch;

	/* The daemon's flags; -f and -s are taken but mean nothing here:
	 * a one-shot mode logs to stderr. */
	optind = 1;
	while ((ch = getopt(argc, argv, "n:d:fsv")) != -1)
		if (!daemon_flag(&fl, ch, optarg))
			usage();
	if (optind != argc)
		usage();
	log_init("keyd", fl.verbose > 1 ? LOG_LVL_DEBUG : fl.verbose ?
	    LOG_LVL_INFO : LOG_LVL_WARN, 0);
	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	memset(c, 0, sizeof(*c));
	if (conf_paths(&c->paths, fl.net, fl.dir, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

int
keyd_oneshot(int argc, char **argv)
{
	struct join_args ja;

	if (take_genkey(&argc, argv))
		return keyd_genkey(argc, argv);
	if (take_join(&argc, argv, &ja))
		return keyd_join(argc, argv, &ja);
	return -1;
}
