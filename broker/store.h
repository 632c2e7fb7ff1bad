/*
 * store.h — the broker's durable state: queries, their per-site tasks,
 * results and the audit chain, in one SQLite file (WAL, synchronous=FULL).
 * A query is acknowledged only after store_query_add() has returned, so
 * an accepted query survives a crash of the broker.
 */
#ifndef TALLY_BROKER_STORE_H
#define TALLY_BROKER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define STORE_ID_MAX   48
#define STORE_NAME_MAX 64

struct store;

struct store_query {
	char id[STORE_ID_MAX];
	char researcher[STORE_NAME_MAX];
	char project[STORE_NAME_MAX];
	uint8_t approval_id[32];
	const uint8_t *query; /* canonical Query bytes */
	size_t query_len;
	const uint8_t *approval; /* packed SignedApproval */
	size_t approval_len;
	uint64_t submitted_ms;
	uint64_t deadline_ms;
	int state; /* TALLY__QUERY_STATE__* */
	int by_site;
	unsigned min_cell;
	unsigned max_runs; /* the approval's budget, counted here too */
};

struct store_task {
	char id[STORE_ID_MAX];
	char query_id[STORE_ID_MAX];
	char site[STORE_NAME_MAX];
	int state; /* TALLY__TASK_STATE__* */
	unsigned attempts;
	char reason[256];
	uint8_t *table; /* packed Table, when done */
	size_t table_len;
	uint64_t engine_us;
	uint64_t done_ms;
	int cached;
};

struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *);

/* Query, one task per site and an audit record, in one transaction;
 * refused once max_runs queries of the same approval are stored. */
int store_query_add(struct store *, const struct store_query *,
    const char *const *sites, size_t nsites, char *err, size_t errlen);
/* Loads a query; its query/approval buffers are malloc'd (free them). */
int store_query_get(struct store *, const char *id, struct store_query *,
    uint8_t **query, uint8_t **approval);
/* Ids of queries still running, oldest first; *ids malloc'd. */
int store_queries_running(
    struct store *, char (**ids)[STORE_ID_MAX], size_t *n);

/* Tasks of a query (or, with site set, a site's unfinished tasks). The
 * array and each table are malloc'd: store_tasks_free(). */
int store_tasks(struct store *, const char *query_id, const char *site,
    struct store_task **tasks, size_t *n);
void store_tasks_free(struct store_task *, size_t n);
/* Moves a task on; a final state (done/refused/failed/timed out) is never
 * left again, so a late or duplicated answer changes nothing. Returns 1
 * if the task changed, 0 if it was already final or unknown, -1 on
 * error. */
int store_task_update(struct store *, const struct store_task *);

/*
 * Group commit: between store_batch_begin() and store_batch_commit(),
 * store_task_update() (and its audit record) joins one transaction
 * instead of committing its own. Nothing that depends on those answers
 * (a result, a progress note) may leave before the commit has returned
 * 0; on -1 the whole batch is lost and its tasks are asked again.
 * store_query_add and store_query_finish commit an open batch first.
 */
int store_batch_begin(struct store *);
int store_batch_commit(struct store *);
/* 1 if a task in this state is finished (done, refused, failed, timed
 * out): a state it never leaves. */
int store_task_final(int state);

/* Marks a running query final with its result and audits the release;
 * -1 if it is not running (a result is released once). */
int store_query_finish(struct store *, const char *id, int state,
    const uint8_t *result, size_t len, const char *summary);
/* The stored result (malloc'd) of a final query; 0, or -1 if none. */
int store_result_get(
    struct store *, const char *id, uint8_t **result, size_t *len, int *state);
/* Counts of queries per state, for status: counts[state]. */
int store_query_counts(struct store *, uint64_t counts[4]);

/* A query's state (TALLY__QUERY_STATE__*), or -1 if there is none. */
int store_query_state(struct store *, const char *id);
/* Counts of one query's tasks per state: counts[state], 7 states. */
int store_query_task_states(struct store *, const char *id, uint64_t counts[7]);
/* Counts of tasks per state: counts[state], 7 states. */
int store_task_counts(struct store *, uint64_t counts[7]);

/* Appends an audit record in its own transaction. */
int store_audit(
    struct store *, const char *actor, const char *event, const char *detail);

#endif
