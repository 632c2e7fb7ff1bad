/*
 * metrics.c — owns the Prometheus rendering of a status snapshot.
 *
 * Every family gets its HELP and TYPE lines before its samples, in one
 * group; label values are cleaned (valid UTF-8, no control characters)
 * and escaped (backslash, double quote, newline). It must never export a
 * count of patients or rows, or anything about a query's content: the
 * families here describe the network's health, nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, cleaned and escaped; the string is at most max bytes. */
static void
put_value(FILE *fp, const char *v, size_t max)
{
	char clean[4 * STATUS_NAME_MAX];
	size_t len = strnlen(v, max), start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != '\n')
			continue;
		/* Newlines survive (escaped); other controls become '?'. */
		status_clean(clean, sizeof(clean), v + start, i - start);
		for (const char *p = clean; *p != '\0'; p++) {
			if (*p == '\\' || *p == '"')
				fputc('\\', fp);
			fputc(*p, fp);
		}
		if (i < len)
			fputs("\\n", fp);
		start = i + 1;
	}
}

#define PUT(fp, field) put_value(fp, field, sizeof(field))

/* A duration as decimal seconds without trailing zeros: 2500 ms "2.5". */
static void
put_seconds(FILE *fp, uint64_t whole, uint64_t frac, int digits)
{
	char f[16];
	int n = digits;

	fprintf(fp, "%llu", (unsigned long long)whole);
	if (frac == 0)
		return;
	snprintf(f, sizeof(f), "%0*llu", digits, (unsigned long long)frac);
	while (n > 0 && f[n - 1] == '0')
		n--;
	fprintf(fp, ".%.*s", n, f);
}

static void
put_ms(FILE *fp, uint64_t ms)
{
	put_seconds(fp, ms / 1000, ms % 1000, 3);
}

static void
put_us(FILE *fp, uint64_t us)
{
	put_seconds(fp, us / 1000000, us % 1000000, 6);
}

/* Where each node stands: connected, missing, heard from, running what. */
static void
node_state_families(FILE *fp, const struct status_snapshot *s)
{
	const struct status_node *n;

	family(fp, "tally_node_up", "gauge",
	    "Whether the hospital node is connected to the broker (1) or not.");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		fputs("tally_node_up{site=\"", fp);
		PUT(fp, n->site);
		fputs("\",consortium=\"", fp);
		PUT(fp, n->consortium);
		fprintf(fp, "\"} %d\n", n->connected != 0);
	}
	family(fp, "tally_node_missing", "gauge",
	    "Whether the node has been away longer than missing_after_s.");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		fputs("tally_node_missing{site=\"", fp);
		PUT(fp, n->site);
		fputs("\",consortium=\"", fp);
		PUT(fp, n->consortium);
		fprintf(fp, "\"} %d\n", n->missing != 0);
	}
	family(fp, "tally_node_heartbeat_age_seconds", "gauge",
	    "Seconds since the broker last heard from the node "
	    "(+Inf: never since the broker started).");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		fputs("tally_node_heartbeat_age_seconds{site=\"", fp);
		PUT(fp, n->site);
		fputs("\"} ", fp);
		if (n->heartbeat_age_ms == STATUS_AGE_NEVER)
			fputs("+Inf", fp);
		else
			put_ms(fp, n->heartbeat_age_ms);
		fputc('\n', fp);
	}
	family(fp, "tally_node_info", "gauge",
	    "The node's software, protocol and Baseline DB snapshot date.");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		fputs("tally_node_info{site=\"", fp);
		PUT(fp, n->site);
		fputs("\",software=\"", fp);
		PUT(fp, n->software);
		fprintf(fp, "\",protocol=\"%u\",snapshot_date=\"", n->protocol);
		PUT(fp, n->snapshot_date);
		fputs("\"} 1\n", fp);
	}
}

