/*
 * test_status.c — the status snapshot as data: string cleaning, copies,
 * display order, the Status message both ways (through the real wire
 * codec) with hostile input, and the latency window and histogram.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "status.h"
#include "tally.pb-c.h"
#include "test_status.h"
#include "util.h"
#include "wire.h"

static void
clean_strings(void **state)
{
	char out[16];

	(void)state;
	status_clean(out, sizeof(out), "snuh", 4);
	assert_string_equal(out, "snuh");
	/* Terminal escapes, NUL, DEL and C1 controls become '?'. */
	status_clean(out, sizeof(out), "\033[2Jx\0y\x7f", 8);
	assert_string_equal(out, "?[2Jx?y?");
	status_clean(out, sizeof(out),
	    "a\xc2\x9b"
	    "b",
	    4);
	assert_string_equal(out, "a??b");
	/* Invalid UTF-8: a stray continuation, an overlong, a surrogate. */
	status_clean(out, sizeof(out), "\x80\xc0\xaf\xed\xa0\x80", 6);
	assert_string_equal(out, "??????");
	/* A lead byte cut short at the end of the input. */
	status_clean(out, sizeof(out), "ok\xe2\x82", 4);
	assert_string_equal(out, "ok??");
	/* Cut to fit, never inside a character: 서울 is 6 bytes. */
	status_clean(out, 8, "x서울", strlen("x서울"));
	assert_string_equal(out, "x서울");
	status_clean(out, 7, "x서울", strlen("x서울"));
	assert_string_equal(out, "x서");
	status_clean(out, 7, "서울", strlen("서울"));
	assert_string_equal(out, "서울");
	status_clean(out, 6, "서울", strlen("서울"));
	assert_string_equal(out, "서");
	status_clean(out, 1, "abc", 3);
	assert_string_equal(out, "");
	assert_true(utf8_valid("x서", strlen("x서")));
}

static void
copy_is_deep(void **state)
{
	struct status_snapshot a, b;

	(void)state;
	sample_snapshot(&a);
	memset(&b, 0, sizeof(b));
	assert_int_equal(status_copy(&b, &a), 0);
	assert_ptr_not_equal(a.nodes, b.nodes);
	assert_int_equal(b.nnodes, a.nnodes);
	assert_memory_equal(b.nodes, a.nodes, a.nnodes * sizeof(*a.nodes));
	assert_int_equal(b.latency_count[STATUS_LATENCY_BUCKETS], 5);
	strlcpy(a.nodes[0].site, "changed", sizeof(a.nodes[0].site));
	assert_string_equal(b.nodes[0].site, "c2-lead");
	/* Copying again over b frees what b held (ASan would tell). */
	assert_int_equal(status_copy(&b, &a), 0);
	assert_string_equal(b.nodes[0].site, "changed");
	status_free(&a);
	assert_null(a.nodes);
	assert_int_equal(a.nnodes, 0);
	status_free(&b);
	/* An empty snapshot copies too. */
	assert_int_equal(status_copy(&b, &a), 0);
	assert_null(b.nodes);
}

static void
display_order(void **state)
{
	static const char *want[] = { "c1-lead", "c1-b", "c2-lead", "c2-b",
		"c10-lead", "c10-a", "odd" };
	struct status_snapshot s;
	size_t *order;

	(void)state;
	sample_snapshot(&s);
	s.nodes = realloc(s.nodes, 7 * sizeof(*s.nodes));
	assert_non_null(s.nodes);
	/* A consortium that is not a number sorts last. */
	sample_node(&s.nodes[6], "odd", "x", 1, 1, 0);
	s.nnodes = 7;
	order = status_order(&s);
	assert_non_null(order);
	for (size_t i = 0; i < nitems(want); i++)
		assert_string_equal(s.nodes[order[i]].site, want[i]);
	free(order);
	status_free(&s);
	assert_null(status_order(&s));
}

