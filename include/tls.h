/*
 * tls.h — one TLS 1.3 session with mutual X.509 authentication, driven
 * entirely through memory: ciphertext is fed in with tls_feed() and taken
 * out with tls_take(), so any transport (here ZeroMQ frames) can carry it.
 *
 * A context (struct tls_ctx) holds what every session of one program
 * shares: the consortium CA, its CRL, our certificate and key, which side
 * we are, and which certificate roles a peer may have. Only TLS 1.3 is
 * spoken, no session resumption, and a peer is accepted only after its
 * whole chain verifies against the CA and the CRL. The peer's identity
 * (role from the Subject OU, name from the CN) is taken from the verified
 * certificate and nowhere else.
 *
 * Not thread-safe per session; one context may serve sessions in one
 * thread. Nothing here touches a socket.
 */
#ifndef TALLY_TLS_H
#define TALLY_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* Certificate roles (Subject OU), as a bit set for tls_ctx_allow(). */
#define TLS_ROLE_BROKER	    0x01
#define TLS_ROLE_NODE	    0x02
#define TLS_ROLE_RESEARCHER 0x04
#define TLS_ROLE_OPERATOR   0x08
#define TLS_ROLE_DRB	    0x10
#define TLS_ROLE_ANY	    0x1f

#define TLS_NAME_MAX   64    /* longest certificate CN we accept */
#define TLS_ERR_MAX    192   /* longest failure reason */
#define TLS_RECORD_MAX 16384 /* plaintext bytes per TLS record */

enum tls_side { TLS_CLIENT, TLS_SERVER };

/* Result of tls_handshake(). */
enum tls_state {
	TLS_FAILED = -1, /* refused or broken; tls_error() says why */
	TLS_WANT = 0,	 /* needs more input (send what tls_take() gives) */
	TLS_DONE = 1	 /* handshake complete, peer verified */
};

struct tls_peer {
	int role;		     /* one TLS_ROLE_* bit */
	char name[TLS_NAME_MAX + 1]; /* certificate CN */
	char serial[2 * 20 + 1];     /* certificate serial, hex */
};

struct tls_ctx;
struct tls;

/*
 * A context for one side. ca, crl, cert and key are PEM files; all four
 * are required (a CRL with no entries is fine, a missing one is not).
 * Refuses a key that others can read (mode & 077) or that does not match
 * the certificate. By default a server accepts every role but broker and
 * a client accepts only a broker.
 */
struct tls_ctx *tls_ctx_new(enum tls_side, const char *ca, const char *crl,
    const char *cert, const char *key, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *);
/* Roles a peer may have (TLS_ROLE_* bits); 0 or -1 if mask is empty. */
int tls_ctx_allow(struct tls_ctx *, int roles);
/* Client: also require the server's CN to be name (NULL: any broker). */
int tls_ctx_expect_name(struct tls_ctx *, const char *name);
/* Our own identity, from our certificate. */
const struct tls_peer *tls_ctx_self(const struct tls_ctx *);
/*
 * Re-reads the CRL if its file changed since the last load. Returns 1 if
 * a new CRL is in force, 0 if unchanged, -1 (reason in err, old CRL kept)
 * if the new file cannot be used.
 */
int tls_ctx_reload_crl(struct tls_ctx *, char *err, size_t errlen);

/* Role names: "broker", "node", ...; tls_role_parse returns 0 if unknown. */
const char *tls_role_name(int role);
int tls_role_parse(const char *name);
/* Parses "node,researcher" into a TLS_ROLE_* mask; -1 on an unknown name. */
int tls_roles_parse(const char *list, int *mask, char *err, size_t errlen);

struct tls *tls_new(struct tls_ctx *);
void tls_free(struct tls *);

/* Ciphertext from the peer. -1 once the session has failed. */
int tls_feed(struct tls *, const void *buf, size_t len);
/* Advances the handshake as far as the input allows (client: the first
 * call produces the ClientHello). */
enum tls_state tls_handshake(struct tls *);
int tls_done(const struct tls *); /* 1 once tls_handshake() gave TLS_DONE */
/*
 * Plaintext: tls_read() returns the number of bytes read, 0 when nothing
 * more can be read from the input so far, -1 on failure or when the peer
 * closed (tls_error() says which). tls_write() encrypts all of len, 0/-1.
 */
ssize_t tls_read(struct tls *, void *buf, size_t len);
int tls_write(struct tls *, const void *buf, size_t len);
/* Sends close_notify. */
void tls_close(struct tls *);

/* Ciphertext waiting to be sent, and taking up to len bytes of it. */
size_t tls_pending(const struct tls *);
size_t tls_take(struct tls *, void *buf, size_t len);

/* Why the session failed ("certificate revoked", "peer sent alert ..."). */
const char *tls_error(const struct tls *);
/* The verified peer, or NULL before the handshake is done. */
const struct tls_peer *tls_peer(const struct tls *);
/*
 * Verifies the peer's certificate again against the context's current CA
 * and CRL (after tls_ctx_reload_crl(), or because time passed): 0 if it
 * still holds, -1 with the reason in err (revoked, expired).
 */
int tls_recheck(struct tls *, char *err, size_t errlen);

/*
 * 1 if buf starts with a TLS handshake record holding a ClientHello: the
 * only input that may open a session on a server.
 */
int tls_is_client_hello(const void *buf, size_t len);

#endif
