/*
 * gen_care.c — owns what happens around a diagnosis: the work-up before
 * it (endoscopy, CT, sleep study, ECG), the drug courses after it (which,
 * when, how often) and the lab values a person's state implies (HbA1c
 * high with diabetes, eGFR low with CKD, INR raised on warfarin). Codes:
 * LOINC labs, ATC drugs, EDI procedures. It adds to the chart only
 * through gen_clinical.c's gen_*_add() and never draws who is ill.
 */
#include <string.h>

#include "date.h"
#include "gen.h"
#include "util.h"

/* LOINC */
#define L_HBA1C "4548-4"
#define L_GLU	"2345-7"
#define L_CREAT "2160-0"
#define L_EGFR	"33914-3"
#define L_HB	"718-7"
#define L_INR	"6301-6"
#define L_LDL	"13457-7"
#define L_CRP	"1988-5"
/* ATC */
#define D_WARFARIN	"B01AA03"
#define D_RIVAROXABAN	"B01AF01"
#define D_APIXABAN	"B01AF02"
#define D_EDOXABAN	"B01AF03"
#define D_METFORMIN	"A10BA02"
#define D_STATIN	"C10AA05"
#define D_LOSARTAN	"C09CA01"
#define D_AMLODIPINE	"C08CA01"
#define D_NIVOLUMAB	"L01FF01"
#define D_PEMBROLIZUMAB "L01FF02"
#define D_MESALAZINE	"A07EC02"
#define D_INFLIXIMAB	"L04AB02"
#define D_COPD		"R03AL03"
/* EDI */
#define P_PSG	      "FZ571"
#define P_COLONOSCOPY "E7660"
#define P_GASTROSCOPY "E7611"
#define P_ECG	      "E6541"
#define P_CHEST_CT    "HA424"
#define P_COLECTOMY   "Q2671"
#define P_CATARACT    "S5119"

static double
clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Rounds a positive value to `places` decimals, as a lab reports it. */
static double
rnd(double v, int places)
{
	double f = places == 0 ? 1 : places == 1 ? 10 : 100;

	return (double)(int64_t)(v * f + 0.5) / f;
}

int
gen_active(const struct gen_ctx *x, int cond, int32_t day)
{
	return x->dx[cond] <= day;
}

int
gen_on_drug(const struct gen_ctx *x, const char *code, int32_t day)
{
	for (int i = 0; i < x->nplan; i++)
		if (strcmp(x->plan[i].code, code) == 0 &&
		    x->plan[i].start <= day && !x->plan[i].stopped)
			return 1;
	return 0;
}

static void
lab_glycaemia(struct gen_ctx *x, int vi, int32_t day, int hba1c, int glu)
{
	int dm = gen_active(x, GC_DM, day);
	struct gen_rng *r = x->r;

	if (hba1c)
		gen_lab_add(x, vi, day, L_HBA1C,
		    rnd(dm ? clampd(gen_rng_normal(r, 7.5, 1.2), 5.2, 14)
			   : clampd(gen_rng_normal(r, 5.5, 0.4), 4.2, 7.0),
			1),
		    "%");
	if (glu)
		gen_lab_add(x, vi, day, L_GLU,
		    rnd(dm ? clampd(gen_rng_normal(r, 150, 40), 70, 450)
			   : clampd(gen_rng_normal(r, 97, 12), 60, 200),
			0),
		    "mg/dL");
}

static void
lab_kidney(struct gen_ctx *x, int vi, int32_t day)
{
	int age = gen_age_at(x->p, day);
	double egfr;

	if (gen_active(x, GC_CKD, day))
		egfr = clampd(gen_rng_normal(x->r, 45, 8), 30, 59);
	else
		egfr = clampd(gen_rng_normal(x->r,
				  105 - 0.8 * (age > 30 ? age - 30 : 0), 13),
		    50, 150);
	egfr = rnd(egfr, 0);
	gen_lab_add(x, vi, day, L_EGFR, egfr, "mL/min/1.73m2");
	gen_lab_add(x, vi, day, L_CREAT,
	    rnd((x->p->sex == 'F' ? 72.0 : 92.0) / egfr, 2), "mg/dL");
}

static void
lab_ldl(struct gen_ctx *x, int vi, int32_t day)
{
	double v;

	if (gen_active(x, GC_LIPID, day))
		v = gen_on_drug(x, D_STATIN, day)
		    ? gen_rng_normal(x->r, 92, 22)
		    : gen_rng_normal(x->r, 155, 30);
	else
		v = gen_rng_normal(x->r, 112, 26);
	gen_lab_add(x, vi, day, L_LDL, rnd(clampd(v, 30, 300), 0), "mg/dL");
}

