/*
 * dispatch.c — owns the life of a query at the broker after it was
 * accepted: one Task per site sent when the site's node is registered,
 * each answer recorded, the pooled result built and stored when every
 * site has answered or the deadline has passed, waiting researchers told.
 * It never alters what a node released except through pool.c's rules,
 * and never releases a result it has not stored first.
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

/* Progress notes to waiting researchers: at most one per query this
 * often (the final result goes out at once). */
#define DISPATCH_PROGRESS_MS 100

static struct inflight *
inflight_find_task(struct broker *b, const char *task_id)
{
	for (size_t i = 0; i < b->ninflight; i++)
		if (strcmp(b->inflight[i].task_id, task_id) == 0)
			return &b->inflight[i];
	return NULL;
}

static void
inflight_remove(struct broker *b, struct inflight *f)
{
	*f = b->inflight[--b->ninflight];
}

static struct running *
running_find(struct broker *b, const char *id)
{
	for (size_t i = 0; i < b->nrunning; i++)
		if (strcmp(b->running[i].id, id) == 0)
			return &b->running[i];
	return NULL;
}

static int
running_add(struct broker *b, const struct store_query *q)
{
	const char *id = q->id;
	struct running *r;

	if (running_find(b, id) != NULL)
		return 0;
	if (array_grow((void **)&b->running, &b->caprunning, b->nrunning,
		sizeof(*b->running)) == -1)
		return -1;
	r = &b->running[b->nrunning++];
	strlcpy(r->id, id, sizeof(r->id));
	r->submitted_ms = q->submitted_ms;
	r->deadline_ms = q->deadline_ms;
	r->min_cell = q->min_cell;
	r->touched = 0;
	r->progress_ms = 0;
	return 0;
}

/* The k a query's sites must apply (the approval's). */
static unsigned
running_k(struct broker *b, const char *id)
{
	struct running *r = running_find(b, id);

	return r != NULL ? r->min_cell : 0;
}

static void
running_remove(struct broker *b, const char *id)
{
	struct running *r = running_find(b, id);

	if (r != NULL)
		*r = b->running[--b->nrunning];
}

/* Sends one task to its site's node; sa is q's approval, unpacked. */
static int
send_task(struct broker *b, struct slot *s, const struct store_task *t,
    const struct store_query *q, Tally__SignedApproval *sa)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Task task = TALLY__TASK__INIT;
	struct inflight *f;
	uint8_t *buf;
	size_t len;
	uint64_t id;
	int rc = -1;

	task.task_id = (char *)t->id;
	task.query_id = (char *)q->id;
	task.has_query = task.has_deadline_ms = 1;
	task.query.data = (uint8_t *)q->query;
	task.query.len = q->query_len;
	task.approval = sa;
	task.researcher = (char *)q->researcher;
	task.deadline_ms = q->deadline_ms;
	env.body_case = TALLY__ENVELOPE__BODY_TASK;
	env.task = &task;
	if ((buf = wire_encode(&env, b->max_frame, &len)) != NULL &&
	    array_grow((void **)&b->inflight, &b->capinflight, b->ninflight,
		sizeof(*b->inflight)) == 0 &&
	    chan_request(b->chan, s->peer, buf, len, &id) == 0) {
		f = &b->inflight[b->ninflight++];
		f->peer = s->peer;
		f->req_id = id;
		f->slot = (size_t)(s - b->slots);
		strlcpy(f->task_id, t->id, sizeof(f->task_id));
		strlcpy(f->query_id, q->id, sizeof(f->query_id));
		f->sent_us = clock_us();
		rc = 0;
	} else
		log_warnx("task %s: cannot send to %s", t->id, s->site->id);
	free(buf);
	return rc;
}

/* A stored query with its approval unpacked, loaded once for all the
 * tasks about to go out. */
struct loaded {
	struct store_query q;
	uint8_t *qb, *ab;
	Tally__SignedApproval *sa;
};

static int
loaded_get(struct broker *b, const char *id, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	if (store_query_get(b->store, id, &l->q, &l->qb, &l->ab) == -1)
		return -1;
	if ((l->sa = tally__signed_approval__unpack(
		 NULL, l->q.approval_len, l->q.approval)) == NULL) {
		log_warnx("query %s: stored approval unreadable", id);
		free(l->qb);
		free(l->ab);
		return -1;
	}
	return 0;
}

