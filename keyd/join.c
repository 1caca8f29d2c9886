/*
 * The join exchange's two state machines and the admit blob's codec
 * (join.h has the protocol). No I/O here: join_serve.c and
 * join_client.c carry the frames, so the unit test and the fuzzer drive
 * the very code that runs.
 *
 * Everything read from the other side goes through proto/buf.h readers
 * or an exact length check first. The inviter side is the one strangers
 * reach: each state takes exactly one step and any other frame fails
 * the exchange, so a stranger can cost the inviter at most one DH pair
 * (msg1) per connection, and linkd bounds the connections.
 */
#include "keyd/join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/buf.h"
#include "proto/conf.h"
#include "proto/record.h"
#include "proto/trust.h"

/* ---- the admit blob ---- */

/* Optional prefix: u8 family (0, 4, 6) | u8 len | 16 bytes. */
static void
put_prefix(struct buf_w *w, const struct prefix *p)
{
	if (p->family != 0 && p->family != 4 && p->family != 6) {
		w->err = 1;
		return;
	}
	bw_u8(w, (uint8_t)p->family);
	bw_u8(w, p->len);
	bw_bytes(w, p->addr, 16);
}

static void
get_prefix(struct buf_r *r, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = br_u8(r);
	p->len = br_u8(r);
	br_bytes(r, p->addr, 16);
	if (r->err)
		return;
	if ((p->family == 0 && p->len != 0) ||
	    (p->family == 4 && p->len > 32) ||
	    (p->family == 6 && p->len > 128) ||
	    (p->family != 0 && p->family != 4 && p->family != 6))
		r->err = 1;
}

/* u8 count, then each prefix: a subnet (family 4 or 6, host bits
 * clear). 0, or -1 (r->err set). */
static int
get_subnets(struct buf_r *r, struct prefix *list, int *n)
{
	struct prefix m;
	int i, count = br_u8(r);

	*n = 0;
	if (r->err || count > RECORD_MAX_SUBNETS) {
		r->err = 1;
		return -1;
	}
	for (i = 0; i < count; i++) {
		get_prefix(r, &list[i]);
		m = list[i];
		prefix_mask(&m);
		if (r->err || list[i].family == 0 ||
		    !prefix_equal(&m, &list[i])) {
			r->err = 1;
			return -1;
		}
	}
	*n = count;
	return 0;
}

static size_t
admit_size(const struct join_admit *a)
{
	size_t n = 512 + RECORD_MAX_SUBNETS * 18, i;

	for (i = 0; i < a->nrecords; i++)
		n += 2 + a->records[i].len;
	for (i = 0; i < a->nrevs; i++)
		n += 2 + a->revs[i].len;
	for (i = 0; i < a->ngrants; i++)
		n += 2 + a->grants[i].len;
	return n;
}

static int
blob_finish(struct buf_w *w, uint8_t *buf, uint8_t **out, size_t *len)
{
	if (w->err) {
		sodium_memzero(buf, w->cap);
		free(buf);
		return -1;
	}
	*out = buf;
	*len = w->len;
	return 0;
}

/* count (u32) then that many u16-length texts, each 1..maxlen */
static void
put_texts(struct buf_w *w, const struct join_text *v, size_t n,
    size_t maxlen)
{
	size_t i;

	bw_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if (v[i].len == 0 || v[i].len > maxlen)
			w->err = 1;
		bw_blob16(w, v[i].p, v[i].len);
	}
}

