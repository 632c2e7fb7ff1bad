/*
 * load_omop.c — owns the mapping of an OMOP CDM v5.3/v5.4 CSV export onto
 * the Baseline DB (docs/loading.md has the table): person (+ death),
 * visit_occurrence, condition_occurrence, drug_exposure, measurement,
 * procedure_occurrence; observation_period rows are checked and counted,
 * not stored. Codes come from the concept table where it knows the
 * concept, else from the source values. File and column names compare
 * without case; datetimes with a time part are accepted. It never
 * invents a value: a row it cannot map is rejected with the reason.
 */
#include <string.h>

#include "date.h"
#include "load_int.h"
#include "util.h"

#define SRC_MAX		 LOAD_MAX_FIELD /* source values are checked when used */
#define GENDER_MALE	 8507
#define GENDER_FEMALE	 8532
#define STATUS_PRIMARY	 32902
#define STATUS_SECONDARY 32908

struct omop {
	struct load_concepts *concepts;
};

/* visit_concept_id -> visit_type; anything else is rejected. */
static const struct {
	int64_t concept;
	const char *type;
} visit_map[] = {
	{ 9202, "outpatient" },	  /* Outpatient Visit */
	{ 9201, "inpatient" },	  /* Inpatient Visit */
	{ 9203, "emergency" },	  /* Emergency Room Visit */
	{ 262, "inpatient" },	  /* Emergency Room and Inpatient Visit */
	{ 581477, "outpatient" }, /* Office Visit */
	{ 8756, "outpatient" },	  /* Outpatient Hospital */
	{ 8717, "inpatient" },	  /* Inpatient Hospital */
	{ 32037, "inpatient" },	  /* Intensive Care */
	{ 8870, "emergency" },	  /* Emergency Room - Hospital */
};

enum { C_ID, C_VOCAB, C_CODE };
static const struct load_col concept_cols[] = {
	[C_ID] = { "concept_id", 1, LOAD_NUM_MAX },
	[C_VOCAB] = { "vocabulary_id", 1, LOAD_NAME_MAX },
	[C_CODE] = { "concept_code", 1, SRC_MAX },
};

enum { P_ID, P_GENDER, P_YEAR };
static const struct load_col person_cols[] = {
	[P_ID] = { "person_id", 1, LOAD_NUM_MAX },
	[P_GENDER] = { "gender_concept_id", 1, LOAD_NUM_MAX },
	[P_YEAR] = { "year_of_birth", 1, LOAD_NUM_MAX },
};

enum { D_PERSON, D_DATE, D_DATETIME };
static const struct load_col death_cols[] = {
	[D_PERSON] = { "person_id", 1, LOAD_NUM_MAX },
	[D_DATE] = { "death_date", 1, LOAD_NUM_MAX },
	[D_DATETIME] = { "death_datetime", 0, LOAD_NUM_MAX },
};

enum { O_PERSON, O_START, O_END };
static const struct load_col period_cols[] = {
	[O_PERSON] = { "person_id", 1, LOAD_NUM_MAX },
	[O_START] = { "observation_period_start_date", 1, LOAD_NUM_MAX },
	[O_END] = { "observation_period_end_date", 1, LOAD_NUM_MAX },
};

enum { V_ID, V_PERSON, V_CONCEPT, V_START, V_START_DT, V_END, V_END_DT };
static const struct load_col visit_cols[] = {
	[V_ID] = { "visit_occurrence_id", 1, LOAD_NUM_MAX },
	[V_PERSON] = { "person_id", 1, LOAD_NUM_MAX },
	[V_CONCEPT] = { "visit_concept_id", 1, LOAD_NUM_MAX },
	[V_START] = { "visit_start_date", 1, LOAD_NUM_MAX },
	[V_START_DT] = { "visit_start_datetime", 0, LOAD_NUM_MAX },
	[V_END] = { "visit_end_date", 0, LOAD_NUM_MAX },
	[V_END_DT] = { "visit_end_datetime", 0, LOAD_NUM_MAX },
};

/*
 * The event tables share their first seven columns: person, visit, the
 * date (and datetime), the concept, the source concept and the source
 * value. The names differ by table, so each gives its own.
 */
