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
#include <stdio.h>

#define STATUS_NAME_MAX	   64
#define STATUS_MAX_TABLES  8
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
	/* Added by the ops branch (not carried by NodeStatus on the wire): */
	int lead; /* the consortium's lead hospital in the network file */
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
	/*
	 * Query latency (submit to final) histogram, cumulative counts:
	 * latency_count[i] observations took <= latency_le_ms[i], the last
	 * is every observation (lib/ops/latency.c fills it that way).
	 */
	uint64_t latency_le_ms[STATUS_LATENCY_BUCKETS];	    /* bucket bounds */
	uint64_t latency_count[STATUS_LATENCY_BUCKETS + 1]; /* last: +Inf */
	uint64_t latency_sum_ms;
	size_t ntls_failures;
	struct status_reason tls_failures[STATUS_MAX_REASONS];
	size_t nrefusals;
	struct status_reason refusals[STATUS_MAX_REASONS]; /* approvals */
};

/* heartbeat_age_ms of a node never heard from since the broker started. */
#define STATUS_AGE_NEVER UINT64_MAX
/* Most nodes status_from_proto() accepts (the network file's cap). */
#define STATUS_MAX_NODES 4096
/* Default for status_mark_missing() where no configuration says. */
#define STATUS_MISSING_AFTER_MS 60000

struct Tally__Status;

/* Releases the nodes array; the snapshot is left empty and reusable. */
void status_free(struct status_snapshot *);
/* Deep copy into dst (whose old contents are freed); -1 on ENOMEM. */
int status_copy(struct status_snapshot *dst, const struct status_snapshot *);
/* Sets every node's `missing`: not connected for at least after_ms. */
void status_mark_missing(struct status_snapshot *, uint64_t after_ms);

/*
 * Node indices in display order: by consortium (numerically), the lead
 * first, then in snapshot order. Malloc'd, s->nnodes entries; NULL when
 * there are no nodes or on ENOMEM.
 */
size_t *status_order(const struct status_snapshot *);

/*
 * Copies src[0..srclen) into dst as printable UTF-8: invalid sequences and
 * control characters become '?', and the copy is cut at a character
 * boundary to fit dstlen (>= 1). Every renderer passes strings through it.
 */
void status_clean(char *dst, size_t dstlen, const char *src, size_t srclen);

/*
 * The Status message for `tally status`. Everything in it is malloc'd:
 * free it with status_proto_free(). NULL on ENOMEM.
 */
struct Tally__Status *status_to_proto(const struct status_snapshot *);
void status_proto_free(struct Tally__Status *);
/*
 * Fills out from a Status message off the wire: refuses more than
 * STATUS_MAX_NODES nodes or STATUS_MAX_TABLES tables per node, cleans and
 * cuts every string to its field, ignores unknown query states. out's
 * previous contents are not freed. -1 with the reason in err.
 */
int status_from_proto(const struct Tally__Status *, struct status_snapshot *out,
    char *err, size_t errlen);

/*
 * The readable table of `tally status`: nodes grouped by consortium,
 * missing nodes marked MISSING (bold red when color), then uptime and
 * queries by state. color: 1 always, 0 never, -1 when fp is a terminal
 * and NO_COLOR is unset.
 */
void status_print(FILE *, const struct status_snapshot *, int color);

/*
 * The `--json` document, malloc'd (free()); NULL on ENOMEM. Keys:
 * uptime_s, nodes[] in status_order() (site, name, consortium, lead,
 * connected, heartbeat_age_ms (null: never), protocol, software,
 * snapshot_date,
 * tables{}, min_cell, served, refused, failed, latency_p50_us,
 * latency_p95_us, missing), queries{running, complete, partial, failed},
 * tasks{queued, sent, running, done, refused, failed, timed_out}.
 */
char *status_to_json(const struct status_snapshot *, int pretty);

/* Display forms shared by the table and the HTML page. */
void status_fmt_age(char *, size_t, uint64_t ms);      /* 4.2s 3m05s never */
void status_fmt_us(char *, size_t, uint64_t us);       /* 850us 12ms 3s - */
void status_fmt_thousands(char *, size_t, uint64_t v); /* 1,234,567 */
/* The row count of a node's table, 1 if the node reported it. */
int status_node_rows(
    const struct status_node *, const char *table, uint64_t *rows);

/* Names of the query and task states, as in JSON and metrics labels. */
extern const char *const status_query_states[4];
extern const char *const status_task_states[7];

/* Counts one occurrence of reason (its kind: the text before any ':' or
 * quote) in a table of at most STATUS_MAX_REASONS kinds. */
void status_reason_count(struct status_reason *, size_t *n, const char *);

#endif
