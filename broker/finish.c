/*
 * finish.c — owns turning a query's per-site answers into its result:
 * recording each answer, deciding when the query is final, pooling the
 * released tables under disclosure control, storing the result and only
 * then telling the researchers who wait. It never shows a site's column
 * unless every answering site allows it and the query asked for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "chan.h"
#include "log.h"
#include "pool.h"
#include "query.h"
#include "result.h"
#include "util.h"
#include "wire.h"

/* Adds each DONE site's table to the pool; by_site stays 1 only if every
 * one of them allows its column. Returns the number pooled, -1 on error. */
static int
pool_sites(struct broker *b, struct pool *p, struct store_task *t, size_t n,
    int *by_site)
{
	int pooled = 0;

	for (size_t i = 0; i < n; i++) {
		Tally__TaskResult *tr;
		struct table *tab;
		char err[256];

		if (t[i].state != TALLY__TASK_STATE__TASK_DONE)
			continue;
		if ((tr = tally__task_result__unpack(
			 NULL, t[i].table_len, t[i].table)) == NULL ||
		    tr->table == NULL) {
			tally__task_result__free_unpacked(tr, NULL);
			return -1;
		}
		if (!tr->has_by_site_allowed || !tr->by_site_allowed)
			*by_site = 0;
		tab = table_from_proto(tr->table, err, sizeof(err));
		tally__task_result__free_unpacked(tr, NULL);
		if (tab == NULL ||
		    pool_add(p, t[i].site, tab, err, sizeof(err)) == -1) {
			log_warnx(
			    "task %s: table not poolable: %s", t[i].id, err);
			table_free(tab);
			return -1;
		}
		table_free(tab);
		pooled++;
	}
	(void)b;
	return pooled;
}

/* Builds the Result message of a final query into *bufp. */
static int
build_result(struct broker *b, const struct store_query *q,
    const Tally__Query *query, struct store_task *t, size_t n, int state,
    uint8_t **bufp, size_t *lenp)
{
	Tally__Result res = TALLY__RESULT__INIT;
	Tally__SiteOutcome *outc = NULL, **outp = NULL;
	Tally__SiteTable *st = NULL, **stp = NULL;
	struct table *pooled = NULL;
	struct site_table *sites = NULL;
	size_t nsites = 0;
	int strata[TABLE_MAX_STRATA], by_site = query->by_site, rc = -1;
	struct pool *p = NULL;
	char err[256];

	for (size_t i = 0; i < query->n_strata && i < TABLE_MAX_STRATA; i++)
		strata[i] = query->strata[i];
	/* A failed query pools nothing: its result can always be built. */
	if (state != TALLY__QUERY_STATE__QUERY_FAILED &&
	    ((p = pool_new(strata, (int)query->n_strata,
		  q->min_cell ? q->min_cell : 10)) == NULL ||
		pool_sites(b, p, t, n, &by_site) <= 0 ||
		pool_finish(p, by_site, &pooled, &sites, &nsites, err,
		    sizeof(err)) == -1))
		goto done;
	res.query_id = (char *)q->id;
	res.has_state = 1;
	res.state = state;
	res.pooled = pooled ? table_to_proto(pooled) : NULL;
	if (nsites > 0) {
		st = calloc(nsites, sizeof(*st));
		stp = calloc(nsites, sizeof(*stp));
		if (st == NULL || stp == NULL)
			goto done;
		for (size_t i = 0; i < nsites; i++) {
			tally__site_table__init(&st[i]);
			st[i].site = sites[i].site;
			st[i].table = table_to_proto(sites[i].table);
			stp[i] = &st[i];
		}
		res.n_by_site = nsites;
		res.by_site = stp;
	}
	if ((outc = calloc(n ? n : 1, sizeof(*outc))) == NULL ||
	    (outp = calloc(n ? n : 1, sizeof(*outp))) == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		tally__site_outcome__init(&outc[i]);
		outc[i].site = t[i].site;
		outc[i].has_state = 1;
		outc[i].state = t[i].state;
		outc[i].reason = t[i].reason[0] ? t[i].reason : NULL;
		outp[i] = &outc[i];
	}
	res.n_sites = n;
	res.sites = outp;
	*lenp = tally__result__get_packed_size(&res);
	if ((*bufp = malloc(*lenp)) != NULL) {
		tally__result__pack(&res, *bufp);
		rc = 0;
	}
done:
	if (res.pooled)
		table_proto_free(res.pooled);
	for (size_t i = 0; st != NULL && i < nsites; i++)
		table_proto_free(st[i].table);
	free(st);
	free(stp);
	free(outc);
	free(outp);
	table_free(pooled);
	pool_sites_free(sites, nsites);
	pool_free(p);
	return rc;
}

/* Tells every researcher waiting for query id; their waits end. */
static void
notify_waiters(struct broker *b, const char *id, const uint8_t *res, size_t len)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Result *r;

	if ((r = tally__result__unpack(NULL, len, res)) == NULL)
		return;
	env.body_case = TALLY__ENVELOPE__BODY_RESULT;
	env.result = r;
	for (size_t i = 0; i < b->nwaiters;) {
		if (strcmp(b->waiters[i].query_id, id) == 0) {
			reply_send(
			    b, b->waiters[i].peer, b->waiters[i].req_id, &env);
			b->waiters[i] = b->waiters[--b->nwaiters];
		} else
			i++;
	}
	tally__result__free_unpacked(r, NULL);
}

