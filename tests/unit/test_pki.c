/*
 * test_pki.c — the consortium CA: issue into a scratch folder and check
 * the results with OpenSSL: roles and names, the certificate profile of
 * each role, key file modes, re-issue rules, revocation, foreign and
 * expired certificates, and the identity read from a peer certificate.
 * (The trust store, rotation, the DRB key and TLS: test_pki_trust.c.)
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
roles_and_names(void **state)
{
	enum role r;

	(void)state;
	for (int i = 0; i < ROLE_COUNT; i++) {
		assert_int_equal(role_parse(role_name((enum role)i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(role_name(ROLE_DRB), "drb");
	assert_string_equal(role_name((enum role)99), "?");
	assert_int_equal(role_parse("admin", &r), -1);
	assert_int_equal(role_parse("Node", &r), -1);

	assert_true(pki_name_valid(ROLE_NODE, "snuh"));
	assert_true(pki_name_valid(ROLE_NODE, "kims-eye"));
	assert_false(pki_name_valid(ROLE_NODE, "kim.eye"));
	assert_false(pki_name_valid(ROLE_NODE, "SNUH"));
	assert_false(pki_name_valid(ROLE_NODE, ""));
	assert_false(pki_name_valid(
	    ROLE_NODE, "abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_true(pki_name_valid(ROLE_RESEARCHER, "kim.jh"));
	assert_true(pki_name_valid(ROLE_BROKER, "broker.example.kr"));
	assert_false(pki_name_valid(ROLE_RESEARCHER, "kim..jh"));
	assert_false(pki_name_valid(ROLE_RESEARCHER, ".kim"));
	assert_false(pki_name_valid(ROLE_RESEARCHER, "kim-"));
	assert_false(pki_name_valid(ROLE_RESEARCHER, "kim jh"));
	assert_false(pki_name_valid(ROLE_RESEARCHER, "kim/../x"));
	assert_false(pki_name_valid(ROLE_OPERATOR, "a,DNS:evil"));
	assert_false(pki_name_valid(ROLE_OPERATOR, "ca"));
	assert_false(pki_name_valid(ROLE_NODE, "ca"));
	assert_false(pki_name_valid((enum role)7, "x"));
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name));
	long_name[63] = '\0';
	assert_true(pki_name_valid(ROLE_OPERATOR, long_name));
	long_name[63] = 'a';
	long_name[64] = '\0';
	assert_false(pki_name_valid(ROLE_OPERATOR, long_name));
}

static void
init_layout_and_refusal(void **state)
{
	struct pkifix *f = *state;
	char *key = pkifix_path(f, PKI_CA_KEY),
	     *crt = pkifix_path(f, PKI_CA_CRT);
	struct stat st;
	X509 *ca;

	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(pki_key_check(key, f->err, sizeof(f->err)), 0);
	ca = pki_cert_load(crt, f->err, sizeof(f->err));
	assert_non_null(ca);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
	assert_true(X509_get_key_usage(ca) & KU_CRL_SIGN);
	assert_true(X509_self_signed(ca, 1));
	X509_free(ca);
	/* A second init must not overwrite anything. */
	assert_int_equal(
	    pki_ca_init(f->dir, "Other", 30, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "refusing to overwrite"));
	assert_int_equal(
	    pki_ca_init(f->dir, "bad,name", 30, f->err, sizeof(f->err)), -1);
	free(key);
	free(crt);
}

static int
has_eku(X509 *x, int nid)
{
	EXTENDED_KEY_USAGE *eku =
	    X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int found = 0;

	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid)
			found = 1;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

