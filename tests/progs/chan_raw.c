/*
 * chan_raw.c — a misbehaving peer of the broker, for the channel tests:
 * a hand-driven TLS client with any certificate (or none), a plain
 * ZeroMQ client that speaks no TLS, garbage, oversized frames and floods
 * of half-open sessions. Test-only code.
 *
 *   chan_raw ENDPOINT tls [CERT KEY]  exit 0 accepted (WELCOME), 3 refused
 *                                    (the alert is printed), 4 reset,
 *                                    1 no answer
 *   chan_raw ENDPOINT plain TEXT     TEXT in clear, as 1, 2 and 3 frames
 *   chan_raw ENDPOINT garbage N      N messages of random frames
 *   chan_raw ENDPOINT oversize       a 2 MiB frame (over ZMQ_MAXMSGSIZE)
 *   chan_raw ENDPOINT halfopen N MS  N connections, each a real
 *                                    ClientHello and then silence for MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "chan_impl.h"
#include "log.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chan_raw ENDPOINT tls [CERT KEY] | plain TEXT "
	    "| garbage N | oversize | halfopen N MS\n");
	exit(2);
}

static void *
dealer(void *ctx, const char *ep)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 200;

	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(s, ep) == -1)
		fatalx("connect %s: %s", ep, zmq_strerror(zmq_errno()));
	return s;
}

static void
send_tls(void *s, uint64_t sid, const void *buf, size_t len)
{
	uint8_t h[CHAN_HDR_LEN];

	hdr_pack(h, CHAN_KIND_TLS, sid);
	zmq_send(s, h, sizeof(h), ZMQ_SNDMORE);
	zmq_send(s, buf, len, 0);
}

static char alert[128];

static void
info_cb(const SSL *ssl, int where, int ret)
{
	(void)ssl;
	if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT &&
	    alert[0] == '\0')
		snprintf(alert, sizeof(alert), "%s",
		    SSL_alert_desc_string_long(ret));
}

/* Moves TLS output to the socket; 0 or -1 if the connection failed. */
static void
flush(SSL *ssl, void *s, uint64_t sid)
{
	uint8_t buf[65536];
	int n;

	while ((n = BIO_read(SSL_get_wbio(ssl), buf, sizeof(buf))) > 0)
		send_tls(s, sid, buf, (size_t)n);
}

static int
mode_tls(void *ctx, const char *ep, const char *cert, const char *key)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
	uint64_t sid = chan_random64(), end = clock_ms() + 5000;
	uint8_t hello[MSG_HDR_LEN] = { 0 }, buf[65536];
	void *s = dealer(ctx, ep);
	int sent_hello = 0, n;
	SSL *ssl;

	SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION);
	SSL_CTX_set_info_callback(sc, info_cb);
	if (cert != NULL &&
	    (SSL_CTX_use_certificate_file(sc, cert, SSL_FILETYPE_PEM) != 1 ||
		SSL_CTX_use_PrivateKey_file(sc, key, SSL_FILETYPE_PEM) != 1))
		fatalx("cannot load %s", cert);
	ssl = SSL_new(sc);
	SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	BIO_set_mem_eof_return(SSL_get_rbio(ssl), -1);
	SSL_set_connect_state(ssl);
	SSL_do_handshake(ssl);
	flush(ssl, s, sid);
	while (clock_ms() < end) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		zmq_msg_t h, d;
		int rc;

		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		zmq_msg_init(&h);
		zmq_msg_init(&d);
		zmq_msg_recv(&h, s, 0);
		if (zmq_msg_more(&h))
			zmq_msg_recv(&d, s, 0);
		if (zmq_msg_size(&h) == CHAN_HDR_LEN &&
		    ((uint8_t *)zmq_msg_data(&h))[1] == CHAN_KIND_RESET) {
			printf("reset\n");
			return 4;
		}
		BIO_write(
		    SSL_get_rbio(ssl), zmq_msg_data(&d), (int)zmq_msg_size(&d));
		zmq_msg_close(&h);
		zmq_msg_close(&d);
		if (!SSL_is_init_finished(ssl))
			SSL_do_handshake(ssl);
		if (SSL_is_init_finished(ssl) && !sent_hello) {
			/* TLS 1.3: we "succeeded"; the broker decides now. */
			hello[4] = MSG_HELLO;
			be64_put(hello + 5, chan_random64());
			be64_put(hello + 13, CHAN_INNER_VERSION);
			SSL_write(ssl, hello, sizeof(hello));
			sent_hello = 1;
		}
		if (sent_hello) {
			rc = SSL_read(ssl, buf, sizeof(buf));
			if (rc >= MSG_HDR_LEN && buf[4] == MSG_WELCOME) {
				printf("accepted\n");
				return 0;
			}
		}
		flush(ssl, s, sid);
		if (alert[0] != '\0' || (n = (int)ERR_peek_error()) != 0) {
			printf("refused: %s\n", alert[0] ? alert : "error");
			return 3;
		}
	}
	printf("no answer\n");
	return 1;
}

