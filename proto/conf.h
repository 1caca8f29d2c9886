/*
 * The config file and the paths of one network. The format is tinc's:
 * one "key = value" per line, '#' starts a comment. Unknown keys,
 * duplicates of single keys and bad values are errors that name the file,
 * line, value and what would be right; nothing is guessed.
 *
 * Paths: with -d DIR everything lives under DIR (DIR/onionmesh.conf,
 * DIR/keys, DIR/hosts, DIR/run), so tests and unprivileged trials need
 * no system paths; without it the system layout from DESIGN.md is used:
 * /etc/onionmesh/NET, /var/lib/onionmesh/NET/{keys,hosts},
 * /run/onionmesh/NET.
 */
#ifndef OM_CONF_H
#define OM_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/msg.h"

#define CONF_FILE        "onionmesh.conf"
#define CONF_MAX_SUBNETS 16
#define CONF_MAX_PEERS   64   /* connect / noconnect entries */
#define CONF_MAX_ACCEPT  32   /* accept_subnets prefixes */
#define CONF_CIRCUITS_MAX 8    /* circuits = 1..8 (issue 13) */
#define CONF_MAX_ADMITTED_DEFAULT 1000 /* max_admitted = (issue 14) */
#define CONF_ADDR_LEN    256  /* HOST:PORT or unix:PATH */
#define DEFAULT_NET      "default"
#define DEFAULT_PORT     6550
#define DEFAULT_MTU      1400
#define DEFAULT_IPV4_NET "10.77.0.0/16"

/* How keyd authenticates to tor's control port (tor_auth =). SAFECOOKIE
 * is the default and the only method where tor proves it knows the
 * cookie before we send anything derived from it, so a process that
 * took tor's socket path learns nothing it could replay; "cookie" (the
 * cookie itself on the wire) and "none" (a control port without
 * authentication) are for tors that offer nothing better, and must be
 * named in the config to be used. Password authentication is not
 * offered: it would put a secret in the config file. */
enum {
	CONF_TOR_AUTH_SAFECOOKIE = 0,
	CONF_TOR_AUTH_COOKIE,
	CONF_TOR_AUTH_NONE,
};
/* How a peer's packets share its circuits (onion links): striped, each
 * packet to the circuit where it arrives first and put back in order by
 * the receiver, so one flow gets every circuit's speed; or one circuit
 * per flow, never reordered, as before striping. TCP links always carry
 * everything on one link. */
enum {
	CONF_MP_STRIPE = 0,
	CONF_MP_FLOW,
};
/* Debian's tor (tor-service-defaults-torrc): the cookie lies next to
 * the control socket under this name, and at this path whatever the
 * control port is. */
#define TOR_CONTROL_DEFAULT "unix:/run/tor/control"
#define TOR_SOCKS_DEFAULT   "unix:/run/tor/socks"
#define TOR_COOKIE_NAME    "control.authcookie"
#define TOR_COOKIE_DEFAULT "/run/tor/" TOR_COOKIE_NAME

struct conf_paths {
	char net[NAME_MAX_LEN + 1];
	char conf_dir[PATH_MAX];
	char conf_file[PATH_MAX];
	char keys_dir[PATH_MAX];
	char hosts_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char revoked_dir[PATH_MAX];      /* STATE/revoked (issue 4) */
	char grants_dir[PATH_MAX];       /* STATE/grants (issue 14) */
};

