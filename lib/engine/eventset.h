/*
 * eventset.h — the rows one event criterion (or the index) matches, read
 * straight from the Baseline DB's covering indexes as (person_id, day)
 * pairs. A code set is normalised into disjoint ranges first, so a row
 * is never delivered twice however the codes overlap ("I48*" and
 * "I48.0"). Two ways to read them:
 *
 *   - eventset_scan(): every matching row, one index range per code
 *     (code = ?, or code >= prefix AND code < prefix-successor);
 *   - eventset_walk(): code by code (after eventset_expand() has listed
 *     the codes that exist under each prefix), in (person, day) order,
 *     where a visitor that knows which persons and days matter has the
 *     walk seek past the rest (a merge join that skips).
 *
 * Lab value ranges and units, visit types and unparseable dates are
 * filtered here; callers see only rows that count.
 */
#ifndef TALLY_EVENTSET_H
#define TALLY_EVENTSET_H

#include <stddef.h>
#include <stdint.h>

#include "dbsafe.h"
#include "tally.pb-c.h"

#define EVENTSET_CODE_MAX   64	 /* bytes of a system or a code */
#define EVENTSET_EXPAND_MAX 4096 /* codes listed under prefixes */

struct evrange {
	char sys[EVENTSET_CODE_MAX + 1];
	char lo[EVENTSET_CODE_MAX + 1]; /* the code, or the prefix */
	char hi[EVENTSET_CODE_MAX + 1]; /* prefix successor; "" if exact */
};

struct eventset {
	int kind; /* TALLY__KIND__KIND_DIAGNOSIS .. TALLY__KIND__KIND_VISIT */
	struct evrange *ranges; /* disjoint, sorted */
	size_t nranges;
	int all;	       /* VISIT without types: every visit */
	struct evrange *codes; /* exact codes to probe (eventset_expand) */
	size_t ncodes;
	int has_min, has_max; /* LAB value range */
	double vmin, vmax;
	char unit[EVENTSET_CODE_MAX + 1]; /* LAB unit, "" if none */
	uint64_t rows;			  /* rows read so far */
	uint64_t probes;		  /* seeks made so far */
};

/* Called by eventset_scan() for each row that counts; -1 stops the read
 * (the callback has written the reason into the err buffer it was
 * given). */
typedef int (*evrow_fn)(void *arg, int64_t person_id, int32_t day);

/* A position in a code's rows, which are in (person_id, day) order. */
struct evpos {
	int64_t pid;
	int32_t day;
};

/* The row eventset_walk() shows its visitor; its day is read only if
 * asked for (evrow_day()), as many rows are judged by person alone. */
struct evrow {
	int64_t pid;
	int32_t day; /* once evrow_day() said 0 */
	int state;   /* 0: day not read, 1: read, -1: not a date */
	struct eventset *es;
	void *st; /* the statement; NULL: a row of an evlist */
};

enum {
	EV_USED, /* the visitor looked at the row */
	EV_MISS, /* the row was of no use; *at says what is */
	EV_END,	 /* nothing more in this code is of use */
};

/*
 * What a seek and a step have cost on this DB so far (nanoseconds, with
 * a prior), so that a walk seeks exactly when stepping on would cost
 * more: with a cold page cache a seek costs dozens of steps, with a hot
 * one a dozen.
 */
struct evcost {
	uint64_t seek_ns, seeks;
	uint64_t step_ns, steps;
};

void evcost_init(struct evcost *);

/*
 * A visitor of one code's rows in (person_id, day) order. first() gives
 * the first position worth reading (0: none); row() answers EV_USED,
 * EV_MISS (with the next position worth reading, after the row) or
 * EV_END, or -1 to stop with an error.
 *
 * On a miss the walk seeks (one index lookup) rather than steps on when
 * the rows it expects to step over before that position cost more than
 * a seek (cost); it learns the code's rows per person and persons per
 * id from the first few persons, which it steps through whole. It also
 * seeks after as many misses in a row as a seek costs, so that a wrong
 * guess costs at most twice the better choice. With cost NULL it seeks
 * at every miss.
 */
struct evwalk {
	int (*first)(void *arg, struct evpos *at);
	int (*row)(void *arg, struct evrow *, struct evpos *at);
	void *arg;
	struct evcost *cost;
};

/*
 * One code's rows held in memory (the engine's code cache fills it):
 * persons ascending, each person's days ascending, only rows that count
 * (lab value range applied, unparseable dates and non-integer persons
 * dropped). Person i's days are day[start[i]] .. day[start[i + 1] - 1].
 */
struct evlist {
	size_t n;	 /* persons */
	size_t rows;	 /* days */
	int64_t *pid;	 /* n */
	uint32_t *start; /* n + 1 */
	int32_t *day;	 /* rows */
};

/* From an event criterion (codes, value range, unit, visit types). */
int eventset_init(
    struct eventset *, const Tally__Criterion *, char *err, size_t errlen);
void eventset_clear(struct eventset *);
/* 1 if kind is an event kind (DIAGNOSIS, LAB, DRUG, PROCEDURE, VISIT). */
int eventset_kind(int kind);
/* Prepares every statement once, so that a missing index is reported
 * when the engine opens rather than when a query needs it. */
int eventset_prepare(struct dbsafe *, char *err, size_t errlen);

/* Every matching row, range by range (so person ids do not ascend across
 * ranges). 0, or -1 on error. */
int eventset_scan(struct eventset *, struct dbsafe *, evrow_fn, void *arg,
    char *err, size_t errlen);
/*
 * Lists into es->codes the exact codes to walk: the exact ranges and
 * every code the DB holds under each prefix. 1 if there are more than
 * max, 0 when done, -1 on error.
 */
int eventset_expand(
    struct eventset *, struct dbsafe *, size_t max, char *err, size_t errlen);
/* The walk statement of es->codes[k], with the code bound (for
 * eventset_walk.c). */
sqlite3_stmt *eventset_code_stmt(
    struct eventset *, struct dbsafe *, size_t k, char *err, size_t errlen);
/* Walks the rows of each of es->codes in turn (eventset_expand first). */
int eventset_walk(struct eventset *, struct dbsafe *, const struct evwalk *,
    char *err, size_t errlen);
/* Walks the rows of es->codes[k] from the DB. */
int eventset_walk_code(struct eventset *, struct dbsafe *, size_t k,
    const struct evwalk *, char *err, size_t errlen);
/* Walks a code's rows held in l with the same visitor as a DB walk (a
 * seek is a search in memory, and lands exactly where asked). */
int eventset_walk_list(
    struct eventset *, const struct evlist *l, const struct evwalk *);
/* Every row of es->codes[k] that counts, in (person_id, day) order. */
int eventset_scan_code(struct eventset *, struct dbsafe *, size_t k, evrow_fn,
    void *arg, char *err, size_t errlen);
/* date_parse(), faster: the day of a strict "YYYY-MM-DD". 0 or -1. */
int eventset_parse_day(const char *s, size_t n, int32_t *day);
/* Reads a walked row's day into r->day: 0, or -1 if it is not a date
 * (such a row never counts). */
int evrow_day(struct evrow *);
/* 1 if a walked row passes the lab value range and unit (reads them only
 * when asked: the unit costs a table lookup). */
int evrow_counts(const struct evrow *);

#endif
