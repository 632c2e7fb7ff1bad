/*
 * test_suppress.c — disclosure control on hand-made tables whose right
 * answer is known: the 2x2 with one small cell, a row with one small
 * cell, masked zeros (listed and absent), small and zero totals, tables
 * without strata, single-valued strata, the min_cell rule, the rank test
 * on unsafe tables, resolve after the broker withholds a cell, and the
 * fail-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "suppress.h"
#include "tally.pb-c.h"

#define SEX  TALLY__STRATUM__STRATUM_SEX
#define AGE  TALLY__STRATUM__STRATUM_AGE_BAND
#define SITE TALLY__STRATUM__STRATUM_SITE

/* "F/a=3 M/b=50 ..." into a table over the given strata. */
static struct table *
mk(const int *strata, int n, const char *spec)
{
	struct table *t = table_new(strata, n);
	char *s = strdup(spec), *tok, *save = NULL;

	assert_non_null(t);
	for (tok = strtok_r(s, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		const char *key[TABLE_MAX_STRATA];
		char *eq = strchr(tok, '='), *p = tok;
		struct cell *c;

		assert_non_null(eq);
		*eq = '\0';
		for (int i = 0; i < n; i++) {
			key[i] = p;
			p = strchr(p, '/');
			if (p != NULL)
				*p++ = '\0';
		}
		c = table_get(t, key);
		assert_non_null(c);
		c->count = strtoull(eq + 1, NULL, 10);
	}
	free(s);
	return t;
}

/* The cell "F/a" (slash-separated key) of t. */
static const struct cell *
at(const struct table *t, const char *k)
{
	char buf[128], *p = buf;
	const char *key[TABLE_MAX_STRATA];
	const struct cell *c;

	snprintf(buf, sizeof(buf), "%s", k);
	for (int i = 0; i < t->nstrata; i++) {
		key[i] = p;
		p = strchr(p, '/');
		if (p != NULL)
			*p++ = '\0';
	}
	c = table_find(t, key);
	if (c == NULL)
		fail_msg("no cell %s", k);
	return c;
}

static void
run(struct table *t, unsigned k, int mask)
{
	struct suppress_policy p = { k, mask };
	char err[128];

	assert_int_equal(suppress_table(t, &p, err, sizeof(err)), 0);
	assert_int_equal(suppress_check(t), 0);
}

static void
two_by_two_one_small(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 2, "F/a=3 F/b=40 M/a=50 M/b=60");

	(void)state;
	run(t, 10, 0);
	assert_int_equal(t->ncells, 4);
	assert_int_equal(at(t, "F/a")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "F/b")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "M/a")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "M/b")->state, CELL_COMPLEMENTARY);
	for (size_t i = 0; i < t->ncells; i++)
		assert_int_equal(t->cells[i].count, 0);
	assert_int_equal(t->total.state, CELL_COUNT);
	assert_int_equal(t->total.count, 153);
	assert_int_equal(t->min_cell, 10);
	table_free(t);
}

static void
row_one_small(void **state)
{
	static const int st[] = { AGE };
	struct table *t = mk(st, 1, "a=3 b=50 c=60 d=70");
	struct table *z = mk(st, 1, "a=3 b=0 c=60 d=70");

	(void)state;
	run(t, 10, 0);
	assert_int_equal(at(t, "a")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "b")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "c")->state, CELL_COUNT);
	assert_int_equal(at(t, "c")->count, 60);
	assert_int_equal(at(t, "d")->count, 70);
	assert_int_equal(t->total.count, 183);
	/* a non-zero complement is preferred over a zero */
	run(z, 10, 0);
	assert_int_equal(at(z, "a")->state, CELL_PRIMARY);
	assert_int_equal(at(z, "b")->state, CELL_COUNT);
	assert_int_equal(at(z, "c")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(z, "d")->count, 70);
	table_free(t);
	table_free(z);
}

static void
three_by_three_cheapest_box(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 2,
	    "x/x=3 x/y=40 x/z=50 y/x=60 y/y=70 y/z=80 z/x=90 z/y=100 z/z=5");

	(void)state;
	run(t, 10, 0);
	/* both primaries share the box x,z x z: 50 + 90 beats anything */
	assert_int_equal(at(t, "x/x")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "z/z")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "x/z")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "z/x")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "x/y")->count, 40);
	assert_int_equal(at(t, "y/y")->count, 70);
	assert_int_equal(at(t, "z/y")->count, 100);
	table_free(t);
}

