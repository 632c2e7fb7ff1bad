/*
 * chan.h — the secure channel between the broker and everyone else:
 * TLS 1.3 with mutual X.509 authentication (include/tls.h), carried as
 * ZeroMQ frames, with reliable requests on top.
 *
 * The broker runs one server channel (a ROUTER it binds); nodes and
 * command-line clients each run one client channel (a DEALER that
 * connects out and reconnects by itself). Messages are opaque byte
 * strings (protobuf Envelopes packed by lib/chan/wire.c) of at most
 * max_message bytes. docs/transport.md describes the framing, the session
 * state machine and how each hazard of the design is handled.
 *
 * Three kinds of traffic, in both directions:
 *   chan_request()  reliable: kept until the peer's chan_reply() arrives,
 *                   re-sent on every new session, de-duplicated by the
 *                   receiver (at-least-once delivery, exactly-once effect
 *                   while both ends keep running);
 *   chan_reply()    the answer to a CHAN_EV_REQUEST, kept by the channel so
 *                   that a re-sent request gets the same answer again;
 *   chan_send()     one-way and best effort (progress notes): delivered
 *                   only if the current session survives.
 *
 * Use: call chan_flush(), put chan_pollitems() into a zmq_poll() with a
 * timeout no longer than chan_timeout(), then call chan_process() and
 * drain chan_next() (or simply loop on chan_poll(), which does all that).
 * Messages queued by the calls below leave at the next chan_flush(), so a
 * burst shares TLS records and frames. Single-threaded; no call blocks.
 * A client counts as registered (CHAN_EV_UP) only once the broker has
 * verified its certificate and answered inside the session.
 */
#ifndef TALLY_CHAN_H
#define TALLY_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "tls.h"

struct conf;
struct chan;

#define CHAN_POLLITEMS	2     /* most items chan_pollitems() fills */
#define CHAN_FRAME_MAX	65536 /* most ciphertext bytes in one frame */
#define CHAN_REASON_MAX TLS_ERR_MAX

/* Limits and timers; chan_config_default() gives the values in brackets. */
struct chan_config {
	const char *ca;		  /* tls_ca: CA certificate (PEM) */
	const char *crl;	  /* tls_crl: the CA's CRL (PEM) */
	const char *cert;	  /* tls_cert: our certificate (PEM) */
	const char *key;	  /* tls_key: our key (PEM, mode 0600) */
	const char *allow;	  /* allow_roles: server ["node,researcher,
				     operator"] */
	const char *broker_name;  /* broker_name: client, expected CN [any] */
	int heartbeat_ms;	  /* chan_heartbeat_ms [1000] */
	int heartbeat_timeout_ms; /* chan_heartbeat_timeout_ms [5000] */
	int handshake_timeout_ms; /* chan_handshake_timeout_ms [5000] */
	int max_sessions;	  /* chan_max_sessions: server [1024] */
	int max_handshakes;	  /* chan_max_handshakes: server [64] */
	int max_pending;	  /* chan_max_pending: requests in flight per
				     peer, each way [1024] */
	int64_t max_message;	  /* chan_max_message: bytes [4 MiB] */
	int64_t max_buffer;	  /* chan_max_buffer: unsent ciphertext per
				     session [16 MiB] */
	int linger_ms;		  /* chan_peer_linger_ms: server, how long a
				     disconnected peer is remembered [300000] */
	int reconnect_ms;	  /* chan_reconnect_ms: client [100] */
	int reconnect_max_ms;	  /* chan_reconnect_max_ms: client [5000] */
	int hwm;		  /* chan_hwm: ZeroMQ high-water mark [1000] */
	int crl_reload_ms;	  /* chan_crl_reload_ms: server [10000] */
};

void chan_config_default(struct chan_config *);
/* Fills cfg from the keys above (absent keys keep their value); the
 * strings point into cf, which must outlive the channel's creation. */
int chan_config_load(
    struct chan_config *, struct conf *, char *err, size_t errlen);

/*
 * A server bound to endpoint ("tcp://127.0.0.1:0" picks a port; see
 * chan_endpoint()), or a client connecting to it. zctx may be NULL (the
 * channel then owns a context). NULL with the reason in err.
 */
struct chan *chan_server_new(void *zctx, const char *endpoint,
    const struct chan_config *, char *err, size_t errlen);
