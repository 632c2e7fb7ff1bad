/*
 * approval.c — owns signing, reading, verifying and checking DRB
 * approvals. It never trusts the readable copy of the fields in an
 * approval document: only the signed statement counts, and a readable
 * copy that disagrees with it makes the document invalid.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "approval.h"
#include "base64.h"
#include "log.h"
#include "network.h"
#include "pki.h"
#include "util.h"

#define APPROVAL_FORMAT 1

static void
iso_time(uint64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
site_entry_valid(const char *s)
{
	size_t n = strlen(s);
	int64_t v;

	if (strcmp(s, "all") == 0)
		return 1;
	if (strncmp(s, "consortium:", 11) == 0)
		return parse_int64(s + 11, n - 11, 1, 999, &v) == 0;
	return network_id_valid(s, n);
}

int
approval_set_sites(
    struct approval *a, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	a->nsites = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (a->nsites == APPROVAL_MAX_SITES)
			return errf(err, errlen, "more than %d sites",
			    APPROVAL_MAX_SITES);
		if (n == 0 || n >= APPROVAL_SITE_MAX)
			return errf(err, errlen, "empty or over-long site");
		memcpy(a->sites[a->nsites], p, n);
		a->sites[a->nsites][n] = '\0';
		if (!site_entry_valid(a->sites[a->nsites]))
			return errf(err, errlen,
			    "'%s' is not a hospital id, 'all' or "
			    "'consortium:N'",
			    a->sites[a->nsites]);
		a->nsites++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (a->nsites == 0)
		return errf(err, errlen, "no sites");
	return 0;
}

static uint8_t *
statement_pack(const struct approval *a, size_t *lenp)
{
	Tally__Approval m = TALLY__APPROVAL__INIT;
	char *sites[APPROVAL_MAX_SITES];
	uint8_t nonce[16], *buf;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return NULL;
	m.has_query_sha256 = 1;
	m.query_sha256.data = (uint8_t *)a->query_sha256;
	m.query_sha256.len = 32;
	m.researcher = (char *)a->researcher;
	m.project = (char *)a->project;
	for (size_t i = 0; i < a->nsites; i++)
		sites[i] = (char *)a->sites[i];
	m.n_sites = a->nsites;
	m.sites = sites;
	m.has_not_before = m.has_not_after = 1;
	m.not_before = a->not_before;
	m.not_after = a->not_after;
	m.has_max_runs = m.has_min_cell = 1;
	m.max_runs = a->max_runs;
	m.min_cell = a->min_cell;
	m.has_nonce = 1;
	m.nonce.data = nonce;
	m.nonce.len = sizeof(nonce);
	m.drb = (char *)a->drb;
	*lenp = tally__approval__get_packed_size(&m);
	if ((buf = malloc(*lenp ? *lenp : 1)) == NULL)
		return NULL;
	tally__approval__pack(&m, buf);
	return buf;
}

static json_t *
readable_fields(const struct approval *a)
{
	char hex[65], nb[32], na[32];
	json_t *sites = json_array();

	for (size_t i = 0; i < a->nsites; i++)
		json_array_append_new(sites, json_string(a->sites[i]));
	hex_encode(a->query_sha256, 32, hex);
	iso_time(a->not_before, nb);
	iso_time(a->not_after, na);
	return json_pack("{s:i, s:s, s:s, s:s, s:o, s:s, s:s, s:i, s:i, s:s}",
	    "tally_approval", APPROVAL_FORMAT, "query_sha256", hex,
	    "researcher", a->researcher, "project", a->project, "sites", sites,
	    "not_before", nb, "not_after", na, "max_runs",
	    (json_int_t)a->max_runs, "min_cell", (json_int_t)a->min_cell, "drb",
	    a->drb);
}

char *
approval_sign(struct approval *a, EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *stmt = NULL, sig[64];
	size_t len, siglen = sizeof(sig);
	char *b64s = NULL, *b64g = NULL, *out = NULL;
	json_t *doc = NULL;

	if ((stmt = statement_pack(a, &len)) == NULL) {
		log_warnx("approve: cannot build the statement");
		goto done;
	}
	SHA256(stmt, len, a->id);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, stmt, len) != 1) {
		log_warnx("approve: signing failed (is the key Ed25519?)");
		goto done;
	}
	if ((b64s = base64_encode(stmt, len)) == NULL ||
	    (b64g = base64_encode(sig, siglen)) == NULL ||
	    (doc = readable_fields(a)) == NULL)
		goto done;
	json_object_set_new(doc, "statement", json_string(b64s));
	json_object_set_new(doc, "signature", json_string(b64g));
	json_object_set_new(doc, "key_id", json_string(a->drb));
	out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
done:
	EVP_MD_CTX_free(ctx);
	free(stmt);
	free(b64s);
	free(b64g);
	json_decref(doc);
	return out;
}

static const char *
get_str(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Copies a bounded protobuf string; -1 if absent or too long. */
static int
copy_str(char *dst, size_t dsize, const char *src)
{
	if (src == NULL || strlen(src) >= dsize)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* Decodes a statement into *a, bounding every field. */
static int
statement_decode(const uint8_t *buf, size_t len, struct approval *a, char *err,
    size_t errlen)
{
	Tally__Approval *m;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	if (len > APPROVAL_MAX_BYTES ||
	    (m = tally__approval__unpack(NULL, len, buf)) == NULL)
		return errf(err, errlen, "approval: malformed statement");
	if (!m->has_query_sha256 || m->query_sha256.len != 32) {
		errf(err, errlen, "approval: statement has no query digest");
		goto done;
	}
	memcpy(a->query_sha256, m->query_sha256.data, 32);
	if (copy_str(a->researcher, sizeof(a->researcher), m->researcher) ||
	    copy_str(a->project, sizeof(a->project), m->project) ||
	    copy_str(a->drb, sizeof(a->drb), m->drb)) {
		errf(err, errlen,
		    "approval: researcher, project or drb "
		    "missing or too long");
		goto done;
	}
	if (m->n_sites == 0 || m->n_sites > APPROVAL_MAX_SITES) {
		errf(err, errlen, "approval: 1 to %d sites required",
		    APPROVAL_MAX_SITES);
		goto done;
	}
	for (size_t i = 0; i < m->n_sites; i++)
		if (copy_str(a->sites[i], sizeof(a->sites[i]), m->sites[i]) ||
		    !site_entry_valid(a->sites[i])) {
			errf(err, errlen, "approval: bad site entry");
			goto done;
		}
	a->nsites = m->n_sites;
	if (!m->has_not_before || !m->has_not_after || !m->has_max_runs ||
	    !m->has_min_cell || m->not_after < m->not_before) {
		errf(err, errlen, "approval: incomplete validity or budget");
		goto done;
	}
	a->not_before = m->not_before;
	a->not_after = m->not_after;
	a->max_runs = m->max_runs;
	a->min_cell = m->min_cell;
	SHA256(buf, len, a->id);
	rc = 0;
done:
	tally__approval__free_unpacked(m, NULL);
	return rc;
}

/* The readable copy must say what the signed statement says. */
static int
readable_matches(
    json_t *doc, const uint8_t *stmt, size_t len, char *err, size_t errlen)
{
	struct approval a;
	json_t *want = NULL;
	const char *key;
	json_t *v;
	int rc = 0;

	if (statement_decode(stmt, len, &a, err, errlen) == -1)
		return -1;
	if ((want = readable_fields(&a)) == NULL)
		return errf(err, errlen, "out of memory");
	json_object_foreach(want, key, v)
	{
		json_t *got = json_object_get(doc, key);

		if (got != NULL && !json_equal(got, v)) {
			rc = errf(err, errlen,
			    "approval: readable field '%s' does not match "
			    "the signed statement",
			    key);
			break;
		}
	}
	json_decref(want);
	return rc;
}

Tally__SignedApproval *
approval_parse(const char *text, size_t len, char *err, size_t errlen)
{
	Tally__SignedApproval *sa = NULL;
	json_error_t jerr;
	json_t *doc;
	const char *s, *g, *k;
	uint8_t *stmt = NULL, *sig = NULL;
	size_t slen, glen;

	if (len > 4 * APPROVAL_MAX_BYTES) {
		errf(err, errlen, "approval: document too large");
		return NULL;
	}
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		errf(err, errlen, "approval: line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return NULL;
	}
	if ((s = get_str(doc, "statement")) == NULL ||
	    (g = get_str(doc, "signature")) == NULL ||
	    (k = get_str(doc, "key_id")) == NULL) {
		errf(err, errlen,
		    "approval: needs statement, signature and key_id");
		goto done;
	}
	if ((stmt = base64_decode(s, APPROVAL_MAX_BYTES, &slen)) == NULL ||
	    (sig = base64_decode(g, 64, &glen)) == NULL) {
		errf(err, errlen,
		    "approval: statement or signature is not "
		    "valid base64 of the right size");
		goto done;
	}
	if (strlen(k) >= APPROVAL_NAME_MAX) {
		errf(err, errlen, "approval: key_id too long");
		goto done;
	}
	if (readable_matches(doc, stmt, slen, err, errlen) == -1)
		goto done;
	if ((sa = malloc(sizeof(*sa))) == NULL) {
		errf(err, errlen, "out of memory");
		goto done;
	}
	tally__signed_approval__init(sa);
	if ((sa->key_id = strdup(k)) == NULL) {
		free(sa);
		sa = NULL;
		errf(err, errlen, "out of memory");
		goto done;
	}
	sa->has_statement = sa->has_signature = 1;
	sa->statement.data = stmt;
	sa->statement.len = slen;
	sa->signature.data = sig;
	sa->signature.len = glen;
	stmt = sig = NULL;
done:
	free(stmt);
	free(sig);
	json_decref(doc);
	return sa;
}

int
approval_verify(const Tally__SignedApproval *sa, const struct drb_key *keys,
    size_t nkeys, struct approval *out, char *err, size_t errlen)
{
	const struct drb_key *k = NULL;
	EVP_MD_CTX *ctx;
	int ok;

	if (sa == NULL || !sa->has_statement || !sa->has_signature ||
	    sa->key_id == NULL)
		return errf(err, errlen, "approval missing or incomplete");
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, sa->key_id) == 0)
			k = &keys[i];
	if (k == NULL)
		return errf(err, errlen,
		    "approval signed by '%s', not a trusted DRB key",
		    sa->key_id);
	if (sa->statement.len > APPROVAL_MAX_BYTES || sa->signature.len != 64)
		return errf(err, errlen, "approval: bad sizes");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return errf(err, errlen, "out of memory");
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pub) == 1 &&
	    EVP_DigestVerify(ctx, sa->signature.data, sa->signature.len,
		sa->statement.data, sa->statement.len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return errf(err, errlen,
		    "approval signature does not verify with DRB key '%s'",
		    k->name);
	if (statement_decode(
		sa->statement.data, sa->statement.len, out, err, errlen) == -1)
		return -1;
	if (strcmp(out->drb, k->name) != 0)
		return errf(err, errlen,
		    "approval names DRB '%s' but was signed by '%s'", out->drb,
		    k->name);
	return 0;
}

