/*
 * test_query_check.c — compiled queries as a peer may send them:
 * query_check() on hand-built bad trees and fields, query_unpack() on
 * oversized, truncated, garbage and allocation-amplifying bytes, and
 * random mutations of valid JSON and valid bytes (which must never crash;
 * run under ASan by `make test`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "query.h"
#include "testutil.h"
#include "util.h"

/*
 * A hand-built query the tests bend, on the stack:
 *   index: diagnosis KCD8:I48*
 *   0 all [1, 2]   1 age >= 18   2 not [3]   3 drug ATC:B01AA* [0, 30]
 */
struct fx {
	Tally__Query q;
	Tally__Criterion idx;
	Tally__Criterion n[QUERY_MAX_NODES + 1];
	Tally__Criterion *np[QUERY_MAX_NODES + 1];
	uint32_t kids[4][4];
	char *codes[QUERY_MAX_CODES + 1];
	char *words[4];
	Tally__Stratum strata[8];
};

static void
fx_init(struct fx *f)
{
	static char icode[] = "KCD8:I48*", dcode[] = "ATC:B01AA*";

	memset(f, 0, sizeof(*f));
	tally__query__init(&f->q);
	tally__criterion__init(&f->idx);
	f->idx.has_kind = 1;
	f->idx.kind = TALLY__KIND__KIND_DIAGNOSIS;
	f->codes[0] = icode;
	f->codes[1] = dcode;
	f->idx.n_codes = 1;
	f->idx.codes = &f->codes[0];
	for (size_t i = 0; i < nitems(f->n); i++) {
		tally__criterion__init(&f->n[i]);
		f->n[i].has_kind = 1;
		f->np[i] = &f->n[i];
	}
	f->n[0].kind = TALLY__KIND__KIND_ALL;
	f->kids[0][0] = 1;
	f->kids[0][1] = 2;
	f->n[0].children = f->kids[0];
	f->n[0].n_children = 2;
	f->n[1].kind = TALLY__KIND__KIND_AGE;
	f->n[1].has_age_min = 1;
	f->n[1].age_min = 18;
	f->n[2].kind = TALLY__KIND__KIND_NOT;
	f->kids[2][0] = 3;
	f->n[2].children = f->kids[2];
	f->n[2].n_children = 1;
	f->n[3].kind = TALLY__KIND__KIND_DRUG;
	f->n[3].codes = &f->codes[1];
	f->n[3].n_codes = 1;
	f->n[3].has_window_from = f->n[3].has_window_to = 1;
	f->n[3].window_to = 30;
	f->q.index = &f->idx;
	f->q.criteria = f->np;
	f->q.n_criteria = 4;
	f->strata[0] = TALLY__STRATUM__STRATUM_SEX;
	f->q.strata = f->strata;
	f->q.n_strata = 1;
	f->q.period_from = "2015-01-01";
}

static char bigcode[] = "KCD8:A";

/*
 * Bends the fixture into bad case i; returns the message query_check must
 * give, or NULL past the last case. In three parts: the tree, the fields
 * of a node, the query around them.
 */
static const char *
bend_tree(struct fx *f, int i)
{
	Tally__Criterion *n = f->n;

	switch (i) {
	case 0:
		f->q.index = NULL;
		return "index: missing";
	case 1:
		f->idx.kind = TALLY__KIND__KIND_AGE;
		return "index: age cannot be an index event; expected "
		       "diagnosis, lab, drug, procedure or visit";
	case 2:
		f->idx.has_window_from = f->idx.has_window_to = 1;
		return "index: window_from/window_to is not allowed in the "
		       "index event";
	case 3:
		f->idx.n_codes = 0;
		return "index: diagnosis needs at least one code";
	case 4:
		f->kids[0][1] = 4;
		return "criteria[0]: no node for child 4";
	case 5: /* a cycle: 3 -> 2 */
		n[3].kind = TALLY__KIND__KIND_NOT;
		n[3].n_codes = 0;
		n[3].has_window_from = n[3].has_window_to = 0;
		n[3].children = f->kids[3];
		n[3].n_children = 1;
		f->kids[3][0] = 2;
		return "criteria[3]: must come before its child 2";
	case 6: /* a self-loop */
		f->kids[2][0] = 2;
		return "criteria[2]: must come before its child 2";
	case 7:
		f->kids[2][0] = 200;
		return "criteria[2]: no node for child 200";
	case 8: /* a DAG, not a tree */
		f->kids[0][0] = 1;
		f->kids[0][1] = 3;
		f->kids[0][2] = 2;
		n[0].n_children = 3;
		return "criteria[2]: tree expected, reached twice: node 3";
	case 9:
		f->kids[0][1] = 3;
		n[2].kind = TALLY__KIND__KIND_SEX;
		n[2].n_children = 0;
		n[2].sexes = f->words;
		n[2].n_sexes = 1;
		f->words[0] = "F";
		return "criteria[2]: not reachable from criteria[0]";
	case 10:
		f->kids[2][1] = 1;
		n[2].n_children = 2;
		return "criteria[2]: not needs exactly one child, has 2";
	case 11:
		n[0].n_children = 0;
		return "criteria[0]: all needs at least one child";
	case 12:
		n[3].n_children = 1;
		n[3].children = f->kids[3];
		return "criteria[3]: children is not allowed for kind drug";
	default:
		return NULL;
	}
}

