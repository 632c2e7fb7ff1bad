/*
 * metrics.h — the status snapshot as Prometheus text exposition format
 * 0.0.4, for the broker's /metrics.
 */
#ifndef TALLY_METRICS_H
#define TALLY_METRICS_H

#include <stddef.h>

#include "status.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Renders every family (HELP and TYPE first, even when it has no sample
 * yet) into a malloc'd, NUL-terminated buffer; its length in *lenp.
 * NULL on ENOMEM.
 */
char *metrics_render(const struct status_snapshot *, size_t *lenp);

#endif
