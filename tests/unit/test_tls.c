/*
 * test_tls.c — TLS sessions over memory: a good mutual handshake, and
 * every way a peer must be refused (other CA with the same name, expired,
 * revoked, wrong role, no certificate, TLS 1.2), each with its reason.
 * Certificates come from lib/pki (what `tally pki` uses).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pki.h"
#include "tls.h"

static char *dir;

static void
ca_init(const char *d)
{
	char err[256];

	if (pki_ca_init(d, "test", PKI_CA_DAYS, err, sizeof(err)) == -1)
		fail_msg("pki init %s: %s", d, err);
}

/* Issues name in d; expired: valid for a while, ending yesterday. */
static void
issue(const char *d, enum role role, const char *name, int expired)
{
	struct pki_issue_req req = { role, name, 0, 0, 0 };
	char err[256];

	if (expired) {
		req.not_before = time(NULL) - 10 * 86400;
		req.not_after = time(NULL) - 86400;
	}
	if (pki_issue(d, &req, NULL, 0, err, sizeof(err)) == -1)
		fail_msg("pki issue %s: %s", name, err);
}

static void
revoke(const char *d, const char *name)
{
	char err[256];

	if (pki_revoke(d, name, 30, err, sizeof(err)) == -1)
		fail_msg("pki revoke %s: %s", name, err);
}

static const char *
path(const char *rel)
{
	static char buf[4][600];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, 600, "%s/%s", dir, rel);
	return p;
}

static int
setup(void **state)
{
	(void)state;
	dir = test_mkdtemp();
	ca_init(dir);
	issue(dir, ROLE_BROKER, "broker", 0);
	issue(dir, ROLE_NODE, "snuh", 0);
	issue(dir, ROLE_RESEARCHER, "alice", 0);
	issue(dir, ROLE_NODE, "old", 1);
	issue(dir, ROLE_NODE, "bad", 0);
	revoke(dir, "bad");
	/* Another CA of the same name, issuing the very same name. */
	ca_init(path("other"));
	issue(path("other"), ROLE_NODE, "snuh", 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	test_rmdir(dir);
	return 0;
}

/*
 * A context trusting our CA, with the certificate of name from dir ("" or
 * "other/": issued by another CA).
 */
static struct tls_ctx *
ctx(enum tls_side side, const char *sub, const char *name, char *err,
    size_t errlen)
{
	char ca[600], crl[600], crt[600], key[600];

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crl, sizeof(crl), "%s/crl.pem", dir);
	snprintf(crt, sizeof(crt), "%s/%s%s.crt", dir, sub, name);
	snprintf(key, sizeof(key), "%s/%s%s.key", dir, sub, name);
	return tls_ctx_new(side, ca, crl, crt, key, err, errlen);
}

/* Moves ciphertext both ways until both sides are quiet. */
static void
pump(struct tls *c, struct tls *s)
{
	unsigned char buf[32768];
	size_t n;
	int moved;

	do {
		moved = 0;
		tls_handshake(c);
		while ((n = tls_take(c, buf, sizeof(buf))) > 0) {
			tls_feed(s, buf, n);
			moved = 1;
		}
		tls_handshake(s);
		while ((n = tls_take(s, buf, sizeof(buf))) > 0) {
			tls_feed(c, buf, n);
			moved = 1;
		}
	} while (moved);
}

/* Moves ciphertext between one of our sessions and a raw OpenSSL one. */
static void
raw_pump(struct tls *t, SSL *r)
{
	BIO *in = SSL_get_rbio(r), *out = SSL_get_wbio(r);
	unsigned char buf[16384];
	int n, moved;

	do {
		moved = 0;
		SSL_do_handshake(r);
		while ((n = BIO_read(out, buf, sizeof(buf))) > 0) {
			tls_feed(t, buf, n);
			moved = 1;
		}
		tls_handshake(t);
		while ((n = (int)tls_take(t, buf, sizeof(buf))) > 0) {
			BIO_write(in, buf, n);
			moved = 1;
		}
	} while (moved);
	ERR_clear_error();
}