/* Sends Progress notes to those waiting for query id. */
static void
notify_progress(struct broker *b, const char *id, const uint64_t c[7])
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Progress pr = TALLY__PROGRESS__INIT;
	uint8_t *buf;
	size_t len;

	pr.query_id = (char *)id;
	pr.has_total = pr.has_answered = pr.has_failed = pr.has_refused =
	    pr.has_timed_out = 1;
	for (int i = 0; i < 7; i++)
		pr.total += (uint32_t)c[i];
	pr.answered = (uint32_t)c[TALLY__TASK_STATE__TASK_DONE];
	pr.failed = (uint32_t)c[TALLY__TASK_STATE__TASK_FAILED];
	pr.refused = (uint32_t)c[TALLY__TASK_STATE__TASK_REFUSED];
	pr.timed_out = (uint32_t)c[TALLY__TASK_STATE__TASK_TIMED_OUT];
	env.body_case = TALLY__ENVELOPE__BODY_PROGRESS;
	env.progress = &pr;
	if ((buf = wire_encode(&env, b->max_frame, &len)) == NULL)
		return;
	for (size_t i = 0; i < b->nwaiters; i++)
		if (strcmp(b->waiters[i].query_id, id) == 0)
			chan_send(b->chan, b->waiters[i].peer, buf, len);
	free(buf);
}

/*
 * Looks at a running query: if every task is final, or its deadline has
 * passed (then open tasks time out), builds, stores and announces the
 * result. Returns 1 when the query is final (now or before: then those
 * waiting get the stored result; it is never built or released twice).
 */
static int finish_run(
    struct broker *b, const char *id, int deadline_passed, int progress);

int
finish_check(struct broker *b, const char *id, int deadline_passed)
{
	return finish_run(b, id, deadline_passed, 1);
}

int
finish_answered(struct broker *b, const char *id, int progress)
{
	return finish_run(b, id, 0, progress);
}

static int
finish_run(struct broker *b, const char *id, int deadline_passed, int progress)
{
	struct store_task *t = NULL;
	struct store_query q;
	Tally__Query *query = NULL;
	uint8_t *qb = NULL, *ab = NULL, *res = NULL;
	size_t n = 0, len = 0, done = 0, open = 0;
	char err[256], summary[128];
	uint64_t c[7];
	int state, rc = 0;

	/* Cheap first: most answers leave the query open. */
	if ((state = store_query_state(b->store, id)) == -1)
		return 0;
	if (state == TALLY__QUERY_STATE__QUERY_RUNNING && !deadline_passed &&
	    store_query_task_states(b->store, id, c) == 0 &&
	    c[TALLY__TASK_STATE__TASK_QUEUED] +
		    c[TALLY__TASK_STATE__TASK_SENT] +
		    c[TALLY__TASK_STATE__TASK_RUNNING] >
		0) {
		if (progress)
			notify_progress(b, id, c);
		return 0;
	}
	if (store_query_get(b->store, id, &q, &qb, &ab) == -1)
		return 0;
	if (q.state != TALLY__QUERY_STATE__QUERY_RUNNING) {
		if (store_result_get(b->store, id, &res, &len, &state) == 0 &&
		    res != NULL)
			notify_waiters(b, id, res, len);
		rc = 1;
		goto out;
	}
	if (store_tasks(b->store, id, NULL, &t, &n) == -1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		open += !store_task_final(t[i].state);
		done += t[i].state == TALLY__TASK_STATE__TASK_DONE;
	}
	if (open > 0 && !deadline_passed)
		goto out; /* only when the cheap check above failed */
	for (size_t i = 0; i < n && open > 0; i++) {
		if (store_task_final(t[i].state))
			continue;
		t[i].state = TALLY__TASK_STATE__TASK_TIMED_OUT;
		strlcpy(t[i].reason, "no answer before the deadline",
		    sizeof(t[i].reason));
		free(t[i].table);
		t[i].table = NULL;
		store_task_update(b->store, &t[i]);
	}
	state = done == n ? TALLY__QUERY_STATE__QUERY_COMPLETE
	    : done > 0	  ? TALLY__QUERY_STATE__QUERY_PARTIAL
			  : TALLY__QUERY_STATE__QUERY_FAILED;
	if ((query = query_unpack(q.query, q.query_len, err, sizeof(err))) ==
		NULL ||
	    build_result(b, &q, query, t, n, state, &res, &len) == -1) {
		log_warnx("query %s: cannot build its result", id);
		state = TALLY__QUERY_STATE__QUERY_FAILED;
		free(res);
		res = NULL;
		if (query == NULL ||
		    build_result(b, &q, query, t, n, state, &res, &len) == -1)
			goto out;
	}
	snprintf(
	    summary, sizeof(summary), "%zu of %zu sites answered", done, n);
	if (store_query_finish(b->store, id, state, res, len, summary) == -1)
		goto out;
	latency_hist_observe(&b->hist, wall_ms() - q.submitted_ms);
	log_info("query %s final: %s", id, summary);
	notify_waiters(b, id, res, len);
	rc = 1;
out:
	free(res);
	free(qb);
	free(ab);
	query_free(query);
	store_tasks_free(t, n);
	return rc;
}
