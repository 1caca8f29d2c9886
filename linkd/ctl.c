/*
 * linkd's ctl socket (ctl.linkd, nng rep0, JSON): what the onionmesh
 * command shows for "status", "links" and "peers", and "sessions" (the
 * end-to-end sessions through relays, with the relay counters that
 * "status" also has under "forward"). Read-only, so every caller
 * allowed on the socket may ask; the one exception is debug_route, a
 * test hook (forward.h) only root may send, and "log" with a level
 * (proto/logctl.h), which changes the log level. Times are given as
 * Unix time (from the monotonic clock, so a clock step does not make a
 * link look days old) and durations in milliseconds.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "linkd/e2e.h"
#include "linkd/linkd.h"
#include "proto/ipc.h"
#include "proto/log.h"
#include "proto/logctl.h"

static json_t *
err_reply(const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	return ipc_ctl_error_reply(msg);
}

/* Monotonic time -> Unix time. */
static json_t *
wall(double mono, double now)
{
	return json_integer((json_int_t)(time(NULL) - (time_t)(now - mono)));
}

static json_t *
prefix_json(const struct prefix *p, int with_len)
{
	char s[PREFIX_STRLEN];

	if (p->family == 0)
		return json_null();
	prefix_fmt(p, s, sizeof(s), with_len);
	return json_string(s);
}

static json_t *
link_json(const struct link *l, double now)
{
	const struct peer *p = l->peer;
	uint64_t replays = l->replays + (l->sess_live ? l->sess.replays : 0);
	uint64_t errors = l->errors + (l->sess_live ? l->sess.bad_frames : 0);

	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:f, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
	    "id", (json_int_t)l->serial,
	    "peer", p != NULL ? p->rec.name : "",
	    "peer_id", p != NULL ? p->id_hex : "",
	    "dir", l->dir == LINK_OUT ? "out" : "in",
	    "transport", l->transport,
	    "remote", l->remote,
	    "state", link_state_name(l->state),
	    "since", wall(l->t_state, now),
	    "rtt_ms", l->rtt_us / 1000.0,
	    "tx_bytes", (json_int_t)l->tx_bytes,
	    "rx_bytes", (json_int_t)l->rx_bytes,
	    "tx_packets", (json_int_t)l->tx_packets,
	    "rx_packets", (json_int_t)l->rx_packets,
	    "errors", (json_int_t)errors,
	    "replays", (json_int_t)replays,
	    "queued", (json_int_t)l->tx.len,
	    "last_error", l->last_error);
}

static json_t *
cmd_links(struct linkd *ld)
{
	json_t *a = json_array();
	struct link *l;
	double now = linkd_now();

	TAILQ_FOREACH(l, &ld->links, entry)
		if (l->state != LINK_CLOSED)
			json_array_append_new(a, link_json(l, now));
	return json_pack("{s:b, s:o}", "ok", 1, "links", a);
}

static json_t *
peer_json(struct linkd *ld, const struct peer *p, double now)
{
	json_t *subnets = json_array(), *tcp = json_array();
	int i;

	for (i = 0; i < p->rec.nsubnets; i++)
		json_array_append_new(subnets,
		    prefix_json(&p->rec.subnets[i], 1));
	for (i = 0; i < p->rec.ntcp; i++)
		json_array_append_new(tcp, json_string(p->rec.tcp[i]));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:b, s:i, "
	    "s:i, s:i, s:f, s:I, s:o, s:I}",
	    "name", p->rec.name,
	    "id", p->id_hex,
	    "ipv4", prefix_json(&p->rec.ipv4, 0),
	    "ipv6", prefix_json(&p->rec.ipv6, 0),
	    "subnets", subnets,
	    "tcp", tcp,
	    "onion", p->rec.onion,
	    "dial", peers_dial_wanted(ld->conf, ld->self_id, &p->rec),
	    "dial_links", peers_dial_count(ld->conf, ld->self_id, &p->rec),
	    "links", p->nlinks,
	    "links_up", p->links_up,
	    "rtt_ms", peer_rtt_us(p) / 1000.0,
	    /* busiest second of the last minute, as measured (routed
	     * gets it rounded down to a power of two); a member without
	     * links takes no samples, so its old peak is not shown */
	    "rate_kbps", (json_int_t)(p->nlinks > 0 ?
	    rate_bps_to_kbps(p->rate_bps) : 0),
	    "last_handshake", p->t_last_hs > 0 ? wall(p->t_last_hs, now) :
	    json_null(),
	    "src_drops", (json_int_t)p->src_drops);
}

static json_t *
cmd_peers(struct linkd *ld)
{
	json_t *a = json_array();
	struct peer *p;
	double now = linkd_now();

	TAILQ_FOREACH(p, &ld->peers, entry)
		json_array_append_new(a, peer_json(ld, p, now));
	return json_pack("{s:b, s:o}", "ok", 1, "peers", a);
}

