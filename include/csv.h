/*
 * csv.h — a streaming RFC 4180 reader that knows where it is.
 *
 * Records come back as arrays of (pointer, length) fields that stay valid
 * until the next call. Quoted fields may hold commas, doubled quotes and
 * newlines. Every record knows the physical line it started on, so a
 * loader can report `FILE:LINE: reason`. A malformed record is reported
 * and skipped; reading goes on with the next line.
 */
#ifndef TALLY_CSV_H
#define TALLY_CSV_H

#include <stddef.h>
#include <stdint.h>

#define CSV_MAX_FIELDS	      256
#define CSV_DEFAULT_MAX_FIELD 4096

struct csv_field {
	const char *p;
	size_t len;
};

struct csv_rec {
	uint64_t line; /* physical line where the record starts, from 1 */
	size_t nfields;
	struct csv_field f[CSV_MAX_FIELDS];
};

struct csv;

/* max_field 0 means CSV_DEFAULT_MAX_FIELD. NULL with reason in err. */
struct csv *csv_open(
    const char *path, size_t max_field, char *err, size_t errlen);
/* Reads from an open descriptor (not closed by csv_free). */
struct csv *csv_fdopen(int fd, const char *name, size_t max_field);
/*
 * 1: a record in *rec. 0: end of file. -1: a malformed record at
 * rec->line, reason in err; the caller may call again to go on. -2: an I/O
 * error, reason in err; stop.
 */
int csv_next(struct csv *, struct csv_rec *rec, char *err, size_t errlen);
uint64_t csv_bytes(const struct csv *); /* bytes consumed so far */
void csv_free(struct csv *);

/* Index of the header field named name (ASCII case-insensitive) or -1. */
int csv_column(const struct csv_rec *hdr, const char *name);

#endif
