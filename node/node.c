/*
 * node.c — owns tally-node's main loop: the channel to the broker,
 * registration, heartbeats, handing tasks to the workers and their
 * answers back. It never runs a query itself (workers do) and never
 * answers anything but Task requests.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sqlite3.h>

#include "baseline.h"
#include "chan.h"
#include "log.h"
#include "node.h"
#include "util.h"
#include "version.h"
#include "wire.h"
#include "worker.h"

struct node {
	const struct node_config *cfg;
	struct chan *chan;
	struct workers *workers;
	struct drb_key *drb;
	size_t ndrb;
	size_t max_frame;
	int sigfd;
	int registered;
	uint64_t hello_id;
	uint64_t next_beat_ms;
	/* What Hello says about this node. */
	char snapshot[16];
	unsigned schema;
	uint64_t rows[6];
};

/* Reads what registration reports about the Baseline DB. */
static int
node_describe(struct node *n, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char v[32];

	if (sqlite3_open_v2(n->cfg->db, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		errf(err, errlen, "%s: %s", n->cfg->db,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	if (baseline_meta_get(
		db, "snapshot_date", n->snapshot, sizeof(n->snapshot)) == -1)
		strlcpy(n->snapshot, "unknown", sizeof(n->snapshot));
	n->schema = baseline_meta_get(db, "schema_version", v, sizeof(v)) == 0
	    ? (unsigned)atoi(v)
	    : 0;
	for (int i = 0; i < baseline_ntables && i < 6; i++) {
		/* max(rowid) is instant and exact for load and gen output. */
		static const char *sql[] = { "SELECT max(rowid) FROM person",
			"SELECT max(rowid) FROM visit",
			"SELECT max(rowid) FROM diagnosis",
			"SELECT max(rowid) FROM lab",
			"SELECT max(rowid) FROM drug",
			"SELECT max(rowid) FROM procedure" };
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) ==
		    SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				n->rows[i] =
				    (uint64_t)sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return 0;
}

static int
send_hello(struct node *n)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Hello h = TALLY__HELLO__INIT;
	Tally__TableRows tr[6], *trp[6];
	uint8_t *buf;
	size_t len;
	int rc;

	h.software = "tally-node " TALLY_VERSION;
	h.has_schema_version = h.has_min_cell = h.has_max_tasks = 1;
	h.schema_version = n->schema;
	h.snapshot_date = n->snapshot;
	h.min_cell = n->cfg->policy.min_cell;
	h.max_tasks = n->cfg->policy.max_tasks;
	h.consortium = (char *)n->cfg->consortium;
	for (int i = 0; i < 6; i++) {
		tally__table_rows__init(&tr[i]);
		tr[i].table = (char *)baseline_tables[i];
		tr[i].has_rows = 1;
		tr[i].rows = n->rows[i];
		trp[i] = &tr[i];
	}
	h.n_tables = 6;
	h.tables = trp;
	env.body_case = TALLY__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	if ((buf = wire_encode(&env, n->max_frame, &len)) == NULL)
		return -1;
	rc = chan_request(n->chan, 0, buf, len, &n->hello_id);
	free(buf);
	return rc;
}

static void
send_heartbeat(struct node *n)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Heartbeat hb = TALLY__HEARTBEAT__INIT;
	uint8_t *buf;
	size_t len;

	hb.has_sent_ms = hb.has_running = 1;
	hb.sent_ms = wall_ms();
	hb.running = workers_busy(n->workers);
	env.body_case = TALLY__ENVELOPE__BODY_HEARTBEAT;
	env.heartbeat = &hb;
	if ((buf = wire_encode(&env, n->max_frame, &len)) != NULL) {
		chan_send(n->chan, 0, buf, len); /* best effort */
		free(buf);
	}
}

static void
reply_error(struct node *n, uint64_t id, int code, const char *why)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Error e = TALLY__ERROR__INIT;
	uint8_t *buf;
	size_t len;

	e.has_code = 1;
	e.code = code;
	e.reason = (char *)why;
	env.body_case = TALLY__ENVELOPE__BODY_ERROR;
	env.error = &e;
	if ((buf = wire_encode(&env, n->max_frame, &len)) != NULL) {
		chan_reply(n->chan, 0, id, buf, len);
		free(buf);
	}
}

