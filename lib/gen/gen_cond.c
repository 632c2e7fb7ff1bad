/*
 * gen_cond.c — owns the disease catalogue of the generator: lifetime
 * risks and onset ages of the modelled conditions among Korean hospital
 * patients, their KCD-8 code variants, and the everyday reasons for a
 * visit ("fillers"). Data only, plus weighted picks; it never decides who
 * is ill (gen_person.c) or what a visit holds (gen_clinical.c).
 *
 * Codes follow the conventions the engine, docs/examples and docs depend
 * on: KCD-8 with a dot after the third character when longer.
 */
#include "gen.h"
#include "util.h"

#define CODES(...)                                                             \
	(const struct gen_code[]){ __VA_ARGS__ },                              \
	    (int)(sizeof((const struct gen_code[]){ __VA_ARGS__ }) /           \
		sizeof(struct gen_code))

/*
 * Risks are lifetime risks among the patients of a tertiary hospital
 * (higher than in the population: sick people go to hospital); a person
 * has the condition when the draw succeeds and the drawn onset age has
 * been reached. Cancer risks are multiplied at a cancer hospital.
 */
const struct gen_cond_def gen_conds[GC_NCOND] = {
	[GC_OBESITY] = { "obesity", GD_MED, 0.10, 0.09, 38, 12, 10, 1, 0, 0, 0,
	    0, CODES({ "E66.9", 85 }, { "E66.0", 15 }) },
	[GC_HTN] = { "hypertension", GD_MED, 0.55, 0.50, 58, 13, 20, 1, 0, 0, 0,
	    0, CODES({ "I10", 1 }) },
	[GC_DM] = { "type 2 diabetes", GD_MED, 0.30, 0.25, 57, 12, 25, 1, 0, 0,
	    0, 0, CODES({ "E11.9", 80 }, { "E11.7", 10 }, { "E11.6", 10 }) },
	[GC_LIPID] = { "hyperlipidaemia", GD_MED, 0.40, 0.42, 55, 12, 25, 1, 0,
	    0, 0, 0, CODES({ "E78.5", 85 }, { "E78.0", 15 }) },
	[GC_MS] = { "rheumatic mitral stenosis", GD_MED, 0.003, 0.005, 50, 14,
	    20, 1, 0, 0, 0, 0, CODES({ "I05.0", 1 }) },
	[GC_AF] = { "atrial fibrillation", GD_MED, 0.10, 0.07, 70, 10, 30, 1, 0,
	    0, 0, 0, CODES({ "I48.9", 55 }, { "I48.0", 35 }, { "I48.1", 10 }) },
	[GC_HF] = { "heart failure", GD_MED, 0.06, 0.05, 72, 10, 30, 1, 0, 0,
	    0.25, 5, CODES({ "I50.9", 80 }, { "I50.0", 20 }) },
	[GC_CKD] = { "chronic kidney disease", GD_MED, 0.06, 0.05, 67, 11, 30,
	    1, 0, 0, 0.1, 8, CODES({ "N18.3", 1 }) },
	[GC_COPD] = { "COPD", GD_RESP, 0.07, 0.02, 67, 10, 40, 1, 0, 0, 0.2, 6,
	    CODES({ "J44.9", 80 }, { "J44.1", 20 }) },
	[GC_OSA] = { "obstructive sleep apnea", GD_RESP, 0.07, 0.025, 49, 12,
	    18, 1, 0, 0, 0, 0,
	    CODES({ "G47.3", 80 }, { "G47.30", 15 }, { "G47.31", 5 }) },
	[GC_CD] = { "Crohn's disease", GD_GI, 0.007, 0.004, 27, 9, 10, 1, 0, 0,
	    0, 0, CODES({ "K50.9", 70 }, { "K50.1", 30 }) },
	[GC_UC] = { "ulcerative colitis", GD_GI, 0.011, 0.009, 40, 14, 12, 1, 0,
	    0, 0, 0, CODES({ "K51.9", 75 }, { "K51.0", 25 }) },
	[GC_GC] = { "gastric cancer", GD_ONC, 0.055, 0.025, 63, 11, 25, 1, 0, 1,
	    0.3, 3, CODES({ "C16.9", 70 }, { "C16.3", 30 }) },
	[GC_CRC] = { "colorectal cancer", GD_ONC, 0.045, 0.032, 62, 13, 22, 1,
	    0, 1, 0.3, 3,
	    CODES({ "C18.7", 35 }, { "C18.2", 10 }, { "C18.9", 10 },
		{ "C19", 10 }, { "C20", 35 }) },
	[GC_LC] = { "lung cancer", GD_ONC, 0.09, 0.04, 67, 10, 30, 1, 0, 1, 0.6,
	    2, CODES({ "C34.1", 50 }, { "C34.3", 30 }, { "C34.9", 20 }) },
	[GC_BC] = { "breast cancer", GD_ONC, 0.0005, 0.045, 52, 11, 25, 1, 0, 1,
	    0.15, 6, CODES({ "C50.9", 80 }, { "C50.4", 20 }) },
	[GC_CATARACT] = { "cataract", GD_EYE, 0.45, 0.50, 68, 9, 40, 0, 1, 0, 0,
	    0, CODES({ "H25.9", 70 }, { "H25.1", 30 }) },
	[GC_GLAUCOMA] = { "glaucoma", GD_EYE, 0.06, 0.06, 60, 12, 30, 1, 1, 0,
	    0, 0, CODES({ "H40.1", 70 }, { "H40.2", 30 }) },
	[GC_AMD] = { "macular degeneration", GD_EYE, 0.05, 0.05, 72, 8, 50, 1,
	    1, 0, 0, 0, CODES({ "H35.3", 1 }) },
	[GC_MYOPIA] = { "myopia", GD_EYE, 0.30, 0.32, 12, 5, 5, 0, 1, 0, 0, 0,
	    CODES({ "H52.1", 1 }) },
	/* Only with diabetes; gen_person.c draws it from the DM onset. */
	[GC_DR] = { "diabetic retinopathy", GD_EYE, 0.25, 0.25, 0, 0, 0, 1, 1,
	    0, 0, 0, CODES({ "H36.0", 1 }) },
};

