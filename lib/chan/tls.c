/*
 * tls.c — owns the OpenSSL side of the secure channel: contexts (CA, CRL,
 * our certificate) and sessions over memory BIOs.
 *
 * It must never accept anything below TLS 1.3, a peer without a
 * certificate, a chain that does not verify against the CA and the CRL,
 * or a certificate whose role the context does not allow; and it must
 * never take a peer's identity from anywhere but its verified certificate.
 * It performs no I/O besides reading its PEM files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "tls.h"
#include "util.h"

_Static_assert(TLS_ROLE_BROKER == 1 << ROLE_BROKER &&
	TLS_ROLE_NODE == 1 << ROLE_NODE &&
	TLS_ROLE_RESEARCHER == 1 << ROLE_RESEARCHER &&
	TLS_ROLE_OPERATOR == 1 << ROLE_OPERATOR &&
	TLS_ROLE_DRB == 1 << ROLE_DRB && ROLE_COUNT == 5,
    "TLS_ROLE_* bits follow enum role");
_Static_assert(PKI_NAME_MAX <= TLS_NAME_MAX + 1, "names fit");

struct tls_ctx {
	SSL_CTX *ssl;
	enum tls_side side;
	int allow;		       /* TLS_ROLE_* a peer may have */
	char expect[TLS_NAME_MAX + 1]; /* client: required broker CN */
	char *ca_path;
	char *crl_path;
	struct stat crl_st; /* of the CRL in force */
	struct tls_peer self;
};

struct tls {
	struct tls_ctx *ctx;
	SSL *ssl;
	BIO *rbio; /* ciphertext from the peer */
	BIO *wbio; /* ciphertext for the peer */
	int done;
	int failed;
	struct tls_peer peer;
	char err[TLS_ERR_MAX];
};

const char *
tls_role_name(int role)
{
	for (int r = 0; r < ROLE_COUNT; r++)
		if (role == 1 << r)
			return role_name((enum role)r);
	return "none";
}

int
tls_role_parse(const char *name)
{
	enum role r;

	return role_parse(name, &r) == 0 ? 1 << r : 0;
}

int
tls_roles_parse(const char *list, int *mask, char *err, size_t errlen)
{
	char buf[128], *p, *tok, *save = NULL;
	int m = 0, r;

	if (strlcpy(buf, list, sizeof(buf)) >= sizeof(buf))
		return errf(err, errlen, "role list too long");
	for (p = buf; (tok = strtok_r(p, ", ", &save)) != NULL; p = NULL) {
		if ((r = tls_role_parse(tok)) == 0)
			return errf(err, errlen, "unknown role '%s'", tok);
		m |= r;
	}
	if (m == 0)
		return errf(err, errlen, "empty role list");
	*mask = m;
	return 0;
}

/* The reason of the oldest queued OpenSSL error, and an empty queue. */
static void
ssl_reason(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r == NULL)
		r = e ? "unknown error" : "no detail";
	snprintf(buf, len, "%s: %s", what, r);
	ERR_clear_error();
}

/* Role, name and serial of a certificate; -1 with the reason in err. */
static int
cert_identity(X509 *x, struct tls_peer *p, char *err, size_t errlen)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	enum role r;
	BIGNUM *bn;
	char *hex;

	memset(p, 0, sizeof(*p));
	if (pki_peer_identity(x, &r, p->name, sizeof(p->name), err, errlen) ==
	    -1)
		return -1;
	p->role = 1 << r;
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL) {
		if ((hex = BN_bn2hex(bn)) != NULL) {
			strlcpy(p->serial, hex, sizeof(p->serial));
			OPENSSL_free(hex);
		}
		BN_free(bn);
	}
	ERR_clear_error();
	return 0;
}

