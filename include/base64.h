/*
 * base64.h — standard base64 (RFC 4648, padded) for binary values in
 * JSON documents: approvals, digests.
 */
#ifndef TALLY_BASE64_H
#define TALLY_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* malloc'd NUL-terminated text, or NULL. */
char *base64_encode(const uint8_t *in, size_t len);
/* malloc'd bytes and *outlen, or NULL on bad input / over maxlen bytes. */
uint8_t *base64_decode(const char *in, size_t maxlen, size_t *outlen);

#endif
