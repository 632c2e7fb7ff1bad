/*
 * result.h — the result document: what `tally local`, `submit` and
 * `results` show, as JSON (the DESIGN.md section 7 contract) and as a
 * readable table, and the Table message a released table travels in.
 *
 * JSON, one row per listed cell (a key not listed has count 0):
 *   {"query_id": "q-1", "status": "complete", "min_cell": 10,
 *    "sites": {"total": 43, "answered": 42, "failed": [],
 *              "timed_out": ["kims-eye"], "refused": []},
 *    "strata": ["sex", "age_band"],
 *    "rows": [{"sex": "F", "age_band": "60-69", "count": 412},
 *             {"sex": "M", "age_band": "90+", "suppressed": true,
 *              "reason": "primary"},
 *             {"sex": "F", "age_band": "90+", "low": 31, "high": 39}],
 *    "total": {"count": 5120},
 *    "by_site": [{"site": "snuh", "rows": [...], "total": {...}}]}
 * Stratum values are strings. A cell and a total carry exactly one of
 * "count", "low" + "high", or "suppressed": true with "reason" "primary"
 * or "complementary". "total" is null when there is no table (no site
 * answered); "by_site" is present only when per-site tables are.
 * "status" is "complete", "partial" or "failed" ("running" while a query
 * is still out).
 */
#ifndef TALLY_RESULT_H
#define TALLY_RESULT_H

#include <stdio.h>

#include <jansson.h>

#include "table.h"
#include "tally.pb-c.h"

#define RESULT_ID_MAX 128 /* bytes of a query id, with NUL */

enum result_status {
	RESULT_RUNNING,
	RESULT_COMPLETE,
	RESULT_PARTIAL,
	RESULT_FAILED,
};

struct result_names {
	size_t n;
	char **v;
};

struct result {
	char query_id[RESULT_ID_MAX];
	enum result_status status;
	unsigned min_cell;
	int nstrata, strata[TABLE_MAX_STRATA];
	struct {
		unsigned total, answered;
		struct result_names failed, timed_out, refused;
	} sites;
	struct table *pooled;	    /* owned; NULL when no table */
	struct site_table *by_site; /* owned; NULL unless per-site tables */
	size_t nby_site;
};

/* An empty result (status running); NULL (logged) if query_id is too
 * long or memory runs out. */
struct result *result_new(const char *query_id);
void result_free(struct result *);
/* Appends a copy of site to a list; -1 (logged) on no memory. */
int result_add_name(struct result_names *, const char *site);
/* Gives the result table t (owned from now on; NULL allowed): strata and
 * min_cell follow it. */
void result_set_table(struct result *, struct table *t);
const char *result_status_name(enum result_status);

/* The JSON document; NULL (logged) if memory runs out or a string is not
 * UTF-8. The caller json_decref()s it. */
json_t *result_to_json(const struct result *);
/* The readable table: strata columns, a count column ("1,240", "31–39",
 * "<10", "suppressed"), a total line, a site summary line, then one such
 * table per site when there are per-site tables. -1 on a write error. */
int result_print(FILE *, const struct result *);

/* A Table message of t, in one allocation that table_proto_free()
 * releases; NULL (logged) if memory runs out. */
Tally__Table *table_to_proto(const struct table *);
void table_proto_free(Tally__Table *);
/*
 * A table from a Table message that came from a peer: every field bounded
 * and checked (strata known and distinct, at most TABLE_MAX_CELLS cells,
 * one key value per stratum, each a printable UTF-8 string shorter than
 * TABLE_VALUE_MAX, distinct keys, exactly the fields a cell's state
 * allows, values within TABLE_SUM_MAX, min_cell within SUPPRESS_MAX_K).
 * NULL with the reason in err otherwise. The table is sorted; it is
 * zeros_masked unless the message says zeros were released.
 */
struct table *table_from_proto(const Tally__Table *, char *err, size_t errlen);
/* A result from a Result message (pooled table, per-site tables, site
 * outcomes), checked like table_from_proto(); NULL with err otherwise. */
struct result *result_from_proto(
    const Tally__Result *, char *err, size_t errlen);

#endif