/* Checks a verified leaf against what the context allows. */
static int
peer_allowed(
    struct tls_ctx *c, const struct tls_peer *p, char *err, size_t errlen)
{
	if ((p->role & c->allow) == 0)
		return errf(err, errlen,
		    "certificate role '%s' (%s) may not connect here",
		    tls_role_name(p->role), p->name);
	if (c->expect[0] != '\0' && strcmp(p->name, c->expect) != 0)
		return errf(err, errlen, "peer is '%s', expected '%s'", p->name,
		    c->expect);
	return 0;
}

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
	    xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls *t = SSL_get_app_data(ssl);
	X509 *x = X509_STORE_CTX_get_current_cert(xs);
	int depth = X509_STORE_CTX_get_error_depth(xs);
	char subj[128] = "?";

	if (!ok) {
		int e = X509_STORE_CTX_get_error(xs);
		if (x != NULL)
			X509_NAME_oneline(
			    X509_get_subject_name(x), subj, sizeof(subj));
		/* Keep the first reason: later ones follow from it. */
		if (t->err[0] == '\0')
			snprintf(t->err, sizeof(t->err), "%s (depth %d, %s)",
			    X509_verify_cert_error_string(e), depth, subj);
		return 0;
	}
	if (depth != 0)
		return 1;
	if (cert_identity(x, &t->peer, t->err, sizeof(t->err)) == -1 ||
	    peer_allowed(t->ctx, &t->peer, t->err, sizeof(t->err)) == -1) {
		/* Sent as an "unsupported certificate" alert. */
		X509_STORE_CTX_set_error(xs, X509_V_ERR_INVALID_PURPOSE);
		return 0;
	}
	return 1;
}

/* Alerts the peer sends us, so a refused client can say why. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct tls *t = SSL_get_app_data(ssl);

	if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT ||
	    t->err[0] != '\0')
		return;
	/* A close_notify is a clean end, reported as "peer closed". */
	if ((ret & 0xff) == SSL3_AD_CLOSE_NOTIFY)
		return;
	snprintf(t->err, sizeof(t->err), "peer sent alert: %s",
	    SSL_alert_desc_string_long(ret));
}

/* A fresh store (pki_store_new) and the identity of the CRL file in it. */
static X509_STORE *
store_load(
    const char *ca, const char *crl, struct stat *st, char *err, size_t errlen)
{
	if (stat(crl, st) == -1) {
		errf(err, errlen, "%s: %s", crl, strerror(errno));
		return NULL;
	}
	return pki_store_new(ca, crl, err, errlen);
}

static int
ctx_setup(struct tls_ctx *c, const char *cert, const char *key, char *err,
    size_t errlen)
{
	SSL_CTX *s = c->ssl;
	X509 *x;
	char why[TLS_ERR_MAX];
	int rc;

	SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION);
	/* Every connection is a full mutual handshake, checked afresh. */
	SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(s, 0);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
	if (c->side == TLS_SERVER)
		SSL_CTX_set_verify(s,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		    verify_cb);
	else
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(s, 4);
	X509_VERIFY_PARAM_set_flags(
	    SSL_CTX_get0_param(s), X509_V_FLAG_CRL_CHECK);
	SSL_CTX_set_info_callback(s, info_cb);

	/* Who we are decides what pki_ctx_use() checks our certificate
	 * against; only the broker serves. */
	if ((x = pki_cert_load(cert, err, errlen)) == NULL)
		return -1;
	rc = cert_identity(x, &c->self, why, sizeof(why));
	X509_free(x);
	if (rc == -1)
		return errf(err, errlen, "%s: %s", cert, why);
	if ((c->side == TLS_SERVER) != (c->self.role == TLS_ROLE_BROKER))
		return errf(err, errlen,
		    "%s: a %s certificate cannot be a "
		    "TLS %s here",
		    cert, tls_role_name(c->self.role),
		    c->side == TLS_SERVER ? "server" : "client");
	for (int r = 0; r < ROLE_COUNT; r++)
		if (c->self.role == 1 << r &&
		    pki_ctx_use(s, c->ca_path, c->crl_path, cert, key,
			(enum role)r, err, errlen) == -1)
			return -1;
	if (stat(c->crl_path, &c->crl_st) == -1)
		return errf(
		    err, errlen, "%s: %s", c->crl_path, strerror(errno));
	return 0;
}