enum {
	E_PERSON,
	E_VISIT,
	E_DATE,
	E_DATETIME,
	E_CONCEPT,
	E_SRC_CONCEPT,
	E_SRC_VALUE,
	E_X1,
	E_X2,
	E_X3,
	E_X4,
	E_X5,
};
#define EVENT_COLS(date, concept, prefix)                                      \
	[E_PERSON] = { "person_id", 1, LOAD_NUM_MAX },                         \
	[E_VISIT] = { "visit_occurrence_id", 0, LOAD_NUM_MAX },                \
	[E_DATE] = { date, 1, LOAD_NUM_MAX },                                  \
	[E_DATETIME] = { date "time", 0, LOAD_NUM_MAX },                       \
	[E_CONCEPT] = { concept, 1, LOAD_NUM_MAX },                            \
	[E_SRC_CONCEPT] = { prefix "_source_concept_id", 0, LOAD_NUM_MAX },    \
	[E_SRC_VALUE] = { prefix "_source_value", 0, SRC_MAX }

static const struct load_col condition_cols[] = {
	EVENT_COLS("condition_start_date", "condition_concept_id", "condition"),
	[E_X1] = { "condition_status_concept_id", 0, LOAD_NUM_MAX },
};
static const struct load_col drug_cols[] = {
	EVENT_COLS("drug_exposure_start_date", "drug_concept_id", "drug"),
	[E_X1] = { "drug_exposure_end_date", 0, LOAD_NUM_MAX },
	[E_X2] = { "drug_exposure_end_datetime", 0, LOAD_NUM_MAX },
	[E_X3] = { "days_supply", 0, LOAD_NUM_MAX },
};
static const struct load_col measurement_cols[] = {
	EVENT_COLS("measurement_date", "measurement_concept_id", "measurement"),
	[E_X1] = { "value_as_number", 0, LOAD_NUM_MAX },
	[E_X2] = { "unit_concept_id", 0, LOAD_NUM_MAX },
	[E_X3] = { "unit_source_value", 0, SRC_MAX },
	[E_X4] = { "value_source_value", 0, SRC_MAX },
};
static const struct load_col procedure_cols[] = {
	EVENT_COLS("procedure_date", "procedure_concept_id", "procedure"),
};

#define DAYS_SUPPLY_MAX 36500

static struct omop *
omop_of(const struct load_table *t)
{
	return t->arg;
}

/* A date column, else its datetime column when the date is empty. */
static int
omop_date(const struct load_table *t, const struct csv_rec *r, int date,
    int datetime, struct csv_field *out, int32_t *days, int *present, char *why,
    size_t whylen)
{
	if (load_get_date_opt(t, r, date, 1, out, days, present, why, whylen) ==
	    -1)
		return -1;
	if (*present || datetime < 0)
		return 0;
	return load_get_date_opt(
	    t, r, datetime, 1, out, days, present, why, whylen);
}

static int
omop_date_req(const struct load_table *t, const struct csv_rec *r, int date,
    int datetime, struct csv_field *out, int32_t *days, char *why,
    size_t whylen)
{
	int present;

	if (omop_date(t, r, date, datetime, out, days, &present, why, whylen) ==
	    -1)
		return -1;
	if (!present)
		return errf(why, whylen, "%s is empty", t->cols[date].name);
	return 0;
}

/* A concept id column: 0 when empty. */
static int
omop_concept_id(const struct load_table *t, const struct csv_rec *r, int col,
    int64_t *id, char *why, size_t whylen)
{
	struct csv_field f = load_field(t, r, col);

	*id = 0;
	if (f.len > 0 &&
	    parse_int64(f.p, f.len, INT64_MIN, INT64_MAX, id) == -1)
		return load_bad(t, col, f, "is not a concept id", why, whylen);
	return 0;
}

/*
 * The code of an event: the concept's (concept table), else the source
 * concept's, else the source value as a "local" code, else the bare
 * concept id as an "OMOP" code. -1 with why when there is none.
 */
static int
omop_code(const struct load_table *t, const struct csv_rec *r,
    struct load_event *ev, char *why, size_t whylen)
{
	const struct load_concepts *cm = omop_of(t)->concepts;
	int64_t id, src;
	struct csv_field sv;

	if (omop_concept_id(t, r, E_CONCEPT, &id, why, whylen) == -1 ||
	    omop_concept_id(t, r, E_SRC_CONCEPT, &src, why, whylen) == -1)
		return -1;
	if (id > 0 && load_concepts_get(cm, id, &ev->system, &ev->code))
		return 0;
	if (src > 0 && load_concepts_get(cm, src, &ev->system, &ev->code))
		return 0;
	sv = load_field(t, r, E_SRC_VALUE);
	if (sv.len > LOAD_CODE_MAX)
		return errf(why, whylen,
		    "%s is %zu bytes long, longer than %d (and %s %lld is "
		    "not in the concept table)",
		    t->cols[E_SRC_VALUE].name, sv.len, LOAD_CODE_MAX,
		    t->cols[E_CONCEPT].name, (long long)id);
	if (sv.len > 0) {
		ev->code = sv;
		ev->system.p = "local";
		ev->system.len = 5;
		return 0;
	}
	if (id > 0) {
		ev->code = load_field(t, r, E_CONCEPT);
		ev->system.p = "OMOP";
		ev->system.len = 4;
		return 0;
	}
	return errf(why, whylen, "no code: %s is 0 and %s is empty",
	    t->cols[E_CONCEPT].name, t->cols[E_SRC_VALUE].name);
}

