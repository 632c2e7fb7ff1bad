/*
 * test_node_state.c — run budgets counted at the node, answers cached by
 * task id (and only for the approval it was first run with), a run
 * counted only with its stored answer (a crash before spends nothing, two
 * copies release one answer), a group of workers committing together,
 * workers auditing
 * through their own connections at once lose no record.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "state.h"
#include "testutil.h"

/* Stores an answer for task id as nstate_finish does; its return. */
static int
finish(struct nstate *ns, const char *id, const uint8_t aid[32],
    uint32_t max_runs, const char *answer)
{
	uint8_t *stored = NULL;
	size_t slen;
	char err[256];
	int rc;

	rc = nstate_finish(ns, id, aid, max_runs, 3, (const uint8_t *)answer,
	    strlen(answer), "kim", "released", &stored, &slen, err,
	    sizeof(err));
	if (rc == NSTATE_CACHED) {
		assert_non_null(stored);
		assert_int_equal(slen, 6);
		assert_memory_equal(stored, "answer", 6);
	} else
		assert_null(stored);
	free(stored);
	return rc;
}

static void
budget_and_cache(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	uint8_t aid[32], other[32], *res;
	struct nstate *ns;
	size_t len;
	int st;

	(void)state;
	memset(aid, 7, 32);
	memset(other, 8, 32);
	snprintf(path, sizeof(path), "%s/node-state.db", dir);
	ns = nstate_open(path, err, sizeof(err));
	assert_non_null(ns);

	assert_int_equal(nstate_begin(ns, "q1/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
	/* Deciding spends nothing: the run counts when its answer is
	 * stored. */
	assert_int_equal(nstate_runs(ns, aid), 0);
	assert_int_equal(finish(ns, "q1/snuh", aid, 2, "answer"), 0);
	assert_int_equal(nstate_runs(ns, aid), 1);
	/* Same task again: the same answer, no run spent. */
	assert_int_equal(nstate_begin(ns, "q1/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_CACHED);
	assert_int_equal(len, 6);
	assert_memory_equal(res, "answer", 6);
	free(res);
	assert_int_equal(nstate_runs(ns, aid), 1);
	/* A second copy that ran at the same time stores nothing and
	 * releases the first copy's answer. */
	assert_int_equal(
	    finish(ns, "q1/snuh", aid, 2, "second"), NSTATE_CACHED);
	assert_int_equal(nstate_runs(ns, aid), 1);

	/* A crash between deciding and storing: nothing released, nothing
	 * spent; the re-sent task runs. */
	assert_int_equal(nstate_begin(ns, "q2/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
	nstate_close(ns);
	ns = nstate_open(path, err, sizeof(err));
	assert_int_equal(nstate_begin(ns, "q2/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
	assert_int_equal(nstate_runs(ns, aid), 1);
	/* Two tasks decided while one run was left: only the first to
	 * store its answer may release it. */
	assert_int_equal(nstate_begin(ns, "q3/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
	assert_int_equal(finish(ns, "q2/snuh", aid, 2, "answer"), 0);
	assert_int_equal(
	    finish(ns, "q3/snuh", aid, 2, "answer"), NSTATE_BUDGET);
	assert_int_equal(nstate_runs(ns, aid), 2);

	/* The budget is spent: a new task of that approval is refused. */
	assert_int_equal(nstate_begin(ns, "q3/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_BUDGET);
	assert_string_equal(err, "approval's run budget of 2 is spent");
	/* Another approval has its own budget. */
	assert_int_equal(nstate_begin(ns, "q4/snuh", other, 1, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
	assert_int_equal(nstate_audit(ns, "kim", "refused", "bad approval"), 0);
	nstate_close(ns);

	{
		sqlite3 *db;
		struct audit_report r;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(audit_verify(db, &r, err, sizeof(err)), 0);
		/* q1, q2 released, one refusal; no record of what was not
		 * stored. */
		assert_int_equal(r.records, 3);
		sqlite3_close(db);
	}
	test_rmdir(dir);
}

/* A task id seen before with one approval, sent again with another:
 * neither the first query's answer nor a run outside the budget. */
static void
task_id_bound_to_approval(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	uint8_t aid[32], other[32], *res;
	struct nstate *ns;
	size_t len;
	int st;

	(void)state;
	memset(aid, 7, 32);
	memset(other, 8, 32);
	snprintf(path, sizeof(path), "%s/node-state.db", dir);
	ns = nstate_open(path, err, sizeof(err));
	assert_non_null(ns);
	assert_int_equal(finish(ns, "q1/snuh", aid, 1, "answer"), 0);
	assert_int_equal(nstate_begin(ns, "q1/snuh", other, 1, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_REUSED);
	assert_null(res);
	assert_string_equal(
	    err, "task id q1/snuh was used with another approval");
	/* Storing under the other approval is refused just the same. */
	assert_int_equal(
	    finish(ns, "q1/snuh", other, 1, "other!"), NSTATE_REUSED);
	assert_int_equal(nstate_runs(ns, other), 0);
	/* Its own approval still gets the cached answer. */
	assert_int_equal(nstate_begin(ns, "q1/snuh", aid, 1, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_CACHED);
	free(res);
	nstate_close(ns);
	test_rmdir(dir);
}

/* A row left by an older version (run counted at its start, then a
 * crash) is answered without counting the run a second time. */
static void
legacy_started_row(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	uint8_t aid[32], *res;
	struct nstate *ns;
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t len;
	int s;

	(void)state;
	memset(aid, 7, 32);
	snprintf(path, sizeof(path), "%s/node-state.db", dir);
	ns = nstate_open(path, err, sizeof(err));
	assert_non_null(ns);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "INSERT INTO approval_runs VALUES (x'"
			     "0707070707070707070707070707070707070707070707070"
			     "707070707070707', 1)",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
			     "INSERT INTO task (id, approval_id, started_ms)"
			     " VALUES ('q1/snuh', ?1, 1)",
			     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_blob(st, 1, aid, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(nstate_begin(ns, "q1/snuh", aid, 1, &res, &len, &s,
			     err, sizeof(err)),
	    NSTATE_RUN);
	assert_int_equal(finish(ns, "q1/snuh", aid, 1, "answer"), 0);
	assert_int_equal(nstate_runs(ns, aid), 1);
	assert_int_equal(nstate_begin(ns, "q1/snuh", aid, 1, &res, &len, &s,
			     err, sizeof(err)),
	    NSTATE_CACHED);
	free(res);
	nstate_close(ns);
	test_rmdir(dir);
}

#define AUDITORS 4
#define AUDITS	 50

static void *
auditor(void *arg)
{
	struct nstate *ns = arg;
	long failed = 0;

	for (int i = 0; i < AUDITS; i++)
		failed +=
		    nstate_audit(ns, "kim", "refused", "bad approval") != 0;
	return (void *)failed;
}

static void
concurrent_audit(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	struct nstate *ns[AUDITORS];
	pthread_t tid[AUDITORS];
	struct audit_report r;
	sqlite3 *db;
	long failed = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/node-state.db", dir);
	for (int i = 0; i < AUDITORS; i++)
		assert_non_null(ns[i] = nstate_open(path, err, sizeof(err)));
	for (int i = 0; i < AUDITORS; i++)
		assert_int_equal(
		    pthread_create(&tid[i], NULL, auditor, ns[i]), 0);
	for (int i = 0; i < AUDITORS; i++) {
		void *rv;

		pthread_join(tid[i], &rv);
		failed += (long)rv;
		nstate_close(ns[i]);
	}
	assert_int_equal(failed, 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(audit_verify(db, &r, err, sizeof(err)), 0);
	assert_int_equal(r.records, AUDITORS * AUDITS);
	sqlite3_close(db);
	test_rmdir(dir);
}

#define FINISHERS 4
#define TASKS	  25
#define BUDGET	  60 /* of FINISHERS * TASKS runs */

struct finisher {
	struct nstate *ns;
	int id;
	int stored, refused, cached, failed;
};

/* Each finisher stores its own tasks, and all of them task "shared". */
static void *
finisher(void *arg)
{
	struct finisher *f = arg;
	uint8_t aid[32], *stored;
	size_t slen;
	char id[64], err[256];

	memset(aid, 7, 32);
	for (int i = 0; i <= TASKS; i++) {
		int rc;

		if (i == TASKS)
			strcpy(id, "shared");
		else
			snprintf(id, sizeof(id), "q%d-%d/snuh", f->id, i);
		rc = nstate_finish(f->ns, id, aid, BUDGET, 3,
		    (const uint8_t *)"answer", 6, "kim", "released", &stored,
		    &slen, err, sizeof(err));
		f->stored += rc == 0;
		f->refused += rc == NSTATE_BUDGET;
		f->cached += rc == NSTATE_CACHED;
		f->failed += rc == -1;
		free(stored);
		if (i % 5 == 0)
			f->failed += nstate_audit(f->ns, "kim", "refused",
					 "bad approval") != 0;
	}
	return NULL;
}

/* Workers storing at once through one group: every write is committed
 * (none lost, none failing on a busy database), exactly the budget's runs
 * are stored, the one task all of them ran is stored once, and the audit
 * chain is whole. */
static void
group_commit(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	struct nstate_group *g = nstate_group_new();
	struct finisher f[FINISHERS];
	pthread_t tid[FINISHERS];
	struct audit_report r;
	uint8_t aid[32];
	uint64_t commits, writes;
	int stored = 0, refused = 0, cached = 0, failed = 0;
	sqlite3 *db;

	(void)state;
	assert_non_null(g);
	memset(aid, 7, 32);
	snprintf(path, sizeof(path), "%s/node-state.db", dir);
	memset(f, 0, sizeof(f));
	for (int i = 0; i < FINISHERS; i++) {
		assert_non_null(f[i].ns = nstate_open(path, err, sizeof(err)));
		nstate_join(f[i].ns, g);
		f[i].id = i;
	}
	for (int i = 0; i < FINISHERS; i++)
		assert_int_equal(
		    pthread_create(&tid[i], NULL, finisher, &f[i]), 0);
	for (int i = 0; i < FINISHERS; i++) {
		pthread_join(tid[i], NULL);
		stored += f[i].stored;
		refused += f[i].refused;
		cached += f[i].cached;
		failed += f[i].failed;
	}
	assert_int_equal(failed, 0);
	assert_int_equal(stored, BUDGET);
	assert_int_equal(stored + refused + cached, FINISHERS * (TASKS + 1));
	assert_int_equal(nstate_runs(f[0].ns, aid), BUDGET);
	nstate_group_stats(g, &commits, &writes);
	/* every answer and every audit went through the group */
	assert_int_equal(writes, FINISHERS * (TASKS + 1 + (TASKS / 5 + 1)));
	assert_true(commits >= 1 && commits <= writes);
	for (int i = 0; i < FINISHERS; i++)
		nstate_close(f[i].ns);
	nstate_group_free(g);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(audit_verify(db, &r, err, sizeof(err)), 0);
	assert_int_equal(r.records, BUDGET + FINISHERS * (TASKS / 5 + 1));
	sqlite3_close(db);
	test_rmdir(dir);
}

/* Several answers stored in one commit, each decided in order: a later
 * one sees an earlier one's run (budget) and stored answer (same task). */
static void
finish_many(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	struct nstate_group *g = nstate_group_new();
	struct nstate_answer a[4];
	const char *ids[4] = { "q1/snuh", "q2/snuh", "q1/snuh", "q3/snuh" };
	uint8_t aid[32];
	uint64_t commits, writes;
	struct nstate *ns;

	(void)state;
	memset(aid, 7, 32);
	snprintf(path, sizeof(path), "%s/node-state.db", dir);
	assert_non_null(ns = nstate_open(path, err, sizeof(err)));
	nstate_join(ns, g);
	memset(a, 0, sizeof(a));
	for (int i = 0; i < 4; i++) {
		a[i].task_id = ids[i];
		a[i].approval_id = aid;
		a[i].max_runs = 2;
		a[i].state = 3;
		a[i].result = (const uint8_t *)"answer";
		a[i].len = 6;
		a[i].actor = "kim";
		a[i].summary = "released";
	}
	assert_int_equal(nstate_finish_many(ns, a, 4), 0);
	assert_int_equal(a[0].rc, 0);
	assert_int_equal(a[1].rc, 0);
	assert_int_equal(a[2].rc, NSTATE_CACHED); /* q1 stored just before */
	assert_int_equal(a[2].slen, 6);
	assert_memory_equal(a[2].stored, "answer", 6);
	free(a[2].stored);
	assert_int_equal(a[3].rc, NSTATE_BUDGET);
	assert_string_equal(a[3].err, "approval's run budget of 2 is spent");
	assert_int_equal(nstate_runs(ns, aid), 2);
	nstate_group_stats(g, &commits, &writes);
	assert_int_equal(commits, 1);
	assert_int_equal(writes, 4);
	nstate_close(ns);
	nstate_group_free(g);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(budget_and_cache),
		cmocka_unit_test(task_id_bound_to_approval),
		cmocka_unit_test(legacy_started_row),
		cmocka_unit_test(concurrent_audit),
		cmocka_unit_test(group_commit),
		cmocka_unit_test(finish_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
