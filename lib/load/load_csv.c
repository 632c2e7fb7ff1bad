/*
 * load_csv.c — owns tally's own CSV layout: one file per Baseline table,
 * named after it (person.csv, visit.csv, diagnosis.csv, lab.csv,
 * drug.csv, procedure.csv), whose header names the DESIGN.md section 3
 * columns in any order. person.csv is required, the others optional.
 * Dates are strict YYYY-MM-DD. It only says what each column must be;
 * reading, rejecting and inserting belong to load_table.c and load_db.c.
 */
#include <string.h>

#include "date.h"
#include "load_int.h"
#include "util.h"

enum { P_ID, P_SEX, P_BIRTH, P_DEATH, P_LINK };
static const struct load_col person_cols[] = {
	[P_ID] = { "person_id", 1, LOAD_NUM_MAX },
	[P_SEX] = { "sex", 1, LOAD_NUM_MAX },
	[P_BIRTH] = { "birth_year", 1, LOAD_NUM_MAX },
	[P_DEATH] = { "death_date", 0, LOAD_NUM_MAX },
	[P_LINK] = { "link_key", 0, LOAD_LINK_MAX },
};

enum { V_ID, V_PERSON, V_TYPE, V_START, V_END };
static const struct load_col visit_cols[] = {
	[V_ID] = { "visit_id", 1, LOAD_NUM_MAX },
	[V_PERSON] = { "person_id", 1, LOAD_NUM_MAX },
	[V_TYPE] = { "visit_type", 1, LOAD_NUM_MAX },
	[V_START] = { "start_date", 1, LOAD_NUM_MAX },
	[V_END] = { "end_date", 0, LOAD_NUM_MAX },
};

/* The event tables share their first five columns. */
enum { E_PERSON, E_VISIT, E_DATE, E_CODE, E_SYSTEM, E_X1, E_X2, E_X3 };
#define EVENT_COLS(date)                                                       \
	[E_PERSON] = { "person_id", 1, LOAD_NUM_MAX },                         \
	[E_VISIT] = { "visit_id", 0, LOAD_NUM_MAX },                           \
	[E_DATE] = { date, 1, LOAD_NUM_MAX },                                  \
	[E_CODE] = { "code", 1, LOAD_CODE_MAX },                               \
	[E_SYSTEM] = { "code_system", 1, LOAD_SYSTEM_MAX }

static const struct load_col diagnosis_cols[] = {
	EVENT_COLS("diag_date"),
	[E_X1] = { "is_primary", 0, LOAD_NUM_MAX },
};
static const struct load_col lab_cols[] = {
	EVENT_COLS("lab_date"),
	[E_X1] = { "value_num", 0, LOAD_NUM_MAX },
	[E_X2] = { "value_text", 0, LOAD_TEXT_MAX },
	[E_X3] = { "unit", 0, LOAD_UNIT_MAX },
};
static const struct load_col drug_cols[] = {
	EVENT_COLS("start_date"),
	[E_X1] = { "end_date", 0, LOAD_NUM_MAX },
	[E_X2] = { "days_supply", 0, LOAD_NUM_MAX },
};
static const struct load_col procedure_cols[] = {
	EVENT_COLS("proc_date"),
};

#define DAYS_SUPPLY_MAX 36500

static int
person_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct csv_field sex = load_field(t, r, P_SEX), death, link;
	int64_t id, birth;
	int32_t dd;
	int has_birth, has_death;

	if (load_get_id(t, r, P_ID, &id, why, whylen) == -1)
		return 0;
	if (sex.len != 1 ||
	    (sex.p[0] != 'M' && sex.p[0] != 'F' && sex.p[0] != 'U')) {
		load_bad(t, P_SEX, sex, "is not M, F or U", why, whylen);
		return 0;
	}
	if (load_get_int_opt(t, r, P_BIRTH, DATE_MIN_YEAR, DATE_MAX_YEAR,
		&birth, &has_birth, why, whylen) == -1)
		return 0;
	if (!has_birth) {
		errf(why, whylen, "birth_year is empty");
		return 0;
	}
	if (load_get_date_opt(
		t, r, P_DEATH, 0, &death, &dd, &has_death, why, whylen) == -1)
		return 0;
	if (has_death && date_year(dd) < birth) {
		errf(why, whylen, "death_date %.10s is before birth_year %lld",
		    death.p, (long long)birth);
		return 0;
	}
	link = load_field(t, r, P_LINK);
	return load_put_person(
	    t, id, sex.p[0], birth, &death, &link, why, whylen);
}

/* "outpatient", "inpatient" or "emergency" as a constant, else NULL. */
static const char *
visit_type(struct csv_field f)
{
	static const char *const types[] = { "outpatient", "inpatient",
		"emergency" };

	for (size_t i = 0; i < nitems(types); i++)
		if (f.len == strlen(types[i]) &&
		    memcmp(f.p, types[i], f.len) == 0)
			return types[i];
	return NULL;
}

