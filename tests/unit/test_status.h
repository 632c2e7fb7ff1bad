/*
 * test_status.h — test-only helpers shared by the status, metrics and HTTP
 * tests: a small snapshot with every kind of node (lead, plain, down,
 * missing, never seen) over three consortia given out of order.
 */
#ifndef TALLY_TEST_STATUS_H
#define TALLY_TEST_STATUS_H

#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "status.h"
#include "util.h"

#define UNUSED __attribute__((unused))

/* person rows in the sample: must never reach /metrics. */
#define SAMPLE_PERSONS 987654321ull

static UNUSED void
sample_node(struct status_node *n, const char *site, const char *cons, int lead,
    int connected, uint64_t age_ms)
{
	memset(n, 0, sizeof(*n));
	strlcpy(n->site, site, sizeof(n->site));
	strlcpy(n->consortium, cons, sizeof(n->consortium));
	snprintf(n->name_en, sizeof(n->name_en), "Hospital %s", site);
	n->lead = lead;
	n->connected = connected;
	n->heartbeat_age_ms = age_ms;
	n->protocol = 1;
	strlcpy(n->software, "tally-node 0.1.0", sizeof(n->software));
	strlcpy(n->snapshot_date, "2024-12-31", sizeof(n->snapshot_date));
	n->ntables = 2;
	strlcpy(n->tables[0].table, "person", sizeof(n->tables[0].table));
	n->tables[0].rows = SAMPLE_PERSONS;
	strlcpy(n->tables[1].table, "visit", sizeof(n->tables[1].table));
	n->tables[1].rows = 5;
	n->min_cell = 10;
	n->served = 42;
	n->refused = 3;
	n->failed = 1;
	n->latency_p50_us = 12000;
	n->latency_p95_us = 250000;
}

/*
 * Nodes in snapshot order: c2-lead (2, lead), c10-a (10), c1-b (1),
 * c1-lead (1, lead, down), c2-b (2, missing), c10-lead (10, lead, never
 * seen). Display order: c1-lead c1-b | c2-lead c2-b | c10-lead c10-a.
 */
static UNUSED void
sample_snapshot(struct status_snapshot *s)
{
	struct latency_hist h;

	memset(s, 0, sizeof(*s));
	s->nnodes = 6;
	if ((s->nodes = calloc(s->nnodes, sizeof(*s->nodes))) == NULL)
		abort();
	sample_node(&s->nodes[0], "c2-lead", "2", 1, 1, 1500);
	sample_node(&s->nodes[1], "c10-a", "10", 0, 1, 800);
	sample_node(&s->nodes[2], "c1-b", "1", 0, 1, 2100);
	sample_node(&s->nodes[3], "c1-lead", "1", 1, 0, 45000);
	sample_node(&s->nodes[4], "c2-b", "2", 0, 0, 7200000);
	sample_node(&s->nodes[5], "c10-lead", "10", 1, 0, STATUS_AGE_NEVER);
	s->nodes[5].protocol = 0;
	s->nodes[5].software[0] = '\0';
	s->nodes[5].ntables = 0;
	status_mark_missing(s, 60000);
	s->uptime_s = 3725;
	s->queries[0] = 2;
	s->queries[1] = 120;
	s->queries[2] = 3;
	s->queries[3] = 1;
	for (size_t i = 0; i < nitems(s->tasks); i++)
		s->tasks[i] = 10 * i + 1;
	latency_hist_init(&h);
	latency_hist_observe(&h, 90);
	latency_hist_observe(&h, 700);
	latency_hist_observe(&h, 700);
	latency_hist_observe(&h, 45000);
	latency_hist_observe(&h, 9000000);
	latency_hist_export(&h, s);
	s->ntls_failures = 1;
	strlcpy(s->tls_failures[0].reason, "certificate revoked",
	    sizeof(s->tls_failures[0].reason));
	s->tls_failures[0].count = 4;
	s->nrefusals = 2;
	strlcpy(
	    s->refusals[0].reason, "expired", sizeof(s->refusals[0].reason));
	s->refusals[0].count = 2;
	strlcpy(s->refusals[1].reason, "site not listed",
	    sizeof(s->refusals[1].reason));
	s->refusals[1].count = 1;
}

#endif
