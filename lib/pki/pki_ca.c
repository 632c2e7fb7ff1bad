/*
 * pki_ca.c — owns the offline consortium CA behind `tally pki`: creating
 * it, opening it for the other operations, building and signing
 * certificates and CRLs, revocation. Everything happens in one folder,
 * under an exclusive lock. It never overwrites a CA, never signs with a
 * key whose file others can read, and never publishes a CRL except by
 * atomic replacement.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define PKI_INTERNAL
#include "pki.h"
#include "util.h"

void
pki_ca_close(struct pki_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	X509_CRL_free(ca->crl);
	if (ca->lockfd != -1)
		close(ca->lockfd);
	ca->cert = NULL;
	ca->key = NULL;
	ca->crl = NULL;
	ca->lockfd = -1;
}

/* Locks dir and loads its CA certificate, key and CRL, checked. */
int
pki_ca_open(struct pki_ca *ca, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	memset(ca, 0, sizeof(*ca));
	ca->lockfd = -1;
	if (strlcpy(ca->dir, dir, sizeof(ca->dir)) >= sizeof(ca->dir))
		return errf(err, errlen, "%s: path too long", dir);
	if (pki_path(path, sizeof(path), dir, PKI_CA_CRT, NULL, err, errlen) ==
	    -1)
		return -1;
	if (!pki_exists(path))
		return errf(err, errlen,
		    "%s: no CA here (run 'tally pki init --dir %s' first)", dir,
		    dir);
	if ((ca->lockfd = pki_lock_dir(dir, err, errlen)) == -1 ||
	    (ca->cert = pki_cert_load(path, err, errlen)) == NULL ||
	    pki_path(path, sizeof(path), dir, PKI_CA_KEY, NULL, err, errlen) ==
		-1 ||
	    (ca->key = pki_key_load(path, err, errlen)) == NULL ||
	    pki_path(path, sizeof(path), dir, PKI_CRL, NULL, err, errlen) ==
		-1 ||
	    (ca->crl = pki_crl_load(path, err, errlen)) == NULL)
		goto bad;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		errf(err, errlen, "%s/%s does not go with %s", dir, PKI_CA_KEY,
		    PKI_CA_CRT);
		goto bad;
	}
	if (X509_CRL_verify(ca->crl, ca->key) != 1) {
		errf(err, errlen, "%s: CRL is not signed by this CA", path);
		goto bad;
	}
	return 0;
bad:
	ERR_clear_error();
	pki_ca_close(ca);
	return -1;
}

/* Adds one extension given in openssl.cnf syntax. */
int
pki_ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value, char *err,
    size_t errlen)
{
	X509_EXTENSION *e;
	char why[128];
	int ok;

	e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	ok = e != NULL && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (!ok)
		return errf(err, errlen, "extension %s=%s: %s", OBJ_nid2sn(nid),
		    value, pki_ossl_err(why, sizeof(why)));
	return 0;
}

/* A positive random serial of PKI_SERIAL_BYTES bytes. */
static int
serial_new(X509 *x, char *err, size_t errlen)
{
	unsigned char buf[PKI_SERIAL_BYTES];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int ok;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		return errf(err, errlen, "no randomness for a serial");
	buf[0] &= 0x7f;
	buf[0] |= 0x40;
	ok = (bn = BN_bin2bn(buf, sizeof(buf), NULL)) != NULL &&
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    X509_set_serialNumber(x, ai);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	if (!ok)
		return errf(err, errlen, "out of memory");
	return 0;
}

/* A serial number in upper-case hex into out. */
int
pki_serial_hex(const ASN1_INTEGER *ai, char *out, size_t outlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	int rc = -1;

	if (hex != NULL && strlcpy(out, hex, outlen) < outlen)
		rc = 0;
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

/*
 * An unsigned certificate for subject/key with a fresh serial and the
 * given times, issued by issuer (NULL: self-issued). The caller adds the
 * extensions and signs with pki_cert_sign().
 */
X509 *
pki_cert_start(X509 *issuer, X509_NAME *subject, EVP_PKEY *key, time_t nb,
    time_t na, char *err, size_t errlen)
{
	X509 *x;

	if ((x = X509_new()) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    serial_new(x, err, errlen) == -1 ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(
		x, issuer ? X509_get_subject_name(issuer) : subject) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), nb) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), na) ||
	    !X509_set_pubkey(x, key)) {
		errf(err, errlen, "cannot build certificate");
		ERR_clear_error();
		X509_free(x);
		return NULL;
	}
	return x;
}

int
pki_cert_sign(X509 *x, EVP_PKEY *cakey, char *err, size_t errlen)
{
	char why[128];

	if (X509_sign(x, cakey, EVP_sha256()) <= 0)
		return errf(err, errlen, "cannot sign: %s",
		    pki_ossl_err(why, sizeof(why)));
	return 0;
}

static int
asn1_time_set(ASN1_TIME **t, time_t when)
{
	ASN1_TIME *nt = ASN1_TIME_set(NULL, when);

	if (nt == NULL)
		return -1;
	ASN1_TIME_free(*t);
	*t = nt;
	return 0;
}

