/*
 * test_result.c — the result document: JSON checked by parsing it back
 * with jansson (the DESIGN.md section 7 contract), the printed table
 * compared byte for byte, Table messages through the real wire path,
 * and refusal of every malformed Table field a peer could send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "result.h"
#include "suppress.h"
#include "wire.h"

#define SEX TALLY__STRATUM__STRATUM_SEX
#define AGE TALLY__STRATUM__STRATUM_AGE_BAND

static struct cell *
put(struct table *t, const char *a, const char *b, enum cell_state s,
    uint64_t n, uint64_t lo, uint64_t hi)
{
	const char *key[2] = { a, b };
	struct cell *c = table_get(t, key);

	c->state = s;
	c->count = n;
	c->low = lo;
	c->high = hi;
	return c;
}

/* The example of DESIGN.md section 7, with per-site tables. */
static struct result *
example(int by_site)
{
	static const int st[] = { SEX, AGE };
	struct result *r = result_new("q-42");
	struct table *t = table_new(st, 2);

	put(t, "F", "60-69", CELL_COUNT, 412, 0, 0);
	put(t, "M", "90+", CELL_PRIMARY, 0, 0, 0);
	put(t, "F", "90+", CELL_INTERVAL, 0, 31, 39);
	put(t, "M", "60-69", CELL_COMPLEMENTARY, 0, 0, 0);
	put(t, "F", "10-19", CELL_INTERVAL, 0, 1240, 1276);
	t->total.state = CELL_COUNT;
	t->total.count = 5120;
	t->min_cell = 10;
	table_sort(t);
	result_set_table(r, t);
	r->status = RESULT_PARTIAL;
	r->sites.total = 43;
	r->sites.answered = 42;
	result_add_name(&r->sites.timed_out, "kims-eye");
	if (by_site) {
		struct table *s = table_new(st, 2);

		put(s, "F", "60-69", CELL_COUNT, 12, 0, 0);
		put(s, "M", "90+", CELL_PRIMARY, 0, 0, 0);
		s->total.count = 20;
		s->min_cell = 10;
		r->by_site = calloc(1, sizeof(*r->by_site));
		strcpy(r->by_site[0].site, "snuh");
		r->by_site[0].table = s;
		r->nby_site = 1;
	}
	return r;
}

/* Exactly one of count, low+high, suppressed+reason. */
static void
check_cell(json_t *o, const char *want)
{
	int has_count = json_object_get(o, "count") != NULL;
	int has_low = json_object_get(o, "low") != NULL;
	int has_high = json_object_get(o, "high") != NULL;
	int has_sup = json_object_get(o, "suppressed") != NULL;
	int has_reason = json_object_get(o, "reason") != NULL;

	assert_int_equal(has_low, has_high);
	assert_int_equal(has_sup, has_reason);
	assert_int_equal(has_count + has_low + has_sup, 1);
	if (strcmp(want, "count") == 0)
		assert_true(has_count);
	else if (strcmp(want, "interval") == 0)
		assert_true(has_low);
	else {
		assert_true(json_is_true(json_object_get(o, "suppressed")));
		assert_string_equal(
		    json_string_value(json_object_get(o, "reason")), want);
	}
}

static json_t *
roundtrip_json(const struct result *r)
{
	json_t *j = result_to_json(r), *back;
	json_error_t e;
	char *text;

	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	back = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (back == NULL)
		fail_msg("JSON does not parse: %s", e.text);
	free(text);
	json_decref(j);
	return back;
}

