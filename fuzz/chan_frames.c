/*
 * chan_frames.c — libFuzzer target: arbitrary ZeroMQ messages into the
 * broker side of the channel (lib/chan/chan_server.c, lib/chan/chan.c,
 * lib/chan/tls.c): frame counts and lengths, headers, session ids, routing ids,
 * TLS records (a real ClientHello in the seeds reaches OpenSSL's handshake),
 * caps and eviction. The server is detached: what it would send is discarded.
 *
 * Input: records of [rid u8][mode u8][len u16 le][len bytes], each handed
 * to srv_input() as one message from connection rid & 7. mode & 3: 0 a
 * valid TLS header for session id (mode >> 2) & 3, 1 the first bytes of
 * the record as the header, 2 a RESET header, 3 a header of another
 * version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan_impl.h"
#include "log.h"
#include "pki.h"

static struct tls_ctx *tls;
static struct chan_config cfg;

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pki_issue_req req = { ROLE_BROKER, "broker", 0, 0, 0 };
	char dir[] = "/tmp/fuzz-chan.XXXXXX", a[256], b[256], c[256], d[256];
	char err[512], cmd[300];

	(void)argc;
	(void)argv;
	log_init("fuzz", 0, LOG_TO_STDERR);
	if (mkdtemp(dir) == NULL ||
	    pki_ca_init(dir, "fuzz", PKI_CA_DAYS, err, sizeof(err)) == -1 ||
	    pki_issue(dir, &req, NULL, 0, err, sizeof(err)) == -1)
		fatalx("fuzz set-up: %s", err);
	snprintf(a, sizeof(a), "%s/ca.crt", dir);
	snprintf(b, sizeof(b), "%s/crl.pem", dir);
	snprintf(c, sizeof(c), "%s/broker.crt", dir);
	snprintf(d, sizeof(d), "%s/broker.key", dir);
	if ((tls = tls_ctx_new(TLS_SERVER, a, b, c, d, err, sizeof(err))) ==
	    NULL)
		fatalx("fuzz set-up: %s", err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		log_warnx("could not remove %s", dir);
	chan_config_default(&cfg);
	cfg.max_sessions = 6;
	cfg.max_handshakes = 3;
	cfg.max_pending = 8;
	cfg.max_message = 4096;
	cfg.max_buffer = 4096 + CHAN_FRAME_MAX;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sids[4] = { 1, 2, 0x0102030405060708ULL,
		UINT64_MAX };
	struct chan_event ev;
	struct chan *ch;
	char err[256];

	if ((ch = srv_detached(&cfg, tls, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	while (size >= 4) {
		uint8_t rid[2] = { 0, data[0] & 7 }, h[CHAN_HDR_LEN];
		int mode = data[1];
		size_t len = (size_t)data[2] | (size_t)data[3] << 8;
		const uint8_t *hdr = h;
		size_t hlen = sizeof(h);

		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		switch (mode & 3) {
		case 0:
			hdr_pack(h, CHAN_KIND_TLS, sids[(mode >> 2) & 3]);
			break;
		case 1:
			hdr = data;
			hlen = len < CHAN_HDR_LEN + 2 ? len : CHAN_HDR_LEN;
			break;
		case 2:
			hdr_pack(h, CHAN_KIND_RESET, sids[(mode >> 2) & 3]);
			break;
		default:
			hdr_pack(h, CHAN_KIND_TLS, sids[(mode >> 2) & 3]);
			h[0] = (uint8_t)(mode >> 4);
			break;
		}
		srv_input(ch, rid, sizeof(rid), hdr, hlen, data, len, "fuzz");
		data += len;
		size -= len;
	}
	chan_process(ch); /* timers: nothing may be due yet, all the same */
	while (chan_next(ch, &ev))
		chan_event_clear(&ev);
	chan_free(ch);
	return 0;
}
