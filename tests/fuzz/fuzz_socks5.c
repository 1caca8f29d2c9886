/*
 * Fuzz target: SOCKS5 replies (proto/socks5.c), what tor's SocksPort (or
 * whatever listens where the config says it is) sends linkd.
 *
 * Input: one mode byte, then
 *   modes 0-2  one reply for socks5_parse_method / _auth / _connect.
 *              A parser that finds a complete reply of r bytes must say
 *              "more" (0) for every shorter prefix and r again for
 *              exactly r bytes: incremental parsing cannot depend on
 *              how the bytes were split.
 *   mode 3     chunk size (1), then the proxy's byte stream for the
 *              client state machine (fixed host, port and credentials),
 *              fed in chunks as reads would deliver it; the harness
 *              "sends" c->out after every call. It must consume no
 *              byte past the final reply, never report more used than
 *              given, and leave no credential behind once it is done
 *              or has failed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/socks5.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
#define USER "0123456789abcdef0123456789abcdef"
#define PASS "fedcba9876543210fedcba9876543210"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static int
parse(int mode, const uint8_t *p, size_t n, uint8_t *code)
{
	switch (mode) {
	case 0:
		return socks5_parse_method(p, n, code);
	case 1:
		return socks5_parse_auth(p, n, code);
	default:
		return socks5_parse_connect(p, n, code);
	}
}

static void
mode_parse(int mode, const uint8_t *p, size_t len)
{
	uint8_t code = 0, c2 = 0;
	size_t i;
	int r, s;

	r = parse(mode, p, len, &code);
	FUZZ_CHECK(r >= -1 && r <= (int)len);
	FUZZ_CHECK(r <= SOCKS5_REPLY_MAX);
	(void)socks5_reply_str(code);
	if (r <= 0)
		return;
	for (i = 0; i < (size_t)r; i++) {
		s = parse(mode, p, i, &c2);
		FUZZ_CHECK(s == 0);
	}
	FUZZ_CHECK(parse(mode, p, (size_t)r, &c2) == r && c2 == code);
}

static int
all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
mode_client(const uint8_t *p, size_t len)
{
	struct socks5_client c;
	size_t chunk, off = 0, n, used;
	int r = SOCKS5_MORE;

	if (len < 1)
		return;
	chunk = (size_t)p[0] % 16 + 1;
	p++;
	len--;
	FUZZ_CHECK(socks5_client_init(&c, HOST, 6550, USER, PASS) == 0);
	FUZZ_CHECK(c.state == SOCKS5_WAIT_METHOD && c.out_len > 0);
	while (off < len) {
		FUZZ_CHECK(c.out_len <= sizeof(c.out));
		c.out_len = 0; /* sent */
		n = len - off < chunk ? len - off : chunk;
		r = socks5_client_input(&c, p + off, n, &used);
		FUZZ_CHECK(used <= n);
		FUZZ_CHECK(c.in_len <= sizeof(c.in));
		off += used;
		if (r == SOCKS5_MORE) {
			FUZZ_CHECK(used == n);
			FUZZ_CHECK(c.state != SOCKS5_DONE &&
			    c.state != SOCKS5_FAILED);
			continue;
		}
		break;
	}
	if (r == SOCKS5_OK) {
		FUZZ_CHECK(c.state == SOCKS5_DONE && c.rep == 0);
		/* Peer data after the reply is the caller's: feeding more
		 * now consumes nothing. */
		FUZZ_CHECK(socks5_client_input(&c, p, len, &used) ==
		    SOCKS5_OK && used == 0);
	} else if (r == SOCKS5_ERROR) {
		FUZZ_CHECK(c.state == SOCKS5_FAILED && c.err[0] != '\0');
		FUZZ_CHECK(c.out_len == 0);
		FUZZ_CHECK(socks5_client_input(&c, p, len, &used) ==
		    SOCKS5_ERROR && used == 0);
	}
	if (r != SOCKS5_MORE) {
		FUZZ_CHECK(all_zero(c.user, sizeof(c.user)));
		FUZZ_CHECK(all_zero(c.pass, sizeof(c.pass)));
		/* No password left in the request buffer either. */
		FUZZ_CHECK(memmem(c.out, sizeof(c.out), PASS,
		    sizeof(PASS) - 1) == NULL);
	}
	socks5_client_wipe(&c);
	FUZZ_CHECK(all_zero(c.user, sizeof(c.user)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 4 == 3)
		mode_client(data + 1, size - 1);
	else
		mode_parse(data[0] % 4, data + 1, size - 1);
	return 0;
}
