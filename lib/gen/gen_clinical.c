/*
 * gen_clinical.c — owns one person's chart at one hospital: when they are
 * seen, which conditions this hospital records, the everyday visits, the
 * follow-up visits per department, drug cycles and a last admission
 * before death. Every event hangs on a visit of the same person and lies
 * inside it; every visit carries exactly one primary diagnosis. It never
 * touches SQLite (gen_db.c) and allocates only by growing the chart's
 * reused buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "gen.h"
#include "util.h"

static int32_t
day_of(int y, unsigned m, unsigned d)
{
	return date_from_ymd(y, m, d);
}

static void *
grow(void *p, size_t *cap, size_t need, size_t size, int *oom)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return p;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	if ((np = reallocarray(p, ncap, size)) == NULL) {
		*oom = 1;
		return p;
	}
	*cap = ncap;
	return np;
}

void
gen_chart_free(struct gen_chart *c)
{
	free(c->v);
	free(c->e);
	free(c->map);
	memset(c, 0, sizeof(*c));
}

static struct gen_event *
event_new(struct gen_ctx *x, int vi, int32_t day, int table)
{
	struct gen_chart *c = x->c;
	const struct gen_visit *v;
	struct gen_event *e;

	if (vi < 0)
		return NULL;
	c->e = grow(c->e, &c->ecap, c->ne + 1, sizeof(*c->e), &c->oom);
	if (c->ne + 1 > c->ecap)
		return NULL;
	v = &c->v[vi];
	e = &c->e[c->ne++];
	memset(e, 0, sizeof(*e));
	e->date = day < v->start ? v->start : day > v->end ? v->end : day;
	e->visit = vi;
	e->table = (uint8_t)table;
	return e;
}

int
gen_visit_add(struct gen_ctx *x, int32_t day, int len, int type, const char *dx)
{
	struct gen_chart *c = x->c;
	struct gen_visit *v;
	struct gen_event *e;

	if (day < x->lo || day > x->hi)
		return -1;
	c->v = grow(c->v, &c->vcap, c->nv + 1, sizeof(*c->v), &c->oom);
	if (c->nv + 1 > c->vcap)
		return -1;
	v = &c->v[c->nv];
	memset(v, 0, sizeof(*v));
	v->start = day;
	v->end = day + (len > 0 ? len : 0);
	if (v->end > x->hi)
		v->end = x->hi;
	v->type = type;
	c->nv++;
	if ((e = event_new(x, (int)c->nv - 1, day, GEN_DIAGNOSIS)) != NULL) {
		e->code = dx;
		e->primary = 1;
	}
	return (int)c->nv - 1;
}

void
gen_diag_add(struct gen_ctx *x, int vi, const char *code)
{
	struct gen_event *e;

	if ((e = event_new(
		 x, vi, vi < 0 ? 0 : x->c->v[vi].start, GEN_DIAGNOSIS)) != NULL)
		e->code = code;
}

void
gen_lab_add(struct gen_ctx *x, int vi, int32_t day, const char *code,
    double value, const char *unit)
{
	struct gen_event *e;

	if ((e = event_new(x, vi, day, GEN_LAB)) == NULL)
		return;
	e->code = code;
	e->value = value;
	e->unit = unit;
}

void
gen_drug_add(struct gen_ctx *x, int vi, int32_t day, const char *code, int days)
{
	struct gen_event *e;

	if ((e = event_new(x, vi, day, GEN_DRUG)) == NULL)
		return;
	e->code = code;
	e->days = days > 0 ? days : 1;
}

void
gen_proc_add(struct gen_ctx *x, int vi, int32_t day, const char *code)
{
	struct gen_event *e;

	if ((e = event_new(x, vi, day, GEN_PROCEDURE)) != NULL)
		e->code = code;
}

/* Which of the person's conditions this hospital gets to record. */
static void
recorded(struct gen_ctx *x, int shared)
{
	const struct gen_person *p = x->p;

	for (int c = 0; c < GC_NCOND; c++) {
		double keep;

		x->dx[c] = GEN_NEVER;
		x->onset[c] = p->onset[c];
		if (p->onset[c] == GEN_NEVER || p->onset[c] > x->hi)
			continue;
		if (x->kind == GEN_EYE)
			keep = gen_conds[c].eye ? 1.0 : 0.0;
		else if (gen_conds[c].eye)
			keep = 0.25;
		else
			keep = shared ? 0.7 : 1.0;
		if (!gen_rng_chance(x->r, keep))
			x->onset[c] = GEN_NEVER;
	}
}

