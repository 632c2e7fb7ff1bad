/*
 * query_json.c — owns the way in from people: a JSON query (the language
 * of docs/query-language.md) compiled into a canonical Tally__Query.
 *
 * It parses strictly (duplicate keys, unknown keys and wrong types are
 * errors), names the field path of every error ("criteria.all[2].
 * within_days: ..."), and compiles deterministically: the same question
 * written with other key order, whitespace, code order or repeated codes
 * gives the same bytes. It must never accept a query query_check() would
 * refuse, nor allocate without a bound (input length is capped first, node
 * and code counts while walking).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "date.h"
#include "query.h"
#include "table.h"
#include "util.h"

struct jc {
	Tally__Query *q; /* being built; every part malloc'd */
	size_t ncodes;	 /* codes seen so far, repeats included */
	char path[2560]; /* field path: 256 levels of "all[255]." fit */
	size_t plen;
	char *err;
	size_t errlen;
};

static const char *const event_kinds =
    "diagnosis, lab, drug, procedure or visit";
static const char *const all_kinds = "diagnosis, lab, drug, procedure, "
				     "visit, age, sex, death, all, any, not";

/* ---------------------------------------------------------------- paths */

/*
 * The path grows as the walk descends and shrinks on the way back up; an
 * error ends the walk, so error paths never shrink it.
 */
