/*
 * seeds.c — writes the seed corpora of the fuzz targets (committed under
 * fuzz/corpus/); not a fuzz target. Rerun after a format change:
 *
 *   make fuzz && build/fuzz/seeds fuzz/corpus
 *
 * chan_frames: a real ClientHello, a whole client handshake flight, and
 * the other header kinds. wire_decode: one Envelope of each common body.
 * query_json: the packed form of each docs/examples query (their JSON is
 * committed as it is). approval_parse: the fixture documents of
 * approval_fixture.h. table_proto: suppressed tables as nodes send them,
 * alone and in pairs. result_proto: Result messages as the broker sends
 * them, pooled from those tables. (csv_read's and conf_load's seeds are
 * committed by hand.)
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "approval_fixture.h"
#include "chan_impl.h"
#include "log.h"
#include "pki.h"
#include "pool.h"
#include "query.h"
#include "result.h"
#include "suppress.h"
#include "util.h"
#include "wire.h"

static const char *out;

static void
put(const char *target, const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", out, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out, target, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
		fatal("%s", path);
}

/* Appends one chan_frames record. */
static size_t
record(uint8_t *dst, int rid, int mode, const void *data, size_t len)
{
	dst[0] = (uint8_t)rid;
	dst[1] = (uint8_t)mode;
	dst[2] = (uint8_t)(len & 0xff);
	dst[3] = (uint8_t)(len >> 8);
	memcpy(dst + 4, data, len);
	return 4 + len;
}

static void
frames(void)
{
	struct pki_issue_req b = { ROLE_BROKER, "broker", 0, 0, 0 };
	struct pki_issue_req n = { ROLE_NODE, "snuh", 0, 0, 0 };
	char dir[] = "/tmp/fuzz-seeds.XXXXXX", p[4][256], err[512];
	static uint8_t buf[65536], seed[200000];
	struct tls_ctx *sc, *cc;
	struct tls *s, *c;
	size_t len, k = 0;

	if (mkdtemp(dir) == NULL ||
	    pki_ca_init(dir, "fuzz", PKI_CA_DAYS, err, sizeof(err)) == -1 ||
	    pki_issue(dir, &b, NULL, 0, err, sizeof(err)) == -1 ||
	    pki_issue(dir, &n, NULL, 0, err, sizeof(err)) == -1)
		fatalx("%s", err);
	snprintf(p[0], 256, "%s/ca.crt", dir);
	snprintf(p[1], 256, "%s/crl.pem", dir);
	snprintf(p[2], 256, "%s/broker.crt", dir);
	snprintf(p[3], 256, "%s/broker.key", dir);
	sc = tls_ctx_new(TLS_SERVER, p[0], p[1], p[2], p[3], err, sizeof(err));
	snprintf(p[2], 256, "%s/snuh.crt", dir);
	snprintf(p[3], 256, "%s/snuh.key", dir);
	cc = tls_ctx_new(TLS_CLIENT, p[0], p[1], p[2], p[3], err, sizeof(err));
	if (sc == NULL || cc == NULL)
		fatalx("%s", err);
	s = tls_new(sc);
	c = tls_new(cc);

	/* The ClientHello alone, on two connections. */
	tls_handshake(c);
	len = tls_take(c, buf, sizeof(buf));
	k = record(seed, 1, 0, buf, len);
	put("chan_frames", "client-hello", seed, k);
	k += record(seed + k, 2, 4, buf, len);
	put("chan_frames", "two-hellos", seed, k);

	/* A whole client side of a handshake, and then some data. */
	tls_feed(s, buf, len);
	k = record(seed, 1, 0, buf, len);
	tls_handshake(s);
	len = tls_take(s, buf, sizeof(buf));
	tls_feed(c, buf, len);
	tls_handshake(c);
	{
		uint8_t hello[MSG_HDR_LEN] = { 0, 0, 0, 0, MSG_HELLO };
		be64_put(hello + 5, 42);
		be64_put(hello + 13, CHAN_INNER_VERSION);
		tls_write(c, hello, sizeof(hello));
	}
	len = tls_take(c, buf, sizeof(buf));
	k += record(seed + k, 1, 0, buf, len);
	put("chan_frames", "handshake", seed, k);

	/* The other header kinds, junk and a plain-text client. */
	k = record(
	    seed, 3, 1, "\x01\x01\x00\x00\x00\x00\x00\x00\x00\x07xyz", 13);
	k += record(seed + k, 3, 2, "", 0);
	k += record(seed + k, 4, 0x13, "\x16\x03\x01\x00\x05\x01", 6);
	k += record(seed + k, 5, 0, "count KCD8:I48 at snuh", 22);
	put("chan_frames", "kinds", seed, k);

	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	snprintf((char *)buf, sizeof(buf), "rm -rf '%s'", dir);
	if (system((char *)buf) != 0)
		log_warnx("could not remove %s", dir);
}

