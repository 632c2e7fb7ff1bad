/*
 * test_util.c — dates, number parsing, UTF-8 validation, config files,
 * the network file.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "date.h"
#include "network.h"
#include "testutil.h"
#include "util.h"

static void
dates(void **state)
{
	int32_t d;
	char out[11];

	(void)state;
	assert_int_equal(date_parse("1970-01-01", 10, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(date_parse("2024-02-29", 10, &d), 0);
	date_format(d, out);
	assert_string_equal(out, "2024-02-29");
	assert_int_equal(date_year(d), 2024);
	assert_int_equal(date_parse("2023-02-29", 10, &d), -1);
	assert_int_equal(date_parse("1900-02-29", 10, &d), -1);
	assert_int_equal(date_parse("2000-02-29", 10, &d), 0);
	assert_int_equal(date_parse("2024-13-01", 10, &d), -1);
	assert_int_equal(date_parse("2024-1-01", 9, &d), -1);
	assert_int_equal(date_parse("20x4-01-01", 10, &d), -1);
	assert_int_equal(date_parse("1066-10-14", 10, &d), -1);
	assert_int_equal(
	    date_parse_datetime("2015-10-02T00:00:00Z", 20, &d), 0);
	assert_int_equal(date_parse_datetime("2015-10-02 13:00:00", 19, &d), 0);
	assert_int_equal(date_parse_datetime("2015-10-02x", 11, &d), -1);
	/* Every day of 1800-2200 round-trips. */
	for (int32_t x = date_from_ymd(1800, 1, 1);
	     x <= date_from_ymd(2200, 12, 31); x++) {
		int32_t y;

		date_format(x, out);
		assert_int_equal(date_parse(out, 10, &y), 0);
		assert_int_equal(x, y);
	}
}

static void
numbers(void **state)
{
	int64_t v;
	double f;

	(void)state;
	assert_int_equal(parse_int64("42", 2, 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int64("-7", 2, -10, 10, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(parse_int64("101", 3, 0, 100, &v), -1);
	assert_int_equal(parse_int64("", 0, 0, 100, &v), -1);
	assert_int_equal(parse_int64("-", 1, -5, 100, &v), -1);
	assert_int_equal(parse_int64("1x", 2, 0, 100, &v), -1);
	assert_int_equal(
	    parse_int64("9223372036854775807", 19, INT64_MIN, INT64_MAX, &v),
	    0);
	assert_int_equal(
	    parse_int64("9223372036854775808", 19, INT64_MIN, INT64_MAX, &v),
	    -1);
	assert_int_equal(
	    parse_int64("-9223372036854775808", 20, INT64_MIN, INT64_MAX, &v),
	    0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_double("6.5", 3, &f), 0);
	assert_true(f == 6.5);
	assert_int_equal(parse_double("1e3", 3, &f), 0);
	assert_int_equal(parse_double("abc", 3, &f), -1);
	assert_int_equal(parse_double("1e999", 5, &f), -1);
	assert_int_equal(parse_double("", 0, &f), -1);
}

static void
utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("abc", 3));
	assert_true(utf8_valid("\xea\xb3\xa0\xeb\xa0\xa4", 6)); /* 고려 */
	assert_false(utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	assert_false(utf8_valid("\xea\xb3", 2));		/* truncated */
	assert_false(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("\xff", 1));
}

/* A line of exactly CONF_MAX_LINE bytes is read, one more is refused, and
 * a NUL byte (which would hide the rest of its line) is refused. */
static void
conf_long_and_nul(const char *dir)
{
	char line[CONF_MAX_LINE + 8], err[256], path[PATH_MAX];
	struct conf *cf;
	FILE *fp;
	char *p;

	memset(line, 'x', sizeof(line));
	memcpy(line, "k = ", 4);
	line[CONF_MAX_LINE] = '\0';
	p = test_write(dir, "long.conf", line);
	assert_non_null(cf = conf_load(p, err, sizeof(err)));
	assert_int_equal(strlen(conf_str(cf, "k", "")), CONF_MAX_LINE - 4);
	conf_free(cf);
	free(p);
	line[CONF_MAX_LINE] = 'x';
	line[CONF_MAX_LINE + 1] = '\n';
	line[CONF_MAX_LINE + 2] = '\0';
	p = test_write(dir, "longer.conf", line);
	assert_null(conf_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, "longer.conf:1: line longer than"));
	free(p);
	snprintf(path, sizeof(path), "%s/nul.conf", dir);
	assert_non_null(fp = fopen(path, "w"));
	fwrite("a = 1\nb = 2\0c = 3\n", 1, 19, fp);
	fclose(fp);
	assert_null(conf_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "nul.conf:2: NUL byte"));
}