static size_t jc_push(struct jc *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static int jc_err(struct jc *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
jc_push(struct jc *jc, const char *fmt, ...)
{
	size_t old = jc->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(jc->path + old, sizeof(jc->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		jc->plen += (size_t)n;
	if (jc->plen >= sizeof(jc->path))
		jc->plen = sizeof(jc->path) - 1;
	return old;
}

static void
jc_pop(struct jc *jc, size_t old)
{
	jc->plen = old;
	jc->path[old] = '\0';
}

/* Field name: ".key" below the top, "key" at it. */
static size_t
jc_key(struct jc *jc, const char *key)
{
	return jc_push(jc, jc->plen ? ".%s" : "%s", key);
}

static int
jc_err(struct jc *jc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (jc->plen == 0)
		return errf(jc->err, jc->errlen, "%s", msg);
	if (jc->plen <= 160) /* else keep the end, where the error is */
		return errf(jc->err, jc->errlen, "%s: %s", jc->path, msg);
	return errf(
	    jc->err, jc->errlen, "...%s: %s", jc->path + jc->plen - 150, msg);
}

static int
oom(struct jc *jc)
{
	return errf(jc->err, jc->errlen, "out of memory");
}

/* Printable excerpt of an untrusted string for a message. */
static const char *
show(const char *s, char out[64])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 40; i++)
		out[i] =
		    s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
	strlcpy(out + i, s[i] != '\0' ? "..." : "", 4);
	return out;
}

static int
in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return (int)i;
	return -1;
}

/* Every key of obj is one of list; expect names them for the message. */
static int
jc_keys(struct jc *jc, json_t *obj, const char *const *list, size_t n,
    const char *expect)
{
	const char *key;
	json_t *v;
	char buf[64];

	json_object_foreach(obj, key, v)
	{
		if (in_list(key, list, n) < 0) {
			jc_key(jc, show(key, buf));
			return jc_err(jc, "unknown key; expected %s", expect);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- leaves */

static int
strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and de-duplicates a code list: order and repeats carry no
 * meaning, and the canonical bytes must not depend on them. */
static void
codes_canon(Tally__Criterion *c)
{
	size_t i, n = 0;

	qsort(c->codes, c->n_codes, sizeof(*c->codes), strcmp_p);
	for (i = 0; i < c->n_codes; i++) {
		if (n > 0 && strcmp(c->codes[n - 1], c->codes[i]) == 0)
			free(c->codes[i]);
		else
			c->codes[n++] = c->codes[i];
	}
	c->n_codes = n;
}

static int
parse_codes(struct jc *jc, json_t *v, Tally__Criterion *c)
{
	char why[200];
	size_t i, n;
	json_t *e;

	if (!json_is_array(v) || (n = json_array_size(v)) == 0)
		return jc_err(jc, "expected an array of codes, e.g. %s",
		    "[\"KCD8:I48*\"]");
	if ((c->codes = calloc(n, sizeof(*c->codes))) == NULL)
		return oom(jc);
	json_array_foreach(v, i, e)
	{
		size_t old = jc_push(jc, "[%zu]", i);
		if (!json_is_string(e))
			return jc_err(jc, "expected a string");
		if (++jc->ncodes > QUERY_MAX_CODES)
			return jc_err(jc, "more than %d codes in the query",
			    QUERY_MAX_CODES);
		if (query_code_check(json_string_value(e), why, sizeof(why)))
			return jc_err(jc, "%s", why);
		if ((c->codes[i] = strdup(json_string_value(e))) == NULL)
			return oom(jc);
		c->n_codes++;
		jc_pop(jc, old);
	}
	codes_canon(c);
	return 0;
}

/*
 * An array of words from a fixed list (sorted, its last entry the phrase
 * for messages), kept as a set in the list's order.
 */
static int
parse_words(struct jc *jc, json_t *v, const char *const *list, size_t nlist,
    char ***out, size_t *nout)
{
	unsigned set = 0;
	char buf[64];
	size_t i;
	json_t *e;
	int w;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return jc_err(jc, "expected an array of %s", list[nlist]);
	json_array_foreach(v, i, e)
	{
		size_t old = jc_push(jc, "[%zu]", i);
		if (!json_is_string(e))
			return jc_err(jc, "expected %s", list[nlist]);
		if ((w = in_list(json_string_value(e), list, nlist)) < 0)
			return jc_err(jc, "\"%s\" is not %s",
			    show(json_string_value(e), buf), list[nlist]);
		jc_pop(jc, old);
		set |= 1u << w;
	}
	if ((*out = calloc(nlist, sizeof(**out))) == NULL)
		return oom(jc);
	for (i = 0; i < nlist; i++)
		if ((set & (1u << i)) &&
		    ((*out)[(*nout)++] = strdup(list[i])) == NULL)
			return oom(jc);
	return 0;
}

static const char *const visit_words[] = { "emergency", "inpatient",
	"outpatient", "outpatient, inpatient or emergency" };
static const char *const sex_words[] = { "F", "M", "U", "M, F or U" };

/* A member that must be an integer in [min, max]; absent is fine. */
static int
member_int(struct jc *jc, json_t *obj, const char *key, long long min,
    long long max, protobuf_c_boolean *has, long long *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;

	if (v == NULL)
		return 0;
	old = jc_key(jc, key);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return jc_err(jc, "expected an integer %lld..%lld", min, max);
	jc_pop(jc, old);
	*out = json_integer_value(v);
	*has = 1;
	return 0;
}

static int
member_real(struct jc *jc, json_t *obj, const char *key,
    protobuf_c_boolean *has, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v)) {
		jc_key(jc, key);
		return jc_err(jc, "expected a number");
	}
	*out = json_number_value(v);
	*has = 1;
	return 0;
}

/* A string of at most max bytes without control characters; "" is the
 * same as absent. */
static int
parse_text(struct jc *jc, json_t *v, size_t max, char **out)
{
	const char *s = json_string_value(v);
	size_t len;

	if (s == NULL)
		return jc_err(jc, "expected a string");
	for (len = 0; s[len] != '\0'; len++)
		if ((unsigned char)s[len] < 0x20 || s[len] == 0x7f)
			return jc_err(
			    jc, "control character at byte %zu", len + 1);
	if (len > max)
		return jc_err(jc, "%zu bytes, at most %zu", len, max);
	if (len > 0 && (*out = strdup(s)) == NULL)
		return oom(jc);
	return 0;
}

static int
member_date(
    struct jc *jc, json_t *obj, const char *key, char **out, int32_t *days)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	char buf[64];
	size_t old;

	if (v == NULL)
		return 0;
	old = jc_key(jc, key);
	if (!json_is_string(v))
		return jc_err(jc, "expected a date string (YYYY-MM-DD)");
	s = json_string_value(v);
	if (date_parse(s, strlen(s), days) == -1)
		return jc_err(
		    jc, "\"%s\" is not a date (YYYY-MM-DD)", show(s, buf));
	jc_pop(jc, old);
	if ((*out = strdup(s)) == NULL)
		return oom(jc);
	return 0;
}

/* ---------------------------------------------------------------- kinds */

static int
parse_lab_value(struct jc *jc, json_t *v, Tally__Criterion *c)
{
	static const char *const keys[] = { "min", "max" };
	size_t old = jc_key(jc, "value");

	if (!json_is_object(v))
		return jc_err(
		    jc, "expected {\"min\": number, \"max\": number}");
	if (jc_keys(jc, v, keys, 2, "min, max") == -1 ||
	    member_real(jc, v, "min", &c->has_value_min, &c->value_min) ||
	    member_real(jc, v, "max", &c->has_value_max, &c->value_max))
		return -1;
	if (c->has_value_min && c->has_value_max && c->value_min > c->value_max)
		return jc_err(
		    jc, "min %g is above max %g", c->value_min, c->value_max);
	jc_pop(jc, old);
	return 0;
}

/* The body of an event kind: {"codes": [...]} and, for lab, value and
 * unit; for visit, {"types": [...]} (the visit table has no codes). */
static int
parse_event(struct jc *jc, int kind, json_t *body, Tally__Criterion *c)
{
	static const char *const keys[] = { "codes", "value", "unit" };
	static const char *const visit_keys[] = { "types" };
	int lab = kind == TALLY__KIND__KIND_LAB;
	size_t old;
	json_t *v;

	if (!json_is_object(body))
		return jc_err(jc, "expected an object");
	if (kind == TALLY__KIND__KIND_VISIT) {
		if (jc_keys(jc, body, visit_keys, 1, "types") == -1)
			return -1;
		if ((v = json_object_get(body, "types")) == NULL)
			return jc_err(jc, "missing \"types\"");
		old = jc_key(jc, "types");
		if (parse_words(jc, v, visit_words, 3, &c->visit_types,
			&c->n_visit_types) == -1)
			return -1;
		jc_pop(jc, old);
		return 0;
	}
	if (jc_keys(jc, body, keys, lab ? 3 : 1,
		lab ? "codes, value, unit" : "codes") == -1)
		return -1;
	if ((v = json_object_get(body, "codes")) == NULL)
		return jc_err(jc, "missing \"codes\"");
	old = jc_key(jc, "codes");
	if (parse_codes(jc, v, c) == -1)
		return -1;
	jc_pop(jc, old);
	if ((v = json_object_get(body, "value")) != NULL &&
	    parse_lab_value(jc, v, c) == -1)
		return -1;
	if ((v = json_object_get(body, "unit")) == NULL)
		return 0;
	jc_key(jc, "unit");
	return parse_text(jc, v, QUERY_MAX_UNIT, &c->unit);
}

static int
parse_age(struct jc *jc, json_t *body, Tally__Criterion *c)
{
	static const char *const keys[] = { "min", "max" };
	long long min = 0, max = 0;

	if (!json_is_object(body))
		return jc_err(jc, "expected {\"min\": years, \"max\": years}");
	if (jc_keys(jc, body, keys, 2, "min, max") == -1 ||
	    member_int(jc, body, "min", 0, QUERY_MAX_AGE, &c->has_age_min,
		&min) == -1 ||
	    member_int(
		jc, body, "max", 0, QUERY_MAX_AGE, &c->has_age_max, &max) == -1)
		return -1;
	c->age_min = (int32_t)min;
	c->age_max = (int32_t)max;
	if (c->has_age_min && c->has_age_max && min > max)
		return jc_err(jc, "min %lld is above max %lld", min, max);
	return 0;
}

static int
parse_death(struct jc *jc, json_t *body)
{
	if (!json_is_object(body) || json_object_size(body) != 0)
		return jc_err(jc, "expected {} (a window goes beside it)");
	return 0;
}

/* ---------------------------------------------------------------- tree */

static int parse_crit(struct jc *, json_t *);

static const char *const kind_keys[] = { "all", "any", "not", "diagnosis",
	"lab", "drug", "procedure", "visit", "age", "sex", "death" };

/* Tally__Kind of a kind key, or 0. */
static int
kind_of(const char *key)
{
	int i = in_list(key, kind_keys, nitems(kind_keys));

	return i < 0 ? 0 : i + 1;
}

static int
is_event(int kind)
{
	return kind >= TALLY__KIND__KIND_DIAGNOSIS &&
	    kind <= TALLY__KIND__KIND_VISIT;
}

/* all/any: a non-empty array; not: one criterion. */
static int
parse_children(struct jc *jc, int kind, json_t *body, Tally__Criterion *c)
{
	size_t i, n = 1;
	json_t *e;
	int k;

	if (kind == TALLY__KIND__KIND_NOT) {
		if (!json_is_object(body))
			return jc_err(jc, "expected one criterion object");
	} else if (!json_is_array(body) || (n = json_array_size(body)) == 0)
		return jc_err(jc, "expected a non-empty array of criteria");
	if (n > QUERY_MAX_NODES)
		return jc_err(jc, "more than %d criteria", QUERY_MAX_NODES);
	if ((c->children = calloc(n, sizeof(*c->children))) == NULL)
		return oom(jc);
	c->n_children = n;
	if (kind == TALLY__KIND__KIND_NOT) {
		if ((k = parse_crit(jc, body)) == -1)
			return -1;
		c->children[0] = (uint32_t)k;
		return 0;
	}
	json_array_foreach(body, i, e)
	{
		size_t old = jc_push(jc, "[%zu]", i);
		if ((k = parse_crit(jc, e)) == -1)
			return -1;
		c->children[i] = (uint32_t)k;
		jc_pop(jc, old);
	}
	return 0;
}

static int
parse_body(struct jc *jc, int kind, json_t *body, Tally__Criterion *c)
{
	switch (kind) {
	case TALLY__KIND__KIND_ALL:
	case TALLY__KIND__KIND_ANY:
	case TALLY__KIND__KIND_NOT:
		return parse_children(jc, kind, body, c);
	case TALLY__KIND__KIND_AGE:
		return parse_age(jc, body, c);
	case TALLY__KIND__KIND_SEX:
		return parse_words(
		    jc, body, sex_words, 3, &c->sexes, &c->n_sexes);
	case TALLY__KIND__KIND_DEATH:
		return parse_death(jc, body);
	default:
		return parse_event(jc, kind, body, c);
	}
}

static int
parse_window(struct jc *jc, json_t *v, Tally__Criterion *c)
{
	json_t *a, *b;

	a = json_array_get(v, 0);
	b = json_array_get(v, 1);
	if (!json_is_array(v) || json_array_size(v) != 2 ||
	    !json_is_integer(a) || !json_is_integer(b) ||
	    json_integer_value(a) > json_integer_value(b))
		return jc_err(jc, "expected [from, to] with from <= to");
	if (json_integer_value(a) < -QUERY_MAX_DAYS ||
	    json_integer_value(b) > QUERY_MAX_DAYS)
		return jc_err(jc, "days must lie within -%d..%d",
		    QUERY_MAX_DAYS, QUERY_MAX_DAYS);
	c->has_window_from = c->has_window_to = 1;
	c->window_from = (int32_t)json_integer_value(a);
	c->window_to = (int32_t)json_integer_value(b);
	return 0;
}

/* within_days, at_least, at_most beside the kind key. */
static int
parse_modifiers(struct jc *jc, json_t *obj, int kind, Tally__Criterion *c)
{
	static const char *const keys[] = { "within_days", "at_least",
		"at_most" };
	protobuf_c_boolean has = 0;
	long long least = 1, most = 0;
	json_t *w;
	size_t old;

	for (int i = 0; i < 3; i++) {
		if (json_object_get(obj, keys[i]) == NULL || is_event(kind) ||
		    (i == 0 && kind == TALLY__KIND__KIND_DEATH))
			continue;
		jc_key(jc, keys[i]);
		return jc_err(
		    jc, "not allowed with \"%s\"", query_kind_name(kind));
	}
	if ((w = json_object_get(obj, "within_days")) != NULL) {
		old = jc_key(jc, "within_days");
		if (parse_window(jc, w, c) == -1)
			return -1;
		jc_pop(jc, old);
	}
	if (member_int(jc, obj, "at_least", 0, QUERY_MAX_COUNT, &has, &least) ==
		-1 ||
	    member_int(jc, obj, "at_most", 0, QUERY_MAX_COUNT, &c->has_at_most,
		&most) == -1)
		return -1;
	/* Always set on event kinds, the default 1 included: a reader of
	 * at_least who forgets has_at_least must not see protobuf's 0. */
	c->has_at_least = is_event(kind);
	c->at_least = (uint32_t)least;
	c->at_most = (uint32_t)most;
	if (c->has_at_most && most < least) {
		jc_key(jc, "at_most");
		return jc_err(jc, "%lld is below at_least %lld%s", most, least,
		    has ? "" : " (the default; use at_least: 0)");
	}
	return 0;
}

/*
 * The kind key of a criterion object, or of the index object (index != 0:
 * an event kind), beside the keys in others; exactly one.
 */
static int
find_kind(struct jc *jc, json_t *obj, int index, const char **kkey)
{
	static const char *const mods[] = { "within_days", "at_least",
		"at_most", "occurrence" };
	const char *key, *kinds = index ? event_kinds : all_kinds;
	json_t *v;
	char buf[64];
	size_t old;
	int kind;

	*kkey = NULL;
	json_object_foreach(obj, key, v)
	{
		if (in_list(key, mods + (index ? 3 : 0), index ? 1 : 3) >= 0)
			continue;
		old = jc_key(jc, show(key, buf));
		if ((kind = kind_of(key)) == 0)
			return jc_err(jc, "unknown key; expected %s (%s)%s",
			    index ? "an event kind" : "a criterion", kinds,
			    index ? " or occurrence"
				  : ", within_days, at_least or at_most");
		if (index && !is_event(kind))
			return jc_err(jc,
			    "cannot be an index event; expected "
			    "%s",
			    kinds);
		if (*kkey != NULL)
			return jc_err(jc, "a second kind beside \"%s\"%s",
			    *kkey, index ? "" : "; combine with all or any");
		jc_pop(jc, old);
		*kkey = key;
	}
	if (*kkey == NULL)
		return jc_err(jc, "no %s; expected one of %s",
		    index ? "event kind" : "criterion", kinds);
	return kind_of(*kkey);
}

/* Compiles one criterion object; returns its node index or -1. Parents
 * come before their children (pre-order), so children > parent. */
static int
parse_crit(struct jc *jc, json_t *obj)
{
	Tally__Criterion *c;
	const char *kkey;
	size_t old;
	int kind, idx;

	if (!json_is_object(obj))
		return jc_err(jc, "expected a criterion object");
	if ((kind = find_kind(jc, obj, 0, &kkey)) == -1)
		return -1;
	if ((idx = (int)jc->q->n_criteria) >= QUERY_MAX_NODES)
		return jc_err(jc, "more than %d criteria", QUERY_MAX_NODES);
	if ((c = malloc(sizeof(*c))) == NULL)
		return oom(jc);
	tally__criterion__init(c);
	c->has_kind = 1;
	c->kind = kind;
	jc->q->criteria[jc->q->n_criteria++] = c;
	old = jc_key(jc, kkey);
	if (parse_body(jc, kind, json_object_get(obj, kkey), c) == -1)
		return -1;
	jc_pop(jc, old);
	if (parse_modifiers(jc, obj, kind, c) == -1)
		return -1;
	return idx;
}

/* ---------------------------------------------------------------- query */

static int
parse_index(struct jc *jc, json_t *obj)
{
	static const char *const occ[] = { "first", "last", "all" };
	const char *kkey;
	Tally__Criterion *c;
	json_t *v;
	size_t old;
	int kind, o;

	if (!json_is_object(obj))
		return jc_err(jc, "expected an object, e.g. %s",
		    "{\"diagnosis\": {\"codes\": [\"KCD8:I48*\"]}}");
	if ((kind = find_kind(jc, obj, 1, &kkey)) == -1)
		return -1;
	if ((c = jc->q->index = malloc(sizeof(*c))) == NULL)
		return oom(jc);
	tally__criterion__init(c);
	c->has_kind = 1;
	c->kind = kind;
	old = jc_key(jc, kkey);
	if (parse_event(jc, kind, json_object_get(obj, kkey), c) == -1)
		return -1;
	jc_pop(jc, old);
	if ((v = json_object_get(obj, "occurrence")) == NULL)
		return 0;
	jc_key(jc, "occurrence");
	if (!json_is_string(v) ||
	    (o = in_list(json_string_value(v), occ, 3)) < 0)
		return jc_err(jc, "expected \"first\", \"last\" or \"all\"");
	jc_pop(jc, old);
	if (o != TALLY__OCCURRENCE__OCCURRENCE_FIRST) { /* the default */
		jc->q->has_occurrence = 1;
		jc->q->occurrence = o;
	}
	return 0;
}

static int
parse_period(struct jc *jc, json_t *obj)
{
	static const char *const keys[] = { "from", "to" };
	int32_t from = 0, to = 0;

	if (!json_is_object(obj))
		return jc_err(jc,
		    "expected {\"from\": \"YYYY-MM-DD\", "
		    "\"to\": \"YYYY-MM-DD\"}");
	if (jc_keys(jc, obj, keys, 2, "from, to") == -1 ||
	    member_date(jc, obj, "from", &jc->q->period_from, &from) == -1 ||
	    member_date(jc, obj, "to", &jc->q->period_to, &to) == -1)
		return -1;
	if (jc->q->period_from != NULL && jc->q->period_to != NULL && from > to)
		return jc_err(jc, "from %s is after to %s", jc->q->period_from,
		    jc->q->period_to);
	return 0;
}

static int
parse_strata(struct jc *jc, json_t *arr)
{
	unsigned seen = 0;
	char buf[64];
	size_t i, n;
	json_t *e;
	int s;

	if (!json_is_array(arr))
		return jc_err(jc, "expected an array of stratum names");
	if ((n = json_array_size(arr)) > QUERY_MAX_STRATA)
		return jc_err(
		    jc, "%zu strata, at most %d", n, QUERY_MAX_STRATA);
	if (n > 0 &&
	    (jc->q->strata = calloc(n, sizeof(*jc->q->strata))) == NULL)
		return oom(jc);
	json_array_foreach(arr, i, e)
	{
		size_t old = jc_push(jc, "[%zu]", i);
		if (!json_is_string(e))
			return jc_err(jc, "expected a stratum name");
		if ((s = table_stratum_parse(json_string_value(e))) == -1)
			return jc_err(jc,
			    "unknown stratum \"%s\"; expected "
			    "sex, age_band, index_year, site, "
			    "consortium",
			    show(json_string_value(e), buf));
		if (seen & (1u << s))
			return jc_err(
			    jc, "\"%s\" repeated", json_string_value(e));
		seen |= 1u << s;
		jc->q->strata[jc->q->n_strata++] = s;
		jc_pop(jc, old);
	}
	return 0;
}

static int
parse_title(struct jc *jc, json_t *v)
{
	return parse_text(jc, v, QUERY_MAX_TITLE, &jc->q->title);
}

static int
parse_criteria(struct jc *jc, json_t *v)
{
	if ((jc->q->criteria =
		    calloc(QUERY_MAX_NODES, sizeof(*jc->q->criteria))) == NULL)
		return oom(jc);
	return parse_crit(jc, v) == -1 ? -1 : 0;
}

static int
parse_by_site(struct jc *jc, json_t *v)
{
	if (!json_is_boolean(v))
		return jc_err(jc, "expected true or false");
	if (json_is_true(v)) /* false is the default: leave it unset */
		jc->q->has_by_site = jc->q->by_site = 1;
	return 0;
}

static const struct member {
	const char *key;
	int (*parse)(struct jc *, json_t *);
} members[] = { { "title", parse_title }, { "index", parse_index },
	{ "period", parse_period }, { "criteria", parse_criteria },
	{ "strata", parse_strata }, { "by_site", parse_by_site } };

static int
parse_top(struct jc *jc, json_t *root)
{
	const char *key;
	char buf[64];
	json_t *v;
	size_t i;

	if (!json_is_object(root))
		return jc_err(jc, "expected a JSON object at the top level");
	json_object_foreach(root, key, v)
	{
		for (i = 0; i < nitems(members); i++)
			if (strcmp(key, members[i].key) == 0)
				break;
		if (i == nitems(members)) {
			jc_key(jc, show(key, buf));
			return jc_err(jc,
			    "unknown key; expected title, index, "
			    "period, criteria, strata, by_site");
		}
	}
	if (json_object_get(root, "index") == NULL)
		return jc_err(jc, "index: missing (the index event)");
	/* In a fixed order, so that the first error does not depend on the
	 * order of the keys. */
	for (i = 0; i < nitems(members); i++) {
		if ((v = json_object_get(root, members[i].key)) == NULL)
			continue;
		jc_key(jc, members[i].key);
		if (members[i].parse(jc, v) == -1)
			return -1;
		jc_pop(jc, 0);
	}
	return 0;
}

/* Compiled, then through the wire form, so that what a caller gets here is
 * exactly what a peer gets from query_unpack() of the same bytes. */
int
query_from_json(
    const char *text, size_t len, Tally__Query **out, char *err, size_t errlen)
{
	struct jc jc;
	json_error_t je;
	json_t *root;
	uint8_t *buf = NULL;
	size_t blen;
	int rc = -1;

	*out = NULL;
	if (len > QUERY_MAX_BYTES)
		return errf(err, errlen,
		    "query of %zu bytes exceeds the %u "
		    "byte limit",
		    len, QUERY_MAX_BYTES);
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return errf(err, errlen, "line %d, column %d: %s", je.line,
		    je.column, je.text);
	memset(&jc, 0, sizeof(jc));
	jc.err = err;
	jc.errlen = errlen;
	if ((jc.q = malloc(sizeof(*jc.q))) == NULL) {
		json_decref(root);
		return oom(&jc);
	}
	tally__query__init(jc.q);
	jc.q->has_version = 1;
	jc.q->version = QUERY_VERSION;
	if (parse_top(&jc, root) == 0) {
		if ((buf = query_pack(jc.q, &blen)) == NULL)
			errf(err, errlen, "compiled query too large");
		else if ((*out = query_unpack(buf, blen, err, errlen)) != NULL)
			rc = 0;
	}
	free(buf);
	tally__query__free_unpacked(jc.q, NULL);
	json_decref(root);
	return rc;
}
