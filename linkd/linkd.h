/*
 * linkd's shared state and the calls between its files. One struct
 * linkd holds everything the daemon knows; every file gets it passed in
 * (there is no global), so unit tests can build one by hand.
 *
 *   linkd.c          main: lifecycle, channels, ctl socket, timers,
 *                    the table of what links hand on (inner kind ->
 *                    handler)
 *   dispatch.c       keyd's and routed's messages -> calls (linkd_msgs)
 *   ctl.c            ctl requests -> replies (linkd_ctl_cmds)
 *   peers.c          members, dial policy, handshake timestamps, their
 *                    state as told to keyd and routed
 *   link.c           one byte stream + one session (link.h): states,
 *                    dialling, reading, writing, timers
 *   link_session.c   a link's session callbacks: send, what it opens,
 *                    who it is, up
 *   stream.c         a link's read framer and output ring (stream.h)
 *   transport_tcp.c  TCP listen / connect, the accept loop
 *   transport_socks.c  onion mode: SOCKS5 through tor, config checks
 *   transport_unix.c   onion mode: the Unix socket tor's service maps to
 *   hs_admit.c       handshake rate limit
 *   join_relay.c     joiners' frames to keyd and back
 *   keyd_client.c    keyd_dh(): DH with our static key, in keyd
 *   outbound.c       tund -> members: read, route once, seal
 *   route.c          the route decision and debug_route (route.h)
 *   datapath.c       the tund.data socket; members -> tund
 *   fib.c            forwarding table (fib.h)
 *   e2e.c            end-to-end sessions through relays (forward.h)
 *   forward.c        relaying INNER_FORWARD (forward.h)
 *   multipath.c      which link of a peer (multipath.h)
 *   stripe.c         striping: numbers out, sched.c's pick, reorder.c
 *                    in (stripe.h)
 *   gossip.c         carries keyd's gossip between members
 *
 * The packet path walks down: outbound -> route, links, e2e -> forward
 * -> links -> session; links hand what they open to the handlers
 * linkd.c registered (datapath, gossip, e2e), which go down again.
 */
#ifndef OM_LINKD_LINKD_H
#define OM_LINKD_LINKD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "linkd/bounds.h"
#include "linkd/fib.h"
#include "linkd/forward.h"
#include "linkd/link.h"
#include "linkd/multipath.h"
#include "linkd/ratelimit.h"
#include "linkd/resolve.h"
#include "linkd/route.h"
#include "linkd/session.h"
#include "linkd/stripe.h"
#include "proto/conf.h"
#include "proto/daemon.h"
#include "proto/datapath.h"
#include "proto/dispatch.h"
#include "proto/ipc.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "proto/socks5.h"

/* Onion mode: up to conf.circuits (<= 8) outgoing links per member on
 * the dialling side, as many incoming on the other, and room for the
 * ones a restarting member leaves behind until they time out. */
#define PEER_MAX_LINKS   40
#define PEER_MAX_OUT     CONF_CIRCUITS_MAX /* outgoing slots */
#define TS_WINDOW        64   /* handshake timestamps remembered */
#define TS_SLACK         30   /* s: how far behind the newest one may be */
#define PEERS_HASH       256  /* buckets, power of two */
#define MAX_PENDING_IN   64   /* incoming links still in handshake */
#define MAX_PENDING_PER_SOURCE 8 /* of them from one TCP source */
#define DP_BATCH         64   /* superpackets read from tund per wakeup */
#define DP_RECONNECT     0.5
#define DP_PAUSE_MAX     2.0  /* tund stuck this long: drop, resume */
#define DP_BUF           (WIRE_MAX_INNER + 64)
#define RATE_BLOCK_S     10   /* s: a member's rate peak, per block */
#define RATE_BLOCKS      6    /* blocks kept: the peak of ~60 s */
#define RATE_GAP_S       5.0  /* s without a sample: start afresh */

/* ---- members ----- */

/*
 * Which handshake timestamps (TAI64N) of one member have been accepted.
 * WireGuard keeps only the newest and refuses anything not newer; with
 * several circuits per member the handshakes of its links race each
 * other through tor and arrive in any order. So: the TS_WINDOW newest
 * accepted ones are remembered, and a timestamp is fresh when it is not
 * one of them, newer than every one forgotten, and at most TS_SLACK s
 * older than the newest. A replay is either remembered or too old.
 */
