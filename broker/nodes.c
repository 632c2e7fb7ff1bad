/*
 * nodes.c — owns the broker's view of the hospitals: which node is
 * connected on which session, what it said about itself, how it has been
 * doing. A node is who its certificate says (the channel checked it);
 * nothing a node writes about itself changes which hospital it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "broker.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "version.h"

struct slot *
nodes_by_name(struct broker *b, const char *site)
{
	for (size_t i = 0; i < b->net->nsites; i++)
		if (strcmp(b->slots[i].site->id, site) == 0)
			return &b->slots[i];
	return NULL;
}

struct slot *
nodes_by_peer(struct broker *b, uint64_t peer)
{
	if (peer == 0)
		return NULL;
	for (size_t i = 0; i < b->net->nsites; i++)
		if (b->slots[i].peer == peer)
			return &b->slots[i];
	return NULL;
}

void
nodes_hello(
    struct broker *b, struct slot *s, uint64_t req_id, const Tally__Hello *h)
{
	Tally__Envelope env = TALLY__ENVELOPE__INIT;
	Tally__Welcome w = TALLY__WELCOME__INIT;
	char cons[8], said[8];

	snprintf(cons, sizeof(cons), "%d", s->site->consortium);
	if (h->consortium != NULL && strcmp(h->consortium, cons) != 0) {
		str_printable(said, sizeof(said), h->consortium);
		log_warnx("node %s says consortium %s, the network file %s",
		    s->site->id, said, cons);
	}
	/* Printable ASCII only: this ends up on operators' screens. */
	str_printable(s->software, sizeof(s->software), h->software);
	str_printable(s->snapshot, sizeof(s->snapshot), h->snapshot_date);
	s->schema = h->schema_version;
	s->min_cell = h->min_cell;
	s->max_tasks = h->max_tasks;
	for (size_t i = 0; i < h->n_tables && i < 32; i++)
		for (int t = 0; t < baseline_ntables && t < 6; t++)
			if (h->tables[i]->table != NULL &&
			    strcmp(h->tables[i]->table, baseline_tables[t]) ==
				0)
				s->rows[t] = h->tables[i]->rows;
	s->registered = 1;
	s->sessions++;
	s->last_seen_ms = wall_ms();
	w.broker = (char *)"tally-broker " TALLY_VERSION;
	w.has_heartbeat_ms = w.has_epoch = 1;
	w.heartbeat_ms = b->cfg.heartbeat_ms;
	w.epoch = b->epoch;
	env.body_case = TALLY__ENVELOPE__BODY_WELCOME;
	env.welcome = &w;
	reply_send(b, s->peer, req_id, &env);
	log_info("node %s registered (%s, snapshot %s, k %u)", s->site->id,
	    s->software, s->snapshot, s->min_cell);
	store_audit(b->store, s->site->id, "registered", s->software);
}

void
nodes_down(struct broker *b, uint64_t peer)
{
	struct slot *s = nodes_by_peer(b, peer);

	if (s == NULL)
		return;
	s->registered = 0;
	log_info("node %s disconnected", s->site->id);
}

static void
node_status(const struct broker *b, const struct slot *s, struct status_node *n,
    uint64_t now)
{
	memset(n, 0, sizeof(*n));
	strlcpy(n->site, s->site->id, sizeof(n->site));
	snprintf(
	    n->consortium, sizeof(n->consortium), "%d", s->site->consortium);
	strlcpy(n->name_en, s->site->name_en, sizeof(n->name_en));
	n->lead = s->site->lead;
	n->connected = s->registered;
	n->heartbeat_age_ms =
	    s->last_seen_ms ? now - s->last_seen_ms : STATUS_AGE_NEVER;
	n->protocol = s->registered ? 1 : 0;
	strlcpy(n->software, s->software, sizeof(n->software));
	strlcpy(n->snapshot_date, s->snapshot, sizeof(n->snapshot_date));
	n->ntables = 6;
	for (int t = 0; t < 6; t++) {
		strlcpy(n->tables[t].table, baseline_tables[t],
		    sizeof(n->tables[t].table));
		n->tables[t].rows = s->rows[t];
	}
	n->min_cell = s->min_cell;
	n->served = s->served;
	n->refused = s->refused;
	n->failed = s->failed;
	n->latency_p50_us = latency_percentile(&s->lat, 50);
	n->latency_p95_us = latency_percentile(&s->lat, 95);
	(void)b;
}

int
nodes_snapshot(struct broker *b, struct status_snapshot *st)
{
	uint64_t now = wall_ms();

	memset(st, 0, sizeof(*st));
	if ((st->nodes = calloc(b->net->nsites, sizeof(*st->nodes))) == NULL)
		return -1;
	st->nnodes = b->net->nsites;
	for (size_t i = 0; i < b->net->nsites; i++)
		node_status(b, &b->slots[i], &st->nodes[i], now);
	st->uptime_s = (now - b->started_ms) / 1000;
	store_query_counts(b->store, st->queries);
	store_task_counts(b->store, st->tasks);
	latency_hist_export(&b->hist, st);
	st->ntls_failures = b->ntls_failures;
	memcpy(st->tls_failures, b->tls_failures, sizeof(b->tls_failures));
	st->nrefusals = b->nrefusals;
	memcpy(st->refusals, b->refusals, sizeof(b->refusals));
	status_mark_missing(st, (uint64_t)b->cfg.missing_after_s * 1000);
	return 0;
}
