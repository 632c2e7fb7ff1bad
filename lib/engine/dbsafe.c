/*
 * dbsafe.c — owns the hardened read-only connection the engine runs its
 * statements on (the defences are listed in dbsafe.h). It never builds
 * SQL from data, never writes, and never lets a statement outlive the
 * caller's deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "dbsafe.h"
#include "util.h"

struct dbsafe {
	sqlite3 *db;
	uint64_t deadline_ms; /* clock_ms(); 0 = none */
	uint64_t timeout_ms;
	int fired; /* the progress handler interrupted a statement */
	int in_txn;
	sqlite3_stmt *stmts[DBSAFE_MAX_STMTS];
};

/* The tables a query may read: the Baseline DB contract, nothing else. */
static const char *const readable[] = { "person", "visit", "diagnosis", "lab",
	"drug", "procedure", "meta" };

static int
authorize(void *arg, int action, const char *a1, const char *a2,
    const char *dbname, const char *trigger)
{
	(void)arg;
	(void)a2;
	if (trigger != NULL)
		return SQLITE_DENY;
	switch (action) {
	case SQLITE_SELECT:
		return SQLITE_OK;
	case SQLITE_TRANSACTION: /* BEGIN / COMMIT of a read transaction */
		return SQLITE_OK;
	case SQLITE_READ:
		/* (SQLite also asks, without a schema name, about a table it
		 * reads no column of, e.g. for ORDER BY ... LIMIT.) */
		if ((dbname != NULL && strcmp(dbname, "main") != 0) ||
		    a1 == NULL)
			return SQLITE_DENY;
		for (size_t i = 0; i < nitems(readable); i++)
			if (strcmp(a1, readable[i]) == 0)
				return SQLITE_OK;
		return SQLITE_DENY;
	default: /* writes, PRAGMA, ATTACH, functions, DDL, ... */
		return SQLITE_DENY;
	}
}

static int
progress(void *arg)
{
	struct dbsafe *ds = arg;

	if (dbsafe_expired(ds)) {
		ds->fired = 1;
		return 1;
	}
	return 0;
}

static int
configure(sqlite3 *db, size_t cache_bytes, char *err, size_t errlen)
{
	static const struct {
		int op, on;
		const char *name;
	} cfg[] = {
		{ SQLITE_DBCONFIG_DEFENSIVE, 1, "defensive" },
		{ SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "load_extension" },
		{ SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "trusted_schema" },
		{ SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, "triggers" },
		{ SQLITE_DBCONFIG_ENABLE_VIEW, 0, "views" },
		{ SQLITE_DBCONFIG_DQS_DML, 0, "dqs_dml" },
		{ SQLITE_DBCONFIG_DQS_DDL, 0, "dqs_ddl" },
	};
	static const struct {
		int id, value;
	} lim[] = {
		{ SQLITE_LIMIT_ATTACHED, 0 },
		{ SQLITE_LIMIT_SQL_LENGTH, 4096 },
		{ SQLITE_LIMIT_LENGTH, 1000000 },
		{ SQLITE_LIMIT_VARIABLE_NUMBER, 16 },
		{ SQLITE_LIMIT_EXPR_DEPTH, 64 },
		{ SQLITE_LIMIT_COMPOUND_SELECT, 2 },
		{ SQLITE_LIMIT_FUNCTION_ARG, 8 },
		{ SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 64 },
		{ SQLITE_LIMIT_TRIGGER_DEPTH, 1 },
		{ SQLITE_LIMIT_WORKER_THREADS, 0 },
	};
	char sql[128];
	int got;

	for (size_t i = 0; i < nitems(cfg); i++)
		if (sqlite3_db_config(db, cfg[i].op, cfg[i].on, &got) !=
			SQLITE_OK ||
		    got != cfg[i].on)
			return errf(err, errlen, "cannot set %s", cfg[i].name);
	for (size_t i = 0; i < nitems(lim); i++) {
		sqlite3_limit(db, lim[i].id, lim[i].value);
		if (sqlite3_limit(db, lim[i].id, -1) != lim[i].value)
			return errf(
			    err, errlen, "cannot set limit %d", lim[i].id);
	}
	/* An integer from the operator's limits, not from any query. */
	snprintf(sql, sizeof(sql),
	    "PRAGMA query_only = 1; PRAGMA mmap_size = 0;"
	    " PRAGMA cache_size = -%zu;",
	    cache_bytes / 1024 ? cache_bytes / 1024 : 1);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return errf(err, errlen, "pragmas: %s", sqlite3_errmsg(db));
	return 0;
}

