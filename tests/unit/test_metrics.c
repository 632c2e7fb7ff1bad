/*
 * test_metrics.c — /metrics in Prometheus text format 0.0.4, checked by a
 * small validator of the format's rules (itself tested against broken
 * examples): HELP and TYPE before each family's samples, one group per
 * family, label escaping that round-trips, cumulative histogram buckets
 * ending in +Inf equal to _count; values that follow the snapshot; and no
 * patient or row counts.
 */
#include "testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "status.h"
#include "test_status.h"

#define MAX_FAM	   64
#define MAX_LABELS 8

struct sample {
	char name[128];
	size_t nl;
	char key[MAX_LABELS][32];
	char val[MAX_LABELS][512];
	double v;
};

struct family {
	char name[128];
	char type[16];
	int help, done;
};

struct parsed {
	struct sample *s;
	size_t n;
	struct family fam[MAX_FAM];
	size_t nfam;
	char why[256];
};

static int
bad(struct parsed *p, size_t line, const char *what)
{
	snprintf(p->why, sizeof(p->why), "line %zu: %s", line, what);
	return -1;
}

static struct family *
fam_get(struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->nfam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	if (p->nfam == MAX_FAM)
		return NULL;
	memset(&p->fam[p->nfam], 0, sizeof(p->fam[0]));
	strlcpy(p->fam[p->nfam].name, name, sizeof(p->fam[0].name));
	return &p->fam[p->nfam++];
}

static size_t
name_len(const char *s, int label)
{
	size_t n = 0;

	while (isalpha((unsigned char)s[n]) || s[n] == '_' ||
	    (!label && s[n] == ':') || (n > 0 && isdigit((unsigned char)s[n])))
		n++;
	return n;
}

/* Parses {k="v",...}: unescapes values; only \\ \" \n are escapes. */
static int
parse_labels(const char **pp, struct sample *s)
{
	const char *p = *pp;

	if (*p != '{')
		return 0;
	p++;
	while (*p != '}') {
		size_t n = name_len(p, 1), o = 0;

		if (n == 0 || n >= sizeof(s->key[0]) || s->nl == MAX_LABELS ||
		    p[n] != '=' || p[n + 1] != '"')
			return -1;
		memcpy(s->key[s->nl], p, n);
		s->key[s->nl][n] = '\0';
		for (p += n + 2; *p != '"'; p++) {
			char c = *p;

			if (c == '\0' || c == '\n' ||
			    o + 1 >= sizeof(s->val[0]))
				return -1;
			if (c == '\\') {
				c = *++p;
				if (c == 'n')
					c = '\n';
				else if (c != '\\' && c != '"')
					return -1;
			}
			s->val[s->nl][o++] = c;
		}
		s->val[s->nl++][o] = '\0';
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return -1;
	}
	*pp = p + 1;
	return 0;
}

/* The family a sample belongs to (histograms: _bucket, _sum, _count). */
static struct family *
family_of(struct parsed *p, const char *name)
{
	static const char *suffix[] = { "_bucket", "_sum", "_count" };
	char base[128];

	for (size_t i = 0; i < nitems(suffix); i++) {
		size_t n = strlen(name), k = strlen(suffix[i]);
		struct family *f;

		if (n <= k || strcmp(name + n - k, suffix[i]) != 0)
			continue;
		memcpy(base, name, n - k);
		base[n - k] = '\0';
		f = fam_get(p, base);
		if (f != NULL && strcmp(f->type, "histogram") == 0)
			return f;
		if (f != NULL && f->type[0] == '\0' && !f->help)
			p->nfam--; /* not a family after all */
	}
	return fam_get(p, name);
}