static void
masked_zeros(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 2, "F/a=0 F/b=20 M/a=30 M/b=40");
	struct table *u = mk(st, 2, "F/a=0 F/b=20 M/a=30 M/b=40");
	struct table *v = mk(st, 2, "F/a=20 F/b=25 M/b=30");

	(void)state;
	run(t, 10, 1);
	assert_int_equal(at(t, "F/a")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "F/b")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "M/a")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "M/b")->state, CELL_COMPLEMENTARY);
	assert_true(t->zeros_masked);
	/* zeros released when not masked */
	run(u, 10, 0);
	assert_int_equal(at(u, "F/a")->state, CELL_COUNT);
	assert_int_equal(at(u, "F/a")->count, 0);
	assert_int_equal(at(u, "M/b")->count, 40);
	/* an absent cell is a zero: listed as primary when masked */
	run(v, 10, 1);
	assert_int_equal(v->ncells, 4);
	assert_int_equal(at(v, "M/a")->state, CELL_PRIMARY);
	assert_int_equal(at(v, "F/a")->state, CELL_COMPLEMENTARY);
	assert_int_equal(v->total.count, 75);
	table_free(t);
	table_free(u);
	table_free(v);
}

static void
small_and_zero_totals(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 2, "F/a=3 M/b=4");
	struct table *z = mk(st, 2, "F/a=0 M/b=0");
	struct table *m = mk(st, 2, "F/a=0 M/b=0");

	(void)state;
	run(t, 10, 0);
	assert_int_equal(t->total.state, CELL_PRIMARY);
	assert_int_equal(t->total.count, 0);
	assert_int_equal(t->ncells, 0);
	run(z, 10, 0);
	assert_int_equal(z->total.state, CELL_COUNT);
	assert_int_equal(z->total.count, 0);
	assert_int_equal(z->ncells, 2);
	assert_int_equal(at(z, "M/b")->state, CELL_COUNT);
	run(m, 10, 1);
	assert_int_equal(m->total.state, CELL_PRIMARY);
	assert_int_equal(m->ncells, 0);
	table_free(t);
	table_free(z);
	table_free(m);
}

static void
no_strata(void **state)
{
	struct table *t = table_new(NULL, 0), *u = table_new(NULL, 0);

	(void)state;
	t->total.count = 5;
	u->total.count = 50;
	run(t, 10, 0);
	run(u, 10, 0);
	assert_int_equal(t->total.state, CELL_PRIMARY);
	assert_int_equal(t->total.count, 0);
	assert_int_equal(u->total.state, CELL_COUNT);
	assert_int_equal(u->total.count, 50);
	table_free(t);
	table_free(u);
}

static void
single_valued_stratum(void **state)
{
	static const int st[] = { SEX, SITE };
	struct table *t = mk(st, 2, "F/snuh=3 M/snuh=50 U/snuh=60");
	struct table *one = mk(st, 2, "F/snuh=30");

	(void)state;
	run(t, 10, 0);
	assert_int_equal(at(t, "F/snuh")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "M/snuh")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "U/snuh")->count, 60);
	/* one cell: it is the total */
	run(one, 10, 0);
	assert_int_equal(at(one, "F/snuh")->count, 30);
	table_free(t);
	table_free(one);
}

static void
total_is_sum_of_cells(void **state)
{
	static const int st[] = { SEX };
	struct table *t = mk(st, 1, "F=30 M=40");

	(void)state;
	t->total.count = 75; /* 5 people without a cell would show */
	run(t, 10, 0);
	assert_int_equal(t->total.count, 70);
	table_free(t);
}

static void
labels_and_total_pin_nothing(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 1, "a=0 b=9 c=0 d=9");
	struct table *u = mk(st, 2, "F/a=0 F/b=0 M/a=2 M/b=2");
	uint64_t lo[4], hi[4];

	(void)state;
	/* T = 18 and two primaries below 10: both would be 9. A withheld
	 * zero leaves them anywhere in [1, 9]. */
	run(t, 10, 0);
	assert_int_equal(t->total.count, 18);
	assert_int_equal(at(t, "b")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "d")->state, CELL_PRIMARY);
	assert_int_equal(at(t, "a")->state, CELL_COMPLEMENTARY);
	table_bounds(t, lo, hi);
	assert_int_equal(lo[1], 1);
	assert_int_equal(hi[1], 9);
	assert_int_equal(hi[0], 16);
	/* T = 4, k = 3: two primaries of at most 2 and complements that
	 * cannot reach 3, so 2 and 2. Only the total can go. */
	run(u, 3, 0);
	assert_int_equal(u->ncells, 0);
	assert_int_equal(u->total.state, CELL_COUNT);
	assert_int_equal(u->total.count, 4);
	table_free(t);
	table_free(u);
}

