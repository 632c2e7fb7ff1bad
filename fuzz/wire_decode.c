/*
 * wire_decode.c — libFuzzer target: arbitrary bytes into the Envelope
 * decoder (lib/chan/wire.c). It must never crash, never allocate past its byte
 * budget, and whatever it accepts must encode again.
 */
#include <stdlib.h>

#include "log.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg *m;
	char err[128];
	uint8_t *buf;
	size_t len;

	/* The default budget, and a tight one that must fail cleanly. */
	if ((m = wire_decode(data, size, 1 << 20, 0, err, sizeof(err))) !=
	    NULL) {
		if (wire_used(m) > WIRE_BUDGET(size))
			abort();
		(void)wire_body_name(wire_env(m));
		buf = wire_encode((Tally__Envelope *)wire_env(m), 0, &len);
		if (buf == NULL)
			abort(); /* accepted input is always re-encodable */
		free(buf);
		wire_free(m);
	}
	m = wire_decode(data, size, 0, 256 + size, err, sizeof(err));
	if (m != NULL && wire_used(m) > 256 + size)
		abort();
	wire_free(m);
	return 0;
}
