/*
 * query.c — owns the compiled query: its validation (query_check), its
 * canonical bytes (query_pack), the bounded way back from bytes
 * (query_unpack) and its release (query_free). The JSON side lives in
 * query_json.c (JSON -> compiled) and query_print.c (compiled -> JSON).
 *
 * It must never hand out a query that has not passed query_check(), never
 * unpack bytes it has not size-checked, never allocate past the unpack
 * budget, and never abort on bad input. Every Tally__Query it returns was
 * allocated by the budget allocator (lib/core/budget.c), so query_free() has
 * one way to release it whichever door it came in by.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "date.h"
#include "log.h"
#include "query.h"
#include "table.h"
#include "util.h"

/* Unpack budget: protobuf-c allocates far more than it reads (an empty
 * Criterion is 2 bytes on the wire and ~200 in memory). */
#define QUERY_BUDGET(len) (16 * (len) + (256u << 10))

/* ---------------------------------------------------------------- names */

static const char *const kind_names[] = { NULL, "all", "any", "not",
	"diagnosis", "lab", "drug", "procedure", "visit", "age", "sex",
	"death" };
static const char *const occurrence_names[] = { "first", "last", "all" };

const char *
query_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= nitems(kind_names))
		return NULL;
	return kind_names[kind];
}

const char *
query_occurrence_name(int occurrence)
{
	if (occurrence < 0 || (size_t)occurrence >= nitems(occurrence_names))
		return NULL;
	return occurrence_names[occurrence];
}

/* ---------------------------------------------------------------- codes */

static int
code_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '_' ||
	    c == '-';
}

int
query_code_check(const char *code, char *err, size_t errlen)
{
	size_t len, n, i;
	const char *colon;

	if (code == NULL || (len = strlen(code)) == 0)
		return errf(err, errlen, "empty code");
	if (len > QUERY_MAX_CODE_LEN)
		return errf(err, errlen, "code of %zu bytes exceeds %d", len,
		    QUERY_MAX_CODE_LEN);
	n = code[len - 1] == '*' ? len - 1 : len;
	for (i = 0; i < n; i++)
		if (!code_char(code[i]))
			break;
	if (i < n) {
		unsigned char ch = (unsigned char)code[i];
		if (ch == '*')
			return errf(err, errlen,
			    "\"%s\": '*' may only end a code", code);
		return errf(err, errlen,
		    ch > 0x20 && ch < 0x7f ? "invalid character '%c' at byte "
					     "%zu%s"
					   : "invalid byte 0x%02x at %zu%s",
		    ch, i + 1,
		    "; codes use A-Z a-z 0-9 . : _ - and a trailing *");
	}
	if (n == 0)
		return errf(err, errlen,
		    "a bare \"*\" matches everything; name a code system and "
		    "prefix, e.g. \"KCD8:I48*\"");
	if ((colon = memchr(code, ':', n)) == NULL)
		return errf(err, errlen,
		    "\"%s\" needs a code system, e.g. \"KCD8:%s\"", code, code);
	if (colon == code)
		return errf(err, errlen, "\"%s\": empty code system", code);
	if ((size_t)(colon - code) == n - 1)
		return errf(err, errlen, "\"%s\": empty %s after the system",
		    code, n < len ? "prefix" : "code");
	return 0;
}

/* ---------------------------------------------------------------- check */

/* Fields a Criterion may carry, by bit. */
enum {
	F_CHILDREN = 1 << 0,
	F_CODES = 1 << 1,
	F_WINDOW = 1 << 2,
	F_COUNT = 1 << 3,
	F_VALUE = 1 << 4,
	F_UNIT = 1 << 5,
	F_TYPES = 1 << 6,
	F_AGE = 1 << 7,
	F_SEXES = 1 << 8,
};

static const char *const field_names[] = { "children", "codes",
	"window_from/window_to", "at_least/at_most", "value_min/value_max",
	"unit", "visit_types", "age_min/age_max", "sexes" };

