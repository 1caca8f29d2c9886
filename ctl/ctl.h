/*
 * The onionmesh command: what its files share. onionmesh.c holds the
 * subcommand table and the global flags; each cmd_*.c implements one
 * group of subcommands with the signature of ctl_cmd_fn; output.c and
 * output_json.c render what the read commands gathered.
 *
 * The read commands first build one JSON object (the "model") out of the
 * config, the host records on disk and the daemons' ctl replies, then
 * hand it to an output: a human table or the JSON itself. So --json and
 * the table never disagree, and the table code does no I/O but printing.
 *
 * Exit status, everywhere: 0 success; 1 the command was well formed but
 * failed (a bad config, a tampered record, a daemon down), explained on
 * stderr; 2 the command line itself is wrong (unknown command or option,
 * missing or extra argument, a value that does not parse), also
 * explained, naming the value and what would be right.
 *
 * The CLI holds no secret: keys are made and used only by keyd.
 */
#ifndef OM_CTL_H
#define OM_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "proto/conf.h"
#include "proto/msg.h"
#include "proto/record.h"

#define CTL_OK    0
#define CTL_FAIL  1
#define CTL_USAGE 2
#define CTL_HELP  (-1) /* ctl_getopt: help was printed, exit 0 */

#define CTL_NDAEMONS 4
/* Start order; also the order status lists them in. */
extern const char *const ctl_daemons[CTL_NDAEMONS];

struct ctl {
	const char *prog;        /* "onionmesh" for messages */
	const char *net;         /* -n NET */
	const char *dir;         /* -d DIR made absolute, or NULL */
	const char *cmd;         /* the subcommand being run */
	struct conf_paths paths;
};

typedef int (*ctl_cmd_fn)(struct ctl *c, int argc, char **argv);

/*
 * Options of a subcommand: long options only ("--ipv4 X", "--ipv4=X",
 * flags without a value), anywhere among the positional arguments, "--"
 * ends them, -h/--help prints the command's usage. ctl_getopt fills
 * each option's val (the value, "" for a flag given, NULL when absent)
 * and pos[] with the positional arguments.
 */
struct ctl_opt {
	const char *name;        /* without the leading "--" */
	const char *metavar;     /* NULL: a flag without a value */
	const char *val;         /* out */
};

int ctl_getopt(struct ctl *c, int argc, char **argv, struct ctl_opt *opts,
    char **pos, int minpos, int maxpos, int *npos);
/* ctl_getopt for a command whose one positional argument is a member
 * NAME (pos[0]), checked: CTL_OK or the exit status. */
int ctl_member_arg(struct ctl *c, int argc, char **argv,
    struct ctl_opt *opts, char **pos);
/* The usage line of the running subcommand, and ctl_usage: print
 * "onionmesh CMD: <message>" and the usage line; returns CTL_USAGE. */
