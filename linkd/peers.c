/*
 * The members linkd knows, as keyd sends them (MSG_SELF, MSG_RECORD...,
 * MSG_SYNC_DONE), and what linkd keeps per member: its X25519 key for
 * handshakes, the newest handshake timestamp (replay check), its links
 * and the multipath scheduler over them, and whether to dial it.
 *
 * keyd resends every record after each change and on every reconnect,
 * starting with MSG_SELF; a member not resent by MSG_SYNC_DONE is gone
 * (mark and sweep on a sync epoch). Links to members that stay survive a
 * resend untouched, so a keyd restart costs no traffic.
 *
 * Members are found by id for every packet (the fib names the member),
 * so ids are hashed; by X25519 key only at handshake time, a list walk.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkd/linkd.h"
#include "proto/log.h"

static unsigned
id_hash(const uint8_t id[MEMBER_ID_BYTES])
{
	/* Ids are public keys: their bytes are already uniform. */
	return ((unsigned)id[0] | (unsigned)id[1] << 8) & (PEERS_HASH - 1);
}

void
peers_init(struct linkd *ld)
{
	TAILQ_INIT(&ld->peers);
	memset(ld->hash, 0, sizeof(ld->hash));
	ld->npeers = 0;
}

struct peer *
peers_find(struct linkd *ld, const uint8_t id[MEMBER_ID_BYTES])
{
	struct peer *p;

	for (p = ld->hash[id_hash(id)]; p != NULL; p = p->hnext)
		if (crypto_verify_32(p->rec.id, id) == 0)
			return p;
	return NULL;
}

struct peer *
peers_find_dh(struct linkd *ld, const uint8_t dh[NOISE_DHLEN])
{
	struct peer *p;

	TAILQ_FOREACH(p, &ld->peers, entry)
		if (crypto_verify_32(p->dh, dh) == 0)
			return p;
	return NULL;
}

static int
endpoints_differ(const struct record *a, const struct record *b)
{
	int i;

	if (a->ntcp != b->ntcp)
		return 1;
	for (i = 0; i < a->ntcp; i++)
		if (strcmp(a->tcp[i], b->tcp[i]) != 0)
			return 1;
	return 0;
}

struct peer *
peers_update(struct linkd *ld, const struct record *r)
{
	struct peer *p;
	unsigned h;
	int moved = 0;

	if (ld->self_known && crypto_verify_32(r->id, ld->self_id) == 0) {
		ld->self_rec = *r;
		ld->have_self_rec = 1;
		return NULL;
	}
	if ((p = peers_find(ld, r->id)) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			log_warnx("member %s: out of memory", r->name);
			return NULL;
		}
		if (crypto_sign_ed25519_pk_to_curve25519(p->dh, r->id) != 0) {
			log_warnx("member %s: identity key has no X25519 "
			    "form; ignored", r->name);
			free(p);
			return NULL;
		}
		hex_encode(p->id_hex, r->id, MEMBER_ID_BYTES);
		mp_init(&p->mp, MP_STICKY);
		p->reported = -1;
		h = id_hash(r->id);
		p->hnext = ld->hash[h];
		ld->hash[h] = p;
		TAILQ_INSERT_TAIL(&ld->peers, p, entry);
		ld->npeers++;
		log_info("member %s (%.16s...) known", r->name, p->id_hex);
	} else if (p->rec.serial != r->serial) {
		log_debug("member %s: record serial %llu -> %llu", r->name,
		    (unsigned long long)p->rec.serial,
		    (unsigned long long)r->serial);
		moved = endpoints_differ(&p->rec, r);
	}
	p->rec = *r;
	p->seen = ld->sync_epoch;
	/* New endpoints: no reason to sit out a backoff meant for the
	 * old ones. */
	if (moved && p->out != NULL)
		link_retry_now(p->out);
	return p;
}

