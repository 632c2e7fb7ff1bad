/*
 * csv_read.c — libFuzzer target: arbitrary bytes through the CSV reader
 * (lib/core/csv.c) that every loader reads hospital extracts with: NULs,
 * quotes, CR/LF mixes, over-long fields and records, a BOM cut short.
 *
 * Input: [max_field u8][chunk u8][the file]. The file is read twice: in
 * one piece, and in chunks of 1 + chunk bytes (larger if that makes more
 * than 32) (a non-blocking pipe the
 * harness tops up whenever the reader finds it empty, so a record is cut
 * wherever the chunks fall, as a slow pipe or a short read cuts it). Both
 * reads must give the same records, fields, lines and errors, and every
 * record must keep within CSV_MAX_FIELDS fields of max_field bytes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "log.h"

#define MAX_INPUT 32768 /* well inside a pipe's buffer */
#define MAX_RECS  (MAX_INPUT + 1)

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What one read of the file gave: a hash of each result in order. */
struct trace {
	size_t n;
	uint64_t h[MAX_RECS];
};

static struct trace whole, cut;
static struct csv_rec rec;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	return 0;
}

static uint64_t
mix(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Hashes one csv_next() result, checking the record's bounds. */
static uint64_t
record_hash(int r, const struct csv_rec *c, size_t max_field, const char *err)
{
	uint64_t h = mix(0xcbf29ce484222325ULL, &r, sizeof(r));

	if (r == 0)
		return h;
	if (r == -1)
		return mix(mix(h, &c->line, sizeof(c->line)), err, strlen(err));
	if (c->nfields == 0 || c->nfields > CSV_MAX_FIELDS)
		abort();
	h = mix(h, &c->line, sizeof(c->line));
	for (size_t i = 0; i < c->nfields; i++) {
		if (c->f[i].len > max_field)
			abort();
		h = mix(h, &c->f[i].len, sizeof(c->f[i].len));
		h = mix(h, c->f[i].p, c->f[i].len);
	}
	return h;
}

/* Writes the next chunk into the pipe, closing it after the last. */
static size_t
top_up(int fd[2], const uint8_t *data, size_t size, size_t off, size_t chunk)
{
	size_t n = chunk == 0 || size - off < chunk ? size - off : chunk;

	if (write(fd[1], data + off, n) != (ssize_t)n)
		abort();
	if ((off += n) == size)
		close(fd[1]);
	return off;
}

/*
 * Reads the file through a pipe, chunk bytes at a time (0: all at once).
 * A read that finds the pipe empty fails with EAGAIN (-2); the harness
 * then writes the next chunk and calls again, which is what a reader
 * sees from a short read.
 */
static void
read_file(const uint8_t *data, size_t size, size_t max_field, size_t chunk,
    struct trace *t)
{
	struct csv *c;
	size_t off = 0;
	char err[256];
	int fd[2], r;

	t->n = 0;
	if (pipe(fd) == -1 || fcntl(fd[0], F_SETFL, O_NONBLOCK) == -1)
		abort();
	if ((c = csv_fdopen(fd[0], "fuzz", max_field)) == NULL)
		abort();
	off = top_up(fd, data, size, 0, chunk);
	for (;;) {
		err[0] = '\0';
		r = csv_next(c, &rec, err, sizeof(err));
		if (r == -2 && off < size && strstr(err, "temporarily")) {
			off = top_up(fd, data, size, off, chunk);
			continue; /* the pipe ran dry: as after a short read */
		}
		if (r == -2 || t->n == MAX_RECS)
			abort(); /* no I/O error here; no record is empty */
		t->h[t->n++] = record_hash(r, &rec, max_field, err);
		if (r == 0)
			break;
	}
	if (csv_bytes(c) > size)
		abort();
	csv_free(c);
	close(fd[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_field, chunk;

	if (size < 2 || size - 2 > MAX_INPUT)
		return 0;
	/* 1..255 or the default; chunks of 1..256 bytes, at most 32 of them
	 * (each costs a few system calls). */
	max_field = data[0] == 0 ? CSV_DEFAULT_MAX_FIELD : data[0];
	chunk = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	if (chunk < (size + 31) / 32)
		chunk = (size + 31) / 32;
	read_file(data, size, max_field, 0, &whole);
	read_file(data, size, max_field, chunk, &cut);
	if (whole.n != cut.n ||
	    memcmp(whole.h, cut.h, whole.n * sizeof(whole.h[0])) != 0)
		abort();
	return 0;
}
