/*
 * pkifix.c — the test CA of pkifix.h. Test-only code.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkifix.h"
#include "testutil.h"

char *
pkifix_path(const struct pkifix *f, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", f->dir, name) == -1)
		fail_msg("asprintf");
	return p;
}

int
pkifix_setup(void **state)
{
	struct pkifix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->top = test_mkdtemp();
	/* The CA goes one level down: init creates its folder. */
	if (asprintf(&f->dir, "%s/pki", f->top) == -1)
		return -1;
	if (pki_ca_init(
		f->dir, "Test Consortium", 30, f->err, sizeof(f->err)) == -1) {
		fprintf(stderr, "init: %s\n", f->err);
		return -1;
	}
	*state = f;
	return 0;
}

int
pkifix_teardown(void **state)
{
	struct pkifix *f = *state;

	test_rmdir(f->top);
	free(f->dir);
	free(f);
	return 0;
}

void
pkifix_issue(struct pkifix *f, enum role r, const char *name)
{
	struct pki_issue_req req = { .role = r, .name = name, .days = 10 };
	char serial[64];

	if (pki_issue(f->dir, &req, serial, sizeof(serial), f->err,
		sizeof(f->err)) == -1)
		fail_msg("issue %s: %s", name, f->err);
	assert_int_equal(strlen(serial), 40);
}

X509 *
pkifix_load_cert(struct pkifix *f, const char *name)
{
	char file[128];
	X509 *x;
	char *p;

	snprintf(file, sizeof(file), "%s.crt", name);
	p = pkifix_path(f, file);
	x = pki_cert_load(p, f->err, sizeof(f->err));
	if (x == NULL)
		fail_msg("%s", f->err);
	free(p);
	return x;
}

X509_STORE *
pkifix_store(struct pkifix *f)
{
	char *ca = pkifix_path(f, PKI_CA_CRT), *crl = pkifix_path(f, PKI_CRL);
	X509_STORE *s = pki_store_new(ca, crl, f->err, sizeof(f->err));

	if (s == NULL)
		fail_msg("store: %s", f->err);
	free(ca);
	free(crl);
	return s;
}

/* 0 or -1 from pki_cert_verify of name's certificate as role want. */
int
pkifix_verify(struct pkifix *f, const char *name, enum role want)
{
	X509_STORE *s = pkifix_store(f);
	X509 *x = pkifix_load_cert(f, name);
	char got[PKI_NAME_MAX];
	int rc = pki_cert_verify(
	    s, x, want, 0, got, sizeof(got), f->err, sizeof(f->err));

	if (rc == 0)
		assert_string_equal(got, name);
	X509_free(x);
	X509_STORE_free(s);
	return rc;
}
