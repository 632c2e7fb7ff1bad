/*
 * config.h — tally-node's configuration (deploy/node.conf explains every
 * setting), including the hospital's release policy.
 */
#ifndef TALLY_NODE_CONFIG_H
#define TALLY_NODE_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "network.h"
#include "policy.h"
#include "tlsconf.h"

struct node_config {
	char site[NETWORK_ID_MAX]; /* must equal our certificate's CN */
	char consortium[8];
	char broker[256];     /* ZeroMQ endpoint to connect to */
	char db[PATH_MAX];    /* Baseline DB, opened read-only */
	char state[PATH_MAX]; /* node state file (budgets, cache) */
	struct tlsconf tls;
	struct policy policy;
	unsigned heartbeat_ms;
	unsigned heartbeat_timeout_ms;
};

int node_config_load(
    struct node_config *, const char *path, char *err, size_t errlen);

#endif
