/*
 * eventset_walk.c — owns walking a code's rows in (person, day) order
 * for a visitor that knows which persons and days matter: it steps, or
 * seeks past what the visitor does not need when that is cheaper, judged
 * by what seeks and steps have cost on this DB and by the code's rows per
 * person and persons per id, learnt from its first persons. It never
 * decides what a row means (the visitor does) and never changes which
 * rows a visitor is shown, only how fast.
 */
#include <string.h>
#include <time.h>

#include "date.h"
#include "eventset.h"
#include "util.h"

/* A walk's statement and what is bound to it, so that a seek binds only
 * what changed, without copies. */
struct seeker {
	sqlite3_stmt *st;
	int ipid, idlo; /* parameter numbers */
	int32_t day;	/* the day dlo spells */
	int32_t min, max;
	char dlo[11];
};

static void
seeker_init(struct seeker *sk, sqlite3_stmt *st)
{
	sk->st = st;
	sk->ipid = sqlite3_bind_parameter_index(st, ":pid");
	sk->idlo = sqlite3_bind_parameter_index(st, ":dlo");
	sk->day = INT32_MIN + 1; /* bound to nothing yet */
	/* ISO text orders like the days it spells within years 1000-9999;
	 * earlier than any date is "" (which sorts first). */
	sk->min = date_from_ymd(1000, 1, 1);
	sk->max = date_from_ymd(9999, 12, 31);
}

/* Positions the statement at the first row at or after (pid, day). */
static int
seek(struct eventset *es, struct dbsafe *ds, struct seeker *sk,
    const struct evpos *at, char *err, size_t errlen)
{
	int32_t day = at->day < sk->min ? INT32_MIN
	    : at->day > sk->max		? sk->max
					: at->day;

	sqlite3_reset(sk->st);
	if (sqlite3_bind_int64(sk->st, sk->ipid, at->pid) != SQLITE_OK)
		return dbsafe_error(ds, "bind", err, errlen);
	if (day != sk->day) {
		if (day == INT32_MIN)
			sk->dlo[0] = '\0';
		else
			date_format(day, sk->dlo);
		if (sqlite3_bind_text(sk->st, sk->idlo, sk->dlo, -1,
			SQLITE_STATIC) != SQLITE_OK)
			return dbsafe_error(ds, "bind", err, errlen);
		sk->day = day;
	}
	es->probes++;
	return 0;
}

static int
after(const struct evpos *at, int64_t pid, int32_t day)
{
	return at->pid > pid || (at->pid == pid && at->day > day);
}

#define COST_CHUNK  256	 /* steps timed together */
#define COST_SAMPLE 8	 /* one seek in this many is timed */
#define COST_PRIOR  16	 /* weight of the prior, in seeks */
#define COST_WINDOW 4096 /* seeks before old measurements fade */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
evcost_init(struct evcost *c)
{
	/* A seek about a dozen steps: a hot page cache. */
	c->seeks = COST_PRIOR;
	c->seek_ns = COST_PRIOR * 1200;
	c->steps = COST_PRIOR * COST_CHUNK;
	c->step_ns = c->steps * 100;
}

/* What a seek costs, in steps. */
static uint32_t
patience(const struct evcost *c)
{
	double p;

	if (c->seeks == 0 || c->steps == 0 || c->step_ns == 0)
		return 12; /* the prior */
	p = ((double)c->seek_ns / (double)c->seeks) /
	    ((double)c->step_ns / (double)c->steps);
	return p < 2 ? 2 : p > 256 ? 256 : (uint32_t)p;
}

/* A sample counts for at most this many times the mean so far: one
 * preemption or page fault must not turn every later seek into a scan. */
#define COST_OUTLIER 4

static void
cost_seek(struct evcost *c, uint64_t ns)
{
	/* (the cap below: COST_OUTLIER times the mean so far) */
	uint64_t cap = COST_OUTLIER * c->seek_ns / c->seeks;

	if (c->seeks >= COST_WINDOW) {
		c->seeks /= 2, c->seek_ns /= 2;
		if (c->steps >= 2 * COST_CHUNK)
			c->steps /= 2, c->step_ns /= 2;
	}
	c->seeks++;
	c->seek_ns += ns < cap ? ns : cap;
}

