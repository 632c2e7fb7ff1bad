/*
 * eventset.h — the rows one event criterion (or the index) matches, read
 * straight from the Baseline DB's covering indexes as (person_id, day)
 * pairs. A code set is normalised into disjoint ranges first, so a row
 * is never delivered twice however the codes overlap ("I48*" and
 * "I48.0"). Two ways to read them:
 *
 *   - eventset_scan(): every matching row, one index range per code
 *     (code = ?, or code >= prefix AND code < prefix-successor);
 *   - eventset_probe(): the rows of one person and one exact code in a
 *     date range, one index seek (after eventset_expand() has listed
 *     the codes that exist under each prefix).
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

/* Called for each row that counts; -1 stops the read (the callback has
 * written the reason into the err buffer it was given). */
typedef int (*evrow_fn)(void *arg, int64_t person_id, int32_t day);

/* From an event criterion (codes, value range, unit, visit types). */
int eventset_init(
    struct eventset *, const Tally__Criterion *, char *err, size_t errlen);
void eventset_clear(struct eventset *);
/* 1 if kind is an event kind (DIAGNOSIS, LAB, DRUG, PROCEDURE, VISIT). */
int eventset_kind(int kind);
/* Prepares every statement once, so that a missing index is reported
 * when the engine opens rather than when a query needs it. */
int eventset_prepare(struct dbsafe *, char *err, size_t errlen);

/*
 * Every matching row. Stops early and returns 1 once more than budget
 * rows were read (0: no budget); 0 when done, -1 on error.
 */
int eventset_scan(struct eventset *, struct dbsafe *, uint64_t budget, evrow_fn,
    void *arg, char *err, size_t errlen);
/*
 * Lists into es->codes the exact codes to probe: the exact ranges and
 * every code the DB holds under each prefix. 1 if there are more than
 * max, 0 when done, -1 on error.
 */
int eventset_expand(
    struct eventset *, struct dbsafe *, size_t max, char *err, size_t errlen);
/* The rows of es->codes[code] (all visits if es->all) for one person
 * with day in [from, to]. */
int eventset_probe(struct eventset *, struct dbsafe *, size_t code,
    int64_t person_id, int32_t from, int32_t to, evrow_fn, void *arg, char *err,
    size_t errlen);

#endif
