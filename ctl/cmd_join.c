/*
 * join: become a member of a network with an invitation URL. Shaped
 * like init (cmd_init.c), whose order makes it safe to retry:
 *
 *   1. the URL and every option are checked, and an existing config is
 *      refused, before anything touches the disk;
 *   2. the directories are made and keyd (onionmesh-keyd --genkey)
 *      makes the identity: the CLI never holds a secret;
 *   3. keyd redeems the invitation (onionmesh-keyd --join -, the URL on
 *      its stdin so the secret is not in its argv): it
 *      reaches the inviter through tor (or --tcp), runs the exchange,
 *      checks every record's chain and writes hosts/ and revoked/; it
 *      reports progress as JSON lines, shown here as words;
 *   4. the config is written from the admission (root, name, addresses,
 *      role, admitted_by, admission; the network's range, mtu and
 *      anonymous flag; our own tor settings and --endpoint / --listen)
 *      and keyd signs our record;
 *   5. unless --no-up, the daemons start and we wait (bounded) for the
 *      first link.
 *
 * --endpoint HOST:PORT is where other members reach us over TCP (tcp =
 * in our record, so we can invite over TCP too); linkd listens on every
 * address at its PORT unless --listen says where, as with init.
 *
 * Whatever steps 2-4 created is removed again when a later step fails
 * (only what was not there before). Once admitted the invitation is
 * used up, so a failure after step 3 says so: the inviter has to make
 * a new one.
 */
#include "ctl/ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/addr.h"
#include "proto/clock.h"
#include "proto/endpoint.h"
#include "proto/file.h"
#include "proto/invite.h"
#include "proto/record.h"
#include "proto/torctl.h"
#include "proto/trust.h"

#define JOIN_KEYD_WAIT 75      /* s: keyd's own deadline is 60 s */
#define JOIN_LINK_WAIT 120     /* s: the first link after up */
#define JOIN_TOR_WAIT  60      /* s: tor's bootstrap */

/* What keyd --join said. */
struct join_out {
	json_t *admitted;
	char error[1024];
	int quiet;
};

