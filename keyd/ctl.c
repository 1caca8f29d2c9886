/*
 * keyd's ctl socket: JSON requests from the onionmesh command.
 *
 *   status   {daemon, pid, name, id, netid, records, linkd, routed,
 *            tor (onion mode: torctl_io_status_json)}
 *   records  {records: [{name, id, ipv4, ipv6, tcp, onion, subnets,
 *            serial}]}
 *   export   {record: our signed record's text} (or "name": another's)
 *   reload   re-read config and hosts/, re-sign ours, push again
 *            (changing: root or keyd's own user only, refused at
 *            the door: proto/ipc.c)
 *   edges    {edges: [{member, id, serial, peers: [{peer, rtt_us,
 *            rate_kbps}]}]}:
 *            the edge announcements keyd holds (gossip.c)
 *   invite   {name, ipv4?, expires_s?, admin?, subnets?} -> {url}: a new
 *            invitation (invites.c); the URL holds its secret, which is
 *            in this reply only (changing)
 *   grant    {name, subnets} -> {name, subnets}: a grant of subnets to
 *            a member admitted already (grants.c; changing)
 *   revoke   {name} -> {revoked, also: [names whose chain broke]}
 *            (revoke.c; changing)
 *   revoked  {revoked: [{id, by, serial, name?}]}: the revocations held
 *   log      {daemon, level[, was]}: read or set the log level
 *            (proto/logctl.h; setting is changing)
 *
 * Public keys and records only: nothing secret is ever put in a reply.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "keyd/invites.h"
#include "keyd/keyd.h"
#include "keyd/revoke.h"
#include "proto/log.h"
#include "proto/json.h"
#include "proto/logctl.h"

static json_t *
ctl_record(const struct record *r)
{
	json_t *o, *tcp, *subnets;
	int i;

	tcp = json_array();
	for (i = 0; i < r->ntcp; i++)
		json_array_append_new(tcp, json_string(r->tcp[i]));
	subnets = json_array();
	for (i = 0; i < r->nsubnets; i++)
		json_array_append_new(subnets, json_prefix(&r->subnets[i], 1));
	o = json_object();
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "id", json_hex(r->id, MEMBER_ID_BYTES));
	json_object_set_new(o, "ipv4", json_prefix(&r->ipv4, 0));
	json_object_set_new(o, "ipv6", json_prefix(&r->ipv6, 0));
	json_object_set_new(o, "tcp", tcp);
	json_object_set_new(o, "onion",
	    r->onion[0] ? json_string(r->onion) : json_null());
	json_object_set_new(o, "subnets", subnets);
	json_object_set_new(o, "serial", json_integer((json_int_t)r->serial));
	json_object_set_new(o, "role", json_string(role_name(r->role)));
	json_object_set_new(o, "admitted_by", r->admitted ?
	    json_hex(r->admitted_by, MEMBER_ID_BYTES) : json_null());
	return o;
}

static json_t *
ctl_status(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	json_t *o;

	o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "daemon", json_string("keyd"));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "name", json_string(k->d.conf.name));
	json_object_set_new(o, "id", json_hex(keys_id(), MEMBER_ID_BYTES));
	json_object_set_new(o, "netid", json_hex(k->netid, NETID_BYTES));
	json_object_set_new(o, "root", json_hex(k->d.conf.root,
	    MEMBER_ID_BYTES));
	json_object_set_new(o, "revoked",
	    json_integer((json_int_t)revoked_count(k)));
	json_object_set_new(o, "revocations", json_pack("{s:I, s:I, s:I}",
	    "accepted", (json_int_t)k->revoked.accepted,
	    "refused", (json_int_t)k->revoked.refused,
	    "over_bound", (json_int_t)k->revoked.over_bound));
	json_object_set_new(o, "records", json_integer((json_int_t)k->recs.n));
	json_object_set_new(o, "linkd", json_boolean(k->linkd != NULL &&
	    ipc_chan_connected(k->linkd)));
	json_object_set_new(o, "routed", json_boolean(k->routed != NULL &&
	    ipc_chan_connected(k->routed)));
	json_object_set_new(o, "dh_ok", json_integer((json_int_t)k->dh_ok));
	json_object_set_new(o, "dh_refused",
	    json_integer((json_int_t)k->dh_refused));
	json_object_set_new(o, "gossip", gossip_ctl_status(k));
	json_object_set_new(o, "claims", keyd_claims_status(k));
	json_object_set_new(o, "grants", grants_status(k));
	json_object_set_new(o, "joins", join_serve_status(k));
	/* Onion mode only; null when torctl_io could not start. */
	if (k->tor != NULL)
		json_object_set_new(o, "tor", torctl_io_status_json(k->tor));
	else if (keyd_onion_mode(&k->d.conf))
		json_object_set_new(o, "tor", json_null());
	return o;
}

