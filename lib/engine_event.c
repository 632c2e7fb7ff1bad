/*
 * engine_event.c — owns evaluating one event criterion (diagnosis, lab,
 * drug, procedure, visit) for every live index event: how many of the
 * person's matching rows fall in the window around the index date, and
 * whether that count is within [at_least, at_most]. Rows are read either
 * by one scan of the codes' index ranges or by per-person seeks,
 * whichever is cheaper; memory grows with the index events, never with
 * the rows. It never reads rows itself (eventset.c does).
 */
#include <string.h>

#include "engine_int.h"
#include "eventset.h"
#include "util.h"

/* A per-person seek costs about as much as scanning this many rows. */
#define PROBE_ROWS 8
/* Codes listed under prefixes before a plan gives up on seeking. */
#define EXPAND_AUTO_MAX 256
/* Windowless bounds, far outside any day yet safe to add to a day. */
#define FAR ((int64_t)1 << 40)

struct count {
	struct run *r;
	const struct persons *p;
	const struct events *ev;
	int64_t from, to; /* window around the index day */
	int64_t *diff;	  /* +1 / -1 marks; prefix sums are the counts */
};

/* The live persons: their slots and the span of their live index days. */
struct live {
	size_t n;
	int32_t *slot, *lo, *hi;
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

/* A row (person, day t) counts for the person's index days d with
 * d + from <= t <= d + to, i.e. t - to <= d <= t - from. */
static int
on_row(void *arg, int64_t pid, int32_t t)
{
	struct count *c = arg;
	int64_t s = persons_slot(c->p, pid);
	size_t a, b, i, j;

	if (s < 0)
		return 0;
	a = (size_t)c->ev->off[s];
	b = (size_t)c->ev->off[s + 1];
	if (a == b)
		return 0;
	if (b - a == 1) {
		int64_t d = c->ev->day[a];

		if (d + c->from <= t && t <= d + c->to) {
			c->diff[a]++;
			c->diff[a + 1]--;
		}
		return 0;
	}
	i = lower_bound(c->ev->day, a, b, (int64_t)t - c->to);
	j = lower_bound(c->ev->day, i, b, (int64_t)t - c->from + 1);
	if (i < j) {
		c->diff[i]++;
		c->diff[j]--;
	}
	return 0;
}

static void
live_free(struct run *r, struct live *l)
{
	mem_free(&r->eng->mem, l->slot);
	mem_free(&r->eng->mem, l->lo);
	mem_free(&r->eng->mem, l->hi);
	memset(l, 0, sizeof(*l));
}

static int
live_bit(const uint64_t *live, size_t e)
{
	return (int)(live[e / 64] >> (e % 64) & 1);
}

/* Lists the persons with at least one live index event. */
static int
live_persons(struct run *r, const uint64_t *live, struct live *l)
{
	const struct events *ev = &r->ev;
	size_t n = 0, k = 0;

	memset(l, 0, sizeof(*l));
	for (size_t e = 0; e < ev->n; e++)
		if (live_bit(live, e) && (n == 0 || ev->slot[e] != ev->slot[k]))
			n++, k = e;
	if (n == 0)
		return 0;
	if ((l->slot = mem_calloc(&r->eng->mem, n, 4, r->err, r->errlen)) ==
		NULL ||
	    (l->lo = mem_calloc(&r->eng->mem, n, 4, r->err, r->errlen)) ==
		NULL ||
	    (l->hi = mem_calloc(&r->eng->mem, n, 4, r->err, r->errlen)) ==
		NULL) {
		live_free(r, l);
		return -1;
	}
	for (size_t e = 0; e < ev->n; e++) {
		if (!live_bit(live, e))
			continue;
		if (l->n == 0 || l->slot[l->n - 1] != ev->slot[e]) {
			l->slot[l->n] = ev->slot[e];
			l->lo[l->n++] = ev->day[e];
		}
		l->hi[l->n - 1] = ev->day[e]; /* days ascend per person */
	}
	return 0;
}

static int32_t
clamp_day(int64_t d)
{
	return d < INT32_MIN ? INT32_MIN
	    : d > INT32_MAX  ? INT32_MAX
			     : (int32_t)d;
}

/* Seeks each live person's rows of each code, code by code so that the
 * seeks move forward through the index. */
static int
probe(struct run *r, struct eventset *es, struct count *c, const struct live *l)
{
	const struct persons *p = &r->eng->persons;
	struct dbsafe *ds = r->eng->ds;

	for (size_t k = 0; k < es->ncodes; k++)
		for (size_t i = 0; i < l->n; i++) {
			if ((i & 1023) == 0 && dbsafe_expired(ds))
				return dbsafe_error(
				    ds, "read events", r->err, r->errlen);
			if (eventset_probe(es, ds, k,
				persons_id(p, (size_t)l->slot[i]),
				clamp_day(l->lo[i] + c->from),
				clamp_day(l->hi[i] + c->to), on_row, c, r->err,
				r->errlen) == -1)
				return -1;
		}
	return 0;
}

/* Fills c->diff from the rows, by the cheaper of scan and seeks. */
static int
read_rows(
    struct run *r, struct eventset *es, struct count *c, const struct live *l)
{
	struct dbsafe *ds = r->eng->ds;
	int plan = r->eng->lim.plan, rc;
	size_t max =
	    plan == ENGINE_PLAN_PROBE ? EVENTSET_EXPAND_MAX : EXPAND_AUTO_MAX;
	uint64_t budget;

	if (plan == ENGINE_PLAN_SCAN)
		return eventset_scan(es, ds, 0, on_row, c, r->err, r->errlen);
	if ((rc = eventset_expand(es, ds, max, r->err, r->errlen)) == -1)
		return -1;
	if (rc == 1) /* too many codes to seek each: scan */
		return eventset_scan(es, ds, 0, on_row, c, r->err, r->errlen);
	if (plan == ENGINE_PLAN_AUTO) {
		/* Scan until it is clear that seeking costs less: at worst
		 * twice the cheaper plan. */
		budget = (uint64_t)l->n * es->ncodes * PROBE_ROWS + 1;
		rc =
		    eventset_scan(es, ds, budget, on_row, c, r->err, r->errlen);
		if (rc != 1)
			return rc;
		memset(c->diff, 0, (r->ev.n + 1) * sizeof(*c->diff));
	}
	return probe(r, es, c, l);
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
	struct count c = { r, &r->eng->persons, &r->ev, -FAR, FAR, NULL };
	struct eventset es;
	struct live l;
	int64_t n = 0;
	int rc = -1;

	memset(out, 0, r->words * sizeof(*out));
	if (eventset_init(&es, crit, r->err, r->errlen) == -1)
		return -1;
	if (crit->has_window_from)
		c.from = crit->window_from;
	if (crit->has_window_to)
		c.to = crit->window_to;
	if (live_persons(r, live, &l) == -1)
		goto done;
	if ((c.diff = mem_calloc(&r->eng->mem, r->ev.n + 1, sizeof(*c.diff),
		 r->err, r->errlen)) == NULL)
		goto done;
	/* No row can change the answer when zero rows already suffice. */
	if (l.n > 0 && !(holds(crit, 0) && !crit->has_at_most) &&
	    c.from <= c.to && read_rows(r, &es, &c, &l) == -1)
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
	live_free(r, &l);
	eventset_clear(&es);
	return rc;
}
