/*
 * chan.c — owns what both ends of the secure channel share outside a
 * session (lib/chan/chan_sess.c): the configuration, creating and freeing a
 * channel, the event queue, rate-limited logs about strangers, the event
 * loop (flush, poll, process, retry) and the public calls, which dispatch
 * to lib/chan/chan_rr.c, chan_server.c or chan_client.c.
 *
 * It must never block, and never hand the application an event about a
 * peer whose certificate was not verified.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "chan_impl.h"
#include "conf.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#define NOISE_PER_SEC 20 /* log lines a second per kind of noise */

void
chan_config_default(struct chan_config *c)
{
	memset(c, 0, sizeof(*c));
	c->allow = "node,researcher,operator";
	c->heartbeat_ms = 1000;
	c->heartbeat_timeout_ms = 5000;
	c->handshake_timeout_ms = 5000;
	c->max_sessions = 1024;
	c->max_handshakes = 64;
	c->max_pending = 1024;
	c->max_message = WIRE_MAX_FRAME;
	c->max_buffer = 16 << 20;
	c->linger_ms = 300000;
	c->reconnect_ms = 100;
	c->reconnect_max_ms = 5000;
	c->hwm = 1000;
	c->crl_reload_ms = 10000;
}

static int
conf_ms(struct conf *cf, const char *key, int *v, int64_t min, int64_t max,
    char *err, size_t errlen)
{
	int64_t x;

	if (conf_int(cf, key, *v, min, max, &x, err, errlen) == -1)
		return -1;
	*v = (int)x;
	return 0;
}

int
chan_config_load(
    struct chan_config *c, struct conf *cf, char *err, size_t errlen)
{
	struct {
		const char *key;
		int *v;
		int64_t min, max;
	} ints[] = {
		{ "chan_heartbeat_ms", &c->heartbeat_ms, 50, 3600000 },
		{ "chan_heartbeat_timeout_ms", &c->heartbeat_timeout_ms, 100,
		    86400000 },
		{ "chan_handshake_timeout_ms", &c->handshake_timeout_ms, 100,
		    600000 },
		{ "chan_max_sessions", &c->max_sessions, 1, 1000000 },
		{ "chan_max_handshakes", &c->max_handshakes, 1, 100000 },
		{ "chan_max_pending", &c->max_pending, 1, 1000000 },
		{ "chan_peer_linger_ms", &c->linger_ms, 0, 86400000 },
		{ "chan_reconnect_ms", &c->reconnect_ms, 10, 600000 },
		{ "chan_reconnect_max_ms", &c->reconnect_max_ms, 10, 3600000 },
		{ "chan_hwm", &c->hwm, 1, 1000000 },
		{ "chan_crl_reload_ms", &c->crl_reload_ms, 100, 86400000 },
	};

	c->ca = conf_str(cf, "tls_ca", c->ca);
	c->crl = conf_str(cf, "tls_crl", c->crl);
	c->cert = conf_str(cf, "tls_cert", c->cert);
	c->key = conf_str(cf, "tls_key", c->key);
	c->allow = conf_str(cf, "allow_roles", c->allow);
	c->broker_name = conf_str(cf, "broker_name", c->broker_name);
	for (size_t i = 0; i < nitems(ints); i++)
		if (conf_ms(cf, ints[i].key, ints[i].v, ints[i].min,
			ints[i].max, err, errlen) == -1)
			return -1;
	if (conf_int(cf, "chan_max_message", c->max_message, 1024, 256 << 20,
		&c->max_message, err, errlen) == -1 ||
	    conf_int(cf, "chan_max_buffer", c->max_buffer, 65536,
		(int64_t)4 << 30, &c->max_buffer, err, errlen) == -1)
		return -1;
	return 0;
}

/* Checks the relations between limits that no single key can. */
static int
config_check(const struct chan_config *c, char *err, size_t errlen)
{
	if (c->heartbeat_timeout_ms <= c->heartbeat_ms)
		return errf(err, errlen,
		    "chan_heartbeat_timeout_ms must "
		    "exceed chan_heartbeat_ms");
	if (c->max_buffer < c->max_message + CHAN_FRAME_MAX)
		return errf(err, errlen,
		    "chan_max_buffer must exceed "
		    "chan_max_message by %d",
		    CHAN_FRAME_MAX);
	if (c->max_message < 1024 || c->max_message > (256 << 20))
		return errf(err, errlen, "chan_max_message out of range");
	if (c->max_sessions < 1 || c->max_handshakes < 1 ||
	    c->max_pending < 1 || c->hwm < 1)
		return errf(err, errlen, "channel limits must be positive");
	return 0;
}