struct ts_window {
	uint8_t ts[TS_WINDOW][WIRE_HS_PAYLOAD]; /* ascending */
	int n;
	uint8_t floor[WIRE_HS_PAYLOAD];  /* newest forgotten one */
	int has_floor;
};

/*
 * The busiest second of a member's links over the last minute: the
 * largest per-second byte count of each RATE_BLOCK_S block, for the
 * last RATE_BLOCKS blocks. A sliding maximum in constant space, which
 * forgets a burst within a minute instead of decaying towards it.
 */
struct rate_peak {
	uint64_t blk;                     /* block number of the newest */
	uint64_t peak[RATE_BLOCKS];       /* bytes/s, by block % BLOCKS */
};

struct peer {
	TAILQ_ENTRY(peer) entry;
	struct peer *hnext;               /* id hash chain */
	struct record rec;
	uint8_t dh[NOISE_DHLEN];          /* X25519 form of rec.id */
	char id_hex[2 * MEMBER_ID_BYTES + 1];
	uint32_t seen;                    /* sync epoch it was last sent in */
	struct ts_window tsw;             /* accepted HS_INIT timestamps */
	double t_last_hs;                 /* monotonic, 0 never */
	struct link *links[PEER_MAX_LINKS]; /* links that know this peer */
	struct mp_path *paths[PEER_MAX_LINKS];
	int nlinks;
	struct mp_sched mp;
	struct stripe stripe;             /* MP_STRIPE out; numbered in */
	int links_up;
	int reported;                     /* links_up last sent; -1 none */
	/* rate: bytes/s its links carried (tx + rx), see peer_rate_tick */
	double rate_t;                    /* monotonic, last sample; 0 none */
	uint64_t rate_carry;              /* bytes of links gone since */
	struct rate_peak rate;
	uint64_t rate_bps;                /* the peak, bytes/s */
	uint32_t rate_kbps;               /* bucketed (edges_rate_bucket): as
	                                   * routed was or is to be told */
	uint32_t rtt_reported;            /* rtt_us routed was last told */
	struct link *out[PEER_MAX_OUT];   /* our outgoing links, by slot */
	uint64_t src_drops;               /* inner source not its own */
	struct member_bounds bounds;      /* what it may make us do */
	uint64_t congested;               /* dropped: its links were full */
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
	uint64_t congested;               /* a member's links full: dropped */
	uint64_t links_paused_n;          /* tund full: links stopped */
	uint64_t tund_paused_n;           /* a link full: tund stopped */
};

/* What a link does with an inner kind its session opened, from member
 * from (linkd.c's table). p points into the session layer's buffer. */
typedef void (*link_frame_fn)(struct linkd *ld, struct peer *from,
    const uint8_t *p, size_t len);

struct link_frame {
	uint8_t kind;                     /* enum wire_inner */
	link_frame_fn fn;
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
	uint8_t prologue[WIRE_PROLOGUE_MAX];
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
	const struct link_frame *frames;  /* inner kind -> handler */
	size_t nframes;
	struct link_list links;
	struct link_list reap;
	uint32_t link_serial;
	int pending_in;
	int links_over_high;
	int links_paused;
	uint64_t refused_in;              /* incoming refused at accept */
	uint64_t pending_evicted;         /* silent ones closed (pending.c) */
	struct ratelimit hs_rl;           /* hs_admit.c */
	struct ratelimit join_rl;         /* join_relay.c: joins' own */
	uint64_t hs_ratelimited;          /* handshakes dropped by it */

	/* forwarding */
	struct fib *fib;
	struct fib_builder fb;
	struct forward fwd;               /* relays and e2e sessions */
	struct route_overrides routes;    /* debug_route (route.h) */

	struct datapath dp;

	/* TCP listener */
	int lfd;
	ev_io lio;
	char listen_addr[CONF_ADDR_LEN];

	/* onion mode (conf tor_control and tor_socks set): no TCP at all;
	 * tor's onion service connects to this Unix socket */
	int onion;
	int ofd;
	ev_io oio;
	char onion_path[108];