static unsigned
kind_fields(int kind, int is_index)
{
	unsigned ev = is_index ? 0 : F_WINDOW | F_COUNT;

	switch (kind) {
	case TALLY__KIND__KIND_ALL:
	case TALLY__KIND__KIND_ANY:
	case TALLY__KIND__KIND_NOT:
		return F_CHILDREN;
	case TALLY__KIND__KIND_DIAGNOSIS:
	case TALLY__KIND__KIND_DRUG:
	case TALLY__KIND__KIND_PROCEDURE:
		return F_CODES | ev;
	case TALLY__KIND__KIND_LAB:
		return F_CODES | F_VALUE | F_UNIT | ev;
	case TALLY__KIND__KIND_VISIT:
		return F_TYPES | ev;
	case TALLY__KIND__KIND_AGE:
		return F_AGE;
	case TALLY__KIND__KIND_SEX:
		return F_SEXES;
	case TALLY__KIND__KIND_DEATH:
		return F_WINDOW;
	default:
		return 0;
	}
}

static unsigned
crit_fields(const Tally__Criterion *c)
{
	unsigned f = 0;

	if (c->n_children > 0)
		f |= F_CHILDREN;
	if (c->n_codes > 0)
		f |= F_CODES;
	if (c->has_window_from || c->has_window_to)
		f |= F_WINDOW;
	if (c->has_at_least || c->has_at_most)
		f |= F_COUNT;
	if (c->has_value_min || c->has_value_max)
		f |= F_VALUE;
	if (c->unit != NULL)
		f |= F_UNIT;
	if (c->n_visit_types > 0)
		f |= F_TYPES;
	if (c->has_age_min || c->has_age_max)
		f |= F_AGE;
	if (c->n_sexes > 0)
		f |= F_SEXES;
	return f;
}

/* 1 if s is UTF-8 of 1..max bytes without control characters. */
static int
text_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max || !utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static const char *const visit_types[] = { "emergency", "inpatient",
	"outpatient" };
static const char *const sexes[] = { "F", "M", "U" };

/* Index of s in a fixed list, or -1. */
static int
word_index(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return (int)i;
	return -1;
}

static int
check_words(const char *where, const char *field, char *const *v, size_t n,
    const char *const *list, size_t nlist, char *err, size_t errlen)
{
	unsigned seen = 0;
	int w;

	for (size_t i = 0; i < n; i++) {
		if ((w = word_index(v[i], list, nlist)) < 0)
			return errf(err, errlen,
			    "%s: %s[%zu] is not one of "
			    "%s, %s, %s",
			    where, field, i, list[0], list[1], list[2]);
		if (seen & (1u << w))
			return errf(err, errlen, "%s: %s[%zu] \"%s\" repeated",
			    where, field, i, list[w]);
		seen |= 1u << w;
	}
	return 0;
}

static int
check_codes(const char *where, const Tally__Criterion *c, size_t *ncodes,
    char *err, size_t errlen)
{
	char why[200];

	if (c->n_codes > QUERY_MAX_CODES - *ncodes)
		return errf(err, errlen, "%s: more than %d codes in the query",
		    where, QUERY_MAX_CODES);
	*ncodes += c->n_codes;
	for (size_t i = 0; i < c->n_codes; i++)
		if (query_code_check(c->codes[i], why, sizeof(why)) == -1)
			return errf(
			    err, errlen, "%s: codes[%zu]: %s", where, i, why);
	return 0;
}

static int
check_window(
    const char *where, const Tally__Criterion *c, char *err, size_t errlen)
{
	if (!c->has_window_from && !c->has_window_to)
		return 0;
	if (!c->has_window_from || !c->has_window_to)
		return errf(err, errlen,
		    "%s: window needs both window_from "
		    "and window_to",
		    where);
	if (c->window_from < -QUERY_MAX_DAYS || c->window_to > QUERY_MAX_DAYS)
		return errf(err, errlen,
		    "%s: window days must lie within "
		    "-%d..%d",
		    where, QUERY_MAX_DAYS, QUERY_MAX_DAYS);
	if (c->window_from > c->window_to)
		return errf(err, errlen,
		    "%s: window_from %d is after "
		    "window_to %d",
		    where, c->window_from, c->window_to);
	return 0;
}