static void
loaded_free(struct loaded *l)
{
	if (l->sa != NULL)
		tally__signed_approval__free_unpacked(l->sa, NULL);
	free(l->qb);
	free(l->ab);
	memset(l, 0, sizeof(*l));
}

/* Sends s's pending tasks (of every query). */
static void
dispatch_pending(struct broker *b, struct slot *s)
{
	struct store_task *tasks;
	struct loaded l;
	int have = 0;
	size_t n;

	if (!s->registered ||
	    store_tasks(b->store, NULL, s->site->id, &tasks, &n) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		if (inflight_find_task(b, tasks[i].id) != NULL)
			continue; /* the channel re-sends it itself */
		if (!have || strcmp(l.q.id, tasks[i].query_id) != 0) {
			if (have)
				loaded_free(&l);
			if (!(have = loaded_get(b, tasks[i].query_id, &l) == 0))
				continue;
		}
		send_task(b, s, &tasks[i], &l.q, l.sa);
	}
	if (have)
		loaded_free(&l);
	store_tasks_free(tasks, n);
}

void
dispatch_site(struct broker *b, struct slot *s)
{
	dispatch_pending(b, s);
}

int
dispatch_query(struct broker *b, const char *query_id)
{
	struct store_task *tasks;
	struct loaded l;
	struct slot *s;
	size_t n;

	/* One read of the query and its tasks for all its sites. */
	if (loaded_get(b, query_id, &l) == -1)
		return -1;
	running_add(b, &l.q);
	if (store_tasks(b->store, query_id, NULL, &tasks, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!store_task_final(tasks[i].state) &&
			    (s = nodes_by_name(b, tasks[i].site)) != NULL &&
			    s->registered &&
			    inflight_find_task(b, tasks[i].id) == NULL)
				send_task(b, s, &tasks[i], &l.q, l.sa);
		store_tasks_free(tasks, n);
	}
	loaded_free(&l);
	return 0;
}