static void
envelope(const char *name, Tally__Envelope *env)
{
	uint8_t *buf;
	size_t len;

	env->has_request_id = 1;
	env->request_id = 7;
	if ((buf = wire_encode(env, 0, &len)) == NULL)
		fatalx("encode %s", name);
	put("wire_decode", name, buf, len);
	free(buf);
}

static void
envelopes(void)
{
	Tally__Envelope e = TALLY__ENVELOPE__INIT;
	Tally__Hello h = TALLY__HELLO__INIT;
	Tally__TableRows tr = TALLY__TABLE_ROWS__INIT, *trs[1] = { &tr };
	Tally__Task t = TALLY__TASK__INIT;
	Tally__Query q = TALLY__QUERY__INIT;
	Tally__Criterion cr[2] = { TALLY__CRITERION__INIT,
		TALLY__CRITERION__INIT };
	Tally__Criterion *crs[2] = { &cr[0], &cr[1] };
	Tally__SignedApproval sa = TALLY__SIGNED_APPROVAL__INIT;
	Tally__TaskResult r = TALLY__TASK_RESULT__INIT;
	Tally__Table tb = TALLY__TABLE__INIT;
	Tally__Cell cell = TALLY__CELL__INIT, *cells[1] = { &cell };
	Tally__Error er = TALLY__ERROR__INIT;
	char *codes[2] = { "KCD8:I48*", "ICD10:I48*" },
	     *key[2] = { "F", "60-69" };
	uint32_t kids[1] = { 1 };
	uint8_t qbuf[1024], sig[64] = { 0 };
	Tally__Stratum strata[2] = { TALLY__STRATUM__STRATUM_SEX,
		TALLY__STRATUM__STRATUM_AGE_BAND };

	h.software = "tally-node 0.1.0";
	h.has_min_cell = 1;
	h.min_cell = 10;
	tr.table = "person";
	tr.has_rows = 1;
	tr.rows = 123456;
	h.n_tables = 1;
	h.tables = trs;
	e.body_case = TALLY__ENVELOPE__BODY_HELLO;
	e.hello = &h;
	envelope("hello", &e);

	cr[0].has_kind = 1;
	cr[0].kind = TALLY__KIND__KIND_ALL;
	cr[0].n_children = 1;
	cr[0].children = kids;
	cr[1].has_kind = 1;
	cr[1].kind = TALLY__KIND__KIND_DIAGNOSIS;
	cr[1].n_codes = 2;
	cr[1].codes = codes;
	cr[1].has_window_from = cr[1].has_window_to = 1;
	cr[1].window_from = -365;
	cr[1].window_to = 30;
	q.title = "AF";
	q.n_criteria = 2;
	q.criteria = crs;
	q.n_strata = 2;
	q.strata = strata;
	t.task_id = "t-1";
	t.query_id = "q-1";
	t.has_query = 1;
	t.query.len = tally__query__pack(&q, qbuf);
	t.query.data = qbuf;
	sa.has_signature = 1;
	sa.signature.len = sizeof(sig);
	sa.signature.data = sig;
	sa.key_id = "drb";
	t.approval = &sa;
	e.body_case = TALLY__ENVELOPE__BODY_TASK;
	e.task = &t;
	envelope("task", &e);

	cell.n_key = 2;
	cell.key = key;
	cell.has_state = cell.has_count = 1;
	cell.count = 412;
	tb.n_strata = 2;
	tb.strata = strata;
	tb.n_cells = 1;
	tb.cells = cells;
	tb.total = &cell;
	r.task_id = "t-1";
	r.has_state = 1;
	r.state = TALLY__TASK_STATE__TASK_DONE;
	r.table = &tb;
	e.body_case = TALLY__ENVELOPE__BODY_TASK_RESULT;
	e.task_result = &r;
	envelope("task-result", &e);

	er.has_code = 1;
	er.code = TALLY__ERROR_CODE__ERROR_APPROVAL;
	er.reason = "approval expired";
	e.body_case = TALLY__ENVELOPE__BODY_ERROR;
	e.error = &er;
	envelope("error", &e);
}

