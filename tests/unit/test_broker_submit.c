/*
 * test_broker_submit.c — the broker accepts only a valid query that
 * hashes to a trusted DRB's approval for this researcher, now, and
 * stores one task per hospital in scope; every refusal is audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "broker.h"
#include "pki.h"
#include "query.h"
#include "suppress.h"
#include "testutil.h"
#include "util.h"

struct fx {
	char *dir;
	struct broker b;
	EVP_PKEY *drbkey, *rogue;
	uint8_t *qbytes;
	size_t qlen;
	uint8_t approved[32]; /* digest the DRB signs */
	uint32_t min_cell;    /* the approval's k */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pki_issue_req req = { ROLE_DRB, "drb", 10, 0,
		0 }; /* < the CA's 30 */
	char err[512], path[PATH_MAX], *text;
	const char(*paths)[PATH_MAX];
	Tally__Query *q;
	size_t len;

	f->dir = test_mkdtemp();
	snprintf(path, sizeof(path), "%s/pki", f->dir);
	if (pki_ca_init(path, "test", 30, err, sizeof(err)) == -1 ||
	    pki_issue(path, &req, NULL, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	snprintf(f->b.cfg.tls.ca, PATH_MAX, "%s/pki/ca.crt", f->dir);
	snprintf(f->b.cfg.tls.crl, PATH_MAX, "%s/pki/crl.pem", f->dir);
	snprintf(f->b.cfg.tls.drb[0], PATH_MAX, "%s/pki/drb.crt", f->dir);
	paths = (const char(*)[PATH_MAX])f->b.cfg.tls.drb;
	if (approval_keys_load(f->b.cfg.tls.ca, f->b.cfg.tls.crl, paths, 1,
		&f->b.drb, &f->b.ndrb, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	snprintf(path, sizeof(path), "%s/pki/drb.key", f->dir);
	f->drbkey = pki_key_load(path, err, sizeof(err));
	f->rogue = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	f->b.net =
	    network_load("deploy/network/hospitals.csv", err, sizeof(err));
	snprintf(path, sizeof(path), "%s/broker.db", f->dir);
	f->b.store = store_open(path, err, sizeof(err));
	f->b.cfg.query_deadline_s = 60;
	f->min_cell = 10;
	if (file_read("docs/examples/ibd.json", 1 << 20, &text, &len, err,
		sizeof(err)) == -1 ||
	    query_from_json(text, len, &q, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	f->qbytes = query_pack(q, &f->qlen);
	SHA256(f->qbytes, f->qlen, f->approved);
	query_free(q);
	free(text);
	*state = f;
	return f->drbkey && f->b.net && f->b.store ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->b.store);
	network_free(f->b.net);
	approval_keys_free(f->b.drb, f->b.ndrb);
	EVP_PKEY_free(f->drbkey);
	EVP_PKEY_free(f->rogue);
	free(f->qbytes);
	test_rmdir(f->dir);
	free(f);
	return 0;
}

/* Signs an approval of the fixture's query and submits it as `who`. */
static int
submit(struct fx *f, const char *who, const char *sites, int64_t from,
    int64_t to, EVP_PKEY *key, struct submit_ack *ack, char *err, size_t errlen)
{
	struct approval a;
	Tally__SignedApproval *sa;
	Tally__Submit s = TALLY__SUBMIT__INIT;
	char *doc;
	int rc;

	memset(&a, 0, sizeof(a));
	memcpy(a.query_sha256, f->approved, 32);
	strcpy(a.researcher, "kim");
	strcpy(a.project, "ibd");
	strcpy(a.drb, "drb");
	approval_set_sites(&a, sites, err, errlen);
	a.not_before = (uint64_t)((int64_t)(wall_ms() / 1000) + from);
	a.not_after = (uint64_t)((int64_t)(wall_ms() / 1000) + to);
	a.max_runs = 2;
	a.min_cell = f->min_cell;
	doc = approval_sign(&a, key);
	sa = approval_parse(doc, strlen(doc), err, errlen);
	free(doc);
	s.has_query = 1;
	s.query.data = f->qbytes;
	s.query.len = f->qlen;
	s.approval = sa;
	rc = submit_handle(&f->b, who, &s, ack, err, errlen);
	tally__signed_approval__free_unpacked(sa, NULL);
	return rc;
}

static void
accepts_and_scopes(void **state)
{
	struct fx *f = *state;
	struct submit_ack ack;
	struct store_task *t;
	char err[512];
	size_t n;

	assert_int_equal(submit(f, "kim", "all", -10, 3600, f->drbkey, &ack,
			     err, sizeof(err)),
	    0);
	assert_int_equal(ack.sites, 43);
	assert_int_equal(
	    store_tasks(f->b.store, ack.query_id, NULL, &t, &n), 0);
	assert_int_equal(n, 43);
	store_tasks_free(t, n);
	assert_int_equal(submit(f, "kim", "consortium:1,snuh", -10, 3600,
			     f->drbkey, &ack, err, sizeof(err)),
	    0);
	assert_int_equal(ack.sites, 8);
}

static void
refusals(void **state)
{
	struct fx *f = *state;
	struct submit_ack ack;
	Tally__Submit s = TALLY__SUBMIT__INIT;
	char err[512];

	assert_int_equal(submit(f, "lee", "all", -10, 3600, f->drbkey, &ack,
			     err, sizeof(err)),
	    -1);
	assert_string_equal(err, "approval is for researcher 'kim', not 'lee'");
	assert_int_equal(submit(f, "kim", "all", -7200, -3600, f->drbkey, &ack,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "approval expired on"));
	assert_int_equal(submit(f, "kim", "all", 3600, 7200, f->drbkey, &ack,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not valid before"));
	assert_int_equal(submit(f, "kim", "all", -10, 3600, f->rogue, &ack, err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "does not verify"));
	assert_int_equal(submit(f, "kim", "consortium:99", -10, 3600, f->drbkey,
			     &ack, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no hospital"));
	/* The query bytes must be the approved ones. */
	f->qbytes[f->qlen - 1] ^= 1;
	assert_int_equal(submit(f, "kim", "all", -10, 3600, f->drbkey, &ack,
			     err, sizeof(err)),
	    -1);
	assert_string_equal(err, "query does not match the approved digest");
	f->qbytes[f->qlen - 1] ^= 1;
	/* A k no node could apply (and no pool could use). */
	f->min_cell = SUPPRESS_MAX_K + 1;
	assert_int_equal(submit(f, "kim", "all", -10, 3600, f->drbkey, &ack,
			     err, sizeof(err)),
	    -1);
	assert_string_equal(
	    err, "approval's min_cell 1000001 is above 1000000");
	f->min_cell = 10;
	s.has_query = 1;
	s.query.data = f->qbytes;
	s.query.len = f->qlen;
	assert_int_equal(
	    submit_handle(&f->b, "kim", &s, &ack, err, sizeof(err)), -1);
	assert_string_equal(err, "a submission needs a query and its approval");
	{
		uint64_t counts[4];

		store_query_counts(f->b.store, counts);
		assert_int_equal(counts[0], 0); /* nothing stored */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    accepts_and_scopes, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
