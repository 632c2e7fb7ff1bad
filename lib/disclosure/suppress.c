/*
 * suppress.c — disclosure control of one table: primary suppression of
 * small cells, greedy complementary suppression, and the loop around the
 * exact rank test (suppress_rank.c) that says when no withheld cell can
 * be recovered any more. It owns the
 * rules of docs/disclosure-control.md; it never releases a withheld
 * cell's count, never applies a k lower than it is given, and when it
 * cannot finish within its bounds it withholds the whole table.
 *
 * The model. A table with strata is a hypercube over the values seen per
 * stratum; a stratum with a single value adds nothing and is left out (a
 * "dimension" below is a stratum with two or more values). Absent cells
 * are known zeros. A researcher is assumed to know every marginal sum
 * over every proper subset of the dimensions (other queries give them),
 * so the published equations are those margins. A withheld cell x is
 * determined iff e_x lies in the row space of the margin equations
 * restricted to the withheld cells; the released cells are substituted.
 * The margins over S whose coordinates avoid the last value of every
 * dimension in S form a basis of all margins, which keeps the system
 * small. The test runs Gauss-Jordan elimination in exact integer
 * arithmetic (rows kept primitive by their gcd); an overflow, or more
 * work than SUPPRESS_MAX_ENTRIES / SUPPRESS_MAX_WORK allow for the whole
 * table, makes the caller withhold everything.
 *
 * Complementary cells are chosen greedily: each cell the rank test finds
 * determined gets the cheapest "box" through it (two values per
 * dimension, all 2^d corners withheld; cheapest = fewest zeros, then the
 * smallest sum of counts, then fewest cells, then key order). A box's
 * corners with alternating signs vanish on every margin, so no corner of
 * a withheld box is determined; in a full hypercube it is also the
 * smallest pattern that protects a cell. The rank test runs again and
 * the loop stops when it finds nothing.
 *
 * Last, the one equation the table itself publishes (its total) and the
 * labels must not pin a withheld cell (table_bounds()); while one is
 * pinned, the smallest released cell is withheld too and the loop runs
 * again.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suppress.h"
#include "suppress_int.h"
#include "util.h"

#define MAX_ROUNDS 16 /* of rank test and boxes */

int
suppress_min_cell(unsigned policy_k, unsigned approval_k, unsigned *kp,
    char *err, size_t errlen)
{
	unsigned k = policy_k ? policy_k : SUPPRESS_DEFAULT_K;

	if (k > SUPPRESS_MAX_K)
		return errf(err, errlen, "policy min_cell %u above %u", k,
		    SUPPRESS_MAX_K);
	if (approval_k > SUPPRESS_MAX_K)
		return errf(err, errlen, "approval min_cell %u above %u",
		    approval_k, SUPPRESS_MAX_K);
	if (approval_k != 0 && approval_k < k)
		log_info("approval min_cell %u below policy %u: using %u",
		    approval_k, k, k);
	*kp = approval_k > k ? approval_k : k;
	return 0;
}

/* ------------------------------------------------------------ the cube */

static void
cube_free(struct cube *c)
{
	for (int p = 0; p < TABLE_MAX_STRATA; p++)
		free(c->val[p]);
	free(c->count);
	free(c->st);
	free(c->tix);
	memset(c, 0, sizeof(*c));
}

static int
value_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The sorted distinct values of stratum position p. */
static int
cube_values(struct cube *c, int p)
{
	const struct table *t = c->t;
	value_t *v;
	size_t n = 0;

	if ((v = calloc(t->ncells, sizeof(*v))) == NULL) {
		log_warn("suppress: calloc");
		return -1;
	}
	for (size_t i = 0; i < t->ncells; i++)
		memcpy(v[i], t->cells[i].key[p], sizeof(v[i]));
	qsort(v, t->ncells, sizeof(*v), value_cmp);
	for (size_t i = 0; i < t->ncells; i++)
		if (n == 0 || strcmp(v[n - 1], v[i]) != 0)
			memmove(v[n++], v[i], sizeof(*v));
	c->val[p] = v;
	c->nval[p] = n;
	return 0;
}

static size_t
value_index(const struct cube *c, int p, const char *s)
{
	const value_t *v =
	    bsearch(s, c->val[p], c->nval[p], sizeof(value_t), value_cmp);

	return v == NULL ? NO_CELL : (size_t)(v - c->val[p]);
}

