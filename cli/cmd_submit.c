/*
 * cmd_submit.c — `tally submit` and `tally results`: a researcher sends
 * an approved query and reads its result. Progress is shown on a terminal;
 * the result is a table or, with --json, the result document.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "approval.h"
#include "client.h"
#include "cmd.h"
#include "query.h"
#include "result.h"
#include "util.h"

#define CONNECT_MS 15000
#define REPLY_MS   30000

struct rq_opts {
	const char *conf, *approval;
	int wait, json;
};

static void
submit_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally submit -c CONF --approval FILE [--wait] [--json]\n"
	    "           QUERY.json\n"
	    "  -c, --config CONF  client configuration (deploy/client.conf)\n"
	    "  --approval FILE    the DRB's signed approval of this query\n"
	    "  --wait             wait for the result, showing progress\n"
	    "  --json             print the result document as JSON\n");
}

static void
results_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tally results -c CONF [--wait] [--json] QUERY_ID\n"
	    "  -c, --config CONF  client configuration (deploy/client.conf)\n"
	    "  --wait             wait until the query is final\n"
	    "  --json             print the result document as JSON\n");
}

static int
parse_opts(int argc, char **argv, struct rq_opts *o, void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "approval", required_argument, NULL, 'a' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'a':
			o->approval = optarg;
			break;
		case 'w':
			o->wait = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->conf == NULL || optind != argc - 1) {
		fprintf(stderr,
		    "tally %s: -c CONF and one argument are "
		    "required\n",
		    argv[0]);
		return -1;
	}
	return 0;
}

static void
on_progress(void *arg, const Tally__Envelope *env)
{
	const Tally__Progress *p;

	(void)arg;
	if (env->body_case != TALLY__ENVELOPE__BODY_PROGRESS ||
	    !isatty(STDERR_FILENO))
		return;
	p = env->progress;
	fprintf(stderr, "\r%s: %u/%u sites answered", p->query_id, p->answered,
	    p->total);
	if (p->failed || p->refused || p->timed_out)
		fprintf(stderr, ", %u failed, %u refused, %u timed out",
		    p->failed, p->refused, p->timed_out);
	fflush(stderr);
}

static int
print_result(const Tally__Result *m, int json)
{
	struct result *r;
	json_t *doc;
	char err[256], *s;

	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	if ((r = result_from_proto(m, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally: bad result from the broker: %s\n", err);
		return 1;
	}
	if (json) {
		doc = result_to_json(r);
		s = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(doc);
	} else
		result_print(stdout, r);
	result_free(r);
	return m->state == TALLY__QUERY_STATE__QUERY_FAILED ? 1 : 0;
}

/* Asks for a result (waiting if asked) and prints it. */
static int
fetch_result(struct client *c, const char *id, const struct rq_opts *o)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__ResultRequest rr = TALLY__RESULT_REQUEST__INIT;
	struct wire_msg *m;
	char err[512];
	int rc;

	rr.query_id = (char *)id;
	rr.has_wait = 1;
	rr.wait = o->wait;
	env.body_case = TALLY__ENVELOPE__BODY_RESULT_REQUEST;
	env.result_request = &rr;
	if (client_call(c, &env, o->wait ? -1 : REPLY_MS, on_progress, NULL, &m,
		err, sizeof(err)) == -1) {
		fprintf(stderr, "tally: %s\n", err);
		return 1;
	}
	if (wire_env(m)->body_case != TALLY__ENVELOPE__BODY_RESULT) {
		fprintf(stderr, "tally: unexpected reply from the broker\n");
		wire_free(m);
		return 1;
	}
	rc = print_result(wire_env(m)->result, o->json);
	wire_free(m);
	return rc;
}

/* The --json answer of a submission not waited for. */
static void
print_running(const char *id)
{
	json_t *doc =
	    json_pack("{s:s, s:s}", "query_id", id, "status", "running");
	char *s = doc ? json_dumps(doc, 0) : NULL;

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(doc);
}

/* Compiles the query and reads the approval into a Submit message. */
static int
build_submit(const char *qpath, const char *apath, Tally__Submit *s)
{
	Tally__Query *q = NULL;
	char *text, err[512] = "out of memory";
	size_t len;

	if (file_read(qpath, QUERY_MAX_BYTES, &text, &len, err, sizeof(err)) ==
	    -1)
		goto fail;
	if (query_from_json(text, len, &q, err, sizeof(err)) == -1) {
		free(text);
		fprintf(stderr, "tally submit: %s: %s\n", qpath, err);
		return -1;
	}
	free(text);
	s->query.data = query_pack(q, &s->query.len);
	s->has_query = s->query.data != NULL;
	query_free(q);
	if (file_read(apath, 4 * APPROVAL_MAX_BYTES, &text, &len, err,
		sizeof(err)) == -1)
		goto fail;
	s->approval = approval_parse(text, len, err, sizeof(err));
	free(text);
	if (s->approval == NULL || !s->has_query)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "tally submit: %s\n", err);
	return -1;
}

int
cmd_submit(int argc, char **argv)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Submit s = TALLY__SUBMIT__INIT;
	struct rq_opts o = { NULL, NULL, 0, 0 };
	struct client *c = NULL;
	struct wire_msg *m = NULL;
	char err[512], id[128];
	int rc = 1;

	if (parse_opts(argc, argv, &o, submit_usage) == -1) {
		submit_usage(stderr);
		return EXIT_USAGE;
	}
	if (o.approval == NULL) {
		fprintf(stderr, "tally submit: --approval FILE is required\n");
		return EXIT_USAGE;
	}
	if (build_submit(argv[optind], o.approval, &s) == -1)
		goto done;
	if ((c = client_open(o.conf, CONNECT_MS, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally submit: %s\n", err);
		goto done;
	}
	env.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
	env.submit = &s;
	if (client_call(c, &env, REPLY_MS, NULL, NULL, &m, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "tally submit: refused: %s\n", err);
		goto done;
	}
	if (wire_env(m)->body_case != TALLY__ENVELOPE__BODY_SUBMIT_ACK ||
	    wire_env(m)->submit_ack->query_id == NULL) {
		fprintf(stderr, "tally submit: unexpected reply\n");
		goto done;
	}
	strlcpy(id, wire_env(m)->submit_ack->query_id, sizeof(id));
	fprintf(o.json ? stderr : stdout, "query %s accepted: %u sites\n", id,
	    wire_env(m)->submit_ack->sites);
	fflush(stdout);
	rc = o.wait ? fetch_result(c, id, &o) : 0;
	if (!o.wait && o.json)
		print_running(id);
done:
	wire_free(m);
	client_close(c);
	free(s.query.data);
	if (s.approval)
		tally__signed_approval__free_unpacked(s.approval, NULL);
	return rc;
}

int
cmd_results(int argc, char **argv)
{
	struct rq_opts o = { NULL, NULL, 0, 0 };
	struct client *c;
	char err[512];
	int rc;

	if (parse_opts(argc, argv, &o, results_usage) == -1) {
		results_usage(stderr);
		return EXIT_USAGE;
	}
	if ((c = client_open(o.conf, CONNECT_MS, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tally results: %s\n", err);
		return 1;
	}
	rc = fetch_result(c, argv[optind], &o);
	client_close(c);
	return rc;
}
