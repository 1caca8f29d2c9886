/*
 * init: found a network (or set up a member that exchanges records by
 * hand). The order is what makes it safe to retry:
 *
 *   1. every value of the command line is checked, and the config that
 *      would be written is formatted and parsed back, before anything
 *      touches the disk; an existing config is refused;
 *   2. the directories are made and keyd (onionmesh-keyd --genkey) makes
 *      the identity and prints its public key — the CLI never holds a
 *      secret, so it cannot leak one;
 *   3. the addresses are derived from the public key, the config is
 *      written atomically, and keyd runs again to sign our own record.
 *
 * Whatever step 2 or 3 created is removed again when a later step fails
 * (only what was not there before: an existing identity is kept).
 *
 * --tcp HOST:PORT is what our record advertises (tcp =); linkd then
 * listens on every address at PORT (listen = 0.0.0.0:PORT, [::]:PORT
 * for an IPv6 HOST), because behind NAT or in a container the public
 * address is not one this host can bind. --listen HOST:PORT says where
 * instead. Without --tcp and --listen, a tor that runs as Debian's
 * package sets it up (/run/tor/control and /run/tor/socks are sockets)
 * is taken for what --tor-control and --tor-socks do not say.
 * The IPv4 address is --ipv4's, or
 * one derived from the key in 10.77.0.0/16; the IPv6 one is always
 * derived (the network's /48 from its netid).
 */
#include "ctl/ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/addr.h"
#include "proto/file.h"
#include "proto/record.h"


