/*
 * gen_db.c — owns writing a generated Baseline DB: a fresh file with
 * journal and sync off (it is a temp file that gen.c renames into place
 * only once complete), one transaction, prepared statements reused for
 * every row (a multi-row INSERT per table, rows batched in fixed
 * buffers), indexes after the data, then meta. Constant SQL only; values
 * are always bound. It never decides what the rows hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "baseline.h"
#include "date.h"
#include "gen.h"
#include "util.h"

/* Rows go to SQLite BATCH at a time through one multi-row INSERT: far
 * fewer statement executions than one row per step. */
#define BATCH 32

/* One row of any table, kept until its batch is written. */
struct row {
	int64_t a, b;	/* person: id; visit: visit_id, person_id;
			   events: person_id, visit_id */
	int32_t d1, d2; /* dates (GEN_NEVER: NULL) */
	int32_t i;	/* birth year, visit type, is_primary, days_supply */
	double x;	/* lab value */
	const char *code, *unit, *text;
	char sex[2];
	char key[65];
};

struct batch {
	sqlite3_stmt *one, *many;
	struct row r[BATCH];
	char dates[BATCH][2][11];
	int n;
};

struct gen_db {
	sqlite3 *db;
	struct batch b[GEN_NTABLES];
	int64_t rows[GEN_NTABLES];
	int64_t next_visit;
};

static const struct {
	const char *head, *tuple;
} insert_sql[GEN_NTABLES] = {
	[GEN_PERSON] = { "INSERT INTO person (person_id, sex, birth_year,"
			 " death_date, link_key) VALUES ",
	    "(?, ?, ?, ?, ?)" },
	[GEN_VISIT] = { "INSERT INTO visit (visit_id, person_id, visit_type,"
			" start_date, end_date) VALUES ",
	    "(?, ?, ?, ?, ?)" },
	[GEN_DIAGNOSIS] = { "INSERT INTO diagnosis (person_id, visit_id,"
			    " diag_date, code, code_system, is_primary)"
			    " VALUES ",
	    "(?, ?, ?, ?, 'KCD8', ?)" },
	[GEN_LAB] = { "INSERT INTO lab (person_id, visit_id, lab_date, code,"
		      " code_system, value_num, value_text, unit) VALUES ",
	    "(?, ?, ?, ?, 'LOINC', ?, ?, ?)" },
	[GEN_DRUG] = { "INSERT INTO drug (person_id, visit_id, start_date,"
		       " end_date, code, code_system, days_supply) VALUES ",
	    "(?, ?, ?, ?, ?, 'ATC', ?)" },
	[GEN_PROCEDURE] = { "INSERT INTO procedure (person_id, visit_id,"
			    " proc_date, code, code_system) VALUES ",
	    "(?, ?, ?, ?, 'EDI')" },
};

static const char *const visit_types[] = { "outpatient", "inpatient",
	"emergency" };

static int
exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
finalize_all(struct gen_db *g)
{
	for (int i = 0; i < GEN_NTABLES; i++) {
		sqlite3_finalize(g->b[i].one);
		sqlite3_finalize(g->b[i].many);
		g->b[i].one = g->b[i].many = NULL;
	}
}

void
gen_db_close(struct gen_db *g)
{
	if (g == NULL)
		return;
	finalize_all(g);
	sqlite3_close(g->db);
	free(g);
}

/* "INSERT ... VALUES (...), (...)" with n tuples: constant text only. */
static int
prepare(
    struct gen_db *g, int t, int n, sqlite3_stmt **st, char *err, size_t errlen)
{
	char sql[4096];

	strlcpy(sql, insert_sql[t].head, sizeof(sql));
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strlcat(sql, ", ", sizeof(sql));
		if (strlcat(sql, insert_sql[t].tuple, sizeof(sql)) >=
		    sizeof(sql))
			return errf(err, errlen, "insert statement too long");
	}
	if (sqlite3_prepare_v3(g->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
		NULL) != SQLITE_OK)
		return errf(err, errlen, "%s", sqlite3_errmsg(g->db));
	return 0;
}

