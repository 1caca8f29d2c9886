/*
 * Where to connect, as configs and the command line write it:
 * "unix:/PATH" for a stream socket, or HOST:PORT ("[IPV6]:PORT" for an
 * IPv6 literal). One parser and one dialler for every daemon, the
 * command and tor's control and SOCKS ports. (HOST:PORT alone:
 * endpoint_parse in addr.h.)
 */
#ifndef OM_ENDPOINT_H
#define OM_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define ENDPOINT_HOST_MAX 255

struct endpoint {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[ENDPOINT_HOST_MAX + 1]; /* without [] for IPv6 */
	uint16_t port;
};

enum {
	EP_NONBLOCK = 0x1,             /* connect in progress is success */
	EP_NUMERIC = 0x2,              /* refuse names: no DNS lookup */
	EP_LOOPBACK = 0x4,             /* HOST must be a loopback address */
};

/* Split s. -1 with err saying what s is and what would be right. */
int endpoint_split(const char *s, struct endpoint *ep, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* A stream socket (CLOEXEC) connected, or connecting with EP_NONBLOCK,
 * to s; every address of a name is tried in turn. -1 with err naming s
 * and the reason. remote (may be NULL) gets the address used, printable. */
int endpoint_connect(const char *s, int flags, char *remote, size_t rcap,
    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
