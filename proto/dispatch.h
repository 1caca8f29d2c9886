/*
 * The tables a daemon answers from. Each daemon has one row per message
 * it takes and one row per ctl command it answers, so what it does with
 * a message or a request is read in one place, as OpenSSH's monitor
 * table puts type, permission and handler in one row.
 *
 * Message rows sit beside the catalogue (msg.c): the catalogue says
 * what a message may look like and who may send it, the row says which
 * channel this daemon takes it on and what it calls. ipc.c applies the
 * catalogue, then the row; msg_table_check() at start-up refuses a
 * table whose row names a sender the catalogue does not allow.
 *
 * Ctl rows say whether a command changes state; ipc.c refuses such a
 * command at the door for callers that may only read (anyone in the
 * socket's group but root and the daemon's own user), as bgpd's
 * control.c refuses restricted requests before any handler runs.
 */
#ifndef OM_DISPATCH_H
#define OM_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/msg.h"

/* A message handler: the payload is h->length bytes, already checked
 * against the catalogue's bounds; decoding it is the handler's job. */
typedef void (*msg_handler_fn)(void *ctx, const struct msg_hdr *h,
    const uint8_t *payload);

struct msg_handler {
	uint16_t type;
	enum daemon from;              /* the only sender it is taken from */
	msg_handler_fn fn;
};

/* 0 if every row names a catalogue type that `from` may send, and no
 * (type, from) appears twice; else -1 with the row logged. */
int msg_table_check(const struct msg_handler *tab, size_t n,
    const char *daemon) __attribute__((warn_unused_result));
/* Run the row for (h->type, from). -1 if the table has none (logged,
 * rate-limited): a message the catalogue allows that this daemon does
 * not take. */
int msg_dispatch(const struct msg_handler *tab, size_t n, enum daemon from,
    void *ctx, const struct msg_hdr *h, const uint8_t *payload);

enum ctl_access {
	CTL_READ = 0,                  /* anyone who can open the socket */
	CTL_CHANGE = 1,                /* root or the daemon's own user */
	CTL_CHANGE_WITH = 2,           /* that, when the request has `arg` */
};

typedef json_t *(*ctl_handler_fn)(void *ctx, json_t *req);

struct ctl_cmd {
	const char *name;              /* the request's "cmd" */
	enum ctl_access access;
	const char *arg;               /* CTL_CHANGE_WITH: the key ("level") */
	ctl_handler_fn fn;             /* returns a new reference */
};

/* The row for a command name, NULL if none. */
const struct ctl_cmd *ctl_cmd_find(const struct ctl_cmd *tab, size_t n,
    const char *name);
/* 1 if a request for this row changes state (CTL_CHANGE, or
 * CTL_CHANGE_WITH and the request has the key). */
int ctl_cmd_changes(const struct ctl_cmd *c, json_t *req);

#define TABLE_LEN(t) (sizeof(t) / sizeof((t)[0]))

#endif
