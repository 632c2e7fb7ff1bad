/*
 * engine_event.c — owns evaluating one event criterion (diagnosis, lab,
 * drug, procedure, visit) for every live index event: how many of the
 * person's matching rows fall in the window around the index date, and
 * whether that count is within [at_least, at_most]. Rows are read code
 * by code in (person, day) order, merged with the live persons sorted
 * the same way: the walk seeks over persons that are not live, days
 * outside their windows and persons already decided, and steps where
 * stepping is cheaper. Memory grows with the index events, never with
 * the rows. It never reads rows itself (eventset.c does).
 */
#include <string.h>

#include "engine_int.h"
#include "eventset.h"
#include "util.h"

/* Windowless bounds, far outside any day yet safe to add to a day. */
#define FAR ((int64_t)1 << 40)

/* The persons with a live index event, in slot (= person id) order. */
struct live {
	size_t n;
	int32_t *slot;
	int64_t *id;
	int32_t *wlo, *whi; /* days a counting row can have */
	int32_t *hits;	    /* rows counted; INT32_MIN: several events */
};

struct count {
	struct run *r;
	const struct persons *p;
	const struct events *ev;
	int64_t from, to; /* window around the index day */
	int64_t *diff;	  /* +1 / -1 marks; prefix sums are the counts */
	struct live l;
	size_t li; /* walk: the live person at or after the row */
	int early; /* a person is decided once hits >= least */
	int64_t least;
};

static size_t
lower_bound(const int32_t *a, size_t lo, size_t hi, int64_t key)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A row on day t counts for the index days d in [a, b) with
 * d + from <= t <= d + to, i.e. t - to <= d <= t - from. */
static void
count_row(struct count *c, size_t a, size_t b, int32_t t)
{
	size_t i, j;

	if (b - a == 1) {
		int64_t d = c->ev->day[a];

		if (d + c->from <= t && t <= d + c->to) {
			c->diff[a]++;
			c->diff[a + 1]--;
		}
		return;
	}
	i = lower_bound(c->ev->day, a, b, (int64_t)t - c->to);
	j = lower_bound(c->ev->day, i, b, (int64_t)t - c->from + 1);
	if (i < j) {
		c->diff[i]++;
		c->diff[j]--;
	}
}

/* eventset_scan(): rows of any person in any order. */
static int
on_row(void *arg, int64_t pid, int32_t t)
{
	struct count *c = arg;
	int64_t s = persons_peek(c->p, pid);
	size_t a, b;

	if (s >= 0 && events_of(c->p, c->ev, (size_t)s, &a, &b))
		count_row(c, a, b, t);
	return 0;
}

/* 1 if the live person li needs no more rows (its one index event has
 * enough and there is no at_most). */
static int
decided(const struct count *c, size_t li)
{
	return c->early && c->l.hits[li] >= c->least;
}

/* The first live person at or after li still undecided; sets *at to
 * where its rows start. 0 if there is none. */
static int
next_open(struct count *c, size_t li, struct evpos *at)
{
	while (li < c->l.n && decided(c, li))
		li++;
	if (li == c->l.n)
		return 0;
	at->pid = c->l.id[li];
	at->day = c->l.wlo[li];
	return 1;
}

static int
walk_first(void *arg, struct evpos *at)
{
	struct count *c = arg;

	c->li = 0;
	return next_open(c, 0, at);
}

/* eventset_walk(): one code's rows in (person, day) order. */
static int
walk_row(void *arg, struct evrow *row, struct evpos *at)
{
	struct count *c = arg;
	struct live *l = &c->l;
	size_t li = c->li, a, b;

	while (li < l->n && l->id[li] < row->pid)
		li++;
	c->li = li;
	if (li == l->n)
		return EV_END;
	if (l->id[li] > row->pid || decided(c, li))
		return next_open(c, li + (l->id[li] == row->pid), at) ? EV_MISS
								      : EV_END;
	if (evrow_day(row) == -1)
		return EV_USED; /* not a date: never counts */
	if (row->day < l->wlo[li]) {
		at->pid = l->id[li];
		at->day = l->wlo[li];
		return EV_MISS;
	}
	if (row->day > l->whi[li])
		return next_open(c, li + 1, at) ? EV_MISS : EV_END;
	if (!evrow_counts(row))
		return EV_USED;
	if (events_of(c->p, c->ev, (size_t)l->slot[li], &a, &b)) {
		count_row(c, a, b, row->day);
		l->hits[li]++;
	}
	return EV_USED;
}

static void
live_free(struct run *r, struct live *l)
{
	mem_free(&r->eng->mem, l->slot);
	mem_free(&r->eng->mem, l->id);
	mem_free(&r->eng->mem, l->wlo);
	mem_free(&r->eng->mem, l->whi);
	mem_free(&r->eng->mem, l->hits);
	memset(l, 0, sizeof(*l));
}

static int
live_bit(const uint64_t *live, size_t e)
{
	return (int)(live[e / 64] >> (e % 64) & 1);
}