/* Complements (each 0 or >= k) add up to 0 or to at least k: a gap that
 * bound-by-bound propagation does not see. */
static void
complements_sum_to_zero_or_k(void **state)
{
	static const int st[] = { SEX };
	struct table *t = mk(st, 1, "a=4 b=1 c=0");
	struct table *r = mk(st, 1, "a=0 b=0 c=0");
	uint64_t lo[3], hi[3];

	(void)state;
	/* Released as a, c complementary and b primary, T = 5 and k = 4,
	 * a + c is 0 or >= 4, and b = 5 - (a + c) in 1..3: b is 1. */
	r->total.count = 5;
	r->min_cell = 4;
	r->cells[0].state = r->cells[2].state = CELL_COMPLEMENTARY;
	r->cells[1].state = CELL_PRIMARY;
	table_bounds(r, lo, hi);
	assert_int_equal(lo[1], 1);
	assert_int_equal(hi[1], 1);
	assert_int_equal(lo[0], 0);
	assert_int_equal(hi[0], 4);
	/* So the node cannot release it: only the total goes. */
	run(t, 4, 0);
	assert_int_equal(t->ncells, 0);
	assert_int_equal(t->total.state, CELL_COUNT);
	assert_int_equal(t->total.count, 5);
	table_free(t);
	table_free(r);
}

static void
min_cell_rule(void **state)
{
	unsigned k;
	char err[128];

	(void)state;
	assert_int_equal(suppress_min_cell(0, 0, &k, err, sizeof(err)), 0);
	assert_int_equal(k, SUPPRESS_DEFAULT_K);
	assert_int_equal(suppress_min_cell(10, 5, &k, err, sizeof(err)), 0);
	assert_int_equal(k, 10); /* never lowered */
	assert_int_equal(suppress_min_cell(0, 3, &k, err, sizeof(err)), 0);
	assert_int_equal(k, 10);
	assert_int_equal(suppress_min_cell(10, 20, &k, err, sizeof(err)), 0);
	assert_int_equal(k, 20);
	assert_int_equal(suppress_min_cell(5, 0, &k, err, sizeof(err)), 0);
	assert_int_equal(k, 5);
	assert_int_equal(
	    suppress_min_cell(SUPPRESS_MAX_K + 1, 0, &k, err, sizeof(err)), -1);
	assert_int_equal(
	    suppress_min_cell(10, SUPPRESS_MAX_K + 1, &k, err, sizeof(err)),
	    -1);
}

static void
bad_input(void **state)
{
	static const int st[] = { SEX };
	struct table *t = mk(st, 1, "F=30 M=40");
	struct suppress_policy p = { 10, 0 }, z = { 0, 0 };
	char err[128];

	(void)state;
	assert_int_equal(suppress_table(t, &z, err, sizeof(err)), -1);
	t->cells[0].state = CELL_PRIMARY;
	assert_int_equal(suppress_table(t, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "cell already primary");
	t->cells[0].state = CELL_COUNT;
	t->cells[0].count = TABLE_COUNT_MAX + 1;
	assert_int_equal(suppress_table(t, &p, err, sizeof(err)), -1);
	table_free(t);
}

static void
check_finds_unsafe(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 1, "a=30 b=40 c=50");
	struct table *u = mk(st, 2, "F/a=30 F/b=40 M/a=50 M/b=60");
	struct table *w = mk(st, 2, "F/a=30 F/b=40 M/a=50 M/b=60");

	(void)state;
	t->total.count = 120;
	t->cells[0].state = CELL_PRIMARY;
	t->cells[0].count = 0;
	assert_int_equal(suppress_check(t), 1);
	/* two withheld in a row: the column margins give both */
	u->total.count = 180;
	u->cells[0].state = u->cells[1].state = CELL_COMPLEMENTARY;
	u->cells[0].count = u->cells[1].count = 0;
	assert_int_equal(suppress_check(u), 2);
	/* the whole box: safe */
	w->total.count = 180;
	for (size_t i = 0; i < w->ncells; i++) {
		w->cells[i].state = CELL_COMPLEMENTARY;
		w->cells[i].count = 0;
	}
	assert_int_equal(suppress_check(w), 0);
	table_free(t);
	table_free(u);
	table_free(w);
}

