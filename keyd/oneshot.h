/*
 * keyd's one-shot modes, apart from the daemon (keyd.c):
 *   onionmesh-keyd [-n NET] [-d DIR] [-v] --genkey        (genkey.c)
 *   onionmesh-keyd [-v] [-n NET] [-d DIR] --join URL [--tcp]
 *       [--tor-socks ADDR] [--tor-control ADDR] [--anonymous] [--onion]
 *                                                       (join_main.c)
 * oneshot.c takes their flags out of argv before the daemon's getopt
 * would see them, and sets up what both share.
 */
#ifndef OM_KEYD_ONESHOT_H
#define OM_KEYD_ONESHOT_H

#include "keyd/keyd.h"

struct join_args {
	const char *url;
	const char *tor_socks;
	const char *tor_control; /* issue 15: for the invitation's key */
	int tcp;
	int anonymous;
	int onion;
};

/* Run the one-shot mode argv asks for and return its exit code, or -1
 * when argv asks for the daemon. */
int keyd_oneshot(int argc, char **argv);
/* -n NET -d DIR -v (and the daemon's -f -s, which mean nothing here),
 * logs to stderr (stdout is what ctl reads), libsodium, and c's paths.
 * 0, or -1 after saying why. */
int keyd_oneshot_setup(int argc, char **argv, struct conf *c);
/* genkey.c */
int keyd_genkey(int argc, char **argv);
/* join_main.c */
int keyd_join(int argc, char **argv, const struct join_args *ja);

#endif
