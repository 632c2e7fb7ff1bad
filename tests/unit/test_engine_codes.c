/*
 * test_engine_codes.c — the engine's code cache (lib/engine/engine_codes.c): a
 * code is remembered on first sight, read whole on the second, walked
 * from memory after; a change to the DB drops every list; lab value
 * ranges are part of what a list is of; the byte budget holds, refusing
 * lists too big and evicting the least recently used; answers never
 * change.
 */
#include "testutil.h"
#include "test_engine.h"
#include "engine_int.h"
#include "util.h"

#define KD    TALLY__KIND__KIND_DIAGNOSIS
#define KL    TALLY__KIND__KIND_LAB
#define KR    TALLY__KIND__KIND_DRUG
#define FIRST TALLY__OCCURRENCE__OCCURRENCE_FIRST

struct fx {
	char *dir;
	char path[512];
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	sqlite3 *d;

	assert_non_null(f);
	f->dir = test_mkdtemp();
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	/* Persons 1..200; I48 for each on 2020-01-01 + id days; B01AA03
	 * for the even ones 10 days later; HbA1c 6.0 + (id % 5) on the
	 * index day. */
	d = t_db_new(f->path);
	t_exec(d,
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < 200)"
	    " INSERT INTO person SELECT i, 'F', 1960, NULL, NULL FROM n;"
	    "INSERT INTO diagnosis SELECT person_id, NULL,"
	    " date('2020-01-01', '+' || person_id || ' days'), 'I48.0',"
	    " 'KCD8', 1 FROM person;"
	    "INSERT INTO drug (person_id, start_date, code, code_system)"
	    " SELECT person_id, date('2020-01-11', '+' || person_id ||"
	    " ' days'), 'B01AA03', 'ATC' FROM person WHERE person_id % 2 = 0;"
	    "INSERT INTO lab (person_id, lab_date, code, code_system,"
	    " value_num) SELECT person_id, date('2020-01-01', '+' ||"
	    " person_id || ' days'), '4548-4', 'LOINC', 6.0 + person_id % 5"
	    " FROM person;");
	t_db_done(d);
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

/* I48 first, with a drug in [0, 30]. */
static Tally__Query *
af_drug(void)
{
	Tally__Query *q = q_new(c_event(KD, "KCD8:I48*"), FIRST, NULL, NULL);

	q_add(q, -1, c_window(c_event(KR, "ATC:B01AA*"), 0, 30));
	return q;
}

/* I48 first, with an HbA1c >= min on the index day. */
static Tally__Query *
af_lab(double min)
{
	Tally__Query *q = q_new(c_event(KD, "KCD8:I48*"), FIRST, NULL, NULL);

	q_add(q, -1,
	    c_window(
		c_value(c_event(KL, "LOINC:4548-4"), min, NAN, NULL), 0, 0));
	return q;
}

static uint64_t
run(struct engine *e, const Tally__Query *q, struct engine_stats *st)
{
	struct table *t;
	char err[256];
	uint64_t n;

	if (engine_run(e, q, "s", "1", &t, err, sizeof(err)) == -1)
		fail_msg("engine_run: %s", err);
	n = t->total.count;
	table_free(t);
	engine_stats(e, st);
	return n;
}

static struct engine *
open_with(const char *path, size_t codes_bytes)
{
	struct engine_limits lim = { .codes_bytes = codes_bytes };
	char err[256];
	struct engine *e = engine_open(path, &lim, err, sizeof(err));

	if (e == NULL)
		fail_msg("engine_open: %s", err);
	return e;
}

/* First sight remembers, second reads whole, third reads no row. */
static void
sights(void **state)
{
	struct fx *f = *state;
	struct engine *e = open_with(f->path, 0);
	Tally__Query *q = af_drug();
	struct engine_stats st;

	assert_int_equal(run(e, q, &st), 100);
	assert_int_equal(st.code_loads, 0);
	assert_int_equal(st.code_hits, 0);
	assert_int_equal(st.mem_codes, 0);
	assert_true(st.rows > 0);
	assert_int_equal(run(e, q, &st), 100);
	assert_int_equal(st.code_loads, 2); /* I48.0, B01AA03 */
	assert_true(st.mem_codes > 0);
	assert_int_equal(run(e, q, &st), 100);
	assert_int_equal(st.code_loads, 0);
	assert_int_equal(st.code_hits, 2);
	assert_int_equal(st.rows, 0);
	engine_close(e);
	/* Off: never a list. */
	e = open_with(f->path, ENGINE_CODES_OFF);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(run(e, q, &st), 100);
		assert_int_equal(st.code_hits + st.code_loads, 0);
		assert_int_equal(st.mem_codes, 0);
	}
	engine_close(e);
	q_free(q);
}