static void progress(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line of progress on stdout, at once (a person is watching). */
static void
progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
join_line(void *arg, char *line)
{
	struct join_out *o = arg;
	json_t *j, *v;
	const char *ev;

	if ((j = json_loads(line, 0, NULL)) == NULL || !json_is_object(j)) {
		json_decref(j);
		return;
	}
	if ((v = json_object_get(j, "admitted")) != NULL &&
	    json_is_object(v)) {
		json_decref(o->admitted);
		o->admitted = json_incref(v);
		ev = ctl_json_str(v, "ipv4", "");
		progress("admitted as %s (%s, %s)", ctl_json_str(v, "name",
		    "?"), ev[0] != '\0' ? ev : "no IPv4",
		    ctl_json_str(v, "ipv6", "?"));
	} else if ((v = json_object_get(j, "error")) != NULL &&
	    json_is_string(v) && json_object_get(j, "event") == NULL) {
		/* The final error; a "retrying" event carries one too. */
		snprintf(o->error, sizeof(o->error), "%s",
		    json_string_value(v));
	} else if ((ev = ctl_json_str(j, "event", NULL)) != NULL &&
	    !o->quiet) {
		if (strcmp(ev, "connecting") == 0)
			progress("reaching the inviter (%s, %s)",
			    ctl_json_str(j, "via", "?"),
			    ctl_json_str(j, "to", "?"));
		else if (strcmp(ev, "retrying") == 0)
			progress("not reached yet (%s); trying again",
			    ctl_json_str(j, "error", "?"));
		else if (strcmp(ev, "connected") == 0)
			progress("connected");
		else if (strcmp(ev, "inviter") == 0)
			progress("the inviter's join key matches the "
			    "invitation (%.16s...)", ctl_json_str(j, "key",
			    "?"));
		else if (strcmp(ev, "redeeming") == 0)
			progress("redeeming the invitation");
		else if (strcmp(ev, "record") == 0 &&
		    json_is_true(json_object_get(j, "kept")))
			progress("the inviter holds our record now");
		else if (strcmp(ev, "record") == 0)
			progress("the inviter did not take our record (%s); "
			    "it will come by gossip",
			    ctl_json_str(j, "message", "?"));
	}
	json_decref(j);
}

/* ---- tor's bootstrap, for the progress lines ---- */

struct torq {
	int fd;
	struct torctl_parser *p;
	char in[4096];
	size_t in_len, in_off;
};

/* tor's ControlPort (endpoint.h's dialler), with timeouts: a person is
 * waiting. */
static int
torq_connect(const char *addr)
{
	struct timeval tv = { 5, 0 };
	char err[256];
	int fd;

	if ((fd = endpoint_connect(addr, 0, NULL, 0, err, sizeof(err))) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send cmd, read one (non-event) reply into q->p->reply. 0 or -1. */
static int
torq_cmd(struct torq *q, const char *cmd)
{
	size_t used, n = strlen(cmd);
	ssize_t r;
	int rc;

	if (send(q->fd, cmd, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	for (;;) {
		if (q->in_off == q->in_len) {
			r = recv(q->fd, q->in, sizeof(q->in), 0);
			if (r <= 0)
				return -1;
			q->in_len = (size_t)r;
			q->in_off = 0;
		}
		rc = torctl_parser_feed(q->p, q->in + q->in_off,
		    q->in_len - q->in_off, &used);
		q->in_off += used;
		if (rc == -1)
			return -1;
		if (rc == 1 && !q->p->reply.async)
			return q->p->reply.code == 250 ? 0 : -1;
	}
}

static int
torq_auth(struct torq *q, char *why, size_t cap)
{
	struct torctl_protocolinfo pi;
	struct torctl_safecookie sc;
	uint8_t cookie[TORCTL_COOKIE_BYTES];
	char cmd[TORCTL_CMD_MAX];
	size_t len = 0;
	char *c = NULL;
	int rc = -1;

	if (torq_cmd(q, TORCTL_CMD_PROTOCOLINFO) == -1 ||
	    torctl_parse_protocolinfo(&q->p->reply, &pi, why, cap) == -1)
		return -1;
	if (pi.methods & (TORCTL_AUTH_SAFECOOKIE | TORCTL_AUTH_COOKIE)) {
		c = file_read(pi.cookie_file, 64, &len);
		if (c == NULL || len != TORCTL_COOKIE_BYTES) {
			snprintf(why, cap, "cannot read tor's cookie %.200s",
			    pi.cookie_file);
			free(c);
			return -1;
		}
		memcpy(cookie, c, sizeof(cookie));
		sodium_memzero(c, len);
		free(c);
		if (pi.methods & TORCTL_AUTH_SAFECOOKIE) {
			if (torctl_safecookie_begin(&sc, cmd,
			    sizeof(cmd)) == -1 || torq_cmd(q, cmd) == -1 ||
			    torctl_parse_authchallenge(&q->p->reply, &sc, why,
			    cap) == -1 || torctl_safecookie_answer(cmd,
			    sizeof(cmd), &sc, cookie, why, cap) == -1)
				goto out;
		} else if (torctl_fmt_auth_cookie(cmd, sizeof(cmd),
		    cookie) == -1)
			goto out;
	} else if (pi.methods & TORCTL_AUTH_NULL)
		snprintf(cmd, sizeof(cmd), "%s", TORCTL_CMD_AUTH_NULL);
	else {
		snprintf(why, cap, "tor asks for a password");
		return -1;
	}
	rc = torq_cmd(q, cmd);
	if (rc == -1)
		snprintf(why, cap, "tor refused to authenticate us");
out:
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(cmd, sizeof(cmd));
	return rc;
}

/*
 * "tor: bootstrapped N%" each time tor's progress moves, until 100 or
 * wait_s. Only words for a person: the join itself finds out whether
 * tor can reach the inviter, so any trouble here is a warning.
 */
static void
tor_bootstrap_wait(const char *control, int wait_s)
{
	struct torq q;
	struct torctl_bootstrap b;
	double deadline = mono_now() + wait_s;
	char why[256] = "";
	int last = -1, pct;

	memset(&q, 0, sizeof(q));
	q.fd = -1;
	if ((q.p = calloc(1, sizeof(*q.p))) == NULL)
		return;
	torctl_parser_init(q.p);
	if ((q.fd = torq_connect(control)) == -1) {
		ctl_warnx("tor: cannot reach the ControlPort %s", control);
		goto out;
	}
	if (torq_auth(&q, why, sizeof(why)) == -1) {
		ctl_warnx("tor: cannot ask for its bootstrap progress: %s",
		    why[0] ? why : "no answer");
		goto out;
	}
	while (mono_now() < deadline) {
		if (torq_cmd(&q, TORCTL_CMD_GETINFO_BOOTSTRAP) == -1 ||
		    q.p->reply.n < 1)
			break;
		pct = torctl_parse_getinfo_bootstrap(&q.p->reply, &b, why,
		    sizeof(why)) == 0 ? b.progress : -1;
		if (pct != last && pct >= 0)
			progress("tor: bootstrapped %d%%", pct);
		last = pct;
		if (pct >= 100)
			break;
		usleep(500 * 1000);
	}
	if (last < 100)
		ctl_warnx("tor: not bootstrapped after %d s (%d%%)", wait_s,
		    last);
out:
	if (q.fd != -1)
		close(q.fd);
	free(q.p);
}

/* Our addresses from the admission: IPv4 (if any) with the network's
 * prefix length, IPv6 in the network's /48. 0 or -1 printed. */
static int
admit_addrs(struct conf *conf, json_t *a)
{
	struct prefix range, v4;
	const char *s = ctl_json_str(a, "ipv4", "");

	if (s[0] != '\0') {
		if (addr_parse(&v4, s) == -1 || v4.family != 4) {
			ctl_warnx("the admission's IPv4 address `%s' does not "
			    "parse", s);
			return -1;
		}
		v4.len = 32;
		if (prefix_parse(&range, ctl_json_str(a, "ipv4_range",
		    "")) == 0 && range.family == 4 &&
		    prefix_contains(&range, 4, v4.addr))
			v4.len = range.len;
		else if (prefix_parse(&range, DEFAULT_IPV4_NET) == 0 &&
		    prefix_contains(&range, 4, v4.addr))
			v4.len = range.len;
		conf->ipv4 = v4;
	}
	s = ctl_json_str(a, "ipv6", "");
	if (addr_parse(&conf->ipv6, s) == -1 || conf->ipv6.family != 6) {
		ctl_warnx("the admission's IPv6 address `%s' does not parse",
		    s);
		return -1;
	}
	conf->ipv6.len = 48;
	return 0;
}

/* The subnets the admission grants (issue 14): admitted_subnet lines,
 * in its order (the admission signs them so), and subnet lines, so
 * that the new member announces them. 0 or -1 (printed). */
static int
admit_subnets(struct conf *conf, json_t *a)
{
	json_t *list = json_object_get(a, "subnets"), *v;
	char why[160];
	size_t i;

	if (list != NULL && (!json_is_array(list) ||
	    json_array_size(list) > CONF_MAX_SUBNETS)) {
		ctl_warnx("keyd's answer has a malformed subnets list");
		return -1;
	}
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		struct prefix *p = &conf->admitted_subnets[i];

		if (s == NULL || subnet_parse(p, s, why, sizeof(why)) == -1) {
			ctl_warnx("the admission's subnet `%s': %s",
			    s != NULL ? s : "?", s != NULL ? why :
			    "not a string");
			return -1;
		}
		conf->subnets[i] = *p;
	}
	conf->nadmitted_subnets = conf->nsubnets = (int)i;
	return 0;
}

/* The config from the admission. 0 or -1 (printed). */
static int
conf_from_admit(struct ctl *c, struct conf *conf, json_t *a,
    const uint8_t pk[MEMBER_ID_BYTES], const char *torc, const char *tors,
    const char *endpoint, const char *listen, int privsep_off)
{
	const char *s;

	/* Paths first: the default interface name (om-NET) comes from
	 * them. */
	conf->paths = c->paths;
	conf_defaults(conf);
	s = ctl_json_str(a, "name", "");
	if (!name_valid(s)) {
		ctl_warnx("the admission names the member `%s', which is not "
		    "a valid name", s);
		return -1;
	}
	snprintf(conf->name, sizeof(conf->name), "%s", s);
	if (strcmp(ctl_json_str(a, "id", ""), "") != 0) {
		uint8_t id[MEMBER_ID_BYTES];

		if (hex_decode(id, MEMBER_ID_BYTES, ctl_json_str(a, "id",
		    "")) == -1 ||
		    sodium_memcmp(id, pk, MEMBER_ID_BYTES) != 0) {
			ctl_warnx("keyd was admitted with another key than "
			    "the one --genkey made");
			return -1;
		}
	}
	if (hex_decode(conf->root, MEMBER_ID_BYTES, ctl_json_str(a, "root",
	    "")) == -1 || hex_decode(conf->admitted_by, MEMBER_ID_BYTES,
	    ctl_json_str(a, "admitted_by", "")) == -1 ||
	    hex_decode(conf->admission, sizeof(conf->admission),
	    ctl_json_str(a, "admission", "")) == -1) {
		ctl_warnx("keyd's answer lacks the root or the admission");
		return -1;
	}
	conf->have_root = 1;
	conf->admitted = 1;
	conf->role = strcmp(ctl_json_str(a, "role", "member"), "admin") == 0 ?
	    ROLE_ADMIN : ROLE_MEMBER;
	if (admit_addrs(conf, a) == -1 || admit_subnets(conf, a) == -1)
		return -1;
	if (json_integer_value(json_object_get(a, "mtu")) >= 1280 &&
	    json_integer_value(json_object_get(a, "mtu")) <= 65535)
		conf->mtu = (uint32_t)json_integer_value(json_object_get(a,
		    "mtu"));
	conf->anonymous = json_is_true(json_object_get(a, "anonymous"));
	/* Known only now; the invitation is used up, so a refusal here
	 * would cost it: the member joins without the address instead. */
	if (conf->anonymous && (endpoint != NULL || listen != NULL))
		ctl_warnx("network %s is anonymous: --%s %s is left out of "
		    "the config (an anonymous member publishes no address and "
		    "takes no TCP links)", c->paths.net, endpoint ?
		    "endpoint" : "listen", endpoint ? endpoint : listen);
	else {
		if (endpoint != NULL) {
			snprintf(conf->tcp, sizeof(conf->tcp), "%s",
			    endpoint);
			if (ctl_listen_any(endpoint, conf->listen,
			    sizeof(conf->listen)) == -1)
				return -1;
		}
		if (listen != NULL)
			snprintf(conf->listen, sizeof(conf->listen), "%s",
			    listen);
	}
	if (torc != NULL)
		snprintf(conf->tor_control, sizeof(conf->tor_control), "%s",
		    torc);
	if (tors != NULL)
		snprintf(conf->tor_socks, sizeof(conf->tor_socks), "%s",
		    tors);
	if (privsep_off)
		conf->privsep = 0;
	return 0;
}

/* The first link that is up (its peer's name into out), polled. */
static int
first_link(struct ctl *c, char *out, size_t cap, int wait_s)
{
	double deadline = mono_now() + wait_s;
	json_t *rep, *l;
	char err[256];
	size_t i;

	while (mono_now() < deadline) {
		rep = ctl_call(c, "linkd", "links", 2000, err, sizeof(err),
		    NULL);
		if (rep != NULL) {
			json_array_foreach(json_object_get(rep, "links"), i,
			    l) {
				if (strcmp(ctl_json_str(l, "state", ""),
				    "up") == 0) {
					snprintf(out, cap, "%s",
					    ctl_json_str(l, "peer", "?"));
					json_decref(rep);
					return 0;
				}
			}
			json_decref(rep);
		}
		usleep(500 * 1000);
	}
	return -1;
}

enum { O_TORC, O_TORS, O_TCP, O_ENDPOINT, O_LISTEN, O_NOUP,
    O_NOPRIVSEP, O_END };

/* The invitation against -n and --tcp; without -n, the URL names the
 * network. */
static int
join_url_check(struct ctl *c, struct ctl_opt *opts,
    const struct invite_url *url)
{
	char why[PATH_MAX + 256];

	if (strcmp(url->net, c->paths.net) != 0) {
		if (strcmp(c->net, DEFAULT_NET) != 0)
			return ctl_usage(c, "the invitation is for network "
			    "`%s', not `%s' (-n %s, or leave -n out)",
			    url->net, c->net, url->net);
		if (conf_paths(&c->paths, url->net, c->dir, why,
		    sizeof(why)) == -1) {
			ctl_warnx("%s", why);
			return CTL_FAIL;
		}
		c->net = c->paths.net;
	}
	if (opts[O_TCP].val != NULL && url->tcp[0] == '\0')
		return ctl_usage(c, "--tcp: the invitation has no tcp= "
		    "endpoint (the inviter takes onion links only)");
	if (opts[O_TCP].val == NULL && url->onion[0] == '\0')
		return ctl_usage(c, "the invitation has only a tcp= endpoint: "
		    "add --tcp to reach it without tor");
	return CTL_OK;
}

/* 1. The URL (pos[0]; "-": the first line of stdin, so that it need not
 * appear in our argv, which every local user can read, or the shell
 * history). */
static int
join_url(struct ctl *c, struct ctl_opt *opts, char **pos)
{
	static struct invite_url url;
	static char line[INVITE_URL_MAX + 2];
	char why[PATH_MAX + 256];
	int rc;

	if (strcmp(pos[0], "-") == 0) {
		if (fgets(line, sizeof(line), stdin) == NULL)
			return ctl_usage(c, "join -: no URL on standard "
			    "input");
		line[strcspn(line, "\r\n")] = '\0';
		pos[0] = line;
	}
	if (invite_url_parse(&url, pos[0], why, sizeof(why)) == -1) {
		sodium_memzero(&url, sizeof(url));
		return ctl_usage(c, "%s", why);
	}
	rc = join_url_check(c, opts, &url);
	sodium_memzero(&url, sizeof(url));
	return rc;
}

/* 1. The options. */
static int
join_opts(struct ctl *c, struct ctl_opt *opts)
{
	int rc;

	if ((rc = ctl_tor_opts_check(c, opts[O_TORC].val,
	    opts[O_TORS].val)) != CTL_OK)
		return rc;
	if (opts[O_ENDPOINT].val && !ctl_hostport_valid(opts[O_ENDPOINT].val))
		return ctl_usage(c, "--endpoint `%s' is not HOST:PORT (where "
		    "other members reach this one: an IPv4 address, [IPv6] "
		    "or DNS name, and a port 1..65535, e.g. 192.0.2.7:%d)",
		    opts[O_ENDPOINT].val, DEFAULT_PORT);
	if (opts[O_LISTEN].val && !ctl_hostport_valid(opts[O_LISTEN].val))
		return ctl_usage(c, "--listen `%s' is not HOST:PORT (a local "
		    "address and a port 1..65535, e.g. 0.0.0.0:%d)",
		    opts[O_LISTEN].val, DEFAULT_PORT);
	if ((opts[O_TORC].val == NULL) != (opts[O_TORS].val == NULL))
		return ctl_usage(c, "--tor-control and --tor-socks go "
		    "together (a member publishes its onion service and "
		    "dials through tor)");
	if (opts[O_TCP].val == NULL && opts[O_TORS].val == NULL)
		return ctl_usage(c, "the inviter is reached through tor: give "
		    "--tor-control ADDR --tor-socks ADDR (or --tcp when the "
		    "invitation has a tcp= endpoint)");
	return CTL_OK;
}

/* 3. Redeem: keyd --join, the URL on its stdin. 0 with jo->admitted, or
 * -1 printed. */
static int
join_redeem(struct ctl *c, struct ctl_opt *opts, const char *keyd,
    const char *url, struct join_out *jo)
{
	const char *jargv[10];
	int i = 0, rc;

	if (opts[O_TORC].val != NULL && opts[O_TCP].val == NULL)
		tor_bootstrap_wait(opts[O_TORC].val, JOIN_TOR_WAIT);
	jargv[i++] = "--join";
	jargv[i++] = "-";          /* the URL on stdin, not in argv */
	if (opts[O_TCP].val != NULL)
		jargv[i++] = "--tcp";
	if (opts[O_TORS].val != NULL) {
		jargv[i++] = "--tor-socks";
		jargv[i++] = opts[O_TORS].val;
	}
	if (opts[O_TORC].val != NULL && opts[O_TORS].val != NULL) {
		jargv[i++] = "--onion";
		/* our tor needs the invitation's client key (issue 15) */
		jargv[i++] = "--tor-control";
		jargv[i++] = opts[O_TORC].val;
	}
	jargv[i] = NULL;
	memset(jo, 0, sizeof(*jo));
	rc = ctl_run_keyd(c, keyd, jargv, url, JOIN_KEYD_WAIT, join_line,
	    jo);
	if (rc == -1 || jo->admitted == NULL) {
		ctl_warnx("join failed: %s", jo->error[0] != '\0' ?
		    jo->error : "keyd ended without an answer (see above)");
		json_decref(jo->admitted);
		jo->admitted = NULL;
		return -1;
	}
	return 0;
}

/* 4. The config from the admission, then our signed record. 0, or -1
 * printed. */
static int
join_config(struct ctl *c, struct ctl_opt *opts, struct undo *u,
    const char *keyd, json_t *admitted, const uint8_t pk[MEMBER_ID_BYTES])
{
	static struct conf conf, check;
	static char text[16384];
	struct record rec;
	uint8_t netid[NETID_BYTES];
	char why[PATH_MAX + 256], path[PATH_MAX + 64];
	int len;

	if (conf_from_admit(c, &conf, admitted, pk, opts[O_TORC].val,
	    opts[O_TCP].val != NULL && opts[O_TORS].val == NULL ? NULL :
	    opts[O_TORS].val, opts[O_ENDPOINT].val, opts[O_LISTEN].val,
	    opts[O_NOPRIVSEP].val != NULL) == -1)
		return -1;
	if ((len = conf_format(&conf, text, sizeof(text))) < 0) {
		ctl_warnx("the config does not fit %zu bytes", sizeof(text));
		return -1;
	}
	conf_defaults(&check);
	check.paths = c->paths;
	why[0] = '\0';
	if (conf_parse(&check, c->paths.conf_file, text, len, why,
	    sizeof(why)) == -1 || conf_check(&check, why, sizeof(why)) ==
	    -1) {
		ctl_warnx("the config from the admission does not read back: "
		    "%s", why[0] ? why : "no reason given");
		return -1;
	}
	if (ctl_setup_write(c, u, keyd, text, len, pk, "init or join") == -1)
		return -1;
	netid_derive(netid, c->paths.net, conf.root);
	snprintf(path, sizeof(path), "%s/%s", c->paths.hosts_dir, conf.name);
	if (ctl_record_read(path, netid, &rec, why, sizeof(why)) == -1) {
		ctl_warnx("keyd did not leave our signed record: %s", why);
		return -1;
	}
	progress("member %s of network %s, config %s", conf.name,
	    c->paths.net, c->paths.conf_file);
	return 0;
}

/* 5. Unless --no-up: up, and the first link. */
static int
join_up(struct ctl *c, struct ctl_opt *opts)
{
	char *upv[] = { "up", NULL };
	char peer[NAME_MAX_LEN + 64];

	if (opts[O_NOUP].val != NULL) {
		printf("next: onionmesh%s%s -n %s up\n", c->dir ? " -d " : "",
		    c->dir ? c->dir : "", c->paths.net);
		return CTL_OK;
	}
	progress("starting the daemons");
	if (cmd_up(c, 1, upv) != CTL_OK) {
		ctl_warnx("joined, but the daemons did not start: see above, "
		    "then onionmesh%s%s%s%s up", c->dir ? " -d " : "",
		    c->dir ? c->dir : "", " -n ", c->paths.net);
		return CTL_FAIL;
	}
	if (first_link(c, peer, sizeof(peer), JOIN_LINK_WAIT) != 0) {
		ctl_warnx("joined and started, but no link came up within %d "
		    "s (onionmesh links shows why)", JOIN_LINK_WAIT);
		return CTL_FAIL;
	}
	progress("first link up: %s", peer);
	return CTL_OK;
}

int
cmd_join(struct ctl *c, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		[O_TORC] = { "tor-control", "ADDR", NULL },
		[O_TORS] = { "tor-socks", "ADDR", NULL },
		[O_TCP] = { "tcp", NULL, NULL },
		[O_ENDPOINT] = { "endpoint", "HOST:PORT", NULL },
		[O_LISTEN] = { "listen", "HOST:PORT", NULL },
		[O_NOUP] = { "no-up", NULL, NULL },
		[O_NOPRIVSEP] = { "no-privsep", NULL, NULL },
		[O_END] = { NULL, NULL, NULL },
	};
	static struct undo u;
	struct join_out jo;
	uint8_t pk[MEMBER_ID_BYTES];
	char keyd[PATH_MAX], *pos[1];
	int n, rc, ok = 0, admitted = 0;

	if ((rc = ctl_getopt(c, argc, argv, opts, pos, 1, 1, &n)) != CTL_OK)
		return rc;
	if ((rc = join_url(c, opts, pos)) != CTL_OK ||
	    (rc = join_opts(c, opts)) != CTL_OK)
		return rc;
	if (ctl_setup_check(c, keyd, sizeof(keyd)) == -1)
		return CTL_FAIL;

	/* 2. Directories and the identity, then 3 and 4. */
	memset(&jo, 0, sizeof(jo));
	if (ctl_setup_dirs(c, &u, 1) == 0 && ctl_genkey(c, keyd, pk) == 0 &&
	    join_redeem(c, opts, keyd, pos[0], &jo) == 0) {
		admitted = 1;
		ok = join_config(c, opts, &u, keyd, jo.admitted, pk) == 0;
	}
	json_decref(jo.admitted);
	if (!ok) {
		undo_run(&u);
		if (admitted)
			ctl_warnx("the invitation was used up by this "
			    "attempt; ask the inviter for a new one");
	}
	ctl_setup_free(&u);
	return ok ? join_up(c, opts) : CTL_FAIL;
}
