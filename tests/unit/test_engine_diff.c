/*
 * test_engine_diff.c — differential test of the engine against an
 * independent, straightforward SQL formulation of the same semantics
 * (docs/query-language.md): random synthetic Baseline DBs with dense
 * collisions on codes and dates, random queries over every kind,
 * window, occurrence and stratum, every cell compared before
 * suppression, under all three read plans and from the code cache
 * (default and tiny budgets, each query twice). Seeds are fixed; a failure
 * prints the seed, the query number and the reference SQL.
 *
 * The SQL here is test code: it is built from the test's own generated
 * values (fixed pools of plain codes), never from outside input.
 */
#include "testutil.h"
#include "test_engine.h"

#include <stdarg.h>

#include "date.h"
#include "util.h"

#define NDB	4     /* databases (seeds) */
#define NQUERY	40    /* queries per database */
#define DAY0	17897 /* 2019-01-01 */
#define NDAYS	730   /* event dates span two years */
#define SQL_MAX 65536 /* bytes of one reference statement */

/* ------------------------------------------------------------ random */

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static int
pick(uint64_t *s, int n)
{
	return (int)(rnd(s) % (uint64_t)n);
}

/* In [lo, hi]. */
static int
between(uint64_t *s, int lo, int hi)
{
	return lo + pick(s, hi - lo + 1);
}

static int
chance(uint64_t *s, int percent)
{
	return pick(s, 100) < percent;
}

/* ------------------------------------------------------------ text */

struct buf {
	char *p;
	size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < b->cap - b->n)
			break;
		b->cap = b->cap * 2 + (size_t)n + 64;
		b->p = t_grow(b->p, b->cap, 1);
	}
	b->n += (size_t)n;
}

static void
date_sql(char *out, int day)
{
	int32_t d = day;
	int y;
	unsigned m, dd;

	date_to_ymd(d, &y, &m, &dd);
	snprintf(out, 11, "%04d-%02u-%02u", y, m, dd);
}

/* ------------------------------------------------------------ tables */

struct kind {
	Tally__Kind kind;
	const char *table, *date;
	const char *const *codes; /* "SYS:CODE" */
	int ncodes;
};

static const char *const diag_codes[] = { "KCD8:I48", "KCD8:I480", "KCD8:I48.0",
	"KCD8:I48.91", "KCD8:I4", "KCD8:G47.3", "KCD8:G47.31", "KCD8:G47.4",
	"KCD8:E11", "KCD8:E11.9", "ICD10:I48", "ICD10:E11" };
static const char *const lab_codes[] = { "LOINC:4548-4", "LOINC:2345-7",
	"EDI:C3811", "LOINC:4548-5" };
static const char *const drug_codes[] = { "ATC:B01AA03", "ATC:B01AA07",
	"ATC:B01AF01", "ATC:A10BA02", "ATC:L01FF01" };
static const char *const proc_codes[] = { "EDI:FZ571", "EDI:FZ572", "EDI:M1234",
	"CPT4:FZ571" };
static const char *const visit_types[] = { "outpatient", "inpatient",
	"emergency" };
static const char *const units[] = { "%", "PERCENT", "mg/dL", "Mg/DL" };

static const struct kind kinds[] = {
	{ TALLY__KIND__KIND_DIAGNOSIS, "diagnosis", "diag_date", diag_codes,
	    (int)nitems(diag_codes) },
	{ TALLY__KIND__KIND_LAB, "lab", "lab_date", lab_codes,
	    (int)nitems(lab_codes) },
	{ TALLY__KIND__KIND_DRUG, "drug", "start_date", drug_codes,
	    (int)nitems(drug_codes) },
	{ TALLY__KIND__KIND_PROCEDURE, "procedure", "proc_date", proc_codes,
	    (int)nitems(proc_codes) },
	{ TALLY__KIND__KIND_VISIT, "visit", "start_date", visit_types,
	    (int)nitems(visit_types) },
};

static const struct kind *
kind_of(Tally__Kind k)
{
	for (size_t i = 0; i < nitems(kinds); i++)
		if (kinds[i].kind == k)
			return &kinds[i];
	fail_msg("no kind %d", (int)k);
	return NULL;
}

/* ------------------------------------------------------------ database */

struct pop {
	int n;
	int64_t *ids;
};

