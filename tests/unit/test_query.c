/*
 * test_query.c — the JSON query language: every docs/examples query
 * compiles, checks and round-trips; invalid queries are refused with the
 * exact field path; semantically identical JSON gives identical bytes.
 * (test_query_check.c covers compiled queries from the wire.)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "testutil.h"
#include "util.h"

/* JSON written with ' for " so the tables stay readable. */
static char *
dq(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	for (char *p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static Tally__Query *
compile(const char *json)
{
	Tally__Query *q = NULL;
	char err[512], *t = dq(json);

	if (query_from_json(t, strlen(t), &q, err, sizeof(err)) == -1)
		fail_msg("%s\n  -> %s", t, err);
	free(t);
	return q;
}

/* The error message compiling json gives, in a static buffer. */
static const char *
refusal(const char *json)
{
	static char err[512];
	Tally__Query *q = NULL;
	char *t = dq(json);

	err[0] = '\0';
	if (query_from_json(t, strlen(t), &q, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", t);
	assert_null(q);
	free(t);
	return err;
}

static uint8_t *
pack(const Tally__Query *q, size_t *len)
{
	uint8_t *b = query_pack(q, len);

	assert_non_null(b);
	return b;
}

/* JSON -> pack -> unpack -> pack is byte-identical, and so is the way
 * through query_to_json(). */
static void
assert_roundtrip(const Tally__Query *q)
{
	Tally__Query *u, *v;
	size_t n1, n2, n3;
	uint8_t *b1 = pack(q, &n1), *b2, *b3;
	char err[512], *j;

	assert_int_equal(query_check(q, err, sizeof(err)), 0);
	u = query_unpack(b1, n1, err, sizeof(err));
	assert_non_null(u);
	b2 = pack(u, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
	assert_non_null(j = query_to_json(u, 1));
	if (query_from_json(j, strlen(j), &v, err, sizeof(err)) == -1)
		fail_msg("%s\n  -> %s", j, err);
	b3 = pack(v, &n3);
	assert_int_equal(n1, n3);
	assert_memory_equal(b1, b3, n1);
	free(b1);
	free(b2);
	free(b3);
	free(j);
	query_free(u);
	query_free(v);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(QUERY_MAX_BYTES + 1);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, QUERY_MAX_BYTES + 1, f);
	fclose(f);
	buf[*len < QUERY_MAX_BYTES ? *len : QUERY_MAX_BYTES] = '\0';
	return buf;
}

static void
examples(void **state)
{
	static const char *const named[] = { "af_anticoagulant", "t2dm_hba1c",
		"early_crc", "lung_ici", "osa_psg", "ibd" };
	const char *top = getenv("TALLY_TOP");
	char dir[512], path[1024], err[512];
	struct dirent *de;
	unsigned found = 0, n = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/docs/examples", top ? top : ".");
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name), len;
		Tally__Query *q;
		char *text;
		if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = slurp(path, &len);
		if (query_from_json(text, len, &q, err, sizeof(err)) == -1)
			fail_msg("%s: %s", path, err);
		assert_non_null(q->title);
		assert_roundtrip(q);
		for (size_t i = 0; i < nitems(named); i++)
			if (strncmp(de->d_name, named[i], nl - 5) == 0 &&
			    strlen(named[i]) == nl - 5)
				found |= 1u << i;
		query_free(q);
		free(text);
		n++;
	}
	closedir(d);
	assert_true(n >= 6);
	assert_int_equal(found, (1u << nitems(named)) - 1);
}

/* The compiled shape of the DESIGN.md example: flat, pre-order, sorted
 * codes, defaults left unset. */
static void
compiled_shape(void **state)
{
	Tally__Query *q = compile("{'title': 'AF',"
				  " 'index': {'diagnosis': {'codes': "
				  "['KCD8:I48*', 'ICD10:I48*']}},"
				  " 'period': {'from': '2015-01-01'},"
				  " 'criteria': {'all': ["
				  "  {'age': {'min': 18}},"
				  "  {'drug': {'codes': ['ATC:B01AA*']},"
				  "   'within_days': [0, 30]},"
				  "  {'not': {'diagnosis': {'codes': "
				  "['KCD8:I05*']}, 'within_days': [-365, -1]}},"
				  "  {'lab': {'codes': ['LOINC:4548-4'], "
				  "'value': {'min': 6.5}, 'unit': '%'},"
				  "   'within_days': [-90, 0], 'at_least': 1}"
				  "]}, 'strata': ['sex', 'index_year'],"
				  " 'by_site': true}");
	Tally__Criterion **c = q->criteria;

	(void)state;
	assert_int_equal(q->version, QUERY_VERSION);
	assert_string_equal(q->title, "AF");
	assert_int_equal(q->index->kind, TALLY__KIND__KIND_DIAGNOSIS);
	assert_int_equal(q->index->n_codes, 2);
	assert_string_equal(q->index->codes[0], "ICD10:I48*");
	assert_string_equal(q->index->codes[1], "KCD8:I48*");
	assert_false(q->has_occurrence);
	assert_string_equal(q->period_from, "2015-01-01");
	assert_null(q->period_to);
	assert_int_equal(q->n_criteria, 6);
	assert_int_equal(c[0]->kind, TALLY__KIND__KIND_ALL);
	assert_int_equal(c[0]->n_children, 4);
	assert_int_equal(c[0]->children[0], 1);
	assert_int_equal(c[0]->children[1], 2);
	assert_int_equal(c[0]->children[2], 3);
	assert_int_equal(c[0]->children[3], 5);
	assert_int_equal(c[1]->kind, TALLY__KIND__KIND_AGE);
	assert_true(c[1]->has_age_min && !c[1]->has_age_max);
	assert_int_equal(c[1]->age_min, 18);
	assert_int_equal(c[2]->window_from, 0);
	assert_int_equal(c[2]->window_to, 30);
	assert_int_equal(c[3]->kind, TALLY__KIND__KIND_NOT);
	assert_int_equal(c[3]->children[0], 4);
	assert_int_equal(c[4]->kind, TALLY__KIND__KIND_DIAGNOSIS);
	assert_int_equal(c[4]->window_from, -365);
	assert_int_equal(c[5]->kind, TALLY__KIND__KIND_LAB);
	assert_true(c[5]->has_value_min && !c[5]->has_value_max);
	assert_true(c[5]->value_min == 6.5);
	assert_string_equal(c[5]->unit, "%");
	/* at_least is filled in on every event criterion, default 1 */
	assert_true(c[2]->has_at_least && c[2]->at_least == 1);
	assert_true(c[5]->has_at_least && c[5]->at_least == 1);
	assert_false(c[1]->has_at_least);
	assert_int_equal(q->n_strata, 2);
	assert_int_equal(q->strata[1], TALLY__STRATUM__STRATUM_INDEX_YEAR);
	assert_true(q->has_by_site && q->by_site);
	assert_roundtrip(q);
	query_free(q);
}

/* Pairs of JSON that mean the same and must pack to the same bytes. */
static const char *const same[][2] = {
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I48*']}}}",
	    "  {\n'index':{ 'diagnosis' : {'codes':['KCD8:I48*'] } ,"
	    " 'occurrence': 'first'}, 'title': '', 'period': {},"
	    " 'strata': [], 'by_site': false}\n" },
	{ "{'title': 'x', 'strata': ['site'], 'index': {'drug': {'codes': "
	  "['ATC:B', 'ATC:A', 'ATC:B']}}}",
	    "{'index': {'drug': {'codes': ['ATC:A', 'ATC:B']}},"
	    " 'strata': ['site'], 'title': 'x'}" },
	{ "{'index': {'visit': {'types': ['inpatient', 'emergency']}}, "
	  "'criteria': {'sex': ['M', 'F', 'M']}}",
	    "{'criteria': {'sex': ['F', 'M']}, "
	    "'index': {'visit': {'types': ['emergency', 'inpatient', "
	    "'inpatient']}}}" },
	{ "{'index': {'lab': {'value': {'max': 7, 'min': 6.5}, 'codes': "
	  "['LOINC:4548-4']}, 'occurrence': 'all'}, 'criteria': {'drug': "
	  "{'codes': ['ATC:A10*']}, 'at_least': 1, 'within_days': [0, 9]}}",
	    "{'criteria': {'within_days': [0, 9], 'drug': {'codes': "
	    "['ATC:A10*']}}, 'index': {'occurrence': 'all', 'lab': {'codes': "
	    "['LOINC:4548-4'], 'value': {'min': 6.5, 'max': 7.0}}}}" },
};

/* And pairs that differ in meaning and must not. */
static const char *const differ[][2] = {
	{ "{'index': {'drug': {'codes': ['ATC:A']}}}",
	    "{'index': {'drug': {'codes': ['ATC:A*']}}}" },
	{ "{'index': {'drug': {'codes': ['ATC:A']}}}",
	    "{'index': {'drug': {'codes': ['ATC:A']}, 'occurrence': 'last'}}" },
	{ "{'index': {'drug': {'codes': ['ATC:A']}}, 'strata': ['sex', "
	  "'site']}",
	    "{'index': {'drug': {'codes': ['ATC:A']}}, 'strata': ['site', "
	    "'sex']}" },
	{ "{'index': {'drug': {'codes': ['ATC:A']}}, 'criteria': {'death': "
	  "{}}}",
	    "{'index': {'drug': {'codes': ['ATC:A']}}, 'criteria': {'death': "
	    "{}, 'within_days': [0, 30]}}" },
	{ "{'index': {'drug': {'codes': ['ATC:A']}}, 'criteria': {'all': "
	  "[{'age': {'min': 1}}, {'sex': ['F']}]}}",
	    "{'index': {'drug': {'codes': ['ATC:A']}}, 'criteria': {'any': "
	    "[{'age': {'min': 1}}, {'sex': ['F']}]}}" },
};

static int
same_bytes(const char *a, const char *b)
{
	Tally__Query *qa = compile(a), *qb = compile(b);
	size_t na, nb;
	uint8_t *ba = pack(qa, &na), *bb = pack(qb, &nb);
	int eq = na == nb && memcmp(ba, bb, na) == 0;

	assert_roundtrip(qa);
	assert_roundtrip(qb);
	free(ba);
	free(bb);
	query_free(qa);
	query_free(qb);
	return eq;
}

static void
canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < nitems(same); i++)
		if (!same_bytes(same[i][0], same[i][1]))
			fail_msg("differ: %s\n  vs %s", same[i][0], same[i][1]);
	for (size_t i = 0; i < nitems(differ); i++)
		if (same_bytes(differ[i][0], differ[i][1]))
			fail_msg(
			    "same: %s\n  vs %s", differ[i][0], differ[i][1]);
}