static int32_t
clamp_day(int64_t d)
{
	return d < INT32_MIN ? INT32_MIN
	    : d > INT32_MAX  ? INT32_MAX
			     : (int32_t)d;
}

static int
live_alloc(struct run *r, struct live *l, size_t n)
{
	struct mem *m = &r->eng->mem;

	if ((l->slot = mem_calloc(m, n, 4, r->err, r->errlen)) == NULL ||
	    (l->id = mem_calloc(m, n, 8, r->err, r->errlen)) == NULL ||
	    (l->wlo = mem_calloc(m, n, 4, r->err, r->errlen)) == NULL ||
	    (l->whi = mem_calloc(m, n, 4, r->err, r->errlen)) == NULL ||
	    (l->hits = mem_calloc(m, n, 4, r->err, r->errlen)) == NULL)
		return -1;
	return 0;
}

/* Lists the persons with a live index event and the days their rows
 * must have to count for one. */
static int
live_persons(struct count *c, const uint64_t *live)
{
	const struct events *ev = c->ev;
	struct live *l = &c->l;
	size_t n = 0, k = 0, a = 0, b = 0;

	for (size_t e = 0; e < ev->n; e++)
		if (live_bit(live, e) && (n == 0 || ev->slot[e] != ev->slot[k]))
			n++, k = e;
	if (n == 0 || live_alloc(c->r, l, n) == -1)
		return n == 0 ? 0 : -1;
	for (size_t e = 0; e < ev->n; e++) {
		if (!live_bit(live, e))
			continue;
		if (l->n == 0 || l->slot[l->n - 1] != ev->slot[e]) {
			l->slot[l->n] = ev->slot[e];
			l->id[l->n] = persons_id(c->p, (size_t)ev->slot[e]);
			l->wlo[l->n] = clamp_day(ev->day[e] + c->from);
			events_of(c->p, ev, (size_t)ev->slot[e], &a, &b);
			l->hits[l->n++] = b - a == 1 ? 0 : INT32_MIN;
		}
		/* Days ascend per person: the last live one is the latest. */
		l->whi[l->n - 1] = clamp_day(ev->day[e] + c->to);
	}
	return 0;
}

/* Fills c->diff from the rows. */
static int
read_rows(struct run *r, struct eventset *es, struct count *c)
{
	struct evwalk w = { walk_first, walk_row, c, &r->eng->cost };
	struct dbsafe *ds = r->eng->ds;
	int rc;

	if (r->eng->lim.plan == ENGINE_PLAN_SCAN)
		return eventset_scan(es, ds, on_row, c, r->err, r->errlen);
	if ((rc = eventset_expand(
		 es, ds, EVENTSET_EXPAND_MAX, r->err, r->errlen)) == -1)
		return -1;
	if (rc == 1) /* too many codes to walk each: one scan */
		return eventset_scan(es, ds, on_row, c, r->err, r->errlen);
	if (r->eng->lim.plan == ENGINE_PLAN_PROBE) {
		w.cost = NULL; /* seek at every miss */
		return eventset_walk(es, ds, &w, r->err, r->errlen);
	}
	return codes_walk(r, es, &w);
}

static int
holds(const Tally__Criterion *c, int64_t n)
{
	int64_t least = c->has_at_least ? c->at_least : 1;

	return n >= least && (!c->has_at_most || n <= (int64_t)c->at_most);
}

int
event_criterion(struct run *r, const Tally__Criterion *crit,
    const uint64_t *live, uint64_t *out)
{
	struct count c;
	struct eventset es;
	int64_t n = 0;
	int rc = -1;

	memset(out, 0, r->words * sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (eventset_init(&es, crit, r->err, r->errlen) == -1)
		return -1;
	c.r = r;
	c.p = &r->eng->persons;
	c.ev = &r->ev;
	c.from = crit->has_window_from ? crit->window_from : -FAR;
	c.to = crit->has_window_to ? crit->window_to : FAR;
	c.least = crit->has_at_least ? crit->at_least : 1;
	c.early = !crit->has_at_most;
	if (live_persons(&c, live) == -1)
		goto done;
	if ((c.diff = mem_calloc(&r->eng->mem, r->ev.n + 1, sizeof(*c.diff),
		 r->err, r->errlen)) == NULL)
		goto done;
	/* No row can change the answer when zero rows already suffice. */
	if (c.l.n > 0 && !(holds(crit, 0) && !crit->has_at_most) &&
	    c.from <= c.to && read_rows(r, &es, &c) == -1)
		goto done;
	for (size_t e = 0; e < r->ev.n; e++) {
		n += c.diff[e];
		if (live_bit(live, e) && holds(crit, n))
			out[e / 64] |= (uint64_t)1 << (e % 64);
	}
	rc = 0;
done:
	r->eng->stats.rows += es.rows;
	r->eng->stats.probes += es.probes;
	mem_free(&r->eng->mem, c.diff);
	live_free(r, &c.l);
	eventset_clear(&es);
	return rc;
}
