/*
 * status_print.c — owns what `tally status` shows: the readable table and
 * the --json document.
 *
 * It renders only what the snapshot holds (it holds no count, query or
 * patient data) and must never write a byte it did not clean: strings
 * come from nodes and the wire, and a terminal obeys escape sequences.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"
#include "util.h"

#define BOLD  "\033[1m"
#define RED   "\033[1;31m"
#define RESET "\033[0m"

enum col {
	C_SITE,
	C_STATE,
	C_HEARTBEAT,
	C_PROTO,
	C_SOFTWARE,
	C_SNAPSHOT,
	C_PERSONS,
	C_K,
	C_TASKS,
	C_LATENCY,
	NCOLS
};

static const char *const col_names[NCOLS] = {
	"SITE",
	"STATE",
	"HEARTBEAT",
	"PROTO",
	"SOFTWARE",
	"SNAPSHOT",
	"PERSONS",
	"K",
	"SERVED/REFUSED/FAILED",
	"P50/P95",
};

/* Right-aligned columns (numbers). */
static const int col_right[NCOLS] = { [C_PERSONS] = 1, [C_K] = 1 };

#define CELL_MAX 96

void
status_fmt_age(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms == STATUS_AGE_NEVER)
		snprintf(buf, len, "never");
	else if (ms < 10000)
		snprintf(buf, len, "%llu.%llus", (unsigned long long)s,
		    (unsigned long long)(ms % 1000 / 100));
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
}

void
status_fmt_us(char *buf, size_t len, uint64_t us)
{
	if (us == 0)
		snprintf(buf, len, "-");
	else if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 10000)
		snprintf(buf, len, "%llu.%llums",
		    (unsigned long long)(us / 1000),
		    (unsigned long long)(us % 1000 / 100));
	else if (us < 10000000)
		snprintf(buf, len, "%llums", (unsigned long long)(us / 1000));
	else
		snprintf(buf, len, "%llus", (unsigned long long)(us / 1000000));
}

