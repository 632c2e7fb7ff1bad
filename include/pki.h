/*
 * pki.h — the consortium PKI: roles, the checks every program applies to
 * keys and peer certificates (lib/pki/pki.c), the CA+CRL trust store and
 * SSL_CTX set-up (lib/pki/pki_store.c), and the offline CA operations of
 * `tally pki` (lib/pki/pki_ca.c, pki_issue.c, pki_file.c). docs/pki.md
 * describes the folder layout and the certificate profile of each role.
 *
 * Identity rule: a peer is who its verified certificate says, OU = role,
 * CN = name, and nothing else (no name from a message is ever trusted).
 */
#ifndef TALLY_PKI_H
#define TALLY_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum role {
	ROLE_BROKER,
	ROLE_NODE,
	ROLE_RESEARCHER,
	ROLE_OPERATOR,
	ROLE_DRB,
};
#define ROLE_COUNT 5

/* Longest certificate name (CN) including the NUL. */
#define PKI_NAME_MAX 64
/* Longest consortium name (O of every certificate) including the NUL;
 * the CA's CN, "<consortium> CA", must stay within X.520's 64. */
#define PKI_CONSORTIUM_MAX 61

/* Default validity, days. */
#define PKI_CA_DAYS   3650
#define PKI_CERT_DAYS 365
#define PKI_CRL_DAYS  30
#define PKI_DAYS_MAX  36500

/* id-kp-documentSigning (RFC 9336): the DRB's only extendedKeyUsage. */
#define PKI_OID_DOCUMENT_SIGNING "1.3.6.1.5.5.7.3.36"

/* Names of the files in a PKI folder (see docs/pki.md). */
#define PKI_CA_CRT "ca.crt"
#define PKI_CA_KEY "ca.key"
#define PKI_CRL	   "crl.pem"
#define PKI_ISSUED "issued"

/* "broker", "node", ... (the OU); "?" for a value out of range. */
const char *role_name(enum role);
/* 0 with *out set, -1 if s names no role. */
int role_parse(const char *s, enum role *out);

/*
 * 1 if name is a valid certificate name for role: a node's is a hospital
 * id ([a-z0-9-], 1-31 characters, network_id_valid()); every other role's
 * is a lower-case DNS-like name: [a-z0-9.-], 1-63 characters, starting and
 * ending with a letter or digit, no "..". "ca" is reserved.
 */
int pki_name_valid(enum role, const char *name);
/* The rule above in words, for error messages. */
const char *pki_name_rule(enum role);

/*
 * The first (root-cause) error on OpenSSL's error queue as text into buf,
 * clearing the queue; returns buf (for use inside errf()).
 */
const char *pki_ossl_err(char *buf, size_t len);

/*
 * Refuses a private-key file that is not a regular file, is not owned by
 * the effective user, or grants group or others any permission. Daemons
 * call it (through pki_key_load or pki_ctx_use) at start-up.
 */
int pki_key_check(const char *path, char *err, size_t errlen);
/* pki_key_check(), then reads the PEM key from the same open file. */
EVP_PKEY *pki_key_load(const char *path, char *err, size_t errlen);
/* Reads one PEM certificate. */
X509 *pki_cert_load(const char *path, char *err, size_t errlen);

/*
 * The identity of an already verified peer certificate: role from its
 * single OU, name from its single CN. Refuses a CA certificate, a missing
 * or repeated OU or CN, an unknown role, an invalid name, and an
 * extendedKeyUsage other than exactly the role's (serverAuth for the
 * broker, clientAuth for node, researcher and operator, documentSigning
 * for the DRB).
 */
int pki_peer_identity(X509 *cert, enum role *role, char *name, size_t namelen,
    char *err, size_t errlen);

/*
 * A trust store holding the consortium CA and its CRL, with
 * X509_V_FLAG_CRL_CHECK set: a chain verifies only if the CRL is present,
 * correctly signed, current, and does not list the leaf. Fails on a CRL
 * that is not signed by the CA or has passed its nextUpdate. crl_path is
 * required (fail closed).
 */
X509_STORE *pki_store_new(
    const char *ca_path, const char *crl_path, char *err, size_t errlen);

/*
 * Verifies cert against store (chain, validity, CRL) at time `at` (0: now)
 * and that it is a certificate of role `want`; the name goes to name.
 */
int pki_cert_verify(X509_STORE *store, X509 *cert, enum role want, time_t at,
    char *name, size_t namelen, char *err, size_t errlen);

/*
 * Sets up an SSL_CTX for one of our programs: the CA+CRL store of
 * pki_store_new(), its own certificate and key (pki_key_check'd), checks
 * that key and certificate match and that its own certificate verifies
 * with role `self`. Leaves verify mode, protocol versions and callbacks to
 * the caller.
 */
