/*
 * gen_person.c — owns who a synthetic person is: sex, birth, the
 * conditions they will have and when, death, and their link_key. All of
 * it is drawn from a stream seeded by (seed, global person number) only,
 * so a person shared by several hospitals is the same person at each. It
 * never decides what a hospital records (gen_clinical.c does).
 */
#include <string.h>

#include <openssl/evp.h>

#include "date.h"
#include "gen.h"
#include "util.h"

#define SNAP_Y	      2025
#define WINDOW_FROM_Y 2010

/*
 * Age at the snapshot of patients of a Korean tertiary hospital, by
 * 10-year band (0-9 ... 90-100): they skew old.
 */
static const int age_weights[10] = { 5, 5, 7, 9, 12, 17, 20, 15, 8, 2 };

/* Chance of dying within 2010-2025 by age band at the snapshot. */
static const double death_p[10] = { 0.003, 0.003, 0.005, 0.008, 0.015, 0.03,
	0.06, 0.12, 0.25, 0.45 };

int
gen_age_at(const struct gen_person *p, int32_t day)
{
	return date_year(day) - p->birth_year;
}

static int
draw_age(struct gen_rng *r)
{
	int x = gen_rng_int(r, 0, 99), band = 0;

	while (band < 9 && x >= age_weights[band]) {
		x -= age_weights[band];
		band++;
	}
	return band == 9 ? gen_rng_int(r, 90, 100)
			 : gen_rng_int(r, band * 10, band * 10 + 9);
}

/* Risk multipliers from conditions drawn earlier (catalogue order; a
 * condition not drawn yet has onset 0 here, so only look back). */
static double
risk_mult(const struct gen_person *p, int c)
{
	int has_htn = p->onset[GC_HTN] != GEN_NEVER;
	int has_dm = p->onset[GC_DM] != GEN_NEVER;
	double obese = p->onset[GC_OBESITY] != GEN_NEVER;

	switch (c) {
	case GC_HTN:
		return obese ? 1.5 : 1.0;
	case GC_DM:
		return obese ? 2.0 : 1.0;
	case GC_OSA:
		return obese ? 3.0 : 1.0;
	case GC_BC:
		return obese ? 1.3 : 1.0;
	case GC_AF:
		return (has_htn ? 1.5 : 1.0) *
		    (p->onset[GC_MS] != GEN_NEVER ? 5.0 : 1.0);
	case GC_HF:
		return p->onset[GC_AF] != GEN_NEVER ? 2.5 : 1.0;
	case GC_CKD:
		return (has_dm ? 2.0 : 1.0) * (has_htn ? 1.6 : 1.0);
	case GC_LIPID:
		return has_dm ? 1.4 : 1.0;
	case GC_CRC:
		/* early-onset colorectal cancer rises in later cohorts */
		return (p->birth_year >= 1975 ? 1.8 : 1.0) *
		    (obese ? 1.4 : 1.0);
	default:
		return 1.0;
	}
}

static void
draw_condition(
    struct gen_person *p, int c, int age, double cancer_mult, struct gen_rng *r)
{
	const struct gen_cond_def *d = &gen_conds[c];
	double risk, at;
	int32_t snap = date_from_ymd(SNAP_Y, 12, 31);

	p->onset[c] = GEN_NEVER;
	if (p->sex == 'U' && (c == GC_BC))
		return;
	risk = (p->sex == 'M' ? d->risk_m : d->risk_f) * risk_mult(p, c);
	if (d->cancer)
		risk *= cancer_mult;
	if (c == GC_DR) {
		if (p->onset[GC_DM] == GEN_NEVER || !gen_rng_chance(r, risk))
			return;
		at = p->onset[GC_DM] + gen_rng_exp(r, 6 * 365.25);
	} else {
		if (!gen_rng_chance(r, risk))
			return;
		at = gen_rng_normal(r, d->onset_mean, d->onset_sd);
		if (at < d->onset_min)
			at = d->onset_min + gen_rng_unit(r) * 3;
		if (at > age + 1)
			return; /* not yet */
		at = p->birth + at * 365.25;
	}
	if (at > snap)
		return;
	p->onset[c] = (int32_t)at;
	p->code[c] = gen_code_pick(d->codes, d->ncodes, r);
}

static void
draw_death(struct gen_person *p, int age, struct gen_rng *r)
{
	int32_t from = date_from_ymd(WINDOW_FROM_Y, 1, 1);
	int32_t snap = date_from_ymd(SNAP_Y, 12, 31), lo, d;

	lo = p->birth > from ? p->birth : from;
	p->death = GEN_NEVER;
	if (gen_rng_chance(r, death_p[age / 10 > 9 ? 9 : age / 10]))
		p->death = gen_rng_int(r, lo, snap);
	for (int c = 0; c < GC_NCOND; c++) {
		const struct gen_cond_def *def = &gen_conds[c];

		if (def->mortality == 0 || p->onset[c] == GEN_NEVER ||
		    !gen_rng_chance(r, def->mortality))
			continue;
		d = p->onset[c] + 30 +
		    (int32_t)gen_rng_exp(r, def->survival * 365.25);
		if (d < p->death)
			p->death = d;
	}
	if (p->death == GEN_NEVER)
		return;
	/* A patient of 2010-2025 died within it, after a first visit. */
	if (p->death < lo + 60)
		p->death = lo + 60 + gen_rng_int(r, 0, 3 * 365);
	if (p->death > snap)
		p->death = GEN_NEVER;
}

void
gen_person_make(
    struct gen_person *p, uint64_t seed, uint64_t g, double cancer_mult)
{
	struct gen_rng r;
	double u;
	int age;

	memset(p, 0, sizeof(*p));
	gen_rng_init(&r, seed, gen_mix(g, 0x706572736f6eULL));
	p->g = g;
	u = gen_rng_unit(&r);
	p->sex = u < 0.0005 ? 'U' : u < 0.53 ? 'F' : 'M';
	age = draw_age(&r);
	p->birth_year = SNAP_Y - age;
	p->birth = date_from_ymd(p->birth_year, 1, 1) + gen_rng_int(&r, 0, 364);
	if (p->birth > date_from_ymd(SNAP_Y, 12, 1))
		p->birth = date_from_ymd(SNAP_Y, 12, 1);
	for (int c = 0; c < GC_NCOND; c++)
		draw_condition(p, c, age, cancer_mult, &r);
	draw_death(p, age, &r);
}

int
gen_link_key(uint64_t seed, uint64_t g, char out[65])
{
	static const char tag[] = "tally-gen-link-key";
	unsigned char msg[sizeof(tag) + 16], md[32];
	unsigned int mdlen = 0;

	memcpy(msg, tag, sizeof(tag));
	for (int i = 0; i < 8; i++) {
		msg[sizeof(tag) + i] = (unsigned char)(seed >> (8 * i));
		msg[sizeof(tag) + 8 + i] = (unsigned char)(g >> (8 * i));
	}
	if (EVP_Digest(msg, sizeof(msg), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return -1;
	hex_encode(md, sizeof(md), out);
	return 0;
}
