/*
 * table.h — a stratified count table: what the engine produces, what
 * disclosure control (suppress.c) withholds cells of, what nodes release
 * and the broker pools. The unit every count travels in.
 *
 * A cell's key holds one value per stratum, in the order of `strata`
 * (e.g. "F", "60-69", "2019"). The total is the count over all cells.
 */
#ifndef TALLY_TABLE_H
#define TALLY_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define TABLE_MAX_STRATA 5
#define TABLE_VALUE_MAX	 32

enum cell_state {
	CELL_COUNT,	    /* exact count in .count */
	CELL_INTERVAL,	    /* the true count lies in [.low, .high] */
	CELL_PRIMARY,	    /* withheld: 1 <= n < k */
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
};

/* NULL (logged) on allocation failure or nstrata out of range. */
struct table *table_new(const int *strata, int nstrata);
void table_free(struct table *);
/* The cell with this key (nstrata values), inserted with count 0 if new.
 * NULL if a value is too long or memory runs out. */
struct cell *table_get(struct table *, const char *const *key);
/* Sorts cells by key so that equal tables compare and print equal. */
void table_sort(struct table *);
/* Name of a stratum ("sex", "age_band", ...) or NULL. */
const char *table_stratum_name(int stratum);
/* The stratum named name, or -1. */
int table_stratum_parse(const char *name);

#endif