static void
issue_every_role(void **state)
{
	static const struct {
		enum role r;
		const char *name;
	} who[] = {
		{ ROLE_BROKER, "broker" },
		{ ROLE_NODE, "snuh" },
		{ ROLE_RESEARCHER, "kim.jh" },
		{ ROLE_OPERATOR, "ops-1" },
		{ ROLE_DRB, "drb" },
	};
	struct pkifix *f = *state;
	char name[PKI_NAME_MAX], file[128];
	struct stat st;
	enum role r;

	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		pkifix_issue(f, who[i].r, who[i].name);
		X509 *x = pkifix_load_cert(f, who[i].name);
		assert_int_equal(pki_peer_identity(x, &r, name, sizeof(name),
				     f->err, sizeof(f->err)),
		    0);
		assert_int_equal(r, who[i].r);
		assert_string_equal(name, who[i].name);
		assert_int_equal(X509_check_ca(x), 0);
		assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
		assert_false(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
		assert_int_equal(
		    has_eku(x, NID_server_auth), who[i].r == ROLE_BROKER);
		assert_int_equal(has_eku(x, NID_client_auth),
		    who[i].r != ROLE_BROKER && who[i].r != ROLE_DRB);
		assert_int_equal(
		    X509_check_host(x, who[i].name, 0, 0, NULL), 1);
		assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL),
		    who[i].r == ROLE_BROKER);
		assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0),
		    who[i].r == ROLE_BROKER);
		EVP_PKEY *pk = X509_get0_pubkey(x);
		assert_true(
		    EVP_PKEY_is_a(pk, who[i].r == ROLE_DRB ? "ED25519" : "EC"));
		X509_free(x);

		snprintf(file, sizeof(file), "%s.key", who[i].name);
		char *kp = pkifix_path(f, file);
		assert_int_equal(stat(kp, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		EVP_PKEY *k = pki_key_load(kp, f->err, sizeof(f->err));
		assert_non_null(k);
		EVP_PKEY_free(k);
		free(kp);

		assert_int_equal(pkifix_verify(f, who[i].name, who[i].r), 0);
	}
	/* The right certificate in the wrong role is refused. */
	assert_int_equal(pkifix_verify(f, "snuh", ROLE_BROKER), -1);
	assert_int_equal(pkifix_verify(f, "kim.jh", ROLE_OPERATOR), -1);
	assert_non_null(strstr(f->err, "researcher"));
	assert_int_equal(pkifix_verify(f, "broker", ROLE_NODE), -1);
}

static void
issue_refusals(void **state)
{
	struct pkifix *f = *state;
	struct pki_issue_req req = { .role = ROLE_NODE, .days = 10 };

	req.name = "bad/name";
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	req.name = "ca";
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	req.name = "snuh";
	req.days = -1;
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	req.days = PKI_DAYS_MAX + 1;
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	/* The CA (setup) lives 30 days: 31 explicit days are refused...
	 */
	req.days = 31;
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "outlive the CA"));
	/* ...while the default (365) is cut at the CA's expiry. */
	req.name = "cut";
	req.days = 0;
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), 0);
	X509 *cut = pkifix_load_cert(f, "cut"), *ca;
	char *cap = pkifix_path(f, PKI_CA_CRT);
	ca = pki_cert_load(cap, f->err, sizeof(f->err));
	assert_int_equal(
	    ASN1_TIME_compare(X509_get0_notAfter(cut), X509_get0_notAfter(ca)),
	    0);
	X509_free(cut);
	X509_free(ca);
	free(cap);
	req.name = "snuh";
	req.days = 10;
	assert_int_equal(pki_issue("/nonexistent/pki", &req, NULL, 0, f->err,
			     sizeof(f->err)),
	    -1);
	assert_non_null(strstr(f->err, "no CA"));
	pkifix_issue(f, ROLE_NODE, "snuh");
	/* Not again, in any role, while the first is good. */
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "revoke it first"));
	req.role = ROLE_RESEARCHER;
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
}

static void
key_check_modes(void **state)
{
	struct pkifix *f = *state;
	char *kp, *lnk, *dirp;

	pkifix_issue(f, ROLE_OPERATOR, "ops");
	kp = pkifix_path(f, "ops.key");
	assert_int_equal(pki_key_check(kp, f->err, sizeof(f->err)), 0);
	assert_int_equal(chmod(kp, 0644), 0);
	assert_int_equal(pki_key_check(kp, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "0644"));
	assert_null(pki_key_load(kp, f->err, sizeof(f->err)));
	assert_int_equal(chmod(kp, 0640), 0);
	assert_int_equal(pki_key_check(kp, f->err, sizeof(f->err)), -1);
	assert_int_equal(chmod(kp, 0602), 0);
	assert_int_equal(pki_key_check(kp, f->err, sizeof(f->err)), -1);
	assert_int_equal(chmod(kp, 0400), 0);
	assert_int_equal(pki_key_check(kp, f->err, sizeof(f->err)), 0);
	/* A link is judged by the file it points to. */
	lnk = pkifix_path(f, "link.key");
	assert_int_equal(symlink(kp, lnk), 0);
	assert_int_equal(pki_key_check(lnk, f->err, sizeof(f->err)), 0);
	assert_int_equal(chmod(kp, 0644), 0);
	assert_int_equal(pki_key_check(lnk, f->err, sizeof(f->err)), -1);
	dirp = pkifix_path(f, PKI_ISSUED);
	assert_int_equal(pki_key_check(dirp, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "not a regular file"));
	free(dirp);
	dirp = pkifix_path(f, "absent.key");
	assert_int_equal(pki_key_check(dirp, f->err, sizeof(f->err)), -1);
	free(dirp);
	/* The CA itself will not sign with a loosened key. */
	free(kp);
	kp = pkifix_path(f, PKI_CA_KEY);
	assert_int_equal(chmod(kp, 0640), 0);
	struct pki_issue_req req = {
		.role = ROLE_NODE, .name = "x", .days = 1
	};
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), -1);
	assert_int_equal(chmod(kp, 0600), 0);
	free(kp);
	free(lnk);
}

