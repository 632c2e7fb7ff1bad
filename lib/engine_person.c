/*
 * engine_person.c — owns the person cache: sex, birth year and death day
 * of every person, read once from the person table and kept by the
 * engine until the DB's content changes, with the per-person scratch of
 * runs beside them. It never reads event tables and never keeps
 * anything a query could not already count (no link_key).
 */
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "util.h"

#define STMT_PERSONS 60 /* dbsafe statement slot */

/* Dense when at most this many slots per person would be empty. */
#define DENSE_SLACK 2

static void
row_read(sqlite3_stmt *st, struct pslot *ps)
{
	const char *s = (const char *)sqlite3_column_text(st, 1);
	const char *d;
	int64_t by;
	int32_t day;

	ps->sex = s != NULL && (s[0] == 'M' || s[0] == 'F') && s[1] == '\0'
	    ? (uint8_t)s[0]
	    : 'U';
	ps->birth = YEAR_NONE;
	if (sqlite3_column_type(st, 2) == SQLITE_INTEGER) {
		by = sqlite3_column_int64(st, 2);
		if (by > -32000 && by < 32000)
			ps->birth = (int16_t)by;
	}
	ps->death = DAY_NONE;
	d = (const char *)sqlite3_column_text(st, 3);
	if (d != NULL &&
	    date_parse(d, (size_t)sqlite3_column_bytes(st, 3), &day) == 0)
		ps->death = day;
	ps->best = DAY_NONE;
	ps->evpos = -1;
}

static int
grow(struct persons *p, struct mem *m, size_t cap, char *err, size_t errlen)
{
	int64_t *ids;
	struct pslot *slot;

	if ((ids = mem_grow(m, p->ids, cap, sizeof(*ids), err, errlen)) == NULL)
		return -1;
	p->ids = ids;
	if ((slot = mem_grow(m, p->slot, cap, sizeof(*slot), err, errlen)) ==
	    NULL)
		return -1;
	p->slot = slot;
	return 0;
}

/* Re-lays the slots by person_id - base when the ids are dense enough. */
static void
densify(struct persons *p, struct mem *m)
{
	uint64_t span;
	struct pslot *slot;

	if (p->n == 0)
		return;
	span = (uint64_t)p->ids[p->n - 1] - (uint64_t)p->ids[0] + 1;
	if (span > DENSE_SLACK * (uint64_t)p->n + 1024 || span > INT32_MAX)
		return;
	/* Zeroed: sex SEX_ABSENT in the holes. */
	if ((slot = mem_calloc(m, span, sizeof(*slot), NULL, 0)) == NULL)
		return; /* stay sparse */
	for (uint64_t s = 0; s < span; s++) {
		slot[s].death = slot[s].best = DAY_NONE;
		slot[s].evpos = -1;
		slot[s].birth = YEAR_NONE;
	}
	p->base = p->ids[0];
	for (size_t i = 0; i < p->n; i++)
		slot[p->ids[i] - p->base] = p->slot[i];
	mem_free(m, p->ids);
	mem_free(m, p->slot);
	p->ids = NULL;
	p->slot = slot;
	p->n = (size_t)span;
	p->dense = 1;
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
		row_read(st, &p->slot[p->n]);
		p->n++;
	}
	if (rc != SQLITE_DONE) {
		dbsafe_error(ds, "read persons", err, errlen);
		goto fail;
	}
	sqlite3_reset(st);
	densify(p, m);
	if (p->slot == NULL && grow(p, m, 1, err, errlen) == -1)
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
	mem_free(m, p->slot);
	memset(p, 0, sizeof(*p));
}
