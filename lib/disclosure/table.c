/*
 * table.c — owns struct table storage: cells, keys, order, and the
 * structural check of a table that came from outside. It never decides
 * what may be released (suppress.c does), how tables are pooled (pool.c)
 * or how a table looks on paper or the wire (result.c does).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "table.h"
#include "util.h"
#include "tally.pb-c.h"

static const struct {
	int id;
	const char *name;
} strata_names[] = {
	{ TALLY__STRATUM__STRATUM_SEX, "sex" },
	{ TALLY__STRATUM__STRATUM_AGE_BAND, "age_band" },
	{ TALLY__STRATUM__STRATUM_INDEX_YEAR, "index_year" },
	{ TALLY__STRATUM__STRATUM_SITE, "site" },
	{ TALLY__STRATUM__STRATUM_CONSORTIUM, "consortium" },
};

const char *
table_stratum_name(int stratum)
{
	for (size_t i = 0; i < nitems(strata_names); i++)
		if (strata_names[i].id == stratum)
			return strata_names[i].name;
	return NULL;
}

int
table_stratum_parse(const char *name)
{
	for (size_t i = 0; i < nitems(strata_names); i++)
		if (strcmp(strata_names[i].name, name) == 0)
			return strata_names[i].id;
	return -1;
}

const char *
table_state_name(enum cell_state s)
{
	switch (s) {
	case CELL_COUNT:
		return "count";
	case CELL_INTERVAL:
		return "interval";
	case CELL_PRIMARY:
		return "primary";
	case CELL_COMPLEMENTARY:
		return "complementary";
	}
	return "?";
}

struct table *
table_new(const int *strata, int nstrata)
{
	struct table *t;

	if (nstrata < 0 || nstrata > TABLE_MAX_STRATA) {
		log_warnx(
		    "table: %d strata, at most %d", nstrata, TABLE_MAX_STRATA);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("table: calloc");
		return NULL;
	}
	t->nstrata = nstrata;
	for (int i = 0; i < nstrata; i++)
		t->strata[i] = strata[i];
	return t;
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	free(t->cells);
	free(t);
}

struct table *
table_dup(const struct table *t)
{
	struct table *d;

	if ((d = malloc(sizeof(*d))) == NULL) {
		log_warn("table: malloc");
		return NULL;
	}
	*d = *t;
	d->cells = NULL;
	d->cap = t->ncells;
	if (t->ncells > 0) {
		if ((d->cells = calloc(t->ncells, sizeof(*d->cells))) == NULL) {
			log_warn("table: calloc");
			free(d);
			return NULL;
		}
		memcpy(d->cells, t->cells, t->ncells * sizeof(*d->cells));
	}
	return d;
}

static int
key_equal(const struct table *t, const struct cell *c, const char *const *key)
{
	for (int i = 0; i < t->nstrata; i++)
		if (strcmp(c->key[i], key[i]) != 0)
			return 0;
	return 1;
}

const struct cell *
table_find(const struct table *t, const char *const *key)
{
	for (size_t i = 0; i < t->ncells; i++)
		if (key_equal(t, &t->cells[i], key))
			return &t->cells[i];
	return NULL;
}

struct cell *
table_append(struct table *t, const char *const *key)
{
	struct cell *c;

	for (int i = 0; i < t->nstrata; i++)
		if (strlen(key[i]) >= TABLE_VALUE_MAX) {
			log_warnx("table: stratum value too long");
			return NULL;
		}
	if (t->ncells >= TABLE_MAX_CELLS) {
		log_warnx("table: more than %d cells", TABLE_MAX_CELLS);
		return NULL;
	}
	if (array_grow((void **)&t->cells, &t->cap, t->ncells,
		sizeof(*t->cells)) == -1) {
		log_warn("table: realloc");
		return NULL;
	}
	c = &t->cells[t->ncells++];
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < t->nstrata; i++)
		memcpy(c->key[i], key[i], strlen(key[i]) + 1);
	return c;
}

struct cell *
table_get(struct table *t, const char *const *key)
{
	for (size_t i = 0; i < t->ncells; i++)
		if (key_equal(t, &t->cells[i], key))
			return &t->cells[i];
	return table_append(t, key);
}

int
table_key_cmp(const struct cell *x, const struct cell *y)
{
	for (int i = 0; i < TABLE_MAX_STRATA; i++) {
		int r = strcmp(x->key[i], y->key[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

static int
cell_cmp(const void *a, const void *b)
{
	return table_key_cmp(a, b);
}

const struct cell *
table_search(const struct table *t, const struct cell *like)
{
	if (t->ncells == 0)
		return NULL;
	return bsearch(like, t->cells, t->ncells, sizeof(*t->cells), cell_cmp);
}

void
table_sort(struct table *t)
{
	if (t->ncells > 1)
		qsort(t->cells, t->ncells, sizeof(*t->cells), cell_cmp);
}

static int
cell_value_cmp(const struct cell *a, const struct cell *b)
{
	if (a->state != b->state)
		return a->state < b->state ? -1 : 1;
	if (a->count != b->count)
		return a->count < b->count ? -1 : 1;
	if (a->state == CELL_INTERVAL &&
	    (a->low != b->low || a->high != b->high))
		return a->low != b->low ? (a->low < b->low ? -1 : 1)
					: (a->high < b->high ? -1 : 1);
	return 0;
}

int
table_cmp(const struct table *a, const struct table *b)
{
	int r;

	if (a->nstrata != b->nstrata)
		return a->nstrata < b->nstrata ? -1 : 1;
	for (int i = 0; i < a->nstrata; i++)
		if (a->strata[i] != b->strata[i])
			return a->strata[i] < b->strata[i] ? -1 : 1;
	if (a->min_cell != b->min_cell)
		return a->min_cell < b->min_cell ? -1 : 1;
	if ((r = cell_value_cmp(&a->total, &b->total)) != 0)
		return r;
	if (a->ncells != b->ncells)
		return a->ncells < b->ncells ? -1 : 1;
	for (size_t i = 0; i < a->ncells; i++) {
		if ((r = table_key_cmp(&a->cells[i], &b->cells[i])) != 0)
			return r;
		if ((r = cell_value_cmp(&a->cells[i], &b->cells[i])) != 0)
			return r;
	}
	return 0;
}

static int
cell_check(const struct cell *c, const char *what, char *err, size_t errlen)
{
	switch (c->state) {
	case CELL_COUNT:
		if (c->low != 0 || c->high != 0)
			return errf(
			    err, errlen, "%s: a count with bounds", what);
		if (c->count > TABLE_SUM_MAX)
			return errf(err, errlen, "%s: count too large", what);
		return 0;
	case CELL_INTERVAL:
		if (c->count != 0 || c->low > c->high ||
		    c->high > TABLE_SUM_MAX)
			return errf(err, errlen, "%s: bad interval", what);
		return 0;
	case CELL_PRIMARY:
	case CELL_COMPLEMENTARY:
		if (c->count != 0 || c->low != 0 || c->high != 0)
			return errf(err, errlen,
			    "%s: a withheld cell carries a count", what);
		return 0;
	}
	return errf(err, errlen, "%s: unknown state", what);
}

int
table_check(struct table *t, char *err, size_t errlen)
{
	char what[TABLE_MAX_STRATA * TABLE_VALUE_MAX + 16];

	if (t->nstrata < 0 || t->nstrata > TABLE_MAX_STRATA)
		return errf(err, errlen, "%d strata, at most %d", t->nstrata,
		    TABLE_MAX_STRATA);
	for (int i = 0; i < t->nstrata; i++) {
		if (table_stratum_name(t->strata[i]) == NULL)
			return errf(
			    err, errlen, "unknown stratum %d", t->strata[i]);
		for (int j = 0; j < i; j++)
			if (t->strata[j] == t->strata[i])
				return errf(err, errlen, "stratum %s twice",
				    table_stratum_name(t->strata[i]));
	}
	if (t->ncells > TABLE_MAX_CELLS)
		return errf(err, errlen, "%zu cells, at most %d", t->ncells,
		    TABLE_MAX_CELLS);
	if (t->nstrata == 0 && t->ncells > 0)
		return errf(err, errlen, "cells in a table without strata");
	if (cell_check(&t->total, "total", err, errlen) == -1)
		return -1;
	table_sort(t);
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		what[0] = '\0';
		for (int j = 0; j < t->nstrata; j++) {
			if (j > 0)
				strlcat(what, "/", sizeof(what));
			strlcat(what, c->key[j], sizeof(what));
		}
		for (int j = t->nstrata; j < TABLE_MAX_STRATA; j++)
			if (c->key[j][0] != '\0')
				return errf(
				    err, errlen, "cell %s: extra key", what);
		if (i > 0 && table_key_cmp(&t->cells[i - 1], c) == 0)
			return errf(err, errlen, "cell %s twice", what);
		if (cell_check(c, what, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* One pass of tightening; 1 if a bound moved. */
