/*
 * http.h — the broker's local HTTP endpoint for operators:
 *   GET /metrics      Prometheus text format 0.0.4
 *   GET /status       a self-refreshing HTML page
 *   GET /status.json  the `tally status --json` document
 * (HEAD as well; other methods 405, other paths 404; / redirects to
 * /status).
 *
 * The server runs in libmicrohttpd's own thread and never calls into the
 * broker: the broker's loop hands it a snapshot with http_publish(),
 * which copies it under a lock; requests are answered from that copy.
 */
#ifndef TALLY_BROKER_HTTP_H
#define TALLY_BROKER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct http;

/*
 * Listens on hostport ("127.0.0.1:9470", "[::1]:9470", "localhost:0" for
 * any free port). Until the first http_publish() it serves an empty
 * snapshot. NULL with the reason in err.
 */
struct http *http_start(const char *hostport, char *err, size_t errlen);
/* The port bound (useful after asking for port 0). */
uint16_t http_port(const struct http *);
/*
 * Replaces the served snapshot with a deep copy of s. -1 (the previous
 * copy stays) if memory runs out.
 */
int http_publish(struct http *, const struct status_snapshot *);
/* Stops serving (waits for requests in progress) and frees everything. */
void http_stop(struct http *);

#endif
