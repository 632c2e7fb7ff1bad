/*
 * status.h — what operators see: a snapshot of the broker's view of the
 * network (nodes, queries, latencies, refusals). It never holds a count,
 * a query text or anything about patients.
 *
 * The broker fills a struct status_snapshot; `tally status` receives it
 * as a Status message (proto/tally.proto); the HTTP endpoint renders it
 * as Prometheus metrics, an HTML page and JSON.
 */
#ifndef TALLY_STATUS_H
#define TALLY_STATUS_H

#include <stddef.h>
#include <stdint.h>

#define STATUS_NAME_MAX 64
#define STATUS_MAX_TABLES 8
#define STATUS_MAX_REASONS 32
/* Upper bounds (ms) of the query latency histogram buckets; +Inf last. */
#define STATUS_LATENCY_BUCKETS 12

struct status_node {
	char site[STATUS_NAME_MAX];
	char consortium[8];
	char name_en[128];
	int connected;
	uint64_t heartbeat_age_ms; /* since the last message from it */
	unsigned protocol;
	char software[STATUS_NAME_MAX];
	char snapshot_date[16];
	size_t ntables;
	struct {
		char table[16];
		uint64_t rows;
	} tables[STATUS_MAX_TABLES];
	unsigned min_cell;
	uint64_t served, refused, failed;
	uint64_t latency_p50_us, latency_p95_us; /* recent window */
	int missing; /* away longer than the configured threshold */
};

struct status_reason {
	char reason[STATUS_NAME_MAX];
	uint64_t count;
};

struct status_snapshot {
	uint64_t uptime_s;
	size_t nnodes;
	struct status_node *nodes;
	uint64_t queries[4]; /* by TALLY__QUERY_STATE__* */
	uint64_t tasks[7];   /* by TALLY__TASK_STATE__* */
	/* Query latency (submit to final) histogram, cumulative counts. */
	uint64_t latency_le_ms[STATUS_LATENCY_BUCKETS]; /* bucket bounds */
	uint64_t latency_count[STATUS_LATENCY_BUCKETS + 1]; /* last: +Inf */
	uint64_t latency_sum_ms;
	size_t ntls_failures;
	struct status_reason tls_failures[STATUS_MAX_REASONS];
	size_t nrefusals;
	struct status_reason refusals[STATUS_MAX_REASONS]; /* approvals */
};

#endif