static void
cost_steps(struct evcost *c, uint32_t n, uint64_t ns)
{
	uint64_t cap = COST_OUTLIER * n * c->step_ns / c->steps;

	c->steps += n;
	c->step_ns += ns < cap ? ns : cap;
	if (c->steps > (1u << 24))
		c->steps /= 2, c->step_ns /= 2;
}

/* Persons a walk steps through whole, per code, to learn its shape. */
#define LEARN_RUNS 32

/* A code's shape as a walk sees it: runs are one person's rows. */
struct shape {
	int64_t pid;   /* the current run's person */
	uint32_t len;  /* rows of it so far */
	uint32_t runs; /* whole runs seen while learning */
	uint64_t rows; /* their rows */
	int64_t pid0;  /* the person of the first of them */
	int64_t span;  /* ids from pid0 to the run after the last */
};

/* Follows the runs; only the first few whole ones are learnt from (later
 * ones are cut short by seeks, and the short survivors would bias). */
static void
shape_row(struct shape *sh, int64_t pid, int sought)
{
	if (pid == sh->pid) {
		sh->len++;
		return;
	}
	if (sought && sh->len > 1 && sh->runs < LEARN_RUNS) {
		/* Cut while learning: too long to learn; count what we saw. */
		sh->runs = LEARN_RUNS;
		sh->rows += (uint64_t)sh->len * LEARN_RUNS;
		sh->pid0 = sh->pid;
		sh->span = 0;
	}
	if (!sought && sh->pid != INT64_MIN && sh->runs < LEARN_RUNS) {
		if (sh->runs == 0)
			sh->pid0 = sh->pid;
		sh->rows += sh->len;
		if (++sh->runs == LEARN_RUNS)
			sh->span = pid - sh->pid0;
	}
	sh->pid = pid;
	sh->len = 1;
}

/* Rows expected between the row (of person pid) and a position in a
 * later person: the rest of this run and the runs of the persons in
 * between, at the learnt persons per id. (A run too long to learn ends
 * the learning: the mean is then a lower bound, and large.) */
static double
shape_gap(const struct shape *sh, int64_t pid, int64_t to)
{
	double r = (double)sh->rows / sh->runs, rest = r - sh->len;
	double between = (double)(to - pid) - 1;

	if (rest < 0)
		rest = 0;
	if (sh->span <= 0)
		return rest;
	return rest + r * sh->runs / (double)sh->span * between;
}

/* 1 if the walk should seek to at rather than step on. */
static int
should_seek(const struct evwalk *w, const struct shape *sh, struct evrow *r,
    const struct evpos *at, uint32_t misses, uint32_t wait)
{
	if (at->pid < r->pid ||
	    (at->pid == r->pid &&
		(evrow_day(r) == -1 || !after(at, r->pid, r->day))))
		return 0;
	if (w->cost == NULL)
		return 1;
	if (sh->runs < LEARN_RUNS) {
		/* Learning: step on, unless runs are too long to learn. */
		return misses > LEARN_RUNS * wait;
	}
	if (misses > wait)
		return 1; /* whatever the guess, stepping has cost a seek */
	if (at->pid == r->pid)
		return 0;
	return shape_gap(sh, r->pid, at->pid) > wait;
}

