/*
 * store.c — owns the broker's SQLite state file. Every change that
 * matters is one transaction with its audit record, committed with
 * synchronous=FULL before anyone is told: an accepted query and a
 * released result (and everything before them in the WAL) survive even
 * a power cut. Task answers in between commit with synchronous=NORMAL:
 * they survive any process crash, and one lost to a power cut is asked
 * of its node again, which answers from its cache. It never holds patient-level
 * data: only queries, approvals, per-site released tables and results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "store.h"
#include "tally.pb-c.h"
#include "util.h"

#define STORE_STMTS 32

/* Statements are prepared once and kept, found again by their text. */
struct store {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STORE_STMTS];
	size_t nstmts;
	struct audit_stmts audit;
	int batch; /* in store_batch_begin's transaction */
};

static const char store_sql[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
    "CREATE TABLE IF NOT EXISTS query ("
    " id TEXT PRIMARY KEY,"
    " researcher TEXT NOT NULL,"
    " project TEXT NOT NULL,"
    " approval_id BLOB NOT NULL,"
    " query BLOB NOT NULL,"
    " approval BLOB NOT NULL,"
    " submitted_ms INTEGER NOT NULL,"
    " deadline_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " by_site INTEGER NOT NULL,"
    " min_cell INTEGER NOT NULL,"
    " finished_ms INTEGER,"
    " result BLOB);"
    "CREATE INDEX IF NOT EXISTS query_state ON query (state, submitted_ms);"
    "CREATE INDEX IF NOT EXISTS query_approval ON query (approval_id);"
    "CREATE TABLE IF NOT EXISTS task ("
    " id TEXT PRIMARY KEY,"
    " query_id TEXT NOT NULL REFERENCES query (id),"
    " site TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " result BLOB,"
    " engine_us INTEGER,"
    " cached INTEGER,"
    " done_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS task_query ON task (query_id);"
    "CREATE INDEX IF NOT EXISTS task_site ON task (site, state);";

static sqlite3_stmt *prepare(struct store *s, const char *sql);
static void stmt_done(sqlite3_stmt *st);

static int
exec(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	char *msg = NULL;
	int rc;

	if (strchr(sql, ';') == NULL) {
		/* BEGIN, COMMIT, ROLLBACK: run often, parsed once. */
		if ((st = prepare(s, sql)) == NULL)
			return -1;
		rc = sqlite3_step(st);
		stmt_done(st);
		if (rc != SQLITE_DONE) {
			log_warnx("store: %s: %s", sql, sqlite3_errmsg(s->db));
			return -1;
		}
		return 0;
	}
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	if ((s->db = audit_statedb_open(path, store_sql, err, errlen)) ==
	    NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->batch)
		store_batch_commit(s);
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i].st);
	audit_stmts_free(&s->audit);
	sqlite3_close(s->db);
	free(s);
}

/* The statement for sql, prepared on first use; give it back with
 * stmt_done() (it is reset, never finalized, until store_close). */
