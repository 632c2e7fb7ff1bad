/*
 * config.h — tally-broker's configuration (deploy/broker.conf explains
 * every setting).
 */
#ifndef TALLY_BROKER_CONFIG_H
#define TALLY_BROKER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsconf.h"

struct broker_config {
	char listen[256];	/* ZeroMQ endpoint to bind */
	char http[64];		/* host:port of /metrics and /status */
	char state[PATH_MAX];	/* SQLite state file */
	char network[PATH_MAX]; /* hospitals.csv */
	struct tlsconf tls;
	unsigned query_deadline_s; /* how long a query waits for sites */
	unsigned heartbeat_ms;	   /* heartbeat interval */
	unsigned heartbeat_timeout_ms;
	unsigned max_sessions;
	unsigned max_frame;	  /* bytes */
	unsigned missing_after_s; /* status: a node this long away is down */
};

/* Reads and checks path; -1 with FILE:LINE: reason in err. */
int broker_config_load(
    struct broker_config *, const char *path, char *err, size_t errlen);

#endif
