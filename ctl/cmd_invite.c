/*
 * invite, grant and revoke: the membership commands a running member
 * answers. Each only checks the command line and asks keyd (ctl.keyd
 * "invite" / "grant" / "revoke"); keyd decides, since it alone holds
 * the key, the records, the grants and the revocations. The CLI never sees more of a secret than
 * the URL keyd returns, which it prints once and wipes.
 *
 *   invite NAME [--ipv4 A.B.C.D] [--expires DURATION] [--admin]
 *          [--subnet PREFIX]...
 *   grant NAME --subnet PREFIX [--subnet PREFIX]...
 *   revoke NAME
 *
 * --subnet (repeatable) grants the new member a subnet in its
 * admission (issue 14); grant gives subnets to a member admitted
 * already (a signed grant, gossiped like a revocation). keyd refuses
 * both unless this member is the root or an admin.
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

/* Take every --subnet PREFIX (or --subnet=PREFIX) out of argv (ctl's
 * options come once; this one repeats) into a JSON array *out. argc is
 * updated. CTL_OK, or the exit status. */
static int
take_subnets(struct ctl *c, int *argc, char **argv, json_t **out)
{
	struct prefix p;
	char why[160];
	const char *v;
	int i, n = 1;

	if ((*out = json_array()) == NULL) {
		ctl_warnx("out of memory");
		return CTL_FAIL;
	}
	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--subnet") == 0 && i + 1 < *argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--subnet=", 9) == 0)
			v = argv[i] + 9;
		else {
			argv[n++] = argv[i];
			continue;
		}
		if (subnet_parse(&p, v, why, sizeof(why)) == -1) {
			json_decref(*out);
			return ctl_usage(c, "--subnet `%s': %s", v, why);
		}
		json_array_append_new(*out, json_string(v));
	}
	*argc = n;
	return CTL_OK;
}

/* --ipv4 and --expires (NULL: not given) make sense; *ttl set. CTL_OK,
 * or the usage error's exit status. */
static int
invite_opts_check(struct ctl *c, const char *ipv4, const char *expires,
    long long *ttl)
{
	struct prefix p;

	if (ipv4 != NULL && (strchr(ipv4, '/') != NULL ||
	    addr_parse(&p, ipv4) == -1 || p.family != 4))
		return ctl_usage(c, "--ipv4 `%s' is not an IPv4 address "
		    "(A.B.C.D, in the network's range, without /LEN)", ipv4);
	if (expires != NULL && ctl_duration_parse(expires, ttl) == -1)
		return ctl_usage(c, "--expires `%s' is not a duration from "
		    "30s to 30d (a whole number and s, m, h or d: 90m, 12h, "
		    "7d)", expires);
	return CTL_OK;
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
	long long ttl = TTL_DEFAULT_S;
	const char *url;
	char *pos[1];
	json_t *req, *rep, *subnets;
	int rc;

	if ((rc = take_subnets(c, &argc, argv, &subnets)) != CTL_OK)
		return rc;
	if ((rc = ctl_member_arg(c, argc, argv, opts, pos)) != CTL_OK) {
		json_decref(subnets);
		return rc;
	}
	if ((rc = invite_opts_check(c, opts[O_IPV4].val,
	    opts[O_EXPIRES].val, &ttl)) != CTL_OK ||
	    ctl_conf_load(c, &conf) == -1) {
		json_decref(subnets);
		return rc != CTL_OK ? rc : CTL_FAIL;
	}

	req = json_pack("{s:s, s:s, s:I, s:b, s:o}", "cmd", "invite", "name",
	    pos[0], "expires_s", (json_int_t)ttl, "admin",
	    opts[O_ADMIN].val != NULL, "subnets", subnets);
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
cmd_grant(struct ctl *c, int argc, char **argv)
{
	struct conf conf;
	char *pos[1];
	json_t *req, *rep, *subnets;
	int rc;

	if ((rc = take_subnets(c, &argc, argv, &subnets)) != CTL_OK)
		return rc;
	if ((rc = ctl_member_arg(c, argc, argv, NULL, pos)) != CTL_OK ||
	    json_array_size(subnets) == 0 || ctl_conf_load(c, &conf) == -1) {
		json_decref(subnets);
		if (rc != CTL_OK)
			return rc;
		if (json_array_size(subnets) == 0)
			return ctl_usage(c, "no --subnet PREFIX to grant");
		return CTL_FAIL;
	}
	req = json_pack("{s:s, s:s, s:o}", "cmd", "grant", "name", pos[0],
	    "subnets", subnets);
	if ((rep = keyd_call(c, req, "grant")) == NULL)
		return CTL_FAIL;
	printf("granted %s %d subnets\n", ctl_json_str(rep, "name", pos[0]),
	    (int)json_integer_value(json_object_get(rep, "subnets")));
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