static int
crl_has(struct pkifix *f, X509 *x)
{
	char *p = pkifix_path(f, PKI_CRL);
	FILE *fp = fopen(p, "r");
	X509_CRL *crl;
	X509_REVOKED *rev;
	int found;

	assert_non_null(fp);
	crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(crl);
	found = X509_CRL_get0_by_serial(
		    crl, &rev, (ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1;
	X509_CRL_free(crl);
	free(p);
	return found;
}

static void
revoke_then_verify_fails(void **state)
{
	struct pkifix *f = *state;
	X509 *old, *x;

	pkifix_issue(f, ROLE_NODE, "snuh");
	pkifix_issue(f, ROLE_NODE, "amc");
	assert_int_equal(pkifix_verify(f, "snuh", ROLE_NODE), 0);
	old = pkifix_load_cert(f, "snuh");
	assert_false(crl_has(f, old));
	assert_int_equal(
	    pki_revoke(f->dir, "snuh", 7, f->err, sizeof(f->err)), 0);
	assert_true(crl_has(f, old));
	assert_int_equal(pkifix_verify(f, "snuh", ROLE_NODE), -1);
	assert_non_null(strstr(f->err, "revoked"));
	assert_int_equal(pkifix_verify(f, "amc", ROLE_NODE), 0);
	/* Twice is an error; an unknown name too. */
	assert_int_equal(
	    pki_revoke(f->dir, "snuh", 7, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "revoked already"));
	assert_int_equal(
	    pki_revoke(f->dir, "nobody", 7, f->err, sizeof(f->err)), -1);
	/* A revoked name may be issued again; the old serial stays out. */
	pkifix_issue(f, ROLE_NODE, "snuh");
	x = pkifix_load_cert(f, "snuh");
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
				 X509_get0_serialNumber(old)),
	    0);
	assert_int_equal(pkifix_verify(f, "snuh", ROLE_NODE), 0);
	/* Re-signing keeps the entries. */
	assert_int_equal(pki_crl_update(f->dir, 3, f->err, sizeof(f->err)), 0);
	assert_true(crl_has(f, old));
	assert_false(crl_has(f, x));
	X509_free(x);
	X509_free(old);
}

static void
foreign_ca_fails(void **state)
{
	struct pkifix *f = *state;
	struct pkifix other = { 0 };
	X509_STORE *s;
	X509 *x;
	char name[PKI_NAME_MAX];

	if (asprintf(&other.dir, "%s-other", f->dir) == -1)
		fail_msg("asprintf");
	/* Same consortium name, same subject: only the key differs. */
	assert_int_equal(pki_ca_init(other.dir, "Test Consortium", 30,
			     other.err, sizeof(other.err)),
	    0);
	pkifix_issue(&other, ROLE_NODE, "snuh");
	pkifix_issue(f, ROLE_NODE, "snuh");
	s = pkifix_store(f);
	x = pkifix_load_cert(&other, "snuh");
	assert_int_equal(pki_cert_verify(s, x, ROLE_NODE, 0, name, sizeof(name),
			     f->err, sizeof(f->err)),
	    -1);
	X509_free(x);
	x = pkifix_load_cert(f, "snuh");
	assert_int_equal(pki_cert_verify(s, x, ROLE_NODE, 0, name, sizeof(name),
			     f->err, sizeof(f->err)),
	    0);
	X509_free(x);
	X509_STORE_free(s);
	/* The other CA's CRL is refused by a store of our CA. */
	char *ca = pkifix_path(f, PKI_CA_CRT),
	     *crl = pkifix_path(&other, PKI_CRL);
	assert_null(pki_store_new(ca, crl, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "not signed by the CA"));
	free(ca);
	free(crl);
	free(other.dir);
}

