/*
 * conf.c — owns reading configuration files. It never interprets a value
 * beyond its type; the program that asks decides what a value means.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"

struct conf_entry {
	char *key;
	char *value;
	unsigned line;
	int used;
};

struct conf {
	char *path;
	size_t n;
	struct conf_entry e[CONF_MAX_ENTRIES];
};

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
conf_parse_line(
    struct conf *cf, char *line, unsigned lineno, char *err, size_t errlen)
{
	char *key, *val, *eq;
	size_t vlen;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL)
		return errf(err, errlen, "%s:%u: expected key = value",
		    cf->path, lineno);
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (*key == '\0')
		return errf(
		    err, errlen, "%s:%u: missing key", cf->path, lineno);
	for (char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			return errf(err, errlen,
			    "%s:%u: bad character in key '%s'", cf->path,
			    lineno, key);
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->e[i].key, key) == 0)
			return errf(err, errlen,
			    "%s:%u: '%s' already set on line %u", cf->path,
			    lineno, key, cf->e[i].line);
	if (cf->n == CONF_MAX_ENTRIES)
		return errf(
		    err, errlen, "%s:%u: too many settings", cf->path, lineno);
	if ((cf->e[cf->n].key = strdup(key)) == NULL ||
	    (cf->e[cf->n].value = strdup(val)) == NULL) {
		free(cf->e[cf->n].key);
		return errf(err, errlen, "%s: out of memory", cf->path);
	}
	cf->e[cf->n].line = lineno;
	cf->n++;
	return 0;
}

/*
 * One line of at most CONF_MAX_LINE bytes (the newline not counted) into
 * buf, NUL-terminated, without its newline: 1, 0 at the end of the file,
 * -1 if it is longer, -2 if it holds a NUL byte (which would hide the
 * rest of the line from the parser), -3 on a read error.
 */
static int
read_line(FILE *fp, char buf[CONF_MAX_LINE + 1])
{
	size_t n = 0;
	int c, nul = 0;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			nul = 1;
		if (n == CONF_MAX_LINE)
			return -1;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (c == EOF && ferror(fp))
		return -3;
	if (c == EOF && n == 0)
		return 0;
	return nul ? -2 : 1;
}

struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct conf *cf;
	char line[CONF_MAX_LINE + 1];
	unsigned lineno = 0;
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "re")) == NULL) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((cf = calloc(1, sizeof(*cf))) == NULL ||
	    (cf->path = strdup(path)) == NULL) {
		errf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while ((rc = read_line(fp, line)) != 0) {
		lineno++;
		if (rc == -1) {
			errf(err, errlen, "%s:%u: line longer than %d bytes",
			    path, lineno, CONF_MAX_LINE);
			goto fail;
		}
		if (rc == -2) {
			errf(err, errlen, "%s:%u: NUL byte in the line", path,
			    lineno);
			goto fail;
		}
		if (rc == -3) {
			errf(err, errlen, "%s: read error", path);
			goto fail;
		}
		if (conf_parse_line(cf, line, lineno, err, errlen) == -1)
			goto fail;
	}
	fclose(fp);
	return cf;
fail:
	fclose(fp);
	conf_free(cf);
	return NULL;
}

void
conf_free(struct conf *cf)
{
	if (cf == NULL)
		return;
	for (size_t i = 0; i < cf->n; i++) {
		free(cf->e[i].key);
		free(cf->e[i].value);
	}
	free(cf->path);
	free(cf);
}

const char *
conf_path(const struct conf *cf)
{
	return cf->path;
}

static struct conf_entry *
conf_find(struct conf *cf, const char *key)
{
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->e[i].key, key) == 0) {
			cf->e[i].used = 1;
			return &cf->e[i];
		}
	return NULL;
}

const char *
conf_str(struct conf *cf, const char *key, const char *def)
{
	struct conf_entry *e = conf_find(cf, key);

	return e ? e->value : def;
}

int
conf_int(struct conf *cf, const char *key, int64_t def, int64_t min,
    int64_t max, int64_t *out, char *err, size_t errlen)
{
	struct conf_entry *e = conf_find(cf, key);

	if (e == NULL) {
		*out = def;
		return 0;
	}
	if (parse_int64(e->value, strlen(e->value), min, max, out) == -1)
		return errf(err, errlen,
		    "%s:%u: %s must be a whole number from %lld to %lld",
		    cf->path, e->line, key, (long long)min, (long long)max);
	return 0;
}

int
conf_bool(struct conf *cf, const char *key, int def, int *out, char *err,
    size_t errlen)
{
	struct conf_entry *e = conf_find(cf, key);

	if (e == NULL) {
		*out = def;
		return 0;
	}
	if (strcmp(e->value, "yes") == 0 || strcmp(e->value, "true") == 0)
		*out = 1;
	else if (strcmp(e->value, "no") == 0 || strcmp(e->value, "false") == 0)
		*out = 0;
	else
		return errf(err, errlen, "%s:%u: %s must be yes or no",
		    cf->path, e->line, key);
	return 0;
}

int
conf_check_unused(const struct conf *cf, char *err, size_t errlen)
{
	for (size_t i = 0; i < cf->n; i++)
		if (!cf->e[i].used)
			return errf(err, errlen, "%s:%u: unknown setting '%s'",
			    cf->path, cf->e[i].line, cf->e[i].key);
	return 0;
}

unsigned
conf_line(const struct conf *cf, const char *key)
{
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->e[i].key, key) == 0)
			return cf->e[i].line;
	return 0;
}
