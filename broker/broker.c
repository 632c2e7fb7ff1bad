/*
 * broker.c — owns tally-broker's main loop: start-up (state, keys,
 * channel, HTTP), routing each channel event by the sender's verified role,
 * timers, shutdown. A role may only send what it is for: nodes Hello,
 * heartbeats and task answers; researchers submissions and result
 * requests; operators status requests. Everything else is refused.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "broker.h"
#include "chan.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "version.h"
#include "wire.h"

static void
on_submit(struct broker *b, struct chan_event *ev, const Tally__Submit *s)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__SubmitAck ack = TALLY__SUBMIT_ACK__INIT;
	struct submit_ack a;
	char err[512];

	if (submit_handle(b, ev->name, s, &a, err, sizeof(err)) == -1) {
		status_reason_count(b->refusals, &b->nrefusals, err);
		reply_error(b, ev->peer, ev->id,
		    TALLY__ERROR_CODE__ERROR_APPROVAL, err);
		return;
	}
	ack.query_id = a.query_id;
	ack.has_sites = 1;
	ack.sites = a.sites;
	env.body_case = TALLY__ENVELOPE__BODY_SUBMIT_ACK;
	env.submit_ack = &ack;
	reply_send(b, ev->peer, ev->id, &env);
	dispatch_query(b, a.query_id);
}

static void
on_status(struct broker *b, struct chan_event *ev)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	struct status_snapshot st;

	if (nodes_snapshot(b, &st) == -1 ||
	    (env.status = status_to_proto(&st)) == NULL) {
		status_free(&st);
		reply_error(b, ev->peer, ev->id,
		    TALLY__ERROR_CODE__ERROR_INTERNAL, "out of memory");
		return;
	}
	env.body_case = TALLY__ENVELOPE__BODY_STATUS;
	reply_send(b, ev->peer, ev->id, &env);
	status_proto_free(env.status);
	status_free(&st);
}

/* A request, routed by the sender's certificate role. */
static void
on_request(struct broker *b, struct chan_event *ev)
{
	const Tally__Envelope *env;
	struct wire_msg *m;
	struct slot *s;
	char why[256];
	int body;

	if ((m = wire_decode(ev->data, ev->len, b->max_frame, 0, why,
		 sizeof(why))) == NULL) {
		reply_error(b, ev->peer, ev->id,
		    TALLY__ERROR_CODE__ERROR_BAD_REQUEST, why);
		return;
	}
	env = wire_env(m);
	body = env->body_case;
	if (ev->role == TLS_ROLE_NODE && body == TALLY__ENVELOPE__BODY_HELLO &&
	    (s = nodes_by_peer(b, ev->peer)) != NULL) {
		nodes_hello(b, s, ev->id, env->hello);
		dispatch_site(b, s);
	} else if (ev->role == TLS_ROLE_RESEARCHER &&
	    body == TALLY__ENVELOPE__BODY_SUBMIT)
		on_submit(b, ev, env->submit);
	else if (ev->role == TLS_ROLE_RESEARCHER &&
	    body == TALLY__ENVELOPE__BODY_RESULT_REQUEST)
		dispatch_result_request(
		    b, ev->peer, ev->id, ev->name, env->result_request);
	else if (ev->role == TLS_ROLE_OPERATOR &&
	    body == TALLY__ENVELOPE__BODY_STATUS_REQUEST)
		on_status(b, ev);
	else {
		snprintf(why, sizeof(why), "role %s may not send %s",
		    tls_role_name(ev->role), wire_body_name(env));
		log_warnx("%s %s: %s", tls_role_name(ev->role), ev->name, why);
		reply_error(b, ev->peer, ev->id,
		    TALLY__ERROR_CODE__ERROR_FORBIDDEN, why);
	}
	wire_free(m);
}

static void
on_up(struct broker *b, struct chan_event *ev)
{
	struct slot *s;

	if (ev->role != TLS_ROLE_NODE)
		return;
	if ((s = nodes_by_name(b, ev->name)) == NULL) {
		log_warnx("node %s is not in the network file", ev->name);
		chan_drop(b->chan, ev->peer, "not a hospital of this network");
		return;
	}
	if (s->peer != 0 && s->peer != ev->peer) {
		/* A restarted node: what the old one had is re-sent. */
		dispatch_forget(b, s->peer);
		chan_drop(b->chan, s->peer, "superseded by a new session");
	}
	s->peer = ev->peer;
	s->registered = 0;
	s->last_seen_ms = wall_ms();
}

static void
on_gone(struct broker *b, struct chan_event *ev)
{
	struct slot *s = nodes_by_peer(b, ev->peer);

	dispatch_forget(b, ev->peer);
	if (s != NULL) {
		s->peer = 0;
		s->registered = 0;
	}
	for (size_t i = 0; i < b->nwaiters;)
		if (b->waiters[i].peer == ev->peer)
			b->waiters[i] = b->waiters[--b->nwaiters];
		else
			i++;
}

