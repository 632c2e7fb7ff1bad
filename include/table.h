/*
 * table.h — a stratified count table: what the engine produces, what
 * disclosure control (suppress.c) withholds cells of, what nodes release
 * and the broker pools. The unit every count travels in.
 *
 * A cell's key holds one value per stratum, in the order of `strata`
 * (e.g. "F", "60-69", "2019"). The total is the count over all cells.
 * Tables are sparse: a key that is not listed has count 0. A table with
 * no strata has no cells, only its total.
 *
 * After suppression (docs/disclosure-control.md) a withheld cell has
 * state CELL_PRIMARY or CELL_COMPLEMENTARY and count 0: its count never
 * travels. A released table whose total is released but which lists no
 * cell while the total is not 0 is "withheld entirely": every cell is
 * unknown. A withheld (CELL_PRIMARY) total comes with no cells.
 */
#ifndef TALLY_TABLE_H
#define TALLY_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define TABLE_MAX_STRATA 5
#define TABLE_VALUE_MAX	 32    /* bytes of a key value, with NUL */
#define TABLE_MAX_CELLS	 65536 /* cells of one table */
#define TABLE_COUNT_MAX	 ((uint64_t)1 << 40) /* a count at one site */
#define TABLE_SUM_MAX	 ((uint64_t)1 << 52) /* any count, low or high */
#define TABLE_SITE_MAX	 64		     /* bytes of a site id, with NUL */

enum cell_state {
	CELL_COUNT,	    /* exact count in .count */
	CELL_INTERVAL,	    /* the true count lies in [.low, .high] */
	CELL_PRIMARY,	    /* withheld: 1 <= n < k (0 <= n < k if masked) */
	CELL_COMPLEMENTARY, /* withheld so that no primary can be recovered */
};

struct cell {
	char key[TABLE_MAX_STRATA][TABLE_VALUE_MAX];
	enum cell_state state;
	uint64_t count;
	uint64_t low, high;
};

struct table {
	int nstrata;
	int strata[TABLE_MAX_STRATA]; /* TALLY__STRATUM__* values */
	size_t ncells, cap;
	struct cell *cells;
	struct cell total; /* key unused */
	unsigned min_cell; /* k applied, 0 before suppression */
	/* 1 if a CELL_PRIMARY cell may hide a zero (the releasing node masks
	 * zeros, or it is not known whether it does: tables from the wire). */
	int zeros_masked;
};

/* One site's table, as the broker keeps and shows them. */
struct site_table {
	char site[TABLE_SITE_MAX];
	struct table *table;
};

/* NULL (logged) on allocation failure or nstrata out of range. */
struct table *table_new(const int *strata, int nstrata);
void table_free(struct table *);
/* A deep copy, or NULL (logged). */
struct table *table_dup(const struct table *);
/* The cell with this key (nstrata values), inserted with count 0 if new.
 * NULL if a value is too long, the table is full (TABLE_MAX_CELLS) or
 * memory runs out. */
struct cell *table_get(struct table *, const char *const *key);
/* Appends a cell with this key without looking for it first: for callers
 * that know the key is new (table_check() finds duplicates). NULL if a
 * value is too long, the table is full or memory runs out. */
struct cell *table_append(struct table *, const char *const *key);
/* The cell with this key, or NULL. */
const struct cell *table_find(const struct table *, const char *const *key);
/* The cell of a sorted table whose key equals like's key, or NULL. */
const struct cell *table_search(const struct table *, const struct cell *like);
/* Sorts cells by key so that equal tables compare and print equal. */
void table_sort(struct table *);
/* 0 if a and b hold the same strata, cells (in order), total, min_cell. */
int table_cmp(const struct table *a, const struct table *b);
/* Compares two cells' keys (strcmp order, stratum by stratum). */
int table_key_cmp(const struct cell *a, const struct cell *b);
/* Structural check of a table from outside: strata known and distinct,
 * cells within TABLE_MAX_CELLS, distinct keys (the table is sorted), each
 * cell's fields as its state allows (count 0 unless CELL_COUNT, low <=
 * high for CELL_INTERVAL, nothing for a withheld cell), values within
 * TABLE_SUM_MAX. */
int table_check(struct table *, char *err, size_t errlen);
/*
 * What t's own released numbers say about each cell (lo[i], hi[i] for
 * t->cells[i]; t's total must be a released count): a released cell is
 * exact; a withheld one starts from its label (primary [1, min_cell - 1],
 * from 0 if zeros_masked; complementary 0 or at least min_cell; an
 * interval its own) and is tightened by the one equation "withheld cells
 * sum to R = total - released cells" ([max(lo, R - others' highs),
 * min(hi, R - others' lows)]), a few passes until nothing moves, then
 * narrowed to each cell's exact range under that equation and the labels
 * (complements add up to 0 or to at least min_cell, a gap the passes do
 * not see). lo[i] == hi[i] means the cell is pinned.
 */
void table_bounds(const struct table *t, uint64_t *lo, uint64_t *hi);
/* Name of a stratum ("sex", "age_band", ...) or NULL. */
const char *table_stratum_name(int stratum);
/* The stratum named name, or -1. */
int table_stratum_parse(const char *name);
/* "count", "interval", "primary", "complementary". */
const char *table_state_name(enum cell_state);

#endif
