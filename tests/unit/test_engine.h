/*
 * test_engine.h — test-only helpers shared by test_engine.c and
 * test_engine_diff.c: build compiled queries in C (every field malloc'd,
 * so tally__query__free_unpacked() frees them) and scratch Baseline DBs.
 */
#ifndef TALLY_TEST_ENGINE_H
#define TALLY_TEST_ENGINE_H

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "engine.h"
#include "table.h"
#include "tally.pb-c.h"

#define UNUSED __attribute__((unused))
#define NONE   INT32_MIN /* an unset bound in the helpers below */

static UNUSED char *
t_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static UNUSED void *
t_grow(void *p, size_t n, size_t size)
{
	p = realloc(p, n * size);
	if (p == NULL)
		abort();
	return p;
}

/* Splits a comma-separated list into a malloc'd string array. */
static UNUSED size_t
t_list(const char *csv, char ***out)
{
	char *copy = t_strdup(csv), *save = NULL, *tok;
	size_t n = 0;

	*out = NULL;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		*out = t_grow(*out, n + 1, sizeof(char *));
		(*out)[n++] = t_strdup(tok);
	}
	free(copy);
	return n;
}

static UNUSED Tally__Criterion *
c_new(Tally__Kind kind)
{
	Tally__Criterion *c = malloc(sizeof(*c));

	if (c == NULL)
		abort();
	tally__criterion__init(c);
	c->has_kind = 1;
	c->kind = kind;
	return c;
}

/* An event criterion on codes ("KCD8:I48*,ICD10:I48"). */
static UNUSED Tally__Criterion *
c_event(Tally__Kind kind, const char *codes)
{
	Tally__Criterion *c = c_new(kind);

	if (kind == TALLY__KIND__KIND_VISIT)
		c->n_visit_types = codes ? t_list(codes, &c->visit_types) : 0;
	else
		c->n_codes = t_list(codes, &c->codes);
	return c;
}

static UNUSED Tally__Criterion *
c_window(Tally__Criterion *c, int32_t from, int32_t to)
{
	if (from != NONE) {
		c->has_window_from = 1;
		c->window_from = from;
	}
	if (to != NONE) {
		c->has_window_to = 1;
		c->window_to = to;
	}
	return c;
}

static UNUSED Tally__Criterion *
c_count(Tally__Criterion *c, int32_t least, int32_t most)
{
	if (least != NONE) {
		c->has_at_least = 1;
		c->at_least = (uint32_t)least;
	}
	if (most != NONE) {
		c->has_at_most = 1;
		c->at_most = (uint32_t)most;
	}
	return c;
}

/* Lab value range (NAN: unset) and unit (NULL: none). */
static UNUSED Tally__Criterion *
c_value(Tally__Criterion *c, double min, double max, const char *unit)
{
	if (!isnan(min)) {
		c->has_value_min = 1;
		c->value_min = min;
	}
	if (!isnan(max)) {
		c->has_value_max = 1;
		c->value_max = max;
	}
	if (unit != NULL)
		c->unit = t_strdup(unit);
	return c;
}

static UNUSED Tally__Criterion *
c_age(int32_t min, int32_t max)
{
	Tally__Criterion *c = c_new(TALLY__KIND__KIND_AGE);

	if (min != NONE) {
		c->has_age_min = 1;
		c->age_min = min;
	}
	if (max != NONE) {
		c->has_age_max = 1;
		c->age_max = max;
	}
	return c;
}

static UNUSED Tally__Criterion *
c_sex(const char *sexes)
{
	Tally__Criterion *c = c_new(TALLY__KIND__KIND_SEX);

	c->n_sexes = t_list(sexes, &c->sexes);
	return c;
}

static UNUSED Tally__Query *
q_new(Tally__Criterion *index, Tally__Occurrence occ, const char *from,
    const char *to)
{
	Tally__Query *q = malloc(sizeof(*q));

	if (q == NULL)
		abort();
	tally__query__init(q);
	q->index = index;
	q->has_occurrence = 1;
	q->occurrence = occ;
	if (from != NULL)
		q->period_from = t_strdup(from);
	if (to != NULL)
		q->period_to = t_strdup(to);
	return q;
}

/* Appends c as a child of parent (-1: the root) and returns its index. */
static UNUSED uint32_t
q_add(Tally__Query *q, int parent, Tally__Criterion *c)
{
	uint32_t i = (uint32_t)q->n_criteria;

	q->criteria = t_grow(q->criteria, i + 1, sizeof(*q->criteria));
	q->criteria[q->n_criteria++] = c;
	if (parent >= 0) {
		Tally__Criterion *p = q->criteria[parent];

		p->children = t_grow(
		    p->children, p->n_children + 1, sizeof(*p->children));
		p->children[p->n_children++] = i;
	}
	return i;
}

static UNUSED void
q_stratum(Tally__Query *q, Tally__Stratum s)
{
	q->strata = t_grow(q->strata, q->n_strata + 1, sizeof(*q->strata));
	q->strata[q->n_strata++] = s;
}

static UNUSED void
q_free(Tally__Query *q)
{
	tally__query__free_unpacked(q, NULL);
}

/* A new Baseline DB at path with the schema; fill it with t_exec(). */
static UNUSED sqlite3 *
t_db_new(const char *path)
{
	sqlite3 *db;
	char err[256];

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    baseline_create(db, err, sizeof(err)) == -1) {
		fprintf(stderr, "t_db_new %s: %s\n", path, err);
		abort();
	}
	sqlite3_exec(db, "PRAGMA synchronous = OFF; BEGIN", NULL, NULL, NULL);
	return db;
}

static UNUSED void
t_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "t_exec: %s\n%s\n", msg, sql);
		abort();
	}
}

/* Commits, builds the indexes and closes. */
static UNUSED void
t_db_done(sqlite3 *db)
{
	char err[256];

	t_exec(db, "COMMIT");
	if (baseline_index(db, err, sizeof(err)) == -1 ||
	    baseline_meta_set(db, "hospital_id", "test", err, sizeof(err)) ==
		-1) {
		fprintf(stderr, "t_db_done: %s\n", err);
		abort();
	}
	sqlite3_close(db);
}

/* The count of the cell with this key (0 if absent). */
static UNUSED uint64_t
t_cell(const struct table *t, const char *const *key)
{
	for (size_t i = 0; i < t->ncells; i++) {
		int same = 1;

		for (int k = 0; k < t->nstrata; k++)
			if (strcmp(t->cells[i].key[k], key[k]) != 0)
				same = 0;
		if (same)
			return t->cells[i].count;
	}
	return 0;
}

#endif