static int
check_count(
    const char *where, const Tally__Criterion *c, char *err, size_t errlen)
{
	uint32_t least = c->has_at_least ? c->at_least : 1;

	if (least > QUERY_MAX_COUNT ||
	    (c->has_at_most && c->at_most > QUERY_MAX_COUNT))
		return errf(err, errlen, "%s: at_least/at_most above %d", where,
		    QUERY_MAX_COUNT);
	if (c->has_at_most && c->at_most < least)
		return errf(err, errlen,
		    "%s: at_most %u is below at_least "
		    "%u%s",
		    where, c->at_most, least,
		    c->has_at_least ? "" : " (the default)");
	return 0;
}

static int
check_lab(
    const char *where, const Tally__Criterion *c, char *err, size_t errlen)
{
	if ((c->has_value_min && !isfinite(c->value_min)) ||
	    (c->has_value_max && !isfinite(c->value_max)))
		return errf(err, errlen,
		    "%s: value bound is not a finite "
		    "number",
		    where);
	if (c->has_value_min && c->has_value_max && c->value_min > c->value_max)
		return errf(err, errlen,
		    "%s: value_min %g is above value_max "
		    "%g",
		    where, c->value_min, c->value_max);
	if (c->unit != NULL && !text_ok(c->unit, QUERY_MAX_UNIT))
		return errf(err, errlen,
		    "%s: unit must be 1..%d bytes of "
		    "UTF-8 without control characters",
		    where, QUERY_MAX_UNIT);
	return 0;
}

static int
check_age(
    const char *where, const Tally__Criterion *c, char *err, size_t errlen)
{
	if ((c->has_age_min &&
		(c->age_min < 0 || c->age_min > QUERY_MAX_AGE)) ||
	    (c->has_age_max && (c->age_max < 0 || c->age_max > QUERY_MAX_AGE)))
		return errf(err, errlen, "%s: ages must lie within 0..%d",
		    where, QUERY_MAX_AGE);
	if (c->has_age_min && c->has_age_max && c->age_min > c->age_max)
		return errf(err, errlen, "%s: age_min %d is above age_max %d",
		    where, c->age_min, c->age_max);
	return 0;
}

/* Kind-specific content of one node; fields are already allowed. */
static int
check_content(const char *where, int kind, const Tally__Criterion *c,
    size_t *ncodes, char *err, size_t errlen)
{
	switch (kind) {
	case TALLY__KIND__KIND_ALL:
	case TALLY__KIND__KIND_ANY:
		if (c->n_children == 0)
			return errf(err, errlen,
			    "%s: %s needs at least one "
			    "child",
			    where, query_kind_name(kind));
		return 0;
	case TALLY__KIND__KIND_NOT:
		if (c->n_children != 1)
			return errf(err, errlen,
			    "%s: not needs exactly one "
			    "child, has %zu",
			    where, c->n_children);
		return 0;
	case TALLY__KIND__KIND_VISIT:
		if (c->n_visit_types == 0)
			return errf(err, errlen,
			    "%s: visit needs at least one "
			    "visit type",
			    where);
		if (check_words(where, "visit_types", c->visit_types,
			c->n_visit_types, visit_types, nitems(visit_types), err,
			errlen) == -1)
			return -1;
		break;
	case TALLY__KIND__KIND_AGE:
		return check_age(where, c, err, errlen);
	case TALLY__KIND__KIND_SEX:
		if (c->n_sexes == 0)
			return errf(err, errlen,
			    "%s: sex needs at least one "
			    "value",
			    where);
		return check_words(where, "sexes", c->sexes, c->n_sexes, sexes,
		    nitems(sexes), err, errlen);
	case TALLY__KIND__KIND_DEATH:
		return check_window(where, c, err, errlen);
	default: /* diagnosis, lab, drug, procedure */
		if (c->n_codes == 0)
			return errf(err, errlen,
			    "%s: %s needs at least one "
			    "code",
			    where, query_kind_name(kind));
		if (check_codes(where, c, ncodes, err, errlen) == -1)
			return -1;
		if (kind == TALLY__KIND__KIND_LAB &&
		    check_lab(where, c, err, errlen) == -1)
			return -1;
		break;
	}
	/* Event kinds. */
	if (check_window(where, c, err, errlen) == -1)
		return -1;
	return check_count(where, c, err, errlen);
}