static SSL *
raw_ssl(SSL_CTX *rc, int server)
{
	SSL *r = SSL_new(rc);

	SSL_set_bio(r, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	if (server)
		SSL_set_accept_state(r);
	else
		SSL_set_connect_state(r);
	return r;
}

static void
good_handshake(void **state)
{
	char err[256], buf[64];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	struct tls_ctx *cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
	struct tls *s, *c;
	ssize_t n;

	(void)state;
	assert_non_null(sc);
	assert_non_null(cc);
	assert_int_equal(tls_ctx_self(sc)->role, TLS_ROLE_BROKER);
	assert_string_equal(tls_ctx_self(cc)->name, "snuh");
	s = tls_new(sc);
	c = tls_new(cc);
	assert_int_equal(tls_handshake(c), TLS_WANT);
	{
		/* The first flight is a ClientHello, and nothing else is. */
		unsigned char hello[4096];
		size_t len = tls_take(c, hello, sizeof(hello));
		assert_true(tls_is_client_hello(hello, len));
		assert_false(tls_is_client_hello(hello + 1, len - 1));
		assert_false(tls_is_client_hello("GET / HTTP/1.0\r\n", 16));
		tls_feed(s, hello, len);
	}
	pump(c, s);
	assert_true(tls_done(c));
	assert_true(tls_done(s));
	assert_int_equal(tls_peer(s)->role, TLS_ROLE_NODE);
	assert_string_equal(tls_peer(s)->name, "snuh");
	assert_int_equal(tls_peer(c)->role, TLS_ROLE_BROKER);
	assert_string_equal(tls_peer(c)->name, "broker");
	assert_int_equal(tls_write(c, "ping", 4), 0);
	pump(c, s);
	n = tls_read(s, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), 0);
	assert_int_equal(tls_recheck(s, err, sizeof(err)), 0);
	tls_close(c);
	pump(c, s);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), -1);
	assert_string_equal(tls_error(s), "peer closed");
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

/*
 * A client presenting the certificate `name` from sub, loaded without any
 * check (our own code would refuse to start with it): the server must
 * refuse with a reason containing want, and its alert must reach the
 * client. Our own code refuses to use such a certificate: startup says.
 */
static void
refused_raw(
    const char *sub, const char *name, const char *want, const char *startup)
{
	char err[256], crt[600], key[600], buf[16];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	SSL_CTX *rc = SSL_CTX_new(TLS_client_method());
	struct tls *s;
	SSL *r;

	snprintf(crt, sizeof(crt), "%s/%s%s.crt", dir, sub, name);
	snprintf(key, sizeof(key), "%s/%s%s.key", dir, sub, name);
	assert_int_equal(
	    SSL_CTX_use_certificate_file(rc, crt, SSL_FILETYPE_PEM), 1);
	assert_int_equal(
	    SSL_CTX_use_PrivateKey_file(rc, key, SSL_FILETYPE_PEM), 1);
	s = tls_new(sc);
	r = raw_ssl(rc, 0);
	raw_pump(s, r);
	assert_false(tls_done(s));
	if (strstr(tls_error(s), want) == NULL)
		fail_msg("server reason '%s', want '%s'", tls_error(s), want);
	/* TLS 1.3: the client believed itself done; the alert says no. */
	assert_true(SSL_read(r, buf, sizeof(buf)) <= 0);
	assert_int_equal(SSL_get_error(r, -1), SSL_ERROR_SSL);
	ERR_clear_error();
	SSL_free(r);
	SSL_CTX_free(rc);
	tls_free(s);
	tls_ctx_free(sc);
	assert_null(ctx(TLS_CLIENT, sub, name, err, sizeof(err)));
	if (strstr(err, startup) == NULL)
		fail_msg("start-up reason '%s', want '%s'", err, startup);
}

static void
refuse_other_ca(void **state)
{
	(void)state;
	refused_raw("other/", "snuh", "unable to get local issuer",
	    "unable to get local issuer");
}

static void
refuse_expired(void **state)
{
	(void)state;
	refused_raw(
	    "", "old", "certificate has expired", "certificate has expired");
}

static void
refuse_revoked(void **state)
{
	(void)state;
	refused_raw("", "bad", "certificate revoked", "certificate revoked");
}

