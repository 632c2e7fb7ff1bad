#define _GNU_SOURCE
/*
 * test_load_omop.c — the OMOP CDM mapping through load_run(): concept
 * codes and their fallbacks, gender and visit concepts, death dates,
 * observation periods, datetimes, file and header names in any case.
 */
#include <sys/stat.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "testutil.h"

static const char concept[] =
    "CONCEPT_ID,CONCEPT_NAME,DOMAIN_ID,VOCABULARY_ID,CONCEPT_CLASS_ID,"
    "STANDARD_CONCEPT,CONCEPT_CODE,VALID_START_DATE,VALID_END_DATE,"
    "INVALID_REASON\n"
    "313217,Atrial fibrillation,Condition,SNOMED,Clinical Finding,S,"
    "49436004,1970-01-01,2099-12-31,\n"
    "45591453,\"Atrial fibrillation, unspecified\",Condition,ICD10CM,"
    "5-char billing code,,I48.91,1970-01-01,2099-12-31,\n"
    "3004410,Hemoglobin A1c,Measurement,LOINC,Lab Test,S,4548-4,"
    "1970-01-01,2099-12-31,\n"
    "8554,percent,Unit,UCUM,Unit,S,%,1970-01-01,2099-12-31,\n"
    "1310149,warfarin,Drug,RxNorm,Ingredient,S,11289,1970-01-01,"
    "2099-12-31,\n"
    "4000001,office visit,Procedure,CPT4,CPT4,S,99213,1970-01-01,"
    "2099-12-31,\n"
    "2000001,odd,Procedure,Some Vocab!,x,S,ABC,1970-01-01,2099-12-31,\n"
    "0,No matching concept,Metadata,None,Undefined,,No matching concept,"
    "1970-01-01,2099-12-31,\n"
    "5,too long,Drug,RxNorm,x,S,"
    "0123456789012345678901234567890123456789012345678901234567890123"
    "4,1970-01-01,2099-12-31,\n";

static const char person[] =
    "person_id,gender_concept_id,Year_Of_Birth,month_of_birth\n"
    "1,8507,1950,1\n"
    "2,8532,1960,\n"
    "3,0,1970,\n"
    "4,8551,1980,\n"
    "5,8507,,\n"
    "6,M,1990,\n";

static const char death[] = "person_id,death_date,death_datetime\n"
			    "2,2020-05-01,\n"
			    "3,,2021-01-02 10:00:00\n"
			    "2,2020-06-01,\n"
			    "9,2020-01-01,\n"
			    "1,1940-01-01,\n";

static const char period[] =
    "observation_period_id,person_id,observation_period_start_date,"
    "observation_period_end_date,period_type_concept_id\n"
    "1,1,2000-01-01,2020-12-31,44814724\n"
    "2,99,2000-01-01,2020-12-31,44814724\n"
    "3,2,2020-01-01,2019-01-01,44814724\n";

static const char visit[] =
    "visit_occurrence_id,person_id,visit_concept_id,visit_start_date,"
    "visit_start_datetime,visit_end_date,visit_end_datetime\n"
    "10,1,9202,2020-01-01,2020-01-01T08:00:00Z,2020-01-01,\n"
    "11,2,9201,2019-03-01,,2019-03-09,\n"
    "12,3,9203,,2021-07-07 12:00:00,,\n"
    "13,1,262,2020-02-01,,2020-02-05,\n"
    "14,1,581477,2020-03-01,,,\n"
    "15,1,32036,2020-04-01,,,\n";

static const char condition[] =
    "condition_occurrence_id,person_id,condition_concept_id,"
    "condition_start_date,condition_start_datetime,condition_source_value,"
    "condition_source_concept_id,visit_occurrence_id,"
    "condition_status_concept_id\n"
    "1,1,313217,2020-01-01,,I48.91,45591453,10,32902\n"
    "2,1,0,2020-01-02,,I48.91,45591453,10,32908\n"
    "3,1,0,2020-01-03,,X99,0,,\n"
    "4,1,76543,2020-01-04,,,0,999,\n"
    "5,1,0,2020-01-05,,,0,,\n"
    "6,1,313217,2020-01-06T00:00:00Z,,,,,\n"
    "7,8,313217,2020-01-07,,,,,\n";

static const char drug[] =
    "drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,"
    "drug_exposure_start_datetime,drug_exposure_end_date,"
    "drug_exposure_end_datetime,days_supply,drug_source_value,"
    "drug_source_concept_id,visit_occurrence_id\n"
    "1,1,1310149,2020-01-02,,2020-02-01,,30,,0,10\n"
    "2,1,1310149,2020-01-02,,2020-01-01,,30,,0,\n"
    "3,1,5,2020-01-02,,,,,,0,\n";

