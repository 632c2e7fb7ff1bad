/*
 * chan_sess.c — owns one session of the secure channel, on either side:
 * ciphertext frames in, the TLS handshake, plaintext cut into inner
 * messages and dispatched; messages queued, encrypted at the flush, and
 * frames handed to the socket, kept and retried while it refuses them;
 * closing and freeing.
 *
 * It must never act on an inner message before its length is bounded,
 * never put application bytes on the wire outside TLS, and never drop
 * ciphertext of a live session.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "log.h"
#include "util.h"

#define RETRY_MS   5	 /* resend attempt after EAGAIN/EHOSTUNREACH */
#define CLOSING_MS 1000	 /* how long a closing session may flush */
#define QUIET_MS   250	 /* and how long it absorbs its peer's last words */
#define READ_CHUNK 16384 /* plaintext read at once */
#define PT_MAX	   16384 /* plaintext queued per session to encrypt */

struct sess *
sess_new(struct chan *ch)
{
	struct sess *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->tls = tls_new(ch->tls)) == NULL) {
		free(s);
		return NULL;
	}
	s->ch = ch;
	s->serial = ++ch->serial;
	s->state = SESS_HANDSHAKE;
	TAILQ_INIT(&s->outq);
	s->born = s->last_rx = s->last_tx = clock_ms();
	s->deadline = s->born + ch->cfg.handshake_timeout_ms;
	ch->st.opened++;
	return s;
}

void
sess_free(struct sess *s)
{
	struct frame *f;

	if (s == NULL)
		return;
	while ((f = TAILQ_FIRST(&s->outq)) != NULL) {
		TAILQ_REMOVE(&s->outq, f, link);
		zmq_msg_close(&f->msg);
		free(f);
	}
	if (s->dirty)
		TAILQ_REMOVE(&s->ch->dirty, s, dlink);
	tls_free(s->tls);
	free(s->in);
	free(s->pt);
	free(s);
}

/* Tries to hand every queued frame to the socket; 1 once none is left. */
int
sess_drain(struct sess *s)
{
	struct chan *ch = s->ch;
	struct frame *f;

	while ((f = TAILQ_FIRST(&s->outq)) != NULL) {
		size_t n = zmq_msg_size(&f->msg);
		int rc = ch->server ? srv_send(s, f) : cli_send(s, f);

		if (rc == -1) {
			/* EAGAIN or EHOSTUNREACH: keep it, try again. */
			ch->st.deferred++;
			chan_wake_retry(ch);
			return 0;
		}
		TAILQ_REMOVE(&s->outq, f, link);
		free(f);
		s->outbytes -= n;
		ch->st.bytes_out += n;
	}
	return 1;
}

void
chan_wake_retry(struct chan *ch)
{
	if (!ch->retry) {
		ch->retry = 1;
		ch->retry_at = clock_ms() + RETRY_MS;
	}
}

/* Moves the ciphertext TLS produced into frames and tries to send them. */
void
sess_flush(struct sess *s)
{
	size_t n;

	while ((n = tls_pending(s->tls)) > 0) {
		struct frame *f;

		if (n > CHAN_FRAME_MAX)
			n = CHAN_FRAME_MAX;
		if ((f = malloc(sizeof(*f))) == NULL ||
		    zmq_msg_init_size(&f->msg, n) == -1) {
			/* The ciphertext stays in TLS for the next flush. */
			free(f);
			log_warn("chan: frame");
			break;
		}
		n = tls_take(s->tls, zmq_msg_data(&f->msg), n);
		if (n == 0) { /* cannot happen: pending said otherwise */
			zmq_msg_close(&f->msg);
			free(f);
			break;
		}
		if (n < zmq_msg_size(&f->msg)) {
			zmq_msg_t m;
			zmq_msg_init_size(&m, n);
			memcpy(zmq_msg_data(&m), zmq_msg_data(&f->msg), n);
			zmq_msg_close(&f->msg);
			f->msg = m;
		}
		TAILQ_INSERT_TAIL(&s->outq, f, link);
		s->outbytes += n;
	}
	if (!TAILQ_EMPTY(&s->outq))
		sess_drain(s);
}

/* Encrypts the queued messages and hands them to the socket. */
int
sess_commit(struct sess *s)
{
	struct chan *ch = s->ch;
	char why[96];

	if (s->dirty) {
		TAILQ_REMOVE(&ch->dirty, s, dlink);
		s->dirty = 0;
	}
	if (s->ptlen > 0) {
		int rc = tls_write(s->tls, s->pt, s->ptlen);

		s->ptlen = 0;
		if (rc == -1) {
			sess_close(s, tls_error(s->tls));
			return -1;
		}
	}
	sess_flush(s);
	if (s->outbytes > (size_t)ch->cfg.max_buffer) {
		snprintf(why, sizeof(why),
		    "peer not reading: %zu bytes unsent (cap %lld)",
		    s->outbytes, (long long)ch->cfg.max_buffer);
		sess_close(s, why);
		return -1;
	}
	return 0;
}