const char *
gen_code_pick(const struct gen_code *c, int n, struct gen_rng *r)
{
	int total = 0, x;

	for (int i = 0; i < n; i++)
		total += c[i].weight;
	x = gen_rng_int(r, 0, total - 1);
	for (int i = 0; i < n; i++) {
		if (x < c[i].weight)
			return c[i].code;
		x -= c[i].weight;
	}
	return c[n - 1].code;
}

/* code, weight, ages, sex, drug (ATC), chance of the drug, days */
static const struct gen_filler out_fillers[] = {
	{ "J06.9", 30, 0, 120, 0, "J01CA04", 0.3, 5 },
	{ "J20.9", 10, 0, 120, 0, "J01CA04", 0.4, 5 },
	{ "A09", 6, 0, 40, 0, NULL, 0, 0 },
	{ "K21.0", 14, 20, 120, 0, "A02BC01", 0.8, 28 },
	{ "K29.7", 12, 20, 120, 0, "A02BC01", 0.5, 14 },
	{ "M54.5", 14, 18, 120, 0, "M01AE01", 0.6, 7 },
	{ "M17.9", 10, 50, 120, 0, "M01AE01", 0.5, 14 },
	{ "M81.9", 6, 55, 120, 'F', "M05BA04", 0.7, 90 },
	{ "K59.0", 5, 0, 120, 0, NULL, 0, 0 },
	{ "R10.4", 6, 0, 120, 0, NULL, 0, 0 },
	{ "N39.0", 5, 15, 120, 'F', "J01MA02", 0.8, 5 },
	{ "L30.9", 6, 0, 120, 0, "D07AC01", 0.5, 7 },
	{ "J45.9", 5, 3, 120, 0, "R03AK06", 0.6, 30 },
	{ "F32.9", 5, 15, 120, 0, "N06AB06", 0.6, 30 },
	{ "G43.9", 4, 12, 70, 'F', "N02CC01", 0.4, 10 },
	{ "E03.9", 4, 20, 120, 'F', "H03AA01", 0.9, 90 },
	{ "R51", 5, 10, 120, 0, "N02BE01", 0.5, 5 },
	{ "K63.5", 4, 40, 120, 0, NULL, 0, 0 },
	{ "Z00.0", 10, 20, 120, 0, NULL, 0, 0 },
};

