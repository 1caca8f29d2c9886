/*
 * The JSON of ctl replies, written once for every daemon (json.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include <sodium.h>

#include "proto/json.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if there is none. */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* e0: no overlongs (a0..bf); ed: no surrogates (80..9f) */
		if ((c == 0xe0 && (s[1] < 0xa0 || s[1] > 0xbf)) ||
		    (c == 0xed && (s[1] < 0x80 || s[1] > 0x9f)) ||
		    (s[1] & 0xc0) != 0x80)
			return 0;
		return (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* f0: no overlongs (90..bf); f4: not past U+10FFFF (80..8f) */
		if ((c == 0xf0 && (s[1] < 0x90 || s[1] > 0xbf)) ||
		    (c == 0xf4 && (s[1] < 0x80 || s[1] > 0x8f)) ||
		    (s[1] & 0xc0) != 0x80)
			return 0;
		return ((s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) ?
		    4 : 0;
	}
	return 0;
}

size_t
utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n, bad = 0;

	/* A NUL ends the string and is never a continuation byte, so the
	 * look-ahead in utf8_seq stops at it. */
	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0) {
			*p++ = '?';
			bad++;
		} else
			p += n;
	}
	return bad;
}

json_t *
json_error_msg(char *msg)
{
	(void)utf8_scrub(msg);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

json_t *
json_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_error_msg(msg);
}

json_t *
json_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

json_t *
json_hex(const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];

	if (n > 64)
		return NULL;
	sodium_bin2hex(hex, sizeof(hex), p, n);
	return json_string(hex);
}

json_t *
json_prefix(const struct prefix *p, int with_len)
{
	char s[PREFIX_STRLEN];

	if (p->family == 0)
		return json_null();
	prefix_fmt(p, s, sizeof(s), with_len);
	return json_string(s);
}
