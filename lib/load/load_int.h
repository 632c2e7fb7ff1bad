/*
 * load_int.h — what the files of the loader (lib/load*.c) share and
 * nothing outside them may use: the loader's state, the table reader, the
 * row checks, the inserts, the id sets and the OMOP concept map.
 *
 *   load.c         the run: temp file, lock, transaction, meta, rename
 *   load_table.c   reads one input file: header, records, rejects, progress
 *   load_check.c   field checks that turn text into values or a reason
 *   load_db.c      the prepared inserts, with the person/visit checks
 *   load_idset.c   which person and visit ids exist
 *   load_csv.c     tally's CSV layout
 *   load_omop.c    OMOP CDM tables
 *   load_concept.c OMOP concept ids -> (code system, code)
 */
#ifndef TALLY_LOAD_INT_H
#define TALLY_LOAD_INT_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "csv.h"
#include "load.h"

#define LOAD_MAX_COLS  24
#define LOAD_MAX_FIELD 4096 /* bytes per CSV field, any column */
#define LOAD_ERR_MAX   512
#define LOAD_WHY_MAX   256

/* Column limits (bytes). */
#define LOAD_CODE_MAX	64
#define LOAD_SYSTEM_MAX 32
#define LOAD_UNIT_MAX	32
#define LOAD_TEXT_MAX	256
#define LOAD_LINK_MAX	128
#define LOAD_NUM_MAX	40 /* a number's text */
#define LOAD_BATCH	32 /* event rows per INSERT */

/* A set of int64 ids: appended while a table loads, frozen before use. */
struct load_idset {
	int64_t *ids; /* appended ids; sorted once frozen (NULL if bitmap) */
	size_t n, cap;
	int sorted; /* appended in increasing order so far */
	int frozen;
	uint64_t *bits; /* when dense: bit (id - base) */
	int64_t base;
	uint64_t range;
};

int load_idset_add(struct load_idset *, int64_t id);
int load_idset_freeze(struct load_idset *);
int load_idset_has(const struct load_idset *, int64_t id);
void load_idset_free(struct load_idset *);

/* OMOP concept ids -> (code system, code), read from CONCEPT.csv. */
struct load_concepts;

struct load_concepts *load_concepts_new(void);
void load_concepts_free(struct load_concepts *);
/* Adds one concept; 0, or -1 when out of memory or space (err). */
int load_concepts_add(struct load_concepts *, int64_t id, const char *vocab,
    size_t vlen, const char *code, size_t clen, char *err, size_t errlen);
int load_concepts_freeze(struct load_concepts *, char *err, size_t errlen);
/* 1 and the concept's code and code system, or 0 when unknown. */
int load_concepts_get(const struct load_concepts *, int64_t id,
    struct csv_field *system, struct csv_field *code);
/* The code system a vocabulary_id maps to, into out (NUL-terminated). */
void load_vocab_system(
    const char *vocab, size_t vlen, char *out, size_t outlen);
size_t load_concepts_count(const struct load_concepts *);

enum load_stmt {
	ST_PERSON,
	ST_VISIT,
	ST_DIAGNOSIS,
	ST_LAB,
	ST_DRUG,
	ST_PROCEDURE,
	ST_DEATH,
	ST_DEATH_GET,
	ST_MAX
};

/* The state of one run. */
struct load {
	const struct load_opts *opts;
	struct load_result *res;
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
	struct load_batch *batch; /* event rows not yet written */
	struct load_idset persons;
	struct load_idset visits;
	FILE *rej;	     /* the rejects file being written */
	struct csv_rec *rec; /* one record buffer for every file */
	uint64_t tick;	     /* rows since the last progress check */
	uint64_t tick_ms;
	int progress_shown;
	char err[LOAD_ERR_MAX];
};

/* A column an input file must (required) or may have. */
struct load_col {
	const char *name;
	int required;
	size_t maxlen; /* longest accepted value in bytes */
};

struct load_table;
/* 1: loaded. 0: rejected, reason in why. -1: error in t->ld->err. */
typedef int (*load_row_fn)(
    struct load_table *, const struct csv_rec *, char *why, size_t whylen);

/* One input file being read. */
struct load_table {
	struct load *ld;
	struct load_step *step;
	const char *path; /* as reported: dir/file */
	const struct load_col *cols;
	int ncols;
	int idx[LOAD_MAX_COLS]; /* header position of cols[i] or -1 */
	load_row_fn row;
	void *arg;     /* the format's own state */
	uint64_t line; /* of the record being handled */
};

/* The description of one input file for load_table_run(). */
struct load_spec {
	const char *table;  /* input table name, e.g. "visit_occurrence" */
	const char *target; /* Baseline table or "" */
	const char *file;   /* file name to look for, case-insensitively */
	int required;	    /* a missing file is an error */
	const struct load_col *cols;
	int ncols;
	load_row_fn row;
	void *arg;
};

