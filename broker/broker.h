/*
 * broker.h — the broker's state shared by its modules: configuration,
 * the network, trusted DRB keys, durable store, the channel, the nodes
 * and the work in flight. One instance, created by broker_run() and
 * passed down; no globals.
 */
#ifndef TALLY_BROKER_H
#define TALLY_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "approval.h"
#include "config.h"
#include "latency.h"
#include "network.h"
#include "status.h"
#include "store.h"

struct chan;
struct http;

/* One hospital of the network, connected or not. */
struct slot {
	const struct site *site;
	uint64_t peer;	       /* channel handle while connected, else 0 */
	int registered;	       /* Hello received on the current session */
	uint64_t last_seen_ms; /* wall clock of its last message, 0 never */
	uint64_t sessions;     /* registrations so far */
	char software[STATUS_NAME_MAX];
	char snapshot[16];
	unsigned schema, min_cell, max_tasks;
	uint64_t rows[6];
	uint64_t served, refused, failed;
	struct latency lat;
};

/* A Task request sent to a node and not yet answered. */
struct inflight {
	uint64_t peer, req_id;
	size_t slot;
	char task_id[STORE_ID_MAX + STORE_NAME_MAX];
	char query_id[STORE_ID_MAX];
	uint64_t sent_us;
};

/* A researcher waiting for a query's final result. */
struct waiter {
	uint64_t peer, req_id;
	char query_id[STORE_ID_MAX];
};

/* A query not yet final. */
struct running {
	char id[STORE_ID_MAX];
	uint64_t submitted_ms, deadline_ms;
	unsigned min_cell;    /* the approval's k: no site may release below */
	int touched;	      /* answered in the batch not yet flushed */
	uint64_t progress_ms; /* monotonic time of the last progress note */
};

struct broker {
	struct broker_config cfg;
	struct network *net;
	struct drb_key *drb;
	size_t ndrb;
	struct store *store;
	struct chan *chan;
	struct http *http;
	size_t max_frame;
	uint64_t started_ms; /* wall clock */
	uint64_t epoch;	     /* changes on every start */
	struct slot *slots;  /* one per network site, same order */
	struct inflight *inflight;
	size_t ninflight, capinflight;
	struct waiter *waiters;
	size_t nwaiters, capwaiters;
	struct running *running;
	size_t nrunning, caprunning;
	struct latency_hist hist;
	struct status_reason tls_failures[STATUS_MAX_REASONS];
	size_t ntls_failures;
	struct status_reason refusals[STATUS_MAX_REASONS];
	size_t nrefusals;
};

/* What a successful submission created. */
struct submit_ack {
	char query_id[STORE_ID_MAX];
	unsigned sites;
};

/* broker.c */
int broker_run(const struct broker_config *);

/* reply.c */
/* Sends a packed envelope built from env as a reply / one-way message. */
int reply_send(
    struct broker *, uint64_t peer, uint64_t id, Tally__Envelope *env);
int reply_error(
    struct broker *, uint64_t peer, uint64_t id, int code, const char *reason);

/* submit.c */
/*
 * Checks a submission from researcher `who` (the name in its verified
 * certificate) and stores it durably before returning 0. On refusal
 * returns -1 with the reason for the researcher in err; the refusal is
 * audited. Submissions from any other role never reach this function.
 */
int submit_handle(struct broker *, const char *who, const Tally__Submit *,
    struct submit_ack *, char *err, size_t errlen);

/* nodes.c */
struct slot *nodes_by_name(struct broker *, const char *site);
struct slot *nodes_by_peer(struct broker *, uint64_t peer);
/* A node's Hello on a new session: registers it and replies Welcome
 * (the caller then sends it its pending tasks: dispatch_site()). */
void nodes_hello(
    struct broker *, struct slot *, uint64_t req_id, const Tally__Hello *);
void nodes_down(struct broker *, uint64_t peer);
/* Fills a status snapshot (free with status_free()). */
int nodes_snapshot(struct broker *, struct status_snapshot *);

/* dispatch.c */
/* Loads the unfinished queries after a start; their tasks go out again. */
int dispatch_resume(struct broker *);
/* A new query was accepted. */
int dispatch_query(struct broker *, const char *query_id);
/* Sends every pending task of a site that just registered. */
void dispatch_site(struct broker *, struct slot *);
/* A node answered Task request req_id. */
void dispatch_answer(struct broker *, uint64_t peer, uint64_t req_id,
    const uint8_t *data, size_t len);
/* Commits the answers batched since the last flush, then looks at each
 * query they touched (final result, or progress to those waiting). */
void dispatch_flush(struct broker *);
/* A node is gone for good: its unanswered tasks wait for it again. */
void dispatch_forget(struct broker *, uint64_t peer);
/* A researcher asks for a result (waits for it if req->wait). */
void dispatch_result_request(struct broker *, uint64_t peer, uint64_t req_id,
    const char *who, const Tally__ResultRequest *);
/* Timers: deadlines of running queries, tasks that could not go out. */
void dispatch_tick(struct broker *);

/* finish.c */
/* Finalises query id if every site answered or the deadline passed;
 * otherwise sends progress to those waiting. 1 when it became final. */
int finish_check(struct broker *, const char *id, int deadline_passed);
/* finish_check after answers: progress notes only if progress is set. */
int finish_answered(struct broker *, const char *id, int progress);

#endif
