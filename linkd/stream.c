/*
 * A link's two stream buffers, pure (no socket, no clock) so a unit
 * test can drive them with any split of the stream (stream.h).
 */
#include "linkd/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int
framer_init(struct framer *fr, size_t cap)
{
	memset(fr, 0, sizeof(*fr));
	if ((fr->buf = malloc(cap)) == NULL)
		return -1;
	fr->cap = cap;
	return 0;
}

void
framer_free(struct framer *fr)
{
	free(fr->buf);
	memset(fr, 0, sizeof(*fr));
}

uint8_t *
framer_space(struct framer *fr, size_t *room)
{
	if (fr->head == fr->tail) {
		fr->head = fr->tail = 0;
	} else if (fr->head > 0 && fr->cap - fr->tail < WIRE_MAX_FRAME) {
		/* Only the partial frame at the end moves (< one frame). */
		memmove(fr->buf, fr->buf + fr->head, fr->tail - fr->head);
		fr->tail -= fr->head;
		fr->head = 0;
	}
	*room = fr->cap - fr->tail;
	return fr->buf + fr->tail;
}

void
framer_commit(struct framer *fr, size_t n)
{
	if (n > fr->cap - fr->tail)     /* caller bug; never past cap */
		n = fr->cap - fr->tail;
	fr->tail += n;
}

int
framer_next(struct framer *fr, struct wire_frame *f)
{
	int r;

	if (fr->tail == fr->head)
		return 0;
	r = wire_frame_peek(f, fr->buf + fr->head, fr->tail - fr->head);
	if (r == 1)
		fr->head += f->frame_len;
	return r;
}

size_t
framer_pending(const struct framer *fr)
{
	return fr->tail - fr->head;
}

void
obuf_init(struct obuf *o, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->cap = cap;
}

void
obuf_free(struct obuf *o)
{
	free(o->buf);
	o->buf = NULL;
	o->head = o->len = 0;
}

int
obuf_append(struct obuf *o, const uint8_t *p, size_t n)
{
	size_t t, first;

	if (n > o->cap - o->len)
		return -1;
	if (n == 0)
		return 0;
	if (o->buf == NULL && (o->buf = malloc(o->cap)) == NULL)
		return -1;
	t = (o->head + o->len) % o->cap;
	first = o->cap - t < n ? o->cap - t : n;
	memcpy(o->buf + t, p, first);
	if (n > first)
		memcpy(o->buf, p + first, n - first);
	o->len += n;
	return 0;
}

int
obuf_iov(const struct obuf *o, struct iovec iov[2])
{
	size_t first;

	if (o->len == 0)
		return 0;
	first = o->cap - o->head < o->len ? o->cap - o->head : o->len;
	iov[0].iov_base = o->buf + o->head;
	iov[0].iov_len = first;
	if (first == o->len)
		return 1;
	iov[1].iov_base = o->buf;
	iov[1].iov_len = o->len - first;
	return 2;
}

void
obuf_consume(struct obuf *o, size_t n)
{
	if (n >= o->len) {
		o->head = o->len = 0;
		return;
	}
	o->head = (o->head + n) % o->cap;
	o->len -= n;
}

ssize_t
stream_recv(int fd, void *buf, size_t n, int flags, char *why, size_t cap)
{
	ssize_t r;

	do
		r = recv(fd, buf, n, flags | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return STREAM_AGAIN;
	snprintf(why, cap, "recv: %s", strerror(errno));
	return STREAM_ERROR;
}