static void
lab_inr(struct gen_ctx *x, int vi, int32_t day)
{
	double v = gen_on_drug(x, D_WARFARIN, day)
	    ? clampd(gen_rng_normal(x->r, 2.4, 0.5), 1.0, 5.5)
	    : clampd(gen_rng_normal(x->r, 1.0, 0.08), 0.8, 1.4);

	gen_lab_add(x, vi, day, L_INR, rnd(v, 2), "{INR}");
}

static void
lab_hb(struct gen_ctx *x, int vi, int32_t day)
{
	int cancer = 0;
	double v;

	for (int c = 0; c < GC_NCOND; c++)
		if (gen_conds[c].cancer && gen_active(x, c, day))
			cancer = 1;
	if (cancer)
		v = gen_rng_normal(x->r, 11.3, 1.5);
	else if (gen_active(x, GC_CKD, day))
		v = gen_rng_normal(x->r, 11.6, 1.3);
	else
		v = gen_rng_normal(x->r, x->p->sex == 'M' ? 14.8 : 13.0, 1.1);
	gen_lab_add(x, vi, day, L_HB, rnd(clampd(v, 6, 19), 1), "g/dL");
}

static void
lab_crp(struct gen_ctx *x, int vi, int32_t day)
{
	int ibd = gen_active(x, GC_CD, day) || gen_active(x, GC_UC, day);
	double v = 0.1 + gen_rng_exp(x->r, ibd ? 15 : 2);

	gen_lab_add(x, vi, day, L_CRP, rnd(clampd(v, 0.1, 300), 1), "mg/L");
}

/*
 * The labs of one visit. dept is a department, or -1 for a check-up
 * (full panel), -2 for an emergency visit or admission.
 */
void
gen_care_labs(struct gen_ctx *x, int vi, int dept, int32_t day)
{
	struct gen_rng *r = x->r;
	int dm = gen_active(x, GC_DM, day);

	switch (dept) {
	case -1:
		lab_hb(x, vi, day);
		lab_glycaemia(x, vi, day, 1, 1);
		lab_kidney(x, vi, day);
		lab_ldl(x, vi, day);
		break;
	case -2:
		if (gen_rng_chance(r, 0.9))
			lab_hb(x, vi, day);
		lab_glycaemia(x, vi, day, dm && gen_rng_chance(r, 0.3),
		    gen_rng_chance(r, 0.6));
		if (gen_rng_chance(r, 0.6))
			lab_kidney(x, vi, day);
		if (gen_rng_chance(r, 0.4))
			lab_crp(x, vi, day);
		break;
	case GD_MED:
		lab_glycaemia(x, vi, day, dm || gen_rng_chance(r, 0.15),
		    gen_rng_chance(r, 0.5));
		if (gen_active(x, GC_CKD, day) || gen_rng_chance(r, 0.4))
			lab_kidney(x, vi, day);
		if (gen_rng_chance(r, gen_active(x, GC_LIPID, day) ? 0.6 : 0.1))
			lab_ldl(x, vi, day);
		if (gen_on_drug(x, D_WARFARIN, day) ||
		    (gen_active(x, GC_AF, day) && gen_rng_chance(r, 0.1)))
			lab_inr(x, vi, day);
		if (gen_rng_chance(r, 0.3))
			lab_hb(x, vi, day);
		break;
	case GD_RESP:
		if (gen_rng_chance(r, 0.3))
			lab_hb(x, vi, day);
		break;
	case GD_GI:
		if (gen_rng_chance(r, 0.7))
			lab_hb(x, vi, day);
		if (gen_rng_chance(r, 0.6))
			lab_crp(x, vi, day);
		if (gen_rng_chance(r, 0.2))
			lab_kidney(x, vi, day);
		break;
	case GD_ONC:
		if (gen_rng_chance(r, 0.9))
			lab_hb(x, vi, day);
		if (gen_rng_chance(r, 0.6))
			lab_kidney(x, vi, day);
		lab_glycaemia(x, vi, day, 0, gen_rng_chance(r, 0.3));
		break;
	case GD_EYE:
		lab_glycaemia(x, vi, day, dm && gen_rng_chance(r, 0.3),
		    gen_rng_chance(r, 0.1));
		break;
	}
}

