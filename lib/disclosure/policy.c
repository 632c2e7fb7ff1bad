/*
 * policy.c — owns reading a node's release policy. It never weakens a
 * setting: k has a floor of 2 (an approval can only raise it, see
 * suppress_min_cell()).
 */
#include "policy.h"
#include "util.h"

void
policy_defaults(struct policy *p)
{
	p->min_cell = POLICY_DEFAULT_MIN_CELL;
	p->mask_zeros = 0;
	p->allow_by_site = 1;
	p->deadline_s = POLICY_DEFAULT_DEADLINE_S;
	p->max_tasks = 2;
	p->cache_mb = POLICY_DEFAULT_CACHE_MB;
}

int
policy_from_conf(struct policy *p, struct conf *cf, char *err, size_t errlen)
{
	int64_t v;

	policy_defaults(p);
	if (conf_int(cf, "min_cell", POLICY_DEFAULT_MIN_CELL, 2, 1000000, &v,
		err, errlen) == -1)
		return -1;
	p->min_cell = (unsigned)v;
	if (conf_bool(cf, "mask_zeros", 0, &p->mask_zeros, err, errlen) == -1 ||
	    conf_bool(cf, "allow_by_site", 1, &p->allow_by_site, err, errlen) ==
		-1)
		return -1;
	if (conf_int(cf, "deadline_s", POLICY_DEFAULT_DEADLINE_S, 1, 86400, &v,
		err, errlen) == -1)
		return -1;
	p->deadline_s = (unsigned)v;
	if (conf_int(cf, "max_tasks", 2, 1, 64, &v, err, errlen) == -1)
		return -1;
	p->max_tasks = (unsigned)v;
	if (conf_int(cf, "cache_mb", POLICY_DEFAULT_CACHE_MB, 0,
		POLICY_MAX_CACHE_MB, &v, err, errlen) == -1)
		return -1;
	p->cache_mb = (unsigned)v;
	return 0;
}

int
policy_load(struct policy *p, const char *path, char *err, size_t errlen)
{
	struct conf *cf;
	int rc;

	if ((cf = conf_load(path, err, errlen)) == NULL)
		return -1;
	rc = policy_from_conf(p, cf, err, errlen);
	if (rc == 0)
		rc = conf_check_unused(cf, err, errlen);
	conf_free(cf);
	return rc;
}
