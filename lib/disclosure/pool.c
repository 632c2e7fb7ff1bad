/*
 * pool.c — owns pooling at the broker: the site tables it keeps, the
 * pooled table it makes of them, the bounds of what a site withheld, and
 * the broker's own suppression of small pooled counts. It never
 * shows a number that it cannot derive from what the sites released (it
 * never sees a withheld count: sites send none), and it leaves the
 * protection of each site's table to suppress.c.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "suppress.h"
#include "util.h"

struct pool {
	int nstrata, strata[TABLE_MAX_STRATA];
	unsigned k;
	size_t nsite, cap;
	struct site_table *site;
};

/* Bounds of each cell of a site's table: what the researcher can derive
 * from the site's released cells, labels and total. */
struct bounds {
	uint64_t *lo, *hi;
};

struct pool *
pool_new(const int *strata, int nstrata, unsigned k)
{
	struct pool *p;

	if (nstrata < 0 || nstrata > TABLE_MAX_STRATA || k < 1 ||
	    k > SUPPRESS_MAX_K) {
		log_warnx("pool: %d strata, k %u", nstrata, k);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("pool: calloc");
		return NULL;
	}
	p->nstrata = nstrata;
	for (int i = 0; i < nstrata; i++)
		p->strata[i] = strata[i];
	p->k = k;
	return p;
}

void
pool_sites_free(struct site_table *s, size_t n)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		table_free(s[i].table);
	free(s);
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pool_sites_free(p->site, p->nsite);
	free(p);
}

/* A released total with no cells: every cell unknown. */
static int
withheld_entirely(const struct table *t)
{
	return t->total.state != CELL_COUNT ||
	    (t->ncells == 0 && t->total.count > 0);
}

static uint64_t
primary_low(const struct table *t)
{
	return t->zeros_masked ? 0 : 1;
}

/* Can t be what a node releases? (t is a sorted, checked copy.) */
static int
release_check(
    const struct pool *p, const struct table *t, char *err, size_t errlen)
{
	uint64_t sum = 0, low = 0;
	size_t nheld = 0;

	if (t->nstrata != p->nstrata)
		return errf(err, errlen, "%d strata, expected %d", t->nstrata,
		    p->nstrata);
	for (int i = 0; i < t->nstrata; i++)
		if (t->strata[i] != p->strata[i])
			return errf(err, errlen,
			    "stratum %d is %s, expected %s", i + 1,
			    table_stratum_name(t->strata[i]),
			    table_stratum_name(p->strata[i]));
	if (t->min_cell < 1 || t->min_cell > SUPPRESS_MAX_K)
		return errf(err, errlen, "min_cell %u", t->min_cell);
	if (t->total.state == CELL_PRIMARY)
		return t->ncells == 0
		    ? 0
		    : errf(err, errlen, "cells with a withheld total");
	if (t->total.state != CELL_COUNT)
		return errf(err, errlen, "total is %s",
		    table_state_name(t->total.state));
	if (t->total.count > TABLE_COUNT_MAX)
		return errf(err, errlen, "total too large");
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		switch (c->state) {
		case CELL_COUNT:
			if (c->count >= 1 && c->count < t->min_cell)
				return errf(err, errlen,
				    "a released cell below min_cell %u",
				    t->min_cell);
			sum += c->count;
			break;
		case CELL_PRIMARY:
			low += primary_low(t);
			nheld++;
			break;
		case CELL_COMPLEMENTARY:
			nheld++;
			break;
		default:
			return errf(err, errlen, "a cell is %s",
			    table_state_name(c->state));
		}
	}
	if (sum > t->total.count || low > t->total.count - sum ||
	    (nheld == 0 && t->ncells > 0 && sum != t->total.count))
		return errf(err, errlen, "cells do not add up to the total");
	return 0;
}

int
pool_add(struct pool *p, const char *site, const struct table *t, char *err,
    size_t errlen)
{
	struct table *d;
	size_t len = strlen(site);

	if (len == 0 || len >= TABLE_SITE_MAX || !utf8_valid(site, len))
		return errf(err, errlen, "bad site id");
	for (size_t i = 0; i < p->nsite; i++)
		if (strcmp(p->site[i].site, site) == 0)
			return errf(err, errlen, "site %s twice", site);
	if (p->nsite >= POOL_MAX_SITES)
		return errf(err, errlen, "more than %d sites", POOL_MAX_SITES);
	if ((d = table_dup(t)) == NULL)
		return errf(err, errlen, "out of memory");
	if (table_check(d, err, errlen) == -1 ||
	    release_check(p, d, err, errlen) == -1) {
		table_free(d);
		return -1;
	}
	if (array_grow(
		(void **)&p->site, &p->cap, p->nsite, sizeof(*p->site)) == -1) {
		table_free(d);
		return errf(err, errlen, "out of memory");
	}
	strlcpy(p->site[p->nsite].site, site, TABLE_SITE_MAX);
	p->site[p->nsite++].table = d;
	return 0;
}

