/*
 * engine_int.h — what the engine's own files (lib/engine*.c) share: the
 * memory budget, the person cache, index events and the per-run state.
 * Nothing outside lib/engine*.c includes this; the API is engine.h.
 */
#ifndef TALLY_ENGINE_INT_H
#define TALLY_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dbsafe.h"
#include "engine.h"
#include "eventset.h"
#include "tally.pb-c.h"

#define DAY_NONE   INT32_MAX /* no death date */
#define YEAR_NONE  INT16_MIN /* no birth year */
#define SEX_UNREAD 0	     /* lazy slot not read from the DB yet */
#define SEX_ABSENT 1	     /* no person has this slot's id */

/* ---------------------------------------------------------- memory */

/* Every large allocation of the engine goes through a budget. */
struct mem {
	size_t used, peak, cap;
};

/* Zeroed n * size bytes, NULL (reason in err) over budget or on overflow. */
void *mem_calloc(struct mem *, size_t n, size_t size, char *err, size_t errlen);
/* Grows p (from mem_calloc, or NULL) to n * size; new bytes are zero. */
void *mem_grow(
    struct mem *, void *p, size_t n, size_t size, char *err, size_t errlen);
void mem_free(struct mem *, void *p);

/* ---------------------------------------------------------- persons */

/*
 * Person attributes by slot, read once and kept until the DB's content
 * changes. Slots are dense: slot = person_id - base when the ids are
 * dense enough (each slot then read on first use; slots without a
 * person get sex SEX_ABSENT), otherwise the rank of the id in ids[]. The
 * scratch fields are in their resting state (DAY_NONE, -1) between runs.
 */
/* One person's attributes and a run's scratch, together so that a row
 * touches one cache line. */
struct pslot {
	int32_t death; /* death day or DAY_NONE */
	int32_t best;  /* scratch: first/last index day so far, or DAY_NONE */
	int32_t evpos; /* scratch: the slot's first index event, or -1 */
	int16_t birth; /* birth year or YEAR_NONE */
	uint8_t sex;   /* 'M', 'F', 'U' (NULL sex), SEX_ABSENT, SEX_UNREAD */
	uint8_t pad;
};

struct persons {
	size_t n;  /* slots */
	int dense; /* slot = person_id - base */
	int64_t base;
	int64_t *ids; /* sorted ids by slot, if !dense */
	int lazy;     /* dense slots read on first use */
	struct pslot *slot;
	size_t bytes;
	int loaded;
	uint64_t version; /* dbsafe_begin()'s data version when loaded */
};

/* Opens the cache: lazily (each slot read on first use) when the ids fit
 * a dense array, else by reading the whole person table. */
int persons_load(
    struct persons *, struct dbsafe *, struct mem *, char *err, size_t errlen);
void persons_free(struct persons *, struct mem *);
/* The slot of person_id, reading it from the DB if not cached yet: -1 if
 * there is no such person, -2 on error (reason in err). */
int64_t persons_find(
    struct persons *, struct dbsafe *, int64_t id, char *err, size_t errlen);

/* The slot of person_id if it is cached and exists, else -1; reads
 * nothing (a person with index events is always cached). */
static inline int64_t
persons_peek(const struct persons *p, int64_t id)
{
	if (p->dense) {
		uint64_t s = (uint64_t)id - (uint64_t)p->base;

		if (id < p->base || s >= p->n || p->slot[s].sex <= SEX_ABSENT)
			return -1;
		return (int64_t)s;
	} else {
		size_t lo = 0, hi = p->n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (p->ids[mid] < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < p->n && p->ids[lo] == id ? (int64_t)lo : -1;
	}
}

/* The person_id of a slot. */
static inline int64_t
persons_id(const struct persons *p, size_t slot)
{
	return p->dense ? p->base + (int64_t)slot : p->ids[slot];
}

/* ---------------------------------------------------------- index events */

/* Index events sorted by (slot, day), one per person and day; the events
 * of slot s are [persons.evpos[s], end[persons.evpos[s]]) (no events if
 * evpos[s] is -1). */
struct events {
	size_t n;
	int32_t *slot, *day;
	int32_t *end; /* one past the last event of the same person */
};

/* The index events of slot s as [*a, *b); 0 if it has none. */
static inline int
events_of(const struct persons *p, const struct events *ev, size_t s, size_t *a,
    size_t *b)
{
	int32_t e = p->slot[s].evpos;

	if (e < 0)
		return 0;
	*a = (size_t)e;
	*b = (size_t)ev->end[e];
	return 1;
}

/* ---------------------------------------------------------- code cache */

/* What a cached list is the rows of: an exact code of a kind, with the
 * lab value range applied (criteria with a unit are never cached). */
struct codekey {
	int kind;
	struct evrange code;
	int has_min, has_max;
	double vmin, vmax;
};

struct codeent {
	uint64_t hash;
	struct codekey key;
	struct evlist list;
	size_t bytes;
	uint64_t used; /* clock of the last use */
};

#define CODES_SEEN 1024 /* keys remembered as seen once (or too big) */

/*
 * Lists of the rows of codes, kept across runs while the DB's data
 * version stays the same. A key is read whole into the cache the second
 * time a run needs it (the first time it is only remembered in seen[]),
 * so a one-off code never costs a whole read.
 */
struct codes {
	struct codeent *ent;
	size_t n, cap;
	size_t bytes, max;	   /* held, budget */
	uint64_t seen[CODES_SEEN]; /* hash | 1: too big to cache */
	size_t nseen;
	uint64_t clock;
	uint64_t version;
	int valid;
};

/* Drops every list if version is not the one they were read under. */
void codes_check(struct codes *, struct mem *, uint64_t version);
/* Drops every list (the budget stays). */
void codes_free(struct codes *, struct mem *);

/* ---------------------------------------------------------- a run */

struct engine {
	struct dbsafe *ds;
	struct engine_limits lim;
	struct mem mem;
	struct persons persons;
	struct codes codes;
	struct evcost cost; /* of seeks and steps, learnt run by run */
	struct engine_stats stats;
	uint64_t next_timeout_ms; /* engine_limit_next(); 0: none */
};

struct run {
	struct engine *eng;
	const Tally__Query *q;
	struct events ev;
	size_t words;	/* of a bitset over events */
	unsigned evals; /* criteria nodes evaluated */
	char *err;
	size_t errlen;
};

/* Walks each of es->codes (eventset_expand first) with w: from the code
 * cache when it holds the code (or reads it in on a second sight), else
 * from the DB. */
int codes_walk(struct run *, struct eventset *, const struct evwalk *w);

int index_events(struct run *, char *err, size_t errlen);
void index_events_free(struct run *);
/* Sets out (a bitset over events) to the events of live for which
 * criteria[node] holds. */
int criteria_eval(
    struct run *, size_t node, const uint64_t *live, uint64_t *out);
int event_criterion(struct run *, const Tally__Criterion *,
    const uint64_t *live, uint64_t *out);
int strata_count(struct run *, const uint64_t *kept, const char *site,
    const char *consortium, struct table **out);

#endif
