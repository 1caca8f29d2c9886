/*
 * The human output of the read commands: key/value lines for status,
 * aligned tables for peers, links and routes. bgpctl's output.c is the
 * model: it renders a model the command already built and does no I/O
 * but printing, so the table and --json (output_json.c) show the same
 * facts. Whatever a daemon sent may be missing or of an unexpected type:
 * every value goes through val_str(), which prints "-" rather than
 * guess.
 */
#include "ctl/ctl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLE_MAXCOLS 12
#define CELL_MAX      256

struct table {
	int ncols;
	const char *head[TABLE_MAXCOLS];
	int width[TABLE_MAXCOLS];
	char (*cells)[TABLE_MAXCOLS][CELL_MAX];
	int nrows;
	int cap;
};

static void
table_init(struct table *t, int ncols, const char *const *head)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_MAXCOLS ? ncols : TABLE_MAXCOLS;
	for (i = 0; i < t->ncols; i++) {
		t->head[i] = head[i];
		t->width[i] = strlen(head[i]);
	}
}

/* A new row; its cells start empty. NULL when out of memory. */
static char (*table_row(struct table *t))[CELL_MAX]
{
	void *p;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((p = realloc(t->cells, t->cap * sizeof(*t->cells))) ==
		    NULL)
			return NULL;
		t->cells = p;
	}
	memset(t->cells[t->nrows], 0, sizeof(*t->cells));
	return t->cells[t->nrows++];
}

static void
table_print(struct table *t, FILE *f)
{
	int r, i, w;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if ((w = strlen(t->cells[r][i])) > t->width[i])
				t->width[i] = w;
	for (i = 0; i < t->ncols; i++)
		fprintf(f, "%-*s%s", i == t->ncols - 1 ? 0 : t->width[i],
		    t->head[i], i == t->ncols - 1 ? "\n" : "  ");
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			fprintf(f, "%-*s%s", i == t->ncols - 1 ? 0 :
			    t->width[i], t->cells[r][i][0] ? t->cells[r][i] :
			    "-", i == t->ncols - 1 ? "\n" : "  ");
	free(t->cells);
	t->cells = NULL;
}

const char *
ctl_json_str(json_t *o, const char *key, const char *dflt)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : dflt;
}

