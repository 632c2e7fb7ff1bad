/*
 * dbsafe.h — a hardened, read-only SQLite connection to a Baseline DB,
 * for code that runs queries on behalf of remote researchers (the
 * engine). Defences, each independent of the others:
 *
 *   - opened SQLITE_OPEN_READONLY, never as a URI (a relative path gets
 *     "./" so "file:..." stays a file name), PRAGMA query_only = 1;
 *   - SQLITE_DBCONFIG_DEFENSIVE on; extension loading, triggers, views,
 *     untrusted schema functions and double-quoted strings off;
 *   - sqlite3_limit(): no ATTACH, short SQL, few parameters, bounded
 *     value length, shallow expressions;
 *   - an authorizer that allows SELECT, reads of the Baseline tables
 *     (person, visit, diagnosis, lab, drug, procedure, meta) and read
 *     transactions, and denies everything else (sqlite_master, other
 *     tables, functions, PRAGMA, ATTACH, writes);
 *   - a progress handler that interrupts any statement once the caller's
 *     deadline has passed;
 *   - a page cache capped at the caller's size (PRAGMA cache_size).
 *
 * Callers keep SQL text constant and bind every value.
 */
#ifndef TALLY_DBSAFE_H
#define TALLY_DBSAFE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define DBSAFE_MAX_STMTS 64 /* cached statements per connection */

struct dbsafe;

/* Opens path as above and checks it is a Baseline DB (baseline_check). */
struct dbsafe *dbsafe_open(
    const char *path, size_t cache_bytes, char *err, size_t errlen);
void dbsafe_close(struct dbsafe *);
/* The raw handle, for tests that probe the defences. */
sqlite3 *dbsafe_db(struct dbsafe *);

/* Statements interrupt once clock_ms() passes deadline (0: none);
 * timeout_ms is only quoted in the error message. */
void dbsafe_deadline(
    struct dbsafe *, uint64_t deadline_ms, uint64_t timeout_ms);
/* 1 if the deadline has passed (also checked by C loops between rows). */
int dbsafe_expired(struct dbsafe *);

/*
 * The cached statement number id (< DBSAFE_MAX_STMTS) for the constant
 * text sql, prepared on first use, reset and unbound. NULL with the
 * reason in err.
 */
sqlite3_stmt *dbsafe_stmt(
    struct dbsafe *, unsigned id, const char *sql, char *err, size_t errlen);
/* Writes why the last call failed ("time limit", SQLite's message) into
 * err, prefixed with what; returns -1. */
int dbsafe_error(struct dbsafe *, const char *what, char *err, size_t errlen);

/* A read transaction around a run, so that every statement sees the same
 * snapshot; *version changes whenever the file's content did. */
int dbsafe_begin(struct dbsafe *, uint64_t *version, char *err, size_t errlen);
void dbsafe_end(struct dbsafe *);

#endif
