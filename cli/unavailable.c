/*
 * unavailable.c — the one message for a subcommand that does not exist yet.
 */
#include <stdio.h>

#include "cmd.h"

int
cmd_unavailable(const char *name)
{
	fprintf(stderr, "tally %s: not available in this build yet\n", name);
	return 1;
}
