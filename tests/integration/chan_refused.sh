# Every peer the broker must refuse, each with a log line naming why: a
# certificate of another CA (same name), an expired one, a revoked one,
# one of a role the broker does not take, none at all, and a plain ZeroMQ
# client speaking no TLS. The broker keeps serving a good node after all.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/chan_env.bash"

pki_init
pki_issue node snuh
pki_issue node bad
pki_issue operator ops
pki_issue drb drb
"$T" pki revoke --dir "$PKI" --name bad >/dev/null
"$P/chan_expired" "$PKI" old
# Another CA of the same consortium name, issuing the same node name.
"$T" pki init --dir "$TALLY_TMP/other" --consortium test >/dev/null
"$T" pki issue --dir "$TALLY_TMP/other" --role node --name snuh >/dev/null

start_broker "$(conf broker "" "allow_roles = node,researcher")"
ERR=$TALLY_TMP/broker.err

# refused CASE LOG-PATTERN CMD...: CMD must exit 3 (refused) and the
# broker must log why.
refused() {
	local what=$1 want=$2
	shift 2
	set +e
	"$@" >"$TALLY_TMP/$what.out" 2>&1
	local rc=$?
	set -e
	[ "$rc" = 3 ] || { cat "$TALLY_TMP/$what.out"; fail "$what: exit $rc, not refused"; }
	wait_for "$want" "$ERR" 5
	echo "refused $what: $(grep -E -- "$want" "$ERR" | tail -1)"
}

# The raw client presents any certificate, unchecked on its side.
refused other-ca "refused 127.0.0.1: unable to get local issuer certificate.*CN=snuh" \
    "$P/chan_raw" "$EP" tls "$TALLY_TMP/other/snuh.crt" "$TALLY_TMP/other/snuh.key"
refused expired "refused 127.0.0.1: certificate has expired.*CN=old" \
    "$P/chan_raw" "$EP" tls "$PKI/old.crt" "$PKI/old.key"
refused revoked "refused 127.0.0.1: certificate revoked.*CN=bad" \
    "$P/chan_raw" "$EP" tls "$PKI/bad.crt" "$PKI/bad.key"
refused no-cert "refused 127.0.0.1: .*peer did not return a certificate" \
    "$P/chan_raw" "$EP" tls
# Wrong roles: an operator here; a DRB signing key; the broker's own
# certificate used by a client.
refused role "refused 127.0.0.1: certificate role 'operator' \(ops\) may not connect here" \
    "$P/chan_client" -c "$(conf ops)" -e "$EPF" -r -t 5000 x
expect_grep "refused peer sent alert: unsupported certificate" "$TALLY_TMP/role.out"
refused drb "refused 127.0.0.1: .*CN=drb" \
    "$P/chan_raw" "$EP" tls "$PKI/drb.crt" "$PKI/drb.key"
refused broker-as-client "refused 127.0.0.1: unsuitable certificate purpose.*CN=broker" \
    "$P/chan_raw" "$EP" tls "$PKI/broker.crt" "$PKI/broker.key"

# Our own client will not even start with a bad certificate of its own.
for c in bad old; do
	expect_exit 1 "$P/chan_client" -c "$(conf $c)" -e "$EPF" -t 2000 x \
	    2>"$TALLY_TMP/$c.err"
done
expect_grep "certificate revoked" "$TALLY_TMP/bad.err"
expect_grep "certificate has expired" "$TALLY_TMP/old.err"
# A client of the other CA (trusting only it) refuses our broker.
cat >"$TALLY_TMP/other.conf" <<EOF
tls_ca = $TALLY_TMP/other/ca.crt
tls_crl = $TALLY_TMP/other/crl.pem
tls_cert = $TALLY_TMP/other/snuh.crt
tls_key = $TALLY_TMP/other/snuh.key
EOF
expect_exit 3 "$P/chan_client" -c "$TALLY_TMP/other.conf" -e "$EPF" -r \
    -t 5000 x >"$TALLY_TMP/other.out" 2>&1
grep -qE "refused (unable to get local issuer|self-signed certificate in certificate chain)" \
    "$TALLY_TMP/other.out" || fail "other-CA client did not refuse the broker"

# A plain ZeroMQ client, no TLS at all.
"$P/chan_raw" "$EP" plain "count KCD8:I48 at snuh" >/dev/null
wait_for "dropped a message from 127.0.0.1: not a channel frame" "$ERR" 5
wait_for "dropped a message from 127.0.0.1: unknown session and not a TLS ClientHello" "$ERR" 5
wait_for "dropped a message from 127.0.0.1: 3 frames" "$ERR" 5

# None of them got in; the good node still does.
"$P/chan_client" -c "$(conf snuh)" -e "$EPF" -t 10000 "count ok" \
    >"$TALLY_TMP/snuh.out" || fail "good node refused"
n=$(grep -c "connected from" "$ERR")
[ "$n" = 1 ] || { cat "$ERR"; fail "$n peers connected, expected 1"; }
echo ok
