/*
 * status, peers, links, routes: the live state of one network. Each
 * command builds one JSON model from what it can find — the config, the
 * host records on disk, and the ctl replies of the daemons it needs —
 * and hands it to the chosen output (table or --json). A daemon that
 * does not answer is part of the model ("running": false and why), so
 * the output still shows everything else; the command then exits 1 and
 * says on stderr which daemon is down.
 */
#include "ctl/ctl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/addr.h"
#include "proto/record.h"

#define SHOW_TIMEOUT_MS 2000

struct show {
	struct ctl *c;
	struct conf conf;
	uint8_t netid[NETID_BYTES];
	const struct output *out;
	json_t *model;
	json_t *daemons;         /* name -> {"running", "pid"|"error"} */
	char down[128];          /* daemons that did not answer */
	int failed;              /* a daemon refused a request */
};

static void
show_free(struct show *s)
{
	json_decref(s->model);
	json_decref(s->daemons);
}

static int
show_open(struct show *s, struct ctl *c, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		{ "json", NULL, NULL },
		{ NULL, NULL, NULL },
	};
	int n, rc;

	memset(s, 0, sizeof(*s));
	s->c = c;
	if ((rc = ctl_getopt(c, argc, argv, opts, NULL, 0, 0, &n)) != CTL_OK)
		return rc;
	s->out = opts[0].val ? &output_json : &output_human;
	if (ctl_conf_load(c, &s->conf) == -1)
		return CTL_FAIL;
	netid_derive(s->netid, c->paths.net, s->conf.root);
	s->model = json_object();
	s->daemons = json_object();
	if (s->model == NULL || s->daemons == NULL) {
		ctl_warnx("out of memory");
		return CTL_FAIL;
	}
	json_object_set_new(s->model, "net", json_string(c->paths.net));
	json_object_set_new(s->model, "name", json_string(s->conf.name));
	return CTL_OK;
}

/* --json, the config and an empty model. On failure nothing is left to
 * free. */
static int
show_begin(struct show *s, struct ctl *c, int argc, char **argv)
{
	int rc = show_open(s, c, argc, argv);

	if (rc != CTL_OK)
		show_free(s);
	return rc;
}

/* Ask a daemon; note in the model whether it answered. Returns the
 * reply (new reference) or NULL. */
static json_t *
show_call(struct show *s, const char *daemon, const char *cmd)
{
	char err[512];
	json_t *rep, *d, *pid;
	size_t n;
	int down;

	rep = ctl_call(s->c, daemon, cmd, SHOW_TIMEOUT_MS, err, sizeof(err),
	    &down);
	if ((d = json_object_get(s->daemons, daemon)) == NULL) {
		d = json_object();
		json_object_set_new(s->daemons, daemon, d);
	}
	if (rep == NULL && !down) {
		/* It runs but refused this request: say so, keep going. */
		ctl_warnx("%s", err);
		json_object_set_new(d, "error", json_string(err));
		s->failed = 1;
		return NULL;
	}
	if (rep == NULL) {
		json_object_set_new(d, "running", json_false());
		json_object_set_new(d, "error", json_string(err));
		json_object_del(d, "pid");
		if (strstr(s->down, daemon) == NULL) {
			n = strlen(s->down);
			snprintf(s->down + n, sizeof(s->down) - n, "%s%s",
			    n ? ", " : "", daemon);
		}
		return NULL;
	}
	if (json_object_get(d, "running") == NULL)
		json_object_set_new(d, "running", json_true());
	if ((pid = json_object_get(rep, "pid")) != NULL &&
	    json_is_integer(pid))
		json_object_set(d, "pid", pid);
	return rep;
}

/* Print, then report any daemon that did not answer: exit 1. */
static int
show_end(struct show *s, void (*render)(FILE *, json_t *))
{
	int rc = s->failed ? CTL_FAIL : CTL_OK;

	json_object_set(s->model, "daemons", s->daemons);
	render(stdout, s->model);
	if (s->down[0]) {
		fflush(stdout);
		ctl_warnx("%s not running on network %s (`onionmesh up' "
		    "starts the daemons; their logs are in %s)", s->down,
		    s->c->paths.net, s->c->paths.run_dir);
		rc = CTL_FAIL;
	}
	json_decref(s->model);
	json_decref(s->daemons);
	return rc;
}

