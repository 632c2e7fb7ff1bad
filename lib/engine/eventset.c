/*
 * eventset.c — owns reading an event criterion's rows from the Baseline
 * DB: the constant SQL (one covering index per table, named with INDEXED
 * BY so that a plan never silently degrades to a table scan), binding,
 * per-row filters, scans and the listing of codes under prefixes (the
 * walk is eventset_walk.c). Every value is bound; no text from a query
 * is ever part of a statement. It never decides what a row means for a
 * cohort.
 */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "eventset.h"
#include "util.h"

enum {
	OP_SCAN_EXACT,
	OP_SCAN_PREFIX, /* VISIT: every visit */
	OP_WALK,	/* one code, from (:pid, :dlo) on; VISIT: every visit */
	OP_ENUM_FIRST,
	OP_ENUM_NEXT,
	OP_SCAN_EXACT_UNIT, /* LAB with a unit: reads the table row too */
	OP_SCAN_PREFIX_UNIT,
	OP_WALK_UNIT,
	OP_WALK_TYPE, /* VISIT with types */
	OP_MAX
};

/* Result columns: person_id, date[, value_num[, unit]]. Parameters by
 * name: :sys :lo :hi :pid :dlo. A walk's row-value bound makes SQLite
 * seek straight to (code, person, date) in the covering index. */
/* clang-format off */
#define SEL(tab, cols, idx) "SELECT person_id, " cols " FROM " tab \
	" INDEXED BY " idx " WHERE "
#define EXACT		"code_system = :sys AND code = :lo"
#define PREFIX		"code_system = :sys AND code >= :lo AND code < :hi"
#define WALK(date)	"code_system = :sys AND code = :lo" \
	" AND (person_id, " date ") >= (:pid, :dlo)"
#define ENUM(tab, idx, op) "SELECT code FROM " tab " INDEXED BY " idx \
	" WHERE code_system = :sys AND code " op " :lo AND code < :hi" \
	" ORDER BY code_system, code LIMIT 1"
#define CODED(tab, date, idx) { \
	[OP_SCAN_EXACT] = SEL(tab, date, idx) EXACT, \
	[OP_SCAN_PREFIX] = SEL(tab, date, idx) PREFIX, \
	[OP_WALK] = SEL(tab, date, idx) WALK(date), \
	[OP_ENUM_FIRST] = ENUM(tab, idx, ">="), \
	[OP_ENUM_NEXT] = ENUM(tab, idx, ">"), \
}
#define LABV	"lab_date, value_num"
#define LABU	"lab_date, value_num, unit"

static const char *const sql[5][OP_MAX] = {
	CODED("diagnosis", "diag_date", "diagnosis_code"),
	{
		[OP_SCAN_EXACT] = SEL("lab", LABV, "lab_code") EXACT,
		[OP_SCAN_PREFIX] = SEL("lab", LABV, "lab_code") PREFIX,
		[OP_WALK] = SEL("lab", LABV, "lab_code") WALK("lab_date"),
		[OP_ENUM_FIRST] = ENUM("lab", "lab_code", ">="),
		[OP_ENUM_NEXT] = ENUM("lab", "lab_code", ">"),
		[OP_SCAN_EXACT_UNIT] = SEL("lab", LABU, "lab_code") EXACT,
		[OP_SCAN_PREFIX_UNIT] = SEL("lab", LABU, "lab_code") PREFIX,
		[OP_WALK_UNIT] = SEL("lab", LABU, "lab_code")
		    WALK("lab_date"),
	},
	CODED("drug", "start_date", "drug_code"),
	CODED("procedure", "proc_date", "procedure_code"),
	{
		[OP_SCAN_EXACT] = SEL("visit", "start_date", "visit_type")
		    "visit_type = :lo",
		[OP_SCAN_PREFIX] = "SELECT person_id, start_date FROM visit"
		    " INDEXED BY visit_person",
		[OP_WALK] = SEL("visit", "start_date", "visit_person")
		    "(person_id, start_date) >= (:pid, :dlo)",
		[OP_WALK_TYPE] = SEL("visit", "start_date", "visit_type")
		    "visit_type = :lo AND (person_id, start_date) >= (:pid, :dlo)",
	},
};
/* clang-format on */

static int
table_of(int kind)
{
	switch (kind) {
	case TALLY__KIND__KIND_DIAGNOSIS:
		return 0;
	case TALLY__KIND__KIND_LAB:
		return 1;
	case TALLY__KIND__KIND_DRUG:
		return 2;
	case TALLY__KIND__KIND_PROCEDURE:
		return 3;
	default:
		return 4;
	}
}

static sqlite3_stmt *
stmt(struct dbsafe *ds, int kind, int op, char *err, size_t errlen)
{
	int t = table_of(kind);

	return dbsafe_stmt(
	    ds, (unsigned)(t * OP_MAX + op), sql[t][op], err, errlen);
}

