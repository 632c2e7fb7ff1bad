/*
 * baseline.h — the Baseline DB contract (DESIGN.md section 3): tables,
 * the indexes the engine relies on, and the meta table.
 */
#ifndef TALLY_BASELINE_H
#define TALLY_BASELINE_H

#include <sqlite3.h>

#define BASELINE_SCHEMA_VERSION 1

/* The clinical tables, in load order (person first). */
extern const char *const baseline_tables[];
extern const int baseline_ntables;

/* Creates the tables (IF NOT EXISTS). Indexes come separately, after a
 * bulk load, because building them once is cheaper than maintaining them
 * row by row. */
int baseline_create(sqlite3 *db, char *err, size_t errlen);
int baseline_index(sqlite3 *db, char *err, size_t errlen);
int baseline_meta_set(
    sqlite3 *db, const char *key, const char *value, char *err, size_t errlen);
/* Copies meta[key] into out; -1 if absent. */
int baseline_meta_get(sqlite3 *db, const char *key, char *out, size_t outlen);
/* Checks that db has every table with the contract's columns. */
int baseline_check(sqlite3 *db, char *err, size_t errlen);

#endif