/* Eye hospital patients come with an eye problem. */
static void
force_eye(struct gen_ctx *x)
{
	int age, c;

	for (c = 0; c < GC_NCOND; c++)
		if (gen_conds[c].eye && x->onset[c] != GEN_NEVER)
			return;
	age = gen_age_at(x->p, x->first);
	if (age < 40)
		c = gen_rng_chance(x->r, 0.7) ? GC_MYOPIA : -1;
	else if (age < 55)
		c = gen_rng_chance(x->r, 0.4) ? GC_GLAUCOMA : -1;
	else {
		double u = gen_rng_unit(x->r);
		c = u < 0.55   ? GC_CATARACT
		    : u < 0.75 ? GC_GLAUCOMA
		    : u < 0.9  ? GC_AMD
			       : -1;
	}
	if (c == -1)
		return; /* comes for an everyday eye complaint */
	x->onset[c] = x->first;
	x->code[c] =
	    gen_code_pick(gen_conds[c].codes, gen_conds[c].ncodes, x->r);
}

/* First visit: often because of the first serious condition. */
static int32_t
first_visit(struct gen_ctx *x)
{
	int32_t f = x->lo + gen_rng_int(x->r, 0, x->hi - x->lo), o;

	o = GEN_NEVER;
	for (int c = 0; c < GC_NCOND; c++)
		if (x->onset[c] >= x->lo && x->onset[c] < o &&
		    gen_conds[c].mortality + gen_conds[c].chronic > 0)
			o = x->onset[c];
	if (o != GEN_NEVER && o < f && gen_rng_chance(x->r, 0.7))
		f = o;
	return f;
}

/* An everyday visit: outpatient, emergency or a short admission. */
static void
filler_visit(struct gen_ctx *x, int32_t day)
{
	const struct gen_filler *f;
	int age = gen_age_at(x->p, day), set = GF_OUT, type = GV_OUT, len = 0;
	double u = gen_rng_unit(x->r);
	int vi;

	if (x->kind == GEN_EYE)
		set = GF_EYE;
	else if (u < 0.07)
		set = GF_ER, type = GV_ER, len = gen_rng_chance(x->r, 0.2);
	else if (u < 0.10)
		set = GF_IN, type = GV_IN, len = gen_rng_int(x->r, 2, 12);
	f = gen_filler_pick(set, age, x->p->sex, x->r);
	if ((vi = gen_visit_add(x, day, len, type, f->code)) < 0)
		return;
	if (f->drug != NULL && gen_rng_chance(x->r, f->drug_p))
		gen_drug_add(x, vi, day + (len > 0), f->drug, f->days);
	if (strcmp(f->code, "Z00.0") == 0) {
		/* check-up: full panel, endoscopy from 40, ECG */
		gen_care_labs(x, vi, -1, day);
		if (age >= 40 && gen_rng_chance(x->r, 0.4))
			gen_proc_add(x, vi, day, "E7611");
		if (age >= 50 && gen_rng_chance(x->r, 0.15))
			gen_proc_add(x, vi, day, "E7660");
		if (gen_rng_chance(x->r, 0.2))
			gen_proc_add(x, vi, day, "E6541");
		return;
	}
	if (strcmp(f->code, "K63.5") == 0)
		gen_proc_add(x, vi, day, "E7660");
	if ((strcmp(f->code, "R07.4") == 0 || strcmp(f->code, "R55") == 0 ||
		strcmp(f->code, "I21.9") == 0) &&
	    gen_rng_chance(x->r, 0.85))
		gen_proc_add(x, vi, day, "E6541");
	if (strcmp(f->code, "J18.9") == 0 && gen_rng_chance(x->r, 0.3))
		gen_proc_add(x, vi, day, "HA424");
	if (type == GV_ER && strcmp(f->code, "J18.9") == 0 &&
	    gen_rng_chance(x->r, 0.4))
		gen_visit_add(x, day, gen_rng_int(x->r, 3, 10), GV_IN, f->code);
	if (type != GV_OUT || gen_rng_chance(x->r, 0.2))
		gen_care_labs(x, vi, -2, day + (len > 0));
}