/* Lays t's cells (t must have cells) out as a hypercube; its rank tests
 * spend from *work. */
static int
cube_build(struct cube *c, const struct table *t, uint64_t *work)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->work = work;
	c->ncell = 1;
	for (int p = 0; p < t->nstrata; p++) {
		if (cube_values(c, p) == -1)
			goto fail;
		if (c->nval[p] < 2)
			continue;
		if (c->nval[p] > SUPPRESS_MAX_CELLS / c->ncell) {
			log_warnx("suppress: hypercube over %d cells",
			    SUPPRESS_MAX_CELLS);
			goto fail;
		}
		c->pos[c->nd] = p;
		c->n[c->nd++] = c->nval[p];
		c->ncell *= c->nval[p];
	}
	for (int d = c->nd - 1; d >= 0; d--)
		c->stride[d] =
		    d == c->nd - 1 ? 1 : c->stride[d + 1] * c->n[d + 1];
	c->count = calloc(c->ncell, sizeof(*c->count));
	c->st = calloc(c->ncell, sizeof(*c->st));
	c->tix = malloc(c->ncell * sizeof(*c->tix));
	if (c->count == NULL || c->st == NULL || c->tix == NULL) {
		log_warn("suppress: calloc");
		goto fail;
	}
	for (size_t i = 0; i < c->ncell; i++)
		c->tix[i] = NO_CELL;
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *cell = &t->cells[i];
		size_t x = 0;

		for (int d = 0; d < c->nd; d++)
			x += value_index(c, c->pos[d], cell->key[c->pos[d]]) *
			    c->stride[d];
		if (c->tix[x] != NO_CELL) {
			log_warnx("suppress: a key twice");
			goto fail;
		}
		c->tix[x] = i;
		c->count[x] = cell->state == CELL_COUNT ? cell->count : 0;
		c->st[x] = cell->state == CELL_COUNT ? ST_KNOWN : ST_HELD;
	}
	return 0;
fail:
	cube_free(c);
	return -1;
}

/* ------------------------------------------------ complementary cells */

/*
 * For each determined cell not yet covered this round, withholds the
 * cheapest box through it: one other value per dimension, all 2^d
 * corners. The signed sum of a box's corners vanishes on every margin,
 * so no corner of a fully withheld box is determined.
 */
static int
cube_boxes(struct cube *c, const unsigned char *det)
{
	size_t a[TABLE_MAX_STRATA], b[TABLE_MAX_STRATA], best[TABLE_MAX_STRATA];
	unsigned ncorner = 1u << c->nd;
	unsigned char *cov;

	if (c->nd == 0)
		return -1; /* a single cell: it is the total */
	if ((cov = calloc(c->ncell, 1)) == NULL) {
		log_warn("suppress: calloc");
		return -1;
	}
	for (size_t i = 0; i < c->ncell; i++) {
		uint64_t bz = UINT64_MAX, bsum = 0, bnew = 0;
		int d;

		if (!det[i] || cov[i])
			continue;
		for (d = 0; d < c->nd; d++) {
			a[d] = coord(c, i, d);
			b[d] = a[d] == 0 ? 1 : 0;
		}
		for (;;) {
			uint64_t z = 0, sum = 0, nnew = 0;

			for (unsigned m = 0; m < ncorner; m++) {
				size_t x = 0;

				for (d = 0; d < c->nd; d++)
					x += (m & (1u << d) ? b[d] : a[d]) *
					    c->stride[d];
				if (!WITHHELD(c->st[x])) {
					z += c->count[x] == 0;
					sum += c->count[x];
					nnew++;
				}
			}
			if (z < bz ||
			    (z == bz &&
				(sum < bsum || (sum == bsum && nnew < bnew)))) {
				bz = z, bsum = sum, bnew = nnew;
				memcpy(best, b, sizeof(best));
			}
			for (d = c->nd - 1; d >= 0; d--) {
				if (++b[d] == a[d])
					b[d]++;
				if (b[d] < c->n[d])
					break;
				b[d] = a[d] == 0 ? 1 : 0;
			}
			if (d < 0)
				break;
		}
		for (unsigned m = 0; m < ncorner; m++) {
			size_t x = 0;

			for (d = 0; d < c->nd; d++)
				x += (m & (1u << d) ? best[d] : a[d]) *
				    c->stride[d];
			if (!WITHHELD(c->st[x]))
				c->st[x] = ST_COMP;
			cov[x] = 1;
		}
	}
	free(cov);
	return 0;
}