static int
visit_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct csv_field start, end;
	const char *type;
	int64_t id, person;
	int32_t sd, ed;
	int has_end;

	if (load_get_id(t, r, V_ID, &id, why, whylen) == -1 ||
	    load_get_id(t, r, V_PERSON, &person, why, whylen) == -1)
		return 0;
	if ((type = visit_type(load_field(t, r, V_TYPE))) == NULL) {
		load_bad(t, V_TYPE, load_field(t, r, V_TYPE),
		    "is not outpatient, inpatient or emergency", why, whylen);
		return 0;
	}
	if (load_get_date(t, r, V_START, 0, &start, &sd, why, whylen) == -1 ||
	    load_get_date_opt(
		t, r, V_END, 0, &end, &ed, &has_end, why, whylen) == -1)
		return 0;
	if (has_end && ed < sd) {
		errf(why, whylen, "end_date %.10s is before start_date %.10s",
		    end.p, start.p);
		return 0;
	}
	return load_put_visit(t, id, person, type, &start, &end, why, whylen);
}

/* The five columns every event table has. 0, or -1 with why. */
static int
event_common(struct load_table *t, const struct csv_rec *r,
    struct load_event *ev, int32_t *days, char *why, size_t whylen)
{
	memset(ev, 0, sizeof(*ev));
	if (load_get_id(t, r, E_PERSON, &ev->person_id, why, whylen) == -1 ||
	    load_get_id_opt(t, r, E_VISIT, &ev->visit_id, &ev->has_visit, why,
		whylen) == -1 ||
	    load_get_date(t, r, E_DATE, 0, &ev->date, days, why, whylen) ==
		-1 ||
	    load_get_text(t, r, E_CODE, &ev->code, why, whylen) == -1 ||
	    load_get_text(t, r, E_SYSTEM, &ev->system, why, whylen) == -1)
		return -1;
	return 0;
}

static int
diagnosis_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct load_event ev;
	int32_t days;

	if (event_common(t, r, &ev, &days, why, whylen) == -1 ||
	    load_get_int_opt(
		t, r, E_X1, 0, 1, &ev.num, &ev.has_num, why, whylen) == -1)
		return 0;
	return load_put_event(t, ST_DIAGNOSIS, &ev, why, whylen);
}

static int
lab_row(struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct load_event ev;
	int32_t days;

	if (event_common(t, r, &ev, &days, why, whylen) == -1 ||
	    load_get_num_opt(
		t, r, E_X1, &ev.value_num, &ev.has_value, why, whylen) == -1)
		return 0;
	ev.value_text = load_field(t, r, E_X2);
	ev.unit = load_field(t, r, E_X3);
	return load_put_event(t, ST_LAB, &ev, why, whylen);
}

static int
drug_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct load_event ev;
	int32_t sd, ed;
	int has_end;

	if (event_common(t, r, &ev, &sd, why, whylen) == -1 ||
	    load_get_date_opt(t, r, E_X1, 0, &ev.end_date, &ed, &has_end, why,
		whylen) == -1 ||
	    load_get_int_opt(t, r, E_X2, 0, DAYS_SUPPLY_MAX, &ev.num,
		&ev.has_num, why, whylen) == -1)
		return 0;
	if (has_end && ed < sd) {
		errf(why, whylen, "end_date %.10s is before start_date %.10s",
		    ev.end_date.p, ev.date.p);
		return 0;
	}
	return load_put_event(t, ST_DRUG, &ev, why, whylen);
}

static int
procedure_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct load_event ev;
	int32_t days;

	if (event_common(t, r, &ev, &days, why, whylen) == -1)
		return 0;
	return load_put_event(t, ST_PROCEDURE, &ev, why, whylen);
}

#define SPEC(name, req, cols, fn)                                              \
	{                                                                      \
		name, name, name ".csv", req, cols, (int)nitems(cols), fn,     \
		    NULL                                                       \
	}

int
load_csv(struct load *ld, const char *dir)
{
	static const struct load_spec specs[] = {
		SPEC("person", 1, person_cols, person_row),
		SPEC("visit", 0, visit_cols, visit_row),
		SPEC("diagnosis", 0, diagnosis_cols, diagnosis_row),
		SPEC("lab", 0, lab_cols, lab_row),
		SPEC("drug", 0, drug_cols, drug_row),
		SPEC("procedure", 0, procedure_cols, procedure_row),
	};

	for (size_t i = 0; i < nitems(specs); i++)
		if (load_table_run(ld, dir, &specs[i]) == -1)
			return -1;
	return 0;
}
