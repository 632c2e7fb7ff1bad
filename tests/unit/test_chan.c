/*
 * test_chan.c — the secure channel in one process over TCP loopback: a
 * server and clients driven by one poll loop. Registration, requests both
 * ways, refusal, ROUTER back-pressure, lost sessions with re-sent and
 * de-duplicated requests, a broker restart, heartbeats, garbage, floods
 * of half-open sessions, caps and revocation of a connected peer.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "chan.h"
#include "log.h"
#include "pki.h"
#include "util.h"

static char *dir;

static void
issue(enum role role, const char *name)
{
	struct pki_issue_req req = { role, name, 0, 0, 0 };
	char err[256];

	if (pki_issue(dir, &req, NULL, 0, err, sizeof(err)) == -1)
		fail_msg("pki issue %s: %s", name, err);
}

static void
revoke(const char *name)
{
	char err[256];

	if (pki_revoke(dir, name, 30, err, sizeof(err)) == -1)
		fail_msg("pki revoke %s: %s", name, err);
}

static int
setup(void **state)
{
	(void)state;
	log_init("test_chan", 0, LOG_TO_STDERR);
	dir = test_mkdtemp();
	{
		char err[256];
		if (pki_ca_init(dir, "test", PKI_CA_DAYS, err, sizeof(err)) ==
		    -1)
			fail_msg("pki init: %s", err);
	}
	issue(ROLE_BROKER, "broker");
	issue(ROLE_NODE, "snuh");
	issue(ROLE_NODE, "amc");
	issue(ROLE_RESEARCHER, "alice");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	test_rmdir(dir);
	return 0;
}

/* A path under dir that stays valid for a while (a ring of buffers). */
static const char *
path(const char *name, const char *ext)
{
	static char ring[32][600];
	static int next;
	char *p = ring[next++ % 32];

	snprintf(p, 600, "%s/%s%s", dir, name, ext);
	return p;
}

/* A configuration with the certificate of name and quick timers. */
static struct chan_config
config(const char *name)
{
	struct chan_config c;

	chan_config_default(&c);
	c.ca = path("ca", ".crt");
	c.crl = path("crl", ".pem");
	c.cert = path(name, ".crt");
	c.key = path(name, ".key");
	c.heartbeat_ms = 200;
	c.heartbeat_timeout_ms = 1000;
	c.handshake_timeout_ms = 1000;
	c.reconnect_ms = 50;
	c.reconnect_max_ms = 200;
	return c;
}

static struct chan *
mk(int server, const char *endpoint, struct chan_config *c)
{
	char err[256];
	struct chan *ch;

	ch = server ? chan_server_new(NULL, endpoint, c, err, sizeof(err))
		    : chan_client_new(NULL, endpoint, c, err, sizeof(err));
	if (ch == NULL)
		fail_msg("chan: %s", err);
	return ch;
}

/* What a test side saw. */
struct side {
	struct chan *ch;
	int up, down, refused, gone, nreq, nrep, nmsg;
	int echo; /* reply to each request at once */
	uint64_t peer;
	uint64_t req_id, req_peer; /* last request (when not echoing) */
	char reason[CHAN_REASON_MAX];
	char name[TLS_NAME_MAX + 1];
	char last[256]; /* last reply or message */
	int paused;	/* not processed: a hung process */
};

static void
handle(struct side *s, struct chan_event *ev)
{
	char buf[300];
	size_t n =
	    ev->len < sizeof(s->last) - 1 ? ev->len : sizeof(s->last) - 1;

	switch (ev->type) {
	case CHAN_EV_UP:
		s->up++;
		s->peer = ev->peer;
		strlcpy(s->name, ev->name, sizeof(s->name));
		break;
	case CHAN_EV_DOWN:
		s->down++;
		strlcpy(s->reason, ev->reason, sizeof(s->reason));
		break;
	case CHAN_EV_REFUSED:
		s->refused++;
		strlcpy(s->reason, ev->reason, sizeof(s->reason));
		break;
	case CHAN_EV_GONE:
		s->gone++;
		break;
	case CHAN_EV_REQUEST:
		s->nreq++;
		s->req_id = ev->id;
		s->req_peer = ev->peer;
		if (s->echo) {
			int len = snprintf(buf, sizeof(buf), "re:%.*s",
			    (int)(ev->len > 200 ? 200 : ev->len),
			    (char *)ev->data);
			assert_int_equal(chan_reply(s->ch, ev->peer, ev->id,
					     buf, (size_t)len),
			    0);
		}
		break;
	case CHAN_EV_REPLY:
	case CHAN_EV_MESSAGE:
		if (ev->type == CHAN_EV_REPLY)
			s->nrep++;
		else
			s->nmsg++;
		memcpy(s->last, ev->data, n);
		s->last[n] = '\0';
		break;
	}
}

