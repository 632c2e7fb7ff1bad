/*
 * test_engine_safe.c — each defence of the engine's database connection
 * (dbsafe.h) proven on its own: where the authorizer stops an attack the
 * test then removes the authorizer and shows the next layer stopping it
 * too. Plus the run's time and memory limits, refusal of DBs that are
 * not Baseline DBs, URI-looking paths, and the person cache noticing a
 * changed DB.
 */
#include "testutil.h"
#include "test_engine.h"

#include <sys/stat.h>
#include <unistd.h>

#include "dbsafe.h"
#include "util.h"

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
	d = t_db_new(f->path);
	t_exec(d,
	    "INSERT INTO person VALUES (1, 'M', 1960, NULL, 'k1'),"
	    " (2, 'F', 1970, NULL, 'k2');"
	    "INSERT INTO diagnosis VALUES"
	    " (1, NULL, '2020-01-01', 'I48', 'KCD8', 1);"
	    "CREATE TABLE secret (x TEXT);"
	    "INSERT INTO secret VALUES ('do not read');");
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

static struct dbsafe *
safe_open(void **state)
{
	struct fx *f = *state;
	struct dbsafe *ds;
	char err[256];

	if ((ds = dbsafe_open(f->path, 1 << 20, err, sizeof(err))) == NULL)
		fail_msg("dbsafe_open: %s", err);
	return ds;
}

/*
 * 1 if the authorizer refused sql: SQLITE_AUTH at prepare or step (VACUUM
 * asks at step), "not authorized" for functions (which SQLite reports as
 * SQLITE_ERROR), or a virtual table whose constructor it refused.
 */
static int
refused(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		return (rc & 0xff) == SQLITE_AUTH;
	}
	return rc == SQLITE_AUTH ||
	    strstr(sqlite3_errmsg(db), "not authorized") != NULL ||
	    strstr(sqlite3_errmsg(db), "vtable constructor failed") != NULL;
}

/* Prepares and steps sql; the primary result code of the first failure. */
static int
try_sql(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc & 0xff;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc & 0xff;
}

static int
persons_in(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(
			     db, "SELECT count(*) FROM person", -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
writes(void **state)
{
	struct dbsafe *ds = safe_open(state);
	sqlite3 *db = dbsafe_db(ds);
	static const char *const w[] = {
		"INSERT INTO person VALUES (3, 'M', 1980, NULL, NULL)",
		"UPDATE person SET sex = 'U'",
		"DELETE FROM person",
		"DROP TABLE person",
		"CREATE TABLE x (y)",
		"CREATE TEMP TABLE x (y)",
		"PRAGMA query_only = 0",
		"PRAGMA writable_schema = 1",
		"VACUUM",
		"REINDEX",
		"ANALYZE",
	};

	/* Layer 1: the authorizer refuses every write at prepare. */
	for (size_t i = 0; i < nitems(w); i++)
		if (!refused(db, w[i]))
			fail_msg("authorizer let through: %s", w[i]);
	/* Layer 2: without it, PRAGMA query_only still refuses. */
	sqlite3_set_authorizer(db, NULL, NULL);
	assert_int_equal(try_sql(db, w[0]), SQLITE_READONLY);
	assert_int_equal(try_sql(db, w[2]), SQLITE_READONLY);
	/* Layer 3: and with query_only off, the read-only open refuses. */
	assert_int_equal(try_sql(db, "PRAGMA query_only = 0"), SQLITE_OK);
	assert_int_equal(try_sql(db, w[0]), SQLITE_READONLY);
	assert_int_equal(try_sql(db, w[2]), SQLITE_READONLY);
	/* Defensive mode: no writable_schema even when asked. */
	assert_int_equal(try_sql(db, "PRAGMA writable_schema = 1"), SQLITE_OK);
	assert_int_not_equal(
	    try_sql(db, "UPDATE sqlite_master SET sql = ''"), SQLITE_OK);
	dbsafe_close(ds);
	assert_int_equal(persons_in(state), 2);
}

static void
attach(void **state)
{
	struct fx *f = *state;
	struct dbsafe *ds = safe_open(state);
	sqlite3 *db = dbsafe_db(ds);
	char sql[700], other[600];
	struct stat sb;

	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	snprintf(sql, sizeof(sql), "ATTACH DATABASE '%s' AS o", other);
	assert_true(refused(db, sql));
	assert_int_equal(sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1), 0);
	sqlite3_set_authorizer(db, NULL, NULL);
	/* SQLITE_LIMIT_ATTACHED = 0 refuses on its own. */
	assert_int_equal(try_sql(db, sql), SQLITE_ERROR);
	assert_non_null(strstr(sqlite3_errmsg(db), "too many attached"));
	assert_int_equal(stat(other, &sb), -1);
	dbsafe_close(ds);
}

static void
extensions(void **state)
{
	struct dbsafe *ds = safe_open(state);
	sqlite3 *db = dbsafe_db(ds);
	char *msg = NULL;

	assert_true(refused(db, "SELECT load_extension('/lib/x.so')"));
	sqlite3_set_authorizer(db, NULL, NULL);
	/* Extension loading is off for SQL and for the C API. */
	assert_int_equal(
	    try_sql(db, "SELECT load_extension('/lib/x.so')"), SQLITE_ERROR);
	assert_non_null(strstr(sqlite3_errmsg(db), "not authorized"));
	assert_int_not_equal(
	    sqlite3_load_extension(db, "/lib/x.so", NULL, &msg), SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "not authorized"));
	sqlite3_free(msg);
	dbsafe_close(ds);
}