static int
link_is_up(json_t *l)
{
	const char *st = ctl_json_str(l, "state", "");

	return strcasecmp(st, "up") == 0 ||
	    strcasecmp(st, "established") == 0;
}

static json_t *
reply_list(json_t *rep, const char *key)
{
	json_t *a = rep ? json_object_get(rep, key) : NULL;

	return json_is_array(a) ? a : NULL;
}

/* Our own record's id, from hosts/<name> (the CLI holds no key). */
static void
self_id(struct show *s, char hex[MEMBER_ID_BYTES * 2 + 1])
{
	char path[PATH_MAX], err[PATH_MAX + 256];
	struct record r;

	hex[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
	    s->c->paths.hosts_dir, s->conf.name) >= sizeof(path))
		return;
	if (ctl_record_read(path, s->netid, &r, err, sizeof(err)) == -1) {
		ctl_warnx("%s", err);
		return;
	}
	hex_encode(hex, r.id, MEMBER_ID_BYTES);
}

/* id hex -> name for every member on disk, for the tables. */
static json_t *
member_names(json_t *hosts)
{
	json_t *m = json_object(), *h;
	size_t i;

	if (m == NULL)
		return NULL;
	json_array_foreach(hosts, i, h)
		json_object_set_new(m, ctl_json_str(h, "id", "?"),
		    json_string(ctl_json_str(h, "name", "?")));
	return m;
}

/* Members: keyd's view when it runs (what it accepted), else the
 * records on disk. */
static void
status_members(struct show *s)
{
	json_t *rep = NULL, *list = NULL, *hosts;

	if (json_is_true(json_object_get(json_object_get(s->daemons, "keyd"),
	    "running")) && (rep = show_call(s, "keyd", "records")) != NULL)
		list = reply_list(rep, "records");
	if (list) {
		json_object_set_new(s->model, "members",
		    json_integer(json_array_size(list)));
		json_object_set_new(s->model, "members_from",
		    json_string("keyd"));
	} else if ((hosts = ctl_hosts_json(s->c, s->netid)) != NULL) {
		json_object_set_new(s->model, "members",
		    json_integer(json_array_size(hosts)));
		json_object_set_new(s->model, "members_from",
		    json_string("hosts"));
		json_decref(hosts);
	}
	json_decref(rep);
}

/* Links: how many linkd has and how many are up, null when it does not
 * say. */
static void
status_links(struct show *s)
{
	json_t *rep = NULL, *list = NULL, *l;
	size_t i, nup = 0;

	if (json_is_true(json_object_get(json_object_get(s->daemons,
	    "linkd"), "running")) && (rep = show_call(s, "linkd",
	    "links")) != NULL)
		list = reply_list(rep, "links");
	if (list) {
		json_array_foreach(list, i, l)
			nup += link_is_up(l);
		json_object_set_new(s->model, "links_up", json_integer(nup));
		json_object_set_new(s->model, "links",
		    json_integer(json_array_size(list)));
	} else
		json_object_set_new(s->model, "links_up", json_null());
	json_decref(rep);
}

int
cmd_status(struct ctl *c, int argc, char **argv)
{
	struct show s;
	char hex[MEMBER_ID_BYTES * 2 + 1], a[PREFIX_STRLEN];
	json_t *rep, *d, *sup, *l;
	pid_t pid;
	size_t i;
	int rc, r;

	if ((rc = show_begin(&s, c, argc, argv)) != CTL_OK)
		return rc;
	self_id(&s, hex);
	json_object_set_new(s.model, "id", hex[0] ? json_string(hex) :
	    json_null());
	prefix_fmt(&s.conf.ipv4, a, sizeof(a), 1);
	json_object_set_new(s.model, "ipv4", json_string(a));
	prefix_fmt(&s.conf.ipv6, a, sizeof(a), 1);
	json_object_set_new(s.model, "ipv6", json_string(a));
	json_object_set_new(s.model, "version", json_string(ctl_version()));
	if (s.conf.tcp[0])
		json_object_set_new(s.model, "tcp", json_string(s.conf.tcp));

	sup = json_object();
	r = ctl_supervisor_running(c, &pid);
	json_object_set_new(sup, "running", json_boolean(r == 1));
	if (r == 1 && pid > 0)
		json_object_set_new(sup, "pid", json_integer(pid));
	json_object_set_new(s.model, "supervisor", sup);

	for (i = 0; i < CTL_NDAEMONS; i++) {
		if ((rep = show_call(&s, ctl_daemons[i], "status")) == NULL)
			continue;
		d = json_object_get(s.daemons, ctl_daemons[i]);
		json_object_set_new(d, "status", rep);
	}

	/* Onion mode: keyd's view of tor (bootstrap, our service), or
	 * null when keyd does not say. Absent in TCP mode. */
	if (s.conf.tor_control[0] != '\0' && s.conf.tor_socks[0] != '\0') {
		l = json_object_get(json_object_get(json_object_get(s.daemons,
		    "keyd"), "status"), "tor");
		json_object_set_new(s.model, "tor", json_is_object(l) ?
		    json_incref(l) : json_null());
	}

	status_members(&s);
	status_links(&s);
	return show_end(&s, s.out->status);
}

