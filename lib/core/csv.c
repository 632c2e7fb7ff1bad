/*
 * csv.c — owns reading delimited text. It never interprets a field's
 * meaning (that is the loaders' job) and never lets one record grow past
 * CSV_MAX_FIELDS fields of max_field bytes each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "csv.h"
#include "util.h"

#define CSV_CHUNK (1u << 20)

struct csv {
	int fd;
	int owns_fd;
	int eof;
	size_t max_field;
	size_t max_rec;
	char *buf; /* [start, end) holds unread bytes */
	size_t cap;
	size_t start;
	size_t end;
	uint64_t line; /* line of the next unread byte */
	uint64_t consumed;
	int first; /* before the first record: skip a UTF-8 BOM */
};

static struct csv *
csv_new(int fd, int owns, size_t max_field)
{
	struct csv *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->owns_fd = owns;
	c->max_field = max_field ? max_field : CSV_DEFAULT_MAX_FIELD;
	c->max_rec = CSV_MAX_FIELDS * (c->max_field + 3);
	c->cap = CSV_CHUNK;
	c->line = 1;
	c->first = 1;
	if ((c->buf = malloc(c->cap)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

struct csv *
csv_open(const char *path, size_t max_field, char *err, size_t errlen)
{
	struct csv *c;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((c = csv_new(fd, 1, max_field)) == NULL) {
		close(fd);
		errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	return c;
}

struct csv *
csv_fdopen(int fd, const char *name, size_t max_field)
{
	(void)name;
	return csv_new(fd, 0, max_field);
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	if (c->owns_fd)
		close(c->fd);
	free(c->buf);
	free(c);
}

uint64_t
csv_bytes(const struct csv *c)
{
	return c->consumed;
}

/* Moves unread bytes to the front, grows if full, reads more. */
static int
csv_fill(struct csv *c, char *err, size_t errlen)
{
	ssize_t n;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == c->cap) {
		size_t ncap = c->cap * 2;
		char *nb;

		if (c->cap >= c->max_rec + CSV_CHUNK)
			return errf(err, errlen, "record too long");
		if ((nb = realloc(c->buf, ncap)) == NULL)
			return errf(err, errlen, "out of memory");
		c->buf = nb;
		c->cap = ncap;
	}
	do
		n = read(c->fd, c->buf + c->end, c->cap - c->end);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errf(err, errlen, "read: %s", strerror(errno));
	if (n == 0)
		c->eof = 1;
	c->end += (size_t)n;
	return 0;
}

/* Collapses each "" to " in place; returns the new length. */
static size_t
csv_unescape(char *p, size_t len)
{
	size_t r = 0, w = 0;

	while (r < len) {
		p[w++] = p[r];
		r += p[r] == '"' ? 2 : 1;
	}
	return w;
}

/*
 * Parses one record from buf[start, end). Returns 1 and sets *used when a
 * whole record (ending in a newline, or at EOF) is present, 0 when more
 * input is needed, -1 when the record is malformed (*used then skips to
 * the end of the offending line).
 */
static int
csv_parse(struct csv *c, struct csv_rec *rec, size_t *used, uint64_t *lines,
    char *err, size_t errlen)
{
	char *p = c->buf + c->start, *end = c->buf + c->end;
	char *q = p;
	const char *why = NULL;
	uint64_t nl = 0;
	unsigned char esc[CSV_MAX_FIELDS];

	rec->nfields = 0;
	for (;;) {
		char *fstart;
		size_t len;

		if (rec->nfields == CSV_MAX_FIELDS) {
			why = "too many fields";
			goto bad;
		}
		if (q < end && *q == '"') {
			/* Quoted: find the closing quote without writing, so
			 * that a parse cut short by the buffer can restart. */
			int escaped = 0;

			fstart = ++q;
			for (;;) {
				if (q == end) {
					if (!c->eof)
						return 0;
					why = "unterminated quoted field";
					goto bad;
				}
				if (*q == '"') {
					if (q + 1 == end && !c->eof)
						return 0;
					if (q + 1 < end && q[1] == '"') {
						escaped = 1;
						q += 2;
						continue;
					}
					break;
				}
				if (*q == '\n')
					nl++;
				q++;
			}
			len = (size_t)(q - fstart);
			q++;
			esc[rec->nfields] = (unsigned char)escaped;
			if (q < end && *q == '\r') {
				if (q + 1 == end && !c->eof)
					return 0;
				if (q + 1 < end && q[1] == '\n')
					q++;
			}
			if (q < end && *q != ',' && *q != '\n') {
				why = "text after a closing quote";
				goto bad;
			}
		} else {
			fstart = q;
			while (q < end && *q != ',' && *q != '\n') {
				if (*q == '"') {
					why = "quote inside an unquoted field";
					goto bad;
				}
				q++;
			}
			len = (size_t)(q - fstart);
			if (q < end && *q == '\n' && len > 0 && q[-1] == '\r')
				len--;
			esc[rec->nfields] = 0;
		}
		if (q == end && !c->eof)
			return 0;
		if (len > c->max_field) {
			why = "field longer than the limit";
			goto bad;
		}
		rec->f[rec->nfields].p = fstart;
		rec->f[rec->nfields].len = len;
		rec->nfields++;
		if (q == end || *q == '\n') {
			/* Complete: only now rewrite quoted fields in place. */
			for (size_t i = 0; i < rec->nfields; i++)
				if (esc[i])
					rec->f[i].len = csv_unescape(
					    (char *)rec->f[i].p, rec->f[i].len);
			if (q < end)
				q++, nl++;
			*used = (size_t)(q - p);
			*lines = nl;
			return 1;
		}
		q++;
	}
bad:
	/* Skip to the end of the physical line where the problem is. */
	while (q < end && *q != '\n')
		q++;
	if (q == end && !c->eof)
		return 0;
	if (q < end)
		q++, nl++;
	*used = (size_t)(q - p);
	*lines = nl;
	errf(err, errlen, "%s", why);
	return -1;
}

int
csv_next(struct csv *c, struct csv_rec *rec, char *err, size_t errlen)
{
	size_t used;
	uint64_t lines;
	int r;

	for (;;) {
		if (c->first && (c->end - c->start >= 3 || c->eof)) {
			c->first = 0;
			if (c->end - c->start >= 3 &&
			    memcmp(c->buf + c->start, "\xef\xbb\xbf", 3) == 0)
				c->start += 3;
		}
		if (c->start == c->end && c->eof)
			return 0;
		if (c->start < c->end && !c->first) {
			/* A parse may rewrite quoted fields in place; it is
			 * only retried from scratch after a refill, and the
			 * rewrite never moves bytes it has not read yet. */
			rec->line = c->line;
			r = csv_parse(c, rec, &used, &lines, err, errlen);
			if (r != 0) {
				c->start += used;
				c->consumed += used;
				c->line += lines;
				if (r == 1 && rec->nfields == 1 &&
				    rec->f[0].len == 0)
					continue; /* blank line */
				return r;
			}
		}
		if (c->eof && c->start == c->end)
			return 0;
		if (csv_fill(c, err, errlen) == -1)
			return -2;
	}
}

int
csv_column(const struct csv_rec *hdr, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < hdr->nfields; i++)
		if (hdr->f[i].len == n &&
		    strncasecmp(hdr->f[i].p, name, n) == 0)
			return (int)i;
	return -1;
}
