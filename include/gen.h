/*
 * gen.h — synthetic Baseline DBs for a network (`tally gen`).
 *
 * The public part (top) is what cli/cmd_gen.c and the tests use. The
 * internal part (bottom) is shared by the lib/gen*.c modules only:
 *
 *   gen.c          sites, sizes, shared patients, threads, one DB per site
 *   gen_rng.c      the PRNG (xoshiro256**) and hashing; never rand()
 *   gen_cond.c     the disease catalogue: risks, onset ages, KCD-8 codes
 *   gen_person.c   demography, latent conditions, death, link_key
 *   gen_clinical.c visits and events of one person at one hospital
 *   gen_care.c     per-condition care: work-up, drugs, labs, procedures
 *   gen_db.c       the SQLite writer (prepared statements, one transaction)
 *
 * Everything is a pure function of (seed, hospital id, --patients): the
 * DB of a hospital is the same whether it is generated alone or with the
 * others, and whatever the number of threads.
 */
#ifndef TALLY_GEN_H
#define TALLY_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "network.h"

#define GEN_DEFAULT_PATIENTS 5000
#define GEN_DEFAULT_SEED     1
#define GEN_MAX_PATIENTS     100000000
#define GEN_MAX_JOBS	     64
#define GEN_SNAPSHOT	     "2025-12-31"

enum gen_table {
	GEN_PERSON,
	GEN_VISIT,
	GEN_DIAGNOSIS,
	GEN_LAB,
	GEN_DRUG,
	GEN_PROCEDURE,
	GEN_NTABLES
};

struct gen_opts {
	uint64_t seed;
	int64_t patients; /* at a lead hospital (size factor 1.0) */
	int jobs;	  /* hospitals generated at once */
	int progress;	  /* one line per hospital on stderr */
};

struct gen_stats {
	int64_t rows[GEN_NTABLES];
	int64_t total;	/* sum of rows[] */
	int64_t bytes;	/* size of the DB file(s) */
	int64_t nsites; /* DBs written */
	double seconds; /* wall clock */
};

/* Number of patients a site gets for --patients N (>= 1). */
int64_t gen_site_patients(const struct site *, int64_t patients);

/* Writes dir/<site id>.db through a temp file renamed into place. */
int gen_site(const struct site *, const struct gen_opts *, const char *dir,
    struct gen_stats *, char *err, size_t errlen);

/* Generates every site in sel[0..nsel) with opts->jobs threads; totals in
 * *st. Stops at the first failure, named in err. */
int gen_sites(const struct site *const *sel, size_t nsel,
    const struct gen_opts *, const char *dir, struct gen_stats *st, char *err,
    size_t errlen);

/* ------------------------------------------------------------------ */
/* Internal to lib/gen*.c.                                             */

/* PRNG: xoshiro256**, seeded through splitmix64. */
struct gen_rng {
	uint64_t s[4];
};

uint64_t gen_mix(uint64_t a, uint64_t b);
uint64_t gen_hash_str(const char *);
void gen_rng_init(struct gen_rng *, uint64_t a, uint64_t b);
uint64_t gen_rng_u64(struct gen_rng *);
double gen_rng_unit(struct gen_rng *);		   /* [0, 1) */
int gen_rng_int(struct gen_rng *, int lo, int hi); /* [lo, hi] */
int gen_rng_chance(struct gen_rng *, double p);
double gen_rng_normal(struct gen_rng *, double mean, double sd);
double gen_rng_exp(struct gen_rng *, double mean);
int gen_rng_poisson(struct gen_rng *, double mean);

/* Site kinds change what a hospital sees. */
enum gen_kind { GEN_GENERAL, GEN_EYE, GEN_CANCER };

/* The disease catalogue. */
enum gen_cond {
	GC_OBESITY, /* first: it changes the risks drawn after it */
	GC_HTN,
	GC_DM,
	GC_LIPID,
	GC_MS,
	GC_AF,
	GC_HF,
	GC_CKD,
	GC_COPD,
	GC_OSA,
	GC_CD,
	GC_UC,
	GC_GC,
	GC_CRC,
	GC_LC,
	GC_BC,
	GC_CATARACT,
	GC_GLAUCOMA,
	GC_AMD,
	GC_MYOPIA,
	GC_DR,
	GC_NCOND
};

/* Departments: a person's follow-up visits are per department. */
enum gen_dept { GD_MED, GD_RESP, GD_GI, GD_ONC, GD_EYE, GD_NDEPT };

struct gen_code {
	const char *code;
	int weight;
};

struct gen_cond_def {
	const char *name;
	int dept;
	double risk_m, risk_f; /* lifetime risk among hospital patients */
	double onset_mean, onset_sd, onset_min; /* age at onset, years */
	int chronic;	  /* coded again at every follow-up visit */
	int eye, cancer;  /* recorded mostly at eye hospitals; cancer */
	double mortality; /* chance it kills, and mean survival (years) */
	double survival;
	const struct gen_code *codes; /* variants, by weight */
	int ncodes;
};

extern const struct gen_cond_def gen_conds[GC_NCOND];

