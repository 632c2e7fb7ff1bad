/*
 * main.c — tally-node, a hospital's node: connects out to the broker and
 * answers approved queries from the local Baseline DB.
 *
 * This file owns start-up only (lib/core/daemon.c does the common part). It
 * must never run with a configuration it has not fully checked.
 */
#include "config.h"
#include "daemon.h"
#include "node.h"

static int
load(void *cfg, const char *path, char *err, size_t errlen)
{
	return node_config_load(cfg, path, err, errlen);
}

int
main(int argc, char **argv)
{
	static const struct daemon_opts d = { "tally-node",
		"deploy/node.conf" };
	struct node_config cfg;
	int rc;

	if ((rc = daemon_setup(&d, argc, argv, load, &cfg)) != DAEMON_RUN)
		return rc;
	return node_run(&cfg);
}
