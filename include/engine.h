/*
 * engine.h — the node query engine: runs a compiled cohort query
 * (Tally__Query, semantics in docs/query-language.md) against a Baseline
 * DB and returns one exact count per stratum cell plus the total, BEFORE
 * disclosure control (suppress.c decides what may leave the node).
 *
 * Usage (one engine per Baseline DB, kept open across queries):
 *
 *	struct engine_limits lim = { 0 };	// zero fields take defaults
 *	struct engine *e = engine_open("snuh.db", &lim, err, sizeof(err));
 *	struct table *t;
 *	if (engine_run(e, q, "snuh", "4", &t, err, sizeof(err)) == 0) {
 *		... t->cells[i].count, t->total.count ...
 *		table_free(t);
 *	}
 *	engine_close(e);
 *
 * The DB is opened read-only through a hardened connection (dbsafe.h):
 * nothing a query contains ever reaches SQL text, and a run that exceeds
 * its time or memory limit fails with a message saying so. An engine is
 * not thread-safe; open one per thread.
 *
 * How a run works (lib/engine*.c, lib/eventset*.c): person attributes
 * are cached by the engine (one 16-byte slot per person, reloaded when
 * the DB's content changes), and so are the rows of codes seen in more
 * than one run (persons and days, a byte budget, least recently used
 * out first, dropped when the DB's content changes); the index
 * criterion's codes are walked in
 * the covering index's (code, person, day) order, keeping each person's
 * first/last day or every day; the criteria tree is evaluated a set of
 * index events at a time, cheap person criteria first, each event
 * criterion walking its codes merged with the still-undecided persons
 * and counting rows per index event with +1/-1 marks. Memory grows with
 * persons and index events, never with rows. All within one read
 * transaction, so a run sees one snapshot.
 */
#ifndef TALLY_ENGINE_H
#define TALLY_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"
#include "tally.pb-c.h"

#define ENGINE_TIMEOUT_MS  60000	  /* default per-run time limit */
#define ENGINE_MEM_BYTES   (1024ul << 20) /* default engine memory cap */
#define ENGINE_CACHE_BYTES (64ul << 20)	  /* default SQLite page cache */
#define ENGINE_CODES_BYTES (128ul << 20)  /* default code cache */
#define ENGINE_CODES_OFF   SIZE_MAX	  /* codes_bytes: no code cache */

/* How event criteria read their rows (ENGINE_PLAN_AUTO but for tests and
 * benchmarks): scan the code's index range once, or seek per person. */
enum engine_plan {
	ENGINE_PLAN_AUTO,
	ENGINE_PLAN_SCAN,
	ENGINE_PLAN_PROBE,
};

struct engine_limits {
	uint64_t timeout_ms; /* per engine_run(); 0: ENGINE_TIMEOUT_MS */
	size_t mem_bytes;    /* engine's own allocations; 0: default */
	size_t cache_bytes;  /* SQLite page cache; 0: default */
	int plan;	     /* enum engine_plan */
	/* Code cache (ENGINE_PLAN_AUTO only): 0: ENGINE_CODES_BYTES, at
	 * most a quarter of mem_bytes; ENGINE_CODES_OFF: none. */
	size_t codes_bytes;
};

/* Figures about the last run, for logs, metrics and benchmarks. */
struct engine_stats {
	uint64_t run_us;       /* wall time of the last engine_run() */
	uint64_t rows;	       /* DB rows the last run read */
	uint64_t probes;       /* per-person index seeks it made */
	uint64_t index_events; /* index events before criteria */
	size_t mem_peak;       /* high-water mark of the engine's allocations */
	size_t mem_persons;    /* bytes held by the person cache */
	size_t mem_codes;      /* bytes held by the code cache */
	uint64_t code_hits;    /* codes the last run read from the cache */
	uint64_t code_loads;   /* codes it read whole into the cache */
};

/*
 * Opens db_path read-only and checks that it is a Baseline DB with the
 * engine's indexes. NULL with the reason in err on failure.
 */
struct engine *engine_open(const char *db_path, const struct engine_limits *,
    char *err, size_t errlen);
/*
 * Runs q (which has passed query_check(); malformed trees are refused,
 * never followed out of bounds). site and consortium are this node's
 * values for those strata. On success *out is a new table (sorted, zero
 * cells omitted, min_cell 0; a query without strata has no cells, only
 * the total) the caller frees with table_free().
 */
int engine_run(struct engine *, const Tally__Query *q, const char *site,
    const char *consortium, struct table **out, char *err, size_t errlen);
/*
 * The next engine_run() only stops after timeout_ms if that is sooner than
 * the configured limit (a task whose query deadline is near).
 */
void engine_limit_next(struct engine *, uint64_t timeout_ms);
void engine_stats(const struct engine *, struct engine_stats *);
void engine_close(struct engine *);

#endif