static void
missing_marks(void **state)
{
	struct status_snapshot s;

	(void)state;
	sample_snapshot(&s);
	/* Down 45 s, 2 h, never: missing at 60 s are the last two. */
	assert_false(s.nodes[3].missing);
	assert_true(s.nodes[4].missing);
	assert_true(s.nodes[5].missing);
	assert_false(s.nodes[0].missing);
	status_mark_missing(&s, 30000);
	assert_true(s.nodes[3].missing);
	/* A connected node is never missing, however old its heartbeat. */
	s.nodes[0].heartbeat_age_ms = 10 * 3600 * 1000;
	status_mark_missing(&s, 1);
	assert_false(s.nodes[0].missing);
	status_free(&s);
}

/* Status -> Envelope bytes -> wire_decode -> snapshot. */
static int
through_wire(
    Tally__Status *m, struct status_snapshot *out, char *err, size_t errlen)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	struct wire_msg *w;
	uint8_t *buf;
	size_t len;
	int rc;

	env.body_case = TALLY__ENVELOPE__BODY_STATUS;
	env.status = m;
	buf = wire_encode(&env, 0, &len);
	assert_non_null(buf);
	/* A generous budget: these tests are about status_from_proto(). */
	w = wire_decode(buf, len, 0, 64u << 20, err, errlen);
	free(buf);
	assert_non_null(w);
	assert_int_equal(wire_env(w)->body_case, TALLY__ENVELOPE__BODY_STATUS);
	rc = status_from_proto(wire_env(w)->status, out, err, errlen);
	wire_free(w);
	return rc;
}

static void
proto_round_trip(void **state)
{
	struct status_snapshot a, b;
	Tally__Status *m;
	char err[256];

	(void)state;
	sample_snapshot(&a);
	m = status_to_proto(&a);
	assert_non_null(m);
	assert_int_equal(m->n_nodes, a.nnodes);
	assert_int_equal(m->n_queries, 4);
	assert_int_equal(through_wire(m, &b, err, sizeof(err)), 0);
	status_proto_free(m);
	assert_int_equal(b.uptime_s, a.uptime_s);
	assert_memory_equal(b.queries, a.queries, sizeof(a.queries));
	assert_int_equal(b.nnodes, a.nnodes);
	for (size_t i = 0; i < a.nnodes; i++) {
		struct status_node *x = &a.nodes[i], *y = &b.nodes[i];

		assert_string_equal(x->site, y->site);
		assert_string_equal(x->consortium, y->consortium);
		assert_int_equal(x->connected, y->connected);
		assert_int_equal(x->heartbeat_age_ms, y->heartbeat_age_ms);
		assert_int_equal(x->protocol, y->protocol);
		assert_string_equal(x->software, y->software);
		assert_string_equal(x->snapshot_date, y->snapshot_date);
		assert_int_equal(x->ntables, y->ntables);
		for (size_t t = 0; t < x->ntables; t++) {
			assert_string_equal(
			    x->tables[t].table, y->tables[t].table);
			assert_int_equal(x->tables[t].rows, y->tables[t].rows);
		}
		assert_int_equal(x->min_cell, y->min_cell);
		assert_int_equal(x->served, y->served);
		assert_int_equal(x->refused, y->refused);
		assert_int_equal(x->failed, y->failed);
		assert_int_equal(x->latency_p50_us, y->latency_p50_us);
		assert_int_equal(x->latency_p95_us, y->latency_p95_us);
		/* Not on the wire: the client derives missing itself. */
		assert_int_equal(y->missing, 0);
		assert_int_equal(y->lead, 0);
	}
	/* Never seen travels as an absent field. */
	assert_int_equal(b.nodes[5].heartbeat_age_ms, STATUS_AGE_NEVER);
	status_mark_missing(&b, 60000);
	for (size_t i = 0; i < a.nnodes; i++)
		assert_int_equal(a.nodes[i].missing, b.nodes[i].missing);
	status_free(&a);
	status_free(&b);
}

