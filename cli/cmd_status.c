/*
 * cmd_status.c — `tally status`: an operator's view of the network, from
 * the broker, as a table or JSON. Operator certificates only (the broker
 * refuses the others).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"
#include "status.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally status -c CONF [--json]\n"
	    "  -c, --config CONF  operator client configuration\n"
	    "  --json             JSON instead of a table\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__StatusRequest sr = TALLY__STATUS_REQUEST__INIT;
	struct status_snapshot st;
	struct client *c = NULL;
	struct wire_msg *m = NULL;
	const char *conf = NULL;
	char err[512], *s;
	int ch, json = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (conf == NULL || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((c = client_open(conf, 10000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally status: %s\n", err);
		return 1;
	}
	env.body_case = TALLY__ENVELOPE__BODY_STATUS_REQUEST;
	env.status_request = &sr;
	if (client_call(c, &env, 10000, NULL, NULL, &m, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "tally status: %s\n", err);
		goto done;
	}
	strlcpy(err, "not a status", sizeof(err));
	if (wire_env(m)->body_case != TALLY__ENVELOPE__BODY_STATUS ||
	    status_from_proto(wire_env(m)->status, &st, err, sizeof(err)) ==
		-1) {
		fprintf(stderr, "tally status: bad reply: %s\n", err);
		goto done;
	}
	status_mark_missing(&st, STATUS_MISSING_AFTER_MS);
	if (json) {
		if ((s = status_to_json(&st, 1)) != NULL)
			printf("%s\n", s);
		free(s);
	} else
		status_print(stdout, &st, -1);
	status_free(&st);
	rc = 0;
done:
	wire_free(m);
	client_close(c);
	return rc;
}