uint64_t
be64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint64_t
chan_random64(void)
{
	uint8_t b[8];

	/* Without randomness no session can be safe: stop. */
	if (RAND_bytes(b, sizeof(b)) != 1)
		fatalx("chan: no randomness");
	return be64_get(b) | 1; /* never 0 */
}

void
chan_reload_crl(struct chan *ch)
{
	char err[CHAN_REASON_MAX];
	int rc;

	if ((rc = tls_ctx_reload_crl(ch->tls, err, sizeof(err))) == -1)
		log_warnx("chan: keeping the old CRL: %s", err);
	else if (rc == 1)
		log_info("chan: new CRL loaded");
}

void
hdr_pack(uint8_t *h, int kind, uint64_t sid)
{
	h[0] = CHAN_WIRE_VERSION;
	h[1] = (uint8_t)kind;
	be64_put(h + 2, sid);
}

struct chan *
chan_alloc(int server, const struct chan_config *cfg, struct tls_ctx *borrowed,
    char *err, size_t errlen)
{
	struct chan *ch;

	if (config_check(cfg, err, errlen) == -1)
		return NULL;
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	ch->server = server;
	ch->cfg = *cfg;
	ch->cfg.ca = ch->cfg.crl = ch->cfg.cert = ch->cfg.key = NULL;
	ch->cfg.allow = ch->cfg.broker_name = NULL; /* not kept */
	ch->epoch = chan_random64();
	TAILQ_INIT(&ch->events);
	TAILQ_INIT(&ch->dirty);
	TAILQ_INIT(&ch->peers);
	TAILQ_INIT(&ch->hs);
	TAILQ_INIT(&ch->ready);
	TAILQ_INIT(&ch->closing);
	if (borrowed != NULL) {
		ch->tls = borrowed;
		return ch;
	}
	ch->own_tls = 1;
	ch->tls = tls_ctx_new(server ? TLS_SERVER : TLS_CLIENT, cfg->ca,
	    cfg->crl, cfg->cert, cfg->key, err, errlen);
	if (ch->tls == NULL) {
		free(ch);
		return NULL;
	}
	return ch;
}

void
chan_free(struct chan *ch)
{
	struct evnode *e;
	struct peer *p;

	if (ch == NULL)
		return;
	if (ch->server)
		srv_free(ch);
	else
		cli_free(ch);
	while ((p = TAILQ_FIRST(&ch->peers)) != NULL)
		peer_free(ch, p);
	if (ch->srv != NULL)
		peer_free(ch, ch->srv);
	while ((e = TAILQ_FIRST(&ch->events)) != NULL) {
		TAILQ_REMOVE(&ch->events, e, link);
		chan_event_clear(&e->ev);
		free(e);
	}
	if (ch->sock != NULL)
		zmq_close(ch->sock);
	if (ch->own_ctx)
		zmq_ctx_term(ch->zctx);
	if (ch->own_tls)
		tls_ctx_free(ch->tls);
	free(ch);
}

const char *
chan_endpoint(const struct chan *ch)
{
	return ch->endpoint;
}

const struct tls_peer *
chan_self(const struct chan *ch)
{
	return tls_ctx_self(ch->tls);
}

/* ------------------------------------------------------------ logs */

/* Reports what a kind of noise dropped in its last second. */
static void
noise_flush(struct noise *z)
{
	if (z->dropped > 0)
		log_warnx("chan: %d more like \"%.40s...\" suppressed",
		    z->dropped, z->fmt);
	z->dropped = 0;
	z->n = 0;
}

/*
 * Logs about unauthenticated input: at most NOISE_PER_SEC a second of
 * each kind (format), so a flood cannot fill the logs nor hide the other
 * kinds.
 */
void
chan_noise(struct chan *ch, const char *fmt, ...)
{
	uint64_t sec = clock_ms() / 1000;
	struct noise *z = NULL;
	char msg[512];
	va_list ap;

	for (size_t i = 0; i < nitems(ch->noise); i++) {
		if (ch->noise[i].fmt == fmt) {
			z = &ch->noise[i];
			break;
		}
		if (z == NULL || ch->noise[i].sec < z->sec)
			z = &ch->noise[i]; /* the stalest, if none matches */
	}
	if (z->fmt != fmt || z->sec != sec) {
		if (z->fmt != NULL)
			noise_flush(z);
		z->fmt = fmt;
		z->sec = sec;
	}
	if (z->n >= NOISE_PER_SEC) {
		z->dropped++;
		return;
	}
	z->n++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
}

