/*
 * cmd_load.c — `tally load`: options, the summary table, the exit status.
 * The loading itself is lib/load/load.c's; this file only talks to the person
 * at the terminal.
 */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cmd.h"
#include "load.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally load --db FILE (--csv DIR | --omop DIR) [--strict]\n"
	    "                  [--site ID] [--snapshot YYYY-MM-DD]\n"
	    "\n"
	    "Replaces the Baseline DB FILE with the export in DIR: tally's "
	    "CSV layout\n"
	    "(person.csv, visit.csv, diagnosis.csv, lab.csv, drug.csv, "
	    "procedure.csv)\n"
	    "or an OMOP CDM v5.3/v5.4 CSV export. Every rejected row is "
	    "reported as\n"
	    "FILE:LINE: reason on stderr and in FILE.rejects.csv.\n"
	    "\n"
	    "  --db FILE        the Baseline DB to build (replaced "
	    "atomically)\n"
	    "  --csv DIR        load tally's CSV layout from DIR\n"
	    "  --omop DIR       load an OMOP CDM CSV export from DIR\n"
	    "  --strict         commit nothing if any row is rejected\n"
	    "  --site ID        meta hospital_id (default: FILE's name)\n"
	    "  --snapshot DATE  meta snapshot_date (default: today)\n"
	    "\n"
	    "exit: 0 loaded, nothing rejected; 3 rows rejected (the rest "
	    "loaded,\n"
	    "or with --strict nothing committed); 1 error; 2 usage.\n"
	    "See docs/loading.md.\n");
}

static void
summary(const struct load_opts *o, const struct load_result *res)
{
	printf("%-22s %-28s %10s %10s %10s %10s\n", "table", "file", "read",
	    "loaded", "rejected", "unlinked");
	for (int i = 0; i < res->nsteps; i++) {
		const struct load_step *s = &res->step[i];
		char target[LOAD_NAME_MAX + 4];

		snprintf(target, sizeof(target), "%s", s->target);
		printf("%-22s %-28s %10llu %10llu %10llu %10llu%s%s\n",
		    s->table, s->file[0] ? s->file : "(absent)",
		    (unsigned long long)s->read, (unsigned long long)s->loaded,
		    (unsigned long long)s->rejected,
		    (unsigned long long)s->unlinked,
		    s->target[0] ? "  -> " : "  (checked, not stored)", target);
	}
	printf("%-22s %-28s %10llu %10llu %10llu\n", "total", "",
	    (unsigned long long)res->read, (unsigned long long)res->loaded,
	    (unsigned long long)res->rejected);
	if (res->committed)
		printf("%s: loaded (site %s, snapshot %s)", o->db, res->site,
		    res->snapshot);
	else
		printf("%s: NOT replaced: --strict and %llu rows rejected",
		    o->db, (unsigned long long)res->rejected);
	if (res->rejected > 0)
		printf("; rejected rows in %s", res->rejects);
	printf("\n");
}

int
cmd_load(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "csv", required_argument, NULL, 'c' },
		{ "omop", required_argument, NULL, 'o' },
		{ "strict", no_argument, NULL, 's' },
		{ "site", required_argument, NULL, 'S' },
		{ "snapshot", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct load_opts o;
	struct load_result *res;
	char err[1024];
	int ch, nsrc = 0, rc;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.db = optarg;
			break;
		case 'c':
		case 'o':
			o.dir = optarg;
			o.source = ch == 'o' ? LOAD_OMOP : LOAD_CSV;
			nsrc++;
			break;
		case 's':
			o.strict = 1;
			break;
		case 'S':
			o.site = optarg;
			break;
		case 'n':
			o.snapshot = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || o.db == NULL || nsrc != 1) {
		fprintf(stderr, "tally load: %s\n",
		    optind != argc ? "unexpected argument"
			: o.db == NULL
			? "--db FILE is required"
			: "give exactly one of --csv DIR, --omop DIR");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Before SQLite starts: no global allocation statistics (a mutex
	 * per malloc), which a bulk load would pay for on every row. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	o.report = stderr;
	o.progress = isatty(STDERR_FILENO);
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		fprintf(stderr, "tally load: out of memory\n");
		return 1;
	}
	if (load_run(&o, res, err, sizeof(err)) == -1) {
		fprintf(stderr, "tally load: %s\n", err);
		free(res);
		return 1;
	}
	summary(&o, res);
	rc = res->rejected > 0 ? EXIT_REJECTS : 0;
	free(res);
	return rc;
}