/*
 * Finds spec->file in dir and feeds every record to spec->row, reporting
 * rejects. 0 when done (also when an optional file is absent), -1 on an
 * error that stops the load (ld->err).
 */
int load_table_run(struct load *, const char *dir, const struct load_spec *);
/* Reports a rejected row: report stream and rejects file. 0 or -1. */
int load_reject(
    struct load *, const char *path, uint64_t line, const char *why);
/* Row counter for progress; call once per row. */
void load_tick(struct load *, const struct load_table *);
/* Finds name in dir ignoring case; 0 and the real name, -1 if absent
 * (ld->err set when ambiguous or unreadable: returns -2). */
int load_find_file(
    struct load *, const char *dir, const char *name, char *out, size_t outlen);

/* The field of cols[col] in r; empty when the file lacks the column. */
static inline struct csv_field
load_field(const struct load_table *t, const struct csv_rec *r, int col)
{
	struct csv_field f = { "", 0 };

	if (t->idx[col] >= 0)
		f = r->f[t->idx[col]];
	return f;
}

/*
 * Field checks. Each returns 0 with the value, or -1 with a reason naming
 * the column in why. The _opt forms accept an empty field (*present = 0).
 */
int load_get_id(const struct load_table *, const struct csv_rec *, int col,
    int64_t *out, char *why, size_t whylen);
int load_get_id_opt(const struct load_table *, const struct csv_rec *, int col,
    int64_t *out, int *present, char *why, size_t whylen);
int load_get_int_opt(const struct load_table *, const struct csv_rec *, int col,
    int64_t min, int64_t max, int64_t *out, int *present, char *why,
    size_t whylen);
int load_get_num_opt(const struct load_table *, const struct csv_rec *, int col,
    double *out, int *present, char *why, size_t whylen);
/* A date: strict YYYY-MM-DD, or with datetime also a time part; out is
 * the 10-byte date. */
int load_get_date(const struct load_table *, const struct csv_rec *, int col,
    int datetime, struct csv_field *out, int32_t *days, char *why,
    size_t whylen);
int load_get_date_opt(const struct load_table *, const struct csv_rec *,
    int col, int datetime, struct csv_field *out, int32_t *days, int *present,
    char *why, size_t whylen);
/* Non-empty text (a code, a code system). */
int load_get_text(const struct load_table *, const struct csv_rec *, int col,
    struct csv_field *out, char *why, size_t whylen);
/* Checks every used field: length limit, UTF-8, no control bytes. */
int load_check_fields(const struct load_table *, const struct csv_rec *,
    char *why, size_t whylen);
/* 1 if s is a valid code system name: [A-Za-z0-9_.-]{1,32}. */
int load_system_valid(const char *s, size_t len);
/* Formats "COLUMN 'VALUE' WHAT" into why; returns -1. */
int load_bad(const struct load_table *, int col, struct csv_field f,
    const char *what, char *why, size_t whylen);
/* Writes a short printable rendering of a field into out. */
void load_quote(const char *p, size_t len, char *out, size_t outlen);

/* An event row for one of the four event tables. */
struct load_event {
	int64_t person_id;
	int64_t visit_id;
	int has_visit;
	struct csv_field date;
	struct csv_field end_date; /* drug; len 0: NULL */
	struct csv_field code;
	struct csv_field system;
	double value_num; /* lab */
	int has_value;
	struct csv_field value_text; /* lab; len 0: NULL */
	struct csv_field unit;	     /* lab; len 0: NULL */
	int64_t num; /* diagnosis is_primary, drug days_supply */
	int has_num;
};

int load_db_prepare(struct load *);
void load_db_finalize(struct load *);
/* Each: 1 loaded, 0 rejected (why), -1 error (ld->err). */
int load_put_person(struct load_table *, int64_t id, char sex,
    int64_t birth_year, const struct csv_field *death,
    const struct csv_field *link_key, char *why, size_t whylen);
int load_put_death(struct load_table *, int64_t person_id,
    const struct csv_field *date, int32_t days, char *why, size_t whylen);
int load_put_visit(struct load_table *, int64_t id, int64_t person_id,
    const char *type, const struct csv_field *start,
    const struct csv_field *end, char *why, size_t whylen);
int load_put_event(struct load_table *, enum load_stmt,
    const struct load_event *, char *why, size_t whylen);
/* Event rows go through a batch (load_batch.c); load_batch_add() takes
 * a checked row, load_batch_flush() writes what is held. 0 or -1. */
struct load_batch;
int load_batch_new(struct load *);
void load_batch_free(struct load *);
int load_batch_add(
    struct load_table *, enum load_stmt, const struct load_event *, int linked);
int load_batch_flush(struct load *);
/* 1 if person_id has a person row. */
int load_person_known(struct load *, int64_t person_id);

/* The two formats: 0 or -1 (ld->err). */
int load_csv(struct load *, const char *dir);
int load_omop(struct load *, const char *dir);

#endif
