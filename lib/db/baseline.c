/*
 * baseline.c — owns the Baseline DB schema: DDL, indexes, meta. Every
 * statement here is constant text; nothing from outside is ever pasted in.
 */
#include <string.h>

#include "baseline.h"
#include "util.h"

const char *const baseline_tables[] = { "person", "visit", "diagnosis", "lab",
	"drug", "procedure" };
const int baseline_ntables = (int)nitems(baseline_tables);

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS meta ("
				 " key TEXT PRIMARY KEY, value TEXT);"
				 "CREATE TABLE IF NOT EXISTS person ("
				 " person_id INTEGER PRIMARY KEY,"
				 " sex TEXT CHECK (sex IN ('M','F','U')),"
				 " birth_year INTEGER,"
				 " death_date TEXT,"
				 " link_key TEXT);"
				 "CREATE TABLE IF NOT EXISTS visit ("
				 " visit_id INTEGER PRIMARY KEY,"
				 " person_id INTEGER NOT NULL,"
				 " visit_type TEXT,"
				 " start_date TEXT,"
				 " end_date TEXT);"
				 "CREATE TABLE IF NOT EXISTS diagnosis ("
				 " person_id INTEGER NOT NULL,"
				 " visit_id INTEGER,"
				 " diag_date TEXT NOT NULL,"
				 " code TEXT NOT NULL,"
				 " code_system TEXT NOT NULL,"
				 " is_primary INTEGER);"
				 "CREATE TABLE IF NOT EXISTS lab ("
				 " person_id INTEGER NOT NULL,"
				 " visit_id INTEGER,"
				 " lab_date TEXT NOT NULL,"
				 " code TEXT NOT NULL,"
				 " code_system TEXT NOT NULL,"
				 " value_num REAL,"
				 " value_text TEXT,"
				 " unit TEXT);"
				 "CREATE TABLE IF NOT EXISTS drug ("
				 " person_id INTEGER NOT NULL,"
				 " visit_id INTEGER,"
				 " start_date TEXT NOT NULL,"
				 " end_date TEXT,"
				 " code TEXT NOT NULL,"
				 " code_system TEXT NOT NULL,"
				 " days_supply INTEGER);"
				 "CREATE TABLE IF NOT EXISTS procedure ("
				 " person_id INTEGER NOT NULL,"
				 " visit_id INTEGER,"
				 " proc_date TEXT NOT NULL,"
				 " code TEXT NOT NULL,"
				 " code_system TEXT NOT NULL);";

/*
 * The engine looks events up by code (a range for prefixes) and reads the
 * person and date from the index alone, so each index covers them.
 */
static const char index_sql[] =
    "CREATE INDEX IF NOT EXISTS diagnosis_code ON diagnosis"
    " (code_system, code, person_id, diag_date);"
    "CREATE INDEX IF NOT EXISTS diagnosis_person ON diagnosis"
    " (person_id, diag_date);"
    "CREATE INDEX IF NOT EXISTS lab_code ON lab"
    " (code_system, code, person_id, lab_date, value_num);"
    "CREATE INDEX IF NOT EXISTS lab_person ON lab (person_id, lab_date);"
    "CREATE INDEX IF NOT EXISTS drug_code ON drug"
    " (code_system, code, person_id, start_date);"
    "CREATE INDEX IF NOT EXISTS drug_person ON drug (person_id, start_date);"
    "CREATE INDEX IF NOT EXISTS procedure_code ON procedure"
    " (code_system, code, person_id, proc_date);"
    "CREATE INDEX IF NOT EXISTS procedure_person ON procedure"
    " (person_id, proc_date);"
    "CREATE INDEX IF NOT EXISTS visit_person ON visit"
    " (person_id, start_date, visit_type);"
    "CREATE INDEX IF NOT EXISTS visit_type ON visit"
    " (visit_type, person_id, start_date);";

static int
exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, errlen, "%s: %s", what, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
baseline_create(sqlite3 *db, char *err, size_t errlen)
{
	return exec(db, schema_sql, "create schema", err, errlen);
}

int
baseline_index(sqlite3 *db, char *err, size_t errlen)
{
	if (exec(db, index_sql, "create indexes", err, errlen) == -1)
		return -1;
	return exec(db, "ANALYZE;", "analyze", err, errlen);
}

int
baseline_meta_set(
    sqlite3 *db, const char *key, const char *value, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db,
		"INSERT INTO meta (key, value) VALUES (?1, ?2)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		-1, &st, NULL) != SQLITE_OK)
		return errf(err, errlen, "meta: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return errf(err, errlen, "meta: %s", sqlite3_errmsg(db));
	return 0;
}

int
baseline_meta_get(sqlite3 *db, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1,
		&st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		strlcpy(out, (const char *)sqlite3_column_text(st, 0), outlen);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int
baseline_check(sqlite3 *db, char *err, size_t errlen)
{
	static const struct {
		const char *table, *column;
	} need[] = {
		{ "person", "person_id" },
		{ "person", "sex" },
		{ "person", "birth_year" },
		{ "person", "death_date" },
		{ "visit", "visit_id" },
		{ "visit", "person_id" },
		{ "visit", "visit_type" },
		{ "visit", "start_date" },
		{ "diagnosis", "person_id" },
		{ "diagnosis", "diag_date" },
		{ "diagnosis", "code" },
		{ "diagnosis", "code_system" },
		{ "lab", "person_id" },
		{ "lab", "lab_date" },
		{ "lab", "code" },
		{ "lab", "code_system" },
		{ "lab", "value_num" },
		{ "lab", "unit" },
		{ "drug", "person_id" },
		{ "drug", "start_date" },
		{ "drug", "code" },
		{ "drug", "code_system" },
		{ "procedure", "person_id" },
		{ "procedure", "proc_date" },
		{ "procedure", "code" },
		{ "procedure", "code_system" },
		{ "meta", "key" },
		{ "meta", "value" },
	};

	for (size_t i = 0; i < nitems(need); i++)
		if (sqlite3_table_column_metadata(db, NULL, need[i].table,
			need[i].column, NULL, NULL, NULL, NULL,
			NULL) != SQLITE_OK)
			return errf(err, errlen,
			    "not a Baseline DB: no column %s.%s", need[i].table,
			    need[i].column);
	return 0;
}