struct conf {
	struct conf_paths paths;
	char name[NAME_MAX_LEN + 1];     /* name = */
	char ifname[16];                 /* interface = (default om-NET) */
	struct prefix ipv4;              /* ipv4 = A.B.C.D/LEN (addr+range) */
	struct prefix ipv6;              /* ipv6 = ADDR/LEN (addr+range) */
	uint32_t mtu;                    /* mtu = 1280..65535 */
	char listen[CONF_ADDR_LEN];      /* listen = HOST:PORT ("" none) */
	char tcp[CONF_ADDR_LEN];         /* tcp = HOST:PORT advertised */
	char connect[CONF_MAX_PEERS][NAME_MAX_LEN + 1]; /* connect = NAME */
	int nconnect;                    /* 0: every member (full mesh) */
	char noconnect[CONF_MAX_PEERS][NAME_MAX_LEN + 1];
	int nnoconnect;
	uint32_t max_links;              /* max_links = N members we dial
	                                  * (0, the default: no cap) */
	uint32_t max_admitted;           /* max_admitted = N records one
	                                  * admitter may have held (issue
	                                  * 14; default 1000) */
	int members_invite;              /* members_invite = yes|no: on the
	                                  * root, plain members may invite
	                                  * (issue 14) */
	struct prefix subnets[CONF_MAX_SUBNETS]; /* subnet = PREFIX */
	int nsubnets;
	/* accept_subnets = PREFIX ...: other members' subnets this member
	 * routes, besides those inside the network's own ranges (none by
	 * default); routed/accept.h has the whole rule. */
	struct prefix accept_subnets[CONF_MAX_ACCEPT];
	int naccept_subnets;
	char gateway[NAME_MAX_LEN + 1];  /* gateway = NAME: route the
	                                  * default (0.0.0.0/1 + 128.0.0.0/1,
	                                  * ::/1 + 8000::/1) to the member
	                                  * that announces 0.0.0.0/0, ::/0 */
	char netns[64];                  /* netns = NAME for the tun device */
	int privsep;                     /* privsep = yes|no (default yes
	                                  * when root and users exist) */
	int sandbox;                     /* sandbox = yes|no (seccomp) */
	int anonymous;                   /* anonymous = yes|no */
	int client_auth;                 /* client_auth = yes|no (-1: not
	                                  * set, conf_client_auth) */
	char tor_control[CONF_ADDR_LEN]; /* tor_control = HOST:PORT|unix:P */
	char tor_socks[CONF_ADDR_LEN];   /* tor_socks = HOST:PORT|unix:P */
	int tor_auth;                    /* tor_auth = safecookie|cookie|
	                                  * none (CONF_TOR_AUTH_*) */
	char tor_cookie[PATH_MAX];       /* tor_cookie = /PATH ("" tor's
	                                  * default: conf_tor_cookie) */
	char tor_group[33];              /* tor_group = GROUP ("" the
	                                  * cookie file's group) */
	uint32_t circuits;               /* circuits = 1..CONF_CIRCUITS_MAX
	                                  * links per peer */
	int multipath;                   /* multipath = stripe|flow
	                                  * (CONF_MP_*): over circuits */
	int loglevel;                    /* loglevel = warn|info|debug */
	/* trust (issue 4) */
	uint8_t root[32];                /* root = <64 hex>: the founder */
	int have_root;
	int role;                        /* role = member|admin (ROLE_*) */
	int admitted;                    /* admitted_by + admission set */
	uint8_t admitted_by[32];         /* admitted_by = <64 hex> */
	uint8_t admission[64];           /* admission = <128 hex> */
	/* admitted_subnet = PREFIX (repeated, in the admission's order):
	 * the subnets the admission grants, which it signs (issue 14;
	 * join writes them). */
	struct prefix admitted_subnets[CONF_MAX_SUBNETS];
	int nadmitted_subnets;
};

/* Fill paths from network name and optional base dir (NULL: system).
 * -1 with a message in err if net is not a valid name or a path is too
 * long. */
int conf_paths(struct conf_paths *p, const char *net, const char *dir,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Defaults for every key (not paths). */
void conf_defaults(struct conf *c);
/* Parse text (name is used in messages, e.g. the file path). */
int conf_parse(struct conf *c, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* conf_defaults + read c->paths.conf_file + conf_parse + cross checks
 * (e.g. anonymous with listen/tcp set). */
int conf_load(struct conf *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The cross checks conf_load runs after parsing: name present;
 * anonymous = yes with no tcp and no listen but unix:PATH (the message
 * names the key that would reveal the address); connect and noconnect
 * not naming the same member; gateway not naming this member. For init
 * to check before it writes. */
int conf_check(const struct conf *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Canonical text of a config (what init writes). Returns its length,
 * or -1 if cap is too small or a value cannot be written. */
int conf_format(const struct conf *c, char *out, size_t cap)
    __attribute__((warn_unused_result));
/* The cookie file keyd reads: tor_cookie when set, else tor's known
 * default for the control port: DIR/control.authcookie for
 * tor_control = unix:DIR/SOCKET, TOR_COOKIE_DEFAULT for a TCP one.
 * Never what tor's PROTOCOLINFO names: a process on tor's socket path
 * could name any file keyd can read. -1 when it does not fit. */
int conf_tor_cookie(const struct conf *c, char *out, size_t cap)
    __attribute__((warn_unused_result));
/* "safecookie", "cookie" or "none". */
const char *conf_tor_auth_name(int auth);
/* Does our onion service take only members (v3 client authorization)?
 * client_auth = yes|no, or when not set: in anonymous mode. Only in
 * onion mode; over TCP it does not apply. */
int conf_client_auth(const struct conf *c);
/* Member and network names: [a-z0-9][a-z0-9_-]{0,31}. */
int name_valid(const char *s);
/* A network namespace name as ip netns makes it (netns =, --netns):
 * 1..63 of A-Z a-z 0-9 '_' '-' '.', not "." or "..". */
int netns_name_valid(const char *s);
/* A group keyd may be given for tor's cookie (tor_group =), as useradd
 * takes it: 1..32 of A-Z a-z 0-9 '_' '-' '.', not starting with '-',
 * not root. */
int group_name_valid(const char *s);

#endif