struct gen_db *
gen_db_open(const char *path, char *err, size_t errlen)
{
	struct gen_db *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	g->next_visit = 1;
	if (sqlite3_open_v2(path, &g->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		errf(err, errlen, "%s: %s", path,
		    g->db ? sqlite3_errmsg(g->db) : "cannot open");
		goto fail;
	}
	if (exec(g->db,
		"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
		" PRAGMA cache_size = -65536;",
		err, errlen) == -1 ||
	    baseline_create(g->db, err, errlen) == -1 ||
	    exec(g->db, "BEGIN", err, errlen) == -1)
		goto fail;
	for (int t = 0; t < GEN_NTABLES; t++)
		if (prepare(g, t, 1, &g->b[t].one, err, errlen) == -1 ||
		    prepare(g, t, BATCH, &g->b[t].many, err, errlen) == -1)
			goto fail;
	return g;
fail:
	gen_db_close(g);
	return NULL;
}

static void
bind_date(sqlite3_stmt *st, int i, int32_t day, char buf[11])
{
	if (day == GEN_NEVER) {
		sqlite3_bind_null(st, i);
		return;
	}
	date_format(day, buf);
	sqlite3_bind_text(st, i, buf, 10, SQLITE_STATIC);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Binds row k of batch t at parameters base+1 ... of st. */
static void
bind_row(struct batch *b, int t, int k, sqlite3_stmt *st, int base)
{
	const struct row *r = &b->r[k];
	char(*d)[11] = b->dates[k];

	switch (t) {
	case GEN_PERSON:
		sqlite3_bind_int64(st, base + 1, r->a);
		sqlite3_bind_text(st, base + 2, r->sex, 1, SQLITE_STATIC);
		sqlite3_bind_int(st, base + 3, r->i);
		bind_date(st, base + 4, r->d1, d[0]);
		bind_text(st, base + 5, r->key[0] != '\0' ? r->key : NULL);
		break;
	case GEN_VISIT:
		sqlite3_bind_int64(st, base + 1, r->a);
		sqlite3_bind_int64(st, base + 2, r->b);
		bind_text(st, base + 3, visit_types[r->i]);
		bind_date(st, base + 4, r->d1, d[0]);
		bind_date(st, base + 5, r->d2, d[1]);
		break;
	default:
		sqlite3_bind_int64(st, base + 1, r->a);
		sqlite3_bind_int64(st, base + 2, r->b);
		bind_date(st, base + 3, r->d1, d[0]);
		if (t == GEN_DRUG) {
			bind_date(st, base + 4, r->d2, d[1]);
			bind_text(st, base + 5, r->code);
			sqlite3_bind_int(st, base + 6, r->i);
			break;
		}
		bind_text(st, base + 4, r->code);
		if (t == GEN_DIAGNOSIS)
			sqlite3_bind_int(st, base + 5, r->i);
		else if (t == GEN_LAB) {
			sqlite3_bind_double(st, base + 5, r->x);
			bind_text(st, base + 6, r->text);
			bind_text(st, base + 7, r->unit);
		}
		break;
	}
}

static int
step(struct gen_db *g, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return errf(err, errlen, "insert: %s", sqlite3_errmsg(g->db));
	return 0;
}

/* The next free row of table t, writing the batch first if it is full. */
static struct row *
row_next(struct gen_db *g, int t, char *err, size_t errlen)
{
	struct batch *b = &g->b[t];
	int ncols = sqlite3_bind_parameter_count(b->one);

	if (b->n == BATCH) {
		for (int k = 0; k < BATCH; k++)
			bind_row(b, t, k, b->many, k * ncols);
		if (step(g, b->many, err, errlen) == -1)
			return NULL;
		b->n = 0;
	}
	g->rows[t]++;
	return &b->r[b->n++];
}

/* Writes the rows of unfinished batches one by one. */
static int
flush(struct gen_db *g, char *err, size_t errlen)
{
	for (int t = 0; t < GEN_NTABLES; t++) {
		struct batch *b = &g->b[t];

		for (int k = 0; k < b->n; k++) {
			bind_row(b, t, k, b->one, 0);
			if (step(g, b->one, err, errlen) == -1)
				return -1;
		}
		b->n = 0;
	}
	return 0;
}

int
gen_db_person(struct gen_db *g, int64_t id, const struct gen_person *p,
    const char *link_key, char *err, size_t errlen)
{
	struct row *r;

	if ((r = row_next(g, GEN_PERSON, err, errlen)) == NULL)
		return -1;
	r->a = id;
	r->sex[0] = p->sex;
	r->sex[1] = '\0';
	r->i = p->birth_year;
	r->d1 = p->death;
	strlcpy(r->key, link_key != NULL ? link_key : "", sizeof(r->key));
	return 0;
}

int
gen_db_chart(struct gen_db *g, int64_t pid, struct gen_chart *c, char *err,
    size_t errlen)
{
	struct row *r;

	for (size_t i = 0; i < c->nv; i++) {
		struct gen_visit *v = &c->v[i];

		if ((r = row_next(g, GEN_VISIT, err, errlen)) == NULL)
			return -1;
		v->id = g->next_visit++;
		r->a = v->id;
		r->b = pid;
		r->i = v->type;
		r->d1 = v->start;
		r->d2 = v->end;
	}
	for (size_t i = 0; i < c->ne; i++) {
		const struct gen_event *e = &c->e[i];

		if ((r = row_next(g, e->table, err, errlen)) == NULL)
			return -1;
		r->a = pid;
		r->b = c->v[e->visit].id;
		r->d1 = e->date;
		r->d2 = e->date + e->days - 1;
		r->code = e->code;
		r->i = e->table == GEN_DRUG ? e->days : e->primary;
		r->x = e->value;
		r->unit = e->unit;
		r->text = e->text;
	}
	return 0;
}

int
gen_db_finish(struct gen_db *g, const struct site *s, const struct gen_opts *o,
    char *err, size_t errlen)
{
	char num[32], seed[32], patients[32], version[16];

	snprintf(num, sizeof(num), "%d", s->consortium);
	snprintf(version, sizeof(version), "%d", BASELINE_SCHEMA_VERSION);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
	snprintf(patients, sizeof(patients), "%lld", (long long)o->patients);
	if (flush(g, err, errlen) == -1)
		return -1;
	finalize_all(g);
	if (baseline_index(g->db, err, errlen) == -1 ||
	    baseline_meta_set(g->db, "hospital_id", s->id, err, errlen) == -1 ||
	    baseline_meta_set(g->db, "consortium", num, err, errlen) == -1 ||
	    baseline_meta_set(g->db, "schema_version", version, err, errlen) ==
		-1 ||
	    baseline_meta_set(
		g->db, "snapshot_date", GEN_SNAPSHOT, err, errlen) == -1 ||
	    baseline_meta_set(g->db, "source", "gen", err, errlen) == -1 ||
	    baseline_meta_set(g->db, "seed", seed, err, errlen) == -1 ||
	    baseline_meta_set(g->db, "gen_patients", patients, err, errlen) ==
		-1 ||
	    exec(g->db, "COMMIT", err, errlen) == -1)
		return -1;
	return 0;
}

void
gen_db_rows(const struct gen_db *g, int64_t rows[GEN_NTABLES])
{
	memcpy(rows, g->rows, sizeof(g->rows));
}
