/*
 * state.c — owns the node's state file (SQLite, WAL, synchronous=FULL).
 * It never stores patient-level data: only released (suppressed) answers,
 * run counts and the audit chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "state.h"
#include "util.h"

struct nstate {
	sqlite3 *db;
};

static const char nstate_sql[] = "PRAGMA journal_mode = WAL;"
				 "PRAGMA synchronous = FULL;"
				 "CREATE TABLE IF NOT EXISTS approval_runs ("
				 " approval_id BLOB PRIMARY KEY,"
				 " runs INTEGER NOT NULL);"
				 "CREATE TABLE IF NOT EXISTS task ("
				 " id TEXT PRIMARY KEY,"
				 " approval_id BLOB NOT NULL,"
				 " state INTEGER,"
				 " result BLOB,"
				 " started_ms INTEGER NOT NULL,"
				 " done_ms INTEGER);";

static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("node state: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

struct nstate *
nstate_open(const char *path, char *err, size_t errlen)
{
	struct nstate *ns;

	if ((ns = calloc(1, sizeof(*ns))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	if ((ns->db = audit_statedb_open(path, nstate_sql, err, errlen)) ==
	    NULL) {
		free(ns);
		return NULL;
	}
	return ns;
}

void
nstate_close(struct nstate *ns)
{
	if (ns == NULL)
		return;
	sqlite3_close(ns->db);
	free(ns);
}

/* -1 error, 0 no such task, 1 task row exists (result copied if any),
 * 2 the task id was first seen with another approval. */
static int
task_lookup(struct nstate *ns, const char *task_id,
    const uint8_t approval_id[32], uint8_t **result, size_t *len, int *state)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ns->db,
		"SELECT state, result, approval_id FROM task WHERE id = ?1", -1,
		&st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 1);

		if (sqlite3_column_bytes(st, 2) != 32 ||
		    memcmp(sqlite3_column_blob(st, 2), approval_id, 32) != 0) {
			sqlite3_finalize(st);
			return 2;
		}
		*state = sqlite3_column_int(st, 0);
		if (n > 0) {
			if ((*result = malloc((size_t)n)) == NULL) {
				sqlite3_finalize(st);
				return -1;
			}
			memcpy(*result, sqlite3_column_blob(st, 1), (size_t)n);
			*len = (size_t)n;
		}
		rc = 1;
	} else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int64_t
nstate_runs(struct nstate *ns, const uint8_t approval_id[32])
{
	sqlite3_stmt *st;
	int64_t runs = 0;

	if (sqlite3_prepare_v2(ns->db,
		"SELECT runs FROM approval_runs WHERE approval_id = ?1", -1,
		&st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, approval_id, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		runs = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return runs;
}

/* Counts one run and records the task as started. */
static int
run_count(struct nstate *ns, const char *task_id, const uint8_t approval_id[32])
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ns->db,
		"INSERT INTO approval_runs (approval_id, runs) VALUES (?1, 1)"
		" ON CONFLICT (approval_id) DO UPDATE SET runs = runs + 1",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, approval_id, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (sqlite3_prepare_v2(ns->db,
		"INSERT INTO task (id, approval_id, started_ms)"
		" VALUES (?1, ?2, ?3)",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, approval_id, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)wall_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
nstate_begin(struct nstate *ns, const char *task_id,
    const uint8_t approval_id[32], uint32_t max_runs, uint8_t **result,
    size_t *len, int *state, char *err, size_t errlen)
{
	int64_t runs;
	int rc, found;

	*result = NULL;
	*len = 0;
	if (exec(ns->db, "BEGIN IMMEDIATE") == -1)
		return errf(err, errlen, "node state busy");
	found = task_lookup(ns, task_id, approval_id, result, len, state);
	if (found == -1)
		goto fail;
	if (found == 2) {
		/* Neither another query's answer nor a run off budget. */
		exec(ns->db, "ROLLBACK");
		errf(err, errlen, "task id %s was used with another approval",
		    task_id);
		return NSTATE_REUSED;
	}
	if (found == 1) {
		/* Answered: the same answer again. Started but not answered
		 * (a crash): run again, the run was counted already. */
		rc = *result != NULL ? NSTATE_CACHED : NSTATE_RUN;
		exec(ns->db, "COMMIT");
		return rc;
	}
	if ((runs = nstate_runs(ns, approval_id)) < 0)
		goto fail;
	if ((uint64_t)runs >= max_runs) {
		exec(ns->db, "ROLLBACK");
		errf(err, errlen, "approval's run budget of %u is spent",
		    max_runs);
		return NSTATE_BUDGET;
	}
	if (run_count(ns, task_id, approval_id) == -1 ||
	    exec(ns->db, "COMMIT") == -1)
		goto fail;
	return NSTATE_RUN;
fail:
	exec(ns->db, "ROLLBACK");
	free(*result);
	*result = NULL;
	return errf(err, errlen, "node state: %s", sqlite3_errmsg(ns->db));
}

int
nstate_finish(struct nstate *ns, const char *task_id, int state,
    const uint8_t *result, size_t len, const char *actor, const char *summary)
{
	sqlite3_stmt *st;
	char err[128];
	int rc;

	if (exec(ns->db, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (sqlite3_prepare_v2(ns->db,
		"UPDATE task SET state = ?2, result = ?3, done_ms = ?4"
		" WHERE id = ?1",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_blob(st, 3, result, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)wall_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    audit_append(
		ns->db, actor, "released", summary, err, sizeof(err)) == -1 ||
	    exec(ns->db, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
	log_warnx("node state: %s", sqlite3_errmsg(ns->db));
	exec(ns->db, "ROLLBACK");
	return -1;
}

int
nstate_audit(
    struct nstate *ns, const char *actor, const char *event, const char *detail)
{
	char err[128];

	/* Its own transaction: workers append through their own
	 * connections, and the chain's read-then-insert must not
	 * interleave (one of two appends would fail on the sequence). */
	if (exec(ns->db, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (audit_append(ns->db, actor, event, detail, err, sizeof(err)) ==
	    -1) {
		log_warnx("node state: %s", err);
		exec(ns->db, "ROLLBACK");
		return -1;
	}
	if (exec(ns->db, "COMMIT") == -1) {
		exec(ns->db, "ROLLBACK");
		return -1;
	}
	return 0;
}
