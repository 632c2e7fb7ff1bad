#define _GNU_SOURCE
/*
 * test_load.c — tally's CSV layout through load_run(): a clean load, each
 * kind of rejected row with its line and reason, file-level errors, the
 * rejects file, --strict, and loading the same export twice.
 */
#include <sys/stat.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "testutil.h"

struct fx {
	char *dir;    /* scratch */
	char *csv;    /* the export */
	char *db;     /* dir/site1.db */
	char *rej;    /* db.rejects.csv */
	char *report; /* what the report stream received */
	struct load_result res;
	char err[512];
};

static const char person_ok[] = "person_id,sex,birth_year,death_date,link_key\n"
				"1,M,1950,,\n"
				"2,F,1960,2020-05-01,k2\n"
				"3,U,1970,,\n";
static const char visit_ok[] =
    "visit_id,person_id,visit_type,start_date,end_date\n"
    "10,1,outpatient,2020-01-01,2020-01-01\n"
    "11,2,inpatient,2019-03-01,2019-03-09\n"
    "12,3,emergency,2021-07-07,\n";
static const char diag_ok[] =
    "person_id,visit_id,diag_date,code,code_system,is_primary\n"
    "1,10,2020-01-01,I48.91,KCD8,1\n"
    "2,11,2019-03-02,E11.9,KCD8,0\n"
    "3,,2021-07-07,I10,ICD10,\n";
static const char lab_ok[] =
    "person_id,visit_id,lab_date,code,code_system,value_num,value_text,unit\n"
    "1,10,2020-01-01,4548-4,LOINC,6.8,,%\n"
    "2,,2019-03-02,718-7,LOINC,,positive,\n";
static const char drug_ok[] =
    "person_id,visit_id,start_date,end_date,code,code_system,days_supply\n"
    "1,10,2020-01-02,2020-02-01,B01AA03,ATC,30\n";
static const char proc_ok[] = "person_id,visit_id,proc_date,code,code_system\n"
			      "2,11,2019-03-03,M5850,EDI\n";

static void
put(struct fx *f, const char *name, const char *text)
{
	free(test_write(f->csv, name, text));
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = test_mkdtemp();
	if (asprintf(&f->csv, "%s/export", f->dir) == -1 ||
	    asprintf(&f->db, "%s/site1.db", f->dir) == -1 ||
	    asprintf(&f->rej, "%s/site1.db.rejects.csv", f->dir) == -1 ||
	    asprintf(&f->report, "%s/report.txt", f->dir) == -1)
		return -1;
	mkdir(f->csv, 0700);
	put(f, "person.csv", person_ok);
	put(f, "visit.csv", visit_ok);
	put(f, "diagnosis.csv", diag_ok);
	put(f, "lab.csv", lab_ok);
	put(f, "drug.csv", drug_ok);
	put(f, "procedure.csv", proc_ok);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->csv);
	free(f->db);
	free(f->rej);
	free(f->report);
	test_rmdir(f->dir);
	free(f);
	return 0;
}

