/*
 * chan_client.c — a test node or command-line client on the channel API
 * (include/chan.h), for tests/integration/chan_*.sh. Test-only code.
 *
 * Sends each REQUEST argument as a request and prints every event on
 * stdout with the milliseconds since start: "[   812] up broker",
 * "[  1300] reply 1 re:TEXT", "down REASON", "refused REASON".
 *
 *   chan_client -c CONF [-e EPFILE] [-t MS] [-i MS] [-r] [-s] [-v]
 *               [REQUEST...]
 *
 *   -e  read the broker's endpoint from EPFILE (else CONF's `broker`)
 *   -t  give up after MS (exit 1)
 *   -i  also send "tick N" every MS while registered or not
 *   -r  exit 3 on the first refusal
 *   -s  stay after all replies, until SIGTERM or -t (then exit 0)
 *   -v  log the channel's informational messages too
 * Exit 0 once every REQUEST has its reply.
 */
#include <errno.h>
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
static uint64_t t0;

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
	    "usage: chan_client -c CONF [-e EPFILE] [-t MS] "
	    "[-i MS] [-r] [-s] [-v] [REQUEST...]\n");
	exit(2);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	printf("[%6llu] ", (unsigned long long)(clock_ms() - t0));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void
endpoint_read(const char *path, char *out, size_t len)
{
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL || fgets(out, (int)len, fp) == NULL)
		fatal("%s", path);
	fclose(fp);
	out[strcspn(out, "\n")] = '\0';
}

static void
request(struct chan *ch, const char *text)
{
	uint64_t id;

	if (chan_request(ch, 0, text, strlen(text), &id) == -1)
		fatal("request");
	say("sent %llu %s", (unsigned long long)id, text);
}

int
main(int argc, char **argv)
{
	const char *cpath = NULL, *epfile = NULL;
	long timeout = 0, every = 0;
	int c, refuse_exit = 0, stay = 0, waiting, ticks = 0, verbose = 0;
	struct chan_config cfg;
	struct chan_event ev;
	struct conf *cf;
	struct chan *ch;
	char err[512], ep[256], tick[64];
	uint64_t next_tick = 0;

	while ((c = getopt(argc, argv, "c:e:t:i:rsv")) != -1) {
		switch (c) {
		case 'c':
			cpath = optarg;
			break;
		case 'e':
			epfile = optarg;
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			break;
		case 'i':
			every = strtol(optarg, NULL, 10);
			break;
		case 'r':
			refuse_exit = 1;
			break;
		case 's':
			stay = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (cpath == NULL)
		usage();
	t0 = clock_ms();
	log_init("chan_client", verbose, LOG_TO_STDERR);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((cf = conf_load(cpath, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	chan_config_default(&cfg);
	if (chan_config_load(&cfg, cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (epfile != NULL)
		endpoint_read(epfile, ep, sizeof(ep));
	else
		strlcpy(ep, conf_str(cf, "broker", "tcp://127.0.0.1:9400"),
		    sizeof(ep));
	if ((ch = chan_client_new(NULL, ep, &cfg, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (conf_check_unused(cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	conf_free(cf);
	for (int i = optind; i < argc; i++)
		request(ch, argv[i]);
	waiting = argc - optind;
	while (!quit && (waiting > 0 || stay)) {
		if (timeout > 0 && clock_ms() - t0 >= (uint64_t)timeout) {
			say("timeout, %d replies missing", waiting);
			chan_free(ch);
			return stay && waiting == 0 ? 0 : 1;
		}
		if (every > 0 && clock_ms() >= next_tick) {
			snprintf(tick, sizeof(tick), "tick %d", ++ticks);
			request(ch, tick);
			waiting++;
			next_tick = clock_ms() + (uint64_t)every;
		}
		if (chan_poll(ch, every > 0 ? every : 1000) == -1 &&
		    errno != EINTR)
			fatal("chan_poll");
		while (chan_next(ch, &ev)) {
			switch (ev.type) {
			case CHAN_EV_UP:
				say("up %s", ev.name);
				break;
			case CHAN_EV_DOWN:
				say("down %s", ev.reason);
				break;
			case CHAN_EV_REFUSED:
				say("refused %s", ev.reason);
				if (refuse_exit) {
					chan_event_clear(&ev);
					chan_free(ch);
					return 3;
				}
				break;
			case CHAN_EV_REPLY:
				say("reply %llu %.*s",
				    (unsigned long long)ev.id, (int)ev.len,
				    (char *)ev.data);
				waiting--;
				break;
			case CHAN_EV_REQUEST:
				chan_reply(ch, 0, ev.id, "ok", 2);
				break;
			default:
				break;
			}
			chan_event_clear(&ev);
		}
	}
	chan_free(ch);
	return 0;
}
