/*
 * client.c — owns a command-line client's connection to the broker. It
 * never trusts a reply it has not decoded through wire_decode(), and it
 * never waits forever unless asked to.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "client.h"
#include "conf.h"
#include "log.h"
#include "tlsconf.h"
#include "util.h"

struct client {
	struct chan *chan;
	struct conf *cf;
	struct tlsconf tls;
	size_t max_frame;
};

static int
client_connect(struct client *c, long timeout_ms, char *err, size_t errlen)
{
	uint64_t until = clock_ms() + (uint64_t)timeout_ms;
	struct chan_event ev;

	for (;;) {
		long left = (long)(until - clock_ms());

		if ((int64_t)(until - clock_ms()) <= 0)
			return errf(err, errlen,
			    "no answer from the broker at %s within %ld s",
			    conf_str(c->cf, "broker", "?"), timeout_ms / 1000);
		if (chan_poll(c->chan, left < 200 ? left : 200) == -1)
			return errf(
			    err, errlen, "channel: %s", zmq_strerror(errno));
		while (chan_next(c->chan, &ev) == 1) {
			int type = ev.type;

			if (type == CHAN_EV_REFUSED)
				errf(err, errlen, "the broker refused us: %s",
				    ev.reason);
			chan_event_clear(&ev);
			if (type == CHAN_EV_UP)
				return 0;
			if (type == CHAN_EV_REFUSED)
				return -1;
		}
	}
}

struct client *
client_open(const char *path, long timeout_ms, char *err, size_t errlen)
{
	struct chan_config cc;
	struct client *c;
	const char *broker;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	if ((c->cf = conf_load(path, err, errlen)) == NULL)
		goto fail;
	broker = conf_str(c->cf, "broker", "");
	if (strncmp(broker, "tcp://", 6) != 0) {
		errf(err, errlen, "%s:%u: broker: expected tcp://HOST:PORT",
		    path, conf_line(c->cf, "broker"));
		goto fail;
	}
	if (tlsconf_read(&c->tls, c->cf, 0, err, errlen) == -1)
		goto fail;
	chan_config_default(&cc);
	if (chan_config_load(&cc, c->cf, err, errlen) == -1 ||
	    conf_check_unused(c->cf, err, errlen) == -1)
		goto fail;
	cc.ca = c->tls.ca;
	cc.crl = c->tls.crl;
	cc.cert = c->tls.cert;
	cc.key = c->tls.key;
	c->max_frame = (size_t)cc.max_message;
	if ((c->chan = chan_client_new(NULL, broker, &cc, err, errlen)) == NULL)
		goto fail;
	if (client_connect(c, timeout_ms, err, errlen) == -1)
		goto fail;
	return c;
fail:
	client_close(c);
	return NULL;
}

void
client_close(struct client *c)
{
	if (c == NULL)
		return;
	chan_free(c->chan);
	conf_free(c->cf);
	free(c);
}

/* Handles one event while waiting for request id; 1 when the reply came. */
static int
client_event(struct client *c, struct chan_event *ev, uint64_t id,
    void (*on_note)(void *, const Tally__Envelope *), void *arg,
    struct wire_msg **reply, char *err, size_t errlen)
{
	struct wire_msg *m;
	char why[256];

	if (ev->type == CHAN_EV_MESSAGE && on_note != NULL) {
		if ((m = wire_decode(ev->data, ev->len, c->max_frame, 0, why,
			 sizeof(why))) != NULL) {
			on_note(arg, wire_env(m));
			wire_free(m);
		}
		return 0;
	}
	/* Words from the other end reach a terminal: printable only. */
	if (ev->type == CHAN_EV_REFUSED) {
		str_printable(why, sizeof(why), ev->reason);
		return errf(err, errlen, "the broker refused us: %s", why);
	}
	if (ev->type != CHAN_EV_REPLY || ev->id != id)
		return 0;
	if ((m = wire_decode(
		 ev->data, ev->len, c->max_frame, 0, why, sizeof(why))) == NULL)
		return errf(err, errlen, "bad reply from the broker: %s", why);
	if (wire_env(m)->body_case == TALLY__ENVELOPE__BODY_ERROR) {
		const Tally__Error *e = wire_env(m)->error;

		str_printable(
		    why, sizeof(why), e->reason ? e->reason : "refused");
		errf(err, errlen, "%s", why);
		wire_free(m);
		return -1;
	}
	*reply = m;
	return 1;
}

int
client_call(struct client *c, Tally__Envelope *req, long timeout_ms,
    void (*on_note)(void *, const Tally__Envelope *), void *arg,
    struct wire_msg **reply, char *err, size_t errlen)
{
	uint64_t id, until = clock_ms() + (uint64_t)timeout_ms;
	struct chan_event ev;
	uint8_t *buf;
	size_t len;
	int rc = 0;

	*reply = NULL;
	if ((buf = wire_encode(req, c->max_frame, &len)) == NULL)
		return errf(err, errlen, "request too large");
	if (chan_request(c->chan, 0, buf, len, &id) == -1) {
		free(buf);
		return errf(err, errlen, "cannot send: %s", strerror(errno));
	}
	free(buf);
	while (rc == 0) {
		if (timeout_ms >= 0 && (int64_t)(until - clock_ms()) <= 0)
			return errf(err, errlen,
			    "no reply from the broker "
			    "within %ld s",
			    timeout_ms / 1000);
		if (chan_poll(c->chan, 200) == -1)
			return errf(
			    err, errlen, "channel: %s", zmq_strerror(errno));
		while (rc == 0 && chan_next(c->chan, &ev) == 1) {
			rc = client_event(
			    c, &ev, id, on_note, arg, reply, err, errlen);
			chan_event_clear(&ev);
		}
	}
	return rc == 1 ? 0 : -1;
}