static const char *
bend_node(struct fx *f, int i)
{
	Tally__Criterion *n = f->n;

	switch (i) {
	case 13:
		n[1].n_codes = 1;
		n[1].codes = f->codes;
		return "criteria[1]: codes is not allowed for kind age";
	case 14:
		n[1].has_age_max = 1;
		n[1].age_max = 17;
		return "criteria[1]: age_min 18 is above age_max 17";
	case 15:
		n[1].age_min = 151;
		return "criteria[1]: ages must lie within 0..150";
	case 16:
		n[3].window_from = 31;
		return "criteria[3]: window_from 31 is after window_to 30";
	case 17:
		n[3].has_window_to = 0;
		return "criteria[3]: window needs both window_from and "
		       "window_to";
	case 18:
		n[3].window_to = 36501;
		return "criteria[3]: window days must lie within -36500..36500";
	case 19:
		n[3].has_at_least = n[3].has_at_most = 1;
		n[3].at_least = 3;
		n[3].at_most = 2;
		return "criteria[3]: at_most 2 is below at_least 3";
	case 20:
		n[3].has_at_most = 1;
		return "criteria[3]: at_most 0 is below at_least 1 (the "
		       "default)";
	case 21:
		n[3].has_value_min = 1;
		return "criteria[3]: value_min/value_max is not allowed for "
		       "kind drug";
	case 22:
		n[3].kind = TALLY__KIND__KIND_LAB;
		n[3].has_value_min = n[3].has_value_max = 1;
		n[3].value_min = 7;
		n[3].value_max = 6.5;
		return "criteria[3]: value_min 7 is above value_max 6.5";
	case 23:
		n[3].kind = TALLY__KIND__KIND_LAB;
		n[3].has_value_max = 1;
		n[3].value_max = __builtin_nan("");
		return "criteria[3]: value bound is not a finite number";
	case 24:
		n[3].kind = TALLY__KIND__KIND_LAB;
		n[3].unit = "";
		return "criteria[3]: unit must be 1..32 bytes of UTF-8 without "
		       "control characters";
	case 25:
		n[3].kind = TALLY__KIND__KIND_VISIT;
		return "criteria[3]: codes is not allowed for kind visit";
	case 26:
		n[3].kind = TALLY__KIND__KIND_VISIT;
		n[3].n_codes = 0;
		n[3].visit_types = f->words;
		n[3].n_visit_types = 2;
		f->words[0] = "inpatient";
		f->words[1] = "inpatient";
		return "criteria[3]: visit_types[1] \"inpatient\" repeated";
	case 27:
		n[1].kind = TALLY__KIND__KIND_SEX;
		n[1].has_age_min = 0;
		n[1].sexes = f->words;
		n[1].n_sexes = 1;
		f->words[0] = "X";
		return "criteria[1]: sexes[0] is not one of F, M, U";
	case 28:
		n[1].kind = TALLY__KIND__KIND_DEATH;
		return "criteria[1]: age_min/age_max is not allowed for kind "
		       "death";
	case 29:
		n[1].has_kind = 0;
		return "criteria[1]: missing kind";
	case 30:
		n[1].kind = 99;
		return "criteria[1]: unknown kind 99";
	case 31:
		f->codes[1] = "ATC";
		return "criteria[3]: codes[0]: \"ATC\" needs a code system, "
		       "e.g. \"KCD8:ATC\"";
	default:
		return NULL;
	}
}

