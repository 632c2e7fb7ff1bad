/*
 * audit_fill.c — test helper: appends N audit records to a database,
 * creating it if needed. Usage: audit_fill FILE N
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "audit.h"

int
main(int argc, char **argv)
{
	sqlite3 *db;
	char err[256], detail[64];
	int n;

	if (argc != 3 || (n = atoi(argv[2])) < 0) {
		fprintf(stderr, "usage: audit_fill FILE N\n");
		return 2;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    audit_init(db, err, sizeof(err)) == -1) {
		fprintf(stderr, "audit_fill: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < n; i++) {
		snprintf(detail, sizeof(detail), "query q-%d", i);
		if (audit_append(db, "researcher:kim", "submit", detail, err,
			sizeof(err)) == -1) {
			fprintf(stderr, "audit_fill: %s\n", err);
			return 1;
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return 0;
}
