/*
 * load.h — `tally load`: turns a hospital's ETL output into a Baseline DB
 * (DESIGN.md section 3) without losing a row silently.
 *
 * Two inputs: tally's own CSV layout (one file per Baseline table, named
 * after it) and an OMOP CDM v5.3/v5.4 CSV export. Every input row is
 * either loaded or rejected with a reason; rejected rows are reported as
 * `FILE:LINE: reason` and written to DB.rejects.csv. A load replaces the
 * DB with the export (a snapshot): the new DB is built in DB.loading
 * beside it and renamed over it only when complete, so a crash leaves the
 * previous DB intact. docs/loading.md is the operator's description.
 */
#ifndef TALLY_LOAD_H
#define TALLY_LOAD_H

#include <stdint.h>
#include <stdio.h>

enum load_source {
	LOAD_CSV,  /* person.csv, visit.csv, diagnosis.csv, ... */
	LOAD_OMOP, /* PERSON.csv, VISIT_OCCURRENCE.csv, ... */
};

struct load_opts {
	const char *db;		 /* the Baseline DB to replace */
	const char *dir;	 /* the export folder */
	enum load_source source; /* LOAD_CSV or LOAD_OMOP */
	int strict;		 /* commit nothing if any row is rejected */
	const char *site;	 /* meta hospital_id; NULL: db's file name */
	const char *snapshot;	 /* meta snapshot_date; NULL: today */
	FILE *report;		 /* one line per rejected row; NULL: none */
	int progress;		 /* rows per table on stderr as they load */
};

#define LOAD_MAX_STEPS 16
#define LOAD_NAME_MAX  64

/* One input table: what was read from it and what became of the rows. */
struct load_step {
	char table[LOAD_NAME_MAX];  /* input table, e.g. condition_occurrence */
	char target[LOAD_NAME_MAX]; /* Baseline table; "" when not stored */
	char file[LOAD_NAME_MAX];   /* file name found, "" when absent */
	uint64_t read;		    /* data rows (header excluded) */
	uint64_t loaded;	    /* rows accepted */
	uint64_t rejected;	    /* rows reported as rejected */
	uint64_t unlinked;	    /* loaded, visit_id unknown: stored NULL */
};

struct load_result {
	struct load_step step[LOAD_MAX_STEPS];
	int nsteps;
	uint64_t read, loaded, rejected; /* over every step */
	int committed;			 /* 1: the DB was replaced */
	char site[LOAD_NAME_MAX];
	char snapshot[11];
	char rejects[4096]; /* path of the rejects file written */
};

/*
 * Builds a new Baseline DB from opts->dir and, unless opts->strict and a
 * row was rejected, puts it in place of opts->db. Returns 0 when the load
 * ran to the end (see res->rejected and res->committed), -1 on an error
 * that stopped it (a missing folder or column, an unreadable file, a full
 * disk: reason in err); the previous DB is then untouched.
 */
int load_run(const struct load_opts *opts, struct load_result *res, char *err,
    size_t errlen);

/* The hospital id a DB file name implies ("x/snuh.db" -> "snuh"): 0 or -1
 * when the name does not make a valid id (letters, digits, '-', '_'). */
int load_site_from_path(const char *db, char *out, size_t outlen);
/* 1 if s is a valid hospital id: 1..63 of [A-Za-z0-9_-]. */
int load_site_valid(const char *s);

#endif
