/*
 * test_engine.c — the query engine on tiny hand-built Baseline DBs whose
 * answers are worked out by hand in the comments: windows, occurrences,
 * death, ages, codes, labs, visits, combinators, strata, errors. Every
 * query runs under all three read plans (auto, scan, probe), and again
 * from the auto engine's code cache, which must agree cell for cell.
 */
#include "testutil.h"
#include "test_engine.h"

#include <unistd.h>

#include "date.h"
#include "dbsafe.h"
#include "eventset.h"

#define KD     TALLY__KIND__KIND_DIAGNOSIS
#define KL     TALLY__KIND__KIND_LAB
#define KR     TALLY__KIND__KIND_DRUG
#define KV     TALLY__KIND__KIND_VISIT
#define FIRST  TALLY__OCCURRENCE__OCCURRENCE_FIRST
#define LAST   TALLY__OCCURRENCE__OCCURRENCE_LAST
#define ALLOCC TALLY__OCCURRENCE__OCCURRENCE_ALL

struct fx {
	char *dir;
	char path[512];
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_mkdtemp();
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	test_rmdir(f->dir);
	free(f);
	return 0;
}

static sqlite3 *
db(void **state)
{
	return t_db_new(((struct fx *)*state)->path);
}

static void
tables_equal(const struct table *a, const struct table *b)
{
	assert_int_equal(a->ncells, b->ncells);
	assert_int_equal(a->total.count, b->total.count);
	for (size_t i = 0; i < a->ncells; i++) {
		for (int k = 0; k < a->nstrata; k++)
			assert_string_equal(
			    a->cells[i].key[k], b->cells[i].key[k]);
		assert_int_equal(a->cells[i].count, b->cells[i].count);
	}
}

/* Runs q under every plan, and three times on one auto engine (the code
 * cache's first sight, read whole, hit); returns the auto plan's table. */
static struct table *
run(void **state, Tally__Query *q)
{
	struct fx *f = *state;
	struct table *t[3], *again;
	char err[256];

	for (int plan = 0; plan < 3; plan++) {
		struct engine_limits lim = { .plan = plan };
		struct engine *e = engine_open(f->path, &lim, err, sizeof(err));

		if (e == NULL)
			fail_msg("engine_open: %s", err);
		if (engine_run(e, q, "snuh", "4", &t[plan], err, sizeof(err)) ==
		    -1)
			fail_msg("engine_run (plan %d): %s", plan, err);
		for (int i = 0; plan == ENGINE_PLAN_AUTO && i < 2; i++) {
			if (engine_run(e, q, "snuh", "4", &again, err,
				sizeof(err)) == -1)
				fail_msg("engine_run (cache %d): %s", i, err);
			tables_equal(t[0], again);
			table_free(again);
		}
		engine_close(e);
	}
	tables_equal(t[0], t[1]);
	tables_equal(t[0], t[2]);
	table_free(t[1]);
	table_free(t[2]);
	return t[0];
}

/* The total of q, which it frees. */
static uint64_t
total(void **state, Tally__Query *q)
{
	struct table *t = run(state, q);
	uint64_t n = t->total.count;

	table_free(t);
	q_free(q);
	return n;
}

/* Index: first KCD8:I48 over all time; one criterion c. */
static uint64_t
with(void **state, Tally__Criterion *c)
{
	Tally__Query *q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);

	q_add(q, -1, c);
	return total(state, q);
}

static Tally__Criterion *
drug(int32_t from, int32_t to, int32_t least, int32_t most)
{
	return c_count(
	    c_window(c_event(KR, "ATC:B01AA*"), from, to), least, most);
}

