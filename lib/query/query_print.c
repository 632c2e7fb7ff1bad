/*
 * query_print.c — owns the way back to people: a compiled query shown as
 * JSON in the language of docs/query-language.md, so that a researcher or
 * a DRB reviewer reads exactly what was compiled, approved and run.
 *
 * It prints only queries that pass query_check() (so the walk is a tree
 * and ends), writes keys in one fixed order, and prints what it is given:
 * query_from_json() of its output packs to the same bytes as the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "query.h"
#include "table.h"
#include "util.h"

/* json_object_set_new / json_array_append_new that remember a failure. */
static void
put(json_t *obj, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(obj, key, v) == -1)
		*bad = 1;
}

static void
add(json_t *arr, json_t *v, int *bad)
{
	if (v == NULL || json_array_append_new(arr, v) == -1)
		*bad = 1;
}

static json_t *
strings(char *const *v, size_t n, int *bad)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		add(arr, json_string(v[i]), bad);
	if (arr == NULL)
		*bad = 1;
	return arr;
}

/* Body of an event kind: codes, lab value and unit, visit types. */
static json_t *
event_body(const Tally__Criterion *c, int *bad)
{
	json_t *o = json_object(), *v;

	if (o == NULL) {
		*bad = 1;
		return NULL;
	}
	if (c->kind == TALLY__KIND__KIND_VISIT)
		put(o, "types", strings(c->visit_types, c->n_visit_types, bad),
		    bad);
	else
		put(o, "codes", strings(c->codes, c->n_codes, bad), bad);
	if (c->has_value_min || c->has_value_max) {
		put(o, "value", v = json_object(), bad);
		if (v != NULL && c->has_value_min)
			put(v, "min", json_real(c->value_min), bad);
		if (v != NULL && c->has_value_max)
			put(v, "max", json_real(c->value_max), bad);
	}
	if (c->unit != NULL)
		put(o, "unit", json_string(c->unit), bad);
	return o;
}

static json_t *crit_json(const Tally__Query *, size_t, int *);

static json_t *
crit_body(const Tally__Query *q, const Tally__Criterion *c, int *bad)
{
	json_t *o;

	switch (c->kind) {
	case TALLY__KIND__KIND_ALL:
	case TALLY__KIND__KIND_ANY:
		if ((o = json_array()) == NULL)
			break;
		for (size_t i = 0; i < c->n_children; i++)
			add(o, crit_json(q, c->children[i], bad), bad);
		return o;
	case TALLY__KIND__KIND_NOT:
		return crit_json(q, c->children[0], bad);
	case TALLY__KIND__KIND_AGE:
		if ((o = json_object()) == NULL)
			break;
		if (c->has_age_min)
			put(o, "min", json_integer(c->age_min), bad);
		if (c->has_age_max)
			put(o, "max", json_integer(c->age_max), bad);
		return o;
	case TALLY__KIND__KIND_SEX:
		return strings(c->sexes, c->n_sexes, bad);
	case TALLY__KIND__KIND_DEATH:
		return json_object();
	default:
		return event_body(c, bad);
	}
	*bad = 1;
	return NULL;
}

static json_t *
crit_json(const Tally__Query *q, size_t i, int *bad)
{
	const Tally__Criterion *c = q->criteria[i];
	json_t *o, *w;

	if ((o = json_object()) == NULL) {
		*bad = 1;
		return NULL;
	}
	put(o, query_kind_name(c->kind), crit_body(q, c, bad), bad);
	if (c->has_window_from) {
		put(o, "within_days", w = json_array(), bad);
		if (w != NULL) {
			add(w, json_integer(c->window_from), bad);
			add(w, json_integer(c->window_to), bad);
		}
	}
	if (c->has_at_least)
		put(o, "at_least", json_integer(c->at_least), bad);
	if (c->has_at_most)
		put(o, "at_most", json_integer(c->at_most), bad);
	return o;
}

static json_t *
query_json(const Tally__Query *q, int *bad)
{
	json_t *root = json_object(), *o, *a;

	if (root == NULL) {
		*bad = 1;
		return NULL;
	}
	if (q->title != NULL && q->title[0] != '\0')
		put(root, "title", json_string(q->title), bad);
	put(root, "index", o = json_object(), bad);
	if (o != NULL) {
		put(o, query_kind_name(q->index->kind),
		    event_body(q->index, bad), bad);
		put(o, "occurrence",
		    json_string(query_occurrence_name(
			q->has_occurrence ? (int)q->occurrence : 0)),
		    bad);
	}
	if (q->period_from != NULL || q->period_to != NULL) {
		put(root, "period", o = json_object(), bad);
		if (o != NULL && q->period_from != NULL)
			put(o, "from", json_string(q->period_from), bad);
		if (o != NULL && q->period_to != NULL)
			put(o, "to", json_string(q->period_to), bad);
	}
	if (q->n_criteria > 0)
		put(root, "criteria", crit_json(q, 0, bad), bad);
	if (q->n_strata > 0) {
		put(root, "strata", a = json_array(), bad);
		for (size_t i = 0; a != NULL && i < q->n_strata; i++)
			add(a, json_string(table_stratum_name(q->strata[i])),
			    bad);
	}
	if (q->has_by_site && q->by_site)
		put(root, "by_site", json_true(), bad);
	return root;
}

