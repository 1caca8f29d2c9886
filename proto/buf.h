/*
 * Bounded big-endian reader and writer. Every decoder in onionmesh (IPC
 * messages, peer frames, records) reads through these, so a length is
 * always checked before use: a read past the end sets r->err and returns
 * zeros instead of touching memory, and the caller checks br_done() once
 * at the end rather than after every field.
 */
#ifndef OM_BUF_H
#define OM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf_w {
	uint8_t *p;
	size_t len;
	size_t cap;
	int err; /* set when a write did not fit; nothing past cap written */
};

struct buf_r {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err; /* set when a read ran past len */
};

void bw_init(struct buf_w *w, uint8_t *p, size_t cap);
void bw_u8(struct buf_w *w, uint8_t v);
void bw_u16(struct buf_w *w, uint16_t v);
void bw_u32(struct buf_w *w, uint32_t v);
void bw_u64(struct buf_w *w, uint64_t v);
void bw_bytes(struct buf_w *w, const void *src, size_t n);
/* u16 length, then the bytes: strings and blobs in IPC messages. */
void bw_str(struct buf_w *w, const char *s);
void bw_blob16(struct buf_w *w, const void *src, size_t n);

void br_init(struct buf_r *r, const void *p, size_t len);
uint8_t br_u8(struct buf_r *r);
uint16_t br_u16(struct buf_r *r);
uint32_t br_u32(struct buf_r *r);
uint64_t br_u64(struct buf_r *r);
void br_bytes(struct buf_r *r, void *dst, size_t n);
/* Pointer to the next n bytes (and skip them), or NULL with err set. */
const uint8_t *br_ptr(struct buf_r *r, size_t n);
/* u16 length + bytes into dst of size cap (NUL-terminated); err if the
 * string does not fit, holds a NUL, or runs past the end. */
void br_str(struct buf_r *r, char *dst, size_t cap);
/* u16 length + bytes: returns pointer, sets *n; NULL with err on error. */
const uint8_t *br_blob16(struct buf_r *r, size_t *n);
size_t br_left(const struct buf_r *r);
/* 0 when every read fitted and the whole input was consumed, else -1. */
int br_done(const struct buf_r *r);

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, v >> 32);
	be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

#endif
