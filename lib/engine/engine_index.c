/*
 * engine_index.c — owns choosing a query's index events: the qualifying
 * rows of the index criterion (never after the person's death), reduced
 * to the first, the last or all (one per person and day) and kept if
 * inside the period. Walking a code in (person, day) order it skips what
 * cannot matter: the rest of a person's rows once the first is known,
 * rows outside the period for `all`. Memory grows with the persons (and,
 * for `all`, the index events), never with the rows. It never evaluates
 * criteria (engine_eval.c does).
 */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "eventset.h"
#include "util.h"

struct pick {
	struct run *r;
	struct persons *p;
	int occ;
	int32_t from, to; /* period */
	int32_t *touched; /* first/last: slots whose best is set */
	uint64_t *pairs;  /* all: slot << 32 | biased day */
	size_t n, cap;
	int64_t done; /* walk: the person already decided in this code */
};

static uint64_t
pair(int64_t slot, int32_t day)
{
	return (uint64_t)slot << 32 | ((uint32_t)day ^ 0x80000000u);
}

static int
push(struct pick *k, uint64_t v)
{
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 4096;
		uint64_t *np = mem_grow(&k->r->eng->mem, k->pairs, ncap,
		    sizeof(*np), k->r->err, k->r->errlen);

		if (np == NULL)
			return -1;
		k->pairs = np;
		k->cap = ncap;
	}
	k->pairs[k->n++] = v;
	return 0;
}

/* A qualifying row of slot s (not after death): keep what matters. */
static int
take(struct pick *k, int64_t s, int32_t day)
{
	int32_t *b = &k->p->slot[s].best;

	switch (k->occ) {
	case TALLY__OCCURRENCE__OCCURRENCE_ALL:
		if (day < k->from || day > k->to)
			return 0;
		return push(k, pair(s, day));
	case TALLY__OCCURRENCE__OCCURRENCE_FIRST:
		if (*b == DAY_NONE && push(k, (uint64_t)s) == -1)
			return -1;
		if (*b == DAY_NONE || day < *b)
			*b = day;
		return 0;
	default:
		if (*b == DAY_NONE && push(k, (uint64_t)s) == -1)
			return -1;
		if (*b == DAY_NONE || day > *b)
			*b = day;
		return 0;
	}
}

/* The person's slot, read from the DB on first use; -2 on error. */
static int64_t
find(struct pick *k, int64_t pid)
{
	return persons_find(k->p, k->r->eng->ds, pid, k->r->err, k->r->errlen);
}

/* eventset_scan(): rows of any person in any order. */
static int
on_row(void *arg, int64_t pid, int32_t day)
{
	struct pick *k = arg;
	int64_t s = find(k, pid);

	if (s == -2)
		return -1;
	if (s < 0 || day > k->p->slot[s].death)
		return 0;
	return take(k, s, day);
}

static int
walk_first(void *arg, struct evpos *at)
{
	struct pick *k = arg;

	k->done = INT64_MIN;
	at->pid = INT64_MIN;
	at->day =
	    k->occ == TALLY__OCCURRENCE__OCCURRENCE_ALL ? k->from : INT32_MIN;
	return 1;
}

