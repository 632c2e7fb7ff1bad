/*
 * approval.h — DRB approvals: what a Data Review Board signs (`tally
 * approve`) and what the broker and every node check, independently,
 * before a query runs.
 *
 * On disk and in mail an approval is a small JSON document holding the
 * signed statement (a serialised Approval message), its Ed25519
 * signature and the signing key's name, plus a readable copy of the
 * fields for reviewers (checked against the statement when read).
 */
#ifndef TALLY_APPROVAL_H
#define TALLY_APPROVAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tally.pb-c.h"

#define APPROVAL_MAX_BYTES 16384 /* statement, packed */
#define APPROVAL_MAX_SITES 128
#define APPROVAL_NAME_MAX  64
#define APPROVAL_SITE_MAX  48

struct approval {
	uint8_t query_sha256[32];
	char researcher[APPROVAL_NAME_MAX];
	char project[APPROVAL_NAME_MAX];
	size_t nsites;
	char sites[APPROVAL_MAX_SITES][APPROVAL_SITE_MAX];
	uint64_t not_before, not_after; /* unix seconds, inclusive */
	uint32_t max_runs;
	uint32_t min_cell;
	char drb[APPROVAL_NAME_MAX]; /* signing key's name */
	uint8_t id[32];		     /* SHA-256 of the signed statement */
};

/* A DRB public key that this program trusts. */
struct drb_key {
	char name[APPROVAL_NAME_MAX];
	EVP_PKEY *pub;
};

/* What the checker compares an approval with. */
struct approval_ctx {
	const uint8_t *query_sha256; /* of the canonical query bytes */
	const char *researcher;	     /* from the submitter's certificate */
	const char *site;	     /* NULL at the broker */
	const char *consortium;	     /* the site's consortium, or NULL */
	uint64_t now;		     /* unix seconds */
};

/*
 * Signs a with key (Ed25519), producing the JSON document. a->drb names
 * the key. Returns a malloc'd NUL-terminated string, or NULL (logged).
 */
char *approval_sign(struct approval *a, EVP_PKEY *key);

/* JSON document -> SignedApproval (caller frees with
 * tally__signed_approval__free_unpacked(x, NULL)). */
Tally__SignedApproval *approval_parse(
    const char *json, size_t len, char *err, size_t errlen);

/*
 * Verifies the signature with the trusted key named by key_id and decodes
 * the statement into *out (bounded). -1 with the reason in err.
 */
int approval_verify(const Tally__SignedApproval *, const struct drb_key *keys,
    size_t nkeys, struct approval *out, char *err, size_t errlen);

/*
 * Checks a verified approval against a request: digest, researcher,
 * validity window, site scope. Run budgets are counted by the caller.
 * -1 with a reason a researcher can act on ("approval expired on ...").
 */
int approval_check(const struct approval *, const struct approval_ctx *,
    char *err, size_t errlen);

/*
 * Approvals whose signature verified, remembered by the SHA-256 of the
 * trusted public key they name and their exact signed bytes (key name,
 * statement, signature): a node sees the same approval on every task of
 * a query. A hit skips only the Ed25519 verification and the decoding;
 * approval_check (digest, researcher, site, validity window) and the
 * caller's run budget still run on every task. Only keys in the set
 * passed can hit: the trusted DRB keys are checked against the CA and
 * its CRL when loaded, so a revoked key is not in the set and what it
 * signed is refused, cached or not; a key replaced under the same name
 * does not match either. Failures are never cached. Zero-initialise; not
 * shared between threads.
 */
#define APPROVAL_CACHE_SLOTS 8
struct approval_cache {
	struct {
		uint8_t key[32];
		uint64_t used; /* 0: empty; else a clock tick, for LRU */
		struct approval a;
	} slot[APPROVAL_CACHE_SLOTS];
	uint64_t clock;
	uint64_t hits, misses;
};
/* approval_verify(), through the cache c (a failure is never cached). */
int approval_verify_cached(struct approval_cache *c,
    const Tally__SignedApproval *, const struct drb_key *keys, size_t nkeys,
    struct approval *out, char *err, size_t errlen);
/* Forgets every entry (memory only: entries never go stale). */
void approval_cache_clear(struct approval_cache *c);

/* 1 if site (in consortium) is in the approval's scope. */
int approval_site_allowed(
    const struct approval *, const char *site, const char *consortium);

/*
 * Loads the trusted DRB keys from their certificates, each verified
 * against the consortium CA and CRL with role drb (pki_drb_pubkey).
 * *keys is malloc'd; free with approval_keys_free().
 */
int approval_keys_load(const char *ca, const char *crl,
    const char (*paths)[PATH_MAX], size_t npaths, struct drb_key **keys,
    size_t *nkeys, char *err, size_t errlen);
void approval_keys_free(struct drb_key *, size_t);

/* Parses a --sites list: "all", or comma-separated hospital ids and
 * "consortium:N" entries. */
int approval_set_sites(
    struct approval *, const char *list, char *err, size_t errlen);

#endif
