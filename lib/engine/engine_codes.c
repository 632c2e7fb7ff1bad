/*
 * engine_codes.c — owns the engine's code cache: the rows of an exact
 * code (a lab value range applied), as persons and days in (person, day)
 * order, kept across runs until the DB's data version changes, within a
 * byte budget charged to the engine's allocator (least recently used
 * lists go first). A code is read whole into the cache the second time a
 * run needs it in the same data version, so a code seen once never pays
 * for a whole read; a cached code is walked in memory by the same
 * visitors. It never changes which rows a visitor counts, and never
 * caches what depends on more than the index (a lab unit needs the
 * table row; every visit is too many).
 */
#include <math.h>
#include <string.h>

#include "engine_int.h"
#include "eventset.h"
#include "util.h"

/* A list may take at most this share of the budget. */
#define LIST_SHARE 2

static void
list_free(struct mem *m, struct evlist *l)
{
	mem_free(m, l->pid);
	mem_free(m, l->start);
	mem_free(m, l->day);
	memset(l, 0, sizeof(*l));
}

static size_t
list_bytes(size_t persons, size_t rows)
{
	return persons * (sizeof(int64_t) + sizeof(uint32_t)) +
	    rows * sizeof(int32_t) + sizeof(uint32_t);
}

void
codes_free(struct codes *c, struct mem *m)
{
	for (size_t i = 0; i < c->n; i++)
		list_free(m, &c->ent[i].list);
	mem_free(m, c->ent);
	c->ent = NULL;
	c->n = c->cap = c->bytes = c->nseen = 0;
	c->valid = 0; /* (the budget, max, stays) */
}

void
codes_check(struct codes *c, struct mem *m, uint64_t version)
{
	if (c->valid && c->version == version)
		return;
	codes_free(c, m);
	c->version = version;
	c->valid = 1;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t
key_hash(const struct codekey *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t lo, hi;

	memcpy(&lo, &k->vmin, sizeof(lo));
	memcpy(&hi, &k->vmax, sizeof(hi));
	h = fnv(h, &k->kind, sizeof(k->kind));
	h = fnv(h, k->code.sys, strlen(k->code.sys) + 1);
	h = fnv(h, k->code.lo, strlen(k->code.lo) + 1);
	h = fnv(h, &k->has_min, sizeof(k->has_min));
	h = fnv(h, &k->has_max, sizeof(k->has_max));
	if (k->has_min)
		h = fnv(h, &lo, sizeof(lo));
	if (k->has_max)
		h = fnv(h, &hi, sizeof(hi));
	return h & ~(uint64_t)1; /* the low bit marks "too big" in seen[] */
}

static int
key_eq(const struct codekey *a, const struct codekey *b)
{
	return a->kind == b->kind && strcmp(a->code.sys, b->code.sys) == 0 &&
	    strcmp(a->code.lo, b->code.lo) == 0 && a->has_min == b->has_min &&
	    a->has_max == b->has_max && (!a->has_min || a->vmin == b->vmin) &&
	    (!a->has_max || a->vmax == b->vmax);
}

/* 1 if es's codes may be cached, with the key of code k in *key. */
static int
key_of(const struct eventset *es, size_t k, struct codekey *key)
{
	if (es->all || es->unit[0] != '\0' ||
	    (es->has_min && isnan(es->vmin)) ||
	    (es->has_max && isnan(es->vmax)))
		return 0;
	memset(key, 0, sizeof(*key));
	key->kind = es->kind;
	key->code = es->codes[k];
	key->has_min = es->has_min;
	key->has_max = es->has_max;
	key->vmin = es->has_min ? es->vmin : 0;
	key->vmax = es->has_max ? es->vmax : 0;
	return 1;
}

static struct codeent *
find(struct codes *c, uint64_t h, const struct codekey *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ent[i].hash == h && key_eq(&c->ent[i].key, key))
			return &c->ent[i];
	return NULL;
}

/* 0: never seen, 1: seen once, 2: seen and too big to cache. */
static int
seen(const struct codes *c, uint64_t h)
{
	size_t n = c->nseen < CODES_SEEN ? c->nseen : CODES_SEEN;

	for (size_t i = 0; i < n; i++)
		if ((c->seen[i] & ~(uint64_t)1) == h)
			return 1 + (int)(c->seen[i] & 1);
	return 0;
}

