/*
 * status.c — owns the operator's status snapshot as data: copying it,
 * ordering its nodes for display, cleaning its strings, and converting it
 * to and from the Status message of `tally status`.
 *
 * It must never trust a Status from the wire: counts are capped before
 * anything is allocated and every string is cleaned and cut to its field.
 * The snapshot it handles holds no count, query text or patient data, and
 * nothing here may add one.
 */
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "tally.pb-c.h"
#include "util.h"

const char *const status_query_states[4] = {
	"running",
	"complete",
	"partial",
	"failed",
};

const char *const status_task_states[7] = {
	"queued",
	"sent",
	"running",
	"done",
	"refused",
	"failed",
	"timed_out",
};

void
status_free(struct status_snapshot *s)
{
	free(s->nodes);
	s->nodes = NULL;
	s->nnodes = 0;
}

int
status_copy(struct status_snapshot *dst, const struct status_snapshot *src)
{
	struct status_node *nodes = NULL;

	if (src->nnodes > 0) {
		if ((nodes = calloc(src->nnodes, sizeof(*nodes))) == NULL)
			return -1;
		memcpy(nodes, src->nodes, src->nnodes * sizeof(*nodes));
	}
	free(dst->nodes);
	*dst = *src;
	dst->nodes = nodes;
	return 0;
}

void
status_mark_missing(struct status_snapshot *s, uint64_t after_ms)
{
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].missing = !s->nodes[i].connected &&
		    s->nodes[i].heartbeat_age_ms >= after_ms;
}

struct order_key {
	int64_t num; /* consortium number; INT64_MAX if not a number */
	const char *name;
	int lead;
	size_t idx;
};

