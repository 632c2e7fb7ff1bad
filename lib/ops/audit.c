/*
 * audit.c — owns the hash-chained audit table. It only ever inserts; it
 * never updates or deletes a record, and the triggers it installs refuse
 * anyone else's attempt through SQLite (a raw file edit is caught by
 * audit_verify instead).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "util.h"

static const char audit_sql[] =
    "CREATE TABLE IF NOT EXISTS audit ("
    " seq INTEGER PRIMARY KEY,"
    " ts TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " event TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " prev BLOB NOT NULL,"
    " hash BLOB NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

int
audit_init(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, audit_sql, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, errlen, "audit: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3 *
audit_statedb_open(
    const char *path, const char *schema_sql, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOFOLLOW,
		NULL) != SQLITE_OK) {
		errf(err, errlen, "%s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, errlen, "%s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	if (audit_init(db, err, errlen) == -1) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void
put_field(EVP_MD_CTX *ctx, const void *p, size_t len)
{
	uint8_t n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	EVP_DigestUpdate(ctx, n, sizeof(n));
	EVP_DigestUpdate(ctx, p, len);
}

/* hash = SHA-256(prev, seq, ts, actor, event, detail), length-prefixed. */
static int
record_hash(const uint8_t prev[32], uint64_t seq, const char *ts,
    const char *actor, const char *event, const char *detail, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t s[8];
	unsigned len = 32;
	int ok;

	if (ctx == NULL)
		return -1;
	for (int i = 0; i < 8; i++)
		s[i] = (uint8_t)(seq >> (56 - 8 * i));
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	if (ok) {
		put_field(ctx, "tally-audit-v1", 14);
		put_field(ctx, prev, 32);
		put_field(ctx, s, 8);
		put_field(ctx, ts, strlen(ts));
		put_field(ctx, actor, strlen(actor));
		put_field(ctx, event, strlen(event));
		put_field(ctx, detail, strlen(detail));
		ok = EVP_DigestFinal_ex(ctx, out, &len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void
now_iso(char out[32])
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000));
}

/* The statement of *slot, prepared on first use and kept. */
static sqlite3_stmt *
cached(sqlite3 *db, sqlite3_stmt **slot, const char *sql)
{
	if (*slot == NULL &&
	    sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
		NULL) != SQLITE_OK)
		*slot = NULL;
	return *slot;
}

void
audit_stmts_free(struct audit_stmts *c)
{
	sqlite3_finalize(c->last);
	sqlite3_finalize(c->insert);
	c->last = c->insert = NULL;
}

int
audit_append_cached(sqlite3 *db, struct audit_stmts *c, const char *actor,
    const char *event, const char *detail, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	uint8_t prev[32] = { 0 }, hash[32];
	uint64_t seq = 1;
	char ts[32];
	int rc;

	if (strlen(actor) > AUDIT_FIELD_MAX ||
	    strlen(event) > AUDIT_FIELD_MAX || strlen(detail) > AUDIT_FIELD_MAX)
		return errf(err, errlen, "audit: field too long");
	/* The head is read inside the caller's transaction every time:
	 * other connections append to the same chain. */
	if ((st = cached(db, &c->last,
		 "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")) ==
	    NULL)
		goto sqlerr;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != 32) {
			sqlite3_reset(st);
			return errf(err, errlen, "audit: last record damaged");
		}
		seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		memcpy(prev, sqlite3_column_blob(st, 1), 32);
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		goto sqlerr;
	}
	sqlite3_reset(st);
	now_iso(ts);
	if (record_hash(prev, seq, ts, actor, event, detail, hash) == -1)
		return errf(err, errlen, "audit: hashing failed");
	if ((st = cached(db, &c->insert,
		 "INSERT INTO audit (seq, ts, actor, event, detail, prev, hash)"
		 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) == NULL)
		goto sqlerr;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, prev, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		goto sqlerr;
	return 0;
sqlerr:
	return errf(err, errlen, "audit: %s", sqlite3_errmsg(db));
}

int
audit_append(sqlite3 *db, const char *actor, const char *event,
    const char *detail, char *err, size_t errlen)
{
	struct audit_stmts c = { NULL, NULL };
	int rc;

	rc = audit_append_cached(db, &c, actor, event, detail, err, errlen);
	audit_stmts_free(&c);
	return rc;
}

static int
broken(struct audit_report *r, uint64_t seq, const char *why)
{
	r->broken_at = seq;
	strlcpy(r->reason, why, sizeof(r->reason));
	return 1;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : NULL;
}

int
audit_verify(sqlite3 *db, struct audit_report *r, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	uint8_t prev[32] = { 0 }, hash[32];
	uint64_t want = 1;
	int rc, result = 0;

	memset(r, 0, sizeof(*r));
	if (sqlite3_prepare_v2(db,
		"SELECT seq, ts, actor, event, detail, prev, hash FROM audit"
		" ORDER BY seq",
		-1, &st, NULL) != SQLITE_OK)
		return errf(err, errlen, "audit: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		const char *ts = col_text(st, 1), *actor = col_text(st, 2);
		const char *event = col_text(st, 3), *detail = col_text(st, 4);

		if (seq != want) {
			result = broken(r, want,
			    seq > want ? "record missing (deleted)"
				       : "sequence out of order");
			break;
		}
		if (!ts || !actor || !event || !detail ||
		    sqlite3_column_bytes(st, 5) != 32 ||
		    sqlite3_column_bytes(st, 6) != 32) {
			result = broken(r, seq, "record damaged");
			break;
		}
		if (memcmp(sqlite3_column_blob(st, 5), prev, 32) != 0) {
			result = broken(r, seq,
			    "link to the previous record does not match "
			    "(inserted or replaced record)");
			break;
		}
		if (record_hash(prev, seq, ts, actor, event, detail, hash) ==
			-1 ||
		    CRYPTO_memcmp(sqlite3_column_blob(st, 6), hash, 32) != 0) {
			result = broken(r, seq,
			    "record content does not match its hash (edited)");
			break;
		}
		memcpy(prev, hash, 32);
		r->records++;
		want++;
	}
	if (result == 0 && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return errf(err, errlen, "audit: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	hex_encode(prev, 32, r->head);
	return result;
}
