/*
 * test_status_print.c — what `tally status` shows: the table (grouping,
 * markers, colour only on request, nothing unclean reaches a terminal)
 * and the --json document, parsed back with jansson.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "test_status.h"

static char *
print(const struct status_snapshot *s, int color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	status_print(fp, s, color);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* The line of out that starts (after spaces) with word, or NULL. */
static const char *
line_of(const char *out, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = out; p != NULL && *p != '\0';) {
		const char *q = p;

		while (*q == ' ')
			q++;
		if (strncmp(q, word, n) == 0 && q[n] == ' ')
			return q;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

static int
line_has(const char *line, const char *what)
{
	const char *end = strchr(line, '\n');
	const char *hit = strstr(line, what);

	return hit != NULL && (end == NULL || hit < end);
}

static void
table_plain(void **state)
{
	struct status_snapshot s;
	const char *l;
	char *out;

	(void)state;
	sample_snapshot(&s);
	out = print(&s, 0);
	assert_null(strchr(out, '\033'));
	/* Groups in numeric order, lead named, lead first. */
	l = strstr(out, "consortium 1 (lead c1-lead)\n");
	assert_non_null(l);
	assert_true(l < strstr(out, "consortium 2 (lead c2-lead)\n"));
	assert_true(strstr(out, "consortium 2 (") <
	    strstr(out, "consortium 10 (lead c10-lead)\n"));
	assert_true(line_of(out, "c1-lead") < line_of(out, "c1-b"));
	assert_true(line_of(out, "c10-lead") < line_of(out, "c10-a"));
	assert_non_null(strstr(out, "  SITE "));
	/* Every column of a connected node. */
	l = line_of(out, "c2-lead");
	assert_non_null(l);
	assert_true(line_has(l, " up "));
	assert_true(line_has(l, " 1.5s "));
	assert_true(line_has(l, " v1 "));
	assert_true(line_has(l, " tally-node 0.1.0 "));
	assert_true(line_has(l, " 2024-12-31 "));
	assert_true(line_has(l, " 987,654,321 "));
	assert_true(line_has(l, " 10 "));
	assert_true(line_has(l, " 42/3/1 "));
	assert_true(line_has(l, " 12ms/250ms\n"));
	/* Down, missing, never seen. */
	l = line_of(out, "c1-lead");
	assert_true(line_has(l, " DOWN "));
	assert_true(line_has(l, " 45s "));
	l = line_of(out, "c2-b");
	assert_true(line_has(l, " MISSING "));
	assert_true(line_has(l, " 2h00m "));
	l = line_of(out, "c10-lead");
	assert_true(line_has(l, " MISSING "));
	assert_true(line_has(l, " never "));
	assert_true(line_has(l, " - ")); /* no protocol, software, rows */
	/* Columns line up: every node's STATE starts where the header's does.
	 */
	{
		const char *hdr = strstr(out, "  SITE");
		size_t col = (size_t)(strstr(hdr, "STATE") - hdr);
		const char *sites[] = { "c1-b", "c2-b", "c10-a", "c10-lead" };

		for (size_t i = 0; i < nitems(sites); i++) {
			const char *bol = line_of(out, sites[i]);

			while (bol > out && bol[-1] != '\n')
				bol--;
			assert_true(bol[col] != ' ');
			assert_true(bol[col - 1] == ' ');
		}
	}
	/* The footer. */
	assert_non_null(strstr(out,
	    "broker up 1h02m; 3 of 6 nodes connected, "
	    "2 missing\n"));
	assert_non_null(strstr(out,
	    "queries: 2 running, 120 complete, "
	    "3 partial, 1 failed\n"));
	assert_non_null(strstr(out,
	    "tasks:   1 queued, 11 sent, 21 running, "
	    "31 done, 41 refused, 51 failed, "
	    "61 timed_out\n"));
	free(out);
	status_free(&s);
}

static void
table_color(void **state)
{
	struct status_snapshot s;
	char *out;

	(void)state;
	sample_snapshot(&s);
	out = print(&s, 1);
	assert_non_null(strstr(out, "\033[1;31mMISSING\033[0m"));
	assert_non_null(strstr(out, "\033[1mDOWN\033[0m"));
	assert_non_null(strstr(out, "\033[1;31m2 missing\033[0m"));
	assert_null(strstr(out, "\033[1mup"));
	free(out);
	/* Auto: a memory stream is no terminal. */
	out = print(&s, -1);
	assert_null(strchr(out, '\033'));
	free(out);
	status_free(&s);
}

static void
table_hostile(void **state)
{
	struct status_snapshot s;
	char *out;

	(void)state;
	sample_snapshot(&s);
	strlcpy(s.nodes[0].software, "x\033]0;owned\007\r\n",
	    sizeof(s.nodes[0].software));
	strlcpy(s.nodes[1].site, "\xff\xfe", sizeof(s.nodes[1].site));
	memset(s.nodes[2].snapshot_date, 'z', sizeof(s.nodes[2].snapshot_date));
	out = print(&s, 0);
	assert_null(strchr(out, '\033'));
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\007'));
	assert_non_null(strstr(out, "x?]0;owned???"));
	assert_true(utf8_valid(out, strlen(out)));
	/* An unterminated field prints no further than its size. */
	assert_non_null(strstr(out, "zzzzzzzzzzzzzzzz "));
	assert_null(strstr(out, "zzzzzzzzzzzzzzzzz"));
	free(out);
	/* No nodes at all. */
	status_free(&s);
	out = print(&s, 0);
	assert_non_null(strstr(out, "0 of 0 nodes connected"));
	assert_null(strstr(out, "consortium"));
	free(out);
}

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *doc = json_loads(text, 0, &e);

	if (doc == NULL)
		fail_msg("JSON: %s at %d: %s", e.text, e.position, text);
	return doc;
}

