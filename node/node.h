/*
 * node.h — running tally-node once its configuration is checked.
 */
#ifndef TALLY_NODE_NODE_H
#define TALLY_NODE_NODE_H

#include "config.h"

/* Serves until SIGTERM/SIGINT; the process exit status. */
int node_run(const struct node_config *);

#endif
