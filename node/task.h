/*
 * task.h — what a node does with one Task from the broker: re-verify the
 * DRB approval and its own policy, spend a run of the approval's budget,
 * run the engine, suppress, and produce the TaskResult it will release.
 */
#ifndef TALLY_NODE_TASK_H
#define TALLY_NODE_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "approval.h"
#include "config.h"
#include "engine.h"
#include "state.h"

/* What one worker needs; each worker has its own engine and state
 * connection (neither is shared between threads). */
struct task_env {
	const struct node_config *cfg;
	const struct drb_key *drb;
	size_t ndrb;
	struct engine *engine;
	struct nstate *state;
	struct approval_cache approvals; /* this worker's, zeroed */
};

/* Outcome figures, for the node's log and heartbeats. */
struct task_outcome {
	char task_id[128];
	int state; /* TALLY__TASK_STATE__* */
	int cached;
	uint64_t engine_us;
	char reason[256];
};

/* A task whose answer is computed and waits to be stored (counting its
 * run) before it may be released. */
struct task_pending {
	uint8_t *buf; /* the packed answer */
	size_t len;
	uint8_t aid[32];
	char summary[512];
	const char *actor;
	struct nstate_answer ans; /* for nstate_finish_many */
};

/*
 * task_run in two halves, so that a worker can store the answers of
 * several tasks in one commit: task_start checks and computes; it returns
 * 1 with the final answer in *bufp (a refusal, failure or cached answer,
 * already audited), or 0 with p pending. Then nstate_finish_many on the
 * pending answers (t must stay alive until then), and task_end gives
 * each one's packed answer to release: the computed one only if it was
 * stored.
 */
int task_start(struct task_env *, const Tally__Task *t, size_t max_frame,
    struct task_pending *p, uint8_t **bufp, size_t *lenp,
    struct task_outcome *);
uint8_t *task_end(struct task_env *, struct task_pending *p, size_t max_frame,
    size_t *lenp, struct task_outcome *);

/*
 * Handles one Task and returns the packed Envelope (a TaskResult) to send
 * back, or NULL only when memory runs out. Never trusts the broker: a
 * task with a bad approval, out of scope or over budget gets a REFUSED
 * result naming the reason, and the refusal is audited here.
 */
uint8_t *task_run(struct task_env *, const Tally__Task *, size_t max_frame,
    size_t *lenp, struct task_outcome *);

#endif