static int64_t
some_person(uint64_t *s, const struct pop *pop)
{
	/* A few rows belong to no person at all. */
	if (chance(s, 2))
		return 999999999;
	return pop->ids[pick(s, pop->n)];
}

static void
split(const char *code, char *sys, char *c)
{
	const char *colon = strchr(code, ':');

	memcpy(sys, code, (size_t)(colon - code));
	sys[colon - code] = '\0';
	strcpy(c, colon + 1);
}

static void
fill_events(sqlite3 *d, uint64_t *s, const struct pop *pop,
    const struct kind *k, int rows)
{
	struct buf b = { 0 };
	char sys[32], code[32], date[11];

	for (int i = 0; i < rows; i++) {
		b.n = 0;
		date_sql(date, DAY0 + pick(s, NDAYS));
		if (k->kind == TALLY__KIND__KIND_VISIT) {
			int t = pick(s, 4);

			bprintf(&b,
			    "INSERT INTO visit (person_id, visit_type,"
			    " start_date) VALUES (%lld, %s%s%s, '%s')",
			    (long long)some_person(s, pop), t < 3 ? "'" : "",
			    t < 3 ? visit_types[t] : "NULL", t < 3 ? "'" : "",
			    date);
		} else {
			split(k->codes[pick(s, k->ncodes)], sys, code);
			bprintf(&b,
			    "INSERT INTO %s (person_id, %s, code, code_system)"
			    " VALUES (%lld, '%s', '%s', '%s')",
			    k->table, k->date, (long long)some_person(s, pop),
			    date, code, sys);
		}
		t_exec(d, b.p);
		if (k->kind == TALLY__KIND__KIND_LAB) {
			int u = pick(s, 5);

			b.n = 0;
			if (chance(s, 15))
				bprintf(&b, "UPDATE lab SET value_num = NULL");
			else if (chance(s, 10))
				bprintf(&b, "UPDATE lab SET value_num = 6.5");
			else
				bprintf(&b, "UPDATE lab SET value_num = %d.%d",
				    between(s, 4, 9), pick(s, 10));
			bprintf(&b, ", unit = %s%s%s WHERE rowid = %lld",
			    u < 4 ? "'" : "", u < 4 ? units[u] : "NULL",
			    u < 4 ? "'" : "",
			    (long long)sqlite3_last_insert_rowid(d));
			t_exec(d, b.p);
		}
	}
	free(b.p);
}

static void
db_build(const char *path, uint64_t seed, int sparse)
{
	uint64_t s = seed;
	sqlite3 *d = t_db_new(path);
	struct pop pop = { between(&s, 120, 250), NULL };
	struct buf b = { 0 };
	static const char *const sexes[] = { "'M'", "'F'", "'U'", "NULL" };

	pop.ids = t_grow(NULL, (size_t)pop.n, sizeof(*pop.ids));
	for (int i = 0; i < pop.n; i++) {
		char death[16] = "NULL", birth[16] = "NULL";

		/* Dense ids with holes, ids spread apart (read lazily
		 * into a dense array) or too far apart for one (read all,
		 * found by binary search). */
		pop.ids[i] = sparse == 2 ? (int64_t)i * 100003 + 5
		    : sparse ? 1000000 + (int64_t)i * 7919 + pick(&s, 50)
			     : (int64_t)i * 10 / 9 + 1;
		if (chance(&s, 20)) {
			death[0] = '\'';
			date_sql(death + 1, DAY0 + pick(&s, NDAYS + 100));
			strcat(death, "'");
		}
		if (!chance(&s, 10))
			snprintf(birth, sizeof(birth), "%d",
			    between(&s, 1915, 2021));
		b.n = 0;
		bprintf(&b,
		    "INSERT INTO person VALUES (%lld, %s, %s, %s, NULL)",
		    (long long)pop.ids[i], sexes[pick(&s, 4)], birth, death);
		t_exec(d, b.p);
	}
	fill_events(d, &s, &pop, &kinds[0], between(&s, 1200, 2500));
	fill_events(d, &s, &pop, &kinds[1], between(&s, 600, 1200));
	fill_events(d, &s, &pop, &kinds[2], between(&s, 600, 1200));
	fill_events(d, &s, &pop, &kinds[3], between(&s, 300, 700));
	fill_events(d, &s, &pop, &kinds[4], between(&s, 800, 1500));
	t_db_done(d);
	free(pop.ids);
	free(b.p);
}

