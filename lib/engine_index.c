/*
 * engine_index.c — owns choosing a query's index events: the qualifying
 * rows of the index criterion (never after the person's death), reduced
 * to the first, the last or all (one per person and day) and kept if
 * inside the period. It never evaluates criteria (engine_eval.c does).
 */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "engine_int.h"
#include "eventset.h"
#include "util.h"

struct pick {
	struct run *r;
	const struct persons *p;
	int occ;
	int32_t from, to; /* period */
	int32_t *best;	  /* first/last: per slot */
	uint64_t *pairs;  /* all: slot << 32 | biased day */
	size_t n, cap;
};

static uint64_t
pair(int64_t slot, int32_t day)
{
	return (uint64_t)slot << 32 | ((uint32_t)day ^ 0x80000000u);
}

static int
on_row(void *arg, int64_t pid, int32_t day)
{
	struct pick *k = arg;
	int64_t s = persons_slot(k->p, pid);

	if (s < 0 || day > k->p->death[s])
		return 0;
	switch (k->occ) {
	case TALLY__OCCURRENCE__OCCURRENCE_FIRST:
		if (day < k->best[s])
			k->best[s] = day;
		return 0;
	case TALLY__OCCURRENCE__OCCURRENCE_LAST:
		if (day > k->best[s])
			k->best[s] = day;
		return 0;
	}
	if (day < k->from || day > k->to)
		return 0;
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 4096;
		uint64_t *np = mem_grow(&k->r->eng->mem, k->pairs, ncap,
		    sizeof(*np), k->r->err, k->r->errlen);

		if (np == NULL)
			return -1;
		k->pairs = np;
		k->cap = ncap;
	}
	k->pairs[k->n++] = pair(s, day);
	return 0;
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

/* Allocates ev for n events over the person slots. */
static int
events_alloc(struct run *r, size_t n)
{
	struct mem *m = &r->eng->mem;
	struct events *ev = &r->ev;

	if (n > INT32_MAX)
		return errf(r->err, r->errlen, "too many index events");
	ev->n = n;
	if ((ev->slot = mem_calloc(m, n ? n : 1, 4, r->err, r->errlen)) ==
		NULL ||
	    (ev->day = mem_calloc(m, n ? n : 1, 4, r->err, r->errlen)) ==
		NULL ||
	    (ev->off = mem_calloc(
		 m, r->eng->persons.n + 1, 4, r->err, r->errlen)) == NULL)
		return -1;
	return 0;
}

/* off[s] = first event of slot s, from the sorted ev->slot. */
static void
events_offsets(struct events *ev, size_t nslots)
{
	size_t e = 0;

	for (size_t s = 0; s <= nslots; s++) {
		while (e < ev->n && (size_t)ev->slot[e] < s)
			e++;
		ev->off[s] = (int32_t)e;
	}
}

static int
from_best(struct run *r, struct pick *k)
{
	size_t nslots = k->p->n, n = 0, e = 0;
	int32_t none = k->occ == TALLY__OCCURRENCE__OCCURRENCE_FIRST
	    ? DAY_NONE
	    : INT32_MIN;

	for (size_t s = 0; s < nslots; s++)
		if (k->best[s] != none && k->best[s] >= k->from &&
		    k->best[s] <= k->to)
			n++;
	if (events_alloc(r, n) == -1)
		return -1;
	for (size_t s = 0; s < nslots; s++)
		if (k->best[s] != none && k->best[s] >= k->from &&
		    k->best[s] <= k->to) {
			r->ev.slot[e] = (int32_t)s;
			r->ev.day[e++] = k->best[s];
		}
	return 0;
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
	if (events_alloc(r, n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		r->ev.slot[i] = (int32_t)(k->pairs[i] >> 32);
		r->ev.day[i] = (int32_t)((uint32_t)k->pairs[i] ^ 0x80000000u);
	}
	return 0;
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
	if (period(q->period_from, INT32_MIN, &k->from, "period.from", r->err,
		r->errlen) == -1 ||
	    period(q->period_to, INT32_MAX - 1, &k->to, "period.to", r->err,
		r->errlen) == -1)
		return -1;
	if (k->occ == TALLY__OCCURRENCE__OCCURRENCE_ALL)
		return 0;
	if ((k->best = mem_calloc(&r->eng->mem, k->p->n ? k->p->n : 1, 4,
		 r->err, r->errlen)) == NULL)
		return -1;
	for (size_t s = 0; s < k->p->n; s++)
		k->best[s] = k->occ == TALLY__OCCURRENCE__OCCURRENCE_FIRST
		    ? DAY_NONE
		    : INT32_MIN;
	return 0;
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
	if (eventset_scan(&es, r->eng->ds, 0, on_row, &k, err, errlen) != 0)
		goto done;
	if (k.best != NULL)
		rc = from_best(r, &k);
	else
		rc = from_pairs(r, &k);
	if (rc == 0)
		events_offsets(&r->ev, k.p->n);
done:
	r->eng->stats.rows += es.rows;
	mem_free(&r->eng->mem, k.best);
	mem_free(&r->eng->mem, k.pairs);
	eventset_clear(&es);
	return rc;
}

void
index_events_free(struct run *r)
{
	mem_free(&r->eng->mem, r->ev.slot);
	mem_free(&r->eng->mem, r->ev.day);
	mem_free(&r->eng->mem, r->ev.off);
	memset(&r->ev, 0, sizeof(r->ev));
}
