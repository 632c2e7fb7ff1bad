/*
 * log.h — diagnostics for every program: stderr when in the foreground,
 * syslog when daemonised. One convention: functions return -1 (or NULL)
 * after logging the reason with log_warn*(); fatal*() is for start-up only.
 */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

#include <stdarg.h>

#define LOG_TO_STDERR 0
#define LOG_TO_SYSLOG 1

void log_init(const char *progname, int verbose, int to_syslog);
int log_verbose(void);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
