/*
 * chan_server.c — owns the broker's side of the channel: the ROUTER
 * socket, one TLS session per connection (routing id, checked against the
 * session id of every frame), the caps that keep strangers from using up
 * memory, and the timers that end silent or stuck sessions.
 *
 * It must never open a session for anything but a TLS ClientHello, never
 * let a session past the handshake without a verified certificate of an
 * allowed role, never block on a send (ROUTER_MANDATORY, non-blocking,
 * refused sends stay queued) and never exceed max_sessions sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "log.h"
#include "util.h"

#define READ_BATCH 512 /* messages read per chan_process() */
#define TICK_MS	   100 /* timer resolution */
#define LINGER_MS  200 /* ZMQ_LINGER on close */

static size_t
rid_hash(const struct chan *ch, const uint8_t *rid, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ ch->epoch;

	for (size_t i = 0; i < len; i++)
		h = (h ^ rid[i]) * 1099511628211ULL;
	return (size_t)(h & (ch->hsize - 1));
}

static struct sess *
sess_lookup(struct chan *ch, const uint8_t *rid, size_t len)
{
	struct sess *s;

	for (s = ch->htab[rid_hash(ch, rid, len)]; s != NULL; s = s->hnext)
		if (s->ridlen == len && memcmp(s->rid, rid, len) == 0)
			return s;
	return NULL;
}

static void
hash_del(struct chan *ch, struct sess *s)
{
	struct sess **pp = &ch->htab[rid_hash(ch, s->rid, s->ridlen)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			s->hnext = NULL;
			return;
		}
}

/*
 * Takes the session out of the live lists. It stays in the hash while it
 * closes, so that what its peer still sends is dropped quietly.
 */
void
srv_sess_closed(struct sess *s)
{
	struct chan *ch = s->ch;

	if (s->list == SL_HS) {
		TAILQ_REMOVE(&ch->hs, s, link);
		ch->nhs--;
		ch->nsess--;
	} else if (s->list == SL_READY) {
		TAILQ_REMOVE(&ch->ready, s, link);
		ch->nsess--;
	}
	s->list = SL_NONE;
}

void
srv_forget(struct sess *s)
{
	hash_del(s->ch, s);
}

/* Frees a session at once: evicted strangers get no goodbye. */
static void
sess_kill(struct sess *s)
{
	struct chan *ch = s->ch;

	if (s->list == SL_CLOSING) {
		chan_reap(s);
		return;
	}
	if (s->peer != NULL)
		peer_detach(s->peer, "session evicted");
	srv_sess_closed(s);
	hash_del(ch, s);
	sess_free(s);
}