void
ctl_fmt_duration(char *out, size_t cap, double secs)
{
	long s;

	if (!isfinite(secs) || secs < 0) {
		snprintf(out, cap, "-");
		return;
	}
	s = (long)secs;
	if (s < 60)
		snprintf(out, cap, "%lds", s);
	else if (s < 3600)
		snprintf(out, cap, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, cap, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, cap, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

void
ctl_fmt_bytes(char *out, size_t cap, double n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	if (!isfinite(n) || n < 0) {
		snprintf(out, cap, "-");
		return;
	}
	while (n >= 1024 && u < 4) {
		n /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, cap, "%.0f %s", n, unit[u]);
	else
		snprintf(out, cap, "%.1f %s", n, unit[u]);
}

/* Any JSON value as one table cell. */
static void
val_str(char *out, size_t cap, json_t *v)
{
	size_t i, n;
	json_t *e;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return;
	if (json_is_string(v))
		snprintf(out, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, cap, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
	else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			n = strlen(out);
			if (n + 2 >= cap)
				break;
			if (i)
				out[n++] = ',';
			val_str(out + n, cap - n, e);
		}
	} else
		snprintf(out, cap, "{...}");
}

/* A measurement in v: 1 and *x when it is a number above 0 (0 or less
 * is "not measured yet"); else 0 and an empty cell. */
static int
measured(char *out, json_t *v, double *x)
{
	out[0] = '\0';
	return json_is_number(v) && (*x = json_number_value(v)) > 0;
}

/* Round-trip times. */
static void
rtt_str(char *out, size_t cap, json_t *v)
{
	double ms;

	if (measured(out, v, &ms))
		snprintf(out, cap, ms < 10 ? "%.2f ms" : "%.0f ms", ms);
}

/* A rate in kbit/s (1000 bit). */
static void
rate_str(char *out, size_t cap, json_t *v)
{
	double k;

	if (!measured(out, v, &k))
		return;
	if (k >= 1e6)
		snprintf(out, cap, "%.1f Gbit/s", k / 1e6);
	else if (k >= 1e3)
		snprintf(out, cap, "%.1f Mbit/s", k / 1e3);
	else
		snprintf(out, cap, "%.0f kbit/s", k);
}

/* A member id as its name when known, else its first 16 hex digits. */
static void
id_str(char *out, size_t cap, json_t *members, json_t *v)
{
	const char *s = json_string_value(v);
	const char *name = ctl_json_str(members, s ? s : "", NULL);

	if (name)
		snprintf(out, cap, "%s", name);
	else if (s && strlen(s) == MEMBER_ID_BYTES * 2)
		snprintf(out, cap, "%.16s", s);
	else
		val_str(out, cap, v);
}

static void
kv(FILE *f, const char *k, const char *v)
{
	fprintf(f, "%-11s %s\n", k, v && v[0] ? v : "-");
}

/* The tor line: "bootstrap 100% done, service X.onion published", and
 * the last error when there is one. */
static void
tor_str(char *out, size_t cap, json_t *m)
{
	json_t *t = json_object_get(m, "tor"), *b, *v;
	size_t n;
	int keyd_up;

	keyd_up = json_is_true(json_object_get(json_object_get(
	    json_object_get(m, "daemons"), "keyd"), "running"));
	if (!json_is_object(t)) {
		snprintf(out, cap, "%s", keyd_up ? "not started (see keyd's "
		    "log)" : "unknown (keyd does not answer)");
		return;
	}
	b = json_object_get(t, "bootstrap");
	if (!json_is_true(json_object_get(t, "connected")))
		snprintf(out, cap, "not connected to %s",
		    ctl_json_str(t, "control", "its control port"));
	else if (!json_is_true(json_object_get(t, "authenticated")))
		snprintf(out, cap, "connected to %s, not authenticated",
		    ctl_json_str(t, "control", "its control port"));
	else if (json_is_integer(v = json_object_get(b, "progress")))
		snprintf(out, cap, "bootstrap %lld%% %s",
		    (long long)json_integer_value(v),
		    ctl_json_str(b, "tag", "-"));
	else
		snprintf(out, cap, "bootstrap unknown");
	n = strlen(out);
	snprintf(out + n, cap - n, ", service %s %s", ctl_json_str(t,
	    "address", "-"), json_is_true(json_object_get(t, "published")) ?
	    "published" : "not published");
	n = strlen(out);
	if (ctl_json_str(t, "last_error", NULL) != NULL)
		snprintf(out + n, cap - n, ", last error: %s",
		    ctl_json_str(t, "last_error", ""));
	/* Published, yet no peer's stream could arrive: keyd saw that
	 * tor's user cannot reach linkd's onion socket. */
	n = strlen(out);
	if (ctl_json_str(t, "target_error", NULL) != NULL)
		snprintf(out + n, cap - n, "; %s",
		    ctl_json_str(t, "target_error", ""));
}

static void
human_status(FILE *f, json_t *m)
{
	json_t *daemons = json_object_get(m, "daemons");
	json_t *sup = json_object_get(m, "supervisor");
	json_t *d, *st, *v;
	char buf[2048];
	size_t i;

	kv(f, "network", ctl_json_str(m, "net", NULL));
	kv(f, "member", ctl_json_str(m, "name", NULL));
	kv(f, "id", ctl_json_str(m, "id", "(no own record in hosts/)"));
	kv(f, "ipv4", ctl_json_str(m, "ipv4", NULL));
	kv(f, "ipv6", ctl_json_str(m, "ipv6", NULL));
	if (ctl_json_str(m, "tcp", NULL))
		kv(f, "tcp", ctl_json_str(m, "tcp", NULL));
	if (ctl_json_str(m, "version", NULL))
		kv(f, "version", ctl_json_str(m, "version", NULL));
	if (json_is_true(json_object_get(sup, "running")))
		snprintf(buf, sizeof(buf), "running (pid %lld)",
		    (long long)json_integer_value(json_object_get(sup,
		    "pid")));
	else
		snprintf(buf, sizeof(buf), "not running");
	kv(f, "supervisor", buf);
	for (i = 0; i < CTL_NDAEMONS; i++) {
		d = json_object_get(daemons, ctl_daemons[i]);
		st = json_object_get(d, "status");
		if (json_is_true(json_object_get(d, "running"))) {
			snprintf(buf, sizeof(buf), "running (pid %lld",
			    (long long)json_integer_value(json_object_get(d,
			    "pid")));
			if (ctl_json_str(st, "ifname", NULL))
				snprintf(buf + strlen(buf),
				    sizeof(buf) - strlen(buf), ", %s",
				    ctl_json_str(st, "ifname", ""));
			if (json_is_integer(v = json_object_get(st, "mtu")))
				snprintf(buf + strlen(buf),
				    sizeof(buf) - strlen(buf), ", mtu %lld",
				    (long long)json_integer_value(v));
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    ")");
		} else
			snprintf(buf, sizeof(buf), "NOT RUNNING: %s",
			    ctl_json_str(d, "error", "no answer"));
		kv(f, ctl_daemons[i], buf);
	}
	if (json_is_integer(v = json_object_get(m, "members")))
		snprintf(buf, sizeof(buf), "%lld known%s",
		    (long long)json_integer_value(v),
		    strcmp(ctl_json_str(m, "members_from", ""), "hosts") == 0 ?
		    " (host records on disk)" : "");
	else
		snprintf(buf, sizeof(buf), "unknown");
	kv(f, "members", buf);
	if (json_is_integer(v = json_object_get(m, "links_up")))
		snprintf(buf, sizeof(buf), "%lld up (of %lld)",
		    (long long)json_integer_value(v),
		    (long long)json_integer_value(json_object_get(m,
		    "links")));
	else
		snprintf(buf, sizeof(buf), "unknown (linkd does not answer)");
	kv(f, "links", buf);
	if (json_object_get(m, "tor") != NULL) {
		tor_str(buf, sizeof(buf), m);
		kv(f, "tor", buf);
	}
}