/* ------------------------------------------------------------ queries */

/* A code from the pool, exact or cut to a prefix. */
static void
random_code(uint64_t *s, const struct kind *k, char *out, size_t len)
{
	const char *c = k->codes[pick(s, k->ncodes)];
	const char *colon = strchr(c, ':');
	size_t clen = strlen(colon + 1);

	if (chance(s, 50)) {
		snprintf(out, len, "%s", c);
		return;
	}
	snprintf(out, len, "%.*s*",
	    (int)((size_t)(colon - c) + 1 + (size_t)between(s, 1, (int)clen)),
	    c);
}

static Tally__Criterion *
random_event(uint64_t *s, const struct kind *k, int as_index)
{
	Tally__Criterion *c = c_new(k->kind);
	int n = between(s, k->kind == TALLY__KIND__KIND_VISIT ? 0 : 1, 3);
	char code[64];

	for (int i = 0; i < n; i++) {
		char ***list = k->kind == TALLY__KIND__KIND_VISIT
		    ? &c->visit_types
		    : &c->codes;
		size_t *nl = k->kind == TALLY__KIND__KIND_VISIT
		    ? &c->n_visit_types
		    : &c->n_codes;

		if (k->kind == TALLY__KIND__KIND_VISIT)
			snprintf(
			    code, sizeof(code), "%s", visit_types[pick(s, 3)]);
		else
			random_code(s, k, code, sizeof(code));
		*list = t_grow(*list, *nl + 1, sizeof(char *));
		(*list)[(*nl)++] = t_strdup(code);
	}
	if (k->kind == TALLY__KIND__KIND_LAB)
		c_value(c, chance(s, 30) ? between(s, 50, 80) / 10.0 : NAN,
		    chance(s, 20) ? between(s, 60, 90) / 10.0 : NAN,
		    chance(s, 20) ? units[pick(s, 4)] : NULL);
	if (as_index)
		return c;
	if (chance(s, 80)) {
		int from = between(s, -400, 400), to = from + pick(s, 400);

		c_window(
		    c, chance(s, 10) ? NONE : from, chance(s, 10) ? NONE : to);
	}
	c_count(c, chance(s, 60) ? NONE : between(s, 0, 3),
	    chance(s, 75) ? NONE : between(s, 0, 4));
	return c;
}

static Tally__Criterion *
random_leaf(uint64_t *s)
{
	Tally__Criterion *c;
	static const char *const sexsets[] = { "M", "F", "U", "M,F", "F,U" };

	switch (pick(s, 8)) {
	case 0:
		return c_age(chance(s, 50) ? between(s, 0, 80) : NONE,
		    chance(s, 50) ? between(s, 20, 110) : NONE);
	case 1:
		return c_sex(sexsets[pick(s, (int)nitems(sexsets))]);
	case 2:
		c = c_new(TALLY__KIND__KIND_DEATH);
		if (chance(s, 60)) {
			int from = between(s, -100, 400);

			c_window(c, from, from + pick(s, 400));
		}
		return c;
	default:
		return random_event(s, &kinds[pick(s, (int)nitems(kinds))], 0);
	}
}

/* Appends a random subtree under parent. */
static void
random_tree(uint64_t *s, Tally__Query *q, int parent, int depth)
{
	int r = pick(s, 10);
	uint32_t me;

	if (depth >= 3 || r < 5) {
		q_add(q, parent, random_leaf(s));
		return;
	}
	if (r < 7) {
		me = q_add(q, parent, c_new(TALLY__KIND__KIND_NOT));
		random_tree(s, q, (int)me, depth + 1);
		return;
	}
	me = q_add(q, parent,
	    c_new(r < 9 ? TALLY__KIND__KIND_ALL : TALLY__KIND__KIND_ANY));
	for (int i = between(s, 0, 3); i > 0; i--)
		random_tree(s, q, (int)me, depth + 1);
}