/* Runs a load; the report stream goes to f->report. */
static int
run(struct fx *f, int strict)
{
	struct load_opts o = { 0 };
	FILE *fp = fopen(f->report, "w");
	int rc;

	o.db = f->db;
	o.dir = f->csv;
	o.source = LOAD_CSV;
	o.strict = strict;
	o.snapshot = "2024-06-30";
	o.report = fp;
	f->err[0] = '\0';
	rc = load_run(&o, &f->res, f->err, sizeof(f->err));
	fclose(fp);
	return rc;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	buf = calloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* The integer result of a one-value query on the DB. */
static long long
q(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(
	    sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
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

/* Asserts that the report holds exactly want (one "FILE:LINE: reason"
 * per line, FILE relative to the export folder). */
static void
report_is(struct fx *f, const char *want)
{
	char *got = slurp(f->report), *exp = calloc(1, 8192);
	const char *p = want;
	size_t w = 0;

	/* Prefix every expected line with the export folder. */
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		w += (size_t)snprintf(
		    exp + w, 8192 - w, "%s/%.*s", f->csv, (int)n, p);
		p += n;
	}
	if (strcmp(got, exp) != 0)
		fprintf(stderr, "report:\n%s\nexpected:\n%s\n", got, exp);
	assert_string_equal(got, exp);
	free(got);
	free(exp);
}

static void
clean_load(void **state)
{
	struct fx *f = *state;
	char *rej;

	assert_int_equal(run(f, 0), 0);
	assert_int_equal(f->res.rejected, 0);
	assert_int_equal(f->res.committed, 1);
	assert_int_equal(f->res.read, 13);
	assert_int_equal(f->res.loaded, 13);
	assert_string_equal(f->res.site, "site1");
	assert_int_equal(step(f, "visit")->loaded, 3);
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM visit"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM diagnosis"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM lab"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM drug"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM procedure"), 1);
	/* Values arrive typed; empty fields are NULL. */
	assert_int_equal(q(f,
			     "SELECT count(*) FROM person WHERE sex = 'F'"
			     " AND birth_year = 1960 AND death_date ="
			     " '2020-05-01' AND link_key = 'k2'"),
	    1);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM person WHERE"
			     " death_date IS NULL AND link_key IS NULL"),
	    2);
	assert_int_equal(q(f,
			     "SELECT typeof(value_num) = 'real' AND"
			     " value_num = 6.8 FROM lab WHERE person_id = 1"),
	    1);
	assert_int_equal(q(f,
			     "SELECT value_num IS NULL AND value_text ="
			     " 'positive' AND unit IS NULL FROM lab WHERE"
			     " person_id = 2"),
	    1);
	assert_int_equal(q(f, "SELECT days_supply FROM drug"), 30);
	assert_int_equal(q(f,
			     "SELECT visit_id IS NULL FROM diagnosis WHERE"
			     " person_id = 3"),
	    1);
	assert_int_equal(q(f,
			     "SELECT is_primary FROM diagnosis WHERE"
			     " person_id = 1"),
	    1);
	/* Meta and indexes. */
	assert_int_equal(q(f,
			     "SELECT count(*) FROM meta WHERE"
			     " (key = 'hospital_id' AND value = 'site1') OR"
			     " (key = 'schema_version' AND value = '1') OR"
			     " (key = 'snapshot_date' AND value ="
			     " '2024-06-30') OR (key = 'source' AND value ="
			     " 'csv') OR (key = 'rows_diagnosis' AND value ="
			     " '3')"),
	    5);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM sqlite_master WHERE"
			     " type = 'index' AND name = 'diagnosis_code'"),
	    1);
	/* The rejects file exists, with its header only; no temp left. */
	rej = slurp(f->rej);
	assert_non_null(rej);
	assert_string_equal(rej, "file,line,reason\n");
	free(rej);
	report_is(f, "");
	{
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.loading", f->db);
		assert_int_equal(access(tmp, F_OK), -1);
	}
}