/* Index 2020-03-01; drug rows at days -6, -5, -1, 0, 0, 30, 31. */
static void
windows(void **state)
{
	sqlite3 *d = db(state);

	t_exec(d,
	    "INSERT INTO person VALUES (1, 'M', 1960, NULL, NULL);"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2020-03-01', 'I48', 'KCD8', 1);"
	    "INSERT INTO drug (person_id, start_date, code, code_system)"
	    " VALUES (1, '2020-02-24', 'B01AA03', 'ATC'),"
	    " (1, '2020-02-25', 'B01AA03', 'ATC'),"
	    " (1, '2020-02-29', 'B01AA07', 'ATC'),"
	    " (1, '2020-03-01', 'B01AA03', 'ATC'),"
	    " (1, '2020-03-01', 'B01AA03', 'ATC'),"
	    " (1, '2020-03-31', 'B01AA03', 'ATC'),"
	    " (1, '2020-04-01', 'B01AA03', 'ATC'),"
	    " (1, '2020-03-02', 'B01AF01', 'ATC');");
	t_db_done(d);
	assert_int_equal(with(state, drug(0, 30, NONE, NONE)), 1);
	assert_int_equal(with(state, drug(0, 30, 3, NONE)), 1); /* 0,0,30 */
	assert_int_equal(with(state, drug(0, 30, 4, NONE)), 0);
	assert_int_equal(with(state, drug(31, 31, NONE, NONE)), 1);
	assert_int_equal(with(state, drug(32, 100, NONE, NONE)), 0);
	assert_int_equal(with(state, drug(1, 29, NONE, NONE)), 0);
	assert_int_equal(with(state, drug(-5, -1, 2, NONE)), 1);
	assert_int_equal(with(state, drug(-5, -1, 3, NONE)), 0);
	assert_int_equal(with(state, drug(-6, -6, NONE, NONE)), 1);
	assert_int_equal(with(state, drug(-7, -7, NONE, NONE)), 0);
	assert_int_equal(with(state, drug(0, 0, 2, NONE)), 1); /* same day */
	assert_int_equal(with(state, drug(0, 0, 3, NONE)), 0);
	assert_int_equal(with(state, drug(NONE, NONE, 7, NONE)), 1);
	assert_int_equal(with(state, drug(NONE, NONE, 8, NONE)), 0);
	assert_int_equal(with(state, drug(-10, 40, 1, 6)), 0);
	assert_int_equal(with(state, drug(-10, 40, 1, 7)), 1);
	assert_int_equal(with(state, drug(-10, 40, 0, 0)), 0);
	assert_int_equal(with(state, drug(40, 50, 0, 0)), 1);
	/* One side open: from 31 onwards, up to -6. */
	assert_int_equal(with(state, drug(31, NONE, 1, 1)), 1);
	assert_int_equal(with(state, drug(NONE, -6, 1, 1)), 1);
	/* B01AF01 on day 1 is outside B01AA*. */
	assert_int_equal(
	    with(state, c_window(c_event(KR, "ATC:B01AF*"), 1, 1)), 1);
}