/* Sends every session's queued messages. */
void
chan_flush(struct chan *ch)
{
	struct sess *s;

	while ((s = TAILQ_FIRST(&ch->dirty)) != NULL)
		sess_commit(s);
}

/*
 * Queues one message. Messages collect until the next chan_flush() (the
 * event loop calls it before it sleeps), so that a burst leaves as a few
 * TLS records in one frame instead of one of each per message. A message
 * larger than a record goes out at once.
 */
int
sess_send_msg(struct sess *s, int type, uint64_t id, uint64_t aux,
    const void *data, size_t len)
{
	struct chan *ch = s->ch;
	uint8_t h[MSG_HDR_LEN];

	if (s->state == SESS_CLOSING || !tls_done(s->tls))
		return -1;
	if (len > (size_t)ch->cfg.max_message) {
		errno = EINVAL;
		return -1;
	}
	be32_put(h, (uint32_t)len);
	h[4] = (uint8_t)type;
	be64_put(h + 5, id);
	be64_put(h + 13, aux);
	s->last_tx = clock_ms();
	if (s->ptlen + MSG_HDR_LEN + len > PT_MAX && s->ptlen > 0 &&
	    sess_commit(s) == -1)
		return -1;
	if (MSG_HDR_LEN + len > PT_MAX) {
		if (tls_write(s->tls, h, sizeof(h)) == -1 ||
		    tls_write(s->tls, data, len) == -1) {
			sess_close(s, tls_error(s->tls));
			return -1;
		}
		return sess_commit(s);
	}
	if (s->pt == NULL && (s->pt = malloc(PT_MAX)) == NULL) {
		sess_close(s, "out of memory");
		return -1;
	}
	memcpy(s->pt + s->ptlen, h, sizeof(h));
	if (len > 0)
		memcpy(s->pt + s->ptlen + MSG_HDR_LEN, data, len);
	s->ptlen += MSG_HDR_LEN + len;
	if (!s->dirty) {
		TAILQ_INSERT_TAIL(&ch->dirty, s, dlink);
		s->dirty = 1;
	}
	return 0;
}

/*
 * Ends a session: the peer (if any) goes down, a close_notify is queued
 * behind whatever is still unsent, and the session is freed once that
 * left or after CLOSING_MS.
 */
void
sess_close(struct sess *s, const char *why)
{
	struct chan *ch = s->ch;

	if (s->state == SESS_CLOSING)
		return;
	/* What was queued leaves before the close_notify. */
	if ((s->dirty || s->ptlen > 0) && sess_commit(s) == -1)
		return; /* that closed it */
	if (s->peer != NULL)
		peer_detach(s->peer, why);
	if (ch->server)
		srv_sess_closed(s);
	else
		cli_sess_closed(s);
	s->state = SESS_CLOSING;
	s->closed_at = clock_ms();
	s->deadline = s->closed_at + CLOSING_MS;
	tls_close(s->tls);
	sess_flush(s);
	TAILQ_INSERT_TAIL(&ch->closing, s, link);
	s->list = SL_CLOSING;
	ch->nclosing++;
	/* Closing sessions are capped like live ones. */
	while (ch->nclosing > ch->cfg.max_sessions)
		chan_reap(TAILQ_FIRST(&ch->closing));
}

/* Frees a closing session. */
void
chan_reap(struct sess *s)
{
	struct chan *ch = s->ch;

	TAILQ_REMOVE(&ch->closing, s, link);
	ch->nclosing--;
	if (ch->server)
		srv_forget(s);
	sess_free(s);
}

/* Frees the closing sessions that are done. */
void
sess_reap(struct chan *ch, uint64_t now)
{
	struct sess *s, *next;

	for (s = TAILQ_FIRST(&ch->closing); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if ((TAILQ_EMPTY(&s->outq) && s->closed_at <= now &&
			now - s->closed_at >= QUIET_MS) ||
		    s->deadline <= now)
			chan_reap(s);
	}
}