static int
check_node(const char *where, const Tally__Criterion *c, int is_index,
    size_t *ncodes, char *err, size_t errlen)
{
	int kind;
	unsigned extra;

	if (c == NULL)
		return errf(err, errlen, "%s: missing", where);
	if (c->base.n_unknown_fields > 0)
		return errf(err, errlen,
		    "%s: unknown field %u (from a newer "
		    "version?)",
		    where, c->base.unknown_fields[0].tag);
	kind = c->has_kind ? (int)c->kind : 0;
	if (kind == 0)
		return errf(err, errlen, "%s: missing kind", where);
	if (query_kind_name(kind) == NULL)
		return errf(err, errlen, "%s: unknown kind %d", where, kind);
	if (is_index &&
	    (kind < TALLY__KIND__KIND_DIAGNOSIS ||
		kind > TALLY__KIND__KIND_VISIT))
		return errf(err, errlen,
		    "%s: %s cannot be an index event; "
		    "expected diagnosis, lab, drug, procedure or visit",
		    where, query_kind_name(kind));
	if ((extra = crit_fields(c) & ~kind_fields(kind, is_index)) != 0)
		return errf(err, errlen, "%s: %s is not allowed %s%s", where,
		    field_names[__builtin_ctz(extra)],
		    is_index ? "in the index event" : "for kind ",
		    is_index ? "" : query_kind_name(kind));
	return check_content(where, kind, c, ncodes, err, errlen);
}

/* Children point forward and every node but the root has one parent. */
static int
check_tree(const Tally__Query *q, char *err, size_t errlen)
{
	unsigned char seen[QUERY_MAX_NODES] = { 0 };
	size_t n = q->n_criteria;

	for (size_t i = 0; i < n; i++) {
		const Tally__Criterion *c = q->criteria[i];
		for (size_t j = 0; j < c->n_children; j++) {
			uint32_t k = c->children[j];
			if (k <= i)
				return errf(err, errlen, "criteria[%zu]: %s %u",
				    i, "must come before its child", k);
			if (k >= n)
				return errf(err, errlen, "criteria[%zu]: %s %u",
				    i, "no node for child", k);
			if (seen[k])
				return errf(err, errlen, "criteria[%zu]: %s %u",
				    i, "tree expected, reached twice: node", k);
			seen[k] = 1;
		}
	}
	for (size_t i = 1; i < n; i++)
		if (!seen[i])
			return errf(err, errlen, "criteria[%zu]: %s", i,
			    "not reachable from criteria[0]");
	return 0;
}

static int
check_period(const Tally__Query *q, char *err, size_t errlen)
{
	int32_t from = 0, to = 0;

	if (q->period_from != NULL &&
	    date_parse(q->period_from, strlen(q->period_from), &from) == -1)
		return errf(err, errlen,
		    "period_from: not a date "
		    "(YYYY-MM-DD)");
	if (q->period_to != NULL &&
	    date_parse(q->period_to, strlen(q->period_to), &to) == -1)
		return errf(err, errlen, "period_to: not a date (YYYY-MM-DD)");
	if (q->period_from != NULL && q->period_to != NULL && from > to)
		return errf(err, errlen,
		    "period_from %s is after period_to "
		    "%s",
		    q->period_from, q->period_to);
	return 0;
}

