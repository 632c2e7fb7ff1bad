/*
 * submit.c — owns accepting a researcher's query: the bytes must be a
 * valid compiled query, hash to the digest a trusted DRB signed for this
 * researcher, and be inside the approval's validity; then one task per
 * hospital in scope is stored, durably, before the researcher is told.
 * It never contacts a node (dispatch does) and never trusts anything but
 * the certificate for who is asking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "broker.h"
#include "log.h"
#include "query.h"
#include "suppress.h"
#include "util.h"

static int
refuse(struct broker *b, const char *who, char *err)
{
	char clean[512];

	/* Parts of the reason may come from the submission itself. */
	str_printable(clean, sizeof(clean), err);
	log_info("refused a submission from %s: %s", who, clean);
	store_audit(b->store, who, "refused", clean);
	return -1;
}

/* The hospitals the approval allows, in network order. */
static size_t
scope_sites(
    const struct broker *b, const struct approval *a, const char **sites)
{
	size_t n = 0;

	for (size_t i = 0; i < b->net->nsites; i++) {
		const struct site *s = &b->net->sites[i];
		char cons[8];

		snprintf(cons, sizeof(cons), "%d", s->consortium);
		if (approval_site_allowed(a, s->id, cons))
			sites[n++] = s->id;
	}
	return n;
}

static int
new_query_id(char *out, size_t outlen)
{
	unsigned char r[8];
	char hex[17];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	hex_encode(r, sizeof(r), hex);
	snprintf(out, outlen, "q-%s", hex);
	return 0;
}

int
submit_handle(struct broker *b, const char *who, const Tally__Submit *s,
    struct submit_ack *ack, char *err, size_t errlen)
{
	struct approval a;
	struct approval_ctx ctx;
	struct store_query sq;
	Tally__Query *q;
	uint8_t digest[32], *abytes;
	const char **sites;
	size_t nsites, alen;
	int rc = -1;

	if (!s->has_query || s->query.len == 0 ||
	    s->query.len > QUERY_MAX_BYTES || s->approval == NULL) {
		errf(
		    err, errlen, "a submission needs a query and its approval");
		return refuse(b, who, err);
	}
	if ((q = query_unpack(s->query.data, s->query.len, err, errlen)) ==
	    NULL)
		return refuse(b, who, err);
	SHA256(s->query.data, s->query.len, digest);
	if (approval_verify(s->approval, b->drb, b->ndrb, &a, err, errlen) ==
	    -1)
		goto done;
	ctx.query_sha256 = digest;
	ctx.researcher = who;
	ctx.site = ctx.consortium = NULL;
	ctx.now = wall_ms() / 1000;
	if (approval_check(&a, &ctx, err, errlen) == -1)
		goto done;
	if (a.min_cell > SUPPRESS_MAX_K) {
		/* No node could apply it, and no result could be pooled. */
		errf(err, errlen, "approval's min_cell %u is above %u",
		    a.min_cell, SUPPRESS_MAX_K);
		goto done;
	}
	if ((sites = calloc(b->net->nsites, sizeof(*sites))) == NULL) {
		errf(err, errlen, "out of memory");
		goto done;
	}
	if ((nsites = scope_sites(b, &a, sites)) == 0) {
		errf(err, errlen,
		    "no hospital of this network is in the "
		    "approval's scope");
		free(sites);
		goto done;
	}
	memset(&sq, 0, sizeof(sq));
	if (new_query_id(sq.id, sizeof(sq.id)) == -1 ||
	    (alen = tally__signed_approval__get_packed_size(s->approval)) >
		2 * APPROVAL_MAX_BYTES ||
	    (abytes = malloc(alen)) == NULL) {
		errf(err, errlen, "internal error");
		free(sites);
		goto done;
	}
	tally__signed_approval__pack(s->approval, abytes);
	strlcpy(sq.researcher, who, sizeof(sq.researcher));
	strlcpy(sq.project, a.project, sizeof(sq.project));
	memcpy(sq.approval_id, a.id, 32);
	sq.query = s->query.data;
	sq.query_len = s->query.len;
	sq.approval = abytes;
	sq.approval_len = alen;
	sq.submitted_ms = wall_ms();
	sq.deadline_ms =
	    sq.submitted_ms + (uint64_t)b->cfg.query_deadline_s * 1000;
	sq.state = TALLY__QUERY_STATE__QUERY_RUNNING;
	sq.by_site = q->has_by_site && q->by_site;
	sq.min_cell = a.min_cell;
	sq.max_runs = a.max_runs;
	rc = store_query_add(b->store, &sq, sites, nsites, err, errlen);
	free(abytes);
	free(sites);
	if (rc == 0) {
		strlcpy(ack->query_id, sq.id, sizeof(ack->query_id));
		ack->sites = (unsigned)nsites;
		log_info("accepted %s from %s (project %s, %zu sites)", sq.id,
		    who, sq.project, nsites);
	}
done:
	query_free(q);
	return rc == 0 ? 0 : refuse(b, who, err);
}
