/*
 * latency.h — the broker's latency bookkeeping for operators: a window of
 * each node's recent task latencies (p50/p95), and the fixed-bucket
 * histogram of query latencies that /metrics exports.
 *
 * Both are plain structs with no allocation, to embed in the broker's own
 * per-node and global state; they hold durations only, never a count or
 * anything about a query's content.
 */
#ifndef TALLY_LATENCY_H
#define TALLY_LATENCY_H

#include <stdint.h>

#include "status.h"

/* Recent task latencies kept per node. */
#define LATENCY_WINDOW 256

struct latency {
	uint64_t us[LATENCY_WINDOW]; /* ring buffer */
	unsigned n;		     /* filled, <= LATENCY_WINDOW */
	unsigned next;		     /* where the next one goes */
};

void latency_init(struct latency *);
void latency_add(struct latency *, uint64_t us);
/*
 * The pct-th percentile (nearest rank, 0 < pct <= 100) of the window, in
 * microseconds; 0 while the window is empty.
 */
uint64_t latency_percentile(const struct latency *, unsigned pct);

/* Query latency histogram with the bounds of latency_hist_init(). */
struct latency_hist {
	uint64_t le_ms[STATUS_LATENCY_BUCKETS];
	uint64_t count[STATUS_LATENCY_BUCKETS + 1]; /* cumulative; last +Inf */
	uint64_t sum_ms;
};

/* Bounds 0.1 s .. 600 s (a query's default deadline), counts zero. */
void latency_hist_init(struct latency_hist *);
void latency_hist_observe(struct latency_hist *, uint64_t ms);
/* Copies the histogram into the snapshot's latency_* fields. */
void latency_hist_export(const struct latency_hist *, struct status_snapshot *);

#endif