static void
json_document(void **state)
{
	static const char *keys[] = { "site", "name", "consortium", "lead",
		"connected", "heartbeat_age_ms", "protocol", "software",
		"snapshot_date", "tables", "min_cell", "served", "refused",
		"failed", "latency_p50_us", "latency_p95_us", "missing" };
	struct status_snapshot s;
	json_t *doc, *nodes, *n;
	char *text;

	(void)state;
	sample_snapshot(&s);
	text = status_to_json(&s, 0);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	doc = parse(text);
	free(text);
	assert_int_equal(
	    json_integer_value(json_object_get(doc, "uptime_s")), 3725);
	nodes = json_object_get(doc, "nodes");
	assert_true(json_is_array(nodes));
	assert_int_equal(json_array_size(nodes), 6);
	for (size_t i = 0; i < json_array_size(nodes); i++)
		for (size_t k = 0; k < nitems(keys); k++)
			if (json_object_get(
				json_array_get(nodes, i), keys[k]) == NULL)
				fail_msg("node %zu has no %s", i, keys[k]);
	/* Display order, as in the table. */
	n = json_array_get(nodes, 0);
	assert_string_equal(
	    json_string_value(json_object_get(n, "site")), "c1-lead");
	assert_string_equal(
	    json_string_value(json_object_get(n, "consortium")), "1");
	assert_true(json_is_true(json_object_get(n, "lead")));
	assert_true(json_is_false(json_object_get(n, "connected")));
	assert_true(json_is_false(json_object_get(n, "missing")));
	assert_int_equal(
	    json_integer_value(json_object_get(n, "heartbeat_age_ms")), 45000);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(n, "tables"), "person")),
	    SAMPLE_PERSONS);
	assert_int_equal(
	    json_integer_value(json_object_get(n, "latency_p95_us")), 250000);
	assert_int_equal(json_integer_value(json_object_get(n, "served")), 42);
	assert_int_equal(
	    json_integer_value(json_object_get(n, "min_cell")), 10);
	n = json_array_get(nodes, 4);
	assert_string_equal(
	    json_string_value(json_object_get(n, "site")), "c10-lead");
	assert_true(json_is_null(json_object_get(n, "heartbeat_age_ms")));
	assert_true(json_is_true(json_object_get(n, "missing")));
	assert_int_equal(json_object_size(json_object_get(n, "tables")), 0);
	n = json_object_get(doc, "queries");
	assert_int_equal(json_object_size(n), 4);
	assert_int_equal(json_integer_value(json_object_get(n, "running")), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(n, "complete")), 120);
	assert_int_equal(json_integer_value(json_object_get(n, "partial")), 3);
	assert_int_equal(json_integer_value(json_object_get(n, "failed")), 1);
	n = json_object_get(doc, "tasks");
	assert_int_equal(
	    json_integer_value(json_object_get(n, "timed_out")), 61);
	json_decref(doc);
	status_free(&s);
}

