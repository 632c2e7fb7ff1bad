/*
 * engine_mem.c — owns the engine's memory budget: every large array of a
 * run or of the person cache is allocated here, so that a query that
 * would need more than the operator allows fails with a clear error
 * instead of exhausting the node. It never allocates for SQLite (whose
 * page cache has its own cap, see dbsafe.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "util.h"

/* Each block starts with its size; keeps 16-byte alignment. */
union hdr {
	size_t size;
	max_align_t align;
};

static int
reserve(struct mem *m, size_t old, size_t n, size_t size, size_t *bytes,
    char *err, size_t errlen)
{
	if (size != 0 && n > (SIZE_MAX - sizeof(union hdr)) / size)
		return errf(err, errlen, "memory request too large");
	*bytes = n * size;
	if (m->used - old + *bytes > m->cap)
		return errf(err, errlen,
		    "query needs more than the engine's memory limit of %zu MB",
		    m->cap >> 20);
	return 0;
}

void *
mem_grow(
    struct mem *m, void *p, size_t n, size_t size, char *err, size_t errlen)
{
	union hdr *h = p ? (union hdr *)p - 1 : NULL;
	size_t old = h ? h->size : 0, bytes = 0;

	if (reserve(m, old, n, size, &bytes, err, errlen) == -1)
		return NULL;
	if ((h = realloc(h, sizeof(*h) + bytes)) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	if (bytes > old)
		memset((char *)(h + 1) + old, 0, bytes - old);
	h->size = bytes;
	m->used = m->used - old + bytes;
	if (m->used > m->peak)
		m->peak = m->used;
	return h + 1;
}

void *
mem_calloc(struct mem *m, size_t n, size_t size, char *err, size_t errlen)
{
	union hdr *h;
	size_t bytes = 0;

	if (reserve(m, 0, n, size, &bytes, err, errlen) == -1)
		return NULL;
	/* calloc, not malloc + memset: large blocks come zeroed from the
	 * kernel and cost nothing until touched. */
	if ((h = calloc(1, sizeof(*h) + bytes)) == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	h->size = bytes;
	m->used += bytes;
	if (m->used > m->peak)
		m->peak = m->used;
	return h + 1;
}

void
mem_free(struct mem *m, void *p)
{
	union hdr *h;

	if (p == NULL)
		return;
	h = (union hdr *)p - 1;
	m->used -= h->size;
	free(h);
}
