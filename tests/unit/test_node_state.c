/*
 * test_node_state.c — run budgets counted at the node, answers cached by
 * task id, a crash between counting and answering spends no extra run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "state.h"
#include "testutil.h"

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
	assert_int_equal(nstate_finish(ns, "q1/snuh", 3,
			     (const uint8_t *)"answer", 6, "kim", "released"),
	    0);
	/* Same task again: the same answer, no run spent. */
	assert_int_equal(nstate_begin(ns, "q1/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_CACHED);
	assert_int_equal(len, 6);
	assert_memory_equal(res, "answer", 6);
	free(res);
	assert_int_equal(nstate_runs(ns, aid), 1);

	/* A crash after counting: the re-sent task runs, no new run. */
	assert_int_equal(nstate_begin(ns, "q2/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
	nstate_close(ns);
	ns = nstate_open(path, err, sizeof(err));
	assert_int_equal(nstate_begin(ns, "q2/snuh", aid, 2, &res, &len, &st,
			     err, sizeof(err)),
	    NSTATE_RUN);
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
		assert_int_equal(r.records, 2);
		sqlite3_close(db);
	}
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(budget_and_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
