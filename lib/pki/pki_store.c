/*
 * pki_store.c — owns the trust store every TLS endpoint verifies peers
 * with: the consortium CA certificate(s) and their CRLs, CRL checking
 * always on; chain verification with a role; an SSL_CTX's own certificate
 * and key; and the DRB's public key. It never accepts a CRL that is not
 * signed by a loaded CA or is past its nextUpdate, and never returns a
 * store without CRL checking.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "util.h"

/* A bundle holds the current CA and, during a rotation, the next one. */
#define PKI_BUNDLE_MAX 8

static int
store_add_cas(X509_STORE *store, const char *path, STACK_OF(X509) * cas,
    char *err, size_t errlen)
{
	STACK_OF(X509_INFO) * infos;
	char why[128];
	BIO *b;
	int i, rc = -1;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	if (infos == NULL)
		return errf(err, errlen, "%s: %s", path,
		    pki_ossl_err(why, sizeof(why)));
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509 *x = sk_X509_INFO_value(infos, i)->x509;
		if (x == NULL)
			continue;
		if (sk_X509_num(cas) >= PKI_BUNDLE_MAX) {
			errf(err, errlen, "%s: more than %d certificates", path,
			    PKI_BUNDLE_MAX);
			goto out;
		}
		if (X509_check_ca(x) != 1 || !X509_self_signed(x, 1)) {
			ERR_clear_error();
			errf(err, errlen,
			    "%s: certificate %d is not a self-signed CA", path,
			    i + 1);
			goto out;
		}
		if (!X509_STORE_add_cert(store, x) || !X509_up_ref(x) ||
		    !sk_X509_push(cas, x)) {
			errf(err, errlen, "%s: %s", path,
			    pki_ossl_err(why, sizeof(why)));
			goto out;
		}
	}
	if (sk_X509_num(cas) == 0)
		errf(err, errlen, "%s: no certificate", path);
	else
		rc = 0;
out:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	return rc;
}

/* The CA among cas that issued and signed crl, or NULL. */
static X509 *
crl_issuer(STACK_OF(X509) * cas, X509_CRL *crl)
{
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *ca = sk_X509_value(cas, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			X509_get_subject_name(ca)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return ca;
	}
	ERR_clear_error();
	return NULL;
}

static int
store_add_crls(X509_STORE *store, const char *path, STACK_OF(X509) * cas,
    char *err, size_t errlen)
{
	STACK_OF(X509_INFO) * infos;
	const ASN1_TIME *next;
	int i, n = 0, rc = -1;
	char why[128];
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	if (infos == NULL)
		return errf(err, errlen, "%s: %s", path,
		    pki_ossl_err(why, sizeof(why)));
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_CRL *crl = sk_X509_INFO_value(infos, i)->crl;
		if (crl == NULL)
			continue;
		n++;
		if (crl_issuer(cas, crl) == NULL) {
			errf(err, errlen, "%s: CRL %d is not signed by the CA",
			    path, n);
			goto out;
		}
		next = X509_CRL_get0_nextUpdate(crl);
		if (next == NULL || X509_cmp_time(next, NULL) <= 0) {
			errf(err, errlen,
			    "%s: CRL %d has expired; re-sign it with 'tally "
			    "pki crl'",
			    path, n);
			goto out;
		}
		if (!X509_STORE_add_crl(store, crl)) {
			errf(err, errlen, "%s: %s", path,
			    pki_ossl_err(why, sizeof(why)));
			goto out;
		}
	}
	if (n < sk_X509_num(cas))
		errf(err, errlen, "%s: %d CRL(s) for %d CA certificate(s)",
		    path, n, sk_X509_num(cas));
	else
		rc = 0;
out:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	return rc;
}

X509_STORE *
pki_store_new(
    const char *ca_path, const char *crl_path, char *err, size_t errlen)
{
	STACK_OF(X509) *cas = NULL;
	X509_STORE *store;

	if (ca_path == NULL || crl_path == NULL) {
		errf(err, errlen, "both a CA certificate and a CRL are needed");
		return NULL;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (cas = sk_X509_new_null()) == NULL) {
		errf(err, errlen, "out of memory");
		goto bad;
	}
	if (store_add_cas(store, ca_path, cas, err, errlen) == -1 ||
	    store_add_crls(store, crl_path, cas, err, errlen) == -1)
		goto bad;
	X509_STORE_set_flags(
	    store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_X509_STRICT);
	sk_X509_pop_free(cas, X509_free);
	return store;
bad:
	sk_X509_pop_free(cas, X509_free);
	X509_STORE_free(store);
	return NULL;
}

int
pki_cert_verify(X509_STORE *store, X509 *cert, enum role want, time_t at,
    char *name, size_t namelen, char *err, size_t errlen)
{
	X509_STORE_CTX *ctx;
	enum role got;
	int purpose, rc = -1;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, cert, NULL)) {
		X509_STORE_CTX_free(ctx);
		ERR_clear_error();
		return errf(err, errlen, "out of memory");
	}
	if (want == ROLE_BROKER)
		purpose = X509_PURPOSE_SSL_SERVER;
	else if (want == ROLE_DRB)
		purpose = X509_PURPOSE_ANY;
	else
		purpose = X509_PURPOSE_SSL_CLIENT;
	X509_STORE_CTX_set_purpose(ctx, purpose);
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) != 1) {
		errf(err, errlen, "certificate does not verify: %s",
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	if (pki_peer_identity(cert, &got, name, namelen, err, errlen) == -1)
		goto out;
	if (got != want) {
		errf(err, errlen,
		    "certificate of %s '%s' where a %s was expected",
		    role_name(got), name, role_name(want));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	return rc;
}

int
pki_ctx_use(SSL_CTX *ctx, const char *ca_path, const char *crl_path,
    const char *cert_path, const char *key_path, enum role self, char *err,
    size_t errlen)
{
	char name[PKI_NAME_MAX], why[128];
	X509_STORE *store;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = -1;

	if ((store = pki_store_new(ca_path, crl_path, err, errlen)) == NULL)
		return -1;
	if ((cert = pki_cert_load(cert_path, err, errlen)) == NULL ||
	    (key = pki_key_load(key_path, err, errlen)) == NULL)
		goto out;
	if (pki_cert_verify(store, cert, self, 0, name, sizeof(name), why,
		sizeof(why)) == -1) {
		errf(err, errlen, "%s: %s", cert_path, why);
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		errf(err, errlen, "%s does not go with %s: %s", key_path,
		    cert_path, pki_ossl_err(why, sizeof(why)));
		goto out;
	}
	SSL_CTX_set1_cert_store(ctx, store);
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_STORE_free(store);
	return rc;
}

EVP_PKEY *
pki_drb_pubkey(X509_STORE *store, const char *cert_path, char *name,
    size_t namelen, char *err, size_t errlen)
{
	char why[160];
	EVP_PKEY *pk = NULL;
	X509 *cert;

	if ((cert = pki_cert_load(cert_path, err, errlen)) == NULL)
		return NULL;
	if (pki_cert_verify(store, cert, ROLE_DRB, 0, name, namelen, why,
		sizeof(why)) == -1) {
		errf(err, errlen, "%s: %s", cert_path, why);
		goto out;
	}
	pk = X509_get_pubkey(cert);
	if (pk == NULL || !EVP_PKEY_is_a(pk, "ED25519")) {
		errf(err, errlen, "%s: a DRB key must be Ed25519", cert_path);
		EVP_PKEY_free(pk);
		pk = NULL;
	}
out:
	ERR_clear_error();
	X509_free(cert);
	return pk;
}