static void
human_peers(FILE *f, json_t *m)
{
	static const char *const head[] = { "NAME", "ID", "IPV4", "IPV6",
	    "ENDPOINTS", "LINKS", "RTT" };
	struct table t;
	char (*row)[CELL_MAX];
	json_t *p, *v;
	size_t i;
	size_t n;

	table_init(&t, 7, head);
	json_array_foreach(json_object_get(m, "peers"), i, p) {
		if ((row = table_row(&t)) == NULL)
			break;
		snprintf(row[0], CELL_MAX, "%s", ctl_json_str(p, "name", ""));
		snprintf(row[1], CELL_MAX, "%.16s", ctl_json_str(p, "id", ""));
		snprintf(row[2], CELL_MAX, "%s", ctl_json_str(p, "ipv4", ""));
		snprintf(row[3], CELL_MAX, "%s", ctl_json_str(p, "ipv6", ""));
		val_str(row[4], CELL_MAX, json_object_get(p, "tcp"));
		if (ctl_json_str(p, "onion", NULL)) {
			n = strlen(row[4]);
			snprintf(row[4] + n, CELL_MAX - n, "%s%s",
			    n ? "," : "", ctl_json_str(p, "onion", ""));
		}
		if (json_is_true(json_object_get(p, "self")))
			snprintf(row[5], CELL_MAX, "self");
		else if (json_is_integer(v = json_object_get(p, "links_up")))
			snprintf(row[5], CELL_MAX, "%lld",
			    (long long)json_integer_value(v));
		else
			snprintf(row[5], CELL_MAX, "?");
		rtt_str(row[6], CELL_MAX, json_object_get(p, "rtt_ms"));
	}
	table_print(&t, f);
}

/* The table of a daemon's list (what: "links"), or when it is empty
 * nothing, and "no links" if the daemon runs (else status says it is
 * down). 1 when there is a table to fill. */
