/*
 * invite and revoke: the two membership commands a running member
 * answers. Both only check the command line and ask keyd (ctl.keyd
 * "invite" / "revoke"); keyd decides, since it alone holds the key, the
 * records and the revocations. The CLI never sees more of a secret than
 * the URL keyd returns, which it prints once and wipes.
 *
 *   invite NAME [--ipv4 A.B.C.D] [--expires DURATION] [--admin]
 *   revoke NAME
 *
 * DURATION is a whole number and a unit: s, m, h or d (90m, 12h, 7d),
 * 30s..30d; the default is 1d.
 */
#include "ctl/ctl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/ipc.h"

#define INVITE_TIMEOUT_MS 10000
#define TTL_MIN_S         30
#define TTL_MAX_S         (30 * 24 * 3600)
#define TTL_DEFAULT_S     (24 * 3600)

/* "90m" -> 5400. -1 when it is not NUMBER UNIT or out of 30s..30d. */
static int
ctl_duration_parse(const char *s, long long *out)
{
	long long n = 0, mul;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > TTL_MAX_S)
			return -1;
	}
	switch (*p) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 24 * 3600; break;
	default:
		return -1;
	}
	if (p[1] != '\0')
		return -1;
	n *= mul;
	if (n < TTL_MIN_S || n > TTL_MAX_S)
		return -1;
	*out = n;
	return 0;
}

/* One request to keyd, req taken (NULL: it could not be made); the
 * reply (ok true) or NULL with the error printed. */
static json_t *
keyd_call(struct ctl *c, json_t *req, const char *what)
{
	char name[32], path[PATH_MAX], e[1024];
	json_t *rep;

	if (req == NULL) {
		ctl_warnx("out of memory");
		return NULL;
	}
	snprintf(name, sizeof(name), IPC_CTL_FMT, "keyd");
	if (ipc_path(path, sizeof(path), c->paths.run_dir, name) == -1) {
		ctl_warnx("socket path %s/%s is too long", c->paths.run_dir,
		    name);
		json_decref(req);
		return NULL;
	}
	e[0] = '\0';
	rep = ipc_ctl_call(path, req, INVITE_TIMEOUT_MS, e, sizeof(e));
	json_decref(req);
	if (rep == NULL) {
		ctl_warnx("%s: keyd is not running (%s); start the daemons "
		    "with 'onionmesh up'", what, e[0] ? e : path);
		return NULL;
	}
	if (!json_is_object(rep) || !json_is_true(json_object_get(rep,
	    "ok"))) {
		ctl_warnx("%s", ctl_json_str(rep, "error", "keyd refused, "
		    "no reason given"));
		json_decref(rep);
		return NULL;
	}
	return rep;
}

int
cmd_invite(struct ctl *c, int argc, char **argv)
{
	enum { O_IPV4, O_EXPIRES, O_ADMIN, O_END };
	struct ctl_opt opts[] = {
		[O_IPV4] = { "ipv4", "A.B.C.D", NULL },
		[O_EXPIRES] = { "expires", "DURATION", NULL },
		[O_ADMIN] = { "admin", NULL, NULL },
		[O_END] = { NULL, NULL, NULL },
	};
	struct conf conf;
	struct prefix p;
	long long ttl = TTL_DEFAULT_S;
	const char *url;
	char *pos[1];
	json_t *req, *rep;
	int rc;

	if ((rc = ctl_member_arg(c, argc, argv, opts, pos)) != CTL_OK)
		return rc;
	if (opts[O_IPV4].val != NULL &&
	    (strchr(opts[O_IPV4].val, '/') != NULL ||
	    addr_parse(&p, opts[O_IPV4].val) == -1 || p.family != 4))
		return ctl_usage(c, "--ipv4 `%s' is not an IPv4 address "
		    "(A.B.C.D, in the network's range, without /LEN)",
		    opts[O_IPV4].val);
	if (opts[O_EXPIRES].val != NULL &&
	    ctl_duration_parse(opts[O_EXPIRES].val, &ttl) == -1)
		return ctl_usage(c, "--expires `%s' is not a duration from "
		    "30s to 30d (a whole number and s, m, h or d: 90m, 12h, "
		    "7d)", opts[O_EXPIRES].val);
	if (ctl_conf_load(c, &conf) == -1)
		return CTL_FAIL;

	req = json_pack("{s:s, s:s, s:I, s:b}", "cmd", "invite", "name",
	    pos[0], "expires_s", (json_int_t)ttl, "admin",
	    opts[O_ADMIN].val != NULL);
	if (req != NULL && opts[O_IPV4].val != NULL &&
	    json_object_set_new(req, "ipv4",
	    json_string(opts[O_IPV4].val)) == -1) {
		json_decref(req);
		req = NULL;
	}
	if ((rep = keyd_call(c, req, "invite")) == NULL)
		return CTL_FAIL;
	url = json_string_value(json_object_get(rep, "url"));
	if (url == NULL) {
		ctl_warnx("keyd's reply holds no URL");
		json_decref(rep);
		return CTL_FAIL;
	}
	/* The URL alone on stdout, so scripts can take it; the advice on
	 * stderr. */
	printf("%s\n", url);
	fflush(stdout);
	{
		char when[64];
		time_t t = time(NULL) + (time_t)ttl;
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC",
		    &tm) == 0)
			snprintf(when, sizeof(when), "in %lld s", ttl);
		fprintf(stderr, "onionmesh: invitation for %s%s: single use, "
		    "valid until %s. On the new host run:\n"
		    "  onionmesh join '<the URL above>'\n", pos[0],
		    opts[O_ADMIN].val != NULL ? " (admin)" : "", when);
	}
	/* The secret was in it. */
	sodium_memzero((char *)url, strlen(url));
	json_decref(rep);
	return CTL_OK;
}

int
cmd_revoke(struct ctl *c, int argc, char **argv)
{
	struct conf conf;
	char *pos[1];
	json_t *req, *rep, *also, *v;
	size_t i;
	int rc;

	if ((rc = ctl_member_arg(c, argc, argv, NULL, pos)) != CTL_OK)
		return rc;
	if (ctl_conf_load(c, &conf) == -1)
		return CTL_FAIL;
	req = json_pack("{s:s, s:s}", "cmd", "revoke", "name", pos[0]);
	if ((rep = keyd_call(c, req, "revoke")) == NULL)
		return CTL_FAIL;
	printf("revoked %s\n", ctl_json_str(rep, "revoked", pos[0]));
	also = json_object_get(rep, "also");
	json_array_foreach(also, i, v)
		printf("also no longer a member (admitted through it): %s\n",
		    json_string_value(v) ? json_string_value(v) : "?");
	json_decref(rep);
	return CTL_OK;
}