static void
expired_fails(void **state)
{
	struct pkifix *f = *state;
	time_t now = time(NULL);
	struct pki_issue_req req = { .role = ROLE_RESEARCHER,
		.name = "old",
		.not_before = now - 3 * 86400,
		.not_after = now - 86400 };
	struct pki_issue_req bad = req;

	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), 0);
	assert_int_equal(pkifix_verify(f, "old", ROLE_RESEARCHER), -1);
	assert_non_null(strstr(f->err, "expired"));
	/* An expired name may be issued again without revoking. */
	req.not_before = 0;
	req.not_after = 0;
	req.days = 1;
	assert_int_equal(
	    pki_issue(f->dir, &req, NULL, 0, f->err, sizeof(f->err)), 0);
	assert_int_equal(pkifix_verify(f, "old", ROLE_RESEARCHER), 0);
	/* notAfter before notBefore is refused. */
	bad.name = "bad";
	bad.not_after = bad.not_before - 1;
	assert_int_equal(
	    pki_issue(f->dir, &bad, NULL, 0, f->err, sizeof(f->err)), -1);
}

/* A self-signed certificate with the given subject and EKU, for the
 * refusals of pki_peer_identity (which does not verify chains). */
static X509 *
craft(const char *const *dn, const char *eku, int ca)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	assert_non_null(k);
	for (int i = 0; dn[i] != NULL; i += 2)
		assert_true(X509_NAME_add_entry_by_txt(n, dn[i], MBSTRING_UTF8,
		    (const unsigned char *)dn[i + 1], -1, -1, 0));
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (eku != NULL) {
		e = X509V3_EXT_nconf_nid(NULL, &v3, NID_ext_key_usage, eku);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return x;
}

static int
identity_of(
    const char *const *dn, const char *eku, int ca, char *err, size_t errlen)
{
	X509 *x = craft(dn, eku, ca);
	char name[PKI_NAME_MAX];
	enum role r;
	int rc = pki_peer_identity(x, &r, name, sizeof(name), err, errlen);

	X509_free(x);
	return rc;
}

static void
peer_identity_refusals(void **state)
{
	static const char *const good[] = { "O", "t", "OU", "node", "CN",
		"snuh", NULL };
	static const char *const no_ou[] = { "O", "t", "CN", "snuh", NULL };
	static const char *const two_cn[] = { "O", "t", "OU", "node", "CN",
		"snuh", "CN", "amc", NULL };
	static const char *const two_ou[] = { "O", "t", "OU", "node", "OU",
		"broker", "CN", "snuh", NULL };
	static const char *const admin[] = { "O", "t", "OU", "admin", "CN",
		"snuh", NULL };
	static const char *const badname[] = { "O", "t", "OU", "node", "CN",
		"Snuh.kr", NULL };
	static const char *const drb[] = { "O", "t", "OU", "drb", "CN", "drb",
		NULL };
	char err[256];
	char name[4];
	enum role r;

	(void)state;
	assert_int_equal(
	    identity_of(good, "clientAuth", 0, err, sizeof(err)), 0);
	assert_int_equal(
	    identity_of(good, "serverAuth", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit role node"));
	assert_int_equal(
	    identity_of(good, "clientAuth,serverAuth", 0, err, sizeof(err)),
	    -1);
	assert_int_equal(identity_of(good, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no extendedKeyUsage"));
	assert_int_equal(
	    identity_of(good, "clientAuth", 1, err, sizeof(err)), -1);
	assert_int_equal(
	    identity_of(no_ou, "clientAuth", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no OU"));
	assert_int_equal(
	    identity_of(two_cn, "clientAuth", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than one CN"));
	assert_int_equal(
	    identity_of(two_ou, "clientAuth", 0, err, sizeof(err)), -1);
	assert_int_equal(
	    identity_of(admin, "clientAuth", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no role"));
	assert_int_equal(
	    identity_of(badname, "clientAuth", 0, err, sizeof(err)), -1);
	assert_int_equal(
	    identity_of(drb, "clientAuth", 0, err, sizeof(err)), -1);
	assert_int_equal(
	    identity_of(drb, PKI_OID_DOCUMENT_SIGNING, 0, err, sizeof(err)), 0);
	assert_int_equal(
	    pki_peer_identity(NULL, &r, name, sizeof(name), err, sizeof(err)),
	    -1);
	/* A name that does not fit the caller's buffer is an error. */
	X509 *x = craft(good, "clientAuth", 0);
	assert_int_equal(
	    pki_peer_identity(x, &r, name, sizeof(name), err, sizeof(err)), -1);
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roles_and_names),
		cmocka_unit_test(peer_identity_refusals),
		cmocka_unit_test_setup_teardown(
		    init_layout_and_refusal, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    issue_every_role, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    issue_refusals, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    key_check_modes, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    revoke_then_verify_fails, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    foreign_ca_fails, pkifix_setup, pkifix_teardown),
		cmocka_unit_test_setup_teardown(
		    expired_fails, pkifix_setup, pkifix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
