/*
 * chan_rr.c — owns peers and the reliable request/reply layer of the
 * channel: requests we sent wait here until their reply arrives and are
 * re-sent on every new session; requests we received are remembered with
 * their reply, so a re-sent request is answered again instead of being
 * executed twice.
 *
 * It must never deliver a request twice to the application (per peer
 * instance), never forget a reply the requester may still ask for unless
 * a memory cap forces it (logged), and never keep more than the caps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "log.h"
#include "util.h"

struct peer *
peer_new(struct chan *ch, int role, const char *name, uint64_t epoch)
{
	struct peer *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->handle = ch->server ? ++ch->next_handle : 0;
	p->role = role;
	strlcpy(p->name, name, sizeof(p->name));
	p->epoch = epoch;
	p->next_id = 1;
	p->window = ch->cfg.max_pending; /* until the peer says */
	TAILQ_INIT(&p->out);
	TAILQ_INIT(&p->in);
	if (ch->server) {
		TAILQ_INSERT_TAIL(&ch->peers, p, link);
		ch->npeers++;
	}
	return p;
}

static void
in_free(struct peer *p, struct rr_in *r)
{
	TAILQ_REMOVE(&p->in, r, link);
	p->nin--;
	if (!r->done)
		p->nin_pending--;
	p->inbytes -= r->len;
	free(r->reply);
	free(r);
}

static void
out_free(struct peer *p, struct rr_out *r)
{
	TAILQ_REMOVE(&p->out, r, link);
	p->nout--;
	p->outbytes -= r->len;
	free(r->data);
	free(r);
}

void
rr_reset_in(struct peer *p)
{
	struct rr_in *r;

	while ((r = TAILQ_FIRST(&p->in)) != NULL)
		in_free(p, r);
	p->floor_seen = 0;
}

void
peer_free(struct chan *ch, struct peer *p)
{
	struct rr_out *o;

	if (p->sess != NULL)
		p->sess->peer = NULL;
	while ((o = TAILQ_FIRST(&p->out)) != NULL)
		out_free(p, o);
	rr_reset_in(p);
	if (ch->server) {
		TAILQ_REMOVE(&ch->peers, p, link);
		ch->npeers--;
	} else if (ch->srv == p)
		ch->srv = NULL;
	free(p);
}

struct peer *
peer_find(struct chan *ch, uint64_t handle)
{
	struct peer *p;

	if (!ch->server)
		return ch->srv;
	TAILQ_FOREACH(p, &ch->peers, link)
	if (p->handle == handle)
		return p;
	return NULL;
}

/* The session is authenticated: the peer is up and gets what it missed. */
void
peer_attach(struct peer *p, struct sess *s)
{
	p->sess = s;
	s->peer = p;
	s->state = SESS_READY;
	p->down_since = 0;
	ev_push(s->ch, CHAN_EV_UP, p, 0, NULL, 0, NULL);
	rr_resend(p);
}

void
peer_detach(struct peer *p, const char *why)
{
	struct sess *s = p->sess;

	if (s == NULL)
		return;
	s->peer = NULL;
	p->sess = NULL;
	p->down_since = clock_ms();
	ev_push(s->ch, CHAN_EV_DOWN, p, 0, NULL, 0, why);
}

/* Every id below this has been answered (or cancelled) here. */
uint64_t
rr_floor(const struct peer *p)
{
	const struct rr_out *o = TAILQ_FIRST(&p->out);

	return o != NULL ? o->id : p->next_id;
}

/*
 * Sends the waiting requests not yet written to the current session, as
 * many as the peer takes in flight (its max_pending).
 */
int
rr_resend(struct peer *p)
{
	struct sess *s = p->sess;
	struct rr_out *o;
	int inflight = 0;

	if (s == NULL || s->state != SESS_READY)
		return 0;
	TAILQ_FOREACH(o, &p->out, link)
	{
		if (o->sent_on == s->serial) {
			inflight++;
			continue;
		}
		if (inflight >= p->window)
			break;
		inflight++;
		if (o->sent_on != 0)
			s->ch->st.resent++;
		if (sess_send_msg(
			s, MSG_REQ, o->id, rr_floor(p), o->data, o->len) == -1)
			return -1;
		o->sent_on = s->serial;
		if (p->sess != s) /* the session ended on a send cap */
			return -1;
	}
	return 0;
}

int
rr_request(struct chan *ch, struct peer *p, const void *data, size_t len,
    uint64_t *idp)
{
	struct rr_out *o;

	if (len > (size_t)ch->cfg.max_message) {
		errno = EINVAL;
		return -1;
	}
	if (p->nout >= ch->cfg.max_pending ||
	    p->outbytes + len > (size_t)ch->cfg.max_buffer) {
		errno = ENOBUFS;
		return -1;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (len > 0 && (o->data = malloc(len)) == NULL)) {
		free(o);
		errno = ENOMEM;
		return -1;
	}
	if (len > 0)
		memcpy(o->data, data, len);
	o->len = len;
	o->id = p->next_id++;
	TAILQ_INSERT_TAIL(&p->out, o, link);
	p->nout++;
	p->outbytes += len;
	if (idp != NULL)
		*idp = o->id;
	rr_resend(p);
	return 0;
}

