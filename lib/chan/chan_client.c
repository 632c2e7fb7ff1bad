/*
 * chan_client.c — owns the connecting side of the channel (nodes and
 * command-line clients): a DEALER that connects out, a socket monitor
 * that sees every reconnect ZeroMQ would otherwise hide, and one TLS
 * session per connection, restarted with back-off whenever it ends.
 *
 * It must never consider itself registered before the broker answered
 * inside an authenticated session, never accept a server whose
 * certificate is not a broker's, and never feed bytes of an old session
 * into a new one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "log.h"
#include "util.h"

#define READ_BATCH 512
#define TICK_MS	   100
#define LINGER_MS  500

static uint64_t
tick(const struct chan *ch)
{
	uint64_t t = (uint64_t)ch->cfg.heartbeat_ms / 4;

	return t < 10 ? 10 : t > TICK_MS ? TICK_MS : t;
}

int
cli_send(struct sess *s, struct frame *f)
{
	struct chan *ch = s->ch;
	uint8_t h[CHAN_HDR_LEN];

	hdr_pack(h, CHAN_KIND_TLS, s->sid);
	/* EAGAIN (no connection, or high-water mark) rolls back the whole
	 * message; the frame stays queued. */
	if (zmq_send(ch->sock, h, sizeof(h), ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
		-1 ||
	    zmq_msg_send(&f->msg, ch->sock, ZMQ_DONTWAIT) == -1)
		return -1;
	return 0;
}

/* Starts a session on the current connection: a fresh id, a ClientHello. */
static void
cli_start(struct chan *ch)
{
	struct sess *s;

	ch->start_at = 0;
	/* Each new session verifies the broker against the CRL as it is
	 * now: a revoked broker is refused at the next connection. */
	chan_reload_crl(ch);
	if ((s = sess_new(ch)) == NULL) {
		log_warnx("chan: out of memory");
		ch->start_at = clock_ms() + ch->backoff;
		return;
	}
	s->sid = chan_random64();
	strlcpy(s->addr, ch->endpoint, sizeof(s->addr));
	ch->cs = s;
	tls_handshake(s->tls);
	sess_flush(s);
	log_debug("chan: new session with %s", ch->endpoint);
}

void
cli_sess_closed(struct sess *s)
{
	struct chan *ch = s->ch;

	if (ch->cs == s)
		ch->cs = NULL;
	/* Every session that ends before registering doubles the wait. */
	ch->start_at = clock_ms() + ch->backoff;
	ch->backoff *= 2;
	if (ch->backoff > ch->cfg.reconnect_max_ms)
		ch->backoff = ch->cfg.reconnect_max_ms;
}

/* The connection under the session went away: nothing of it can follow. */
static void
cli_lost(struct chan *ch, const char *why)
{
	struct sess *s = ch->cs;

	if (s == NULL)
		return;
	if (s->state == SESS_READY)
		log_warnx("chan: lost the broker: %s", why);
	if (s->peer != NULL)
		peer_detach(s->peer, why);
	cli_sess_closed(s);
	sess_free(s);
}

void
cli_tls_done(struct sess *s)
{
	uint8_t w[4];

	/* TLS 1.3: our handshake is done before the broker has checked
	 * our certificate. Registered only once WELCOME comes back. */
	be32_put(w, (uint32_t)s->ch->cfg.max_pending);
	if (sess_send_msg(s, MSG_HELLO, s->ch->epoch, CHAN_INNER_VERSION, w,
		sizeof(w)) == 0)
		sess_commit(s); /* in the same frame as our last flight */
}

void
cli_tls_failed(struct sess *s)
{
	struct chan *ch = s->ch;
	const char *why = tls_error(s->tls);

	ch->st.refused++;
	ch->refused++;
	log_warnx("chan: session with %s refused: %s", ch->endpoint, why);
	ev_push(ch, CHAN_EV_REFUSED, NULL, 0, NULL, 0, why);
	sess_close(s, why);
}

