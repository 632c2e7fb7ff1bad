#define _GNU_SOURCE
/*
 * testutil.c — scratch files for unit tests. Test-only code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

char *
test_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL)
		base = "/tmp";
	if (asprintf(&p, "%s/tally-unit.XXXXXX", base) == -1)
		fail_msg("asprintf");
	if (mkdtemp(p) == NULL)
		fail_msg("mkdtemp %s", p);
	return p;
}

void
test_rmdir(char *path)
{
	char *cmd;

	if (path == NULL)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", path) != -1) {
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", path);
		free(cmd);
	}
	free(path);
}

char *
test_write(const char *dir, const char *name, const char *text)
{
	char *p;
	FILE *fp;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		fail_msg("asprintf");
	if ((fp = fopen(p, "w")) == NULL)
		fail_msg("fopen %s", p);
	fputs(text, fp);
	fclose(fp);
	return p;
}

char *
test_shared(const char *rel)
{
	const char *base = getenv("TALLY_SHARED");
	char *p;

	if (base == NULL)
		base = "../shared";
	if (asprintf(&p, "%s/%s", base, rel) == -1)
		fail_msg("asprintf");
	if (access(p, R_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}
