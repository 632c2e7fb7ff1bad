/*
 * engine.c — owns the engine's life cycle and one run of a query: open
 * the hardened connection, keep the person cache fresh, pick the index
 * events, evaluate the criteria, count the strata, and hold the time and
 * memory limits over all of it. It never suppresses cells and never
 * writes to the database.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "eventset.h"
#include "query.h"
#include "util.h"

struct engine *
engine_open(const char *db_path, const struct engine_limits *lim, char *err,
    size_t errlen)
{
	struct engine *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	if (lim != NULL)
		e->lim = *lim;
	if (e->lim.timeout_ms == 0)
		e->lim.timeout_ms = ENGINE_TIMEOUT_MS;
	if (e->lim.mem_bytes == 0)
		e->lim.mem_bytes = ENGINE_MEM_BYTES;
	if (e->lim.cache_bytes == 0)
		e->lim.cache_bytes = ENGINE_CACHE_BYTES;
	e->mem.cap = e->lim.mem_bytes;
	/* The code cache: a quarter of the memory budget at most. */
	e->codes.max = e->lim.codes_bytes == 0	     ? ENGINE_CODES_BYTES
	    : e->lim.codes_bytes == ENGINE_CODES_OFF ? 0
						     : e->lim.codes_bytes;
	if (e->codes.max > e->mem.cap / 4)
		e->codes.max = e->mem.cap / 4;
	if (e->lim.plan != ENGINE_PLAN_AUTO)
		e->codes.max = 0;
	evcost_init(&e->cost);
	if ((e->ds = dbsafe_open(db_path, e->lim.cache_bytes, err, errlen)) ==
	    NULL) {
		free(e);
		return NULL;
	}
	/* A DB without the engine's indexes is refused now, by name. */
	if (eventset_prepare(e->ds, err, errlen) == -1) {
		engine_close(e);
		return NULL;
	}
	return e;
}

void
engine_close(struct engine *e)
{
	if (e == NULL)
		return;
	persons_free(&e->persons, &e->mem);
	codes_free(&e->codes, &e->mem);
	dbsafe_close(e->ds);
	free(e);
}

void
engine_stats(const struct engine *e, struct engine_stats *st)
{
	*st = e->stats;
}

static int
query_ok(const Tally__Query *q, char *err, size_t errlen)
{
	if (q == NULL)
		return errf(err, errlen, "no query");
	if (q->n_criteria > QUERY_MAX_NODES)
		return errf(err, errlen, "criteria: more than %d nodes",
		    QUERY_MAX_NODES);
	if (q->n_strata > TABLE_MAX_STRATA)
		return errf(
		    err, errlen, "strata: more than %d", TABLE_MAX_STRATA);
	return 0;
}

/* Index events, criteria, strata, inside the run's read transaction. */
static int
run_query(
    struct run *r, const char *site, const char *consortium, struct table **out)
{
	struct mem *m = &r->eng->mem;
	uint64_t *live = NULL, *kept = NULL;
	int rc = -1;

	if (index_events(r, r->err, r->errlen) == -1)
		goto done;
	r->eng->stats.index_events = r->ev.n;
	r->words = (r->ev.n + 63) / 64;
	live = mem_calloc(m, r->words ? r->words : 1, 8, r->err, r->errlen);
	kept = mem_calloc(m, r->words ? r->words : 1, 8, r->err, r->errlen);
	if (live == NULL || kept == NULL)
		goto done;
	for (size_t e = 0; e < r->ev.n; e++)
		live[e / 64] |= (uint64_t)1 << (e % 64);
	if (r->q->n_criteria == 0)
		memcpy(kept, live, r->words * 8);
	else if (criteria_eval(r, 0, live, kept) == -1)
		goto done;
	rc = strata_count(r, kept, site, consortium, out);
done:
	mem_free(m, live);
	mem_free(m, kept);
	index_events_free(r);
	return rc;
}

void
engine_limit_next(struct engine *e, uint64_t timeout_ms)
{
	e->next_timeout_ms = timeout_ms;
}

int
engine_run(struct engine *e, const Tally__Query *q, const char *site,
    const char *consortium, struct table **out, char *err, size_t errlen)
{
	struct run r;
	uint64_t t0 = clock_us(), version, limit = e->lim.timeout_ms;
	int rc = -1;

	*out = NULL;
	if (e->next_timeout_ms != 0 && e->next_timeout_ms < limit)
		limit = e->next_timeout_ms;
	e->next_timeout_ms = 0;
	if (query_ok(q, err, errlen) == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	r.eng = e;
	r.q = q;
	r.err = err;
	r.errlen = errlen;
	memset(&e->stats, 0, sizeof(e->stats));
	e->mem.peak = e->mem.used;
	dbsafe_deadline(e->ds, clock_ms() + limit, limit);
	if (dbsafe_begin(e->ds, &version, err, errlen) == -1)
		goto done;
	if (!e->persons.loaded || e->persons.version != version) {
		if (persons_load(&e->persons, e->ds, &e->mem, err, errlen) ==
		    -1)
			goto done;
		e->persons.version = version;
	}
	codes_check(&e->codes, &e->mem, version);
	rc = run_query(&r, site, consortium, out);
done:
	dbsafe_end(e->ds);
	e->stats.run_us = clock_us() - t0;
	e->stats.mem_peak = e->mem.peak;
	e->stats.mem_persons = e->persons.bytes;
	e->stats.mem_codes = e->codes.bytes;
	return rc;
}