static int
parse_line(struct parsed *p, const char *l, size_t ln, struct family **cur)
{
	struct sample *s;
	struct family *f;
	char *end;

	if (strncmp(l, "# HELP ", 7) == 0 || strncmp(l, "# TYPE ", 7) == 0) {
		size_t n = name_len(l + 7, 0);
		char name[128];

		if (n == 0 || n >= sizeof(name) || l[7 + n] != ' ')
			return bad(p, ln, "bad HELP/TYPE line");
		memcpy(name, l + 7, n);
		name[n] = '\0';
		if ((f = fam_get(p, name)) == NULL || f->done)
			return bad(p, ln, "family appears twice");
		if (*cur != NULL && *cur != f)
			(*cur)->done = 1;
		*cur = f;
		if (l[2] == 'H') {
			if (f->help++)
				return bad(p, ln, "second HELP");
			return 0;
		}
		if (f->type[0] != '\0')
			return bad(p, ln, "second TYPE");
		strlcpy(f->type, l + 8 + n, sizeof(f->type));
		if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") &&
		    strcmp(f->type, "histogram") &&
		    strcmp(f->type, "summary") && strcmp(f->type, "untyped"))
			return bad(p, ln, "unknown TYPE");
		return 0;
	}
	if (l[0] == '#' || l[0] == '\0')
		return 0;
	if ((p->s = realloc(p->s, (p->n + 1) * sizeof(*p->s))) == NULL)
		return bad(p, ln, "out of memory");
	s = memset(&p->s[p->n], 0, sizeof(*s));
	{
		size_t n = name_len(l, 0);

		if (n == 0 || n >= sizeof(s->name))
			return bad(p, ln, "bad metric name");
		memcpy(s->name, l, n);
		l += n;
	}
	if (parse_labels(&l, s) == -1)
		return bad(p, ln, "bad labels");
	if (*l++ != ' ')
		return bad(p, ln, "no space before the value");
	if (strcmp(l, "+Inf") == 0)
		s->v = INFINITY;
	else if ((s->v = strtod(l, &end)), end == l || *end != '\0')
		return bad(p, ln, "bad value");
	if ((f = family_of(p, s->name)) == NULL)
		return bad(p, ln, "too many families");
	if (!f->help || f->type[0] == '\0')
		return bad(p, ln, "sample before its family's HELP and TYPE");
	if (f != *cur || f->done)
		return bad(p, ln, "family's samples are not in one group");
	if (strcmp(f->type, "counter") == 0 &&
	    (strlen(s->name) < 6 ||
		strcmp(s->name + strlen(s->name) - 6, "_total") != 0))
		return bad(p, ln, "counter without _total");
	p->n++;
	return 0;
}

static int
check_histograms(struct parsed *p)
{
	for (size_t i = 0; i < p->nfam; i++) {
		char bucket[160], count[160];
		double prev_le = -INFINITY, prev = 0, inf = -1, cnt = -1;

		if (strcmp(p->fam[i].type, "histogram") != 0)
			continue;
		snprintf(bucket, sizeof(bucket), "%s_bucket", p->fam[i].name);
		snprintf(count, sizeof(count), "%s_count", p->fam[i].name);
		for (size_t k = 0; k < p->n; k++) {
			struct sample *s = &p->s[k];
			double le;

			if (strcmp(s->name, count) == 0)
				cnt = s->v;
			if (strcmp(s->name, bucket) != 0)
				continue;
			if (s->nl != 1 || strcmp(s->key[0], "le") != 0)
				return bad(p, k, "bucket without le");
			le = strcmp(s->val[0], "+Inf") == 0 ? INFINITY
							    : atof(s->val[0]);
			if (le <= prev_le || s->v < prev)
				return bad(p, k, "buckets not cumulative");
			prev_le = le;
			prev = s->v;
			if (isinf(le))
				inf = s->v;
		}
		if (inf < 0 || !isinf(prev_le))
			return bad(p, 0, "no le=\"+Inf\" bucket last");
		if (inf != cnt)
			return bad(p, 0, "+Inf bucket differs from _count");
	}
	return 0;
}

