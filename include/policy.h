/*
 * policy.h — a hospital's own release policy: the last word on what
 * leaves its walls, whatever the broker or an approval says.
 */
#ifndef TALLY_POLICY_H
#define TALLY_POLICY_H

#include <stddef.h>

#include "conf.h"

#define POLICY_DEFAULT_MIN_CELL	  10
#define POLICY_DEFAULT_DEADLINE_S 60
#define POLICY_DEFAULT_CACHE_MB	  128
#define POLICY_MAX_CACHE_MB	  256 /* a quarter of the engine's memory cap */

struct policy {
	unsigned min_cell;   /* k: cells with 1 <= n < k are withheld */
	int mask_zeros;	     /* withhold zero cells too */
	int allow_by_site;   /* may the broker show this site's column */
	unsigned deadline_s; /* per-query engine deadline */
	unsigned max_tasks;  /* queries run at once */
	unsigned cache_mb;   /* per running query: cached code rows (0: off) */
};

void policy_defaults(struct policy *);
/* Reads the policy keys (min_cell, mask_zeros, allow_by_site,
 * deadline_s, max_tasks, cache_mb) from an open config; -1 with FILE:LINE
 * in err. */
int policy_from_conf(struct policy *, struct conf *, char *err, size_t errlen);
/* A standalone policy file holding only those keys. */
int policy_load(struct policy *, const char *path, char *err, size_t errlen);
/* The k to apply for an approval is suppress_min_cell() (suppress.h). */

#endif
