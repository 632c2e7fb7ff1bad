/*
 * test_node_worker.c — the node's task queue: a task id that is already
 * queued is not queued twice (a re-send on a new session must not start
 * a second run), other ids are, and a full queue says so. With no worker
 * threads nothing leaves the queue, so every answer here is exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wire.h"
#include "worker.h"

static struct wire_msg *
task_msg(const char *id)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Task t = TALLY__TASK__INIT;
	struct wire_msg *m;
	char err[256];
	uint8_t *buf;
	size_t len;

	t.task_id = (char *)id;
	env.body_case = TALLY__ENVELOPE__BODY_TASK;
	env.task = &t;
	buf = wire_encode(&env, 0, &len);
	assert_non_null(buf);
	m = wire_decode(buf, len, 0, 0, err, sizeof(err));
	free(buf);
	assert_non_null(m);
	return m;
}

static void
duplicate_ids(void **state)
{
	struct node_config cfg;
	struct workers *ws;
	struct wire_msg *m;
	char err[256] = "";

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.policy.max_tasks = 0; /* no threads: the queue only fills */
	ws = workers_new(&cfg, NULL, 0, 0, err, sizeof(err));
	assert_non_null(ws);
	assert_int_equal(workers_submit(ws, 1, 1, task_msg("q1/snuh")), 0);
	m = task_msg("q1/snuh");
	assert_int_equal(workers_submit(ws, 2, 7, m), WORKERS_RUNNING);
	wire_free(m); /* refused: still the caller's */
	assert_int_equal(workers_submit(ws, 2, 8, task_msg("q2/snuh")), 0);
	assert_int_equal(workers_busy(ws), 2);
	for (unsigned i = 2; i < WORKERS_MAX_QUEUE; i++) {
		char id[32];

		snprintf(id, sizeof(id), "q%u/snuh", i + 1);
		assert_int_equal(workers_submit(ws, 2, i, task_msg(id)), 0);
	}
	m = task_msg("one-too-many");
	assert_int_equal(workers_submit(ws, 2, 9, m), WORKERS_FULL);
	wire_free(m);
	workers_free(ws); /* frees what is still queued */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duplicate_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