static int
mode_plain(void *ctx, const char *ep, const char *text)
{
	void *s = dealer(ctx, ep);
	uint8_t h[CHAN_HDR_LEN];

	zmq_send(s, text, strlen(text), 0);
	zmq_send(s, "", 0, ZMQ_SNDMORE); /* as a REQ socket would */
	zmq_send(s, text, strlen(text), 0);
	hdr_pack(h, CHAN_KIND_TLS, 99);
	zmq_send(s, h, sizeof(h), ZMQ_SNDMORE);
	zmq_send(s, text, strlen(text), 0);
	zmq_send(s, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(s, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(s, text, strlen(text), 0);
	usleep(300000);
	zmq_close(s);
	return 0;
}

static int
mode_garbage(void *ctx, const char *ep, int n)
{
	void *s = dealer(ctx, ep);
	uint8_t buf[2048];

	for (int i = 0; i < n; i++) {
		uint8_t r[2];
		int frames;

		RAND_bytes(r, sizeof(r));
		frames = 1 + r[0] % 4;
		for (int f = 0; f < frames; f++) {
			size_t len = (size_t)(r[1] * 7 + f) % sizeof(buf);
			RAND_bytes(buf, sizeof(buf));
			if (f == 0 && i % 2 == 0 && len >= CHAN_HDR_LEN) {
				/* A valid header with junk behind it. */
				hdr_pack(buf, CHAN_KIND_TLS, chan_random64());
				len = CHAN_HDR_LEN;
			}
			if (i % 3 == 0 && f == 1)
				buf[0] = 22; /* almost a handshake record */
			zmq_send(s, buf, len, f + 1 < frames ? ZMQ_SNDMORE : 0);
		}
	}
	usleep(300000);
	zmq_close(s);
	return 0;
}

static int
mode_oversize(void *ctx, const char *ep)
{
	void *s = dealer(ctx, ep);
	size_t len = 2 << 20;
	uint8_t *big = calloc(1, len), h[CHAN_HDR_LEN];

	big[0] = 22;
	big[1] = 3;
	big[5] = 1;
	hdr_pack(h, CHAN_KIND_TLS, 5);
	zmq_send(s, h, sizeof(h), ZMQ_SNDMORE);
	zmq_send(s, big, len, 0);
	usleep(300000);
	zmq_close(s);
	free(big);
	return 0;
}

static int
mode_halfopen(void *ctx, const char *ep, int n, int ms)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
	void **socks = calloc((size_t)n, sizeof(*socks));

	SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION);
	for (int i = 0; i < n; i++) {
		SSL *ssl = SSL_new(sc);

		SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
		SSL_set_connect_state(ssl);
		SSL_do_handshake(ssl);
		socks[i] = dealer(ctx, ep);
		flush(ssl, socks[i], chan_random64());
		SSL_free(ssl);
	}
	ERR_clear_error();
	usleep((useconds_t)ms * 1000);
	for (int i = 0; i < n; i++)
		zmq_close(socks[i]);
	free(socks);
	SSL_CTX_free(sc);
	return 0;
}

int
main(int argc, char **argv)
{
	void *ctx;
	int rc;

	log_init("chan_raw", 0, LOG_TO_STDERR);
	if (argc < 3)
		usage();
	ctx = zmq_ctx_new();
	if (strcmp(argv[2], "tls") == 0 && (argc == 3 || argc == 5))
		rc = mode_tls(ctx, argv[1], argc == 5 ? argv[3] : NULL,
		    argc == 5 ? argv[4] : NULL);
	else if (strcmp(argv[2], "plain") == 0 && argc == 4)
		rc = mode_plain(ctx, argv[1], argv[3]);
	else if (strcmp(argv[2], "garbage") == 0 && argc == 4)
		rc = mode_garbage(ctx, argv[1], atoi(argv[3]));
	else if (strcmp(argv[2], "oversize") == 0 && argc == 3)
		rc = mode_oversize(ctx, argv[1]);
	else if (strcmp(argv[2], "halfopen") == 0 && argc == 5)
		rc = mode_halfopen(ctx, argv[1], atoi(argv[3]), atoi(argv[4]));
	else
		usage();
	fflush(stdout);
	_exit(rc); /* sockets may still hold unsendable junk */
}
