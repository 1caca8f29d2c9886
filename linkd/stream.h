/*
 * A link's stream buffers, pure so a unit test can drive them:
 *  - the framer: a large read buffer in which every whole frame is found
 *    with wire_frame_peek, however the stream was split; only a partial
 *    frame at its end is ever moved;
 *  - the output ring: what the socket did not take yet.
 */
#ifndef OM_LINKD_STREAM_H
#define OM_LINKD_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "proto/wire.h"

struct framer {
	uint8_t *buf;
	size_t cap;
	size_t head;          /* first unparsed byte */
	size_t tail;          /* end of data */
};

int framer_init(struct framer *fr, size_t cap)
    __attribute__((warn_unused_result));
void framer_free(struct framer *fr);
/* Where the next read goes and how much fits. Moves a partial frame to
 * the front first when the room left could not hold a whole frame, so
 * room is never 0 while cap >= WIRE_MAX_FRAME. */
uint8_t *framer_space(struct framer *fr, size_t *room);
void framer_commit(struct framer *fr, size_t n);
/* 1: a whole frame in f (valid until the next framer_space), 0: need
 * more bytes, -1: the stream is bad (close the link). */
int framer_next(struct framer *fr, struct wire_frame *f)
    __attribute__((warn_unused_result));
size_t framer_pending(const struct framer *fr);

struct obuf {
	uint8_t *buf;         /* allocated on first use */
	size_t cap;
	size_t head;
	size_t len;
};

void obuf_init(struct obuf *o, size_t cap);
void obuf_free(struct obuf *o);
/* Copy n bytes in. -1 (nothing copied) when they do not fit. */
int obuf_append(struct obuf *o, const uint8_t *p, size_t n)
    __attribute__((warn_unused_result));
/* The queued bytes as up to two pieces; returns the count (0..2). */
int obuf_iov(const struct obuf *o, struct iovec iov[2]);
void obuf_consume(struct obuf *o, size_t n);

/* One recv (MSG_DONTWAIT added; EINTR retried): the byte count, 0 when
 * the other end closed, STREAM_AGAIN when nothing is there now, or
 * STREAM_ERROR with "recv: reason" in why. */
#define STREAM_AGAIN (-1)
#define STREAM_ERROR (-2)
ssize_t stream_recv(int fd, void *buf, size_t n, int flags, char *why,
    size_t cap);

#endif