static Tally__Query *
random_query(uint64_t *s)
{
	const struct kind *k = &kinds[pick(s, (int)nitems(kinds))];
	char from[11], to[11];
	int a = pick(s, NDAYS), b = a + pick(s, NDAYS);
	Tally__Query *q;
	int used[6] = { 0 };

	date_sql(from, DAY0 + a);
	date_sql(to, DAY0 + b);
	q = q_new(random_event(s, k, 1), (Tally__Occurrence)pick(s, 3),
	    chance(s, 60) ? from : NULL, chance(s, 60) ? to : NULL);
	if (chance(s, 85))
		random_tree(s, q, -1, 0);
	for (int i = pick(s, 4); i > 0; i--) {
		int st = between(s, 1, 5);

		if (!used[st]) {
			used[st] = 1;
			q_stratum(q, (Tally__Stratum)st);
		}
	}
	return q;
}

/* ------------------------------------------------------------ reference SQL */

#define DAYNUM(x) "(julianday(" x ") - 2440587.5)"

static void
sql_codes(struct buf *b, const struct kind *k, const Tally__Criterion *c,
    const char *t)
{
	char sys[80], code[80];

	bprintf(b, "(0");
	if (k->kind == TALLY__KIND__KIND_VISIT) {
		if (c->n_visit_types == 0)
			bprintf(b, " OR 1");
		for (size_t i = 0; i < c->n_visit_types; i++)
			bprintf(b, " OR %s.visit_type = '%s'", t,
			    c->visit_types[i]);
	}
	for (size_t i = 0; i < c->n_codes; i++) {
		size_t n;

		split(c->codes[i], sys, code);
		n = strlen(code);
		if (code[n - 1] == '*') {
			code[n - 1] = '\0';
			bprintf(b,
			    " OR (%s.code_system = '%s' AND"
			    " substr(%s.code, 1, %zu) = '%s')",
			    t, sys, t, n - 1, code);
		} else
			bprintf(b,
			    " OR (%s.code_system = '%s' AND %s.code = '%s')", t,
			    sys, t, code);
	}
	bprintf(b, ")");
	if (c->has_value_min)
		bprintf(b, " AND %s.value_num >= %.17g", t, c->value_min);
	if (c->has_value_max)
		bprintf(b, " AND %s.value_num <= %.17g", t, c->value_max);
	if (c->unit != NULL)
		bprintf(b, " AND lower(%s.unit) = lower('%s')", t, c->unit);
}

static void sql_criterion(struct buf *, const Tally__Query *, uint32_t);

static void
sql_event(struct buf *b, const Tally__Criterion *c)
{
	const struct kind *k = kind_of(c->kind);
	char day[64];

	snprintf(day, sizeof(day), DAYNUM("t.%s"), k->date);
	bprintf(b, "((SELECT count(*) FROM %s t WHERE t.person_id = k.pid AND ",
	    k->table);
	sql_codes(b, k, c, "t");
	if (c->has_window_from)
		bprintf(b, " AND %s >= k.day + %d", day, c->window_from);
	if (c->has_window_to)
		bprintf(b, " AND %s <= k.day + %d", day, c->window_to);
	bprintf(b, ") >= %u", c->has_at_least ? c->at_least : 1);
	if (c->has_at_most)
		bprintf(b,
		    " AND (SELECT count(*) FROM %s t WHERE"
		    " t.person_id = k.pid AND ",
		    k->table);
	if (c->has_at_most) {
		sql_codes(b, k, c, "t");
		if (c->has_window_from)
			bprintf(
			    b, " AND %s >= k.day + %d", day, c->window_from);
		if (c->has_window_to)
			bprintf(b, " AND %s <= k.day + %d", day, c->window_to);
		bprintf(b, ") <= %u", c->at_most);
	}
	bprintf(b, ")");
}

#define YEAR "CAST(strftime('%Y', k.day + 2440587.5) AS INTEGER)"

