/*
 * test_gen.c — the generator: PRNG determinism, who a person is, chart
 * invariants (one primary diagnosis per visit, events inside their
 * visit, nothing outside life and the 2010-2025 window), site sizes, and
 * one whole site written atomically with its meta.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

#include "baseline.h"
#include "date.h"
#include "gen.h"
#include "network.h"
#include "util.h"

static void
rng(void **state)
{
	struct gen_rng a, b, c;
	double sum = 0;
	int same = 1, differ = 0;

	(void)state;
	gen_rng_init(&a, 42, 7);
	gen_rng_init(&b, 42, 7);
	gen_rng_init(&c, 43, 7);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = gen_rng_u64(&a), y = gen_rng_u64(&b);
		same &= x == y;
		differ += x != gen_rng_u64(&c);
	}
	assert_true(same);
	assert_true(differ > 990);
	for (int i = 0; i < 10000; i++) {
		int v = gen_rng_int(&a, -3, 5);
		double u = gen_rng_unit(&a);

		assert_true(v >= -3 && v <= 5);
		assert_true(u >= 0 && u < 1);
		sum += gen_rng_normal(&a, 10, 2);
	}
	assert_true(sum / 10000 > 9.9 && sum / 10000 < 10.1);
	assert_int_equal(gen_rng_int(&a, 4, 4), 4);
	assert_int_equal(gen_rng_poisson(&a, 0), 0);
	assert_true(gen_hash_str("kumc") != gen_hash_str("snuh"));
	assert_true(gen_hash_str("kumc") == gen_hash_str("kumc"));
}

static void
person(void **state)
{
	struct gen_person p, q;
	char k1[65], k2[65], k3[65];
	int32_t from = date_from_ymd(2010, 1, 1);
	int32_t snap = date_from_ymd(2025, 12, 31);
	int old = 0, young = 0, dead = 0, sexes[3] = { 0 };

	(void)state;
	for (uint64_t g = 0; g < 3000; g++) {
		gen_person_make(&p, 9, g, 1.0);
		gen_person_make(&q, 9, g, 1.0);
		assert_memory_equal(&p, &q, sizeof(p));
		assert_true(p.sex == 'M' || p.sex == 'F' || p.sex == 'U');
		sexes[p.sex == 'M' ? 0 : p.sex == 'F' ? 1 : 2]++;
		assert_true(p.birth_year >= 1925 && p.birth_year <= 2025);
		assert_int_equal(date_year(p.birth), p.birth_year);
		old += 2025 - p.birth_year >= 60;
		young += 2025 - p.birth_year < 20;
		if (p.death != GEN_NEVER) {
			dead++;
			assert_true(p.death >= from && p.death <= snap);
			assert_true(p.death > p.birth);
		}
		for (int c = 0; c < GC_NCOND; c++) {
			if (p.onset[c] == GEN_NEVER)
				continue;
			assert_true(p.onset[c] >= p.birth);
			assert_true(p.onset[c] <= snap);
			assert_non_null(p.code[c]);
		}
		if (p.onset[GC_DR] != GEN_NEVER)
			assert_true(p.onset[GC_DM] != GEN_NEVER);
		if (p.onset[GC_BC] != GEN_NEVER)
			assert_true(p.sex != 'U');
	}
	/* Hospital patients skew old; both sexes; some die. */
	assert_true(old > 2 * young);
	assert_true(sexes[0] > 1000 && sexes[1] > 1000);
	assert_true(dead > 100 && dead < 1500);

	assert_int_equal(gen_link_key(1, 5, k1), 0);
	assert_int_equal(gen_link_key(1, 5, k2), 0);
	assert_int_equal(gen_link_key(2, 5, k3), 0);
	assert_int_equal(strlen(k1), 64);
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
	assert_int_equal(gen_link_key(1, 6, k3), 0);
	assert_string_not_equal(k1, k3);
}

/* Every invariant a chart must keep. */
static void
check_chart(const struct gen_chart *c, const struct gen_person *p)
{
	int32_t lo = date_from_ymd(2010, 1, 1),
		hi = date_from_ymd(2025, 12, 31);
	int *primary = calloc(c->nv ? c->nv : 1, sizeof(int));

	assert_non_null(primary);
	assert_true(c->nv >= 1);
	if (p->death < hi)
		hi = p->death;
	if (p->birth > lo)
		lo = p->birth;
	for (size_t i = 0; i < c->nv; i++) {
		const struct gen_visit *v = &c->v[i];

		assert_true(v->start >= lo && v->start <= hi);
		assert_true(v->end >= v->start && v->end <= hi);
		assert_true(v->type >= GV_OUT && v->type <= GV_ER);
		if (i > 0)
			assert_true(c->v[i - 1].start <= v->start);
	}
	for (size_t i = 0; i < c->ne; i++) {
		const struct gen_event *e = &c->e[i];
		const struct gen_visit *v;

		assert_true(e->visit >= 0 && (size_t)e->visit < c->nv);
		v = &c->v[e->visit];
		assert_true(e->date >= v->start && e->date <= v->end);
		assert_non_null(e->code);
		assert_true(
		    e->table >= GEN_DIAGNOSIS && e->table <= GEN_PROCEDURE);
		if (e->table == GEN_DIAGNOSIS && e->primary)
			primary[e->visit]++;
		if (e->table == GEN_DRUG)
			assert_true(e->days >= 1 && e->days <= 365);
		if (e->table == GEN_LAB)
			assert_non_null(e->unit);
	}
	for (size_t i = 0; i < c->nv; i++)
		assert_int_equal(primary[i], 1);
	free(primary);
}

