/*
 * cmd_audit.c — `tally audit verify`: walks a broker's or node's audit
 * chain and names the first broken link. Opens the file read-only and
 * never changes it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "cmd.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally audit verify --db FILE [--head HASH]\n"
	    "  --db FILE    a broker or node state database\n"
	    "  --head HASH  the head hash recorded earlier: also detects\n"
	    "               records removed from the end\n"
	    "Exit 0 when the chain is whole, 1 when it is broken or\n"
	    "unreadable.\n");
}

int
cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "head", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *head = NULL;
	struct audit_report r;
	sqlite3 *db = NULL;
	char err[256];
	int ch, rc;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			path = optarg;
			break;
		case 'H':
			head = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "tally audit: %s: %s\n", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return 1;
	}
	rc = audit_verify(db, &r, err, sizeof(err));
	sqlite3_close(db);
	if (rc == -1) {
		fprintf(stderr, "tally audit: %s: %s\n", path, err);
		return 1;
	}
	if (rc == 1) {
		printf("audit BROKEN at record %llu: %s (%llu records before "
		       "it verify)\n",
		    (unsigned long long)r.broken_at, r.reason,
		    (unsigned long long)r.records);
		return 1;
	}
	if (head != NULL && strcmp(head, r.head) != 0) {
		printf("audit BROKEN: %llu records verify, but the head %s is "
		       "not the recorded %s (records removed from the end?)\n",
		    (unsigned long long)r.records, r.head, head);
		return 1;
	}
	printf("audit OK: %llu records, head %s\n",
	    (unsigned long long)r.records, r.head);
	return 0;
}