/* ----------------------------------------------------------- the tables */

/* Rank test and boxes until nothing is determined; -1 if that cannot be
 * reached within the bounds. */
static int
cube_protect(struct cube *c)
{
	unsigned char *det;
	int rc = -1;

	if ((det = malloc(c->ncell)) == NULL) {
		log_warn("suppress: malloc");
		return -1;
	}
	for (int round = 0; round < MAX_ROUNDS; round++) {
		long n = cube_determined(c, det);

		if (n < 0)
			break;
		if (n == 0) {
			rc = 0;
			break;
		}
		if (cube_boxes(c, det) == -1)
			break;
	}
	free(det);
	return rc;
}

/* Writes the cube's new withheld cells into t (= c->t), listing withheld
 * cells that were absent. */
static int
cube_apply(struct cube *c, struct table *t)
{
	const char *key[TABLE_MAX_STRATA];

	for (size_t i = 0; i < c->ncell; i++) {
		struct cell *cell;

		if (c->st[i] != ST_PRIMARY && c->st[i] != ST_COMP)
			continue;
		if (c->tix[i] == NO_CELL) {
			for (int p = 0; p < t->nstrata; p++)
				key[p] = c->val[p][0];
			for (int d = 0; d < c->nd; d++)
				key[c->pos[d]] =
				    c->val[c->pos[d]][coord(c, i, d)];
			if ((cell = table_append(t, key)) == NULL)
				return -1;
		} else
			cell = &t->cells[c->tix[i]];
		cell->state =
		    c->st[i] == ST_PRIMARY ? CELL_PRIMARY : CELL_COMPLEMENTARY;
		cell->count = cell->low = cell->high = 0;
	}
	return 0;
}

/* The fail-safe: the total alone. */
static void
withhold_entirely(struct table *t)
{
	log_warnx("suppress: table of %zu cells withheld entirely", t->ncells);
	t->ncells = 0;
}

static size_t
count_withheld(const struct table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->ncells; i++)
		n += t->cells[i].state != CELL_COUNT;
	return n;
}

/*
 * Protects t in place: cells not CELL_COUNT stay withheld; when k > 0,
 * cells below k (and zeros if mask) become primary first. -1 when t
 * cannot be protected within the bounds.
 */
static int
protect(struct table *t, unsigned k, int mask, uint64_t *work)
{
	struct cube c;
	int rc;

	if (cube_build(&c, t, work) == -1)
		return -1;
	for (size_t i = 0; k > 0 && i < c.ncell; i++)
		if (c.st[i] == ST_KNOWN && c.count[i] < k &&
		    (c.count[i] > 0 || mask))
			c.st[i] = ST_PRIMARY;
	rc = cube_protect(&c) == -1 || cube_apply(&c, t) == -1 ? -1 : 0;
	cube_free(&c);
	table_sort(t);
	return rc;
}

/*
 * The table's own total and the labels must not pin a withheld cell to
 * one value (say a lone primary that only a 1 can fill, or a withheld
 * zero): while one is, the smallest released non-zero cell (or, when
 * none is left, a listed zero) is withheld too. When the primary label alone is
 * one value (k = 2: n = 1) labels give primaries away whatever is withheld, and
 * this check is skipped. 0 when nothing is pinned, 1 after withholding a cell,
 * -1 when nothing is left to withhold.
 */
static int
unpin(struct table *t)
{
	uint64_t *lo, *hi, plo = t->zeros_masked ? 0 : 1;
	size_t best = SIZE_MAX;
	int pinned = 0;

	if (plo + 1 >= t->min_cell)
		return 0;

	lo = calloc(t->ncells + 1, sizeof(*lo));
	hi = calloc(t->ncells + 1, sizeof(*hi));
	if (lo == NULL || hi == NULL) {
		log_warn("suppress: calloc");
		free(lo);
		free(hi);
		return -1;
	}
	table_bounds(t, lo, hi);
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		if (c->state == CELL_COUNT) {
			/* non-zero first, then the smallest */
			if (best == SIZE_MAX ||
			    (c->count > 0) > (t->cells[best].count > 0) ||
			    ((c->count > 0) == (t->cells[best].count > 0) &&
				c->count < t->cells[best].count))
				best = i;
		} else if (lo[i] == hi[i])
			pinned = 1;
	}
	free(lo);
	free(hi);
	if (!pinned)
		return 0;
	if (best == SIZE_MAX)
		return -1;
	t->cells[best].state = CELL_COMPLEMENTARY;
	t->cells[best].count = 0;
	return 1;
}