/* A write to the DB drops the lists: the next runs see the new rows. */
static void
invalidated(void **state)
{
	struct fx *f = *state;
	struct engine *e = open_with(f->path, 0);
	Tally__Query *q = af_drug();
	struct engine_stats st;
	sqlite3 *d;

	for (int i = 0; i < 3; i++)
		assert_int_equal(run(e, q, &st), 100);
	assert_int_equal(st.code_hits, 2);
	assert_int_equal(sqlite3_open(f->path, &d), SQLITE_OK);
	t_exec(d,
	    "INSERT INTO drug (person_id, start_date, code, code_system)"
	    " VALUES (1, '2020-01-05', 'B01AA03', 'ATC'),"
	    " (3, '2020-01-04', 'B01AA03', 'ATC');");
	sqlite3_close(d);
	assert_int_equal(run(e, q, &st), 102);
	assert_int_equal(st.code_hits, 0);
	assert_int_equal(st.mem_codes, 0);
	assert_int_equal(run(e, q, &st), 102);
	assert_int_equal(st.code_loads, 2);
	assert_int_equal(run(e, q, &st), 102);
	assert_int_equal(st.code_hits, 2);
	/* A deletion too. */
	assert_int_equal(sqlite3_open(f->path, &d), SQLITE_OK);
	t_exec(d, "DELETE FROM drug WHERE person_id <= 10");
	sqlite3_close(d);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(e, q, &st), 95);
	assert_int_equal(st.code_hits, 2);
	engine_close(e);
	q_free(q);
}

/* A lab value range is part of what a list is of. */
static void
value_ranges(void **state)
{
	struct fx *f = *state;
	struct engine *e = open_with(f->path, 0);
	Tally__Query *q8 = af_lab(8.0), *q6 = af_lab(6.0), *q9 = af_lab(9.5);
	struct engine_stats st;

	/* Values 6..10, each for 40 persons. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(run(e, q8, &st), 120);
		assert_int_equal(run(e, q6, &st), 200);
		assert_int_equal(run(e, q9, &st), 40);
	}
	assert_int_equal(st.code_hits, 2);
	engine_close(e);
	q_free(q8);
	q_free(q6);
	q_free(q9);
}

/* Small budgets: lists too big are refused, others evict each other;
 * the cache never holds more than its budget and answers stay. */
static void
budget(void **state)
{
	struct fx *f = *state;
	static const size_t budgets[] = { 64, 2400, 4000 };
	Tally__Query *q[3] = { af_drug(), af_lab(8.0), af_lab(9.5) };
	static const uint64_t want[3] = { 100, 120, 40 };
	struct engine_stats st;

	for (size_t b = 0; b < nitems(budgets); b++) {
		struct engine *e = open_with(f->path, budgets[b]);
		uint64_t loads = 0, hits = 0;

		for (int i = 0; i < 12; i++) {
			assert_int_equal(run(e, q[i % 3], &st), want[i % 3]);
			assert_true(st.mem_codes <= budgets[b]);
			loads += st.code_loads;
			hits += st.code_hits;
		}
		if (b == 0)
			assert_int_equal(loads + hits, 0); /* all too big */
		else
			assert_true(loads > 0);
		engine_close(e);
	}
	for (int i = 0; i < 3; i++)
		q_free(q[i]);
}

/* Bytes the engine holds between runs beyond its persons: the cache's
 * lists and its table of entries, all of it within the budget. */
static size_t
held(const struct engine *e)
{
	return e->mem.used - e->persons.bytes;
}

/* Many small (here empty) lists: each entry's own bytes count against
 * the budget too, so their number stays bounded by it. */
static void
many_small(void **state)
{
	struct fx *f = *state;
	struct engine *e = open_with(f->path, ENGINE_CODES_OFF);
	struct engine_stats st;
	Tally__Query *q;

	q = af_lab(100.0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(run(e, q, &st), 0);
	assert_int_equal(held(e), 0);
	q_free(q);
	engine_close(e);
	e = open_with(f->path, 4096);
	for (int v = 0; v < 64; v++) {
		q = af_lab(100.0 + v); /* no value that high: empty lists */
		for (int i = 0; i < 3; i++) {
			assert_int_equal(run(e, q, &st), 0);
			assert_true(st.mem_codes <= 4096);
			assert_true(held(e) <= 4096);
			assert_int_equal(held(e), st.mem_codes);
		}
		assert_int_equal(st.code_hits, 1); /* the empty list */
		q_free(q);
	}
	engine_close(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sights, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    invalidated, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    value_ranges, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(budget, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    many_small, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