int
dispatch_resume(struct broker *b)
{
	char(*ids)[STORE_ID_MAX];
	size_t n;

	if (store_queries_running(b->store, &ids, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_query q;
		uint8_t *qb, *ab;

		if (store_query_get(b->store, ids[i], &q, &qb, &ab) == 0) {
			running_add(b, &q);
			free(qb);
			free(ab);
		}
		/* Every site answered before a crash: final now, not at
		 * the deadline. */
		if (finish_check(b, ids[i], 0))
			running_remove(b, ids[i]);
	}
	if (n > 0)
		log_info(
		    "resuming %zu unfinished quer%s", n, n == 1 ? "y" : "ies");
	free(ids);
	return 0;
}

/* Records a node's TaskResult for the task of in-flight entry f. */
static void
answer_record(struct broker *b, struct inflight *f, const Tally__TaskResult *tr,
    const uint8_t *packed, size_t plen)
{
	struct slot *s = &b->slots[f->slot];
	struct store_task t;
	struct table *tab;
	char err[256];

	memset(&t, 0, sizeof(t));
	strlcpy(t.id, f->task_id, sizeof(t.id));
	strlcpy(t.site, s->site->id, sizeof(t.site));
	t.state = tr->has_state ? tr->state : TALLY__TASK_STATE__TASK_FAILED;
	if (t.state == TALLY__TASK_STATE__TASK_DONE) {
		/* A table that would not pool is a failure, never a guess. */
		if (tr->table == NULL ||
		    (tab = table_from_proto(tr->table, err, sizeof(err))) ==
			NULL) {
			t.state = TALLY__TASK_STATE__TASK_FAILED;
			snprintf(t.reason, sizeof(t.reason),
			    "invalid table from the node: %.200s",
			    tr->table ? err : "none");
		} else if (tab->min_cell < running_k(b, f->query_id)) {
			/* Its own column would show cells the approval's k
			 * forbids: not released, not pooled. */
			t.state = TALLY__TASK_STATE__TASK_FAILED;
			snprintf(t.reason, sizeof(t.reason),
			    "the node released at k %u, below the approval's "
			    "%u",
			    tab->min_cell, running_k(b, f->query_id));
			table_free(tab);
		} else {
			table_free(tab);
			t.table = (uint8_t *)packed;
			t.table_len = plen;
		}
	} else if (t.state != TALLY__TASK_STATE__TASK_REFUSED &&
	    t.state != TALLY__TASK_STATE__TASK_FAILED)
		t.state = TALLY__TASK_STATE__TASK_FAILED;
	/* The node's words go to the audit, the log and operators. */
	if (t.state != TALLY__TASK_STATE__TASK_DONE && t.reason[0] == '\0')
		str_printable(t.reason, sizeof(t.reason),
		    tr->reason ? tr->reason : "no reason given");
	t.engine_us = tr->engine_us;
	t.cached = tr->cached;
	if (store_task_update(b->store, &t) != 1)
		return; /* already final: a duplicate changes nothing */
	if (t.state == TALLY__TASK_STATE__TASK_DONE) {
		s->served++;
		latency_add(&s->lat, clock_us() - f->sent_us);
	} else if (t.state == TALLY__TASK_STATE__TASK_REFUSED) {
		s->refused++;
		status_reason_count(b->refusals, &b->nrefusals, t.reason);
	} else
		s->failed++;
}

void
dispatch_answer(struct broker *b, uint64_t peer, uint64_t req_id,
    const uint8_t *data, size_t len)
{
	struct inflight *f = NULL, copy;
	struct running *r;
	const Tally__Envelope *env;
	struct wire_msg *m;
	uint8_t *packed;
	size_t plen;
	char why[256];

	for (size_t i = 0; i < b->ninflight && f == NULL; i++)
		if (b->inflight[i].peer == peer &&
		    b->inflight[i].req_id == req_id)
			f = &b->inflight[i];
	if (f == NULL)
		return;
	copy = *f;
	inflight_remove(b, f);
	if ((m = wire_decode(data, len, b->max_frame, 0, why, sizeof(why))) ==
	    NULL) {
		log_warnx("bad answer from %s: %s",
		    b->slots[copy.slot].site->id, why);
		return; /* the task stays pending and goes out again */
	}
	env = wire_env(m);
	if (env->body_case == TALLY__ENVELOPE__BODY_ERROR) {
		str_printable(why, sizeof(why), env->error->reason);
		log_info("%s deferred task %s: %s",
		    b->slots[copy.slot].site->id, copy.task_id, why);
	} else if (env->body_case == TALLY__ENVELOPE__BODY_TASK_RESULT &&
	    env->task_result->task_id != NULL &&
	    strcmp(env->task_result->task_id, copy.task_id) == 0) {
		plen = tally__task_result__get_packed_size(env->task_result);
		if ((packed = malloc(plen)) != NULL) {
			/* Joins this pass's batch; dispatch_flush commits it
			 * before the query is looked at again. */
			store_batch_begin(b->store);
			tally__task_result__pack(env->task_result, packed);
			answer_record(b, &copy, env->task_result, packed, plen);
			free(packed);
		}
		if ((r = running_find(b, copy.query_id)) != NULL)
			r->touched = 1;
		else {
			dispatch_flush(b);
			if (finish_check(b, copy.query_id, 0))
				running_remove(b, copy.query_id);
		}
	} else
		log_warnx("%s answered task %s with something else",
		    b->slots[copy.slot].site->id, copy.task_id);
	wire_free(m);
}

void
dispatch_flush(struct broker *b)
{
	if (store_batch_commit(b->store) == -1)
		log_warnx("a batch of answers was not stored: asked again");
	/* Only now, with the answers stored, may results and progress
	 * notes that count them go out. */
	for (size_t i = 0; i < b->nrunning;) {
		if (b->running[i].touched) {
			char id[STORE_ID_MAX];

			uint64_t now = clock_ms();
			int due = now >=
			    b->running[i].progress_ms + DISPATCH_PROGRESS_MS;

			b->running[i].touched = 0;
			strlcpy(id, b->running[i].id, sizeof(id));
			if (finish_answered(b, id, due)) {
				running_remove(b, id);
				continue; /* another entry moved to i */
			}
			if (due)
				b->running[i].progress_ms = now;
		}
		i++;
	}
}

void
dispatch_forget(struct broker *b, uint64_t peer)
{
	for (size_t i = 0; i < b->ninflight;) {
		if (b->inflight[i].peer == peer) {
			chan_cancel(b->chan, peer, b->inflight[i].req_id);
			inflight_remove(b, &b->inflight[i]);
		} else
			i++;
	}
}

static void
reply_running(struct broker *b, uint64_t peer, uint64_t req_id, const char *id)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Result r = TALLY__RESULT__INIT;
	Tally__SiteOutcome *o = NULL, **op = NULL;
	struct store_task *t;
	size_t n;

	if (store_tasks(b->store, id, NULL, &t, &n) == -1)
		return;
	o = calloc(n ? n : 1, sizeof(*o));
	op = calloc(n ? n : 1, sizeof(*op));
	if (o != NULL && op != NULL) {
		for (size_t i = 0; i < n; i++) {
			tally__site_outcome__init(&o[i]);
			o[i].site = t[i].site;
			o[i].has_state = 1;
			o[i].state = t[i].state;
			op[i] = &o[i];
		}
		r.query_id = (char *)id;
		r.has_state = 1;
		r.state = TALLY__QUERY_STATE__QUERY_RUNNING;
		r.n_sites = n;
		r.sites = op;
		env.body_case = TALLY__ENVELOPE__BODY_RESULT;
		env.result = &r;
		reply_send(b, peer, req_id, &env);
	}
	free(o);
	free(op);
	store_tasks_free(t, n);
}

