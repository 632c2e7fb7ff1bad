/*
 * test_suppress_prop.c — property tests of disclosure control on random
 * tables of 1 to 5 strata, checked by a second, independent
 * implementation of the threat model: every margin over every proper
 * subset of the table's dimensions (all of them, not a basis), with the
 * released cells substituted, in exact rational arithmetic; a withheld
 * cell fails if e_cell lies in the row space of those equations.
 * Also: no released small cell, released counts are the true ones,
 * labels are truthful, output does not depend on input order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "suppress.h"
#include "tally.pb-c.h"

struct rng {
	uint64_t s;
};

static uint64_t
rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static unsigned
below(struct rng *r, unsigned n)
{
	return (unsigned)(rnd(r) % n);
}

/* ------------------------------------------------ exact rationals */

struct q {
	int64_t n, d; /* d > 0, gcd(n, d) = 1 */
};

static __int128
gcd128(__int128 a, __int128 b)
{
	if (a < 0)
		a = -a;
	if (b < 0)
		b = -b;
	while (b != 0) {
		__int128 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static struct q
q_make(__int128 n, __int128 d)
{
	__int128 g;
	struct q r;

	if (d < 0)
		n = -n, d = -d;
	g = gcd128(n, d);
	if (g > 1)
		n /= g, d /= g;
	if (n > INT64_MAX || n < -INT64_MAX || d > INT64_MAX)
		fail_msg("checker: rational overflow");
	r.n = (int64_t)n;
	r.d = n == 0 ? 1 : (int64_t)d;
	return r;
}

/* a - b * c */
static struct q
q_submul(struct q a, struct q b, struct q c)
{
	__int128 bn = (__int128)b.n * c.n, bd = (__int128)b.d * c.d;
	struct q p = q_make(bn, bd);

	return q_make(
	    (__int128)a.n * p.d - (__int128)p.n * a.d, (__int128)a.d * p.d);
}

static struct q
q_div(struct q a, struct q b)
{
	return q_make((__int128)a.n * b.d, (__int128)a.d * b.n);
}

/* ------------------------------------------------ the checker */

struct hc {
	int nd, pos[TABLE_MAX_STRATA];
	size_t n[TABLE_MAX_STRATA];
	char val[TABLE_MAX_STRATA][16][TABLE_VALUE_MAX];
};

static size_t
val_index(const struct hc *h, int d, const char *s)
{
	for (size_t i = 0; i < h->n[d]; i++)
		if (strcmp(h->val[d][i], s) == 0)
			return i;
	fail_msg("checker: value %s not found", s);
	return 0;
}

/* Dimensions and values of a released table (strata with >= 2 values). */
static void
hc_build(struct hc *h, const struct table *t)
{
	memset(h, 0, sizeof(*h));
	for (int p = 0; p < t->nstrata; p++) {
		char v[16][TABLE_VALUE_MAX];
		size_t nv = 0;

		for (size_t i = 0; i < t->ncells; i++) {
			size_t j;

			for (j = 0; j < nv; j++)
				if (strcmp(v[j], t->cells[i].key[p]) == 0)
					break;
			if (j == nv) {
				assert_true(nv < 16);
				strcpy(v[nv++], t->cells[i].key[p]);
			}
		}
		if (nv < 2)
			continue;
		h->pos[h->nd] = p;
		h->n[h->nd] = nv;
		memcpy(h->val[h->nd], v, sizeof(v));
		h->nd++;
	}
}

/*
 * Every withheld cell of t: is it undetermined by all margins over
 * proper subsets of the dimensions? Returns the number determined.
 */
static int
count_determined(const struct table *t)
{
	struct hc h;
	size_t nu = 0, *ucoord, nrow = 0, rank = 0;
	size_t *piv;
	struct q *M, *v;
	unsigned full;
	int ndet = 0;

	hc_build(&h, t);
	full = (1u << h.nd) - 1;
	ucoord = calloc(t->ncells * TABLE_MAX_STRATA + 1, sizeof(*ucoord));
	for (size_t i = 0; i < t->ncells; i++) {
		if (t->cells[i].state == CELL_COUNT)
			continue;
		for (int d = 0; d < h.nd; d++)
			ucoord[nu * TABLE_MAX_STRATA + d] =
			    val_index(&h, d, t->cells[i].key[h.pos[d]]);
		nu++;
	}
	if (nu == 0) {
		free(ucoord);
		return 0;
	}
	if (h.nd == 0) {
		free(ucoord);
		return (int)nu; /* the single cell is the total */
	}
	/* Rows: every subset s != full, every assignment of values on s. */
	{
		size_t cap = 0;

		for (unsigned s = 0; s < full; s++) {
			size_t m = 1;

			for (int d = 0; d < h.nd; d++)
				if (s & (1u << d))
					m *= h.n[d];
			cap += m;
		}
		M = calloc(cap * nu, sizeof(*M));
		for (unsigned s = 0; s < full; s++) {
			size_t a[TABLE_MAX_STRATA] = { 0 };

			for (;;) {
				struct q *row = M + nrow * nu;
				int d;

				for (size_t u = 0; u < nu; u++) {
					int in = 1;

					for (d = 0; d < h.nd; d++)
						if ((s & (1u << d)) &&
						    ucoord[u *
							    TABLE_MAX_STRATA +
							d] != a[d])
							in = 0;
					row[u].n = in;
					row[u].d = 1;
				}
				nrow++;
				for (d = h.nd - 1; d >= 0; d--) {
					if (!(s & (1u << d)))
						continue;
					if (++a[d] < h.n[d])
						break;
					a[d] = 0;
				}
				if (d < 0)
					break;
			}
		}
		assert_int_equal(nrow, cap);
	}
	/* Reduced row echelon form over Q. */
	piv = calloc(nu, sizeof(*piv));
	for (size_t col = 0; col < nu && rank < nrow; col++) {
		size_t r;
		struct q p;

		for (r = rank; r < nrow; r++)
			if (M[r * nu + col].n != 0)
				break;
		if (r == nrow)
			continue;
		for (size_t j = 0; j < nu; j++) {
			struct q x = M[r * nu + j];

			M[r * nu + j] = M[rank * nu + j];
			M[rank * nu + j] = x;
		}
		p = M[rank * nu + col];
		for (size_t j = 0; j < nu; j++)
			M[rank * nu + j] = q_div(M[rank * nu + j], p);
		for (size_t r2 = 0; r2 < nrow; r2++) {
			struct q f = M[r2 * nu + col];

			if (r2 == rank || f.n == 0)
				continue;
			for (size_t j = 0; j < nu; j++)
				M[r2 * nu + j] = q_submul(
				    M[r2 * nu + j], f, M[rank * nu + j]);
		}
		piv[rank++] = col;
	}
	/* e_u in the row space? */
	v = calloc(nu, sizeof(*v));
	for (size_t u = 0; u < nu; u++) {
		int zero = 1;

		for (size_t j = 0; j < nu; j++)
			v[j] = (struct q){ j == u, 1 };
		for (size_t i = 0; i < rank; i++) {
			struct q f = v[piv[i]];

			if (f.n == 0)
				continue;
			for (size_t j = 0; j < nu; j++)
				v[j] = q_submul(v[j], f, M[i * nu + j]);
		}
		for (size_t j = 0; j < nu; j++)
			if (v[j].n != 0)
				zero = 0;
		ndet += zero;
	}
	free(v);
	free(piv);
	free(M);
	free(ucoord);
	return ndet;
}

/* ------------------------------------------------ random tables */

struct shape {
	int nstrata;
	unsigned maxv;		      /* values per stratum: 1..maxv */
	unsigned absent, zero, small; /* percent; the rest is large */
};

static struct table *
gen_table(struct rng *r, const struct shape *sh)
{
	static const int strata[] = { 1, 2, 3, 4, 5 };
	unsigned nv[TABLE_MAX_STRATA], ncell = 1, k = 10;
	struct table *t = table_new(strata, sh->nstrata);

	for (int d = 0; d < sh->nstrata; d++) {
		nv[d] = 1 + below(r, sh->maxv);
		ncell *= nv[d];
	}
	for (unsigned i = 0; i < ncell; i++) {
		char v[TABLE_MAX_STRATA][TABLE_VALUE_MAX];
		const char *key[TABLE_MAX_STRATA];
		unsigned x = i, roll = below(r, 100);
		struct cell *c;

		for (int d = sh->nstrata - 1; d >= 0; d--) {
			unsigned a = x % nv[d];

			x /= nv[d];
			/* names that do not sort in generation order */
			snprintf(v[d], sizeof(v[d]), "%c%u",
			    'a' + (char)((a * 7 + (unsigned)d) % 26), a);
			key[d] = v[d];
		}
		if (roll < sh->absent)
			continue;
		c = table_append(t, key);
		assert_non_null(c);
		roll -= sh->absent;
		if (roll < sh->zero)
			c->count = 0;
		else if (roll < sh->zero + sh->small)
			c->count = 1 + below(r, k - 1);
		else
			c->count = k + below(r, below(r, 4) == 0 ? 5000 : 60);
	}
	return t;
}

static struct table *
shuffled(struct rng *r, const struct table *t)
{
	struct table *s = table_new(t->strata, t->nstrata);
	size_t *ord = calloc(t->ncells + 1, sizeof(*ord));

	for (size_t i = 0; i < t->ncells; i++)
		ord[i] = i;
	for (size_t i = t->ncells; i > 1; i--) {
		size_t j = below(r, (unsigned)i), x = ord[i - 1];

		ord[i - 1] = ord[j];
		ord[j] = x;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		const char *key[TABLE_MAX_STRATA];
		const struct cell *c = &t->cells[ord[i]];

		for (int d = 0; d < t->nstrata; d++)
			key[d] = c->key[d];
		table_append(s, key)->count = c->count;
	}
	free(ord);
	return s;
}

struct tally {
	unsigned tables, cells, withheld, determined_checks, entire;
};

/* Checks one released table against the truth. */
static void
check_release(const struct table *truth, const struct table *rel,
    const struct suppress_policy *p, struct tally *tl)
{
	uint64_t T = 0;
	struct hc h;

	for (size_t i = 0; i < truth->ncells; i++)
		T += truth->cells[i].count;
	assert_int_equal(rel->min_cell, p->k);
	tl->tables++;
	if (T == 0 && !p->mask_zeros) {
		assert_int_equal(rel->total.state, CELL_COUNT);
		assert_int_equal(rel->total.count, 0);
		for (size_t i = 0; i < rel->ncells; i++)
			assert_int_equal(rel->cells[i].state, CELL_COUNT);
		return;
	}
	if (T < p->k) {
		assert_int_equal(rel->total.state, CELL_PRIMARY);
		assert_int_equal(rel->total.count, 0);
		assert_int_equal(rel->ncells, 0);
		return;
	}
	assert_int_equal(rel->total.state, CELL_COUNT);
	assert_int_equal(rel->total.count, T);
	if (truth->ncells > 0 && rel->ncells == 0) {
		/* withheld entirely: nothing else stops the table's own
		 * total and labels from pinning a cell; must be rare */
		tl->entire++;
		return;
	}
	for (size_t i = 1; i < rel->ncells; i++)
		assert_true(
		    table_key_cmp(&rel->cells[i - 1], &rel->cells[i]) < 0);
	for (size_t i = 0; i < truth->ncells; i++) {
		const char *key[TABLE_MAX_STRATA];

		for (int d = 0; d < truth->nstrata; d++)
			key[d] = truth->cells[i].key[d];
		assert_non_null(table_find(rel, key));
	}
	for (size_t i = 0; i < rel->ncells; i++) {
		const struct cell *c = &rel->cells[i], *o;
		const char *key[TABLE_MAX_STRATA];
		uint64_t n;

		for (int d = 0; d < rel->nstrata; d++)
			key[d] = c->key[d];
		o = table_find(truth, key);
		n = o ? o->count : 0;
		tl->cells++;
		switch (c->state) {
		case CELL_COUNT:
			assert_int_equal(c->count, n);
			assert_false(n >= 1 && n < p->k);
			assert_false(n == 0 && p->mask_zeros);
			break;
		case CELL_PRIMARY:
			tl->withheld++;
			assert_int_equal(c->count, 0);
			assert_true(n < p->k);
			assert_true(n >= 1 || p->mask_zeros);
			break;
		case CELL_COMPLEMENTARY:
			tl->withheld++;
			assert_int_equal(c->count, 0);
			assert_true(n >= p->k || (n == 0 && !p->mask_zeros));
			break;
		default:
			fail_msg("state %d in a node's table", c->state);
		}
	}
	hc_build(&h, rel);
	if (p->mask_zeros) {
		/* every point of the hypercube is listed */
		size_t m = 1;

		for (int d = 0; d < h.nd; d++)
			m *= h.n[d];
		assert_int_equal(rel->ncells, m);
	}
	assert_int_equal(count_determined(rel), 0);
	assert_int_equal(suppress_check(rel), 0);
	/* the table's own total and the labels pin no withheld cell
	 * (unless the primary label is a single value: k = 2) */
	if ((p->mask_zeros ? 0 : 1) + 1 < p->k) {
		uint64_t *lo = calloc(rel->ncells, sizeof(*lo));
		uint64_t *hi = calloc(rel->ncells, sizeof(*hi));

		table_bounds(rel, lo, hi);
		for (size_t i = 0; i < rel->ncells; i++)
			if (rel->cells[i].state != CELL_COUNT)
				assert_true(lo[i] < hi[i]);
		free(lo);
		free(hi);
	}
	tl->determined_checks++;
}

static void
run_shape(const struct shape *sh, unsigned seeds, struct tally *tl)
{
	for (unsigned seed = 1; seed <= seeds; seed++) {
		struct rng r = { 0x9E3779B97F4A7C15ULL * seed + 1 +
			(uint64_t)sh->nstrata * 1000003 };
		static const unsigned ks[] = { 2, 3, 5, 10, 10, 10 };
		struct suppress_policy p = { ks[below(&r, 6)],
			below(&r, 4) == 0 };
		struct table *t = gen_table(&r, sh), *truth = table_dup(t);
		struct table *s = shuffled(&r, t);
		char err[128];

		assert_int_equal(suppress_table(t, &p, err, sizeof(err)), 0);
		check_release(truth, t, &p, tl);
		assert_int_equal(suppress_table(s, &p, err, sizeof(err)), 0);
		if (table_cmp(s, t) != 0)
			fail_msg(
			    "seed %u: output depends on input order", seed);
		table_free(s);
		table_free(t);
		table_free(truth);
	}
}

static void
report(const char *what, const struct tally *tl)
{
	print_message("%s: %u tables, %u cells listed, %u withheld, "
		      "%u checked for determined cells, %u withheld entirely\n",
	    what, tl->tables, tl->cells, tl->withheld, tl->determined_checks,
	    tl->entire);
	assert_true(tl->entire * 100 <= tl->tables);
}

/* A table over nstrata strata with the given cells, the ones in held[]
 * withheld; the checker must count want determined. */
static void
expect_determined(
    int nstrata, const char *const *cells, size_t n, const char *held, int want)
{
	static const int strata[] = { 1, 2, 3 };
	struct table *t = table_new(strata, nstrata);

	for (size_t i = 0; i < n; i++) {
		char buf[16], *save = NULL;
		const char *key[3];

		snprintf(buf, sizeof(buf), "%s", cells[i]);
		key[0] = strtok_r(buf, "/", &save);
		for (int d = 1; d < nstrata; d++)
			key[d] = strtok_r(NULL, "/", &save);
		table_append(t, key)->count = 20;
		if (held[i] == 'x') {
			t->cells[i].state = CELL_COMPLEMENTARY;
			t->cells[i].count = 0;
		}
	}
	assert_int_equal(count_determined(t), want);
	table_free(t);
}

/* The checker itself finds what it must. */
static void
checker_finds_unsafe(void **state)
{
	static const char *const row[] = { "a", "b", "c" };
	static const char *const sq[] = { "F/a", "F/b", "F/c", "M/a", "M/b",
		"M/c" };
	static const char *const cube[] = { "F/a/1", "F/a/2", "F/b/1", "F/b/2",
		"M/a/1", "M/a/2", "M/b/1", "M/b/2" };

	(void)state;
	expect_determined(1, row, 3, "x..", 1);
	expect_determined(1, row, 3, "xx.", 0);
	expect_determined(2, sq, 6, "xx....", 2); /* one row: columns */
	expect_determined(2, sq, 6, "x..x..", 2); /* one column: rows */
	expect_determined(2, sq, 6, "xx.xx.", 0); /* a box */
	expect_determined(2, sq, 6, "xxxxxx", 0);
	/* in 3-D a 2x2 face is not enough: the 2-D margins give it */
	expect_determined(3, cube, 8, "xxxx....", 4);
	expect_determined(3, cube, 8, "xxxxxxxx", 0);
}

static void
one_stratum(void **state)
{
	struct shape a = { 1, 14, 10, 10, 40 }, b = { 1, 6, 0, 30, 50 };
	struct tally tl = { 0 };

	(void)state;
	run_shape(&a, 500, &tl);
	run_shape(&b, 300, &tl);
	report("1 stratum", &tl);
}

static void
two_strata(void **state)
{
	struct shape a = { 2, 12, 15, 10, 35 }, b = { 2, 5, 0, 20, 60 };
	struct tally tl = { 0 };

	(void)state;
	run_shape(&a, 400, &tl);
	run_shape(&b, 300, &tl);
	report("2 strata", &tl);
}

static void
three_strata(void **state)
{
	struct shape a = { 3, 6, 20, 10, 35 }, b = { 3, 4, 0, 10, 70 };
	struct tally tl = { 0 };

	(void)state;
	run_shape(&a, 400, &tl);
	run_shape(&b, 200, &tl);
	report("3 strata", &tl);
}

static void
four_strata(void **state)
{
	struct shape a = { 4, 4, 25, 10, 35 }, b = { 4, 3, 5, 10, 50 };
	struct tally tl = { 0 };

	(void)state;
	run_shape(&a, 300, &tl);
	run_shape(&b, 300, &tl);
	report("4 strata", &tl);
}

static void
five_strata(void **state)
{
	struct shape a = { 5, 3, 30, 10, 30 };
	struct tally tl = { 0 };

	(void)state;
	run_shape(&a, 150, &tl);
	report("5 strata", &tl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checker_finds_unsafe),
		cmocka_unit_test(one_stratum),
		cmocka_unit_test(two_strata),
		cmocka_unit_test(three_strata),
		cmocka_unit_test(four_strata),
		cmocka_unit_test(five_strata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
