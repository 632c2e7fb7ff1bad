/*
 * test_table.c — the shared table type: insert and find, copies that do
 * not share storage, order, comparison, the structural check, names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "table.h"
#include "tally.pb-c.h"

static const int st[] = { TALLY__STRATUM__STRATUM_SEX,
	TALLY__STRATUM__STRATUM_AGE_BAND };

static void
get_find_append(void **state)
{
	struct table *t = table_new(st, 2);
	const char *a[2] = { "F", "60-69" }, *b[2] = { "M", "60-69" };
	char longv[TABLE_VALUE_MAX + 1];
	const char *bad[2] = { "F", longv };
	struct cell *c;

	(void)state;
	c = table_get(t, a);
	c->count = 5;
	assert_ptr_equal(table_get(t, a), c); /* same key, same cell */
	assert_int_equal(t->ncells, 1);
	assert_null(table_find(t, b));
	assert_non_null(table_append(t, b));
	assert_int_equal(table_find(t, a)->count, 5);
	memset(longv, 'x', TABLE_VALUE_MAX);
	longv[TABLE_VALUE_MAX] = '\0';
	assert_null(table_get(t, bad));
	for (int i = 0; i < 100; i++) { /* growth keeps earlier cells */
		char v[16];
		const char *k[2] = { "U", v };

		snprintf(v, sizeof(v), "%d", i);
		table_get(t, k)->count = (uint64_t)i;
	}
	assert_int_equal(t->ncells, 102);
	assert_int_equal(table_find(t, a)->count, 5);
	assert_null(table_new(st, TABLE_MAX_STRATA + 1));
	assert_null(table_new(st, -1));
	table_free(t);
	table_free(NULL);
}

static void
dup_sort_cmp_search(void **state)
{
	struct table *t = table_new(st, 2), *d;
	const char *k[3][2] = { { "M", "b" }, { "F", "b" }, { "F", "a" } };

	(void)state;
	for (int i = 0; i < 3; i++)
		table_get(t, k[i])->count = (uint64_t)(i + 1) * 10;
	t->total.count = 60;
	d = table_dup(t);
	assert_int_equal(table_cmp(t, d), 0);
	d->cells[0].count = 11; /* the copy has its own cells */
	assert_int_equal(t->cells[0].count, 10);
	assert_true(table_cmp(t, d) != 0);
	d->cells[0].count = 10;
	table_sort(t);
	assert_string_equal(t->cells[0].key[1], "a");
	assert_string_equal(t->cells[2].key[0], "M");
	assert_true(table_cmp(t, d) != 0); /* order matters */
	table_sort(d);
	assert_int_equal(table_cmp(t, d), 0);
	assert_int_equal(table_search(t, &d->cells[1])->count, 20);
	d->cells[1].key[1][0] = 'z';
	assert_null(table_search(t, &d->cells[1]));
	d->min_cell = 5;
	assert_true(table_cmp(t, d) != 0);
	table_free(d);
	d = table_new(st, 2);
	assert_null(table_search(d, &t->cells[0]));
	table_free(d);
	table_free(t);
}

static void
check(void **state)
{
	struct table *t = table_new(st, 2);
	const char *a[2] = { "F", "a" };
	char err[128];

	(void)state;
	table_get(t, a)->count = 3;
	assert_int_equal(table_check(t, err, sizeof(err)), 0);
	t->cells[0].state = CELL_PRIMARY;
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "F/a: a withheld cell carries a count");
	t->cells[0].count = 0;
	assert_int_equal(table_check(t, err, sizeof(err)), 0);
	t->cells[0].state = CELL_INTERVAL;
	t->cells[0].low = 4;
	t->cells[0].high = 3;
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "F/a: bad interval");
	t->cells[0].state = CELL_COUNT;
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "F/a: a count with bounds");
	t->cells[0].low = t->cells[0].high = 0;
	table_append(t, a);
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "cell F/a twice");
	t->ncells = 1;
	t->strata[1] = t->strata[0];
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "stratum sex twice");
	t->strata[1] = 42;
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown stratum 42");
	t->strata[1] = st[1];
	t->total.state = (enum cell_state)9;
	assert_int_equal(table_check(t, err, sizeof(err)), -1);
	assert_string_equal(err, "total: unknown state");
	table_free(t);
}

static void
names(void **state)
{
	(void)state;
	assert_string_equal(
	    table_stratum_name(TALLY__STRATUM__STRATUM_SITE), "site");
	assert_int_equal(table_stratum_parse("index_year"),
	    TALLY__STRATUM__STRATUM_INDEX_YEAR);
	assert_int_equal(table_stratum_parse("colour"), -1);
	assert_null(table_stratum_name(0));
	assert_string_equal(
	    table_state_name(CELL_COMPLEMENTARY), "complementary");
	assert_string_equal(table_state_name(CELL_INTERVAL), "interval");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_find_append),
		cmocka_unit_test(dup_sort_cmp_search),
		cmocka_unit_test(check),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
