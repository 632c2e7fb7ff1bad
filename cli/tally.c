/*
 * tally.c — entry point of bin/tally: finds the subcommand and hands over.
 * It owns no behaviour of its own beyond the top-level usage.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "version.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} cmds[] = {
	{ "pki", cmd_pki, "consortium CA and certificates" },
	{ "gen", cmd_gen, "generate synthetic Baseline DBs for a network" },
	{ "load", cmd_load, "load CSV or OMOP CDM exports into a Baseline DB" },
	{ "local", cmd_local, "what this node would release for a query" },
	{ "approve", cmd_approve, "DRB: sign an approval for a query" },
	{ "submit", cmd_submit, "researcher: submit an approved query" },
	{ "results", cmd_results, "researcher: fetch a query's result" },
	{ "status", cmd_status, "operator: nodes, queries, latencies" },
	{ "audit", cmd_audit, "verify a hash-chained audit log" },
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: tally COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-8s %s\n", cmds[i].name, cmds[i].what);
	fprintf(fp, "\n'tally COMMAND --help' describes each command.\n");
}

int
main(int argc, char **argv)
{
	log_init("tally", 0, LOG_TO_STDERR);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tally %s\n", TALLY_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tally: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