struct tls_ctx *
tls_ctx_new(enum tls_side side, const char *ca, const char *crl,
    const char *cert, const char *key, char *err, size_t errlen)
{
	struct tls_ctx *c;

	if (ca == NULL || crl == NULL || cert == NULL || key == NULL) {
		errf(err, errlen,
		    "tls needs a CA, a CRL, a certificate and "
		    "a key");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	c->side = side;
	c->allow = side == TLS_SERVER ? TLS_ROLE_ANY & ~TLS_ROLE_BROKER
				      : TLS_ROLE_BROKER;
	ERR_clear_error();
	c->ca_path = strdup(ca);
	c->crl_path = strdup(crl);
	c->ssl = SSL_CTX_new(
	    side == TLS_SERVER ? TLS_server_method() : TLS_client_method());
	if (c->ca_path == NULL || c->crl_path == NULL || c->ssl == NULL) {
		errf(err, errlen, "out of memory");
		tls_ctx_free(c);
		return NULL;
	}
	if (ctx_setup(c, cert, key, err, errlen) == -1) {
		tls_ctx_free(c);
		return NULL;
	}
	return c;
}

void
tls_ctx_free(struct tls_ctx *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ssl);
	free(c->ca_path);
	free(c->crl_path);
	free(c);
}

int
tls_ctx_allow(struct tls_ctx *c, int roles)
{
	if ((roles & TLS_ROLE_ANY) == 0)
		return -1;
	c->allow = roles & TLS_ROLE_ANY;
	return 0;
}

int
tls_ctx_expect_name(struct tls_ctx *c, const char *name)
{
	if (name == NULL) {
		c->expect[0] = '\0';
		return 0;
	}
	if (!pki_name_valid(ROLE_BROKER, name))
		return -1;
	strlcpy(c->expect, name, sizeof(c->expect));
	return 0;
}

const struct tls_peer *
tls_ctx_self(const struct tls_ctx *c)
{
	return &c->self;
}

int
tls_ctx_reload_crl(struct tls_ctx *c, char *err, size_t errlen)
{
	X509_STORE *s;
	struct stat st;

	if (stat(c->crl_path, &st) == -1)
		return errf(
		    err, errlen, "%s: %s", c->crl_path, strerror(errno));
	if (st.st_ino == c->crl_st.st_ino && st.st_size == c->crl_st.st_size &&
	    st.st_mtim.tv_sec == c->crl_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == c->crl_st.st_mtim.tv_nsec)
		return 0;
	if ((s = store_load(c->ca_path, c->crl_path, &st, err, errlen)) == NULL)
		return -1;
	SSL_CTX_set_cert_store(c->ssl, s); /* frees the old store */
	c->crl_st = st;
	return 1;
}

struct tls *
tls_new(struct tls_ctx *c)
{
	struct tls *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ctx = c;
	t->ssl = SSL_new(c->ssl);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	/* An empty input BIO means "wait", not "end of stream". */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_app_data(t->ssl, t);
	if (c->side == TLS_SERVER)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return t;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl); /* frees both BIOs */
	free(t);
}

int
tls_feed(struct tls *t, const void *buf, size_t len)
{
	if (t->failed)
		return -1;
	if (len == 0)
		return 0;
	if (len > INT32_MAX || BIO_write(t->rbio, buf, (int)len) != (int)len) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		t->failed = 1;
		return -1;
	}
	return 0;
}

/* Classifies the result of an SSL call: 0 to wait, -1 failed/closed. */
static int
ssl_result(struct tls *t, int rc, const char *what)
{
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		if (t->err[0] == '\0')
			snprintf(t->err, sizeof(t->err), "peer closed");
		break;
	default:
		if (t->err[0] == '\0')
			ssl_reason(t->err, sizeof(t->err), what);
		break;
	}
	ERR_clear_error();
	t->failed = 1;
	return -1;
}

