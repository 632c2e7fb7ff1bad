/*
 * config.c — owns turning node.conf into struct node_config. Unknown
 * settings are refused; the policy keys are read by lib/disclosure/policy.c.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "config.h"
#include "util.h"

static int
path_setting(struct conf *cf, const char *key, char *out, size_t outlen,
    int must_exist, char *err, size_t errlen)
{
	const char *v = conf_str(cf, key, NULL);

	if (v == NULL || *v == '\0')
		return errf(err, errlen, "%s: missing setting '%s'",
		    conf_path(cf), key);
	if (conf_path_resolve(cf, v, out, outlen) == -1)
		return errf(err, errlen, "%s:%u: %s: path too long",
		    conf_path(cf), conf_line(cf, key), key);
	if (must_exist && access(out, R_OK) != 0)
		return errf(err, errlen, "%s:%u: %s: cannot read %s",
		    conf_path(cf), conf_line(cf, key), key, out);
	return 0;
}

int
node_config_load(
    struct node_config *nc, const char *path, char *err, size_t errlen)
{
	struct conf *cf;
	const char *v;
	int64_t n;
	int rc = -1;

	memset(nc, 0, sizeof(*nc));
	if ((cf = conf_load(path, err, errlen)) == NULL)
		return -1;
	v = conf_str(cf, "site", "");
	if (!network_id_valid(v, strlen(v))) {
		errf(err, errlen,
		    "%s:%u: site: a hospital id ([a-z0-9-]) is "
		    "required",
		    path, conf_line(cf, "site"));
		goto done;
	}
	strlcpy(nc->site, v, sizeof(nc->site));
	if (conf_int(cf, "consortium", 0, 1, 999, &n, err, errlen) == -1)
		goto done;
	if (n == 0) {
		errf(err, errlen, "%s: missing setting 'consortium'", path);
		goto done;
	}
	snprintf(nc->consortium, sizeof(nc->consortium), "%d", (int)n);
	v = conf_str(cf, "broker", "");
	if (strncmp(v, "tcp://", 6) != 0 ||
	    strlcpy(nc->broker, v, sizeof(nc->broker)) >= sizeof(nc->broker)) {
		errf(err, errlen, "%s:%u: broker: expected tcp://HOST:PORT",
		    path, conf_line(cf, "broker"));
		goto done;
	}
	if (path_setting(cf, "db", nc->db, sizeof(nc->db), 1, err, errlen) ||
	    path_setting(
		cf, "state", nc->state, sizeof(nc->state), 0, err, errlen))
		goto done;
	if (conf_int(cf, "heartbeat_ms", 2000, 100, 600000, &n, err, errlen))
		goto done;
	nc->heartbeat_ms = (unsigned)n;
	if (conf_int(cf, "heartbeat_timeout_ms", 6000, 300, 3600000, &n, err,
		errlen))
		goto done;
	nc->heartbeat_timeout_ms = (unsigned)n;
	if (policy_from_conf(&nc->policy, cf, err, errlen) == -1 ||
	    tlsconf_read(&nc->tls, cf, 1, err, errlen) == -1 ||
	    conf_check_unused(cf, err, errlen) == -1)
		goto done;
	rc = 0;
done:
	conf_free(cf);
	return rc;
}
