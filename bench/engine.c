/*
 * bench/engine.c — the query engine against the plain SQL a careful
 * analyst would write for the same question (bench/engine/NAME.sql), on
 * the same Baseline DB, through the same SQLite library, in the same
 * process: per query the median of BENCH_REPS runs each, their ratio,
 * whether the answers agree cell by cell (a mismatch is printed loudly
 * and makes the exit status 1), and memory.
 *
 *   engine DB EXAMPLES_DIR SQL_DIR NAME...
 *
 * "warm" is a node's steady state: one engine kept open, its person
 * cache loaded and the query's codes in its code cache from earlier
 * queries. "nocache" is a kept-open engine without a code cache (what a
 * query whose codes no earlier one used pays, persons cached). "cold"
 * opens a fresh engine for the one run (what `tally local` pays). Both
 * connections get the same page cache size and no mmap; each query runs once
 * untimed first so that both find the file in the OS cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include "engine.h"
#include "query.h"
#include "table.h"
#include "util.h"

#define MAX_REPS 99

static char *
slurp(const char *dir, const char *name, const char *ext, size_t *lenp)
{
	char path[1024];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) != 0 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fprintf(stderr, "engine: cannot read %s\n", path);
		exit(1);
	}
	fclose(fp);
	buf[n] = '\0';
	*lenp = (size_t)n;
	return buf;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t
median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), u64_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The analyst's answer as a table: strata columns, then the count. */
static struct table *
sql_run(sqlite3 *db, const char *sql, const Tally__Query *q)
{
	int strata[TABLE_MAX_STRATA];
	struct table *t;
	sqlite3_stmt *st;
	const char *tail;
	int rc;

	for (size_t i = 0; i < q->n_strata; i++)
		strata[i] = (int)q->strata[i];
	if ((t = table_new(strata, (int)q->n_strata)) == NULL)
		exit(1);
	if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
		fprintf(
		    stderr, "engine: analyst SQL: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key[TABLE_MAX_STRATA];
		uint64_t n =
		    (uint64_t)sqlite3_column_int64(st, (int)q->n_strata);
		struct cell *c;

		for (size_t i = 0; i < q->n_strata; i++)
			key[i] = (const char *)sqlite3_column_text(st, (int)i);
		if (q->n_strata > 0) {
			if ((c = table_get(t, key)) == NULL)
				exit(1);
			c->count += n;
		}
		t->total.count += n;
	}
	if (rc != SQLITE_DONE) {
		fprintf(
		    stderr, "engine: analyst SQL: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_finalize(st);
	table_sort(t);
	return t;
}

/* Prints every difference; the number of them. */
static int
differences(const char *name, struct table *a, struct table *b)
{
	int bad = 0;

	if (a->total.count != b->total.count) {
		printf("MISMATCH %s: total engine %llu, SQL %llu\n", name,
		    (unsigned long long)a->total.count,
		    (unsigned long long)b->total.count);
		bad++;
	}
	for (int pass = 0; pass < 2; pass++) {
		struct table *x = pass ? b : a, *y = pass ? a : b;

		for (size_t i = 0; i < x->ncells; i++) {
			const char *key[TABLE_MAX_STRATA];
			struct cell *c;
			uint64_t other = 0;

			for (int k = 0; k < x->nstrata; k++)
				key[k] = x->cells[i].key[k];
			for (size_t j = 0; j < y->ncells; j++) {
				c = &y->cells[j];
				int same = 1;

				for (int k = 0; k < y->nstrata; k++)
					same &= strcmp(c->key[k], key[k]) == 0;
				if (same)
					other = c->count;
			}
			if (other != x->cells[i].count) {
				printf("MISMATCH %s: cell %s %s %s: %s %llu,"
				       " %s %llu\n",
				    name, key[0], x->nstrata > 1 ? key[1] : "",
				    x->nstrata > 2 ? key[2] : "",
				    pass ? "SQL" : "engine",
				    (unsigned long long)x->cells[i].count,
				    pass ? "engine" : "SQL",
				    (unsigned long long)other);
				bad++;
			}
		}
	}
	return bad;
}

struct result {
	uint64_t engine_us, sql_us, cold_us, nc_us;
	struct engine_stats st;
	uint64_t total;
	int bad;
};

static void
bench_one(const char *db, struct engine *e, struct engine *enc, sqlite3 *ref,
    const char *name, const Tally__Query *q, const char *sql, const char *site,
    const char *cons, int reps, struct result *r)
{
	uint64_t te[MAX_REPS], ts[MAX_REPS], tn[MAX_REPS], t0;
	struct table *t = NULL, *s = NULL, *u = NULL;
	char err[512];

	/* A code enters the cache the second time it is needed: one more
	 * untimed run, so that the timed ones find the query's codes there. */
	if (engine_run(e, q, site, cons, &t, err, sizeof(err)) == -1) {
		fprintf(stderr, "engine: %s: %s\n", name, err);
		exit(1);
	}
	for (int i = -1; i < reps; i++) { /* i = -1: warm-up, untimed */
		table_free(t);
		table_free(s);
		table_free(u);
		t0 = clock_us();
		if (engine_run(e, q, site, cons, &t, err, sizeof(err)) == -1) {
			fprintf(stderr, "engine: %s: %s\n", name, err);
			exit(1);
		}
		if (i >= 0)
			te[i] = clock_us() - t0;
		engine_stats(e, &r->st);
		t0 = clock_us();
		if (engine_run(enc, q, site, cons, &u, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "engine: %s: %s\n", name, err);
			exit(1);
		}
		if (i >= 0)
			tn[i] = clock_us() - t0;
		t0 = clock_us();
		s = sql_run(ref, sql, q);
		if (i >= 0)
			ts[i] = clock_us() - t0;
	}
	r->bad = differences(name, u, s);
	table_free(u);
	r->engine_us = median(te, reps);
	r->nc_us = median(tn, reps);
	r->sql_us = median(ts, reps);
	r->bad += differences(name, t, s);
	r->total = t->total.count;
	table_free(t);
	table_free(s);
	{
		struct engine_limits lim = { 0 };
		struct engine *c;

		t0 = clock_us();
		if ((c = engine_open(db, &lim, err, sizeof(err))) == NULL ||
		    engine_run(c, q, site, cons, &t, err, sizeof(err)) == -1) {
			fprintf(stderr, "engine: cold %s: %s\n", name, err);
			exit(1);
		}
		r->cold_us = clock_us() - t0;
		table_free(t);
		engine_close(c);
	}
}

static void
meta(sqlite3 *db, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st;

	snprintf(out, len, "?");
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1,
		&st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

struct bench {
	const char *db, *examples, *sqldir;
	int reps;
	struct engine *e, *enc; /* with and without a code cache */
	sqlite3 *ref;
	char site[64], cons[64];
	double ratio[64], cold[64], nc[64];
	size_t peak, codes;
	int bad;
};

static double
middle(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Opens the engine and the analyst's plain connection (same cache). */
static int
bench_open(struct bench *b)
{
	char err[512], sql[96];

	struct engine_limits nocache = { .codes_bytes = ENGINE_CODES_OFF };

	if ((b->e = engine_open(b->db, NULL, err, sizeof(err))) == NULL ||
	    (b->enc = engine_open(b->db, &nocache, err, sizeof(err))) == NULL) {
		fprintf(stderr, "engine: %s\n", err);
		return -1;
	}
	if (sqlite3_open_v2(b->db, &b->ref, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "engine: %s\n", sqlite3_errmsg(b->ref));
		return -1;
	}
	snprintf(sql, sizeof(sql),
	    "PRAGMA cache_size = -%lu; PRAGMA mmap_size = 0",
	    ENGINE_CACHE_BYTES / 1024);
	sqlite3_exec(b->ref, sql, NULL, NULL, NULL);
	meta(b->ref, "hospital_id", b->site, sizeof(b->site));
	meta(b->ref, "consortium", b->cons, sizeof(b->cons));
	return 0;
}

/* Runs and prints query number i. */
static int
bench_query(struct bench *b, int i, const char *name)
{
	size_t jlen, slen;
	char *json = slurp(b->examples, name, "json", &jlen);
	char *sql = slurp(b->sqldir, name, "sql", &slen);
	char err[512];
	Tally__Query *q;
	struct result r;

	if (query_from_json(json, jlen, &q, err, sizeof(err)) == -1) {
		fprintf(stderr, "engine: %s: %s\n", name, err);
		return -1;
	}
	bench_one(b->db, b->e, b->enc, b->ref, name, q, sql, b->site, b->cons,
	    b->reps, &r);
	b->ratio[i] =
	    (double)r.sql_us / (double)(r.engine_us ? r.engine_us : 1);
	b->cold[i] = (double)r.sql_us / (double)(r.cold_us ? r.cold_us : 1);
	b->nc[i] = (double)r.sql_us / (double)(r.nc_us ? r.nc_us : 1);
	if (r.st.mem_peak > b->peak)
		b->peak = r.st.mem_peak;
	b->codes = r.st.mem_codes;
	printf("%-17s %9.1f %9.1f %6.1fx %9.1f %6.1fx %9.1f %6.1fx %6s %8llu"
	       " %8llu %9llu %8llu %7.1f%s\n",
	    name, r.engine_us / 1e3, r.sql_us / 1e3, b->ratio[i], r.nc_us / 1e3,
	    b->nc[i], r.cold_us / 1e3, b->cold[i], r.bad ? "NO" : "yes",
	    (unsigned long long)r.st.index_events, (unsigned long long)r.total,
	    (unsigned long long)r.st.rows, (unsigned long long)r.st.probes,
	    r.st.mem_peak / 1048576.0, r.bad ? "  <-- MISMATCH" : "");
	b->bad += r.bad;
	query_free(q);
	free(json);
	free(sql);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *env = getenv("BENCH_REPS");
	struct bench b;
	int nq = argc - 4;
	struct rusage ru;

	memset(&b, 0, sizeof(b));
	b.reps = env ? atoi(env) : 5;
	if (argc < 5 || nq > 64 || b.reps < 1 || b.reps > MAX_REPS) {
		fprintf(stderr,
		    "usage: engine DB EXAMPLES_DIR SQL_DIR NAME..."
		    " (BENCH_REPS 1..%d)\n",
		    MAX_REPS);
		return 2;
	}
	b.db = argv[1], b.examples = argv[2], b.sqldir = argv[3];
	if (bench_open(&b) == -1)
		return 1;
	printf("%-17s %9s %9s %7s %9s %7s %9s %7s %6s %8s %8s %9s %8s %7s\n",
	    "query", "engine_ms", "sql_ms", "ratio", "nocache", "n_ratio",
	    "cold_ms", "c_ratio", "agree", "index", "total", "rows", "probes",
	    "mem_MB");
	for (int i = 0; i < nq; i++)
		if (bench_query(&b, i, argv[4 + i]) == -1)
			return 1;
	printf("median speed-up over the analyst's SQL: %.1fx warm, %.1fx"
	       " warm without the code cache, %.1fx cold (%d queries, median"
	       " of %d runs each)\n",
	    middle(b.ratio, nq), middle(b.nc, nq), middle(b.cold, nq), nq,
	    b.reps);
	getrusage(RUSAGE_SELF, &ru);
	printf("engine memory: peak %.1f MB of its own allocations (person "
	       "and code caches included; code cache %.1f MB at the end);"
	       " process maxrss %.1f MB (three SQLite caches included)\n",
	    b.peak / 1048576.0, b.codes / 1048576.0, ru.ru_maxrss / 1024.0);
	if (b.bad)
		printf("MISMATCH: %d cells differ between engine and SQL\n",
		    b.bad);
	sqlite3_close(b.ref);
	engine_close(b.e);
	engine_close(b.enc);
	return b.bad ? 1 : 0;
}