static void
occurrences(void **state)
{
	sqlite3 *d = db(state);
	Tally__Query *q;
	struct table *t;
	static const char *const y19[] = { "2019" }, *const y20[] = { "2020" },
				 *const y21[] = { "2021" };

	t_exec(d,
	    "INSERT INTO person VALUES (1, 'M', 1960, NULL, NULL),"
	    " (2, 'F', 1970, NULL, NULL), (3, 'F', 1980, NULL, NULL);"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2019-12-31', 'I48', 'KCD8', 1),"
	    " (1, NULL, '2020-06-01', 'I48', 'KCD8', 1),"
	    " (1, NULL, '2020-06-01', 'I48', 'KCD8', 0),"
	    " (1, NULL, '2021-01-01', 'I48', 'KCD8', 1),"
	    " (2, NULL, '2020-02-01', 'I48', 'KCD8', 1),"
	    " (2, NULL, '2020-03-01', 'I48', 'KCD8', 1),"
	    " (3, NULL, '2021-02-01', 'I48', 'KCD8', 1);"
	    "INSERT INTO drug (person_id, start_date, code, code_system)"
	    " VALUES (2, '2020-03-05', 'B01AA03', 'ATC');");
	t_db_done(d);
	/* p1's first is in 2019 (incident, so out); p2's is in. */
	assert_int_equal(total(state,
			     q_new(c_event(KD, "KCD8:I48"), FIRST, "2020-01-01",
				 "2020-12-31")),
	    1);
	assert_int_equal(total(state,
			     q_new(c_event(KD, "KCD8:I48"), LAST, "2020-01-01",
				 "2020-12-31")),
	    1);
	/* p1 2020-06-01 (twice, one index), p2 two days. */
	assert_int_equal(total(state,
			     q_new(c_event(KD, "KCD8:I48"), ALLOCC,
				 "2020-01-01", "2020-12-31")),
	    3);
	assert_int_equal(
	    total(state, q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL)), 3);
	assert_int_equal(
	    total(state, q_new(c_event(KD, "KCD8:I48"), ALLOCC, NULL, NULL)),
	    6);
	/* Period ends are inclusive. */
	assert_int_equal(total(state,
			     q_new(c_event(KD, "KCD8:I48"), ALLOCC,
				 "2020-02-01", "2020-03-01")),
	    2);
	assert_int_equal(total(state,
			     q_new(c_event(KD, "KCD8:I48"), ALLOCC,
				 "2020-02-02", "2020-02-29")),
	    0);
	assert_int_equal(
	    total(state,
		q_new(c_event(KD, "KCD8:I48"), ALLOCC, "2020-03-01", NULL)),
	    4);
	q = q_new(c_event(KD, "KCD8:I48"), ALLOCC, NULL, NULL);
	q_stratum(q, TALLY__STRATUM__STRATUM_INDEX_YEAR);
	t = run(state, q);
	assert_int_equal(t->ncells, 3);
	assert_int_equal(t_cell(t, y19), 1);
	assert_int_equal(t_cell(t, y20), 3);
	assert_int_equal(t_cell(t, y21), 2);
	table_free(t);
	q_free(q);
	/* Each of p2's index days is judged on its own. */
	q = q_new(c_event(KD, "KCD8:I48"), ALLOCC, "2020-01-01", "2020-12-31");
	q_add(q, -1, c_window(c_event(KR, "ATC:B01AA03"), 0, 10));
	assert_int_equal(total(state, q), 1);
	q = q_new(c_event(KD, "KCD8:I48"), ALLOCC, "2020-01-01", "2020-12-31");
	q_add(q, -1, c_window(c_event(KR, "ATC:B01AA03"), 0, 40));
	assert_int_equal(total(state, q), 2);
}

static Tally__Criterion *
death(int32_t from, int32_t to)
{
	return c_window(c_new(TALLY__KIND__KIND_DEATH), from, to);
}

static void
deaths(void **state)
{
	sqlite3 *d = db(state);
	Tally__Query *q;

	/* p1 died 2020-05-01, I48 before and after; p2 died before its
	 * only I48; p3 alive; p4 died the day of its I48. */
	t_exec(d,
	    "INSERT INTO person VALUES"
	    " (1, 'M', 1960, '2020-05-01', NULL),"
	    " (2, 'F', 1970, '2020-01-01', NULL),"
	    " (3, 'F', 1980, NULL, NULL),"
	    " (4, 'M', 1950, '2020-03-10', NULL);"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2020-04-01', 'I48', 'KCD8', 1),"
	    " (1, NULL, '2020-06-01', 'I48', 'KCD8', 1),"
	    " (2, NULL, '2020-02-01', 'I48', 'KCD8', 1),"
	    " (3, NULL, '2020-03-01', 'I48', 'KCD8', 1),"
	    " (4, NULL, '2020-03-10', 'I48', 'KCD8', 1);"
	    "INSERT INTO drug (person_id, start_date, code, code_system)"
	    " VALUES (1, '2020-04-01', 'B01AA03', 'ATC');");
	t_db_done(d);
	for (int occ = FIRST; occ <= ALLOCC; occ++)
		assert_int_equal(total(state,
				     q_new(c_event(KD, "KCD8:I48"),
					 (Tally__Occurrence)occ, NULL, NULL)),
		    3);
	/* p1's last is 2020-04-01, not the post-mortem 2020-06-01. */
	q = q_new(c_event(KD, "KCD8:I48"), LAST, NULL, NULL);
	q_add(q, -1, c_window(c_event(KR, "ATC:B01AA03"), 0, 0));
	assert_int_equal(total(state, q), 1);
	assert_int_equal(with(state, death(NONE, NONE)), 2);
	assert_int_equal(with(state, death(0, 30)), 2); /* p1 day 30, p4 0 */
	assert_int_equal(with(state, death(0, 29)), 1);
	assert_int_equal(with(state, death(1, 30)), 1);
	assert_int_equal(with(state, death(-100, -1)), 0);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_add(q, q_add(q, -1, c_new(TALLY__KIND__KIND_NOT)), death(NONE, NONE));
	assert_int_equal(total(state, q), 1);
}

