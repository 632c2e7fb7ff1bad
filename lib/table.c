/*
 * table.c — owns struct table storage: cells, keys, order. It never
 * decides what may be released (suppress.c does) or how a table looks
 * on paper or the wire (result.c does).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "table.h"
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
	for (size_t i = 0; i < sizeof(strata_names) / sizeof(strata_names[0]);
	     i++)
		if (strata_names[i].id == stratum)
			return strata_names[i].name;
	return NULL;
}

int
table_stratum_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(strata_names) / sizeof(strata_names[0]);
	     i++)
		if (strcmp(strata_names[i].name, name) == 0)
			return strata_names[i].id;
	return -1;
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

static int
key_equal(const struct table *t, const struct cell *c, const char *const *key)
{
	for (int i = 0; i < t->nstrata; i++)
		if (strcmp(c->key[i], key[i]) != 0)
			return 0;
	return 1;
}

struct cell *
table_get(struct table *t, const char *const *key)
{
	struct cell *c;

	for (size_t i = 0; i < t->ncells; i++)
		if (key_equal(t, &t->cells[i], key))
			return &t->cells[i];
	for (int i = 0; i < t->nstrata; i++)
		if (strlen(key[i]) >= TABLE_VALUE_MAX) {
			log_warnx("table: stratum value too long");
			return NULL;
		}
	if (t->ncells == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct cell *nc = reallocarray(t->cells, ncap, sizeof(*nc));

		if (nc == NULL) {
			log_warn("table: realloc");
			return NULL;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	c = &t->cells[t->ncells++];
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < t->nstrata; i++)
		memcpy(c->key[i], key[i], strlen(key[i]) + 1);
	return c;
}

static int
cell_cmp(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;

	for (int i = 0; i < TABLE_MAX_STRATA; i++) {
		int r = strcmp(x->key[i], y->key[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

void
table_sort(struct table *t)
{
	if (t->ncells > 1)
		qsort(t->cells, t->ncells, sizeof(*t->cells), cell_cmp);
}