/* Every key any site lists, once, in order: the pooled table's cells. */
static struct table *
pooled_keys(const struct pool *p)
{
	struct table *u;
	size_t n = 0;

	if ((u = table_new(p->strata, p->nstrata)) == NULL)
		return NULL;
	for (size_t s = 0; s < p->nsite; s++)
		n += p->site[s].table->ncells;
	if (n > TABLE_MAX_CELLS) {
		log_warnx("pool: %zu cells", n);
		table_free(u);
		return NULL;
	}
	if (n > 0 && (u->cells = calloc(n, sizeof(*u->cells))) == NULL) {
		log_warn("pool: calloc");
		table_free(u);
		return NULL;
	}
	u->cap = n;
	for (size_t s = 0; s < p->nsite; s++) {
		const struct table *t = p->site[s].table;

		for (size_t i = 0; i < t->ncells; i++) {
			struct cell *c = &u->cells[u->ncells++];

			memcpy(c->key, t->cells[i].key, sizeof(c->key));
		}
	}
	table_sort(u);
	n = 0;
	for (size_t i = 0; i < u->ncells; i++)
		if (n == 0 || table_key_cmp(&u->cells[n - 1], &u->cells[i]))
			u->cells[n++] = u->cells[i];
	u->ncells = n;
	return u;
}

/*
 * Finds pooled cells whose exact sum is 1 <= n < k and withholds the
 * sites' cells behind them; resolves each site it touched. The pooled
 * cell then becomes an interval of what the sites' tables still say
 * (pooled_cell()); it is not labelled "primary": that label (1..k-1),
 * beside a site's complementary label (0 or >= k_s), could pin a site's
 * cell (k_s = 5, k = 6: 5 is the only value both allow). 1 if it
 * withheld anything, 0 if not, -1 on error.
 */
static int
pooled_primaries(
    struct pool *p, const struct table *u, char *err, size_t errlen)
{
	unsigned char *touched;
	int changed = 0;

	if ((touched = calloc(p->nsite, 1)) == NULL)
		return errf(err, errlen, "out of memory");
	for (size_t i = 0; i < u->ncells; i++) {
		uint64_t sum = 0;
		int exact = 1;

		for (size_t s = 0; s < p->nsite && exact; s++) {
			const struct table *t = p->site[s].table;
			const struct cell *c = table_search(t, &u->cells[i]);

			if (withheld_entirely(t) ||
			    (c != NULL && c->state != CELL_COUNT))
				exact = 0;
			else if (c != NULL)
				sum += c->count;
		}
		if (!exact || sum == 0 || sum >= p->k)
			continue;
		changed = 1;
		for (size_t s = 0; s < p->nsite; s++) {
			struct cell *c = (struct cell *)table_search(
			    p->site[s].table, &u->cells[i]);

			if (c != NULL && c->count > 0) {
				c->state = CELL_COMPLEMENTARY;
				c->count = 0;
				touched[s] = 1;
			}
		}
	}
	for (size_t s = 0; s < p->nsite; s++)
		if (touched[s] &&
		    suppress_resolve(p->site[s].table, err, errlen) == -1) {
			free(touched);
			return -1;
		}
	free(touched);
	return changed;
}

/* The pooled total is 1 <= T < k: show nothing but that. */
static struct table *
withhold_result(struct pool *p)
{
	struct table *u;

	if ((u = table_new(p->strata, p->nstrata)) == NULL)
		return NULL;
	u->total.state = CELL_PRIMARY;
	u->min_cell = p->k;
	for (size_t s = 0; s < p->nsite; s++) {
		struct table *t = p->site[s].table;

		t->ncells = 0;
		if (t->total.state == CELL_COUNT && t->total.count > 0) {
			/* 1 <= T_s <= T < k: small by the pooled k */
			t->total.state = CELL_PRIMARY;
			t->total.count = 0;
			if (t->min_cell < p->k)
				t->min_cell = p->k;
		}
	}
	return u;
}

static int
site_cmp(const void *a, const void *b)
{
	const struct site_table *x = a, *y = b;

	return strcmp(x->site, y->site);
}