static const char measurement[] =
    "measurement_id,person_id,measurement_concept_id,measurement_date,"
    "measurement_datetime,value_as_number,unit_concept_id,"
    "unit_source_value,value_source_value,measurement_source_value,"
    "measurement_source_concept_id,visit_occurrence_id\n"
    "1,1,3004410,2020-01-01,,6.8,8554,percent,6.8,HbA1c,0,10\n"
    "2,1,3004410,2020-01-01,,,0,,positive,,0,\n"
    "3,1,3004410,2020-01-01,,7.x,0,,,,0,\n"
    "4,1,3004410,2020-01-01,,5.5,0,mmol/mol,,,0,\n";

static const char procedure[] =
    "procedure_occurrence_id,person_id,procedure_concept_id,procedure_date,"
    "procedure_datetime,procedure_source_value,procedure_source_concept_id,"
    "visit_occurrence_id\n"
    "1,1,4000001,2020-01-01,,,,10\n"
    "2,1,2000001,2020-01-01,,,,\n";

struct fx {
	char *dir, *omop, *db, *report;
	struct load_result res;
	char err[512];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const struct {
		const char *name, *text;
	} files[] = {
		{ "CONCEPT.csv", concept },
		{ "person.csv", person },
		{ "DEATH.CSV", death },
		{ "observation_period.csv", period },
		{ "Visit_Occurrence.csv", visit },
		{ "condition_occurrence.csv", condition },
		{ "drug_exposure.csv", drug },
		{ "MEASUREMENT.csv", measurement },
		{ "procedure_occurrence.csv", procedure },
		{ "NOTE.csv", "note_id,note_text\n1,\"ignored\"\n" },
	};

	f->dir = test_mkdtemp();
	if (asprintf(&f->omop, "%s/omop", f->dir) == -1 ||
	    asprintf(&f->db, "%s/h.db", f->dir) == -1 ||
	    asprintf(&f->report, "%s/report.txt", f->dir) == -1)
		return -1;
	mkdir(f->omop, 0700);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		free(test_write(f->omop, files[i].name, files[i].text));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->omop);
	free(f->db);
	free(f->report);
	test_rmdir(f->dir);
	free(f);
	return 0;
}

static int
run(struct fx *f)
{
	struct load_opts o = { 0 };
	FILE *fp = fopen(f->report, "w");
	int rc;

	o.db = f->db;
	o.dir = f->omop;
	o.source = LOAD_OMOP;
	o.site = "h1";
	o.report = fp;
	rc = load_run(&o, &f->res, f->err, sizeof(f->err));
	fclose(fp);
	return rc;
}

/* The text result of a one-value query; "" for NULL, static buffer. */
static const char *
qs(struct fx *f, const char *sql)
{
	static char out[256];
	sqlite3 *db;
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(
	    sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static const struct load_step *
step(struct fx *f, const char *table)
{
	for (int i = 0; i < f->res.nsteps; i++)
		if (strcmp(f->res.step[i].table, table) == 0)
			return &f->res.step[i];
	fail_msg("no step %s", table);
	return NULL;
}

static void
mapping(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f), 0);
	assert_int_equal(f->res.committed, 1);
	/* Persons: gender concepts, year required. */
	assert_string_equal(qs(f,
				"SELECT group_concat(person_id || sex, ' ')"
				" FROM (SELECT * FROM person ORDER BY 1)"),
	    "1M 2F 3U 4U");
	/* Death dates, from the datetime where the date is empty. */
	assert_string_equal(qs(f,
				"SELECT group_concat(person_id || '=' ||"
				" death_date, ' ') FROM (SELECT * FROM"
				" person WHERE death_date IS NOT NULL"
				" ORDER BY 1)"),
	    "2=2020-05-01 3=2021-01-02");
	/* Visits: concept to type, dates cut to the day. */
	assert_string_equal(qs(f,
				"SELECT group_concat(visit_id || visit_type"
				" || start_date || ifnull(end_date, '-'),"
				" ' ') FROM (SELECT * FROM visit ORDER BY"
				" 1)"),
	    "10outpatient2020-01-012020-01-01 "
	    "11inpatient2019-03-012019-03-09 "
	    "12emergency2021-07-07- "
	    "13inpatient2020-02-012020-02-05 "
	    "14outpatient2020-03-01-");
	/* Conditions: concept, source concept, source value, bare id. */
	assert_string_equal(qs(f,
				"SELECT group_concat(code_system || ':' ||"
				" code || '/' || ifnull(is_primary, '-') ||"
				" '/' || ifnull(visit_id, '-') || '/' ||"
				" diag_date, ' ') FROM (SELECT * FROM"
				" diagnosis ORDER BY diag_date)"),
	    "SNOMED:49436004/1/10/2020-01-01 ICD10:I48.91/0/10/2020-01-02 "
	    "local:X99/-/-/2020-01-03 OMOP:76543/-/-/2020-01-04 "
	    "SNOMED:49436004/-/-/2020-01-06");
	assert_int_equal(step(f, "condition_occurrence")->unlinked, 1);
	/* Drugs. */
	assert_string_equal(qs(f,
				"SELECT group_concat(code_system || ':' ||"
				" code || '/' || start_date || '/' ||"
				" end_date || '/' || days_supply, ' ') FROM"
				" drug"),
	    "RxNorm:11289/2020-01-02/2020-02-01/30");
	/* Labs: value, text, unit from the unit concept or the source. */
	assert_string_equal(qs(f,
				"SELECT group_concat(code_system || ':' ||"
				" code || '/' || ifnull(value_num, '-') ||"
				" '/' || ifnull(value_text, '-') || '/' ||"
				" ifnull(unit, '-'), ' ') FROM (SELECT *"
				" FROM lab ORDER BY rowid)"),
	    "LOINC:4548-4/6.8/-/% LOINC:4548-4/-/positive/- "
	    "LOINC:4548-4/5.5/-/mmol/mol");
	/* Procedures: an unknown vocabulary keeps a cleaned-up name. */
	assert_string_equal(qs(f,
				"SELECT group_concat(code_system || ':' ||"
				" code, ' ') FROM procedure"),
	    "CPT4:99213 Some_Vocab_:ABC");
	assert_string_equal(qs(f,
				"SELECT value FROM meta WHERE key ="
				" 'source'"),
	    "omop");
	assert_string_equal(qs(f,
				"SELECT value FROM meta WHERE key ="
				" 'hospital_id'"),
	    "h1");
	assert_string_equal(qs(f,
				"SELECT value FROM meta WHERE key ="
				" 'rows_person'"),
	    "4");
}

