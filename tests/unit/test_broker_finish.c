/*
 * test_broker_finish.c — a query becomes final once: its result is built,
 * stored and its release audited one time, however often it is looked at
 * afterwards (deadline timer, a researcher asking, a restart); and a
 * query whose sites had all answered before a crash is final as soon as
 * the broker resumes, not at its deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "broker.h"
#include "query.h"
#include "testutil.h"
#include "util.h"

struct fx {
	char *dir;
	char path[512];
	struct broker b;
};

/* Stores query id for snuh and amc, running, with the approval's k. */
static void
add_query(struct fx *f, const char *id, unsigned min_cell)
{
	const char *sites[] = { "snuh", "amc" };
	struct store_query q;
	Tally__Query *tq;
	uint8_t ab[] = { 1 }, *qb;
	char err[512], *text;
	size_t len;

	if (file_read("docs/examples/ibd.json", 1 << 20, &text, &len, err,
		sizeof(err)) == -1 ||
	    query_from_json(text, len, &tq, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	free(text);
	qb = query_pack(tq, &len);
	query_free(tq);
	memset(&q, 0, sizeof(q));
	strcpy(q.id, id);
	strcpy(q.researcher, "kim");
	strcpy(q.project, "ibd");
	q.query = qb;
	q.query_len = len;
	q.approval = ab;
	q.approval_len = sizeof(ab);
	q.submitted_ms = wall_ms();
	q.deadline_ms = q.submitted_ms + 3600 * 1000;
	q.state = TALLY__QUERY_STATE__QUERY_RUNNING;
	q.min_cell = min_cell;
	q.max_runs = 5;
	if (store_query_add(f->b.store, &q, sites, 2, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	free(qb);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512];

	f->dir = test_mkdtemp();
	snprintf(f->path, sizeof(f->path), "%s/broker.db", f->dir);
	if ((f->b.store = store_open(f->path, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	latency_hist_init(&f->b.hist);
	add_query(f, "q-1", 10);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->b.store);
	free(f->b.running);
	test_rmdir(f->dir);
	free(f);
	return 0;
}

/* Both sites refuse query id: every task is final. */
static void
answer_all(struct fx *f, const char *id)
{
	const char *sites[] = { "snuh", "amc" };
	struct store_task t;

	for (int i = 0; i < 2; i++) {
		memset(&t, 0, sizeof(t));
		snprintf(t.id, sizeof(t.id), "%s/%s", id, sites[i]);
		strcpy(t.site, sites[i]);
		t.state = TALLY__TASK_STATE__TASK_REFUSED;
		strcpy(t.reason, "budget spent");
		assert_int_equal(store_task_update(f->b.store, &t), 1);
	}
}

static int
releases(struct fx *f)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
			     "SELECT count(*) FROM audit WHERE event = "
			     "'release'",
			     -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static int
query_state(struct fx *f)
{
	struct store_query q;
	uint8_t *qb, *ab;

	assert_int_equal(store_query_get(f->b.store, "q-1", &q, &qb, &ab), 0);
	free(qb);
	free(ab);
	return q.state;
}

static void
final_once(void **state)
{
	struct fx *f = *state;
	uint8_t res[] = { 0 };

	/* Not final while a site has not answered. */
	assert_int_equal(finish_check(&f->b, "q-1", 0), 0);
	answer_all(f, "q-1");
	assert_int_equal(finish_check(&f->b, "q-1", 0), 1);
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_FAILED);
	assert_int_equal(releases(f), 1);
	/* Looked at again (a waiter, the deadline): final, not released
	 * again. */
	assert_int_equal(finish_check(&f->b, "q-1", 0), 1);
	assert_int_equal(finish_check(&f->b, "q-1", 1), 1);
	assert_int_equal(releases(f), 1);
	/* The store refuses to finish a final query a second time. */
	assert_int_equal(
	    store_query_finish(f->b.store, "q-1",
		TALLY__QUERY_STATE__QUERY_COMPLETE, res, sizeof(res), "again"),
	    -1);
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_FAILED);
	assert_int_equal(releases(f), 1);
}

/* After answers, with progress notes not due: the query is final all the
 * same once every site has answered, and released once. */
static void
answered_quietly(void **state)
{
	struct fx *f = *state;

	assert_int_equal(finish_answered(&f->b, "q-1", 0), 0);
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_RUNNING);
	answer_all(f, "q-1");
	assert_int_equal(finish_answered(&f->b, "q-1", 0), 1);
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_FAILED);
	assert_int_equal(finish_answered(&f->b, "q-1", 1), 1);
	assert_int_equal(releases(f), 1);
}

static void
resume_finishes(void **state)
{
	struct fx *f = *state;

	/* Every site answered, then the broker died before finishing. */
	answer_all(f, "q-1");
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_RUNNING);
	assert_int_equal(dispatch_resume(&f->b), 0);
	assert_int_equal(f->b.nrunning, 0);
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_FAILED);
	assert_int_equal(releases(f), 1);
}

static void
resume_keeps_open(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dispatch_resume(&f->b), 0);
	assert_int_equal(f->b.nrunning, 1);
	assert_int_equal(query_state(f), TALLY__QUERY_STATE__QUERY_RUNNING);
	assert_int_equal(releases(f), 0);
}

/* A failed query's result needs no pool: even a k no pool accepts
 * (stored before submissions were checked for it) ends the query. */
static void
failed_needs_no_pool(void **state)
{
	struct fx *f = *state;

	add_query(f, "q-2", 2000000);
	answer_all(f, "q-2");
	assert_int_equal(finish_check(&f->b, "q-2", 0), 1);
	assert_int_equal(releases(f), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(final_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    answered_quietly, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    resume_finishes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    resume_keeps_open, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    failed_needs_no_pool, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
