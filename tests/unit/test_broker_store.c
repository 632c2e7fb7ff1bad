/*
 * test_broker_store.c — the broker's durable state: queries and tasks
 * survive a reopen, final task states are never left, every change is
 * audited and the chain verifies.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