/* 0, or -1 with p->why. p->s is freed by the caller. */
static int
check_text(const char *text, struct parsed *p)
{
	struct family *cur = NULL;
	char line[2048];
	size_t ln = 0;

	memset(p, 0, sizeof(*p));
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		return bad(p, 0, "no newline at the end");
	for (const char *l = text; *l != '\0'; ln++) {
		const char *nl = strchr(l, '\n');
		size_t n = (size_t)(nl - l);

		if (n >= sizeof(line))
			return bad(p, ln, "line too long");
		memcpy(line, l, n);
		line[n] = '\0';
		if (parse_line(p, line, ln + 1, &cur) == -1)
			return -1;
		l = nl + 1;
	}
	for (size_t i = 0; i < p->nfam; i++)
		if (!p->fam[i].help || p->fam[i].type[0] == '\0')
			return bad(p, 0, "family without HELP or TYPE");
	return check_histograms(p);
}

static void
check_ok(const char *text, struct parsed *p)
{
	if (check_text(text, p) == -1)
		fail_msg("%s\n%s", p->why, text);
}

/* The value of name{k1=v1[,k2=v2]}; fails the test if absent. */
static double
get(const struct parsed *p, const char *name, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct sample *s = &p->s[i];
		int m1 = k1 == NULL, m2 = k2 == NULL;

		if (strcmp(s->name, name) != 0)
			continue;
		for (size_t k = 0; k < s->nl; k++) {
			m1 |= k1 && !strcmp(s->key[k], k1) &&
			    !strcmp(s->val[k], v1);
			m2 |= k2 && !strcmp(s->key[k], k2) &&
			    !strcmp(s->val[k], v2);
		}
		if (m1 && m2)
			return s->v;
	}
	fail_msg("no sample %s{%s=%s,%s=%s}", name, k1 ? k1 : "", v1 ? v1 : "",
	    k2 ? k2 : "", v2 ? v2 : "");
	return 0;
}

