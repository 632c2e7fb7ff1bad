/*
 * main.c — tally-broker, the central broker: verifies approvals, fans queries
 * out to hospital nodes, pools and stores results.
 *
 * This file owns start-up only: options, configuration, logging. It must
 * never run with a configuration it has not fully checked.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "broker.h"
#include "log.h"
#include "version.h"

#define PROG "tally-broker"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " -c CONFIG [-d] [-n] [-v]\n"
	    "  -c, --config FILE  configuration file (see deploy/broker.conf)\n"
	    "  -d, --debug        stay in the foreground, log to stderr\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -v, --verbose      more log detail (twice for debug)\n"
	    "      --version      print the version and exit\n"
	    "  -h, --help         this text\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct broker_config cfg;
	char err[1024];
	int ch, debug = 0, check = 0, verbose = 0;

	while ((ch = getopt_long(argc, argv, "c:dnvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf(PROG " %s\n", TALLY_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || path == NULL) {
		usage(stderr);
		return 2;
	}
	log_init(PROG, verbose + debug,
	    debug || check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	if (broker_config_load(&cfg, path, err, sizeof(err)) == -1) {
		if (check) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		fatalx("%s", err);
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	/* Without -d: detach, keeping the working folder (the
	 * configuration's relative paths were resolved against it). */
	if (!debug && daemon(1, 0) == -1)
		fatal("daemon");
	return broker_run(&cfg);
}