static int
concept_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct csv_field vocab = load_field(t, r, C_VOCAB);
	struct csv_field code = load_field(t, r, C_CODE);
	int64_t id;
	char err[LOAD_WHY_MAX];

	if (omop_concept_id(t, r, C_ID, &id, why, whylen) == -1)
		return 0;
	if (load_field(t, r, C_ID).len == 0) {
		errf(why, whylen, "concept_id is empty");
		return 0;
	}
	if (code.len == 0 || code.len > LOAD_CODE_MAX) {
		errf(why, whylen, "concept_code must be 1 to %d bytes",
		    LOAD_CODE_MAX);
		return 0;
	}
	if (load_concepts_add(omop_of(t)->concepts, id, vocab.p, vocab.len,
		code.p, code.len, err, sizeof(err)) == -1)
		return errf(
		    t->ld->err, sizeof(t->ld->err), "%s: %s", t->path, err);
	return 1;
}

static int
person_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	int64_t id, gender, year;
	int present;
	char sex;

	if (load_get_id(t, r, P_ID, &id, why, whylen) == -1 ||
	    omop_concept_id(t, r, P_GENDER, &gender, why, whylen) == -1 ||
	    load_get_int_opt(t, r, P_YEAR, DATE_MIN_YEAR, DATE_MAX_YEAR, &year,
		&present, why, whylen) == -1)
		return 0;
	if (!present) {
		errf(why, whylen, "year_of_birth is empty");
		return 0;
	}
	sex = gender == GENDER_MALE ? 'M' : gender == GENDER_FEMALE ? 'F' : 'U';
	return load_put_person(t, id, sex, year, NULL, NULL, why, whylen);
}

static int
death_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct csv_field date;
	int64_t person;
	int32_t days;

	if (load_get_id(t, r, D_PERSON, &person, why, whylen) == -1 ||
	    omop_date_req(
		t, r, D_DATE, D_DATETIME, &date, &days, why, whylen) == -1)
		return 0;
	return load_put_death(t, person, &date, days, why, whylen);
}

static int
period_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct csv_field start, end;
	int64_t person;
	int32_t sd, ed;

	if (load_get_id(t, r, O_PERSON, &person, why, whylen) == -1 ||
	    omop_date_req(t, r, O_START, -1, &start, &sd, why, whylen) == -1 ||
	    omop_date_req(t, r, O_END, -1, &end, &ed, why, whylen) == -1)
		return 0;
	if (!load_person_known(t->ld, person)) {
		errf(why, whylen, "person_id %lld has no person row",
		    (long long)person);
		return 0;
	}
	if (ed < sd) {
		errf(why, whylen, "end date %.10s is before start date %.10s",
		    end.p, start.p);
		return 0;
	}
	return 1;
}

static int
visit_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct csv_field start, end;
	const char *type = NULL;
	int64_t id, person, concept;
	int32_t sd, ed;
	int has_end;

	if (load_get_id(t, r, V_ID, &id, why, whylen) == -1 ||
	    load_get_id(t, r, V_PERSON, &person, why, whylen) == -1 ||
	    omop_concept_id(t, r, V_CONCEPT, &concept, why, whylen) == -1 ||
	    omop_date_req(
		t, r, V_START, V_START_DT, &start, &sd, why, whylen) == -1 ||
	    omop_date(
		t, r, V_END, V_END_DT, &end, &ed, &has_end, why, whylen) == -1)
		return 0;
	for (size_t i = 0; i < nitems(visit_map); i++)
		if (visit_map[i].concept == concept)
			type = visit_map[i].type;
	if (type == NULL) {
		errf(why, whylen,
		    "visit_concept_id %lld is not an outpatient, inpatient or "
		    "emergency visit (docs/loading.md)",
		    (long long)concept);
		return 0;
	}
	if (has_end && ed < sd) {
		errf(why, whylen,
		    "visit_end_date %.10s is before "
		    "visit_start_date %.10s",
		    end.p, start.p);
		return 0;
	}
	return load_put_visit(t, id, person, type, &start, &end, why, whylen);
}

