/*
 * budget.c — owns the byte-budget allocator for protobuf-c unpacking. It
 * never lets the charged total pass the limit and never aborts: a refused
 * allocation makes the unpack fail cleanly.
 */
#include <stdlib.h>

#include "budget.h"

/* Each block carries its size in front so free can give it back. */
union hdr {
	size_t size;
	max_align_t align;
};

static void *
budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	union hdr *h;

	if (size > b->limit - b->used ||
	    sizeof(*h) > b->limit - b->used - size) {
		b->exceeded = 1;
		return NULL;
	}
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->size = size + sizeof(*h);
	b->used += h->size;
	return h + 1;
}

/* data is NULL when a message is freed after its budget is gone. */
static void
budget_free(void *data, void *ptr)
{
	struct budget *b = data;
	union hdr *h;

	if (ptr == NULL)
		return;
	h = (union hdr *)ptr - 1;
	if (b != NULL)
		b->used -= h->size;
	free(h);
}

void
budget_init(struct budget *b, size_t limit, ProtobufCAllocator *a)
{
	b->limit = limit;
	b->used = 0;
	b->exceeded = 0;
	a->alloc = budget_alloc;
	a->free = budget_free;
	a->allocator_data = b;
}

void
budget_allocator_free(ProtobufCAllocator *a)
{
	a->alloc = budget_alloc;
	a->free = budget_free;
	a->allocator_data = NULL;
}