void
peers_remove(struct linkd *ld, struct peer *p, const char *why)
{
	struct peer **pp;

	log_info("member %s: %s", p->rec.name, why);
	p->out = NULL;                  /* closing, not backing off */
	while (p->nlinks > 0)
		link_close(p->links[0], why);
	if (p->reported > 0) {
		p->links_up = 0;
		dispatch_peer_state(ld, p);
	}
	for (pp = &ld->hash[id_hash(p->rec.id)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&ld->peers, p, entry);
	ld->npeers--;
	sodium_memzero(p, sizeof(*p));
	free(p);
}

void
peers_sweep(struct linkd *ld)
{
	struct peer *p, *next;

	for (p = TAILQ_FIRST(&ld->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->seen != ld->sync_epoch)
			peers_remove(ld, p, "no longer a member");
	}
}

void
peers_clear(struct linkd *ld)
{
	struct peer *p;

	while ((p = TAILQ_FIRST(&ld->peers)) != NULL)
		peers_remove(ld, p, "forgotten");
}

int
peers_dial_wanted(const struct conf *c, const uint8_t self_id[32],
    const struct record *r)
{
	int i;

	if (crypto_verify_32(r->id, self_id) == 0 || r->ntcp == 0)
		return 0;
	for (i = 0; i < c->nnoconnect; i++)
		if (strcmp(c->noconnect[i], r->name) == 0)
			return 0;
	if (c->nconnect == 0)
		return 1;
	for (i = 0; i < c->nconnect; i++)
		if (strcmp(c->connect[i], r->name) == 0)
			return 1;
	return 0;
}

void
peers_apply_policy(struct linkd *ld, struct peer *p)
{
	int want = ld->self_known && !ld->stopping &&
	    peers_dial_wanted(ld->conf, ld->self_id, &p->rec);

	if (want && p->out == NULL)
		(void)link_dial(ld, p);   /* sets p->out while it lives */
	else if (!want && p->out != NULL)
		link_close(p->out, "no longer dialled (config or record)");
}

void
peers_apply_policy_all(struct linkd *ld)
{
	struct peer *p;

	TAILQ_FOREACH(p, &ld->peers, entry)
		peers_apply_policy(ld, p);
}

int
peer_link_attach(struct peer *p, struct link *l)
{
	if (p->nlinks >= PEER_MAX_LINKS)
		return -1;
	p->links[p->nlinks] = l;
	p->paths[p->nlinks] = &l->mp;
	p->nlinks++;
	return 0;
}

void
peer_link_detach(struct peer *p, struct link *l)
{
	int i;

	for (i = 0; i < p->nlinks; i++) {
		if (p->links[i] != l)
			continue;
		mp_forget(&p->mp, &l->mp);
		memmove(&p->links[i], &p->links[i + 1],
		    (size_t)(p->nlinks - i - 1) * sizeof(p->links[0]));
		memmove(&p->paths[i], &p->paths[i + 1],
		    (size_t)(p->nlinks - i - 1) * sizeof(p->paths[0]));
		p->nlinks--;
		return;
	}
}

void
peer_links_changed(struct linkd *ld, struct peer *p)
{
	int i, up = 0;

	for (i = 0; i < p->nlinks; i++)
		if (p->links[i]->state == LINK_UP)
			up++;
	p->links_up = up;
	if (up != p->reported)
		dispatch_peer_state(ld, p);
}

struct link *
peer_tx_link(struct peer *p)
{
	int i = mp_select(&p->mp, p->paths, (size_t)p->nlinks);

	return i < 0 ? NULL : p->links[i];
}

int
peer_check_ts(struct peer *p, const uint8_t ts[WIRE_HS_PAYLOAD])
{
	/* TAI64N is big-endian: byte order is time order. */
	if (p->has_ts && memcmp(ts, p->last_ts, WIRE_HS_PAYLOAD) <= 0)
		return -1;
	memcpy(p->last_ts, ts, WIRE_HS_PAYLOAD);
	p->has_ts = 1;
	p->t_last_hs = linkd_now();
	return 0;
}

uint32_t
peer_rtt_us(const struct peer *p)
{
	uint32_t best = 0;
	int i;

	for (i = 0; i < p->nlinks; i++) {
		const struct link *l = p->links[i];

		if (l->state == LINK_UP && l->rtt_us != 0 &&
		    (best == 0 || l->rtt_us < best))
			best = l->rtt_us;
	}
	return best;
}