/* What each node did: its policy k, tasks by outcome, latency. */
static void
node_work_families(FILE *fp, const struct status_snapshot *s)
{
	static const char *const outcomes[3] = { "served", "refused",
		"failed" };
	static const char *const quantiles[2] = { "0.5", "0.95" };
	const struct status_node *n;

	family(fp, "tally_node_min_cell", "gauge",
	    "The node's policy k: smallest count it releases.");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		fputs("tally_node_min_cell{site=\"", fp);
		PUT(fp, n->site);
		fprintf(fp, "\"} %u\n", n->min_cell);
	}
	family(fp, "tally_node_tasks_total", "counter",
	    "Tasks the node answered, by outcome.");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		const uint64_t v[3] = { n->served, n->refused, n->failed };

		for (size_t i = 0; i < nitems(v); i++) {
			fputs("tally_node_tasks_total{site=\"", fp);
			PUT(fp, n->site);
			fprintf(fp, "\",outcome=\"%s\"} %llu\n", outcomes[i],
			    (unsigned long long)v[i]);
		}
	}
	family(fp, "tally_node_task_latency_seconds", "gauge",
	    "The node's recent task latency percentiles.");
	for (n = s->nodes; n < s->nodes + s->nnodes; n++) {
		const uint64_t v[2] = { n->latency_p50_us, n->latency_p95_us };

		for (size_t i = 0; i < nitems(v); i++) {
			fputs("tally_node_task_latency_seconds{site=\"", fp);
			PUT(fp, n->site);
			fprintf(fp, "\",quantile=\"%s\"} ", quantiles[i]);
			put_us(fp, v[i]);
			fputc('\n', fp);
		}
	}
}

static void
by_state(FILE *fp, const char *name, const char *help, const uint64_t *v,
    const char *const *names, size_t n)
{
	family(fp, name, "gauge", help);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s{state=\"%s\"} %llu\n", name, names[i],
		    (unsigned long long)v[i]);
}

static void
histogram(FILE *fp, const struct status_snapshot *s)
{
	const char *name = "tally_query_latency_seconds";
	uint64_t prev = 0;

	family(fp, name, "histogram",
	    "Time from a query's submission to its final result.");
	for (size_t i = 0; i < STATUS_LATENCY_BUCKETS; i++) {
		/* Bounds must rise; skip any that do not (unset ones). */
		if (i > 0 && s->latency_le_ms[i] <= prev)
			continue;
		prev = s->latency_le_ms[i];
		fprintf(fp, "%s_bucket{le=\"", name);
		put_ms(fp, s->latency_le_ms[i]);
		fprintf(
		    fp, "\"} %llu\n", (unsigned long long)s->latency_count[i]);
	}
	fprintf(fp, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)s->latency_count[STATUS_LATENCY_BUCKETS]);
	fprintf(fp, "%s_sum ", name);
	put_ms(fp, s->latency_sum_ms);
	fprintf(fp, "\n%s_count %llu\n", name,
	    (unsigned long long)s->latency_count[STATUS_LATENCY_BUCKETS]);
}

static void
reasons(FILE *fp, const char *name, const char *help,
    const struct status_reason *r, size_t n)
{
	family(fp, name, "counter", help);
	for (size_t i = 0; i < n && i < STATUS_MAX_REASONS; i++) {
		fprintf(fp, "%s{reason=\"", name);
		PUT(fp, r[i].reason);
		fprintf(fp, "\"} %llu\n", (unsigned long long)r[i].count);
	}
}

char *
metrics_render(const struct status_snapshot *s, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, up = 0, missing = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	for (size_t i = 0; i < s->nnodes; i++) {
		up += s->nodes[i].connected != 0;
		missing += s->nodes[i].missing != 0;
	}
	family(fp, "tally_broker_uptime_seconds", "gauge",
	    "Seconds since the broker started.");
	fprintf(fp, "tally_broker_uptime_seconds %llu\n",
	    (unsigned long long)s->uptime_s);
	family(fp, "tally_nodes", "gauge", "Hospital nodes the broker knows.");
	fprintf(fp, "tally_nodes %zu\n", s->nnodes);
	family(fp, "tally_nodes_connected", "gauge", "Nodes connected now.");
	fprintf(fp, "tally_nodes_connected %zu\n", up);
	family(fp, "tally_nodes_missing", "gauge",
	    "Nodes away longer than missing_after_s.");
	fprintf(fp, "tally_nodes_missing %zu\n", missing);
	node_state_families(fp, s);
	node_work_families(fp, s);
	by_state(fp, "tally_queries",
	    "Queries in the broker's store, by state.", s->queries,
	    status_query_states, nitems(s->queries));
	by_state(fp, "tally_tasks", "Tasks in the broker's store, by state.",
	    s->tasks, status_task_states, nitems(s->tasks));
	histogram(fp, s);
	reasons(fp, "tally_tls_handshake_failures_total",
	    "TLS handshakes the broker refused or lost, by reason.",
	    s->tls_failures, s->ntls_failures);
	reasons(fp, "tally_approvals_refused_total",
	    "Submissions refused at the approval check, by reason.",
	    s->refusals, s->nrefusals);
	if (ferror(fp)) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	if (lenp != NULL)
		*lenp = len;
	return buf;
}
