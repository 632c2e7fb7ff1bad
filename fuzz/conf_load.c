/*
 * conf_load.c — libFuzzer target: a configuration file (lib/core/conf.c) of
 * arbitrary bytes: long lines, NULs, quotes, duplicate and odd keys, more
 * settings than fit. The input is the file; it is read through a memfd
 * (its /proc/self/fd path), so no disk is touched. It must never crash;
 * what loads answers the typed getters the daemons call, and every key
 * conf_line() finds is one conf_str() finds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	if ((fd = memfd_create("fuzz-conf", MFD_CLOEXEC)) == -1)
		fatal("memfd_create");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "listen", "site", "ca", "cert",
		"key", "crl", "db", "network", "broker", "consortium",
		"drb_certs", "state", "http", "min_cell", "mask_zeros",
		"max_frame", "max_sessions", "heartbeat_ms", "allow_by_site",
		"a", "a.b", "x_1" };
	struct conf *cf;
	char err[512];
	int64_t v;
	int b;

	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if ((cf = conf_load(path, err, sizeof(err))) == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		unsigned line = conf_line(cf, keys[i]);
		const char *s = conf_str(cf, keys[i], NULL);

		if ((line == 0) != (s == NULL))
			abort();
		(void)conf_int(
		    cf, keys[i], 7, -5, 1000000, &v, err, sizeof(err));
		(void)conf_bool(cf, keys[i], 0, &b, err, sizeof(err));
	}
	(void)conf_check_unused(cf, err, sizeof(err));
	conf_free(cf);
	return 0;
}