static void
bad_rows(void **state)
{
	struct fx *f = *state;
	char *rej;

	put(f, "person.csv",
	    "person_id,sex,birth_year\n"
	    "1,M,1950\n"
	    "2,X,1960\n"   /* 3: unknown sex */
	    "3,F,19x0\n"   /* 4: non-numeric year */
	    "1,F,1950\n"   /* 5: duplicate */
	    "4,F\n"	   /* 6: too few fields */
	    "5,\"F,1970\n" /* 7: unterminated quote, swallows to EOF */
	);
	put(f, "visit.csv",
	    "visit_id,person_id,visit_type,start_date\n"
	    "10,1,outpatient,2020-01-01\n"
	    "10,1,outpatient,2020-01-02\n" /* 3: duplicate visit_id */
	    "11,9,outpatient,2020-01-01\n" /* 4: unknown person */
	    "12,1,daycare,2020-01-01\n"	   /* 5: bad type */
	    "13,1,inpatient,2023-02-29\n"  /* 6: no such day */
	);
	put(f, "diagnosis.csv",
	    "code,code_system,diag_date,person_id\n"
	    "I10,KCD8,2020-01-01,1\n"
	    "I10,KCD8,2020/01/01,1\n"	   /* 3: bad date */
	    "I10,KCD8,2020-01-01,7\n"	   /* 4: unknown person */
	    "I10,\"KCD:8\",2020-01-01,1\n" /* 5: bad system */
	    "\xff\xfe,KCD8,2020-01-01,1\n" /* 6: invalid UTF-8 */
	    "I1\"0,KCD8,2020-01-01,1\n"	   /* 7: malformed CSV */
	    ",KCD8,2020-01-01,1\n"	   /* 8: empty code */
	    "I10,KCD8,2020-01-01,1\n");
	put(f, "lab.csv",
	    "person_id,lab_date,code,code_system,value_num\n"
	    "1,2020-01-01,718-7,LOINC,abc\n" /* 2: non-numeric */
	    "1,2020-01-01,"
	    "0123456789012345678901234567890123456789012345678901234567891234"
	    "5,LOINC,1\n" /* 3: code too long */
	    "1,2020-01-01,718-7,LOINC,12.5\n");
	assert_int_equal(run(f, 0), 0);
	report_is(f,
	    "person.csv:3: sex 'X' is not M, F or U\n"
	    "person.csv:4: birth_year '19x0' is not a whole number from 1800 "
	    "to 2200\n"
	    "person.csv:5: duplicate person_id 1\n"
	    "person.csv:6: 2 fields, the header has 3\n"
	    "person.csv:7: unterminated quoted field\n"
	    "visit.csv:3: duplicate visit_id 10\n"
	    "visit.csv:4: person_id 9 has no person row\n"
	    "visit.csv:5: visit_type 'daycare' is not outpatient, inpatient "
	    "or emergency\n"
	    "visit.csv:6: start_date '2023-02-29' is not a date (YYYY-MM-DD)\n"
	    "diagnosis.csv:3: diag_date '2020/01/01' is not a date "
	    "(YYYY-MM-DD)\n"
	    "diagnosis.csv:4: person_id 7 has no person row\n"
	    "diagnosis.csv:5: code_system 'KCD:8' is not 1-32 of A-Z a-z 0-9 "
	    "_ . -\n"
	    "diagnosis.csv:6: code is not valid UTF-8\n"
	    "diagnosis.csv:7: quote inside an unquoted field\n"
	    "diagnosis.csv:8: code is empty\n"
	    "lab.csv:2: value_num 'abc' is not a number\n"
	    "lab.csv:3: code is 65 bytes long, longer than 64\n"
	    "procedure.csv:2: person_id 2 has no person row\n");
	assert_int_equal(f->res.rejected, 18);
	assert_int_equal(f->res.committed, 1);
	assert_int_equal(step(f, "person")->read, 6);
	assert_int_equal(step(f, "person")->loaded, 1);
	assert_int_equal(step(f, "person")->rejected, 5);
	assert_int_equal(step(f, "diagnosis")->loaded, 2);
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM visit"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM diagnosis"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM lab"), 1);
	assert_int_equal(q(f,
			     "SELECT value FROM meta WHERE key ="
			     " 'rows_rejected'"),
	    18);
	/* The rejects file: header plus one quoted row per reject. */
	rej = slurp(f->rej);
	assert_non_null(strstr(rej, "file,line,reason\n"));
	assert_non_null(strstr(rej,
	    "/person.csv\",3,\"sex 'X' is not M, F "
	    "or U\"\n"));
	assert_non_null(strstr(rej, "/lab.csv\",3,\"code is 65 bytes"));
	{
		int lines = 0;

		for (char *p = rej; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 19);
	}
	free(rej);
}

