/*
 * onionmesh-keyd --join: the joiner's one-shot (join_client.c does the
 * exchange). Redeem an invitation with the identity --genkey made,
 * write hosts/ and revoked/, JSON lines on stdout for `onionmesh join`;
 * --onion: our record carries our onion address (the config join
 * writes is in onion mode). tor's SocksPort comes from the flag or the
 * config when there is one.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyd/oneshot.h"
#include "proto/invite.h"
#include "proto/log.h"

/*
 * --join: like --genkey, no daemon_setup (the config is written after
 * the admission, from what it says). A config that is there already
 * gives tor's SocksPort and the anonymous flag. URL "-": the URL is the
 * first line of stdin, so its secret is not in our argv for every local
 * user to read in /proc (onionmesh join passes it that way).
 */
int
keyd_join(int argc, char **argv, const struct join_args *ja)
{
	static struct conf c;
	static char line[INVITE_URL_MAX + 2];
	char err[KEYD_ERRLEN];
	const char *socks, *url = ja->url;
	int anonymous = ja->anonymous, rc;
	size_t n;

	if (keyd_oneshot_setup(argc, argv, &c) == -1)
		return 1;
	if (strcmp(url, "-") == 0) {
		if (fgets(line, sizeof(line), stdin) == NULL) {
			log_warnx("--join -: no URL on standard input");
			return 1;
		}
		n = strcspn(line, "\r\n");
		if (line[n] == '\0' && n == sizeof(line) - 1) {
			log_warnx("--join -: the URL on standard input is "
			    "longer than any invitation (%d bytes)",
			    INVITE_URL_MAX);
			sodium_memzero(line, sizeof(line));
			return 1;
		}
		line[n] = '\0';
		url = line;
	}
	socks = ja->tor_socks;
	if (access(c.paths.conf_file, F_OK) == 0) {
		if (conf_load(&c, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			sodium_memzero(line, sizeof(line));
			return 1;
		}
		if (socks == NULL)
			socks = c.tor_socks;
		anonymous |= c.anonymous;
	}
	/* Issue 15: our record's client key, and the invitation's for
	 * the inviter's service, which may take only members. */
	if (ja->tor_control != NULL)
		snprintf(c.tor_control, sizeof(c.tor_control), "%s",
		    ja->tor_control);
	if ((ja->onion || keyd_onion_mode(&c)) &&
	    keyd_tor_client_key(&c, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		sodium_memzero(line, sizeof(line));
		return 1;
	}
	if (!ja->tcp && c.tor_control[0] != '\0')
		keyd_tor_invite_key(&c, url);
	rc = join_client_run(&c.paths, url, socks != NULL ? socks : "",
	    ja->tcp, anonymous, ja->onion || keyd_onion_mode(&c));
	sodium_memzero(line, sizeof(line));
	return rc;
}

