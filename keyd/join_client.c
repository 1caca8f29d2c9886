/*
 * The joiner's side: onionmesh-keyd --join URL, a one-shot that runs
 * inside keyd so the new identity's secret never leaves it. It reaches
 * the inviter's link endpoint (through tor's SocksPort to the URL's
 * onion address, or with --tcp to its tcp= endpoint), runs the exchange
 * of keyd/join.c with plain blocking I/O under one deadline
 * (JOIN_CLIENT_TIMEOUT), checks everything it got, writes hosts/ and
 * revoked/, and tells ctl how it went as JSON lines on stdout:
 *
 *   {"event": "connecting", "via": "tor"|"tcp", "to": "..."}
 *   {"event": "connected"}
 *   {"event": "inviter", "id": "<hex>"}        key hash matched
 *   {"event": "redeeming"}
 *   {"admitted": {...}}                        or {"error": "..."}
 *
 * What is checked before anything is written: the root from KEY is the
 * one in the answer (KEY's root is bound by the handshake's prologue);
 * the network name is the URL's; our admission verifies for our own id
 * and the address the inviter derived is ours; the admitter's record is
 * valid and may admit our role; every record's chain (trust_check)
 * against that root, and every revocation (revocation_check). Records
 * and revocations that fail are not written and are counted.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "keyd/join.h"
#include "keyd/keyd.h"
#include "proto/addr.h"
#include "proto/buf.h"
#include "proto/clock.h"
#include "proto/endpoint.h"
#include "proto/file.h"
#include "proto/invite.h"
#include "proto/log.h"
#include "proto/record.h"
#include "proto/socks5.h"
#include "proto/trust.h"
#include "proto/wire.h"

#define JC_RXBUF (WIRE_LEN_BYTES + 1 + JOIN_BODY_MAX + 4096)
#define JC_RETRY_S 1   /* after an exchange cut before REDEEM */
/* Cut before the inviter said anything: a member that has just come up
 * does that for a moment, and so does an inviter that does not hold
 * our invitation (issue 15: it answers a stranger nothing), which no
 * retry will change. So only a few. */
#define JC_SILENT_MAX 6

struct jc {
	int fd;
	double deadline;
	uint8_t *rx;
	size_t rx_len;
	char err[512];
};

/* ---- output ---- */

static void
emit(json_t *o)
{
	char *s;

	if (o == NULL)
		return;
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", s);
		fflush(stdout);
		free(s);
	}
	json_decref(o);
}

static int
fail(const char *msg)
{
	emit(json_pack("{s:s}", "error", msg));
	return 1;
}

/* ---- blocking I/O with one deadline ---- */