static int
list_table(struct table *t, FILE *f, json_t *m, json_t *list,
    const char *daemon, const char *what, int ncols,
    const char *const *head)
{
	if (json_array_size(list) == 0) {
		if (json_is_true(json_object_get(json_object_get(
		    json_object_get(m, "daemons"), daemon), "running")))
			fprintf(f, "no %s\n", what);
		return 0;
	}
	table_init(t, ncols, head);
	return 1;
}

static void
human_links(FILE *f, json_t *m)
{
	static const char *const head[] = { "PEER", "DIR", "TRANSPORT",
	    "REMOTE", "STATE", "SINCE", "RTT", "TX", "RX", "ERRORS",
	    "LAST ERROR" };
	json_t *members = json_object_get(m, "members");
	json_t *links = json_object_get(m, "links");
	struct table t;
	char (*row)[CELL_MAX];
	json_t *l, *v;
	double since;
	size_t i;

	if (!list_table(&t, f, m, links, "linkd", "links", 11, head))
		return;
	json_array_foreach(links, i, l) {
		if ((row = table_row(&t)) == NULL)
			break;
		if (ctl_json_str(l, "peer", NULL))
			val_str(row[0], CELL_MAX, json_object_get(l, "peer"));
		else
			id_str(row[0], CELL_MAX, members,
			    json_object_get(l, "peer_id"));
		val_str(row[1], CELL_MAX, json_object_get(l, "dir"));
		val_str(row[2], CELL_MAX, json_object_get(l, "transport"));
		val_str(row[3], CELL_MAX, json_object_get(l, "remote"));
		val_str(row[4], CELL_MAX, json_object_get(l, "state"));
		v = json_object_get(l, "since");
		if (json_is_number(v)) {
			/* A wall-clock time, or already an age. */
			since = json_number_value(v);
			if (since > 1e9)
				since = (double)time(NULL) - since;
			ctl_fmt_duration(row[5], CELL_MAX, since);
		} else
			val_str(row[5], CELL_MAX, v);
		rtt_str(row[6], CELL_MAX, json_object_get(l, "rtt_ms"));
		if (json_is_number(v = json_object_get(l, "tx_bytes")))
			ctl_fmt_bytes(row[7], CELL_MAX, json_number_value(v));
		if (json_is_number(v = json_object_get(l, "rx_bytes")))
			ctl_fmt_bytes(row[8], CELL_MAX, json_number_value(v));
		val_str(row[9], CELL_MAX, json_object_get(l, "errors"));
		val_str(row[10], CELL_MAX, json_object_get(l, "last_error"));
	}
	table_print(&t, f);
}

static void
human_routes(FILE *f, json_t *m)
{
	static const char *const head[] = { "DST", "DEST", "NEXT-HOP", "COST",
	    "RATE", "PATH" };
	json_t *members = json_object_get(m, "members");
	json_t *routes = json_object_get(m, "routes");
	struct table t;
	char (*row)[CELL_MAX];
	char hop[CELL_MAX];
	json_t *r, *path, *e;
	size_t i, j, n;

	if (!list_table(&t, f, m, routes, "routed", "routes", 6, head))
		return;
	json_array_foreach(routes, i, r) {
		if ((row = table_row(&t)) == NULL)
			break;
		val_str(row[0], CELL_MAX, json_object_get(r, "dst"));
		id_str(row[1], CELL_MAX, members, json_object_get(r, "dest"));
		id_str(row[2], CELL_MAX, members,
		    json_object_get(r, "next_hop"));
		val_str(row[3], CELL_MAX, json_object_get(r, "cost"));
		rate_str(row[4], CELL_MAX, json_object_get(r, "rate_kbps"));
		path = json_object_get(r, "path");
		if (json_is_array(path)) {
			json_array_foreach(path, j, e) {
				id_str(hop, sizeof(hop), members, e);
				n = strlen(row[5]);
				snprintf(row[5] + n, CELL_MAX - n, "%s%s",
				    j ? " > " : "", hop);
			}
		} else
			val_str(row[5], CELL_MAX, path);
	}
	table_print(&t, f);
}

const struct output output_human = {
	.status = human_status,
	.peers = human_peers,
	.links = human_links,
	.routes = human_routes,
};