static void
config(void **state)
{
	char *dir = test_mkdtemp(), err[256], *p;
	struct conf *cf;
	int64_t v;
	int b;

	(void)state;
	p = test_write(dir, "ok.conf",
	    "# comment\n\nname = snuh\nport=9470\nquoted = \"a b\"\n"
	    "flag = yes\nextra = 1\n");
	cf = conf_load(p, err, sizeof(err));
	assert_non_null(cf);
	assert_string_equal(conf_str(cf, "name", NULL), "snuh");
	assert_string_equal(conf_str(cf, "quoted", NULL), "a b");
	assert_string_equal(conf_str(cf, "missing", "def"), "def");
	assert_int_equal(
	    conf_int(cf, "port", 1, 1, 65535, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 9470);
	assert_int_equal(conf_bool(cf, "flag", 0, &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	assert_int_equal(conf_check_unused(cf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":7: unknown setting 'extra'"));
	assert_int_equal(
	    conf_int(cf, "name", 1, 1, 2, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: name must be a whole number"));
	conf_free(cf);
	free(p);

	p = test_write(dir, "bad.conf", "a = 1\nno equals here\n");
	assert_null(conf_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, "bad.conf:2: expected key = value"));
	free(p);
	p = test_write(dir, "dup.conf", "a = 1\na = 2\n");
	assert_null(conf_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, "dup.conf:2: 'a' already set on line 1"));
	free(p);
	conf_long_and_nul(dir);
	test_rmdir(dir);
}

static void
network(void **state)
{
	char *dir = test_mkdtemp(), err[256], *p;
	struct network *net;

	(void)state;
	net = network_load("deploy/network/hospitals.csv", err, sizeof(err));
	assert_non_null(net);
	assert_int_equal(net->nsites, 43);
	assert_non_null(network_find(net, "snuh"));
	assert_int_equal(network_find(net, "snuh")->consortium, 4);
	assert_int_equal(network_find(net, "snuh")->lead, 1);
	assert_string_equal(
	    network_find(net, "hangil-eye")->name_en, "Hangil Eye Hospital");
	assert_null(network_find(net, "nope"));
	network_free(net);

	p = test_write(dir, "dup.csv",
	    "consortium,hospital_id,lead,name_ko,name_en\n"
	    "1,a,1,A,A\n1,a,0,B,B\n");
	assert_null(network_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, "dup.csv:3: duplicate hospital_id a"));
	free(p);
	p = test_write(dir, "id.csv",
	    "consortium,hospital_id,lead,name_ko,name_en\n1,Bad_Id,1,A,A\n");
	assert_null(network_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, "id.csv:2: hospital_id"));
	free(p);
	p = test_write(dir, "col.csv", "consortium,id\n1,a\n");
	assert_null(network_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, "col.csv:1: no column hospital_id"));
	free(p);
	test_rmdir(dir);
}

static void
printable(void **state)
{
	char buf[8];

	(void)state;
	str_printable(buf, sizeof(buf), "a\nb\x1b\xc3\xa9");
	assert_string_equal(buf, "a?b???");
	str_printable(buf, sizeof(buf), "0123456789");
	assert_string_equal(buf, "0123456");
	str_printable(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
}

static void
grow(void **state)
{
	size_t cap = 0, n;
	int *v = NULL;

	(void)state;
	for (n = 0; n < 1000; n++) {
		assert_int_equal(
		    array_grow((void **)&v, &cap, n, sizeof(*v)), 0);
		assert_true(cap > n);
		v[n] = (int)n;
	}
	for (n = 0; n < 1000; n++)
		assert_int_equal(v[n], (int)n);
	assert_int_equal(cap, 1024);
	/* A jump past the capacity still leaves room for element n. */
	assert_int_equal(array_grow((void **)&v, &cap, 5000, sizeof(*v)), 0);
	assert_true(cap > 5000);
	v[5000] = 1;
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dates),
		cmocka_unit_test(numbers),
		cmocka_unit_test(utf8),
		cmocka_unit_test(config),
		cmocka_unit_test(network),
		cmocka_unit_test(printable),
		cmocka_unit_test(grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