#define IDX	"'index': {'diagnosis': {'codes': ['KCD8:I48*']}}"
#define CRIT(c) "{" IDX ", 'criteria': " c "}"

static const struct bad {
	const char *json;
	const char *err;
} bad[] = {
	{ "{'index': ",
	    "line 1, column 10: unexpected token near end of "
	    "file" },
	{ "{" IDX ", " IDX "}",
	    "line 1, column 58: duplicate object key "
	    "near '\"index\"'" },
	{ "[1]", "expected a JSON object at the top level" },
	{ "{'indx': {}}",
	    "indx: unknown key; expected title, index, period, "
	    "criteria, strata, by_site" },
	{ "{'title': 'x'}", "index: missing (the index event)" },
	{ "{" IDX ", 'title': 5}", "title: expected a string" },
	{ "{" IDX ", 'title': 'a\\tb'}",
	    "title: control character at byte "
	    "2" },
	{ "{'index': {'age': {'min': 3}}}",
	    "index.age: cannot be an index "
	    "event; expected diagnosis, lab, "
	    "drug, procedure or visit" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I48']}, 'drug': "
	  "{'codes': ['ATC:A']}}}",
	    "index.drug: a second kind beside \"diagnosis\"" },
	{ "{'index': {'occurrence': 'first'}}",
	    "index: no event kind; "
	    "expected one of diagnosis, "
	    "lab, drug, procedure or "
	    "visit" },
	{ "{'index': {'drug': {'codes': ['ATC:A']}, 'occurrence': 'every'}}",
	    "index.occurrence: expected \"first\", \"last\" or \"all\"" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I48', 'I48']}}}",
	    "index.diagnosis.codes[1]: \"I48\" needs a code system, e.g. "
	    "\"KCD8:I48\"" },
	{ "{'index': {'diagnosis': {'codes': ['*']}}}",
	    "index.diagnosis.codes[0]: a bare \"*\" matches everything; name "
	    "a code system and prefix, e.g. \"KCD8:I48*\"" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:*']}}}",
	    "index.diagnosis.codes[0]: \"KCD8:*\": empty prefix after the "
	    "system" },
	{ "{'index': {'diagnosis': {'codes': [':I48']}}}",
	    "index.diagnosis.codes[0]: \":I48\": empty code system" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I4*8']}}}",
	    "index.diagnosis.codes[0]: \"KCD8:I4*8\": '*' may only end a "
	    "code" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I 48']}}}",
	    "index.diagnosis.codes[0]: invalid byte 0x20 at 7; codes use "
	    "A-Z a-z 0-9 . : _ - and a trailing *" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I4/8']}}}",
	    "index.diagnosis.codes[0]: invalid character '/' at byte 8; codes "
	    "use A-Z a-z 0-9 . : _ - and a trailing *" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:"
	  "123456789012345678901234567890123456789012345678901234567890']}}}",
	    "index.diagnosis.codes[0]: code of 65 bytes exceeds 64" },
	{ "{'index': {'diagnosis': {'codes': []}}}",
	    "index.diagnosis.codes: expected an array of codes, e.g. "
	    "[\"KCD8:I48*\"]" },
	{ "{'index': {'diagnosis': {'codes': [48]}}}",
	    "index.diagnosis.codes[0]: expected a string" },
	{ "{'index': {'diagnosis': {}}}",
	    "index.diagnosis: missing "
	    "\"codes\"" },
	{ "{'index': {'diagnosis': {'codes': ['KCD8:I48'], 'value': {}}}}",
	    "index.diagnosis.value: unknown key; expected codes" },
	{ "{" IDX ", 'period': {'from': '2015-13-01'}}",
	    "period.from: \"2015-13-01\" is not a date (YYYY-MM-DD)" },
	{ "{" IDX ", 'period': {'from': '2020-01-01', 'to': '2019-12-31'}}",
	    "period: from 2020-01-01 is after to 2019-12-31" },
	{ "{" IDX ", 'period': {'start': '2020-01-01'}}",
	    "period.start: unknown key; expected from, to" },
	{ "{" IDX ", 'strata': ['sex', 'age_band', 'site', 'ward']}",
	    "strata[3]: unknown stratum \"ward\"; expected sex, age_band, "
	    "index_year, site, consortium" },
	{ "{" IDX ", 'strata': ['sex', 'site', 'sex']}",
	    "strata[2]: \"sex\" repeated" },
	{ "{" IDX ", 'strata': ['sex', 'age_band', 'index_year', 'site', "
	  "'consortium', 'sex']}",
	    "strata: 6 strata, at most 5" },
	{ "{" IDX ", 'by_site': 'yes'}", "by_site: expected true or false" },
	{ CRIT("{'all': [{'age': {'min': 1}}, {'sex': ['F']}, {'drug': "
	       "{'codes': ['ATC:A']}, 'within_days': [30, 0]}]}"),
	    "criteria.all[2].within_days: expected [from, to] with from <= "
	    "to" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'within_days': [0]}"),
	    "criteria.within_days: expected [from, to] with from <= to" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'within_days': [0, 1.5]}"),
	    "criteria.within_days: expected [from, to] with from <= to" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'within_days': [-36501, 0]}"),
	    "criteria.within_days: days must lie within -36500..36500" },
	{ CRIT("{'all': [{'age': {'min': 1}, 'within_days': [0, 1]}]}"),
	    "criteria.all[0].within_days: not allowed with \"age\"" },
	{ CRIT("{'sex': ['F'], 'at_least': 2}"),
	    "criteria.at_least: not allowed with \"sex\"" },
	{ CRIT("{'death': {}, 'at_most': 2}"),
	    "criteria.at_most: not allowed with \"death\"" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'at_least': -1}"),
	    "criteria.at_least: expected an integer 0..1000000" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'at_most': 0}"),
	    "criteria.at_most: 0 is below at_least 1 (the default; use "
	    "at_least: 0)" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'at_least': 3, 'at_most': 2}"),
	    "criteria.at_most: 2 is below at_least 3" },
	{ CRIT("{'age': {'min': 200}}"),
	    "criteria.age.min: expected an integer 0..150" },
	{ CRIT("{'age': {'min': 18.5}}"),
	    "criteria.age.min: expected an integer 0..150" },
	{ CRIT("{'age': {'min': 60, 'max': 40}}"),
	    "criteria.age: min 60 is above max 40" },
	{ CRIT("{'age': {'from': 60}}"),
	    "criteria.age.from: unknown key; expected min, max" },
	{ CRIT("{'sex': ['F', 'X']}"),
	    "criteria.sex[1]: \"X\" is not M, F or U" },
	{ CRIT("{'sex': 'F'}"),
	    "criteria.sex: expected an array of M, F or "
	    "U" },
	{ CRIT("{'death': {'days': 30}}"),
	    "criteria.death: expected {} (a window goes beside it)" },
	{ CRIT("{'all': []}"),
	    "criteria.all: expected a non-empty array of criteria" },
	{ CRIT("{'not': [{'age': {'min': 1}}]}"),
	    "criteria.not: expected one criterion object" },
	{ CRIT("{'any': [{'age': {'min': 1}}, 7]}"),
	    "criteria.any[1]: expected a criterion object" },
	{ CRIT("{'all': [{'age': {'min': 1}}, {'drug': {'codes': "
	       "['ATC:A']}, 'lab': {'codes': ['LOINC:1-8']}}]}"),
	    "criteria.all[1].lab: a second kind beside \"drug\"; combine with "
	    "all or any" },
	{ CRIT("{'within_days': [0, 1]}"),
	    "criteria: no criterion; expected one of diagnosis, lab, drug, "
	    "procedure, visit, age, sex, death, all, any, not" },
	{ CRIT("{'drug': {'codes': ['ATC:A']}, 'within': [0, 1]}"),
	    "criteria.within: unknown key; expected a criterion (diagnosis, "
	    "lab, drug, procedure, visit, age, sex, death, all, any, not), "
	    "within_days, at_least or at_most" },
	{ "{'index': {'drug': {'codes': ['ATC:A']}, 'ocurrence': 'all'}}",
	    "index.ocurrence: unknown key; expected an event kind (diagnosis, "
	    "lab, drug, procedure or visit) or occurrence" },
	{ CRIT("{'lab': {'codes': ['LOINC:1-8'], 'value': {'min': 7, 'max': "
	       "6}}}"),
	    "criteria.lab.value: min 7 is above max 6" },
	{ CRIT("{'lab': {'codes': ['LOINC:1-8'], 'value': {'min': 'high'}}}"),
	    "criteria.lab.value.min: expected a number" },
	{ CRIT("{'lab': {'codes': ['LOINC:1-8'], 'unit': "
	       "'0123456789012345678901234567890123'}}"),
	    "criteria.lab.unit: 34 bytes, at most 32" },
	{ CRIT("{'lab': {'codes': ['LOINC:1-8'], 'value': {'min': 1}, 'unit': "
	       "5}}"),
	    "criteria.lab.unit: expected a string" },
	{ CRIT("{'visit': {'codes': ['EDI:A']}}"),
	    "criteria.visit.codes: unknown key; expected types" },
	{ CRIT("{'visit': {'types': ['icu']}}"),
	    "criteria.visit.types[0]: \"icu\" is not outpatient, inpatient or "
	    "emergency" },
	{ CRIT("[{'age': {'min': 1}}]"),
	    "criteria: expected a criterion "
	    "object" },
	{ CRIT("{'not': {'not': {'drug': {'codes': ['ATC']}}}}"),
	    "criteria.not.not.drug.codes[0]: \"ATC\" needs a code system, "
	    "e.g. \"KCD8:ATC\"" },
};