	/* join_relay.c: newcomers redeeming an invitation */
	int join_relays;                  /* open now */
	uint64_t join_started, join_refused, join_timeouts;
	uint64_t join_ratelimited;        /* over ld->join_rl */

	/* gossip.c: payloads carried for keyd */
	uint64_t gossip_in, gossip_out, gossip_drops;
	/* over a member's bounds (bounds.h), all members together */
	uint64_t gossip_limited, e2e_refused, rekeys_limited;

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
/* A session (link's or end-to-end) with our identity and prologue: cb
 * without dh and arg, which are keyd_dh and arg. */
int linkd_session_init(struct linkd *ld, struct session *s, int initiator,
    const uint8_t *rs, const struct session_cb *cb, void *arg)
    __attribute__((warn_unused_result));

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
/* status's "bounds": the per-member bounds (bounds.h) and, for every
 * member that went over one, its counts. */
json_t *peers_bounds_json(struct linkd *ld);
/* Onion mode: tor_control and tor_socks both set (pure). */
int linkd_onion_mode(const struct conf *c);
/* How many outgoing links to keep to this member (pure: config, self,
 * record). TCP mode: 1 when it has a tcp endpoint. Onion mode:
 * conf.circuits when it has an onion address and our id is the lower
 * (memcmp), so exactly one side of each pair dials; 0 otherwise.
 * Anonymous without onion mode: 0 (never TCP). connect / noconnect
 * apply in both modes. */
int peers_dial_count(const struct conf *c, const uint8_t self_id[32],
    const struct record *r);
/* Is this member to be dialled at all (peers_dial_count > 0)? */
int peers_dial_wanted(const struct conf *c, const uint8_t self_id[32],
    const struct record *r);
/* Make the outgoing links match the policy: dial or stop dialling. */
void peers_apply_policy(struct linkd *ld, struct peer *p);
void peers_apply_policy_all(struct linkd *ld);
int peer_link_attach(struct peer *p, struct link *l)
    __attribute__((warn_unused_result));
void peer_link_detach(struct peer *p, struct link *l);
/* A link of p changed state: recount, tell routed when the count of
 * established links changed. */
void peer_links_changed(struct linkd *ld, struct peer *p);
/* The link for p's next packet (multipath), or NULL. ip/len: the
 * inner IP packet (no vnet header), for the flow policy; now: monotonic
 * seconds. */
struct link *peer_tx_link(struct peer *p, const uint8_t *ip, size_t len,
    double now);
/* Handshake replay check; 0 fresh (and recorded), -1 replay. */
int peer_check_ts(struct peer *p, const uint8_t ts[WIRE_HS_PAYLOAD]);
/* The same on a bare window (pure, for tests). */
int ts_window_check(struct ts_window *w, const uint8_t ts[WIRE_HS_PAYLOAD]);
uint32_t peer_rtt_us(const struct peer *p);
/* Called from every link's 1 s tick; the first call of a tick for p
 * takes its sample: the bytes all its links moved since the last one,
 * per second. Tells routed when the peak's bucket changes. */
void peer_rate_tick(struct linkd *ld, struct peer *p, double now);
/* Tell routed and keyd p's state (links up, rtt, rate); only routed
 * when only its rate or rtt moved; c (keyd's or routed's channel, just
 * up) every member's. */
void peer_report_state(struct linkd *ld, struct peer *p);
void peer_report_measured(struct linkd *ld, struct peer *p);
void peers_report_all(struct linkd *ld, struct ipc_chan *c);
/* Add a sample (bytes/s at monotonic time now) to r; the peak over the
 * blocks kept. Pure. */
uint64_t rate_peak_add(struct rate_peak *r, double now, uint64_t bps);
/* bytes/s as kbit/s (1000 bit), at most UINT32_MAX. Pure. */
uint32_t rate_bps_to_kbps(uint64_t bps);
/* Whether a member's rtt moved from what routed was told by enough to
 * tell it again: at least RTT_MOVED_US and 1/RTT_MOVED_PART of the
 * larger. Below that no route would change (every hop costs
 * GRAPH_COST_HOP, 1 ms, on top of its rtt), and each report spreads to
 * every member in an edge announcement. Unknown (0) to known, or back,
 * always counts. */
#define RTT_MOVED_US   500
#define RTT_MOVED_PART 4
int rtt_moved(uint32_t was, uint32_t now);

/* transport_tcp.c */
int tcp_listen(const char *addr, char *err, size_t errlen);
/* fd, or -1 (errno EAGAIN when nothing is waiting). */
int tcp_accept(int lfd, char *remote, size_t cap);
/* Take what waits on a listening socket (at most a batch) as incoming
 * links of this transport ("tcp": remote is the address; "onion"). */
void listener_accept(struct linkd *ld, int lfd, const char *transport,
    const char *where);
/* A listening socket fd just made (-1: err says why, logged, tried
 * again next tick) into *fdp, its watcher w started with cb. 0 or -1.
 * And the other way: stopped and closed; 0 if it was open. */
int listener_watch(struct linkd *ld, ev_io *w, int *fdp, int fd,
    const char *err, void (*cb)(struct ev_loop *, ev_io *, int));
int listener_unwatch(struct linkd *ld, ev_io *w, int *fdp);
/* A dial to "HOST:PORT" (endpoint): a numeric HOST connects at once
 * (fd); a name goes to the resolver (TCP_RESOLVING, *id set, and
 * cb(arg, ...) follows from the loop, resolve.h). -1 with err. */
#define TCP_RESOLVING (-2)
int tcp_dial(struct ev_loop *loop, const char *endpoint, resolve_cb *cb,
    void *arg, uint32_t *id, char *remote, size_t cap, char *err,
    size_t errlen);
/* Non-blocking connect to sa (for endpoint, named in err); fd or -1.
 * remote gets the address, printable. */
int tcp_connect_addr(const struct sockaddr *sa, socklen_t salen,
    const char *endpoint, char *remote, size_t cap, char *err,
    size_t errlen);
/* 0 when the connect finished well, else the errno. */
int tcp_connect_result(int fd);
void tcp_tune(int fd);
/* The socket buffers tcp_buffers_probe chose (none: autotuning). */
void tcp_buffers(int fd);
uint32_t tcp_rtt_us(int fd);
void tcp_buffers_probe(void);

/* transport_socks.c */
/* linkd's own checks on top of conf_check, for what only linkd acts
 * on: anonymous mode needs onion mode (no other transport hides the
 * host), and its tor_socks must be on this host (unix:PATH or a
 * loopback address): a SOCKS connection elsewhere would carry every
 * peer's onion address across the network in clear. 0, or -1 with err
 * naming the key, its value and what would be right. */
int linkd_conf_check(const struct conf *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Non-blocking connect to tor's SocksPort ("unix:PATH" or HOST:PORT).
 * fd (connected or connecting: wait for writable), or -1 with err. */
int socks_proxy_connect(const char *proxy, char *err, size_t errlen);
/* A fresh username and password for one link: 16 random bytes each in
 * hex. Secrets in effect (they pick the circuit): never logged. */
void socks_credentials(char user[33], char pass[33]);
/* Short words for a failed SOCKS negotiation (tor's reply code when
 * there is one, else the state machine's reason). */
void socks_error(const struct socks5_client *c, char *out, size_t cap);
/* An outgoing onion link whose socket to tor is connected: start the
 * SOCKS5 negotiation for its member's onion address. 0, or -1 with
 * why. */
int socks_start(struct link *l, char *why, size_t cap)
    __attribute__((warn_unused_result));
/* Read tor's answer into the link's framer: 0 more to come, 1 tor
 * connected the stream (whatever follows is the peer's; the SOCKS
 * state is freed), -1 failed with why. */
int socks_input(struct link *l, char *why, size_t cap)
    __attribute__((warn_unused_result));
void socks_free(struct link *l);

/* transport_unix.c */
/* Listen on the Unix stream socket at path: a stale socket file is
 * replaced, anything else there is an error; mode 0666 so tor (its own
 * user) can connect. fd or -1 with err. */
int unix_listen(const char *path, char *err, size_t errlen);
void onion_listener_start(struct linkd *ld);
void onion_listener_stop(struct linkd *ld);

/* keyd_client.c: DH with our static X25519 secret, which only keyd
 * holds. A noise_dh_fn; arg is ignored. */
int keyd_client_open(const char *path, uid_t keyd_uid)
    __attribute__((warn_unused_result));
void keyd_client_close(void);
int keyd_dh(void *arg, uint8_t out[NOISE_DHLEN],
    const uint8_t pub[NOISE_DHLEN]) __attribute__((warn_unused_result));

/* datapath.c: the socket to tund, and members' packets down it */
void datapath_init(struct linkd *ld, const char *path);
void datapath_close(struct linkd *ld);
void datapath_disconnect(struct linkd *ld, const char *why);
/* A packet from member p (a link's or an end-to-end session's): vnet
 * hdr + IP, its source checked against p (record_owns_addr). */
void datapath_deliver(struct linkd *ld, struct peer *p, const uint8_t *pkt,
    size_t len);
/* No link is above its high-water mark any more. */
void datapath_links_drained(struct linkd *ld);
void datapath_tick(struct linkd *ld, double now);
/* Inner header helpers (pure): IP version and the address at the
 * given role; -1 if the packet is too short or not IPv4/IPv6. */
int dp_inner_addr(const uint8_t *pkt, size_t len, int want_src, int *family,
    const uint8_t **addr);

/* outbound.c: tund -> members (reads the socket datapath.c opens) */
void outbound_init(struct linkd *ld);

/* dispatch.c: the messages linkd takes from keyd and routed */
extern const struct msg_handler linkd_msgs[];
extern const size_t linkd_nmsgs;

/* gossip.c: an INNER_GOSSIP payload from member from, to keyd; keyd's
 * MSG_GOSSIP_OUT payload, to the members it names. */
void linkd_gossip_input(struct linkd *ld, struct peer *from,
    const uint8_t *p, size_t len);
void linkd_gossip_output(struct linkd *ld, const uint8_t *payload,
    size_t n);

/* pending.c: may an incoming connection from remote wait in
 * handshake? NULL yes (the silent-longest one may have been closed for
 * it), or why not. */
const char *pending_admit(struct linkd *ld, const char *transport,
    const char *remote);
/* The source key pending.c counts a connection under (klen 0: none). */
void pending_source(const char *transport, const char *remote,
    uint8_t key[RL_KEY_MAX], size_t *klen);
/* hs_admit.c: a token of ld->join_rl, the joins' own budget (apart
 * from members' handshakes), for a join from l. */
enum rl_verdict join_rl_allow(struct linkd *ld, const struct link *l,
    double now);
/* hs_admit.c: a token of rl (initialised on first use) for a
 * handshake from link l (its source address; onion: global only), or
 * when l is NULL from key (klen bytes; 0: global only). */
enum rl_verdict hs_rl_allow(struct ratelimit *rl, const struct link *l,
    const uint8_t *key, size_t klen, double now);
/* hs_admit.c: may this frame go to the session? An HS_INIT with a
 * valid mac1 on an incoming link without a session spends a token of
 * ld->hs_rl; over the limit the link is closed (silently) and -1
 * returned. A rekey (HS_INIT on an established incoming link) over
 * its member's bound (bounds.h): 1, the frame is dropped. 0 for
 * everything else. */
int hs_admit(struct linkd *ld, struct link *l, const struct wire_frame *f,
    double now) __attribute__((warn_unused_result));

/* join_relay.c: an incoming link whose first frame is WIRE_JOIN is a
 * join relay between the joiner and keyd (never a peer link). */
#define JOIN_RELAY_MAX     128
#define JOIN_RELAY_TIMEOUT 30.0
/* A frame on a link that is (or becomes, when it is the first frame of
 * an incoming link and a WIRE_JOIN) a relay. 0, or -1 when the link
 * was closed. */
int join_relay_frame(struct linkd *ld, struct link *l,
    const struct wire_frame *f, double now)
    __attribute__((warn_unused_result));
/* keyd's MSG_JOIN_OUT. */
void join_relay_out(struct linkd *ld, const uint8_t *payload, size_t n);
void join_relay_tick(struct link *l, double now);
/* The relay's link is going down: tell keyd, free its slot. */
void join_relay_end(struct link *l);

/* ctl.c: the commands linkd's ctl socket answers */
extern const struct ctl_cmd linkd_ctl_cmds[];
extern const size_t linkd_nctl_cmds;

/* transport_tcp.c: the TCP listener (onion mode: onion_listener_*) */
void listener_start(struct linkd *ld);
void listener_stop(struct linkd *ld);

#endif
