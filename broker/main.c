/*
 * main.c — tally-broker, the central broker: verifies approvals, fans queries
 * out to hospital nodes, pools and stores results.
 *
 * This file owns start-up only (lib/core/daemon.c does the common part). It
 * must never run with a configuration it has not fully checked.
 */
#include "broker.h"
#include "config.h"
#include "daemon.h"

static int
load(void *cfg, const char *path, char *err, size_t errlen)
{
	return broker_config_load(cfg, path, err, errlen);
}

int
main(int argc, char **argv)
{
	static const struct daemon_opts d = { "tally-broker",
		"deploy/broker.conf" };
	struct broker_config cfg;
	int rc;

	if ((rc = daemon_setup(&d, argc, argv, load, &cfg)) != DAEMON_RUN)
		return rc;
	return broker_run(&cfg);
}