int
join_admit_encode(const struct join_admit *a, uint8_t **out, size_t *len)
{
	struct buf_w w;
	uint8_t *buf;
	size_t cap, i;

	*out = NULL;
	*len = 0;
	if (a->status != JOIN_OK)
		return join_admit_encode_error(a->status, a->message, out,
		    len);
	if (a->nrecords > JOIN_MAX_TEXTS || a->nrevs > JOIN_MAX_TEXTS ||
	    a->ngrants > JOIN_MAX_TEXTS ||
	    !name_valid(a->name) || !name_valid(a->net) ||
	    (a->role != ROLE_MEMBER && a->role != ROLE_ADMIN) ||
	    a->ipv6.family != 6)
		return -1;
	cap = admit_size(a);
	if (cap > JOIN_ADMIT_MAX)
		return -1;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	bw_init(&w, buf, cap);
	bw_u8(&w, JOIN_OK);
	bw_str(&w, a->name);
	put_prefix(&w, &a->ipv4);
	put_prefix(&w, &a->ipv6);
	bw_u8(&w, (uint8_t)a->role);
	bw_bytes(&w, a->admitted_by, sizeof(a->admitted_by));
	bw_bytes(&w, a->admission, sizeof(a->admission));
	if (a->nsubnets < 0 || a->nsubnets > RECORD_MAX_SUBNETS)
		w.err = 1;
	bw_u8(&w, (uint8_t)a->nsubnets);
	for (i = 0; i < (size_t)a->nsubnets && !w.err; i++)
		put_prefix(&w, &a->subnets[i]);
	bw_bytes(&w, a->root, sizeof(a->root));
	bw_str(&w, a->net);
	put_prefix(&w, &a->range4);
	bw_u32(&w, a->mtu);
	bw_u8(&w, a->anonymous ? 1 : 0);
	put_texts(&w, a->records, a->nrecords, RECORD_MAX_LEN);
	put_texts(&w, a->revs, a->nrevs, REVOCATION_MAX_LEN);
	put_texts(&w, a->grants, a->ngrants, GRANT_MAX_LEN);
	return blob_finish(&w, buf, out, len);
}

int
join_admit_encode_error(uint8_t status, const char *message, uint8_t **out,
    size_t *len)
{
	struct buf_w w;
	uint8_t *buf;
	char msg[JOIN_MSG_MAX + 1];

	*out = NULL;
	*len = 0;
	if (status == JOIN_OK)
		return -1;
	snprintf(msg, sizeof(msg), "%s", message != NULL ? message : "");
	if ((buf = malloc(4 + sizeof(msg))) == NULL)
		return -1;
	bw_init(&w, buf, 4 + sizeof(msg));
	bw_u8(&w, status);
	bw_str(&w, msg);
	return blob_finish(&w, buf, out, len);
}

/* count (u32, bounded) then that many u16-length texts */
static int
get_texts(struct buf_r *r, struct join_text **v, size_t *n, size_t maxlen)
{
	uint32_t count = br_u32(r);
	const uint8_t *p;
	size_t i, len;

	*v = NULL;
	*n = 0;
	if (r->err)
		return -1;
	/* each text takes at least 3 bytes: a count beyond what is left
	 * is a lie, refused before allocating for it */
	if (count > JOIN_MAX_TEXTS || count > br_left(r) / 3) {
		r->err = 1;
		return -1;
	}
	if (count == 0)
		return 0;
	if ((*v = calloc(count, sizeof(**v))) == NULL) {
		r->err = 1;
		return -1;
	}
	for (i = 0; i < count; i++) {
		p = br_blob16(r, &len);
		if (p == NULL || len == 0 || len > maxlen) {
			r->err = 1;
			return -1;
		}
		(*v)[i].p = (const char *)p;
		(*v)[i].len = len;
		*n = i + 1;
	}
	return 0;
}

