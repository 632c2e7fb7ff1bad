/*
 * table_proto.c — libFuzzer target: the tables nodes send the broker
 * (Table messages), read with table_from_proto() (lib/disclosure/result.c) as
 * broker/dispatch.c and broker/finish.c read them, then, for those it
 * accepts, what the broker does with them: the k check of answer_record,
 * pooling under disclosure control (lib/disclosure/pool.c,
 * lib/disclosure/suppress*.c), the result document (result_to_json,
 * result_print) and the Table message the pooled result goes out in. No crash,
 * no UB, and:
 *
 * - an accepted table goes round table_to_proto() unchanged;
 * - the broker's own output (pooled and per-site tables) passes
 *   table_check() and is accepted again by table_from_proto(), as the
 *   client that receives it will demand;
 * - every site's released numbers lie within the pooled bounds.
 *
 * Input: [k u8][len u16 le][len bytes: site A's Table][site B's Table].
 * The pool's k is 1 + k % 16; a site whose table has a lower min_cell is
 * refused, as answer_record refuses it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "pool.h"
#include "result.h"
#include "suppress.h"

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

/* A Table message from the wire, as the broker reads it; NULL if not. */
static struct table *
table_read(const uint8_t *data, size_t size)
{
	Tally__Table *m;
	struct table *t;
	char err[256];

	if ((m = tally__table__unpack(NULL, size, data)) == NULL)
		return NULL;
	t = table_from_proto(m, err, sizeof(err));
	tally__table__free_unpacked(m, NULL);
	return t;
}

/* t through its Table message and back: accepted, and equal. */
static void
table_trip(const struct table *t)
{
	Tally__Table *m;
	struct table *u;
	char err[256];

	if ((m = table_to_proto(t)) == NULL)
		abort();
	if ((u = table_from_proto(m, err, sizeof(err))) == NULL) {
		fprintf(stderr, "table_from_proto of our own table: %s\n", err);
		abort();
	}
	if (table_cmp(t, u) != 0)
		abort();
	table_free(u);
	table_proto_free(m);
}

/* The broker's output must be a table a client accepts. */
static void
output_check(struct table *t)
{
	char err[256];

	if (table_check(t, err, sizeof(err)) == -1) {
		fprintf(stderr, "pooled table fails table_check: %s\n", err);
		abort();
	}
	table_trip(t);
}

/* Site s's released cells lie within the pooled cells' bounds. */
static void
within(const struct table *pooled, const struct table *s)
{
	for (size_t i = 0; i < s->ncells; i++) {
		const struct cell *c = &s->cells[i], *p;

		if (c->state != CELL_COUNT)
			continue;
		if ((p = table_search(pooled, c)) == NULL)
			abort(); /* a released cell vanished */
		if (p->state == CELL_COUNT && p->count < c->count)
			abort();
		if (p->state == CELL_INTERVAL && p->high < c->count)
			abort();
	}
}

static void
pool_run(struct table *const *t, const char *const *site, size_t n, unsigned k)
{
	struct site_table *sites = NULL;
	struct table *pooled = NULL;
	struct result *r;
	struct pool *p;
	size_t nsites = 0, added = 0;
	json_t *j;
	char err[256];

	if ((p = pool_new(t[0]->strata, t[0]->nstrata, k)) == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if (t[i]->min_cell >= k &&
		    pool_add(p, site[i], t[i], err, sizeof(err)) == 0)
			added++;
	if (added > 0 &&
	    pool_finish(p, 1, &pooled, &sites, &nsites, err, sizeof(err)) ==
		0) {
		output_check(pooled);
		for (size_t i = 0; i < nsites; i++) {
			output_check(sites[i].table);
			if (pooled->total.state == CELL_COUNT &&
			    pooled->ncells > 0)
				within(pooled, sites[i].table);
		}
		if ((r = result_new("q-fuzz")) == NULL)
			abort();
		r->status = RESULT_COMPLETE;
		r->sites.total = r->sites.answered = (unsigned)nsites;
		result_set_table(r, pooled);
		r->by_site = sites;
		r->nby_site = nsites;
		if ((j = result_to_json(r)) == NULL)
			abort(); /* every string in it was checked UTF-8 */
		json_decref(j);
		if (result_print(devnull, r) == -1)
			abort();
		result_free(r);
	}
	pool_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const site[2] = { "snuh", "kuh" };
	struct table *t[2] = { NULL, NULL }, *d;
	unsigned k;
	size_t alen, n = 0;

	if (size < 3)
		return 0;
	k = 1 + data[0] % 16;
	alen = (size_t)data[1] | (size_t)data[2] << 8;
	data += 3;
	size -= 3;
	if (alen > size)
		alen = size;
	if ((t[0] = table_read(data, alen)) == NULL)
		return 0;
	table_trip(t[0]);
	n = 1;
	if (alen < size && (t[1] = table_read(data + alen, size - alen)))
		n = 2;
	/* A site's table checked on its own, as pool_finish does. */
	if ((d = table_dup(t[0])) == NULL)
		abort();
	(void)suppress_check(d);
	if (d->total.state == CELL_COUNT && suppress_resolve(d, NULL, 0) >= 0) {
		output_check(d);
	}
	table_free(d);
	pool_run(t, site, n, k);
	table_free(t[0]);
	table_free(t[1]);
	return 0;
}
