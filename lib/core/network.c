/*
 * network.c — owns parsing the network file. It validates every row
 * (consortium number, id syntax, duplicates) and never returns a partial
 * network.
 */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "network.h"
#include "util.h"

int
network_id_valid(const char *id, size_t len)
{
	if (len == 0 || len >= NETWORK_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			ch == '-'))
			return 0;
	}
	return 1;
}

static int
copy_field(char *dst, size_t dsize, const struct csv_field *f)
{
	if (f->len >= dsize || !utf8_valid(f->p, f->len))
		return -1;
	memcpy(dst, f->p, f->len);
	dst[f->len] = '\0';
	return 0;
}

static int
network_row(struct network *net, const struct csv_rec *r, const int col[5],
    char *why, size_t whylen)
{
	struct site *s, *ns;
	int64_t v;

	for (int i = 0; i < 5; i++)
		if ((size_t)col[i] >= r->nfields)
			return errf(why, whylen, "missing field");
	if (net->nsites == NETWORK_MAX_SITES)
		return errf(why, whylen, "too many hospitals");
	ns = reallocarray(net->sites, net->nsites + 1, sizeof(*ns));
	if (ns == NULL)
		return errf(why, whylen, "out of memory");
	net->sites = ns;
	s = &ns[net->nsites];
	memset(s, 0, sizeof(*s));
	if (parse_int64(r->f[col[0]].p, r->f[col[0]].len, 1, 999, &v) == -1)
		return errf(why, whylen, "consortium is not a number 1-999");
	s->consortium = (int)v;
	if (!network_id_valid(r->f[col[1]].p, r->f[col[1]].len))
		return errf(why, whylen,
		    "hospital_id must be 1-%d characters of a-z, 0-9, -",
		    NETWORK_ID_MAX - 1);
	memcpy(s->id, r->f[col[1]].p, r->f[col[1]].len);
	if (network_find(net, s->id) != NULL)
		return errf(why, whylen, "duplicate hospital_id %s", s->id);
	if (parse_int64(r->f[col[2]].p, r->f[col[2]].len, 0, 1, &v) == -1)
		return errf(why, whylen, "lead must be 0 or 1");
	s->lead = (int)v;
	if (copy_field(s->name_ko, sizeof(s->name_ko), &r->f[col[3]]) == -1 ||
	    copy_field(s->name_en, sizeof(s->name_en), &r->f[col[4]]) == -1)
		return errf(why, whylen, "name too long or not UTF-8");
	net->nsites++;
	return 0;
}

struct network *
network_load(const char *path, char *err, size_t errlen)
{
	static const char *names[5] = { "consortium", "hospital_id", "lead",
		"name_ko", "name_en" };
	struct network *net = NULL;
	struct csv *c;
	struct csv_rec *r = NULL;
	char why[256];
	int col[5], rc;

	if ((c = csv_open(path, 512, err, errlen)) == NULL)
		return NULL;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (net = calloc(1, sizeof(*net))) == NULL) {
		errf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if ((rc = csv_next(c, r, why, sizeof(why))) != 1) {
		errf(err, errlen, "%s:1: %s", path,
		    rc == 0 ? "empty file" : why);
		goto fail;
	}
	for (int i = 0; i < 5; i++)
		if ((col[i] = csv_column(r, names[i])) == -1) {
			errf(err, errlen, "%s:1: no column %s", path, names[i]);
			goto fail;
		}
	while ((rc = csv_next(c, r, why, sizeof(why))) != 0) {
		if (rc == 1 && network_row(net, r, col, why, sizeof(why)) == 0)
			continue;
		errf(err, errlen, "%s:%llu: %s", path,
		    (unsigned long long)r->line, why);
		goto fail;
	}
	if (net->nsites == 0) {
		errf(err, errlen, "%s: no hospitals", path);
		goto fail;
	}
	csv_free(c);
	free(r);
	return net;
fail:
	csv_free(c);
	free(r);
	network_free(net);
	return NULL;
}

void
network_free(struct network *net)
{
	if (net == NULL)
		return;
	free(net->sites);
	free(net);
}

const struct site *
network_find(const struct network *net, const char *id)
{
	for (size_t i = 0; i < net->nsites; i++)
		if (strcmp(net->sites[i].id, id) == 0)
			return &net->sites[i];
	return NULL;
}
