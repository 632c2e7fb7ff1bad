/*
 * util.c — owns the small helpers declared in util.h. Nothing here
 * allocates, logs or keeps state.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "util.h"

#if !defined(__GLIBC__) || (__GLIBC__ == 2 && __GLIBC_MINOR__ < 38)
size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t n = strlen(src);

	if (dsize != 0) {
		size_t c = n < dsize - 1 ? n : dsize - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t
strlcat(char *dst, const char *src, size_t dsize)
{
	size_t d = strnlen(dst, dsize);

	if (d == dsize)
		return d + strlen(src);
	return d + strlcpy(dst + d, src, dsize - d);
}
#endif

int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint64_t
clock_read(clockid_t id, uint64_t div)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * (1000000000ull / div) +
	    (uint64_t)ts.tv_nsec / div;
}

uint64_t
clock_ms(void)
{
	return clock_read(CLOCK_MONOTONIC, 1000000);
}

uint64_t
clock_us(void)
{
	return clock_read(CLOCK_MONOTONIC, 1000);
}

uint64_t
wall_ms(void)
{
	return clock_read(CLOCK_REALTIME, 1000000);
}

int
parse_int64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0, lim;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9 || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg) {
		int64_t r =
		    v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		if (r < min)
			return -1;
		*out = r;
	} else {
		if ((int64_t)v > max)
			return -1;
		*out = (int64_t)v;
	}
	if (*out < min || *out > max)
		return -1;
	return 0;
}

int
parse_double(const char *s, size_t len, double *out)
{
	char buf[64], *end;
	double v;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || c == '.' || c == '-' ||
			c == '+' || c == 'e' || c == 'E'))
			return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int
utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

void
str_printable(char *dst, size_t dsize, const char *src)
{
	size_t i = 0;

	if (dsize == 0)
		return;
	for (; src != NULL && src[i] != '\0' && i + 1 < dsize; i++)
		dst[i] = src[i] >= ' ' && src[i] <= '~' ? src[i] : '?';
	dst[i] = '\0';
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
file_read(const char *path, size_t max, char **out, size_t *lenp, char *err,
    size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf, *nb;
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if ((buf = malloc(cap + 1)) == NULL)
		goto nomem;
	for (;;) {
		if (len == cap) {
			if (cap > max)
				break;
			cap *= 2;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto nomem;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		errf(err, errlen, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
nomem:
	errf(err, errlen, "%s: out of memory", path);
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return -1;
}

int
array_grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap <= n)
		ncap *= 2;
	if ((np = reallocarray(*p, ncap, size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}
