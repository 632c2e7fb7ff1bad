/*
 * eventset_codes.c — owns turning an event criterion's codes, value
 * range, unit and visit types into a struct eventset: "SYSTEM:CODE" and
 * "SYSTEM:PREFIX*" become disjoint sorted ranges. It never touches the
 * database (eventset.c does) and never trusts a length it did not check.
 */
#include <stdlib.h>
#include <string.h>

#include "eventset.h"
#include "query.h"
#include "util.h"

int
eventset_kind(int kind)
{
	return kind == TALLY__KIND__KIND_DIAGNOSIS ||
	    kind == TALLY__KIND__KIND_LAB || kind == TALLY__KIND__KIND_DRUG ||
	    kind == TALLY__KIND__KIND_PROCEDURE ||
	    kind == TALLY__KIND__KIND_VISIT;
}

/* "SYS:CODE" or "SYS:PREFIX*" into r; -1 if malformed. */
static int
code_parse(const char *s, struct evrange *r)
{
	const char *colon;
	size_t ns, nc;
	int prefix;

	if (s == NULL || (colon = strchr(s, ':')) == NULL)
		return -1;
	ns = (size_t)(colon - s);
	nc = strlen(colon + 1);
	prefix = nc > 0 && colon[nc] == '*';
	if (prefix)
		nc--;
	if (ns == 0 || ns > EVENTSET_CODE_MAX || nc > EVENTSET_CODE_MAX ||
	    (prefix && nc == 0) || memchr(colon + 1, '*', nc) != NULL)
		return -1;
	memcpy(r->sys, s, ns);
	r->sys[ns] = '\0';
	memcpy(r->lo, colon + 1, nc);
	r->lo[nc] = '\0';
	r->hi[0] = '\0';
	if (prefix) {
		unsigned char last = (unsigned char)r->lo[nc - 1];

		if (last == 0xff)
			return -1;
		/* Every string that starts with lo is in [lo, hi). */
		memcpy(r->hi, r->lo, nc + 1);
		r->hi[nc - 1] = (char)(last + 1);
	}
	return 0;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct evrange *x = a, *y = b;
	int c;

	if ((c = strcmp(x->sys, y->sys)) != 0)
		return c;
	if ((c = strcmp(x->lo, y->lo)) != 0)
		return c;
	/* A prefix sorts before the exact code it covers. */
	return (y->hi[0] != '\0') - (x->hi[0] != '\0');
}

/* Sorts and drops duplicates and codes a prefix already covers. */
static void
ranges_normalise(struct evrange *r, size_t *np)
{
	size_t n = *np, out = 0;
	const struct evrange *cover = NULL;

	qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (cover != NULL && strcmp(cover->sys, r[i].sys) == 0 &&
		    strncmp(r[i].lo, cover->lo, strlen(cover->lo)) == 0)
			continue;
		if (out > 0 && range_cmp(&r[out - 1], &r[i]) == 0)
			continue;
		if (out != i)
			r[out] = r[i];
		if (r[out].hi[0] != '\0')
			cover = &r[out];
		out++;
	}
	*np = out;
}

static int
init_visit(
    struct eventset *es, const Tally__Criterion *c, char *err, size_t errlen)
{
	if (c->n_visit_types == 0) {
		es->all = 1;
		return 0;
	}
	if (c->n_visit_types > QUERY_MAX_CODES)
		return errf(err, errlen, "too many visit types");
	if ((es->ranges = calloc(c->n_visit_types, sizeof(*es->ranges))) ==
	    NULL)
		return errf(err, errlen, "out of memory");
	for (size_t i = 0; i < c->n_visit_types; i++) {
		const char *t = c->visit_types[i];

		if (t == NULL || strlen(t) > EVENTSET_CODE_MAX)
			return errf(err, errlen, "bad visit type");
		strlcpy(es->ranges[i].lo, t, sizeof(es->ranges[i].lo));
	}
	es->nranges = c->n_visit_types;
	ranges_normalise(es->ranges, &es->nranges);
	return 0;
}

static int
init_codes(
    struct eventset *es, const Tally__Criterion *c, char *err, size_t errlen)
{
	if (c->n_codes > QUERY_MAX_CODES)
		return errf(err, errlen, "too many codes (%zu)", c->n_codes);
	if (c->n_codes == 0)
		return 0; /* matches nothing */
	if ((es->ranges = calloc(c->n_codes, sizeof(*es->ranges))) == NULL)
		return errf(err, errlen, "out of memory");
	for (size_t i = 0; i < c->n_codes; i++)
		if (code_parse(c->codes[i], &es->ranges[i]) == -1)
			return errf(err, errlen, "codes[%zu]: bad code", i);
	es->nranges = c->n_codes;
	ranges_normalise(es->ranges, &es->nranges);
	return 0;
}

int
eventset_init(
    struct eventset *es, const Tally__Criterion *c, char *err, size_t errlen)
{
	int rc;

	memset(es, 0, sizeof(*es));
	if (c == NULL || !c->has_kind || !eventset_kind((int)c->kind))
		return errf(err, errlen, "not an event criterion");
	es->kind = (int)c->kind;
	if (es->kind == TALLY__KIND__KIND_VISIT)
		rc = init_visit(es, c, err, errlen);
	else
		rc = init_codes(es, c, err, errlen);
	if (rc == -1) {
		eventset_clear(es);
		return -1;
	}
	if (es->kind == TALLY__KIND__KIND_LAB) {
		es->has_min = c->has_value_min;
		es->vmin = c->value_min;
		es->has_max = c->has_value_max;
		es->vmax = c->value_max;
		if (c->unit != NULL && c->unit[0] != '\0' &&
		    strlcpy(es->unit, c->unit, sizeof(es->unit)) >=
			sizeof(es->unit)) {
			eventset_clear(es);
			return errf(err, errlen, "unit too long");
		}
	}
	return 0;
}

void
eventset_clear(struct eventset *es)
{
	free(es->ranges);
	free(es->codes);
	memset(es, 0, sizeof(*es));
}
