/*
 * wire.c — owns the frame <-> Envelope boundary.
 *
 * It must never unpack a frame it has not size-checked, never allocate
 * past the budget (protobuf-c amplifies: a 2 MB frame of nested empty
 * repeated messages can ask for ~150 MB), and never abort on bad input.
 */
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "log.h"
#include "util.h"
#include "wire.h"

struct wire_msg {
	struct budget budget;
	ProtobufCAllocator alloc;
	Tally__Envelope *env;
};

struct wire_msg *
wire_decode(const void *buf, size_t len, size_t max_frame, size_t budget,
    char *err, size_t errlen)
{
	struct wire_msg *m;

	if (max_frame == 0)
		max_frame = WIRE_MAX_FRAME;
	if (len == 0) {
		errf(err, errlen, "empty frame");
		return NULL;
	}
	if (len > max_frame) {
		errf(err, errlen, "frame of %zu bytes exceeds the %zu byte cap",
		    len, max_frame);
		return NULL;
	}
	if (budget == 0)
		budget = WIRE_BUDGET(len);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	budget_init(&m->budget, budget, &m->alloc);
	m->env = tally__envelope__unpack(&m->alloc, len, buf);
	if (m->env == NULL) {
		/* protobuf-c frees what it took before failing. */
		errf(err, errlen, "%s",
		    m->budget.exceeded ? "unpack budget of frame exceeded"
				       : "malformed frame");
		free(m);
		return NULL;
	}
	if (m->env->version != WIRE_VERSION) {
		errf(err, errlen, "unsupported protocol version %u",
		    m->env->version);
		wire_free(m);
		return NULL;
	}
	if (m->env->body_case == TALLY__ENVELOPE__BODY__NOT_SET) {
		errf(err, errlen, "envelope without a body");
		wire_free(m);
		return NULL;
	}
	return m;
}

const Tally__Envelope *
wire_env(const struct wire_msg *m)
{
	return m->env;
}

size_t
wire_used(const struct wire_msg *m)
{
	return m->budget.used;
}

void
wire_free(struct wire_msg *m)
{
	if (m == NULL)
		return;
	if (m->env != NULL)
		tally__envelope__free_unpacked(m->env, &m->alloc);
	free(m);
}

uint8_t *
wire_encode(Tally__Envelope *env, size_t max_frame, size_t *lenp)
{
	uint8_t *buf;
	size_t len;

	if (max_frame == 0)
		max_frame = WIRE_MAX_FRAME;
	if (!env->has_version) {
		env->has_version = 1;
		env->version = WIRE_VERSION;
	}
	len = tally__envelope__get_packed_size(env);
	if (len > max_frame) {
		log_warnx("wire: %s message of %zu bytes exceeds the cap",
		    wire_body_name(env), len);
		return NULL;
	}
	if ((buf = malloc(len ? len : 1)) == NULL) {
		log_warn("wire: malloc");
		return NULL;
	}
	*lenp = tally__envelope__pack(env, buf);
	return buf;
}

const char *
wire_body_name(const Tally__Envelope *env)
{
	switch (env->body_case) {
	case TALLY__ENVELOPE__BODY_HELLO:
		return "hello";
	case TALLY__ENVELOPE__BODY_WELCOME:
		return "welcome";
	case TALLY__ENVELOPE__BODY_HEARTBEAT:
		return "heartbeat";
	case TALLY__ENVELOPE__BODY_SUBMIT:
		return "submit";
	case TALLY__ENVELOPE__BODY_SUBMIT_ACK:
		return "submit-ack";
	case TALLY__ENVELOPE__BODY_TASK:
		return "task";
	case TALLY__ENVELOPE__BODY_TASK_ACK:
		return "task-ack";
	case TALLY__ENVELOPE__BODY_TASK_RESULT:
		return "task-result";
	case TALLY__ENVELOPE__BODY_PROGRESS:
		return "progress";
	case TALLY__ENVELOPE__BODY_RESULT_REQUEST:
		return "result-request";
	case TALLY__ENVELOPE__BODY_RESULT:
		return "result";
	case TALLY__ENVELOPE__BODY_STATUS_REQUEST:
		return "status-request";
	case TALLY__ENVELOPE__BODY_STATUS:
		return "status";
	case TALLY__ENVELOPE__BODY_ERROR:
		return "error";
	default:
		return "unknown";
	}
}
