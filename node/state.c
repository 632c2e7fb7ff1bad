/*
 * state.c — owns the node's state file (SQLite, WAL, synchronous=FULL).
 * It never stores patient-level data: only released (suppressed) answers,
 * run counts and the audit chain. A run is counted in the same
 * transaction (one fsync) that stores its answer and audit record, before
 * the answer is released: a run that releases nothing spends nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "state.h"
#include "util.h"

/* Statements every task uses, prepared once per connection. */
enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_LOOKUP,
	ST_RUNS,
	ST_COUNT,
	ST_STORE,
	ST_MAX
};

static const char *const nstate_stmt_sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_LOOKUP] = "SELECT state, result, approval_id FROM task"
		      " WHERE id = ?1",
	[ST_RUNS] = "SELECT runs FROM approval_runs WHERE approval_id = ?1",
	[ST_COUNT] = "INSERT INTO approval_runs (approval_id, runs)"
		     " VALUES (?1, 1) ON CONFLICT (approval_id)"
		     " DO UPDATE SET runs = runs + 1",
	[ST_STORE] = "INSERT INTO task (id, approval_id, state, result,"
		     " started_ms, done_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
		     " ON CONFLICT (id) DO UPDATE SET state = ?3,"
		     " result = ?4, done_ms = ?5",
};