/* The packed form of each example query. */
static void
queries(void)
{
	glob_t g;
	char name[256], err[256];

	if (glob("docs/examples/*.json", 0, NULL, &g) != 0)
		fatalx("docs/examples/*.json: run from the top directory");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		Tally__Query *q;
		uint8_t *b;
		size_t len;
		char *text;

		if (file_read(g.gl_pathv[i], QUERY_MAX_BYTES, &text, &len, err,
			sizeof(err)) == -1 ||
		    query_from_json(text, len, &q, err, sizeof(err)) == -1 ||
		    (b = query_pack(q, &len)) == NULL)
			fatalx("%s: %s", g.gl_pathv[i], err);
		snprintf(name, sizeof(name), "packed-%s",
		    strrchr(g.gl_pathv[i], '/') + 1);
		name[strlen(name) - 5] = '\0';
		put("query_json", name, b, len);
		free(b);
		free(text);
		query_free(q);
	}
	globfree(&g);
}

static void
approvals(void)
{
	static const char *const names[FIXTURE_DOCS] = { "drb-a", "drb-b",
		"wrong-signer" };

	for (int i = 0; i < FIXTURE_DOCS; i++) {
		char *doc = fixture_doc(i);

		put("approval_parse", names[i], doc, strlen(doc));
		free(doc);
	}
}

/* A node's released table: counts by sex and age band, suppressed at k. */
static struct table *
node_table(int nstrata, uint64_t scale, unsigned k)
{
	static const char *const sex[2] = { "F", "M" };
	static const char *const band[4] = { "40-49", "50-59", "60-69", "90+" };
	static const int strata[2] = { TALLY__STRATUM__STRATUM_SEX,
		TALLY__STRATUM__STRATUM_AGE_BAND };
	struct suppress_policy pol = { k, 1 };
	struct table *t = table_new(strata, nstrata);
	char err[256];

	for (int i = 0; nstrata > 0 && i < 8; i++) {
		const char *key[2] = { sex[i & 1], band[i >> 1] };

		table_get(t, key)->count = scale * (uint64_t)(i * i + 1);
	}
	t->total.count = nstrata == 0 ? scale * 7 : 0;
	if (suppress_table(t, &pol, err, sizeof(err)) == -1)
		fatalx("seed table: %s", err);
	return t;
}

