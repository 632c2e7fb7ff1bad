/*
 * approval_fixture.h — the fixed DRB keys and approvals that the
 * approval_parse target trusts and fuzz/seeds.c writes its seeds from.
 * Everything is deterministic (fixed private keys, fixed nonces, Ed25519
 * signs deterministically), so the committed seeds verify in every run
 * and the target knows exactly which statements were really signed.
 * Test material only: never a key anything else trusts.
 *
 * Fixture 0 is signed by key 0 ("drb-a"), fixture 1 by key 1 ("drb-b");
 * fixture 2 names "drb-a" in its statement but is signed by key 1 and
 * carries key_id "drb-b": a real signature that must still not verify.
 */
#ifndef FUZZ_APPROVAL_FIXTURE_H
#define FUZZ_APPROVAL_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "approval.h"
#include "base64.h"
#include "log.h"

#define FIXTURE_KEYS 2
#define FIXTURE_DOCS 3

static const char *const fixture_key_names[FIXTURE_KEYS] = { "drb-a", "drb-b" };

/* Key i, from a fixed 32-byte private key. */
static EVP_PKEY *
fixture_key(int i)
{
	uint8_t priv[32];
	EVP_PKEY *k;

	memset(priv, 0x41 + i, sizeof(priv));
	if ((k = EVP_PKEY_new_raw_private_key(
		 EVP_PKEY_ED25519, NULL, priv, sizeof(priv))) == NULL)
		fatalx("fixture key %d", i);
	return k;
}

/* The approval of fixture i (what its statement says). */
static void
fixture_approval(int i, struct approval *a)
{
	char err[128];

	memset(a, 0, sizeof(*a));
	memset(a->query_sha256, 0xa0 + i, sizeof(a->query_sha256));
	strcpy(a->researcher, i == 1 ? "kim.researcher" : "lee.researcher");
	strcpy(a->project, "af-anticoagulant");
	if (approval_set_sites(a, i == 1 ? "all" : "snuh,consortium:3", err,
		sizeof(err)) == -1)
		fatalx("fixture sites: %s", err);
	a->not_before = 1700000000;
	a->not_after = 1900000000;
	a->max_runs = 5;
	a->min_cell = 10;
	strcpy(a->drb, fixture_key_names[i == 1]);
	if (i == 2)
		strcpy(a->drb, fixture_key_names[0]);
}

/* Fixture i's signed statement (malloc'd) and its signature. */
static uint8_t *
fixture_statement(int i, size_t *lenp, uint8_t sig[64])
{
	Tally__Approval m = TALLY__APPROVAL__INIT;
	struct approval a;
	char *sites[APPROVAL_MAX_SITES];
	uint8_t nonce[16], *buf;
	EVP_MD_CTX *ctx;
	EVP_PKEY *key = fixture_key(i != 0);
	size_t siglen = 64;

	fixture_approval(i, &a);
	memset(nonce, 0x5a + i, sizeof(nonce));
	m.has_query_sha256 = 1;
	m.query_sha256.data = a.query_sha256;
	m.query_sha256.len = 32;
	m.researcher = a.researcher;
	m.project = a.project;
	for (size_t j = 0; j < a.nsites; j++)
		sites[j] = a.sites[j];
	m.n_sites = a.nsites;
	m.sites = sites;
	m.has_not_before = m.has_not_after = 1;
	m.not_before = a.not_before;
	m.not_after = a.not_after;
	m.has_max_runs = m.has_min_cell = 1;
	m.max_runs = a.max_runs;
	m.min_cell = a.min_cell;
	m.has_nonce = 1;
	m.nonce.data = nonce;
	m.nonce.len = sizeof(nonce);
	m.drb = a.drb;
	*lenp = tally__approval__get_packed_size(&m);
	if ((buf = malloc(*lenp)) == NULL)
		fatal("fixture");
	tally__approval__pack(&m, buf);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, buf, *lenp) != 1 || siglen != 64)
		fatalx("fixture %d: signing failed", i);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return buf;
}

/* Fixture i as a document (malloc'd): approval_sign()'s readable fields
 * and layout, with the fixed statement and signature in place of its
 * random ones. */
static char *
fixture_doc(int i)
{
	struct approval a;
	EVP_PKEY *key = fixture_key(i != 0);
	uint8_t *stmt, sig[64];
	char *s, *b64s, *b64g;
	size_t len;
	json_t *doc;

	fixture_approval(i, &a);
	if ((s = approval_sign(&a, key)) == NULL ||
	    (doc = json_loads(s, 0, NULL)) == NULL)
		fatalx("fixture %d: approval_sign", i);
	free(s);
	stmt = fixture_statement(i, &len, sig);
	b64s = base64_encode(stmt, len);
	b64g = base64_encode(sig, sizeof(sig));
	json_object_set_new(doc, "statement", json_string(b64s));
	json_object_set_new(doc, "signature", json_string(b64g));
	json_object_set_new(
	    doc, "key_id", json_string(fixture_key_names[i != 0]));
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	free(stmt);
	free(b64s);
	free(b64g);
	EVP_PKEY_free(key);
	return s;
}

#endif