static char *
render(const struct status_snapshot *s)
{
	size_t len;
	char *text = metrics_render(s, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void
format_rules(void **state)
{
	static const char *fams[][2] = { { "tally_broker_uptime_seconds",
					     "gauge" },
		{ "tally_nodes_connected", "gauge" },
		{ "tally_node_up", "gauge" },
		{ "tally_node_heartbeat_age_seconds", "gauge" },
		{ "tally_queries", "gauge" }, { "tally_tasks", "gauge" },
		{ "tally_query_latency_seconds", "histogram" },
		{ "tally_tls_handshake_failures_total", "counter" },
		{ "tally_approvals_refused_total", "counter" },
		{ "tally_node_tasks_total", "counter" } };
	struct status_snapshot s;
	struct parsed p;
	char *text;

	(void)state;
	sample_snapshot(&s);
	text = render(&s);
	check_ok(text, &p);
	for (size_t i = 0; i < nitems(fams); i++) {
		size_t k = 0;

		while (k < p.nfam && strcmp(p.fam[k].name, fams[i][0]) != 0)
			k++;
		if (k == p.nfam || strcmp(p.fam[k].type, fams[i][1]) != 0)
			fail_msg(
			    "family %s %s missing", fams[i][0], fams[i][1]);
	}
	assert_true(get(&p, "tally_broker_uptime_seconds", 0, 0, 0, 0) == 3725);
	assert_true(get(&p, "tally_nodes_connected", 0, 0, 0, 0) == 3);
	assert_true(get(&p, "tally_nodes_missing", 0, 0, 0, 0) == 2);
	assert_true(get(&p, "tally_node_up", "site", "c1-lead", "consortium",
			"1") == 0);
	assert_true(get(&p, "tally_node_up", "site", "c2-lead", "consortium",
			"2") == 1);
	assert_true(get(&p, "tally_node_heartbeat_age_seconds", "site",
			"c2-lead", 0, 0) == 1.5);
	assert_true(isinf(get(
	    &p, "tally_node_heartbeat_age_seconds", "site", "c10-lead", 0, 0)));
	assert_true(get(&p, "tally_node_tasks_total", "site", "c1-b", "outcome",
			"refused") == 3);
	assert_true(get(&p, "tally_node_task_latency_seconds", "site", "c1-b",
			"quantile", "0.95") == 0.25);
	assert_true(get(&p, "tally_queries", "state", "complete", 0, 0) == 120);
	assert_true(get(&p, "tally_tasks", "state", "timed_out", 0, 0) == 61);
	/* Observed: 90 ms, 700 ms twice, 45 s, 9000 s. */
	assert_true(get(&p, "tally_query_latency_seconds_bucket", "le", "0.1",
			0, 0) == 1);
	assert_true(get(&p, "tally_query_latency_seconds_bucket", "le", "0.5",
			0, 0) == 1);
	assert_true(get(&p, "tally_query_latency_seconds_bucket", "le", "1", 0,
			0) == 3);
	assert_true(get(&p, "tally_query_latency_seconds_bucket", "le", "60", 0,
			0) == 4);
	assert_true(get(&p, "tally_query_latency_seconds_bucket", "le", "600",
			0, 0) == 4);
	assert_true(get(&p, "tally_query_latency_seconds_bucket", "le", "+Inf",
			0, 0) == 5);
	assert_true(
	    get(&p, "tally_query_latency_seconds_count", 0, 0, 0, 0) == 5);
	assert_true(
	    fabs(get(&p, "tally_query_latency_seconds_sum", 0, 0, 0, 0) -
		9046.49) < 1e-9);
	assert_true(get(&p, "tally_tls_handshake_failures_total", "reason",
			"certificate revoked", 0, 0) == 4);
	assert_true(get(&p, "tally_approvals_refused_total", "reason",
			"site not listed", 0, 0) == 1);
	assert_non_null(strstr(text,
	    "\ntally_query_latency_seconds_bucket{"
	    "le=\"2.5\"} 3\n"));
	free(p.s);
	free(text);
	status_free(&s);
}

static void
label_escaping(void **state)
{
	const char *reason = "a\\b\"c\nd";
	struct status_snapshot s;
	struct parsed p;
	char *text;

	(void)state;
	sample_snapshot(&s);
	strlcpy(s.refusals[0].reason, reason, sizeof(s.refusals[0].reason));
	strlcpy(s.tls_failures[0].reason, "bad \xff\033 utf8",
	    sizeof(s.tls_failures[0].reason));
	strlcpy(
	    s.nodes[0].software, "say \"hi\"\n", sizeof(s.nodes[0].software));
	text = render(&s);
	assert_non_null(strstr(text, "{reason=\"a\\\\b\\\"c\\nd\"} 2\n"));
	assert_non_null(strstr(text, "software=\"say \\\"hi\\\"\\n\""));
	assert_true(utf8_valid(text, strlen(text)));
	check_ok(text, &p);
	/* What a scraper unescapes is what the broker had. */
	assert_true(get(&p, "tally_approvals_refused_total", "reason", reason,
			0, 0) == 2);
	assert_true(get(&p, "tally_tls_handshake_failures_total", "reason",
			"bad ?? utf8", 0, 0) == 4);
	free(p.s);
	free(text);
	status_free(&s);
}

static void
checker_catches(void **state)
{
	static const char *broken[] = {
		"x 1\n",
		"# TYPE x gauge\nx 1\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"1} 1\n",
		"# HELP x h\n# TYPE x gauge\nx one\n",
		"# HELP x h\n# TYPE x gauge\n# HELP y h\n# TYPE y gauge\n"
		"y 1\nx 1\n",
		"# HELP x h\n# TYPE x counter\nx 1\n",
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		"h_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"
		"h_count 2\n",
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		"h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		"h_sum 1\nh_count 1\n",
		"# HELP x h\n# TYPE x gauge\nx 1",
	};
	struct parsed p;

	(void)state;
	check_ok("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		 "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
	    &p);
	free(p.s);
	for (size_t i = 0; i < nitems(broken); i++) {
		if (check_text(broken[i], &p) == 0)
			fail_msg("checker accepted:\n%s", broken[i]);
		free(p.s);
	}
}

static void
numbers_move(void **state)
{
	struct status_snapshot s;
	struct latency_hist h;
	struct parsed a, b;
	char *t1, *t2;

	(void)state;
	sample_snapshot(&s);
	t1 = render(&s);
	check_ok(t1, &a);
	s.uptime_s += 10;
	s.nodes[2].connected = 0;
	s.nodes[2].heartbeat_age_ms = 7000;
	s.nodes[2].served++;
	s.queries[0]++;
	s.tasks[3] += 5;
	s.tls_failures[0].count++;
	strlcpy(s.refusals[2].reason, "replayed task",
	    sizeof(s.refusals[2].reason));
	s.refusals[2].count = 1;
	s.nrefusals = 3;
	memset(&h, 0, sizeof(h));
	memcpy(h.le_ms, s.latency_le_ms, sizeof(h.le_ms));
	memcpy(h.count, s.latency_count, sizeof(h.count));
	h.sum_ms = s.latency_sum_ms;
	latency_hist_observe(&h, 3000);
	latency_hist_export(&h, &s);
	t2 = render(&s);
	check_ok(t2, &b);
	assert_true(get(&b, "tally_broker_uptime_seconds", 0, 0, 0, 0) ==
	    get(&a, "tally_broker_uptime_seconds", 0, 0, 0, 0) + 10);
	assert_true(get(&b, "tally_nodes_connected", 0, 0, 0, 0) == 2);
	assert_true(get(&b, "tally_node_up", "site", "c1-b", 0, 0) == 0);
	assert_true(get(&a, "tally_node_up", "site", "c1-b", 0, 0) == 1);
	assert_true(get(&b, "tally_node_heartbeat_age_seconds", "site", "c1-b",
			0, 0) == 7);
	assert_true(get(&b, "tally_node_tasks_total", "site", "c1-b", "outcome",
			"served") == 43);
	assert_true(get(&b, "tally_queries", "state", "running", 0, 0) == 3);
	assert_true(get(&b, "tally_tasks", "state", "done", 0, 0) == 36);
	assert_true(get(&b, "tally_tls_handshake_failures_total", "reason",
			"certificate revoked", 0, 0) == 5);
	assert_true(get(&b, "tally_approvals_refused_total", "reason",
			"replayed task", 0, 0) == 1);
	assert_true(get(&b, "tally_query_latency_seconds_bucket", "le", "2.5",
			0, 0) == 3);
	assert_true(get(&b, "tally_query_latency_seconds_bucket", "le", "5", 0,
			0) == 4);
	assert_true(
	    get(&b, "tally_query_latency_seconds_count", 0, 0, 0, 0) == 6);
	assert_true(
	    fabs(get(&b, "tally_query_latency_seconds_sum", 0, 0, 0, 0) -
		9049.49) < 1e-9);
	free(a.s);
	free(b.s);
	free(t1);
	free(t2);
	status_free(&s);
}

static void
no_patient_data(void **state)
{
	struct status_snapshot s;
	char *text;

	(void)state;
	sample_snapshot(&s);
	text = render(&s);
	/* The person and visit row counts are in the snapshot, not here. */
	assert_null(strstr(text, "987654321"));
	assert_null(strstr(text, "person"));
	assert_null(strstr(text, "visit"));
	assert_null(strstr(text, "rows"));
	assert_null(strstr(text, "patient"));
	free(text);
	status_free(&s);
}

static void
empty_snapshot(void **state)
{
	struct status_snapshot s;
	struct parsed p;
	char *text;

	(void)state;
	memset(&s, 0, sizeof(s)); /* not even histogram bounds */
	text = render(&s);
	check_ok(text, &p);
	assert_true(p.nfam >= 15);
	assert_true(get(&p, "tally_nodes", 0, 0, 0, 0) == 0);
	assert_true(
	    get(&p, "tally_query_latency_seconds_count", 0, 0, 0, 0) == 0);
	free(p.s);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_rules),
		cmocka_unit_test(label_escaping),
		cmocka_unit_test(checker_catches),
		cmocka_unit_test(numbers_move),
		cmocka_unit_test(no_patient_data),
		cmocka_unit_test(empty_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