static int
check_strata(const Tally__Query *q, char *err, size_t errlen)
{
	unsigned seen = 0;

	if (q->n_strata > QUERY_MAX_STRATA)
		return errf(err, errlen, "strata: %zu strata, at most %d",
		    q->n_strata, QUERY_MAX_STRATA);
	for (size_t i = 0; i < q->n_strata; i++) {
		int s = (int)q->strata[i];
		if (s <= 0 || table_stratum_name(s) == NULL)
			return errf(err, errlen,
			    "strata[%zu]: unknown stratum "
			    "%d",
			    i, s);
		if (seen & (1u << s))
			return errf(err, errlen,
			    "strata[%zu]: \"%s\" "
			    "repeated",
			    i, table_stratum_name(s));
		seen |= 1u << s;
	}
	return 0;
}

static int
check_head(const Tally__Query *q, char *err, size_t errlen)
{
	if (q->base.n_unknown_fields > 0)
		return errf(err, errlen,
		    "query: unknown field %u (from a "
		    "newer version?)",
		    q->base.unknown_fields[0].tag);
	if (q->has_version && q->version != QUERY_VERSION)
		return errf(err, errlen, "version: %u is not supported (%d)",
		    q->version, QUERY_VERSION);
	if (q->title != NULL && q->title[0] != '\0' &&
	    !text_ok(q->title, QUERY_MAX_TITLE))
		return errf(err, errlen,
		    "title: at most %d bytes of UTF-8 "
		    "without control characters",
		    QUERY_MAX_TITLE);
	if (q->has_occurrence && query_occurrence_name(q->occurrence) == NULL)
		return errf(
		    err, errlen, "occurrence: unknown value %d", q->occurrence);
	if (q->index == NULL)
		return errf(err, errlen, "index: missing");
	if (check_period(q, err, errlen) == -1)
		return -1;
	return check_strata(q, err, errlen);
}

int
query_check(const Tally__Query *q, char *err, size_t errlen)
{
	char where[32];
	size_t ncodes = 0;

	if (q == NULL)
		return errf(err, errlen, "no query");
	if (check_head(q, err, errlen) == -1)
		return -1;
	if (check_node("index", q->index, 1, &ncodes, err, errlen) == -1)
		return -1;
	if (q->n_criteria > QUERY_MAX_NODES)
		return errf(err, errlen, "criteria: %zu nodes, at most %d",
		    q->n_criteria, QUERY_MAX_NODES);
	for (size_t i = 0; i < q->n_criteria; i++) {
		snprintf(where, sizeof(where), "criteria[%zu]", i);
		if (check_node(
			where, q->criteria[i], 0, &ncodes, err, errlen) == -1)
			return -1;
	}
	return check_tree(q, err, errlen);
}

/* ---------------------------------------------------------------- bytes */

uint8_t *
query_pack(const Tally__Query *q, size_t *lenp)
{
	uint8_t *buf;
	size_t len;

	len = tally__query__get_packed_size(q);
	if (len > QUERY_MAX_BYTES) {
		log_warnx("query: packed query of %zu bytes exceeds %u", len,
		    QUERY_MAX_BYTES);
		return NULL;
	}
	if ((buf = malloc(len ? len : 1)) == NULL) {
		log_warn("query: malloc");
		return NULL;
	}
	*lenp = tally__query__pack(q, buf);
	return buf;
}

Tally__Query *
query_unpack(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct budget b;
	ProtobufCAllocator a;
	Tally__Query *q;

	if (len > QUERY_MAX_BYTES) {
		errf(err, errlen,
		    "query of %zu bytes exceeds the %u byte "
		    "limit",
		    len, QUERY_MAX_BYTES);
		return NULL;
	}
	budget_init(&b, QUERY_BUDGET(len), &a);
	if ((q = tally__query__unpack(&a, len, buf)) == NULL) {
		errf(err, errlen, "%s",
		    b.exceeded ? "query unpack budget "
				 "exceeded"
			       : "malformed query");
		return NULL;
	}
	if (query_check(q, err, errlen) == -1) {
		query_free(q);
		return NULL;
	}
	return q;
}

void
query_free(Tally__Query *q)
{
	ProtobufCAllocator a;

	budget_allocator_free(&a);
	if (q != NULL)
		tally__query__free_unpacked(q, &a);
}
