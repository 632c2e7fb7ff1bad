/*
 * pki.c — owns what every program checks about keys and certificates:
 * roles and names, private-key file permissions, the identity carried by a
 * verified peer certificate, and the CA+CRL trust store the TLS channel is
 * built on. It never creates or signs anything (that is pki_ca.c), never
 * trusts a name that did not come from a verified certificate, and never
 * verifies without the CRL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "network.h"
#include "pki.h"
#include "util.h"

/* Private key files are a few hundred bytes; refuse to read a huge one. */
#define PKI_KEY_FILE_MAX (64 * 1024)

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_BROKER] = "broker",
	[ROLE_NODE] = "node",
	[ROLE_RESEARCHER] = "researcher",
	[ROLE_OPERATOR] = "operator",
	[ROLE_DRB] = "drb",
};

const char *
role_name(enum role r)
{
	if ((unsigned)r >= ROLE_COUNT)
		return "?";
	return role_names[r];
}

int
role_parse(const char *s, enum role *out)
{
	for (unsigned i = 0; i < ROLE_COUNT; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum role)i;
			return 0;
		}
	return -1;
}

static int
is_alnum_lc(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
pki_name_valid(enum role r, const char *name)
{
	size_t len = strnlen(name, PKI_NAME_MAX);

	if (len == 0 || len >= PKI_NAME_MAX || strcmp(name, "ca") == 0)
		return 0;
	if (r == ROLE_NODE)
		return network_id_valid(name, len);
	if ((unsigned)r >= ROLE_COUNT)
		return 0;
	if (!is_alnum_lc(name[0]) || !is_alnum_lc(name[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '.' && name[i + 1] == '.')
			return 0;
		if (!is_alnum_lc(c) && c != '-' && c != '.')
			return 0;
	}
	return 1;
}

const char *
pki_name_rule(enum role r)
{
	if (r == ROLE_NODE)
		return "a hospital id: 1-31 characters of a-z 0-9 -";
	return "1-63 characters of a-z 0-9 . -, starting and ending with a "
	       "letter or digit; not 'ca'";
}

const char *
pki_ossl_err(char *buf, size_t len)
{
	/* The first error queued is the cause; the rest is its callers. */
	unsigned long e = ERR_get_error();

	if (e == 0)
		strlcpy(buf, "no OpenSSL error", len);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* Opens a private-key file and checks its type, owner and mode. */
static int
key_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s: not a regular file", path);
		goto bad;
	}
	if (st.st_uid != geteuid()) {
		errf(err, errlen, "%s: owned by uid %u, not by this user (%u)",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto bad;
	}
	if ((st.st_mode & 077) != 0) {
		errf(err, errlen,
		    "%s: private key is accessible by group or others (mode "
		    "%04o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto bad;
	}
	if (st.st_size > PKI_KEY_FILE_MAX) {
		errf(err, errlen, "%s: too large for a key file", path);
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

int
pki_key_check(const char *path, char *err, size_t errlen)
{
	int fd = key_open(path, err, errlen);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

/* Never prompt for a passphrase: our keys are not encrypted. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

EVP_PKEY *
pki_key_load(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	char why[128];
	BIO *b;
	int fd;

	if ((fd = key_open(path, err, errlen)) == -1)
		return NULL;
	if ((b = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		errf(err, errlen, "%s: %s", path,
		    pki_ossl_err(why, sizeof(why)));
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	if (key == NULL)
		errf(err, errlen, "%s: not a PEM private key (%s)", path,
		    pki_ossl_err(why, sizeof(why)));
	BIO_free(b);
	return key;
}

X509 *
pki_cert_load(const char *path, char *err, size_t errlen)
{
	X509 *x = NULL;
	char why[128];
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) == NULL)
		errf(err, errlen, "%s: not a PEM certificate (%s)", path,
		    pki_ossl_err(why, sizeof(why)));
	BIO_free(b);
	return x;
}

/*
 * The one entry of nid in subject as UTF-8 into out; -1 if there is none,
 * more than one, or it does not fit.
 */
static int
name_entry(const X509_NAME *subject, int nid, const char *what, char *out,
    size_t outlen, char *err, size_t errlen)
{
	const X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	int i, len;

	if ((i = X509_NAME_get_index_by_NID(subject, nid, -1)) < 0)
		return errf(err, errlen, "certificate has no %s", what);
	if (X509_NAME_get_index_by_NID(subject, nid, i) >= 0)
		return errf(
		    err, errlen, "certificate has more than one %s", what);
	e = X509_NAME_get_entry(subject, i);
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (len < 0) {
		ERR_clear_error();
		return errf(
		    err, errlen, "certificate %s is not a string", what);
	}
	if ((size_t)len >= outlen || memchr(utf8, '\0', (size_t)len)) {
		OPENSSL_free(utf8);
		return errf(err, errlen,
		    "certificate %s is too long or holds a NUL", what);
	}
	memcpy(out, utf8, (size_t)len);
	out[len] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

/* OID text of the one extendedKeyUsage each role's certificate carries. */
static const char *
role_eku(enum role r)
{
	switch (r) {
	case ROLE_BROKER:
		return "1.3.6.1.5.5.7.3.1"; /* serverAuth */
	case ROLE_DRB:
		return PKI_OID_DOCUMENT_SIGNING;
	default:
		return "1.3.6.1.5.5.7.3.2"; /* clientAuth */
	}
}

static int
eku_check(X509 *cert, enum role r, char *err, size_t errlen)
{
	EXTENDED_KEY_USAGE *eku;
	char oid[80];
	int crit = -1, n;

	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL) {
		ERR_clear_error();
		return errf(err, errlen, "certificate has %s extendedKeyUsage",
		    crit == -2 ? "more than one" : "no");
	}
	n = sk_ASN1_OBJECT_num(eku);
	if (n != 1 ||
	    OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, 0), 1) <=
		0 ||
	    strcmp(oid, role_eku(r)) != 0) {
		EXTENDED_KEY_USAGE_free(eku);
		return errf(err, errlen,
		    "certificate extendedKeyUsage does not fit role %s",
		    role_name(r));
	}
	EXTENDED_KEY_USAGE_free(eku);
	return 0;
}

int
pki_peer_identity(X509 *cert, enum role *role, char *name, size_t namelen,
    char *err, size_t errlen)
{
	const X509_NAME *subject;
	char ou[32], cn[PKI_NAME_MAX];
	enum role r;

	if (cert == NULL)
		return errf(err, errlen, "no certificate");
	if (X509_check_ca(cert) != 0)
		return errf(err, errlen, "a CA certificate names no peer");
	subject = X509_get_subject_name(cert);
	if (name_entry(subject, NID_organizationalUnitName, "OU (role)", ou,
		sizeof(ou), err, errlen) == -1 ||
	    name_entry(subject, NID_commonName, "CN (name)", cn, sizeof(cn),
		err, errlen) == -1)
		return -1;
	if (role_parse(ou, &r) == -1)
		return errf(err, errlen, "certificate OU '%s' is no role", ou);
	if (!pki_name_valid(r, cn))
		return errf(err, errlen,
		    "certificate CN '%s' is not a valid %s name", cn,
		    role_name(r));
	if (eku_check(cert, r, err, errlen) == -1)
		return -1;
	if (strlcpy(name, cn, namelen) >= namelen)
		return errf(err, errlen, "name buffer too small");
	*role = r;
	return 0;
}