static struct rr_in *
in_find(struct peer *p, uint64_t id)
{
	struct rr_in *r;

	/* Newest first: a reply usually follows its request closely. */
	TAILQ_FOREACH_REVERSE(r, &p->in, rr_inq, link)
	if (r->id == id)
		return r;
	return NULL;
}

/* The requester settled everything below floor: forget those replies. */
static void
in_settle(struct peer *p, uint64_t floor)
{
	struct rr_in *r, *next;

	if (floor <= p->floor_seen)
		return;
	p->floor_seen = floor;
	for (r = TAILQ_FIRST(&p->in); r != NULL; r = next) {
		next = TAILQ_NEXT(r, link);
		if (r->id >= floor)
			break;
		if (r->done)
			in_free(p, r);
	}
}

/* Keeps the memory of answered requests within bounds. */
static void
in_trim(struct chan *ch, struct peer *p)
{
	struct rr_in *r, *next;

	for (r = TAILQ_FIRST(&p->in); r != NULL &&
	     (p->nin > 2 * ch->cfg.max_pending ||
		 p->inbytes > (size_t)ch->cfg.max_buffer);
	     r = next) {
		next = TAILQ_NEXT(r, link);
		if (!r->done)
			continue;
		log_warnx("chan: %s %s does not settle its requests; "
			  "forgetting the reply to %llu",
		    tls_role_name(p->role), p->name, (unsigned long long)r->id);
		in_free(p, r);
	}
}

static int
on_request(struct peer *p, uint64_t id, uint64_t floor, const uint8_t *data,
    size_t len)
{
	struct sess *s = p->sess;
	struct chan *ch = s->ch;
	struct rr_in *r, *pos;

	in_settle(p, floor);
	if (id < p->floor_seen || id == 0) {
		ch->st.duplicates++; /* settled long ago */
		return 0;
	}
	if ((r = in_find(p, id)) != NULL) {
		ch->st.duplicates++;
		if (r->done)
			return sess_send_msg(
			    s, MSG_REP, id, 0, r->reply, r->len);
		return 0; /* still being answered */
	}
	if (p->nin_pending >= ch->cfg.max_pending) {
		sess_close(s, "protocol error: too many requests in flight");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		sess_close(s, "out of memory");
		return -1;
	}
	r->id = id;
	/* Keep ids in order: re-sent requests may come in below others. */
	TAILQ_FOREACH_REVERSE(pos, &p->in, rr_inq, link)
	if (pos->id < id)
		break;
	if (pos == NULL)
		TAILQ_INSERT_HEAD(&p->in, r, link);
	else
		TAILQ_INSERT_AFTER(&p->in, pos, r, link);
	p->nin++;
	p->nin_pending++;
	if (ev_push(ch, CHAN_EV_REQUEST, p, id, data, len, NULL) == -1) {
		in_free(p, r); /* it comes again on the next session */
		sess_close(s, "out of memory");
		return -1;
	}
	return 0;
}

int
rr_on_msg(struct peer *p, int type, uint64_t id, uint64_t aux,
    const uint8_t *data, size_t len)
{
	struct chan *ch = p->sess->ch;
	struct rr_out *o;

	switch (type) {
	case MSG_REQ:
		return on_request(p, id, aux, data, len);
	case MSG_REP:
		TAILQ_FOREACH(o, &p->out, link)
		if (o->id == id)
			break;
		if (o == NULL) {
			ch->st.duplicates++; /* answered before, or cancelled */
			return 0;
		}
		if (ev_push(ch, CHAN_EV_REPLY, p, id, data, len, NULL) == -1) {
			/* Asked again on the next session, answered from
			 * the peer's memory. */
			sess_close(p->sess, "out of memory");
			return -1;
		}
		out_free(p, o);
		return rr_resend(p) == -1 && p->sess == NULL ? -1 : 0;
	case MSG_ONEWAY: /* best effort */
		ev_push(ch, CHAN_EV_MESSAGE, p, 0, data, len, NULL);
		return 0;
	default: /* MSG_PING, MSG_PONG */
		in_settle(p, aux);
		return 0;
	}
}

int
rr_reply(
    struct chan *ch, struct peer *p, uint64_t id, const void *data, size_t len)
{
	struct rr_in *r;

	if (len > (size_t)ch->cfg.max_message || (r = in_find(p, id)) == NULL ||
	    r->done) {
		errno = EINVAL;
		return -1;
	}
	if (len > 0) {
		if ((r->reply = malloc(len)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		memcpy(r->reply, data, len);
	}
	r->len = len;
	r->done = 1;
	p->nin_pending--;
	p->inbytes += len;
	in_trim(ch, p);
	/* Without a session the requester will ask again on its next. */
	if (p->sess != NULL && p->sess->state == SESS_READY)
		sess_send_msg(p->sess, MSG_REP, id, 0, data, len);
	return 0;
}

int
rr_cancel(struct peer *p, uint64_t id)
{
	struct rr_out *o;

	TAILQ_FOREACH(o, &p->out, link)
	if (o->id == id) {
		out_free(p, o);
		return 0;
	}
	errno = EINVAL;
	return -1;
}