int
join_admit_decode(struct join_admit *a, const uint8_t *p, size_t n,
    char *err, size_t errlen)
{
	struct buf_r r;
	const char *what = "status";
	size_t i;

	memset(a, 0, sizeof(*a));
	br_init(&r, p, n);
	a->status = br_u8(&r);
	if (r.err)
		goto bad;
	if (a->status != JOIN_OK) {
		what = "refusal text";
		br_str(&r, a->message, sizeof(a->message));
		if (br_done(&r) == -1)
			goto bad;
		/* shown to a person: printable ASCII only */
		for (i = 0; a->message[i] != '\0'; i++)
			if (a->message[i] < 0x20 || a->message[i] > 0x7e)
				a->message[i] = '?';
		return 0;
	}
	what = "name";
	br_str(&r, a->name, sizeof(a->name));
	if (r.err || !name_valid(a->name))
		goto bad;
	what = "addresses";
	get_prefix(&r, &a->ipv4);
	get_prefix(&r, &a->ipv6);
	if (r.err || (a->ipv4.family != 0 && a->ipv4.family != 4) ||
	    a->ipv6.family != 6)
		goto bad;
	what = "role";
	a->role = br_u8(&r);
	if (r.err || (a->role != ROLE_MEMBER && a->role != ROLE_ADMIN))
		goto bad;
	what = "admission";
	br_bytes(&r, a->admitted_by, sizeof(a->admitted_by));
	br_bytes(&r, a->admission, sizeof(a->admission));
	what = "granted subnets";
	if (get_subnets(&r, a->subnets, &a->nsubnets) == -1)
		goto bad;
	what = "root";
	br_bytes(&r, a->root, sizeof(a->root));
	if (r.err)
		goto bad;
	what = "network name";
	br_str(&r, a->net, sizeof(a->net));
	if (r.err || !name_valid(a->net))
		goto bad;
	what = "network settings";
	get_prefix(&r, &a->range4);
	a->mtu = br_u32(&r);
	a->anonymous = br_u8(&r);
	if (r.err || (a->range4.family != 0 && a->range4.family != 4) ||
	    a->anonymous > 1 || a->mtu < 1280 || a->mtu > 65535)
		goto bad;
	what = "records";
	if (get_texts(&r, &a->records, &a->nrecords, RECORD_MAX_LEN) == -1)
		goto bad;
	what = "revocations";
	if (get_texts(&r, &a->revs, &a->nrevs, REVOCATION_MAX_LEN) == -1)
		goto bad;
	what = "grants";
	if (get_texts(&r, &a->grants, &a->ngrants, GRANT_MAX_LEN) == -1)
		goto bad;
	what = "trailing bytes";
	if (br_done(&r) == -1)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "the inviter's answer is malformed (%s)",
	    what);
	return -1;
}

void
join_admit_free(struct join_admit *a)
{
	free(a->records);
	free(a->revs);
	free(a->grants);
	a->records = a->revs = a->grants = NULL;
	a->nrecords = a->nrevs = a->ngrants = 0;
}

const char *
join_status_str(uint8_t status)
{
	switch (status) {
	case JOIN_OK:
		return "ok";
	case JOIN_E_INVALID:
		return "invalid invitation";
	case JOIN_E_EXPIRED:
		return "expired";
	case JOIN_E_USED:
		return "already used";
	default:
		return "refused";
	}
}

size_t
join_prologue(uint8_t out[JOIN_PROLOGUE_MAX],
    const uint8_t netid[NETID_BYTES])
{
	memcpy(out, JOIN_PROLOGUE, sizeof(JOIN_PROLOGUE) - 1);
	memcpy(out + sizeof(JOIN_PROLOGUE) - 1, netid, NETID_BYTES);
	return JOIN_PROLOGUE_MAX;
}

/* ---- inviter ---- */

static int
ji_fail(struct join_inviter *s, const char *why)
{
	s->state = JI_FAILED;
	s->why = why;
	noise_hs_wipe(&s->hs);
	sodium_memzero(&s->c1, sizeof(s->c1));
	sodium_memzero(&s->c2, sizeof(s->c2));
	if (s->blob != NULL) {
		sodium_memzero(s->blob, s->blob_len);
		free(s->blob);
		s->blob = NULL;
	}
	s->pend_len = 0;
	return -1;
}

void
join_inviter_init(struct join_inviter *s, const uint8_t dh_pub[NOISE_DHLEN],
    const uint8_t root[MEMBER_ID_BYTES],
    const uint8_t netid[NETID_BYTES], noise_dh_fn dh, void *dh_arg,
    join_redeem_fn redeem, void *redeem_arg)
{
	memset(s, 0, sizeof(*s));
	s->state = JI_HELLO;
	memcpy(s->dh_pub, dh_pub, NOISE_DHLEN);
	memcpy(s->root, root, MEMBER_ID_BYTES);
	s->prologue_len = join_prologue(s->prologue, netid);
	s->dh = dh;
	s->dh_arg = dh_arg;
	s->redeem = redeem;
	s->redeem_arg = redeem_arg;
}