static void
broker_events(struct broker *b)
{
	struct chan_event ev;
	struct slot *s;

	while (chan_next(b->chan, &ev) == 1) {
		/* Answers are stored in one transaction per pass; anything
		 * else sees them committed. */
		if (ev.type != CHAN_EV_REPLY)
			dispatch_flush(b);
		if ((s = nodes_by_peer(b, ev.peer)) != NULL)
			s->last_seen_ms = wall_ms();
		switch (ev.type) {
		case CHAN_EV_UP:
			on_up(b, &ev);
			break;
		case CHAN_EV_DOWN:
			if (ev.role == TLS_ROLE_NODE)
				nodes_down(b, ev.peer);
			break;
		case CHAN_EV_GONE:
			on_gone(b, &ev);
			break;
		case CHAN_EV_REQUEST:
			on_request(b, &ev);
			break;
		case CHAN_EV_REPLY:
			if (ev.role == TLS_ROLE_NODE)
				dispatch_answer(
				    b, ev.peer, ev.id, ev.data, ev.len);
			break;
		default:
			break; /* heartbeats: last_seen is all they do */
		}
		chan_event_clear(&ev);
	}
	dispatch_flush(b);
}

static void
publish(struct broker *b)
{
	struct status_snapshot st;
	struct chan_stats cs;

	chan_stats(b->chan, &cs);
	if (cs.refused > 0) {
		b->ntls_failures = 1;
		strlcpy(b->tls_failures[0].reason, "handshake refused",
		    sizeof(b->tls_failures[0].reason));
		b->tls_failures[0].count = cs.refused;
	}
	if (b->http == NULL || nodes_snapshot(b, &st) == -1)
		return;
	http_publish(b->http, &st);
	status_free(&st);
}

static int
broker_loop(struct broker *b, int sigfd)
{
	zmq_pollitem_t items[CHAN_POLLITEMS + 1];
	struct signalfd_siginfo si;
	uint64_t next_tick = 0;
	long timeout;
	int ni;

	for (;;) {
		ni = chan_pollitems(b->chan, items, CHAN_POLLITEMS);
		items[ni++] = (zmq_pollitem_t){ NULL, sigfd, ZMQ_POLLIN, 0 };
		timeout = chan_timeout(b->chan);
		if (timeout < 0 || timeout > 100)
			timeout = 100;
		if (zmq_poll(items, ni, timeout) == -1 && errno != EINTR) {
			log_warnx("poll: %s", zmq_strerror(errno));
			return 1;
		}
		if (items[ni - 1].revents & ZMQ_POLLIN &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			log_info("signal %u: stopping", si.ssi_signo);
			return 0;
		}
		chan_process(b->chan);
		broker_events(b);
		if (clock_ms() >= next_tick) {
			dispatch_tick(b);
			publish(b);
			next_tick = clock_ms() + 1000;
		}
	}
}

static int
broker_setup(struct broker *b, int *sigfd, char *err, size_t errlen)
{
	struct chan_config cc;
	sigset_t set;

	/* Before any thread starts (HTTP, ZeroMQ), so that every thread
	 * blocks them and they reach the signalfd, not a default action. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((b->net = network_load(b->cfg.network, err, errlen)) == NULL ||
	    (b->slots = calloc(b->net->nsites, sizeof(*b->slots))) == NULL ||
	    approval_keys_load(b->cfg.tls.ca, b->cfg.tls.crl,
		(const char(*)[PATH_MAX])b->cfg.tls.drb, b->cfg.tls.ndrb,
		&b->drb, &b->ndrb, err, errlen) == -1 ||
	    (b->store = store_open(b->cfg.state, err, errlen)) == NULL)
		return -1;
	for (size_t i = 0; i < b->net->nsites; i++) {
		b->slots[i].site = &b->net->sites[i];
		latency_init(&b->slots[i].lat);
	}
	latency_hist_init(&b->hist);
	chan_config_default(&cc);
	cc.ca = b->cfg.tls.ca;
	cc.crl = b->cfg.tls.crl;
	cc.cert = b->cfg.tls.cert;
	cc.key = b->cfg.tls.key;
	cc.allow = "node,researcher,operator";
	cc.heartbeat_ms = (int)b->cfg.heartbeat_ms;
	cc.heartbeat_timeout_ms = (int)b->cfg.heartbeat_timeout_ms;
	cc.max_sessions = (int)b->cfg.max_sessions;
	cc.max_message = b->cfg.max_frame;
	b->max_frame = b->cfg.max_frame;
	if ((b->chan = chan_server_new(
		 NULL, b->cfg.listen, &cc, err, errlen)) == NULL)
		return -1;
	if (b->cfg.http[0] != '\0' &&
	    (b->http = http_start(b->cfg.http, err, errlen)) == NULL)
		return -1;
	if (dispatch_resume(b) == -1)
		return errf(err, errlen, "cannot read unfinished queries");
	if ((*sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return errf(err, errlen, "signalfd: %s", strerror(errno));
	return 0;
}

int
broker_run(const struct broker_config *cfg)
{
	struct broker b;
	char err[1024] = "";
	int sigfd = -1, rc = 1;

	memset(&b, 0, sizeof(b));
	b.cfg = *cfg;
	b.started_ms = wall_ms();
	b.epoch = b.started_ms;
	if (broker_setup(&b, &sigfd, err, sizeof(err)) == -1)
		log_warnx("%s", err);
	else {
		log_info(
		    "tally-broker %s listening on %s, status on http://%s/",
		    TALLY_VERSION, chan_endpoint(b.chan), b.cfg.http);
		rc = broker_loop(&b, sigfd);
	}
	http_stop(b.http);
	chan_free(b.chan);
	store_close(b.store);
	approval_keys_free(b.drb, b.ndrb);
	free(b.slots);
	free(b.inflight);
	free(b.waiters);
	free(b.running);
	network_free(b.net);
	if (sigfd != -1)
		close(sigfd);
	return rc;
}