enum tls_state
tls_handshake(struct tls *t)
{
	int rc;

	if (t->failed)
		return TLS_FAILED;
	if (t->done)
		return TLS_DONE;
	ERR_clear_error();
	if ((rc = SSL_do_handshake(t->ssl)) == 1) {
		/* The verify callback ran at depth 0 and filled t->peer. */
		if (t->peer.role == 0) {
			snprintf(
			    t->err, sizeof(t->err), "peer identity missing");
			t->failed = 1;
			return TLS_FAILED;
		}
		t->done = 1;
		return TLS_DONE;
	}
	return ssl_result(t, rc, "handshake") == 0 ? TLS_WANT : TLS_FAILED;
}

int
tls_done(const struct tls *t)
{
	return t->done && !t->failed;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t len)
{
	int rc;

	if (t->failed || !t->done)
		return t->failed ? -1 : 0;
	if (len > INT32_MAX)
		len = INT32_MAX;
	ERR_clear_error();
	if ((rc = SSL_read(t->ssl, buf, (int)len)) > 0)
		return rc;
	return ssl_result(t, rc, "read") == 0 ? 0 : -1;
}

int
tls_write(struct tls *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int rc;

	if (t->failed || !t->done)
		return -1;
	while (len > 0) {
		int n = len > INT32_MAX ? INT32_MAX : (int)len;
		ERR_clear_error();
		if ((rc = SSL_write(t->ssl, p, n)) <= 0) {
			ssl_result(t, rc, "write");
			t->failed = 1;
			return -1;
		}
		p += rc;
		len -= rc;
	}
	return 0;
}

void
tls_close(struct tls *t)
{
	if (t->failed || !t->done)
		return;
	ERR_clear_error();
	SSL_shutdown(t->ssl);
	ERR_clear_error();
}

size_t
tls_pending(const struct tls *t)
{
	return BIO_ctrl_pending(t->wbio);
}

size_t
tls_take(struct tls *t, void *buf, size_t len)
{
	int n;

	if (len > INT32_MAX)
		len = INT32_MAX;
	if (len == 0 || (n = BIO_read(t->wbio, buf, (int)len)) <= 0)
		return 0;
	return (size_t)n;
}

const char *
tls_error(const struct tls *t)
{
	return t->err[0] ? t->err : "no error";
}

const struct tls_peer *
tls_peer(const struct tls *t)
{
	return t->done ? &t->peer : NULL;
}

int
tls_recheck(struct tls *t, char *err, size_t errlen)
{
	X509_STORE_CTX *xs;
	STACK_OF(X509) * chain;
	X509 *leaf;
	int rc = -1;

	if (!t->done)
		return errf(err, errlen, "no verified peer");
	if ((leaf = SSL_get0_peer_certificate(t->ssl)) == NULL)
		return errf(err, errlen, "peer certificate missing");
	chain = SSL_get_peer_cert_chain(t->ssl);
	if ((xs = X509_STORE_CTX_new()) == NULL)
		return errf(err, errlen, "out of memory");
	ERR_clear_error();
	if (X509_STORE_CTX_init(
		xs, SSL_CTX_get_cert_store(t->ctx->ssl), leaf, chain) != 1) {
		ssl_reason(err, errlen, "recheck");
		goto done;
	}
	X509_STORE_CTX_set_default(
	    xs, t->ctx->side == TLS_SERVER ? "ssl_client" : "ssl_server");
	X509_VERIFY_PARAM_set_flags(
	    X509_STORE_CTX_get0_param(xs), X509_V_FLAG_CRL_CHECK);
	if (X509_verify_cert(xs) == 1)
		rc = 0;
	else
		errf(err, errlen, "%s",
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(xs)));
done:
	ERR_clear_error();
	X509_STORE_CTX_free(xs);
	return rc;
}

int
tls_is_client_hello(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/*
	 * Record: type 22 (handshake), legacy version 3.x, a length that
	 * fits a record; then handshake type 1 (ClientHello).
	 */
	if (len < 6 || p[0] != 22 || p[1] != 3)
		return 0;
	if (((size_t)p[3] << 8 | p[4]) > TLS_RECORD_MAX + 256 ||
	    ((size_t)p[3] << 8 | p[4]) < 4)
		return 0;
	return p[5] == 1;
}