void
join_inviter_set_record(struct join_inviter *s, join_record_fn fn)
{
	s->record = fn;
}

void
join_inviter_set_hello(struct join_inviter *s, join_hello_fn fn)
{
	s->hello = fn;
}

static int
ji_hello(struct join_inviter *s, const uint8_t *d, size_t n)
{
	if (n < 1 || d[0] != JOIN_VERSION)
		return ji_fail(s, "HELLO: unknown version");
	if (n != JOIN_HELLO_LEN - 1)
		return ji_fail(s, "HELLO: wrong length");
	/* Before anything is said: does it hold an invitation? */
	if (s->hello == NULL || s->hello(s->redeem_arg, d + 1,
	    d + 1 + INVITE_ID_BYTES) != 1) {
		s->hello_refused = 1;
		return ji_fail(s, "HELLO: no invitation of ours (a stranger; "
		    "nothing answered)");
	}
	s->pend[0] = JOIN_KEY;
	memcpy(s->pend + 1, s->dh_pub, NOISE_DHLEN);
	memcpy(s->pend + 1 + NOISE_DHLEN, s->root, MEMBER_ID_BYTES);
	s->pend_len = 1 + NOISE_DHLEN + MEMBER_ID_BYTES;
	s->state = JI_HS1;
	return 0;
}

static int
ji_hs1(struct join_inviter *s, const uint8_t *d, size_t n)
{
	uint8_t jid[MEMBER_ID_BYTES + 1], x[NOISE_DHLEN];
	int plen, m;

	if (n != NOISE_MSG1_OVERHEAD + MEMBER_ID_BYTES)
		return ji_fail(s, "HS1: wrong length");
	if (noise_hs_init(&s->hs, 0, s->prologue, s->prologue_len,
	    s->dh_pub, NULL, s->dh, s->dh_arg) == -1)
		return ji_fail(s, "HS1: handshake set-up failed");
	plen = noise_read_msg1(&s->hs, d, n, jid, sizeof(jid));
	if (plen != MEMBER_ID_BYTES)
		return ji_fail(s, "HS1: handshake failed");
	/* The id it claims must be the key it proved in the handshake. */
	if (crypto_sign_ed25519_pk_to_curve25519(x, jid) != 0 ||
	    crypto_verify_32(x, s->hs.rs) != 0)
		return ji_fail(s, "HS1: the joiner's id is not its key");
	memcpy(s->joiner_id, jid, MEMBER_ID_BYTES);
	s->pend[0] = JOIN_HS2;
	m = noise_write_msg2(&s->hs, NULL, 0, s->pend + 1,
	    sizeof(s->pend) - 1);
	if (m != NOISE_MSG2_OVERHEAD)
		return ji_fail(s, "HS2: handshake failed");
	s->pend_len = 1 + (size_t)m;
	noise_split(&s->hs, &s->c1, &s->c2);
	s->state = JI_REDEEM;
	return 0;
}

static int
ji_redeem(struct join_inviter *s, const uint8_t *d, size_t n)
{
	uint8_t pt[JOIN_REDEEM_LEN], ad = JOIN_REDEEM;
	int r;

	if (n != JOIN_REDEEM_LEN + NOISE_TAGLEN)
		return ji_fail(s, "REDEEM: wrong length");
	if (noise_decrypt(s->c1.k, 0, &ad, 1, d, n, pt) != JOIN_REDEEM_LEN)
		return ji_fail(s, "REDEEM: does not decrypt (a replay or "
		    "not for this exchange)");
	r = s->redeem(s->redeem_arg, s->joiner_id, pt,
	    pt + INVITE_ID_BYTES, &s->blob, &s->blob_len);
	sodium_memzero(pt, sizeof(pt));
	if (r == -1 || s->blob == NULL || s->blob_len == 0)
		return ji_fail(s, "REDEEM: no answer to send");
	s->admit_ok = s->blob[0] == JOIN_OK;
	s->blob_off = 0;
	s->chunk_n = 0;
	s->state = JI_ADMIT;
	return 0;
}