/* [k][len u16 le][table A][table B] */
static void
tables(const char *name, unsigned k, struct table *a, struct table *b)
{
	static uint8_t buf[65536];
	Tally__Table *ma = table_to_proto(a), *mb = NULL;
	size_t alen, blen = 0;

	alen = tally__table__get_packed_size(ma);
	if (b != NULL) {
		mb = table_to_proto(b);
		blen = tally__table__get_packed_size(mb);
	}
	if (3 + alen + blen > sizeof(buf))
		fatalx("seed table too large");
	buf[0] = (uint8_t)(k - 1);
	buf[1] = (uint8_t)(alen & 0xff);
	buf[2] = (uint8_t)(alen >> 8);
	tally__table__pack(ma, buf + 3);
	if (mb != NULL)
		tally__table__pack(mb, buf + 3 + alen);
	put("table_proto", name, buf, 3 + alen + blen);
	table_proto_free(ma);
	table_proto_free(mb);
	table_free(a);
	table_free(b);
}

/* A Result of the pooled tables a and b (freed), with per-site tables
 * if by_site, and one site that failed. */
static void
result(
    const char *name, unsigned k, struct table *a, struct table *b, int by_site)
{
	Tally__Result r = TALLY__RESULT__INIT;
	Tally__SiteTable st[2], *stp[2] = { &st[0], &st[1] };
	Tally__SiteOutcome o[3], *op[3] = { &o[0], &o[1], &o[2] };
	static const char *const ids[3] = { "kuh", "snuh", "kims-eye" };
	struct site_table *sites = NULL;
	struct table *pooled;
	struct pool *p = pool_new(a->strata, a->nstrata, k);
	size_t n = 0, len;
	uint8_t *buf;
	char err[256];

	if (p == NULL || pool_add(p, "snuh", a, err, sizeof(err)) == -1 ||
	    pool_add(p, "kuh", b, err, sizeof(err)) == -1 ||
	    pool_finish(p, by_site, &pooled, by_site ? &sites : NULL,
		by_site ? &n : NULL, err, sizeof(err)) == -1)
		fatalx("seed result: %s", err);
	r.query_id = "q-7f3a";
	r.has_state = 1;
	r.state = TALLY__QUERY_STATE__QUERY_PARTIAL;
	r.pooled = table_to_proto(pooled);
	for (size_t i = 0; i < n; i++) {
		tally__site_table__init(&st[i]);
		st[i].site = sites[i].site;
		st[i].table = table_to_proto(sites[i].table);
	}
	r.n_by_site = n;
	r.by_site = stp;
	for (int i = 0; i < 3; i++) {
		tally__site_outcome__init(&o[i]);
		o[i].site = (char *)ids[i];
		o[i].has_state = 1;
		o[i].state = i < 2 ? TALLY__TASK_STATE__TASK_DONE
				   : TALLY__TASK_STATE__TASK_TIMED_OUT;
	}
	r.n_sites = 3;
	r.sites = op;
	len = tally__result__get_packed_size(&r);
	if ((buf = malloc(len)) == NULL)
		fatal("seed result");
	tally__result__pack(&r, buf);
	put("result_proto", name, buf, len);
	free(buf);
	table_proto_free(r.pooled);
	for (size_t i = 0; i < n; i++)
		table_proto_free(st[i].table);
	pool_sites_free(sites, n);
	table_free(pooled);
	pool_free(p);
	table_free(a);
	table_free(b);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds CORPUS-DIR\n");
		return 2;
	}
	log_init("seeds", 0, LOG_TO_STDERR);
	out = argv[1];
	mkdir(out, 0755);
	frames();
	envelopes();
	queries();
	approvals();
	tables("one-site", 10, node_table(2, 3, 10), NULL);
	tables("two-sites", 10, node_table(2, 3, 10), node_table(2, 5, 10));
	tables("one-stratum", 5, node_table(1, 2, 5), node_table(1, 1, 5));
	tables("no-strata", 10, node_table(0, 3, 10), node_table(0, 1, 10));
	result("pooled", 10, node_table(2, 3, 10), node_table(2, 5, 10), 0);
	result("by-site", 10, node_table(2, 3, 10), node_table(2, 5, 10), 1);
	result("one-stratum", 5, node_table(1, 2, 5), node_table(1, 1, 5), 1);
	return 0;
}
