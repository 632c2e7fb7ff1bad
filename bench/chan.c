/*
 * chan.c — the secure channel (mutual TLS 1.3 inside ZeroMQ, reliable
 * requests) against plain ZeroMQ without TLS, measured in the same run
 * with the same sockets (DEALER -> ROUTER over TCP loopback), the same
 * message size and the same poll loop: round-trip latency p50/p99,
 * throughput with a window of requests in flight, and the cost of
 * establishing a connection (to the first reply) and of a mutual
 * handshake alone (in memory). The echo server runs in a child process.
 *
 *   chan PKIDIR   (PKIDIR from `tally pki`: ca.crt, crl.pem, broker.*,
 *                  bench.* a node)
 * Sizes from the environment: CHAN_BENCH_N round trips [20000],
 * CHAN_BENCH_SIZE bytes [256], CHAN_BENCH_WINDOW [64], CHAN_BENCH_HS
 * connections [100].
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"
#include "tls.h"
#include "util.h"

static const char *pki;
static int n_rt, size, window, n_hs;
static char paths[6][512];

static int
env_int(const char *name, int def)
{
	const char *v = getenv(name);
	int x;

	if (v == NULL || (x = atoi(v)) <= 0)
		return def;
	return x;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(uint64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (double)v[(int)(p * (n - 1))];
}

static struct chan_config
config(int server)
{
	struct chan_config c;

	chan_config_default(&c);
	snprintf(paths[0], 512, "%s/ca.crt", pki);
	snprintf(paths[1], 512, "%s/crl.pem", pki);
	snprintf(paths[2], 512, "%s/%s.crt", pki, server ? "broker" : "bench");
	snprintf(paths[3], 512, "%s/%s.key", pki, server ? "broker" : "bench");
	c.ca = paths[0];
	c.crl = paths[1];
	c.cert = paths[2];
	c.key = paths[3];
	c.max_pending = window * 2;
	return c;
}

/* ------------------------------------------------------------ servers */

static void
plain_server(int fd)
{
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_ROUTER);
	char ep[256];
	size_t len = sizeof(ep);
	zmq_msg_t rid, body;

	if (zmq_bind(s, "tcp://127.0.0.1:0") == -1)
		fatalx("bind");
	zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len);
	if (write(fd, ep, strlen(ep) + 1) == -1)
		fatal("write");
	for (;;) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, 1000) <= 0)
			continue;
		while (1) {
			zmq_msg_init(&rid);
			zmq_msg_init(&body);
			if (zmq_msg_recv(&rid, s, ZMQ_DONTWAIT) == -1)
				break;
			zmq_msg_recv(&body, s, 0);
			zmq_msg_send(&rid, s, ZMQ_SNDMORE);
			zmq_msg_send(&body, s, 0);
		}
		zmq_msg_close(&rid);
		zmq_msg_close(&body);
	}
}