static int
bounds_pass(const struct table *t, uint64_t r, uint64_t *lo, uint64_t *hi)
{
	uint64_t L = 0, H = 0;
	int moved = 0;

	for (size_t i = 0; i < t->ncells; i++)
		if (t->cells[i].state != CELL_COUNT) {
			L += lo[i];
			H += hi[i];
		}
	for (size_t i = 0; i < t->ncells; i++) {
		uint64_t olo = L - lo[i], ohi = H - hi[i], l = lo[i], h = hi[i];

		if (t->cells[i].state == CELL_COUNT)
			continue;
		if (r > ohi && r - ohi > l)
			l = r - ohi;
		if (r - (olo < r ? olo : r) < h)
			h = r - (olo < r ? olo : r);
		if (t->cells[i].state == CELL_COMPLEMENTARY) {
			/* a complement was releasable: 0 or at least k */
			if (h < t->min_cell)
				h = 0;
			if (l > 0 && l < t->min_cell)
				l = t->min_cell;
		}
		if (l > h)
			l = h;
		moved |= l != lo[i] || h != hi[i];
		lo[i] = l;
		hi[i] = h;
	}
	return moved;
}

/* [lo, hi] with hi = UINT64_MAX for "no upper bound"; empty if lo > hi. */
struct span {
	uint64_t lo, hi;
};

