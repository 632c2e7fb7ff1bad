/*
 * test_load_parts.c — the loader's inner pieces on their own: the id sets
 * (bitmap and sorted array), the concept map and the vocabulary mapping,
 * the field rendering used in reasons.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_int.h"
#include "baseline.h"
#include "testutil.h"

static void
idset_dense(void **state)
{
	struct load_idset s = { 0 };

	(void)state;
	for (int64_t i = 1000; i < 101000; i += 2)
		assert_int_equal(load_idset_add(&s, i), 0);
	assert_int_equal(load_idset_freeze(&s), 0);
	assert_non_null(s.bits); /* dense: a bitmap */
	assert_null(s.ids);
	assert_true(load_idset_has(&s, 1000));
	assert_true(load_idset_has(&s, 100998));
	assert_false(load_idset_has(&s, 1001));
	assert_false(load_idset_has(&s, 999));
	assert_false(load_idset_has(&s, 101000));
	assert_false(load_idset_has(&s, -1));
	assert_false(load_idset_has(&s, INT64_MAX));
	/* Frozen sets take no more ids. */
	assert_int_equal(load_idset_add(&s, 5), -1);
	load_idset_free(&s);
}

static void
idset_sparse_unsorted(void **state)
{
	struct load_idset s = { 0 };
	uint64_t v = 7;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		v = v * 6364136223846793005ull + 1442695040888963407ull;
		assert_int_equal(load_idset_add(&s, (int64_t)(v >> 1)), 0);
	}
	assert_int_equal(load_idset_add(&s, 0), 0);
	assert_int_equal(load_idset_add(&s, INT64_MAX), 0);
	assert_int_equal(load_idset_freeze(&s), 0);
	assert_null(s.bits); /* sparse: the sorted array */
	v = 7;
	for (int i = 0; i < 5000; i++) {
		v = v * 6364136223846793005ull + 1442695040888963407ull;
		assert_true(load_idset_has(&s, (int64_t)(v >> 1)));
		assert_false(load_idset_has(&s, (int64_t)(v >> 1) ^ 1));
	}
	assert_true(load_idset_has(&s, 0));
	assert_true(load_idset_has(&s, INT64_MAX));
	load_idset_free(&s);
	/* An empty set knows nothing. */
	assert_int_equal(load_idset_freeze(&s), 0);
	assert_false(load_idset_has(&s, 0));
	load_idset_free(&s);
}

static void
concepts(void **state)
{
	struct load_concepts *m = load_concepts_new();
	struct csv_field sys, code;
	char err[128];

	(void)state;
	assert_non_null(m);
	/* Out of order, with one duplicate id: the first row wins. */
	assert_int_equal(load_concepts_add(m, 45591453, "ICD10CM", 7, "I48.91",
			     6, err, sizeof(err)),
	    0);
	assert_int_equal(load_concepts_add(m, 313217, "SNOMED", 6, "49436004",
			     8, err, sizeof(err)),
	    0);
	assert_int_equal(load_concepts_add(m, 313217, "SNOMED", 6, "dup", 3,
			     err, sizeof(err)),
	    0);
	assert_int_equal(load_concepts_add(m, 19, "RxNorm Extension", 16,
			     "OMOP123", 7, err, sizeof(err)),
	    0);
	assert_int_equal(
	    load_concepts_add(m, 20, "x", 1, "", 0, err, sizeof(err)), -1);
	assert_int_equal(load_concepts_freeze(m, err, sizeof(err)), 0);
	assert_int_equal(load_concepts_count(m), 4);
	assert_int_equal(load_concepts_get(m, 313217, &sys, &code), 1);
	assert_true(sys.len == 6 && memcmp(sys.p, "SNOMED", 6) == 0);
	assert_true(code.len == 8 && memcmp(code.p, "49436004", 8) == 0);
	assert_int_equal(load_concepts_get(m, 45591453, &sys, &code), 1);
	assert_true(sys.len == 5 && memcmp(sys.p, "ICD10", 5) == 0);
	assert_int_equal(load_concepts_get(m, 19, &sys, &code), 1);
	assert_true(sys.len == 9 && memcmp(sys.p, "RxNormExt", 9) == 0);
	assert_int_equal(load_concepts_get(m, 18, &sys, &code), 0);
	assert_int_equal(load_concepts_get(m, 99999999, &sys, &code), 0);
	load_concepts_free(m);
}

