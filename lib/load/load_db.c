/*
 * load_db.c — owns writing rows into the Baseline DB being built: one
 * prepared statement per table, bound from fields that point into the
 * CSV buffer (event rows go on to load_batch.c), and the checks that need
 * what was loaded
 * before: a person_id must have a person row, a duplicate person_id or
 * visit_id is rejected, an unknown visit_id is stored as NULL and counted.
 * Every statement is constant text; values only ever travel as bindings.
 */
#include <string.h>

#include "date.h"
#include "load_int.h"
#include "util.h"

static const char *const stmt_sql[ST_MAX] = {
	[ST_PERSON] = "INSERT INTO person (person_id, sex, birth_year,"
		      " death_date, link_key) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_VISIT] = "INSERT INTO visit (visit_id, person_id, visit_type,"
		     " start_date, end_date) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_DIAGNOSIS] = "INSERT INTO diagnosis (person_id, visit_id,"
			 " diag_date, code, code_system, is_primary)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_LAB] = "INSERT INTO lab (person_id, visit_id, lab_date, code,"
		   " code_system, value_num, value_text, unit)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DRUG] = "INSERT INTO drug (person_id, visit_id, start_date,"
		    " end_date, code, code_system, days_supply)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_PROCEDURE] = "INSERT INTO procedure (person_id, visit_id,"
			 " proc_date, code, code_system)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_DEATH] = "UPDATE person SET death_date = ?2 WHERE person_id = ?1",
	[ST_DEATH_GET] = "SELECT birth_year, death_date FROM person"
			 " WHERE person_id = ?1",
};

int
load_db_prepare(struct load *ld)
{
	for (int i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(ld->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &ld->st[i],
			NULL) != SQLITE_OK)
			return errf(ld->err, sizeof(ld->err), "prepare: %s",
			    sqlite3_errmsg(ld->db));
	return 0;
}

void
load_db_finalize(struct load *ld)
{
	for (int i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(ld->st[i]);
		ld->st[i] = NULL;
	}
}

static void
bind_text(sqlite3_stmt *st, int i, const struct csv_field *f)
{
	if (f == NULL || f->len == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, f->p, (int)f->len, SQLITE_STATIC);
}

/* Steps an insert. 1 done, 0 a constraint refused the row, -1 error. */
static int
step(struct load *ld, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 1;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return 0;
	return errf(
	    ld->err, sizeof(ld->err), "insert: %s", sqlite3_errmsg(ld->db));
}

int
load_person_known(struct load *ld, int64_t person_id)
{
	if (!ld->persons.frozen && load_idset_freeze(&ld->persons) == -1)
		return 0;
	return load_idset_has(&ld->persons, person_id);
}

static int
unknown_person(int64_t id, char *why, size_t whylen)
{
	errf(why, whylen, "person_id %lld has no person row", (long long)id);
	return 0;
}

int
load_put_person(struct load_table *t, int64_t id, char sex, int64_t birth_year,
    const struct csv_field *death, const struct csv_field *link_key, char *why,
    size_t whylen)
{
	struct load *ld = t->ld;
	sqlite3_stmt *st = ld->st[ST_PERSON];
	char s[2] = { sex, '\0' };
	int rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, s, 1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, birth_year);
	bind_text(st, 4, death);
	bind_text(st, 5, link_key);
	if ((rc = step(ld, st)) != 1) {
		if (rc == 0)
			errf(why, whylen, "duplicate person_id %lld",
			    (long long)id);
		return rc;
	}
	if (load_idset_add(&ld->persons, id) == -1)
		return errf(
		    ld->err, sizeof(ld->err), "person ids: out of memory");
	return 1;
}

int
load_put_death(struct load_table *t, int64_t person_id,
    const struct csv_field *date, int32_t days, char *why, size_t whylen)
{
	struct load *ld = t->ld;
	sqlite3_stmt *get = ld->st[ST_DEATH_GET], *st = ld->st[ST_DEATH];
	int rc, dup;
	int64_t by;

	if (!load_person_known(ld, person_id))
		return unknown_person(person_id, why, whylen);
	sqlite3_bind_int64(get, 1, person_id);
	if ((rc = sqlite3_step(get)) != SQLITE_ROW) {
		sqlite3_reset(get);
		return errf(ld->err, sizeof(ld->err), "death: %s",
		    rc == SQLITE_DONE ? "person vanished"
				      : sqlite3_errmsg(ld->db));
	}
	by = sqlite3_column_int64(get, 0);
	dup = sqlite3_column_type(get, 1) != SQLITE_NULL;
	sqlite3_reset(get);
	if (dup) {
		errf(why, whylen, "person_id %lld already has a death date",
		    (long long)person_id);
		return 0;
	}
	if (date_year(days) < by) {
		errf(why, whylen, "death date %.10s is before birth year %lld",
		    date->p, (long long)by);
		return 0;
	}
	sqlite3_bind_int64(st, 1, person_id);
	bind_text(st, 2, date);
	return step(ld, st) == 1 ? 1 : -1;
}

int
load_put_visit(struct load_table *t, int64_t id, int64_t person_id,
    const char *type, const struct csv_field *start,
    const struct csv_field *end, char *why, size_t whylen)
{
	struct load *ld = t->ld;
	sqlite3_stmt *st = ld->st[ST_VISIT];
	int rc;

	if (!load_person_known(ld, person_id))
		return unknown_person(person_id, why, whylen);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, person_id);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	bind_text(st, 4, start);
	bind_text(st, 5, end);
	if ((rc = step(ld, st)) != 1) {
		if (rc == 0)
			errf(why, whylen, "duplicate visit_id %lld",
			    (long long)id);
		return rc;
	}
	if (load_idset_add(&ld->visits, id) == -1)
		return errf(
		    ld->err, sizeof(ld->err), "visit ids: out of memory");
	return 1;
}

int
load_put_event(struct load_table *t, enum load_stmt which,
    const struct load_event *ev, char *why, size_t whylen)
{
	struct load *ld = t->ld;
	int linked;

	if (!load_person_known(ld, ev->person_id))
		return unknown_person(ev->person_id, why, whylen);
	if (!load_system_valid(ev->system.p, ev->system.len)) {
		char q[64];

		load_quote(ev->system.p, ev->system.len, q, sizeof(q));
		errf(why, whylen,
		    "code_system '%s' is not 1-%d of A-Z a-z 0-9 _ . -", q,
		    LOAD_SYSTEM_MAX);
		return 0;
	}
	if (!ld->visits.frozen)
		load_idset_freeze(&ld->visits);
	linked = ev->has_visit && load_idset_has(&ld->visits, ev->visit_id);
	if (which != ST_DIAGNOSIS && which != ST_LAB && which != ST_DRUG &&
	    which != ST_PROCEDURE)
		return errf(ld->err, sizeof(ld->err), "not an event table");
	if (load_batch_add(t, which, ev, linked) == -1)
		return -1;
	if (ev->has_visit && !linked)
		t->step->unlinked++;
	return 1;
}