static json_t *
ctl_records(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	json_t *a;
	size_t i;

	a = json_array();
	for (i = 0; i < k->recs.n; i++)
		json_array_append_new(a, ctl_record(&k->recs.v[i].rec));
	return json_pack("{s:b, s:o}", "ok", 1, "records", a);
}

static json_t *
ctl_export(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	const struct keyd_rec *e = NULL;
	const char *name;
	json_t *jn;
	size_t i;

	jn = json_object_get(req, "name");
	if (jn != NULL && !json_is_null(jn)) {
		name = json_string_value(jn);
		if (name == NULL)
			return json_error("export: \"name\" must be a string");
		for (i = 0; i < k->recs.n; i++)
			if (strcmp(k->recs.v[i].rec.name, name) == 0)
				e = &k->recs.v[i];
		if (e == NULL)
			return json_error("export: no record of a member "
			    "named \"%s\"", name);
	} else {
		e = records_find(&k->recs, keys_id());
		if (e == NULL)
			return json_error("export: our own record is missing");
	}
	return json_pack("{s:b, s:s, s:s%}", "ok", 1, "name", e->rec.name,
	    "record", e->text, e->len);
}

static json_t *
ctl_reload(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	char err[KEYD_ERRLEN];

	if (keyd_reload(k, err, sizeof(err)) == -1)
		return json_error("reload failed, previous state kept: %s",
		    err);
	return json_pack("{s:b, s:I}", "ok", 1, "records",
	    (json_int_t)k->recs.n);
}

/* "subnets": ["PREFIX", ...] (absent or null: none) into g. NULL, or
 * the error to answer. */
static json_t *
ctl_subnets(const char *cmd, json_t *req, struct prefix *list,
    struct invite_grant *g)
{
	char why[160];
	json_t *j = json_object_get(req, "subnets"), *v;
	size_t i;

	g->subnets = list;
	g->nsubnets = 0;
	if (j == NULL || json_is_null(j))
		return NULL;
	if (!json_is_array(j) || json_array_size(j) > RECORD_MAX_SUBNETS)
		return json_error("%s: \"subnets\" must be an array of at "
		    "most %d prefixes", cmd, RECORD_MAX_SUBNETS);
	json_array_foreach(j, i, v) {
		const char *p = json_string_value(v);

		if (p == NULL)
			return json_error("%s: \"subnets\" must hold "
			    "strings", cmd);
		if (subnet_list_add(list, &g->nsubnets, RECORD_MAX_SUBNETS,
		    p, why, sizeof(why)) == -1)
			return json_error("%s: subnet %.64s: %s", cmd, p, why);
	}
	return NULL;
}