int
srv_send(struct sess *s, struct frame *f)
{
	struct chan *ch = s->ch;
	uint8_t h[CHAN_HDR_LEN];

	if (ch->sock == NULL) { /* detached (fuzzing): the wire is a sink */
		zmq_msg_close(&f->msg);
		return 0;
	}
	hdr_pack(h, CHAN_KIND_TLS, s->sid);
	/* With ROUTER_MANDATORY the routing frame fails as a whole
	 * (EAGAIN at the high-water mark, EHOSTUNREACH if gone); the
	 * frames after it are then always taken. */
	if (zmq_send(ch->sock, s->rid, s->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
	    -1)
		return -1;
	if (zmq_send(ch->sock, h, sizeof(h), ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
		-1 ||
	    zmq_msg_send(&f->msg, ch->sock, ZMQ_DONTWAIT) == -1) {
		/* Not after the routing frame was taken; were it to happen,
		 * sending the routing frame again would corrupt the socket,
		 * so the frame counts as gone and the peer resets. */
		log_warn("chan: send to %s", s->addr);
		zmq_msg_close(&f->msg);
	}
	return 0;
}

/* Tells a stranger its session is unknown; stateless, best effort. */
static void
send_reset(struct chan *ch, const uint8_t *rid, size_t ridlen, uint64_t sid)
{
	uint8_t h[CHAN_HDR_LEN];

	ch->st.resets++;
	if (ch->sock == NULL)
		return;
	hdr_pack(h, CHAN_KIND_RESET, sid);
	if (zmq_send(ch->sock, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
		return;
	zmq_send(ch->sock, h, sizeof(h), ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(ch->sock, "", 0, ZMQ_DONTWAIT);
}

/* A new session for a ClientHello, within the caps; NULL if refused. */
static struct sess *
sess_open(struct chan *ch, const uint8_t *rid, size_t ridlen, uint64_t sid,
    const char *addr)
{
	struct sess *s;
	size_t h;

	/* Half-open sessions make way for new ones, oldest first;
	 * authenticated sessions are never evicted by strangers. */
	while (ch->nhs > 0 &&
	    (ch->nhs >= ch->cfg.max_handshakes ||
		ch->nsess >= ch->cfg.max_sessions)) {
		s = TAILQ_FIRST(&ch->hs);
		chan_noise(ch,
		    "chan: evicting half-open session from %s: more than "
		    "%d handshakes or %d sessions",
		    s->addr, ch->cfg.max_handshakes, ch->cfg.max_sessions);
		ch->st.evicted++;
		sess_kill(s);
	}
	if (ch->nsess >= ch->cfg.max_sessions) {
		chan_noise(ch, "chan: refusing session from %s: %d sessions",
		    addr, ch->nsess);
		return NULL;
	}
	if ((s = sess_new(ch)) == NULL) {
		chan_noise(
		    ch, "chan: refusing session from %s: out of memory", addr);
		return NULL;
	}
	memcpy(s->rid, rid, ridlen);
	s->ridlen = ridlen;
	s->sid = sid;
	strlcpy(s->addr, addr, sizeof(s->addr));
	h = rid_hash(ch, rid, ridlen);
	s->hnext = ch->htab[h];
	ch->htab[h] = s;
	TAILQ_INSERT_TAIL(&ch->hs, s, link);
	s->list = SL_HS;
	ch->nhs++;
	ch->nsess++;
	return s;
}

/*
 * One message from the socket (or a fuzzer). Lengths are checked here
 * before anything looks inside.
 */
int
srv_input(struct chan *ch, const uint8_t *rid, size_t ridlen,
    const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen,
    const char *addr)
{
	struct sess *s;
	uint64_t sid;

	if (ridlen == 0 || ridlen > CHAN_RID_MAX || hlen != CHAN_HDR_LEN ||
	    hdr[0] != CHAN_WIRE_VERSION || dlen > CHAN_FRAME_MAX) {
		ch->st.dropped++;
		chan_noise(ch,
		    "chan: dropped a message from %s: not a "
		    "channel frame",
		    addr);
		return -1;
	}
	sid = be64_get(hdr + 2);
	if (hdr[1] != CHAN_KIND_TLS || sid == 0) {
		ch->st.dropped++;
		chan_noise(ch,
		    "chan: dropped a message from %s: bad kind or "
		    "session id",
		    addr);
		return -1;
	}
	s = sess_lookup(ch, rid, ridlen);
	if (s != NULL && s->sid == sid)
		return sess_input(s, data, dlen);
	if (!tls_is_client_hello(data, dlen)) {
		ch->st.dropped++;
		chan_noise(ch,
		    "chan: dropped a message from %s: unknown "
		    "session and not a TLS ClientHello",
		    addr);
		send_reset(ch, rid, ridlen, sid);
		return -1;
	}
	/* One session per connection: a new ClientHello replaces the old. */
	if (s != NULL) {
		if (s->state == SESS_READY)
			log_info("chan: %s %s starts a new session",
			    tls_role_name(s->peer ? s->peer->role : 0),
			    s->peer ? s->peer->name : s->addr);
		sess_close(s, "replaced by a new session on its connection");
		hash_del(ch, s);
	}
	if ((s = sess_open(ch, rid, ridlen, sid, addr)) == NULL) {
		send_reset(ch, rid, ridlen, sid);
		return -1;
	}
	return sess_input(s, data, dlen);
}

void
srv_tls_done(struct sess *s)
{
	const struct tls_peer *p = tls_peer(s->tls);

	log_debug("chan: %s authenticated as %s %s", s->addr,
	    tls_role_name(p->role), p->name);
}

/* Finds the peer instance of this certificate, or makes it. */
static struct peer *
peer_get(struct chan *ch, const struct tls_peer *who, uint64_t epoch)
{
	struct peer *p, *old = NULL;
	int detached = 0;

	TAILQ_FOREACH(p, &ch->peers, link)
	{
		if (p->epoch == epoch && p->role == who->role &&
		    strcmp(p->name, who->name) == 0)
			return p;
		if (p->sess == NULL) {
			detached++;
			if (old == NULL || p->down_since < old->down_since)
				old = p;
		}
	}
	/* Remembered-but-gone peers are capped like sessions. */
	if (old != NULL && detached >= ch->cfg.max_sessions) {
		ev_push(ch, CHAN_EV_GONE, old, 0, NULL, 0,
		    "too many disconnected peers");
		peer_free(ch, old);
	}
	return peer_new(ch, who->role, who->name, epoch);
}

int
srv_on_msg(struct sess *s, int type, uint64_t id, uint64_t aux,
    const uint8_t *data, size_t len)
{
	struct chan *ch = s->ch;
	const struct tls_peer *who = tls_peer(s->tls);
	struct peer *p;
	uint8_t w[8];

	/* A newer client says so in aux and gets our version back. */
	if (type != MSG_HELLO || s->state != SESS_HELLO || id == 0 || aux < 1 ||
	    len < 4) {
		sess_close(s, "protocol error: unexpected hello");
		return -1;
	}
	if ((p = peer_get(ch, who, id)) == NULL) {
		sess_close(s, "out of memory");
		return -1;
	}
	if (p->sess != NULL) {
		struct sess *old = p->sess;
		sess_send_msg(old, MSG_CLOSE, 0, 0, "replaced", 8);
		sess_close(old, "replaced by a new session");
	}
	TAILQ_REMOVE(&ch->hs, s, link);
	ch->nhs--;
	TAILQ_INSERT_TAIL(&ch->ready, s, link);
	s->list = SL_READY;
	p->window = be32_get(data) > 0 ? (int)be32_get(data) : 1;
	if (p->window > ch->cfg.max_pending)
		p->window = ch->cfg.max_pending;
	be32_put(w, (uint32_t)ch->cfg.heartbeat_ms);
	be32_put(w + 4, (uint32_t)ch->cfg.max_pending);
	s->state = SESS_READY;
	if (sess_send_msg(s, MSG_WELCOME, ch->epoch, CHAN_INNER_VERSION, w,
		sizeof(w)) == -1)
		return -1;
	log_info("chan: %s %s connected from %s", tls_role_name(who->role),
	    who->name, s->addr);
	peer_attach(p, s);
	return s->state == SESS_CLOSING ? -1 : 0;
}

/* Re-verifies every live peer (revoked or expired since it connected). */
static void
srv_recheck(struct chan *ch)
{
	struct sess *s, *next;
	char err[CHAN_REASON_MAX], why[CHAN_REASON_MAX + 32];

	chan_reload_crl(ch);
	for (s = TAILQ_FIRST(&ch->ready); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (tls_recheck(s->tls, err, sizeof(err)) == 0)
			continue;
		snprintf(
		    why, sizeof(why), "certificate no longer valid: %s", err);
		log_warnx("chan: dropping %s %s: %s",
		    s->peer ? tls_role_name(s->peer->role) : "peer",
		    s->peer ? s->peer->name : s->addr, why);
		sess_send_msg(s, MSG_CLOSE, 0, 0, why, strlen(why));
		sess_close(s, why);
	}
}

static void
srv_timers(struct chan *ch)
{
	uint64_t now = clock_ms();
	struct sess *s, *next;
	struct peer *p, *pn;
	char why[96];

	while ((s = TAILQ_FIRST(&ch->hs)) != NULL && s->deadline <= now) {
		chan_noise(ch, "chan: handshake from %s timed out", s->addr);
		ch->st.timeouts++;
		sess_close(s, "handshake timed out");
	}
	for (s = TAILQ_FIRST(&ch->ready); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (now - s->last_rx < (uint64_t)ch->cfg.heartbeat_timeout_ms)
			continue;
		snprintf(why, sizeof(why), "silent for %llu ms",
		    (unsigned long long)(now - s->last_rx));
		log_warnx("chan: %s %s %s", tls_role_name(s->peer->role),
		    s->peer->name, why);
		ch->st.timeouts++;
		sess_send_msg(s, MSG_CLOSE, 0, 0, why, strlen(why));
		sess_close(s, why);
	}
	sess_reap(ch, now);
	for (p = TAILQ_FIRST(&ch->peers); p != NULL; p = pn) {
		pn = TAILQ_NEXT(p, link);
		/* A session closed above, after `now` was read, has a
		 * later down_since: without the first test the
		 * subtraction wraps and forgets the peer at once. */
		if (p->sess == NULL && p->down_since <= now &&
		    now - p->down_since >= (uint64_t)ch->cfg.linger_ms) {
			ev_push(ch, CHAN_EV_GONE, p, 0, NULL, 0,
			    "disconnected for too long");
			peer_free(ch, p);
		}
	}
	if (now >= ch->crl_at) {
		ch->crl_at = now + ch->cfg.crl_reload_ms;
		srv_recheck(ch);
	}
}

long
srv_timeout(struct chan *ch)
{
	(void)ch;
	return TICK_MS;
}

/* Reads one whole message; 1 done, 0 nothing waiting, -1 error. */
static int
srv_read_one(struct chan *ch)
{
	zmq_msg_t m[3], extra;
	int n = 0, total = 0, more = 1;
	char addr[64] = "?";
	const char *a;

	while (more) {
		zmq_msg_t *cur = n < 3 ? &m[n] : &extra;

		zmq_msg_init(cur);
		if (zmq_msg_recv(cur, ch->sock, ZMQ_DONTWAIT) == -1) {
			/* Multipart messages arrive whole: only the first
			 * frame can find nothing there. */
			zmq_msg_close(cur);
			for (int i = 0; i < n; i++)
				zmq_msg_close(&m[i]);
			return errno == EAGAIN && total == 0 ? 0 : -1;
		}
		total++;
		more = zmq_msg_more(cur);
		if (cur == &extra)
			zmq_msg_close(&extra);
		else
			n++;
	}
	if ((a = zmq_msg_gets(&m[n - 1], "Peer-Address")) != NULL)
		strlcpy(addr, a, sizeof(addr));
	if (total != 3) {
		ch->st.dropped++;
		chan_noise(ch, "chan: dropped a message from %s: %d frames",
		    addr, total - 1); /* not counting the routing id */
	} else
		srv_input(ch, zmq_msg_data(&m[0]), zmq_msg_size(&m[0]),
		    zmq_msg_data(&m[1]), zmq_msg_size(&m[1]),
		    zmq_msg_data(&m[2]), zmq_msg_size(&m[2]), addr);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&m[i]);
	return 1;
}

int
srv_process(struct chan *ch, int mask)
{
	int rc = 1;

	if (ch->sock == NULL || !(mask & READ_DATA))
		rc = 0;
	for (int i = 0; i < READ_BATCH && rc == 1; i++)
		if ((rc = srv_read_one(ch)) == -1 && errno != EINTR) {
			log_warn("chan: receive");
			return -1;
		}
	srv_timers(ch);
	return 0;
}

static int
srv_init(
    struct chan *ch, const struct chan_config *cfg, char *err, size_t errlen)
{
	int roles;

	if (tls_roles_parse(
		cfg->allow ? cfg->allow : "", &roles, err, errlen) == -1 ||
	    tls_ctx_allow(ch->tls, roles) == -1)
		return errf(err, errlen, "allow_roles: %s", err);
	for (ch->hsize = 64; ch->hsize < (size_t)cfg->max_sessions * 2;
	     ch->hsize *= 2)
		;
	if ((ch->htab = calloc(ch->hsize, sizeof(*ch->htab))) == NULL)
		return errf(err, errlen, "out of memory");
	ch->crl_at = clock_ms() + cfg->crl_reload_ms;
	return 0;
}

struct chan *
srv_detached(const struct chan_config *cfg, struct tls_ctx *tls, char *err,
    size_t errlen)
{
	struct chan *ch;

	if ((ch = chan_alloc(1, cfg, tls, err, errlen)) == NULL)
		return NULL;
	if (srv_init(ch, cfg, err, errlen) == -1) {
		chan_free(ch);
		return NULL;
	}
	return ch;
}

struct chan *
chan_server_new(void *zctx, const char *endpoint, const struct chan_config *cfg,
    char *err, size_t errlen)
{
	struct chan *ch;
	size_t len;

	if ((ch = srv_detached(cfg, NULL, err, errlen)) == NULL)
		return NULL;
	ch->zctx = zctx;
	if (zctx == NULL) {
		ch->zctx = zmq_ctx_new();
		ch->own_ctx = 1;
	}
	if (ch->zctx == NULL ||
	    (ch->sock = zmq_socket(ch->zctx, ZMQ_ROUTER)) == NULL) {
		errf(err, errlen, "zmq: %s", zmq_strerror(errno));
		chan_free(ch);
		return NULL;
	}
	if (chan_sockopt(ch->sock, ZMQ_ROUTER_MANDATORY, 1) == -1 ||
	    chan_sock_common(ch->sock, cfg, LINGER_MS) == -1) {
		errf(err, errlen, "zmq options: %s", zmq_strerror(errno));
		chan_free(ch);
		return NULL;
	}
	if (zmq_bind(ch->sock, endpoint) == -1) {
		errf(err, errlen, "bind %s: %s", endpoint, zmq_strerror(errno));
		chan_free(ch);
		return NULL;
	}
	len = sizeof(ch->endpoint);
	if (zmq_getsockopt(ch->sock, ZMQ_LAST_ENDPOINT, ch->endpoint, &len) ==
	    -1)
		strlcpy(ch->endpoint, endpoint, sizeof(ch->endpoint));
	return ch;
}

void
srv_free(struct chan *ch)
{
	struct sess *s;

	/* Say goodbye to everyone who is listening, then go. */
	while ((s = TAILQ_FIRST(&ch->ready)) != NULL) {
		sess_send_msg(s, MSG_CLOSE, 0, 0, "broker shutting down", 20);
		sess_close(s, "shutting down");
	}
	while ((s = TAILQ_FIRST(&ch->hs)) != NULL)
		sess_kill(s);
	while ((s = TAILQ_FIRST(&ch->closing)) != NULL)
		sess_kill(s);
	free(ch->htab);
	ch->htab = NULL;
}