static void
reads(void **state)
{
	struct dbsafe *ds = safe_open(state);
	sqlite3 *db = dbsafe_db(ds);
	static const char *const denied[] = {
		"SELECT * FROM sqlite_master",
		"SELECT * FROM sqlite_schema",
		"SELECT * FROM sqlite_temp_master",
		"SELECT * FROM sqlite_stat1",
		"SELECT * FROM secret",
		"SELECT x FROM secret",
		"SELECT count(*) FROM person",
		"SELECT * FROM pragma_table_info('person')",
		"SELECT * FROM dbstat",
		"PRAGMA table_info(person)",
		"SELECT sqlite_version()",
		"SELECT person_id FROM person WHERE sex LIKE 'M'",
	};
	static const char *const allowed[] = {
		"SELECT person_id, sex FROM person",
		"SELECT value FROM meta WHERE key = 'hospital_id'",
		"SELECT code FROM diagnosis WHERE code >= 'I' ORDER BY code",
		"SELECT person_id FROM person ORDER BY person_id DESC LIMIT 1",
	};
	int limits[][2] = {
		{ SQLITE_LIMIT_SQL_LENGTH, 4096 },
		{ SQLITE_LIMIT_VARIABLE_NUMBER, 16 },
		{ SQLITE_LIMIT_LENGTH, 1000000 },
	};

	for (size_t i = 0; i < nitems(denied); i++)
		if (!refused(db, denied[i]))
			fail_msg("authorizer let through: %s", denied[i]);
	for (size_t i = 0; i < nitems(allowed); i++)
		if (try_sql(db, allowed[i]) != SQLITE_OK)
			fail_msg(
			    "refused %s: %s", allowed[i], sqlite3_errmsg(db));
	for (size_t i = 0; i < nitems(limits); i++)
		assert_int_equal(
		    sqlite3_limit(db, limits[i][0], -1), limits[i][1]);
	dbsafe_close(ds);
}

static Tally__Query *
heavy_query(void)
{
	Tally__Query *q =
	    q_new(c_event(TALLY__KIND__KIND_DIAGNOSIS, "KCD8:I48*"),
		TALLY__OCCURRENCE__OCCURRENCE_ALL, NULL, NULL);

	q_add(q, -1,
	    c_count(
		c_event(TALLY__KIND__KIND_DIAGNOSIS, "KCD8:I48*"), 2, NONE));
	return q;
}

static void
limits(void **state)
{
	struct fx *f = *state;
	struct engine_limits lim = { .timeout_ms = 1 };
	struct engine *e;
	struct table *t = NULL;
	char err[256];
	sqlite3 *d;
	Tally__Query *q = heavy_query();

	/* 300000 diagnoses: far more than one millisecond of work. */
	assert_int_equal(sqlite3_open(f->path, &d), SQLITE_OK);
	t_exec(d,
	    "WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 2002) INSERT INTO person (person_id, sex)"
	    " SELECT i, 'F' FROM n;"
	    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 299999) INSERT INTO diagnosis SELECT"
	    " i % 2000 + 3, NULL, date('2000-01-01', '+' || (i % 7000) ||"
	    " ' days'), 'I48.' || (i % 10), 'KCD8', 1 FROM n;");
	sqlite3_close(d);
	e = engine_open(f->path, &lim, err, sizeof(err));
	assert_non_null(e);
	if (engine_run(e, q, "s", "1", &t, err, sizeof(err)) == 0)
		fail_msg("ran in time: %llu events",
		    (unsigned long long)t->total.count);
	assert_null(t);
	if (strstr(err, "time limit of 1 ms") == NULL)
		fail_msg("unexpected error: %s", err);
	engine_close(e);
	/* The same query within the default limits. */
	lim.timeout_ms = 0;
	e = engine_open(f->path, &lim, err, sizeof(err));
	assert_non_null(e);
	if (engine_run(e, q, "s", "1", &t, err, sizeof(err)) == -1)
		fail_msg("engine_run: %s", err);
	assert_int_equal(t->total.count, 14000); /* 2000 persons x 7 days */
	table_free(t);
	/* A second sight reads the codes whole into the code cache: the
	 * limit of engine_limit_next() holds there too, and the cache is
	 * whole after the interrupted read. */
	engine_limit_next(e, 1);
	assert_int_equal(engine_run(e, q, "s", "1", &t, err, sizeof(err)), -1);
	if (strstr(err, "time limit of 1 ms") == NULL)
		fail_msg("unexpected error: %s", err);
	for (int i = 0; i < 3; i++) {
		if (engine_run(e, q, "s", "1", &t, err, sizeof(err)) == -1)
			fail_msg("engine_run: %s", err);
		assert_int_equal(t->total.count, 14000);
		table_free(t);
	}
	engine_close(e);
	/* A memory cap too small for the person cache. */
	lim.mem_bytes = 4096;
	e = engine_open(f->path, &lim, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(engine_run(e, q, "s", "1", &t, err, sizeof(err)), -1);
	if (strstr(err, "memory limit") == NULL)
		fail_msg("unexpected error: %s", err);
	engine_close(e);
	q_free(q);
}

