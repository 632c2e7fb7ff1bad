/*
 * base64.c — owns base64 encoding. Decoding is strict (canonical padding,
 * no whitespace) and bounded before anything is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const uint8_t *in, size_t len)
{
	size_t olen = 4 * ((len + 2) / 3), o = 0;
	char *out;

	if (len > (SIZE_MAX - 1) / 2 || (out = malloc(olen + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64val(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

uint8_t *
base64_decode(const char *in, size_t maxlen, size_t *outlen)
{
	size_t len = strlen(in), pad = 0, n, o = 0;
	uint8_t *out;

	if (len % 4 != 0)
		return NULL;
	if (len > 0 && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	n = len / 4 * 3 - pad;
	if (n > maxlen || (out = malloc(n ? n : 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 4) {
		int a = b64val(in[i]), b = b64val(in[i + 1]);
		int last = i + 4 == len;
		int c = last && pad == 2 ? 0 : b64val(in[i + 2]);
		int d = last && pad >= 1 ? 0 : b64val(in[i + 3]);
		uint32_t v;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			goto bad;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
		    (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16);
		if (o < n)
			out[o++] = (uint8_t)(v >> 8);
		if (o < n)
			out[o++] = (uint8_t)v;
		/* Canonical: the unused bits of a padded group are zero. */
		if (last &&
		    ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))))
			goto bad;
	}
	*outlen = n;
	return out;
bad:
	free(out);
	return NULL;
}