static void
ages_and_strata(void **state)
{
	sqlite3 *d = db(state);
	Tally__Query *q;
	struct table *t;
	static const char *const m[] = { "M" }, *const f[] = { "F" },
				 *const u[] = { "U" };
	static const char
	    *const b60[] = { "60-69" },
		   *const bu[] = { "unknown" }, *const b0[] = { "0-9" },
		   *const b90[] = { "90+" }, *const b10[] = { "10-19" };
	static const char *const all5[] = { "M", "10-19", "2020", "snuh", "4" };

	t_exec(d,
	    "INSERT INTO person VALUES (1, 'M', 1960, NULL, NULL),"
	    " (2, 'F', NULL, NULL, NULL), (3, NULL, 2025, NULL, NULL),"
	    " (4, 'F', 1920, NULL, NULL), (5, 'M', 2002, NULL, NULL),"
	    " (6, 'M', 2001, NULL, NULL);"
	    "INSERT INTO diagnosis SELECT person_id, NULL, '2020-06-01',"
	    " 'I48', 'KCD8', 1 FROM person;");
	t_db_done(d);
	/* Ages at 2020: 60, NULL, -5, 100, 18, 19. */
	assert_int_equal(with(state, c_age(18, NONE)), 4);
	assert_int_equal(with(state, c_age(NONE, 18)), 2);
	assert_int_equal(with(state, c_age(0, 150)), 4);
	assert_int_equal(with(state, c_age(18, 18)), 1);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_add(q, q_add(q, -1, c_new(TALLY__KIND__KIND_NOT)), c_age(18, NONE));
	assert_int_equal(total(state, q), 2); /* NULL birth year fails AGE */
	assert_int_equal(with(state, c_sex("U")), 1); /* NULL sex is U */
	assert_int_equal(with(state, c_sex("M,F")), 5);
	assert_int_equal(with(state, c_sex("F")), 2);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_stratum(q, TALLY__STRATUM__STRATUM_SEX);
	t = run(state, q);
	assert_int_equal(t->ncells, 3);
	assert_int_equal(t_cell(t, m), 3);
	assert_int_equal(t_cell(t, f), 2);
	assert_int_equal(t_cell(t, u), 1);
	assert_int_equal(t->total.count, 6);
	table_free(t);
	q_free(q);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_stratum(q, TALLY__STRATUM__STRATUM_AGE_BAND);
	t = run(state, q);
	assert_int_equal(t->ncells, 5);
	assert_int_equal(t_cell(t, b60), 1);
	assert_int_equal(t_cell(t, bu), 1);
	assert_int_equal(t_cell(t, b0), 1);
	assert_int_equal(t_cell(t, b90), 1);
	assert_int_equal(t_cell(t, b10), 2);
	table_free(t);
	q_free(q);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_stratum(q, TALLY__STRATUM__STRATUM_SEX);
	q_stratum(q, TALLY__STRATUM__STRATUM_AGE_BAND);
	q_stratum(q, TALLY__STRATUM__STRATUM_INDEX_YEAR);
	q_stratum(q, TALLY__STRATUM__STRATUM_SITE);
	q_stratum(q, TALLY__STRATUM__STRATUM_CONSORTIUM);
	t = run(state, q);
	assert_int_equal(t->nstrata, 5);
	assert_int_equal(t->strata[2], TALLY__STRATUM__STRATUM_INDEX_YEAR);
	assert_int_equal(t->ncells, 5);
	assert_int_equal(t_cell(t, all5), 2);
	assert_int_equal(t->total.count, 6);
	table_free(t);
	q_free(q);
}

