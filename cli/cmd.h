/*
 * cmd.h — the subcommands of bin/tally. Each cmd_*() gets argv with
 * argv[0] the subcommand name, parses its own options with getopt_long,
 * prints its own usage for --help, and returns the process exit status:
 * 0 success, 1 failure, 2 usage error (and 3 for load: rows rejected).
 */
#ifndef TALLY_CMD_H
#define TALLY_CMD_H

#define EXIT_USAGE   2
#define EXIT_REJECTS 3

int cmd_pki(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_local(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* For subcommands that a later change will provide. */
int cmd_unavailable(const char *name);

#endif