static struct gen_plan *
plan_add(struct gen_ctx *x, int cond, const char *code, int32_t start,
    int every, int ncycles)
{
	struct gen_plan *pl;

	if (x->nplan == GEN_MAX_PLANS || start > x->hi)
		return NULL;
	pl = &x->plan[x->nplan++];
	pl->cond = cond;
	pl->code = code;
	pl->start = start;
	pl->every = every;
	pl->cycles = ncycles;
	pl->stopped = 0;
	return pl;
}

/* A course refilled at follow-ups: first fill on the diagnosis visit or
 * on a visit of its own. */
static void
course(struct gen_ctx *x, int cond, int vi_dx, const char *code, int32_t start)
{
	int vi;

	if (start > x->hi || plan_add(x, cond, code, start, 0, 0) == NULL)
		return;
	vi = start == x->dx[cond]
	    ? vi_dx
	    : gen_visit_add(x, start, 0, GV_OUT, x->code[cond]);
	gen_drug_add(x, vi, start, code, 30);
}

/* A course given in cycles, each on its own visit (gen_clinical.c). */
static void
cycled(struct gen_ctx *x, int cond, const char *code, int32_t start, int every,
    int ncycles)
{
	if (ncycles > 0)
		plan_add(x, cond, code, start, every, ncycles);
}

/* The visit of a work-up `offset` days from the diagnosis: before it,
 * its primary diagnosis is `why`; on the day, the diagnosis visit. */
static int
workup(struct gen_ctx *x, int cond, int vi_dx, int offset, int len, int type,
    const char *why)
{
	if (offset == 0)
		return vi_dx;
	return gen_visit_add(x, x->dx[cond] + offset, len, type,
	    offset < 0 && why != NULL ? why : x->code[cond]);
}

static const char *
anticoagulant(struct gen_rng *r, int32_t start)
{
	double u = gen_rng_unit(r);

	if (date_year(start) < 2015)
		return u < 0.85 ? D_WARFARIN
		    : u < 0.93	? D_RIVAROXABAN
				: D_APIXABAN;
	return u < 0.2 ? D_WARFARIN
	    : u < 0.5  ? D_RIVAROXABAN
	    : u < 0.8  ? D_APIXABAN
		       : D_EDOXABAN;
}

static void
care_heart(struct gen_ctx *x, int cond, int vi)
{
	struct gen_rng *r = x->r;
	int32_t d = x->dx[cond], start;

	switch (cond) {
	case GC_AF:
		if (gen_rng_chance(r, 0.9))
			gen_proc_add(x, vi, d, P_ECG);
		if (!gen_rng_chance(r, 0.8))
			break; /* never anticoagulated */
		start = d +
		    (gen_rng_chance(r, 0.85) ? gen_rng_int(r, 0, 30)
					     : gen_rng_int(r, 31, 365));
		course(x, cond, vi, anticoagulant(r, start), start);
		break;
	case GC_HF:
		if (gen_rng_chance(r, 0.8))
			gen_proc_add(x, vi, d, P_ECG);
		if (gen_rng_chance(r, 0.6))
			course(x, cond, vi, "C03CA01", d);
		break;
	case GC_MS:
		if (gen_rng_chance(r, 0.7))
			gen_proc_add(x, vi, d, P_ECG);
		break;
	}
}

static void
care_metabolic(struct gen_ctx *x, int cond, int vi)
{
	struct gen_rng *r = x->r;
	int32_t d = x->dx[cond];

	switch (cond) {
	case GC_HTN:
		if (gen_rng_chance(r, 0.65))
			course(x, cond, vi, D_LOSARTAN, d);
		if (gen_rng_chance(r, 0.45))
			course(x, cond, vi, D_AMLODIPINE,
			    gen_rng_chance(r, 0.5)
				? d
				: d + gen_rng_int(r, 30, 365));
		break;
	case GC_DM:
		if (gen_rng_chance(r, 0.85))
			course(x, cond, vi, D_METFORMIN,
			    gen_rng_chance(r, 0.8)
				? d
				: d + gen_rng_int(r, 14, 180));
		if (gen_rng_chance(r, 0.4))
			course(
			    x, cond, vi, D_STATIN, d + gen_rng_int(r, 0, 365));
		break;
	case GC_LIPID:
		if (!gen_on_drug(x, D_STATIN, GEN_NEVER - 1) &&
		    gen_rng_chance(r, 0.75))
			course(x, cond, vi, D_STATIN, d);
		break;
	}
}

