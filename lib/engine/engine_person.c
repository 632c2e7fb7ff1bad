/*
 * engine_person.c — owns the person cache: sex, birth year and death day
 * of each person, read once from the person table (person by person as
 * runs first need them, or all at once when the ids are too sparse for a
 * dense array) and kept by the engine until the DB's content changes,
 * with the per-person scratch of runs beside them. It never reads event
 * tables and never keeps anything a query could not already count (no
 * link_key).
 */
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "util.h"

#define STMT_PERSONS 60 /* dbsafe statement slots */
#define STMT_PERSON  61
#define STMT_FIRST   62
#define STMT_LAST    63

/* Ids spanning at most this many slots get a lazily read dense array
 * (16 bytes a slot, charged to the memory budget, touched as used). */
#define LAZY_SLOTS (1u << 23)

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
	if ((slot = mem_calloc(m, span, sizeof(*slot), NULL, 0)) == NULL)
		return; /* stay sparse */
	for (uint64_t s = 0; s < span; s++) {
		slot[s].death = slot[s].best = DAY_NONE;
		slot[s].evpos = -1;
		slot[s].birth = YEAR_NONE;
		slot[s].sex = SEX_ABSENT;
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

/* Reads every person (ids too sparse for a lazy dense array). */
static int
load_all(struct persons *p, struct dbsafe *ds, struct mem *m, char *err,
    size_t errlen)
{
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc;

	if ((st = dbsafe_stmt(ds, STMT_PERSONS,
		 "SELECT person_id, sex, birth_year, death_date FROM person"
		 " ORDER BY person_id",
		 err, errlen)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (p->n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (grow(p, m, cap, err, errlen) == -1) {
				sqlite3_reset(st);
				return -1;
			}
		}
		p->ids[p->n] = sqlite3_column_int64(st, 0);
		row_read(st, &p->slot[p->n]);
		p->n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dbsafe_error(ds, "read persons", err, errlen);
	densify(p, m);
	if (p->slot == NULL && grow(p, m, 1, err, errlen) == -1)
		return -1;
	return 0;
}

/* The smallest (desc 0) or largest person id; 0, 1 if none, -1. */
static int
end_id(struct dbsafe *ds, int desc, int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = dbsafe_stmt(ds, desc ? STMT_LAST : STMT_FIRST,
		 desc ? "SELECT person_id FROM person ORDER BY person_id DESC"
			" LIMIT 1"
		      : "SELECT person_id FROM person ORDER BY person_id"
			" LIMIT 1",
		 err, errlen)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dbsafe_error(ds, "read persons", err, errlen);
	return rc == SQLITE_ROW ? 0 : 1;
}

int
persons_load(struct persons *p, struct dbsafe *ds, struct mem *m, char *err,
    size_t errlen)
{
	size_t used0;
	int64_t lo = 0, hi = 0;
	uint64_t span;
	int rc;

	persons_free(p, m);
	used0 = m->used;
	if ((rc = end_id(ds, 0, &lo, err, errlen)) == -1 ||
	    (rc == 0 && end_id(ds, 1, &hi, err, errlen) == -1))
		goto fail;
	span = rc == 1 ? 0 : (uint64_t)hi - (uint64_t)lo + 1;
	/* Zeroed slots are SEX_UNREAD: read on first use. */
	if (span <= LAZY_SLOTS &&
	    (p->slot = mem_calloc(
		 m, span ? span : 1, sizeof(*p->slot), NULL, 0)) != NULL) {
		p->dense = p->lazy = 1;
		p->base = lo;
		p->n = (size_t)span;
	} else if (load_all(p, ds, m, err, errlen) == -1)
		goto fail;
	p->bytes = m->used - used0;
	p->loaded = 1;
	return 0;
fail:
	persons_free(p, m);
	return -1;
}

int64_t
persons_find(
    struct persons *p, struct dbsafe *ds, int64_t id, char *err, size_t errlen)
{
	uint64_t s = (uint64_t)id - (uint64_t)p->base;
	sqlite3_stmt *st;
	int rc;

	if (!p->lazy)
		return persons_peek(p, id);
	if (id < p->base || s >= p->n)
		return -1;
	if (p->slot[s].sex != SEX_UNREAD)
		return p->slot[s].sex == SEX_ABSENT ? -1 : (int64_t)s;
	if ((st = dbsafe_stmt(ds, STMT_PERSON,
		 "SELECT person_id, sex, birth_year, death_date FROM person"
		 " WHERE person_id = :id",
		 err, errlen)) == NULL)
		return -2;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return dbsafe_error(ds, "read person", err, errlen) - 1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_read(st, &p->slot[s]);
	else {
		p->slot[s].death = p->slot[s].best = DAY_NONE;
		p->slot[s].evpos = -1;
		p->slot[s].birth = YEAR_NONE;
		p->slot[s].sex = SEX_ABSENT;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dbsafe_error(ds, "read person", err, errlen) - 1;
	return p->slot[s].sex == SEX_ABSENT ? -1 : (int64_t)s;
}

void
persons_free(struct persons *p, struct mem *m)
{
	mem_free(m, p->ids);
	mem_free(m, p->slot);
	memset(p, 0, sizeof(*p));
}
