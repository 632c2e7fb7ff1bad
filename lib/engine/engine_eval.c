/*
 * engine_eval.c — owns evaluating the criteria tree over the index
 * events, a whole set at a time: each node gets the bitset of events
 * still undecided ("live") and returns those for which it holds, so an
 * ALL stops asking its later children about events an earlier one
 * already failed. Person criteria (age, sex, death) are answered here;
 * event criteria by engine_event.c. It never follows a child index it
 * has not checked.
 */
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "eventset.h"
#include "query.h"
#include "util.h"

/* Node evaluations per run; a tree reaches a node more than once only if
 * it shares children, which query_check() refuses. */
#define EVAL_MAX (4 * QUERY_MAX_NODES)

static int
empty(const uint64_t *b, size_t words)
{
	for (size_t i = 0; i < words; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
person_holds(struct run *r, const Tally__Criterion *c, size_t e)
{
	const struct persons *p = &r->eng->persons;
	size_t s = (size_t)r->ev.slot[e];
	int64_t d = r->ev.day[e], age;

	switch (c->kind) {
	case TALLY__KIND__KIND_AGE:
		if (p->slot[s].birth == YEAR_NONE)
			return 0;
		age = (int64_t)date_year((int32_t)d) - p->slot[s].birth;
		return (!c->has_age_min || age >= c->age_min) &&
		    (!c->has_age_max || age <= c->age_max);
	case TALLY__KIND__KIND_SEX:
		for (size_t i = 0; i < c->n_sexes; i++)
			if (c->sexes[i] != NULL &&
			    c->sexes[i][0] == (char)p->slot[s].sex &&
			    c->sexes[i][1] == '\0')
				return 1;
		return 0;
	default: /* DEATH */
		if (p->slot[s].death == DAY_NONE)
			return 0;
		return (!c->has_window_from ||
			   d + c->window_from <= p->slot[s].death) &&
		    (!c->has_window_to || p->slot[s].death <= d + c->window_to);
	}
}

static void
person_criterion(struct run *r, const Tally__Criterion *c, const uint64_t *live,
    uint64_t *out)
{
	for (size_t w = 0; w < r->words; w++) {
		uint64_t bits = live[w], res = 0;

		while (bits != 0) {
			int b = __builtin_ctzll(bits);

			bits &= bits - 1;
			if (person_holds(r, c, w * 64 + (size_t)b))
				res |= (uint64_t)1 << b;
		}
		out[w] = res;
	}
}

/* Cheap children first: order does not change an ALL or an ANY. */
static int
cheap(const Tally__Query *q, uint32_t child)
{
	const Tally__Criterion *c =
	    child < q->n_criteria ? q->criteria[child] : NULL;

	return c == NULL || !eventset_kind((int)c->kind);
}

/* ALL (and == 1) or ANY (and == 0) over the children of node. */
static int
combine(
    struct run *r, size_t node, int and, const uint64_t *live, uint64_t *out)
{
	const Tally__Criterion *c = r->q->criteria[node];
	size_t bytes = r->words * sizeof(uint64_t);
	uint64_t *rest, *got;
	int rc = -1;

	rest = mem_calloc(
	    &r->eng->mem, r->words ? r->words : 1, 8, r->err, r->errlen);
	got = mem_calloc(
	    &r->eng->mem, r->words ? r->words : 1, 8, r->err, r->errlen);
	if (rest == NULL || got == NULL)
		goto done;
	memcpy(rest, live, bytes);
	memset(out, 0, bytes);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->n_children; i++) {
			uint32_t ch = c->children[i];

			if (cheap(r->q, ch) != (pass == 0))
				continue;
			if (empty(rest, r->words))
				break;
			if (ch <= node || ch >= r->q->n_criteria) {
				errf(r->err, r->errlen,
				    "criteria[%zu]: bad child index %u", node,
				    ch);
				goto done;
			}
			if (criteria_eval(r, ch, rest, got) == -1)
				goto done;
			for (size_t w = 0; w < r->words; w++) {
				if (and)
					rest[w] = got[w];
				else {
					out[w] |= got[w];
					rest[w] &= ~got[w];
				}
			}
		}
	if (and)
		memcpy(out, rest, bytes);
	rc = 0;
done:
	mem_free(&r->eng->mem, rest);
	mem_free(&r->eng->mem, got);
	return rc;
}

static int
negate(struct run *r, size_t node, const uint64_t *live, uint64_t *out)
{
	const Tally__Criterion *c = r->q->criteria[node];
	uint32_t ch;

	if (c->n_children != 1)
		return errf(r->err, r->errlen,
		    "criteria[%zu]: not needs exactly one child", node);
	ch = c->children[0];
	if (ch <= node || ch >= r->q->n_criteria)
		return errf(r->err, r->errlen,
		    "criteria[%zu]: bad child index %u", node, ch);
	if (criteria_eval(r, ch, live, out) == -1)
		return -1;
	for (size_t w = 0; w < r->words; w++)
		out[w] = live[w] & ~out[w];
	return 0;
}

int
criteria_eval(struct run *r, size_t node, const uint64_t *live, uint64_t *out)
{
	const Tally__Criterion *c;

	if (node >= r->q->n_criteria || (c = r->q->criteria[node]) == NULL)
		return errf(r->err, r->errlen, "criteria[%zu]: missing", node);
	if (++r->evals > EVAL_MAX)
		return errf(r->err, r->errlen, "criteria: tree too large");
	if (dbsafe_expired(r->eng->ds))
		return dbsafe_error(r->eng->ds, "criteria", r->err, r->errlen);
	switch (c->kind) {
	case TALLY__KIND__KIND_ALL:
		return combine(r, node, 1, live, out);
	case TALLY__KIND__KIND_ANY:
		return combine(r, node, 0, live, out);
	case TALLY__KIND__KIND_NOT:
		return negate(r, node, live, out);
	case TALLY__KIND__KIND_AGE:
	case TALLY__KIND__KIND_SEX:
	case TALLY__KIND__KIND_DEATH:
		person_criterion(r, c, live, out);
		return 0;
	default:
		if (!eventset_kind((int)c->kind))
			return errf(r->err, r->errlen,
			    "criteria[%zu]: unknown kind %d", node,
			    (int)c->kind);
		return event_criterion(r, c, live, out);
	}
}