/* The cache key: SHA-256 over the trusted public key the approval names
 * and the signed approval's exact bytes. */
static int
cache_key(
    const Tally__SignedApproval *sa, const struct drb_key *k, uint8_t key[32])
{
	EVP_MD_CTX *ctx;
	uint8_t n[8], pub[64];
	size_t publen = sizeof(pub);
	const struct {
		const void *p;
		size_t len;
	} f[4] = { { pub, 0 }, { sa->key_id, strlen(sa->key_id) },
		{ sa->statement.data, sa->statement.len },
		{ sa->signature.data, sa->signature.len } };
	int ok;

	if (EVP_PKEY_get_raw_public_key(k->pub, pub, &publen) != 1 ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (int i = 0; i < 4 && ok; i++) {
		size_t len = i == 0 ? publen : f[i].len;

		/* Length-prefixed: no two splits of the bytes collide. */
		for (int b = 0; b < 8; b++)
			n[b] = (uint8_t)((uint64_t)len >> (56 - 8 * b));
		ok = EVP_DigestUpdate(ctx, n, sizeof(n)) == 1 &&
		    EVP_DigestUpdate(ctx, f[i].p, len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, key, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

void
approval_cache_clear(struct approval_cache *c)
{
	memset(c, 0, sizeof(*c));
}

int
approval_verify_cached(struct approval_cache *c,
    const Tally__SignedApproval *sa, const struct drb_key *keys, size_t nkeys,
    struct approval *out, char *err, size_t errlen)
{
	const struct drb_key *k = NULL;
	uint8_t key[32];
	size_t victim = 0;

	if (sa == NULL || !sa->has_statement || !sa->has_signature ||
	    sa->key_id == NULL || sa->statement.len > APPROVAL_MAX_BYTES ||
	    sa->signature.len != 64)
		return approval_verify(sa, keys, nkeys, out, err, errlen);
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, sa->key_id) == 0)
			k = &keys[i];
	/* Not trusted (never loaded, or revoked and left out): refused. */
	if (k == NULL || cache_key(sa, k, key) == -1)
		return approval_verify(sa, keys, nkeys, out, err, errlen);
	for (size_t i = 0; i < APPROVAL_CACHE_SLOTS; i++) {
		if (c->slot[i].used != 0 &&
		    CRYPTO_memcmp(c->slot[i].key, key, 32) == 0) {
			c->slot[i].used = ++c->clock;
			c->hits++;
			*out = c->slot[i].a;
			return 0;
		}
	}
	c->misses++;
	if (approval_verify(sa, keys, nkeys, out, err, errlen) == -1)
		return -1;
	for (size_t i = 1; i < APPROVAL_CACHE_SLOTS; i++)
		if (c->slot[i].used < c->slot[victim].used)
			victim = i;
	memcpy(c->slot[victim].key, key, 32);
	c->slot[victim].a = *out;
	c->slot[victim].used = ++c->clock;
	return 0;
}

int
approval_site_allowed(
    const struct approval *a, const char *site, const char *consortium)
{
	for (size_t i = 0; i < a->nsites; i++) {
		const char *e = a->sites[i];

		if (strcmp(e, "all") == 0 || strcmp(e, site) == 0)
			return 1;
		if (consortium != NULL && strncmp(e, "consortium:", 11) == 0 &&
		    strcmp(e + 11, consortium) == 0)
			return 1;
	}
	return 0;
}

int
approval_check(const struct approval *a, const struct approval_ctx *c,
    char *err, size_t errlen)
{
	char when[32];

	if (CRYPTO_memcmp(a->query_sha256, c->query_sha256, 32) != 0)
		return errf(
		    err, errlen, "query does not match the approved digest");
	if (strcmp(a->researcher, c->researcher) != 0)
		return errf(err, errlen,
		    "approval is for researcher '%s', not '%s'", a->researcher,
		    c->researcher);
	if (c->now < a->not_before) {
		iso_time(a->not_before, when);
		return errf(err, errlen, "approval not valid before %s", when);
	}
	if (c->now > a->not_after) {
		iso_time(a->not_after, when);
		return errf(err, errlen, "approval expired on %s", when);
	}
	if (c->site != NULL &&
	    !approval_site_allowed(a, c->site, c->consortium))
		return errf(
		    err, errlen, "site '%s' is not in the approval", c->site);
	if (a->max_runs == 0)
		return errf(err, errlen, "approval allows no runs");
	return 0;
}

int
approval_keys_load(const char *ca, const char *crl,
    const char (*paths)[PATH_MAX], size_t npaths, struct drb_key **keys,
    size_t *nkeys, char *err, size_t errlen)
{
	X509_STORE *store;
	struct drb_key *k;

	*keys = NULL;
	*nkeys = 0;
	if ((store = pki_store_new(ca, crl, err, errlen)) == NULL)
		return -1;
	if ((k = calloc(npaths ? npaths : 1, sizeof(*k))) == NULL) {
		X509_STORE_free(store);
		return errf(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < npaths; i++) {
		k[i].pub = pki_drb_pubkey(
		    store, paths[i], k[i].name, sizeof(k[i].name), err, errlen);
		if (k[i].pub == NULL) {
			approval_keys_free(k, i);
			X509_STORE_free(store);
			return -1;
		}
	}
	X509_STORE_free(store);
	*keys = k;
	*nkeys = npaths;
	return 0;
}

void
approval_keys_free(struct drb_key *k, size_t n)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(k[i].pub);
	free(k);
}
