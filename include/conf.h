/*
 * conf.h — the configuration files of tally-broker, tally-node and the
 * command-line clients: one `key = value` per line, `#` comments, blank
 * lines ignored. Every problem is reported as `FILE:LINE: reason`.
 */
#ifndef TALLY_CONF_H
#define TALLY_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_LINE	 1024
#define CONF_MAX_ENTRIES 256

struct conf;

struct conf *conf_load(const char *path, char *err, size_t errlen);
void conf_free(struct conf *);
const char *conf_path(const struct conf *);

/* The value of key, or def when absent. Marks the key as used. */
const char *conf_str(struct conf *, const char *key, const char *def);
/* 0 with *out set (def when absent); -1 with `FILE:LINE: reason` in err. */
int conf_int(struct conf *, const char *key, int64_t def, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen);
int conf_bool(struct conf *, const char *key, int def, int *out, char *err,
    size_t errlen);
/* Line of key in the file, 0 if absent. */
unsigned conf_line(const struct conf *, const char *key);
/* Fails on the first key nothing asked for (a typo, usually). */
int conf_check_unused(const struct conf *, char *err, size_t errlen);

#endif