static void
expect_open_fails(const char *path, const char *want)
{
	char err[256] = "";
	struct engine *e = engine_open(path, NULL, err, sizeof(err));

	if (e != NULL)
		fail_msg("engine_open(%s) succeeded", path);
	if (strstr(err, want) == NULL)
		fail_msg("engine_open(%s): '%s' lacks '%s'", path, err, want);
}

static void
not_baseline(void **state)
{
	struct fx *f = *state;
	char p[600];
	sqlite3 *d;
	char err[256];

	expect_open_fails("", "bad database path");
	snprintf(p, sizeof(p), "%s/none.db", f->dir);
	expect_open_fails(p, "unable to open");
	snprintf(p, sizeof(p), "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(p, &d), SQLITE_OK);
	t_exec(d, "CREATE TABLE person (id)");
	sqlite3_close(d);
	expect_open_fails(p, "not a Baseline DB");
	/* The schema but not the engine's indexes. */
	snprintf(p, sizeof(p), "%s/noidx.db", f->dir);
	assert_int_equal(sqlite3_open(p, &d), SQLITE_OK);
	assert_int_equal(baseline_create(d, err, sizeof(err)), 0);
	sqlite3_close(d);
	expect_open_fails(p, "no such index: diagnosis_code");
	/* A view posing as a table is refused (views are off). */
	snprintf(p, sizeof(p), "%s/view.db", f->dir);
	assert_int_equal(sqlite3_open(p, &d), SQLITE_OK);
	assert_int_equal(baseline_create(d, err, sizeof(err)), 0);
	assert_int_equal(baseline_index(d, err, sizeof(err)), 0);
	t_exec(d,
	    "ALTER TABLE person RENAME TO p2;"
	    "CREATE VIEW person AS SELECT * FROM p2;");
	sqlite3_close(d);
	{
		struct engine *e = engine_open(p, NULL, err, sizeof(err));
		struct table *t = NULL;
		Tally__Query *q = heavy_query();

		if (e != NULL) {
			assert_int_equal(
			    engine_run(e, q, "s", "1", &t, err, sizeof(err)),
			    -1);
			assert_non_null(strstr(err, "view"));
			engine_close(e);
		}
		q_free(q);
	}
}

/* "file:..." is a file name, never a URI with options. */
static void
uri(void **state)
{
	struct fx *f = *state;
	char cwd[1024], p[600];
	struct engine *e;
	char err[256];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(p, sizeof(p), "%s/file:u.db", f->dir);
	assert_int_equal(rename(f->path, p), 0);
	assert_int_equal(chdir(f->dir), 0);
	e = engine_open("file:u.db", NULL, err, sizeof(err));
	if (e == NULL)
		fail_msg("engine_open(file:u.db): %s", err);
	engine_close(e);
	expect_open_fails("file:u.db?mode=rwc", "unable to open");
	expect_open_fails("file:other.db?mode=rwc", "unable to open");
	assert_int_equal(access("other.db", F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rename(p, f->path), 0);
}

/* A file the node cannot write is fine; a changed DB is re-read. */
static void
snapshot(void **state)
{
	struct fx *f = *state;
	struct engine *e;
	struct table *t;
	char err[256];
	sqlite3 *d;
	Tally__Query *q =
	    q_new(c_event(TALLY__KIND__KIND_DIAGNOSIS, "KCD8:I48"),
		TALLY__OCCURRENCE__OCCURRENCE_FIRST, NULL, NULL);

	q_stratum(q, TALLY__STRATUM__STRATUM_SEX);
	assert_int_equal(chmod(f->path, 0444), 0);
	e = engine_open(f->path, NULL, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(engine_run(e, q, "s", "1", &t, err, sizeof(err)), 0);
	assert_int_equal(t->total.count, 1);
	assert_string_equal(t->cells[0].key[0], "M");
	table_free(t);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(sqlite3_open(f->path, &d), SQLITE_OK);
	t_exec(d,
	    "UPDATE person SET sex = 'F' WHERE person_id = 1;"
	    "INSERT INTO diagnosis VALUES"
	    " (2, NULL, '2020-01-01', 'I48', 'KCD8', 1);");
	sqlite3_close(d);
	assert_int_equal(engine_run(e, q, "s", "1", &t, err, sizeof(err)), 0);
	assert_int_equal(t->total.count, 2);
	assert_int_equal(t->ncells, 1);
	assert_string_equal(t->cells[0].key[0], "F");
	table_free(t);
	engine_close(e);
	q_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(attach, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    extensions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(reads, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(limits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    not_baseline, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(uri, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    snapshot, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