static void
seen_mark(struct codes *c, uint64_t h, int big)
{
	size_t n = c->nseen < CODES_SEEN ? c->nseen : CODES_SEEN;

	for (size_t i = 0; i < n; i++)
		if ((c->seen[i] & ~(uint64_t)1) == h) {
			c->seen[i] = h | (uint64_t)(big != 0);
			return;
		}
	c->seen[c->nseen++ % CODES_SEEN] = h | (uint64_t)(big != 0);
}

/* A list being read: grows by doubling, stops when over max bytes or
 * when the rows come out of (person, day) order. */
struct load {
	struct mem *m;
	struct evlist l;
	size_t pcap, rcap, max;
	int stop; /* 1: too big or unordered */
	char *err;
	size_t errlen;
};

static int
load_row(void *arg, int64_t pid, int32_t day)
{
	struct load *ld = arg;
	struct evlist *l = &ld->l;
	int newp = l->n == 0 || pid != l->pid[l->n - 1];

	if (l->n > 0 &&
	    (pid < l->pid[l->n - 1] || (!newp && day < l->day[l->rows - 1]))) {
		ld->stop = 1; /* not in index order: never walk it */
		return -1;
	}
	if (list_bytes(l->n + newp, l->rows + 1) > ld->max ||
	    l->rows + 1 >= UINT32_MAX) {
		ld->stop = 1;
		return -1;
	}
	if (newp && l->n + 1 >= ld->pcap) {
		size_t ncap = ld->pcap ? ld->pcap * 2 : 1024;
		int64_t *p = mem_grow(
		    ld->m, l->pid, ncap, sizeof(*p), ld->err, ld->errlen);
		uint32_t *s = p == NULL ? NULL
					: mem_grow(ld->m, l->start, ncap + 1,
					      sizeof(*s), ld->err, ld->errlen);

		if (p != NULL)
			l->pid = p;
		if (s == NULL)
			return ld->stop = 1, -1; /* no room: not cached */
		l->start = s;
		ld->pcap = ncap;
	}
	if (l->rows == ld->rcap) {
		size_t ncap = ld->rcap ? ld->rcap * 2 : 4096;
		int32_t *d = mem_grow(
		    ld->m, l->day, ncap, sizeof(*d), ld->err, ld->errlen);

		if (d == NULL)
			return ld->stop = 1, -1;
		l->day = d;
		ld->rcap = ncap;
	}
	if (newp) {
		l->pid[l->n] = pid;
		l->start[l->n++] = (uint32_t)l->rows;
	}
	l->day[l->rows++] = day;
	return 0;
}

/* Trims a read list to its size; -1 on error. */
static int
load_trim(struct load *ld)
{
	struct evlist *l = &ld->l;
	void *p;

	if (l->n == 0) {
		list_free(ld->m, l);
		return 0;
	}
	l->start[l->n] = (uint32_t)l->rows;
	if ((p = mem_grow(ld->m, l->pid, l->n, sizeof(*l->pid), ld->err,
		 ld->errlen)) == NULL)
		return -1;
	l->pid = p;
	if ((p = mem_grow(ld->m, l->start, l->n + 1, sizeof(*l->start), ld->err,
		 ld->errlen)) == NULL)
		return -1;
	l->start = p;
	if ((p = mem_grow(ld->m, l->day, l->rows, sizeof(*l->day), ld->err,
		 ld->errlen)) == NULL)
		return -1;
	l->day = p;
	return 0;
}

/* Frees the least recently used list and its entry. */
static void
evict_one(struct codes *c, struct mem *m)
{
	size_t old = 0;

	for (size_t i = 1; i < c->n; i++)
		if (c->ent[i].used < c->ent[old].used)
			old = i;
	c->bytes -= c->ent[old].bytes;
	list_free(m, &c->ent[old].list);
	c->ent[old] = c->ent[--c->n];
}

/* Makes room for one more entry with a list of bytes: evicts the least
 * recently used lists and grows the table of entries, whose bytes count
 * against the budget too (else many small lists would hold far more
 * than it). 0, or -1 if it does not fit (budget or engine memory). */