static void
more_checks(void **state)
{
	struct fx *f = *state;
	char *big = malloc(8192), *text = malloc(16384);

	memset(big, 'x', 5000);
	big[5000] = '\0';
	snprintf(text, 16384,
	    "person_id,visit_id,start_date,end_date,code,code_system,"
	    "days_supply\n"
	    "1,,2020-01-02,2020-01-01,A,ATC,\n" /* 2: end before start */
	    "1,,2020-01-02,,A,ATC,-1\n"		/* 3: negative supply */
	    "1,,2020-01-02,,%s,ATC,\n"		/* 4: over the CSV limit */
	    "1,99,2020-01-02,,A,ATC,\n"		/* 5: ok, visit unknown */
	    "1,10,2020-01-02,,A\tB,ATC,\n",	/* 6: control character */
	    big);
	put(f, "drug.csv", text);
	put(f, "person.csv",
	    "person_id,sex,birth_year,death_date\n"
	    "1,M,1950,\n"
	    "2,F,1960,1959-12-31\n" /* 3: death before birth */
	    "3,F,1799,\n"	    /* 4: out of range */
	    "4,F,1960,2020-13-01\n" /* 5: bad death date */
	    "-5,F,1960,\n"	    /* 6: negative id */
	    "2,F,1960,\n"	    /* 7: ok (2 was rejected above) */
	    "3,F,1960,\n"
	    "9223372036854775807,U,2000,\n");
	assert_int_equal(run(f, 0), 0);
	report_is(f,
	    "person.csv:3: death_date 1959-12-31 is before birth_year 1960\n"
	    "person.csv:4: birth_year '1799' is not a whole number from 1800 "
	    "to 2200\n"
	    "person.csv:5: death_date '2020-13-01' is not a date "
	    "(YYYY-MM-DD)\n"
	    "person.csv:6: person_id '-5' is not a whole number >= 0\n"
	    "drug.csv:2: end_date 2020-01-01 is before start_date "
	    "2020-01-02\n"
	    "drug.csv:3: days_supply '-1' is not a whole number from 0 to "
	    "36500\n"
	    "drug.csv:4: field longer than the limit\n"
	    "drug.csv:6: code contains a control character\n");
	assert_int_equal(step(f, "drug")->loaded, 1);
	assert_int_equal(step(f, "drug")->unlinked, 1);
	assert_int_equal(q(f, "SELECT visit_id IS NULL FROM drug"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 4);
	free(big);
	free(text);
}

static void
file_errors(void **state)
{
	struct fx *f = *state;
	char path[4096];

	/* A missing required column names the file and the column. */
	put(f, "visit.csv", "visit_id,person_id,start_date\n1,1,2020-01-01\n");
	assert_int_equal(run(f, 0), -1);
	assert_non_null(strstr(f->err, "visit.csv: no column visit_type"));
	assert_int_equal(access(f->db, F_OK), -1);
	snprintf(path, sizeof(path), "%s.loading", f->db);
	assert_int_equal(access(path, F_OK), -1);
	/* A column twice. */
	put(f, "visit.csv",
	    "visit_id,person_id,visit_type,start_date,"
	    "VISIT_ID\n");
	assert_int_equal(run(f, 0), -1);
	assert_non_null(strstr(f->err, "column visit_id appears twice"));
	put(f, "visit.csv", visit_ok);
	/* An empty file is an error, a header alone is an empty table. */
	put(f, "lab.csv", "");
	assert_int_equal(run(f, 0), -1);
	assert_non_null(strstr(f->err, "lab.csv: empty file"));
	put(f, "lab.csv", "person_id,lab_date,\"code,code_system\n");
	assert_int_equal(run(f, 0), -1);
	assert_non_null(
	    strstr(f->err, "lab.csv:1: header: unterminated quoted field"));
	put(f, "lab.csv", "person_id,lab_date,code,code_system\n");
	assert_int_equal(run(f, 0), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM lab"), 0);
	/* Optional files may be absent; person.csv may not. */
	snprintf(path, sizeof(path), "%s/lab.csv", f->csv);
	unlink(path);
	assert_int_equal(run(f, 0), 0);
	assert_string_equal(step(f, "lab")->file, "");
	snprintf(path, sizeof(path), "%s/person.csv", f->csv);
	unlink(path);
	assert_int_equal(run(f, 0), -1);
	assert_non_null(strstr(f->err, "no file person.csv"));
	/* The previous DB is still there, unchanged. */
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 3);
	/* File names compare without case. */
	put(f, "PERSON.CSV", person_ok);
	assert_int_equal(run(f, 0), 0);
	put(f, "person.csv", person_ok);
	assert_int_equal(run(f, 0), -1);
	assert_non_null(strstr(f->err, "both"));
}

static void
strict_commits_nothing(void **state)
{
	struct fx *f = *state;
	char *rej;

	assert_int_equal(run(f, 0), 0);
	put(f, "person.csv",
	    "person_id,sex,birth_year\n1,M,1950\n2,Q,1960\n"
	    "3,F,1970\n7,F,1980\n");
	assert_int_equal(run(f, 1), 0);
	/* Person 2's row, and the visit, diagnosis, lab, procedure of 2. */
	assert_int_equal(f->res.rejected, 5);
	assert_int_equal(f->res.committed, 0);
	/* The previous snapshot stays: 3 persons, person 7 unknown. */
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 3);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM person WHERE"
			     " person_id = 7"),
	    0);
	rej = slurp(f->rej);
	assert_non_null(strstr(rej, "person.csv\",3,\"sex 'Q'"));
	free(rej);
	/* Without --strict the good rows go in. */
	assert_int_equal(run(f, 0), 0);
	assert_int_equal(f->res.committed, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 3);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM person WHERE"
			     " person_id = 7"),
	    1);
}