static const char *
bend_query(struct fx *f, int i)
{
	Tally__Criterion *n = f->n;

	switch (i) {
	case 32:
		f->strata[1] = TALLY__STRATUM__STRATUM_SEX;
		f->q.n_strata = 2;
		return "strata[1]: \"sex\" repeated";
	case 33:
		f->strata[0] = 9;
		return "strata[0]: unknown stratum 9";
	case 34:
		f->q.n_strata = 6;
		return "strata: 6 strata, at most 5";
	case 35:
		f->q.period_from = "2015-02-29";
		return "period_from: not a date (YYYY-MM-DD)";
	case 36:
		f->q.period_to = "2014-12-31";
		return "period_from 2015-01-01 is after period_to 2014-12-31";
	case 37:
		f->q.has_version = 1;
		f->q.version = 2;
		return "version: 2 is not supported (1)";
	case 38:
		f->q.title = "a\nb";
		return "title: at most 256 bytes of UTF-8 without control "
		       "characters";
	case 39:
		f->q.has_occurrence = 1;
		f->q.occurrence = 3;
		return "occurrence: unknown value 3";
	case 40: /* too many nodes: a flat all of 256 leaves */
		n[0].n_children = QUERY_MAX_NODES;
		f->q.n_criteria = QUERY_MAX_NODES + 1;
		return "criteria: 257 nodes, at most 256";
	case 41: /* too many codes: 1 + 1024 */
		for (size_t k = 1; k <= QUERY_MAX_CODES; k++)
			f->codes[k] = bigcode;
		n[3].n_codes = QUERY_MAX_CODES;
		return "criteria[3]: more than 1024 codes in the query";
	case 42:
		f->np[1] = NULL;
		return "criteria[1]: missing";
	default:
		return NULL;
	}
}

static const char *
bend(struct fx *f, int i)
{
	return i < 13 ? bend_tree(f, i)
	    : i < 32  ? bend_node(f, i)
		      : bend_query(f, i);
}

static void
check_bad(void **state)
{
	struct fx *f = malloc(sizeof(*f));
	char err[512];
	size_t wrong = 0;
	const char *want;
	int i;

	(void)state;
	assert_non_null(f);
	fx_init(f);
	if (query_check(&f->q, err, sizeof(err)) == -1)
		fail_msg("fixture refused: %s", err);
	for (i = 0; fx_init(f), (want = bend(f, i)) != NULL; i++) {
		err[0] = '\0';
		if (query_check(&f->q, err, sizeof(err)) == 0 ||
		    strcmp(err, want) != 0) {
			print_error(
			    "case %d\n  want: %s\n  got:  %s\n", i, want, err);
			wrong++;
		}
	}
	assert_true(i > 40);
	assert_int_equal(wrong, 0);
	free(f);
}

/* The fixture packs, unpacks to the same bytes, and prints as JSON that
 * compiles back to a query with the same meaning. */
