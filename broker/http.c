/*
 * http.c — owns the broker's operator endpoint: /metrics, /status (HTML)
 * and /status.json, served by libmicrohttpd from its own thread.
 *
 * It must never reach into the broker's state: it answers from the copy
 * the broker last published, under its lock. It serves only GET and HEAD
 * of three fixed paths, loads nothing from elsewhere (no scripts, no
 * external assets), HTML-escapes every string, and shows nothing a status
 * snapshot does not hold — no counts, no queries.
 */
#include <sys/socket.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "util.h"
#include "version.h"

#define HTTP_REFRESH_S 5
#define HTTP_MAX_CONN  64
#define HTTP_TIMEOUT_S 10

struct http {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t lock; /* guards snap */
	struct status_snapshot snap;
};

/* ------------------------------------------------------------ the page */

static void
put_html(FILE *fp, const char *s, size_t max)
{
	char clean[4 * 128];

	status_clean(clean, sizeof(clean), s, strnlen(s, max));
	for (const char *p = clean; *p != '\0'; p++)
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*p, fp);
		}
}

#define HTML(fp, field) put_html(fp, field, sizeof(field))

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"refresh\" content=\"%d\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<link rel=\"icon\" href=\"data:,\">\n"
    "<title>tally status</title>\n<style>\n"
    "body{font:13px/1.4 system-ui,sans-serif;margin:1.2em;color:#222;"
    "background:#fff}\n"
    "h1{font-size:1.4em;margin:0 0 .3em}\n"
    ".wrap{overflow-x:auto}\n"
    "table{border-collapse:collapse}\n"
    "th,td{padding:.2em .5em;text-align:left;border-bottom:1px solid "
    "#ddd;white-space:nowrap}\n"
    "td.name{white-space:normal;min-width:18em}\n"
    "thead th{background:#f3f3f3;font-weight:600;position:sticky;top:0}\n"
    "tr.group th{background:#fff;font-size:1.1em;padding-top:1.2em;"
    "border-bottom:2px solid #bbb}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".state{font-weight:700}\n"
    "tr.up .state{color:#17692b}\n"
    "tr.down td{background:#fff4e0}\ntr.down .state{color:#b45309}\n"
    "tr.missing td{background:#fde2e2}\ntr.missing .state{color:#b91c1c}\n"
    ".lead{color:#666;font-weight:400}\n"
    ".bad{color:#b91c1c;font-weight:700}\n"
    "footer{margin-top:2em;color:#666;font-size:.9em}\n"
    "</style>\n</head>\n<body>\n<h1>tally network status</h1>\n";

static const char *const columns[] = { "site", "hospital", "state", "heartbeat",
	"proto", "software", "DB snapshot", "persons", "k", "served", "refused",
	"failed", "p50", "p95" };
/* Columns from "persons" on are numbers. */
#define FIRST_NUM 7

static void
html_summary(FILE *fp, const struct status_snapshot *s)
{
	size_t up = 0, missing = 0;
	char age[32];

	for (size_t i = 0; i < s->nnodes; i++) {
		up += s->nodes[i].connected != 0;
		missing += s->nodes[i].missing != 0;
	}
	status_fmt_age(age, sizeof(age),
	    s->uptime_s < UINT64_MAX / 1000 ? s->uptime_s * 1000
					    : UINT64_MAX - 1);
	fprintf(fp,
	    "<p class=\"summary\">broker up %s &middot; "
	    "<span id=\"connected\">%zu</span> of %zu nodes connected",
	    age, up, s->nnodes);
	if (up < s->nnodes)
		fprintf(fp, " &middot; <span class=\"bad\">%zu down</span>",
		    s->nnodes - up);
	if (missing > 0)
		fprintf(fp, " &middot; <span class=\"bad\">%zu missing</span>",
		    missing);
	fputs("</p>\n<p class=\"queries\">queries:", fp);
	for (size_t i = 0; i < nitems(s->queries); i++)
		fprintf(fp, "%s %llu %s", i ? "," : "",
		    (unsigned long long)s->queries[i], status_query_states[i]);
	fputs(" &middot; tasks:", fp);
	for (size_t i = 0; i < nitems(s->tasks); i++)
		fprintf(fp, "%s %llu %s", i ? "," : "",
		    (unsigned long long)s->tasks[i], status_task_states[i]);
	fputs("</p>\n", fp);
}