struct dbsafe *
dbsafe_open(const char *path, size_t cache_bytes, char *err, size_t errlen)
{
	struct dbsafe *ds;
	char *name;
	size_t n;
	int rc;

	if (path == NULL || (n = strlen(path)) == 0 || n > 4096) {
		errf(err, errlen, "bad database path");
		return NULL;
	}
	/* Never a URI: "file:x.db" becomes "./file:x.db". */
	if ((name = malloc(n + 3)) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(name, n + 3, "%s%s", path[0] == '/' ? "" : "./", path);
	if ((ds = calloc(1, sizeof(*ds))) == NULL) {
		free(name);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	rc = sqlite3_open_v2(name, &ds->db,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
	    NULL);
	free(name);
	if (rc != SQLITE_OK) {
		errf(err, errlen, "%s: %s", path,
		    ds->db ? sqlite3_errmsg(ds->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (configure(ds->db, cache_bytes, err, errlen) == -1 ||
	    baseline_check(ds->db, err, errlen) == -1)
		goto fail;
	sqlite3_set_authorizer(ds->db, authorize, ds);
	sqlite3_progress_handler(ds->db, 1000, progress, ds);
	return ds;
fail:
	sqlite3_close(ds->db);
	free(ds);
	return NULL;
}

void
dbsafe_close(struct dbsafe *ds)
{
	if (ds == NULL)
		return;
	dbsafe_end(ds);
	for (size_t i = 0; i < nitems(ds->stmts); i++)
		sqlite3_finalize(ds->stmts[i]);
	sqlite3_close(ds->db);
	free(ds);
}

sqlite3 *
dbsafe_db(struct dbsafe *ds)
{
	return ds->db;
}

void
dbsafe_deadline(struct dbsafe *ds, uint64_t deadline_ms, uint64_t timeout_ms)
{
	ds->deadline_ms = deadline_ms;
	ds->timeout_ms = timeout_ms;
	ds->fired = 0;
}

int
dbsafe_expired(struct dbsafe *ds)
{
	if (ds->deadline_ms != 0 && clock_ms() >= ds->deadline_ms) {
		ds->fired = 1;
		return 1;
	}
	return 0;
}

sqlite3_stmt *
dbsafe_stmt(
    struct dbsafe *ds, unsigned id, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (id >= nitems(ds->stmts)) {
		errf(err, errlen, "statement %u out of range", id);
		return NULL;
	}
	if ((st = ds->stmts[id]) != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(ds->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
		NULL) != SQLITE_OK) {
		errf(err, errlen, "prepare: %s (%s)", sqlite3_errmsg(ds->db),
		    sql);
		return NULL;
	}
	ds->stmts[id] = st;
	return st;
}

int
dbsafe_error(struct dbsafe *ds, const char *what, char *err, size_t errlen)
{
	if (ds->fired)
		return errf(err, errlen,
		    "%s: query exceeded its time limit of %llu ms", what,
		    (unsigned long long)ds->timeout_ms);
	return errf(err, errlen, "%s: %s", what, sqlite3_errmsg(ds->db));
}

/* Resets every statement and ends the read transaction, if any. */
static void
txn_end(struct dbsafe *ds)
{
	for (size_t i = 0; i < nitems(ds->stmts); i++)
		if (ds->stmts[i] != NULL)
			sqlite3_reset(ds->stmts[i]);
	if (ds->in_txn) {
		/* Ends a read transaction; cannot fail for want of a write. */
		sqlite3_exec(ds->db, "COMMIT", NULL, NULL, NULL);
		ds->in_txn = 0;
	}
}

int
dbsafe_begin(struct dbsafe *ds, uint64_t *version, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	unsigned v = 0;
	int rc;

	txn_end(ds);
	if (sqlite3_exec(ds->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return dbsafe_error(ds, "begin", err, errlen);
	ds->in_txn = 1;
	/* The read transaction starts with the first read. */
	if (sqlite3_prepare_v2(ds->db, "SELECT key FROM meta LIMIT 1", -1, &st,
		NULL) != SQLITE_OK)
		return dbsafe_error(ds, "begin", err, errlen);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dbsafe_error(ds, "begin", err, errlen);
	if (sqlite3_file_control(
		ds->db, "main", SQLITE_FCNTL_DATA_VERSION, &v) != SQLITE_OK)
		return dbsafe_error(ds, "data version", err, errlen);
	*version = v;
	return 0;
}

void
dbsafe_end(struct dbsafe *ds)
{
	ds->deadline_ms = 0; /* so that COMMIT itself is never interrupted */
	txn_end(ds);
}