/* Walks one code's rows with the visitor. */
static int
walk_code(struct eventset *es, struct dbsafe *ds, sqlite3_stmt *st,
    const struct evwalk *w, char *err, size_t errlen)
{
	struct evrow r = { 0, 0, 0, es, st };
	struct shape sh = { INT64_MIN, 0, 0, 0, 0, 0 };
	struct seeker sk;
	struct evpos at;
	uint32_t misses = 0, chunk = 0, seeks = 0;
	uint32_t wait = w->cost ? patience(w->cost) : 0;
	uint64_t t0 = 0;
	int rc, sought = 1, timed = w->cost != NULL, valid = 0;

	if (w->first(w->arg, &at) == 0)
		return 0;
	seeker_init(&sk, st);
	if (timed)
		t0 = now_ns();
	if (seek(es, ds, &sk, &at, err, errlen) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		es->rows++;
		/* One seek in COST_SAMPLE is timed, and the steps after it. */
		if (timed || (valid && ++chunk == COST_CHUNK)) {
			uint64_t t = now_ns();

			if (timed)
				cost_seek(w->cost, t - t0);
			else
				cost_steps(w->cost, chunk, t - t0);
			timed = 0, valid = 1, chunk = 0, t0 = t;
		}
		/* A person_id that is not an integer is no person's (such
		 * rows sort after the integers, or between them if real). */
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
			continue;
		r.pid = sqlite3_column_int64(st, 0);
		r.state = 0;
		shape_row(&sh, r.pid, sought);
		sought = 0;
		switch (w->row(w->arg, &r, &at)) {
		case EV_USED:
			misses = 0;
			continue;
		case EV_MISS:
			if (!should_seek(w, &sh, &r, &at, ++misses, wait))
				continue;
			misses = 0;
			sought = 1, valid = 0;
			if (w->cost != NULL && ++seeks % COST_SAMPLE == 0) {
				wait = patience(w->cost);
				timed = 1, t0 = now_ns();
			}
			if (seek(es, ds, &sk, &at, err, errlen) == -1)
				return -1;
			continue;
		case EV_END:
			sqlite3_reset(st);
			return 0;
		default:
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dbsafe_error(ds, "read events", err, errlen);
	return 0;
}

int
eventset_walk_code(struct eventset *es, struct dbsafe *ds, size_t k,
    const struct evwalk *w, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if ((st = eventset_code_stmt(es, ds, k, err, errlen)) == NULL)
		return -1;
	return walk_code(es, ds, st, w, err, errlen);
}

int
eventset_walk(struct eventset *es, struct dbsafe *ds, const struct evwalk *w,
    char *err, size_t errlen)
{
	for (size_t k = 0; k < es->ncodes; k++)
		if (eventset_walk_code(es, ds, k, w, err, errlen) == -1)
			return -1;
	return 0;
}

/* The first person at or after i whose id is at least pid: galloping,
 * as seeks mostly land near. */
static size_t
list_person(const struct evlist *l, size_t i, int64_t pid)
{
	size_t lo = i, step = 1, hi;

	if (i >= l->n || l->pid[i] >= pid)
		return i;
	while (lo + step < l->n && l->pid[lo + step] < pid) {
		lo += step;
		step *= 2;
	}
	hi = lo + step < l->n ? lo + step : l->n;
	lo++; /* pid[lo - 1] < pid */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->pid[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Moves (*i, *j) forward to the first row at or after at. */
static void
list_seek(const struct evlist *l, size_t *i, size_t *j, const struct evpos *at)
{
	size_t ni = list_person(l, *i, at->pid), lo, hi;

	if (ni != *i) {
		*i = ni;
		if (ni == l->n)
			return;
		*j = l->start[ni];
	}
	if (l->pid[ni] != at->pid)
		return; /* a later person: all its days are after at */
	lo = *j, hi = l->start[ni + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->day[mid] < at->day)
			lo = mid + 1;
		else
			hi = mid;
	}
	*j = lo;
	if (lo == l->start[ni + 1])
		*i = ni + 1; /* past this person's days */
}

int
eventset_walk_list(
    struct eventset *es, const struct evlist *l, const struct evwalk *w)
{
	struct evrow r = { 0, 0, 1, es, NULL };
	struct evpos at;
	size_t i = 0, j = 0;

	if (l->n == 0 || w->first(w->arg, &at) == 0)
		return 0;
	list_seek(l, &i, &j, &at);
	while (i < l->n) {
		r.pid = l->pid[i];
		r.day = l->day[j];
		r.state = 1;
		switch (w->row(w->arg, &r, &at)) {
		case EV_USED:
			break;
		case EV_MISS:
			if (after(&at, r.pid, r.day)) {
				list_seek(l, &i, &j, &at);
				continue;
			}
			break;
		case EV_END:
			return 0;
		default:
			return -1;
		}
		if (++j == l->start[i + 1])
			i++;
	}
	return 0;
}