static void
on_request(struct node *n, struct chan_event *ev)
{
	struct wire_msg *m;
	char why[256];

	m = wire_decode(ev->data, ev->len, n->max_frame, 0, why, sizeof(why));
	if (m == NULL) {
		log_warnx("bad request from the broker: %s", why);
		reply_error(
		    n, ev->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST, why);
		return;
	}
	if (wire_env(m)->body_case != TALLY__ENVELOPE__BODY_TASK) {
		reply_error(n, ev->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
		    "a node answers tasks only");
		wire_free(m);
		return;
	}
	log_debug("task %s received",
	    wire_env(m)->task->task_id ? wire_env(m)->task->task_id : "?");
	switch (workers_submit(n->workers, ev->peer, ev->id, m)) {
	case WORKERS_FULL:
		wire_free(m);
		reply_error(n, ev->id, TALLY__ERROR_CODE__ERROR_BUSY,
		    "node queue full");
		break;
	case WORKERS_RUNNING:
		wire_free(m);
		reply_error(n, ev->id, TALLY__ERROR_CODE__ERROR_BUSY,
		    "task already running here");
		break;
	}
}

static void
on_reply(struct node *n, struct chan_event *ev)
{
	struct wire_msg *m;
	char why[256];

	if (ev->id != n->hello_id)
		return;
	m = wire_decode(ev->data, ev->len, n->max_frame, 0, why, sizeof(why));
	if (m == NULL ||
	    wire_env(m)->body_case != TALLY__ENVELOPE__BODY_WELCOME) {
		log_warnx("registration refused: %s",
		    m &&
			    wire_env(m)->body_case ==
				TALLY__ENVELOPE__BODY_ERROR &&
			    wire_env(m)->error->reason
			? wire_env(m)->error->reason
			: why);
		wire_free(m);
		return;
	}
	n->registered = 1;
	log_info("registered with broker %s",
	    wire_env(m)->welcome->broker ? wire_env(m)->welcome->broker : "?");
	wire_free(m);
}

static void
node_events(struct node *n)
{
	struct chan_event ev;

	while (chan_next(n->chan, &ev) == 1) {
		switch (ev.type) {
		case CHAN_EV_UP:
			log_info("connected to %s, registering", ev.name);
			n->registered = 0;
			if (send_hello(n) == -1)
				log_warnx("cannot send hello");
			break;
		case CHAN_EV_DOWN:
			log_info("lost the broker: %s", ev.reason);
			n->registered = 0;
			break;
		case CHAN_EV_REFUSED:
			log_warnx(
			    "broker refused the connection: %s", ev.reason);
			break;
		case CHAN_EV_REQUEST:
			on_request(n, &ev);
			break;
		case CHAN_EV_REPLY:
			on_reply(n, &ev);
			break;
		default:
			break;
		}
		chan_event_clear(&ev);
	}
}

static void
node_answers(struct node *n)
{
	struct worker_done d;

	while (workers_take(n->workers, &d) == 1) {
		if (d.buf == NULL) {
			log_warnx("a task produced no answer (out of memory)");
			continue;
		}
		log_info("task %s %s in %llu ms%s", d.out.task_id,
		    d.out.state == TALLY__TASK_STATE__TASK_DONE ? "done"
								: d.out.reason,
		    (unsigned long long)(d.out.engine_us / 1000),
		    d.out.cached ? " (cached)" : "");
		if (chan_reply(n->chan, d.peer, d.req_id, d.buf, d.len) == -1)
			log_warn("reply");
		free(d.buf);
	}
}