/*
 * A new CRL signed by ca: the entries of old (may be NULL), plus
 * add_serial if not NULL, CRL number one above old's.
 */
static X509_CRL *
crl_make(struct pki_ca *ca, const X509_CRL *old, const ASN1_INTEGER *add_serial,
    int days, char *err, size_t errlen)
{
	STACK_OF(X509_REVOKED) * rev;
	ASN1_TIME *last = NULL, *next = NULL;
	ASN1_INTEGER *num = NULL;
	X509_REVOKED *r = NULL;
	X509_EXTENSION *aki;
	X509V3_CTX v3;
	X509_CRL *crl;
	time_t now = time(NULL);
	char why[128];
	long n = 1;
	int ok = 0;

	if ((crl = X509_CRL_new()) == NULL)
		goto out;
	if (old != NULL) {
		ASN1_INTEGER *on =
		    X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL);
		if (on != NULL)
			n = ASN1_INTEGER_get(on) + 1;
		ASN1_INTEGER_free(on);
		rev = X509_CRL_get_REVOKED((X509_CRL *)old);
		for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
			X509_REVOKED *d =
			    X509_REVOKED_dup(sk_X509_REVOKED_value(rev, i));
			if (d == NULL || !X509_CRL_add0_revoked(crl, d)) {
				X509_REVOKED_free(d);
				goto out;
			}
		}
	}
	if (add_serial != NULL) {
		if ((r = X509_REVOKED_new()) == NULL ||
		    asn1_time_set(&last, now) == -1 ||
		    !X509_REVOKED_set_serialNumber(
			r, (ASN1_INTEGER *)add_serial) ||
		    !X509_REVOKED_set_revocationDate(r, last) ||
		    !X509_CRL_add0_revoked(crl, r))
			goto out;
		r = NULL;
	}
	if (asn1_time_set(&last, now) == -1 ||
	    asn1_time_set(&next, now + (time_t)days * 86400) == -1 ||
	    (num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(num, n) ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) ||
	    !X509_CRL_set1_nextUpdate(crl, next) || !X509_CRL_sort(crl) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto out;
	X509V3_set_ctx(&v3, ca->cert, NULL, NULL, crl, 0);
	aki = X509V3_EXT_nconf_nid(
	    NULL, &v3, NID_authority_key_identifier, "keyid:always");
	ok = aki != NULL && X509_CRL_add_ext(crl, aki, -1);
	X509_EXTENSION_free(aki);
	if (ok && X509_CRL_sign(crl, ca->key, EVP_sha256()) <= 0)
		ok = 0;
out:
	if (!ok) {
		errf(err, errlen, "cannot build the CRL: %s",
		    pki_ossl_err(why, sizeof(why)));
		X509_CRL_free(crl);
		crl = NULL;
	}
	X509_REVOKED_free(r);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	return crl;
}