static void
fillers(struct gen_ctx *x)
{
	int32_t end;
	double years, rate;
	int n;

	if (gen_rng_chance(x->r, 0.3))
		end = x->first + gen_rng_int(x->r, 0, 90);
	else
		end = x->first + (int32_t)gen_rng_exp(x->r, 5 * 365.25);
	if (end > x->hi)
		end = x->hi;
	years = (end - x->first) / 365.25;
	rate = x->kind == GEN_EYE ? 0.25
				  : 0.35 + gen_age_at(x->p, x->first) / 120.0;
	n = 1 + gen_rng_poisson(x->r, rate * years);
	filler_visit(x, x->first);
	for (int i = 1; i < n; i++)
		filler_visit(x, gen_rng_int(x->r, x->first, end));
}

static const struct {
	int interval[3]; /* days between follow-ups, one chosen per person */
	double years;	 /* mean follow-up after the last diagnosis */
} depts[GD_NDEPT] = {
	[GD_MED] = { { 90, 120, 180 }, 7 },
	[GD_RESP] = { { 90, 180, 180 }, 4 },
	[GD_GI] = { { 60, 90, 120 }, 8 },
	[GD_ONC] = { { 60, 90, 90 }, 5 },
	[GD_EYE] = { { 90, 180, 365 }, 3 },
};

/* One follow-up visit: every active chronic condition of the department,
 * its labs, and refills of its drug courses. */
static void
followup(struct gen_ctx *x, int dept, int32_t day, int interval)
{
	int first = -1, vi;

	for (int c = 0; c < GC_NCOND; c++)
		if (gen_conds[c].dept == dept && gen_conds[c].chronic &&
		    x->dx[c] <= day && (first == -1 || x->dx[c] < x->dx[first]))
			first = c;
	if (first == -1)
		return;
	if ((vi = gen_visit_add(x, day, 0, GV_OUT, x->code[first])) < 0)
		return;
	for (int c = 0; c < GC_NCOND; c++)
		if (c != first && gen_conds[c].dept == dept &&
		    gen_conds[c].chronic && x->dx[c] <= day)
			gen_diag_add(x, vi, x->code[c]);
	gen_care_labs(x, vi, dept, day);
	for (int i = 0; i < x->nplan; i++) {
		struct gen_plan *pl = &x->plan[i];

		if (pl->every > 0 || pl->stopped || pl->start >= day ||
		    gen_conds[pl->cond].dept != dept)
			continue;
		if (gen_rng_chance(x->r, 0.015)) {
			pl->stopped = 1;
			continue;
		}
		gen_drug_add(x, vi, day, pl->code, interval);
	}
}

static void
streams(struct gen_ctx *x)
{
	for (int d = 0; d < GD_NDEPT; d++) {
		int32_t lo = GEN_NEVER, last = 0, end, t;
		int interval;

		for (int c = 0; c < GC_NCOND; c++) {
			if (gen_conds[c].dept != d || !gen_conds[c].chronic ||
			    x->dx[c] == GEN_NEVER)
				continue;
			if (x->dx[c] < lo)
				lo = x->dx[c];
			if (x->dx[c] > last)
				last = x->dx[c];
		}
		if (lo == GEN_NEVER)
			continue;
		interval = depts[d].interval[gen_rng_int(x->r, 0, 2)];
		end =
		    last + (int32_t)gen_rng_exp(x->r, depts[d].years * 365.25);
		if (end > x->hi)
			end = x->hi;
		for (t = lo + interval; t <= end;
		     t += interval + gen_rng_int(x->r, -10, 10))
			followup(x, d, t, interval);
	}
}