static sqlite3_stmt *
prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < s->nstmts; i++)
		if (s->stmts[i].sql == sql || strcmp(s->stmts[i].sql, sql) == 0)
			return s->stmts[i].st;
	/* The texts are this file's, fewer than STORE_STMTS: a statement
	 * that could not be kept would never be finalized. */
	if (s->nstmts == STORE_STMTS) {
		log_warnx("store: more than %d statements", STORE_STMTS);
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
		NULL) != SQLITE_OK) {
		log_warnx("store: prepare: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	s->stmts[s->nstmts].sql = sql;
	s->stmts[s->nstmts].st = st;
	s->nstmts++;
	return st;
}

static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a prepared statement to completion and gives it back. */
static int
step_done(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	stmt_done(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* 1 if the approval of q already has max_runs queries (or on error). */
static int
runs_spent(struct store *s, const struct store_query *q)
{
	sqlite3_stmt *st;
	int64_t n = INT64_MAX;

	if ((st = prepare(s,
		 "SELECT count(*) FROM query"
		 " WHERE approval_id = ?1")) == NULL)
		return 1;
	sqlite3_bind_blob(st, 1, q->approval_id, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	stmt_done(st);
	return n >= (int64_t)q->max_runs;
}

int
store_query_add(struct store *s, const struct store_query *q,
    const char *const *sites, size_t nsites, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char detail[256], aerr[128];

	if (store_batch_commit(s) == -1 ||
	    exec(s, "PRAGMA synchronous = FULL; BEGIN IMMEDIATE") == -1)
		return errf(err, errlen, "state database busy");
	if (runs_spent(s, q)) {
		exec(s, "ROLLBACK; PRAGMA synchronous = NORMAL");
		return errf(err, errlen, "approval's run budget of %u is spent",
		    q->max_runs);
	}
	if ((st = prepare(s,
		 "INSERT INTO query (id, researcher, project, approval_id,"
		 " query, approval, submitted_ms, deadline_ms, state, by_site,"
		 " min_cell) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)")) ==
	    NULL)
		goto fail;
	sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->researcher, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->project, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, q->approval_id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, q->query, (int)q->query_len, SQLITE_STATIC);
	sqlite3_bind_blob(
	    st, 6, q->approval, (int)q->approval_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)q->submitted_ms);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)q->deadline_ms);
	sqlite3_bind_int(st, 9, q->state);
	sqlite3_bind_int(st, 10, q->by_site);
	sqlite3_bind_int(st, 11, (int)q->min_cell);
	if (step_done(s, st) == -1)
		goto fail;
	for (size_t i = 0; i < nsites; i++) {
		char tid[STORE_ID_MAX + STORE_NAME_MAX];

		snprintf(tid, sizeof(tid), "%s/%s", q->id, sites[i]);
		if ((st = prepare(s,
			 "INSERT INTO task (id, query_id, site,"
			 " state) VALUES (?1, ?2, ?3, ?4)")) == NULL)
			goto fail;
		sqlite3_bind_text(st, 1, tid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, q->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, sites[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, TALLY__TASK_STATE__TASK_QUEUED);
		if (step_done(s, st) == -1)
			goto fail;
	}
	snprintf(detail, sizeof(detail), "query %s project %s, %zu sites",
	    q->id, q->project, nsites);
	if (audit_append_cached(s->db, &s->audit, q->researcher, "accepted",
		detail, aerr, sizeof(aerr)) == -1) {
		log_warnx("store: %s", aerr);
		goto fail;
	}
	if (exec(s, "COMMIT") == -1)
		goto fail;
	exec(s, "PRAGMA synchronous = NORMAL");
	return 0;
fail:
	exec(s, "ROLLBACK; PRAGMA synchronous = NORMAL");
	return errf(err, errlen, "could not store the query");
}

static int
copy_blob(sqlite3_stmt *st, int col, uint8_t **out, size_t *len)
{
	int n = sqlite3_column_bytes(st, col);
	const void *p = sqlite3_column_blob(st, col);

	*out = NULL;
	*len = 0;
	if (p == NULL || n <= 0)
		return 0;
	if ((*out = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

static void
copy_text(sqlite3_stmt *st, int col, char *dst, size_t dsize)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	strlcpy(dst, t ? (const char *)t : "", dsize);
}

int
store_query_get(struct store *s, const char *id, struct store_query *q,
    uint8_t **query, uint8_t **approval)
{
	sqlite3_stmt *st;
	int rc = -1;

	*query = *approval = NULL;
	if ((st = prepare(s,
		 "SELECT researcher, project, approval_id, query,"
		 " approval, submitted_ms, deadline_ms, state,"
		 " by_site, min_cell FROM query WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(q, 0, sizeof(*q));
		strlcpy(q->id, id, sizeof(q->id));
		copy_text(st, 0, q->researcher, sizeof(q->researcher));
		copy_text(st, 1, q->project, sizeof(q->project));
		if (sqlite3_column_bytes(st, 2) == 32)
			memcpy(q->approval_id, sqlite3_column_blob(st, 2), 32);
		if (copy_blob(st, 3, query, &q->query_len) == 0 &&
		    copy_blob(st, 4, approval, &q->approval_len) == 0) {
			q->query = *query;
			q->approval = *approval;
			q->submitted_ms = (uint64_t)sqlite3_column_int64(st, 5);
			q->deadline_ms = (uint64_t)sqlite3_column_int64(st, 6);
			q->state = sqlite3_column_int(st, 7);
			q->by_site = sqlite3_column_int(st, 8);
			q->min_cell = (unsigned)sqlite3_column_int(st, 9);
			rc = 0;
		} else {
			free(*query);
			free(*approval);
			*query = *approval = NULL;
		}
	}
	stmt_done(st);
	return rc;
}

int
store_queries_running(struct store *s, char (**ids)[STORE_ID_MAX], size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	if ((st = prepare(s,
		 "SELECT id FROM query WHERE state = ?1"
		 " ORDER BY submitted_ms")) == NULL)
		return -1;
	sqlite3_bind_int(st, 1, TALLY__QUERY_STATE__QUERY_RUNNING);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (array_grow((void **)ids, &cap, *n, sizeof(**ids)) == -1) {
			stmt_done(st);
			free(*ids);
			*ids = NULL;
			return -1;
		}
		copy_text(st, 0, (*ids)[*n], STORE_ID_MAX);
		(*n)++;
	}
	stmt_done(st);
	return 0;
}

int
store_tasks(struct store *s, const char *query_id, const char *site,
    struct store_task **tasks, size_t *n)
{
	sqlite3_stmt *st;
	struct store_task *t;
	size_t cap = 0;

	*tasks = NULL;
	*n = 0;
	st = site == NULL
	    ? prepare(s,
		  "SELECT id, query_id, site, state, attempts, reason,"
		  " result, engine_us, done_ms, cached FROM task"
		  " WHERE query_id = ?1 ORDER BY site")
	    : prepare(s,
		  "SELECT id, query_id, site, state, attempts, reason,"
		  " result, engine_us, done_ms, cached FROM task"
		  " WHERE site = ?1 AND state IN (?2, ?3, ?4)"
		  " ORDER BY id");
	if (st == NULL)
		return -1;
	if (site == NULL)
		sqlite3_bind_text(st, 1, query_id, -1, SQLITE_STATIC);
	else {
		sqlite3_bind_text(st, 1, site, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, TALLY__TASK_STATE__TASK_QUEUED);
		sqlite3_bind_int(st, 3, TALLY__TASK_STATE__TASK_SENT);
		sqlite3_bind_int(st, 4, TALLY__TASK_STATE__TASK_RUNNING);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (array_grow((void **)tasks, &cap, *n, sizeof(**tasks)) == -1)
			goto fail;
		t = &(*tasks)[*n];
		memset(t, 0, sizeof(*t));
		copy_text(st, 0, t->id, sizeof(t->id));
		copy_text(st, 1, t->query_id, sizeof(t->query_id));
		copy_text(st, 2, t->site, sizeof(t->site));
		t->state = sqlite3_column_int(st, 3);
		t->attempts = (unsigned)sqlite3_column_int(st, 4);
		copy_text(st, 5, t->reason, sizeof(t->reason));
		(*n)++;
		if (copy_blob(st, 6, &t->table, &t->table_len) == -1)
			goto fail;
		t->engine_us = (uint64_t)sqlite3_column_int64(st, 7);
		t->done_ms = (uint64_t)sqlite3_column_int64(st, 8);
		t->cached = sqlite3_column_int(st, 9);
	}
	stmt_done(st);
	return 0;
fail:
	stmt_done(st);
	store_tasks_free(*tasks, *n);
	*tasks = NULL;
	*n = 0;
	return -1;
}

void
store_tasks_free(struct store_task *t, size_t n)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(t[i].table);
	free(t);
}

int
store_task_final(int state)
{
	return state == TALLY__TASK_STATE__TASK_DONE ||
	    state == TALLY__TASK_STATE__TASK_REFUSED ||
	    state == TALLY__TASK_STATE__TASK_FAILED ||
	    state == TALLY__TASK_STATE__TASK_TIMED_OUT;
}

int
store_batch_begin(struct store *s)
{
	if (s->batch)
		return 0;
	if (exec(s, "BEGIN IMMEDIATE") == -1)
		return -1;
	s->batch = 1;
	return 0;
}

int
store_batch_commit(struct store *s)
{
	if (!s->batch)
		return 0;
	s->batch = 0;
	if (exec(s, "COMMIT") == -1) {
		exec(s, "ROLLBACK");
		return -1;
	}
	return 0;
}

int
store_task_update(struct store *s, const struct store_task *t)
{
	sqlite3_stmt *st;
	int changed;

	if (!s->batch && exec(s, "BEGIN IMMEDIATE") == -1)
		return -1;
	if ((st = prepare(s,
		 "UPDATE task SET state = ?2, reason = ?3, result = ?4,"
		 " engine_us = ?5, cached = ?6, done_ms = ?7,"
		 " attempts = attempts + (?2 = ?8)"
		 " WHERE id = ?1 AND state NOT IN (?9, ?10, ?11, ?12)")) ==
	    NULL)
		goto fail;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, t->state);
	if (t->reason[0] != '\0')
		sqlite3_bind_text(st, 3, t->reason, -1, SQLITE_STATIC);
	if (t->table != NULL)
		sqlite3_bind_blob(
		    st, 4, t->table, (int)t->table_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)t->engine_us);
	sqlite3_bind_int(st, 6, t->cached);
	if (store_task_final(t->state))
		sqlite3_bind_int64(st, 7, (sqlite3_int64)wall_ms());
	sqlite3_bind_int(st, 8, TALLY__TASK_STATE__TASK_SENT);
	sqlite3_bind_int(st, 9, TALLY__TASK_STATE__TASK_DONE);
	sqlite3_bind_int(st, 10, TALLY__TASK_STATE__TASK_REFUSED);
	sqlite3_bind_int(st, 11, TALLY__TASK_STATE__TASK_FAILED);
	sqlite3_bind_int(st, 12, TALLY__TASK_STATE__TASK_TIMED_OUT);
	if (step_done(s, st) == -1)
		goto fail;
	changed = sqlite3_changes(s->db) > 0;
	if (changed && store_task_final(t->state)) {
		char detail[400];

		snprintf(detail, sizeof(detail), "task %s state %d%s%s", t->id,
		    t->state, t->reason[0] ? ": " : "", t->reason);
		if (store_audit(s, t->site, "answer", detail) == -1)
			goto fail;
	}
	if (!s->batch && exec(s, "COMMIT") == -1)
		goto fail;
	return changed;
fail:
	if (s->batch)
		log_warnx("store: a batch of answers is lost; their tasks "
			  "are asked again");
	s->batch = 0;
	exec(s, "ROLLBACK");
	return -1;
}

int
store_query_finish(struct store *s, const char *id, int state,
    const uint8_t *result, size_t len, const char *summary)
{
	sqlite3_stmt *st;
	char aerr[128], detail[512];

	if (store_batch_commit(s) == -1 ||
	    exec(s, "PRAGMA synchronous = FULL; BEGIN IMMEDIATE") == -1)
		return -1;
	if ((st = prepare(s,
		 "UPDATE query SET state = ?2, result = ?3,"
		 " finished_ms = ?4 WHERE id = ?1 AND state = ?5")) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_blob(st, 3, result, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)wall_ms());
	sqlite3_bind_int(st, 5, TALLY__QUERY_STATE__QUERY_RUNNING);
	if (step_done(s, st) == -1)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		log_warnx(
		    "store: query %s is not running: not finished again", id);
		goto fail;
	}
	snprintf(detail, sizeof(detail), "query %s state %d: %s", id, state,
	    summary ? summary : "");
	if (audit_append_cached(s->db, &s->audit, "broker", "release", detail,
		aerr, sizeof(aerr)) == -1) {
		log_warnx("store: %s", aerr);
		goto fail;
	}
	if (exec(s, "COMMIT") == -1)
		goto fail;
	exec(s, "PRAGMA synchronous = NORMAL");
	return 0;
fail:
	exec(s, "ROLLBACK; PRAGMA synchronous = NORMAL");
	return -1;
}

