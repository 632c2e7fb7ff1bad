/*
 * test_policy.c — a hospital's release policy file: defaults, every key
 * read, and a value out of range refused with the file and line.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "testutil.h"

static char *
write_file(const char *dir, const char *text)
{
	char *path = malloc(PATH_MAX);
	FILE *fp;

	snprintf(path, PATH_MAX, "%s/policy.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void
keys(void **state)
{
	char *dir = test_mkdtemp(), *path, err[256] = "";
	struct policy p;

	(void)state;
	path = write_file(dir, "# comment\n");
	assert_int_equal(policy_load(&p, path, err, sizeof(err)), 0);
	assert_int_equal(p.min_cell, POLICY_DEFAULT_MIN_CELL);
	assert_int_equal(p.cache_mb, POLICY_DEFAULT_CACHE_MB);
	assert_int_equal(p.max_tasks, 2);
	free(path);
	path = write_file(dir,
	    "min_cell = 5\nmask_zeros = yes\nallow_by_site = no\n"
	    "deadline_s = 30\nmax_tasks = 4\ncache_mb = 0\n");
	assert_int_equal(policy_load(&p, path, err, sizeof(err)), 0);
	assert_int_equal(p.min_cell, 5);
	assert_true(p.mask_zeros);
	assert_false(p.allow_by_site);
	assert_int_equal(p.deadline_s, 30);
	assert_int_equal(p.max_tasks, 4);
	assert_int_equal(p.cache_mb, 0);
	free(path);
	path = write_file(dir, "min_cell = 10\ncache_mb = 257\n");
	assert_int_equal(policy_load(&p, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "policy.conf:2"));
	free(path);
	path = write_file(dir, "min_cell = 1\n");
	assert_int_equal(policy_load(&p, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "policy.conf:1"));
	free(path);
	path = write_file(dir, "cache = 5\n");
	assert_int_equal(policy_load(&p, path, err, sizeof(err)), -1);
	free(path);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
