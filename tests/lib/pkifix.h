/*
 * pkifix.h — a throw-away consortium CA for unit tests of the PKI and
 * everything built on it: set up, issue, load, verify. Test-only code.
 */
#ifndef TALLY_PKIFIX_H
#define TALLY_PKIFIX_H

#include <openssl/x509.h>

#include "pki.h"

struct pkifix {
	char *top;
	char *dir; /* the CA folder */
	char err[512];
};

/* cmocka setup/teardown: a CA "Test Consortium" in a scratch folder. */
int pkifix_setup(void **state);
int pkifix_teardown(void **state);
/* dir/name, malloc'd. */
char *pkifix_path(const struct pkifix *, const char *name);
/* Issues name for role r, valid 10 days; fails the test on error. */
void pkifix_issue(struct pkifix *, enum role r, const char *name);
X509 *pkifix_load_cert(struct pkifix *, const char *name);
X509_STORE *pkifix_store(struct pkifix *);
/* 0 or -1 from pki_cert_verify of name's certificate as role want. */
int pkifix_verify(struct pkifix *, const char *name, enum role want);

#endif