/* Drug courses given in cycles, each on its own visit. */
static void
cycles(struct gen_ctx *x)
{
	for (int i = 0; i < x->nplan; i++) {
		const struct gen_plan *pl = &x->plan[i];

		for (int k = 0; k < pl->cycles; k++) {
			int32_t day = pl->start + k * pl->every;
			int vi;

			if (day > x->hi)
				break;
			vi =
			    gen_visit_add(x, day, 0, GV_OUT, x->code[pl->cond]);
			gen_drug_add(x, vi, day, pl->code, pl->every);
			if (k % 3 == 0)
				gen_care_labs(
				    x, vi, gen_conds[pl->cond].dept, day);
		}
	}
}

/* Half of those who die are admitted for their last days. */
static void
last_stay(struct gen_ctx *x)
{
	static const char *const causes[] = { "J18.9", "I50.9", "I63.9",
		"I21.9", "A41.9" };
	const char *dx = NULL;
	int32_t latest = 0, start;
	int vi;

	if (x->p->death == GEN_NEVER || x->kind == GEN_EYE ||
	    !gen_rng_chance(x->r, 0.5))
		return;
	for (int c = 0; c < GC_NCOND; c++)
		if (gen_conds[c].cancer && x->dx[c] != GEN_NEVER &&
		    x->dx[c] >= latest)
			latest = x->dx[c], dx = x->code[c];
	if (dx == NULL)
		dx = causes[gen_rng_int(x->r, 0, (int)nitems(causes) - 1)];
	start = x->hi - gen_rng_int(x->r, 2, 20);
	if (start < x->first)
		start = x->first;
	if ((vi = gen_visit_add(x, start, x->hi - start, GV_IN, dx)) < 0)
		return;
	gen_care_labs(x, vi, -2, start);
}

static int
visit_cmp(const void *a, const void *b)
{
	const struct gen_visit *va = a, *vb = b;

	if (va->start != vb->start)
		return va->start < vb->start ? -1 : 1;
	return va->id < vb->id ? -1 : va->id > vb->id;
}

/* Orders visits by date (ties by creation) and renumbers the events. */
static int
sort_visits(struct gen_chart *c)
{
	c->map = grow(c->map, &c->mapcap, c->nv, sizeof(*c->map), &c->oom);
	if (c->oom)
		return -1;
	for (size_t i = 0; i < c->nv; i++)
		c->v[i].id = (int64_t)i;
	qsort(c->v, c->nv, sizeof(*c->v), visit_cmp);
	for (size_t i = 0; i < c->nv; i++)
		c->map[c->v[i].id] = (int32_t)i;
	for (size_t i = 0; i < c->ne; i++)
		c->e[i].visit = c->map[c->e[i].visit];
	return 0;
}

int
gen_chart_build(struct gen_chart *c, const struct gen_person *p, int kind,
    int shared, struct gen_rng *r)
{
	struct gen_ctx x;

	memset(&x, 0, sizeof(x));
	c->nv = c->ne = 0;
	c->oom = 0;
	x.c = c;
	x.p = p;
	x.r = r;
	x.kind = kind;
	x.lo = day_of(2010, 1, 1);
	if (p->birth > x.lo)
		x.lo = p->birth;
	x.hi = day_of(2025, 12, 31);
	if (p->death < x.hi)
		x.hi = p->death;
	if (x.lo > x.hi)
		x.lo = x.hi;
	memcpy(x.code, p->code, sizeof(x.code));
	recorded(&x, shared);
	x.first = first_visit(&x);
	if (kind == GEN_EYE)
		force_eye(&x);
	fillers(&x);
	for (int k = 0; k < GC_NCOND; k++) {
		if (x.onset[k] == GEN_NEVER || x.onset[k] > x.hi)
			continue;
		x.dx[k] = x.onset[k] < x.first ? x.first : x.onset[k];
		gen_care_diagnose(&x, k);
	}
	streams(&x);
	cycles(&x);
	last_stay(&x);
	if (c->oom || sort_visits(c) == -1)
		return -1;
	return 0;
}