static int
wait_fd(struct jc *j, short ev)
{
	struct pollfd pfd;
	double left;
	int r;

	for (;;) {
		left = j->deadline - mono_now();
		if (left <= 0) {
			snprintf(j->err, sizeof(j->err), "no answer from the "
			    "inviter within %.0f s", JOIN_CLIENT_TIMEOUT);
			return -1;
		}
		pfd.fd = j->fd;
		pfd.events = ev;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(j->err, sizeof(j->err), "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (r > 0)
			return 0;
	}
}

/* One send (POLLOUT) or receive (POLLIN) within the deadline: the
 * bytes moved (0 from a receive: the stream ended), or -1 with
 * j->err. */
static ssize_t
io_once(struct jc *j, short ev, void *p, size_t n)
{
	ssize_t r;

	for (;;) {
		if (wait_fd(j, ev) == -1)
			return -1;
		r = ev == POLLOUT ? send(j->fd, p, n, MSG_NOSIGNAL |
		    MSG_DONTWAIT) : recv(j->fd, p, n, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r == -1)
			snprintf(j->err, sizeof(j->err), "%s the inviter: %s",
			    ev == POLLOUT ? "send to" : "receive from",
			    strerror(errno));
		return r;
	}
}

static int
write_all(struct jc *j, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = io_once(j, POLLOUT, (void *)p, n)) == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Some bytes into j->rx. -1 on error or end of stream. */
static int
read_more(struct jc *j)
{
	ssize_t r;

	if (j->rx_len == JC_RXBUF) {
		snprintf(j->err, sizeof(j->err), "the inviter sent too much");
		return -1;
	}
	r = io_once(j, POLLIN, j->rx + j->rx_len, JC_RXBUF - j->rx_len);
	if (r == -1)
		return -1;
	if (r == 0) {
		snprintf(j->err, sizeof(j->err), "the inviter closed the "
		    "connection without an answer (busy with other joins, or "
		    "not an onionmesh member: try again later)");
		return -1;
	}
	j->rx_len += (size_t)r;
	return 0;
}

static int
connect_wait(struct jc *j, const char *what)
{
	socklen_t sl = sizeof(int);
	int e = 0;

	if (wait_fd(j, POLLOUT) == -1)
		return -1;
	if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
		e = errno;
	if (e != 0) {
		snprintf(j->err, sizeof(j->err), "cannot connect to %s: %s",
		    what, strerror(e));
		return -1;
	}
	return 0;
}

/* "unix:PATH" or HOST:PORT (proto/endpoint.h), connected within the
 * deadline. */
static int
dial(struct jc *j, const char *addr)
{
	j->fd = endpoint_connect(addr, EP_NONBLOCK, NULL, 0, j->err,
	    sizeof(j->err));
	if (j->fd == -1)
		return -1;
	return connect_wait(j, addr);
}

/* SOCKS5 to onion:DEFAULT_PORT over j->fd (connected to tor), with a
 * fresh username/password: a circuit of its own. */
static int
socks(struct jc *j, const char *onion)
{
	struct socks5_client sc;
	uint8_t rnd[16];
	char user[33], pass[33];
	size_t used;
	int r;

	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(user, rnd, sizeof(rnd));
	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(pass, rnd, sizeof(rnd));
	r = socks5_client_init(&sc, onion, DEFAULT_PORT, user, pass);
	sodium_memzero(pass, sizeof(pass));
	if (r == -1) {
		snprintf(j->err, sizeof(j->err), "SOCKS: %s", sc.err);
		socks5_client_wipe(&sc);
		return -1;
	}
	for (;;) {
		if (sc.out_len > 0) {
			if (write_all(j, sc.out, sc.out_len) == -1)
				break;
			sc.out_len = 0;
		}
		if (j->rx_len == 0 && read_more(j) == -1)
			break;
		r = socks5_client_input(&sc, j->rx, j->rx_len, &used);
		memmove(j->rx, j->rx + used, j->rx_len - used);
		j->rx_len -= used;
		if (r == SOCKS5_OK) {
			socks5_client_wipe(&sc);
			return 0;
		}
		if (r == SOCKS5_ERROR) {
			snprintf(j->err, sizeof(j->err), "tor could not reach "
			    "the inviter's onion service: %s", sc.err);
			break;
		}
		if (used == 0 && sc.out_len == 0 && read_more(j) == -1)
			break;
	}
	socks5_client_wipe(&sc);
	return -1;
}

/* ---- the exchange ---- */

static int
jc_dh(void *arg, uint8_t out[NOISE_DHLEN], const uint8_t pub[NOISE_DHLEN])
{
	return keys_dh(out, pub);
}

static int
send_body(struct jc *j, const uint8_t *body, size_t n)
{
	uint8_t hdr[WIRE_LEN_BYTES + 1];

	be32_put(hdr, (uint32_t)n + 1);
	hdr[WIRE_LEN_BYTES] = WIRE_JOIN;
	if (write_all(j, hdr, sizeof(hdr)) == -1)
		return -1;
	return write_all(j, body, n);
}

/* The next WIRE_JOIN frame's body, copied to out. Length or -1. */
static int
recv_body(struct jc *j, uint8_t *out, size_t cap)
{
	struct wire_frame f;
	size_t flen;
	int r;

	for (;;) {
		r = wire_frame_peek(&f, j->rx, j->rx_len);
		if (r == -1 || (r == 1 && f.type != WIRE_JOIN)) {
			snprintf(j->err, sizeof(j->err), "the other end does "
			    "not speak the join protocol (is this an "
			    "onionmesh member?)");
			return -1;
		}
		if (r == 1)
			break;
		if (read_more(j) == -1)
			return -1;
	}
	if (f.body_len > cap) {
		snprintf(j->err, sizeof(j->err), "a frame from the inviter is "
		    "too big");
		return -1;
	}
	memcpy(out, f.body, f.body_len);
	r = (int)f.body_len;
	flen = f.frame_len;
	memmove(j->rx, j->rx + flen, j->rx_len - flen);
	j->rx_len -= flen;
	return r;
}

/* ---- checking what came ---- */

struct held {
	struct record *r;
	size_t *ti;                  /* index of each one's text */
	size_t n;
	struct revocation *v;
	size_t *vi;                  /* index of each one's text */
	size_t nv;
};

static const struct record *
held_lookup(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	struct held *h = arg;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (memcmp(h->r[i].id, id, MEMBER_ID_BYTES) == 0)
			return &h->r[i];
	return NULL;
}

static int
held_revoked(void *arg, const uint8_t id[MEMBER_ID_BYTES])
{
	struct held *h = arg;
	size_t i;

	for (i = 0; i < h->nv; i++)
		if (memcmp(h->v[i].revoked, id, MEMBER_ID_BYTES) == 0)
			return 1;
	return 0;
}

static int
ensure_dir(const char *dir, mode_t mode, char *err, size_t errlen)
{
	if (mkdir_p(dir, mode) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The answer is for us: the handshake's root, the invitation's
 * network, an admission for our own id and the IPv6 address of our
 * key. 0, or -1 with err. */
static int
admit_is_ours(const struct join_joiner *jj, const struct join_admit *a,
    char *err, size_t errlen)
{
	struct record mine;
	struct prefix v6;

	if (sodium_memcmp(a->root, jj->root, MEMBER_ID_BYTES) != 0) {
		snprintf(err, errlen, "the inviter's answer names another "
		    "root than its handshake");
		return -1;
	}
	if (strcmp(a->net, jj->net) != 0) {
		snprintf(err, errlen, "the inviter's network is '%s', the "
		    "invitation's '%s'", a->net, jj->net);
		return -1;
	}
	memset(&mine, 0, sizeof(mine));
	snprintf(mine.name, sizeof(mine.name), "%s", a->name);
	memcpy(mine.id, jj->id, MEMBER_ID_BYTES);
	mine.ipv4 = a->ipv4;
	mine.ipv6 = a->ipv6;
	mine.role = a->role;
	mine.admitted = 1;
	memcpy(mine.admitted_by, a->admitted_by, MEMBER_ID_BYTES);
	memcpy(mine.admission, a->admission, sizeof(mine.admission));
	memcpy(mine.admitted_subnets, a->subnets,
	    sizeof(mine.admitted_subnets));
	mine.nadmitted_subnets = a->nsubnets;
	if (admission_verify(&mine, jj->netid) != 0) {
		snprintf(err, errlen, "the admission does not verify for our "
		    "key");
		return -1;
	}
	ipv6_member_addr(&v6, jj->netid, jj->id);
	if (!prefix_equal(&v6, &a->ipv6)) {
		snprintf(err, errlen, "the inviter gave an IPv6 address that "
		    "is not derived from our key");
		return -1;
	}
	return 0;
}

/* The records that parse and verify (not ours) and the revocations
 * that check, into h; the rest counted in *nskip. 0, or -1 when out of
 * memory. */
static int
held_fill(struct held *h, const struct join_joiner *jj,
    const struct join_admit *a, size_t *nskip)
{
	char why[256];
	size_t i;

	if ((a->nrecords > 0 &&
	    ((h->r = calloc(a->nrecords, sizeof(*h->r))) == NULL ||
	    (h->ti = calloc(a->nrecords, sizeof(*h->ti))) == NULL)) ||
	    (a->nrevs > 0 &&
	    ((h->v = calloc(a->nrevs, sizeof(*h->v))) == NULL ||
	    (h->vi = calloc(a->nrevs, sizeof(*h->vi))) == NULL)))
		return -1;
	for (i = 0; i < a->nrecords; i++) {
		if (record_parse(&h->r[h->n], a->records[i].p,
		    a->records[i].len, why, sizeof(why)) == -1 ||
		    record_verify(&h->r[h->n], jj->netid) != 0 ||
		    memcmp(h->r[h->n].id, jj->id, MEMBER_ID_BYTES) == 0) {
			(*nskip)++;
			continue;
		}
		h->ti[h->n] = i;
		h->n++;
	}
	for (i = 0; i < a->nrevs; i++) {
		if (revocation_parse(&h->v[h->nv], a->revs[i].p,
		    a->revs[i].len, why, sizeof(why)) == -1 ||
		    revocation_check(&h->v[h->nv], a->root, jj->netid,
		    held_lookup, NULL, h, why, sizeof(why)) == -1) {
			(*nskip)++;
			continue;
		}
		h->vi[h->nv] = i;
		h->nv++;
	}
	return 0;
}

/* The admitter must be a valid member that may admit our role. */
static int
admitter_ok(struct held *h, const struct join_joiner *jj,
    const struct join_admit *a, char *err, size_t errlen)
{
	const struct record *adm;
	char why[256];

	adm = held_lookup(h, a->admitted_by);
	if (adm == NULL || trust_check(adm, a->root, jj->netid, held_lookup,
	    held_revoked, h, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "the inviter's own membership does not "
		    "check out (%s)", adm == NULL ? "its record is missing" :
		    why);
		return -1;
	}
	if (a->role == ROLE_ADMIN && memcmp(adm->id, a->root,
	    MEMBER_ID_BYTES) != 0 && adm->role != ROLE_ADMIN) {
		snprintf(err, errlen, "an admin admission from a member that "
		    "is not an admin");
		return -1;
	}
	if (memcmp(adm->id, a->root, MEMBER_ID_BYTES) != 0 &&
	    adm->role != ROLE_ADMIN && !trust_members_invite(a->root,
	    jj->netid, held_lookup, h)) {
		snprintf(err, errlen, "an admission from a plain member, and "
		    "the root does not let members invite");
		return -1;
	}
	return 0;
}

/* dir/name holds text. 0, or -1 with err. */
static int
write_in(const char *dir, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	char path[PATH_MAX + 80];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_write_atomic(path, text, len, 0644) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The grants that check against the records held into grants/, for
 * keyd to load before it checks the records' subnets (the others
 * counted in *nskip). 0, or -1 with err. */
static int
grants_write(const struct conf_paths *p, struct held *h,
    const struct join_joiner *jj, const struct join_admit *a,
    size_t *nskip, char *err, size_t errlen)
{
	char why[512], hex[2 * MEMBER_ID_BYTES + 1];
	struct grant g;
	size_t i, n = 0;

	if (a->ngrants > 0 && ensure_dir(p->grants_dir, 0755, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < a->ngrants; i++) {
		if (grant_parse(&g, a->grants[i].p, a->grants[i].len, why,
		    sizeof(why)) == -1 || held_revoked(h, g.member) ||
		    grant_check(&g, a->root, jj->netid, held_lookup,
		    held_revoked, h, why, sizeof(why)) == -1) {
			(*nskip)++;
			continue;
		}
		hex_encode(hex, g.member, MEMBER_ID_BYTES);
		if (write_in(p->grants_dir, hex, a->grants[i].p,
		    a->grants[i].len, err, errlen) == -1)
			return -1;
		n++;
	}
	if (n > 0)
		log_info("join: %zu grants kept", n);
	return 0;
}

/* The records whose chain holds into hosts/ (counted in *nrec, the
 * others in *nskip), every revocation into revoked/ (*nrev). 0, or -1
 * with err. */
static int
held_write(const struct conf_paths *p, struct held *h,
    const struct join_joiner *jj, const struct join_admit *a, size_t *nrec,
    size_t *nskip, size_t *nrev, char *err, size_t errlen)
{
	char why[256], hex[2 * MEMBER_ID_BYTES + 1];
	size_t i;

	if (ensure_dir(p->hosts_dir, 0755, err, errlen) == -1 ||
	    ensure_dir(p->revoked_dir, 0755, err, errlen) == -1)
		return -1;
	for (i = 0; i < h->n; i++) {
		if (trust_check(&h->r[i], a->root, jj->netid, held_lookup,
		    held_revoked, h, why, sizeof(why)) == -1 ||
		    strcmp(h->r[i].name, a->name) == 0) {
			log_info("join: record of %s not kept: %s",
			    h->r[i].name, why);
			(*nskip)++;
			continue;
		}
		if (write_in(p->hosts_dir, h->r[i].name,
		    a->records[h->ti[i]].p, a->records[h->ti[i]].len, err,
		    errlen) == -1)
			return -1;
		(*nrec)++;
	}
	for (i = 0; i < h->nv; i++) {
		hex_encode(hex, h->v[i].revoked, MEMBER_ID_BYTES);
		if (write_in(p->revoked_dir, hex, a->revs[h->vi[i]].p,
		    a->revs[h->vi[i]].len, err, errlen) == -1)
			return -1;
		(*nrev)++;
	}
	return grants_write(p, h, jj, a, nskip, err, errlen);
}

/*
 * Check the admission and everything with it; write the valid records
 * and revocations. 0, or -1 with err.
 */
static int
accept_admit(const struct conf_paths *p, const struct join_joiner *jj,
    const struct join_admit *a, size_t *nrec, size_t *nskip, size_t *nrev,
    char *err, size_t errlen)
{
	struct held h;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	*nrec = *nskip = *nrev = 0;
	if (admit_is_ours(jj, a, err, errlen) == -1)
		return -1;
	if (held_fill(&h, jj, a, nskip) == -1)
		snprintf(err, errlen, "out of memory");
	else if (admitter_ok(&h, jj, a, err, errlen) == 0 &&
	    held_write(p, &h, jj, a, nrec, nskip, nrev, err, errlen) == 0)
		rc = 0;
	free(h.r);
	free(h.ti);
	free(h.v);
	free(h.vi);
	return rc;
}

/*
 * Our own record, as keyd will build it from the config join writes
 * (records_own_build: same fields, serial 1), signed with the new key:
 * written to hosts/ and sent to the inviter (RECORD). In onion mode it
 * carries our onion address, so the inviter can dial us. 0 or -1.
 */
static int
own_record(const struct conf_paths *p, const struct join_joiner *jj,
    const struct join_admit *a, int onion, char *text, size_t cap,
    size_t *len, char *err, size_t errlen)
{
	struct record r;
	int n;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", a->name);
	memcpy(r.id, jj->id, MEMBER_ID_BYTES);
	if (onion) {
		if (keys_onion_load(p->keys_dir, err, errlen) == -1)
			return -1;
		snprintf(r.onion, sizeof(r.onion), "%s", keys_onion_addr());
		/* as records_own_build adds it (issue 15) */
		if (keys_client_auth_pub() != NULL) {
			memcpy(r.client_auth, keys_client_auth_pub(),
			    sizeof(r.client_auth));
			r.has_client_auth = 1;
		}
	}
	if (a->ipv4.family == 4) {
		r.ipv4 = a->ipv4;
		r.ipv4.len = 32;
	}
	r.ipv6 = a->ipv6;
	r.ipv6.len = 128;
	r.serial = 1;
	r.role = a->role;
	r.admitted = 1;
	memcpy(r.admitted_by, a->admitted_by, MEMBER_ID_BYTES);
	memcpy(r.admission, a->admission, sizeof(r.admission));
	memcpy(r.admitted_subnets, a->subnets, sizeof(r.admitted_subnets));
	r.nadmitted_subnets = a->nsubnets;
	if (keys_sign_record(&r, jj->netid) == -1 ||
	    (n = record_format(&r, text, cap, 1)) < 0) {
		snprintf(err, errlen, "cannot sign our own record");
		return -1;
	}
	*len = (size_t)n;
	return write_in(p->hosts_dir, r.name, text, *len, err, errlen);
}

static json_t *
admitted_json(const struct join_admit *a, const struct join_joiner *jj,
    size_t nrec, size_t nskip, size_t nrev)
{
	char v4[64] = "", v6[64], range[64] = "", root[65], by[65],
	    sig[129], id[65];
	json_t *subnets;
	int i;

	if (a->ipv4.family == 4)
		prefix_fmt(&a->ipv4, v4, sizeof(v4), 0);
	prefix_fmt(&a->ipv6, v6, sizeof(v6), 0);
	if (a->range4.family == 4)
		prefix_fmt(&a->range4, range, sizeof(range), 1);
	hex_encode(root, a->root, MEMBER_ID_BYTES);
	hex_encode(by, a->admitted_by, MEMBER_ID_BYTES);
	hex_encode(sig, a->admission, sizeof(a->admission));
	hex_encode(id, jj->id, MEMBER_ID_BYTES);
	/* The granted subnets, in the admission's (signed) order. */
	if ((subnets = json_array()) == NULL)
		return NULL;
	for (i = 0; i < a->nsubnets && i < RECORD_MAX_SUBNETS; i++)
		json_array_append_new(subnets, json_prefix(&a->subnets[i],
		    1));
	return json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:i,s:b,s:i,s:i,s:i,s:o}}", "admitted",
	    "name", a->name, "id", id, "ipv4", v4, "ipv6", v6,
	    "role", role_name(a->role), "root", root, "admitted_by", by,
	    "admission", sig, "net", a->net, "ipv4_range", range,
	    "mtu", (int)a->mtu, "anonymous", a->anonymous,
	    "records", (int)nrec, "skipped", (int)nskip,
	    "revocations", (int)nrev, "subnets", subnets);
}

/* What the URL and the flags allow. NULL, or why not (err may hold
 * it). */
static const char *
url_usable(const struct conf_paths *p, const char *url,
    struct invite_url *u, const char *tor_socks, int tcp, int anonymous,
    char *err, size_t errlen)
{
	if (invite_url_parse(u, url, err, errlen) == -1)
		return err;
	if (strcmp(u->net, p->net) != 0) {
		snprintf(err, errlen, "the invitation is for network "
		    "'%s', not '%s' (-n %s)", u->net, p->net, u->net);
		return err;
	}
	if (tcp && (u->tcp[0] == '\0' || anonymous))
		return anonymous ? "--tcp is refused in anonymous mode" :
		    "--tcp: the invitation has no tcp= endpoint";
	if (!tcp && u->onion[0] == '\0')
		return "the invitation has no onion address (the "
		    "inviter is reachable over TCP only: use --tcp)";
	if (!tcp && (tor_socks == NULL || tor_socks[0] == '\0'))
		return "no tor SocksPort to reach the onion address "
		    "(--tor-socks ADDR)";
	return NULL;
}

/* Reach the inviter: to (tcp) directly, or its onion through tor's
 * SocksPort. Tried again until the deadline: a fresh onion service is
 * unreachable for its first seconds and tor's first attempt often
 * fails. Nothing is redeemed before the connection stands, so a retry
 * costs nothing. 0, or -1 with j->err. */
static int
reach(struct jc *j, const char *to, const char *tor_socks,
    const char *onion, int tcp)
{
	int backoff;

	for (backoff = 1;; backoff = backoff * 2 > 8 ? 8 : backoff * 2) {
		j->err[0] = '\0';
		j->rx_len = 0;
		if (dial(j, tcp ? to : tor_socks) == 0 &&
		    (tcp || socks(j, onion) == 0))
			break;
		if (j->fd != -1)
			close(j->fd);
		j->fd = -1;
		if (mono_now() + backoff >= j->deadline)
			return -1;
		emit(json_pack("{s:s,s:s,s:i}", "event", "retrying",
		    "error", j->err, "in_s", backoff));
		sleep((unsigned)backoff);
	}
	emit(json_pack("{s:s}", "event", "connected"));
	return 0;
}

#define JC_CUT (-2)

/* The exchange up to the inviter's ADMIT. 0, -1 failed or JC_CUT (the
 * stream broke), with j->err; *redeemed once our REDEEM left. */
static int
exchange(struct jc *j, struct join_joiner *jj, uint8_t *body,
    int *redeemed)
{
	char hex[2 * MEMBER_ID_BYTES + 1];
	int n, r;

	for (;;) {
		while ((n = join_joiner_next(jj, body, JOIN_BODY_MAX)) > 0) {
			if (body[0] == JOIN_REDEEM) {
				emit(json_pack("{s:s}", "event",
				    "redeeming"));
				*redeemed = 1;
			}
			if (send_body(j, body, (size_t)n) == -1)
				return JC_CUT;
		}
		if (n == -1) {
			snprintf(j->err, sizeof(j->err), "%s", jj->why);
			return -1;
		}
		if ((n = recv_body(j, body, JOIN_BODY_MAX)) == -1) {
			/* An inviter answers nothing to a HELLO it cannot
			 * check (issue 15): say what that most likely
			 * means. */
			if (jj->state == JJ_KEY)
				snprintf(j->err, sizeof(j->err), "the inviter "
				    "closed the connection without an answer "
				    "to our invitation: it does not hold it (a "
				    "mistyped or partly copied URL, or one "
				    "another member made), or it is busy or "
				    "still starting");
			return JC_CUT;
		}
		r = join_joiner_input(jj, body, (size_t)n);
		if (r == -1) {
			snprintf(j->err, sizeof(j->err), "%s", jj->why);
			return -1;
		}
		if (jj->state == JJ_HS2 && body[0] == JOIN_KEY) {
			hex_encode(hex, jj->inviter, NOISE_DHLEN);
			emit(json_pack("{s:s,s:s}", "event", "inviter", "key",
			    hex));
		}
		if (r == 1)
			return 0;
	}
}

/* The ADMIT came: check and write it, say so, and send our record to
 * the inviter (it then knows us before our daemons start; admitted
 * either way, gossip carries the record later). The exit code. */
static int
admitted(const struct conf_paths *p, struct jc *j, struct join_joiner *jj,
    struct join_admit *a, uint8_t *body, int onion)
{
	static char own[RECORD_MAX_LEN + 1];
	char err[KEYD_ERRLEN];
	size_t own_len = 0, nrec = 0, nskip = 0, nrev = 0;
	int n;

	if (join_admit_decode(a, jj->admit, jj->admit_len, err,
	    sizeof(err)) == -1)
		return fail(err);
	if (a->status != JOIN_OK) {
		snprintf(err, sizeof(err), "the inviter refused: %s",
		    a->message[0] != '\0' ? a->message :
		    join_status_str(a->status));
		return fail(err);
	}
	if (accept_admit(p, jj, a, &nrec, &nskip, &nrev, err,
	    sizeof(err)) == -1 ||
	    own_record(p, jj, a, onion, own, sizeof(own), &own_len, err,
	    sizeof(err)) == -1)
		return fail(err);
	emit(admitted_json(a, jj, nrec, nskip, nrev));
	if (join_joiner_send_record(jj, own, own_len) == -1 ||
	    (n = join_joiner_next(jj, body, JOIN_BODY_MAX)) <= 0 ||
	    send_body(j, body, (size_t)n) == -1 ||
	    (n = recv_body(j, body, JOIN_BODY_MAX)) == -1 ||
	    join_joiner_input(jj, body, (size_t)n) != 2) {
		emit(json_pack("{s:s,s:b,s:s}", "event", "record", "kept", 0,
		    "message", j->err[0] != '\0' ? j->err : jj->why));
		return 0;
	}
	emit(json_pack("{s:s,s:b,s:s}", "event", "record", "kept",
	    jj->done_status == JOIN_OK, "message", jj->done_msg));
	return 0;
}

/* Connect and run the exchange until the ADMIT, starting over when the
 * stream breaks before our REDEEM left: nothing was used up, and a
 * member that has just come up closes links until its keyd has told
 * linkd who it is. After it, the secret may be spent and a retry would
 * only be told so. 0, or -1 with j->err. u (with the secret) is kept
 * until the end for those fresh starts. */
static int
connect_and_exchange(struct jc *j, struct join_joiner *jj,
    const struct invite_url *u, uint8_t *body, const char *to,
    const char *tor_socks, int tcp)
{
	int r, redeemed = 0, silent = 0;

	for (;;) {
		if (reach(j, to, tor_socks, u->onion, tcp) == -1)
			return -1;
		r = exchange(j, jj, body, &redeemed);
		if (r != JC_CUT)
			return r;
		if (jj->state == JJ_KEY)
			silent++;
		if (redeemed || silent >= JC_SILENT_MAX ||
		    mono_now() + JC_RETRY_S >= j->deadline)
			return -1;
		emit(json_pack("{s:s,s:s,s:i}", "event", "retrying",
		    "error", j->err[0] != '\0' ? j->err : "connection closed",
		    "in_s", JC_RETRY_S));
		close(j->fd);
		j->fd = -1;
		join_joiner_wipe(jj);
		join_joiner_init(jj, u, keys_id(), keys_dh_pub(), jc_dh,
		    NULL);
		sleep(JC_RETRY_S);
	}
}

int
join_client_run(const struct conf_paths *p, const char *url,
    const char *tor_socks, int tcp, int anonymous, int onion)
{
	static struct join_joiner jj;
	struct invite_url u;
	struct join_admit a;
	struct jc j;
	uint8_t *body = NULL;
	char err[KEYD_ERRLEN], to[400];
	const char *why;
	int rc;

	memset(&j, 0, sizeof(j));
	j.fd = -1;
	memset(&a, 0, sizeof(a));
	if ((why = url_usable(p, url, &u, tor_socks, tcp, anonymous, err,
	    sizeof(err))) != NULL ||
	    (keys_load(p->keys_dir, err, sizeof(err)) == -1 && (why = err))) {
		sodium_memzero(&u, sizeof(u));
		return fail(why);
	}
	if ((j.rx = malloc(JC_RXBUF)) == NULL ||
	    (body = malloc(JOIN_BODY_MAX)) == NULL) {
		free(j.rx);
		keys_wipe();
		return fail("out of memory");
	}
	join_joiner_init(&jj, &u, keys_id(), keys_dh_pub(), jc_dh, NULL);
	j.deadline = mono_now() + JOIN_CLIENT_TIMEOUT;
	if (tcp)
		snprintf(to, sizeof(to), "%s", u.tcp);
	else
		snprintf(to, sizeof(to), "%s:%d", u.onion, DEFAULT_PORT);
	emit(json_pack("{s:s,s:s,s:s}", "event", "connecting", "via",
	    tcp ? "tcp" : "tor", "to", to));
	if (connect_and_exchange(&j, &jj, &u, body, to, tor_socks,
	    tcp) == -1)
		rc = fail(j.err[0] != '\0' ? j.err : "the join failed");
	else
		rc = admitted(p, &j, &jj, &a, body, onion);
	sodium_memzero(&u, sizeof(u));
	join_admit_free(&a);
	join_joiner_wipe(&jj);
	if (j.fd != -1)
		close(j.fd);
	free(j.rx);
	free(body);
	keys_wipe();
	return rc;
}
