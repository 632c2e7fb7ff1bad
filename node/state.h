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
 * What a task may do, read from what is stored (no write, no fsync):
 *   NSTATE_CACHED  answered before: *result (malloc'd) is the same answer,
 *                  no run is spent;
 *   NSTATE_RUN     run it (no run is spent yet: nstate_finish counts it);
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

/*
 * In one transaction (one fsync): decides again as nstate_begin does,
 * and if the task may run, counts its run, stores its final answer
 * (packed TaskResult) and audits it. 0 when stored (then, and only then,
 * the answer may be released); NSTATE_CACHED when another copy of the
 * task was answered first (*stored, malloc'd, is that answer, to be
 * released instead); NSTATE_BUDGET or NSTATE_REUSED (err says why;
 * nothing stored); -1 on error.
 */
int nstate_finish(struct nstate *, const char *task_id,
    const uint8_t approval_id[32], uint32_t max_runs, int state,
    const uint8_t *result, size_t len, const char *actor, const char *summary,
    uint8_t **stored, size_t *slen, char *err, size_t errlen);
/* One answer for nstate_finish_many: the arguments of nstate_finish in,
 * its return (rc), stored answer and reason out. */
struct nstate_answer {
	const char *task_id;
	const uint8_t *approval_id;
	uint32_t max_runs;
	int state;
	const uint8_t *result;
	size_t len;
	const char *actor, *summary;
	int rc;
	uint8_t *stored;
	size_t slen;
	char err[256];
};
/* nstate_finish for n answers at once, all in one commit (each still
 * decided on its own, in order: a later one sees an earlier one's run).
 * If the commit fails, every one gets -1. 0, or -1 out of memory (each
 * rc -1). */
int nstate_finish_many(struct nstate *, struct nstate_answer *, size_t n);

/*
 * Group commit for a node's workers, each with its own connection: a
 * write (nstate_finish, nstate_audit) joins the queue of the group, and
 * whichever worker finds no commit running commits everything queued so
 * far in one transaction (one fsync), on its own connection; the others
 * wait until theirs is committed. No worker returns before its write is
 * durable, and siblings never wait on SQLite's busy sleep. Free the group
 * after every nstate that joined it is closed.
 */
struct nstate_group;
struct nstate_group *nstate_group_new(void);
void nstate_group_free(struct nstate_group *);
void nstate_join(struct nstate *, struct nstate_group *);
/* Commits done and writes they held, so far. */
void nstate_group_stats(
    struct nstate_group *, uint64_t *commits, uint64_t *writes);

/* Audits a refusal that never reached nstate_begin (bad approval...). */
int nstate_audit(
    struct nstate *, const char *actor, const char *event, const char *detail);
/* Runs spent on an approval so far. */
int64_t nstate_runs(struct nstate *, const uint8_t approval_id[32]);

#endif
