/*
 * test_pki_trust.c — what programs build on the PKI: the CA+CRL trust
 * store and its refusals, a CA rotation bundle, the DRB's public key, and
 * TLS 1.3 handshakes over SSL_CTXs set up by pki_ctx_use(). (Issuing and
 * identities: test_pki.c, whose scratch-folder fixture this repeats.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "pkifix.h"
#include "testutil.h"

static void
drb_public_key(void **state)
{
	struct pkifix *f = *state;
	char name[PKI_NAME_MAX], *p;
	X509_STORE *s;
	EVP_PKEY *pk, *sk;
	EVP_MD_CTX *md;
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	static const unsigned char msg[] = "approval";

	pkifix_issue(f, ROLE_DRB, "drb");
	pkifix_issue(f, ROLE_RESEARCHER, "kim");
	s = pkifix_store(f);
	p = pkifix_path(f, "drb.crt");
	pk = pki_drb_pubkey(s, p, name, sizeof(name), f->err, sizeof(f->err));
	assert_non_null(pk);
	assert_string_equal(name, "drb");
	free(p);
	/* The private key signs what the public key verifies. */
	p = pkifix_path(f, "drb.key");
	sk = pki_key_load(p, f->err, sizeof(f->err));
	assert_non_null(sk);
	free(p);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, sk), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_reset(md);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk), 1);
	assert_int_equal(
	    EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(pk);
	/* A researcher's certificate is no DRB's. */
	p = pkifix_path(f, "kim.crt");
	assert_null(
	    pki_drb_pubkey(s, p, name, sizeof(name), f->err, sizeof(f->err)));
	free(p);
	X509_STORE_free(s);
	/* Nor a revoked DRB. */
	assert_int_equal(
	    pki_revoke(f->dir, "drb", 7, f->err, sizeof(f->err)), 0);
	s = pkifix_store(f);
	p = pkifix_path(f, "drb.crt");
	assert_null(
	    pki_drb_pubkey(s, p, name, sizeof(name), f->err, sizeof(f->err)));
	free(p);
	X509_STORE_free(s);
}

