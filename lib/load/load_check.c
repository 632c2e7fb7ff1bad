/*
 * load_check.c — owns the checks that turn one CSV field into a value or
 * into a reason naming the column. It never touches the database and
 * never echoes more than a short, printable rendering of bad input.
 */
#include <string.h>

#include "date.h"
#include "load_int.h"
#include "util.h"

#define QUOTE_MAX 40

void
load_quote(const char *p, size_t len, char *out, size_t outlen)
{
	size_t w = 0, i;

	if (outlen == 0)
		return;
	for (i = 0; i < len && w + 1 < outlen && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)p[i];

		out[w++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < len && w + 4 < outlen) {
		memcpy(out + w, "...", 3);
		w += 3;
	}
	out[w] = '\0';
}

int
load_bad(const struct load_table *t, int col, struct csv_field f,
    const char *what, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 8];

	load_quote(f.p, f.len, q, sizeof(q));
	return errf(why, whylen, "%s '%s' %s", t->cols[col].name, q, what);
}

static int
missing(const struct load_table *t, int col, char *why, size_t whylen)
{
	return errf(why, whylen, "%s is empty", t->cols[col].name);
}

int
load_check_fields(const struct load_table *t, const struct csv_rec *r,
    char *why, size_t whylen)
{
	for (int i = 0; i < t->ncols; i++) {
		const unsigned char *p;
		unsigned char any = 0;
		size_t len;

		if (t->idx[i] < 0)
			continue;
		p = (const unsigned char *)r->f[t->idx[i]].p;
		len = r->f[t->idx[i]].len;
		if (len > t->cols[i].maxlen)
			return errf(why, whylen,
			    "%s is %zu bytes long, longer than %zu",
			    t->cols[i].name, len, t->cols[i].maxlen);
		/* Fast path: printable ASCII only. */
		for (size_t k = 0; k < len; k++)
			any |= (unsigned char)((p[k] < 0x20) | (p[k] >= 0x7f));
		if (!any)
			continue;
		if (!utf8_valid((const char *)p, len))
			return errf(why, whylen, "%s is not valid UTF-8",
			    t->cols[i].name);
		for (size_t k = 0; k < len; k++)
			if (p[k] < 0x20 || p[k] == 0x7f)
				return errf(why, whylen,
				    "%s contains a control character",
				    t->cols[i].name);
	}
	return 0;
}

int
load_get_id_opt(const struct load_table *t, const struct csv_rec *r, int col,
    int64_t *out, int *present, char *why, size_t whylen)
{
	struct csv_field f = load_field(t, r, col);

	*present = f.len > 0;
	if (f.len == 0)
		return 0;
	if (parse_int64(f.p, f.len, 0, INT64_MAX, out) == -1)
		return load_bad(
		    t, col, f, "is not a whole number >= 0", why, whylen);
	return 0;
}

int
load_get_id(const struct load_table *t, const struct csv_rec *r, int col,
    int64_t *out, char *why, size_t whylen)
{
	int present;

	if (load_get_id_opt(t, r, col, out, &present, why, whylen) == -1)
		return -1;
	if (!present)
		return missing(t, col, why, whylen);
	return 0;
}

int
load_get_int_opt(const struct load_table *t, const struct csv_rec *r, int col,
    int64_t min, int64_t max, int64_t *out, int *present, char *why,
    size_t whylen)
{
	struct csv_field f = load_field(t, r, col);
	char what[96];

	*present = f.len > 0;
	if (f.len == 0)
		return 0;
	if (parse_int64(f.p, f.len, min, max, out) == -1) {
		snprintf(what, sizeof(what),
		    "is not a whole number from %lld to %lld", (long long)min,
		    (long long)max);
		return load_bad(t, col, f, what, why, whylen);
	}
	return 0;
}

int
load_get_num_opt(const struct load_table *t, const struct csv_rec *r, int col,
    double *out, int *present, char *why, size_t whylen)
{
	struct csv_field f = load_field(t, r, col);

	*present = f.len > 0;
	if (f.len == 0)
		return 0;
	if (parse_double(f.p, f.len, out) == -1)
		return load_bad(t, col, f, "is not a number", why, whylen);
	return 0;
}

int
load_get_date_opt(const struct load_table *t, const struct csv_rec *r, int col,
    int datetime, struct csv_field *out, int32_t *days, int *present, char *why,
    size_t whylen)
{
	struct csv_field f = load_field(t, r, col);
	int rc;

	*present = f.len > 0;
	out->p = f.p;
	out->len = 0;
	if (f.len == 0)
		return 0;
	rc = datetime ? date_parse_datetime(f.p, f.len, days)
		      : date_parse(f.p, f.len, days);
	if (rc == -1)
		return load_bad(t, col, f,
		    datetime ? "is not a date (YYYY-MM-DD, a time may follow)"
			     : "is not a date (YYYY-MM-DD)",
		    why, whylen);
	out->len = 10;
	return 0;
}

int
load_get_date(const struct load_table *t, const struct csv_rec *r, int col,
    int datetime, struct csv_field *out, int32_t *days, char *why,
    size_t whylen)
{
	int present;

	if (load_get_date_opt(
		t, r, col, datetime, out, days, &present, why, whylen) == -1)
		return -1;
	if (!present)
		return missing(t, col, why, whylen);
	return 0;
}

int
load_get_text(const struct load_table *t, const struct csv_rec *r, int col,
    struct csv_field *out, char *why, size_t whylen)
{
	*out = load_field(t, r, col);
	if (out->len == 0)
		return missing(t, col, why, whylen);
	return 0;
}

int
load_system_valid(const char *s, size_t len)
{
	if (len == 0 || len > LOAD_SYSTEM_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '.' ||
			c == '-'))
			return 0;
	}
	return 1;
}