struct chan *chan_client_new(void *zctx, const char *endpoint,
    const struct chan_config *, char *err, size_t errlen);
/* Closes every session (close_notify) and frees everything. */
void chan_free(struct chan *);
/* The endpoint actually bound or connected (ZMQ_LAST_ENDPOINT). */
const char *chan_endpoint(const struct chan *);
/* Our own identity, from our certificate. */
const struct tls_peer *chan_self(const struct chan *);

/* Event loop integration. */
int chan_pollitems(struct chan *, zmq_pollitem_t *items, int nitems);
/* Sends what was queued since the last call; call it before sleeping. */
void chan_flush(struct chan *);
/* ms until chan_process() is due; 0 while anything waits to be sent */
long chan_timeout(struct chan *);
int chan_process(struct chan *); /* flushes, reads, runs timers, retries */
/* Polls for at most timeout_ms and processes; 1 if events are waiting,
 * 0 if none, -1 on a ZeroMQ error. */
int chan_poll(struct chan *, long timeout_ms);

/*
 * A peer (server side) is one running instance of a certificate: a
 * reconnect of the same process comes back as the same handle (DOWN, then
 * UP); a restarted node is a new handle with the same name, and its old
 * handle goes GONE after linger_ms (or at chan_drop()), taking the
 * requests it never answered with it: re-send those by name if needed.
 */
enum chan_event_type {
	CHAN_EV_UP = 1,	 /* peer authenticated on a new session */
	CHAN_EV_DOWN,	 /* peer lost its session (reason); requests wait */
	CHAN_EV_GONE,	 /* server: peer forgotten after linger_ms; its
			    unanswered requests are dropped */
	CHAN_EV_REFUSED, /* client: the handshake was refused (reason) */
	CHAN_EV_REQUEST, /* id, data: answer with chan_reply() */
	CHAN_EV_REPLY,	 /* id, data: the answer to our request id */
	CHAN_EV_MESSAGE	 /* data: a one-way message */
};

struct chan_event {
	enum chan_event_type type;
	uint64_t peer;		     /* server: peer handle; client: 0 */
	uint64_t id;		     /* request id */
	int role;		     /* peer's TLS_ROLE_* */
	char name[TLS_NAME_MAX + 1]; /* peer's certificate CN */
	uint8_t *data;		     /* owned by the event */
	size_t len;
	char reason[CHAN_REASON_MAX];
};

/* Takes the next event: 1, or 0 if none. Free it with chan_event_clear. */
int chan_next(struct chan *, struct chan_event *);
void chan_event_clear(struct chan_event *);

/*
 * Sending. peer is a handle from an event (ignored on a client). Each
 * returns 0, or -1 with errno: EINVAL (too large, unknown peer or
 * request), ENOBUFS (max_pending requests in flight), ENOTCONN
 * (chan_send() without a live session).
 */
int chan_request(
    struct chan *, uint64_t peer, const void *, size_t, uint64_t *idp);
int chan_reply(struct chan *, uint64_t peer, uint64_t id, const void *, size_t);
int chan_send(struct chan *, uint64_t peer, const void *, size_t);
/* Stops waiting for the reply to request id (it may still be executed). */
int chan_cancel(struct chan *, uint64_t peer, uint64_t id);
/* Server: ends a peer's session now and forgets the peer. */
int chan_drop(struct chan *, uint64_t peer, const char *why);
/* 1 if the peer (client: the broker) has an authenticated session. */
int chan_up(struct chan *, uint64_t peer);

struct chan_stats {
	uint64_t sessions;   /* live sessions (client: 0 or 1) */
	uint64_t handshakes; /* of which still handshaking */
	uint64_t peers;	     /* server: peers remembered */
	uint64_t opened;     /* sessions ever opened */
	uint64_t refused;    /* handshakes refused */
	uint64_t evicted;    /* half-open sessions evicted at a cap */
	uint64_t timeouts;   /* sessions ended by a timer */
	uint64_t resets;     /* resets sent (server) or received (client) */
	uint64_t dropped;    /* input frames dropped as malformed/unknown */
	uint64_t deferred;   /* sends that met EAGAIN/EHOSTUNREACH (kept) */
	uint64_t resent;     /* requests re-sent on a new session */
	uint64_t duplicates; /* duplicate requests absorbed */
	uint64_t bytes_in, bytes_out; /* ciphertext */
};
void chan_stats(const struct chan *, struct chan_stats *);

#endif
