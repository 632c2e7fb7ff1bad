/*
 * load_idset.c — owns the in-memory sets of person and visit ids that
 * every event row is checked against. Ids are appended while their table
 * loads (the array doubles: no per-row allocation), then frozen: a bitmap
 * when the ids are dense (the usual ETL sequence, 1 bit per id in range),
 * else a sorted array searched in O(log n). It never asks the database.
 */
#include <stdlib.h>
#include <string.h>

#include "load_int.h"

/* A bitmap is used when it is no bigger than the sorted array would be. */
#define IDSET_DENSITY 64

int
load_idset_add(struct load_idset *s, int64_t id)
{
	if (s->frozen)
		return -1;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		int64_t *nids;

		if (ncap > SIZE_MAX / sizeof(*nids))
			return -1;
		if ((nids = realloc(s->ids, ncap * sizeof(*nids))) == NULL)
			return -1;
		s->ids = nids;
		s->cap = ncap;
	}
	if (s->n == 0)
		s->sorted = 1;
	else if (id <= s->ids[s->n - 1])
		s->sorted = 0;
	s->ids[s->n++] = id;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
load_idset_freeze(struct load_idset *s)
{
	uint64_t range;

	if (s->frozen)
		return 0;
	s->frozen = 1;
	if (s->n == 0)
		return 0;
	if (!s->sorted)
		qsort(s->ids, s->n, sizeof(*s->ids), cmp_id);
	range = (uint64_t)s->ids[s->n - 1] - (uint64_t)s->ids[0] + 1;
	if (range / IDSET_DENSITY > s->n || range > UINT64_MAX / 2)
		return 0; /* sparse: keep the sorted array */
	if ((s->bits = calloc(range / 64 + 1, sizeof(uint64_t))) == NULL)
		return 0; /* the array still works */
	s->base = s->ids[0];
	s->range = range;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t off = (uint64_t)s->ids[i] - (uint64_t)s->base;

		s->bits[off / 64] |= 1ull << (off % 64);
	}
	free(s->ids);
	s->ids = NULL;
	s->cap = 0;
	return 0;
}

int
load_idset_has(const struct load_idset *s, int64_t id)
{
	size_t lo = 0, hi;

	if (s->bits != NULL) {
		uint64_t off = (uint64_t)id - (uint64_t)s->base;

		if (id < s->base || off >= s->range)
			return 0;
		return (int)((s->bits[off / 64] >> (off % 64)) & 1);
	}
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ids[mid] < id)
			lo = mid + 1;
		else if (s->ids[mid] > id)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

void
load_idset_free(struct load_idset *s)
{
	free(s->ids);
	free(s->bits);
	memset(s, 0, sizeof(*s));
}