/* A valid certificate of a role the server does not take. */
static void
refused_role(int allow, const char *want)
{
	char err[256], buf[16];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	struct tls_ctx *cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
	struct tls *s, *c;

	assert_non_null(sc);
	assert_non_null(cc);
	tls_ctx_allow(sc, allow);
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_false(tls_done(s));
	if (strstr(tls_error(s), want) == NULL)
		fail_msg("server reason '%s', want '%s'", tls_error(s), want);
	/* The client may think it is done (TLS 1.3) but reading fails. */
	assert_int_equal(tls_read(c, buf, sizeof(buf)), -1);
	assert_non_null(strstr(tls_error(c), "peer sent alert"));
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

static void
refuse_role(void **state)
{
	(void)state;
	refused_role(TLS_ROLE_RESEARCHER | TLS_ROLE_OPERATOR,
	    "role 'node' (snuh) may not connect");
}

/*
 * A client must refuse a server whose certificate is not a broker's (our
 * own code will not even serve with one, so the server here is raw).
 */
static void
refuse_server_not_broker(void **state)
{
	char err[256], buf[16];
	struct tls_ctx *cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
	SSL_CTX *rc = SSL_CTX_new(TLS_server_method());
	struct tls *c;
	SSL *r;

	(void)state;
	assert_int_equal(
	    pki_ctx_use(rc, path("ca.crt"), path("crl.pem"), path("alice.crt"),
		path("alice.key"), ROLE_RESEARCHER, err, sizeof(err)),
	    0);
	r = raw_ssl(rc, 1);
	c = tls_new(cc);
	raw_pump(c, r);
	assert_false(tls_done(c));
	assert_int_equal(tls_read(c, buf, sizeof(buf)), -1);
	/* EKU clientAuth only: the purpose check fires first. */
	if (strstr(tls_error(c), "certificate purpose") == NULL)
		fail_msg("client reason '%s'", tls_error(c));
	tls_free(c);
	SSL_free(r);
	SSL_CTX_free(rc);
	tls_ctx_free(cc);

	/* The right role but another name than the one expected. */
	{
		struct tls_ctx *sc =
		    ctx(TLS_SERVER, "", "broker", err, sizeof(err));
		struct tls *s;

		cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
		assert_int_equal(tls_ctx_expect_name(cc, "broker2"), 0);
		assert_int_equal(tls_ctx_expect_name(cc, "Bad Name"), -1);
		s = tls_new(sc);
		c = tls_new(cc);
		pump(c, s);
		assert_false(tls_done(c));
		assert_non_null(strstr(tls_error(c), "expected 'broker2'"));
		tls_free(s);
		tls_free(c);
		tls_ctx_free(sc);
		tls_ctx_free(cc);
	}
}

/* A raw OpenSSL client: no certificate, or an older protocol. */
static void
raw_client(int max_version, const char *want)
{
	char err[256];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	struct tls *s = tls_new(sc);
	SSL_CTX *rc = SSL_CTX_new(TLS_client_method());
	SSL *r;

	SSL_CTX_set_max_proto_version(rc, max_version);
	r = raw_ssl(rc, 0);
	raw_pump(s, r);
	assert_false(tls_done(s));
	if (strstr(tls_error(s), want) == NULL)
		fail_msg("server reason '%s', want '%s'", tls_error(s), want);
	SSL_free(r);
	SSL_CTX_free(rc);
	tls_free(s);
	tls_ctx_free(sc);
}

static void
refuse_no_cert(void **state)
{
	(void)state;
	raw_client(TLS1_3_VERSION, "peer did not return a certificate");
}

static void
refuse_tls12(void **state)
{
	(void)state;
	raw_client(TLS1_2_VERSION, "unsupported protocol");
}

static void
key_readable(void **state)
{
	char err[256];

	(void)state;
	issue(dir, ROLE_NODE, "loose", 0);
	chmod(path("loose.key"), 0644);
	assert_null(ctx(TLS_CLIENT, "", "loose", err, sizeof(err)));
	assert_non_null(strstr(err, "accessible by group or others"));
	assert_null(tls_ctx_new(TLS_CLIENT, path("ca.crt"), NULL,
	    path("snuh.crt"), path("snuh.key"), err, sizeof(err)));
	assert_non_null(strstr(err, "CRL"));
	/* Only the broker serves; a broker is never a client. */
	assert_null(ctx(TLS_SERVER, "", "snuh", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot be a TLS server"));
	assert_null(ctx(TLS_CLIENT, "", "broker", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot be a TLS client"));
}

/* Revoking a connected peer: reload, recheck, and refuse the next time. */
static void
revoke_live(void **state)
{
	char err[256];
	struct tls_ctx *sc, *cc;
	struct tls *s, *c;

	(void)state;
	issue(dir, ROLE_NODE, "late", 0);
	sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	cc = ctx(TLS_CLIENT, "", "late", err, sizeof(err));
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_true(tls_done(s));
	assert_int_equal(tls_ctx_reload_crl(sc, err, sizeof(err)), 0);
	revoke(dir, "late");
	assert_int_equal(tls_ctx_reload_crl(sc, err, sizeof(err)), 1);
	assert_int_equal(tls_recheck(s, err, sizeof(err)), -1);
	assert_string_equal(err, "certificate revoked");
	tls_free(s);
	tls_free(c);
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_false(tls_done(s));
	assert_non_null(strstr(tls_error(s), "certificate revoked"));
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

static void
roles(void **state)
{
	char err[128];
	int m;

	(void)state;
	assert_int_equal(
	    tls_roles_parse("node, researcher", &m, err, sizeof(err)), 0);
	assert_int_equal(m, TLS_ROLE_NODE | TLS_ROLE_RESEARCHER);
	assert_int_equal(
	    tls_roles_parse("node,king", &m, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown role 'king'");
	assert_string_equal(tls_role_name(TLS_ROLE_DRB), "drb");
	assert_string_equal(tls_role_name(3), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_handshake),
		cmocka_unit_test(refuse_other_ca),
		cmocka_unit_test(refuse_expired),
		cmocka_unit_test(refuse_revoked),
		cmocka_unit_test(refuse_role),
		cmocka_unit_test(refuse_server_not_broker),
		cmocka_unit_test(refuse_no_cert),
		cmocka_unit_test(refuse_tls12),
		cmocka_unit_test(key_readable),
		cmocka_unit_test(revoke_live),
		cmocka_unit_test(roles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
