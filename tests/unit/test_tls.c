/*
 * test_tls.c — TLS sessions over memory: a good mutual handshake, and
 * every way a peer must be refused (other CA with the same name, expired,
 * revoked, wrong role, no certificate, TLS 1.2), each with its reason.
 * Certificates come from tests/integration/chan_pki (openssl CLI).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

struct pki {
	char *dir;
	char path[512];
};

static struct pki P;

/* Runs chan_pki on P.dir/sub ("" or "other"). */
static void
pki_run(const char *sub, const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "tests/integration/chan_pki %s/%s %s", P.dir,
	    sub, args);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

static const char *
path(const char *rel)
{
	snprintf(P.path, sizeof(P.path), "%s/%s", P.dir, rel);
	return P.path;
}

static int
setup(void **state)
{
	(void)state;
	P.dir = test_mkdtemp();
	pki_run("", "init test");
	pki_run("", "issue broker broker");
	pki_run("", "issue node snuh");
	pki_run("", "issue researcher alice");
	pki_run("", "issue node old expired");
	pki_run("", "issue node bad");
	pki_run("", "revoke bad");
	/* Another CA of the same name, issuing the very same names. */
	mkdir(path("other"), 0700);
	pki_run("other", "init test");
	pki_run("other", "issue node snuh");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	test_rmdir(P.dir);
	return 0;
}

/*
 * A context trusting our CA, with the certificate of name from dir ("" or
 * "other/": issued by another CA).
 */
static struct tls_ctx *
ctx(enum tls_side side, const char *dir, const char *name, char *err,
    size_t errlen)
{
	char ca[600], crl[600], crt[600], key[600];

	snprintf(ca, sizeof(ca), "%s/ca.crt", P.dir);
	snprintf(crl, sizeof(crl), "%s/crl.pem", P.dir);
	snprintf(crt, sizeof(crt), "%s/%s%s.crt", P.dir, dir, name);
	snprintf(key, sizeof(key), "%s/%s%s.key", P.dir, dir, name);
	return tls_ctx_new(side, ca, crl, crt, key, err, errlen);
}

/* Moves ciphertext both ways until both sides are quiet. */
static void
pump(struct tls *c, struct tls *s)
{
	unsigned char buf[32768];
	size_t n;
	int moved;

	do {
		moved = 0;
		tls_handshake(c);
		while ((n = tls_take(c, buf, sizeof(buf))) > 0) {
			tls_feed(s, buf, n);
			moved = 1;
		}
		tls_handshake(s);
		while ((n = tls_take(s, buf, sizeof(buf))) > 0) {
			tls_feed(c, buf, n);
			moved = 1;
		}
	} while (moved);
}

static void
good_handshake(void **state)
{
	char err[256], buf[64];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	struct tls_ctx *cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
	struct tls *s, *c;
	ssize_t n;

	(void)state;
	assert_non_null(sc);
	assert_non_null(cc);
	assert_int_equal(tls_ctx_self(sc)->role, TLS_ROLE_BROKER);
	assert_string_equal(tls_ctx_self(cc)->name, "snuh");
	s = tls_new(sc);
	c = tls_new(cc);
	assert_int_equal(tls_handshake(c), TLS_WANT);
	{
		/* The first flight is a ClientHello, and nothing else is. */
		unsigned char hello[4096];
		size_t len = tls_take(c, hello, sizeof(hello));
		assert_true(tls_is_client_hello(hello, len));
		assert_false(tls_is_client_hello(hello + 1, len - 1));
		assert_false(tls_is_client_hello("GET / HTTP/1.0\r\n", 16));
		tls_feed(s, hello, len);
	}
	pump(c, s);
	assert_true(tls_done(c));
	assert_true(tls_done(s));
	assert_int_equal(tls_peer(s)->role, TLS_ROLE_NODE);
	assert_string_equal(tls_peer(s)->name, "snuh");
	assert_int_equal(tls_peer(c)->role, TLS_ROLE_BROKER);
	assert_string_equal(tls_peer(c)->name, "broker");
	assert_int_equal(tls_write(c, "ping", 4), 0);
	pump(c, s);
	n = tls_read(s, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), 0);
	assert_int_equal(tls_recheck(s, err, sizeof(err)), 0);
	tls_close(c);
	pump(c, s);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), -1);
	assert_string_equal(tls_error(s), "peer closed");
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

/*
 * Runs a handshake of client `name` (from dir) against the broker; the
 * server must refuse with a reason containing want, and the client must
 * end failed too (it hears the alert).
 */
