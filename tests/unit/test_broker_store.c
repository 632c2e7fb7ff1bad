/*
 * test_broker_store.c — the broker's durable state: queries and tasks
 * survive a reopen, final task states are never left, every change is
 * audited and the chain verifies; answers committed together in a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store.h"
#include "tally.pb-c.h"
#include "testutil.h"

static void
lifecycle(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	const char *sites[] = { "snuh", "amc", "kims-eye" };
	uint8_t qbytes[] = { 1, 2, 3 }, abytes[] = { 4, 5 };
	struct store_query q, got;
	struct store_task *tasks, upd;
	struct store *s;
	uint8_t *qb, *ab, *res;
	char(*ids)[STORE_ID_MAX];
	uint64_t counts[4];
	size_t n, len;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	memset(&q, 0, sizeof(q));
	strcpy(q.id, "q-1");
	strcpy(q.researcher, "kim");
	strcpy(q.project, "af");
	q.query = qbytes;
	q.query_len = sizeof(qbytes);
	q.approval = abytes;
	q.approval_len = sizeof(abytes);
	q.submitted_ms = 1;
	q.deadline_ms = 99;
	q.min_cell = 10;
	q.max_runs = 2;
	assert_int_equal(store_query_add(s, &q, sites, 3, err, sizeof(err)), 0);
	/* The broker counts an approval's runs too: with max_runs 2, a
	 * second query of it is stored, a third refused. */
	{
		struct store_query q2 = q;
		const char *other[] = { "ncc" };

		strcpy(q2.id, "q-2");
		assert_int_equal(
		    store_query_add(s, &q2, other, 1, err, sizeof(err)), 0);
		strcpy(q2.id, "q-3");
		assert_int_equal(
		    store_query_add(s, &q2, other, 1, err, sizeof(err)), -1);
		assert_string_equal(err, "approval's run budget of 2 is spent");
		q.max_runs = 5;
	}
	/* The same id again is refused, atomically (no extra tasks). */
	assert_int_equal(
	    store_query_add(s, &q, sites, 1, err, sizeof(err)), -1);
	store_close(s);

	/* Everything is there after a reopen. */
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_query_get(s, "q-1", &got, &qb, &ab), 0);
	assert_string_equal(got.researcher, "kim");
	assert_int_equal(got.query_len, 3);
	assert_memory_equal(got.query, qbytes, 3);
	assert_int_equal(got.deadline_ms, 99);
	free(qb);
	free(ab);
	assert_int_equal(store_queries_running(s, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "q-1");
	free(ids);
	assert_int_equal(store_tasks(s, "q-1", NULL, &tasks, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(tasks[0].site, "amc");
	assert_string_equal(tasks[0].id, "q-1/amc");
	assert_int_equal(tasks[0].state, TALLY__TASK_STATE__TASK_QUEUED);
	store_tasks_free(tasks, n);

	/* A task goes sent -> done; a late duplicate changes nothing. */
	memset(&upd, 0, sizeof(upd));
	strcpy(upd.id, "q-1/snuh");
	strcpy(upd.site, "snuh");
	upd.state = TALLY__TASK_STATE__TASK_SENT;
	assert_int_equal(store_task_update(s, &upd), 1);
	upd.state = TALLY__TASK_STATE__TASK_DONE;
	upd.table = qbytes;
	upd.table_len = 2;
	assert_int_equal(store_task_update(s, &upd), 1);
	upd.state = TALLY__TASK_STATE__TASK_FAILED;
	strcpy(upd.reason, "late");
	assert_int_equal(store_task_update(s, &upd), 0);
	strcpy(upd.id, "q-1/nowhere");
	assert_int_equal(store_task_update(s, &upd), 0);
	assert_int_equal(store_tasks(s, NULL, "snuh", &tasks, &n), 0);
	assert_int_equal(n, 0); /* nothing pending for snuh */
	store_tasks_free(tasks, n);
	assert_int_equal(store_tasks(s, NULL, "amc", &tasks, &n), 0);
	assert_int_equal(n, 1);
	store_tasks_free(tasks, n);
	assert_int_equal(store_tasks(s, "q-1", NULL, &tasks, &n), 0);
	assert_int_equal(tasks[2].state, TALLY__TASK_STATE__TASK_DONE);
	assert_int_equal(tasks[2].table_len, 2);
	assert_int_equal(tasks[2].attempts, 1);
	store_tasks_free(tasks, n);

	assert_int_equal(
	    store_query_finish(s, "q-1", TALLY__QUERY_STATE__QUERY_PARTIAL,
		abytes, 2, "1 of 3 sites"),
	    0);
	assert_int_equal(store_result_get(s, "q-1", &res, &len, &st), 0);
	assert_int_equal(len, 2);
	assert_int_equal(st, TALLY__QUERY_STATE__QUERY_PARTIAL);
	free(res);
	assert_int_equal(store_result_get(s, "q-9", &res, &len, &st), -1);
	assert_int_equal(store_query_counts(s, counts), 0);
	assert_int_equal(counts[TALLY__QUERY_STATE__QUERY_PARTIAL], 1);
	assert_int_equal(counts[TALLY__QUERY_STATE__QUERY_RUNNING], 1);
	store_close(s);

	{
		sqlite3 *db;
		struct audit_report r;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(audit_verify(db, &r, err, sizeof(err)), 0);
		/* accepted twice, answer (snuh done), release */
		assert_int_equal(r.records, 4);
		sqlite3_close(db);
	}
	test_rmdir(dir);
}

/* Tasks of query id (state only) as another connection sees them. */
static int
states_seen(const char *path, const char *id, int *states, int max)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = 0;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
			     "SELECT state FROM task WHERE query_id = ?1"
			     " ORDER BY site",
			     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && n < max)
		states[n++] = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Several answers in one transaction: invisible to anyone else (and so
 * lost in a crash, to be asked again) until the commit, then all there,
 * each with its audit record; a duplicate inside a batch changes
 * nothing; a query stored meanwhile commits the batch first. */
static void
batch(void **state)
{
	char *dir = test_mkdtemp(), path[512], err[256];
	const char *sites[] = { "snuh", "amc", "ncc" };
	uint8_t qbytes[] = { 1, 2, 3 }, abytes[] = { 4, 5 };
	struct store_query q;
	struct store_task upd;
	struct store *s;
	int seen[3];

	(void)state;
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	assert_non_null(s = store_open(path, err, sizeof(err)));
	memset(&q, 0, sizeof(q));
	strcpy(q.id, "q-1");
	strcpy(q.researcher, "kim");
	strcpy(q.project, "af");
	q.query = qbytes;
	q.query_len = sizeof(qbytes);
	q.approval = abytes;
	q.approval_len = sizeof(abytes);
	q.deadline_ms = 99;
	q.max_runs = 5;
	assert_int_equal(store_query_add(s, &q, sites, 3, err, sizeof(err)), 0);

	assert_int_equal(store_batch_begin(s), 0);
	assert_int_equal(store_batch_begin(s), 0); /* already open */
	memset(&upd, 0, sizeof(upd));
	upd.state = TALLY__TASK_STATE__TASK_DONE;
	upd.table = qbytes;
	upd.table_len = 3;
	for (int i = 0; i < 2; i++) {
		snprintf(upd.id, sizeof(upd.id), "q-1/%s", sites[i]);
		strcpy(upd.site, sites[i]);
		assert_int_equal(store_task_update(s, &upd), 1);
	}
	assert_int_equal(store_task_update(s, &upd), 0); /* duplicate */
	assert_int_equal(states_seen(path, "q-1", seen, 3), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(seen[i], TALLY__TASK_STATE__TASK_QUEUED);
	assert_int_equal(store_batch_commit(s), 0);
	assert_int_equal(store_batch_commit(s), 0); /* nothing open */
	assert_int_equal(states_seen(path, "q-1", seen, 3), 3);
	/* amc, ncc, snuh */
	assert_int_equal(seen[0], TALLY__TASK_STATE__TASK_DONE);
	assert_int_equal(seen[1], TALLY__TASK_STATE__TASK_QUEUED);
	assert_int_equal(seen[2], TALLY__TASK_STATE__TASK_DONE);

	/* A batch left open when a query is stored is committed first. */
	assert_int_equal(store_batch_begin(s), 0);
	strcpy(upd.id, "q-1/ncc");
	strcpy(upd.site, "ncc");
	upd.state = TALLY__TASK_STATE__TASK_REFUSED;
	strcpy(upd.reason, "policy");
	assert_int_equal(store_task_update(s, &upd), 1);
	strcpy(q.id, "q-2");
	assert_int_equal(store_query_add(s, &q, sites, 1, err, sizeof(err)), 0);
	assert_int_equal(states_seen(path, "q-1", seen, 3), 3);
	assert_int_equal(seen[1], TALLY__TASK_STATE__TASK_REFUSED);
	assert_int_equal(states_seen(path, "q-2", seen, 3), 1);

	/* An open batch is never left behind by a close either. */
	assert_int_equal(store_batch_begin(s), 0);
	strcpy(upd.id, "q-2/snuh");
	strcpy(upd.site, "snuh");
	assert_int_equal(store_task_update(s, &upd), 1);
	store_close(s);
	assert_int_equal(states_seen(path, "q-2", seen, 3), 1);
	assert_int_equal(seen[0], TALLY__TASK_STATE__TASK_REFUSED);
	{
		sqlite3 *db;
		struct audit_report r;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(audit_verify(db, &r, err, sizeof(err)), 0);
		/* accepted twice, four answers */
		assert_int_equal(r.records, 6);
		sqlite3_close(db);
	}
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lifecycle),
		cmocka_unit_test(batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