/* Index: each person's outpatient visit on 2020-01-01. */
static uint64_t
visit_with(void **state, Tally__Criterion *c)
{
	Tally__Query *q = q_new(c_event(KV, "outpatient"), FIRST, NULL, NULL);

	q_add(q, -1, c);
	return total(state, q);
}

static uint64_t
index_only(void **state, Tally__Criterion *index)
{
	return total(state, q_new(index, FIRST, NULL, NULL));
}

static void
codes(void **state)
{
	sqlite3 *d = db(state);

	t_exec(d,
	    "INSERT INTO person (person_id, sex) VALUES (1, 'M'),"
	    " (2, 'M'), (3, 'M'), (4, 'M'), (5, 'M'), (6, 'M'), (7, 'M'),"
	    " (8, 'M'), (9, 'M'), (10, 'M');"
	    "INSERT INTO visit (person_id, visit_type, start_date)"
	    " SELECT person_id, 'outpatient', '2020-01-01' FROM person;"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2020-01-01', 'I48', 'KCD8', 1),"
	    " (2, NULL, '2020-01-01', 'I480', 'KCD8', 1),"
	    " (3, NULL, '2020-01-01', 'I48.0', 'KCD8', 1),"
	    " (4, NULL, '2020-01-01', 'I48.91', 'KCD8', 1),"
	    " (5, NULL, '2020-01-01', 'I48', 'ICD10', 1),"
	    " (6, NULL, '2020-01-01', 'G47.3', 'KCD8', 1),"
	    " (7, NULL, '2020-01-01', 'G47.31', 'KCD8', 1),"
	    " (8, NULL, '2020-01-01', 'G47.4', 'KCD8', 1),"
	    " (9, NULL, '2020-01-01', 'I4', 'KCD8', 1),"
	    " (10, NULL, '2020-01-01', 'i48', 'KCD8', 1),"
	    " (10, NULL, '2020-01-01', 'I48', 'kcd8', 1),"
	    /* No person's: a person_id that is text or real. */
	    " ('1x', NULL, '2020-01-01', 'I48', 'KCD8', 1),"
	    " (2.5, NULL, '2020-01-01', 'I48', 'KCD8', 1),"
	    /* Not a date: never counts. */
	    " (5, NULL, '2020-1-1', 'I48', 'KCD8', 1),"
	    " (5, NULL, 20200101, 'I48', 'KCD8', 1);");
	t_db_done(d);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:I48*")), 4);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:I48")), 1);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:I48.*")), 2);
	assert_int_equal(index_only(state, c_event(KD, "ICD10:I48")), 1);
	assert_int_equal(index_only(state, c_event(KD, "ICD10:I48*")), 1);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:G47.3*")), 2);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:G47.3")), 1);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:G47*")), 3);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:I4*")), 5);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:I49*")), 0);
	assert_int_equal(
	    index_only(state, c_event(KD, "KCD8:I48*,ICD10:I48*")), 5);
	/* Overlapping codes never count a row twice. */
	assert_int_equal(
	    visit_with(state, c_event(KD, "KCD8:I48*,KCD8:I48.0,KCD8:I48.0")),
	    4);
	assert_int_equal(visit_with(state,
			     c_count(c_event(KD,
					 "KCD8:I48*,KCD8:I48.0,"
					 "KCD8:I4*,KCD8:I48"),
				 2, NONE)),
	    0);
	assert_int_equal(
	    visit_with(state, c_event(KD, "KCD8:I48.9*,KCD8:G47.3")), 2);
}

static Tally__Criterion *
hba1c(double min, double max, const char *unit)
{
	return c_value(c_event(KL, "LOINC:4548-4"), min, max, unit);
}