static void
sql_criterion(struct buf *b, const Tally__Query *q, uint32_t i)
{
	const Tally__Criterion *c = q->criteria[i];

	switch (c->kind) {
	case TALLY__KIND__KIND_ALL:
	case TALLY__KIND__KIND_ANY:
		bprintf(b, "(%d", c->kind == TALLY__KIND__KIND_ALL);
		for (size_t j = 0; j < c->n_children; j++) {
			bprintf(b, " %s ",
			    c->kind == TALLY__KIND__KIND_ALL ? "AND" : "OR");
			sql_criterion(b, q, c->children[j]);
		}
		bprintf(b, ")");
		break;
	case TALLY__KIND__KIND_NOT:
		bprintf(b, "(NOT ");
		sql_criterion(b, q, c->children[0]);
		bprintf(b, ")");
		break;
	case TALLY__KIND__KIND_AGE:
		bprintf(b, "(k.birth_year IS NOT NULL");
		if (c->has_age_min)
			bprintf(b, " AND %s - k.birth_year >= %d", YEAR,
			    c->age_min);
		if (c->has_age_max)
			bprintf(b, " AND %s - k.birth_year <= %d", YEAR,
			    c->age_max);
		bprintf(b, ")");
		break;
	case TALLY__KIND__KIND_SEX:
		bprintf(b, "(coalesce(k.sex, 'U') IN (''");
		for (size_t j = 0; j < c->n_sexes; j++)
			bprintf(b, ", '%s'", c->sexes[j]);
		bprintf(b, "))");
		break;
	case TALLY__KIND__KIND_DEATH:
		bprintf(b, "(k.death_date IS NOT NULL");
		if (c->has_window_from)
			bprintf(b,
			    " AND " DAYNUM("k.death_date") " >= k.day + %d",
			    c->window_from);
		if (c->has_window_to)
			bprintf(b,
			    " AND " DAYNUM("k.death_date") " <= k.day + %d",
			    c->window_to);
		bprintf(b, ")");
		break;
	default:
		sql_event(b, c);
	}
}

static const char *
sql_stratum(Tally__Stratum s)
{
	switch (s) {
	case TALLY__STRATUM__STRATUM_SEX:
		return "coalesce(k.sex, 'U')";
	case TALLY__STRATUM__STRATUM_AGE_BAND:
		return "CASE WHEN k.birth_year IS NULL THEN 'unknown'"
		       " WHEN " YEAR " - k.birth_year < 10 THEN '0-9'"
		       " WHEN " YEAR " - k.birth_year >= 90 THEN '90+'"
		       " ELSE ((" YEAR " - k.birth_year) / 10 * 10) || '-' ||"
		       " ((" YEAR " - k.birth_year) / 10 * 10 + 9) END";
	case TALLY__STRATUM__STRATUM_INDEX_YEAR:
		return "strftime('%Y', k.day + 2440587.5)";
	case TALLY__STRATUM__STRATUM_SITE:
		return "'snuh'";
	default:
		return "'4'";
	}
}

static void
sql_query(struct buf *b, const Tally__Query *q)
{
	const Tally__Criterion *ix = q->index;
	const struct kind *k = kind_of(ix->kind);
	static const char *const occ[] = {
		"SELECT pid, min(day) AS day FROM ev GROUP BY pid",
		"SELECT pid, max(day) AS day FROM ev GROUP BY pid",
		"SELECT DISTINCT pid, day FROM ev",
	};

	bprintf(b,
	    "WITH ev AS (SELECT t.person_id AS pid, " DAYNUM(
		"t.%s") " AS day FROM %s t JOIN person p ON p.person_id = "
			"t.person_id"
			" WHERE (p.death_date IS NULL OR julianday(t.%s) <="
			" julianday(p.death_date)) AND ",
	    k->date, k->table, k->date);
	sql_codes(b, k, ix, "t");
	bprintf(b,
	    "), idx AS (%s), k AS (SELECT i.pid, i.day, p.sex, p.birth_year,"
	    " p.death_date FROM idx i JOIN person p ON p.person_id = i.pid"
	    " WHERE 1",
	    occ[q->occurrence]);
	if (q->period_from != NULL)
		bprintf(b, " AND i.day >= " DAYNUM("'%s'"), q->period_from);
	if (q->period_to != NULL)
		bprintf(b, " AND i.day <= " DAYNUM("'%s'"), q->period_to);
	bprintf(b, ") SELECT count(*)");
	for (size_t i = 0; i < q->n_strata; i++)
		bprintf(b, ", %s", sql_stratum(q->strata[i]));
	bprintf(b, " FROM k WHERE ");
	if (q->n_criteria > 0)
		sql_criterion(b, q, 0);
	else
		bprintf(b, "1");
	if (q->n_strata > 0)
		bprintf(b, " GROUP BY %zu", (size_t)2);
	for (size_t i = 1; i < q->n_strata; i++)
		bprintf(b, ", %zu", i + 2);
}

/* ------------------------------------------------------------ compare */

