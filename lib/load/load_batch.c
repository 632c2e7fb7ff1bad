/*
 * load_batch.c — owns the batching of event rows (diagnosis, lab, drug,
 * procedure): LOAD_BATCH checked rows are copied into a fixed buffer and
 * written by one multi-row INSERT, which costs SQLite far less per row
 * than one statement each. It never checks a row (load_db.c did) and
 * never loses one: rows still buffered are written by load_batch_flush()
 * at the end of each file, and should the database refuse a batch, its
 * rows are retried one by one so that only the guilty row is rejected.
 */
#include <stdlib.h>
#include <string.h>

#include "load_int.h"
#include "util.h"

/* Text slots of one row: date, end date, code, system, value, unit. */
enum { T_DATE, T_END, T_CODE, T_SYSTEM, T_VALUE, T_UNIT, T_MAX };
static const size_t slot_len[T_MAX] = { 10, 10, LOAD_CODE_MAX, LOAD_SYSTEM_MAX,
	LOAD_TEXT_MAX, LOAD_UNIT_MAX };
static const size_t slot_off[T_MAX] = { 0, 10, 20, 20 + LOAD_CODE_MAX,
	20 + LOAD_CODE_MAX + LOAD_SYSTEM_MAX,
	20 + LOAD_CODE_MAX + LOAD_SYSTEM_MAX + LOAD_TEXT_MAX };
#define ROW_TEXT                                                               \
	(10 + 10 + LOAD_CODE_MAX + LOAD_SYSTEM_MAX + LOAD_TEXT_MAX +           \
	    LOAD_UNIT_MAX)

struct brow {
	int64_t person_id, visit_id, num;
	double value;
	uint64_t line;
	uint8_t linked, has_num, has_value;
	uint8_t has_visit_unlinked; /* counted in step->unlinked */
	uint16_t len[T_MAX];
	char text[ROW_TEXT];
};

struct load_batch {
	sqlite3_stmt *multi[ST_MAX]; /* LOAD_BATCH-row inserts */
	enum load_stmt which;	     /* the table of the rows held */
	struct load_table *t;	     /* the file they came from */
	int n;
	struct brow rows[LOAD_BATCH];
};

static const struct {
	const char *head, *row;
	int ncols;
} ins[ST_MAX] = {
	[ST_DIAGNOSIS] = { "INSERT INTO diagnosis (person_id, visit_id,"
			   " diag_date, code, code_system, is_primary) VALUES",
	    "(?,?,?,?,?,?)", 6 },
	[ST_LAB] = { "INSERT INTO lab (person_id, visit_id, lab_date, code,"
		     " code_system, value_num, value_text, unit) VALUES",
	    "(?,?,?,?,?,?,?,?)", 8 },
	[ST_DRUG] = { "INSERT INTO drug (person_id, visit_id, start_date,"
		      " end_date, code, code_system, days_supply) VALUES",
	    "(?,?,?,?,?,?,?)", 7 },
	[ST_PROCEDURE] = { "INSERT INTO procedure (person_id, visit_id,"
			   " proc_date, code, code_system) VALUES",
	    "(?,?,?,?,?)", 5 },
};

int
load_batch_new(struct load *ld)
{
	struct load_batch *b;
	char sql[4096];

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return errf(ld->err, sizeof(ld->err), "out of memory");
	ld->batch = b;
	for (int i = 0; i < ST_MAX; i++) {
		size_t w;

		if (ins[i].head == NULL)
			continue;
		/* Constant pieces only: nothing from the input. */
		w = strlcpy(sql, ins[i].head, sizeof(sql));
		for (int r = 0; r < LOAD_BATCH && w < sizeof(sql); r++) {
			if (r > 0)
				w = strlcat(sql, ",", sizeof(sql));
			w = strlcat(sql, ins[i].row, sizeof(sql));
		}
		if (w >= sizeof(sql))
			return errf(
			    ld->err, sizeof(ld->err), "batch: too long");
		if (sqlite3_prepare_v3(ld->db, sql, -1,
			SQLITE_PREPARE_PERSISTENT, &b->multi[i],
			NULL) != SQLITE_OK)
			return errf(ld->err, sizeof(ld->err), "prepare: %s",
			    sqlite3_errmsg(ld->db));
	}
	return 0;
}

void
load_batch_free(struct load *ld)
{
	if (ld->batch == NULL)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(ld->batch->multi[i]);
	free(ld->batch);
	ld->batch = NULL;
}

static int
copy(struct brow *r, int slot, const struct csv_field *f)
{
	if (f->len > slot_len[slot])
		return -1;
	if (f->len > 0)
		memcpy(r->text + slot_off[slot], f->p, f->len);
	r->len[slot] = (uint16_t)f->len;
	return 0;
}

static void
bind_slot(sqlite3_stmt *st, int i, const struct brow *r, int slot)
{
	if (r->len[slot] == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, r->text + slot_off[slot], r->len[slot],
		    SQLITE_STATIC);
}

