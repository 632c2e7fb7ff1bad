/*
 * test_broker_dispatch.c — a node's answer is matched to the task it was
 * sent (by peer and request), recorded once (in the pass's batch, looked
 * at after its commit), and what the node wrote in it is made printable
 * before it reaches the audit, logs and operators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "query.h"
#include "testutil.h"
#include "util.h"
#include "wire.h"

struct fx {
	char *dir;
	struct broker b;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *sites[] = { "snuh" };
	struct store_query q;
	Tally__Query *tq;
	uint8_t ab[] = { 1 }, *qb;
	char err[512], path[512], *text;
	size_t len;

	f->dir = test_mkdtemp();
	snprintf(path, sizeof(path), "%s/broker.db", f->dir);
	if ((f->b.store = store_open(path, err, sizeof(err))) == NULL ||
	    (f->b.net = network_load(
		 "deploy/network/hospitals.csv", err, sizeof(err))) == NULL ||
	    file_read("docs/examples/ibd.json", 1 << 20, &text, &len, err,
		sizeof(err)) == -1 ||
	    query_from_json(text, len, &tq, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	free(text);
	f->b.slots = calloc(f->b.net->nsites, sizeof(*f->b.slots));
	for (size_t i = 0; i < f->b.net->nsites; i++) {
		f->b.slots[i].site = &f->b.net->sites[i];
		latency_init(&f->b.slots[i].lat);
	}
	latency_hist_init(&f->b.hist);
	qb = query_pack(tq, &len);
	query_free(tq);
	memset(&q, 0, sizeof(q));
	strcpy(q.id, "q-1");
	strcpy(q.researcher, "kim");
	strcpy(q.project, "ibd");
	q.query = qb;
	q.query_len = len;
	q.approval = ab;
	q.approval_len = sizeof(ab);
	q.submitted_ms = wall_ms();
	q.deadline_ms = q.submitted_ms + 3600 * 1000;
	q.state = TALLY__QUERY_STATE__QUERY_RUNNING;
	q.min_cell = 10;
	q.max_runs = 5;
	if (store_query_add(f->b.store, &q, sites, 1, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	free(qb);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->b.store);
	free(f->b.slots);
	free(f->b.inflight);
	free(f->b.running);
	network_free(f->b.net);
	test_rmdir(f->dir);
	free(f);
	return 0;
}

/* Pretends task q-1/snuh went to peer 7 as request 3. */
static struct slot *
sent(struct fx *f)
{
	struct slot *s = nodes_by_name(&f->b, "snuh");
	struct inflight *in;

	assert_non_null(s);
	s->peer = 7;
	f->b.inflight = calloc(1, sizeof(*f->b.inflight));
	f->b.capinflight = f->b.ninflight = 1;
	in = &f->b.inflight[0];
	in->peer = 7;
	in->req_id = 3;
	in->slot = (size_t)(s - f->b.slots);
	strcpy(in->task_id, "q-1/snuh");
	strcpy(in->query_id, "q-1");
	in->sent_us = clock_us();
	return s;
}

static uint8_t *
refusal(const char *task_id, const char *reason, size_t *len)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__TaskResult tr = TALLY__TASK_RESULT__INIT;

	tr.task_id = (char *)task_id;
	tr.has_state = 1;
	tr.state = TALLY__TASK_STATE__TASK_REFUSED;
	tr.reason = (char *)reason;
	env.body_case = TALLY__ENVELOPE__BODY_TASK_RESULT;
	env.task_result = &tr;
	return wire_encode(&env, 0, len);
}

static void
reason_made_printable(void **state)
{
	struct fx *f = *state;
	struct store_task *t;
	struct slot *s = sent(f);
	uint8_t *buf;
	size_t len, n;

	buf = refusal("q-1/snuh", "budget\nFAKE LOG LINE\x1b[2J\xff", &len);
	assert_non_null(buf);
	/* Another peer cannot answer for snuh. */
	dispatch_answer(&f->b, 8, 3, buf, len);
	assert_int_equal(f->b.ninflight, 1);
	dispatch_answer(&f->b, 7, 3, buf, len);
	free(buf);
	assert_int_equal(f->b.ninflight, 0);
	assert_int_equal(s->refused, 1);
	assert_int_equal(store_tasks(f->b.store, "q-1", NULL, &t, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].state, TALLY__TASK_STATE__TASK_REFUSED);
	assert_string_equal(t[0].reason, "budget?FAKE LOG LINE?[2J?");
	store_tasks_free(t, n);
	assert_string_equal(
	    f->b.refusals[0].reason, "budget?FAKE LOG LINE?[2J?");
}

/* With the query running, an answer joins the pass's batch: the query is
 * looked at (and here finished) only by dispatch_flush, after the
 * commit. */
static void
answer_batched_then_flushed(void **state)
{
	struct fx *f = *state;
	uint8_t *buf;
	size_t len;

	assert_int_equal(dispatch_resume(&f->b), 0);
	assert_int_equal(f->b.nrunning, 1);
	sent(f);
	buf = refusal("q-1/snuh", "policy", &len);
	assert_non_null(buf);
	dispatch_answer(&f->b, 7, 3, buf, len);
	free(buf);
	assert_true(f->b.running[0].touched);
	assert_int_equal(store_query_state(f->b.store, "q-1"),
	    TALLY__QUERY_STATE__QUERY_RUNNING);
	dispatch_flush(&f->b);
	assert_int_equal(f->b.nrunning, 0);
	assert_int_equal(store_query_state(f->b.store, "q-1"),
	    TALLY__QUERY_STATE__QUERY_FAILED);
	/* A duplicate after the end changes nothing. */
	free(f->b.inflight);
	sent(f);
	buf = refusal("q-1/snuh", "again", &len);
	dispatch_answer(&f->b, 7, 3, buf, len);
	free(buf);
	dispatch_flush(&f->b);
	assert_int_equal(store_query_state(f->b.store, "q-1"),
	    TALLY__QUERY_STATE__QUERY_FAILED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    reason_made_printable, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    answer_batched_then_flushed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