int ctl_usage(struct ctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ctl_print_usage(struct ctl *c, FILE *f);
/* "onionmesh: <message>" on stderr. */
void ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* DIR/NAME into out; 0, or -1 with "path DIR/NAME is too long"
 * printed. */
int ctl_path(char *out, size_t cap, const char *dir, const char *name);
/* conf_load with the error printed; 0 or -1. */
int ctl_conf_load(struct ctl *c, struct conf *conf);
/* Path of a daemon binary (onionmesh-<name>): $ONIONMESH_LIBEXEC, else
 * the directory of the running onionmesh, else the LIBEXECDIR compiled
 * in by the Makefile. -1 with a message printed if it is not an
 * executable file. */
int ctl_daemon_path(const char *daemon, char *out, size_t cap);
/* Where linkd listens for a member reachable at endpoint HOST:PORT:
 * every address at PORT ("0.0.0.0:PORT", or "[::]:PORT" for an IPv6
 * HOST). 0, or -1 when endpoint is not HOST:PORT. */
int ctl_listen_any(const char *endpoint, char *out, size_t cap);
/* "0.1.0": the Makefile's VERSION (what --version and status say). */
const char *ctl_version(void);
/* One ctl request {"cmd": cmd} to a daemon. Returns the reply (a new
 * reference, "ok" true) or NULL with a message in err; *down (may be
 * NULL) tells a daemon that did not answer (1) from one that answered
 * an error (0). */
json_t *ctl_call(struct ctl *c, const char *daemon, const char *cmd,
    int timeout_ms, char *err, size_t errlen, int *down);

/* Host records (cmd_records.c). */
int ctl_record_read(const char *path, const uint8_t netid[NETID_BYTES],
    struct record *r, char *err, size_t errlen);
json_t *ctl_record_json(const struct record *r);
/* Every valid record in hosts/ as a JSON array (sorted by name); an
 * unreadable or invalid file is reported on stderr and skipped. */
json_t *ctl_hosts_json(struct ctl *c, const uint8_t netid[NETID_BYTES]);

/* The supervisor's pid file (cmd_up.c): 1 and *pid when a supervisor
 * holds it, 0 when none does, -1 on an error (printed). */
int ctl_supervisor_running(struct ctl *c, pid_t *pid);

/* Subcommands. */
/* undo.c: what init and join created, taken back when they fail. */
#define UNDO_MAX_DIRS 32
#define UNDO_WATCH    3
struct undo {
	char dirs[UNDO_MAX_DIRS][PATH_MAX]; /* made by us, shallowest first */
	int ndirs;
	char **before[UNDO_WATCH];   /* listing of each watched dir before */
	const char *watch[UNDO_WATCH];  /* hosts/, keys/, revoked/ (or NULL) */
	const char *conf_file;
	int conf_written;
};
/* Sorted, NULL-terminated listing of a dir (an absent dir is empty);
 * NULL when out of memory. */
char **listing(const char *dir);
void listing_free(char **v);
/* Remember each missing component of path, before making it. */
void undo_note_dir(struct undo *u, const char *path);
/* Remove the config if we wrote it, every new entry of the watched
 * dirs, and the dirs we made. */
void undo_run(struct undo *u);
/* HOST:PORT (an IP address or DNS name) that fits the config. */
int ctl_hostport_valid(const char *s);
/* A tor control/SOCKS address: HOST:PORT or unix:/ABSOLUTE/PATH. */
int ctl_tor_addr_valid(const char *s);
/* --tor-control and --tor-socks (either may be NULL): CTL_OK, or the
 * usage printed and CTL_USAGE. */
int ctl_tor_opts_check(struct ctl *c, const char *control,
    const char *socks);
/* The steps init and join share. Before anything is made: refuse an
 * existing config and find keyd (0, or -1 printed). */
int ctl_setup_check(struct ctl *c, char *keyd, size_t cap);
/* Note in u what is there (hosts/, keys/ and with watch_revoked also
 * revoked/), then make the directories. 0, or -1 printed; free u's
 * listings with ctl_setup_free either way. */
int ctl_setup_dirs(struct ctl *c, struct undo *u, int watch_revoked);
void ctl_setup_free(struct undo *u);
/* Write the config, then have keyd (--genkey, again) sign our record
 * with it and check the key is still pk; who ("init") names the
 * command in the message if not. 0, or -1 printed. */
int ctl_setup_write(struct ctl *c, struct undo *u, const char *keyd,
    const char *text, int len, const uint8_t pk[MEMBER_ID_BYTES],
    const char *who);

/* keyd_run.c: keyd's one-shot modes. input (or NULL: /dev/null) is
 * written to its stdin as one line; lines of its stdout go to on_line;
 * killed after wait_s; 0 when it exited 0. */
typedef void (*ctl_line_fn)(void *arg, char *line);
int ctl_run_keyd(struct ctl *c, const char *keyd, const char *const *extra,
    const char *input, int wait_s, ctl_line_fn on_line, void *arg);
/* --genkey: makes the identity if there is none (and, once the config
 * exists, signs our own record); gives the public key. */
int ctl_genkey(struct ctl *c, const char *keyd,
    uint8_t pk[MEMBER_ID_BYTES]);
/* How the last failed ctl_run_keyd ended ("exit status 3"). */
const char *ctl_keyd_end(void);

int cmd_init(struct ctl *c, int argc, char **argv);
int cmd_up(struct ctl *c, int argc, char **argv);
int cmd_down(struct ctl *c, int argc, char **argv);
int cmd_status(struct ctl *c, int argc, char **argv);
int cmd_peers(struct ctl *c, int argc, char **argv);
int cmd_links(struct ctl *c, int argc, char **argv);
int cmd_routes(struct ctl *c, int argc, char **argv);
int cmd_export(struct ctl *c, int argc, char **argv);
int cmd_import(struct ctl *c, int argc, char **argv);
int cmd_invite(struct ctl *c, int argc, char **argv);  /* cmd_invite.c */
int cmd_grant(struct ctl *c, int argc, char **argv);
int cmd_revoke(struct ctl *c, int argc, char **argv);
int cmd_join(struct ctl *c, int argc, char **argv);    /* cmd_join.c */
int cmd_log(struct ctl *c, int argc, char **argv);     /* cmd_log.c */

/*
 * Outputs (bgpctl's shape): one renderer per read command, each given
 * the model the command built.
 */
struct output {
	void (*status)(FILE *f, json_t *m);
	void (*peers)(FILE *f, json_t *m);
	void (*links)(FILE *f, json_t *m);
	void (*routes)(FILE *f, json_t *m);
};
extern const struct output output_human;
extern const struct output output_json;

/* Helpers the outputs share (output.c). */
const char *ctl_json_str(json_t *o, const char *key, const char *dflt);
void ctl_fmt_duration(char *out, size_t cap, double secs);
void ctl_fmt_bytes(char *out, size_t cap, double n);

#endif
