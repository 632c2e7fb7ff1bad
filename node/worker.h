/*
 * worker.h — the node's query workers: a fixed number of threads, each
 * with its own engine and state connection, fed from the main loop and
 * reporting back through a pipe the main loop polls.
 */
#ifndef TALLY_NODE_WORKER_H
#define TALLY_NODE_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "task.h"
#include "wire.h"

#define WORKERS_MAX_QUEUE 1024

struct workers;

struct worker_done {
	uint64_t peer, req_id;
	uint8_t *buf; /* packed Envelope to reply with (malloc'd) */
	size_t len;
	struct task_outcome out;
};

struct workers *workers_new(const struct node_config *, const struct drb_key *,
    size_t ndrb, size_t max_frame, char *err, size_t errlen);
/* Readable when finished tasks wait in workers_take(). */
int workers_fd(const struct workers *);
#define WORKERS_FULL	-1 /* the queue is full */
#define WORKERS_RUNNING -2 /* a task with that id is queued or running */

/* Queues a decoded Task envelope: 0 and ownership moves, or WORKERS_FULL
 * or WORKERS_RUNNING and the caller keeps it. */
int workers_submit(
    struct workers *, uint64_t peer, uint64_t req_id, struct wire_msg *);
/* 1 with a finished task in *d (free d->buf), 0 if none. */
int workers_take(struct workers *, struct worker_done *d);
unsigned workers_busy(struct workers *); /* queued + running */
void workers_free(struct workers *);

#endif