/* Checks and passes on one inner message. -1 when the session ended. */
static int
msg_dispatch(struct sess *s, int type, uint64_t id, uint64_t aux,
    const uint8_t *p, size_t len)
{
	char why[CHAN_REASON_MAX];

	switch (type) {
	case MSG_HELLO:
	case MSG_WELCOME:
		return s->ch->server ? srv_on_msg(s, type, id, aux, p, len)
				     : cli_on_msg(s, type, id, aux, p, len);
	case MSG_CLOSE: {
		char r[128];
		size_t n = len < sizeof(r) - 1 ? len : sizeof(r) - 1;

		for (size_t i = 0; i < n; i++)
			r[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
		r[n] = '\0';
		snprintf(why, sizeof(why), "peer closed the session: %s", r);
		sess_close(s, why);
		return -1;
	}
	case MSG_REQ:
	case MSG_REP:
	case MSG_ONEWAY:
	case MSG_PING:
	case MSG_PONG:
		if (s->state != SESS_READY || s->peer == NULL) {
			sess_close(s,
			    "protocol error: message before "
			    "hello");
			return -1;
		}
		if (type == MSG_PING &&
		    sess_send_msg(
			s, MSG_PONG, id, rr_floor(s->peer), NULL, 0) == -1)
			return -1;
		if (rr_on_msg(s->peer, type, id, aux, p, len) == -1) {
			/* rr_on_msg closed the session. */
			return -1;
		}
		return s->state == SESS_CLOSING ? -1 : 0;
	default:
		snprintf(why, sizeof(why),
		    "protocol error: unknown message type %d", type);
		sess_close(s, why);
		return -1;
	}
}

/* Makes room for need more plaintext bytes, within the cap. */
static int
in_reserve(struct sess *s, size_t need)
{
	size_t cap = s->incap ? s->incap : READ_CHUNK + MSG_HDR_LEN;
	uint8_t *p;

	if (s->inlen + need <= s->incap)
		return 0;
	while (cap < s->inlen + need)
		cap *= 2;
	if ((p = realloc(s->in, cap)) == NULL)
		return -1;
	s->in = p;
	s->incap = cap;
	return 0;
}

/* Cuts whole messages off the plaintext buffer. -1 when it ended. */
static int
in_parse(struct sess *s)
{
	size_t off = 0;
	int rc = 0;

	while (s->inlen - off >= MSG_HDR_LEN) {
		const uint8_t *h = s->in + off;
		size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 |
		    (size_t)h[2] << 8 | h[3];

		if (len > (size_t)s->ch->cfg.max_message) {
			char why[96];
			snprintf(why, sizeof(why),
			    "protocol error: message of %zu bytes over the "
			    "cap",
			    len);
			sess_close(s, why);
			return -1;
		}
		if (s->inlen - off < MSG_HDR_LEN + len)
			break;
		rc = msg_dispatch(s, h[4], be64_get(h + 5), be64_get(h + 13),
		    h + MSG_HDR_LEN, len);
		off += MSG_HDR_LEN + len;
		if (rc == -1)
			return -1;
	}
	if (off > 0) {
		memmove(s->in, s->in + off, s->inlen - off);
		s->inlen -= off;
	}
	return 0;
}

/* Reads all plaintext the input so far allows. -1 when it ended. */
static int
sess_read(struct sess *s)
{
	ssize_t n;

	for (;;) {
		if (in_reserve(s, READ_CHUNK) == -1) {
			sess_close(s, "out of memory");
			return -1;
		}
		n = tls_read(s->tls, s->in + s->inlen, READ_CHUNK);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (s->state != SESS_READY && !s->ch->server) {
				cli_tls_failed(s);
				return -1;
			}
			sess_close(s, tls_error(s->tls));
			return -1;
		}
		s->inlen += (size_t)n;
		if (in_parse(s) == -1)
			return -1;
	}
}

/*
 * One frame of ciphertext from the peer: advances the handshake, then
 * reads and dispatches whatever plaintext it completes. -1 when the
 * session ended (it is then closing, not freed).
 */
int
sess_input(struct sess *s, const uint8_t *data, size_t len)
{
	enum tls_state st;

	if (s->state == SESS_CLOSING)
		return -1;
	s->last_rx = clock_ms();
	s->ch->st.bytes_in += len;
	if (tls_feed(s->tls, data, len) == -1) {
		sess_close(s, tls_error(s->tls));
		return -1;
	}
	if (s->state == SESS_HANDSHAKE) {
		st = tls_handshake(s->tls);
		if (st != TLS_DONE)
			sess_flush(s); /* our flight, or the refusing alert */
		if (st == TLS_FAILED) {
			if (s->ch->server) {
				s->ch->st.refused++;
				chan_noise(s->ch, "chan: refused %s: %s",
				    s->addr, tls_error(s->tls));
				sess_close(s, tls_error(s->tls));
			} else
				cli_tls_failed(s); /* counts and reports */
			return -1;
		}
		if (st == TLS_WANT)
			return 0;
		s->state = SESS_HELLO;
		/* The client's last flight and its HELLO leave as one frame. */
		if (s->ch->server)
			srv_tls_done(s);
		else
			cli_tls_done(s);
		if (s->state == SESS_CLOSING)
			return -1;
		sess_flush(s);
	}
	return sess_read(s);
}
