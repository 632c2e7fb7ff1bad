/*
 * task.c — owns the node's decision to run a query and what it releases.
 * Everything the broker sends is checked again here against the node's own
 * trusted DRB keys and policy; only a suppressed table ever leaves this
 * file. It never releases a count the suppression step has not seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "log.h"
#include "query.h"
#include "result.h"
#include "suppress.h"
#include "task.h"
#include "util.h"
#include "wire.h"

#define TASK_ID_MAX 128

static uint8_t *
pack_result(Tally__TaskResult *tr, size_t max_frame, size_t *lenp)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;

	env.body_case = TALLY__ENVELOPE__BODY_TASK_RESULT;
	env.task_result = tr;
	return wire_encode(&env, max_frame, lenp);
}

/* A result without a table (refused or failed). */
static uint8_t *
no_table(struct task_env *te, const char *task_id, int state, const char *actor,
    struct task_outcome *out, size_t max_frame, size_t *lenp)
{
	Tally__TaskResult tr = TALLY__TASK_RESULT__INIT;
	char detail[400];

	tr.task_id = (char *)task_id;
	tr.has_state = 1;
	tr.state = state;
	tr.reason = out->reason;
	out->state = state;
	snprintf(detail, sizeof(detail), "task %s: %s", task_id, out->reason);
	nstate_audit(te->state, actor,
	    state == TALLY__TASK_STATE__TASK_REFUSED ? "refused" : "failed",
	    detail);
	log_info("task %s %s: %s", task_id,
	    state == TALLY__TASK_STATE__TASK_REFUSED ? "refused" : "failed",
	    out->reason);
	return pack_result(&tr, max_frame, lenp);
}