int
cli_on_msg(struct sess *s, int type, uint64_t id, uint64_t aux,
    const uint8_t *data, size_t len)
{
	struct chan *ch = s->ch;
	const struct tls_peer *who = tls_peer(s->tls);
	struct peer *p = ch->srv;

	if (type != MSG_WELCOME || s->state != SESS_HELLO || id == 0 ||
	    aux < 1 || aux > CHAN_INNER_VERSION || len < 8) {
		sess_close(s, "protocol error: unexpected welcome");
		return -1;
	}
	p->window = be32_get(data + 4) > 0 ? (int)be32_get(data + 4) : 1;
	if (p->window > ch->cfg.max_pending)
		p->window = ch->cfg.max_pending;
	p->role = who->role;
	strlcpy(p->name, who->name, sizeof(p->name));
	if (ch->srv_epoch != id) {
		/* A new broker instance numbers its requests afresh. */
		if (ch->srv_epoch != 0)
			log_info("chan: broker %s restarted", who->name);
		rr_reset_in(p);
		ch->srv_epoch = id;
		p->epoch = id;
	}
	ch->backoff = ch->cfg.reconnect_ms;
	ch->refused = 0;
	log_info(
	    "chan: registered with broker %s at %s", who->name, ch->endpoint);
	peer_attach(p, s);
	return s->state == SESS_CLOSING ? -1 : 0;
}

/* Connection events: every reconnect means a new TLS session. */
static void
mon_read(struct chan *ch)
{
	zmq_msg_t m;
	uint16_t ev;
	int more;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, ch->mon, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			return;
		}
		ev = 0;
		if (zmq_msg_size(&m) >= 6)
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
		while (more) { /* the endpoint frame */
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, ch->mon, 0) == -1)
				more = 0;
			else
				more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			if (ch->cs != NULL)
				cli_lost(ch, "reconnected");
			ch->connected = 1;
			ch->start_at = clock_ms(); /* at once */
		} else if (ev == ZMQ_EVENT_DISCONNECTED) {
			ch->connected = 0;
			cli_lost(ch, "connection closed");
		}
	}
}