static void
json_contract(void **state)
{
	struct result *r = example(1);
	json_t *j = roundtrip_json(r), *rows, *row, *sites, *bs;
	const char *order[] = { "query_id", "status", "min_cell", "sites",
		"strata", "rows", "total", "by_site" };
	void *it = json_object_iter(j);

	(void)state;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		assert_non_null(it);
		assert_string_equal(json_object_iter_key(it), order[i]);
		it = json_object_iter_next(j, it);
	}
	assert_null(it);
	assert_string_equal(
	    json_string_value(json_object_get(j, "query_id")), "q-42");
	assert_string_equal(
	    json_string_value(json_object_get(j, "status")), "partial");
	assert_int_equal(
	    json_integer_value(json_object_get(j, "min_cell")), 10);
	sites = json_object_get(j, "sites");
	assert_int_equal(
	    json_integer_value(json_object_get(sites, "total")), 43);
	assert_int_equal(
	    json_integer_value(json_object_get(sites, "answered")), 42);
	assert_int_equal(json_array_size(json_object_get(sites, "failed")), 0);
	assert_int_equal(json_array_size(json_object_get(sites, "refused")), 0);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(sites, "timed_out"), 0)),
	    "kims-eye");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(j, "strata"), 1)),
	    "age_band");
	rows = json_object_get(j, "rows");
	assert_int_equal(json_array_size(rows), 5);
	/* sorted by key: F/10-19, F/60-69, F/90+, M/60-69, M/90+ */
	row = json_array_get(rows, 0);
	assert_string_equal(
	    json_string_value(json_object_get(row, "sex")), "F");
	assert_string_equal(
	    json_string_value(json_object_get(row, "age_band")), "10-19");
	check_cell(row, "interval");
	assert_int_equal(json_integer_value(json_object_get(row, "low")), 1240);
	assert_int_equal(
	    json_integer_value(json_object_get(row, "high")), 1276);
	row = json_array_get(rows, 1);
	check_cell(row, "count");
	assert_int_equal(
	    json_integer_value(json_object_get(row, "count")), 412);
	assert_int_equal(json_object_size(row), 3);
	check_cell(json_array_get(rows, 2), "interval");
	check_cell(json_array_get(rows, 3), "complementary");
	check_cell(json_array_get(rows, 4), "primary");
	assert_int_equal(json_object_size(json_array_get(rows, 4)), 4);
	check_cell(json_object_get(j, "total"), "count");
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(j, "total"), "count")),
	    5120);
	bs = json_array_get(json_object_get(j, "by_site"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(bs, "site")), "snuh");
	assert_int_equal(json_array_size(json_object_get(bs, "rows")), 2);
	check_cell(json_array_get(json_object_get(bs, "rows"), 1), "primary");
	check_cell(json_object_get(bs, "total"), "count");
	json_decref(j);
	result_free(r);
}

static void
json_without_table(void **state)
{
	struct result *r = result_new("q-0");
	json_t *j;

	(void)state;
	r->status = RESULT_FAILED;
	r->sites.total = 2;
	result_add_name(&r->sites.failed, "a");
	result_add_name(&r->sites.refused, "b");
	j = roundtrip_json(r);
	assert_string_equal(
	    json_string_value(json_object_get(j, "status")), "failed");
	assert_true(json_is_null(json_object_get(j, "total")));
	assert_int_equal(json_array_size(json_object_get(j, "rows")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "strata")), 0);
	assert_null(json_object_get(j, "by_site"));
	json_decref(j);
	/* a withheld total, no strata */
	result_set_table(r, table_new(NULL, 0));
	r->pooled->total.state = CELL_PRIMARY;
	j = roundtrip_json(r);
	check_cell(json_object_get(j, "total"), "primary");
	json_decref(j);
	result_free(r);
}

static char *
printed(const struct result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_int_equal(result_print(fp, r), 0);
	fclose(fp);
	return buf;
}

static void
text_table(void **state)
{
	struct result *r = example(1);
	char *s = printed(r);

	(void)state;
	assert_string_equal(s,
	    "query q-42: partial, counts under 10 withheld\n"
	    "\n"
	    "sex  age_band        count\n"
	    "F    10-19     1,240\xe2\x80\x93"
	    "1,276\n"
	    "F    60-69             412\n"
	    "F    90+             31\xe2\x80\x93"
	    "39\n"
	    "M    60-69      suppressed\n"
	    "M    90+               <10\n"
	    "total                5,120\n"
	    "\n"
	    "sites: 42 of 43 answered; timed out: kims-eye\n"
	    "\n"
	    "site snuh\n"
	    "sex  age_band  count\n"
	    "F    60-69        12\n"
	    "M    90+         <10\n"
	    "total             20\n");
	free(s);
	result_free(r);
	/* no strata, no table */
	r = result_new("q-1");
	r->status = RESULT_FAILED;
	s = printed(r);
	assert_string_equal(s,
	    "query q-1: failed\n\nno counts\n\n"
	    "sites: 0 of 0 answered\n");
	free(s);
	result_set_table(r, table_new(NULL, 0));
	r->pooled->total.count = 1234567;
	r->status = RESULT_COMPLETE;
	s = printed(r);
	assert_non_null(strstr(s, "\ntotal  1,234,567\n"));
	free(s);
	result_free(r);
}

/* Packs t in a TaskResult envelope, decodes it as a peer would. */
static struct table *
over_the_wire(const struct table *t, char *err, size_t errlen)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__TaskResult tr = TALLY__TASK_RESULT__INIT;
	struct wire_msg *m;
	struct table *back;
	uint8_t *buf;
	size_t len;

	tr.task_id = "t-1";
	tr.table = table_to_proto(t);
	assert_non_null(tr.table);
	env.body_case = TALLY__ENVELOPE__BODY_TASK_RESULT;
	env.task_result = &tr;
	buf = wire_encode(&env, 0, &len);
	assert_non_null(buf);
	table_proto_free(tr.table);
	m = wire_decode(buf, len, 0, 0, err, errlen);
	assert_non_null(m);
	back = table_from_proto(wire_env(m)->task_result->table, err, errlen);
	wire_free(m);
	free(buf);
	return back;
}

