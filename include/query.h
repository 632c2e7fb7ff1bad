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

#endif