int
cmd_peers(struct ctl *c, int argc, char **argv)
{
	struct show s;
	json_t *hosts, *rep, *links, *h, *l, *rtt;
	const char *id, *name, *lid, *lname;
	double best;
	size_t i, j;
	int rc, nup;

	if ((rc = show_begin(&s, c, argc, argv)) != CTL_OK)
		return rc;
	if ((hosts = ctl_hosts_json(c, s.netid)) == NULL) {
		show_free(&s);
		return CTL_FAIL;
	}
	rep = show_call(&s, "linkd", "links");
	links = reply_list(rep, "links");
	json_array_foreach(hosts, i, h) {
		name = ctl_json_str(h, "name", "");
		id = ctl_json_str(h, "id", "");
		json_object_set_new(h, "self",
		    json_boolean(strcmp(name, s.conf.name) == 0));
		if (links == NULL || strcmp(name, s.conf.name) == 0) {
			json_object_set_new(h, "links_up", json_null());
			json_object_set_new(h, "rtt_ms", json_null());
			continue;
		}
		nup = 0;
		best = -1;
		json_array_foreach(links, j, l) {
			lid = ctl_json_str(l, "peer_id", "");
			lname = ctl_json_str(l, "peer", "");
			if (strcasecmp(lid, id) != 0 &&
			    (lid[0] || strcmp(lname, name) != 0))
				continue;
			if (!link_is_up(l))
				continue;
			nup++;
			rtt = json_object_get(l, "rtt_ms");
			if (!json_is_number(rtt) ||
			    json_number_value(rtt) <= 0)
				continue;
			if (best < 0 || json_number_value(rtt) < best)
				best = json_number_value(rtt);
		}
		json_object_set_new(h, "links_up", json_integer(nup));
		json_object_set_new(h, "rtt_ms", best >= 0 ?
		    json_real(best) : json_null());
	}
	json_object_set_new(s.model, "peers", hosts);
	json_decref(rep);
	return show_end(&s, s.out->peers);
}

/* links and routes: one daemon's list, and the member names the table
 * shows beside ids. */
static int
show_list(struct ctl *c, int argc, char **argv, const char *daemon,
    const char *key)
{
	struct show s;
	json_t *rep, *list, *hosts;
	int rc;

	if ((rc = show_begin(&s, c, argc, argv)) != CTL_OK)
		return rc;
	rep = show_call(&s, daemon, key);
	list = reply_list(rep, key);
	json_object_set_new(s.model, key, list ? json_incref(list) :
	    json_array());
	/* links: each member's reorder figures ride along (for --json). */
	if (strcmp(key, "links") == 0 &&
	    (list = reply_list(rep, "reorder")) != NULL)
		json_object_set_new(s.model, "reorder", json_incref(list));
	if ((hosts = ctl_hosts_json(c, s.netid)) != NULL) {
		json_object_set_new(s.model, "members", member_names(hosts));
		json_decref(hosts);
	}
	json_decref(rep);
	return show_end(&s, strcmp(key, "routes") == 0 ? s.out->routes :
	    s.out->links);
}

int
cmd_links(struct ctl *c, int argc, char **argv)
{
	return show_list(c, argc, argv, "linkd", "links");
}

int
cmd_routes(struct ctl *c, int argc, char **argv)
{
	return show_list(c, argc, argv, "routed", "routes");
}
