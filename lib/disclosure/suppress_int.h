/*
 * suppress_int.h — what suppress.c (primary and complementary cells, the
 * fail-safe) and suppress_rank.c (the exact rank test) share, and nothing
 * else may use: the hypercube a table is laid out as.
 */
#ifndef TALLY_SUPPRESS_INT_H
#define TALLY_SUPPRESS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

enum {
	ST_KNOWN,   /* released, or a known zero */
	ST_PRIMARY, /* withheld here: small */
	ST_COMP,    /* withheld here: complementary */
	ST_HELD,    /* withheld before; keeps its table state */
};
#define WITHHELD(s) ((s) != ST_KNOWN)
#define NO_CELL	    SIZE_MAX

typedef char value_t[TABLE_VALUE_MAX];

struct cube {
	const struct table *t;
	value_t *val[TABLE_MAX_STRATA]; /* sorted values, per stratum */
	size_t nval[TABLE_MAX_STRATA];
	int nd;			    /* dimensions: strata with >= 2 values */
	int pos[TABLE_MAX_STRATA];  /* their stratum positions */
	size_t n[TABLE_MAX_STRATA]; /* values per dimension */
	size_t stride[TABLE_MAX_STRATA]; /* dimension 0 most significant */
	size_t ncell;
	uint64_t *count;
	unsigned char *st;
	size_t *tix;	/* cell of t, or NO_CELL */
	uint64_t *work; /* rank-test work left for the whole table */
};

/* Coordinate of cube cell i in dimension d. */
static inline size_t
coord(const struct cube *c, size_t i, int d)
{
	return (i / c->stride[d]) % c->n[d];
}

/* Marks in det (c->ncell bytes) the withheld cells the margins
 * determine; their number, or -1 if the test could not be completed
 * within the work left in *c->work (which it spends). */
long cube_determined(const struct cube *c, unsigned char *det);

#endif