/* The pooled value of cell i of u from every site's bounds. */
static void
pooled_cell(const struct pool *p, const struct bounds *b, struct cell *pc)
{
	uint64_t lo = 0, hi = 0;
	int exact = 1;

	for (size_t s = 0; s < p->nsite; s++) {
		const struct table *t = p->site[s].table;
		const struct cell *c;

		if (t->total.state != CELL_COUNT) {
			exact = 0;
			hi += t->min_cell - 1;
		} else if (withheld_entirely(t)) {
			exact = 0;
			hi += t->total.count;
		} else if ((c = table_search(t, pc)) != NULL) {
			lo += b[s].lo[c - t->cells];
			hi += b[s].hi[c - t->cells];
			exact &= c->state == CELL_COUNT;
		}
	}
	if (exact) {
		pc->state = CELL_COUNT;
		pc->count = lo;
	} else {
		pc->state = CELL_INTERVAL;
		pc->low = lo;
		pc->high = hi;
	}
}

static struct table *
pool_compute(struct pool *p, char *err, size_t errlen)
{
	struct table *u = NULL;
	struct bounds *b = NULL;
	uint64_t tlo = 0, thi = 0;
	int texact = 1, r;

	for (size_t s = 0; s < p->nsite; s++) {
		const struct table *t = p->site[s].table;

		if (t->total.state == CELL_COUNT) {
			tlo += t->total.count;
			thi += t->total.count;
		} else {
			texact = 0;
			tlo += primary_low(t);
			thi += t->min_cell - 1;
		}
	}
	if (texact && tlo >= 1 && tlo < p->k) {
		if ((u = withhold_result(p)) == NULL)
			errf(err, errlen, "out of memory");
		return u;
	}
	if ((u = pooled_keys(p)) == NULL)
		goto nomem;
	/* Exactness only decreases, so a second round finds nothing new;
	 * the bound is a guard. */
	for (int round = 0; round < 8; round++) {
		if ((r = pooled_primaries(p, u, err, errlen)) == -1)
			goto fail;
		if (r == 0)
			break;
	}
	table_free(u);
	u = NULL;
	if ((b = calloc(p->nsite, sizeof(*b))) == NULL)
		goto nomem;
	for (size_t s = 0; s < p->nsite; s++) {
		size_t n = p->site[s].table->ncells + 1;

		b[s].lo = calloc(n, sizeof(*b[s].lo));
		b[s].hi = calloc(n, sizeof(*b[s].hi));
		if (b[s].lo == NULL || b[s].hi == NULL)
			goto nomem;
		table_bounds(p->site[s].table, b[s].lo, b[s].hi);
	}
	/* The sites' tables may list new (withheld) cells now: key again. */
	if ((u = pooled_keys(p)) == NULL)
		goto nomem;
	for (size_t i = 0; i < u->ncells; i++)
		pooled_cell(p, b, &u->cells[i]);
	if (texact) {
		u->total.state = CELL_COUNT;
		u->total.count = tlo;
	} else {
		u->total.state = CELL_INTERVAL;
		u->total.low = tlo;
		u->total.high = thi;
	}
	u->min_cell = p->k;
	goto out;
nomem:
	errf(err, errlen, "out of memory");
fail:
	table_free(u);
	u = NULL;
out:
	for (size_t s = 0; b != NULL && s < p->nsite; s++) {
		free(b[s].lo);
		free(b[s].hi);
	}
	free(b);
	return u;
}

int
pool_finish(struct pool *p, int by_site, struct table **pooled,
    struct site_table **sites, size_t *nsites, char *err, size_t errlen)
{
	struct site_table *out = NULL;
	struct table *u;

	*pooled = NULL;
	if (sites != NULL)
		*sites = NULL;
	if (nsites != NULL)
		*nsites = 0;
	if (p->nsite == 0)
		return errf(err, errlen, "no site table to pool");
	qsort(p->site, p->nsite, sizeof(*p->site), site_cmp);
	/* Check every node's work: protect what a node left recoverable. */
	for (size_t s = 0; s < p->nsite; s++) {
		long n = suppress_resolve(p->site[s].table, err, errlen);

		if (n == -1)
			return -1;
		if (n > 0)
			log_warnx("pool: site %s: %ld more cells withheld",
			    p->site[s].site, n);
	}
	if ((u = pool_compute(p, err, errlen)) == NULL)
		return -1;
	if (by_site) {
		if ((out = calloc(p->nsite, sizeof(*out))) == NULL)
			goto nomem;
		for (size_t s = 0; s < p->nsite; s++) {
			memcpy(
			    out[s].site, p->site[s].site, sizeof(out[s].site));
			if ((out[s].table = table_dup(p->site[s].table)) ==
			    NULL) {
				pool_sites_free(out, s);
				goto nomem;
			}
		}
		*sites = out;
		*nsites = p->nsite;
	}
	*pooled = u;
	return 0;
nomem:
	table_free(u);
	return errf(err, errlen, "out of memory");
}