/* The seven columns every event table has. 0, or -1 with why. */
static int
event_common(struct load_table *t, const struct csv_rec *r,
    struct load_event *ev, int32_t *days, char *why, size_t whylen)
{
	memset(ev, 0, sizeof(*ev));
	if (load_get_id(t, r, E_PERSON, &ev->person_id, why, whylen) == -1 ||
	    load_get_id_opt(t, r, E_VISIT, &ev->visit_id, &ev->has_visit, why,
		whylen) == -1 ||
	    omop_date_req(
		t, r, E_DATE, E_DATETIME, &ev->date, days, why, whylen) == -1 ||
	    omop_code(t, r, ev, why, whylen) == -1)
		return -1;
	return 0;
}

static int
condition_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct load_event ev;
	int64_t status;
	int32_t days;

	if (event_common(t, r, &ev, &days, why, whylen) == -1 ||
	    omop_concept_id(t, r, E_X1, &status, why, whylen) == -1)
		return 0;
	ev.has_num = status == STATUS_PRIMARY || status == STATUS_SECONDARY;
	ev.num = status == STATUS_PRIMARY;
	return load_put_event(t, ST_DIAGNOSIS, &ev, why, whylen);
}

static int
drug_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	struct load_event ev;
	int32_t sd, ed;
	int has_end;

	if (event_common(t, r, &ev, &sd, why, whylen) == -1 ||
	    omop_date(t, r, E_X1, E_X2, &ev.end_date, &ed, &has_end, why,
		whylen) == -1 ||
	    load_get_int_opt(t, r, E_X3, 0, DAYS_SUPPLY_MAX, &ev.num,
		&ev.has_num, why, whylen) == -1)
		return 0;
	if (has_end && ed < sd) {
		errf(why, whylen,
		    "drug_exposure_end_date %.10s is before "
		    "drug_exposure_start_date %.10s",
		    ev.end_date.p, ev.date.p);
		return 0;
	}
	return load_put_event(t, ST_DRUG, &ev, why, whylen);
}

static int
measurement_row(
    struct load_table *t, const struct csv_rec *r, char *why, size_t whylen)
{
	const struct load_concepts *cm = omop_of(t)->concepts;
	struct load_event ev;
	struct csv_field sys;
	int64_t unit;
	int32_t days;

	if (event_common(t, r, &ev, &days, why, whylen) == -1 ||
	    load_get_num_opt(
		t, r, E_X1, &ev.value_num, &ev.has_value, why, whylen) == -1 ||
	    omop_concept_id(t, r, E_X2, &unit, why, whylen) == -1)
		return 0;
	if (unit <= 0 || !load_concepts_get(cm, unit, &sys, &ev.unit))
		ev.unit = load_field(t, r, E_X3);
	if (ev.unit.len > LOAD_UNIT_MAX) {
		errf(why, whylen, "unit is %zu bytes long, longer than %d",
		    ev.unit.len, LOAD_UNIT_MAX);
		return 0;
	}
	if (!ev.has_value) {
		ev.value_text = load_field(t, r, E_X4);
		if (ev.value_text.len > LOAD_TEXT_MAX) {
			errf(why, whylen,
			    "value_source_value is %zu bytes "
			    "long, longer than %d",
			    ev.value_text.len, LOAD_TEXT_MAX);
			return 0;
		}
	}
	return load_put_event(t, ST_LAB, &ev, why, whylen);
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

#define SPEC(name, target, req, cols, fn)                                      \
	{                                                                      \
		name, target, name ".csv", req, cols, (int)nitems(cols), fn,   \
		    &om                                                        \
	}

int
load_omop(struct load *ld, const char *dir)
{
	struct omop om;
	const struct load_spec specs[] = {
		SPEC("concept", "", 0, concept_cols, concept_row),
		SPEC("person", "person", 1, person_cols, person_row),
		SPEC("death", "person.death_date", 0, death_cols, death_row),
		SPEC("observation_period", "", 0, period_cols, period_row),
		SPEC("visit_occurrence", "visit", 0, visit_cols, visit_row),
		SPEC("condition_occurrence", "diagnosis", 0, condition_cols,
		    condition_row),
		SPEC("drug_exposure", "drug", 0, drug_cols, drug_row),
		SPEC(
		    "measurement", "lab", 0, measurement_cols, measurement_row),
		SPEC("procedure_occurrence", "procedure", 0, procedure_cols,
		    procedure_row),
	};
	int rc = 0;

	if ((om.concepts = load_concepts_new()) == NULL)
		return errf(ld->err, sizeof(ld->err), "out of memory");
	for (size_t i = 0; i < nitems(specs) && rc == 0; i++) {
		rc = load_table_run(ld, dir, &specs[i]);
		if (rc == 0 && i == 0)
			rc = load_concepts_freeze(
			    om.concepts, ld->err, sizeof(ld->err));
	}
	load_concepts_free(om.concepts);
	return rc;
}
