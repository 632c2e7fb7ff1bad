/*
 * util.h — small helpers every module uses: bounded string copies, error
 * buffers, clocks.
 *
 * Error convention (everywhere in tally): a function returns 0 on success
 * and -1 on failure (or NULL for constructors). Where the reason must reach
 * a person or a remote peer it is written into a caller's `char *err,
 * size_t errlen` buffer with errf(); otherwise it is logged with log_warn*()
 * at the point of failure. Either way the caller never has to guess.
 */
#ifndef TALLY_UTIL_H
#define TALLY_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#if !defined(__GLIBC__) || (__GLIBC__ == 2 && __GLIBC_MINOR__ < 38)
size_t strlcpy(char *, const char *, size_t);
size_t strlcat(char *, const char *, size_t);
#endif

/* Formats into err (may be NULL) and returns -1, for `return errf(...)`. */
int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

uint64_t clock_ms(void); /* monotonic */
uint64_t clock_us(void); /* monotonic */
uint64_t wall_ms(void);	 /* unix time */

/* Parses a whole decimal integer in [min, max]; 0 or -1. */
int parse_int64(
    const char *s, size_t len, int64_t min, int64_t max, int64_t *out);
/* Parses a whole finite decimal floating-point number; 0 or -1. */
int parse_double(const char *s, size_t len, double *out);
/* 1 if s[0..len) is well-formed UTF-8 without NUL or overlong forms. */
int utf8_valid(const char *s, size_t len);

/*
 * Reads a whole file of at most max bytes into a malloc'd buffer with a
 * NUL after the data. "-" reads standard input. -1 with reason in err.
 */
int file_read(const char *path, size_t max, char **out, size_t *lenp, char *err,
    size_t errlen);

/*
 * Copies at most dsize - 1 bytes of src (NULL: "") into dst, each byte
 * that is not printable ASCII replaced by '?': for strings from a peer
 * that end up in logs, audit records or on operators' screens.
 */
void str_printable(char *dst, size_t dsize, const char *src);

/*
 * Makes room for element n of the array *p of *cap elements of size
 * bytes, doubling the capacity (16 at first) when n reaches it. 0, or -1
 * with *p and *cap unchanged.
 */
int array_grow(void **p, size_t *cap, size_t n, size_t size);

/* Hex encoding of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
