/*
 * test_broker_http.c — the broker's HTTP endpoint over real sockets:
 * /metrics, /status, /status.json, what else answers 404 or 405, HEAD,
 * HTML escaping, publishing while requests run, and refused addresses.
 */
#include "testutil.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "status.h"
#include "test_status.h"

struct resp {
	int code;
	char head[4096];
	char *body;
	size_t len;
};

/* One request on a fresh connection, read to EOF. */
static void
fetch6(
    int v6, uint16_t port, const char *method, const char *path, struct resp *r)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char req[512], *buf = NULL, *sep;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&ss,
		v6 ? sizeof(*sin6) : sizeof(*sin)) == -1)
		fail_msg("connect to port %u: %m", port);
	snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n",
	    method, path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = 2 * cap + 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		if ((n = read(fd, buf + len, 4096)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	assert_int_equal(sscanf(buf, "HTTP/1.1 %d ", &r->code), 1);
	sep = strstr(buf, "\r\n\r\n");
	assert_non_null(sep);
	assert_true((size_t)(sep - buf) < sizeof(r->head));
	memcpy(r->head, buf, (size_t)(sep - buf) + 2);
	r->len = len - (size_t)(sep + 4 - buf);
	r->body = malloc(r->len + 1);
	assert_non_null(r->body);
	memcpy(r->body, sep + 4, r->len + 1);
	free(buf);
}

static void
fetch(uint16_t port, const char *method, const char *path, struct resp *r)
{
	fetch6(0, port, method, path, r);
}

/* The value of a response header (case as MHD writes it), or NULL. */
static const char *
header(struct resp *r, const char *name)
{
	static char v[512];
	char key[128];
	const char *p, *e;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	if ((p = strstr(r->head, key)) == NULL)
		return NULL;
	p += strlen(key);
	e = strstr(p, "\r\n");
	snprintf(v, sizeof(v), "%.*s", (int)(e - p), p);
	return v;
}

static struct http *
start(void)
{
	char err[256];
	struct http *h = http_start("127.0.0.1:0", err, sizeof(err));

	if (h == NULL)
		fail_msg("http_start: %s", err);
	assert_true(http_port(h) > 0);
	return h;
}

static void
endpoints(void **state)
{
	struct status_snapshot s;
	struct http *h = start();
	struct resp r;
	json_t *doc;
	char *want;
	size_t len;

	(void)state;
	/* Before the first publish: an empty network, not an error. */
	fetch(http_port(h), "GET", "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "\ntally_nodes 0\n"));
	free(r.body);

	sample_snapshot(&s);
	assert_int_equal(http_publish(h, &s), 0);

	fetch(http_port(h), "GET", "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Content-Type"), METRICS_CONTENT_TYPE);
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	want = metrics_render(&s, &len);
	assert_int_equal(r.len, len);
	assert_string_equal(r.body, want);
	free(want);
	free(r.body);

	fetch(http_port(h), "GET", "/status.json", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	doc = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "nodes")), 6);
	assert_int_equal(
	    json_integer_value(json_object_get(doc, "uptime_s")), 3725);
	json_decref(doc);
	free(r.body);
	status_free(&s);
	http_stop(h);
}

static void
status_page(void **state)
{
	struct status_snapshot s;
	struct http *h = start();
	struct resp r;

	(void)state;
	sample_snapshot(&s);
	strlcpy(s.nodes[2].name_en, "<script>alert(\"x\")</script> & 'q'",
	    sizeof(s.nodes[2].name_en));
	assert_int_equal(http_publish(h, &s), 0);
	fetch(http_port(h), "GET", "/status", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(
	    header(&r, "Content-Type"), "text/html; charset=utf-8");
	assert_non_null(strstr(
	    header(&r, "Content-Security-Policy"), "default-src 'none'"));
	assert_non_null(strstr(r.body, "<!DOCTYPE html>"));
	assert_non_null(
	    strstr(r.body, "<meta http-equiv=\"refresh\" content=\"5\">"));
	assert_non_null(strstr(r.body,
	    "&lt;script&gt;alert(&quot;x&quot;)&lt;"
	    "/script&gt; &amp; &#39;q&#39;"));
	assert_null(strstr(r.body, "<script"));
	assert_null(strstr(r.body, "http://"));
	assert_null(strstr(r.body, "https://"));
	assert_non_null(strstr(r.body,
	    "<tr class=\"node down\" "
	    "data-site=\"c1-lead\">"));
	assert_non_null(strstr(r.body,
	    "<tr class=\"node down missing\" "
	    "data-site=\"c2-b\">"));
	assert_non_null(strstr(r.body,
	    "<tr class=\"node up\" "
	    "data-site=\"c2-lead\">"));
	assert_non_null(strstr(r.body, "<td class=\"state\">DOWN</td>"));
	assert_non_null(strstr(r.body, "<td class=\"state\">DOWN (missing)"));
	/* Grouped: consortium 1, 2, 10, each once, in that order. */
	{
		const char *c1 = strstr(r.body, "data-consortium=\"1\"");
		const char *c2 = strstr(r.body, "data-consortium=\"2\"");
		const char *c10 = strstr(r.body, "data-consortium=\"10\"");

		assert_true(c1 && c2 && c10 && c1 < c2 && c2 < c10);
		assert_null(strstr(c1 + 1, "data-consortium=\"1\""));
		assert_true(strstr(r.body, "data-site=\"c1-b\"") < c2);
		assert_true(strstr(r.body, "data-site=\"c10-a\"") > c10);
	}
	assert_true(utf8_valid(r.body, r.len));
	free(r.body);
	status_free(&s);
	http_stop(h);
}

static void
methods_and_paths(void **state)
{
	static const char *nf[] = { "/nope", "/metrics/", "/status.html",
		"/../etc/passwd", "/metrics%00", "/status%2Ejson",
		"/favicon.ico", "//status" };
	static const char *methods[] = { "POST", "PUT", "DELETE", "OPTIONS",
		"PATCH" };
	struct http *h = start();
	struct resp r;

	(void)state;
	for (size_t i = 0; i < nitems(nf); i++) {
		fetch(http_port(h), "GET", nf[i], &r);
		if (r.code != 404)
			fail_msg("GET %s: %d, expected 404", nf[i], r.code);
		free(r.body);
	}
	for (size_t i = 0; i < nitems(methods); i++) {
		fetch(http_port(h), methods[i], "/metrics", &r);
		if (r.code != 405)
			fail_msg("%s /metrics: %d", methods[i], r.code);
		assert_string_equal(header(&r, "Allow"), "GET, HEAD");
		free(r.body);
	}
	fetch(http_port(h), "HEAD", "/status", &r);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.len, 0);
	assert_true(atoi(header(&r, "Content-Length")) > 500);
	free(r.body);
	fetch(http_port(h), "GET", "/", &r);
	assert_int_equal(r.code, 302);
	assert_string_equal(header(&r, "Location"), "status");
	free(r.body);
	http_stop(h);
}