static void
lab_values(void **state)
{
	sqlite3 *d = db(state);

	t_exec(d,
	    "INSERT INTO person (person_id, sex) VALUES (1, 'M'),"
	    " (2, 'M'), (3, 'M'), (4, 'M'), (5, 'M'), (6, 'M'), (7, 'M');"
	    "INSERT INTO visit (person_id, visit_type, start_date)"
	    " SELECT person_id, 'outpatient', '2020-01-01' FROM person;"
	    "INSERT INTO lab (person_id, lab_date, code, code_system,"
	    " value_num, unit) VALUES"
	    " (1, '2020-01-01', '4548-4', 'LOINC', 7.0, '%'),"
	    " (2, '2020-01-01', '4548-4', 'LOINC', 6.5, '%'),"
	    " (3, '2020-01-01', '4548-4', 'LOINC', NULL, '%'),"
	    " (4, '2020-01-01', '4548-4', 'LOINC', 6.4, 'percent'),"
	    " (5, '2020-01-01', '4548-4', 'LOINC', 8, 'mmol/mol'),"
	    " (6, '2020-01-01', '4548-4', 'LOINC', 9.0, NULL),"
	    " (7, '2020-01-01', '4548-4', 'LOINC', 7.0, 'MMOL/MOL');");
	t_db_done(d);
	assert_int_equal(index_only(state, hba1c(NAN, NAN, NULL)), 7);
	assert_int_equal(index_only(state, hba1c(6.5, NAN, NULL)), 5);
	assert_int_equal(index_only(state, hba1c(6.5, 7.0, NULL)), 3);
	assert_int_equal(index_only(state, hba1c(NAN, 6.4, NULL)), 1);
	assert_int_equal(index_only(state, hba1c(NAN, NAN, "mmol/mol")), 2);
	assert_int_equal(index_only(state, hba1c(NAN, NAN, "%")), 3);
	assert_int_equal(index_only(state, hba1c(6.5, NAN, "%")), 2);
	assert_int_equal(visit_with(state, hba1c(6.5, NAN, NULL)), 5);
	assert_int_equal(visit_with(state, hba1c(NAN, NAN, "Mmol/Mol")), 2);
	assert_int_equal(
	    visit_with(state, c_count(hba1c(6.5, NAN, NULL), 0, 0)), 2);
}

static void
visits(void **state)
{
	sqlite3 *d = db(state);

	t_exec(d,
	    "INSERT INTO person (person_id, sex) VALUES (1, 'M'),"
	    " (2, 'M'), (3, 'M'), (4, 'M');"
	    "INSERT INTO visit (person_id, visit_type, start_date) VALUES"
	    " (1, 'outpatient', '2020-01-01'),"
	    " (2, 'inpatient', '2020-01-01'),"
	    " (3, 'emergency', '2020-01-01'),"
	    " (3, 'outpatient', '2020-01-05'),"
	    " (4, NULL, '2020-01-01');");
	t_db_done(d);
	assert_int_equal(index_only(state, c_event(KV, "outpatient")), 2);
	assert_int_equal(
	    index_only(state, c_event(KV, "inpatient,emergency")), 2);
	assert_int_equal(index_only(state, c_event(KV, NULL)), 4);
	assert_int_equal(
	    total(state, q_new(c_event(KV, NULL), ALLOCC, NULL, NULL)), 5);
	{
		Tally__Query *q = q_new(c_event(KV, NULL), FIRST, NULL, NULL);

		q_add(q, -1, c_window(c_event(KV, "outpatient"), 1, 10));
		assert_int_equal(total(state, q), 1); /* p3, day 4 */
	}
}

