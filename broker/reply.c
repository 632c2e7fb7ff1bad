/*
 * reply.c — owns what the broker sends back on the channel: an envelope
 * packed (bounded by the frame cap) and handed to chan_reply(), or an
 * Error with its code and reason. It never decides what to answer; the
 * modules that handle a request do.
 */
#include <stdlib.h>

#include "broker.h"
#include "chan.h"
#include "log.h"
#include "wire.h"

int
reply_send(struct broker *b, uint64_t peer, uint64_t id, Tally__Envelope *env)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if ((buf = wire_encode(env, b->max_frame, &len)) == NULL)
		return -1;
	if ((rc = chan_reply(b->chan, peer, id, buf, len)) == -1)
		log_warn("reply to peer %llu", (unsigned long long)peer);
	free(buf);
	return rc;
}

int
reply_error(
    struct broker *b, uint64_t peer, uint64_t id, int code, const char *reason)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Error e = TALLY__ERROR__INIT;

	e.has_code = 1;
	e.code = code;
	e.reason = (char *)reason;
	env.body_case = TALLY__ENVELOPE__BODY_ERROR;
	env.error = &e;
	return reply_send(b, peer, id, &env);
}
