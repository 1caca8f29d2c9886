/*
 * linkd's shared state and the calls between its files. One struct
 * linkd holds everything the daemon knows; every file gets it passed in
 * (there is no global), so unit tests can build one by hand.
 *
 *   linkd.c          main, loop, 1 s timer
 *   dispatch.c       channels to keyd and routed
 *   peers.c          members, dial policy, handshake timestamps
 *   link.c           one byte stream + one session (link.h)
 *   transport_tcp.c  TCP listen / connect
 *   keyd_client.c    keyd_dh(): DH with our static key, in keyd
 *   datapath.c       tund.data <-> links
 *   fib.c            forwarding table (fib.h)
 *   multipath.c      which link of a peer (multipath.h)
 *   ctl.c            JSON ctl socket
 */
#ifndef OM_LINKD_LINKD_H
#define OM_LINKD_LINKD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "linkd/fib.h"
#include "linkd/link.h"
#include "linkd/multipath.h"
#include "linkd/session.h"
#include "proto/conf.h"
#include "proto/daemon.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "proto/record.h"

#define PEER_MAX_LINKS   16
#define PEERS_HASH       256  /* buckets, power of two */
#define MAX_PENDING_IN   64   /* incoming links still in handshake */
#define DP_BATCH         64   /* superpackets read from tund per wakeup */
#define DP_RECONNECT     0.5
#define DP_PAUSE_MAX     2.0  /* tund stuck this long: drop, resume */
#define DP_BUF           (WIRE_MAX_INNER + 64)

/* ---- members ----- */

struct peer {
	TAILQ_ENTRY(peer) entry;
	struct peer *hnext;               /* id hash chain */
	struct record rec;
	uint8_t dh[NOISE_DHLEN];          /* X25519 form of rec.id */
	char id_hex[2 * MEMBER_ID_BYTES + 1];
	uint32_t seen;                    /* sync epoch it was last sent in */
	uint8_t last_ts[WIRE_HS_PAYLOAD]; /* newest HS_INIT timestamp */
	int has_ts;
	double t_last_hs;                 /* monotonic, 0 never */
	struct link *links[PEER_MAX_LINKS]; /* links that know this peer */
	struct mp_path *paths[PEER_MAX_LINKS];
	int nlinks;
	struct mp_sched mp;
	int links_up;
	int reported;                     /* links_up last sent; -1 none */
	struct link *out;                 /* our outgoing link, if dialled */
	uint64_t src_drops;               /* inner source not its own */
};

TAILQ_HEAD(peer_list, peer);
TAILQ_HEAD(link_list, link);

/* ---- data path ----- */

struct datapath {
	int fd;                           /* tund.data, -1 when absent */
	char path[108];
	ev_io rio;
	ev_io wio;
	ev_timer retry;
	uint8_t *buf;                     /* one superpacket from tund */
	uint8_t *pend;                    /* one packet tund did not take */
	size_t pend_len;
	double t_paused;
	int tund_paused;                  /* reading tund stopped */
	uint64_t tx_packets, rx_packets;  /* from / to tund */
	uint64_t no_route, no_link, src_drops, tund_drops, bad_packets;
	uint64_t links_paused_n;          /* tund full: links stopped */
	uint64_t tund_paused_n;           /* a link full: tund stopped */
};

struct linkd {
	struct daemon_ctx *d;
	struct ev_loop *loop;
	const struct conf *conf;

	/* who we are (keyd's MSG_SELF) */
	int self_known;
	uint8_t self_id[MEMBER_ID_BYTES];
	uint8_t self_dh[NOISE_DHLEN];
	uint8_t netid[NETID_BYTES];
	char self_name[NAME_MAX_LEN + 1];
	char self_hex[2 * MEMBER_ID_BYTES + 1];
	uint8_t prologue[SESSION_PROLOGUE_MAX];
	size_t prologue_len;
	struct record self_rec;
	int have_self_rec;

	/* members */
	struct peer_list peers;
	struct peer *hash[PEERS_HASH];
	size_t npeers;
	uint32_t sync_epoch;
	int syncing;

	/* links */
	struct link_list links;
	struct link_list reap;
	uint32_t link_serial;
	int pending_in;
	int links_over_high;
	int links_paused;
	uint64_t refused_in;              /* incoming refused at accept */

	/* forwarding */
	struct fib *fib;
	struct fib_builder fb;