static void
json_hostile(void **state)
{
	struct status_snapshot s;
	json_t *doc, *n;
	char *text;

	(void)state;
	sample_snapshot(&s);
	/* Invalid UTF-8 would make jansson refuse the whole document. */
	strlcpy(s.nodes[0].software, "bad \xff\xfe \"q\"",
	    sizeof(s.nodes[0].software));
	s.nodes[0].served = UINT64_MAX;
	s.uptime_s = UINT64_MAX;
	text = status_to_json(&s, 1);
	assert_non_null(text);
	assert_non_null(strchr(text, '\n'));
	doc = parse(text);
	free(text);
	n = json_array_get(json_object_get(doc, "nodes"), 2);
	assert_string_equal(
	    json_string_value(json_object_get(n, "site")), "c2-lead");
	assert_string_equal(
	    json_string_value(json_object_get(n, "software")), "bad ?? \"q\"");
	/* JSON integers are signed: the largest is INT64_MAX. */
	assert_int_equal(
	    json_integer_value(json_object_get(n, "served")), INT64_MAX);
	json_decref(doc);
	status_free(&s);
	/* Empty. */
	text = status_to_json(&s, 0);
	doc = parse(text);
	free(text);
	assert_int_equal(json_array_size(json_object_get(doc, "nodes")), 0);
	json_decref(doc);
}

static void
formats(void **state)
{
	char b[32];

	(void)state;
	status_fmt_age(b, sizeof(b), 0);
	assert_string_equal(b, "0.0s");
	status_fmt_age(b, sizeof(b), 9999);
	assert_string_equal(b, "9.9s");
	status_fmt_age(b, sizeof(b), 59999);
	assert_string_equal(b, "59s");
	status_fmt_age(b, sizeof(b), 65000);
	assert_string_equal(b, "1m05s");
	status_fmt_age(b, sizeof(b), 90061000);
	assert_string_equal(b, "1d01h");
	status_fmt_age(b, sizeof(b), STATUS_AGE_NEVER);
	assert_string_equal(b, "never");
	status_fmt_us(b, sizeof(b), 0);
	assert_string_equal(b, "-");
	status_fmt_us(b, sizeof(b), 999);
	assert_string_equal(b, "999us");
	status_fmt_us(b, sizeof(b), 1500);
	assert_string_equal(b, "1.5ms");
	status_fmt_us(b, sizeof(b), 12345678);
	assert_string_equal(b, "12s");
	status_fmt_thousands(b, sizeof(b), 0);
	assert_string_equal(b, "0");
	status_fmt_thousands(b, sizeof(b), 100);
	assert_string_equal(b, "100");
	status_fmt_thousands(b, sizeof(b), 1000);
	assert_string_equal(b, "1,000");
	status_fmt_thousands(b, sizeof(b), UINT64_MAX);
	assert_string_equal(b, "18,446,744,073,709,551,615");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_plain),
		cmocka_unit_test(table_color),
		cmocka_unit_test(table_hostile),
		cmocka_unit_test(json_document),
		cmocka_unit_test(json_hostile),
		cmocka_unit_test(formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
