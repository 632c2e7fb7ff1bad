/*
 * cmd_approve.c — `tally approve`. Not built yet: says so and fails, so that no
 * script mistakes it for a working command.
 */
#include "cmd.h"

int
cmd_approve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_unavailable("approve");
}
