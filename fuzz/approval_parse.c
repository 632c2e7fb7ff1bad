/*
 * approval_parse.c — libFuzzer target: a signed approval document
 * (lib/pki/approval.c) as a researcher hands it in, parsed and, when it
 * parses, verified against the fixed DRB keys of approval_fixture.h.
 *
 * It must never crash, and must never verify a statement or signature
 * that the fixture keys did not sign: a document that verifies carries
 * exactly fixture 0's or fixture 1's statement and signature under their
 * own key names. With the keys' names swapped only fixture 2 may verify
 * (it names drb-a and is signed by key 1, which that set calls drb-a).
 * A verified approval is checked (approval_check, site scope) as well.
 */
#include <stdlib.h>
#include <string.h>

#include "approval_fixture.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct drb_key keys[FIXTURE_KEYS], swapped[FIXTURE_KEYS];
static uint8_t *stmt[FIXTURE_DOCS], sig[FIXTURE_DOCS][64];
static size_t stmt_len[FIXTURE_DOCS];

/* The public half of a fixture key. */
static EVP_PKEY *
public_key(int i)
{
	EVP_PKEY *k = fixture_key(i), *pub;
	uint8_t raw[32];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 ||
	    (pub = EVP_PKEY_new_raw_public_key(
		 EVP_PKEY_ED25519, NULL, raw, len)) == NULL)
		fatalx("fuzz set-up: public key");
	EVP_PKEY_free(k);
	return pub;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct approval out;
	char err[256];

	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	for (int i = 0; i < FIXTURE_KEYS; i++) {
		strcpy(keys[i].name, fixture_key_names[i]);
		keys[i].pub = public_key(i);
		strcpy(swapped[i].name, fixture_key_names[!i]);
		swapped[i].pub = keys[i].pub;
	}
	/* The oracle's own check: the good fixtures verify, the bad one
	 * does not. */
	for (int i = 0; i < FIXTURE_DOCS; i++) {
		char *doc = fixture_doc(i);
		Tally__SignedApproval *sa;
		int ok;

		stmt[i] = fixture_statement(i, &stmt_len[i], sig[i]);
		if ((sa = approval_parse(doc, strlen(doc), err, sizeof(err))) ==
		    NULL)
			fatalx("fuzz set-up: fixture %d: %s", i, err);
		ok = approval_verify(
			 sa, keys, FIXTURE_KEYS, &out, err, sizeof(err)) == 0;
		if (ok != (i < 2))
			fatalx("fuzz set-up: fixture %d verifies: %d", i, ok);
		tally__signed_approval__free_unpacked(sa, NULL);
		free(doc);
	}
	return 0;
}

/* 1 if sa carries fixture i's statement and signature. */
static int
is_fixture(const Tally__SignedApproval *sa, int i)
{
	return sa->statement.len == stmt_len[i] &&
	    memcmp(sa->statement.data, stmt[i], stmt_len[i]) == 0 &&
	    sa->signature.len == 64 &&
	    memcmp(sa->signature.data, sig[i], 64) == 0;
}

/* A verified approval must be fixture 0's or fixture 1's, whole. */
static void
genuine(const Tally__SignedApproval *sa, const struct approval *out)
{
	struct approval want;
	int i;

	for (i = 0; i < 2; i++)
		if (strcmp(sa->key_id, fixture_key_names[i]) == 0)
			break;
	if (i == 2 || !is_fixture(sa, i))
		abort(); /* verified something nobody signed */
	fixture_approval(i, &want);
	if (strcmp(out->drb, want.drb) != 0 ||
	    strcmp(out->researcher, want.researcher) != 0 ||
	    out->nsites != want.nsites || out->not_after != want.not_after ||
	    memcmp(out->query_sha256, want.query_sha256, 32) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Tally__SignedApproval *sa;
	struct approval out;
	struct approval_ctx ctx;
	char err[256];

	if ((sa = approval_parse((const char *)data, size, err, sizeof(err))) ==
	    NULL)
		return 0;
	/* Under swapped names only fixture 2 is genuine: key 1 signed a
	 * statement naming drb-a, which key 1 is called there. */
	if (approval_verify(
		sa, swapped, FIXTURE_KEYS, &out, err, sizeof(err)) == 0 &&
	    !(strcmp(sa->key_id, "drb-a") == 0 && is_fixture(sa, 2)))
		abort(); /* verified under the other key's name */
	if (approval_verify(sa, keys, FIXTURE_KEYS, &out, err, sizeof(err)) ==
	    0) {
		genuine(sa, &out);
		memset(&ctx, 0, sizeof(ctx));
		ctx.query_sha256 = out.query_sha256;
		ctx.researcher = out.researcher;
		ctx.site = "snuh";
		ctx.consortium = "3";
		ctx.now = out.not_before;
		if (approval_check(&out, &ctx, err, sizeof(err)) == -1)
			abort(); /* it is in scope and in time */
		ctx.now = out.not_after + 1;
		if (approval_check(&out, &ctx, err, sizeof(err)) == 0)
			abort(); /* expired */
	}
	tally__signed_approval__free_unpacked(sa, NULL);
	return 0;
}
