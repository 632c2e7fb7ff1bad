/*
 * budget.h — a ProtobufCAllocator that refuses to go past a byte budget:
 * how every message from outside is unpacked. protobuf-c allocates far
 * more than it reads (a few bytes of empty repeated sub-messages become
 * hundreds of bytes of structs), so the budget, not the frame size,
 * bounds the memory a peer can make us spend.
 */
#ifndef TALLY_BUDGET_H
#define TALLY_BUDGET_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct budget {
	size_t limit;
	size_t used;
	int exceeded; /* an allocation was refused */
};

/* Sets b to limit and *a to an allocator that charges b. A message
 * unpacked with *a may later be freed with a budget-less allocator
 * (allocator_data NULL) from budget_allocator_free(). */
void budget_init(struct budget *b, size_t limit, ProtobufCAllocator *a);
/* The allocator for freeing such a message once b is gone. */
void budget_allocator_free(ProtobufCAllocator *a);

#endif
