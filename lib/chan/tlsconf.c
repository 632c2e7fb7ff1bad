/*
 * tlsconf.c — owns reading the certificate settings of a configuration.
 * It checks files exist and keys are private; verifying what is in them
 * is the TLS and PKI code's job.
 */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pki.h"
#include "tlsconf.h"
#include "util.h"

int
conf_path_resolve(
    const struct conf *cf, const char *value, char *out, size_t outlen)
{
	char dir[PATH_MAX];
	int n;

	if (value[0] == '/') {
		if (strlcpy(out, value, outlen) >= outlen)
			return -1;
		return 0;
	}
	strlcpy(dir, conf_path(cf), sizeof(dir));
	n = snprintf(out, outlen, "%s/%s", dirname(dir), value);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
file_setting(struct conf *cf, const char *key, char *out, size_t outlen,
    char *err, size_t errlen)
{
	const char *v = conf_str(cf, key, NULL);

	if (v == NULL || *v == '\0')
		return errf(err, errlen, "%s: missing setting '%s'",
		    conf_path(cf), key);
	if (conf_path_resolve(cf, v, out, outlen) == -1)
		return errf(err, errlen, "%s:%u: %s: path too long",
		    conf_path(cf), conf_line(cf, key), key);
	if (access(out, R_OK) != 0)
		return errf(err, errlen, "%s:%u: %s: cannot read %s",
		    conf_path(cf), conf_line(cf, key), key, out);
	return 0;
}

int
tlsconf_read(
    struct tlsconf *t, struct conf *cf, int want_drb, char *err, size_t errlen)
{
	const char *list, *p;
	char kerr[256];

	memset(t, 0, sizeof(*t));
	if (file_setting(cf, "ca", t->ca, sizeof(t->ca), err, errlen) ||
	    file_setting(cf, "crl", t->crl, sizeof(t->crl), err, errlen) ||
	    file_setting(cf, "cert", t->cert, sizeof(t->cert), err, errlen) ||
	    file_setting(cf, "key", t->key, sizeof(t->key), err, errlen))
		return -1;
	if (pki_key_check(t->key, kerr, sizeof(kerr)) == -1)
		return errf(err, errlen, "%s:%u: key: %s", conf_path(cf),
		    conf_line(cf, "key"), kerr);
	if (!want_drb)
		return 0;
	if ((list = conf_str(cf, "drb_certs", NULL)) == NULL || *list == '\0')
		return errf(err, errlen, "%s: missing setting 'drb_certs'",
		    conf_path(cf));
	for (p = list; *p != '\0';) {
		char one[PATH_MAX];
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		if ((n = strcspn(p, ", ")) == 0)
			break;
		if (t->ndrb == TLSCONF_MAX_DRB || n >= sizeof(one))
			return errf(err, errlen,
			    "%s: drb_certs: too many or "
			    "too long",
			    conf_path(cf));
		memcpy(one, p, n);
		one[n] = '\0';
		if (conf_path_resolve(
			cf, one, t->drb[t->ndrb], sizeof(t->drb[0])) == -1 ||
		    access(t->drb[t->ndrb], R_OK) != 0)
			return errf(err, errlen,
			    "%s:%u: drb_certs: cannot read %s", conf_path(cf),
			    conf_line(cf, "drb_certs"), one);
		t->ndrb++;
		p += n;
	}
	if (t->ndrb == 0)
		return errf(
		    err, errlen, "%s: drb_certs is empty", conf_path(cf));
	return 0;
}
