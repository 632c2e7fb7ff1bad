/*
 * worker.c — owns the node's worker threads and the two queues between
 * them and the main loop. Workers never touch the channel (ZeroMQ sockets
 * are not thread-safe); the main loop never touches an engine.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "worker.h"

struct job {
	uint64_t peer, req_id;
	struct wire_msg *msg;
};

/* Most tasks a worker takes at once, their answers stored in one commit
 * (only when more are queued than there are idle workers). */
#define WORKER_BATCH 8
/* ... and an answer waits at most this long for the others' engines. */
#define WORKER_BATCH_US 2000

struct worker {
	pthread_t tid;
	struct workers *ws;
	struct task_env env;
	struct wire_msg *cur[WORKER_BATCH]; /* the tasks it runs, ws->mu */
	size_t ncur;
	int started;
};

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	struct job queue[WORKERS_MAX_QUEUE];
	size_t qhead, qlen;
	struct worker_done *done;
	size_t ndone, donecap;
	unsigned running; /* tasks taken by workers */
	unsigned busy;	  /* workers with tasks */
	int pipefd[2];
	size_t max_frame;
	unsigned n;
	struct worker *w;
	struct nstate_group *group; /* the workers' state writes */
};

/* Hands a finished task's answer to the main loop. */
static void
job_done(struct workers *ws, struct worker_done *d)
{
	pthread_mutex_lock(&ws->mu);
	if (array_grow((void **)&ws->done, &ws->donecap, ws->ndone,
		sizeof(*ws->done)) == -1) {
		pthread_mutex_unlock(&ws->mu);
		log_warnx("worker: out of memory, answer dropped "
			  "(the broker will re-send)");
		free(d->buf);
		return;
	}
	ws->done[ws->ndone++] = *d;
	pthread_mutex_unlock(&ws->mu);
}

/* Stores the pending answers of jobs pend[0..np) in one commit and hands
 * them over. */
static void
jobs_commit(struct workers *ws, struct worker *w, struct worker_done *d,
    struct task_pending *p, const size_t *pend, size_t np)
{
	struct nstate_answer ans[WORKER_BATCH];

	for (size_t k = 0; k < np; k++)
		ans[k] = p[pend[k]].ans;
	nstate_finish_many(w->env.state, ans, np);
	for (size_t k = 0; k < np; k++) {
		size_t i = pend[k];

		p[i].ans = ans[k];
		d[i].buf = task_end(
		    &w->env, &p[i], ws->max_frame, &d[i].len, &d[i].out);
		job_done(ws, &d[i]);
	}
	if (np > 0)
		while (write(ws->pipefd[1], "x", 1) == -1 && errno == EINTR)
			;
}

/* Runs jobs j[0..n) in turn, each checked and computed; the computed
 * answers are stored together (one commit) and handed over, at the end
 * or before a next run that, taking as long as the last one, would make
 * the first of them wait more than WORKER_BATCH_US. */
static void
jobs_run(struct workers *ws, struct job *j, size_t n, struct worker *w)
{
	struct worker_done d[WORKER_BATCH];
	struct task_pending p[WORKER_BATCH];
	size_t pend[WORKER_BATCH], np = 0;
	uint64_t first = 0, t0, took;

	for (size_t i = 0; i < n; i++) {
		t0 = clock_us();
		memset(&d[i], 0, sizeof(d[i]));
		d[i].peer = j[i].peer;
		d[i].req_id = j[i].req_id;
		if (task_start(&w->env, wire_env(j[i].msg)->task, ws->max_frame,
			&p[i], &d[i].buf, &d[i].len, &d[i].out) == 0) {
			if (np == 0)
				first = clock_us();
			pend[np++] = i;
		} else
			job_done(ws, &d[i]);
		took = clock_us() - t0;
		if (np > 0 &&
		    (i + 1 == n ||
			clock_us() - first + took >= WORKER_BATCH_US)) {
			jobs_commit(ws, w, d, p, pend, np);
			np = 0;
		}
	}
	pthread_mutex_lock(&ws->mu);
	w->ncur = 0;
	ws->running -= (unsigned)n;
	ws->busy--;
	pthread_mutex_unlock(&ws->mu);
	for (size_t i = 0; i < n; i++)
		wire_free(j[i].msg);
	while (write(ws->pipefd[1], "x", 1) == -1 && errno == EINTR)
		;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct workers *ws = w->ws;
	struct job j[WORKER_BATCH];
	size_t n, idle;

	for (;;) {
		pthread_mutex_lock(&ws->mu);
		while (!ws->stop && ws->qlen == 0)
			pthread_cond_wait(&ws->cv, &ws->mu);
		if (ws->stop) {
			pthread_mutex_unlock(&ws->mu);
			return NULL;
		}
		/* One task each while there are idle workers for them (they
		 * run in parallel); beyond that, the queue is shared out and
		 * each share stored in one commit. */
		idle = ws->n > ws->busy ? ws->n - ws->busy : 1;
		n = (ws->qlen + idle - 1) / idle;
		if (n > WORKER_BATCH)
			n = WORKER_BATCH;
		for (size_t i = 0; i < n; i++) {
			j[i] = ws->queue[ws->qhead];
			ws->qhead = (ws->qhead + 1) % WORKERS_MAX_QUEUE;
			ws->qlen--;
			w->cur[i] = j[i].msg;
		}
		w->ncur = n;
		ws->running += (unsigned)n;
		ws->busy++;
		pthread_mutex_unlock(&ws->mu);
		jobs_run(ws, j, n, w);
	}
}