static void
care_resp(struct gen_ctx *x, int cond, int vi, int incident)
{
	struct gen_rng *r = x->r;
	int32_t d = x->dx[cond], start;
	int off, pv;

	if (cond == GC_COPD) {
		if (gen_rng_chance(r, 0.5))
			gen_proc_add(x, vi, d, P_CHEST_CT);
		start = d < date_from_ymd(2014, 6, 1)
		    ? date_from_ymd(2014, 6, 1) + gen_rng_int(r, 0, 365)
		    : d;
		if (gen_rng_chance(r, 0.6))
			course(x, cond, vi, D_COPD, start);
		return;
	}
	/* OSA: an overnight sleep study around the diagnosis for most; a
	 * patient diagnosed elsewhere less often gets one here. */
	if (!gen_rng_chance(r, incident ? 0.9 : 0.7))
		return;
	off = gen_rng_chance(r, 0.5) ? 0 : gen_rng_int(r, -45, 30);
	if (d + off < x->lo)
		off = 0;
	pv = off == 0 ? gen_visit_add(x, d, 1, GV_IN, x->code[cond])
		      : workup(x, cond, vi, off, 1, GV_IN, "R06.5");
	gen_proc_add(x, pv, d + off, P_PSG);
}

static void
care_gi(struct gen_ctx *x, int cond, int vi, int incident)
{
	struct gen_rng *r = x->r;
	int32_t d = x->dx[cond];
	int cd = cond == GC_CD, pv;

	if (incident && gen_rng_chance(r, 0.9)) {
		pv = gen_rng_chance(r, 0.7)
		    ? vi
		    : workup(x, cond, vi, -gen_rng_int(r, 3, 14), 0, GV_OUT,
			  "K52.9");
		gen_proc_add(x, pv, d, P_COLONOSCOPY);
	}
	if (gen_rng_chance(r, cd ? 0.5 : 0.85))
		course(x, cond, vi, D_MESALAZINE, d);
	if (gen_rng_chance(r, cd ? 0.3 : 0.1))
		cycled(x, cond, D_INFLIXIMAB, d + gen_rng_int(r, 60, 720), 56,
		    3 + gen_rng_poisson(r, 8));
}

/* Colectomy on the day after admission; some complications. */
static void
colectomy(struct gen_ctx *x, int vi)
{
	double u = gen_rng_unit(x->r);

	gen_proc_add(x, vi, x->c->v[vi].start + 1, P_COLECTOMY);
	if (u < 0.08)
		gen_diag_add(x, vi, "T81.4"); /* surgical site infection */
	else if (u < 0.13)
		gen_diag_add(x, vi, "K91.3"); /* postoperative ileus */
	else if (u < 0.16)
		gen_diag_add(x, vi, "K91.8"); /* anastomotic leak etc. */
}