int pki_ctx_use(SSL_CTX *ctx, const char *ca_path, const char *crl_path,
    const char *cert_path, const char *key_path, enum role self, char *err,
    size_t errlen);

/*
 * The Ed25519 public key of a DRB certificate that verifies against store
 * with role drb; the DRB's name goes to name. NULL on any failure.
 */
EVP_PKEY *pki_drb_pubkey(X509_STORE *store, const char *cert_path, char *name,
    size_t namelen, char *err, size_t errlen);

/* ---- the offline CA (lib/pki/pki_ca.c), used by `tally pki` ---- */

/*
 * Creates dir (mode 0700) if absent and in it a new CA: an ECDSA P-256
 * key, a self-signed certificate valid `days` days for O=consortium, an
 * empty CRL and the issued/ folder. Refuses a folder that already holds a
 * CA.
 */
int pki_ca_init(const char *dir, const char *consortium, int days, char *err,
    size_t errlen);

struct pki_issue_req {
	enum role role;
	const char *name;
	int days;	   /* validity; 0: PKI_CERT_DAYS or until the CA
			      expires, whichever is sooner */
	time_t not_before; /* 0: now minus 5 minutes of clock skew */
	time_t not_after;  /* 0: from days; never after the CA's */
};

/*
 * Issues a key pair and certificate for req->name into dir: <name>.key
 * (0600, created exclusively), <name>.crt and issued/<SERIAL>.crt. A name
 * that already holds a certificate is refused unless that certificate was
 * revoked or has expired, and so is a validity beyond the CA's. The
 * serial (hex) goes to serial if not NULL.
 */
int pki_issue(const char *dir, const struct pki_issue_req *req, char *serial,
    size_t seriallen, char *err, size_t errlen);

/*
 * Adds the serial of <name>.crt to the CRL, re-signs it valid crl_days
 * days, and atomically replaces crl.pem. Refuses a name already revoked.
 */
int pki_revoke(
    const char *dir, const char *name, int crl_days, char *err, size_t errlen);

/* Re-signs the CRL unchanged but for new dates (before nextUpdate). */
int pki_crl_update(const char *dir, int crl_days, char *err, size_t errlen);

#ifdef PKI_INTERNAL
/* ---- shared by lib/pki_*.c only ---- */

/* notBefore is set this far in the past to absorb clock differences. */
#define PKI_SKEW_SECS	 300
#define PKI_SERIAL_BYTES 20
#define PKI_SERIAL_HEX	 (2 * PKI_SERIAL_BYTES + 4)

/* An open CA folder: locked, its certificate, key and CRL loaded. */
struct pki_ca {
	char dir[PATH_MAX];
	int lockfd;
	X509 *cert;
	EVP_PKEY *key;
	X509_CRL *crl;
};

int pki_ca_open(struct pki_ca *, const char *dir, char *err, size_t errlen);
void pki_ca_close(struct pki_ca *);

/* pki_file.c */
enum pki_pem { PKI_PEM_KEY, PKI_PEM_CERT, PKI_PEM_CRL };
/* out = dir/a (+ b if not NULL). */
int pki_path(char *out, size_t outlen, const char *dir, const char *a,
    const char *b, char *err, size_t errlen);
/* 1 if something (even a dangling link) is at path. */
int pki_exists(const char *path);
/* The lock fd of dir (flock, non-blocking), or -1. */
int pki_lock_dir(const char *dir, char *err, size_t errlen);
/* Creates path with O_EXCL and mode and writes obj as PEM, synced. */
int pki_pem_create(const char *path, mode_t mode, enum pki_pem kind, void *obj,
    char *err, size_t errlen);
/* fsync(2) of a folder, after creating or renaming in it. */
void pki_sync_dir(const char *dir);
/* Replaces dir/name atomically (dir/.name.tmp, rename). */
int pki_pem_replace(const char *dir, const char *name, mode_t mode,
    enum pki_pem kind, void *obj, char *err, size_t errlen);
X509_CRL *pki_crl_load(const char *path, char *err, size_t errlen);

/* pki_ca.c: building blocks of a certificate. */
int pki_ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value, char *err,
    size_t errlen);
int pki_serial_hex(const ASN1_INTEGER *ai, char *out, size_t outlen);
X509 *pki_cert_start(X509 *issuer, X509_NAME *subject, EVP_PKEY *key, time_t nb,
    time_t na, char *err, size_t errlen);
int pki_cert_sign(X509 *x, EVP_PKEY *cakey, char *err, size_t errlen);
#endif /* PKI_INTERNAL */

#endif
