/*
 * suppress.h — disclosure control of one count table: what a node may
 * release and what the broker re-checks. The rules, with examples, are in
 * docs/disclosure-control.md; in short:
 *
 * - primary: a cell with 1 <= n < k is withheld (and, when the policy
 *   masks zeros, a cell with n = 0, listed or not);
 * - a table whose total is 1 <= T < k is released as its withheld total
 *   alone: no cells;
 * - complementary: treating the table as a hypercube over the values seen
 *   per stratum, every marginal sum over every proper subset of strata is
 *   assumed known; further cells are withheld until no withheld cell is a
 *   linear combination of those margins and the released cells (an exact
 *   rank test decides), and until the table's own total and the labels
 *   (primary: 1..k-1; complementary: 0 or >= k) pin no withheld cell to
 *   a single value (table_bounds());
 * - withheld cells keep their key, lose their count, and say why; a
 *   withheld zero that the researcher could otherwise infer is listed;
 * - when the work would exceed the bounds below, or anything fails, the
 *   table is withheld entirely (its total alone, no cells): more
 *   suppression, never less.
 *
 * Identical input tables (in any cell order) give identical output.
 */
#ifndef TALLY_SUPPRESS_H
#define TALLY_SUPPRESS_H

#include <stddef.h>

#include "table.h"

#define SUPPRESS_DEFAULT_K 10
#define SUPPRESS_MAX_K	   1000000
/* Bounds of one table's protection: cells of the hypercube, entries of
 * the elimination matrix, and entry updates of all its rank tests
 * together (a second or two). Beyond them the table is withheld
 * entirely. */
#define SUPPRESS_MAX_CELLS   TABLE_MAX_CELLS
#define SUPPRESS_MAX_ENTRIES (8u << 20)
#define SUPPRESS_MAX_WORK    4000000000ULL

struct suppress_policy {
	unsigned k;	/* minimum cell size, >= 1 */
	int mask_zeros; /* withhold zeros as primary cells too */
};

/*
 * The k a node applies: its policy's k (0 means SUPPRESS_DEFAULT_K),
 * raised to the approval's k when that is higher (0: no approval k). An
 * approval never lowers it: a lower approval k is ignored (and logged).
 * -1 with err if a k is out of [1, SUPPRESS_MAX_K].
 */
int suppress_min_cell(unsigned policy_k, unsigned approval_k, unsigned *kp,
    char *err, size_t errlen);

/*
 * Applies disclosure control to t in place, as a node does before it
 * releases t: every cell must be CELL_COUNT (as the engine made it). The
 * total is recomputed as the sum of the cells (a table without strata
 * keeps the total it has). On return t->min_cell is p->k, t is sorted,
 * withheld cells have count 0. Returns -1 (err) only on bad input (a
 * withheld cell, a count over TABLE_COUNT_MAX, k out of range); t must
 * then not be released.
 */
int suppress_table(
    struct table *t, const struct suppress_policy *p, char *err, size_t errlen);

/*
 * Complementary suppression of a table that is already released: cells
 * that are not CELL_COUNT stay withheld as they are, more CELL_COUNT cells
 * become CELL_COMPLEMENTARY until no withheld cell is determined. The
 * broker runs this on every site's table (a check of the node's work)
 * and again after it withholds a site's cell itself. Returns the number
 * of cells it withheld (the table may also become withheld entirely,
 * counted as its number of cells), or -1 (err) on a table it cannot
 * read (total not released as a count, too many cells).
 */
long suppress_resolve(struct table *t, char *err, size_t errlen);

/*
 * The rank test alone, for checking a released table: the number of
 * withheld cells that the table's released cells and the margins
 * determine (0 for a safe table), or -1 when the test could not be
 * completed within the bounds.
 */
long suppress_check(const struct table *t);

#endif