static void
care_cancer(struct gen_ctx *x, int cond, int vi, int incident)
{
	struct gen_rng *r = x->r;
	int32_t d = x->dx[cond], start, ici = date_from_ymd(2017, 8, 1);
	int pv;
	double p;

	if (cond == GC_GC && incident && gen_rng_chance(r, 0.95)) {
		pv = workup(
		    x, cond, vi, -gen_rng_int(r, 3, 21), 0, GV_OUT, "K31.9");
		gen_proc_add(x, pv, d, P_GASTROSCOPY);
	}
	if (cond == GC_CRC && incident && gen_rng_chance(r, 0.95)) {
		pv = workup(
		    x, cond, vi, -gen_rng_int(r, 3, 21), 0, GV_OUT, "K63.5");
		gen_proc_add(x, pv, d, P_COLONOSCOPY);
	}
	if (incident && gen_rng_chance(r, cond == GC_LC ? 0.95 : 0.6)) {
		pv = workup(x, cond, vi,
		    cond == GC_LC ? -gen_rng_int(r, 0, 30) : 0, 0, GV_OUT,
		    "R91");
		gen_proc_add(x, pv, d, P_CHEST_CT);
	}
	/* Surgery admission. */
	if (cond != GC_LC && gen_rng_chance(r, cond == GC_CRC ? 0.6 : 0.5)) {
		pv =
		    workup(x, cond, vi, gen_rng_int(r, 14, 60), 0, GV_IN, NULL);
		if (pv >= 0) {
			x->c->v[pv].end =
			    x->c->v[pv].start + gen_rng_int(r, 5, 14);
			if (x->c->v[pv].end > x->hi)
				x->c->v[pv].end = x->hi;
			if (cond == GC_CRC)
				colectomy(x, pv);
			gen_care_labs(x, pv, -2, x->c->v[pv].start);
		}
	}
	switch (cond) {
	case GC_LC:
		p = d >= date_from_ymd(2017, 1, 1)   ? 0.7
		    : d >= date_from_ymd(2016, 1, 1) ? 0.5
		    : d >= date_from_ymd(2015, 1, 1) ? 0.3
						     : 0.05;
		if (!gen_rng_chance(r, p))
			break;
		start = d + gen_rng_int(r, 21, 240);
		if (start < ici)
			start = ici + gen_rng_int(r, 0, 120);
		if (gen_rng_chance(r, 0.45))
			cycled(x, cond, D_NIVOLUMAB, start, 14,
			    2 + gen_rng_poisson(r, 8));
		else
			cycled(x, cond, D_PEMBROLIZUMAB, start, 21,
			    2 + gen_rng_poisson(r, 6));
		break;
	case GC_GC:
		if (d >= date_from_ymd(2018, 1, 1) && gen_rng_chance(r, 0.05))
			cycled(x, cond, D_NIVOLUMAB,
			    d + gen_rng_int(r, 60, 400), 14,
			    2 + gen_rng_poisson(r, 5));
		break;
	case GC_CRC:
		if (gen_rng_chance(r, 0.35))
			cycled(x, cond, "L01BC06", d + gen_rng_int(r, 30, 90),
			    21, 4 + gen_rng_poisson(r, 3));
		break;
	case GC_BC:
		/* genetic susceptibility (BRCA1/2) found in some */
		if (gen_rng_chance(r, 0.06))
			gen_diag_add(x, vi, "Z15.0");
		if (gen_rng_chance(r, 0.7))
			course(x, cond, vi,
			    gen_age_at(x->p, d) < 50 ? "L02BA01" : "L02BG04",
			    d + gen_rng_int(r, 30, 180));
		break;
	}
}

static void
care_eye(struct gen_ctx *x, int cond, int vi)
{
	struct gen_rng *r = x->r;
	int32_t d = x->dx[cond];
	int pv;

	switch (cond) {
	case GC_CATARACT:
		if (!gen_rng_chance(r, 0.4))
			break;
		pv = workup(
		    x, cond, vi, gen_rng_int(r, 7, 180), 0, GV_OUT, NULL);
		gen_proc_add(x, pv, d, P_CATARACT);
		if (pv >= 0 && gen_rng_chance(r, 0.3)) {
			pv = gen_visit_add(x,
			    x->c->v[pv].start + gen_rng_int(r, 14, 60), 0,
			    GV_OUT, x->code[cond]);
			gen_proc_add(x, pv, d, P_CATARACT);
		}
		break;
	case GC_GLAUCOMA:
		if (gen_rng_chance(r, 0.85))
			course(x, cond, vi, "S01EE01", d);
		break;
	case GC_AMD:
		if (gen_rng_chance(r, 0.4))
			cycled(x, cond, "S01LA04", d + gen_rng_int(r, 0, 30),
			    gen_rng_int(r, 28, 56), 3 + gen_rng_poisson(r, 4));
		break;
	case GC_DR:
		gen_diag_add(x, vi, "E11.3");
		break;
	}
}

/* The diagnosis visit of cond at x->dx[cond], and what follows it. */
void
gen_care_diagnose(struct gen_ctx *x, int cond)
{
	const struct gen_cond_def *def = &gen_conds[cond];
	int32_t d = x->dx[cond];
	int incident = x->onset[cond] >= x->first, vi, type = GV_OUT;

	if (cond == GC_AF && gen_rng_chance(x->r, 0.3))
		type = GV_ER;
	else if (cond == GC_HF && gen_rng_chance(x->r, 0.3))
		type = GV_IN;
	vi = gen_visit_add(x, d, type == GV_IN ? gen_rng_int(x->r, 4, 10) : 0,
	    type, x->code[cond]);
	if (vi < 0)
		return;
	if (def->dept != GD_EYE && def->dept != GD_RESP)
		gen_care_labs(x, vi, def->dept, d);
	switch (def->dept) {
	case GD_MED:
		care_heart(x, cond, vi);
		care_metabolic(x, cond, vi);
		break;
	case GD_RESP:
		care_resp(x, cond, vi, incident);
		break;
	case GD_GI:
		care_gi(x, cond, vi, incident);
		break;
	case GD_ONC:
		care_cancer(x, cond, vi, incident);
		break;
	case GD_EYE:
		care_eye(x, cond, vi);
		break;
	}
}