static void
chan_server(int fd)
{
	struct chan_config c = config(1);
	struct chan_event ev;
	struct chan *ch;
	char err[256];

	if ((ch = chan_server_new(
		 NULL, "tcp://127.0.0.1:0", &c, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (write(fd, chan_endpoint(ch), strlen(chan_endpoint(ch)) + 1) == -1)
		fatal("write");
	for (;;) {
		chan_poll(ch, 1000);
		while (chan_next(ch, &ev)) {
			if (ev.type == CHAN_EV_REQUEST)
				chan_reply(ch, ev.peer, ev.id, ev.data, ev.len);
			chan_event_clear(&ev);
		}
	}
}

/* Starts server() in a child; its endpoint into ep. */
static pid_t
spawn(void (*server)(int), char *ep, size_t eplen)
{
	int fds[2];
	pid_t pid;
	ssize_t n;

	if (pipe(fds) == -1 || (pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(fds[0]);
		server(fds[1]);
		_exit(0);
	}
	close(fds[1]);
	if ((n = read(fds[0], ep, eplen - 1)) <= 0)
		fatalx("server did not start");
	ep[n] = '\0';
	close(fds[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ------------------------------------------------------------ plain */

/* Sends one message and waits for its echo. */
static void
plain_rt(void *s, const char *msg)
{
	zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
	zmq_msg_t m;

	zmq_send(s, msg, (size_t)size, 0);
	for (;;) {
		zmq_poll(&it, 1, -1);
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) >= 0) {
			zmq_msg_close(&m);
			return;
		}
		zmq_msg_close(&m);
	}
}

struct result {
	double p50, p99, tput, connect_ms;
};

static void
plain_run(const char *ep, char *msg, struct result *r)
{
	void *ctx = zmq_ctx_new(), *s;
	uint64_t *lat = calloc((size_t)n_rt, sizeof(*lat)), t0, *con;
	int linger = 0, sent = 0, got = 0;

	con = calloc((size_t)n_hs, sizeof(*con));
	for (int i = 0; i < n_hs; i++) {
		t0 = clock_us();
		s = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_connect(s, ep);
		plain_rt(s, msg);
		con[i] = clock_us() - t0;
		zmq_close(s);
	}
	r->connect_ms = pct(con, n_hs, 0.5) / 1000;
	s = zmq_socket(ctx, ZMQ_DEALER);
	zmq_connect(s, ep);
	for (int i = 0; i < 1000; i++) /* warm up */
		plain_rt(s, msg);
	for (int i = 0; i < n_rt; i++) {
		t0 = clock_us();
		plain_rt(s, msg);
		lat[i] = clock_us() - t0;
	}
	r->p50 = pct(lat, n_rt, 0.5);
	r->p99 = pct(lat, n_rt, 0.99);
	t0 = clock_us();
	while (got < n_rt) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		zmq_msg_t m;

		while (sent < n_rt && sent - got < window) {
			zmq_send(s, msg, (size_t)size, 0);
			sent++;
		}
		zmq_poll(&it, 1, -1);
		for (;;) {
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				break;
			}
			zmq_msg_close(&m);
			got++;
		}
	}
	r->tput = n_rt / ((double)(clock_us() - t0) / 1e6);
	zmq_close(s);
	zmq_ctx_term(ctx);
	free(lat);
	free(con);
}

/* ------------------------------------------------------------ channel */

/* Polls until an event of type arrives; counts replies into *got. */
static void
chan_wait(struct chan *ch, enum chan_event_type type, int *got)
{
	struct chan_event ev;
	int done = 0;

	while (!done) {
		chan_poll(ch, 1000);
		while (chan_next(ch, &ev)) {
			if (ev.type == CHAN_EV_REPLY && got != NULL)
				(*got)++;
			if (ev.type == CHAN_EV_REFUSED)
				fatalx("bench refused: %s", ev.reason);
			if (ev.type == type)
				done = 1;
			chan_event_clear(&ev);
		}
	}
}

static void
chan_run(const char *ep, char *msg, struct result *r)
{
	struct chan_config c = config(0);
	void *ctx = zmq_ctx_new();
	uint64_t *lat = calloc((size_t)n_rt, sizeof(*lat)), t0, *con;
	struct chan *ch;
	char err[256];
	int sent = 0, got = 0;

	con = calloc((size_t)n_hs, sizeof(*con));
	for (int i = 0; i < n_hs; i++) {
		t0 = clock_us();
		if ((ch = chan_client_new(ctx, ep, &c, err, sizeof(err))) ==
		    NULL)
			fatalx("%s", err);
		chan_request(ch, 0, msg, (size_t)size, NULL);
		chan_wait(ch, CHAN_EV_REPLY, NULL);
		con[i] = clock_us() - t0;
		chan_free(ch);
	}
	r->connect_ms = pct(con, n_hs, 0.5) / 1000;
	if ((ch = chan_client_new(ctx, ep, &c, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	chan_wait(ch, CHAN_EV_UP, NULL);
	for (int i = 0; i < 1000; i++) { /* warm up */
		chan_request(ch, 0, msg, (size_t)size, NULL);
		chan_wait(ch, CHAN_EV_REPLY, NULL);
	}
	for (int i = 0; i < n_rt; i++) {
		t0 = clock_us();
		chan_request(ch, 0, msg, (size_t)size, NULL);
		chan_wait(ch, CHAN_EV_REPLY, NULL);
		lat[i] = clock_us() - t0;
	}
	r->p50 = pct(lat, n_rt, 0.5);
	r->p99 = pct(lat, n_rt, 0.99);
	t0 = clock_us();
	while (got < n_rt) {
		struct chan_event ev;

		while (sent < n_rt && sent - got < window) {
			if (chan_request(ch, 0, msg, (size_t)size, NULL) == -1)
				fatal("request");
			sent++;
		}
		chan_poll(ch, 1000);
		while (chan_next(ch, &ev)) {
			if (ev.type == CHAN_EV_REPLY)
				got++;
			chan_event_clear(&ev);
		}
	}
	r->tput = n_rt / ((double)(clock_us() - t0) / 1e6);
	chan_free(ch);
	zmq_ctx_term(ctx);
	free(lat);
	free(con);
}

/* A mutual handshake alone, both sides in memory, no sockets. */
static double
handshake_ms(void)
{
	struct chan_config s = config(1), c;
	struct tls_ctx *sc, *cc;
	uint64_t *t = calloc((size_t)n_hs, sizeof(*t));
	unsigned char buf[16384];
	char err[256];
	double r;

	sc = tls_ctx_new(
	    TLS_SERVER, s.ca, s.crl, s.cert, s.key, err, sizeof(err));
	c = config(0);
	cc = tls_ctx_new(
	    TLS_CLIENT, c.ca, c.crl, c.cert, c.key, err, sizeof(err));
	if (sc == NULL || cc == NULL)
		fatalx("%s", err);
	for (int i = 0; i < n_hs; i++) {
		uint64_t t0 = clock_us();
		struct tls *a = tls_new(cc), *b = tls_new(sc);
		size_t n;
		int moved;

		do {
			moved = 0;
			tls_handshake(a);
			while ((n = tls_take(a, buf, sizeof(buf))) > 0) {
				tls_feed(b, buf, n);
				moved = 1;
			}
			tls_handshake(b);
			while ((n = tls_take(b, buf, sizeof(buf))) > 0) {
				tls_feed(a, buf, n);
				moved = 1;
			}
		} while (moved);
		if (!tls_done(b))
			fatalx("handshake: %s", tls_error(b));
		t[i] = clock_us() - t0;
		tls_free(a);
		tls_free(b);
	}
	r = pct(t, n_hs, 0.5) / 1000;
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	free(t);
	return r;
}

int
main(int argc, char **argv)
{
	struct result p, c;
	char ep[256], *msg;
	pid_t pid;
	double hs;

	if (argc != 2) {
		fprintf(stderr, "usage: chan PKIDIR\n");
		return 2;
	}
	log_init("bench-chan", 0, LOG_TO_STDERR);
	pki = argv[1];
	n_rt = env_int("CHAN_BENCH_N", 20000);
	size = env_int("CHAN_BENCH_SIZE", 256);
	window = env_int("CHAN_BENCH_WINDOW", 64);
	n_hs = env_int("CHAN_BENCH_HS", 100);
	if ((msg = malloc((size_t)size)) == NULL)
		fatal("malloc");
	memset(msg, 'q', (size_t)size);

	pid = spawn(plain_server, ep, sizeof(ep));
	plain_run(ep, msg, &p);
	reap(pid);
	pid = spawn(chan_server, ep, sizeof(ep));
	chan_run(ep, msg, &c);
	reap(pid);
	hs = handshake_ms();

	printf("size=%d bytes, %d round trips, window %d, %d connections\n",
	    size, n_rt, window, n_hs);
	printf("%-22s %10s %10s %14s %16s\n", "", "rtt p50 us", "rtt p99 us",
	    "requests/s", "connect+1st ms");
	printf("%-22s %10.1f %10.1f %14.0f %16.2f\n", "plain ZeroMQ", p.p50,
	    p.p99, p.tput, p.connect_ms);
	printf("%-22s %10.1f %10.1f %14.0f %16.2f\n", "mTLS channel", c.p50,
	    c.p99, c.tput, c.connect_ms);
	printf("ratio channel/plain: rtt p50 %.2fx, rtt p99 %.2fx, "
	       "throughput %.2fx, connect %.1fx (goal: rtt <= 1.5x)\n",
	    c.p50 / p.p50, c.p99 / p.p99, c.tput / p.tput,
	    c.connect_ms / p.connect_ms);
	printf("mutual TLS 1.3 handshake alone (in memory, both sides): "
	       "%.2f ms p50\n",
	    hs);
	free(msg);
	return 0;
}
