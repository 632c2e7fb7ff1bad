/*
 * test_wire.c — the Envelope decoder against good, truncated, oversized,
 * garbage and allocation-amplifying input.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wire.h"

static uint8_t *
pack_task(size_t *len)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Task task = TALLY__TASK__INIT;

	task.task_id = "t-1";
	task.query_id = "q-1";
	task.has_deadline_ms = 1;
	task.deadline_ms = 1234;
	env.body_case = TALLY__ENVELOPE__BODY_TASK;
	env.task = &task;
	env.has_request_id = 1;
	env.request_id = 42;
	return wire_encode(&env, 0, len);
}

static void
roundtrip(void **state)
{
	struct wire_msg *m;
	const Tally__Envelope *e;
	char err[128];
	size_t len;
	uint8_t *buf = pack_task(&len);

	(void)state;
	assert_non_null(buf);
	m = wire_decode(buf, len, 0, 0, err, sizeof(err));
	assert_non_null(m);
	e = wire_env(m);
	assert_int_equal(e->version, WIRE_VERSION);
	assert_int_equal(e->request_id, 42);
	assert_int_equal(e->body_case, TALLY__ENVELOPE__BODY_TASK);
	assert_string_equal(e->task->task_id, "t-1");
	assert_int_equal(e->task->deadline_ms, 1234);
	assert_string_equal(wire_body_name(e), "task");
	assert_true(wire_used(m) > 0);
	wire_free(m);
	free(buf);
}

static void
truncated(void **state)
{
	char err[128];
	size_t len;
	uint8_t *buf = pack_task(&len);

	(void)state;
	/* Every proper prefix either fails cleanly or (where it ends on a
	 * field boundary) decodes; none may crash. Cutting inside the task
	 * submessage must fail. */
	for (size_t n = 1; n < len; n++) {
		struct wire_msg *m =
		    wire_decode(buf, n, 0, 0, err, sizeof(err));
		wire_free(m);
	}
	assert_null(wire_decode(buf, len - 1, 0, 0, err, sizeof(err)));
	assert_string_equal(err, "malformed frame");
	free(buf);
}

static void
oversized(void **state)
{
	char err[128];
	size_t len;
	uint8_t *buf = pack_task(&len);

	(void)state;
	assert_null(wire_decode(buf, len, len - 1, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "exceeds"));
	assert_null(wire_decode(buf, 0, 0, 0, err, sizeof(err)));
	assert_string_equal(err, "empty frame");
	free(buf);
}

static void
garbage(void **state)
{
	char err[128];
	uint8_t junk[4096];
	unsigned seed = 12345;
	int decoded = 0;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(junk));
		struct wire_msg *m;

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rand_r(&seed);
		m = wire_decode(junk, n, 0, 0, err, sizeof(err));
		decoded += m != NULL;
		wire_free(m);
	}
	/* Random bytes essentially never form a valid v1 envelope. */
	assert_true(decoded < 10);
}

/* ~1 MB of empty NodeStatus entries: 2 bytes each on the wire, a few
 * hundred bytes each once unpacked. The budget must stop it. */
static void
budget_busting(void **state)
{
	size_t n = 500000, len = 0;
	uint8_t *buf = malloc(4 + 6 + 2 * n + 16);
	struct wire_msg *m;
	char err[128];

	(void)state;
	assert_non_null(buf);
	buf[len++] = 0x08; /* version = 1 */
	buf[len++] = 0x01;
	buf[len++] = 0xb2; /* field 22 (status), wire type 2 */
	buf[len++] = 0x01;
	{
		size_t body = 2 * n;
		do {
			uint8_t b = body & 0x7f;
			body >>= 7;
			buf[len++] = b | (body ? 0x80 : 0);
		} while (body);
	}
	for (size_t i = 0; i < n; i++) {
		buf[len++] = 0x12; /* Status.nodes, wire type 2 */
		buf[len++] = 0x00;
	}
	m = wire_decode(buf, len, 0, 0, err, sizeof(err));
	assert_null(m);
	assert_string_equal(err, "unpack budget of frame exceeded");
	/* With an explicit, generous budget the same frame is valid. */
	m = wire_decode(buf, len, 0, (size_t)1 << 30, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(wire_env(m)->status->n_nodes, n);
	assert_true(wire_used(m) > 16 * len);
	wire_free(m);
	free(buf);
}

static void
version_and_body(void **state)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Heartbeat hb = TALLY__HEARTBEAT__INIT;
	char err[128];
	uint8_t *buf;
	size_t len;

	(void)state;
	env.has_version = 1;
	env.version = 99;
	env.body_case = TALLY__ENVELOPE__BODY_HEARTBEAT;
	env.heartbeat = &hb;
	buf = wire_encode(&env, 0, &len);
	assert_non_null(buf);
	assert_null(wire_decode(buf, len, 0, 0, err, sizeof(err)));
	assert_string_equal(err, "unsupported protocol version 99");
	free(buf);

	env.version = WIRE_VERSION;
	env.body_case = TALLY__ENVELOPE__BODY__NOT_SET;
	buf = wire_encode(&env, 0, &len);
	assert_non_null(buf);
	assert_null(wire_decode(buf, len, 0, 0, err, sizeof(err)));
	assert_string_equal(err, "envelope without a body");
	free(buf);
}

static void
encode_cap(void **state)
{
	size_t len;

	(void)state;
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Error e = TALLY__ERROR__INIT;
	char big[200];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e.reason = big;
	env.body_case = TALLY__ENVELOPE__BODY_ERROR;
	env.error = &e;
	assert_null(wire_encode(&env, 100, &len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(truncated),
		cmocka_unit_test(oversized),
		cmocka_unit_test(garbage),
		cmocka_unit_test(budget_busting),
		cmocka_unit_test(version_and_body),
		cmocka_unit_test(encode_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