static int
task_id_valid(const char *id)
{
	size_t n;

	if (id == NULL || (n = strlen(id)) == 0 || n >= TASK_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return 0;
	return 1;
}

/* The approval and the query, checked; fills a, digest and *qp. */
static int
task_verify(struct task_env *te, const Tally__Task *t, struct approval *a,
    Tally__Query **qp, char *err, size_t errlen)
{
	struct approval_ctx ctx;
	uint8_t digest[32];

	if (!t->has_query || t->query.len == 0 ||
	    t->query.len > QUERY_MAX_BYTES || t->approval == NULL ||
	    t->researcher == NULL || strlen(t->researcher) >= APPROVAL_NAME_MAX)
		return errf(err, errlen,
		    "task without query, approval or "
		    "researcher");
	SHA256(t->query.data, t->query.len, digest);
	if (approval_verify_cached(&te->approvals, t->approval, te->drb,
		te->ndrb, a, err, errlen) == -1)
		return -1;
	ctx.query_sha256 = digest;
	ctx.researcher = t->researcher;
	ctx.site = te->cfg->site;
	ctx.consortium = te->cfg->consortium;
	ctx.now = wall_ms() / 1000;
	if (approval_check(a, &ctx, err, errlen) == -1)
		return -1;
	if ((*qp = query_unpack(t->query.data, t->query.len, err, errlen)) ==
	    NULL)
		return -1;
	return 0;
}

/* A cached answer, marked as such. */
static uint8_t *
from_cache(uint8_t *stored, size_t slen, size_t max_frame, size_t *lenp,
    struct task_outcome *out)
{
	struct wire_msg *m;
	Tally__TaskResult *tr;
	uint8_t *buf = NULL;
	char why[128] = "not a task result";

	m = wire_decode(stored, slen, max_frame, 0, why, sizeof(why));
	free(stored);
	if (m == NULL ||
	    wire_env(m)->body_case != TALLY__ENVELOPE__BODY_TASK_RESULT) {
		log_warnx("node state holds a damaged answer: %s", why);
		wire_free(m);
		return NULL;
	}
	tr = wire_env(m)->task_result;
	tr->has_cached = 1;
	tr->cached = 1;
	out->state = tr->state;
	out->cached = 1;
	buf = pack_result(tr, max_frame, lenp);
	wire_free(m);
	return buf;
}

/* Runs the engine and suppression; the packed answer in *bufp (NULL with
 * out->reason on failure). */
static void
task_compute(struct task_env *te, const Tally__Task *t, const Tally__Query *q,
    const struct approval *a, size_t max_frame, uint8_t **bufp, size_t *lenp,
    char *summary, size_t sumlen, struct task_outcome *out)
{
	Tally__TaskResult tr = TALLY__TASK_RESULT__INIT;
	struct suppress_policy sp;
	struct table *tab = NULL;
	Tally__Table *pt = NULL;
	uint64_t t0 = clock_us(), now;
	size_t withheld = 0;

	*bufp = NULL;
	sp.mask_zeros = te->cfg->policy.mask_zeros;
	if (suppress_min_cell(te->cfg->policy.min_cell, a->min_cell, &sp.k,
		out->reason, sizeof(out->reason)) == -1)
		return;
	/* Only now: a limit left unconsumed would cut another task's run. */
	if (t->has_deadline_ms && t->deadline_ms > (now = wall_ms()))
		engine_limit_next(te->engine, t->deadline_ms - now);
	if (engine_run(te->engine, q, te->cfg->site, te->cfg->consortium, &tab,
		out->reason, sizeof(out->reason)) == -1 ||
	    suppress_table(tab, &sp, out->reason, sizeof(out->reason)) == -1 ||
	    (pt = table_to_proto(tab)) == NULL) {
		table_free(tab);
		if (out->reason[0] == '\0')
			strlcpy(
			    out->reason, "out of memory", sizeof(out->reason));
		return;
	}
	out->engine_us = clock_us() - t0;
	for (size_t i = 0; i < tab->ncells; i++)
		withheld += tab->cells[i].state != CELL_COUNT;
	tr.task_id = t->task_id;
	tr.has_state = tr.has_engine_us = tr.has_by_site_allowed = 1;
	tr.state = TALLY__TASK_STATE__TASK_DONE;
	tr.table = pt;
	tr.engine_us = out->engine_us;
	tr.by_site_allowed = te->cfg->policy.allow_by_site != 0;
	if ((*bufp = pack_result(&tr, max_frame, lenp)) == NULL)
		strlcpy(out->reason, "out of memory", sizeof(out->reason));
	snprintf(summary, sumlen,
	    "task %s project %s: %zu cells released, %zu withheld, k %u",
	    t->task_id, a->project, tab->ncells - withheld, withheld, sp.k);
	table_proto_free(pt);
	table_free(tab);
}

int
task_start(struct task_env *te, const Tally__Task *t, size_t max_frame,
    struct task_pending *p, uint8_t **bufp, size_t *lenp,
    struct task_outcome *out)
{
	const char *actor =
	    t->researcher != NULL && strlen(t->researcher) < APPROVAL_NAME_MAX
	    ? t->researcher
	    : "?";
	Tally__Query *q = NULL;
	struct approval a;
	uint8_t *stored = NULL;
	size_t slen;
	int rc, st;

	memset(out, 0, sizeof(*out));
	memset(p, 0, sizeof(*p));
	*bufp = NULL;
	if (task_id_valid(t->task_id))
		strlcpy(out->task_id, t->task_id, sizeof(out->task_id));
	else {
		strlcpy(out->reason, "task without a valid id",
		    sizeof(out->reason));
		*bufp = no_table(te, "?", TALLY__TASK_STATE__TASK_REFUSED,
		    actor, out, max_frame, lenp);
		return 1;
	}
	if (task_verify(te, t, &a, &q, out->reason, sizeof(out->reason)) ==
	    -1) {
		*bufp =
		    no_table(te, t->task_id, TALLY__TASK_STATE__TASK_REFUSED,
			actor, out, max_frame, lenp);
		return 1;
	}
	/* Past the query's deadline the broker has closed it: no budget is
	 * spent on an answer nobody will pool. Before it, the engine stops
	 * in time for the answer to be pooled. */
	if (t->has_deadline_ms && t->deadline_ms != 0 &&
	    wall_ms() >= t->deadline_ms) {
		query_free(q);
		strlcpy(out->reason, "the query's deadline has passed",
		    sizeof(out->reason));
		*bufp =
		    no_table(te, t->task_id, TALLY__TASK_STATE__TASK_REFUSED,
			actor, out, max_frame, lenp);
		return 1;
	}
	rc = nstate_begin(te->state, t->task_id, a.id, a.max_runs, &stored,
	    &slen, &st, out->reason, sizeof(out->reason));
	if (rc == NSTATE_RUN) {
		task_compute(te, t, q, &a, max_frame, &p->buf, &p->len,
		    p->summary, sizeof(p->summary), out);
		query_free(q);
		if (p->buf != NULL) {
			/* Released only once task_end finds it stored. */
			memcpy(p->aid, a.id, sizeof(p->aid));
			p->ans.task_id = t->task_id;
			p->ans.approval_id = p->aid;
			p->ans.max_runs = a.max_runs;
			p->ans.state = TALLY__TASK_STATE__TASK_DONE;
			p->ans.result = p->buf;
			p->ans.len = p->len;
			p->ans.actor = t->researcher;
			p->ans.summary = p->summary;
			p->actor = actor;
			return 0;
		}
		*bufp = no_table(te, t->task_id, TALLY__TASK_STATE__TASK_FAILED,
		    actor, out, max_frame, lenp);
		return 1;
	}
	query_free(q);
	if (rc == NSTATE_CACHED) {
		if ((*bufp = from_cache(stored, slen, max_frame, lenp, out)) !=
		    NULL)
			return 1;
		strlcpy(out->reason, "cached answer unreadable",
		    sizeof(out->reason));
		rc = -1;
	}
	*bufp = no_table(te, t->task_id,
	    rc == NSTATE_BUDGET || rc == NSTATE_REUSED
		? TALLY__TASK_STATE__TASK_REFUSED
		: TALLY__TASK_STATE__TASK_FAILED,
	    actor, out, max_frame, lenp);
	return 1;
}

uint8_t *
task_end(struct task_env *te, struct task_pending *p, size_t max_frame,
    size_t *lenp, struct task_outcome *out)
{
	const char *id = p->ans.task_id;
	uint8_t *buf = p->buf;
	int rc = p->ans.rc;

	p->buf = NULL;
	if (rc == 0) {
		out->state = TALLY__TASK_STATE__TASK_DONE;
		*lenp = p->len;
		return buf;
	}
	/* Not recorded, not released. */
	free(buf);
	if (rc == NSTATE_CACHED) {
		if ((buf = from_cache(p->ans.stored, p->ans.slen, max_frame,
			 lenp, out)) != NULL)
			return buf;
		strlcpy(out->reason, "cached answer unreadable",
		    sizeof(out->reason));
	} else if (rc == -1) {
		free(p->ans.stored);
		strlcpy(out->reason, "node state not writable",
		    sizeof(out->reason));
	} else
		strlcpy(out->reason, p->ans.err, sizeof(out->reason));
	return no_table(te, id,
	    rc == NSTATE_BUDGET || rc == NSTATE_REUSED
		? TALLY__TASK_STATE__TASK_REFUSED
		: TALLY__TASK_STATE__TASK_FAILED,
	    p->actor, out, max_frame, lenp);
}

uint8_t *
task_run(struct task_env *te, const Tally__Task *t, size_t max_frame,
    size_t *lenp, struct task_outcome *out)
{
	struct task_pending p;
	uint8_t *buf;

	if (task_start(te, t, max_frame, &p, &buf, lenp, out) == 1)
		return buf;
	nstate_finish_many(te->state, &p.ans, 1);
	return task_end(te, &p, max_frame, lenp, out);
}