/* One table for every node, so columns line up across consortia. */
static void
html_table_head(FILE *fp)
{
	fputs("<div class=\"wrap\"><table>\n<thead><tr>", fp);
	for (size_t c = 0; c < nitems(columns); c++)
		fprintf(fp, "<th%s>%s</th>",
		    c >= FIRST_NUM ? " class=\"num\"" : "", columns[c]);
	fputs("</tr></thead>\n", fp);
}

/* A consortium's rows: a tbody opened by a heading row. */
static void
html_group(FILE *fp, const struct status_node *first)
{
	fputs("<tbody class=\"consortium\" data-consortium=\"", fp);
	HTML(fp, first->consortium);
	fprintf(fp, "\">\n<tr class=\"group\"><th colspan=\"%zu\">Consortium ",
	    nitems(columns));
	HTML(fp, first->consortium);
	if (first->lead) {
		fputs(" <span class=\"lead\">(lead ", fp);
		HTML(fp, first->site);
		fputs(")</span>", fp);
	}
	fputs("</th></tr>\n", fp);
}

static void
html_node(FILE *fp, const struct status_node *n)
{
	char b[32];
	uint64_t rows;

	/* One line per node: greppable in a dumped DOM. */
	fprintf(fp, "<tr class=\"node %s\" data-site=\"",
	    n->connected     ? "up"
		: n->missing ? "down missing"
			     : "down");
	HTML(fp, n->site);
	fputs("\"><td class=\"site\">", fp);
	HTML(fp, n->site);
	fputs("</td><td class=\"name\">", fp);
	HTML(fp, n->name_en);
	fprintf(fp, "</td><td class=\"state\">%s</td>",
	    n->connected     ? "up"
		: n->missing ? "DOWN (missing)"
			     : "DOWN");
	status_fmt_age(b, sizeof(b), n->heartbeat_age_ms);
	fprintf(fp, "<td>%s</td>", b);
	if (n->protocol)
		fprintf(fp, "<td>v%u</td><td>", n->protocol);
	else
		fputs("<td>-</td><td>", fp);
	HTML(fp, n->software);
	fputs("</td><td>", fp);
	HTML(fp, n->snapshot_date);
	if (status_node_rows(n, "person", &rows))
		status_fmt_thousands(b, sizeof(b), rows);
	else
		strlcpy(b, "-", sizeof(b));
	fprintf(fp, "</td><td class=\"num\">%s</td>", b);
	fprintf(fp,
	    "<td class=\"num\">%u</td><td class=\"num\">%llu</td>"
	    "<td class=\"num\">%llu</td><td class=\"num\">%llu</td>",
	    n->min_cell, (unsigned long long)n->served,
	    (unsigned long long)n->refused, (unsigned long long)n->failed);
	status_fmt_us(b, sizeof(b), n->latency_p50_us);
	fprintf(fp, "<td class=\"num\">%s</td>", b);
	status_fmt_us(b, sizeof(b), n->latency_p95_us);
	fprintf(fp, "<td class=\"num\">%s</td></tr>\n", b);
}

