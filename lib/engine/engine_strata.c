/*
 * engine_strata.c — owns counting the kept index events into a table:
 * one cell per combination of stratum values (sex, age band, index year,
 * site, consortium), zero cells left out, plus the total. Counts are
 * exact; it never suppresses or rounds anything (suppress.c does).
 */
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "util.h"

#define NBANDS 11 /* 0-9 .. 80-89, 90+, unknown */

struct strata {
	int n;
	int kind[TABLE_MAX_STRATA];
	size_t size[TABLE_MAX_STRATA]; /* values of each stratum */
	int year0;		       /* first index year */
	const char *site, *consortium;
};

static size_t
value_of(
    const struct strata *st, int i, const struct persons *p, size_t s, int year)
{
	int age;

	switch (st->kind[i]) {
	case TALLY__STRATUM__STRATUM_SEX:
		return p->slot[s].sex == 'M' ? 0
		    : p->slot[s].sex == 'F'  ? 1
					     : 2;
	case TALLY__STRATUM__STRATUM_AGE_BAND:
		if (p->slot[s].birth == YEAR_NONE)
			return NBANDS - 1;
		age = year - p->slot[s].birth;
		return age < 10 ? 0 : age >= 90 ? 9 : (size_t)age / 10;
	case TALLY__STRATUM__STRATUM_INDEX_YEAR:
		return (size_t)(year - st->year0);
	default: /* site, consortium: one value */
		return 0;
	}
}

static void
value_name(const struct strata *st, int i, size_t v, char *buf, size_t len)
{
	static const char *const sexes[] = { "M", "F", "U" };

	switch (st->kind[i]) {
	case TALLY__STRATUM__STRATUM_SEX:
		strlcpy(buf, sexes[v], len);
		break;
	case TALLY__STRATUM__STRATUM_AGE_BAND:
		if (v == NBANDS - 1)
			strlcpy(buf, "unknown", len);
		else if (v == 9)
			strlcpy(buf, "90+", len);
		else
			snprintf(buf, len, "%zu-%zu", v * 10, v * 10 + 9);
		break;
	case TALLY__STRATUM__STRATUM_INDEX_YEAR:
		snprintf(buf, len, "%d", st->year0 + (int)v);
		break;
	case TALLY__STRATUM__STRATUM_SITE:
		strlcpy(buf, st->site, len);
		break;
	default:
		strlcpy(buf, st->consortium, len);
		break;
	}
}

static int
strata_init(struct run *r, struct strata *st, const char *site,
    const char *consortium, const uint64_t *kept)
{
	const Tally__Query *q = r->q;
	int ymin = 0, ymax = -1;

	memset(st, 0, sizeof(*st));
	if (q->n_strata > TABLE_MAX_STRATA)
		return errf(
		    r->err, r->errlen, "strata: at most %d", TABLE_MAX_STRATA);
	st->site = site ? site : "";
	st->consortium = consortium ? consortium : "";
	for (size_t e = 0; e < r->ev.n; e++)
		if (kept[e / 64] >> (e % 64) & 1) {
			int y = date_year(r->ev.day[e]);

			if (ymax < ymin || y < ymin)
				ymin = y;
			if (y > ymax)
				ymax = y;
		}
	st->year0 = ymin;
	st->n = (int)q->n_strata;
	for (int i = 0; i < st->n; i++) {
		st->kind[i] = (int)q->strata[i];
		for (int j = 0; j < i; j++)
			if (st->kind[j] == st->kind[i])
				return errf(r->err, r->errlen,
				    "strata[%d]: repeated", i);
		switch (st->kind[i]) {
		case TALLY__STRATUM__STRATUM_SEX:
			st->size[i] = 3;
			break;
		case TALLY__STRATUM__STRATUM_AGE_BAND:
			st->size[i] = NBANDS;
			break;
		case TALLY__STRATUM__STRATUM_INDEX_YEAR:
			st->size[i] =
			    ymax >= ymin ? (size_t)(ymax - ymin) + 1 : 1;
			break;
		case TALLY__STRATUM__STRATUM_SITE:
		case TALLY__STRATUM__STRATUM_CONSORTIUM:
			if (strlen(st->kind[i] == TALLY__STRATUM__STRATUM_SITE
				    ? st->site
				    : st->consortium) >= TABLE_VALUE_MAX)
				return errf(r->err, r->errlen,
				    "strata: site or consortium name too long");
			st->size[i] = 1;
			break;
		default:
			return errf(
			    r->err, r->errlen, "strata[%d]: unknown", i);
		}
	}
	return 0;
}

/* Emits the nonzero cells of counts (indexed by mixed radix). */
static int
emit(struct run *r, const struct strata *st, const uint64_t *counts,
    size_t ncells, struct table *t)
{
	char vals[TABLE_MAX_STRATA][TABLE_VALUE_MAX];
	const char *key[TABLE_MAX_STRATA];
	struct cell *c;

	for (int i = 0; i < TABLE_MAX_STRATA; i++)
		key[i] = vals[i];
	if (st->n == 0)
		return 0; /* the total is the only count */
	for (size_t k = 0; k < ncells; k++) {
		size_t rest = k;

		if (counts[k] == 0)
			continue;
		for (int i = st->n - 1; i >= 0; i--) {
			value_name(st, i, rest % st->size[i], vals[i],
			    sizeof(vals[i]));
			rest /= st->size[i];
		}
		if ((c = table_get(t, key)) == NULL)
			return errf(r->err, r->errlen, "table: out of memory");
		c->state = CELL_COUNT;
		c->count = counts[k];
	}
	return 0;
}

int
strata_count(struct run *r, const uint64_t *kept, const char *site,
    const char *consortium, struct table **out)
{
	const struct persons *p = &r->eng->persons;
	struct strata st;
	int kinds[TABLE_MAX_STRATA];
	uint64_t *counts = NULL, total = 0;
	size_t ncells = 1;
	struct table *t = NULL;

	*out = NULL;
	if (strata_init(r, &st, site, consortium, kept) == -1)
		return -1;
	for (int i = 0; i < st.n; i++) {
		ncells *= st.size[i]; /* at most 3 * 11 * 401 */
		kinds[i] = st.kind[i];
	}
	if ((counts = mem_calloc(&r->eng->mem, ncells, 8, r->err, r->errlen)) ==
	    NULL)
		return -1;
	for (size_t e = 0; e < r->ev.n; e++) {
		size_t k = 0, s = (size_t)r->ev.slot[e];
		int year;

		if (!(kept[e / 64] >> (e % 64) & 1))
			continue;
		year = date_year(r->ev.day[e]);
		for (int i = 0; i < st.n; i++)
			k = k * st.size[i] + value_of(&st, i, p, s, year);
		counts[k]++;
		total++;
	}
	if ((t = table_new(kinds, st.n)) == NULL) {
		mem_free(&r->eng->mem, counts);
		return errf(r->err, r->errlen, "table: out of memory");
	}
	if (emit(r, &st, counts, ncells, t) == -1) {
		table_free(t);
		mem_free(&r->eng->mem, counts);
		return -1;
	}
	mem_free(&r->eng->mem, counts);
	t->total.state = CELL_COUNT;
	t->total.count = total;
	table_sort(t);
	*out = t;
	return 0;
}
