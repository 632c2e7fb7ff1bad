/*
 * client.h — a client's side of the secure channel (the command-line
 * tools, benchmarks):
 * connect to the broker with a researcher's or operator's certificate,
 * make one request, wait for its reply while showing one-way notes.
 */
#ifndef TALLY_CLIENT_H
#define TALLY_CLIENT_H

#include <stddef.h>

#include "wire.h"

struct client;

/* Reads the client config (broker, ca, crl, cert, key), connects and
 * waits until the broker has accepted our certificate. */
struct client *client_open(
    const char *conf_path, long timeout_ms, char *err, size_t errlen);
void client_close(struct client *);

/*
 * Sends req and waits up to timeout_ms (-1: no limit) for its reply.
 * One-way messages that arrive meanwhile go to on_note (may be NULL).
 * An Error reply is returned as -1 with its reason in err. *reply is the
 * decoded reply (wire_free it).
 */
int client_call(struct client *, Tally__Envelope *req, long timeout_ms,
    void (*on_note)(void *, const Tally__Envelope *), void *arg,
    struct wire_msg **reply, char *err, size_t errlen);

#endif
