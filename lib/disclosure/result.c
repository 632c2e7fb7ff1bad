/*
 * result.c — owns the result document: struct result, its JSON (the
 * DESIGN.md section 7 contract), its printed table, and the Table and
 * Result messages tables travel in. It never decides what is released
 * (suppress.c and pool.c do): it shows a withheld cell as withheld, and
 * it trusts nothing from the wire until it has checked every field.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "result.h"
#include "suppress.h"
#include "util.h"

#define EN_DASH "\xe2\x80\x93"

struct result *
result_new(const char *query_id)
{
	struct result *r;

	if (strlen(query_id) >= RESULT_ID_MAX) {
		log_warnx("result: query id too long");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("result: calloc");
		return NULL;
	}
	strlcpy(r->query_id, query_id, sizeof(r->query_id));
	r->status = RESULT_RUNNING;
	return r;
}

static void
names_free(struct result_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
result_free(struct result *r)
{
	if (r == NULL)
		return;
	names_free(&r->sites.failed);
	names_free(&r->sites.timed_out);
	names_free(&r->sites.refused);
	table_free(r->pooled);
	pool_sites_free(r->by_site, r->nby_site);
	free(r);
}

int
result_add_name(struct result_names *l, const char *site)
{
	char **nv, *s;

	if ((s = strdup(site)) == NULL ||
	    (nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL) {
		log_warn("result: realloc");
		free(s);
		return -1;
	}
	nv[l->n++] = s;
	l->v = nv;
	return 0;
}

void
result_set_table(struct result *r, struct table *t)
{
	table_free(r->pooled);
	r->pooled = t;
	if (t == NULL)
		return;
	r->nstrata = t->nstrata;
	memcpy(r->strata, t->strata, sizeof(r->strata));
	r->min_cell = t->min_cell;
}

const char *
result_status_name(enum result_status s)
{
	switch (s) {
	case RESULT_RUNNING:
		return "running";
	case RESULT_COMPLETE:
		return "complete";
	case RESULT_PARTIAL:
		return "partial";
	case RESULT_FAILED:
		return "failed";
	}
	return "?";
}

/* ------------------------------------------------------------ JSON */

/* Sets o[k] = v, taking v; -1 if v is NULL or the set fails. */
static int
set(json_t *o, const char *k, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(o, k, v);
}

static json_t *
num(uint64_t n)
{
	return json_integer((json_int_t)n);
}

static int
cell_json(json_t *o, const struct cell *c)
{
	switch (c->state) {
	case CELL_COUNT:
		return set(o, "count", num(c->count));
	case CELL_INTERVAL:
		if (set(o, "low", num(c->low)) == -1)
			return -1;
		return set(o, "high", num(c->high));
	case CELL_PRIMARY:
	case CELL_COMPLEMENTARY:
		if (set(o, "suppressed", json_true()) == -1)
			return -1;
		return set(
		    o, "reason", json_string(table_state_name(c->state)));
	}
	return -1;
}

