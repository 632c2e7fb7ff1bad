/*
 * test_pool.c — pooling at the broker: exact sums, intervals from what
 * sites withheld, sites withheld entirely, the broker's own primary
 * suppression and its effect on the sites' tables, a small pooled total,
 * refusal of tables no node would release, and random multi-site runs
 * checked against the true counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "pool.h"
#include "suppress.h"
#include "tally.pb-c.h"

#define SEX TALLY__STRATUM__STRATUM_SEX
#define AGE TALLY__STRATUM__STRATUM_AGE_BAND

static const int st2[] = { SEX, AGE };
static const int st1[] = { SEX };

/* "F/a=3 M/b=50 ..." into a table over the given strata. */
static struct table *
mk(const int *strata, int n, const char *spec)
{
	struct table *t = table_new(strata, n);
	char *s = strdup(spec), *tok, *save = NULL;

	for (tok = strtok_r(s, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		const char *key[TABLE_MAX_STRATA];
		char *eq = strchr(tok, '='), *p = tok;

		*eq = '\0';
		for (int i = 0; i < n; i++) {
			key[i] = p;
			p = strchr(p, '/');
			if (p != NULL)
				*p++ = '\0';
		}
		table_get(t, key)->count = strtoull(eq + 1, NULL, 10);
	}
	free(s);
	return t;
}

/* A node's release of spec with min_cell k. */
static struct table *
node(const int *strata, int n, const char *spec, unsigned k)
{
	struct table *t = mk(strata, n, spec);
	struct suppress_policy p = { k, 0 };
	char err[128];

	assert_int_equal(suppress_table(t, &p, err, sizeof(err)), 0);
	return t;
}

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
	if ((c = table_find(t, key)) == NULL)
		fail_msg("no cell %s", k);
	return c;
}

static void
assert_interval(const struct cell *c, uint64_t lo, uint64_t hi)
{
	assert_int_equal(c->state, CELL_INTERVAL);
	assert_int_equal(c->low, lo);
	assert_int_equal(c->high, hi);
}

static void
add(struct pool *p, const char *site, struct table *t)
{
	char err[128];

	if (pool_add(p, site, t, err, sizeof(err)) == -1)
		fail_msg("pool_add %s: %s", site, err);
	table_free(t);
}

static void
exact_sums(void **state)
{
	struct pool *p = pool_new(st2, 2, 10);
	struct table *u;
	struct site_table *s;
	size_t n;
	char err[128];

	(void)state;
	add(p, "b", node(st2, 2, "F/a=20 F/b=30 M/a=40", 10));
	add(p, "a", node(st2, 2, "F/a=11 M/b=50", 10));
	assert_int_equal(pool_finish(p, 1, &u, &s, &n, err, sizeof(err)), 0);
	assert_int_equal(u->ncells, 4);
	assert_int_equal(at(u, "F/a")->count, 31);
	assert_int_equal(at(u, "F/b")->count, 30);
	assert_int_equal(at(u, "M/a")->count, 40);
	assert_int_equal(at(u, "M/b")->count, 50);
	assert_int_equal(u->total.state, CELL_COUNT);
	assert_int_equal(u->total.count, 151);
	assert_int_equal(u->min_cell, 10);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].site, "a"); /* by site id */
	assert_int_equal(s[0].table->total.count, 61);
	pool_sites_free(s, n);
	table_free(u);
	pool_free(p);
}

static void
intervals(void **state)
{
	struct pool *p = pool_new(st2, 2, 10);
	struct table *u, *a = node(st2, 2, "F/a=3 F/b=40 M/a=50 M/b=60", 10);
	char err[128];

	(void)state;
	assert_int_equal(a->total.count, 153);
	add(p, "a", a);
	add(p, "b", node(st2, 2, "F/a=20 F/b=30 M/a=40 M/b=50", 10));
	add(p, "c", node(st2, 2, "F/a=2 M/b=3", 10)); /* total 5: withheld */
	assert_int_equal(
	    pool_finish(p, 0, &u, NULL, NULL, err, sizeof(err)), 0);
	/* a: F/a in [1, 9]; each complement in [0, 153 - 1]; c: [0, 9] */
	assert_interval(at(u, "F/a"), 21, 29 + 9);
	assert_interval(at(u, "F/b"), 30, 30 + 152 + 9);
	assert_interval(at(u, "M/a"), 40, 40 + 152 + 9);
	assert_interval(at(u, "M/b"), 50, 50 + 152 + 9);
	assert_interval(&u->total, 153 + 140 + 1, 153 + 140 + 9);
	table_free(u);
	pool_free(p);
}

