/*
 * pki_issue.c — owns issuing: a fresh key pair (ECDSA P-256, or Ed25519
 * for the DRB) and a certificate with the role's profile (docs/pki.md),
 * written as NAME.key (0600, exclusive), NAME.crt and issued/SERIAL.crt.
 * It never re-issues a name whose certificate is neither revoked nor
 * expired, and never puts an unvalidated name into a certificate.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define PKI_INTERNAL
#include "pki.h"
#include "util.h"

/* May name get a new certificate? Only if it has none still good. */
static int
may_issue(const struct pki_ca *ca, const char *crt, const char *name, char *err,
    size_t errlen)
{
	X509_REVOKED *rev;
	char hex[PKI_SERIAL_HEX] = "?";
	X509 *old;
	int ok;

	if (!pki_exists(crt))
		return 0;
	if ((old = pki_cert_load(crt, err, errlen)) == NULL)
		return -1;
	ok = X509_CRL_get0_by_serial(ca->crl, &rev,
		 (ASN1_INTEGER *)X509_get0_serialNumber(old)) == 1 ||
	    X509_cmp_time(X509_get0_notAfter(old), NULL) < 0;
	pki_serial_hex(X509_get0_serialNumber(old), hex, sizeof(hex));
	X509_free(old);
	ERR_clear_error();
	if (!ok)
		return errf(err, errlen,
		    "'%s' already has a certificate that is neither revoked "
		    "nor expired (serial %s); revoke it first",
		    name, hex);
	return 0;
}

static const char *
issue_eku(enum role r)
{
	switch (r) {
	case ROLE_BROKER:
		return "serverAuth";
	case ROLE_DRB:
		return PKI_OID_DOCUMENT_SIGNING;
	default:
		return "clientAuth";
	}
}

/* Subject O=<CA's O>, OU=role, CN=name. */
static X509_NAME *
leaf_name(const struct pki_ca *ca, enum role r, const char *name)
{
	const X509_NAME *cas = X509_get_subject_name(ca->cert);
	X509_NAME *n;
	int i = X509_NAME_get_index_by_NID(cas, NID_organizationName, -1);

	if (i < 0 || (n = X509_NAME_new()) == NULL)
		return NULL;
	if (!X509_NAME_add_entry(n, X509_NAME_get_entry(cas, i), -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
		(const unsigned char *)role_name(r), -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		(const unsigned char *)name, -1, -1, 0)) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

static X509 *
leaf_make(const struct pki_ca *ca, const struct pki_issue_req *req,
    EVP_PKEY *key, char *err, size_t errlen)
{
	time_t now = time(NULL), nb, na;
	struct tm tm;
	char san[3 * PKI_NAME_MAX + 64];
	X509_NAME *subj;
	X509V3_CTX v3;
	X509 *x;

	nb = req->not_before != 0 ? req->not_before : now - PKI_SKEW_SECS;
	na = req->not_after != 0
	    ? req->not_after
	    : (req->not_before != 0 ? req->not_before : now) +
		(time_t)(req->days ? req->days : PKI_CERT_DAYS) * 86400;
	/* The default validity ends with the CA's at the latest. */
	if (req->not_after == 0 && req->days == 0 &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(ca->cert), &tm) == 1 &&
	    timegm(&tm) < na)
		na = timegm(&tm);
	if (na <= nb) {
		errf(err, errlen, "notAfter is not after notBefore");
		return NULL;
	}
	if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(ca->cert), na) < 0) {
		errf(err, errlen,
		    "the certificate would outlive the CA; "
		    "issue it for fewer days or rotate the CA (docs/pki.md)");
		return NULL;
	}
	if ((subj = leaf_name(ca, req->role, req->name)) == NULL) {
		errf(err, errlen, "cannot build the subject name");
		ERR_clear_error();
		return NULL;
	}
	x = pki_cert_start(ca->cert, subj, key, nb, na, err, errlen);
	X509_NAME_free(subj);
	if (x == NULL)
		return NULL;
	/* The name was validated: [a-z0-9.-] only, safe in this syntax. */
	if (req->role == ROLE_BROKER)
		snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1",
		    req->name);
	else
		snprintf(san, sizeof(san), "DNS:%s", req->name);
	X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
	if (pki_ext_add(x, &v3, NID_basic_constraints, "critical,CA:FALSE", err,
		errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_key_usage, "critical,digitalSignature", err,
		errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_ext_key_usage, issue_eku(req->role), err,
		errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_subject_key_identifier, "hash", err,
		errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_authority_key_identifier, "keyid:always",
		err, errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_subject_alt_name, san, err, errlen) == -1 ||
	    pki_cert_sign(x, ca->key, err, errlen) == -1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
pki_issue(const char *dir, const struct pki_issue_req *req, char *serial,
    size_t seriallen, char *err, size_t errlen)
{
	char crt[PATH_MAX], crtname[PKI_NAME_MAX + 8],
	    keyname[PKI_NAME_MAX + 8];
	char archive[PATH_MAX], hex[PKI_SERIAL_HEX];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	struct pki_ca ca;
	int rc = -1;

	if ((unsigned)req->role >= ROLE_COUNT)
		return errf(err, errlen, "unknown role");
	if (req->name == NULL || !pki_name_valid(req->role, req->name))
		return errf(err, errlen, "invalid %s name '%s': %s",
		    role_name(req->role), req->name ? req->name : "",
		    pki_name_rule(req->role));
	if (req->not_after == 0 && (req->days < 0 || req->days > PKI_DAYS_MAX))
		return errf(err, errlen, "days must be 1-%d", PKI_DAYS_MAX);
	/* The name is valid, hence shorter than PKI_NAME_MAX. */
	snprintf(crtname, sizeof(crtname), "%s.crt", req->name);
	snprintf(keyname, sizeof(keyname), "%s.key", req->name);
	if (pki_ca_open(&ca, dir, err, errlen) == -1)
		return -1;
	if (pki_path(crt, sizeof(crt), dir, crtname, NULL, err, errlen) == -1 ||
	    may_issue(&ca, crt, req->name, err, errlen) == -1)
		goto out;
	if (req->role == ROLE_DRB)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL) {
		errf(err, errlen, "cannot make a key pair");
		goto out;
	}
	if ((x = leaf_make(&ca, req, key, err, errlen)) == NULL)
		goto out;
	if (pki_serial_hex(X509_get0_serialNumber(x), hex, sizeof(hex)) == -1) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	/* The archive copy, created exclusively, keeps serials unique. */
	if (pki_path(archive, sizeof(archive), dir, PKI_ISSUED "/", hex, err,
		errlen) == -1 ||
	    strlcat(archive, ".crt", sizeof(archive)) >= sizeof(archive) ||
	    pki_pem_create(archive, 0644, PKI_PEM_CERT, x, err, errlen) == -1)
		goto out;
	/* The key before the certificate: NAME.crt marks a complete issue. */
	if (pki_pem_replace(
		dir, keyname, 0600, PKI_PEM_KEY, key, err, errlen) == -1 ||
	    pki_pem_replace(dir, crtname, 0644, PKI_PEM_CERT, x, err, errlen) ==
		-1)
		goto out;
	if (serial != NULL)
		strlcpy(serial, hex, seriallen);
	rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(key);
	pki_ca_close(&ca);
	return rc;
}
