/*
 * test_node_task.c — the node's own checks on a task, whatever the broker
 * says: a duplicated task is answered from cache without a second run, a
 * replay under a new task id spends the budget, and approvals that are
 * untrusted, for another site, expired or for another query are refused,
 * and so is a task that arrives after its query's deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "baseline.h"
#include "pki.h"
#include "query.h"
#include "suppress.h"
#include "task.h"
#include "testutil.h"
#include "util.h"
#include "wire.h"
#include "engine_int.h"

struct fx {
	char *dir;
	struct node_config cfg;
	struct task_env env;
	EVP_PKEY *drbkey;
	uint8_t *qbytes;
	size_t qlen;
	uint8_t approved[32]; /* the digest DRBs sign */
	uint64_t deadline_ms; /* of the tasks run() makes; 0: none */
};

static void
make_db(const char *path)
{
	sqlite3 *db;
	char err[256];

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(baseline_create(db, err, sizeof(err)), 0);
	for (int i = 1; i <= 40; i++) {
		char sql[256];

		snprintf(sql, sizeof(sql),
		    "INSERT INTO person VALUES (%d, '%s', 1960, NULL, NULL);"
		    "INSERT INTO diagnosis VALUES (%d, NULL, '2020-01-0%d',"
		    " 'K50.9', 'KCD8', 1);",
		    i, i % 2 ? "F" : "M", i, 1 + i % 9);
		assert_int_equal(
		    sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(baseline_index(db, err, sizeof(err)), 0);
	sqlite3_close(db);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pki_issue_req req = { ROLE_DRB, "drb", 10, 0,
		0 }; /* < the CA's 30 */
	char err[512], p[PATH_MAX], *text;
	Tally__Query *q;
	size_t len;

	f->dir = test_mkdtemp();
	snprintf(p, sizeof(p), "%s/pki", f->dir);
	if (pki_ca_init(p, "test", 30, err, sizeof(err)) == -1 ||
	    pki_issue(p, &req, NULL, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	snprintf(f->cfg.tls.ca, PATH_MAX, "%s/pki/ca.crt", f->dir);
	snprintf(f->cfg.tls.crl, PATH_MAX, "%s/pki/crl.pem", f->dir);
	snprintf(f->cfg.tls.drb[0], PATH_MAX, "%s/pki/drb.crt", f->dir);
	if (approval_keys_load(f->cfg.tls.ca, f->cfg.tls.crl,
		(const char(*)[PATH_MAX])f->cfg.tls.drb, 1,
		(struct drb_key **)&f->env.drb, &f->env.ndrb, err,
		sizeof(err)) == -1)
		fail_msg("%s", err);
	snprintf(p, sizeof(p), "%s/pki/drb.key", f->dir);
	f->drbkey = pki_key_load(p, err, sizeof(err));
	strcpy(f->cfg.site, "snuh");
	strcpy(f->cfg.consortium, "4");
	policy_defaults(&f->cfg.policy);
	snprintf(f->cfg.db, PATH_MAX, "%s/snuh.db", f->dir);
	snprintf(f->cfg.state, PATH_MAX, "%s/state.db", f->dir);
	make_db(f->cfg.db);
	f->env.cfg = &f->cfg;
	f->env.engine = engine_open(f->cfg.db, NULL, err, sizeof(err));
	f->env.state = nstate_open(f->cfg.state, err, sizeof(err));
	if (file_read("docs/examples/ibd.json", 1 << 20, &text, &len, err,
		sizeof(err)) == -1 ||
	    query_from_json(text, len, &q, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	f->qbytes = query_pack(q, &f->qlen);
	SHA256(f->qbytes, f->qlen, f->approved);
	query_free(q);
	free(text);
	*state = f;
	return f->env.engine && f->env.state && f->drbkey ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	engine_close(f->env.engine);
	nstate_close(f->env.state);
	approval_keys_free((struct drb_key *)f->env.drb, f->env.ndrb);
	EVP_PKEY_free(f->drbkey);
	free(f->qbytes);
	test_rmdir(f->dir);
	free(f);
	return 0;
}

/* An approval of the fixture's query signed by key. */
static Tally__SignedApproval *
sign(struct fx *f, EVP_PKEY *key, const char *sites, int64_t from, int64_t to,
    uint32_t runs)
{
	Tally__SignedApproval *sa;
	struct approval a;
	char err[256], *doc;

	memset(&a, 0, sizeof(a));
	memcpy(a.query_sha256, f->approved, 32);
	strcpy(a.researcher, "kim");
	strcpy(a.project, "p");
	strcpy(a.drb, "drb");
	approval_set_sites(&a, sites, err, sizeof(err));
	a.not_before = (uint64_t)((int64_t)(wall_ms() / 1000) + from);
	a.not_after = (uint64_t)((int64_t)(wall_ms() / 1000) + to);
	a.max_runs = runs;
	a.min_cell = 10;
	doc = approval_sign(&a, key);
	sa = approval_parse(doc, strlen(doc), err, sizeof(err));
	free(doc);
	assert_non_null(sa);
	return sa;
}

/* Runs one task; the TaskResult's state, details through out. */
static int
run(struct fx *f, const char *task_id, Tally__SignedApproval *sa,
    struct task_outcome *out)
{
	Tally__Task t = TALLY__TASK__INIT;
	struct wire_msg *m;
	char err[256];
	uint8_t *buf;
	size_t len;
	int state;

	t.approval = sa;
	t.task_id = (char *)task_id;
	t.has_query = 1;
	t.query.data = f->qbytes;
	t.query.len = f->qlen;
	t.researcher = "kim";
	t.has_deadline_ms = f->deadline_ms != 0;
	t.deadline_ms = f->deadline_ms;
	buf = task_run(&f->env, &t, 0, &len, out);
	assert_non_null(buf);
	m = wire_decode(buf, len, 0, 0, err, sizeof(err));
	free(buf);
	assert_non_null(m);
	assert_int_equal(
	    wire_env(m)->body_case, TALLY__ENVELOPE__BODY_TASK_RESULT);
	state = wire_env(m)->task_result->state;
	if (state == TALLY__TASK_STATE__TASK_DONE)
		assert_non_null(wire_env(m)->task_result->table);
	else
		assert_null(wire_env(m)->task_result->table);
	wire_free(m);
	return state;
}

static void
duplicates_and_replays(void **state)
{
	struct fx *f = *state;
	Tally__SignedApproval *sa = sign(f, f->drbkey, "all", -5, 60, 2);
	struct task_outcome o;

	assert_int_equal(
	    run(f, "q1/snuh", sa, &o), TALLY__TASK_STATE__TASK_DONE);
	assert_false(o.cached);
	/* The same task again (a re-send or a replayed message): the same
	 * answer from cache, no run spent. */
	assert_int_equal(
	    run(f, "q1/snuh", sa, &o), TALLY__TASK_STATE__TASK_DONE);
	assert_true(o.cached);
	/* A replay under a new task id spends the second and last run. */
	assert_int_equal(
	    run(f, "q2/snuh", sa, &o), TALLY__TASK_STATE__TASK_DONE);
	assert_false(o.cached);
	assert_int_equal(
	    run(f, "q3/snuh", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	assert_string_equal(o.reason, "approval's run budget of 2 is spent");
	/* Answered tasks still answer from cache. */
	assert_int_equal(
	    run(f, "q1/snuh", sa, &o), TALLY__TASK_STATE__TASK_DONE);
	assert_true(o.cached);
	tally__signed_approval__free_unpacked(sa, NULL);
}

static void
refusals(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *rogue = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	Tally__SignedApproval *sa;
	struct task_outcome o;

	sa = sign(f, rogue, "all", -5, 60, 2);
	assert_int_equal(
	    run(f, "a/snuh", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	assert_non_null(strstr(o.reason, "does not verify"));
	tally__signed_approval__free_unpacked(sa, NULL);
	sa = sign(f, f->drbkey, "amc,consortium:5", -5, 60, 2);
	assert_int_equal(
	    run(f, "b/snuh", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	assert_string_equal(o.reason, "site 'snuh' is not in the approval");
	tally__signed_approval__free_unpacked(sa, NULL);
	sa = sign(f, f->drbkey, "all", -60, -5, 2);
	assert_int_equal(
	    run(f, "c/snuh", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	assert_non_null(strstr(o.reason, "expired"));
	tally__signed_approval__free_unpacked(sa, NULL);
	/* A broker that changes the query after approval. */
	sa = sign(f, f->drbkey, "all", -5, 60, 2);
	f->qbytes[f->qlen - 1] ^= 1;
	assert_int_equal(
	    run(f, "d/snuh", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	assert_string_equal(
	    o.reason, "query does not match the approved digest");
	f->qbytes[f->qlen - 1] ^= 1;
	assert_int_equal(run(f, "", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	tally__signed_approval__free_unpacked(sa, NULL);
	EVP_PKEY_free(rogue);
}

static void
late_tasks(void **state)
{
	struct fx *f = *state;
	Tally__SignedApproval *sa = sign(f, f->drbkey, "all", -5, 60, 1);
	struct task_outcome o;
	struct approval a;
	char err[256];

	assert_int_equal(
	    approval_verify(sa, f->env.drb, f->env.ndrb, &a, err, sizeof(err)),
	    0);
	f->deadline_ms = wall_ms() - 1;
	assert_int_equal(
	    run(f, "late/snuh", sa, &o), TALLY__TASK_STATE__TASK_REFUSED);
	assert_string_equal(o.reason, "the query's deadline has passed");
	/* Nothing spent: the one run is still there for a task in time. */
	assert_int_equal(nstate_runs(f->env.state, a.id), 0);
	f->deadline_ms = wall_ms() + 60000;
	assert_int_equal(
	    run(f, "late/snuh", sa, &o), TALLY__TASK_STATE__TASK_DONE);
	assert_int_equal(nstate_runs(f->env.state, a.id), 1);
	tally__signed_approval__free_unpacked(sa, NULL);
}

/* A task that fails before its engine run leaves no time limit behind
 * for the next task's run. */
static void
no_stale_limit(void **state)
{
	struct fx *f = *state;
	Tally__SignedApproval *sa = sign(f, f->drbkey, "all", -5, 60, 2);
	struct task_outcome o;
	unsigned k = f->cfg.policy.min_cell;

	f->deadline_ms = wall_ms() + 60000;
	f->cfg.policy.min_cell = SUPPRESS_MAX_K + 1;
	assert_int_equal(
	    run(f, "a/snuh", sa, &o), TALLY__TASK_STATE__TASK_FAILED);
	assert_int_equal(f->env.engine->next_timeout_ms, 0);
	f->cfg.policy.min_cell = k;
	f->deadline_ms = 0;
	assert_int_equal(
	    run(f, "b/snuh", sa, &o), TALLY__TASK_STATE__TASK_DONE);
	tally__signed_approval__free_unpacked(sa, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    duplicates_and_replays, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(late_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    no_stale_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
