/*
 * test_approval.c — approvals: sign, parse, verify, and every refusal.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "approval.h"
#include "base64.h"
#include "testutil.h"

struct fixture {
	EVP_PKEY *key, *other;
	struct drb_key trusted;
	struct approval a;
	char *doc;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[128];

	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	f->other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	strcpy(f->trusted.name, "drb-snuh");
	f->trusted.pub = f->key;
	memset(f->a.query_sha256, 0xab, 32);
	strcpy(f->a.researcher, "kim");
	strcpy(f->a.project, "af-2026");
	if (approval_set_sites(&f->a, "snuh,consortium:5", err, sizeof(err)))
		return -1;
	f->a.not_before = 1000;
	f->a.not_after = 2000;
	f->a.max_runs = 3;
	f->a.min_cell = 11;
	strcpy(f->a.drb, "drb-snuh");
	f->doc = approval_sign(&f->a, f->key);
	*state = f;
	return f->doc == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->other);
	free(f->doc);
	free(f);
	return 0;
}

static void
sign_verify_check(void **state)
{
	struct fixture *f = *state;
	Tally__SignedApproval *sa;
	struct approval got;
	struct approval_ctx c = { f->a.query_sha256, "kim", "snuh", "4", 1500 };
	char err[256];

	sa = approval_parse(f->doc, strlen(f->doc), err, sizeof(err));
	assert_non_null(sa);
	assert_int_equal(
	    approval_verify(sa, &f->trusted, 1, &got, err, sizeof(err)), 0);
	assert_string_equal(got.researcher, "kim");
	assert_string_equal(got.project, "af-2026");
	assert_int_equal(got.nsites, 2);
	assert_int_equal(got.max_runs, 3);
	assert_int_equal(got.min_cell, 11);
	assert_memory_equal(got.id, f->a.id, 32);
	assert_int_equal(approval_check(&got, &c, err, sizeof(err)), 0);

	/* Each refusal names its reason. */
	c.now = 999;
	assert_int_equal(approval_check(&got, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not valid before 1970-01-01T00:16:40Z"));
	c.now = 2001;
	assert_int_equal(approval_check(&got, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expired on"));
	c.now = 1500;
	c.researcher = "lee";
	assert_int_equal(approval_check(&got, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "approval is for researcher 'kim', not 'lee'");
	c.researcher = "kim";
	c.site = "amc";
	assert_int_equal(approval_check(&got, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "site 'amc' is not in the approval");
	c.consortium = "5";
	assert_int_equal(approval_check(&got, &c, err, sizeof(err)), 0);
	{
		uint8_t other[32];

		memset(other, 0xac, 32);
		c.query_sha256 = other;
		assert_int_equal(
		    approval_check(&got, &c, err, sizeof(err)), -1);
		assert_string_equal(
		    err, "query does not match the approved digest");
	}
	tally__signed_approval__free_unpacked(sa, NULL);
}

static void
untrusted_and_tampered(void **state)
{
	struct fixture *f = *state;
	Tally__SignedApproval *sa;
	struct drb_key wrong = { "drb-snuh", NULL };
	struct approval got;
	char err[256];

	wrong.pub = f->other;
	sa = approval_parse(f->doc, strlen(f->doc), err, sizeof(err));
	assert_non_null(sa);
	assert_int_equal(
	    approval_verify(sa, &wrong, 1, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not verify"));
	assert_int_equal(
	    approval_verify(sa, NULL, 0, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a trusted DRB key"));
	/* Flip one bit of the signed statement. */
	sa->statement.data[sa->statement.len / 2] ^= 1;
	assert_int_equal(
	    approval_verify(sa, &f->trusted, 1, &got, err, sizeof(err)), -1);
	tally__signed_approval__free_unpacked(sa, NULL);
}

/* The verification cache: a hit only for the exact signed bytes and a
 * still-trusted key; every changed byte is verified again (and refused). */
static void
verify_cache(void **state)
{
	struct fixture *f = *state;
	struct approval_cache *c = calloc(1, sizeof(*c));
	struct drb_key wrong = { "drb-snuh", NULL };
	Tally__SignedApproval *sa;
	struct approval got;
	char err[256];

	wrong.pub = f->other;
	sa = approval_parse(f->doc, strlen(f->doc), err, sizeof(err));
	assert_non_null(sa);
	assert_non_null(c);
	assert_int_equal(approval_verify_cached(
			     c, sa, &f->trusted, 1, &got, err, sizeof(err)),
	    0);
	assert_int_equal(c->misses, 1);
	memset(&got, 0, sizeof(got));
	assert_int_equal(approval_verify_cached(
			     c, sa, &f->trusted, 1, &got, err, sizeof(err)),
	    0);
	assert_int_equal(c->hits, 1);
	assert_string_equal(got.researcher, "kim");
	assert_memory_equal(got.id, f->a.id, 32);
	/* One changed byte of the statement, then of the signature: a
	 * miss each, and each refused by the real verification. */
	sa->statement.data[sa->statement.len / 2] ^= 1;
	assert_int_equal(approval_verify_cached(
			     c, sa, &f->trusted, 1, &got, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "does not verify"));
	sa->statement.data[sa->statement.len / 2] ^= 1;
	sa->signature.data[7] ^= 0x10;
	assert_int_equal(approval_verify_cached(
			     c, sa, &f->trusted, 1, &got, err, sizeof(err)),
	    -1);
	sa->signature.data[7] ^= 0x10;
	assert_int_equal(c->hits, 1);
	assert_int_equal(c->misses, 3);
	/* The signing key no longer trusted (gone from the set, or another
	 * key under its name): no hit, the approval is refused. */
	assert_int_equal(
	    approval_verify_cached(c, sa, NULL, 0, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a trusted DRB key"));
	assert_int_equal(
	    approval_verify_cached(c, sa, &wrong, 1, &got, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "does not verify"));
	/* The original bytes under the original key still hit. */
	assert_int_equal(approval_verify_cached(
			     c, sa, &f->trusted, 1, &got, err, sizeof(err)),
	    0);
	assert_int_equal(c->hits, 2);
	approval_cache_clear(c);
	assert_int_equal(approval_verify_cached(
			     c, sa, &f->trusted, 1, &got, err, sizeof(err)),
	    0);
	assert_int_equal(c->misses, 1);
	tally__signed_approval__free_unpacked(sa, NULL);
	free(c);
}

static void
readable_copy_must_match(void **state)
{
	struct fixture *f = *state;
	json_t *doc = json_loads(f->doc, 0, NULL);
	char err[256], *text;

	json_object_set_new(doc, "researcher", json_string("lee"));
	text = json_dumps(doc, 0);
	assert_null(approval_parse(text, strlen(text), err, sizeof(err)));
	assert_non_null(strstr(err, "'researcher' does not match"));
	free(text);
	json_object_set_new(doc, "statement", json_string("!!!"));
	text = json_dumps(doc, 0);
	assert_null(approval_parse(text, strlen(text), err, sizeof(err)));
	free(text);
	json_decref(doc);
	assert_null(approval_parse("{", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "line 1"));
}

static void
sites(void **state)
{
	struct approval a;
	char err[256];

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(approval_set_sites(&a, "all", err, sizeof(err)), 0);
	assert_true(approval_site_allowed(&a, "x", NULL));
	assert_int_equal(
	    approval_set_sites(&a, "snuh,,amc", err, sizeof(err)), -1);
	assert_int_equal(approval_set_sites(&a, "SNUH", err, sizeof(err)), -1);
	assert_int_equal(
	    approval_set_sites(&a, "consortium:x", err, sizeof(err)), -1);
	assert_int_equal(approval_set_sites(&a, "", err, sizeof(err)), -1);
}

static void
base64(void **state)
{
	const char *v[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *e[] = { "", "Zg==", "Zm8=", "Zm9v",
		"Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	size_t n;

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char *enc = base64_encode((const uint8_t *)v[i], strlen(v[i]));
		uint8_t *dec;

		assert_string_equal(enc, e[i]);
		dec = base64_decode(enc, 100, &n);
		assert_non_null(dec);
		assert_int_equal(n, strlen(v[i]));
		assert_memory_equal(dec, v[i], n);
		free(dec);
		free(enc);
	}
	assert_null(base64_decode("Zg=", 100, &n));
	assert_null(base64_decode("Zh==", 100, &n)); /* non-canonical */
	assert_null(base64_decode("Zm9vYmFy", 5, &n));
	assert_null(base64_decode("Zm9v YmFy", 100, &n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    sign_verify_check, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    untrusted_and_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    readable_copy_must_match, setup, teardown),
		cmocka_unit_test(sites),
		cmocka_unit_test(base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