/* 1 if "%.15g" gives back v exactly (then 6.5 prints as 6.5, not as
 * 6.5000000000000000). */
static int
short_enough(double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.15g", v);
	return strtod(buf, NULL) == v;
}

/* Digits that print every lab bound of q exactly. */
static int
precision(const Tally__Query *q)
{
	for (size_t i = 0; i <= q->n_criteria; i++) {
		const Tally__Criterion *c =
		    i < q->n_criteria ? q->criteria[i] : q->index;
		if ((c->has_value_min && !short_enough(c->value_min)) ||
		    (c->has_value_max && !short_enough(c->value_max)))
			return 17;
	}
	return 15;
}

/* ---------------------------------------------------------------- layout */

/* A growing string; bad once anything failed. */
struct sbuf {
	char *p;
	size_t len, cap;
	int bad;
};

static void
sb_add(struct sbuf *sb, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if (sb->bad)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = (sb->len + n + 1) * 2;
		if ((p = realloc(sb->p, cap)) == NULL) {
			sb->bad = 1;
			return;
		}
		sb->p = p;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, s, n + 1);
	sb->len += n;
}

static void
sb_indent(struct sbuf *sb, int n)
{
	for (int i = 0; i < n; i++)
		sb_add(sb, " ");
}

/* v on one line ("a": 1, "b": [2, 3]); takes v's reference. */
static void
sb_json(struct sbuf *sb, json_t *v, int prec)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(prec))
		    : NULL;

	if (s == NULL)
		sb->bad = 1;
	else
		sb_add(sb, s);
	free(s);
	json_decref(v);
}

/* A combinator's children one per line, anything else on one line. */
static void
sb_crit(struct sbuf *sb, const Tally__Query *q, size_t i, int depth, int prec)
{
	const Tally__Criterion *c = q->criteria[i];

	switch (c->kind) {
	case TALLY__KIND__KIND_ALL:
	case TALLY__KIND__KIND_ANY:
		sb_add(sb,
		    c->kind == TALLY__KIND__KIND_ALL ? "{\"all\": [\n"
						     : "{\"any\": [\n");
		for (size_t j = 0; j < c->n_children; j++) {
			sb_indent(sb, 6 + 4 * depth);
			sb_crit(sb, q, c->children[j], depth + 1, prec);
			sb_add(sb, j + 1 < c->n_children ? ",\n" : "\n");
		}
		sb_indent(sb, 2 + 4 * depth);
		sb_add(sb, "]}");
		break;
	case TALLY__KIND__KIND_NOT:
		sb_add(sb, "{\"not\": ");
		sb_crit(sb, q, c->children[0], depth, prec);
		sb_add(sb, "}");
		break;
	default:
		sb_json(sb, crit_json(q, i, &sb->bad), prec);
	}
}

/* The layout of docs/examples: one line per key, per criterion. */
static char *
layout(const Tally__Query *q, json_t *root, int prec)
{
	struct sbuf sb = { NULL, 0, 0, 0 };
	const char *key;
	json_t *v;
	size_t n = 0;

	sb_add(&sb, "{\n");
	json_object_foreach(root, key, v)
	{
		sb_add(&sb, n++ ? ",\n  \"" : "  \"");
		sb_add(&sb, key);
		sb_add(&sb, "\": ");
		if (strcmp(key, "criteria") == 0)
			sb_crit(&sb, q, 0, 0, prec);
		else
			sb_json(&sb, json_incref(v), prec);
	}
	sb_add(&sb, "\n}\n");
	if (sb.bad) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}

char *
query_to_json(const Tally__Query *q, int pretty)
{
	json_t *root;
	char *s = NULL;
	int bad = 0;

	if (query_check(q, NULL, 0) == -1)
		return NULL;
	root = query_json(q, &bad);
	if (!bad && pretty)
		s = layout(q, root, precision(q));
	else if (!bad)
		s = json_dumps(
		    root, JSON_COMPACT | JSON_REAL_PRECISION(precision(q)));
	json_decref(root);
	return s;
}
