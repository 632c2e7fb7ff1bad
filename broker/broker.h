/*
 * broker.h — the broker's state shared by its modules: configuration,
 * the network, trusted DRB keys, durable store and the connected nodes.
 * One instance, created by main() and passed down; no globals.
 */
#ifndef TALLY_BROKER_H
#define TALLY_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "approval.h"
#include "config.h"
#include "network.h"
#include "store.h"

struct broker {
	struct broker_config cfg;
	struct network *net;
	struct drb_key *drb;
	size_t ndrb;
	struct store *store;
	uint64_t started_ms; /* wall clock */
	uint64_t epoch;	     /* changes on every start */
};

/* What a successful submission created. */
struct submit_ack {
	char query_id[STORE_ID_MAX];
	unsigned sites;
};

/*
 * Checks a submission from researcher `who` (the name in its verified
 * certificate) and stores it durably before returning 0. On refusal
 * returns -1 with the reason for the researcher in err; the refusal is
 * audited. Submissions from any other role never reach this function.
 */
int submit_handle(struct broker *, const char *who, const Tally__Submit *,
    struct submit_ack *, char *err, size_t errlen);

#endif