/* Writes a CRL signed by the CA whose nextUpdate has passed. */
static void
write_expired_crl(struct pkifix *f)
{
	char *kp = pkifix_path(f, PKI_CA_KEY), *cp = pkifix_path(f, PKI_CA_CRT);
	char *crlp = pkifix_path(f, PKI_CRL);
	EVP_PKEY *k = pki_key_load(kp, f->err, sizeof(f->err));
	X509 *ca = pki_cert_load(cp, f->err, sizeof(f->err));
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t;
	FILE *fp;

	assert_non_null(k);
	assert_non_null(ca);
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	t = ASN1_TIME_set(NULL, time(NULL) - 2 * 86400);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_free(t);
	t = ASN1_TIME_set(NULL, time(NULL) - 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_TIME_free(t);
	assert_true(X509_CRL_sign(crl, k, EVP_sha256()) > 0);
	assert_non_null(fp = fopen(crlp, "w"));
	PEM_write_X509_CRL(fp, crl);
	fclose(fp);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(k);
	free(kp);
	free(cp);
	free(crlp);
}

static void
store_refusals(void **state)
{
	struct pkifix *f = *state;
	char *ca = pkifix_path(f, PKI_CA_CRT), *crl = pkifix_path(f, PKI_CRL);
	char *leaf;

	assert_null(pki_store_new(ca, NULL, f->err, sizeof(f->err)));
	assert_null(pki_store_new(NULL, crl, f->err, sizeof(f->err)));
	/* A leaf certificate is no trust anchor. */
	pkifix_issue(f, ROLE_NODE, "snuh");
	leaf = pkifix_path(f, "snuh.crt");
	assert_null(pki_store_new(leaf, crl, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "not a self-signed CA"));
	/* A certificate where the CRL should be: no CRL. */
	assert_null(pki_store_new(ca, ca, f->err, sizeof(f->err)));
	write_expired_crl(f);
	assert_null(pki_store_new(ca, crl, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "expired"));
	/* tally pki crl repairs it. */
	assert_int_equal(pki_crl_update(f->dir, 5, f->err, sizeof(f->err)), 0);
	assert_int_equal(pkifix_verify(f, "snuh", ROLE_NODE), 0);
	free(leaf);
	free(ca);
	free(crl);
}

static char *
cat2(const char *a, const char *b, const char *out)
{
	char *cmd;

	if (asprintf(&cmd, "cat '%s' '%s' > '%s'", a, b, out) == -1 ||
	    system(cmd) != 0)
		fail_msg("cat");
	free(cmd);
	return strdup(out);
}

/* During a CA rotation a bundle of two CAs and two CRLs trusts both;
 * the new CA may even keep the old one's name. */
static void
rotation_bundle(void **state)
{
	struct pkifix *f = *state;
	struct pkifix next = { 0 };
	char *ca1 = pkifix_path(f, PKI_CA_CRT), *crl1 = pkifix_path(f, PKI_CRL);
	char *ca2, *crl2, *cab, *crlb, *p, name[PKI_NAME_MAX];
	X509_STORE *s;
	X509 *x;

	if (asprintf(&next.dir, "%s-next", f->dir) == -1)
		fail_msg("asprintf");
	assert_int_equal(pki_ca_init(next.dir, "Test Consortium", 30, next.err,
			     sizeof(next.err)),
	    0);
	pkifix_issue(f, ROLE_NODE, "snuh");
	pkifix_issue(&next, ROLE_NODE, "amc");
	ca2 = pkifix_path(&next, PKI_CA_CRT);
	crl2 = pkifix_path(&next, PKI_CRL);
	p = pkifix_path(f, "bundle.crt");
	cab = cat2(ca1, ca2, p);
	free(p);
	p = pkifix_path(f, "bundle.crl");
	crlb = cat2(crl1, crl2, p);
	free(p);
	s = pki_store_new(cab, crlb, f->err, sizeof(f->err));
	assert_non_null(s);
	x = pkifix_load_cert(f, "snuh");
	assert_int_equal(pki_cert_verify(s, x, ROLE_NODE, 0, name, sizeof(name),
			     f->err, sizeof(f->err)),
	    0);
	X509_free(x);
	x = pkifix_load_cert(&next, "amc");
	assert_int_equal(pki_cert_verify(s, x, ROLE_NODE, 0, name, sizeof(name),
			     f->err, sizeof(f->err)),
	    0);
	X509_free(x);
	X509_STORE_free(s);
	/* Both CAs but only one CRL: refused, fail closed. */
	assert_null(pki_store_new(cab, crl1, f->err, sizeof(f->err)));
	/* Same CA subject on both: each CRL still applies to its own CA. */
	assert_int_equal(
	    pki_revoke(next.dir, "amc", 7, next.err, sizeof(next.err)), 0);
	p = pkifix_path(f, "bundle2.crl");
	free(crlb);
	crlb = cat2(crl2, crl1, p);
	free(p);
	s = pki_store_new(cab, crlb, f->err, sizeof(f->err));
	assert_non_null(s);
	x = pkifix_load_cert(&next, "amc");
	assert_int_equal(pki_cert_verify(s, x, ROLE_NODE, 0, name, sizeof(name),
			     f->err, sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "revoked"));
	X509_free(x);
	x = pkifix_load_cert(f, "snuh");
	assert_int_equal(pki_cert_verify(s, x, ROLE_NODE, 0, name, sizeof(name),
			     f->err, sizeof(f->err)),
	    0);
	X509_free(x);
	X509_STORE_free(s);
	free(ca1);
	free(crl1);
	free(ca2);
	free(crl2);
	free(cab);
	free(crlb);
	free(next.dir);
}

static SSL_CTX *
ctx_for(struct pkifix *f, const char *name, enum role self, int server)
{
	char crt[128], key[128];
	char *ca = pkifix_path(f, PKI_CA_CRT), *crl = pkifix_path(f, PKI_CRL),
	     *cp, *kp;
	SSL_CTX *ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	assert_non_null(ctx);
	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(key, sizeof(key), "%s.key", name);
	cp = pkifix_path(f, crt);
	kp = pkifix_path(f, key);
	if (pki_ctx_use(ctx, ca, crl, cp, kp, self, f->err, sizeof(f->err)) ==
	    -1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	} else {
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	free(ca);
	free(crl);
	free(cp);
	free(kp);
	return ctx;
}

/*
 * Runs a handshake between client and server over a BIO pair, then one
 * byte from client to server (in TLS 1.3 the server judges the client's
 * certificate after the client thinks it is done). 0 if the server
 * accepted; the server's view of the client goes to role/name.
 */
static int
handshake(
    SSL_CTX *sctx, SSL_CTX *cctx, enum role *r, char *name, size_t namelen)
{
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	BIO *bs, *bc;
	int sdone = 0, cdone = 0, rc = -1, i;
	char byte = 'x', err[256];

	assert_int_equal(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
	SSL_set_bio(s, bs, bs);
	SSL_set_bio(c, bc, bc);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	SSL_set1_host(c, "localhost");
	for (i = 0; i < 20 && !(sdone && cdone); i++) {
		if (!cdone) {
			int n = SSL_do_handshake(c);
			if (n == 1)
				cdone = 1;
			else if (SSL_get_error(c, n) != SSL_ERROR_WANT_READ)
				goto out;
		}
		if (!sdone) {
			int n = SSL_do_handshake(s);
			if (n == 1)
				sdone = 1;
			else if (SSL_get_error(s, n) != SSL_ERROR_WANT_READ)
				goto out;
		}
	}
	if (!(sdone && cdone) || SSL_write(c, &byte, 1) != 1 ||
	    SSL_read(s, &byte, 1) != 1)
		goto out;
	if (pki_peer_identity(SSL_get0_peer_certificate(s), r, name, namelen,
		err, sizeof(err)) == -1)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
	return rc;
}

static void
tls_over_the_store(void **state)
{
	struct pkifix *f = *state;
	SSL_CTX *sctx, *cctx;
	char name[PKI_NAME_MAX];
	enum role r;

	pkifix_issue(f, ROLE_BROKER, "broker");
	pkifix_issue(f, ROLE_NODE, "snuh");
	pkifix_issue(f, ROLE_DRB, "drb");
	/* Own certificate in the wrong role: refused at start-up. */
	assert_null(ctx_for(f, "snuh", ROLE_BROKER, 1));
	assert_null(ctx_for(f, "drb", ROLE_NODE, 0));
	sctx = ctx_for(f, "broker", ROLE_BROKER, 1);
	assert_non_null(sctx);
	cctx = ctx_for(f, "snuh", ROLE_NODE, 0);
	assert_non_null(cctx);
	assert_int_equal(handshake(sctx, cctx, &r, name, sizeof(name)), 0);
	assert_int_equal(r, ROLE_NODE);
	assert_string_equal(name, "snuh");
	SSL_CTX_free(sctx);
	/* Revoked: the client's contexts still holds the old CRL, the
	 * server's new one refuses it. */
	assert_int_equal(
	    pki_revoke(f->dir, "snuh", 7, f->err, sizeof(f->err)), 0);
	sctx = ctx_for(f, "broker", ROLE_BROKER, 1);
	assert_non_null(sctx);
	assert_int_equal(handshake(sctx, cctx, &r, name, sizeof(name)), -1);
	/* And a client no longer starts with its revoked certificate. */
	assert_null(ctx_for(f, "snuh", ROLE_NODE, 0));
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	/* Key and certificate that do not belong together. */
	char *ca = pkifix_path(f, PKI_CA_CRT), *crl = pkifix_path(f, PKI_CRL);
	char *cp = pkifix_path(f, "broker.crt"),
	     *kp = pkifix_path(f, "drb.key");
	sctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(pki_ctx_use(sctx, ca, crl, cp, kp, ROLE_BROKER, f->err,
			     sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "does not go with"));
	SSL_CTX_free(sctx);
	free(ca);
	free(crl);
	free(cp);
	free(kp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    drb_public_key, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    store_refusals, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    rotation_bundle, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    tls_over_the_store, pkifix_setup, pkifix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