static void
refused(const char *dir, const char *name, int allow, const char *want)
{
	char err[256];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	struct tls_ctx *cc = ctx(TLS_CLIENT, dir, name, err, sizeof(err));
	struct tls *s, *c;

	assert_non_null(sc);
	assert_non_null(cc);
	if (allow)
		tls_ctx_allow(sc, allow);
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_false(tls_done(s));
	if (strstr(tls_error(s), want) == NULL)
		fail_msg("server reason '%s', want '%s'", tls_error(s), want);
	/* The client may think it is done (TLS 1.3) but reading fails. */
	{
		char buf[16];
		assert_int_equal(tls_read(c, buf, sizeof(buf)), -1);
		assert_non_null(strstr(tls_error(c), "peer sent alert"));
	}
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

static void
refuse_other_ca(void **state)
{
	(void)state;
	refused("other/", "snuh", 0, "unable to get local issuer");
}

static void
refuse_expired(void **state)
{
	(void)state;
	refused("", "old", 0, "certificate has expired");
}

static void
refuse_revoked(void **state)
{
	(void)state;
	refused("", "bad", 0, "certificate revoked");
}

static void
refuse_role(void **state)
{
	(void)state;
	refused("", "snuh", TLS_ROLE_RESEARCHER | TLS_ROLE_OPERATOR,
	    "role 'node' (snuh) may not connect");
}

/* A client must refuse a server whose certificate is not a broker's. */
static void
refuse_server_not_broker(void **state)
{
	char err[256], buf[16];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "alice", err, sizeof(err));
	struct tls_ctx *cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
	struct tls *s, *c;

	(void)state;
	assert_non_null(sc);
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_false(tls_done(c));
	assert_int_equal(tls_read(c, buf, sizeof(buf)), -1);
	/* EKU clientAuth only: the purpose check fires first. */
	if (strstr(tls_error(c), "certificate purpose") == NULL)
		fail_msg("client reason '%s'", tls_error(c));
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);

	/* The right role but another name than the one expected. */
	sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	cc = ctx(TLS_CLIENT, "", "snuh", err, sizeof(err));
	assert_int_equal(tls_ctx_expect_name(cc, "broker2"), 0);
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_false(tls_done(c));
	assert_non_null(strstr(tls_error(c), "expected 'broker2'"));
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

/* A raw OpenSSL client: no certificate, or an older protocol. */
static void
raw_client(int max_version, const char *want)
{
	char err[256];
	struct tls_ctx *sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	struct tls *s = tls_new(sc);
	SSL_CTX *rc = SSL_CTX_new(TLS_client_method());
	SSL *r;
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	unsigned char buf[16384];
	int n, moved;

	SSL_CTX_set_max_proto_version(rc, max_version);
	r = SSL_new(rc);
	SSL_set_bio(r, in, out);
	SSL_set_connect_state(r);
	do {
		moved = 0;
		SSL_do_handshake(r);
		while ((n = BIO_read(out, buf, sizeof(buf))) > 0) {
			tls_feed(s, buf, n);
			moved = 1;
		}
		tls_handshake(s);
		while ((n = (int)tls_take(s, buf, sizeof(buf))) > 0) {
			BIO_write(in, buf, n);
			moved = 1;
		}
	} while (moved);
	ERR_clear_error();
	assert_false(tls_done(s));
	if (strstr(tls_error(s), want) == NULL)
		fail_msg("server reason '%s', want '%s'", tls_error(s), want);
	SSL_free(r);
	SSL_CTX_free(rc);
	tls_free(s);
	tls_ctx_free(sc);
}

static void
refuse_no_cert(void **state)
{
	(void)state;
	raw_client(TLS1_3_VERSION, "peer did not return a certificate");
}

static void
refuse_tls12(void **state)
{
	(void)state;
	raw_client(TLS1_2_VERSION, "unsupported protocol");
}

static void
key_readable(void **state)
{
	char err[256];

	(void)state;
	pki_run("", "issue node loose");
	chmod(path("loose.key"), 0644);
	assert_null(ctx(TLS_CLIENT, "", "loose", err, sizeof(err)));
	assert_non_null(strstr(err, "readable by others"));
	assert_null(tls_ctx_new(TLS_CLIENT, path("ca.crt"), NULL,
	    path("snuh.crt"), path("snuh.key"), err, sizeof(err)));
	assert_non_null(strstr(err, "CRL"));
}

/* Revoking a connected peer: reload, recheck, and refuse the next time. */
static void
revoke_live(void **state)
{
	char err[256];
	struct tls_ctx *sc, *cc;
	struct tls *s, *c;

	(void)state;
	pki_run("", "issue node late");
	sc = ctx(TLS_SERVER, "", "broker", err, sizeof(err));
	cc = ctx(TLS_CLIENT, "", "late", err, sizeof(err));
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_true(tls_done(s));
	assert_int_equal(tls_ctx_reload_crl(sc, err, sizeof(err)), 0);
	pki_run("", "revoke late");
	assert_int_equal(tls_ctx_reload_crl(sc, err, sizeof(err)), 1);
	assert_int_equal(tls_recheck(s, err, sizeof(err)), -1);
	assert_string_equal(err, "certificate revoked");
	tls_free(s);
	tls_free(c);
	s = tls_new(sc);
	c = tls_new(cc);
	pump(c, s);
	assert_false(tls_done(s));
	assert_non_null(strstr(tls_error(s), "certificate revoked"));
	tls_free(s);
	tls_free(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

static void
roles(void **state)
{
	char err[128];
	int m;

	(void)state;
	assert_int_equal(
	    tls_roles_parse("node, researcher", &m, err, sizeof(err)), 0);
	assert_int_equal(m, TLS_ROLE_NODE | TLS_ROLE_RESEARCHER);
	assert_int_equal(
	    tls_roles_parse("node,king", &m, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown role 'king'");
	assert_string_equal(tls_role_name(TLS_ROLE_DRB), "drb");
	assert_string_equal(tls_role_name(3), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_handshake),
		cmocka_unit_test(refuse_other_ca),
		cmocka_unit_test(refuse_expired),
		cmocka_unit_test(refuse_revoked),
		cmocka_unit_test(refuse_role),
		cmocka_unit_test(refuse_server_not_broker),
		cmocka_unit_test(refuse_no_cert),
		cmocka_unit_test(refuse_tls12),
		cmocka_unit_test(key_readable),
		cmocka_unit_test(revoke_live),
		cmocka_unit_test(roles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