static const struct gen_filler er_fillers[] = {
	{ "R07.4", 20, 30, 120, 0, NULL, 0, 0 },
	{ "R10.4", 20, 0, 120, 0, NULL, 0, 0 },
	{ "S06.0", 8, 0, 120, 0, NULL, 0, 0 },
	{ "J18.9", 12, 0, 120, 0, "J01DD04", 0.7, 7 },
	{ "T78.4", 6, 0, 120, 0, "R06AB04", 0.6, 3 },
	{ "S52.5", 6, 0, 120, 0, NULL, 0, 0 },
	{ "R55", 8, 20, 120, 0, NULL, 0, 0 },
	{ "A09", 10, 0, 120, 0, NULL, 0, 0 },
	{ "R50.9", 10, 0, 15, 0, "N02BE01", 0.6, 3 },
};

static const struct gen_filler in_fillers[] = {
	{ "J18.9", 30, 0, 120, 0, "J01DD04", 0.9, 7 },
	{ "K35.8", 10, 8, 70, 0, "J01DD04", 0.8, 5 },
	{ "N10", 8, 15, 120, 'F', "J01MA02", 0.9, 7 },
	{ "S72.0", 8, 65, 120, 0, NULL, 0, 0 },
	{ "I63.9", 10, 50, 120, 0, "B01AC06", 0.9, 30 },
	{ "K80.2", 8, 30, 120, 0, NULL, 0, 0 },
	{ "I21.9", 6, 40, 120, 0, "B01AC06", 0.9, 30 },
};

static const struct gen_filler eye_fillers[] = {
	{ "H10.9", 25, 0, 120, 0, "S01AE03", 0.5, 7 },
	{ "H04.1", 25, 15, 120, 0, "S01XA20", 0.7, 30 },
	{ "H00.0", 8, 0, 120, 0, NULL, 0, 0 },
	{ "H52.4", 15, 45, 120, 0, NULL, 0, 0 },
	{ "H11.0", 6, 30, 120, 0, NULL, 0, 0 },
	{ "H43.3", 10, 40, 120, 0, NULL, 0, 0 },
	{ "H52.1", 15, 5, 40, 0, NULL, 0, 0 },
};

static const struct {
	const struct gen_filler *f;
	int n;
} sets[GF_NSET] = {
	[GF_OUT] = { out_fillers, (int)nitems(out_fillers) },
	[GF_ER] = { er_fillers, (int)nitems(er_fillers) },
	[GF_IN] = { in_fillers, (int)nitems(in_fillers) },
	[GF_EYE] = { eye_fillers, (int)nitems(eye_fillers) },
};

static int
filler_fits(const struct gen_filler *f, int age, char sex)
{
	return age >= f->min_age && age <= f->max_age &&
	    (f->sex == 0 || f->sex == sex);
}

/* Weighted among those that fit the person; the set's first otherwise. */
const struct gen_filler *
gen_filler_pick(int set, int age, char sex, struct gen_rng *r)
{
	const struct gen_filler *f = sets[set].f;
	int n = sets[set].n, total = 0, x;

	for (int i = 0; i < n; i++)
		if (filler_fits(&f[i], age, sex))
			total += f[i].weight;
	if (total == 0)
		return &f[0];
	x = gen_rng_int(r, 0, total - 1);
	for (int i = 0; i < n; i++) {
		if (!filler_fits(&f[i], age, sex))
			continue;
		if (x < f[i].weight)
			return &f[i];
		x -= f[i].weight;
	}
	return &f[0];
}