static json_t *
ctl_invite(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	char url[INVITE_URL_MAX + 1], err[KEYD_ERRLEN];
	const char *name, *ipv4 = NULL;
	struct prefix subnets[RECORD_MAX_SUBNETS];
	struct invite_grant g;
	json_t *j, *rep;
	json_int_t ttl = INVITE_TTL_DEFAULT;
	int role = ROLE_MEMBER;

	name = json_string_value(json_object_get(req, "name"));
	if (name == NULL)
		return json_error("invite: \"name\" must be a string");
	j = json_object_get(req, "ipv4");
	if (j != NULL && !json_is_null(j) &&
	    (ipv4 = json_string_value(j)) == NULL)
		return json_error("invite: \"ipv4\" must be a string");
	j = json_object_get(req, "expires_s");
	if (j != NULL && !json_is_null(j)) {
		if (!json_is_integer(j))
			return json_error("invite: \"expires_s\" must be a "
			    "whole number of seconds");
		ttl = json_integer_value(j);
		if (ttl < INVITE_TTL_MIN || ttl > INVITE_TTL_MAX)
			return json_error("invite: expires_s %lld is out of "
			    "range (want %d..%d: 30s..30d)", (long long)ttl,
			    INVITE_TTL_MIN, INVITE_TTL_MAX);
	}
	j = json_object_get(req, "admin");
	if (j != NULL && !json_is_null(j)) {
		if (!json_is_boolean(j))
			return json_error("invite: \"admin\" must be true or "
			    "false");
		role = json_is_true(j) ? ROLE_ADMIN : ROLE_MEMBER;
	}
	if ((rep = ctl_subnets("invite", req, subnets, &g)) != NULL)
		return rep;
	if (invites_create_granting(k, name, ipv4, (uint64_t)ttl, role, &g,
	    url, sizeof(url), err, sizeof(err)) == -1)
		return json_error("invite %.64s: %s", name, err);
	rep = json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "url", url, "name",
	    name, "expires_s", ttl);
	sodium_memzero(url, sizeof(url));
	return rep;
}

static json_t *
ctl_grant(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	struct prefix subnets[RECORD_MAX_SUBNETS];
	struct invite_grant g;
	char err[KEYD_ERRLEN];
	const char *name;
	json_t *rep;

	name = json_string_value(json_object_get(req, "name"));
	if (name == NULL)
		return json_error("grant: \"name\" must be a string");
	if ((rep = ctl_subnets("grant", req, subnets, &g)) != NULL)
		return rep;
	if (grant_make(k, name, g.subnets, g.nsubnets, err,
	    sizeof(err)) == -1)
		return json_error("grant %.64s: %s", name, err);
	return json_pack("{s:b, s:s, s:i}", "ok", 1, "name", name,
	    "subnets", g.nsubnets);
}

static json_t *
ctl_revoke(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	char err[KEYD_ERRLEN], rn[NAME_MAX_LEN + 1];
	const char *name;
	json_t *also;

	name = json_string_value(json_object_get(req, "name"));
	if (name == NULL)
		return json_error("revoke: \"name\" must be a string");
	if ((also = json_array()) == NULL)
		return json_error("out of memory");
	if (revoke_make(k, name, rn, sizeof(rn), also, err,
	    sizeof(err)) == -1) {
		json_decref(also);
		return json_error("revoke %.64s: %s", name, err);
	}
	return json_pack("{s:b, s:s, s:o}", "ok", 1, "revoked", rn, "also",
	    also);
}

static json_t *
ctl_revoked(void *ctx, json_t *req)
{
	struct keyd *k = ctx;
	const struct revocation *v;
	json_t *a;
	size_t i;

	a = json_array();
	for (i = 0; i < revoked_count(k); i++) {
		v = revoked_get(k, i);
		json_array_append_new(a, json_pack("{s:o, s:o, s:I}", "id",
		    json_hex(v->revoked, MEMBER_ID_BYTES), "by",
		    json_hex(v->by, MEMBER_ID_BYTES), "serial",
		    (json_int_t)v->serial));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "revoked", a);
}

static json_t *
ctl_edges(void *ctx, json_t *req)
{
	return gossip_ctl_edges(ctx);
}

/* In this order in the door's "keyd answers ..." list. */
const struct ctl_cmd keyd_ctl_cmds[] = {
	{ "status",  CTL_READ,        NULL,    ctl_status },
	{ "records", CTL_READ,        NULL,    ctl_records },
	{ "export",  CTL_READ,        NULL,    ctl_export },
	{ "reload",  CTL_CHANGE,      NULL,    ctl_reload },
	{ "edges",   CTL_READ,        NULL,    ctl_edges },
	{ "invite",  CTL_CHANGE,      NULL,    ctl_invite },
	{ "revoke",  CTL_CHANGE,      NULL,    ctl_revoke },
	{ "grant",   CTL_CHANGE,      NULL,    ctl_grant },
	{ "revoked", CTL_READ,        NULL,    ctl_revoked },
	LOGCTL_ROW,
};
const size_t keyd_nctl_cmds = TABLE_LEN(keyd_ctl_cmds);