/* p1: drug day 5 and I05 day -10; p2: drug; p3: I05; p4: neither. */
static void
combinators(void **state)
{
	sqlite3 *d = db(state);
	Tally__Query *q;
	uint32_t r, a;

	t_exec(d,
	    "INSERT INTO person (person_id, sex) VALUES (1, 'M'),"
	    " (2, 'M'), (3, 'M'), (4, 'M');"
	    "INSERT INTO diagnosis SELECT person_id, NULL, '2020-01-01',"
	    " 'I48', 'KCD8', 1 FROM person;"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2019-12-22', 'I05.1', 'KCD8', 1),"
	    " (3, NULL, '2019-12-22', 'I05.1', 'KCD8', 1);"
	    "INSERT INTO drug (person_id, start_date, code, code_system)"
	    " VALUES (1, '2020-01-06', 'B01AA03', 'ATC'),"
	    " (2, '2020-01-06', 'B01AA03', 'ATC');");
	t_db_done(d);
#define DRUG() c_window(c_event(KR, "ATC:B01AA*"), 0, 30)
#define VALV() c_window(c_event(KD, "KCD8:I05*"), -365, -1)
#define Q()    q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL)
	q = Q();
	r = q_add(q, -1, c_new(TALLY__KIND__KIND_ALL));
	q_add(q, (int)r, DRUG());
	q_add(q, q_add(q, (int)r, c_new(TALLY__KIND__KIND_NOT)), VALV());
	assert_int_equal(total(state, q), 1); /* p2 */
	q = Q();
	r = q_add(q, -1, c_new(TALLY__KIND__KIND_ANY));
	q_add(q, (int)r, DRUG());
	q_add(q, (int)r, VALV());
	assert_int_equal(total(state, q), 3);
	q = Q();
	r = q_add(q, q_add(q, -1, c_new(TALLY__KIND__KIND_NOT)),
	    c_new(TALLY__KIND__KIND_ANY));
	q_add(q, (int)r, DRUG());
	q_add(q, (int)r, VALV());
	assert_int_equal(total(state, q), 1); /* p4 */
	q = Q();
	q_add(q, -1, c_new(TALLY__KIND__KIND_ALL));
	assert_int_equal(total(state, q), 4); /* empty ALL holds */
	q = Q();
	q_add(q, -1, c_new(TALLY__KIND__KIND_ANY));
	assert_int_equal(total(state, q), 0); /* empty ANY fails */
	/* ALL(ANY(D, V), NOT(ALL(D, V))): p2, p3. */
	q = Q();
	r = q_add(q, -1, c_new(TALLY__KIND__KIND_ALL));
	a = q_add(q, (int)r, c_new(TALLY__KIND__KIND_ANY));
	q_add(q, (int)a, DRUG());
	q_add(q, (int)a, VALV());
	a = q_add(q, q_add(q, (int)r, c_new(TALLY__KIND__KIND_NOT)),
	    c_new(TALLY__KIND__KIND_ALL));
	q_add(q, (int)a, DRUG());
	q_add(q, (int)a, VALV());
	assert_int_equal(total(state, q), 2);
	/* NOT of an event: fewer than at_least rows in the window. */
	q = Q();
	q_add(q, q_add(q, -1, c_new(TALLY__KIND__KIND_NOT)),
	    c_count(VALV(), 2, NONE));
	assert_int_equal(total(state, q), 4);
	assert_int_equal(with(state, DRUG()), 2);
	/* Person criteria mixed in, evaluated first, same answer. */
	q = Q();
	r = q_add(q, -1, c_new(TALLY__KIND__KIND_ALL));
	q_add(q, (int)r, DRUG());
	q_add(q, (int)r, c_sex("M"));
	q_add(q, (int)r, c_age(NONE, NONE));
	assert_int_equal(total(state, q), 0); /* birth years are NULL */
#undef DRUG
#undef VALV
#undef Q
}

static void
expect_error(void **state, Tally__Query *q, const char *want)
{
	struct fx *f = *state;
	struct engine *e;
	struct table *t = NULL;
	char err[256];

	e = engine_open(f->path, NULL, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(
	    engine_run(e, q, "snuh", "4", &t, err, sizeof(err)), -1);
	assert_null(t);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err, want);
	engine_close(e);
	q_free(q);
}