static json_t *
row_json(const struct table *t, const struct cell *c)
{
	json_t *o = json_object();

	for (int j = 0; o != NULL && j < t->nstrata; j++)
		if (set(o, table_stratum_name(t->strata[j]),
			json_string(c->key[j])) == -1) {
			json_decref(o);
			return NULL;
		}
	if (o != NULL && cell_json(o, c) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
rows_json(const struct table *t)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < t->ncells; i++) {
		json_t *o = row_json(t, &t->cells[i]);

		/* append_new takes o, even when it fails */
		if (o == NULL || json_array_append_new(a, o) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
total_json(const struct table *t)
{
	json_t *o;

	if (t == NULL)
		return json_null();
	if ((o = json_object()) != NULL && cell_json(o, &t->total) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
names_json(const struct result_names *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
sites_json(const struct result *r)
{
	json_t *o = json_object();

	if (o == NULL || set(o, "total", num(r->sites.total)) == -1 ||
	    set(o, "answered", num(r->sites.answered)) == -1 ||
	    set(o, "failed", names_json(&r->sites.failed)) == -1 ||
	    set(o, "timed_out", names_json(&r->sites.timed_out)) == -1 ||
	    set(o, "refused", names_json(&r->sites.refused)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
by_site_json(const struct result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < r->nby_site; i++) {
		const struct site_table *s = &r->by_site[i];
		json_t *o = json_object();

		if (o == NULL || set(o, "site", json_string(s->site)) == -1 ||
		    set(o, "rows", rows_json(s->table)) == -1 ||
		    set(o, "total", total_json(s->table)) == -1) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
		if (json_array_append_new(a, o) == -1) { /* it took o */
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
strata_json(const struct result *r)
{
	json_t *a = json_array();

	for (int i = 0; a != NULL && i < r->nstrata; i++)
		if (json_array_append_new(a,
			json_string(table_stratum_name(r->strata[i]))) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *
result_to_json(const struct result *r)
{
	static const struct table empty;
	json_t *o = json_object();

	if (o == NULL || set(o, "query_id", json_string(r->query_id)) == -1 ||
	    set(o, "status", json_string(result_status_name(r->status))) ==
		-1 ||
	    set(o, "min_cell", num(r->min_cell)) == -1 ||
	    set(o, "sites", sites_json(r)) == -1 ||
	    set(o, "strata", strata_json(r)) == -1 ||
	    set(o, "rows", rows_json(r->pooled ? r->pooled : &empty)) == -1 ||
	    set(o, "total", total_json(r->pooled)) == -1 ||
	    (r->by_site != NULL && set(o, "by_site", by_site_json(r)) == -1)) {
		log_warnx("result: cannot build JSON");
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ------------------------------------------------------------ text */

/* 1240 -> "1,240" */
static void
fmt_count(uint64_t n, char *buf, size_t len)
{
	char digits[32], out[48];
	int nd =
	    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	strlcpy(buf, out, len);
}

static void
fmt_cell(const struct cell *c, unsigned k, char *buf, size_t len)
{
	char a[48], b[48];

	switch (c->state) {
	case CELL_COUNT:
		fmt_count(c->count, buf, len);
		return;
	case CELL_INTERVAL:
		fmt_count(c->low, a, sizeof(a));
		fmt_count(c->high, b, sizeof(b));
		snprintf(buf, len, "%s" EN_DASH "%s", a, b);
		return;
	case CELL_PRIMARY:
		if (k > 0) {
			snprintf(buf, len, "<%u", k);
			return;
		}
		break;
	case CELL_COMPLEMENTARY:
		break;
	}
	strlcpy(buf, "suppressed", len);
}

/* Columns a UTF-8 string takes (one per code point). */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void
put(FILE *fp, const char *s, size_t w, int right)
{
	size_t n = width(s);

	for (; right && n < w; n++)
		fputc(' ', fp);
	for (; *s != '\0'; s++) /* no control character reaches a terminal */
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
	for (; !right && n < w; n++)
		fputc(' ', fp);
}

static void
print_table(FILE *fp, const struct table *t)
{
	size_t w[TABLE_MAX_STRATA + 1], label = 0;
	char buf[128];
	int n = t->nstrata;

	w[n] = width("count");
	for (int j = 0; j < n; j++)
		w[j] = width(table_stratum_name(t->strata[j]));
	for (size_t i = 0; i < t->ncells; i++) {
		for (int j = 0; j < n; j++)
			if (width(t->cells[i].key[j]) > w[j])
				w[j] = width(t->cells[i].key[j]);
		fmt_cell(&t->cells[i], t->min_cell, buf, sizeof(buf));
		if (width(buf) > w[n])
			w[n] = width(buf);
	}
	fmt_cell(&t->total, t->min_cell, buf, sizeof(buf));
	if (width(buf) > w[n])
		w[n] = width(buf);
	/* the total line's label spans the strata columns */
	for (int j = 0; j < n; j++)
		label += w[j] + 2;
	if (label < width("total") + 2) {
		if (n > 0)
			w[0] += width("total") + 2 - label;
		label = width("total") + 2;
	}
	if (n > 0) {
		for (int j = 0; j < n; j++) {
			put(fp, table_stratum_name(t->strata[j]), w[j], 0);
			fputs("  ", fp);
		}
		put(fp, "count", w[n], 1);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < t->ncells; i++) {
		for (int j = 0; j < n; j++) {
			put(fp, t->cells[i].key[j], w[j], 0);
			fputs("  ", fp);
		}
		fmt_cell(&t->cells[i], t->min_cell, buf, sizeof(buf));
		put(fp, buf, w[n], 1);
		fputc('\n', fp);
	}
	put(fp, "total", label, 0);
	fmt_cell(&t->total, t->min_cell, buf, sizeof(buf));
	put(fp, buf, w[n], 1);
	fputc('\n', fp);
}

static void
print_names(FILE *fp, const char *what, const struct result_names *l)
{
	if (l->n == 0)
		return;
	fprintf(fp, "; %s: ", what);
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			fputs(", ", fp);
		put(fp, l->v[i], 0, 0);
	}
}

int
result_print(FILE *fp, const struct result *r)
{
	fputs("query ", fp);
	put(fp, r->query_id, 0, 0);
	fprintf(fp, ": %s", result_status_name(r->status));
	if (r->min_cell > 0)
		fprintf(fp, ", counts under %u withheld", r->min_cell);
	fputs("\n\n", fp);
	if (r->pooled != NULL)
		print_table(fp, r->pooled);
	else
		fputs("no counts\n", fp);
	fprintf(fp, "\nsites: %u of %u answered", r->sites.answered,
	    r->sites.total);
	print_names(fp, "failed", &r->sites.failed);
	print_names(fp, "timed out", &r->sites.timed_out);
	print_names(fp, "refused", &r->sites.refused);
	fputc('\n', fp);
	for (size_t i = 0; i < r->nby_site; i++) {
		fputs("\nsite ", fp);
		put(fp, r->by_site[i].site, 0, 0);
		fputs("\n", fp);
		print_table(fp, r->by_site[i].table);
	}
	return ferror(fp) ? -1 : 0;
}

/* ------------------------------------------------------------ wire */

#define ALIGN(n)                                                               \
	(((n) + _Alignof(max_align_t) - 1) &                                   \
	    ~(size_t)(_Alignof(max_align_t) - 1))

static void
cell_to_proto(const struct cell *c, Tally__Cell *m)
{
	m->has_state = 1;
	switch (c->state) {
	case CELL_COUNT:
		m->state = TALLY__CELL_STATE__CELL_COUNT;
		m->has_count = 1;
		m->count = c->count;
		break;
	case CELL_INTERVAL:
		m->state = TALLY__CELL_STATE__CELL_INTERVAL;
		m->has_low = m->has_high = 1;
		m->low = c->low;
		m->high = c->high;
		break;
	case CELL_PRIMARY:
		m->state = TALLY__CELL_STATE__CELL_PRIMARY;
		break;
	case CELL_COMPLEMENTARY:
		m->state = TALLY__CELL_STATE__CELL_COMPLEMENTARY;
		break;
	}
}

Tally__Table *
table_to_proto(const struct table *t)
{
	size_t nk = t->ncells * (size_t)t->nstrata;
	size_t o_total = ALIGN(sizeof(Tally__Table));
	size_t o_cellp = o_total + ALIGN(sizeof(Tally__Cell));
	size_t o_cells = o_cellp + ALIGN(t->ncells * sizeof(Tally__Cell *));
	size_t o_keyp = o_cells + ALIGN(t->ncells * sizeof(Tally__Cell));
	size_t o_strata = o_keyp + ALIGN(nk * sizeof(char *));
	size_t o_keys =
	    o_strata + ALIGN((size_t)t->nstrata * sizeof(Tally__Stratum));
	char *base = calloc(1, o_keys + nk * TABLE_VALUE_MAX);
	Tally__Table *m = (Tally__Table *)(void *)base;

	if (base == NULL) {
		log_warn("result: calloc");
		return NULL;
	}
	tally__table__init(m);
	m->n_strata = (size_t)t->nstrata;
	m->strata = (Tally__Stratum *)(void *)(base + o_strata);
	for (int j = 0; j < t->nstrata; j++)
		m->strata[j] = (Tally__Stratum)t->strata[j];
	m->total = (Tally__Cell *)(void *)(base + o_total);
	tally__cell__init(m->total);
	cell_to_proto(&t->total, m->total);
	m->has_min_cell = 1;
	m->min_cell = t->min_cell;
	m->has_zeros_masked = 1;
	m->zeros_masked = t->zeros_masked != 0;
	m->n_cells = t->ncells;
	m->cells = t->ncells ? (Tally__Cell **)(void *)(base + o_cellp) : NULL;
	for (size_t i = 0; i < t->ncells; i++) {
		Tally__Cell *c = (Tally__Cell *)(void *)(base + o_cells) + i;

		tally__cell__init(c);
		c->n_key = (size_t)t->nstrata;
		c->key = (char **)(void *)(base + o_keyp) + i * t->nstrata;
		for (int j = 0; j < t->nstrata; j++) {
			c->key[j] = base + o_keys +
			    (i * t->nstrata + j) * TABLE_VALUE_MAX;
			memcpy(c->key[j], t->cells[i].key[j], TABLE_VALUE_MAX);
			c->key[j][TABLE_VALUE_MAX - 1] = '\0';
		}
		cell_to_proto(&t->cells[i], c);
		m->cells[i] = c;
	}
	return m;
}

void
table_proto_free(Tally__Table *m)
{
	free(m);
}

/* A printable UTF-8 string of fewer than max bytes. */
static int
text_ok(const char *s, size_t max)
{
	size_t len;

	if (s == NULL || (len = strnlen(s, max)) >= max || !utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
cell_from_proto(const Tally__Cell *m, struct cell *c, const char *what,
    char *err, size_t errlen)
{
	if (!m->has_state)
		return errf(err, errlen, "%s: no state", what);
	switch (m->state) {
	case TALLY__CELL_STATE__CELL_COUNT:
		if (!m->has_count || m->has_low || m->has_high)
			return errf(err, errlen,
			    "%s: a count takes a count only", what);
		c->state = CELL_COUNT;
		c->count = m->count;
		break;
	case TALLY__CELL_STATE__CELL_INTERVAL:
		if (m->has_count || !m->has_low || !m->has_high)
			return errf(err, errlen,
			    "%s: an interval takes low and high only", what);
		c->state = CELL_INTERVAL;
		c->low = m->low;
		c->high = m->high;
		break;
	case TALLY__CELL_STATE__CELL_PRIMARY:
	case TALLY__CELL_STATE__CELL_COMPLEMENTARY:
		if (m->has_count || m->has_low || m->has_high)
			return errf(err, errlen,
			    "%s: a withheld cell carries a number", what);
		c->state = m->state == TALLY__CELL_STATE__CELL_PRIMARY
		    ? CELL_PRIMARY
		    : CELL_COMPLEMENTARY;
		break;
	default:
		return errf(
		    err, errlen, "%s: unknown state %d", what, (int)m->state);
	}
	return 0;
}

struct table *
table_from_proto(const Tally__Table *m, char *err, size_t errlen)
{
	int strata[TABLE_MAX_STRATA];
	struct table *t;
	char what[32];

	if (m == NULL)
		return errf(err, errlen, "no table"), NULL;
	if (m->n_strata > TABLE_MAX_STRATA)
		return errf(err, errlen, "%zu strata, at most %d", m->n_strata,
			   TABLE_MAX_STRATA),
		       NULL;
	if (m->n_cells > TABLE_MAX_CELLS)
		return errf(err, errlen, "%zu cells, at most %d", m->n_cells,
			   TABLE_MAX_CELLS),
		       NULL;
	if (m->total == NULL || m->total->n_key != 0)
		return errf(err, errlen, "no total, or a total with a key"),
		       NULL;
	if (m->has_min_cell && m->min_cell > SUPPRESS_MAX_K)
		return errf(err, errlen, "min_cell %u", m->min_cell), NULL;
	for (size_t j = 0; j < m->n_strata; j++)
		strata[j] = (int)m->strata[j];
	if ((t = table_new(strata, (int)m->n_strata)) == NULL)
		return errf(err, errlen, "out of memory"), NULL;
	if (m->n_cells > 0 &&
	    (t->cells = calloc(m->n_cells, sizeof(*t->cells))) == NULL) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	t->cap = m->n_cells;
	for (size_t i = 0; i < m->n_cells; i++) {
		const Tally__Cell *mc = m->cells[i];
		const char *key[TABLE_MAX_STRATA];
		struct cell *c;

		snprintf(what, sizeof(what), "cell %zu", i + 1);
		if (mc == NULL || mc->n_key != m->n_strata) {
			errf(err, errlen, "%s: %zu key values for %zu strata",
			    what, mc ? mc->n_key : 0, m->n_strata);
			goto fail;
		}
		for (size_t j = 0; j < mc->n_key; j++) {
			if (!text_ok(mc->key[j], TABLE_VALUE_MAX)) {
				errf(err, errlen, "%s: bad key value", what);
				goto fail;
			}
			key[j] = mc->key[j];
		}
		if ((c = table_append(t, key)) == NULL) {
			errf(err, errlen, "%s: cannot add", what);
			goto fail;
		}
		if (cell_from_proto(mc, c, what, err, errlen) == -1)
			goto fail;
	}
	if (cell_from_proto(m->total, &t->total, "total", err, errlen) == -1)
		goto fail;
	t->min_cell = m->has_min_cell ? m->min_cell : 0;
	/* Unsaid means the cautious reading: a withheld cell may be 0. */
	t->zeros_masked = m->has_zeros_masked ? m->zeros_masked : 1;
	if (table_check(t, err, errlen) == -1)
		goto fail;
	return t;
fail:
	table_free(t);
	return NULL;
}

static int
outcome_add(struct result *r, const Tally__SiteOutcome *o)
{
	r->sites.total++;
	switch (o->state) {
	case TALLY__TASK_STATE__TASK_DONE:
		r->sites.answered++;
		return 0;
	case TALLY__TASK_STATE__TASK_FAILED:
		return result_add_name(&r->sites.failed, o->site);
	case TALLY__TASK_STATE__TASK_TIMED_OUT:
		return result_add_name(&r->sites.timed_out, o->site);
	case TALLY__TASK_STATE__TASK_REFUSED:
		return result_add_name(&r->sites.refused, o->site);
	default:
		return 0; /* still out */
	}
}

struct result *
result_from_proto(const Tally__Result *m, char *err, size_t errlen)
{
	struct result *r;
	struct table *t;
	char e[256];

	if (!text_ok(m->query_id, RESULT_ID_MAX))
		return errf(err, errlen, "bad query id"), NULL;
	if (m->n_by_site > POOL_MAX_SITES || m->n_sites > POOL_MAX_SITES)
		return errf(err, errlen, "more than %d sites", POOL_MAX_SITES),
		       NULL;
	if ((r = result_new(m->query_id)) == NULL)
		return errf(err, errlen, "out of memory"), NULL;
	switch (m->state) {
	case TALLY__QUERY_STATE__QUERY_RUNNING:
		r->status = RESULT_RUNNING;
		break;
	case TALLY__QUERY_STATE__QUERY_COMPLETE:
		r->status = RESULT_COMPLETE;
		break;
	case TALLY__QUERY_STATE__QUERY_PARTIAL:
		r->status = RESULT_PARTIAL;
		break;
	case TALLY__QUERY_STATE__QUERY_FAILED:
		r->status = RESULT_FAILED;
		break;
	default:
		errf(err, errlen, "unknown query state %d", (int)m->state);
		goto fail;
	}
	if (m->pooled != NULL) {
		if ((t = table_from_proto(m->pooled, e, sizeof(e))) == NULL) {
			errf(err, errlen, "pooled: %s", e);
			goto fail;
		}
		result_set_table(r, t);
	}
	if (m->n_by_site > 0 &&
	    (r->by_site = calloc(m->n_by_site, sizeof(*r->by_site))) == NULL) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < m->n_by_site; i++) {
		const Tally__SiteTable *s = m->by_site[i];

		if (s == NULL || !text_ok(s->site, TABLE_SITE_MAX)) {
			errf(err, errlen, "by_site %zu: bad site id", i + 1);
			goto fail;
		}
		if ((t = table_from_proto(s->table, e, sizeof(e))) == NULL) {
			errf(err, errlen, "by_site %s: %s", s->site, e);
			goto fail;
		}
		strlcpy(r->by_site[i].site, s->site, TABLE_SITE_MAX);
		r->by_site[i].table = t;
		r->nby_site++;
	}
	for (size_t i = 0; i < m->n_sites; i++) {
		const Tally__SiteOutcome *o = m->sites[i];

		if (o == NULL || !text_ok(o->site, TABLE_SITE_MAX)) {
			errf(err, errlen, "sites %zu: bad site id", i + 1);
			goto fail;
		}
		if (outcome_add(r, o) == -1) {
			errf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return r;
fail:
	result_free(r);
	return NULL;
}