static void
entire_withheld_site(void **state)
{
	struct pool *p = pool_new(st1, 1, 10);
	struct table *u, *w = table_new(st1, 1);
	char err[128];

	(void)state;
	w->total.count = 500; /* a node's fail-safe: the total alone */
	w->min_cell = 10;
	add(p, "w", w);
	add(p, "x", node(st1, 1, "F=20 M=30", 10));
	assert_int_equal(
	    pool_finish(p, 0, &u, NULL, NULL, err, sizeof(err)), 0);
	assert_interval(at(u, "F"), 20, 520);
	assert_interval(at(u, "M"), 30, 530);
	assert_int_equal(u->total.state, CELL_COUNT);
	assert_int_equal(u->total.count, 550);
	table_free(u);
	pool_free(p);
}

static void
pooled_primary(void **state)
{
	struct pool *p = pool_new(st1, 1, 10);
	struct table *u, *v;
	struct site_table *s;
	size_t n;
	char err[128];

	(void)state;
	/* sites with k = 5 release 6; pooled k = 10 withholds it */
	add(p, "a", node(st1, 1, "F=6 M=30", 5));
	add(p, "b", node(st1, 1, "M=40", 5));
	assert_int_equal(pool_finish(p, 1, &u, &s, &n, err, sizeof(err)), 0);
	/* Not labelled primary (1..9): beside a's complementary label (0 or
	 * >= 5) that would leave 5..9. It is what a's table says: F + M = 36,
	 * each 0 or >= 5. */
	assert_interval(at(u, "F"), 0, 36);
	/* a's F withheld, so its M too (its total would give F) */
	assert_int_equal(at(s[0].table, "F")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(s[0].table, "M")->state, CELL_COMPLEMENTARY);
	assert_int_equal(s[0].table->total.count, 36);
	assert_interval(at(u, "M"), 40, 40 + 36);
	assert_int_equal(u->total.count, 76);
	assert_int_equal(suppress_check(s[0].table), 0);
	pool_sites_free(s, n);
	/* the pooled table is the same without per-site tables */
	p = (pool_free(p), pool_new(st1, 1, 10));
	add(p, "a", node(st1, 1, "F=6 M=30", 5));
	add(p, "b", node(st1, 1, "M=40", 5));
	assert_int_equal(
	    pool_finish(p, 0, &v, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(table_cmp(u, v), 0);
	table_free(u);
	table_free(v);
	pool_free(p);
}

static void
pooled_primary_lists_new_cells(void **state)
{
	struct pool *p = pool_new(st2, 2, 10);
	struct table *u;
	struct site_table *s;
	size_t n;
	char err[128];

	(void)state;
	/* a's F/a = 6 (k 5) is a pooled primary; protecting it in a's
	 * table takes the box with a's absent M/b, a known zero */
	add(p, "a", node(st2, 2, "F/a=6 F/b=30 M/a=40", 5));
	add(p, "b", node(st2, 2, "F/b=20", 5));
	assert_int_equal(pool_finish(p, 1, &u, &s, &n, err, sizeof(err)), 0);
	assert_int_equal(at(s[0].table, "M/b")->state, CELL_COMPLEMENTARY);
	assert_int_equal(at(u, "F/a")->state, CELL_INTERVAL);
	assert_true(at(u, "F/a")->low <= 6 && 6 <= at(u, "F/a")->high);
	/* listed in the pooled table too: leaving it out would say 0 */
	assert_int_equal(at(u, "M/b")->state, CELL_INTERVAL);
	assert_int_equal(at(u, "M/b")->low, 0);
	assert_int_equal(u->ncells, 4);
	pool_sites_free(s, n);
	table_free(u);
	pool_free(p);
}

static void
small_pooled_total(void **state)
{
	struct pool *p = pool_new(st1, 1, 10);
	struct table *u;
	struct site_table *s;
	size_t n;
	char err[128];

	(void)state;
	add(p, "a", node(st1, 1, "F=6", 5));
	add(p, "b", node(st1, 1, "F=0", 5));
	assert_int_equal(pool_finish(p, 1, &u, &s, &n, err, sizeof(err)), 0);
	assert_int_equal(u->total.state, CELL_PRIMARY);
	assert_int_equal(u->ncells, 0);
	assert_int_equal(s[0].table->total.state, CELL_PRIMARY);
	assert_int_equal(s[0].table->ncells, 0);
	assert_int_equal(s[0].table->min_cell, 10);
	assert_int_equal(s[1].table->total.state, CELL_COUNT);
	assert_int_equal(s[1].table->total.count, 0);
	assert_int_equal(s[1].table->ncells, 0);
	pool_sites_free(s, n);
	table_free(u);
	pool_free(p);
}

static void
unsafe_node_is_fixed(void **state)
{
	struct pool *p = pool_new(st1, 1, 10);
	struct table *u, *t = mk(st1, 1, "a=30 b=40 c=50");
	char err[128];

	(void)state;
	/* a node that withheld one cell only: the total gives it */
	t->total.count = 120;
	t->min_cell = 10;
	t->cells[0].state = CELL_COMPLEMENTARY;
	t->cells[0].count = 0;
	add(p, "x", t);
	assert_int_equal(
	    pool_finish(p, 0, &u, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(at(u, "a")->state, CELL_INTERVAL);
	assert_int_equal(at(u, "b")->state, CELL_INTERVAL);
	assert_int_equal(at(u, "c")->count, 50);
	table_free(u);
	pool_free(p);
}

static void
refused(void **state)
{
	struct pool *p = pool_new(st2, 2, 10);
	struct table *t, *u;
	char err[128];

	(void)state;
	assert_null(pool_new(st2, 2, 0));
	assert_int_equal(
	    pool_finish(p, 0, &u, NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "no site table to pool");
	t = node(st1, 1, "F=20", 10);
	assert_int_equal(pool_add(p, "a", t, err, sizeof(err)), -1);
	assert_string_equal(err, "1 strata, expected 2");
	table_free(t);

	t = mk(st2, 2, "F/a=3 M/a=40");
	t->total.count = 43;
	t->min_cell = 10;
	assert_int_equal(pool_add(p, "a", t, err, sizeof(err)), -1);
	assert_string_equal(err, "a released cell below min_cell 10");
	t->cells[0].count = 13;
	assert_int_equal(pool_add(p, "a", t, err, sizeof(err)), -1);
	assert_string_equal(err, "cells do not add up to the total");
	t->total.count = 53;
	assert_int_equal(pool_add(p, "a", t, err, sizeof(err)), 0);
	assert_int_equal(pool_add(p, "a", t, err, sizeof(err)), -1);
	assert_string_equal(err, "site a twice");
	assert_int_equal(pool_add(p, "", t, err, sizeof(err)), -1);
	t->total.state = CELL_PRIMARY;
	t->total.count = 0;
	assert_int_equal(pool_add(p, "b", t, err, sizeof(err)), -1);
	assert_string_equal(err, "cells with a withheld total");
	t->total.state = CELL_COUNT;
	t->total.count = 53;
	t->cells[0].state = CELL_PRIMARY;
	assert_int_equal(pool_add(p, "b", t, err, sizeof(err)), -1);
	assert_string_equal(err, "F/a: a withheld cell carries a count");
	t->cells[0].count = 0;
	t->cells[0].state = CELL_INTERVAL;
	t->cells[0].low = 1;
	t->cells[0].high = 3;
	assert_int_equal(pool_add(p, "b", t, err, sizeof(err)), -1);
	assert_string_equal(err, "a cell is interval");
	table_free(t);
	pool_free(p);
}

/* ------------------------------------------------ random sites */

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static const char *const vals[] = { "F", "M", "U" };
static const char *const ages[] = { "0-9", "10-19", "20-29", "30-39" };

static void
random_sites(void **state)
{
	unsigned ntables = 0, nintervals = 0, nprimary = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		uint64_t r = seed * 0x9E3779B97F4A7C15ULL + 7;
		unsigned nsite = 1 + rnd(&r) % 6, kp = 5 + 5 * (rnd(&r) % 3);
		struct table *truth[8], *rel[8], *u, *v;
		struct pool *p = pool_new(st2, 2, kp),
			    *q = pool_new(st2, 2, kp);
		struct site_table *s;
		size_t n;
		char err[128], name[32];

		for (unsigned i = 0; i < nsite; i++) {
			struct suppress_policy pol = { rnd(&r) % 2 ? 5 : 10,
				rnd(&r) % 5 == 0 };
			struct table *t = table_new(st2, 2);

			for (int a = 0; a < 3; a++)
				for (int b = 0; b < 4; b++) {
					const char *key[2] = { vals[a],
						ages[b] };
					unsigned roll = rnd(&r) % 10;

					if (roll < 2)
						continue;
					table_get(t, key)->count = roll < 6
					    ? rnd(&r) % 10
					    : rnd(&r) % 80;
				}
			truth[i] = table_dup(t);
			assert_int_equal(
			    suppress_table(t, &pol, err, sizeof(err)), 0);
			snprintf(name, sizeof(name), "s%u", i);
			assert_int_equal(
			    pool_add(p, name, t, err, sizeof(err)), 0);
			rel[i] = t;
		}
		/* the other pool gets them in reverse order */
		for (unsigned i = nsite; i-- > 0;) {
			snprintf(name, sizeof(name), "s%u", i);
			assert_int_equal(
			    pool_add(q, name, rel[i], err, sizeof(err)), 0);
			table_free(rel[i]);
		}
		assert_int_equal(
		    pool_finish(p, 1, &u, &s, &n, err, sizeof(err)), 0);
		assert_int_equal(
		    pool_finish(q, 0, &v, NULL, NULL, err, sizeof(err)), 0);
		assert_int_equal(table_cmp(u, v), 0);
		ntables++;
		for (size_t i = 0; i < u->ncells; i++) {
			const struct cell *c = &u->cells[i];
			const char *key[2] = { c->key[0], c->key[1] };
			uint64_t sum = 0;
			int all_released = 1;

			for (unsigned j = 0; j < nsite; j++) {
				const struct cell *o =
				    table_find(truth[j], key);
				const struct cell *w =
				    table_find(s[j].table, key);

				sum += o ? o->count : 0;
				if ((w != NULL && w->state != CELL_COUNT) ||
				    s[j].table->total.state != CELL_COUNT ||
				    (s[j].table->ncells == 0 &&
					s[j].table->total.count > 0))
					all_released = 0;
				if (w != NULL && w->state == CELL_COUNT)
					assert_int_equal(
					    w->count, o ? o->count : 0);
			}
			switch (c->state) {
			case CELL_COUNT:
				assert_int_equal(c->count, sum);
				assert_false(sum >= 1 && sum < kp);
				/* no pooled exact count over a withheld
				 * site cell: nothing to subtract */
				assert_true(all_released);
				break;
			case CELL_INTERVAL:
				nintervals++;
				nprimary += sum >= 1 && sum < kp;
				assert_true(c->low <= sum && sum <= c->high);
				break;
			default:
				/* a pooled small count becomes an interval,
				 * never a "primary" label */
				fail_msg("pooled cell %d", c->state);
			}
		}
		{
			uint64_t sum = 0;

			for (unsigned j = 0; j < nsite; j++)
				for (size_t i = 0; i < truth[j]->ncells; i++)
					sum += truth[j]->cells[i].count;
			if (u->total.state == CELL_COUNT)
				assert_int_equal(u->total.count, sum);
			else if (u->total.state == CELL_INTERVAL)
				assert_true(u->total.low <= sum &&
				    sum <= u->total.high);
			else
				assert_true(sum >= 1 && sum < kp);
		}
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(suppress_check(s[j].table), 0);
			/* every key a site lists is listed pooled */
			for (size_t i = 0; i < s[j].table->ncells; i++)
				assert_non_null(
				    table_search(u, &s[j].table->cells[i]));
		}
		pool_sites_free(s, n);
		table_free(u);
		table_free(v);
		pool_free(p);
		pool_free(q);
		for (unsigned i = 0; i < nsite; i++)
			table_free(truth[i]);
	}
	print_message(
	    "%u pooled tables, %u intervals (%u small pooled counts)\n",
	    ntables, nintervals, nprimary);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_sums),
		cmocka_unit_test(intervals),
		cmocka_unit_test(entire_withheld_site),
		cmocka_unit_test(pooled_primary),
		cmocka_unit_test(pooled_primary_lists_new_cells),
		cmocka_unit_test(small_pooled_total),
		cmocka_unit_test(unsafe_node_is_fixed),
		cmocka_unit_test(refused),
		cmocka_unit_test(random_sites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