static void
check_good(void **state)
{
	struct fx *f = malloc(sizeof(*f));
	Tally__Query *u, *v;
	uint8_t *b1, *b2;
	size_t n1, n2;
	char err[512], *j;

	(void)state;
	assert_non_null(f);
	fx_init(f);
	b1 = query_pack(&f->q, &n1);
	assert_non_null(b1);
	u = query_unpack(b1, n1, err, sizeof(err));
	if (u == NULL)
		fail_msg("%s", err);
	b2 = query_pack(u, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
	assert_non_null(j = query_to_json(u, 0));
	assert_string_equal(j,
	    "{\"index\":{\"diagnosis\":{\"codes\":[\"KCD8:I48*\"]},"
	    "\"occurrence\":\"first\"},\"period\":{\"from\":\"2015-01-01\"},"
	    "\"criteria\":{\"all\":[{\"age\":{\"min\":18}},{\"not\":{\"drug\":"
	    "{\"codes\":[\"ATC:B01AA*\"]},\"within_days\":[0,30]}}]},"
	    "\"strata\":[\"sex\"]}");
	if (query_from_json(j, strlen(j), &v, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(v->n_criteria, 4);
	free(j);
	/* The layout of docs/examples, for people. */
	assert_non_null(j = query_to_json(u, 1));
	assert_string_equal(j,
	    "{\n"
	    "  \"index\": {\"diagnosis\": {\"codes\": [\"KCD8:I48*\"]}, "
	    "\"occurrence\": \"first\"},\n"
	    "  \"period\": {\"from\": \"2015-01-01\"},\n"
	    "  \"criteria\": {\"all\": [\n"
	    "      {\"age\": {\"min\": 18}},\n"
	    "      {\"not\": {\"drug\": {\"codes\": [\"ATC:B01AA*\"]}, "
	    "\"within_days\": [0, 30]}}\n"
	    "  ]},\n"
	    "  \"strata\": [\"sex\"]\n"
	    "}\n");
	query_free(u);
	query_free(v);
	free(b1);
	free(b2);
	free(j);
	/* query_to_json refuses what query_check refuses. */
	f->kids[2][0] = 2;
	assert_null(query_to_json(&f->q, 1));
	free(f);
}

static uint8_t *
fx_pack(size_t *len)
{
	struct fx *f = malloc(sizeof(*f));
	uint8_t *b;

	assert_non_null(f);
	fx_init(f);
	b = query_pack(&f->q, len);
	assert_non_null(b);
	free(f);
	return b;
}

static void
unpack_bad(void **state)
{
	char err[512];
	size_t len, n;
	uint8_t *b = fx_pack(&len), *big;

	(void)state;
	/* Cut anywhere: fails cleanly or (on a field boundary) decodes. */
	for (n = 0; n < len; n++)
		query_free(query_unpack(b, n, err, sizeof(err)));
	assert_null(query_unpack(b, 0, err, sizeof(err)));
	assert_string_equal(err, "index: missing");
	assert_null(query_unpack(b, len - 1, err, sizeof(err)));
	assert_string_equal(err, "malformed query");
	/* A field from a newer version is refused, not ignored: its meaning
	 * would be lost. Field 99, varint 1. */
	big = malloc(QUERY_MAX_BYTES + 1);
	assert_non_null(big);
	memcpy(big, b, len);
	memcpy(big + len, "\x98\x06\x01", 3);
	assert_null(query_unpack(big, len + 3, err, sizeof(err)));
	assert_string_equal(err,
	    "query: unknown field 99 (from a newer "
	    "version?)");
	assert_null(query_unpack(big, QUERY_MAX_BYTES + 1, err, sizeof(err)));
	assert_string_equal(err,
	    "query of 262145 bytes exceeds the 262144 "
	    "byte limit");
	/* 128k empty criteria in 256 KiB would take ~30 MB to unpack. */
	for (n = 0; n + 2 <= QUERY_MAX_BYTES; n += 2)
		memcpy(big + n, "\x3a\x00", 2);
	assert_null(query_unpack(big, n, err, sizeof(err)));
	assert_string_equal(err, "query unpack budget exceeded");
	free(big);
	free(b);
}

/* xorshift64*: the same mutations on every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static const char *const tokens[] = { "\"all\"", "\"any\"", "\"not\"",
	"\"age\"", "\"sex\"", "\"death\"", "{}", "[]", "\"KCD8:I48*\"", "\"*\"",
	"\"within_days\"", "[0, 30]", "[-36500, 36500]", "\"at_least\"",
	"\"at_most\"", "0", "-1", "36501", "1e400", "1.5", "\"codes\"",
	"\"types\"", "\"inpatient\"", "\"F\"", "\"2015-02-29\"", ",", ":",
	"\"strata\"", "\"site\"", "null", "true", "\"\\u0000\"", "\"\\ud800\"",
	"{\"not\": {\"death\": {}}}", "\"occurrence\"", "\"last\"", "\"value\"",
	"{\"min\": 1e308, \"max\": -0.0}", "\"unit\"", "\"\xc3\xa9\"",
	"\"\xff\"", "{\"visit\": {\"types\": [\"emergency\"]}}",
	"{\"sex\": [\"U\", \"M\"]}", "\"by_site\"" };

/* One random edit of t (len bytes, room for cap). */
static size_t
mutate(char *t, size_t len, size_t cap, uint64_t *s)
{
	size_t at = len ? rnd(s) % len : 0, n;
	const char *tok;

	switch (rnd(s) % 5) {
	case 0: /* replace a byte */
		if (len > 0)
			t[at] = (char)(rnd(s) % 256);
		return len;
	case 1: /* delete a span */
		n = 1 + rnd(s) % 8;
		if (at + n > len)
			n = len - at;
		memmove(t + at, t + at + n, len - at - n);
		return len - n;
	case 2: /* insert a token */
		tok = tokens[rnd(s) % nitems(tokens)];
		n = strlen(tok);
		if (len + n > cap)
			return len;
		memmove(t + at + n, t + at, len - at);
		memcpy(t + at, tok, n);
		return len + n;
	case 3: /* duplicate a span */
		n = 1 + rnd(s) % 32;
		if (at + n > len || len + n > cap)
			return len;
		memmove(t + at + n, t + at, len - at);
		return len + n;
	default: /* cut */
		return at;
	}
}

/* Whatever survives a mutation is a good query: it checks, its bytes
 * round-trip, and its JSON compiles back to the same bytes. */
static void
survivor(Tally__Query *q)
{
	Tally__Query *u, *v;
	uint8_t *b1, *b2, *b3;
	size_t n1, n2, n3;
	char err[512], *j;

	assert_int_equal(query_check(q, err, sizeof(err)), 0);
	assert_non_null(b1 = query_pack(q, &n1));
	assert_non_null(u = query_unpack(b1, n1, err, sizeof(err)));
	assert_non_null(b2 = query_pack(u, &n2));
	assert_true(n1 == n2 && memcmp(b1, b2, n1) == 0);
	assert_non_null(j = query_to_json(u, 0));
	if (query_from_json(j, strlen(j), &v, err, sizeof(err)) == -1)
		fail_msg("%s\n  -> %s", j, err);
	assert_non_null(b3 = query_pack(v, &n3));
	assert_true(n1 == n3 && memcmp(b1, b3, n1) == 0);
	query_free(u);
	query_free(v);
	free(b1);
	free(b2);
	free(b3);
	free(j);
}

static const char *const seeds[] = {
	"{\"title\": \"AF\", \"index\": {\"diagnosis\": {\"codes\": "
	"[\"KCD8:I48*\", \"ICD10:I48*\"]}, \"occurrence\": \"first\"}, "
	"\"period\": {\"from\": \"2015-01-01\", \"to\": \"2024-12-31\"}, "
	"\"criteria\": {\"all\": [{\"age\": {\"min\": 18}}, {\"drug\": "
	"{\"codes\": [\"ATC:B01AA*\", \"ATC:B01AF*\"]}, \"within_days\": [0, "
	"30]}, {\"not\": {\"diagnosis\": {\"codes\": [\"KCD8:I05*\"]}, "
	"\"within_days\": [-365, -1]}}, {\"lab\": {\"codes\": "
	"[\"LOINC:4548-4\"], \"value\": {\"min\": 6.5}}, \"within_days\": "
	"[-90, 0], \"at_least\": 1}]}, \"strata\": [\"sex\", \"age_band\", "
	"\"index_year\"], \"by_site\": true}",
	"{\"index\": {\"visit\": {\"types\": [\"inpatient\"]}, "
	"\"occurrence\": \"all\"}, \"criteria\": {\"any\": [{\"sex\": "
	"[\"F\"]}, {\"death\": {}, \"within_days\": [0, 30]}, {\"procedure\": "
	"{\"codes\": [\"EDI:FZ571\"]}, \"at_least\": 2, \"at_most\": 5}]}, "
	"\"strata\": [\"site\", \"consortium\"]}",
};

static void
fuzz_json(void **state)
{
	size_t cap = 8192, ok = 0, runs = 0;
	char *t = malloc(cap), err[512];
	uint64_t s = 0x9e3779b97f4a7c15ull;

	(void)state;
	assert_non_null(t);
	for (size_t k = 0; k < nitems(seeds); k++) {
		for (int r = 0; r < 4000; r++) {
			size_t len = strlen(seeds[k]);
			Tally__Query *q;
			memcpy(t, seeds[k], len);
			for (uint64_t m = 1 + rnd(&s) % 3; m > 0; m--)
				len = mutate(t, len, cap, &s);
			runs++;
			if (query_from_json(t, len, &q, err, sizeof(err)) == -1)
				continue;
			survivor(q);
			query_free(q);
			ok++;
		}
	}
	/* Some mutants must survive, or the property above tests nothing. */
	print_message("%zu of %zu text mutants compiled\n", ok, runs);
	assert_true(ok > 0);
	free(t);
}

/* Where a value sits: an object member or an array element. */
struct slot {
	json_t *parent;
	const char *key;
	size_t idx;
};

static void
collect(json_t *v, struct slot *s, size_t *n, size_t cap)
{
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
		{
			if (*n < cap)
				s[(*n)++] = (struct slot){ v, key, 0 };
			collect(e, s, n, cap);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (*n < cap)
				s[(*n)++] = (struct slot){ v, NULL, i };
			collect(e, s, n, cap);
		}
	}
}

static const char *const keys[] = { "all", "any", "not", "diagnosis", "lab",
	"drug", "procedure", "visit", "age", "sex", "death", "within_days",
	"at_least", "at_most", "codes", "types", "value", "unit", "min", "max",
	"from", "to", "occurrence", "strata", "by_site", "title", "criteria" };

/* One edit of the tree: replace, delete, add or duplicate a value. */
static void
tree_mutate(json_t *root, uint64_t *s)
{
	struct slot sl[512];
	size_t n = 0;
	json_t *v, *cur;

	collect(root, sl, &n, nitems(sl));
	if (n == 0)
		return;
	struct slot *t = &sl[rnd(s) % n];
	cur = t->key ? json_object_get(t->parent, t->key)
		     : json_array_get(t->parent, t->idx);
	switch (rnd(s) % 4) {
	case 0: /* replace with a token */
		v = json_loads(
		    tokens[rnd(s) % nitems(tokens)], JSON_DECODE_ANY, NULL);
		if (v == NULL)
			v = json_integer((json_int_t)(rnd(s) % 80000) - 40000);
		break;
	case 1: /* delete */
		if (t->key)
			json_object_del(t->parent, t->key);
		else
			json_array_remove(t->parent, t->idx);
		return;
	case 2: /* a new member beside it, or a copy of it */
		v = json_deep_copy(cur);
		if (t->key) {
			json_object_set_new(
			    t->parent, keys[rnd(s) % nitems(keys)], v);
			return;
		}
		json_array_append_new(t->parent, v);
		return;
	default: /* a number nearby */
		v = json_is_integer(cur)
		    ? json_integer(json_integer_value(cur) +
			  (json_int_t)(rnd(s) % 5) - 2)
		    : json_real((double)(rnd(s) % 100) / 8);
		break;
	}
	if (t->key)
		json_object_set_new(t->parent, t->key, v);
	else
		json_array_set_new(t->parent, t->idx, v);
}

static void
fuzz_tree(void **state)
{
	uint64_t s = 0x6a09e667f3bcc909ull;
	size_t ok = 0, runs = 0;
	char err[512], *t;

	(void)state;
	for (size_t k = 0; k < nitems(seeds); k++) {
		json_t *seed = json_loads(seeds[k], 0, NULL);
		assert_non_null(seed);
		for (int r = 0; r < 4000; r++) {
			json_t *j = json_deep_copy(seed);
			Tally__Query *q;
			for (uint64_t m = 1 + rnd(&s) % 3; m > 0; m--)
				tree_mutate(j, &s);
			t = json_dumps(j, JSON_COMPACT);
			json_decref(j);
			assert_non_null(t);
			runs++;
			if (query_from_json(
				t, strlen(t), &q, err, sizeof(err)) == 0) {
				survivor(q);
				query_free(q);
				ok++;
			}
			free(t);
		}
		json_decref(seed);
	}
	print_message("%zu of %zu tree mutants compiled\n", ok, runs);
	assert_true(ok > runs / 20);
}

static void
fuzz_bytes(void **state)
{
	uint64_t s = 0x2545f4914f6cdd1dull;
	size_t len, ok = 0, n;
	uint8_t *b = fx_pack(&len), *t = malloc(len + 64);
	char err[512], *j;

	(void)state;
	assert_non_null(t);
	for (int r = 0; r < 20000; r++) {
		Tally__Query *q, *v;
		memcpy(t, b, len);
		n = len;
		for (uint64_t m = 1 + rnd(&s) % 3; m > 0; m--) {
			size_t at = rnd(&s) % n;
			if (rnd(&s) % 4 == 0)
				n = at + 1;
			else
				t[at] = (uint8_t)rnd(&s);
		}
		if ((q = query_unpack(t, n, err, sizeof(err))) == NULL)
			continue;
		/* Accepted bytes print as JSON that compiles. */
		assert_non_null(j = query_to_json(q, 1));
		if (query_from_json(j, strlen(j), &v, err, sizeof(err)) == -1)
			fail_msg("%s\n  -> %s", j, err);
		query_free(v);
		query_free(q);
		free(j);
		ok++;
	}
	print_message("%zu of 20000 byte mutants unpacked\n", ok);
	assert_true(ok > 0);
	free(t);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_bad),
		cmocka_unit_test(check_good),
		cmocka_unit_test(unpack_bad),
		cmocka_unit_test(fuzz_json),
		cmocka_unit_test(fuzz_tree),
		cmocka_unit_test(fuzz_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