static int
ipv4_range_parse(struct prefix *p, const char *s, char *why, size_t cap)
{
	uint32_t a, mask, host;

	if (strchr(s, '/') == NULL || prefix_parse(p, s) == -1 ||
	    p->family != 4 || p->len < 8 || p->len > 30) {
		snprintf(why, cap, "--ipv4 `%s' is not an IPv4 address with "
		    "the network's prefix length (A.B.C.D/LEN, LEN 8..30, "
		    "e.g. 10.77.0.1/16)", s);
		return -1;
	}
	a = (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
	    (uint32_t)p->addr[2] << 8 | p->addr[3];
	mask = p->len ? 0xffffffffu << (32 - p->len) : 0;
	host = a & ~mask;
	if (host == 0 || host == ~mask) {
		snprintf(why, cap, "--ipv4 `%s' is the %s address of its "
		    "range, not one a member can have", s,
		    host == 0 ? "network" : "broadcast");
		return -1;
	}
	return 0;
}

/* Is "unix:PATH" a socket here (tor's, as Debian's package makes it)? */
static int
tor_default(const char *addr)
{
	struct stat st;

	return stat(addr + 5, &st) == 0 && S_ISSOCK(st.st_mode);
}

enum { O_IPV4, O_TCP, O_LISTEN, O_ANON, O_TORC, O_TORS, O_NETNS,
    O_NOPRIVSEP, O_ROOT, O_END };

/* --ipv4 (else the default range), --tcp, --listen, --anonymous. */
static int
init_addrs(struct ctl *c, struct ctl_opt *opts, struct conf *conf,
    struct prefix *range)
{
	char why[256];

	if (opts[O_IPV4].val) {
		if (ipv4_range_parse(&conf->ipv4, opts[O_IPV4].val, why,
		    sizeof(why)) == -1)
			return ctl_usage(c, "%s", why);
	} else if (prefix_parse(range, DEFAULT_IPV4_NET) == -1) {
		ctl_warnx("default range %s does not parse",
		    DEFAULT_IPV4_NET);
		return CTL_FAIL;
	}
	if (opts[O_TCP].val) {
		if (!ctl_hostport_valid(opts[O_TCP].val))
			return ctl_usage(c, "--tcp `%s' is not HOST:PORT (an "
			    "IPv4 address, [IPv6] or DNS name, and a port "
			    "1..65535), e.g. 192.0.2.1:%d", opts[O_TCP].val,
			    DEFAULT_PORT);
		snprintf(conf->tcp, sizeof(conf->tcp), "%s", opts[O_TCP].val);
		if (ctl_listen_any(opts[O_TCP].val, conf->listen,
		    sizeof(conf->listen)) == -1)
			return ctl_usage(c, "--tcp `%s' is not HOST:PORT",
			    opts[O_TCP].val);
	}
	if (opts[O_LISTEN].val) {
		if (!ctl_hostport_valid(opts[O_LISTEN].val))
			return ctl_usage(c, "--listen `%s' is not HOST:PORT "
			    "(a local address and a port 1..65535, e.g. "
			    "0.0.0.0:%d)", opts[O_LISTEN].val, DEFAULT_PORT);
		snprintf(conf->listen, sizeof(conf->listen), "%s",
		    opts[O_LISTEN].val);
	}
	if (opts[O_ANON].val) {
		if (opts[O_TCP].val || opts[O_LISTEN].val)
			return ctl_usage(c, "--anonymous cannot go with "
			    "--%s `%s': an anonymous member publishes no "
			    "address and takes no TCP links",
			    opts[O_TCP].val ? "tcp" : "listen",
			    opts[O_TCP].val ? opts[O_TCP].val :
			    opts[O_LISTEN].val);
		conf->anonymous = 1;
	}
	return CTL_OK;
}

/* --tor-control, --tor-socks; without TCP, Debian's tor as shipped
 * (/run/tor) for what the flags did not name (*found then 1): any
 * other tor takes the flags. */
static int
init_tor(struct ctl *c, struct ctl_opt *opts, struct conf *conf,
    int *found)
{
	int rc;

	if ((rc = ctl_tor_opts_check(c, opts[O_TORC].val,
	    opts[O_TORS].val)) != CTL_OK)
		return rc;
	if (opts[O_TORC].val)
		snprintf(conf->tor_control, sizeof(conf->tor_control), "%s",
		    opts[O_TORC].val);
	if (opts[O_TORS].val)
		snprintf(conf->tor_socks, sizeof(conf->tor_socks), "%s",
		    opts[O_TORS].val);
	if (opts[O_TCP].val || opts[O_LISTEN].val)
		return CTL_OK;
	if (!opts[O_TORC].val && tor_default(TOR_CONTROL_DEFAULT)) {
		snprintf(conf->tor_control, sizeof(conf->tor_control), "%s",
		    TOR_CONTROL_DEFAULT);
		*found = 1;
	}
	if (!opts[O_TORS].val && tor_default(TOR_SOCKS_DEFAULT)) {
		snprintf(conf->tor_socks, sizeof(conf->tor_socks), "%s",
		    TOR_SOCKS_DEFAULT);
		*found = 1;
	}
	return CTL_OK;
}

/* --netns, --no-privsep and the network's root: ours when we found it,
 * the founder's (--root) when records come by hand. Until the key
 * exists a stand-in makes the config read back. */
static int
init_host(struct ctl *c, struct ctl_opt *opts, struct conf *conf)
{
	const char *v = opts[O_ROOT].val;
	uint8_t x[MEMBER_ID_BYTES];
	size_t i, vl;

	if (opts[O_NETNS].val) {
		if (!netns_name_valid(opts[O_NETNS].val))
			return ctl_usage(c, "--netns `%s' is not a network "
			    "namespace name (1 to 63 of A-Z a-z 0-9 . _ -, "
			    "as ip netns names them)", opts[O_NETNS].val);
		snprintf(conf->netns, sizeof(conf->netns), "%s",
		    opts[O_NETNS].val);
	}
	if (opts[O_NOPRIVSEP].val)
		conf->privsep = 0;
	conf->have_root = 1;
	if (v == NULL) {
		memset(conf->root, 0x11, sizeof(conf->root));
		return CTL_OK;
	}
	vl = strlen(v);
	for (i = 0; i < vl; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f')))
			break;
	if (vl != 2 * MEMBER_ID_BYTES || i != vl ||
	    hex_decode(conf->root, MEMBER_ID_BYTES, v) == -1 ||
	    crypto_sign_ed25519_pk_to_curve25519(x, conf->root) != 0)
		return ctl_usage(c, "--root `%s' is not a member id (%d "
		    "lower-case hex digits: the founder's id, as 'onionmesh "
		    "status --json' shows it)", v, 2 * MEMBER_ID_BYTES);
	return CTL_OK;
}

/* The config as it will be written, with stand-in addresses, must read
 * back: what conf_load refuses later, init refuses now. */
static int
init_readback(struct ctl *c, struct ctl_opt *opts, struct conf *conf,
    const struct prefix *range)
{
	static char text[16384];
	static struct conf check;
	char why[PATH_MAX + 256];
	int len;

	if (!opts[O_IPV4].val) {
		conf->ipv4 = *range;
		conf->ipv4.addr[3] |= 1;
	}
	if (prefix_parse(&conf->ipv6, "fd00::1/48") == -1) {
		ctl_warnx("cannot parse an IPv6 stand-in address");
		return CTL_FAIL;
	}
	why[0] = '\0';
	if ((len = conf_format(conf, text, sizeof(text))) < 0)
		return ctl_usage(c, "these options make a config longer than "
		    "%zu bytes", sizeof(text));
	conf_defaults(&check);
	check.paths = c->paths;
	if (conf_parse(&check, c->paths.conf_file, text, len, why,
	    sizeof(why)) == -1)
		return ctl_usage(c, "these options make a config that does "
		    "not read back: %s", why[0] ? why : "no reason given");
	return CTL_OK;
}

/* 3. Addresses from our key pk, the config, our signed record. */
static int
init_identity(struct ctl *c, struct ctl_opt *opts, struct conf *conf,
    const struct prefix *range, struct undo *u, const char *keyd,
    const uint8_t pk[MEMBER_ID_BYTES])
{
	static char text[16384];
	struct record rec;
	uint8_t netid[NETID_BYTES];
	char why[PATH_MAX + 256], path[PATH_MAX];
	int len;

	if (!opts[O_ROOT].val)
		memcpy(conf->root, pk, MEMBER_ID_BYTES);
	netid_derive(netid, c->paths.net, conf->root);
	ipv6_member_addr(&conf->ipv6, netid, pk);
	conf->ipv6.len = 48;
	if (!opts[O_IPV4].val) {
		ipv4_member_addr(&conf->ipv4, range, pk);
		conf->ipv4.len = range->len;
	}
	if ((len = conf_format(conf, text, sizeof(text))) < 0) {
		ctl_warnx("the config does not fit %zu bytes", sizeof(text));
		return -1;
	}
	if (ctl_setup_write(c, u, keyd, text, len, pk, "init") == -1 ||
	    ctl_path(path, sizeof(path), c->paths.hosts_dir,
	    conf->name) == -1)
		return -1;
	if (ctl_record_read(path, netid, &rec, why, sizeof(why)) == -1) {
		ctl_warnx("keyd did not leave our signed record: %s", why);
		return -1;
	}
	if (sodium_memcmp(rec.id, pk, MEMBER_ID_BYTES) != 0 ||
	    strcmp(rec.name, conf->name) != 0) {
		ctl_warnx("%s holds another member's record, not %s's", path,
		    conf->name);
		return -1;
	}
	return 0;
}

/* What init made, and what to do next. */
static void
init_print(struct ctl *c, const struct conf *conf,
    const uint8_t pk[MEMBER_ID_BYTES], int tor_found, int by_hand)
{
	char hex[MEMBER_ID_BYTES * 2 + 1], a4[PREFIX_STRLEN];
	char a6[PREFIX_STRLEN], flags[PATH_MAX + 64];
	int other = strcmp(c->paths.net, DEFAULT_NET) != 0;

	hex_encode(hex, pk, MEMBER_ID_BYTES);
	prefix_fmt(&conf->ipv4, a4, sizeof(a4), 1);
	prefix_fmt(&conf->ipv6, a6, sizeof(a6), 1);
	flags[0] = '\0';
	if (other || c->dir)
		snprintf(flags, sizeof(flags), "%s%s%s%s",
		    other ? " -n " : "", other ? c->paths.net : "",
		    c->dir ? " -d " : "", c->dir ? c->dir : "");
	printf("network   %s\n", c->paths.net);
	printf("member    %s\n", conf->name);
	printf("id        %s\n", hex);
	printf("ipv4      %s\n", a4);
	printf("ipv6      %s\n", a6);
	if (conf->tcp[0])
		printf("tcp       %s\n", conf->tcp);
	if (conf->tor_control[0] || conf->tor_socks[0])
		printf("tor       control %s, socks %s%s\n",
		    conf->tor_control[0] ? conf->tor_control : "-",
		    conf->tor_socks[0] ? conf->tor_socks : "-",
		    tor_found ? " (Debian's tor, found in /run/tor)" : "");
	printf("config    %s\n", c->paths.conf_file);
	if (by_hand)
		printf("\nnext: swap host records with the other members "
		    "(give them yours, add theirs):\n"
		    "  onionmesh%s export %s.host\n"
		    "  onionmesh%s import THEIR.host\n"
		    "then start the daemons:\n"
		    "  onionmesh%s up\n", flags, conf->name, flags, flags);
	else
		printf("\nnext: start the daemons, then invite the other "
		    "hosts (each runs `onionmesh join URL`):\n"
		    "  onionmesh%s up\n"
		    "  onionmesh%s invite NAME\n", flags, flags);
}

int
cmd_init(struct ctl *c, int argc, char **argv)
{
	struct ctl_opt opts[] = {
		[O_IPV4] = { "ipv4", "A.B.C.D/LEN", NULL },
		[O_TCP] = { "tcp", "HOST:PORT", NULL },
		[O_LISTEN] = { "listen", "HOST:PORT", NULL },
		[O_ANON] = { "anonymous", NULL, NULL },
		[O_TORC] = { "tor-control", "ADDR", NULL },
		[O_TORS] = { "tor-socks", "ADDR", NULL },
		[O_NETNS] = { "netns", "NAME", NULL },
		[O_NOPRIVSEP] = { "no-privsep", NULL, NULL },
		[O_ROOT] = { "root", "ID", NULL },
		[O_END] = { NULL, NULL, NULL },
	};
	static struct conf conf;
	static struct undo u;
	struct prefix range;
	uint8_t pk[MEMBER_ID_BYTES];
	char keyd[PATH_MAX], *pos[1];
	int rc, ret = CTL_FAIL, tor_found = 0;

	/* 1. Values, all of them, before anything else. */
	if ((rc = ctl_member_arg(c, argc, argv, opts, pos)) != CTL_OK)
		return rc;
	/* Paths first: the default interface name (om-NET) comes from
	 * them. */
	memset(&range, 0, sizeof(range));
	conf.paths = c->paths;
	conf_defaults(&conf);
	snprintf(conf.name, sizeof(conf.name), "%s", pos[0]);
	if ((rc = init_addrs(c, opts, &conf, &range)) != CTL_OK ||
	    (rc = init_tor(c, opts, &conf, &tor_found)) != CTL_OK ||
	    (rc = init_host(c, opts, &conf)) != CTL_OK ||
	    (rc = init_readback(c, opts, &conf, &range)) != CTL_OK)
		return rc;
	if (ctl_setup_check(c, keyd, sizeof(keyd)) == -1)
		return CTL_FAIL;

	/* 2. Directories and the identity, then 3. */
	if (ctl_setup_dirs(c, &u, 0) == 0 && ctl_genkey(c, keyd, pk) == 0 &&
	    init_identity(c, opts, &conf, &range, &u, keyd, pk) == 0) {
		init_print(c, &conf, pk, tor_found, opts[O_ROOT].val != NULL);
		ret = CTL_OK;
	}
	if (ret != CTL_OK)
		undo_run(&u);
	ctl_setup_free(&u);
	return ret;
}