/* The joiner's own record: hand it over, answer DONE, end. */
static int
ji_record(struct join_inviter *s, const uint8_t *d, size_t n)
{
	uint8_t ad = JOIN_RECORD, pt[1 + JOIN_MSG_MAX];
	char *text, msg[JOIN_MSG_MAX + 1] = "";
	size_t mlen;
	int m, r = 0;

	if (n <= NOISE_TAGLEN || n > RECORD_MAX_LEN + NOISE_TAGLEN)
		return ji_fail(s, "RECORD: wrong length");
	if ((text = malloc(n)) == NULL)
		return ji_fail(s, "out of memory");
	m = noise_decrypt(s->c1.k, 1, &ad, 1, d, n, (uint8_t *)text);
	if (m < 1) {
		free(text);
		return ji_fail(s, "RECORD: does not decrypt");
	}
	if (s->record != NULL)
		r = s->record(s->redeem_arg, s->joiner_id, text, (size_t)m,
		    msg, sizeof(msg));
	free(text);
	s->record_kept = r == 0;
	mlen = strnlen(msg, JOIN_MSG_MAX);
	pt[0] = r == 0 ? JOIN_OK : JOIN_E_REFUSED;
	memcpy(pt + 1, msg, mlen);
	ad = JOIN_DONE;
	s->pend[0] = JOIN_DONE;
	m = noise_encrypt(s->c2.k, s->chunk_n, &ad, 1, pt, 1 + mlen,
	    s->pend + 1);
	if (m == -1)
		return ji_fail(s, "DONE: encryption failed");
	s->chunk_n++;
	s->pend_len = 1 + (size_t)m;
	s->pend_last = 1;
	s->state = JI_DONE;
	sodium_memzero(&s->c1, sizeof(s->c1));
	sodium_memzero(&s->c2, sizeof(s->c2));
	return 0;
}

/* What the inviter takes in each state: one kind of frame, one step. */
static const struct {
	enum join_inviter_state state;
	uint8_t frame;
	int (*fn)(struct join_inviter *, const uint8_t *, size_t);
} ji_steps[] = {
	{ JI_HELLO,  JOIN_HELLO,  ji_hello },
	{ JI_HS1,    JOIN_HS1,    ji_hs1 },
	{ JI_REDEEM, JOIN_REDEEM, ji_redeem },
	{ JI_RECORD, JOIN_RECORD, ji_record },
};

int
join_inviter_input(struct join_inviter *s, const uint8_t *body, size_t len)
{
	size_t i;

	if (s->state == JI_FAILED)
		return -1;
	if (len < 1 || len > JOIN_BODY_MAX)
		return ji_fail(s, "frame of a bad length");
	/* One frame at a time: the previous answer must be taken first. */
	if (s->pend_len != 0)
		return ji_fail(s, "frame before the answer was sent");
	for (i = 0; i < sizeof(ji_steps) / sizeof(ji_steps[0]); i++)
		if (ji_steps[i].state == s->state &&
		    ji_steps[i].frame == body[0])
			return ji_steps[i].fn(s, body + 1, len - 1);
	return ji_fail(s, "unexpected frame");
}

int
join_inviter_next(struct join_inviter *s, uint8_t *out, size_t cap,
    int *last)
{
	uint8_t *pt, ad = JOIN_ADMIT;
	size_t chunk;
	int n;

	*last = 0;
	if (s->state == JI_FAILED)
		return -1;
	if (s->pend_len > 0) {
		if (cap < s->pend_len)
			return -1;
		memcpy(out, s->pend, s->pend_len);
		n = (int)s->pend_len;
		s->pend_len = 0;
		*last = s->pend_last;
		return n;
	}
	if (s->state != JI_ADMIT)
		return 0;
	if (cap < JOIN_BODY_MAX)
		return -1;
	chunk = s->blob_len - s->blob_off;
	if (chunk > JOIN_CHUNK_MAX)
		chunk = JOIN_CHUNK_MAX;
	if ((pt = malloc(1 + chunk)) == NULL)
		return ji_fail(s, "out of memory");
	pt[0] = s->blob_off + chunk < s->blob_len;
	memcpy(pt + 1, s->blob + s->blob_off, chunk);
	out[0] = JOIN_ADMIT;
	n = noise_encrypt(s->c2.k, s->chunk_n, &ad, 1, pt, 1 + chunk,
	    out + 1);
	sodium_memzero(pt, 1 + chunk);
	free(pt);
	if (n == -1)
		return ji_fail(s, "ADMIT: encryption failed");
	s->chunk_n++;
	s->blob_off += chunk;
	if (s->blob_off == s->blob_len) {
		sodium_memzero(s->blob, s->blob_len);
		free(s->blob);
		s->blob = NULL;
		if (s->admit_ok) {
			/* the newcomer's record comes next */
			s->state = JI_RECORD;
		} else {
			*last = 1;
			s->state = JI_DONE;
			sodium_memzero(&s->c1, sizeof(s->c1));
			sodium_memzero(&s->c2, sizeof(s->c2));
		}
	}
	return 1 + n;
}

