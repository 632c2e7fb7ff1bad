/*
 * daemon.c — owns what both daemons do before their loop: options,
 * logging, the configuration check and detaching. It never lets a
 * daemon run with a configuration that did not load and check in full.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "version.h"

static void
usage(const struct daemon_opts *d, FILE *fp)
{
	fprintf(fp,
	    "usage: %s -c CONFIG [-d] [-n] [-v]\n"
	    "  -c, --config FILE  configuration file (see %s)\n"
	    "  -d, --debug        stay in the foreground, log to stderr\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -v, --verbose      more log detail (twice for debug)\n"
	    "      --version      print the version and exit\n"
	    "  -h, --help         this text\n",
	    d->prog, d->example);
}

int
daemon_setup(const struct daemon_opts *d, int argc, char **argv,
    daemon_load_fn *load, void *cfg)
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
			printf("%s %s\n", d->prog, TALLY_VERSION);
			return 0;
		case 'h':
			usage(d, stdout);
			return 0;
		default:
			usage(d, stderr);
			return 2;
		}
	}
	if (optind != argc || path == NULL) {
		usage(d, stderr);
		return 2;
	}
	log_init(d->prog, verbose + debug,
	    debug || check ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	if (load(cfg, path, err, sizeof(err)) == -1) {
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
	return DAEMON_RUN;
}