static int
order_cmp(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;
	int c;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	if (x->lead != y->lead)
		return x->lead ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

size_t *
status_order(const struct status_snapshot *s)
{
	struct order_key *keys;
	size_t *order;

	if (s->nnodes == 0)
		return NULL;
	keys = calloc(s->nnodes, sizeof(*keys));
	order = calloc(s->nnodes, sizeof(*order));
	if (keys == NULL || order == NULL) {
		free(keys);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct status_node *n = &s->nodes[i];
		size_t len = strnlen(n->consortium, sizeof(n->consortium));

		if (parse_int64(n->consortium, len, 0, INT64_MAX - 1,
			&keys[i].num) == -1)
			keys[i].num = INT64_MAX;
		keys[i].name = n->consortium;
		keys[i].lead = n->lead;
		keys[i].idx = i;
	}
	qsort(keys, s->nnodes, sizeof(*keys), order_cmp);
	for (size_t i = 0; i < s->nnodes; i++)
		order[i] = keys[i].idx;
	free(keys);
	return order;
}

/* Length of the UTF-8 sequence a lead byte announces, 0 if none. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 0;
}

void
status_clean(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i = 0, o = 0;

	if (dstlen == 0)
		return;
	while (i < srclen) {
		const unsigned char *p = (const unsigned char *)src + i;
		size_t n = seq_len(p[0]);
		int bad = n == 0 || n > srclen - i || !utf8_valid(src + i, n) ||
		    p[0] < 0x20 || p[0] == 0x7f ||
		    (p[0] == 0xc2 && p[1] < 0xa0); /* C1 controls */

		if (bad)
			n = 1;
		if (o + n >= dstlen)
			break;
		if (bad)
			dst[o] = '?';
		else
			memcpy(dst + o, p, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
}

/* ---------------------------------------------------------- to the wire */

static char *
dup_field(const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	char *d;

	if ((d = malloc(len + 1)) != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

#define DUP(field) dup_field(field, sizeof(field))

static Tally__NodeStatus *
node_to_proto(const struct status_node *n)
{
	Tally__NodeStatus *m;
	size_t nt =
	    n->ntables < STATUS_MAX_TABLES ? n->ntables : STATUS_MAX_TABLES;

	if ((m = malloc(sizeof(*m))) == NULL)
		return NULL;
	tally__node_status__init(m);
	if ((m->site = DUP(n->site)) == NULL ||
	    (m->consortium = DUP(n->consortium)) == NULL ||
	    (m->software = DUP(n->software)) == NULL ||
	    (m->snapshot_date = DUP(n->snapshot_date)) == NULL ||
	    (nt > 0 && (m->tables = calloc(nt, sizeof(*m->tables))) == NULL))
		goto fail;
	for (size_t i = 0; i < nt; i++) {
		Tally__TableRows *t;

		if ((t = malloc(sizeof(*t))) == NULL)
			goto fail;
		tally__table_rows__init(t);
		m->tables[m->n_tables++] = t;
		if ((t->table = DUP(n->tables[i].table)) == NULL)
			goto fail;
		t->has_rows = 1;
		t->rows = n->tables[i].rows;
	}
	m->has_connected = 1;
	m->connected = n->connected != 0;
	if (n->heartbeat_age_ms != STATUS_AGE_NEVER) {
		m->has_heartbeat_age_ms = 1;
		m->heartbeat_age_ms = n->heartbeat_age_ms;
	}
	m->has_protocol = 1;
	m->protocol = n->protocol;
	m->has_min_cell = 1;
	m->min_cell = n->min_cell;
	m->has_served = m->has_refused = m->has_failed = 1;
	m->served = n->served;
	m->refused = n->refused;
	m->failed = n->failed;
	m->has_latency_p50_us = m->has_latency_p95_us = 1;
	m->latency_p50_us = n->latency_p50_us;
	m->latency_p95_us = n->latency_p95_us;
	return m;
fail:
	tally__node_status__free_unpacked(m, NULL);
	return NULL;
}

Tally__Status *
status_to_proto(const struct status_snapshot *s)
{
	Tally__Status *m;
	const size_t nq = nitems(s->queries);

	if ((m = malloc(sizeof(*m))) == NULL)
		return NULL;
	tally__status__init(m);
	m->has_uptime_s = 1;
	m->uptime_s = s->uptime_s;
	if ((s->nnodes > 0 &&
		(m->nodes = calloc(s->nnodes, sizeof(*m->nodes))) == NULL) ||
	    (m->queries = calloc(nq, sizeof(*m->queries))) == NULL)
		goto fail;
	for (size_t i = 0; i < s->nnodes; i++) {
		if ((m->nodes[i] = node_to_proto(&s->nodes[i])) == NULL)
			goto fail;
		m->n_nodes++;
	}
	for (size_t i = 0; i < nq; i++) {
		Tally__QueryCount *q;

		if ((q = malloc(sizeof(*q))) == NULL)
			goto fail;
		tally__query_count__init(q);
		m->queries[m->n_queries++] = q;
		q->has_state = q->has_count = 1;
		q->state = (Tally__QueryState)i;
		q->count = s->queries[i];
	}
	return m;
fail:
	status_proto_free(m);
	return NULL;
}

void
status_proto_free(Tally__Status *m)
{
	/* Every part was malloc'd: protobuf-c's own walk frees them all. */
	if (m != NULL)
		tally__status__free_unpacked(m, NULL);
}

/* -------------------------------------------------------- from the wire */

#define CLEAN(dst, src)                                                        \
	status_clean(                                                          \
	    dst, sizeof(dst), (src) ? (src) : "", (src) ? strlen(src) : 0)

static int
node_from_proto(const Tally__NodeStatus *m, struct status_node *n, size_t idx,
    char *err, size_t errlen)
{
	if (m == NULL)
		return errf(err, errlen, "status: node %zu is empty", idx);
	if (m->n_tables > STATUS_MAX_TABLES)
		return errf(err, errlen,
		    "status: node %zu lists %zu tables, more than %d", idx,
		    m->n_tables, STATUS_MAX_TABLES);
	CLEAN(n->site, m->site);
	CLEAN(n->consortium, m->consortium);
	CLEAN(n->software, m->software);
	CLEAN(n->snapshot_date, m->snapshot_date);
	for (size_t i = 0; i < m->n_tables; i++) {
		if (m->tables[i] == NULL)
			continue;
		CLEAN(n->tables[n->ntables].table, m->tables[i]->table);
		n->tables[n->ntables++].rows = m->tables[i]->rows;
	}
	n->connected = m->connected != 0;
	n->heartbeat_age_ms =
	    m->has_heartbeat_age_ms ? m->heartbeat_age_ms : STATUS_AGE_NEVER;
	n->protocol = m->protocol;
	n->min_cell = m->min_cell;
	n->served = m->served;
	n->refused = m->refused;
	n->failed = m->failed;
	n->latency_p50_us = m->latency_p50_us;
	n->latency_p95_us = m->latency_p95_us;
	return 0;
}

int
status_from_proto(const Tally__Status *m, struct status_snapshot *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (m->n_nodes > STATUS_MAX_NODES)
		return errf(err, errlen, "status: %zu nodes, more than %d",
		    m->n_nodes, STATUS_MAX_NODES);
	out->uptime_s = m->uptime_s;
	if (m->n_nodes > 0 &&
	    (out->nodes = calloc(m->n_nodes, sizeof(*out->nodes))) == NULL)
		return errf(err, errlen, "status: out of memory");
	for (size_t i = 0; i < m->n_nodes; i++) {
		if (node_from_proto(
			m->nodes[i], &out->nodes[i], i, err, errlen) == -1) {
			status_free(out);
			return -1;
		}
		out->nnodes++;
	}
	for (size_t i = 0; i < m->n_queries; i++) {
		const Tally__QueryCount *q = m->queries[i];
		uint64_t *c;

		/* A newer broker may know more states: skip those. */
		if (q == NULL || (unsigned)q->state >= nitems(out->queries))
			continue;
		c = &out->queries[q->state];
		*c = q->count > UINT64_MAX - *c ? UINT64_MAX : *c + q->count;
	}
	return 0;
}

void
status_reason_count(struct status_reason *r, size_t *n, const char *reason)
{
	char key[STATUS_NAME_MAX];

	/* Reasons vary in their details after a colon; count the kind. */
	strlcpy(key, reason, sizeof(key));
	key[strcspn(key, ":'")] = '\0';
	for (size_t i = 0; i < *n; i++)
		if (strcmp(r[i].reason, key) == 0) {
			r[i].count++;
			return;
		}
	if (*n == STATUS_MAX_REASONS)
		return;
	strlcpy(r[*n].reason, key, sizeof(r[*n].reason));
	r[*n].count = 1;
	(*n)++;
}