void
join_inviter_wipe(struct join_inviter *s)
{
	if (s->blob != NULL) {
		sodium_memzero(s->blob, s->blob_len);
		free(s->blob);
	}
	noise_hs_wipe(&s->hs);
	sodium_memzero(s, sizeof(*s));
	s->state = JI_FAILED;
}

/* ---- joiner ---- */

static int
jj_fail(struct join_joiner *s, const char *fmt, const char *arg)
{
	s->state = JJ_FAILED;
	snprintf(s->why, sizeof(s->why), fmt, arg);
	noise_hs_wipe(&s->hs);
	sodium_memzero(&s->c1, sizeof(s->c1));
	sodium_memzero(&s->c2, sizeof(s->c2));
	sodium_memzero(s->secret, sizeof(s->secret));
	s->pend_len = 0;
	return -1;
}

void
join_joiner_init(struct join_joiner *s, const struct invite_url *u,
    const uint8_t id[MEMBER_ID_BYTES], const uint8_t dh_pub[NOISE_DHLEN],
    noise_dh_fn dh, void *dh_arg)
{
	uint8_t h[32];

	memset(s, 0, sizeof(*s));
	s->state = JJ_START;
	snprintf(s->net, sizeof(s->net), "%s", u->net);
	memcpy(s->keyhash, u->keyhash, sizeof(s->keyhash));
	memcpy(s->invite_id, u->id, sizeof(s->invite_id));
	memcpy(s->secret, u->secret, sizeof(s->secret));
	memcpy(s->id, id, MEMBER_ID_BYTES);
	memcpy(s->dh_pub, dh_pub, NOISE_DHLEN);
	s->dh = dh;
	s->dh_arg = dh_arg;
	s->pend[0] = JOIN_HELLO;
	s->pend[1] = JOIN_VERSION;
	memcpy(s->pend + 2, s->invite_id, INVITE_ID_BYTES);
	invite_secret_hash(h, s->secret);
	invite_hello_mac(s->pend + 2 + INVITE_ID_BYTES, h, s->invite_id);
	sodium_memzero(h, sizeof(h));
	s->pend_len = JOIN_HELLO_LEN;
	s->state = JJ_KEY;
}

static int
jj_key(struct join_joiner *s, const uint8_t *d, size_t n)
{
	uint8_t kh[INVITE_KEYHASH_BYTES], rs[NOISE_DHLEN];
	uint8_t prologue[JOIN_PROLOGUE_MAX];
	size_t plen;
	int m;

	if (n != NOISE_DHLEN + MEMBER_ID_BYTES)
		return jj_fail(s, "%s", "the inviter's key message has a "
		    "wrong length");
	invite_keyhash(kh, d);
	if (crypto_verify_16(kh, s->keyhash) != 0)
		return jj_fail(s, "%s", "the inviter's key does not match "
		    "the invitation's key hash (wrong or tampered URL, or "
		    "not the inviter)");
	memcpy(s->inviter, d, NOISE_DHLEN);
	memcpy(s->root, d + NOISE_DHLEN, MEMBER_ID_BYTES);
	memcpy(rs, s->inviter, NOISE_DHLEN);
	netid_derive(s->netid, s->net, s->root);
	plen = join_prologue(prologue, s->netid);
	if (noise_hs_init(&s->hs, 1, prologue, plen, s->dh_pub, rs, s->dh,
	    s->dh_arg) == -1)
		return jj_fail(s, "%s", "handshake set-up failed");
	s->pend[0] = JOIN_HS1;
	m = noise_write_msg1(&s->hs, s->id, MEMBER_ID_BYTES, s->pend + 1,
	    sizeof(s->pend) - 1);
	if (m != NOISE_MSG1_OVERHEAD + MEMBER_ID_BYTES)
		return jj_fail(s, "%s", "handshake failed (our key)");
	s->pend_len = 1 + (size_t)m;
	s->state = JJ_HS2;
	return 0;
}