/* Checks every reference row against t; returns the number of rows. */
static size_t
compare(sqlite3 *ref, const char *sql, const struct table *t, const char *what)
{
	sqlite3_stmt *st;
	size_t rows = 0;
	uint64_t sum = 0;
	int rc;

	if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: reference SQL: %s\n%s", what, sqlite3_errmsg(ref),
		    sql);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key[TABLE_MAX_STRATA];
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 0), got;

		if (n == 0)
			continue; /* count(*) without GROUP BY */
		for (int i = 0; i < t->nstrata; i++)
			key[i] = (const char *)sqlite3_column_text(st, i + 1);
		got = t->nstrata == 0 ? t->total.count : t_cell(t, key);
		if (got != n)
			fail_msg("%s: cell %s/%s/%s: engine %llu, SQL %llu\n%s",
			    what, t->nstrata > 0 ? key[0] : "",
			    t->nstrata > 1 ? key[1] : "",
			    t->nstrata > 2 ? key[2] : "",
			    (unsigned long long)got, (unsigned long long)n,
			    sql);
		rows++;
		sum += n;
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	if (t->nstrata == 0 ? t->ncells != 0 : rows != t->ncells)
		fail_msg("%s: engine has %zu cells, SQL %zu\n%s", what,
		    t->ncells, rows, sql);
	if (sum != t->total.count)
		fail_msg("%s: engine total %llu, SQL %llu\n%s", what,
		    (unsigned long long)t->total.count, (unsigned long long)sum,
		    sql);
	return rows;
}

/* The engines each query runs on: the three read plans without a code
 * cache, then auto with the default code cache and with one so small
 * that lists are refused or evict each other. */
#define NVAR 5

static struct engine_limits
variant(int p)
{
	struct engine_limits lim = { 0 };

	lim.plan = p < 3 ? p : ENGINE_PLAN_AUTO;
	lim.codes_bytes = p < 3 ? ENGINE_CODES_OFF : p == 3 ? 0 : 2048;
	return lim;
}

static void
differential(void **state)
{
	char *dir = test_mkdtemp(), path[600], what[128];
	size_t nonzero = 0, cells = 0, total = 0;

	(void)state;
	for (int dbi = 0; dbi < NDB; dbi++) {
		uint64_t seed = 0x7a11ull * 1000 + (uint64_t)dbi, qs = seed;
		struct engine *e[NVAR];
		sqlite3 *ref;
		char err[256];

		snprintf(path, sizeof(path), "%s/diff%d.db", dir, dbi);
		db_build(path, seed, dbi % 3);
		for (int p = 0; p < NVAR; p++) {
			struct engine_limits lim = variant(p);

			e[p] = engine_open(path, &lim, err, sizeof(err));
			if (e[p] == NULL)
				fail_msg("engine_open: %s", err);
		}
		assert_int_equal(
		    sqlite3_open_v2(path, &ref, SQLITE_OPEN_READONLY, NULL),
		    SQLITE_OK);
		for (int qi = 0; qi < NQUERY; qi++) {
			Tally__Query *q = random_query(&qs);
			struct buf b = { 0 };

			sql_query(&b, q);
			for (int p = 0; p < NVAR; p++) {
				snprintf(what, sizeof(what),
				    "seed %llu query %d variant %d",
				    (unsigned long long)seed, qi, p);
				/* Twice with a cache: its codes are then read
				 * whole (or already cached) and walked in
				 * memory. */
				for (int rep = 0; rep < 1 + (p >= 3); rep++) {
					struct table *t;

					if (engine_run(e[p], q, "snuh", "4", &t,
						err, sizeof(err)) == -1)
						fail_msg("%s: %s\n%s", what,
						    err, b.p);
					compare(ref, b.p, t, what);
					if (p == 0) {
						cells += t->ncells;
						total += t->total.count;
						nonzero += t->total.count > 0;
					}
					table_free(t);
				}
			}
			free(b.p);
			q_free(q);
		}
		sqlite3_close(ref);
		for (int p = 0; p < NVAR; p++)
			engine_close(e[p]);
	}
	print_message("%d queries x %d engines, %zu with a nonzero total,"
		      " %zu cells, %zu index events counted\n",
	    NDB * NQUERY, NVAR, nonzero, cells, total);
	/* A generator that only makes empty cohorts would prove nothing. */
	assert_true(nonzero > NDB * NQUERY / 2);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