static int
room(struct codes *c, struct mem *m, size_t bytes, char *err, size_t errlen)
{
	const size_t esz = sizeof(*c->ent);
	struct codeent *ne;
	size_t ncap;

	for (;;) {
		ncap = c->n < c->cap ? c->cap : c->cap ? c->cap * 2 : 4;
		if (c->bytes + bytes + (ncap - c->cap) * esz <= c->max)
			break;
		if (c->n > 0)
			evict_one(c, m);
		else if (c->cap > 4) {
			/* Empty but large: start the table again small. */
			mem_free(m, c->ent);
			c->bytes -= c->cap * esz;
			c->ent = NULL;
			c->cap = 0;
		} else
			return -1;
	}
	if (ncap != c->cap) {
		if ((ne = mem_grow(m, c->ent, ncap, esz, err, errlen)) == NULL)
			return -1;
		c->ent = ne;
		c->bytes += (ncap - c->cap) * esz;
		c->cap = ncap;
	}
	return 0;
}

/* Reads code k whole into the cache: the new entry, NULL if it does not
 * fit (remembered as too big) or on error (-1 in *rc). */
static struct codeent *
load(struct run *r, struct eventset *es, size_t k, const struct codekey *key,
    uint64_t h, int *rc)
{
	struct codes *c = &r->eng->codes;
	struct mem *m = &r->eng->mem;
	struct load ld;
	struct codeent *e;
	size_t bytes;

	memset(&ld, 0, sizeof(ld));
	ld.m = m;
	ld.max = c->max / LIST_SHARE;
	ld.err = r->err;
	ld.errlen = r->errlen;
	*rc = 0;
	if (eventset_scan_code(
		es, r->eng->ds, k, load_row, &ld, r->err, r->errlen) == -1 &&
	    !ld.stop)
		goto fail;
	if (ld.stop) {
		if (r->err != NULL && r->errlen > 0)
			r->err[0] = '\0';
		list_free(m, &ld.l);
		seen_mark(c, h, 1);
		return NULL;
	}
	if (load_trim(&ld) == -1)
		goto fail;
	/* (An empty list holds no memory.) */
	bytes = ld.l.n > 0 ? list_bytes(ld.l.n, ld.l.rows) : 0;
	if (room(c, m, bytes, r->err, r->errlen) == -1) {
		/* No room: walked from the DB, as a list too big. */
		if (r->err != NULL && r->errlen > 0)
			r->err[0] = '\0';
		list_free(m, &ld.l);
		seen_mark(c, h, 1);
		return NULL;
	}
	e = &c->ent[c->n++];
	e->hash = h;
	e->key = *key;
	e->list = ld.l;
	e->bytes = bytes;
	c->bytes += bytes;
	r->eng->stats.code_loads++;
	return e;
fail:
	list_free(m, &ld.l);
	*rc = -1;
	return NULL;
}

/* Walks code k, from the cache if it holds (or now takes) the code. */
static int
walk_one(struct run *r, struct eventset *es, size_t k, const struct evwalk *w)
{
	struct codes *c = &r->eng->codes;
	struct codekey key;
	struct codeent *e = NULL;
	uint64_t h;
	int rc = 0;

	if (c->max == 0 || !key_of(es, k, &key))
		return eventset_walk_code(
		    es, r->eng->ds, k, w, r->err, r->errlen);
	h = key_hash(&key);
	if ((e = find(c, h, &key)) != NULL)
		r->eng->stats.code_hits++;
	else {
		switch (seen(c, h)) {
		case 0:
			seen_mark(c, h, 0);
			/* FALLTHROUGH */
		case 2:
			return eventset_walk_code(
			    es, r->eng->ds, k, w, r->err, r->errlen);
		default:
			if ((e = load(r, es, k, &key, h, &rc)) == NULL)
				return rc == -1
				    ? -1
				    : eventset_walk_code(es, r->eng->ds, k, w,
					  r->err, r->errlen);
		}
	}
	e->used = ++c->clock;
	return eventset_walk_list(es, &e->list, w);
}

int
codes_walk(struct run *r, struct eventset *es, const struct evwalk *w)
{
	for (size_t k = 0; k < es->ncodes; k++) {
		if (dbsafe_expired(r->eng->ds))
			return dbsafe_error(
			    r->eng->ds, "read events", r->err, r->errlen);
		if (walk_one(r, es, k, w) == -1)
			return -1;
	}
	return 0;
}