static void
twice_is_a_snapshot(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, 0), 0);
	assert_int_equal(run(f, 0), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM person"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM diagnosis"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM meta"), 14);
	/* A smaller export replaces, not merges. */
	put(f, "diagnosis.csv",
	    "person_id,diag_date,code,code_system\n"
	    "1,2020-01-01,I10,KCD8\n");
	assert_int_equal(run(f, 0), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM diagnosis"), 1);
}

/* Enough rows for whole batches and a remainder, every column checked. */
static void
many_rows(void **state)
{
	struct fx *f = *state;
	char *d = malloc(1 << 20), *l = malloc(1 << 20), *r = malloc(1 << 20),
	     *p = malloc(1 << 20);
	size_t nd = 0, nl = 0, nr = 0, np = 0;
	const int n = 1000;

	nd += (size_t)sprintf(d,
	    "person_id,visit_id,diag_date,code,"
	    "code_system,is_primary\n");
	nl += (size_t)sprintf(l,
	    "person_id,visit_id,lab_date,code,"
	    "code_system,value_num,value_text,unit\n");
	nr += (size_t)sprintf(r,
	    "person_id,visit_id,start_date,end_date,"
	    "code,code_system,days_supply\n");
	np += (size_t)sprintf(p,
	    "person_id,visit_id,proc_date,code,"
	    "code_system\n");
	for (int i = 0; i < n; i++) {
		int pid = 1 + i % 3, day = 1 + i % 28;

		nd +=
		    (size_t)sprintf(d + nd, "%d,%s,2020-01-%02d,D%d,KCD8,%d\n",
			pid, i % 2 ? "10" : "", day, i, i % 2);
		nl += (size_t)sprintf(l + nl,
		    "%d,%s,2020-02-%02d,L%d,LOINC,%d.5,%s,u%d\n", pid,
		    i % 5 ? "" : "11", day, i, i, i % 7 ? "" : "t", i % 3);
		nr += (size_t)sprintf(r + nr,
		    "%d,,2020-03-%02d,2020-04-%02d,R%d,ATC,%d\n", pid, day, day,
		    i, i);
		np += (size_t)sprintf(
		    p + np, "%d,12,2020-05-%02d,P%d,EDI\n", pid, day, i);
	}
	put(f, "diagnosis.csv", d);
	put(f, "lab.csv", l);
	put(f, "drug.csv", r);
	put(f, "procedure.csv", p);
	assert_int_equal(run(f, 0), 0);
	assert_int_equal(f->res.rejected, 0);
	assert_int_equal(q(f, "SELECT count(*) FROM diagnosis"), n);
	assert_int_equal(q(f, "SELECT sum(is_primary) FROM diagnosis"), n / 2);
	assert_int_equal(q(f, "SELECT count(visit_id) FROM diagnosis"), n / 2);
	assert_int_equal(q(f,
			     "SELECT sum(CAST(substr(code, 2) AS INTEGER))"
			     " FROM diagnosis WHERE code_system = 'KCD8'"),
	    n * (n - 1) / 2);
	assert_int_equal(
	    q(f, "SELECT sum(value_num * 2) FROM lab"), n * (n - 1) + n);
	assert_int_equal(
	    q(f, "SELECT count(value_text) FROM lab"), (n + 6) / 7);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM lab WHERE unit = 'u' ||"
			     " (CAST(substr(code, 2) AS INTEGER) % 3)"),
	    n);
	assert_int_equal(q(f, "SELECT count(visit_id) FROM lab"), n / 5);
	assert_int_equal(
	    q(f, "SELECT sum(days_supply) FROM drug"), n * (n - 1) / 2);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM drug WHERE"
			     " substr(start_date, 9) = substr(end_date, 9)"
			     " AND substr(end_date, 1, 7) = '2020-04'"),
	    n);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM drug WHERE 'R' ||"
			     " days_supply = code AND code_system = 'ATC'"),
	    n);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM procedure WHERE"
			     " visit_id = 12 AND code_system = 'EDI'"),
	    n);
	assert_int_equal(q(f,
			     "SELECT count(*) FROM procedure WHERE"
			     " person_id = 1 + CAST(substr(code, 2) AS"
			     " INTEGER) % 3"),
	    n);
	free(d);
	free(l);
	free(r);
	free(p);
}

