/*
 * pki_ca.c — owns the offline consortium CA behind `tally pki`: creating
 * it, issuing key pairs and certificates, revoking them and re-signing the
 * CRL. Everything happens in one folder, under an exclusive lock. It never
 * overwrites a CA, never re-issues a name whose certificate is still good,
 * never writes a private key with a mode wider than 0600 (keys are created
 * with O_EXCL and that mode, never chmod'ed), and never leaves a
 * half-written CRL or certificate in place of a good one (temp + rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "util.h"

/* notBefore is set this far in the past to absorb clock differences. */
#define PKI_SKEW_SECS	 300
#define PKI_SERIAL_BYTES 20

struct ca {
	char dir[PATH_MAX];
	int lockfd;
	X509 *cert;
	EVP_PKEY *key;
	X509_CRL *crl;
};

static int
path_of(char *out, size_t outlen, const char *dir, const char *a, const char *b,
    char *err, size_t errlen)
{
	int n = snprintf(out, outlen, "%s/%s%s", dir, a, b ? b : "");

	if (n < 0 || (size_t)n >= outlen)
		return errf(
		    err, errlen, "%s/%s%s: path too long", dir, a, b ? b : "");
	return 0;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* One tally pki at a time per folder. */
static int
lock_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (path_of(path, sizeof(path), dir, ".lock", NULL, err, errlen) == -1)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return errf(err, errlen,
		    "%s: another 'tally pki' is working "
		    "in this folder",
		    dir);
	}
	return fd;
}

enum pem_kind { PEM_KEY, PEM_CERT, PEM_CRL };

/*
 * Creates path exclusively with mode and writes obj as PEM, synced. On
 * failure the file is removed.
 */
