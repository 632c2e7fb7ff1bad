/*
 * gen_db.c — owns writing a generated Baseline DB: a fresh file with
 * journal and sync off (it is a temp file that gen.c renames into place
 * only once complete), one transaction, one prepared statement per table
 * reused for every row, indexes after the data, then meta. Constant SQL
 * only; values are always bound. It never decides what the rows hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "baseline.h"
#include "date.h"
#include "gen.h"
#include "util.h"

struct gen_db {
	sqlite3 *db;
	sqlite3_stmt *st[GEN_NTABLES];
	int64_t rows[GEN_NTABLES];
	int64_t next_visit;
};

static const char *const insert_sql[GEN_NTABLES] = {
	[GEN_PERSON] = "INSERT INTO person (person_id, sex, birth_year,"
		       " death_date, link_key) VALUES (?1, ?2, ?3, ?4, ?5)",
	[GEN_VISIT] = "INSERT INTO visit (visit_id, person_id, visit_type,"
		      " start_date, end_date) VALUES (?1, ?2, ?3, ?4, ?5)",
	[GEN_DIAGNOSIS] = "INSERT INTO diagnosis (person_id, visit_id,"
			  " diag_date, code, code_system, is_primary)"
			  " VALUES (?1, ?2, ?3, ?4, 'KCD8', ?5)",
	[GEN_LAB] = "INSERT INTO lab (person_id, visit_id, lab_date, code,"
		    " code_system, value_num, value_text, unit)"
		    " VALUES (?1, ?2, ?3, ?4, 'LOINC', ?5, ?6, ?7)",
	[GEN_DRUG] = "INSERT INTO drug (person_id, visit_id, start_date,"
		     " end_date, code, code_system, days_supply)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, 'ATC', ?6)",
	[GEN_PROCEDURE] = "INSERT INTO procedure (person_id, visit_id,"
			  " proc_date, code, code_system)"
			  " VALUES (?1, ?2, ?3, ?4, 'EDI')",
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

void
gen_db_close(struct gen_db *g)
{
	if (g == NULL)
		return;
	for (int i = 0; i < GEN_NTABLES; i++)
		sqlite3_finalize(g->st[i]);
	sqlite3_close(g->db);
	free(g);
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
		" PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
		err, errlen) == -1 ||
	    baseline_create(g->db, err, errlen) == -1 ||
	    exec(g->db, "BEGIN", err, errlen) == -1)
		goto fail;
	for (int i = 0; i < GEN_NTABLES; i++)
		if (sqlite3_prepare_v3(g->db, insert_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &g->st[i],
			NULL) != SQLITE_OK) {
			errf(err, errlen, "%s", sqlite3_errmsg(g->db));
			goto fail;
		}
	return g;
fail:
	gen_db_close(g);
	return NULL;
}

static int
step(struct gen_db *g, int t, char *err, size_t errlen)
{
	sqlite3_stmt *st = g->st[t];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return errf(err, errlen, "insert: %s", sqlite3_errmsg(g->db));
	g->rows[t]++;
	return 0;
}

int
gen_db_person(struct gen_db *g, int64_t id, const struct gen_person *p,
    const char *link_key, char *err, size_t errlen)
{
	sqlite3_stmt *st = g->st[GEN_PERSON];
	char sex[2] = { p->sex, '\0' }, death[11];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, sex, 1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, p->birth_year);
	if (p->death == GEN_NEVER)
		sqlite3_bind_null(st, 4);
	else {
		date_format(p->death, death);
		sqlite3_bind_text(st, 4, death, 10, SQLITE_STATIC);
	}
	if (link_key != NULL)
		sqlite3_bind_text(st, 5, link_key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	return step(g, GEN_PERSON, err, errlen);
}

static int
put_visits(struct gen_db *g, int64_t pid, struct gen_chart *c, char *err,
    size_t errlen)
{
	sqlite3_stmt *st = g->st[GEN_VISIT];
	char d1[11], d2[11];

	for (size_t i = 0; i < c->nv; i++) {
		struct gen_visit *v = &c->v[i];

		v->id = g->next_visit++;
		date_format(v->start, d1);
		date_format(v->end, d2);
		sqlite3_bind_int64(st, 1, v->id);
		sqlite3_bind_int64(st, 2, pid);
		sqlite3_bind_text(
		    st, 3, visit_types[v->type], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, d1, 10, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, d2, 10, SQLITE_STATIC);
		if (step(g, GEN_VISIT, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
put_event(struct gen_db *g, int64_t pid, const struct gen_chart *c,
    const struct gen_event *e, char *err, size_t errlen)
{
	sqlite3_stmt *st = g->st[e->table];
	char day[11], end[11];

	date_format(e->date, day);
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, c->v[e->visit].id);
	sqlite3_bind_text(st, 3, day, 10, SQLITE_STATIC);
	switch (e->table) {
	case GEN_DIAGNOSIS:
		sqlite3_bind_text(st, 4, e->code, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, e->primary);
		break;
	case GEN_LAB:
		sqlite3_bind_text(st, 4, e->code, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 5, e->value);
		if (e->text != NULL)
			sqlite3_bind_text(st, 6, e->text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 6);
		sqlite3_bind_text(st, 7, e->unit, -1, SQLITE_STATIC);
		break;
	case GEN_DRUG:
		date_format(e->date + e->days - 1, end);
		sqlite3_bind_text(st, 4, end, 10, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e->code, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, e->days);
		break;
	case GEN_PROCEDURE:
		sqlite3_bind_text(st, 4, e->code, -1, SQLITE_STATIC);
		break;
	default:
		return errf(err, errlen, "bad event table %d", e->table);
	}
	return step(g, e->table, err, errlen);
}

int
gen_db_chart(struct gen_db *g, int64_t pid, struct gen_chart *c, char *err,
    size_t errlen)
{
	if (put_visits(g, pid, c, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < c->ne; i++)
		if (put_event(g, pid, c, &c->e[i], err, errlen) == -1)
			return -1;
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
	for (int i = 0; i < GEN_NTABLES; i++) {
		sqlite3_finalize(g->st[i]);
		g->st[i] = NULL;
	}
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