static int
node_loop(struct node *n)
{
	zmq_pollitem_t items[CHAN_POLLITEMS + 2];
	struct signalfd_siginfo si;
	int ni;
	long timeout;

	for (;;) {
		ni = chan_pollitems(n->chan, items, CHAN_POLLITEMS);
		items[ni++] = (zmq_pollitem_t){ NULL, workers_fd(n->workers),
			ZMQ_POLLIN, 0 };
		items[ni++] = (zmq_pollitem_t){ NULL, n->sigfd, ZMQ_POLLIN, 0 };
		timeout = chan_timeout(n->chan);
		if (timeout < 0 || timeout > 200)
			timeout = 200;
		if (zmq_poll(items, ni, timeout) == -1 && errno != EINTR) {
			log_warnx("poll: %s", zmq_strerror(errno));
			return 1;
		}
		if (items[ni - 1].revents & ZMQ_POLLIN &&
		    read(n->sigfd, &si, sizeof(si)) == sizeof(si)) {
			log_info("signal %u: stopping", si.ssi_signo);
			return 0;
		}
		chan_process(n->chan);
		node_events(n);
		node_answers(n);
		if (n->registered && clock_ms() >= n->next_beat_ms) {
			send_heartbeat(n);
			n->next_beat_ms = clock_ms() + n->cfg->heartbeat_ms;
		}
	}
}

static int
node_setup(struct node *n, char *err, size_t errlen)
{
	struct chan_config cc;
	sigset_t set;

	/* Before the workers start: threads inherit the mask, and a thread
	 * that does not block SIGTERM would die of it instead of the
	 * signalfd seeing it. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (approval_keys_load(n->cfg->tls.ca, n->cfg->tls.crl,
		(const char(*)[PATH_MAX])n->cfg->tls.drb, n->cfg->tls.ndrb,
		&n->drb, &n->ndrb, err, errlen) == -1 ||
	    node_describe(n, err, errlen) == -1)
		return -1;
	chan_config_default(&cc);
	cc.ca = n->cfg->tls.ca;
	cc.crl = n->cfg->tls.crl;
	cc.cert = n->cfg->tls.cert;
	cc.key = n->cfg->tls.key;
	cc.heartbeat_ms = (int)n->cfg->heartbeat_ms;
	cc.heartbeat_timeout_ms = (int)n->cfg->heartbeat_timeout_ms;
	n->max_frame = (size_t)cc.max_message;
	if ((n->workers = workers_new(
		 n->cfg, n->drb, n->ndrb, n->max_frame, err, errlen)) == NULL)
		return -1;
	if ((n->chan = chan_client_new(
		 NULL, n->cfg->broker, &cc, err, errlen)) == NULL)
		return -1;
	if (strcmp(chan_self(n->chan)->name, n->cfg->site) != 0)
		return errf(err, errlen,
		    "the certificate is for '%s' but site is '%s'",
		    chan_self(n->chan)->name, n->cfg->site);
	if ((n->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return errf(err, errlen, "signalfd: %s", strerror(errno));
	return 0;
}

int
node_run(const struct node_config *cfg)
{
	struct node n;
	char err[1024] = "";
	int rc = 1;

	memset(&n, 0, sizeof(n));
	n.cfg = cfg;
	n.sigfd = -1;
	if (node_setup(&n, err, sizeof(err)) == -1)
		log_warnx("%s", err);
	else {
		log_info("tally-node %s for %s (consortium %s) starting, "
			 "broker %s",
		    TALLY_VERSION, cfg->site, cfg->consortium, cfg->broker);
		rc = node_loop(&n);
	}
	chan_free(n.chan);
	workers_free(n.workers);
	approval_keys_free(n.drb, n.ndrb);
	if (n.sigfd != -1)
		close(n.sigfd);
	return rc;
}
