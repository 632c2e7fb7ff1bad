/*
 * chan_impl.h — internals of the secure channel, shared by lib/chan/chan.c
 * (configuration, events, event loop, public calls), lib/chan/chan_sess.c
 * (a session: TLS, inner messages, frames), lib/chan/chan_rr.c (reliable
 * requests), lib/chan/chan_server.c (ROUTER side), lib/chan/chan_client.c
 * (DEALER side) and the fuzz targets. Not for anyone else: the API is
 * include/chan.h.
 */
#ifndef TALLY_CHAN_IMPL_H
#define TALLY_CHAN_IMPL_H

#include <sys/queue.h>

#include "chan.h"

/*
 * Outer framing, every message: [routing id (ROUTER side only)]
 * [header: CHAN_HDR_LEN bytes] [TLS bytes: 0..CHAN_FRAME_MAX]. The header
 * is version, kind, then the 64-bit session id (big-endian).
 */
#define CHAN_HDR_LEN	  10
#define CHAN_WIRE_VERSION 1
#define CHAN_KIND_TLS	  1   /* TLS bytes of session sid */
#define CHAN_KIND_RESET	  2   /* server: no such session; start afresh */
#define CHAN_RID_MAX	  255 /* ZeroMQ routing ids are at most 255 bytes */

/*
 * Inner framing, inside TLS: a stream of messages, each
 * [u32 payload length][u8 type][u64 id][u64 aux][payload], big-endian.
 */
#define MSG_HDR_LEN 21
enum msg_type {
	MSG_HELLO = 1, /* client: id = client epoch, aux = highest version;
			  payload u32 max_pending */
	MSG_WELCOME,   /* server: id = server epoch, aux = version spoken;
			  payload u32 heartbeat_ms, u32 max_pending */
	MSG_REQ,       /* id = request id, aux = sender's ack floor */
	MSG_REP,       /* id = request id */
	MSG_ONEWAY,    /* payload only */
	MSG_PING,      /* aux = sender's ack floor */
	MSG_PONG,      /* aux = sender's ack floor */
	MSG_CLOSE      /* payload = reason; the session ends */
};
#define CHAN_INNER_VERSION 1

/* A frame of ciphertext waiting for the socket to take it. */
struct frame {
	TAILQ_ENTRY(frame) link;
	zmq_msg_t msg;
};
TAILQ_HEAD(frameq, frame);

enum sess_state {
	SESS_HANDSHAKE, /* TLS handshake running */
	SESS_HELLO,	/* TLS done; waiting for HELLO (server) or WELCOME */
	SESS_READY,	/* attached to a peer; application traffic */
	SESS_CLOSING	/* flushing a last alert or close_notify */
};

struct peer;

struct sess {
	TAILQ_ENTRY(sess) link; /* in the chan list of its state group */
	struct sess *hnext;	/* server: routing-id hash chain */
	struct chan *ch;
	enum sess_state state;
	uint64_t sid;
	uint64_t serial; /* unique per chan; tags what was sent on it */
	uint8_t rid[CHAN_RID_MAX];
	size_t ridlen;
	char addr[64]; /* peer address, for logs */
	struct tls *tls;
	struct peer *peer;
	uint8_t *in; /* plaintext not yet a whole message */
	size_t inlen, incap;
	uint8_t *pt; /* plaintext messages not yet encrypted */
	size_t ptlen, ptcap;
	TAILQ_ENTRY(sess) dlink; /* in chan.dirty while ptlen > 0 */
	int dirty;
	struct frameq outq; /* ciphertext not yet taken by the socket */
	size_t outbytes;
	uint64_t born, last_rx, last_tx, deadline; /* ms */
	uint64_t closed_at;
	int list; /* which chan list holds it (SL_*) */
};
TAILQ_HEAD(sessq, sess);
#define SL_NONE	   0
#define SL_HS	   1
#define SL_READY   2
#define SL_CLOSING 3

/* A request we sent and whose reply we wait for. */
struct rr_out {
	TAILQ_ENTRY(rr_out) link;
	uint64_t id;
	uint64_t sent_on; /* serial of the session it was last written to */
	size_t len;
	uint8_t *data;
};
TAILQ_HEAD(rr_outq, rr_out);

/* A request we received: pending until answered, then its reply. */
struct rr_in {
	TAILQ_ENTRY(rr_in) link;
	uint64_t id;
	int done;
	size_t len;
	uint8_t *reply;
};
TAILQ_HEAD(rr_inq, rr_in);

/* A remote party: a certificate identity and one instance (epoch) of it. */
struct peer {
	TAILQ_ENTRY(peer) link;
	uint64_t handle;
	int role;
	char name[TLS_NAME_MAX + 1];
	uint64_t epoch;
	struct sess *sess; /* the READY session, or NULL */
	uint64_t down_since;
	struct rr_outq out;
	int nout;
	int window; /* how many of our requests it takes in flight */
	size_t outbytes;
	uint64_t next_id;
	struct rr_inq in;
	int nin, nin_pending;
	size_t inbytes;
	uint64_t floor_seen; /* every request below it is settled */
};
TAILQ_HEAD(peerq, peer);