static json_t *
cmd_sessions(struct linkd *ld)
{
	return json_pack("{s:b, s:o, s:o}", "ok", 1,
	    "sessions", e2e_sessions_json(ld),
	    "forward", forward_status_json(ld));
}

static json_t *
cmd_status(struct linkd *ld)
{
	const struct datapath *dp = &ld->dp;
	const struct link *l;
	json_t *r;
	int nlinks = 0, up = 0;

	TAILQ_FOREACH(l, &ld->links, entry) {
		if (l->state == LINK_CLOSED)
			continue;
		nlinks++;
		if (l->state == LINK_UP)
			up++;
	}
	r = json_pack("{s:b, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b, "
	    "s:I, s:i, s:i, "
	    "s:i, s:b, s:b, s:b, s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "ok", 1,
	    "daemon", "linkd",
	    "pid", (int)getpid(),
	    "name", ld->self_name,
	    "id", ld->self_hex,
	    "listen", ld->lfd != -1 ? ld->listen_addr : "",
	    "mode", ld->onion ? "onion" : "tcp",
	    "onion_listen", ld->ofd != -1 ? ld->onion_path : "",
	    "anonymous", ld->conf->anonymous,
	    "members", (json_int_t)ld->npeers,
	    "links", nlinks,
	    "links_up", up,
	    "pending_in", ld->pending_in,
	    "keyd", ld->keyd != NULL && ipc_chan_connected(ld->keyd),
	    "routed", ld->routed != NULL && ipc_chan_connected(ld->routed),
	    "tund", dp->fd != -1,
	    "paused", ld->links_paused || dp->tund_paused,
	    "fib_generation", (json_int_t)fib_generation(ld->fib),
	    "fib_entries", (json_int_t)fib_count(ld->fib),
	    "counters",
	    "from_tund", (json_int_t)dp->tx_packets,
	    "to_tund", (json_int_t)dp->rx_packets,
	    "no_route", (json_int_t)dp->no_route,
	    "no_link", (json_int_t)dp->no_link,
	    "src_drops", (json_int_t)dp->src_drops,
	    "tund_drops", (json_int_t)dp->tund_drops,
	    "bad_packets", (json_int_t)dp->bad_packets,
	    "refused_in", (json_int_t)ld->refused_in,
	    "hs_ratelimited", (json_int_t)ld->hs_ratelimited,
	    "links_paused", (json_int_t)dp->links_paused_n,
	    "tund_paused", (json_int_t)dp->tund_paused_n);
	/* Relays and end-to-end sessions (forward.h has the meanings). */
	if (r != NULL)
		json_object_set_new(r, "forward", forward_status_json(ld));
	return r;
}

json_t *
ctl_handle(struct linkd *ld, json_t *req)
{
	return ctl_handle_priv(ld, req, 0);
}

json_t *
ctl_handle_priv(struct linkd *ld, json_t *req, int may_change)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *r;

	if (cmd == NULL)
		return err_reply("request has no \"cmd\" string%s", "");
	if (strcmp(cmd, "sessions") == 0)
		r = cmd_sessions(ld);
	else if (strcmp(cmd, "debug_route") == 0)
		r = forward_ctl_debug_route(ld, req, may_change);
	else if (strcmp(cmd, "status") == 0)
		r = cmd_status(ld);
	else if (strcmp(cmd, "links") == 0)
		r = cmd_links(ld);
	else if (strcmp(cmd, "peers") == 0)
		r = cmd_peers(ld);
	else if (strcmp(cmd, "log") == 0)
		r = logctl_handle(req, may_change, "linkd");
	else
		return err_reply("unknown command '%s': linkd answers "
		    "status, links, peers, sessions, log (and debug_route, a "
		    "test hook)", cmd);
	if (r == NULL)
		return err_reply("cannot build the reply to '%s'", cmd);
	return r;
}

static json_t *
ctl_cb(json_t *req, int may_change, void *arg)
{
	return ctl_handle_priv(arg, req, may_change);
}

void
ctl_init(struct linkd *ld)
{
	char path[PATH_MAX], name[32];

	snprintf(name, sizeof(name), IPC_CTL_FMT, "linkd");
	snprintf(path, sizeof(path), "%s", daemon_sock(ld->d, name));
	if ((ld->ctl = ipc_ctl_listen(ld->loop, path, ctl_cb, ld)) == NULL)
		fatalx("cannot listen on the ctl socket %s", path);
	/* Made as root, before the drop: give it to linkd's user, or a
	 * linkd started later as that user (a systemd unit) could not
	 * replace the file in the sticky run dir. */
	if (chown_for(path, ld->d->ids.uid[D_LINKD], ld->d->ids.group) == -1)
		fatal("cannot give %s to uid %u", path,
		    (unsigned)ld->d->ids.uid[D_LINKD]);
}

void
ctl_close(struct linkd *ld)
{
	if (ld->ctl != NULL)
		ipc_ctl_close(ld->ctl);
	ld->ctl = NULL;
}