typedef int (*cond_fn)(struct side **);

/* Runs every side's channel until cond holds or ms pass; 1 if it held. */
static int
run(struct side **sides, int n, int ms, cond_fn cond)
{
	uint64_t end = clock_ms() + (uint64_t)ms;
	zmq_pollitem_t items[16];
	struct chan_event ev;

	for (;;) {
		int k = 0;
		long t = 20;

		if (cond != NULL && cond(sides))
			return 1;
		if (clock_ms() >= end)
			return 0;
		for (int i = 0; i < n; i++) {
			long ct;
			if (sides[i]->paused)
				continue;
			k += chan_pollitems(sides[i]->ch, items + k, 16 - k);
			if ((ct = chan_timeout(sides[i]->ch)) >= 0 && ct < t)
				t = ct;
		}
		zmq_poll(items, k, t);
		for (int i = 0; i < n; i++) {
			if (sides[i]->paused)
				continue;
			chan_process(sides[i]->ch);
			while (chan_next(sides[i]->ch, &ev)) {
				handle(sides[i], &ev);
				chan_event_clear(&ev);
			}
		}
	}
}

/* Runs the loop until expr holds; fails the test after ms. */
#define RUN_UNTIL(ss, n, ms, expr)                                             \
	do {                                                                   \
		uint64_t end_ = clock_ms() + (ms);                             \
		while (!(expr)) {                                              \
			if (clock_ms() >= end_)                                \
				fail_msg("timed out waiting for %s", #expr);   \
			run(ss, n, 20, NULL);                                  \
		}                                                              \
	} while (0)

static int
both_up(struct side **s)
{
	return s[0]->up > 0 && s[1]->up > 0;
}

static int
got_reply(struct side **s)
{
	return s[1]->nrep > 0;
}

static struct side *
side(struct chan *ch)
{
	struct side *s = calloc(1, sizeof(*s));

	s->ch = ch;
	return s;
}

static void
side_free(struct side *s)
{
	chan_free(s->ch);
	free(s);
}

/* A server on a fresh port and a client of name connected to it. */
static void
pair(struct side **sv, struct side **cl, const char *name,
    struct chan_config *sc, struct chan_config *cc)
{
	struct chan_config s = config("broker"), c = config(name);

	if (sc != NULL)
		s = *sc;
	if (cc != NULL)
		c = *cc;
	*sv = side(mk(1, "tcp://127.0.0.1:0", &s));
	*cl = side(mk(0, chan_endpoint((*sv)->ch), &c));
	(*sv)->echo = 1;
}

static void
register_and_exchange(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_stats st;
	uint64_t id;

	(void)state;
	pair(&sv, &cl, "snuh", NULL, NULL);
	ss[0] = sv;
	ss[1] = cl;
	/* Queued before any connection exists, sent once registered. */
	assert_int_equal(chan_request(cl->ch, 0, "count AF", 8, &id), 0);
	assert_false(chan_up(cl->ch, 0));
	assert_true(run(ss, 2, 5000, both_up));
	assert_string_equal(sv->name, "snuh");
	assert_string_equal(cl->name, "broker");
	assert_int_equal(chan_self(sv->ch)->role, TLS_ROLE_BROKER);
	assert_true(run(ss, 2, 5000, got_reply));
	assert_string_equal(cl->last, "re:count AF");
	assert_int_equal(sv->nreq, 1);

	/* The broker asks the node; the node answers. */
	cl->echo = 1;
	assert_int_equal(chan_request(sv->ch, sv->peer, "task 7", 6, &id), 0);
	RUN_UNTIL(ss, 2, 5000, sv->nrep > 0);
	assert_string_equal(sv->last, "re:task 7");

	/* One-way messages, both ways. */
	assert_int_equal(chan_send(sv->ch, sv->peer, "progress 1/2", 12), 0);
	assert_int_equal(chan_send(cl->ch, 0, "note", 4), 0);
	RUN_UNTIL(ss, 2, 5000, cl->nmsg == 1 && sv->nmsg == 1);
	assert_string_equal(cl->last, "progress 1/2");
	assert_int_equal(sv->nmsg, 1);

	/* Unknown ids and peers are refused, not guessed. */
	assert_int_equal(chan_reply(sv->ch, sv->peer, 999, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(chan_request(sv->ch, 12345, "x", 1, NULL), -1);
	chan_stats(sv->ch, &st);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.peers, 1);
	assert_int_equal(st.refused, 0);
	side_free(cl);
	/* The client's close_notify ends the session at once. */
	RUN_UNTIL(ss, 1, 5000, sv->down == 1);
	side_free(sv);
}

static void
refused_role(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker");
	struct chan_stats st;

	(void)state;
	sc.allow = "researcher,operator";
	pair(&sv, &cl, "snuh", &sc, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_int_equal(chan_request(cl->ch, 0, "x", 1, NULL), 0);
	RUN_UNTIL(ss, 2, 5000, cl->refused >= 1);
	assert_int_equal(cl->up, 0);
	assert_int_equal(sv->up, 0);
	assert_int_equal(sv->nreq, 0);
	/* The broker flushed its alert: the client knows it was refused. */
	assert_non_null(strstr(cl->reason, "peer sent alert"));
	chan_stats(sv->ch, &st);
	assert_true(st.refused >= 1);
	side_free(cl);
	side_free(sv);
}

/*
 * A ROUTER at its high-water mark: sends fail with EAGAIN, the ciphertext
 * stays queued and every message arrives, in order, on the same session.
 */
static void
router_backpressure(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker"), cc = config("snuh");
	struct chan_stats st;
	static char big[16384];
	int n = 2000;

	(void)state;
	sc.hwm = 2;
	cc.hwm = 2;
	sc.max_buffer = 64 << 20;
	sc.heartbeat_timeout_ms = cc.heartbeat_timeout_ms = 20000;
	pair(&sv, &cl, "snuh", &sc, &cc);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	for (int i = 0; i < n; i++) {
		snprintf(big, sizeof(big), "msg %06d", i);
		assert_int_equal(
		    chan_send(sv->ch, sv->peer, big, sizeof(big)), 0);
	}
	/* The client does not read for a while; the server retries. */
	cl->paused = 1;
	run(ss, 2, 300, NULL);
	chan_stats(sv->ch, &st);
	assert_true(st.deferred > 0);
	cl->paused = 0;
	RUN_UNTIL(ss, 2, 20000, cl->nmsg == n);
	assert_string_equal(cl->last, "msg 001999");
	assert_int_equal(cl->down, 0);
	assert_int_equal(sv->down, 0);
	side_free(cl);
	side_free(sv);
}

/*
 * The node's connection vanishes under its session: the ROUTER refuses
 * sends to it (EHOSTUNREACH); the request is kept, and delivered on the
 * node's next session once it reconnects.
 */
static void
router_unreachable(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_stats st;
	char ep[256];

	(void)state;
	pair(&sv, &cl, "snuh", NULL, NULL);
	ss[0] = sv;
	ss[1] = cl;
	cl->echo = 1;
	assert_true(run(ss, 2, 5000, both_up));
	strlcpy(ep, chan_endpoint(sv->ch), sizeof(ep));
	assert_int_equal(zmq_disconnect(cl->ch->sock, ep), 0);
	RUN_UNTIL(ss, 2, 5000, cl->down == 1); /* its monitor saw it */
	run(ss, 2, 200, NULL);		       /* and the ROUTER too, by now */
	if (chan_request(sv->ch, sv->peer, "task 9", 6, NULL) == -1)
		fail_msg("request: %s (peer %llu, gone %d)", strerror(errno),
		    (unsigned long long)sv->peer, sv->gone);
	RUN_UNTIL(ss, 2, 5000, (chan_stats(sv->ch, &st), st.deferred > 0));
	assert_int_equal(sv->nrep, 0);
	assert_int_equal(zmq_connect(cl->ch->sock, ep), 0);
	RUN_UNTIL(ss, 2, 10000, sv->nrep >= 1);
	assert_string_equal(sv->last, "re:task 9");
	side_free(cl);
	side_free(sv);
}

/*
 * The session dies after the broker took a request and before its reply
 * got out: the client re-sends on its next session, the broker answers
 * from memory, and the request was executed once.
 */
static void
lost_session_exactly_once(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_stats st;
	uint64_t id;

	(void)state;
	pair(&sv, &cl, "snuh", NULL, NULL);
	ss[0] = sv;
	ss[1] = cl;
	sv->echo = 0;
	assert_true(run(ss, 2, 5000, both_up));
	assert_int_equal(chan_request(cl->ch, 0, "count IBD", 9, &id), 0);
	RUN_UNTIL(ss, 2, 5000, sv->nreq > 0);
	/* Cut the client's session (as a lost connection would). */
	sess_close(cl->ch->cs, "test cut");
	assert_int_equal(cl->down, 0); /* events come from the loop */
	run(ss, 2, 30, NULL);
	assert_int_equal(cl->down, 1);
	/* The broker answers while the node is away. */
	assert_int_equal(
	    chan_reply(sv->ch, sv->req_peer, sv->req_id, "re:count IBD", 12),
	    0);
	assert_true(run(ss, 2, 5000, got_reply));
	assert_string_equal(cl->last, "re:count IBD");
	assert_int_equal(cl->nrep, 1);
	assert_int_equal(sv->nreq, 1);
	assert_true(cl->up >= 2);
	chan_stats(cl->ch, &st);
	assert_true(st.resent >= 1);
	chan_stats(sv->ch, &st);
	assert_true(st.duplicates >= 1);

	/* Same again, but the reply comes after the re-send arrived. */
	assert_int_equal(chan_request(cl->ch, 0, "count OSA", 9, &id), 0);
	RUN_UNTIL(ss, 2, 5000, sv->nreq == 2);
	sess_close(cl->ch->cs, "test cut");
	{
		int ups = cl->up;
		RUN_UNTIL(ss, 2, 5000, cl->up > ups);
	}
	run(ss, 2, 100, NULL);
	assert_int_equal(sv->nreq, 2); /* the re-send was absorbed */
	assert_int_equal(
	    chan_reply(sv->ch, sv->req_peer, sv->req_id, "re:count OSA", 12),
	    0);
	RUN_UNTIL(ss, 2, 5000, cl->nrep == 2);
	assert_string_equal(cl->last, "re:count OSA");
	run(ss, 2, 200, NULL);
	assert_int_equal(cl->nrep, 2);
	side_free(cl);
	side_free(sv);
}

/* The broker goes away and a new one takes its port: requests survive. */
static void
broker_restart(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker");
	char ep[256];
	uint64_t id;

	(void)state;
	pair(&sv, &cl, "snuh", NULL, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	strlcpy(ep, chan_endpoint(sv->ch), sizeof(ep));
	chan_free(sv->ch);
	sv->ch = NULL;
	assert_int_equal(chan_request(cl->ch, 0, "count CRC", 9, &id), 0);
	run(ss + 1, 1, 300, NULL);
	assert_true(cl->down >= 1);
	sv->ch = mk(1, ep, &sc);
	sv->up = 0;
	assert_true(run(ss, 2, 5000, got_reply));
	assert_string_equal(cl->last, "re:count CRC");
	assert_int_equal(sv->nreq, 1);
	side_free(cl);
	side_free(sv);
}

static int
client_down(struct side **s)
{
	return s[1]->down > 0;
}

/*
 * A broker whose loop hangs (ZeroMQ's own thread still answers pings):
 * the application heartbeat notices, and the client comes back after.
 */
static void
heartbeat_hung_broker(void **state)
{
	struct side *sv, *cl, *ss[2];

	(void)state;
	pair(&sv, &cl, "snuh", NULL, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	sv->paused = 1;
	/* Only the heartbeat (timeout 1000 ms) can notice: the connection
	 * stays open. How soon is not a pass/fail on a loaded machine. */
	assert_true(run(ss, 2, 5000, client_down));
	assert_non_null(strstr(cl->reason, "broker silent"));
	sv->paused = 0;
	RUN_UNTIL(ss, 2, 5000, chan_up(cl->ch, 0));
	side_free(cl);
	side_free(sv);
}

/* A raw ZeroMQ peer speaking no TLS, and worse. */
static void
garbage(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_stats st;
	void *ctx = zmq_ctx_new(), *raw = zmq_socket(ctx, ZMQ_DEALER);
	uint8_t hdr[CHAN_HDR_LEN], buf[64];
	static uint8_t huge[CHAN_FRAME_MAX + 100];
	int linger = 0;

	(void)state;
	pair(&sv, &cl, "snuh", NULL, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(raw, chan_endpoint(sv->ch)), 0);
	zmq_send(raw, "GET / HTTP/1.0\r\n\r\n", 18, 0);
	zmq_send(raw, "a", 1, ZMQ_SNDMORE);
	zmq_send(raw, "b", 1, ZMQ_SNDMORE);
	zmq_send(raw, "c", 1, ZMQ_SNDMORE);
	zmq_send(raw, "d", 1, 0);
	hdr_pack(hdr, CHAN_KIND_TLS, 42);
	zmq_send(raw, hdr, sizeof(hdr), ZMQ_SNDMORE);
	zmq_send(raw, "\x17\x03\x03\x00\x10plaintext..", 16, 0);
	hdr_pack(hdr, 9, 42);
	zmq_send(raw, hdr, sizeof(hdr), ZMQ_SNDMORE);
	zmq_send(raw, "x", 1, 0);
	/* The unknown session gets a reset, nothing more. */
	{
		int rc = -1;
		RUN_UNTIL(ss, 2, 5000,
		    (rc = zmq_recv(raw, buf, sizeof(buf), ZMQ_DONTWAIT)) != -1);
		assert_int_equal(rc, CHAN_HDR_LEN);
		assert_int_equal(buf[1], CHAN_KIND_RESET);
	}
	/* An oversized frame: ZMQ_MAXMSGSIZE cuts that connection. */
	zmq_send(raw, hdr, sizeof(hdr), ZMQ_SNDMORE);
	zmq_send(raw, huge, sizeof(huge), 0);
	RUN_UNTIL(ss, 2, 5000, (chan_stats(sv->ch, &st), st.dropped >= 4));
	assert_int_equal(st.sessions, 1);
	/* The good client never noticed. */
	cl->nrep = 0;
	assert_int_equal(chan_request(cl->ch, 0, "still there?", 12, NULL), 0);
	assert_true(run(ss, 2, 5000, got_reply));
	assert_int_equal(cl->down, 0);
	zmq_close(raw);
	zmq_ctx_term(ctx);
	side_free(cl);
	side_free(sv);
}

/* Real ClientHellos from many connections, never finished. */
static void
half_open_flood(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker"), nc = config("amc");
	struct chan_stats st;
	struct tls_ctx *tc;
	void *ctx = zmq_ctx_new(), *raw[200];
	char err[256];
	int linger = 0, n = 200;

	(void)state;
	sc.max_handshakes = 16;
	sc.max_sessions = 32;
	sc.handshake_timeout_ms = 3000;
	pair(&sv, &cl, "snuh", &sc, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	tc = tls_ctx_new(TLS_CLIENT, sc.ca, sc.crl, path("amc", ".crt"),
	    path("amc", ".key"), err, sizeof(err));
	assert_non_null(tc);
	for (int i = 0; i < n; i++) {
		struct tls *t = tls_new(tc);
		uint8_t hdr[CHAN_HDR_LEN], hello[4096];
		size_t len;

		tls_handshake(t);
		len = tls_take(t, hello, sizeof(hello));
		raw[i] = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(raw[i], ZMQ_LINGER, &linger, sizeof(linger));
		zmq_connect(raw[i], chan_endpoint(sv->ch));
		hdr_pack(hdr, CHAN_KIND_TLS, 1000 + (uint64_t)i);
		zmq_send(raw[i], hdr, sizeof(hdr), ZMQ_SNDMORE);
		zmq_send(raw[i], hello, len, 0);
		tls_free(t);
		if (i % 20 == 0)
			run(ss, 2, 10, NULL);
	}
	run(ss, 2, 1000, NULL);
	chan_stats(sv->ch, &st);
	assert_true(st.handshakes <= 16);
	assert_true(st.evicted > 0);
	assert_int_equal(cl->down, 0);
	/* The registered client is served; a new one still gets in. */
	assert_int_equal(chan_request(cl->ch, 0, "q", 1, NULL), 0);
	assert_true(run(ss, 2, 5000, got_reply));
	{
		struct side *c2 = side(mk(0, chan_endpoint(sv->ch), &nc));
		struct side *s2[2] = { sv, c2 };
		assert_int_equal(chan_request(c2->ch, 0, "q2", 2, NULL), 0);
		assert_true(run(s2, 2, 5000, got_reply));
		assert_string_equal(c2->last, "re:q2");
		side_free(c2);
	}
	for (int i = 0; i < n; i++)
		zmq_close(raw[i]);
	zmq_ctx_term(ctx);
	tls_ctx_free(tc);
	side_free(cl);
	side_free(sv);
}

/* A ClientHello and then nothing: the handshake timer ends it. */
static void
handshake_timeout(void **state)
{
	struct side *sv, *ss[1];
	struct chan_config sc = config("broker");
	struct chan_stats st;
	struct tls_ctx *tc;
	struct tls *t;
	void *ctx = zmq_ctx_new(), *raw = zmq_socket(ctx, ZMQ_DEALER);
	uint8_t hdr[CHAN_HDR_LEN], hello[4096];
	char err[256];
	int linger = 0;
	size_t len;

	(void)state;
	sc.handshake_timeout_ms = 300;
	sv = side(mk(1, "tcp://127.0.0.1:0", &sc));
	ss[0] = sv;
	tc = tls_ctx_new(TLS_CLIENT, sc.ca, sc.crl, path("amc", ".crt"),
	    path("amc", ".key"), err, sizeof(err));
	t = tls_new(tc);
	tls_handshake(t);
	len = tls_take(t, hello, sizeof(hello));
	zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(raw, chan_endpoint(sv->ch));
	hdr_pack(hdr, CHAN_KIND_TLS, 7);
	zmq_send(raw, hdr, sizeof(hdr), ZMQ_SNDMORE);
	zmq_send(raw, hello, len, 0);
	RUN_UNTIL(ss, 1, 5000, (chan_stats(sv->ch, &st), st.opened == 1));
	assert_int_equal(st.handshakes, 1);
	RUN_UNTIL(ss, 1, 5000, (chan_stats(sv->ch, &st), st.handshakes == 0));
	assert_int_equal(st.timeouts, 1);
	tls_free(t);
	tls_ctx_free(tc);
	zmq_close(raw);
	zmq_ctx_term(ctx);
	side_free(sv);
}

/* Inside TLS, a message longer than the cap ends that session only. */
static void
inner_caps(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config cc = config("snuh");
	static uint8_t big[8192];
	uint8_t h[MSG_HDR_LEN] = { 0x7f, 0xff, 0xff, 0xff, MSG_REQ };

	(void)state;
	cc.max_message = 4096;
	cc.max_buffer = 4096 + CHAN_FRAME_MAX;
	pair(&sv, &cl, "snuh", NULL, &cc);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	assert_int_equal(chan_request(cl->ch, 0, big, sizeof(big), NULL), -1);
	assert_int_equal(errno, EINVAL);
	/* A peer that lies about a length: the server ends its session. */
	assert_int_equal(tls_write(cl->ch->cs->tls, h, sizeof(h)), 0);
	sess_flush(cl->ch->cs);
	RUN_UNTIL(ss, 2, 5000, sv->down == 1);
	/* ... and the client starts over. */
	cl->nrep = 0;
	assert_int_equal(chan_request(cl->ch, 0, "again", 5, NULL), 0);
	assert_true(run(ss, 2, 5000, got_reply));
	side_free(cl);
	side_free(sv);
}

/*
 * A client allowed more requests in flight than the broker takes: it
 * sends only as many as the broker's max_pending and the rest as replies
 * come, instead of being cut off for flooding.
 */
static void
window_flow(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker"), cc = config("snuh");
	char q[16];

	(void)state;
	sc.max_pending = 4;
	cc.max_pending = 100;
	pair(&sv, &cl, "snuh", &sc, &cc);
	ss[0] = sv;
	ss[1] = cl;
	sv->echo = 0;
	for (int i = 0; i < 10; i++) {
		snprintf(q, sizeof(q), "q%d", i);
		assert_int_equal(
		    chan_request(cl->ch, 0, q, strlen(q), NULL), 0);
	}
	RUN_UNTIL(ss, 2, 5000, sv->nreq == 4);
	run(ss, 2, 200, NULL);
	assert_int_equal(sv->nreq, 4); /* the window holds */
	sv->echo = 1;
	for (uint64_t id = 1; id <= 4; id++)
		assert_int_equal(
		    chan_reply(sv->ch, sv->req_peer, id, "r", 1), 0);
	RUN_UNTIL(ss, 2, 5000, cl->nrep == 10);
	assert_int_equal(sv->nreq, 10);
	assert_int_equal(sv->down, 0);
	side_free(cl);
	side_free(sv);
}

/* Revoking a connected node: the broker drops it and refuses it after. */
static void
revoke_connected(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker");

	(void)state;
	issue(ROLE_NODE, "gone");
	sc.crl_reload_ms = 200;
	pair(&sv, &cl, "gone", &sc, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	revoke("gone");
	assert_true(run(ss, 2, 5000, client_down));
	assert_non_null(strstr(cl->reason, "certificate revoked"));
	RUN_UNTIL(ss, 2, 5000, cl->refused >= 1);
	assert_non_null(strstr(cl->reason, "certificate revoked"));
	side_free(cl);
	side_free(sv);
}

/*
 * Revoking the broker while a node is connected: the node refuses it at
 * its next session (it reads the CRL again before each handshake).
 */
static void
revoke_broker(void **state)
{
	struct side *sv, *cl, *ss[2];
	struct chan_config sc = config("broker2");

	(void)state;
	issue(ROLE_BROKER, "broker2");
	pair(&sv, &cl, "snuh", &sc, NULL);
	ss[0] = sv;
	ss[1] = cl;
	assert_true(run(ss, 2, 5000, both_up));
	revoke("broker2");
	/* A hung broker: the node's heartbeat drops the session, and the
	 * next one meets the broker's now revoked certificate. */
	sv->paused = 1;
	assert_true(run(ss, 2, 5000, client_down));
	sv->paused = 0;
	RUN_UNTIL(ss, 2, 5000, cl->refused >= 1);
	assert_non_null(strstr(cl->reason, "certificate revoked"));
	assert_false(chan_up(cl->ch, 0));
	side_free(cl);
	side_free(sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_and_exchange),
		cmocka_unit_test(refused_role),
		cmocka_unit_test(router_backpressure),
		cmocka_unit_test(router_unreachable),
		cmocka_unit_test(lost_session_exactly_once),
		cmocka_unit_test(broker_restart),
		cmocka_unit_test(heartbeat_hung_broker),
		cmocka_unit_test(garbage),
		cmocka_unit_test(half_open_flood),
		cmocka_unit_test(handshake_timeout),
		cmocka_unit_test(inner_caps),
		cmocka_unit_test(window_flow),
		cmocka_unit_test(revoke_connected),
		cmocka_unit_test(revoke_broker),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
