/*
 * tlsconf.h — the certificate settings every program's configuration
 * shares (ca, crl, cert, key, drb_certs), read and checked in one place.
 */
#ifndef TALLY_TLSCONF_H
#define TALLY_TLSCONF_H

#include <limits.h>
#include <stddef.h>

#include "conf.h"

#define TLSCONF_MAX_DRB 16

struct tlsconf {
	char ca[PATH_MAX];
	char crl[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	size_t ndrb;
	char drb[TLSCONF_MAX_DRB][PATH_MAX]; /* trusted DRB certificates */
};

/*
 * Reads ca, crl, cert, key (required) and, if want_drb, drb_certs (a
 * comma-separated list, required). Relative paths are taken relative to
 * the configuration file's folder. Checks that each file is readable and
 * that the key is private to its owner. -1 with FILE:LINE-style reason.
 */
int tlsconf_read(
    struct tlsconf *, struct conf *, int want_drb, char *err, size_t errlen);
/* Resolves a path from a config file relative to that file's folder. */
int conf_path_resolve(
    const struct conf *, const char *value, char *out, size_t outlen);

#endif