	struct datapath dp;

	/* TCP listener */
	int lfd;
	ev_io lio;
	char listen_addr[CONF_ADDR_LEN];

	/* IPC */
	struct ipc_chan *keyd;
	struct ipc_chan *routed;
	struct ipc_ctl *ctl;

	ev_timer tick;
	ev_prepare prep;
	double t_start;
	int stopping;
};

/* Monotonic seconds. */
double linkd_now(void);

/* peers.c */
void peers_init(struct linkd *ld);
struct peer *peers_find(struct linkd *ld, const uint8_t id[MEMBER_ID_BYTES]);
struct peer *peers_find_dh(struct linkd *ld, const uint8_t dh[NOISE_DHLEN]);
/* Add or update a member from its record; marks it seen in this sync.
 * NULL if the record is ours or its key has no X25519 form. */
struct peer *peers_update(struct linkd *ld, const struct record *r);
void peers_remove(struct linkd *ld, struct peer *p, const char *why);
void peers_sweep(struct linkd *ld);
void peers_clear(struct linkd *ld);
/* Is this member to be dialled (pure: config, self, record)? */
int peers_dial_wanted(const struct conf *c, const uint8_t self_id[32],
    const struct record *r);
/* Make the outgoing link match the policy: dial or stop dialling. */
void peers_apply_policy(struct linkd *ld, struct peer *p);
void peers_apply_policy_all(struct linkd *ld);
int peer_link_attach(struct peer *p, struct link *l)
    __attribute__((warn_unused_result));
void peer_link_detach(struct peer *p, struct link *l);
/* A link of p changed state: recount, tell routed when the count of
 * established links changed. */
void peer_links_changed(struct linkd *ld, struct peer *p);
/* The link for p's next packet (multipath), or NULL. */
struct link *peer_tx_link(struct peer *p);
/* Handshake replay check; 0 newer (and recorded), -1 replay. */
int peer_check_ts(struct peer *p, const uint8_t ts[WIRE_HS_PAYLOAD]);
uint32_t peer_rtt_us(const struct peer *p);

/* transport_tcp.c */
int tcp_listen(const char *addr, char *err, size_t errlen);
/* fd, or -1 (errno EAGAIN when nothing is waiting). */
int tcp_accept(int lfd, char *remote, size_t cap);
/* Non-blocking connect to "HOST:PORT"; fd or -1 with err. */
int tcp_connect(const char *endpoint, char *remote, size_t cap, char *err,
    size_t errlen);
/* 0 when the connect finished well, else the errno. */
int tcp_connect_result(int fd);
void tcp_tune(int fd);
uint32_t tcp_rtt_us(int fd);
void tcp_buffers_probe(void);

/* keyd_client.c: DH with our static X25519 secret, which only keyd
 * holds. A noise_dh_fn; arg is ignored. */
int keyd_client_open(const char *path, uid_t keyd_uid)
    __attribute__((warn_unused_result));
void keyd_client_close(void);
int keyd_dh(void *arg, uint8_t out[NOISE_DHLEN],
    const uint8_t pub[NOISE_DHLEN]) __attribute__((warn_unused_result));

/* datapath.c */
void datapath_init(struct linkd *ld, const char *path);
void datapath_close(struct linkd *ld);
/* A packet from a link's session (vnet hdr + IP). */
void datapath_deliver(struct linkd *ld, struct link *l, const uint8_t *pkt,
    size_t len);
/* No link is above its high-water mark any more. */
void datapath_links_drained(struct linkd *ld);
void datapath_tick(struct linkd *ld, double now);
/* Inner header helpers (pure): IP version and the address at the
 * given role; -1 if the packet is too short or not IPv4/IPv6. */
int dp_inner_addr(const uint8_t *pkt, size_t len, int want_src, int *family,
    const uint8_t **addr);

/* dispatch.c */
void dispatch_init(struct linkd *ld);
void dispatch_close(struct linkd *ld);
void dispatch_peer_state(struct linkd *ld, struct peer *p);

/* ctl.c */
void ctl_init(struct linkd *ld);
void ctl_close(struct linkd *ld);
json_t *ctl_handle(struct linkd *ld, json_t *req);

/* linkd.c-independent listener glue (transport_tcp.c) */
void listener_start(struct linkd *ld);
void listener_stop(struct linkd *ld);

#endif