static int
pem_create(const char *path, mode_t mode, enum pem_kind kind, void *obj,
    char *err, size_t errlen)
{
	char why[128];
	BIO *b;
	int fd, ok;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if ((b = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL)
		ok = 0;
	else if (kind == PEM_KEY)
		ok =
		    PEM_write_bio_PrivateKey(b, obj, NULL, NULL, 0, NULL, NULL);
	else if (kind == PEM_CERT)
		ok = PEM_write_bio_X509(b, obj);
	else
		ok = PEM_write_bio_X509_CRL(b, obj);
	if (ok && BIO_flush(b) != 1)
		ok = 0;
	BIO_free(b);
	if (!ok)
		errf(err, errlen, "%s: %s", path,
		    pki_ossl_err(why, sizeof(why)));
	else if (fsync(fd) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (close(fd) == -1 && ok) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (!ok) {
		unlink(path);
		return -1;
	}
	return 0;
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Writes dir/name through dir/.name.tmp and rename(2). */
static int
pem_replace(const char *dir, const char *name, mode_t mode, enum pem_kind kind,
    void *obj, char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX], dot[PATH_MAX];

	if (snprintf(dot, sizeof(dot), ".%s.tmp", name) >= (int)sizeof(dot) ||
	    path_of(tmp, sizeof(tmp), dir, dot, NULL, err, errlen) == -1 ||
	    path_of(path, sizeof(path), dir, name, NULL, err, errlen) == -1)
		return errf(err, errlen, "%s: path too long", name);
	/* A leftover from a crash; we hold the folder's lock. */
	if (unlink(tmp) == -1 && errno != ENOENT)
		return errf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (pem_create(tmp, mode, kind, obj, err, errlen) == -1)
		return -1;
	if (rename(tmp, path) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	sync_dir(dir);
	return 0;
}

static X509_CRL *
crl_load(const char *path, char *err, size_t errlen)
{
	X509_CRL *crl;
	char why[128];
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) == NULL)
		errf(err, errlen, "%s: not a PEM CRL (%s)", path,
		    pki_ossl_err(why, sizeof(why)));
	BIO_free(b);
	return crl;
}

static void
ca_close(struct ca *ca)
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
static int
ca_open(struct ca *ca, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	memset(ca, 0, sizeof(*ca));
	ca->lockfd = -1;
	if (strlcpy(ca->dir, dir, sizeof(ca->dir)) >= sizeof(ca->dir))
		return errf(err, errlen, "%s: path too long", dir);
	if (path_of(path, sizeof(path), dir, PKI_CA_CRT, NULL, err, errlen) ==
	    -1)
		return -1;
	if (!exists(path))
		return errf(err, errlen,
		    "%s: no CA here (run 'tally pki "
		    "init --dir %s' first)",
		    dir, dir);
	if ((ca->lockfd = lock_dir(dir, err, errlen)) == -1 ||
	    (ca->cert = pki_cert_load(path, err, errlen)) == NULL ||
	    path_of(path, sizeof(path), dir, PKI_CA_KEY, NULL, err, errlen) ==
		-1 ||
	    (ca->key = pki_key_load(path, err, errlen)) == NULL ||
	    path_of(path, sizeof(path), dir, PKI_CRL, NULL, err, errlen) ==
		-1 ||
	    (ca->crl = crl_load(path, err, errlen)) == NULL)
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
	ca_close(ca);
	return -1;
}

/* Adds one extension given in openssl.cnf syntax. */
static int
ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value, char *err,
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

/* The serial of x in hex into out. */
static int
serial_hex(const ASN1_INTEGER *ai, char *out, size_t outlen)
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
 * A certificate for subject/key with a fresh serial and the given times,
 * signed by issuer (NULL: self-signed by signkey). Extensions are added
 * by the caller through *v3 before signing.
 */
static X509 *
cert_start(X509 *issuer, X509_NAME *subject, EVP_PKEY *key, time_t nb,
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

static int
cert_sign(X509 *x, EVP_PKEY *cakey, char *err, size_t errlen)
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
crl_make(struct ca *ca, const X509_CRL *old, const ASN1_INTEGER *add_serial,
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
	x = cert_start(NULL, subj, key, now - PKI_SKEW_SECS,
	    now + (time_t)days * 86400, err, errlen);
	if (x == NULL)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (ext_add(x, &v3, NID_basic_constraints, "critical,CA:TRUE,pathlen:0",
		err, errlen) == -1 ||
	    ext_add(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign", err,
		errlen) == -1 ||
	    ext_add(x, &v3, NID_subject_key_identifier, "hash", err, errlen) ==
		-1 ||
	    cert_sign(x, key, err, errlen) == -1) {
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
	struct ca ca;
	int rc = -1;

	memset(&ca, 0, sizeof(ca));
	ca.lockfd = -1;
	if (consortium == NULL || !consortium_valid(consortium))
		return errf(err, errlen,
		    "consortium name must be 1-%d "
		    "characters of A-Z a-z 0-9 space . _ -",
		    PKI_CONSORTIUM_MAX - 1);
	if (days < 1 || days > PKI_DAYS_MAX)
		return errf(err, errlen, "days must be 1-%d", PKI_DAYS_MAX);
	if (strlcpy(ca.dir, dir, sizeof(ca.dir)) >= sizeof(ca.dir))
		return errf(err, errlen, "%s: path too long", dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return errf(err, errlen, "%s: %s", dir, strerror(errno));
	if ((ca.lockfd = lock_dir(dir, err, errlen)) == -1)
		return -1;
	for (size_t i = 0; i < nitems(files); i++) {
		if (path_of(path, sizeof(path), dir, files[i], NULL, err,
			errlen) == -1)
			goto out;
		if (exists(path)) {
			errf(err, errlen,
			    "%s: a CA exists here already; "
			    "refusing to overwrite it",
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
	if (path_of(path, sizeof(path), dir, PKI_ISSUED, NULL, err, errlen) ==
	    -1)
		goto out;
	if (mkdir(path, 0700) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* The key first, the certificate last: it marks a complete CA. */
	if (path_of(path, sizeof(path), dir, PKI_CA_KEY, NULL, err, errlen) ==
		-1 ||
	    pem_create(path, 0600, PEM_KEY, ca.key, err, errlen) == -1 ||
	    path_of(path, sizeof(path), dir, PKI_CRL, NULL, err, errlen) ==
		-1 ||
	    pem_create(path, 0644, PEM_CRL, ca.crl, err, errlen) == -1 ||
	    path_of(path, sizeof(path), dir, PKI_CA_CRT, NULL, err, errlen) ==
		-1 ||
	    pem_create(path, 0644, PEM_CERT, ca.cert, err, errlen) == -1)
		goto out;
	sync_dir(dir);
	rc = 0;
out:
	EVP_PKEY_free(key);
	ca_close(&ca);
	return rc;
}

/* May name get a new certificate? Only if it has none still good. */
static int
may_issue(const struct ca *ca, const char *crt, const char *name, char *err,
    size_t errlen)
{
	X509_REVOKED *rev;
	char hex[2 * PKI_SERIAL_BYTES + 4] = "?";
	X509 *old;
	int ok;

	if (!exists(crt))
		return 0;
	if ((old = pki_cert_load(crt, err, errlen)) == NULL)
		return -1;
	ok = X509_CRL_get0_by_serial(ca->crl, &rev,
		 (ASN1_INTEGER *)X509_get0_serialNumber(old)) == 1 ||
	    X509_cmp_time(X509_get0_notAfter(old), NULL) < 0;
	serial_hex(X509_get0_serialNumber(old), hex, sizeof(hex));
	X509_free(old);
	ERR_clear_error();
	if (!ok)
		return errf(err, errlen,
		    "'%s' already has a certificate that "
		    "is neither revoked nor expired (serial %s); revoke it "
		    "first",
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
leaf_name(const struct ca *ca, enum role r, const char *name)
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
leaf_make(const struct ca *ca, const struct pki_issue_req *req, EVP_PKEY *key,
    char *err, size_t errlen)
{
	time_t now = time(NULL), nb, na;
	char san[3 * PKI_NAME_MAX + 64];
	X509_NAME *subj;
	X509V3_CTX v3;
	X509 *x;

	nb = req->not_before != 0 ? req->not_before : now - PKI_SKEW_SECS;
	na = req->not_after != 0
	    ? req->not_after
	    : (req->not_before != 0 ? req->not_before : now) +
		(time_t)req->days * 86400;
	if (na <= nb) {
		errf(err, errlen, "notAfter is not after notBefore");
		return NULL;
	}
	if ((subj = leaf_name(ca, req->role, req->name)) == NULL) {
		errf(err, errlen, "cannot build the subject name");
		ERR_clear_error();
		return NULL;
	}
	x = cert_start(ca->cert, subj, key, nb, na, err, errlen);
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
	if (ext_add(x, &v3, NID_basic_constraints, "critical,CA:FALSE", err,
		errlen) == -1 ||
	    ext_add(x, &v3, NID_key_usage, "critical,digitalSignature", err,
		errlen) == -1 ||
	    ext_add(x, &v3, NID_ext_key_usage, issue_eku(req->role), err,
		errlen) == -1 ||
	    ext_add(x, &v3, NID_subject_key_identifier, "hash", err, errlen) ==
		-1 ||
	    ext_add(x, &v3, NID_authority_key_identifier, "keyid:always", err,
		errlen) == -1 ||
	    ext_add(x, &v3, NID_subject_alt_name, san, err, errlen) == -1 ||
	    cert_sign(x, ca->key, err, errlen) == -1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
pki_issue(const char *dir, const struct pki_issue_req *req, char *serial,
    size_t seriallen, char *err, size_t errlen)
{
	char crt[PATH_MAX], keyf[PATH_MAX], path[PATH_MAX];
	char hex[2 * PKI_SERIAL_BYTES + 4];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	struct ca ca;
	int rc = -1;

	if ((unsigned)req->role >= ROLE_COUNT)
		return errf(err, errlen, "unknown role");
	if (req->name == NULL || !pki_name_valid(req->role, req->name))
		return errf(err, errlen, "invalid %s name '%s': %s",
		    role_name(req->role), req->name ? req->name : "",
		    req->role == ROLE_NODE
			? "a hospital id is 1-31 characters of a-z 0-9 -"
			: "1-63 characters of a-z 0-9 . -, starting and "
			  "ending with a letter or digit");
	if (req->not_after == 0 && (req->days < 1 || req->days > PKI_DAYS_MAX))
		return errf(err, errlen, "days must be 1-%d", PKI_DAYS_MAX);
	if (ca_open(&ca, dir, err, errlen) == -1)
		return -1;
	if (snprintf(path, sizeof(path), "%s.crt", req->name) >=
		(int)sizeof(path) ||
	    path_of(crt, sizeof(crt), dir, req->name, ".crt", err, errlen) ==
		-1 ||
	    path_of(keyf, sizeof(keyf), dir, req->name, ".key", err, errlen) ==
		-1 ||
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
	if (serial_hex(X509_get0_serialNumber(x), hex, sizeof(hex)) == -1) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	/* The archive copy, created exclusively, keeps serials unique. */
	if (path_of(path, sizeof(path), dir, PKI_ISSUED "/", hex, err,
		errlen) == -1 ||
	    strlcat(path, ".crt", sizeof(path)) >= sizeof(path) ||
	    pem_create(path, 0644, PEM_CERT, x, err, errlen) == -1)
		goto out;
	strlcpy(path, req->name, sizeof(path));
	strlcat(path, ".key", sizeof(path));
	if (pem_replace(dir, path, 0600, PEM_KEY, key, err, errlen) == -1)
		goto out;
	strlcpy(path, req->name, sizeof(path));
	strlcat(path, ".crt", sizeof(path));
	if (pem_replace(dir, path, 0644, PEM_CERT, x, err, errlen) == -1)
		goto out;
	if (serial != NULL)
		strlcpy(serial, hex, seriallen);
	rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(key);
	ca_close(&ca);
	return rc;
}

int
pki_revoke(
    const char *dir, const char *name, int crl_days, char *err, size_t errlen)
{
	(void)dir;
	(void)name;
	(void)crl_days;
	return errf(err, errlen, "not yet");
}

int
pki_crl_update(const char *dir, int crl_days, char *err, size_t errlen)
{
	(void)dir;
	(void)crl_days;
	return errf(err, errlen, "not yet");
}
