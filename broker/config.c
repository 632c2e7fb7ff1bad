/*
 * config.c — owns turning broker.conf into struct broker_config. It
 * refuses unknown settings (a typo would otherwise be silently ignored)
 * and never starts the broker with a file it could not fully check.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "config.h"
#include "network.h"
#include "util.h"

static int
str_setting(struct conf *cf, const char *key, const char *def, char *out,
    size_t outlen, char *err, size_t errlen)
{
	const char *v = conf_str(cf, key, def);

	if (v == NULL || *v == '\0')
		return errf(err, errlen, "%s: missing setting '%s'",
		    conf_path(cf), key);
	if (strlcpy(out, v, outlen) >= outlen)
		return errf(err, errlen, "%s:%u: %s: too long", conf_path(cf),
		    conf_line(cf, key), key);
	return 0;
}

static int
uint_setting(struct conf *cf, const char *key, int64_t def, int64_t min,
    int64_t max, unsigned *out, char *err, size_t errlen)
{
	int64_t v;

	if (conf_int(cf, key, def, min, max, &v, err, errlen) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
broker_config_load(
    struct broker_config *bc, const char *path, char *err, size_t errlen)
{
	struct conf *cf;
	char tmp[PATH_MAX];
	struct network *net;
	int rc = -1;

	memset(bc, 0, sizeof(*bc));
	if ((cf = conf_load(path, err, errlen)) == NULL)
		return -1;
	if (str_setting(cf, "listen", NULL, bc->listen, sizeof(bc->listen), err,
		errlen) ||
	    str_setting(cf, "http", "127.0.0.1:9470", bc->http,
		sizeof(bc->http), err, errlen) ||
	    str_setting(cf, "state", NULL, tmp, sizeof(tmp), err, errlen) ||
	    conf_path_resolve(cf, tmp, bc->state, sizeof(bc->state)) ||
	    str_setting(cf, "network", NULL, tmp, sizeof(tmp), err, errlen) ||
	    conf_path_resolve(cf, tmp, bc->network, sizeof(bc->network)))
		goto done;
	if (strncmp(bc->listen, "tcp://", 6) != 0) {
		errf(err, errlen, "%s:%u: listen: expected tcp://HOST:PORT",
		    path, conf_line(cf, "listen"));
		goto done;
	}
	if (uint_setting(cf, "query_deadline_s", 600, 1, 30 * 86400,
		&bc->query_deadline_s, err, errlen) ||
	    uint_setting(cf, "heartbeat_ms", 2000, 100, 600000,
		&bc->heartbeat_ms, err, errlen) ||
	    uint_setting(cf, "heartbeat_timeout_ms", 6000, 300, 3600000,
		&bc->heartbeat_timeout_ms, err, errlen) ||
	    uint_setting(cf, "max_sessions", 1024, 1, 65536, &bc->max_sessions,
		err, errlen) ||
	    uint_setting(cf, "max_frame", 4 << 20, 4096, 64 << 20,
		&bc->max_frame, err, errlen) ||
	    uint_setting(cf, "missing_after_s", 60, 1, 86400 * 30,
		&bc->missing_after_s, err, errlen))
		goto done;
	if (tlsconf_read(&bc->tls, cf, 1, err, errlen) == -1)
		goto done;
	if ((net = network_load(bc->network, err, errlen)) == NULL)
		goto done;
	network_free(net);
	if (conf_check_unused(cf, err, errlen) == -1)
		goto done;
	rc = 0;
done:
	conf_free(cf);
	return rc;
}
