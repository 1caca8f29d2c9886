/*
 * The lookups behind every daemon's message and ctl tables
 * (dispatch.h). Tables are a few dozen rows, so a linear walk is as
 * fast as anything and keeps the rows in the order a reader wants.
 */
#include <string.h>

#include "proto/dispatch.h"
#include "proto/log.h"

int
msg_table_check(const struct msg_handler *tab, size_t n, const char *daemon)
{
	const struct msg_spec *s;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if ((s = msg_spec(tab[i].type)) == NULL) {
			log_warnx("%s: handler table row %zu names message "
			    "type 0x%04x, which the catalogue does not have",
			    daemon, i, (unsigned)tab[i].type);
			return -1;
		}
		if ((s->senders & D_BIT(tab[i].from)) == 0) {
			log_warnx("%s: handler table row %zu takes %s from "
			    "%s, but the catalogue lets only other daemons "
			    "send it", daemon, i, s->name,
			    daemon_name(tab[i].from));
			return -1;
		}
		if (tab[i].fn == NULL) {
			log_warnx("%s: handler table row %zu (%s) has no "
			    "handler", daemon, i, s->name);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (tab[j].type == tab[i].type &&
			    tab[j].from == tab[i].from) {
				log_warnx("%s: handler table has %s from %s "
				    "twice (rows %zu and %zu)", daemon,
				    s->name, daemon_name(tab[i].from), j, i);
				return -1;
			}
	}
	return 0;
}

int
msg_dispatch(const struct msg_handler *tab, size_t n, enum daemon from,
    void *ctx, const struct msg_hdr *h, const uint8_t *payload)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].type == h->type && tab[i].from == from) {
			tab[i].fn(ctx, h, payload);
			return 0;
		}
	log_warnx_rl(tab, "%s from %s: this daemon does not take it; "
	    "dropped", msg_name(h->type), daemon_name(from));
	return -1;
}

const struct ctl_cmd *
ctl_cmd_find(const struct ctl_cmd *tab, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(tab[i].name, name) == 0)
			return &tab[i];
	return NULL;
}

int
ctl_cmd_changes(const struct ctl_cmd *c, json_t *req)
{
	switch (c->access) {
	case CTL_CHANGE:
		return 1;
	case CTL_CHANGE_WITH:
		return c->arg != NULL && json_object_get(req, c->arg) != NULL;
	case CTL_READ:
	default:
		return 0;
	}
}