struct publisher {
	struct http *h;
	struct status_snapshot *s;
	int rounds;
};

static void *
publish_loop(void *arg)
{
	struct publisher *p = arg;

	for (int i = 0; i < p->rounds; i++) {
		p->s->uptime_s = (uint64_t)i;
		p->s->nnodes = 1 + (size_t)i % 6;
		if (http_publish(p->h, p->s) == -1)
			return p;
	}
	return NULL;
}

static void
publish_while_serving(void **state)
{
	struct status_snapshot s;
	struct publisher p;
	struct http *h = start();
	struct resp r;
	pthread_t t;
	void *ret;
	json_t *doc;

	(void)state;
	sample_snapshot(&s);
	p.h = h;
	p.s = &s;
	p.rounds = 2000;
	assert_int_equal(pthread_create(&t, NULL, publish_loop, &p), 0);
	for (int i = 0; i < 40; i++) {
		const char *path = i % 2 ? "/status.json" : "/metrics";

		fetch(http_port(h), "GET", path, &r);
		assert_int_equal(r.code, 200);
		if (i % 2) {
			doc = json_loads(r.body, 0, NULL);
			assert_non_null(doc);
			json_decref(doc);
		}
		free(r.body);
	}
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	/* The last publish is what is served. */
	s.nnodes = 6;
	s.uptime_s = 777;
	s.nodes[0].connected = 0;
	assert_int_equal(http_publish(h, &s), 0);
	s.uptime_s = 1; /* the server holds its own copy */
	fetch(http_port(h), "GET", "/metrics", &r);
	assert_non_null(strstr(r.body, "\ntally_broker_uptime_seconds 777\n"));
	assert_non_null(strstr(r.body, "\ntally_nodes_connected 2\n"));
	free(r.body);
	status_free(&s);
	http_stop(h);
}

static void
bad_addresses(void **state)
{
	static const char *bad[] = { "nohost", "127.0.0.1",
		"127.0.0.1:", ":9470", "127.0.0.1:70000", "127.0.0.1:-1",
		"127.0.0.1:80x", "[::1", "[::1]80", "::1:80",
		"no.such.host.invalid:80" };
	struct http *h, *h2;
	char err[256], addr[64];

	(void)state;
	for (size_t i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		if ((h = http_start(bad[i], err, sizeof(err))) != NULL)
			fail_msg("http_start accepted '%s'", bad[i]);
		if (strstr(err, bad[i]) == NULL)
			fail_msg(
			    "'%s': error does not name it: %s", bad[i], err);
	}
	/* A port in use. */
	h = start();
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", http_port(h));
	h2 = http_start(addr, err, sizeof(err));
	assert_null(h2);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
	http_stop(h);
	http_stop(NULL);
}

static void
ipv6_loopback(void **state)
{
	struct http *h;
	struct resp r;
	char err[256];
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6;

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (fd == -1 ||
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		if (fd != -1)
			close(fd);
		skip(); /* no IPv6 loopback on this machine */
	}
	close(fd);
	h = http_start("[::1]:0", err, sizeof(err));
	if (h == NULL)
		fail_msg("%s", err);
	fetch6(1, http_port(h), "GET", "/status.json", &r);
	assert_int_equal(r.code, 200);
	free(r.body);
	http_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(endpoints),
		cmocka_unit_test(status_page),
		cmocka_unit_test(methods_and_paths),
		cmocka_unit_test(publish_while_serving),
		cmocka_unit_test(bad_addresses),
		cmocka_unit_test(ipv6_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