/* The smallest and largest value in (a0 | a1) & (b0 | b1), if any. */
static int
span_hull(
    const struct span a[2], const struct span b[2], uint64_t *lo, uint64_t *hi)
{
	int any = 0;

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			uint64_t l = a[i].lo > b[j].lo ? a[i].lo : b[j].lo;
			uint64_t h = a[i].hi < b[j].hi ? a[i].hi : b[j].hi;

			if (l > h)
				continue;
			if (!any || l < *lo)
				*lo = l;
			if (!any || h > *hi)
				*hi = h;
			any = 1;
		}
	return any;
}

/*
 * The exact range of withheld cell i under the one equation "withheld
 * cells sum to r" and every label. Interval propagation alone misses that
 * complementary cells (each 0 or >= k) can only add up to 0 or to at
 * least k: with k = 4, r = 5, one primary p (1..3) and two complements,
 * the complements hold 0 or 4 together, so p = 1, though each bound alone
 * moves nothing. The other cells' sum is [A_lo, A_hi] (primaries and
 * intervals) plus 0 or anything >= k (when any complement is among them),
 * so cell i lies in r - that, intersected with its own label. 0 if no
 * value fits (a table that contradicts itself).
 */
static int
exact_range(const struct table *t, uint64_t r, size_t i, const uint64_t *lo,
    const uint64_t *hi, uint64_t *xlo, uint64_t *xhi)
{
	uint64_t alo = 0, ahi = 0, k = t->min_cell;
	int ncomp = 0;
	struct span own[2], fit[2];

	for (size_t j = 0; j < t->ncells; j++) {
		if (j == i || t->cells[j].state == CELL_COUNT)
			continue;
		if (t->cells[j].state == CELL_COMPLEMENTARY) {
			ncomp++;
			continue;
		}
		alo += lo[j];
		ahi += hi[j];
	}
	/* own label, within [0, r] */
	own[0].lo = lo[i];
	own[0].hi = hi[i];
	own[1].lo = 1;
	own[1].hi = 0; /* empty */
	if (t->cells[i].state == CELL_COMPLEMENTARY) {
		own[0].lo = 0;
		own[0].hi = 0;
		own[1].lo = k > 0 ? k : 1;
		own[1].hi = r;
	}
	/* r - others: [r - A_hi, r - A_lo], and [0, r - A_lo - k] */
	fit[0].lo = r > ahi ? r - ahi : 0;
	fit[0].hi = r >= alo ? r - alo : 0;
	if (r < alo)
		fit[0].lo = 1, fit[0].hi = 0;
	fit[1].lo = 1;
	fit[1].hi = 0;
	if (ncomp > 0 && k > 0 && r >= alo && r - alo >= k) {
		fit[1].lo = 0;
		fit[1].hi = r - alo - k;
	}
	return span_hull(own, fit, xlo, xhi);
}

void
table_bounds(const struct table *t, uint64_t *lo, uint64_t *hi)
{
	uint64_t r = t->total.count;

	for (size_t i = 0; i < t->ncells; i++)
		if (t->cells[i].state == CELL_COUNT)
			r -= t->cells[i].count < r ? t->cells[i].count : r;
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		switch (c->state) {
		case CELL_COUNT:
			lo[i] = hi[i] = c->count;
			continue;
		case CELL_PRIMARY:
			lo[i] = t->zeros_masked ? 0 : 1;
			hi[i] = t->min_cell > 0 ? t->min_cell - 1 : 0;
			break;
		case CELL_INTERVAL:
			lo[i] = c->low;
			hi[i] = c->high;
			break;
		default:
			lo[i] = 0;
			hi[i] = r;
			break;
		}
		hi[i] = hi[i] < r ? hi[i] : r;
		lo[i] = lo[i] < hi[i] ? lo[i] : hi[i];
	}
	for (int pass = 0; pass < 16; pass++)
		if (!bounds_pass(t, r, lo, hi))
			break;
	/* Then the exact range of each cell: the tightened bounds of the
	 * others hold in every solution, so using them loses nothing. */
	for (size_t i = 0; i < t->ncells; i++) {
		uint64_t l, h;

		if (t->cells[i].state == CELL_COUNT ||
		    !exact_range(t, r, i, lo, hi, &l, &h))
			continue;
		if (l > lo[i])
			lo[i] = l;
		if (h < hi[i])
			hi[i] = h;
		if (lo[i] > hi[i])
			lo[i] = hi[i];
	}
}
