/*
 * result_proto.c — libFuzzer target: a Result message as `tally submit`
 * and `tally results` receive it from the broker (result_from_proto in
 * lib/disclosure/result.c), then both ways the client shows it: the JSON
 * document (result_to_json) and the readable table (result_print). It must
 * never crash; the JSON of an accepted result must dump and load again (it is
 * what researchers' scripts parse), and every table in it must go round
 * its Table message unchanged.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "result.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		fatal("/dev/null");
	return 0;
}

static void
table_trip(const struct table *t)
{
	Tally__Table *m;
	struct table *u;
	char err[256];

	if ((m = table_to_proto(t)) == NULL ||
	    (u = table_from_proto(m, err, sizeof(err))) == NULL ||
	    table_cmp(t, u) != 0)
		abort();
	table_free(u);
	table_proto_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Tally__Result *m;
	struct result *r;
	json_t *j, *back;
	char err[256], *s;

	if ((m = tally__result__unpack(NULL, size, data)) == NULL)
		return 0;
	r = result_from_proto(m, err, sizeof(err));
	tally__result__free_unpacked(m, NULL);
	if (r == NULL)
		return 0;
	if (r->pooled != NULL)
		table_trip(r->pooled);
	for (size_t i = 0; i < r->nby_site; i++)
		table_trip(r->by_site[i].table);
	if ((j = result_to_json(r)) == NULL)
		abort(); /* every string in it was checked */
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL ||
	    (back = json_loads(s, 0, NULL)) == NULL || !json_equal(j, back))
		abort();
	json_decref(back);
	free(s);
	json_decref(j);
	if (result_print(devnull, r) == -1)
		abort();
	result_free(r);
	return 0;
}
