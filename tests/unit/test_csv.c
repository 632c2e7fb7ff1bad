/*
 * test_csv.c — the CSV reader: quoting, line numbers, limits, recovery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "testutil.h"

static int
field_is(const struct csv_rec *r, size_t i, const char *s)
{
	return i < r->nfields && r->f[i].len == strlen(s) &&
	    memcmp(r->f[i].p, s, r->f[i].len) == 0;
}

static void
quoting_and_lines(void **state)
{
	char *dir = test_mkdtemp(), err[128];
	char *path = test_write(dir, "a.csv",
	    "\xef\xbb\xbf"
	    "a,b,c\r\n"
	    "1,\"x,y\",\"he said \"\"hi\"\"\"\r\n"
	    "\n"
	    "2,\"two\nlines\",z\n"
	    "3,,\n"
	    "4,last,noeol");
	struct csv *c = csv_open(path, 0, err, sizeof(err));
	struct csv_rec *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(c);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 1);
	assert_true(field_is(r, 0, "a") && field_is(r, 2, "c"));
	assert_int_equal(csv_column(r, "B"), 1);
	assert_int_equal(csv_column(r, "d"), -1);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 2);
	assert_int_equal(r->nfields, 3);
	assert_true(field_is(r, 1, "x,y"));
	assert_true(field_is(r, 2, "he said \"hi\""));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 4);
	assert_true(field_is(r, 1, "two\nlines"));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 6);
	assert_int_equal(r->nfields, 3);
	assert_true(field_is(r, 1, "") && field_is(r, 2, ""));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 7);
	assert_true(field_is(r, 2, "noeol"));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 0);
	csv_free(c);
	free(r);
	free(path);
	test_rmdir(dir);
}

static void
malformed_then_recovers(void **state)
{
	char *dir = test_mkdtemp(), err[128];
	char *path = test_write(dir, "b.csv",
	    "a,b\n"
	    "1,x\"y\n"
	    "2,\"ok\"junk\n"
	    "3,fine\n"
	    "4,\"never closed\n");
	struct csv *c = csv_open(path, 0, err, sizeof(err));
	struct csv_rec *r = malloc(sizeof(*r));

	(void)state;
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), -1);
	assert_int_equal(r->line, 2);
	assert_string_equal(err, "quote inside an unquoted field");
	assert_int_equal(csv_next(c, r, err, sizeof(err)), -1);
	assert_int_equal(r->line, 3);
	assert_string_equal(err, "text after a closing quote");
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 4);
	assert_true(field_is(r, 1, "fine"));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), -1);
	assert_int_equal(r->line, 5);
	assert_string_equal(err, "unterminated quoted field");
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 0);
	csv_free(c);
	free(r);
	free(path);
	test_rmdir(dir);
}

static void
limits(void **state)
{
	char *dir = test_mkdtemp(), err[128];
	char *text = malloc(100000), *path;
	struct csv *c;
	struct csv_rec *r = malloc(sizeof(*r));
	size_t n = 0;

	(void)state;
	n += (size_t)sprintf(text, "a,b\n1,");
	memset(text + n, 'x', 200);
	n += 200;
	n += (size_t)sprintf(text + n, "\n2,short\n");
	for (int i = 0; i < CSV_MAX_FIELDS + 5; i++)
		text[n++] = ',';
	n += (size_t)sprintf(text + n, "\n3,end\n");
	text[n] = '\0';
	path = test_write(dir, "c.csv", text);
	c = csv_open(path, 100, err, sizeof(err));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), -1);
	assert_string_equal(err, "field longer than the limit");
	assert_int_equal(r->line, 2);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_true(field_is(r, 1, "short"));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), -1);
	assert_string_equal(err, "too many fields");
	assert_int_equal(r->line, 4);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	assert_int_equal(r->line, 5);
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 0);
	csv_free(c);
	free(r);
	free(text);
	free(path);
	test_rmdir(dir);
}

/* Records straddling the 1 MiB read buffer, quoted fields included. */
static void
buffer_boundaries(void **state)
{
	char *dir = test_mkdtemp(), err[128], *path, *text;
	size_t rows = 60000, n = 0;
	struct csv *c;
	struct csv_rec *r = malloc(sizeof(*r));

	(void)state;
	text = malloc(rows * 40 + 16);
	n += (size_t)sprintf(text, "id,v\n");
	for (size_t i = 0; i < rows; i++)
		n += (size_t)sprintf(text + n, "%zu,\"q\"\"%zu\"\"\"\n", i, i);
	path = test_write(dir, "d.csv", text);
	c = csv_open(path, 0, err, sizeof(err));
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
	for (size_t i = 0; i < rows; i++) {
		char want[32];

		assert_int_equal(csv_next(c, r, err, sizeof(err)), 1);
		assert_int_equal(r->line, i + 2);
		snprintf(want, sizeof(want), "q\"%zu\"", i);
		assert_true(field_is(r, 1, want));
	}
	assert_int_equal(csv_next(c, r, err, sizeof(err)), 0);
	assert_int_equal(csv_bytes(c), n);
	csv_free(c);
	free(r);
	free(text);
	free(path);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quoting_and_lines),
		cmocka_unit_test(malformed_then_recovers),
		cmocka_unit_test(limits),
		cmocka_unit_test(buffer_boundaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
