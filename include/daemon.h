/*
 * daemon.h — start-up shared by tally-broker and tally-node: options,
 * logging, the configuration check (-n) and detaching.
 */
#ifndef TALLY_DAEMON_H
#define TALLY_DAEMON_H

#include <stddef.h>

#define DAEMON_RUN (-1) /* daemon_setup(): go on to the service loop */

struct daemon_opts {
	const char *prog;    /* "tally-broker" */
	const char *example; /* the commented example configuration */
};

/* Loads and checks the configuration at path into cfg; 0 or -1 with the
 * reason (naming file and line) in err. */
typedef int daemon_load_fn(
    void *cfg, const char *path, char *err, size_t errlen);

/*
 * Parses argv, starts logging, loads the configuration with load. Returns
 * DAEMON_RUN once the process should run its service (detached unless
 * -d was given), else the exit status for main: 0 after --help,
 * --version or a passing -n; 1 when -n finds a problem; 2 on bad usage.
 * A configuration that does not load without -n is fatal.
 */
int daemon_setup(const struct daemon_opts *, int argc, char **argv,
    daemon_load_fn *load, void *cfg);

#endif