static void
charts(void **state)
{
	struct gen_chart c, d;
	struct gen_person p;
	struct gen_rng r;
	int kinds[] = { GEN_GENERAL, GEN_EYE, GEN_CANCER };

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	for (int k = 0; k < 3; k++)
		for (uint64_t g = 0; g < 400; g++) {
			gen_person_make(&p, 3, g, 1.0);
			gen_rng_init(&r, 3, g);
			assert_int_equal(
			    gen_chart_build(&c, &p, kinds[k], g % 5 == 0, &r),
			    0);
			check_chart(&c, &p);
			/* Same inputs, same chart. */
			gen_rng_init(&r, 3, g);
			assert_int_equal(
			    gen_chart_build(&d, &p, kinds[k], g % 5 == 0, &r),
			    0);
			assert_int_equal(c.nv, d.nv);
			assert_int_equal(c.ne, d.ne);
			assert_memory_equal(c.v, d.v, c.nv * sizeof(*c.v));
			assert_memory_equal(c.e, d.e, c.ne * sizeof(*c.e));
		}
	gen_chart_free(&c);
	gen_chart_free(&d);
}

static void
sizes(void **state)
{
	struct site lead = { 1, 1, "kumc", "", "" };
	struct site eye = { 1, 0, "kims-eye", "", "" };
	struct site other = { 9, 0, "new-site", "", "New Hospital" };
	struct site neweye = { 9, 0, "new-eye", "", "New Eye Hospital" };

	(void)state;
	assert_int_equal(gen_site_patients(&lead, 5000), 5000);
	assert_true(gen_site_patients(&eye, 5000) < 1000);
	assert_true(gen_site_patients(&other, 5000) >= 1500 &&
	    gen_site_patients(&other, 5000) < 3500);
	assert_true(gen_site_patients(&neweye, 5000) <= 500);
	assert_int_equal(gen_site_patients(&eye, 1), 1);
}

static int
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || strncmp(de->d_name, ".k", 2) == 0;
	closedir(d);
	return n;
}

static void
site_db(void **state)
{
	struct site s = { 4, 1, "kumc", "", "Korea University" };
	struct gen_opts o = { 11, 150, 1, 0 };
	struct gen_stats st;
	char *dir = test_mkdtemp(), path[512], err[256], v[64];
	sqlite3 *db;

	(void)state;
	assert_int_equal(gen_site(&s, &o, dir, &st, err, sizeof(err)), 0);
	/* Just the DB: the temp file was renamed, not left behind. */
	assert_int_equal(files_in(dir), 1);
	snprintf(path, sizeof(path), "%s/kumc.db", dir);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(baseline_check(db, err, sizeof(err)), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM person"), 150);
	assert_int_equal(st.rows[GEN_PERSON], 150);
	assert_int_equal(
	    count(db, "SELECT count(*) FROM lab"), (int)st.rows[GEN_LAB]);
	assert_true(st.total > 150 * 10);
	assert_true(st.bytes > 0);
	assert_int_equal(baseline_meta_get(db, "hospital_id", v, sizeof(v)), 0);
	assert_string_equal(v, "kumc");
	assert_int_equal(baseline_meta_get(db, "consortium", v, sizeof(v)), 0);
	assert_string_equal(v, "4");
	assert_int_equal(baseline_meta_get(db, "seed", v, sizeof(v)), 0);
	assert_string_equal(v, "11");
	assert_int_equal(baseline_meta_get(db, "source", v, sizeof(v)), 0);
	assert_string_equal(v, "gen");
	assert_int_equal(
	    baseline_meta_get(db, "snapshot_date", v, sizeof(v)), 0);
	assert_string_equal(v, GEN_SNAPSHOT);
	assert_int_equal(
	    baseline_meta_get(db, "schema_version", v, sizeof(v)), 0);
	/* Indexes exist (built after the data). */
	assert_true(count(db,
			"SELECT count(*) FROM sqlite_master"
			" WHERE type = 'index'") >= 10);
	sqlite3_close(db);

	/* A folder that does not exist: an error naming it, nothing left. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(gen_site(&s, &o, path, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rng),
		cmocka_unit_test(person),
		cmocka_unit_test(charts),
		cmocka_unit_test(sizes),
		cmocka_unit_test(site_db),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