static int
jj_hs2(struct join_joiner *s, const uint8_t *d, size_t n)
{
	uint8_t pt[JOIN_REDEEM_LEN], ad = JOIN_REDEEM, dummy[1];
	int m;

	if (n != NOISE_MSG2_OVERHEAD ||
	    noise_read_msg2(&s->hs, d, n, dummy, sizeof(dummy)) != 0)
		return jj_fail(s, "%s", "the handshake with the inviter "
		    "failed (another network's root, or not the inviter)");
	noise_split(&s->hs, &s->c1, &s->c2);
	memcpy(pt, s->invite_id, INVITE_ID_BYTES);
	memcpy(pt + INVITE_ID_BYTES, s->secret, INVITE_SECRET_BYTES);
	s->pend[0] = JOIN_REDEEM;
	m = noise_encrypt(s->c1.k, 0, &ad, 1, pt, sizeof(pt), s->pend + 1);
	sodium_memzero(pt, sizeof(pt));
	sodium_memzero(s->secret, sizeof(s->secret));
	if (m != JOIN_REDEEM_LEN + NOISE_TAGLEN)
		return jj_fail(s, "%s", "encryption failed");
	s->pend_len = 1 + (size_t)m;
	s->state = JJ_ADMIT;
	return 0;
}

static int
jj_admit(struct join_joiner *s, const uint8_t *d, size_t n)
{
	uint8_t *pt, ad = JOIN_ADMIT, *nb;
	size_t chunk, ncap;
	int m, more;

	if (n < 1 + NOISE_TAGLEN || n > JOIN_BODY_MAX - 1)
		return jj_fail(s, "%s", "an admission chunk has a wrong "
		    "length");
	if ((pt = malloc(n)) == NULL)
		return jj_fail(s, "%s", "out of memory");
	m = noise_decrypt(s->c2.k, s->rx_n, &ad, 1, d, n, pt);
	if (m < 1) {
		free(pt);
		return jj_fail(s, "%s", "an admission chunk does not "
		    "decrypt");
	}
	s->rx_n++;
	more = pt[0];
	chunk = (size_t)m - 1;
	if (more > 1 || s->admit_len + chunk > JOIN_ADMIT_MAX) {
		free(pt);
		return jj_fail(s, "%s", "the admission is malformed or too "
		    "big");
	}
	if (s->admit_len + chunk > s->admit_cap) {
		ncap = s->admit_cap == 0 ? 65536 : s->admit_cap;
		while (ncap < s->admit_len + chunk)
			ncap *= 2;
		if ((nb = realloc(s->admit, ncap)) == NULL) {
			free(pt);
			return jj_fail(s, "%s", "out of memory");
		}
		s->admit = nb;
		s->admit_cap = ncap;
	}
	if (chunk > 0)
		memcpy(s->admit + s->admit_len, pt + 1, chunk);
	s->admit_len += chunk;
	free(pt);
	if (more)
		return 0;
	if (s->admit_len == 0)
		return jj_fail(s, "%s", "the admission is empty");
	s->state = JJ_DONE;
	return 1;
}

int
join_joiner_send_record(struct join_joiner *s, const char *text, size_t len)
{
	uint8_t ad = JOIN_RECORD;
	int m;

	if (s->state != JJ_DONE || len == 0 || len > RECORD_MAX_LEN)
		return -1;
	if ((s->rec_frame = malloc(1 + len + NOISE_TAGLEN)) == NULL)
		return -1;
	s->rec_frame[0] = JOIN_RECORD;
	m = noise_encrypt(s->c1.k, 1, &ad, 1, (const uint8_t *)text, len,
	    s->rec_frame + 1);
	if (m == -1) {
		free(s->rec_frame);
		s->rec_frame = NULL;
		return -1;
	}
	s->rec_len = 1 + (size_t)m;
	s->state = JJ_RECORD;
	return 0;
}

