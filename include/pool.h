/*
 * pool.h — the broker's side of disclosure control: combining the tables
 * that sites released into one pooled table (and, on request, per-site
 * tables) without revealing anything a site withheld. The rules, with
 * examples, are in docs/disclosure-control.md; in short:
 *
 * - a pooled cell is the exact sum where every site released the cell (or
 *   is known to have none); otherwise an interval [low, high] summed from
 *   each site's bounds: a primary cell [1, k_s - 1] ([0, k_s - 1] when the
 *   site may mask zeros), any withheld cell at most what the site's total
 *   leaves after its released cells and the least its other withheld
 *   cells hold; a site withheld entirely adds [0, its total] (or
 *   [0, k_s - 1] when its total is withheld);
 * - a pooled exact count 1 <= n < k is not released: the sites' cells
 *   behind it are withheld (complementary), each such site's table is
 *   protected again (suppress_resolve()), and the pooled cell becomes an
 *   interval like any other. It is not labelled primary: 1..k-1 beside a
 *   site's "0 or >= k_s" could pin the site's cell. So every pooled number
 *   follows from the per-site tables, each protected on its own; the
 *   pooled table is computed the same way whether or not per-site tables
 *   are shown, so the two views agree;
 * - a pooled exact total 1 <= T < k withholds the result: no pooled
 *   cells, no per-site cells, per-site totals withheld;
 * - every site's table is checked on arrival (suppress_resolve()): a
 *   node that left a cell recoverable gets it protected here.
 */
#ifndef TALLY_POOL_H
#define TALLY_POOL_H

#include <stddef.h>

#include "table.h"

#define POOL_MAX_SITES 1024

struct pool;

/* A pool for tables over these strata, with pooled minimum cell size k
 * (>= 1). NULL (logged) on bad arguments or no memory. */
struct pool *pool_new(const int *strata, int nstrata, unsigned k);
void pool_free(struct pool *);

/*
 * Adds the table site released (copied; t is not changed). -1 with the
 * reason in err when the table cannot be a node's release: other strata,
 * a released cell below its k, a withheld total with cells, sums that do
 * not add up, a site named twice.
 */
int pool_add(struct pool *, const char *site, const struct table *t, char *err,
    size_t errlen);

/*
 * Pools the tables added so far into *pooled (min_cell k, sorted) and, if
 * by_site, the per-site tables into *sites (*nsites of them, by site id;
 * free with pool_sites_free()). -1 with err if no table was added or
 * memory runs out.
 */
int pool_finish(struct pool *, int by_site, struct table **pooled,
    struct site_table **sites, size_t *nsites, char *err, size_t errlen);
void pool_sites_free(struct site_table *, size_t n);

#endif