static void
errors(void **state)
{
	sqlite3 *d = db(state);
	Tally__Query *q;
	Tally__Criterion *c;

	t_exec(d,
	    "INSERT INTO person (person_id, sex) VALUES (1, 'M');"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2020-01-01', 'I48', 'KCD8', 1);");
	t_db_done(d);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	c = c_new(TALLY__KIND__KIND_ALL);
	q_add(q, -1, c);
	c->children = t_grow(NULL, 1, sizeof(uint32_t));
	c->children[0] = 0; /* itself */
	c->n_children = 1;
	expect_error(state, q, "bad child index");
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	c = c_new(TALLY__KIND__KIND_ANY);
	q_add(q, -1, c);
	c->children = t_grow(NULL, 1, sizeof(uint32_t));
	c->children[0] = 7; /* past the end */
	c->n_children = 1;
	expect_error(state, q, "bad child index");
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_add(q, -1, c_new(TALLY__KIND__KIND_NOT));
	expect_error(state, q, "exactly one child");
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_add(q, -1, c_new((Tally__Kind)99));
	expect_error(state, q, "unknown kind");
	expect_error(state, q_new(c_age(1, 2), FIRST, NULL, NULL),
	    "index: not an event");
	expect_error(state, q_new(NULL, FIRST, NULL, NULL), "index");
	expect_error(state,
	    q_new(c_event(KD, "KCD8:I48"), FIRST, "2020-02-30", NULL),
	    "period.from");
	expect_error(
	    state, q_new(c_event(KD, "KCD8"), FIRST, NULL, NULL), "bad code");
	expect_error(
	    state, q_new(c_event(KD, "KCD8:*"), FIRST, NULL, NULL), "bad code");
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_stratum(q, TALLY__STRATUM__STRATUM_SEX);
	q_stratum(q, TALLY__STRATUM__STRATUM_SEX);
	expect_error(state, q, "repeated");
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_stratum(q, (Tally__Stratum)42);
	expect_error(state, q, "unknown");
}

/* A prefix over more codes than a walk lists is read by one scan. */
static void
many_codes(void **state)
{
	sqlite3 *d = db(state);
	Tally__Query *q;

	/* 5000 codes Z00000..Z04999, one row each for persons 1..100;
	 * person p has codes p-1, p+99, ... and one index diagnosis. */
	t_exec(d,
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 100) INSERT INTO person (person_id, sex)"
	    " SELECT i, 'F' FROM n;"
	    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 4999) INSERT INTO diagnosis SELECT"
	    " i % 100 + 1, NULL, '2020-01-02', printf('Z%05d', i), 'KCD8',"
	    " 1 FROM n;"
	    "INSERT INTO diagnosis SELECT person_id, NULL, '2020-01-01',"
	    " 'I48', 'KCD8', 1 FROM person;");
	t_db_done(d);
	assert_int_equal(index_only(state, c_event(KD, "KCD8:Z*")), 100);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_add(q, -1, c_count(c_window(c_event(KD, "KCD8:Z*"), 1, 1), 50, 50));
	assert_int_equal(total(state, q), 100);
	q = q_new(c_event(KD, "KCD8:I48"), FIRST, NULL, NULL);
	q_add(
	    q, -1, c_count(c_window(c_event(KD, "KCD8:Z0*"), 1, 1), 51, NONE));
	assert_int_equal(total(state, q), 0);
}

/* The engine's date parser agrees with date_parse() everywhere. */
static void
parse_days(void **state)
{
	static const char *const bad[] = { "2023-02-29", "1900-02-29",
		"2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31",
		"1799-12-31", "2201-01-01", "2024-1-01", "20x4-01-01",
		"2024/01/01", "2024-01-01T", "", "2024-01-0a", "2024-01-1 " };
	char buf[11];
	int32_t a, b;

	(void)state;
	for (int32_t d = date_from_ymd(1800, 1, 1);
	     d <= date_from_ymd(2200, 12, 31); d++) {
		date_format(d, buf);
		assert_int_equal(eventset_parse_day(buf, 10, &a), 0);
		assert_int_equal(a, d);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(date_parse(bad[i], strlen(bad[i]), &b), -1);
		assert_int_equal(
		    eventset_parse_day(bad[i], strlen(bad[i]), &a), -1);
	}
	assert_int_equal(eventset_parse_day("2000-02-29", 10, &a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(windows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    occurrences, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(deaths, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    ages_and_strata, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(codes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    lab_values, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(visits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    combinators, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    many_codes, fx_setup, fx_teardown),
		cmocka_unit_test(parse_days),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