static int
worker_open(struct worker *w, const struct node_config *cfg,
    const struct drb_key *drb, size_t ndrb, struct nstate_group *g, char *err,
    size_t errlen)
{
	struct engine_limits lim = { 0 };

	lim.timeout_ms = (uint64_t)cfg->policy.deadline_s * 1000;
	lim.codes_bytes = cfg->policy.cache_mb == 0
	    ? ENGINE_CODES_OFF
	    : (size_t)cfg->policy.cache_mb << 20;
	w->env.cfg = cfg;
	w->env.drb = drb;
	w->env.ndrb = ndrb;
	if ((w->env.engine = engine_open(cfg->db, &lim, err, errlen)) == NULL)
		return -1;
	if ((w->env.state = nstate_open(cfg->state, err, errlen)) == NULL)
		return -1;
	nstate_join(w->env.state, g);
	return 0;
}

struct workers *
workers_new(const struct node_config *cfg, const struct drb_key *drb,
    size_t ndrb, size_t max_frame, char *err, size_t errlen)
{
	struct workers *ws;

	if ((ws = calloc(1, sizeof(*ws))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ws->mu, NULL);
	pthread_cond_init(&ws->cv, NULL);
	ws->pipefd[0] = ws->pipefd[1] = -1;
	ws->max_frame = max_frame;
	ws->n = cfg->policy.max_tasks;
	if (pipe2(ws->pipefd, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (ws->group = nstate_group_new()) == NULL ||
	    (ws->w = calloc(ws->n ? ws->n : 1, sizeof(*ws->w))) == NULL) {
		errf(err, errlen, "cannot set up workers");
		workers_free(ws);
		return NULL;
	}
	for (unsigned i = 0; i < ws->n; i++) {
		ws->w[i].ws = ws;
		if (worker_open(&ws->w[i], cfg, drb, ndrb, ws->group, err,
			errlen) == -1 ||
		    pthread_create(
			&ws->w[i].tid, NULL, worker_main, &ws->w[i]) != 0) {
			if (err[0] == '\0')
				errf(err, errlen, "cannot start a worker");
			workers_free(ws);
			return NULL;
		}
		ws->w[i].started = 1;
	}
	return ws;
}

int
workers_fd(const struct workers *ws)
{
	return ws->pipefd[0];
}

static const char *
msg_task_id(const struct wire_msg *m)
{
	const char *id = wire_env(m)->task->task_id;

	return id != NULL ? id : "";
}

/* Whether task id is queued or running; under ws->mu. */
static int
task_pending(struct workers *ws, const char *id)
{
	for (size_t i = 0; i < ws->qlen; i++) {
		size_t k = (ws->qhead + i) % WORKERS_MAX_QUEUE;

		if (strcmp(msg_task_id(ws->queue[k].msg), id) == 0)
			return 1;
	}
	for (unsigned i = 0; i < ws->n; i++)
		for (size_t k = 0; k < ws->w[i].ncur; k++)
			if (strcmp(msg_task_id(ws->w[i].cur[k]), id) == 0)
				return 1;
	return 0;
}

int
workers_submit(
    struct workers *ws, uint64_t peer, uint64_t req_id, struct wire_msg *m)
{
	pthread_mutex_lock(&ws->mu);
	if (ws->qlen == WORKERS_MAX_QUEUE) {
		pthread_mutex_unlock(&ws->mu);
		return WORKERS_FULL;
	}
	/* A re-send while the first copy runs (from a session that
	 * replaced the one it came on): one run is enough, and its answer
	 * is cached for the re-send that follows. */
	if (*msg_task_id(m) != '\0' && task_pending(ws, msg_task_id(m))) {
		pthread_mutex_unlock(&ws->mu);
		return WORKERS_RUNNING;
	}
	ws->queue[(ws->qhead + ws->qlen) % WORKERS_MAX_QUEUE] =
	    (struct job){ peer, req_id, m };
	ws->qlen++;
	pthread_cond_signal(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
	return 0;
}

int
workers_take(struct workers *ws, struct worker_done *d)
{
	char buf[64];
	int got = 0;

	while (read(ws->pipefd[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&ws->mu);
	if (ws->ndone > 0) {
		*d = ws->done[0];
		memmove(ws->done, ws->done + 1,
		    (ws->ndone - 1) * sizeof(*ws->done));
		ws->ndone--;
		got = 1;
	}
	pthread_mutex_unlock(&ws->mu);
	return got;
}

unsigned
workers_busy(struct workers *ws)
{
	unsigned n;

	pthread_mutex_lock(&ws->mu);
	n = (unsigned)ws->qlen + ws->running;
	pthread_mutex_unlock(&ws->mu);
	return n;
}

void
workers_free(struct workers *ws)
{
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->mu);
	ws->stop = 1;
	pthread_cond_broadcast(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
	for (unsigned i = 0; ws->w != NULL && i < ws->n; i++) {
		if (ws->w[i].started)
			pthread_join(ws->w[i].tid, NULL);
		engine_close(ws->w[i].env.engine);
		nstate_close(ws->w[i].env.state);
	}
	for (size_t i = 0; i < ws->qlen; i++)
		wire_free(ws->queue[(ws->qhead + i) % WORKERS_MAX_QUEUE].msg);
	for (size_t i = 0; i < ws->ndone; i++)
		free(ws->done[i].buf);
	free(ws->done);
	free(ws->w);
	nstate_group_free(ws->group);
	if (ws->pipefd[0] != -1)
		close(ws->pipefd[0]);
	if (ws->pipefd[1] != -1)
		close(ws->pipefd[1]);
	pthread_mutex_destroy(&ws->mu);
	pthread_cond_destroy(&ws->cv);
	free(ws);
}