int
eventset_prepare(struct dbsafe *ds, char *err, size_t errlen)
{
	static const int kinds[] = { TALLY__KIND__KIND_DIAGNOSIS,
		TALLY__KIND__KIND_LAB, TALLY__KIND__KIND_DRUG,
		TALLY__KIND__KIND_PROCEDURE, TALLY__KIND__KIND_VISIT };

	for (size_t k = 0; k < nitems(kinds); k++)
		for (int op = 0; op < OP_MAX; op++)
			if (sql[table_of(kinds[k])][op] != NULL &&
			    stmt(ds, kinds[k], op, err, errlen) == NULL)
				return -1;
	return 0;
}

/* Binds text to the named parameter if the statement has it. */
static int
bind(sqlite3_stmt *st, const char *name, const char *s)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i == 0)
		return 0;
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) == SQLITE_OK ? 0
									   : -1;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

int
eventset_parse_day(const char *s, size_t n, int32_t *day)
{
	static const int16_t before[2][13] = {
		{ 0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 },
		{ 0, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335 },
	};
	static const uint8_t len[2][13] = {
		{ 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
		{ 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
	};
	unsigned y0, y1, y2, y3, m0, m1, d0, d1;
	int y, m, d, leap, py;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y0 = (unsigned)(s[0] - '0'), y1 = (unsigned)(s[1] - '0');
	y2 = (unsigned)(s[2] - '0'), y3 = (unsigned)(s[3] - '0');
	m0 = (unsigned)(s[5] - '0'), m1 = (unsigned)(s[6] - '0');
	d0 = (unsigned)(s[8] - '0'), d1 = (unsigned)(s[9] - '0');
	/* Unsigned: a byte below '0' wraps far above 9. */
	if (y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 ||
	    d0 > 9 || d1 > 9)
		return -1;
	y = (int)(y0 * 1000 + y1 * 100 + y2 * 10 + y3);
	m = (int)(m0 * 10 + m1);
	d = (int)(d0 * 10 + d1);
	if (y < DATE_MIN_YEAR || y > DATE_MAX_YEAR || m < 1 || m > 12 || d < 1)
		return -1;
	leap = (y & 3) == 0 && (y % 100 != 0 || y % 400 == 0);
	if (d > len[leap][m])
		return -1;
	/* Leap days before year y, counted from year 1 (477 before 1970). */
	py = y - 1;
	*day = 365 * (y - 1970) + (py / 4 - py / 100 + py / 400) - 477 +
	    before[leap][m] + d - 1;
	return 0;
}

static int
row_day(sqlite3_stmt *st, int col, int32_t *day)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (s == NULL)
		return -1;
	return eventset_parse_day(
	    s, (size_t)sqlite3_column_bytes(st, col), day);
}

/* 1 if the current row passes the lab value range and unit. */
static int
passes(const struct eventset *es, sqlite3_stmt *st)
{
	if (es->has_min || es->has_max) {
		int t = sqlite3_column_type(st, 2);
		double v;

		/* NULL (or text) fails any value range. */
		if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
			return 0;
		v = sqlite3_column_double(st, 2);
		if ((es->has_min && v < es->vmin) ||
		    (es->has_max && v > es->vmax))
			return 0;
	}
	if (es->unit[0] != '\0') {
		const char *u = (const char *)sqlite3_column_text(st, 3);

		if (u == NULL || !ascii_caseeq(u, es->unit))
			return 0;
	}
	return 1;
}

int
evrow_day(struct evrow *r)
{
	if (r->state == 0)
		r->state = row_day(r->st, 1, &r->day) == 0 ? 1 : -1;
	return r->state == 1 ? 0 : -1;
}

int
evrow_counts(const struct evrow *r)
{
	/* An evlist holds only rows that count. */
	return r->st == NULL || passes(r->es, r->st);
}

/* Steps st to the end, delivering the rows that count. */
static int
drain(struct eventset *es, struct dbsafe *ds, sqlite3_stmt *st, evrow_fn fn,
    void *arg, char *err, size_t errlen)
{
	int32_t day;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		es->rows++;
		/* A person_id that is not an integer is no person's. */
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
		    row_day(st, 1, &day) == -1 || !passes(es, st))
			continue;
		if (fn(arg, sqlite3_column_int64(st, 0), day) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dbsafe_error(ds, "read events", err, errlen);
	return 0;
}

int
eventset_scan(struct eventset *es, struct dbsafe *ds, evrow_fn fn, void *arg,
    char *err, size_t errlen)
{
	int unit = es->unit[0] != '\0';
	sqlite3_stmt *st;

	if (es->all) {
		if ((st = stmt(ds, es->kind, OP_SCAN_PREFIX, err, errlen)) ==
		    NULL)
			return -1;
		return drain(es, ds, st, fn, arg, err, errlen);
	}
	for (size_t i = 0; i < es->nranges; i++) {
		const struct evrange *r = &es->ranges[i];
		int op = r->hi[0] != '\0' ? OP_SCAN_PREFIX : OP_SCAN_EXACT;

		if (unit)
			op = op == OP_SCAN_PREFIX ? OP_SCAN_PREFIX_UNIT
						  : OP_SCAN_EXACT_UNIT;
		if ((st = stmt(ds, es->kind, op, err, errlen)) == NULL)
			return -1;
		if (bind(st, ":sys", r->sys) == -1 ||
		    bind(st, ":lo", r->lo) == -1 ||
		    bind(st, ":hi", r->hi) == -1)
			return dbsafe_error(ds, "bind", err, errlen);
		if (drain(es, ds, st, fn, arg, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Statement op of es's table with es->codes[k] bound. */
static sqlite3_stmt *
code_stmt(struct eventset *es, struct dbsafe *ds, int op, size_t k, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;

	if (k >= es->ncodes) {
		errf(err, errlen, "no code %zu", k);
		return NULL;
	}
	if ((st = stmt(ds, es->kind, op, err, errlen)) == NULL)
		return NULL;
	if (bind(st, ":sys", es->codes[k].sys) == -1 ||
	    bind(st, ":lo", es->codes[k].lo) == -1) {
		dbsafe_error(ds, "bind", err, errlen);
		return NULL;
	}
	return st;
}

/* The scan statement of es->codes[k], bound. */
static sqlite3_stmt *
code_scan_stmt(
    struct eventset *es, struct dbsafe *ds, size_t k, char *err, size_t errlen)
{
	int op = es->unit[0] != '\0' ? OP_SCAN_EXACT_UNIT : OP_SCAN_EXACT;

	if (es->all)
		op = OP_SCAN_PREFIX; /* every visit, in (person, day) order */
	return code_stmt(es, ds, op, k, err, errlen);
}

int
eventset_scan_code(struct eventset *es, struct dbsafe *ds, size_t k,
    evrow_fn fn, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if ((st = code_scan_stmt(es, ds, k, err, errlen)) == NULL)
		return -1;
	return drain(es, ds, st, fn, arg, err, errlen);
}

static int
codes_add(struct eventset *es, size_t *cap, const struct evrange *r)
{
	if (array_grow(
		(void **)&es->codes, cap, es->ncodes, sizeof(*es->codes)) == -1)
		return -1;
	es->codes[es->ncodes++] = *r;
	return 0;
}

/* Appends the codes the DB holds in prefix range r; 1 if over max. */
static int
expand_prefix(struct eventset *es, struct dbsafe *ds, const struct evrange *r,
    size_t *cap, size_t max, char *err, size_t errlen)
{
	struct evrange c = *r;
	sqlite3_stmt *st;
	int op = OP_ENUM_FIRST, rc;

	c.hi[0] = '\0';
	for (;;) {
		if ((st = stmt(ds, es->kind, op, err, errlen)) == NULL)
			return -1;
		if (bind(st, ":sys", r->sys) == -1 ||
		    bind(st, ":lo", op == OP_ENUM_FIRST ? r->lo : c.lo) == -1 ||
		    bind(st, ":hi", r->hi) == -1)
			return dbsafe_error(ds, "bind", err, errlen);
		es->probes++;
		if ((rc = sqlite3_step(st)) == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return dbsafe_error(ds, "list codes", err, errlen);
		if (sqlite3_column_bytes(st, 0) > EVENTSET_CODE_MAX)
			return 1; /* a code too long to probe: scan instead */
		strlcpy(c.lo, (const char *)sqlite3_column_text(st, 0),
		    sizeof(c.lo));
		if (es->ncodes >= max)
			return 1;
		if (codes_add(es, cap, &c) == -1)
			return errf(err, errlen, "out of memory");
		op = OP_ENUM_NEXT;
	}
	sqlite3_reset(st);
	return 0;
}

int
eventset_expand(struct eventset *es, struct dbsafe *ds, size_t max, char *err,
    size_t errlen)
{
	size_t cap = 0;
	int rc;

	free(es->codes);
	es->codes = NULL;
	es->ncodes = 0;
	if (es->all) {
		struct evrange any = { "", "", "" };

		return codes_add(es, &cap, &any) == -1
		    ? errf(err, errlen, "out of memory")
		    : 0;
	}
	for (size_t i = 0; i < es->nranges; i++) {
		const struct evrange *r = &es->ranges[i];

		if (r->hi[0] == '\0') {
			if (es->ncodes >= max)
				return 1;
			if (codes_add(es, &cap, r) == -1)
				return errf(err, errlen, "out of memory");
		} else if ((rc = expand_prefix(
				es, ds, r, &cap, max, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

sqlite3_stmt *
eventset_code_stmt(
    struct eventset *es, struct dbsafe *ds, size_t k, char *err, size_t errlen)
{
	int op;

	if (es->kind == TALLY__KIND__KIND_VISIT)
		op = es->all ? OP_WALK : OP_WALK_TYPE;
	else
		op = es->unit[0] != '\0' ? OP_WALK_UNIT : OP_WALK;
	return code_stmt(es, ds, op, k, err, errlen);
}