static char *
render_html(const struct status_snapshot *s, size_t *lenp)
{
	size_t *order = status_order(s);
	const struct status_node *prev = NULL;
	char *buf = NULL;
	FILE *fp;

	if ((order == NULL && s->nnodes > 0) ||
	    (fp = open_memstream(&buf, lenp)) == NULL) {
		free(order);
		return NULL;
	}
	fprintf(fp, page_head, HTTP_REFRESH_S);
	html_summary(fp, s);
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct status_node *n = &s->nodes[order[i]];

		if (prev == NULL)
			html_table_head(fp);
		if (prev == NULL ||
		    strncmp(prev->consortium, n->consortium,
			sizeof(n->consortium)) != 0) {
			if (prev != NULL)
				fputs("</tbody>\n", fp);
			html_group(fp, n);
		}
		html_node(fp, n);
		prev = n;
	}
	if (prev != NULL)
		fputs("</tbody>\n</table></div>\n", fp);
	fprintf(fp,
	    "<footer>tally-broker %s &middot; this page refreshes every "
	    "%d s &middot; <a href=\"metrics\">metrics</a> &middot; "
	    "<a href=\"status.json\">status.json</a></footer>\n"
	    "</body>\n</html>\n",
	    TALLY_VERSION, HTTP_REFRESH_S);
	free(order);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------ requests */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, const char *type, char *body,
    size_t len, int must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
	    must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; "
	    "img-src data:; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'none'");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (code == MHD_HTTP_FOUND)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "status");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
	return reply(c, code, "text/plain; charset=utf-8", (char *)text,
	    strlen(text), 0);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct http *h = cls;
	const char *type;
	char *body = NULL;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed: GET or HEAD only\n");
	if (strcmp(url, "/") == 0)
		return reply_text(c, MHD_HTTP_FOUND, "see /status\n");
	pthread_mutex_lock(&h->lock);
	if (strcmp(url, "/metrics") == 0) {
		type = METRICS_CONTENT_TYPE;
		body = metrics_render(&h->snap, &len);
	} else if (strcmp(url, "/status") == 0) {
		type = "text/html; charset=utf-8";
		body = render_html(&h->snap, &len);
	} else if (strcmp(url, "/status.json") == 0) {
		type = "application/json";
		if ((body = status_to_json(&h->snap, 1)) != NULL)
			len = strlen(body);
	} else {
		pthread_mutex_unlock(&h->lock);
		return reply_text(c, MHD_HTTP_NOT_FOUND,
		    "not found: try /status, /status.json or /metrics\n");
	}
	pthread_mutex_unlock(&h->lock);
	if (body == NULL) {
		log_warnx("http: %s: out of memory", url);
		return reply_text(
		    c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return reply(c, MHD_HTTP_OK, type, body, len, 1);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warnx("http: %s", buf);
}

/*
 * Paths are compared as sent: "/metrics%00" or "/status%2Ejson" is not
 * one of ours (and no query-string argument is ever read).
 */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* ------------------------------------------------------------ life cycle */

/* "host:port" or "[v6]:port" into host and port. */
static int
split_hostport(const char *hp, char *host, size_t hostlen, char *port,
    size_t portlen, char *err, size_t errlen)
{
	const char *colon, *h = hp;
	size_t n;
	int64_t v;

	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		h = hp + 1;
		n = (size_t)(end - h);
		colon = end + 1;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL ||
		    memchr(hp, ':', (size_t)(colon - hp)) != NULL)
			goto bad;
		n = (size_t)(colon - hp);
	}
	if (n == 0 || n >= hostlen || strlen(colon + 1) >= portlen ||
	    parse_int64(colon + 1, strlen(colon + 1), 0, 65535, &v) == -1)
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	strlcpy(port, colon + 1, portlen);
	return 0;
bad:
	return errf(err, errlen,
	    "http address '%s': expected HOST:PORT or [IPv6]:PORT", hp);
}

struct http *
http_start(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	const union MHD_DaemonInfo *info;
	char host[256], port[8];
	struct http *h;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int rc;

	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port),
		err, errlen) == -1)
		return NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		errf(err, errlen, "http address '%s': %s", hostport,
		    gai_strerror(rc));
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		freeaddrinfo(ai);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
	    ai->ai_addr, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONN,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->d == NULL) {
		errf(err, errlen, "http: cannot listen on %s (in use?)",
		    hostport);
		http_stop(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : 0;
	return h;
}

uint16_t
http_port(const struct http *h)
{
	return h->port;
}

int
http_publish(struct http *h, const struct status_snapshot *s)
{
	struct status_snapshot copy;

	/* Copy outside the lock: requests wait only for a pointer swap. */
	memset(&copy, 0, sizeof(copy));
	if (status_copy(&copy, s) == -1) {
		log_warnx("http: out of memory publishing the status");
		return -1;
	}
	pthread_mutex_lock(&h->lock);
	status_free(&h->snap);
	h->snap = copy;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	status_free(&h->snap);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