static void
vocabularies(void **state)
{
	char out[LOAD_SYSTEM_MAX + 1];
	const struct {
		const char *vocab, *system;
	} cases[] = {
		{ "ICD10CM", "ICD10" },
		{ "icd10cm", "ICD10" },
		{ "ICD9CM", "ICD9CM" },
		{ "SNOMED", "SNOMED" },
		{ "LOINC", "LOINC" },
		{ "RxNorm", "RxNorm" },
		{ "CPT4", "CPT4" },
		{ "KCD7", "KCD7" },
		{ "Korean Revenue Code", "Korean_Revenue_Code" },
		{ "", "_" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_vocab_system(
		    cases[i].vocab, strlen(cases[i].vocab), out, sizeof(out));
		assert_string_equal(out, cases[i].system);
		assert_true(load_system_valid(out, strlen(out)));
	}
	assert_false(load_system_valid("KCD:8", 5));
	assert_false(load_system_valid("", 0));
	assert_false(
	    load_system_valid("A23456789012345678901234567890123", 33));
}

static void
quoting(void **state)
{
	char out[64];

	(void)state;
	load_quote("abc", 3, out, sizeof(out));
	assert_string_equal(out, "abc");
	load_quote("a\nb\xea\xb3\xa0", 6, out, sizeof(out));
	assert_string_equal(out, "a?b???");
	load_quote("0123456789012345678901234567890123456789XYZ", 43, out,
	    sizeof(out));
	assert_string_equal(out, "0123456789012345678901234567890123456789...");
	load_quote("abcdef", 6, out, 4);
	assert_string_equal(out, "abc");
}

static long long
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * A batch the database refuses is retried row by row: only the guilty
 * row is rejected, with its own line, and the counters follow. (No
 * checked row can violate the Baseline schema, so the test adds a CHECK.)
 */
static void
batch_refused(void **state)
{
	struct load ld = { 0 };
	struct load_result res = { 0 };
	struct load_opts o = { 0 };
	struct load_step stp = { 0 };
	struct load_table t = { 0 };
	struct load_event ev = { 0 };
	char err[256], out[512] = "";
	FILE *rep = tmpfile();

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &ld.db), SQLITE_OK);
	assert_int_equal(baseline_create(ld.db, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(ld.db,
			     "DROP TABLE diagnosis; CREATE TABLE diagnosis ("
			     " person_id INTEGER NOT NULL, visit_id INTEGER,"
			     " diag_date TEXT NOT NULL, code TEXT NOT NULL"
			     " CHECK (code != 'BAD'), code_system TEXT NOT"
			     " NULL, is_primary INTEGER)",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	o.report = rep;
	ld.opts = &o;
	ld.res = &res;
	assert_int_equal(load_db_prepare(&ld), 0);
	assert_int_equal(load_batch_new(&ld), 0);
	t.ld = &ld;
	t.step = &stp;
	t.path = "x.csv";
	ev.person_id = 1;
	ev.date = (struct csv_field){ "2020-01-01", 10 };
	ev.system = (struct csv_field){ "KCD8", 4 };
	for (int i = 0; i < 2 * LOAD_BATCH + 6; i++) {
		ev.code = i == LOAD_BATCH + 8 ? (struct csv_field){ "BAD", 3 }
					      : (struct csv_field){ "I10", 3 };
		ev.has_visit = i == LOAD_BATCH + 8;
		ev.visit_id = 5;
		if (ev.has_visit)
			stp.unlinked++; /* as load_put_event() counts it */
		t.line = (uint64_t)i + 2;
		assert_int_equal(load_batch_add(&t, ST_DIAGNOSIS, &ev, 0), 0);
		stp.loaded++; /* as load_table.c counts a row taken */
	}
	assert_int_equal(load_batch_flush(&ld), 0);
	assert_int_equal(
	    count(ld.db, "SELECT count(*) FROM diagnosis"), 2 * LOAD_BATCH + 5);
	assert_int_equal(stp.loaded, 2 * LOAD_BATCH + 5);
	assert_int_equal(stp.rejected, 1);
	assert_int_equal(stp.unlinked, 0);
	assert_int_equal(res.rejected, 1);
	rewind(rep);
	assert_non_null(fgets(out, sizeof(out), rep));
	snprintf(err, sizeof(err),
	    "x.csv:%d: refused by the database: ", LOAD_BATCH + 10);
	assert_true(strncmp(out, err, strlen(err)) == 0);
	assert_null(fgets(out, sizeof(out), rep));
	fclose(rep);
	load_batch_free(&ld);
	load_db_finalize(&ld);
	sqlite3_close(ld.db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idset_dense),
		cmocka_unit_test(idset_sparse_unsorted),
		cmocka_unit_test(concepts),
		cmocka_unit_test(vocabularies),
		cmocka_unit_test(quoting),
		cmocka_unit_test(batch_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