/* ------------------------------------------------------------ events */

/*
 * Queues an event; -1 (logged) if memory ran out, in which case a caller
 * holding a request or reply ends the session so it is delivered again.
 */
int
ev_push(struct chan *ch, enum chan_event_type type, struct peer *p, uint64_t id,
    const void *data, size_t len, const char *reason)
{
	struct evnode *e;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (len > 0 && (e->ev.data = malloc(len)) == NULL)) {
		free(e);
		log_warn("chan: event");
		return -1;
	}
	e->ev.type = type;
	e->ev.id = id;
	if (p != NULL) {
		e->ev.peer = p->handle;
		e->ev.role = p->role;
		strlcpy(e->ev.name, p->name, sizeof(e->ev.name));
	}
	if (len > 0) {
		memcpy(e->ev.data, data, len);
		e->ev.len = len;
	}
	if (reason != NULL)
		strlcpy(e->ev.reason, reason, sizeof(e->ev.reason));
	TAILQ_INSERT_TAIL(&ch->events, e, link);
	return 0;
}

int
chan_next(struct chan *ch, struct chan_event *ev)
{
	struct evnode *e;

	if ((e = TAILQ_FIRST(&ch->events)) == NULL)
		return 0;
	TAILQ_REMOVE(&ch->events, e, link);
	*ev = e->ev;
	free(e);
	return 1;
}

void
chan_event_clear(struct chan_event *ev)
{
	free(ev->data);
	ev->data = NULL;
	ev->len = 0;
}

/* ------------------------------------------------------------ public */

int
chan_pollitems(struct chan *ch, zmq_pollitem_t *items, int n)
{
	int k = 0;

	if (n < 1 || ch->sock == NULL)
		return 0;
	items[k++] = (zmq_pollitem_t){ ch->sock, 0, ZMQ_POLLIN, 0 };
	if (ch->mon != NULL && n >= 2)
		items[k++] = (zmq_pollitem_t){ ch->mon, 0, ZMQ_POLLIN, 0 };
	return k;
}

long
chan_timeout(struct chan *ch)
{
	long t = ch->server ? srv_timeout(ch) : cli_timeout(ch);
	uint64_t now;

	if (!TAILQ_EMPTY(&ch->events) || !TAILQ_EMPTY(&ch->dirty))
		return 0;
	if (ch->retry) {
		now = clock_ms();
		long r = ch->retry_at > now ? (long)(ch->retry_at - now) : 0;
		if (t < 0 || r < t)
			t = r;
	}
	return t;
}

/* Retries the sends that the socket refused before. */
static void
chan_retry(struct chan *ch)
{
	struct sessq *lists[] = { &ch->hs, &ch->ready, &ch->closing };
	struct sess *s;

	if (!ch->retry || clock_ms() < ch->retry_at)
		return;
	ch->retry = 0;
	for (size_t i = 0; i < nitems(lists); i++) {
		TAILQ_FOREACH(s, lists[i], link)
		{
			if (!TAILQ_EMPTY(&s->outq))
				sess_drain(s);
		}
	}
	if (ch->cs != NULL && !TAILQ_EMPTY(&ch->cs->outq))
		sess_drain(ch->cs);
}

/* Reads the sockets in mask (READ_*), runs the timers, retries sends. */
static int
process(struct chan *ch, int mask)
{
	int rc;

	chan_flush(ch);
	rc = ch->server ? srv_process(ch, mask) : cli_process(ch, mask);
	chan_flush(ch); /* answers made while processing: pongs, replays */
	chan_retry(ch);
	return rc;
}

int
chan_process(struct chan *ch)
{
	return process(ch, READ_DATA | READ_MON);
}

