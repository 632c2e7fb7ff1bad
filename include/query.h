/*
 * query.h — the cohort query language: JSON for people (docs/
 * query-language.md), a compiled Tally__Query (proto/tally.proto) on the
 * wire and in the engine.
 *
 * Every Tally__Query that reaches the engine has passed query_check(),
 * whether it was compiled here from JSON or unpacked from a peer.
 */
#ifndef TALLY_QUERY_H
#define TALLY_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "tally.pb-c.h"

#define QUERY_MAX_BYTES (256u << 10) /* JSON or packed, either form */
#define QUERY_MAX_NODES 256	     /* criteria nodes */
#define QUERY_MAX_CODES 1024	     /* codes over the whole query */

/*
 * Compiles a JSON query. On error returns -1 with a message that names
 * the field path, e.g. "criteria.all[2].within_days: expected [from, to]
 * with from <= to".
 */
int query_from_json(
    const char *text, size_t len, Tally__Query **out, char *err, size_t errlen);
/* Validates a compiled query (bounds, child indices, kinds, fields). */
int query_check(const Tally__Query *, char *err, size_t errlen);
/* Canonical bytes of a compiled query (what an approval digest covers). */
uint8_t *query_pack(const Tally__Query *, size_t *lenp);
/* Bounded unpack of canonical bytes, followed by query_check(). */
Tally__Query *query_unpack(
    const uint8_t *buf, size_t len, char *err, size_t errlen);
/* Frees a query from query_from_json() or query_unpack(). */
void query_free(Tally__Query *);

/* ---- additions (query helper): limits and names shared with the engine,
 * the CLI and the DRB tools.
 *
 * query_from_json() compiles canonically (docs/query-language.md,
 * "Compiled form and canonical bytes") and hands back what query_unpack()
 * of those bytes gives, so query_pack() of it is the digest input and
 * query_free() releases either. */

#define QUERY_VERSION	   1	 /* Query.version; unset means 1 */
#define QUERY_MAX_CODE_LEN 64	 /* bytes of "SYSTEM:CODE*", all of it */
#define QUERY_MAX_DAYS	   36500 /* |window_from|, |window_to| */
#define QUERY_MAX_STRATA   5
#define QUERY_MAX_AGE	   150
#define QUERY_MAX_COUNT	   1000000 /* at_least, at_most */
#define QUERY_MAX_TITLE	   256	   /* bytes of UTF-8 */
#define QUERY_MAX_UNIT	   32	   /* bytes of UTF-8 */

/*
 * Checks the syntax of one code, "SYSTEM:CODE" or "SYSTEM:PREFIX*"
 * (docs/query-language.md); 0, or -1 with the reason (without a path).
 */
int query_code_check(const char *code, char *err, size_t errlen);
/* JSON names: "diagnosis", ..., "all"; "first", "last", "all". NULL for
 * a value out of range. Strata names: table_stratum_name() (table.h). */
const char *query_kind_name(int kind);
const char *query_occurrence_name(int occurrence);
/*
 * The JSON form of a checked query (the language of docs/query-language.md,
 * keys in a fixed order), so that a person sees exactly what was compiled:
 * query_from_json() of the result packs to the same bytes. pretty != 0
 * indents. Returns a malloc'd NUL-terminated string, or NULL.
 */
char *query_to_json(const Tally__Query *, int pretty);

#endif
