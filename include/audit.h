/*
 * audit.h — an append-only, hash-chained audit log in a SQLite table.
 * Record n holds the SHA-256 of record n-1, so any edit, insertion or
 * deletion breaks the chain from that record on; `tally audit verify`
 * names the first broken link. Truncating the newest records is only
 * visible against a head hash kept elsewhere (verify prints it).
 */
#ifndef TALLY_AUDIT_H
#define TALLY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define AUDIT_FIELD_MAX 4096

/*
 * Opens (creating it if needed, never through a symbolic link) a program's
 * durable state file, runs its schema_sql, and sets up the audit table:
 * what the broker's store and a node's state both start with. NULL with
 * the reason in err.
 */
sqlite3 *audit_statedb_open(
    const char *path, const char *schema_sql, char *err, size_t errlen);
/* Creates the table and its append-only triggers (IF NOT EXISTS). */
int audit_init(sqlite3 *db, char *err, size_t errlen);
/*
 * Appends one record. Call inside the transaction that makes the change
 * being audited, so that both commit or neither does.
 */
int audit_append(sqlite3 *db, const char *actor, const char *event,
    const char *detail, char *err, size_t errlen);

/* The two statements an append needs, prepared once per connection by
 * audit_append_cached() and kept by its caller (a busy writer saves
 * parsing them for every record). Zero-initialise; free before closing
 * the connection. */
struct audit_stmts {
	sqlite3_stmt *last, *insert;
};
int audit_append_cached(sqlite3 *db, struct audit_stmts *, const char *actor,
    const char *event, const char *detail, char *err, size_t errlen);
void audit_stmts_free(struct audit_stmts *);

struct audit_report {
	uint64_t records;
	uint64_t broken_at; /* 0 when the chain is whole */
	char reason[256];
	char head[65]; /* hex hash of the newest record */
};

/* 0 with a whole chain, 1 with a broken one (see report), -1 on error. */
int audit_verify(sqlite3 *db, struct audit_report *, char *err, size_t errlen);

#endif