/* Everyday reasons for a visit, with the drug they often bring. */
struct gen_filler {
	const char *code;
	int weight;
	int min_age, max_age;
	char sex; /* 0: any */
	const char *drug;
	double drug_p;
	int days;
};

enum gen_filler_set { GF_OUT, GF_ER, GF_IN, GF_EYE, GF_NSET };
const struct gen_filler *gen_filler_pick(
    int set, int age, char sex, struct gen_rng *);
const char *gen_code_pick(const struct gen_code *, int n, struct gen_rng *);

#define GEN_NEVER INT32_MAX

/* A synthetic person: everything here is the same at every hospital. */
struct gen_person {
	uint64_t g; /* global person number */
	char sex;   /* 'M', 'F', 'U' */
	int birth_year;
	int32_t birth;		    /* day of birth (not stored) */
	int32_t death;		    /* GEN_NEVER if alive */
	int32_t onset[GC_NCOND];    /* GEN_NEVER if never */
	const char *code[GC_NCOND]; /* the KCD-8 code variant */
};

void gen_person_make(
    struct gen_person *, uint64_t seed, uint64_t g, double cancer_mult);
/* Hex SHA-256 of (seed, g): the same person has the same key anywhere. */
int gen_link_key(uint64_t seed, uint64_t g, char out[65]);
int gen_age_at(const struct gen_person *, int32_t day);

/* One person's chart at one hospital: visits and the events on them. */
enum gen_visit_type { GV_OUT, GV_IN, GV_ER };

struct gen_visit {
	int32_t start, end;
	int type;
	int64_t id; /* set by the writer */
};

struct gen_event {
	int32_t date;
	int32_t visit; /* index into gen_chart.v */
	uint8_t table; /* GEN_DIAGNOSIS .. GEN_PROCEDURE */
	uint8_t primary;
	int32_t days;	  /* drug: days_supply */
	double value;	  /* lab: value_num */
	const char *code; /* static strings only */
	const char *unit; /* lab */
	const char *text; /* lab value_text or NULL */
};

struct gen_chart {
	struct gen_visit *v;
	size_t nv, vcap;
	struct gen_event *e;
	size_t ne, ecap;
	int32_t *map; /* scratch for sorting visits */
	size_t mapcap;
	int oom; /* an allocation failed: the chart is incomplete */
};

void gen_chart_free(struct gen_chart *);
/* Fills c (emptied first) with p's history at a site of this kind. */
int gen_chart_build(struct gen_chart *c, const struct gen_person *p, int kind,
    int shared, struct gen_rng *r);

/* A drug course: refilled at follow-up visits, or given in cycles. */
struct gen_plan {
	int cond;
	const char *code;
	int32_t start;
	int every;  /* > 0: its own visit every `every` days */
	int cycles; /* number of those visits */
	int stopped;
};

#define GEN_MAX_PLANS 24

/* What gen_clinical.c and gen_care.c share while building one chart. */
struct gen_ctx {
	struct gen_chart *c;
	const struct gen_person *p;
	struct gen_rng *r;
	int kind;
	int32_t lo, hi;		 /* days this person can be seen here */
	int32_t first;		 /* first visit here */
	int32_t onset[GC_NCOND]; /* as this site will see it */
	int32_t dx[GC_NCOND];	 /* first diagnosis here, or GEN_NEVER */
	const char *code[GC_NCOND];
	struct gen_plan plan[GEN_MAX_PLANS];
	int nplan;
};

/* Visits and events; a visit always carries its primary diagnosis.
 * gen_visit_add returns the visit index, or -1 outside [lo, hi]. */
int gen_visit_add(
    struct gen_ctx *, int32_t day, int len, int type, const char *dx);
void gen_diag_add(struct gen_ctx *, int vi, const char *code);
void gen_lab_add(struct gen_ctx *, int vi, int32_t day, const char *code,
    double value, const char *unit);
void gen_drug_add(
    struct gen_ctx *, int vi, int32_t day, const char *code, int days);
void gen_proc_add(struct gen_ctx *, int vi, int32_t day, const char *code);

/* Per-condition care (gen_care.c). */
void gen_care_diagnose(struct gen_ctx *, int cond);
void gen_care_labs(struct gen_ctx *, int vi, int dept, int32_t day);
int gen_active(const struct gen_ctx *, int cond, int32_t day);
int gen_on_drug(const struct gen_ctx *, const char *code, int32_t day);

/* The SQLite writer. */
struct gen_db;
struct gen_db *gen_db_open(const char *path, char *err, size_t errlen);
int gen_db_person(struct gen_db *, int64_t id, const struct gen_person *,
    const char *link_key, char *err, size_t errlen);
int gen_db_chart(struct gen_db *, int64_t person_id, struct gen_chart *,
    char *err, size_t errlen);
/* Indexes, meta, commit; the file is complete (not yet synced). */
int gen_db_finish(struct gen_db *, const struct site *, const struct gen_opts *,
    char *err, size_t errlen);
void gen_db_rows(const struct gen_db *, int64_t rows[GEN_NTABLES]);
void gen_db_close(struct gen_db *);

#endif