int
chan_poll(struct chan *ch, long timeout_ms)
{
	zmq_pollitem_t items[CHAN_POLLITEMS];
	int n = chan_pollitems(ch, items, CHAN_POLLITEMS), mask = 0;
	long t;

	chan_flush(ch); /* what the application queued, before sleeping */
	t = chan_timeout(ch);

	if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
		timeout_ms = t;
	if (n > 0 && zmq_poll(items, n, timeout_ms) == -1) {
		if (errno != EINTR)
			return -1;
		mask = READ_DATA | READ_MON;
	}
	/* zmq_poll is level-triggered for ZeroMQ sockets: what it did not
	 * flag has nothing to read, and each empty read costs syscalls. */
	if (n > 0 && (items[0].revents & ZMQ_POLLIN))
		mask |= READ_DATA;
	if (n > 1 && (items[1].revents & ZMQ_POLLIN))
		mask |= READ_MON;
	if (process(ch, mask) == -1)
		return -1;
	return TAILQ_EMPTY(&ch->events) ? 0 : 1;
}

int
chan_request(
    struct chan *ch, uint64_t peer, const void *data, size_t len, uint64_t *idp)
{
	struct peer *p = peer_find(ch, peer);

	if (p == NULL) {
		errno = EINVAL;
		return -1;
	}
	return rr_request(ch, p, data, len, idp);
}

int
chan_reply(
    struct chan *ch, uint64_t peer, uint64_t id, const void *data, size_t len)
{
	struct peer *p = peer_find(ch, peer);

	if (p == NULL) {
		errno = EINVAL;
		return -1;
	}
	return rr_reply(ch, p, id, data, len);
}

int
chan_send(struct chan *ch, uint64_t peer, const void *data, size_t len)
{
	struct peer *p = peer_find(ch, peer);

	if (p == NULL || len > (size_t)ch->cfg.max_message) {
		errno = EINVAL;
		return -1;
	}
	if (p->sess == NULL || p->sess->state != SESS_READY) {
		errno = ENOTCONN;
		return -1;
	}
	return sess_send_msg(p->sess, MSG_ONEWAY, 0, 0, data, len);
}

int
chan_cancel(struct chan *ch, uint64_t peer, uint64_t id)
{
	struct peer *p = peer_find(ch, peer);

	if (p == NULL) {
		errno = EINVAL;
		return -1;
	}
	return rr_cancel(p, id);
}

int
chan_drop(struct chan *ch, uint64_t peer, const char *why)
{
	struct peer *p;

	if (!ch->server || (p = peer_find(ch, peer)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (p->sess != NULL) {
		struct sess *s = p->sess;
		sess_send_msg(s, MSG_CLOSE, 0, 0, why, strlen(why));
		sess_close(s, why);
	}
	ev_push(ch, CHAN_EV_GONE, p, 0, NULL, 0, why);
	peer_free(ch, p);
	return 0;
}

int
chan_up(struct chan *ch, uint64_t peer)
{
	struct peer *p = peer_find(ch, peer);

	return p != NULL && p->sess != NULL && p->sess->state == SESS_READY;
}

void
chan_stats(const struct chan *ch, struct chan_stats *st)
{
	*st = ch->st;
	if (ch->server) {
		st->sessions = (uint64_t)ch->nsess;
		st->handshakes = (uint64_t)ch->nhs;
		st->peers = (uint64_t)ch->npeers;
	} else {
		st->sessions = ch->cs != NULL;
		st->handshakes = ch->cs != NULL && ch->cs->state != SESS_READY;
		st->peers = chan_up((struct chan *)ch, 0);
	}
}

int
chan_sockopt(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v));
}

int
chan_sock_common(void *sock, const struct chan_config *cfg, int linger_ms)
{
	int64_t maxmsg = CHAN_FRAME_MAX;

	if (chan_sockopt(sock, ZMQ_LINGER, linger_ms) == -1 ||
	    chan_sockopt(sock, ZMQ_SNDHWM, cfg->hwm) == -1 ||
	    chan_sockopt(sock, ZMQ_RCVHWM, cfg->hwm) == -1 ||
	    chan_sockopt(sock, ZMQ_HEARTBEAT_IVL, cfg->heartbeat_ms) == -1 ||
	    chan_sockopt(
		sock, ZMQ_HEARTBEAT_TIMEOUT, cfg->heartbeat_timeout_ms) == -1 ||
	    chan_sockopt(sock, ZMQ_HEARTBEAT_TTL, cfg->heartbeat_timeout_ms) ==
		-1 ||
	    chan_sockopt(sock, ZMQ_HANDSHAKE_IVL, cfg->handshake_timeout_ms) ==
		-1)
		return -1;
	return zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
}