static int
consortium_valid(const char *s)
{
	size_t len = strnlen(s, PKI_CONSORTIUM_MAX);

	if (len == 0 || len >= PKI_CONSORTIUM_MAX || s[0] == ' ' ||
	    s[len - 1] == ' ')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == ' ' || c == '-' ||
			c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

static X509 *
ca_cert_make(
    const char *consortium, EVP_PKEY *key, int days, char *err, size_t errlen)
{
	char cn[PKI_CONSORTIUM_MAX + 8];
	X509_NAME *subj;
	X509V3_CTX v3;
	time_t now = time(NULL);
	X509 *x = NULL;

	snprintf(cn, sizeof(cn), "%s CA", consortium);
	if ((subj = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_UTF8,
		(const unsigned char *)consortium, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0)) {
		errf(err, errlen, "cannot build the CA name");
		goto out;
	}
	x = pki_cert_start(NULL, subj, key, now - PKI_SKEW_SECS,
	    now + (time_t)days * 86400, err, errlen);
	if (x == NULL)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (pki_ext_add(x, &v3, NID_basic_constraints,
		"critical,CA:TRUE,pathlen:0", err, errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign",
		err, errlen) == -1 ||
	    pki_ext_add(x, &v3, NID_subject_key_identifier, "hash", err,
		errlen) == -1 ||
	    pki_cert_sign(x, key, err, errlen) == -1) {
		X509_free(x);
		x = NULL;
	}
out:
	ERR_clear_error();
	X509_NAME_free(subj);
	return x;
}

int
pki_ca_init(
    const char *dir, const char *consortium, int days, char *err, size_t errlen)
{
	static const char *const files[] = { PKI_CA_CRT, PKI_CA_KEY, PKI_CRL,
		PKI_ISSUED };
	char path[PATH_MAX];
	EVP_PKEY *key = NULL;
	struct pki_ca ca;
	int rc = -1;

	memset(&ca, 0, sizeof(ca));
	ca.lockfd = -1;
	if (consortium == NULL || !consortium_valid(consortium))
		return errf(err, errlen,
		    "consortium name must be 1-%d characters of A-Z a-z 0-9 "
		    "space . _ -",
		    PKI_CONSORTIUM_MAX - 1);
	if (days < 1 || days > PKI_DAYS_MAX)
		return errf(err, errlen, "days must be 1-%d", PKI_DAYS_MAX);
	if (strlcpy(ca.dir, dir, sizeof(ca.dir)) >= sizeof(ca.dir))
		return errf(err, errlen, "%s: path too long", dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return errf(err, errlen, "%s: %s", dir, strerror(errno));
	if ((ca.lockfd = pki_lock_dir(dir, err, errlen)) == -1)
		return -1;
	for (size_t i = 0; i < nitems(files); i++) {
		if (pki_path(path, sizeof(path), dir, files[i], NULL, err,
			errlen) == -1)
			goto out;
		if (pki_exists(path)) {
			errf(err, errlen,
			    "%s: a CA exists here already; refusing to "
			    "overwrite it",
			    path);
			goto out;
		}
	}
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		errf(err, errlen, "cannot make the CA key");
		goto out;
	}
	if ((ca.cert = ca_cert_make(consortium, key, days, err, errlen)) ==
	    NULL)
		goto out;
	ca.key = key;
	key = NULL;
	if ((ca.crl = crl_make(&ca, NULL, NULL, PKI_CRL_DAYS, err, errlen)) ==
	    NULL)
		goto out;
	if (pki_path(path, sizeof(path), dir, PKI_ISSUED, NULL, err, errlen) ==
	    -1)
		goto out;
	if (mkdir(path, 0700) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* The key first, the certificate last: it marks a complete CA. */
	if (pki_path(path, sizeof(path), dir, PKI_CA_KEY, NULL, err, errlen) ==
		-1 ||
	    pki_pem_create(path, 0600, PKI_PEM_KEY, ca.key, err, errlen) ==
		-1 ||
	    pki_path(path, sizeof(path), dir, PKI_CRL, NULL, err, errlen) ==
		-1 ||
	    pki_pem_create(path, 0644, PKI_PEM_CRL, ca.crl, err, errlen) ==
		-1 ||
	    pki_path(path, sizeof(path), dir, PKI_CA_CRT, NULL, err, errlen) ==
		-1 ||
	    pki_pem_create(path, 0644, PKI_PEM_CERT, ca.cert, err, errlen) ==
		-1)
		goto out;
	pki_sync_dir(dir);
	rc = 0;
out:
	EVP_PKEY_free(key);
	pki_ca_close(&ca);
	return rc;
}

/* Writes a new CRL built from the current one and replaces crl.pem. */
static int
crl_publish(struct pki_ca *ca, const ASN1_INTEGER *add_serial, int crl_days,
    char *err, size_t errlen)
{
	X509_CRL *crl;
	int rc;

	if (crl_days < 1 || crl_days > PKI_DAYS_MAX)
		return errf(err, errlen, "CRL days must be 1-%d", PKI_DAYS_MAX);
	crl = crl_make(ca, ca->crl, add_serial, crl_days, err, errlen);
	if (crl == NULL)
		return -1;
	rc = pki_pem_replace(
	    ca->dir, PKI_CRL, 0644, PKI_PEM_CRL, crl, err, errlen);
	X509_CRL_free(crl);
	return rc;
}

int
pki_revoke(
    const char *dir, const char *name, int crl_days, char *err, size_t errlen)
{
	char crt[PATH_MAX], hex[2 * PKI_SERIAL_BYTES + 4] = "?";
	X509_REVOKED *rev;
	X509 *x = NULL;
	struct pki_ca ca;
	int rc = -1;

	if (!pki_name_valid(ROLE_NODE, name) &&
	    !pki_name_valid(ROLE_RESEARCHER, name))
		return errf(err, errlen, "invalid name '%s'", name);
	if (pki_ca_open(&ca, dir, err, errlen) == -1)
		return -1;
	if (pki_path(crt, sizeof(crt), dir, name, ".crt", err, errlen) == -1)
		goto out;
	if (!pki_exists(crt)) {
		errf(err, errlen, "%s: no certificate issued to '%s'", crt,
		    name);
		goto out;
	}
	if ((x = pki_cert_load(crt, err, errlen)) == NULL)
		goto out;
	pki_serial_hex(X509_get0_serialNumber(x), hex, sizeof(hex));
	if (X509_check_issued(ca.cert, x) != X509_V_OK ||
	    X509_verify(x, X509_get0_pubkey(ca.cert)) != 1) {
		errf(err, errlen, "%s: not issued by this CA", crt);
		goto out;
	}
	if (X509_CRL_get0_by_serial(
		ca.crl, &rev, (ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1) {
		errf(err, errlen, "'%s' (serial %s) is revoked already", name,
		    hex);
		goto out;
	}
	rc = crl_publish(&ca, X509_get0_serialNumber(x), crl_days, err, errlen);
out:
	ERR_clear_error();
	X509_free(x);
	pki_ca_close(&ca);
	return rc;
}

int
pki_crl_update(const char *dir, int crl_days, char *err, size_t errlen)
{
	struct pki_ca ca;
	int rc;

	if (pki_ca_open(&ca, dir, err, errlen) == -1)
		return -1;
	rc = crl_publish(&ca, NULL, crl_days, err, errlen);
	pki_ca_close(&ca);
	return rc;
}
