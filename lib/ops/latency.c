/*
 * latency.c — owns the per-node latency window and the query latency
 * histogram.
 *
 * It must never allocate (the broker updates these on every answer) and
 * never let a bucket's count fall below the one before it: the histogram
 * is cumulative, as Prometheus reads it.
 */
#include <stdlib.h>
#include <string.h>

#include "latency.h"

/* Upper bounds of the query latency buckets, milliseconds. */
static const uint64_t hist_bounds_ms[STATUS_LATENCY_BUCKETS] = {
	100,
	250,
	500,
	1000,
	2500,
	5000,
	10000,
	30000,
	60000,
	120000,
	300000,
	600000,
};

void
latency_init(struct latency *l)
{
	memset(l, 0, sizeof(*l));
}

void
latency_add(struct latency *l, uint64_t us)
{
	l->us[l->next] = us;
	l->next = (l->next + 1) % LATENCY_WINDOW;
	if (l->n < LATENCY_WINDOW)
		l->n++;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t
latency_percentile(const struct latency *l, unsigned pct)
{
	uint64_t sorted[LATENCY_WINDOW];
	unsigned rank;

	if (l->n == 0 || pct == 0)
		return 0;
	if (pct > 100)
		pct = 100;
	memcpy(sorted, l->us, l->n * sizeof(sorted[0]));
	qsort(sorted, l->n, sizeof(sorted[0]), cmp_u64);
	/* Nearest rank: the smallest value with pct% at or below it. */
	rank = (l->n * pct + 99) / 100;
	return sorted[rank - 1];
}

void
latency_hist_init(struct latency_hist *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->le_ms, hist_bounds_ms, sizeof(h->le_ms));
}

void
latency_hist_observe(struct latency_hist *h, uint64_t ms)
{
	for (size_t i = 0; i < STATUS_LATENCY_BUCKETS; i++)
		if (ms <= h->le_ms[i])
			h->count[i]++;
	h->count[STATUS_LATENCY_BUCKETS]++;
	h->sum_ms = ms > UINT64_MAX - h->sum_ms ? UINT64_MAX : h->sum_ms + ms;
}

void
latency_hist_export(const struct latency_hist *h, struct status_snapshot *s)
{
	memcpy(s->latency_le_ms, h->le_ms, sizeof(s->latency_le_ms));
	memcpy(s->latency_count, h->count, sizeof(s->latency_count));
	s->latency_sum_ms = h->sum_ms;
}