/* eventset_walk(): one code's rows in (person, day) order. */
static int
walk_row(void *arg, struct evrow *row, struct evpos *at)
{
	struct pick *k = arg;
	int64_t s;

	at->pid = row->pid == INT64_MAX ? INT64_MAX : row->pid + 1;
	at->day =
	    k->occ == TALLY__OCCURRENCE__OCCURRENCE_ALL ? k->from : INT32_MIN;
	if (row->pid == k->done)
		return EV_MISS; /* this person is decided in this code */
	if ((s = find(k, row->pid)) < 0)
		return s == -2 ? -1 : EV_MISS;
	if (evrow_day(row) == -1)
		return EV_USED; /* not a date: never counts */
	/* After death, and (days ascending) so is the rest. */
	if (row->day > k->p->slot[s].death)
		return EV_MISS;
	if (k->occ == TALLY__OCCURRENCE__OCCURRENCE_ALL) {
		if (row->day < k->from) {
			at->pid = row->pid;
			return EV_MISS;
		}
		if (row->day > k->to)
			return EV_MISS;
	}
	if (!evrow_counts(row))
		return EV_USED;
	/* The first row that counts is the person's first in this code. */
	if (k->occ == TALLY__OCCURRENCE__OCCURRENCE_FIRST)
		k->done = row->pid;
	return take(k, s, row->day) == -1 ? -1 : EV_USED;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
period(const char *s, int32_t dflt, int32_t *day, const char *what, char *err,
    size_t errlen)
{
	*day = dflt;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (date_parse(s, strlen(s), day) == -1)
		return errf(err, errlen, "%s: not a date (YYYY-MM-DD)", what);
	return 0;
}

/* Turns the sorted, distinct (slot << 32 | biased day) pairs into the
 * run's events, with each person's end and evpos. */
static int
events_build(struct run *r, const uint64_t *pairs, size_t n)
{
	struct mem *m = &r->eng->mem;
	struct persons *p = &r->eng->persons;
	struct events *ev = &r->ev;

	if (n > INT32_MAX)
		return errf(r->err, r->errlen, "too many index events");
	if ((ev->slot = mem_calloc(m, n ? n : 1, 4, r->err, r->errlen)) ==
		NULL ||
	    (ev->day = mem_calloc(m, n ? n : 1, 4, r->err, r->errlen)) ==
		NULL ||
	    (ev->end = mem_calloc(m, n ? n : 1, 4, r->err, r->errlen)) == NULL)
		return -1;
	ev->n = n;
	for (size_t i = 0; i < n; i++) {
		ev->slot[i] = (int32_t)(pairs[i] >> 32);
		ev->day[i] = (int32_t)((uint32_t)pairs[i] ^ 0x80000000u);
	}
	for (size_t i = n; i-- > 0;) {
		ev->end[i] = i + 1 < n && ev->slot[i + 1] == ev->slot[i]
		    ? ev->end[i + 1]
		    : (int32_t)(i + 1);
		p->slot[ev->slot[i]].evpos = (int32_t)i;
	}
	return 0;
}

/* first/last: the touched slots' best days, inside the period (and the
 * scratch back to rest, whether or not the events are wanted). */
static int
from_best(struct run *r, struct pick *k, int build)
{
	size_t n = 0;

	if (k->n > 1)
		qsort(k->pairs, k->n, sizeof(*k->pairs), u64_cmp);
	for (size_t i = 0; i < k->n; i++) {
		int64_t s = (int64_t)k->pairs[i];
		int32_t d = k->p->slot[s].best;

		k->p->slot[s].best = DAY_NONE; /* back to rest */
		if (d >= k->from && d <= k->to)
			k->pairs[n++] = pair(s, d);
	}
	return build ? events_build(r, k->pairs, n) : 0;
}

static int
from_pairs(struct run *r, struct pick *k)
{
	size_t n = 0;

	if (k->n > 1)
		qsort(k->pairs, k->n, sizeof(*k->pairs), u64_cmp);
	for (size_t i = 0; i < k->n; i++)
		if (i == 0 || k->pairs[i] != k->pairs[i - 1])
			k->pairs[n++] = k->pairs[i];
	return events_build(r, k->pairs, n);
}

static int
pick_init(struct run *r, struct pick *k)
{
	const Tally__Query *q = r->q;

	memset(k, 0, sizeof(*k));
	k->r = r;
	k->p = &r->eng->persons;
	k->occ = q->has_occurrence ? (int)q->occurrence
				   : TALLY__OCCURRENCE__OCCURRENCE_FIRST;
	if (k->occ != TALLY__OCCURRENCE__OCCURRENCE_FIRST &&
	    k->occ != TALLY__OCCURRENCE__OCCURRENCE_LAST &&
	    k->occ != TALLY__OCCURRENCE__OCCURRENCE_ALL)
		return errf(r->err, r->errlen, "occurrence: unknown value");
	if (period(q->period_from, INT32_MIN + 1, &k->from, "period.from",
		r->err, r->errlen) == -1 ||
	    period(q->period_to, INT32_MAX - 1, &k->to, "period.to", r->err,
		r->errlen) == -1)
		return -1;
	return 0;
}

/* Reads the qualifying rows: walking code by code where the codes can be
 * listed, else one scan of the ranges. */
static int
read_index(struct run *r, struct eventset *es, struct pick *k)
{
	struct evwalk w = { walk_first, walk_row, k, &r->eng->cost };
	struct dbsafe *ds = r->eng->ds;
	int rc;

	if (r->eng->lim.plan == ENGINE_PLAN_SCAN)
		return eventset_scan(es, ds, on_row, k, r->err, r->errlen);
	if ((rc = eventset_expand(
		 es, ds, EVENTSET_EXPAND_MAX, r->err, r->errlen)) == -1)
		return -1;
	if (rc == 1)
		return eventset_scan(es, ds, on_row, k, r->err, r->errlen);
	if (r->eng->lim.plan == ENGINE_PLAN_PROBE) {
		w.cost = NULL; /* seek at every miss */
		return eventset_walk(es, ds, &w, r->err, r->errlen);
	}
	return codes_walk(r, es, &w);
}

int
index_events(struct run *r, char *err, size_t errlen)
{
	const Tally__Criterion *c = r->q->index;
	struct eventset es;
	struct pick k;
	int rc = -1;

	if (c == NULL || !c->has_kind || !eventset_kind((int)c->kind))
		return errf(err, errlen, "index: not an event criterion");
	if (eventset_init(&es, c, err, errlen) == -1)
		return -1;
	if (pick_init(r, &k) == -1)
		goto done;
	rc = read_index(r, &es, &k);
	if (k.occ != TALLY__OCCURRENCE__OCCURRENCE_ALL)
		rc = from_best(r, &k, rc == 0) == -1 ? -1 : rc;
	else if (rc == 0)
		rc = from_pairs(r, &k);
done:
	r->eng->stats.rows += es.rows;
	r->eng->stats.probes += es.probes;
	mem_free(&r->eng->mem, k.pairs);
	eventset_clear(&es);
	return rc;
}

void
index_events_free(struct run *r)
{
	struct persons *p = &r->eng->persons;

	for (size_t i = 0; i < r->ev.n; i++)
		p->slot[r->ev.slot[i]].evpos = -1; /* back to rest */
	mem_free(&r->eng->mem, r->ev.slot);
	mem_free(&r->eng->mem, r->ev.day);
	mem_free(&r->eng->mem, r->ev.end);
	memset(&r->ev, 0, sizeof(r->ev));
}