static void
proto_roundtrip(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = table_new(st, 2), *back;
	struct result *r = example(0);
	struct suppress_policy p = { 10, 0 };
	char err[128];

	(void)state;
	put(t, "F", "a", CELL_COUNT, 3, 0, 0);
	put(t, "F", "b", CELL_COUNT, 40, 0, 0);
	put(t, "M", "a", CELL_COUNT, 50, 0, 0);
	put(t, "M", "b", CELL_COUNT, 60, 0, 0);
	put(t, "U", "b", CELL_COUNT, 0, 0, 0);
	assert_int_equal(suppress_table(t, &p, err, sizeof(err)), 0);
	back = over_the_wire(t, err, sizeof(err));
	if (back == NULL)
		fail_msg("%s", err);
	assert_int_equal(table_cmp(t, back), 0);
	/* The node released zeros, and the message says so. */
	assert_false(back->zeros_masked);
	table_free(back);
	/* intervals and every state, pooled */
	back = over_the_wire(r->pooled, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(table_cmp(r->pooled, back), 0);
	table_free(back);
	table_free(t);
	result_free(r);
}

/* A valid two-stratum message to break one field at a time. */
struct msg {
	Tally__Table t;
	Tally__Cell total, c[2], *cp[2];
	Tally__Stratum strata[2];
	char *k0[2], *k1[2];
};

static void
msg_init(struct msg *m)
{
	tally__table__init(&m->t);
	tally__cell__init(&m->total);
	m->strata[0] = TALLY__STRATUM__STRATUM_SEX;
	m->strata[1] = TALLY__STRATUM__STRATUM_AGE_BAND;
	m->t.n_strata = 2;
	m->t.strata = m->strata;
	m->total.has_state = 1;
	m->total.state = TALLY__CELL_STATE__CELL_COUNT;
	m->total.has_count = 1;
	m->total.count = 70;
	m->t.total = &m->total;
	m->t.has_min_cell = 1;
	m->t.min_cell = 10;
	m->k0[0] = "F", m->k0[1] = "0-9";
	m->k1[0] = "M", m->k1[1] = "0-9";
	for (int i = 0; i < 2; i++) {
		tally__cell__init(&m->c[i]);
		m->c[i].n_key = 2;
		m->c[i].key = i ? m->k1 : m->k0;
		m->c[i].has_state = 1;
		m->c[i].state = TALLY__CELL_STATE__CELL_COUNT;
		m->c[i].has_count = 1;
		m->c[i].count = 30 + 10 * (uint64_t)i;
		m->cp[i] = &m->c[i];
	}
	m->t.n_cells = 2;
	m->t.cells = m->cp;
}

static void
refuse(struct msg *m, const char *want)
{
	char err[128];
	struct table *t = table_from_proto(&m->t, err, sizeof(err));

	if (t != NULL)
		fail_msg("accepted a table that should fail with: %s", want);
	assert_string_equal(err, want);
	msg_init(m);
}

static void
proto_refusals(void **state)
{
	struct msg m;
	char err[128], big[64];
	struct table *t;

	(void)state;
	msg_init(&m);
	t = table_from_proto(&m.t, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->ncells, 2);
	table_free(t);

	m.c[1].n_key = 1;
	refuse(&m, "cell 2: 1 key values for 2 strata");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m.k1[1] = big;
	refuse(&m, "cell 2: bad key value");
	m.k1[1] = "a\tb";
	refuse(&m, "cell 2: bad key value");
	m.k1[1] = "\xc3\x28";
	refuse(&m, "cell 2: bad key value");
	m.k1[1] = NULL;
	refuse(&m, "cell 2: bad key value");
	m.c[0].has_count = 0;
	refuse(&m, "cell 1: a count takes a count only");
	m.c[0].has_low = 1;
	refuse(&m, "cell 1: a count takes a count only");
	m.c[0].state = TALLY__CELL_STATE__CELL_INTERVAL;
	refuse(&m, "cell 1: an interval takes low and high only");
	m.c[0].state = TALLY__CELL_STATE__CELL_INTERVAL;
	m.c[0].has_count = 0;
	m.c[0].has_low = m.c[0].has_high = 1;
	m.c[0].low = 5;
	m.c[0].high = 4;
	refuse(&m, "F/0-9: bad interval");
	m.c[0].state = TALLY__CELL_STATE__CELL_PRIMARY;
	refuse(&m, "cell 1: a withheld cell carries a number");
	m.c[0].state = (Tally__CellState)7;
	refuse(&m, "cell 1: unknown state 7");
	m.c[0].has_state = 0;
	refuse(&m, "cell 1: no state");
	m.c[0].count = TABLE_SUM_MAX + 1;
	refuse(&m, "F/0-9: count too large");
	m.k1[0] = "F";
	refuse(&m, "cell F/0-9 twice");
	m.strata[1] = TALLY__STRATUM__STRATUM_SEX;
	refuse(&m, "stratum sex twice");
	m.strata[1] = (Tally__Stratum)99;
	refuse(&m, "unknown stratum 99");
	m.t.n_strata = 6;
	refuse(&m, "6 strata, at most 5");
	m.t.n_cells = TABLE_MAX_CELLS + 1; /* never dereferenced */
	refuse(&m, "65537 cells, at most 65536");
	m.t.total = NULL;
	refuse(&m, "no total, or a total with a key");
	m.total.n_key = 1;
	m.total.key = m.k0;
	refuse(&m, "no total, or a total with a key");
	m.t.min_cell = SUPPRESS_MAX_K + 1;
	refuse(&m, "min_cell 1000001");
	m.t.n_strata = 0;
	m.c[0].n_key = m.c[1].n_key = 0;
	refuse(&m, "cells in a table without strata");
	assert_null(table_from_proto(NULL, err, sizeof(err)));
	assert_string_equal(err, "no table");
}

static void
result_message(void **state)
{
	Tally__Result res = TALLY__RESULT__INIT;
	Tally__SiteOutcome o[4], *op[4];
	Tally__SiteTable st = TALLY__SITE_TABLE__INIT, *stp = &st;
	static const char *names[] = { "a", "b", "c", "d" };
	static const Tally__TaskState states[] = { TALLY__TASK_STATE__TASK_DONE,
		TALLY__TASK_STATE__TASK_FAILED,
		TALLY__TASK_STATE__TASK_TIMED_OUT,
		TALLY__TASK_STATE__TASK_REFUSED };
	struct result *r = example(0), *back;
	char err[128];

	(void)state;
	res.query_id = "q-42";
	res.has_state = 1;
	res.state = TALLY__QUERY_STATE__QUERY_PARTIAL;
	res.pooled = table_to_proto(r->pooled);
	st.site = "a";
	st.table = table_to_proto(r->pooled);
	res.n_by_site = 1;
	res.by_site = &stp;
	for (int i = 0; i < 4; i++) {
		tally__site_outcome__init(&o[i]);
		o[i].site = (char *)names[i];
		o[i].has_state = 1;
		o[i].state = states[i];
		op[i] = &o[i];
	}
	res.n_sites = 4;
	res.sites = op;
	back = result_from_proto(&res, err, sizeof(err));
	if (back == NULL)
		fail_msg("%s", err);
	assert_string_equal(back->query_id, "q-42");
	assert_int_equal(back->status, RESULT_PARTIAL);
	assert_int_equal(back->min_cell, 10);
	assert_int_equal(back->nstrata, 2);
	assert_int_equal(back->sites.total, 4);
	assert_int_equal(back->sites.answered, 1);
	assert_string_equal(back->sites.failed.v[0], "b");
	assert_string_equal(back->sites.timed_out.v[0], "c");
	assert_string_equal(back->sites.refused.v[0], "d");
	assert_int_equal(table_cmp(back->pooled, r->pooled), 0);
	assert_int_equal(back->nby_site, 1);
	assert_string_equal(back->by_site[0].site, "a");
	result_free(back);
	o[2].site = "bad\nid";
	assert_null(result_from_proto(&res, err, sizeof(err)));
	assert_string_equal(err, "sites 3: bad site id");
	o[2].site = "c";
	res.pooled->n_strata = 9;
	assert_null(result_from_proto(&res, err, sizeof(err)));
	assert_string_equal(err, "pooled: 9 strata, at most 5");
	res.pooled->n_strata = 2;
	res.state = (Tally__QueryState)9;
	assert_null(result_from_proto(&res, err, sizeof(err)));
	res.state = TALLY__QUERY_STATE__QUERY_COMPLETE;
	res.query_id = NULL;
	assert_null(result_from_proto(&res, err, sizeof(err)));
	assert_string_equal(err, "bad query id");
	table_proto_free(res.pooled);
	table_proto_free(st.table);
	result_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_contract),
		cmocka_unit_test(json_without_table),
		cmocka_unit_test(text_table),
		cmocka_unit_test(proto_roundtrip),
		cmocka_unit_test(proto_refusals),
		cmocka_unit_test(result_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
