/*
 * status_serve.c — test program: the broker's HTTP endpoint (broker/http.c)
 * serving a made-up snapshot of every hospital in a network file, until
 * SIGTERM or SIGINT. Test-only code.
 *
 *   status_serve NETWORK.csv HOST:PORT [--down ID,...] [--missing ID,...]
 *                [--stop ID]
 *
 * Prints "listening on port N" once serving (port 0 picks a free one). --down
 * and --missing nodes are disconnected from the start; SIGUSR1 disconnects the
 * --stop node, as if it had just been stopped. The snapshot is republished
 * every 100 ms with the clock moving on.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Helper programs link lib/ only: take the server's source directly. */
#include "../../broker/http.c"

#include "latency.h"
#include "network.h"

static int
listed(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, id, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static void
fill_node(struct status_node *n, const struct site *site, size_t i)
{
	struct latency lat;

	memset(n, 0, sizeof(*n));
	strlcpy(n->site, site->id, sizeof(n->site));
	snprintf(n->consortium, sizeof(n->consortium), "%d", site->consortium);
	strlcpy(n->name_en, site->name_en, sizeof(n->name_en));
	n->lead = site->lead;
	n->connected = 1;
	n->heartbeat_age_ms = 300 + 97 * i % 1700;
	n->protocol = 1;
	strlcpy(n->software, "tally-node 0.1.0", sizeof(n->software));
	strlcpy(n->snapshot_date, "2024-12-31", sizeof(n->snapshot_date));
	n->ntables = 2;
	strlcpy(n->tables[0].table, "person", sizeof(n->tables[0].table));
	n->tables[0].rows = 50000 + 7919 * i;
	strlcpy(n->tables[1].table, "visit", sizeof(n->tables[1].table));
	n->tables[1].rows = 900000 + 104729 * i;
	n->min_cell = i % 5 == 0 ? 20 : 10;
	n->served = 40 + i;
	n->refused = i % 7 == 0;
	n->failed = i % 11 == 0;
	latency_init(&lat);
	for (unsigned k = 1; k <= 40; k++)
		latency_add(&lat, 1000 * (k + i % 13));
	n->latency_p50_us = latency_percentile(&lat, 50);
	n->latency_p95_us = latency_percentile(&lat, 95);
}

static struct status_snapshot *
build(const struct network *net, const char *down, const char *missing)
{
	static const char *tls[] = { "certificate revoked", "unknown CA",
		"handshake timeout" };
	static const char *appr[] = { "expired", "site not listed",
		"run budget spent" };
	struct status_snapshot *s;
	struct latency_hist hist;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->nodes = calloc(net->nsites, sizeof(*s->nodes))) == NULL)
		fatalx("out of memory");
	s->nnodes = net->nsites;
	for (size_t i = 0; i < net->nsites; i++) {
		struct status_node *n = &s->nodes[i];

		fill_node(n, &net->sites[i], i);
		if (listed(down, n->site)) {
			n->connected = 0;
			n->heartbeat_age_ms = 45000;
		}
		if (listed(missing, n->site)) {
			n->connected = 0;
			n->heartbeat_age_ms = 3 * 3600 * 1000;
		}
	}
	latency_hist_init(&hist);
	for (uint64_t ms = 50; ms < 400000; ms = ms * 3 / 2)
		latency_hist_observe(&hist, ms);
	latency_hist_export(&hist, s);
	for (size_t i = 0; i < nitems(s->queries); i++)
		s->queries[i] = 3 * i + 1;
	for (size_t i = 0; i < nitems(s->tasks); i++)
		s->tasks[i] = 5 * i + 2;
	for (size_t i = 0; i < nitems(tls); i++) {
		strlcpy(s->tls_failures[i].reason, tls[i],
		    sizeof(s->tls_failures[i].reason));
		s->tls_failures[i].count = i + 1;
	}
	s->ntls_failures = nitems(tls);
	for (size_t i = 0; i < nitems(appr); i++) {
		strlcpy(s->refusals[i].reason, appr[i],
		    sizeof(s->refusals[i].reason));
		s->refusals[i].count = 2 * i + 1;
	}
	s->nrefusals = nitems(appr);
	return s;
}

int
main(int argc, char **argv)
{
	const char *down = "", *missing = "", *stop = "";
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	struct status_snapshot *s;
	struct network *net;
	struct http *h;
	uint64_t start = clock_ms(), step = 0;
	char err[512];
	sigset_t set;
	int sig;

	log_init("status_serve", 0, LOG_TO_STDERR);
	if (argc < 3 || (argc - 3) % 2 != 0) {
		fprintf(stderr,
		    "usage: status_serve NETWORK.csv HOST:PORT "
		    "[--down ID,...] [--missing ID,...] "
		    "[--stop ID]\n");
		return 2;
	}
	for (int i = 3; i < argc; i += 2) {
		if (strcmp(argv[i], "--down") == 0)
			down = argv[i + 1];
		else if (strcmp(argv[i], "--missing") == 0)
			missing = argv[i + 1];
		else if (strcmp(argv[i], "--stop") == 0)
			stop = argv[i + 1];
		else
			fatalx("unknown option %s", argv[i]);
	}
	if ((net = network_load(argv[1], err, sizeof(err))) == NULL)
		fatalx("%s", err);
	s = build(net, down, missing);
	network_free(net);

	/* Signals are taken synchronously, between publishes. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((h = http_start(argv[2], err, sizeof(err))) == NULL)
		fatalx("%s", err);
	printf("listening on port %u\n", http_port(h));
	fflush(stdout);
	for (;;) {
		s->uptime_s = 3 * 86400 + (clock_ms() - start) / 1000;
		for (size_t i = 0; i < s->nnodes; i++)
			if (!s->nodes[i].connected)
				s->nodes[i].heartbeat_age_ms += step ? 100 : 0;
		status_mark_missing(s, 600 * 1000);
		if (http_publish(h, s) == -1)
			fatalx("publish");
		step++;
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig != SIGUSR1)
			continue;
		for (size_t i = 0; i < s->nnodes; i++)
			if (strcmp(s->nodes[i].site, stop) == 0) {
				s->nodes[i].connected = 0;
				s->nodes[i].heartbeat_age_ms = 6000;
			}
	}
	http_stop(h);
	status_free(s);
	free(s);
	return 0;
}