void
dispatch_result_request(struct broker *b, uint64_t peer, uint64_t req_id,
    const char *who, const Tally__ResultRequest *rq)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	struct store_query q;
	struct waiter *w;
	uint8_t *qb, *ab, *res;
	size_t len;
	int state;

	if (rq->query_id == NULL || strlen(rq->query_id) >= STORE_ID_MAX ||
	    store_query_get(b->store, rq->query_id, &q, &qb, &ab) == -1) {
		reply_error(b, peer, req_id, TALLY__ERROR_CODE__ERROR_NOT_FOUND,
		    "no such query");
		return;
	}
	free(qb);
	free(ab);
	/* Another researcher's query does not exist, as far as you know. */
	if (strcmp(q.researcher, who) != 0) {
		reply_error(b, peer, req_id, TALLY__ERROR_CODE__ERROR_NOT_FOUND,
		    "no such query");
		return;
	}
	if (q.state != TALLY__QUERY_STATE__QUERY_RUNNING &&
	    store_result_get(b->store, q.id, &res, &len, &state) == 0) {
		env.body_case = TALLY__ENVELOPE__BODY_RESULT;
		if ((env.result = tally__result__unpack(NULL, len, res)) !=
		    NULL) {
			reply_send(b, peer, req_id, &env);
			tally__result__free_unpacked(env.result, NULL);
		}
		free(res);
		return;
	}
	if (!rq->wait) {
		reply_running(b, peer, req_id, q.id);
		return;
	}
	if (array_grow((void **)&b->waiters, &b->capwaiters, b->nwaiters,
		sizeof(*b->waiters)) == -1) {
		reply_error(b, peer, req_id, TALLY__ERROR_CODE__ERROR_BUSY,
		    "out of memory");
		return;
	}
	w = &b->waiters[b->nwaiters++];
	w->peer = peer;
	w->req_id = req_id;
	strlcpy(w->query_id, q.id, sizeof(w->query_id));
	/* Sends a first progress note, or the result if it is final. */
	if (finish_check(b, q.id, 0))
		running_remove(b, q.id);
}

void
dispatch_tick(struct broker *b)
{
	uint64_t now = wall_ms();

	for (size_t i = 0; i < b->nrunning;) {
		if (now >= b->running[i].deadline_ms &&
		    finish_check(b, b->running[i].id, 1)) {
			char id[STORE_ID_MAX];

			strlcpy(id, b->running[i].id, sizeof(id));
			/* Whatever is still in flight for it is moot. */
			for (size_t k = 0; k < b->ninflight;) {
				if (strcmp(b->inflight[k].query_id, id) == 0) {
					chan_cancel(b->chan,
					    b->inflight[k].peer,
					    b->inflight[k].req_id);
					inflight_remove(b, &b->inflight[k]);
				} else
					k++;
			}
			running_remove(b, id);
		} else
			i++;
	}
	for (size_t i = 0; i < b->net->nsites; i++)
		if (b->slots[i].registered)
			dispatch_pending(b, &b->slots[i]);
}