struct evnode {
	TAILQ_ENTRY(evnode) link;
	struct chan_event ev;
};
TAILQ_HEAD(evq, evnode);

struct chan {
	int server;
	struct chan_config cfg;
	void *zctx;
	int own_ctx;
	void *sock;
	char endpoint[256];
	struct tls_ctx *tls;
	int own_tls;
	uint64_t epoch;	 /* this instance, random */
	uint64_t serial; /* last session serial */
	struct evq events;
	struct sessq dirty; /* sessions with messages to encrypt and send */
	struct peerq peers;
	int npeers;
	uint64_t next_handle;
	int retry; /* an outbox was left non-empty */
	uint64_t retry_at;
	struct chan_stats st;
	struct noise {		 /* rate limit of logs about strangers, */
		const char *fmt; /* per kind of message */
		uint64_t sec;
		int n, dropped;
	} noise[8];
	/* server */
	struct sess **htab;
	size_t hsize;
	struct sessq hs, ready, closing;
	int nsess, nhs, nclosing;
	uint64_t crl_at;
	/* client */
	void *mon;
	char mon_ep[64];
	struct sess *cs;
	struct peer *srv;
	int connected;
	uint64_t srv_epoch;
	uint64_t start_at; /* next session attempt, 0 = none scheduled */
	int backoff;
	int refused;
};

/* chan_sess.c: sessions */
struct sess *sess_new(struct chan *);
void sess_free(struct sess *);
int sess_input(struct sess *, const uint8_t *, size_t);
int sess_send_msg(
    struct sess *, int type, uint64_t id, uint64_t aux, const void *, size_t);
void sess_flush(struct sess *);
int sess_commit(struct sess *);
int sess_drain(struct sess *); /* 1 when its outbox is empty */
void sess_close(struct sess *, const char *why);
void sess_reap(struct chan *, uint64_t now);
void chan_reap(struct sess *);
/* Sets one int socket option; 0 or -1 (errno). */
int chan_sockopt(void *sock, int opt, int v);
/* The options both ends' sockets share: linger, high-water marks, ZMTP
 * heartbeats, handshake interval, message size cap. 0 or -1 (errno). */
int chan_sock_common(void *sock, const struct chan_config *cfg, int linger_ms);
void chan_wake_retry(struct chan *);

/* chan.c: events and logs */
int ev_push(struct chan *, enum chan_event_type, struct peer *, uint64_t id,
    const void *, size_t, const char *reason);
void chan_noise(struct chan *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hdr_pack(uint8_t *h, int kind, uint64_t sid);
uint64_t be64_get(const uint8_t *);
void be64_put(uint8_t *, uint64_t);
uint32_t be32_get(const uint8_t *);
void be32_put(uint8_t *, uint32_t);
uint64_t chan_random64(void);
/* Loads the CRL file again if it changed since it was last read (the old
 * one stays in force if the new one does not load). */
void chan_reload_crl(struct chan *);

/* chan_rr.c: peers and reliable requests */
struct peer *peer_new(
    struct chan *, int role, const char *name, uint64_t epoch);
void peer_free(struct chan *, struct peer *);
struct peer *peer_find(struct chan *, uint64_t handle);
void peer_attach(struct peer *, struct sess *);
void peer_detach(struct peer *, const char *why);
void rr_reset_in(struct peer *);
int rr_resend(struct peer *);
uint64_t rr_floor(const struct peer *);
int rr_on_msg(struct peer *, int type, uint64_t id, uint64_t aux,
    const uint8_t *, size_t);
int rr_request(struct chan *, struct peer *, const void *, size_t, uint64_t *);
int rr_reply(struct chan *, struct peer *, uint64_t, const void *, size_t);
int rr_cancel(struct peer *, uint64_t id);

/* chan_server.c / chan_client.c: the socket sides */
int srv_send(struct sess *, struct frame *);
#define READ_DATA 1 /* the data socket has input */
#define READ_MON  2 /* the monitor has events */
int srv_process(struct chan *, int mask);
long srv_timeout(struct chan *);
void srv_tls_done(struct sess *);
int srv_on_msg(struct sess *, int type, uint64_t id, uint64_t aux,
    const uint8_t *, size_t);
void srv_sess_closed(struct sess *);
void srv_forget(struct sess *);
void srv_free(struct chan *);
int srv_input(struct chan *, const uint8_t *rid, size_t ridlen,
    const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t dlen,
    const char *addr);
/*
 * A server without a socket (what it sends is discarded), fed through
 * srv_input(): for fuzzing. With tls non-NULL it borrows that context.
 */
struct chan *srv_detached(
    const struct chan_config *, struct tls_ctx *tls, char *err, size_t errlen);

int cli_send(struct sess *, struct frame *);
int cli_process(struct chan *, int mask);
long cli_timeout(struct chan *);
void cli_tls_done(struct sess *);
void cli_tls_failed(struct sess *);
int cli_on_msg(struct sess *, int type, uint64_t id, uint64_t aux,
    const uint8_t *, size_t);
void cli_sess_closed(struct sess *);
void cli_free(struct chan *);

/* chan.c: common set-up of both sides */
struct chan *chan_alloc(int server, const struct chan_config *,
    struct tls_ctx *borrowed, char *err, size_t errlen);

#endif
