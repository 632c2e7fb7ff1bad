/*
 * engine_person.c — owns the person cache: sex, birth year and death day
 * of every person, read once from the person table and kept by the
 * engine until the DB's content changes. It never reads event tables and
 * never keeps anything a query could not already count (no link_key).
 */
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "util.h"

#define STMT_PERSONS 60 /* dbsafe statement slot */

/* Dense when at most this many slots per person would be empty. */
#define DENSE_SLACK 2

static void
row_read(sqlite3_stmt *st, uint8_t *sex, int32_t *birth, int32_t *death)
{
	const char *s = (const char *)sqlite3_column_text(st, 1);
	const char *d;
	int64_t by;
	int32_t day;

	*sex = s != NULL && (s[0] == 'M' || s[0] == 'F') && s[1] == '\0'
	    ? (uint8_t)s[0]
	    : 'U';
	*birth = YEAR_NONE;
	if (sqlite3_column_type(st, 2) == SQLITE_INTEGER) {
		by = sqlite3_column_int64(st, 2);
		if (by > -100000 && by < 100000)
			*birth = (int32_t)by;
	}
	*death = DAY_NONE;
	d = (const char *)sqlite3_column_text(st, 3);
	if (d != NULL &&
	    date_parse(d, (size_t)sqlite3_column_bytes(st, 3), &day) == 0)
		*death = day;
}

static int
grow(struct persons *p, struct mem *m, size_t cap, char *err, size_t errlen)
{
	int64_t *ids;
	uint8_t *sex;
	int32_t *birth, *death;

	if ((ids = mem_grow(m, p->ids, cap, sizeof(*ids), err, errlen)) == NULL)
		return -1;
	p->ids = ids;
	if ((sex = mem_grow(m, p->sex, cap, 1, err, errlen)) == NULL)
		return -1;
	p->sex = sex;
	if ((birth = mem_grow(m, p->birth, cap, 4, err, errlen)) == NULL)
		return -1;
	p->birth = birth;
	if ((death = mem_grow(m, p->death, cap, 4, err, errlen)) == NULL)
		return -1;
	p->death = death;
	return 0;
}

/* Re-lays the slots by person_id - base when the ids are dense enough. */
static int
densify(struct persons *p, struct mem *m, char *err, size_t errlen)
{
	uint64_t span;
	uint8_t *sex;
	int32_t *birth, *death;

	if (p->n == 0)
		return 0;
	span = (uint64_t)p->ids[p->n - 1] - (uint64_t)p->ids[0] + 1;
	if (span > DENSE_SLACK * (uint64_t)p->n + 1024 || span > INT32_MAX)
		return 0;
	sex = mem_calloc(m, span, 1, err, errlen);
	birth = mem_calloc(m, span, 4, err, errlen);
	death = mem_calloc(m, span, 4, err, errlen);
	if (sex == NULL || birth == NULL || death == NULL) {
		mem_free(m, sex);
		mem_free(m, birth);
		mem_free(m, death);
		return 0; /* stay sparse */
	}
	p->base = p->ids[0];
	for (size_t i = 0; i < p->n; i++) {
		size_t s = (size_t)(p->ids[i] - p->base);

		sex[s] = p->sex[i];
		birth[s] = p->birth[i];
		death[s] = p->death[i];
	}
	mem_free(m, p->ids);
	mem_free(m, p->sex);
	mem_free(m, p->birth);
	mem_free(m, p->death);
	p->ids = NULL;
	p->sex = sex;
	p->birth = birth;
	p->death = death;
	p->n = (size_t)span;
	p->dense = 1;
	return 0;
}

/* The per-slot scratch of runs, in its resting state. */
static int
scratch(struct persons *p, struct mem *m, char *err, size_t errlen)
{
	size_t n = p->n ? p->n : 1;

	if ((p->best = mem_calloc(m, n, 4, err, errlen)) == NULL ||
	    (p->evpos = mem_calloc(m, n, 4, err, errlen)) == NULL)
		return -1;
	for (size_t s = 0; s < n; s++) {
		p->best[s] = DAY_NONE;
		p->evpos[s] = -1;
	}
	return 0;
}

int
persons_load(struct persons *p, struct dbsafe *ds, struct mem *m, char *err,
    size_t errlen)
{
	size_t cap = 0, used0;
	sqlite3_stmt *st;
	int rc;

	persons_free(p, m);
	used0 = m->used;
	if ((st = dbsafe_stmt(ds, STMT_PERSONS,
		 "SELECT person_id, sex, birth_year, death_date FROM person"
		 " ORDER BY person_id",
		 err, errlen)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (p->n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (grow(p, m, cap, err, errlen) == -1)
				goto fail;
		}
		p->ids[p->n] = sqlite3_column_int64(st, 0);
		row_read(st, &p->sex[p->n], &p->birth[p->n], &p->death[p->n]);
		p->n++;
	}
	if (rc != SQLITE_DONE) {
		dbsafe_error(ds, "read persons", err, errlen);
		goto fail;
	}
	sqlite3_reset(st);
	if (densify(p, m, err, errlen) == -1 ||
	    scratch(p, m, err, errlen) == -1)
		goto fail;
	p->bytes = m->used - used0;
	p->loaded = 1;
	return 0;
fail:
	sqlite3_reset(st);
	persons_free(p, m);
	return -1;
}

void
persons_free(struct persons *p, struct mem *m)
{
	mem_free(m, p->ids);
	mem_free(m, p->sex);
	mem_free(m, p->birth);
	mem_free(m, p->death);
	mem_free(m, p->best);
	mem_free(m, p->evpos);
	memset(p, 0, sizeof(*p));
}