static int
jj_done(struct join_joiner *s, const uint8_t *d, size_t n)
{
	uint8_t ad = JOIN_DONE, pt[1 + JOIN_MSG_MAX];
	size_t i;
	int m;

	if (n <= NOISE_TAGLEN || n > sizeof(pt) + NOISE_TAGLEN)
		return jj_fail(s, "%s", "the inviter's last message has a "
		    "wrong length");
	m = noise_decrypt(s->c2.k, s->rx_n, &ad, 1, d, n, pt);
	if (m < 1)
		return jj_fail(s, "%s", "the inviter's last message does "
		    "not decrypt");
	s->done_status = pt[0];
	for (i = 0; i + 1 < (size_t)m; i++)
		s->done_msg[i] = pt[1 + i] >= 0x20 && pt[1 + i] <= 0x7e ?
		    (char)pt[1 + i] : '?';
	s->done_msg[i] = '\0';
	s->state = JJ_FINISHED;
	sodium_memzero(&s->c1, sizeof(s->c1));
	sodium_memzero(&s->c2, sizeof(s->c2));
	return 2;
}

/* What the joiner takes in each state: one kind of frame, one step. */
static const struct {
	enum join_joiner_state state;
	uint8_t frame;
	int (*fn)(struct join_joiner *, const uint8_t *, size_t);
} jj_steps[] = {
	{ JJ_KEY,    JOIN_KEY,   jj_key },
	{ JJ_HS2,    JOIN_HS2,   jj_hs2 },
	{ JJ_ADMIT,  JOIN_ADMIT, jj_admit },
	{ JJ_RECORD, JOIN_DONE,  jj_done },
};

int
join_joiner_input(struct join_joiner *s, const uint8_t *body, size_t len)
{
	size_t i;

	if (s->state == JJ_FAILED)
		return -1;
	if (len < 1 || len > JOIN_BODY_MAX)
		return jj_fail(s, "%s", "the inviter sent a frame of a bad "
		    "length");
	if (s->pend_len != 0)
		return jj_fail(s, "%s", "the inviter sent a frame out of "
		    "turn");
	/* Our record still to send: nothing may come before it left. */
	for (i = 0; s->rec_frame == NULL &&
	    i < sizeof(jj_steps) / sizeof(jj_steps[0]); i++)
		if (jj_steps[i].state == s->state &&
		    jj_steps[i].frame == body[0])
			return jj_steps[i].fn(s, body + 1, len - 1);
	return jj_fail(s, "the inviter sent an unexpected frame (step %s)",
	    body[0] == JOIN_KEY ? "KEY" : body[0] == JOIN_HS2 ? "HS2" :
	    body[0] == JOIN_ADMIT ? "ADMIT" : body[0] == JOIN_DONE ? "DONE" :
	    "unknown");
}

int
join_joiner_next(struct join_joiner *s, uint8_t *out, size_t cap)
{
	int n;

	if (s->state == JJ_FAILED)
		return -1;
	if (s->rec_frame != NULL) {
		if (cap < s->rec_len)
			return -1;
		memcpy(out, s->rec_frame, s->rec_len);
		n = (int)s->rec_len;
		free(s->rec_frame);
		s->rec_frame = NULL;
		return n;
	}
	if (s->pend_len == 0)
		return 0;
	if (cap < s->pend_len)
		return -1;
	memcpy(out, s->pend, s->pend_len);
	n = (int)s->pend_len;
	s->pend_len = 0;
	return n;
}

void
join_joiner_wipe(struct join_joiner *s)
{
	free(s->rec_frame);
	if (s->admit != NULL) {
		sodium_memzero(s->admit, s->admit_len);
		free(s->admit);
	}
	noise_hs_wipe(&s->hs);
	sodium_memzero(s, sizeof(*s));
	s->state = JJ_FAILED;
}
