/*
 * Bounded reader/writer. Errors are sticky so decoders read like a list
 * of fields and check once (br_done) at the end.
 */
#include "proto/buf.h"

#include <string.h>

void
bw_init(struct buf_w *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->len = 0;
	w->cap = cap;
	w->err = 0;
}

void
bw_bytes(struct buf_w *w, const void *src, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	if (n)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

void
bw_u8(struct buf_w *w, uint8_t v)
{
	bw_bytes(w, &v, 1);
}

void
bw_u16(struct buf_w *w, uint16_t v)
{
	uint8_t b[2] = {v >> 8, v & 0xff};

	bw_bytes(w, b, 2);
}

void
bw_u32(struct buf_w *w, uint32_t v)
{
	uint8_t b[4];

	be32_put(b, v);
	bw_bytes(w, b, 4);
}

void
bw_u64(struct buf_w *w, uint64_t v)
{
	uint8_t b[8];

	be64_put(b, v);
	bw_bytes(w, b, 8);
}

void
bw_blob16(struct buf_w *w, const void *src, size_t n)
{
	if (n > 0xffff) {
		w->err = 1;
		return;
	}
	bw_u16(w, (uint16_t)n);
	bw_bytes(w, src, n);
}

void
bw_str(struct buf_w *w, const char *s)
{
	bw_blob16(w, s, strlen(s));
}

void
br_init(struct buf_r *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

const uint8_t *
br_ptr(struct buf_r *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

void
br_bytes(struct buf_r *r, void *dst, size_t n)
{
	const uint8_t *p = br_ptr(r, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

uint8_t
br_u8(struct buf_r *r)
{
	const uint8_t *p = br_ptr(r, 1);

	return p ? p[0] : 0;
}

uint16_t
br_u16(struct buf_r *r)
{
	const uint8_t *p = br_ptr(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t
br_u32(struct buf_r *r)
{
	const uint8_t *p = br_ptr(r, 4);

	return p ? be32_get(p) : 0;
}

uint64_t
br_u64(struct buf_r *r)
{
	const uint8_t *p = br_ptr(r, 8);

	return p ? be64_get(p) : 0;
}

const uint8_t *
br_blob16(struct buf_r *r, size_t *n)
{
	size_t len = br_u16(r);
	const uint8_t *p = br_ptr(r, len);

	*n = p ? len : 0;
	return p;
}

void
br_str(struct buf_r *r, char *dst, size_t cap)
{
	size_t n;
	const uint8_t *p = br_blob16(r, &n);

	dst[0] = '\0';
	if (p == NULL)
		return;
	if (n >= cap || memchr(p, '\0', n) != NULL) {
		r->err = 1;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

size_t
br_left(const struct buf_r *r)
{
	return r->len - r->off;
}

int
br_done(const struct buf_r *r)
{
	return (r->err || r->off != r->len) ? -1 : 0;
}
