/*
 * wire.h — turning Envelopes into bytes and back.
 *
 * Every frame from a peer goes through wire_decode(): it refuses a frame
 * over the caller's size cap before looking inside, and unpacks with an
 * allocator that fails once a byte budget is spent, so crafted input can
 * neither crash the process nor make it allocate without bound.
 */
#ifndef TALLY_WIRE_H
#define TALLY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "tally.pb-c.h"

#define WIRE_VERSION	   1			  /* PROTOCOL_V1 */
#define WIRE_MAX_FRAME	   (4u << 20)		  /* default frame cap, bytes */
#define WIRE_BUDGET(frame) (16 * (frame) + 65536) /* default unpack budget */

struct wire_msg; /* a decoded Envelope and the memory behind it */

/*
 * Decodes one frame. max_frame 0 means WIRE_MAX_FRAME; budget 0 means
 * WIRE_BUDGET(len). Returns NULL with the reason in err on a frame that is
 * too large, empty, malformed, over budget, or of an unknown major version.
 */
struct wire_msg *wire_decode(const void *buf, size_t len, size_t max_frame,
    size_t budget, char *err, size_t errlen);
const Tally__Envelope *wire_env(const struct wire_msg *);
size_t wire_used(const struct wire_msg *); /* bytes the unpack allocated */
void wire_free(struct wire_msg *);

/*
 * Packs env (version set to WIRE_VERSION if unset) into a new buffer the
 * caller frees. Returns NULL if the result would exceed max_frame.
 */
uint8_t *wire_encode(Tally__Envelope *env, size_t max_frame, size_t *lenp);

/* Name of an Envelope's body for logs ("task", "hello", ...). */
const char *wire_body_name(const Tally__Envelope *);

#endif