static void
invalid(void **state)
{
	size_t wrong = 0;

	(void)state;
	assert_true(nitems(bad) >= 30);
	for (size_t i = 0; i < nitems(bad); i++) {
		const char *got = refusal(bad[i].json);
		if (strcmp(got, bad[i].err) != 0) {
			print_error("bad[%zu] %s\n  want: %s\n  got:  %s\n", i,
			    bad[i].json, bad[i].err, got);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

/* Text of a query with n criteria and k codes per event criterion. */
static char *
big_query(size_t nodes, size_t codes_per, size_t codelen)
{
	size_t cap = 64 + nodes * (64 + codes_per * (codelen + 4)), len;
	char *t = malloc(cap), code[128];

	assert_non_null(t);
	assert_true(codelen < sizeof(code) && codelen > 8);
	len = (size_t)snprintf(t, cap, "{%s, 'criteria': {'all': [",
	    "'index': {'diagnosis': {'codes': ['KCD8:A', 'KCD8:B', 'KCD8:C', "
	    "'KCD8:D']}}");
	for (size_t i = 0; i + 1 < nodes; i++) {
		len += (size_t)snprintf(t + len, cap - len,
		    "%s{'drug': {'codes': [", i ? ", " : "");
		for (size_t k = 0; k < codes_per; k++) {
			snprintf(code, sizeof(code), "ATC:%0*zu",
			    (int)(codelen - 4), i * codes_per + k);
			len += (size_t)snprintf(
			    t + len, cap - len, "%s'%s'", k ? ", " : "", code);
		}
		len += (size_t)snprintf(t + len, cap - len, "]}}");
	}
	snprintf(t + len, cap - len, "]}}");
	return t;
}

static void
limits(void **state)
{
	Tally__Query *q;
	const char *msg;
	char *t, *huge;

	(void)state;
	/* 256 nodes and 4 + 255 * 4 = 1024 codes, most of 64 bytes: the
	 * largest query. */
	t = big_query(256, 4, 64);
	q = compile(t);
	assert_int_equal(q->n_criteria, 256);
	assert_int_equal(q->criteria[255]->n_codes, 4);
	assert_int_equal(strlen(q->criteria[255]->codes[3]), 64);
	assert_roundtrip(q);
	query_free(q);
	free(t);
	t = big_query(257, 1, 12);
	assert_string_equal(refusal(t),
	    "criteria.all[255]: more than 256 "
	    "criteria");
	free(t);
	t = big_query(200, 6, 12);
	assert_string_equal(refusal(t),
	    "criteria.all[170].drug.codes[0]: "
	    "more than 1024 codes in the query");
	free(t);
	/* 300 nested nots: the path of the error keeps its end. */
	huge = malloc(QUERY_MAX_BYTES + 2);
	t = huge;
	t += sprintf(t, "{%s, 'criteria': ", IDX);
	for (int i = 0; i < 300; i++)
		t += sprintf(t, "{'not': ");
	t += sprintf(t, "{'death': {}}");
	for (int i = 0; i < 301; i++)
		*t++ = '}';
	*t = '\0';
	msg = refusal(huge);
	assert_memory_equal(msg, "...", 3);
	assert_true(strlen(msg) < 200);
	assert_string_equal(
	    msg + strlen(msg) - 31, "not.not: more than 256 criteria");
	free(huge);
	huge = malloc(QUERY_MAX_BYTES + 2);
	memset(huge, ' ', QUERY_MAX_BYTES + 1);
	huge[QUERY_MAX_BYTES + 1] = '\0';
	assert_string_equal(refusal(huge),
	    "query of 262145 bytes exceeds the "
	    "262144 byte limit");
	free(huge);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(examples),
		cmocka_unit_test(compiled_shape),
		cmocka_unit_test(canonical),
		cmocka_unit_test(invalid),
		cmocka_unit_test(limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