static void
proto_empty(void **state)
{
	Tally__Status m = TALLY__STATUS__INIT;
	struct status_snapshot s;
	char err[256];

	(void)state;
	assert_int_equal(through_wire(&m, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nnodes, 0);
	assert_null(s.nodes);
	assert_int_equal(s.uptime_s, 0);
}

/* A Status with n empty nodes, packed and decoded as a client would. */
static void
proto_too_many_nodes(void **state)
{
	Tally__Status m = TALLY__STATUS__INIT;
	Tally__NodeStatus *nodes, **ptrs;
	struct status_snapshot s;
	char err[256];
	size_t n = STATUS_MAX_NODES + 1;

	(void)state;
	nodes = calloc(n, sizeof(*nodes));
	ptrs = calloc(n, sizeof(*ptrs));
	assert_non_null(nodes);
	assert_non_null(ptrs);
	for (size_t i = 0; i < n; i++) {
		tally__node_status__init(&nodes[i]);
		ptrs[i] = &nodes[i];
	}
	m.nodes = ptrs;
	m.n_nodes = n;
	assert_int_equal(through_wire(&m, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4097 nodes, more than 4096"));
	assert_null(s.nodes);
	/* At the cap it is accepted. */
	m.n_nodes = STATUS_MAX_NODES;
	assert_int_equal(through_wire(&m, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nnodes, STATUS_MAX_NODES);
	assert_string_equal(s.nodes[7].site, "");
	assert_int_equal(s.nodes[7].heartbeat_age_ms, STATUS_AGE_NEVER);
	status_free(&s);
	free(nodes);
	free(ptrs);
}

static void
proto_hostile_node(void **state)
{
	Tally__Status m = TALLY__STATUS__INIT;
	Tally__NodeStatus node = TALLY__NODE_STATUS__INIT, *np = &node;
	Tally__TableRows rows[STATUS_MAX_TABLES + 1],
	    *rp[STATUS_MAX_TABLES + 1];
	Tally__QueryCount q[3], *qp[3];
	struct status_snapshot s;
	char err[256], longname[1000];

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	node.site = longname;
	node.consortium = "1\033[31m";
	node.software = "evil\033]0;owned\007 node";
	node.snapshot_date = "\xff\xfe 2024";
	m.nodes = &np;
	m.n_nodes = 1;
	for (size_t i = 0; i < nitems(rows); i++) {
		tally__table_rows__init(&rows[i]);
		rows[i].table = "person";
		rows[i].has_rows = 1;
		rows[i].rows = i;
		rp[i] = &rows[i];
	}
	node.tables = rp;
	node.n_tables = STATUS_MAX_TABLES + 1;
	assert_int_equal(through_wire(&m, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "node 0 lists 9 tables, more than 8"));

	node.n_tables = 2;
	/* States: a duplicate adds up, an unknown one is skipped. */
	for (size_t i = 0; i < nitems(q); i++) {
		tally__query_count__init(&q[i]);
		q[i].has_state = q[i].has_count = 1;
		qp[i] = &q[i];
	}
	q[0].state = TALLY__QUERY_STATE__QUERY_COMPLETE;
	q[0].count = 5;
	q[1].state = TALLY__QUERY_STATE__QUERY_COMPLETE;
	q[1].count = 6;
	q[2].state = (Tally__QueryState)99;
	q[2].count = 1000;
	m.queries = qp;
	m.n_queries = 3;
	assert_int_equal(through_wire(&m, &s, err, sizeof(err)), 0);
	assert_int_equal(s.queries[TALLY__QUERY_STATE__QUERY_COMPLETE], 11);
	assert_int_equal(s.queries[0] + s.queries[2] + s.queries[3], 0);
	/* Strings are cut to their field and cleaned. */
	assert_int_equal(strlen(s.nodes[0].site), STATUS_NAME_MAX - 1);
	assert_string_equal(s.nodes[0].consortium, "1?[31m");
	assert_string_equal(s.nodes[0].software, "evil?]0;owned? node");
	assert_string_equal(s.nodes[0].snapshot_date, "?? 2024");
	assert_int_equal(s.nodes[0].ntables, 2);
	assert_int_equal(s.nodes[0].tables[1].rows, 1);
	status_free(&s);
}

static void
latency_window(void **state)
{
	struct latency l;

	(void)state;
	latency_init(&l);
	assert_int_equal(latency_percentile(&l, 50), 0);
	latency_add(&l, 7);
	assert_int_equal(latency_percentile(&l, 50), 7);
	assert_int_equal(latency_percentile(&l, 95), 7);
	/* 1..100 in reverse: nearest-rank p50 = 50, p95 = 95. */
	latency_init(&l);
	for (uint64_t v = 100; v >= 1; v--)
		latency_add(&l, v);
	assert_int_equal(latency_percentile(&l, 50), 50);
	assert_int_equal(latency_percentile(&l, 95), 95);
	assert_int_equal(latency_percentile(&l, 100), 100);
	assert_int_equal(latency_percentile(&l, 1), 1);
	/* The window forgets: after 256 slow ones, the fast are gone. */
	for (int i = 0; i < LATENCY_WINDOW; i++)
		latency_add(&l, 1000000);
	assert_int_equal(l.n, LATENCY_WINDOW);
	assert_int_equal(latency_percentile(&l, 50), 1000000);
	/* Nearest rank of 1% in 256 is the 3rd smallest. */
	latency_add(&l, 5);
	latency_add(&l, 5);
	assert_int_equal(latency_percentile(&l, 1), 1000000);
	latency_add(&l, 5);
	assert_int_equal(latency_percentile(&l, 1), 5);
	assert_int_equal(latency_percentile(&l, 50), 1000000);
}

static void
latency_histogram(void **state)
{
	struct latency_hist h;
	struct status_snapshot s;

	(void)state;
	latency_hist_init(&h);
	for (size_t i = 1; i < STATUS_LATENCY_BUCKETS; i++)
		assert_true(h.le_ms[i] > h.le_ms[i - 1]);
	assert_int_equal(h.le_ms[0], 100);
	assert_int_equal(h.le_ms[STATUS_LATENCY_BUCKETS - 1], 600000);
	latency_hist_observe(&h, 100); /* on a bound: in that bucket */
	latency_hist_observe(&h, 101);
	latency_hist_observe(&h, 700000); /* beyond the last: +Inf only */
	assert_int_equal(h.count[0], 1);
	assert_int_equal(h.count[1], 2);
	assert_int_equal(h.count[STATUS_LATENCY_BUCKETS - 1], 2);
	assert_int_equal(h.count[STATUS_LATENCY_BUCKETS], 3);
	for (size_t i = 1; i <= STATUS_LATENCY_BUCKETS; i++)
		assert_true(h.count[i] >= h.count[i - 1]);
	assert_int_equal(h.sum_ms, 700201);
	latency_hist_observe(&h, UINT64_MAX); /* the sum saturates */
	assert_int_equal(h.sum_ms, UINT64_MAX);
	memset(&s, 0, sizeof(s));
	latency_hist_export(&h, &s);
	assert_memory_equal(s.latency_le_ms, h.le_ms, sizeof(h.le_ms));
	assert_int_equal(s.latency_count[STATUS_LATENCY_BUCKETS], 4);
	assert_int_equal(s.latency_sum_ms, UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_strings),
		cmocka_unit_test(copy_is_deep),
		cmocka_unit_test(display_order),
		cmocka_unit_test(missing_marks),
		cmocka_unit_test(proto_round_trip),
		cmocka_unit_test(proto_empty),
		cmocka_unit_test(proto_too_many_nodes),
		cmocka_unit_test(proto_hostile_node),
		cmocka_unit_test(latency_window),
		cmocka_unit_test(latency_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