/* Binds row r as parameters base+1.. of st. */
static void
bind_row(sqlite3_stmt *st, int base, enum load_stmt which, const struct brow *r)
{
	sqlite3_bind_int64(st, base + 1, r->person_id);
	if (r->linked)
		sqlite3_bind_int64(st, base + 2, r->visit_id);
	else
		sqlite3_bind_null(st, base + 2);
	bind_slot(st, base + 3, r, T_DATE);
	switch (which) {
	case ST_DIAGNOSIS:
		bind_slot(st, base + 4, r, T_CODE);
		bind_slot(st, base + 5, r, T_SYSTEM);
		if (r->has_num)
			sqlite3_bind_int64(st, base + 6, r->num);
		else
			sqlite3_bind_null(st, base + 6);
		break;
	case ST_LAB:
		bind_slot(st, base + 4, r, T_CODE);
		bind_slot(st, base + 5, r, T_SYSTEM);
		if (r->has_value)
			sqlite3_bind_double(st, base + 6, r->value);
		else
			sqlite3_bind_null(st, base + 6);
		bind_slot(st, base + 7, r, T_VALUE);
		bind_slot(st, base + 8, r, T_UNIT);
		break;
	case ST_DRUG:
		bind_slot(st, base + 4, r, T_END);
		bind_slot(st, base + 5, r, T_CODE);
		bind_slot(st, base + 6, r, T_SYSTEM);
		if (r->has_num)
			sqlite3_bind_int64(st, base + 7, r->num);
		else
			sqlite3_bind_null(st, base + 7);
		break;
	default: /* ST_PROCEDURE */
		bind_slot(st, base + 4, r, T_CODE);
		bind_slot(st, base + 5, r, T_SYSTEM);
		break;
	}
}

/* Writes the rows one by one; a refused row becomes a reject. */
static int
flush_each(struct load *ld, struct load_batch *b)
{
	sqlite3_stmt *st = ld->st[b->which];
	struct load_table *t = b->t;
	char why[LOAD_WHY_MAX];

	for (int i = 0; i < b->n; i++) {
		int rc;

		bind_row(st, 0, b->which, &b->rows[i]);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			continue;
		if ((rc & 0xff) != SQLITE_CONSTRAINT)
			return errf(ld->err, sizeof(ld->err), "insert: %s",
			    sqlite3_errmsg(ld->db));
		/* Counted as loaded when it was buffered: take it back. */
		errf(why, sizeof(why), "refused by the database: %s",
		    sqlite3_errmsg(ld->db));
		t->step->loaded--;
		t->step->rejected++;
		if (b->rows[i].has_visit_unlinked)
			t->step->unlinked--;
		if (load_reject(ld, t->path, b->rows[i].line, why) == -1)
			return -1;
	}
	return 0;
}

int
load_batch_flush(struct load *ld)
{
	struct load_batch *b = ld->batch;
	sqlite3_stmt *st;
	int rc;

	if (b == NULL || b->n == 0)
		return 0;
	if (b->n < LOAD_BATCH) {
		rc = flush_each(ld, b);
		b->n = 0;
		return rc;
	}
	st = b->multi[b->which];
	for (int i = 0; i < b->n; i++)
		bind_row(st, i * ins[b->which].ncols, b->which, &b->rows[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		rc = flush_each(ld, b); /* find the guilty row */
	else
		rc = errf(ld->err, sizeof(ld->err), "insert: %s",
		    sqlite3_errmsg(ld->db));
	b->n = 0;
	return rc;
}

int
load_batch_add(struct load_table *t, enum load_stmt which,
    const struct load_event *ev, int linked)
{
	struct load *ld = t->ld;
	struct load_batch *b = ld->batch;
	struct brow *r;

	if (b->n > 0 && (b->which != which || b->t != t) &&
	    load_batch_flush(ld) == -1)
		return -1;
	b->which = which;
	b->t = t;
	r = &b->rows[b->n];
	r->person_id = ev->person_id;
	r->visit_id = ev->visit_id;
	r->linked = (uint8_t)linked;
	r->has_visit_unlinked = (uint8_t)(ev->has_visit && !linked);
	r->num = ev->num;
	r->has_num = (uint8_t)ev->has_num;
	r->value = ev->value_num;
	r->has_value = (uint8_t)ev->has_value;
	r->line = t->line;
	if (copy(r, T_DATE, &ev->date) == -1 ||
	    copy(r, T_END, &ev->end_date) == -1 ||
	    copy(r, T_CODE, &ev->code) == -1 ||
	    copy(r, T_SYSTEM, &ev->system) == -1 ||
	    copy(r, T_VALUE, &ev->value_text) == -1 ||
	    copy(r, T_UNIT, &ev->unit) == -1)
		return errf(ld->err, sizeof(ld->err),
		    "batch: a field outgrew its slot");
	if (++b->n == LOAD_BATCH)
		return load_batch_flush(ld);
	return 0;
}