int
store_result_get(
    struct store *s, const char *id, uint8_t **result, size_t *len, int *state)
{
	sqlite3_stmt *st;
	int rc = -1;

	*result = NULL;
	*len = 0;
	if ((st = prepare(s,
		 "SELECT state, result FROM query"
		 " WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*state = sqlite3_column_int(st, 0);
		rc = copy_blob(st, 1, result, len);
	}
	stmt_done(st);
	return rc;
}

/* counts[state] = rows per state of a "SELECT state, count(*)" query,
 * whose ?1 is bound to arg when arg is not NULL. */
static int
count_states(
    struct store *s, const char *sql, const char *arg, uint64_t *counts, int n)
{
	sqlite3_stmt *st;

	memset(counts, 0, (size_t)n * sizeof(counts[0]));
	if ((st = prepare(s, sql)) == NULL)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0);

		if (state >= 0 && state < n)
			counts[state] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	stmt_done(st);
	return 0;
}

int
store_query_counts(struct store *s, uint64_t counts[4])
{
	return count_states(s,
	    "SELECT state, count(*) FROM query GROUP BY state", NULL, counts,
	    4);
}

int
store_task_counts(struct store *s, uint64_t counts[7])
{
	return count_states(s,
	    "SELECT state, count(*) FROM task GROUP BY state", NULL, counts, 7);
}

int
store_query_task_states(struct store *s, const char *id, uint64_t counts[7])
{
	return count_states(s,
	    "SELECT state, count(*) FROM task WHERE query_id = ?1"
	    " GROUP BY state",
	    id, counts, 7);
}

int
store_query_state(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	int state = -1;

	if ((st = prepare(s, "SELECT state FROM query WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		state = sqlite3_column_int(st, 0);
	stmt_done(st);
	return state;
}

int
store_audit(
    struct store *s, const char *actor, const char *event, const char *detail)
{
	char err[128];
	int own = sqlite3_get_autocommit(s->db);

	if (own && exec(s, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (audit_append_cached(s->db, &s->audit, actor, event, detail, err,
		sizeof(err)) == -1) {
		log_warnx("store: %s", err);
		if (own)
			exec(s, "ROLLBACK");
		return -1;
	}
	if (own && exec(s, "COMMIT") == -1)
		return -1;
	return 0;
}