static void
rejects(void **state)
{
	struct fx *f = *state;
	FILE *fp;
	char line[512], want[16][160];
	int n = 0, i = 0;
	const char *const reasons[] = {
		"CONCEPT.csv:10: concept_code must be 1 to 64 bytes",
		"person.csv:6: year_of_birth is empty",
		"person.csv:7: gender_concept_id 'M' is not a concept id",
		"DEATH.CSV:4: person_id 2 already has a death date",
		"DEATH.CSV:5: person_id 9 has no person row",
		"DEATH.CSV:6: death date 1940-01-01 is before birth year 1950",
		"observation_period.csv:3: person_id 99 has no person row",
		"observation_period.csv:4: end date 2019-01-01 is before start "
		"date 2020-01-01",
		"Visit_Occurrence.csv:7: visit_concept_id 32036 is not an "
		"outpatient, inpatient or emergency visit (docs/loading.md)",
		"condition_occurrence.csv:6: no code: condition_concept_id is "
		"0 "
		"and condition_source_value is empty",
		"condition_occurrence.csv:8: person_id 8 has no person row",
		"drug_exposure.csv:3: drug_exposure_end_date 2020-01-01 is "
		"before drug_exposure_start_date 2020-01-02",
		"MEASUREMENT.csv:4: value_as_number '7.x' is not a number",
	};

	assert_int_equal(run(f), 0);
	for (i = 0; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++)
		snprintf(
		    want[i], sizeof(want[i]), "%s/%s\n", f->omop, reasons[i]);
	fp = fopen(f->report, "r");
	while (fgets(line, sizeof(line), fp) != NULL) {
		assert_true(n < i);
		assert_string_equal(line, want[n]);
		n++;
	}
	fclose(fp);
	assert_int_equal(n, i);
	assert_int_equal(f->res.rejected, i);
	/* The concept with the long code was rejected, so drug 3 fell back
	 * to its bare concept id. */
	assert_string_equal(qs(f,
				"SELECT count(*) FROM drug WHERE"
				" code_system = 'OMOP' AND code = '5'"),
	    "1");
	assert_int_equal(step(f, "drug_exposure")->loaded, 2);
	assert_int_equal(step(f, "observation_period")->read, 3);
	assert_int_equal(step(f, "observation_period")->loaded, 1);
	assert_string_equal(step(f, "observation_period")->target, "");
}

static void
omop_file_errors(void **state)
{
	struct fx *f = *state;
	char path[4096];

	free(test_write(f->omop, "Visit_Occurrence.csv",
	    "VISIT_OCCURRENCE_ID,PERSON_ID,VISIT_START_DATE\n"));
	assert_int_equal(run(f), -1);
	assert_non_null(
	    strstr(f->err, "Visit_Occurrence.csv: no column visit_concept_id"));
	snprintf(path, sizeof(path), "%s/person.csv", f->omop);
	unlink(path);
	free(test_write(f->omop, "Visit_Occurrence.csv", visit));
	assert_int_equal(run(f), -1);
	assert_non_null(strstr(f->err, "no file person.csv"));
	/* Without a concept table codes come from the source values. */
	free(test_write(f->omop, "person.csv", person));
	snprintf(path, sizeof(path), "%s/CONCEPT.csv", f->omop);
	unlink(path);
	assert_int_equal(run(f), 0);
	assert_string_equal(qs(f,
				"SELECT code_system || ':' || code FROM"
				" diagnosis ORDER BY diag_date LIMIT 1"),
	    "local:I48.91");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    omop_file_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