static void
refuses_foreign_files(void **state)
{
	struct fx *f = *state;
	struct load_opts o = { 0 };
	char site[64];

	free(test_write(f->dir, "site1.db", "not a database at all\n"));
	assert_int_equal(run(f, 0), -1);
	assert_non_null(strstr(f->err, "refusing to replace"));
	{
		char *s = slurp(f->db);

		assert_string_equal(s, "not a database at all\n");
		free(s);
	}
	unlink(f->db);
	/* Options. */
	o.db = f->db;
	o.dir = f->csv;
	o.site = "bad site";
	assert_int_equal(load_run(&o, &f->res, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "site 'bad site'"));
	o.site = NULL;
	o.snapshot = "2024-02-30";
	assert_int_equal(load_run(&o, &f->res, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "snapshot"));
	o.snapshot = NULL;
	o.dir = "/nonexistent/export";
	assert_int_equal(load_run(&o, &f->res, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "/nonexistent/export"));
	assert_int_equal(
	    load_site_from_path("/x/y/snuh.db", site, sizeof(site)), 0);
	assert_string_equal(site, "snuh");
	assert_int_equal(
	    load_site_from_path("kims-eye", site, sizeof(site)), 0);
	assert_string_equal(site, "kims-eye");
	assert_int_equal(
	    load_site_from_path("/x/my site.db", site, sizeof(site)), -1);
	assert_int_equal(load_site_from_path("/x/.db", site, sizeof(site)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(clean_load, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(more_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(many_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    strict_commits_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    twice_is_a_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    refuses_foreign_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