static void
resolve_after_broker(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = mk(st, 2,
	    "x/x=30 x/y=40 x/z=50 y/x=60 y/y=70 y/z=80 z/x=90 z/y=100 z/z=15");
	char err[128];

	(void)state;
	run(t, 10, 0);
	assert_int_equal(suppress_resolve(t, err, sizeof(err)), 0);
	/* the broker withholds x/x (say a pooled primary) */
	t->cells[0].state = CELL_COMPLEMENTARY;
	t->cells[0].count = 0;
	assert_int_equal(suppress_check(t), 1);
	assert_int_equal(suppress_resolve(t, err, sizeof(err)), 3);
	assert_int_equal(suppress_check(t), 0);
	assert_int_equal(at(t, "x/x")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "z/z")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "x/z")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "z/x")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(t, "y/y")->count, 70);
	assert_int_equal(t->total.count, 535);
	/* a withheld total cannot be resolved further; a primary total
	 * with no cells is already safe */
	t->total.state = CELL_COMPLEMENTARY;
	assert_int_equal(suppress_resolve(t, err, sizeof(err)), -1);
	t->total.state = CELL_PRIMARY;
	t->ncells = 0;
	assert_int_equal(suppress_resolve(t, err, sizeof(err)), 0);
	table_free(t);
}

static void
fail_safe_withholds_all(void **state)
{
	static const int st[] = { SEX, AGE };
	struct table *t = table_new(st, 2);

	(void)state;
	/* 300 x 300 values seen: a hypercube over SUPPRESS_MAX_CELLS */
	for (int i = 0; i < 300; i++) {
		char a[16], b[16];
		const char *key[2] = { a, b };

		snprintf(a, sizeof(a), "a%03d", i);
		snprintf(b, sizeof(b), "b%03d", (i * 7) % 300);
		table_get(t, key)->count = i % 3 == 0 ? 4 : 40;
	}
	run(t, 10, 0);
	assert_int_equal(t->ncells, 0);
	assert_int_equal(t->total.state, CELL_COUNT);
	assert_int_equal(t->total.count, 100 * 4 + 200 * 40);
	table_free(t);
}

static void
realistic_size(void **state)
{
	static const int st[] = { SEX, AGE,
		TALLY__STRATUM__STRATUM_INDEX_YEAR };
	struct table *t = table_new(st, 3);
	uint64_t x = 12345, total = 0;
	size_t withheld = 0;

	(void)state;
	/* sex x 10 age bands x 20 years, a third of the cells small */
	for (int i = 0; i < 600; i++) {
		char a[32], b[32], c[32];
		const char *key[3] = { a, b, c };

		snprintf(a, sizeof(a), "%c", "FMU"[i / 200]);
		snprintf(b, sizeof(b), "%d0-%d9", (i / 20) % 10, (i / 20) % 10);
		snprintf(c, sizeof(c), "%d", 2005 + i % 20);
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		table_get(t, key)->count =
		    (x >> 33) % 3 == 0 ? (x >> 40) % 10 : 10 + (x >> 40) % 400;
		total += table_find(t, key)->count;
	}
	run(t, 10, 0);
	assert_int_equal(t->ncells, 600);
	assert_int_equal(t->total.count, total);
	for (size_t i = 0; i < t->ncells; i++)
		withheld += t->cells[i].state != CELL_COUNT;
	assert_true(withheld > 0 && withheld < 600);
	table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_by_two_one_small),
		cmocka_unit_test(row_one_small),
		cmocka_unit_test(three_by_three_cheapest_box),
		cmocka_unit_test(masked_zeros),
		cmocka_unit_test(small_and_zero_totals),
		cmocka_unit_test(no_strata),
		cmocka_unit_test(single_valued_stratum),
		cmocka_unit_test(total_is_sum_of_cells),
		cmocka_unit_test(labels_and_total_pin_nothing),
		cmocka_unit_test(min_cell_rule),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(check_finds_unsafe),
		cmocka_unit_test(resolve_after_broker),
		cmocka_unit_test(complements_sum_to_zero_or_k),
		cmocka_unit_test(fail_safe_withholds_all),
		cmocka_unit_test(realistic_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