/* 1234567 -> "1,234,567" */
void
status_fmt_thousands(char *buf, size_t len, uint64_t v)
{
	char digits[32], out[48];
	size_t nd, o = 0;

	nd = (size_t)snprintf(
	    digits, sizeof(digits), "%llu", (unsigned long long)v);
	for (size_t i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	strlcpy(buf, out, len);
}

static const char *
node_state(const struct status_node *n)
{
	if (n->connected)
		return "up";
	return n->missing ? "MISSING" : "DOWN";
}

int
status_node_rows(const struct status_node *n, const char *table, uint64_t *rows)
{
	for (size_t i = 0; i < n->ntables && i < STATUS_MAX_TABLES; i++)
		if (strncmp(n->tables[i].table, table,
			sizeof(n->tables[i].table)) == 0) {
			*rows = n->tables[i].rows;
			return 1;
		}
	return 0;
}

#define CLEANF(dst, field)                                                     \
	status_clean(dst, CELL_MAX, field, strnlen(field, sizeof(field)))

static void
node_cells(const struct status_node *n, char cells[NCOLS][CELL_MAX])
{
	char a[32], b[32];
	uint64_t rows;

	CLEANF(cells[C_SITE], n->site);
	strlcpy(cells[C_STATE], node_state(n), CELL_MAX);
	status_fmt_age(cells[C_HEARTBEAT], CELL_MAX, n->heartbeat_age_ms);
	if (n->protocol == 0)
		strlcpy(cells[C_PROTO], "-", CELL_MAX);
	else
		snprintf(cells[C_PROTO], CELL_MAX, "v%u", n->protocol);
	CLEANF(cells[C_SOFTWARE], n->software);
	CLEANF(cells[C_SNAPSHOT], n->snapshot_date);
	for (int c = C_SOFTWARE; c <= C_SNAPSHOT; c++)
		if (cells[c][0] == '\0')
			strlcpy(cells[c], "-", CELL_MAX);
	if (status_node_rows(n, "person", &rows))
		status_fmt_thousands(cells[C_PERSONS], CELL_MAX, rows);
	else
		strlcpy(cells[C_PERSONS], "-", CELL_MAX);
	if (n->min_cell == 0)
		strlcpy(cells[C_K], "-", CELL_MAX);
	else
		snprintf(cells[C_K], CELL_MAX, "%u", n->min_cell);
	snprintf(cells[C_TASKS], CELL_MAX, "%llu/%llu/%llu",
	    (unsigned long long)n->served, (unsigned long long)n->refused,
	    (unsigned long long)n->failed);
	status_fmt_us(a, sizeof(a), n->latency_p50_us);
	status_fmt_us(b, sizeof(b), n->latency_p95_us);
	snprintf(cells[C_LATENCY], CELL_MAX, "%s/%s", a, b);
}

/* Display width: code points (the cells are clean UTF-8). */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
put_cell(FILE *fp, const char *text, size_t w, int right, const char *color)
{
	size_t pad = w - width(text);

	if (right)
		fprintf(fp, "%*s", (int)pad, "");
	fprintf(fp, "%s%s%s", color ? color : "", text, color ? RESET : "");
	if (!right)
		fprintf(fp, "%*s", (int)pad, "");
}

static void
put_row(FILE *fp, char cells[NCOLS][CELL_MAX], const size_t w[NCOLS],
    const char *state_color)
{
	fputs("  ", fp);
	for (int c = 0; c < NCOLS; c++) {
		if (c > 0)
			fputs("  ", fp);
		put_cell(fp, cells[c], c == NCOLS - 1 ? width(cells[c]) : w[c],
		    col_right[c], c == C_STATE ? state_color : NULL);
	}
	fputc('\n', fp);
}

static void
print_nodes(
    FILE *fp, const struct status_snapshot *s, const size_t *order, int color)
{
	char cells[NCOLS][CELL_MAX], cons[CELL_MAX], lead[CELL_MAX];
	size_t w[NCOLS];
	const char *prev = NULL;

	for (int c = 0; c < NCOLS; c++)
		w[c] = width(col_names[c]);
	for (size_t i = 0; i < s->nnodes; i++) {
		node_cells(&s->nodes[i], cells);
		for (int c = 0; c < NCOLS; c++)
			if (width(cells[c]) > w[c])
				w[c] = width(cells[c]);
	}
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct status_node *n = &s->nodes[order[i]];
		const char *sc = NULL;

		if (prev == NULL ||
		    strncmp(prev, n->consortium, sizeof(n->consortium)) != 0) {
			CLEANF(cons, n->consortium);
			CLEANF(lead, n->site);
			fprintf(fp, "%sconsortium %s%s%s%s\n", prev ? "\n" : "",
			    cons[0] ? cons : "?", n->lead ? " (lead " : "",
			    n->lead ? lead : "", n->lead ? ")" : "");
			for (int c = 0; c < NCOLS; c++)
				strlcpy(cells[c], col_names[c], CELL_MAX);
			put_row(fp, cells, w, NULL);
			prev = n->consortium;
		}
		node_cells(n, cells);
		if (color && !n->connected)
			sc = n->missing ? RED : BOLD;
		put_row(fp, cells, w, sc);
	}
}

void
status_print(FILE *fp, const struct status_snapshot *s, int color)
{
	size_t *order = status_order(s);
	size_t up = 0, missing = 0;
	char age[32];

	if (color < 0)
		color = isatty(fileno(fp)) && getenv("NO_COLOR") == NULL;
	if (order != NULL) {
		print_nodes(fp, s, order, color);
		fputc('\n', fp);
	} else if (s->nnodes > 0)
		fprintf(fp, "(out of memory listing %zu nodes)\n\n", s->nnodes);
	for (size_t i = 0; i < s->nnodes; i++) {
		up += s->nodes[i].connected != 0;
		missing += s->nodes[i].missing != 0;
	}
	status_fmt_age(age, sizeof(age),
	    s->uptime_s < UINT64_MAX / 1000 ? s->uptime_s * 1000
					    : UINT64_MAX - 1);
	fprintf(
	    fp, "broker up %s; %zu of %zu nodes connected", age, up, s->nnodes);
	if (missing > 0)
		fprintf(fp, ", %s%zu missing%s", color ? RED : "", missing,
		    color ? RESET : "");
	fprintf(fp, "\nqueries:");
	for (size_t i = 0; i < nitems(s->queries); i++)
		fprintf(fp, "%s %llu %s", i ? "," : "",
		    (unsigned long long)s->queries[i], status_query_states[i]);
	fprintf(fp, "\ntasks:  ");
	for (size_t i = 0; i < nitems(s->tasks); i++)
		fprintf(fp, "%s %llu %s", i ? "," : "",
		    (unsigned long long)s->tasks[i], status_task_states[i]);
	fputc('\n', fp);
	free(order);
}

