/*
 * query_json.c — libFuzzer target: a researcher's query
 * (lib/query/query_json.c, lib/query/query.c, lib/query/query_print.c), as JSON
 * and as the packed bytes a peer sends. It must never crash, and whatever
 * compiles must hold still:
 *
 * - JSON that compiles passes query_check(), and its canonical bytes go
 *   round the wire unchanged: pack(unpack(pack(q))) == pack(q);
 * - its JSON form (query_to_json, compact and pretty) compiles again to
 *   the same bytes, as query.h promises;
 * - bytes that unpack go round the wire unchanged too, and once through
 *   JSON they are canonical: a second trip changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "query.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	return 0;
}

/* Packs q; aborts if a checked query cannot be packed. */
static uint8_t *
pack(const Tally__Query *q, size_t *len)
{
	uint8_t *b;

	if (query_check(q, NULL, 0) == -1 || (b = query_pack(q, len)) == NULL)
		abort();
	return b;
}

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* pack(unpack(pack(q))) == pack(q); returns pack(q) in *out. */
static void
wire_trip(const Tally__Query *q, uint8_t **out, size_t *outlen)
{
	Tally__Query *q2;
	uint8_t *b2;
	size_t len2;
	char err[256];

	*out = pack(q, outlen);
	if ((q2 = query_unpack(*out, *outlen, err, sizeof(err))) == NULL)
		abort(); /* our own bytes refused */
	b2 = pack(q2, &len2);
	if (!same(*out, *outlen, b2, len2))
		abort();
	free(b2);
	query_free(q2);
}

/* Compiles the JSON form of q (compact or pretty); NULL if it does not. */
static Tally__Query *
json_trip(const Tally__Query *q, int pretty)
{
	Tally__Query *q2 = NULL;
	char *s, err[256];

	if ((s = query_to_json(q, pretty)) == NULL)
		return NULL;
	if (query_from_json(s, strlen(s), &q2, err, sizeof(err)) == -1)
		q2 = NULL;
	free(s);
	return q2;
}

/* q is canonical: its JSON forms compile back to exactly its bytes. */
static void
canonical(const Tally__Query *q, const uint8_t *b, size_t len)
{
	for (int pretty = 0; pretty <= 1; pretty++) {
		Tally__Query *q2;
		uint8_t *b2;
		size_t len2;

		if ((q2 = json_trip(q, pretty)) == NULL)
			abort(); /* a compiled query's JSON does not compile */
		b2 = pack(q2, &len2);
		if (!same(b, len, b2, len2))
			abort();
		free(b2);
		query_free(q2);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Tally__Query *q;
	uint8_t *b;
	size_t len;
	char err[256];

	if (query_from_json((const char *)data, size, &q, err, sizeof(err)) ==
	    0) {
		wire_trip(q, &b, &len);
		canonical(q, b, len);
		free(b);
		query_free(q);
	}
	if ((q = query_unpack(data, size, err, sizeof(err))) != NULL) {
		Tally__Query *q2;

		wire_trip(q, &b, &len);
		free(b);
		/* Not every checked query has a JSON form (unknown fields,
		 * codes out of order): the one that compiles is canonical. */
		if ((q2 = json_trip(q, 0)) != NULL) {
			wire_trip(q2, &b, &len);
			canonical(q2, b, len);
			free(b);
			query_free(q2);
		}
		query_free(q);
	}
	return 0;
}
