/*
 * state.h — a node's own durable memory, kept beside (never inside) the
 * Baseline DB: the run count of every approval, the released answer of
 * every task, and the node's audit chain. The broker cannot reset any of
 * it: budgets are counted here.
 */
#ifndef TALLY_NODE_STATE_H
#define TALLY_NODE_STATE_H

#include <stddef.h>
#include <stdint.h>

struct nstate;

struct nstate *nstate_open(const char *path, char *err, size_t errlen);
void nstate_close(struct nstate *);

/*
 * What a task may do, decided in one transaction:
 *   NSTATE_CACHED  answered before: *result (malloc'd) is the same answer,
 *                  no run is spent;
 *   NSTATE_RUN     run it (a run of the approval was counted, or had been
 *                  for this task before a crash);
 *   NSTATE_BUDGET  refused: the approval's runs are spent (err says so);
 *   NSTATE_REUSED  refused: the task id was first used with another
 *                  approval (a cached answer goes only to its own).
 * -1 on error.
 */
#define NSTATE_CACHED 1
#define NSTATE_RUN    2
#define NSTATE_BUDGET 3
#define NSTATE_REUSED 4 /* refused: the task id came with another approval */
int nstate_begin(struct nstate *, const char *task_id,
    const uint8_t approval_id[32], uint32_t max_runs, uint8_t **result,
    size_t *len, int *state, char *err, size_t errlen);

/* Stores a task's final answer (packed TaskResult) and audits it. */
int nstate_finish(struct nstate *, const char *task_id, int state,
    const uint8_t *result, size_t len, const char *actor, const char *summary);
/* Audits a refusal that never reached nstate_begin (bad approval...). */
int nstate_audit(
    struct nstate *, const char *actor, const char *event, const char *detail);
/* Runs spent on an approval so far. */
int64_t nstate_runs(struct nstate *, const uint8_t approval_id[32]);

#endif