/* ----------------------------------------------------------------- JSON */

static json_t *
jint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *
jstr(const char *field, size_t max)
{
	char buf[256];

	status_clean(buf, sizeof(buf), field, strnlen(field, max));
	return json_string(buf);
}

#define JSTR(field) jstr(field, sizeof(field))

/* Sets o[key] = v; remembers a failure in *bad (v NULL: out of memory). */
static void
set(json_t *o, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		*bad = 1;
}

static json_t *
node_json(const struct status_node *n)
{
	json_t *o = json_object(), *t = json_object();
	int bad = o == NULL || t == NULL;
	char name[32];

	if (bad) {
		json_decref(o);
		json_decref(t);
		return NULL;
	}
	set(o, "site", JSTR(n->site), &bad);
	set(o, "name", JSTR(n->name_en), &bad);
	set(o, "consortium", JSTR(n->consortium), &bad);
	set(o, "lead", json_boolean(n->lead), &bad);
	set(o, "connected", json_boolean(n->connected), &bad);
	set(o, "heartbeat_age_ms",
	    n->heartbeat_age_ms == STATUS_AGE_NEVER ? json_null()
						    : jint(n->heartbeat_age_ms),
	    &bad);
	set(o, "protocol", jint(n->protocol), &bad);
	set(o, "software", JSTR(n->software), &bad);
	set(o, "snapshot_date", JSTR(n->snapshot_date), &bad);
	for (size_t i = 0; i < n->ntables && i < STATUS_MAX_TABLES; i++) {
		CLEANF(name, n->tables[i].table);
		set(t, name, jint(n->tables[i].rows), &bad);
	}
	set(o, "tables", t, &bad);
	set(o, "min_cell", jint(n->min_cell), &bad);
	set(o, "served", jint(n->served), &bad);
	set(o, "refused", jint(n->refused), &bad);
	set(o, "failed", jint(n->failed), &bad);
	set(o, "latency_p50_us", jint(n->latency_p50_us), &bad);
	set(o, "latency_p95_us", jint(n->latency_p95_us), &bad);
	set(o, "missing", json_boolean(n->missing), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
states_json(const uint64_t *v, const char *const *names, size_t n)
{
	json_t *o = json_object();
	int bad = o == NULL;

	for (size_t i = 0; !bad && i < n; i++)
		set(o, names[i], jint(v[i]), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
status_to_json(const struct status_snapshot *s, int pretty)
{
	json_t *doc = json_object(), *nodes = json_array();
	size_t *order = status_order(s);
	int bad =
	    doc == NULL || nodes == NULL || (order == NULL && s->nnodes > 0);
	char *out = NULL;

	for (size_t i = 0; !bad && i < s->nnodes; i++) {
		json_t *n = node_json(&s->nodes[order[i]]);

		if (n == NULL || json_array_append_new(nodes, n) == -1)
			bad = 1;
	}
	if (!bad) {
		set(doc, "uptime_s", jint(s->uptime_s), &bad);
		set(doc, "nodes", nodes, &bad);
		nodes = NULL;
		set(doc, "queries",
		    states_json(
			s->queries, status_query_states, nitems(s->queries)),
		    &bad);
		set(doc, "tasks",
		    states_json(s->tasks, status_task_states, nitems(s->tasks)),
		    &bad);
	}
	if (!bad)
		out = json_dumps(doc,
		    (pretty ? JSON_INDENT(2) : JSON_COMPACT) |
			JSON_PRESERVE_ORDER);
	json_decref(nodes);
	json_decref(doc);
	free(order);
	return out;
}
