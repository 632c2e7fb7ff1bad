/*
 * chan_broker.c — a test broker on the channel API (include/chan.h), for
 * tests/integration/chan_*.sh. Test-only code.
 *
 * It answers every request "TEXT" with "re:TEXT", except requests that
 * start with the -H prefix, which it holds (never answers) to leave a
 * request in flight. With -j it appends "exec NAME ID TEXT" to a journal
 * (fsync'd) for each request it executes, so a test can count effects.
 * Events go to stdout, one line each; SIGTERM ends it with a stats line.
 *
 *   chan_broker -c CONF [-e EPFILE] [-j JOURNAL] [-H PREFIX] [-v]
 *
 * CONF: listen (default tcp://127.0.0.1:0), tls_*, allow_roles, chan_*.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "conf.h"
#include "log.h"
#include "util.h"

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chan_broker -c CONF [-e EPFILE] [-j JOURNAL] "
	    "[-H PREFIX] [-v]\n");
	exit(2);
}

/* The payload as printable text (tests send text). */
static void
text(const struct chan_event *ev, char *out, size_t len)
{
	size_t n = ev->len < len - 1 ? ev->len : len - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = ev->data[i] >= 0x20 && ev->data[i] < 0x7f
		    ? (char)ev->data[i]
		    : '?';
	out[n] = '\0';
}

static void
journal(const char *path, const struct chan_event *ev, const char *t)
{
	char line[1200];
	int fd, n;

	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1)
		fatal("%s", path);
	n = snprintf(line, sizeof(line), "exec %s %llu %s\n", ev->name,
	    (unsigned long long)ev->id, t);
	if (write(fd, line, (size_t)n) != n || fsync(fd) == -1)
		fatal("%s", path);
	close(fd);
}

static void
on_event(
    struct chan *ch, struct chan_event *ev, const char *jpath, const char *hold)
{
	char t[1024], reply[1100];
	int n;

	switch (ev->type) {
	case CHAN_EV_UP:
		printf("up %s %s\n", tls_role_name(ev->role), ev->name);
		break;
	case CHAN_EV_DOWN:
		printf("down %s %s: %s\n", tls_role_name(ev->role), ev->name,
		    ev->reason);
		break;
	case CHAN_EV_GONE:
		printf("gone %s %s: %s\n", tls_role_name(ev->role), ev->name,
		    ev->reason);
		break;
	case CHAN_EV_REQUEST:
		text(ev, t, sizeof(t));
		if (hold != NULL && strncmp(t, hold, strlen(hold)) == 0) {
			printf(
			    "holding %llu %s\n", (unsigned long long)ev->id, t);
			break;
		}
		journal(jpath, ev, t);
		printf("request %s %llu %s\n", ev->name,
		    (unsigned long long)ev->id, t);
		n = snprintf(reply, sizeof(reply), "re:%s", t);
		if (chan_reply(ch, ev->peer, ev->id, reply, (size_t)n) == -1)
			log_warn("reply %llu", (unsigned long long)ev->id);
		break;
	case CHAN_EV_MESSAGE:
		text(ev, t, sizeof(t));
		printf("message %s %s\n", ev->name, t);
		break;
	default:
		break;
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *cpath = NULL, *epfile = NULL, *jpath = NULL, *hold = NULL;
	struct chan_config cfg;
	struct chan_event ev;
	struct chan_stats st;
	struct conf *cf;
	struct chan *ch;
	char err[512];
	int c, verbose = 0;
	FILE *fp;

	while ((c = getopt(argc, argv, "c:e:j:H:v")) != -1) {
		switch (c) {
		case 'c':
			cpath = optarg;
			break;
		case 'e':
			epfile = optarg;
			break;
		case 'j':
			jpath = optarg;
			break;
		case 'H':
			hold = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (cpath == NULL || optind != argc)
		usage();
	log_init("chan_broker", verbose, LOG_TO_STDERR);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if ((cf = conf_load(cpath, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	chan_config_default(&cfg);
	if (chan_config_load(&cfg, cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	ch = chan_server_new(NULL, conf_str(cf, "listen", "tcp://127.0.0.1:0"),
	    &cfg, err, sizeof(err));
	if (ch == NULL)
		fatalx("%s", err);
	if (conf_check_unused(cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	conf_free(cf);
	if (epfile != NULL) {
		char tmp[1024];
		snprintf(tmp, sizeof(tmp), "%s.tmp", epfile);
		if ((fp = fopen(tmp, "w")) == NULL ||
		    fprintf(fp, "%s\n", chan_endpoint(ch)) < 0 ||
		    fclose(fp) != 0 || rename(tmp, epfile) == -1)
			fatal("%s", epfile);
	}
	printf("listening %s\n", chan_endpoint(ch));
	fflush(stdout);
	while (!quit) {
		if (chan_poll(ch, 1000) == -1 && errno != EINTR)
			fatal("chan_poll");
		while (chan_next(ch, &ev)) {
			on_event(ch, &ev, jpath, hold);
			chan_event_clear(&ev);
		}
	}
	chan_stats(ch, &st);
	printf("stats sessions=%llu refused=%llu evicted=%llu timeouts=%llu "
	       "dropped=%llu resets=%llu deferred=%llu duplicates=%llu\n",
	    (unsigned long long)st.sessions, (unsigned long long)st.refused,
	    (unsigned long long)st.evicted, (unsigned long long)st.timeouts,
	    (unsigned long long)st.dropped, (unsigned long long)st.resets,
	    (unsigned long long)st.deferred, (unsigned long long)st.duplicates);
	fflush(stdout);
	chan_free(ch);
	return 0;
}