struct nstate {
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
	struct audit_stmts audit;
	struct nstate_group *group; /* shared with the node's other workers */
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

/* The prepared statement `which`, reset and ready to bind. */
static sqlite3_stmt *
stmt(struct nstate *ns, int which)
{
	sqlite3_stmt **st = &ns->st[which];

	if (*st == NULL &&
	    sqlite3_prepare_v3(ns->db, nstate_stmt_sql[which], -1,
		SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		log_warnx("node state: %s", sqlite3_errmsg(ns->db));
		*st = NULL;
	}
	return *st;
}

/* Steps a statement that returns no rows and resets it. */
static int
run(struct nstate *ns, int which)
{
	sqlite3_stmt *st = stmt(ns, which);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warnx("node state: %s", sqlite3_errmsg(ns->db));
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
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(ns->st[i]);
	audit_stmts_free(&ns->audit);
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

	if ((st = stmt(ns, ST_LOOKUP)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 1);

		if (sqlite3_column_bytes(st, 2) != 32 ||
		    memcmp(sqlite3_column_blob(st, 2), approval_id, 32) != 0)
			rc = 2;
		else {
			*state = sqlite3_column_int(st, 0);
			rc = 1;
			if (n > 0 && (*result = malloc((size_t)n)) == NULL)
				rc = -1;
			else if (n > 0) {
				memcpy(*result, sqlite3_column_blob(st, 1),
				    (size_t)n);
				*len = (size_t)n;
			}
		}
	} else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int64_t
nstate_runs(struct nstate *ns, const uint8_t approval_id[32])
{
	sqlite3_stmt *st;
	int64_t runs = 0;

	if ((st = stmt(ns, ST_RUNS)) == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, approval_id, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		runs = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return runs;
}

/* What a task may do, from what is stored (task row and run count). With
 * found_out, whether a row exists (then its run was counted before). */
static int
decide(struct nstate *ns, const char *task_id, const uint8_t approval_id[32],
    uint32_t max_runs, uint8_t **result, size_t *len, int *state,
    int *found_out, char *err, size_t errlen)
{
	int64_t runs;
	int found;

	*result = NULL;
	*len = 0;
	*found_out = 0;
	found = task_lookup(ns, task_id, approval_id, result, len, state);
	if (found == -1)
		return errf(
		    err, errlen, "node state: %s", sqlite3_errmsg(ns->db));
	if (found == 2) {
		/* Neither another query's answer nor a run off budget. */
		errf(err, errlen, "task id %s was used with another approval",
		    task_id);
		return NSTATE_REUSED;
	}
	if (found == 1) {
		/* Answered: the same answer again. A row without an answer
		 * (counted at its start by an older version, then a crash):
		 * run again, the run was counted already. */
		*found_out = 1;
		return *result != NULL ? NSTATE_CACHED : NSTATE_RUN;
	}
	if ((runs = nstate_runs(ns, approval_id)) < 0)
		return errf(
		    err, errlen, "node state: %s", sqlite3_errmsg(ns->db));
	if ((uint64_t)runs >= max_runs) {
		errf(err, errlen, "approval's run budget of %u is spent",
		    max_runs);
		return NSTATE_BUDGET;
	}
	return NSTATE_RUN;
}

int
nstate_begin(struct nstate *ns, const char *task_id,
    const uint8_t approval_id[32], uint32_t max_runs, uint8_t **result,
    size_t *len, int *state, char *err, size_t errlen)
{
	int found;

	/* Only reads: nstate_finish decides again, in its transaction. */
	return decide(ns, task_id, approval_id, max_runs, result, len, state,
	    &found, err, errlen);
}

/* Counts the run (unless counted before), stores the answer, audits it. */
static int
store_answer(struct nstate *ns, const char *task_id,
    const uint8_t approval_id[32], int counted, int state,
    const uint8_t *result, size_t len, const char *actor, const char *summary)
{
	sqlite3_stmt *st;
	char err[128];

	if (!counted) {
		if ((st = stmt(ns, ST_COUNT)) == NULL)
			return -1;
		sqlite3_bind_blob(st, 1, approval_id, 32, SQLITE_STATIC);
		if (run(ns, ST_COUNT) == -1)
			return -1;
	}
	if ((st = stmt(ns, ST_STORE)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, approval_id, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, state);
	sqlite3_bind_blob(st, 4, result, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)wall_ms());
	if (run(ns, ST_STORE) == -1)
		return -1;
	if (audit_append_cached(ns->db, &ns->audit, actor, "released", summary,
		err, sizeof(err)) == -1) {
		log_warnx("node state: %s", err);
		return -1;
	}
	return 0;
}

/* One write waiting for its transaction: a task's answer, or an audit
 * record. */
struct nreq {
	int kind; /* NREQ_* */
	const char *task_id;
	const uint8_t *approval_id;
	uint32_t max_runs;
	int state;
	const uint8_t *result;
	size_t len;
	const char *actor, *event, *detail;
	uint8_t *stored; /* NSTATE_CACHED: the answer stored first */
	size_t slen;
	char *err;
	size_t errlen;
	int rc, done;
	struct nreq *next;
};

#define NREQ_FINISH 1
#define NREQ_AUDIT  2

/* Workers of one node queue their writes here; whoever finds no commit
 * running leads the next one, for everything queued so far. */
struct nstate_group {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int leading;
	struct nreq *head, **tail;
	uint64_t commits, writes;
};

/* Applies one request inside the open transaction: 0, or -1 when the
 * transaction must be rolled back. */
static int
apply_one(struct nstate *ns, struct nreq *r)
{
	char err[128];
	int found, st;

	if (r->kind == NREQ_AUDIT) {
		if (audit_append_cached(ns->db, &ns->audit, r->actor, r->event,
			r->detail, err, sizeof(err)) == -1) {
			log_warnx("node state: %s", err);
			return -1;
		}
		r->rc = 0;
		return 0;
	}
	r->rc = decide(ns, r->task_id, r->approval_id, r->max_runs, &r->stored,
	    &r->slen, &st, &found, r->err, r->errlen);
	if (r->rc == -1)
		return -1;
	if (r->rc != NSTATE_RUN)
		/* Another copy answered first, or the budget went meanwhile:
		 * nothing of this run is stored or released. */
		return 0;
	if (store_answer(ns, r->task_id, r->approval_id, found, r->state,
		r->result, r->len, r->actor, r->detail) == -1)
		return -1;
	r->rc = 0;
	return 0;
}

/* Everything in list, in one transaction (one fsync). If any write
 * fails, none is stored: each gets -1. */
static void
apply(struct nstate *ns, struct nreq *list)
{
	struct nreq *r;
	int ok;

	ok = run(ns, ST_BEGIN) == 0;
	for (r = list; r != NULL && ok; r = r->next)
		ok = apply_one(ns, r) == 0;
	if (ok && run(ns, ST_COMMIT) == 0)
		return;
	run(ns, ST_ROLLBACK);
	for (r = list; r != NULL; r = r->next) {
		free(r->stored);
		r->stored = NULL;
		r->slen = 0;
		r->rc = -1;
		if (r->err != NULL)
			errf(r->err, r->errlen, "node state: %s",
			    sqlite3_errmsg(ns->db));
	}
}

/* Group commit: the chain from first (linked by next, ending in NULL) is
 * queued at once, so it goes into one commit; returns when every request
 * of it is committed or failed. */
static void
write_list(struct nstate *ns, struct nreq *first)
{
	struct nstate_group *g = ns->group;
	struct nreq *batch, *q, *next, *last;

	if (g == NULL) {
		apply(ns, first);
		return;
	}
	for (last = first; last->next != NULL; last = last->next)
		;
	pthread_mutex_lock(&g->mu);
	*g->tail = first;
	g->tail = &last->next;
	/* The chain stays linked only until the leader takes it. */
	while (!last->done) {
		if (g->leading) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		batch = g->head;
		g->head = NULL;
		g->tail = &g->head;
		g->leading = 1;
		pthread_mutex_unlock(&g->mu);
		apply(ns, batch);
		pthread_mutex_lock(&g->mu);
		for (q = batch; q != NULL; q = next) {
			next = q->next;
			g->writes++;
			q->done = 1;
		}
		g->commits++;
		g->leading = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
}

static int
write_req(struct nstate *ns, struct nreq *r)
{
	r->next = NULL;
	write_list(ns, r);
	return r->rc;
}

struct nstate_group *
nstate_group_new(void)
{
	struct nstate_group *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->tail = &g->head;
	return g;
}

void
nstate_group_free(struct nstate_group *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

void
nstate_join(struct nstate *ns, struct nstate_group *g)
{
	ns->group = g;
}

void
nstate_group_stats(struct nstate_group *g, uint64_t *commits, uint64_t *writes)
{
	pthread_mutex_lock(&g->mu);
	*commits = g->commits;
	*writes = g->writes;
	pthread_mutex_unlock(&g->mu);
}

int
nstate_finish_many(struct nstate *ns, struct nstate_answer *ans, size_t n)
{
	struct nreq *r;
	size_t i;

	if (n == 0)
		return 0;
	if ((r = calloc(n, sizeof(*r))) == NULL) {
		for (i = 0; i < n; i++) {
			ans[i].rc = -1;
			errf(ans[i].err, sizeof(ans[i].err), "out of memory");
		}
		return -1;
	}
	for (i = 0; i < n; i++) {
		ans[i].stored = NULL;
		ans[i].slen = 0;
		r[i].kind = NREQ_FINISH;
		r[i].task_id = ans[i].task_id;
		r[i].approval_id = ans[i].approval_id;
		r[i].max_runs = ans[i].max_runs;
		r[i].state = ans[i].state;
		r[i].result = ans[i].result;
		r[i].len = ans[i].len;
		r[i].actor = ans[i].actor;
		r[i].detail = ans[i].summary;
		r[i].err = ans[i].err;
		r[i].errlen = sizeof(ans[i].err);
		r[i].next = i + 1 < n ? &r[i + 1] : NULL;
		if (ans[i].len > INT32_MAX)
			r[i].kind = 0; /* refused below, never written */
	}
	/* The chain must not hold an unwritable request: it is cut out. */
	for (i = 0; i < n; i++)
		if (r[i].kind == 0) {
			r[i].rc = -1;
			r[i].done = 1;
			errf(
			    ans[i].err, sizeof(ans[i].err), "answer too large");
		}
	{
		struct nreq *head = NULL, **tail = &head;

		for (i = 0; i < n; i++)
			if (r[i].kind != 0) {
				*tail = &r[i];
				tail = &r[i].next;
			}
		*tail = NULL;
		if (head != NULL)
			write_list(ns, head);
	}
	for (i = 0; i < n; i++) {
		ans[i].rc = r[i].rc;
		ans[i].stored = r[i].stored;
		ans[i].slen = r[i].slen;
	}
	free(r);
	return 0;
}

int
nstate_finish(struct nstate *ns, const char *task_id,
    const uint8_t approval_id[32], uint32_t max_runs, int state,
    const uint8_t *result, size_t len, const char *actor, const char *summary,
    uint8_t **stored, size_t *slen, char *err, size_t errlen)
{
	struct nstate_answer a;

	memset(&a, 0, sizeof(a));
	a.task_id = task_id;
	a.approval_id = approval_id;
	a.max_runs = max_runs;
	a.state = state;
	a.result = result;
	a.len = len;
	a.actor = actor;
	a.summary = summary;
	nstate_finish_many(ns, &a, 1);
	*stored = a.stored;
	*slen = a.slen;
	if (a.rc != 0 && a.rc != NSTATE_CACHED)
		strlcpy(err, a.err, errlen);
	return a.rc;
}

int
nstate_audit(
    struct nstate *ns, const char *actor, const char *event, const char *detail)
{
	struct nreq r;

	/* In a transaction of its own or of the group: the chain's
	 * read-then-insert must not interleave with another connection's
	 * (one of two appends would fail on the sequence). */
	memset(&r, 0, sizeof(r));
	r.kind = NREQ_AUDIT;
	r.actor = actor;
	r.event = event;
	r.detail = detail;
	return write_req(ns, &r);
}