/* protect(), then unpin() and protect again until nothing is pinned;
 * withholds t entirely when that fails. */
static void
protect_all(struct table *t, unsigned k, int mask)
{
	uint64_t work = SUPPRESS_MAX_WORK;
	int r = 1;

	if (protect(t, k, mask, &work) == -1) {
		withhold_entirely(t);
		return;
	}
	for (int round = 0; r == 1 && round < MAX_ROUNDS; round++)
		if ((r = unpin(t)) == 1 && protect(t, 0, 0, &work) == -1)
			r = -1;
	if (r != 0)
		withhold_entirely(t);
}

int
suppress_table(
    struct table *t, const struct suppress_policy *p, char *err, size_t errlen)
{
	uint64_t sum = 0, total;

	if (p->k < 1 || p->k > SUPPRESS_MAX_K)
		return errf(err, errlen, "min_cell %u out of [1, %u]", p->k,
		    SUPPRESS_MAX_K);
	if (t->nstrata < 0 || t->nstrata > TABLE_MAX_STRATA)
		return errf(err, errlen, "%d strata", t->nstrata);
	for (size_t i = 0; i < t->ncells; i++) {
		if (t->cells[i].state != CELL_COUNT)
			return errf(err, errlen, "cell already %s",
			    table_state_name(t->cells[i].state));
		if (t->cells[i].count > TABLE_COUNT_MAX)
			return errf(err, errlen, "count too large");
		sum += t->cells[i].count;
		t->cells[i].low = t->cells[i].high = 0;
	}
	if (t->nstrata == 0)
		t->ncells = 0;
	total = t->ncells > 0 ? sum : t->total.count;
	if (t->ncells > 0 && t->total.count != 0 && t->total.count != sum)
		log_warnx("suppress: total %llu is not the sum of cells %llu",
		    (unsigned long long)t->total.count,
		    (unsigned long long)sum);
	if (total > TABLE_COUNT_MAX)
		return errf(err, errlen, "total too large");
	t->min_cell = p->k;
	t->zeros_masked = p->mask_zeros != 0;
	memset(&t->total, 0, sizeof(t->total));
	t->total.state = CELL_COUNT;
	t->total.count = total;
	table_sort(t);
	if (total == 0 && !p->mask_zeros)
		return 0;
	if (total < p->k) {
		/* 0 < T < k, or a masked zero: nothing but that. */
		t->total.state = CELL_PRIMARY;
		t->total.count = 0;
		t->ncells = 0;
		return 0;
	}
	if (t->ncells > 0)
		protect_all(t, p->k, p->mask_zeros);
	return 0;
}

long
suppress_resolve(struct table *t, char *err, size_t errlen)
{
	size_t before = count_withheld(t), n = t->ncells;

	if (t->total.state == CELL_PRIMARY && t->ncells == 0)
		return 0;
	if (t->total.state != CELL_COUNT)
		return errf(err, errlen, "total not released");
	if (t->ncells > TABLE_MAX_CELLS)
		return errf(err, errlen, "%zu cells", t->ncells);
	if (t->ncells == 0 || before == 0)
		return 0;
	protect_all(t, 0, 0);
	if (t->ncells == 0)
		return (long)n;
	return (long)(count_withheld(t) - before);
}

long
suppress_check(const struct table *t)
{
	uint64_t work = SUPPRESS_MAX_WORK;
	struct cube c;
	unsigned char *det;
	long n;

	if (t->ncells == 0 || count_withheld(t) == 0)
		return 0;
	if (cube_build(&c, t, &work) == -1)
		return -1;
	if ((det = malloc(c.ncell)) == NULL) {
		log_warn("suppress: malloc");
		cube_free(&c);
		return -1;
	}
	n = cube_determined(&c, det);
	free(det);
	cube_free(&c);
	return n;
}
