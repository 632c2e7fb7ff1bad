/*
 * e2e.c — benchmark driver for the whole network: one researcher client
 * that submits the same approved query N times, each time waiting for
 * the final result, and prints "QUERY_ID MICROSECONDS" per query. Run
 * several at once for throughput (bench/e2e.sh does both).
 *
 * usage: e2e CLIENT.conf QUERY.json APPROVAL.json N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "client.h"
#include "query.h"
#include "util.h"
#include "wire.h"

static int
one(struct client *c, Tally__Submit *s, char *id, size_t idlen)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__ResultRequest rr = TALLY__RESULT_REQUEST__INIT;
	struct wire_msg *m;
	char err[512];

	env.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
	env.submit = s;
	if (client_call(c, &env, 60000, NULL, NULL, &m, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "e2e: submit: %s\n", err);
		return -1;
	}
	strlcpy(id, wire_env(m)->submit_ack->query_id, idlen);
	wire_free(m);
	rr.query_id = id;
	rr.has_wait = rr.wait = 1;
	env.body_case = TALLY__ENVELOPE__BODY_RESULT_REQUEST;
	env.result_request = &rr;
	if (client_call(c, &env, 120000, NULL, NULL, &m, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "e2e: result: %s\n", err);
		return -1;
	}
	if (wire_env(m)->body_case != TALLY__ENVELOPE__BODY_RESULT ||
	    wire_env(m)->result->state != TALLY__QUERY_STATE__QUERY_COMPLETE) {
		fprintf(stderr, "e2e: %s did not complete\n", id);
		wire_free(m);
		return -1;
	}
	wire_free(m);
	return 0;
}

int
main(int argc, char **argv)
{
	Tally__Submit s = TALLY__SUBMIT__INIT;
	Tally__Query *q;
	struct client *c;
	char err[512], *text, id[128];
	size_t len;
	int n;

	if (argc != 5 || (n = atoi(argv[4])) <= 0) {
		fprintf(stderr,
		    "usage: e2e CLIENT.conf QUERY.json "
		    "APPROVAL.json N\n");
		return 2;
	}
	if (file_read(argv[2], QUERY_MAX_BYTES, &text, &len, err,
		sizeof(err)) == -1 ||
	    query_from_json(text, len, &q, err, sizeof(err)) == -1) {
		fprintf(stderr, "e2e: %s\n", err);
		return 1;
	}
	free(text);
	s.query.data = query_pack(q, &s.query.len);
	s.has_query = 1;
	query_free(q);
	if (file_read(argv[3], 1 << 20, &text, &len, err, sizeof(err)) == -1 ||
	    (s.approval = approval_parse(text, len, err, sizeof(err))) ==
		NULL) {
		fprintf(stderr, "e2e: %s\n", err);
		return 1;
	}
	free(text);
	if ((c = client_open(argv[1], 15000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "e2e: %s\n", err);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		uint64_t t0 = clock_us();

		if (one(c, &s, id, sizeof(id)) == -1)
			return 1;
		printf("%s %llu\n", id, (unsigned long long)(clock_us() - t0));
	}
	client_close(c);
	free(s.query.data);
	tally__signed_approval__free_unpacked(s.approval, NULL);
	return 0;
}