/* One message from the broker; 1 done, 0 nothing waiting. */
static int
cli_read_one(struct chan *ch)
{
	zmq_msg_t m[2], extra;
	int n = 0, total = 0, more = 1;
	const uint8_t *h;

	while (more) {
		zmq_msg_t *cur = n < 2 ? &m[n] : &extra;

		zmq_msg_init(cur);
		if (zmq_msg_recv(cur, ch->sock, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(cur);
			for (int i = 0; i < n; i++)
				zmq_msg_close(&m[i]);
			return 0;
		}
		total++;
		more = zmq_msg_more(cur);
		if (cur == &extra)
			zmq_msg_close(&extra);
		else
			n++;
	}
	h = zmq_msg_data(&m[0]);
	if (total != 2 || zmq_msg_size(&m[0]) != CHAN_HDR_LEN ||
	    h[0] != CHAN_WIRE_VERSION) {
		ch->st.dropped++;
		chan_noise(ch, "chan: dropped a malformed message from %s",
		    ch->endpoint);
	} else if (ch->cs == NULL || be64_get(h + 2) != ch->cs->sid) {
		ch->st.dropped++; /* from an earlier session */
	} else if (h[1] == CHAN_KIND_RESET) {
		ch->st.resets++;
		cli_lost(ch, "the broker does not know the session");
	} else if (h[1] == CHAN_KIND_TLS)
		sess_input(ch->cs, zmq_msg_data(&m[1]), zmq_msg_size(&m[1]));
	else
		ch->st.dropped++;
	for (int i = 0; i < n; i++)
		zmq_msg_close(&m[i]);
	return 1;
}

static void
cli_timers(struct chan *ch)
{
	uint64_t now = clock_ms();
	struct sess *s = ch->cs;
	char why[96];

	if (s != NULL && s->state != SESS_READY && now >= s->deadline) {
		ch->st.timeouts++;
		log_warnx("chan: handshake with %s timed out", ch->endpoint);
		sess_close(s, "handshake timed out");
	} else if (s != NULL && s->state == SESS_READY) {
		if (now - s->last_rx >=
		    (uint64_t)ch->cfg.heartbeat_timeout_ms) {
			ch->st.timeouts++;
			snprintf(why, sizeof(why), "broker silent for %llu ms",
			    (unsigned long long)(now - s->last_rx));
			log_warnx("chan: %s", why);
			sess_close(s, why);
		} else if (now - s->last_tx >= (uint64_t)ch->cfg.heartbeat_ms)
			sess_send_msg(
			    s, MSG_PING, 0, rr_floor(ch->srv), NULL, 0);
	}
	if (ch->cs == NULL && ch->connected && ch->start_at != 0 &&
	    now >= ch->start_at)
		cli_start(ch);
	sess_reap(ch, now);
}

int
cli_process(struct chan *ch, int mask)
{
	if (mask & READ_MON)
		mon_read(ch);
	for (int i = 0; (mask & READ_DATA) && i < READ_BATCH; i++)
		if (cli_read_one(ch) == 0)
			break;
	cli_timers(ch);
	return 0;
}

long
cli_timeout(struct chan *ch)
{
	uint64_t now = clock_ms(), t = tick(ch);

	if (ch->cs == NULL && ch->connected && ch->start_at != 0)
		t = ch->start_at > now ? ch->start_at - now : 0;
	return t > TICK_MS ? TICK_MS : (long)t;
}

static int
cli_socket(
    struct chan *ch, const struct chan_config *cfg, char *err, size_t errlen)
{
	if ((ch->sock = zmq_socket(ch->zctx, ZMQ_DEALER)) == NULL ||
	    (ch->mon = zmq_socket(ch->zctx, ZMQ_PAIR)) == NULL)
		return errf(err, errlen, "zmq: %s", zmq_strerror(errno));
	/* IMMEDIATE: nothing is queued for a connection that is not there,
	 * so no byte of an old session reaches a new connection. */
	if (chan_sockopt(ch->sock, ZMQ_IMMEDIATE, 1) == -1 ||
	    chan_sock_common(ch->sock, cfg, LINGER_MS) == -1 ||
	    chan_sockopt(ch->sock, ZMQ_RECONNECT_IVL, cfg->reconnect_ms) ==
		-1 ||
	    chan_sockopt(
		ch->sock, ZMQ_RECONNECT_IVL_MAX, cfg->reconnect_max_ms) == -1 ||
	    chan_sockopt(ch->mon, ZMQ_LINGER, 0) == -1)
		return errf(
		    err, errlen, "zmq options: %s", zmq_strerror(errno));
	/* The monitor must exist before the connection does. */
	snprintf(ch->mon_ep, sizeof(ch->mon_ep), "inproc://chan-mon-%p-%llx",
	    (void *)ch, (unsigned long long)ch->epoch);
	if (zmq_socket_monitor(ch->sock, ch->mon_ep,
		ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) == -1 ||
	    zmq_connect(ch->mon, ch->mon_ep) == -1)
		return errf(
		    err, errlen, "zmq monitor: %s", zmq_strerror(errno));
	return 0;
}

struct chan *
chan_client_new(void *zctx, const char *endpoint, const struct chan_config *cfg,
    char *err, size_t errlen)
{
	struct chan *ch;

	if ((ch = chan_alloc(0, cfg, NULL, err, errlen)) == NULL)
		return NULL;
	if (cfg->broker_name != NULL &&
	    tls_ctx_expect_name(ch->tls, cfg->broker_name) == -1) {
		errf(err, errlen, "broker_name: not a valid name");
		chan_free(ch);
		return NULL;
	}
	ch->backoff = cfg->reconnect_ms;
	strlcpy(ch->endpoint, endpoint, sizeof(ch->endpoint));
	if ((ch->srv = peer_new(ch, TLS_ROLE_BROKER, "", 0)) == NULL) {
		errf(err, errlen, "out of memory");
		chan_free(ch);
		return NULL;
	}
	ch->zctx = zctx;
	if (zctx == NULL) {
		ch->zctx = zmq_ctx_new();
		ch->own_ctx = 1;
	}
	if (ch->zctx == NULL || cli_socket(ch, cfg, err, errlen) == -1) {
		chan_free(ch);
		return NULL;
	}
	if (zmq_connect(ch->sock, endpoint) == -1) {
		errf(err, errlen, "connect %s: %s", endpoint,
		    zmq_strerror(errno));
		chan_free(ch);
		return NULL;
	}
	return ch;
}

void
cli_free(struct chan *ch)
{
	struct sess *s;

	if (ch->cs != NULL)
		sess_close(ch->cs, "closing"); /* close_notify */
	while ((s = TAILQ_FIRST(&ch->closing)) != NULL) {
		sess_drain(s);
		chan_reap(s);
	}
	if (ch->sock != NULL && ch->mon != NULL)
		zmq_socket_monitor(ch->sock, NULL, 0);
	if (ch->mon != NULL)
		zmq_close(ch->mon);
	ch->mon = NULL;
}
