# tally pki end to end: init, issue every role, revoke, re-sign, and the
# errors; the results are inspected with the openssl command-line tool.
. "$(dirname "$0")/../lib/common.sh"

command -v openssl >/dev/null || skip "no openssl command to inspect certificates"
D=$TALLY_TMP/pki
O=$TALLY_TMP/out
E=$TALLY_TMP/err

# --help on stdout, exit 0, for the command and each action.
"$T" pki --help >"$O"; expect_grep "usage: tally pki init" "$O"
"$T" pki issue --help >"$O"; expect_grep "revoke" "$O"
expect_exit 2 "$T" pki 2>/dev/null
expect_exit 2 "$T" pki frobnicate --dir "$D" 2>"$E"; expect_grep "unknown action 'frobnicate'" "$E"
expect_exit 2 "$T" pki init 2>"$E"; expect_grep "\-\-dir is required" "$E"
expect_exit 2 "$T" pki init --dir "$D" --days soon 2>"$E"; expect_grep "days must be" "$E"
expect_exit 2 "$T" pki init --dir "$D" --days 0 2>/dev/null
expect_exit 2 "$T" pki init --dir "$D" --role node 2>"$E"; expect_grep "not valid here" "$E"
expect_exit 2 "$T" pki init --dir "$D" stray 2>"$E"; expect_grep "unexpected argument 'stray'" "$E"
expect_exit 1 "$T" pki init --dir "$D" --consortium 'a,b=c' 2>"$E"; expect_grep "consortium name" "$E"
[ ! -e "$D/ca.key" ] || fail "a refused init left a key"
long=$(printf 'C%.0s' $(seq 60))
expect_exit 1 "$T" pki init --dir "$TALLY_TMP/long" --consortium "${long}x" 2>/dev/null
"$T" pki init --dir "$TALLY_TMP/long" --consortium "$long" >/dev/null || fail "60-character consortium refused"
expect_exit 1 "$T" pki issue --dir "$D" --role node --name snuh 2>"$E"; expect_grep "no CA here" "$E"

# init, with a permissive umask: modes must not depend on it.
(umask 000; "$T" pki init --dir "$D" --consortium "Consortium 1" --days 100) >"$O"
expect_grep "created CA" "$O"
[ "$(stat -c %a "$D")" = 700 ] || fail "CA folder mode $(stat -c %a "$D")"
[ "$(stat -c %a "$D/ca.key")" = 600 ] || fail "ca.key mode $(stat -c %a "$D/ca.key")"
openssl x509 -in "$D/ca.crt" -noout -text >"$O"
expect_grep "Subject: O = Consortium 1, CN = Consortium 1 CA" "$O"
expect_grep "CA:TRUE" "$O"
grep -A1 "Basic Constraints: critical" "$O" | grep -q "CA:TRUE" || fail "basicConstraints not critical"
expect_grep "Certificate Sign, CRL Sign" "$O"
expect_grep "ASN1 OID: prime256v1" "$O"
openssl crl -in "$D/crl.pem" -noout -text >"$O"
expect_grep "No Revoked Certificates" "$O"
openssl crl -in "$D/crl.pem" -CAfile "$D/ca.crt" -noout 2>"$O" || fail "CRL does not verify"
expect_exit 1 "$T" pki init --dir "$D" 2>"$E"; expect_grep "refusing to overwrite" "$E"

# issue every role
(umask 000
 "$T" pki issue --dir "$D" --role broker --name broker
 "$T" pki issue --dir "$D" --role node --name snuh --days 30
 "$T" pki issue --dir "$D" --role node --name kims-eye
 "$T" pki issue --dir "$D" --role researcher --name kim.jh
 "$T" pki issue --dir "$D" --role operator --name ops
 "$T" pki issue --dir "$D" --role drb --name drb) >"$O"
[ "$(grep -c '^issued' "$O")" = 6 ] || fail "expected 6 issued lines"
for n in broker snuh kims-eye kim.jh ops drb; do
	[ "$(stat -c %a "$D/$n.key")" = 600 ] || fail "$n.key mode $(stat -c %a "$D/$n.key")"
	openssl verify -CAfile "$D/ca.crt" -CRLfile "$D/crl.pem" -crl_check \
	    -x509_strict "$D/$n.crt" >/dev/null || fail "$n.crt does not verify"
done
[ "$(ls "$D/issued" | wc -l)" = 6 ] || fail "issued/ should hold 6 certificates"

x509() { openssl x509 -in "$D/$1.crt" -noout -text >"$O"; }
x509 broker
expect_grep "Subject: O = Consortium 1, OU = broker, CN = broker" "$O"
expect_grep "TLS Web Server Authentication" "$O"
expect_grep "DNS:broker, DNS:localhost, IP Address:127.0.0.1" "$O"
expect_grep "CA:FALSE" "$O"
grep -A1 "Key Usage: critical" "$O" | grep -q "Digital Signature" || fail "keyUsage"
! grep -q "Client Authentication" "$O" || fail "broker has clientAuth"
x509 snuh
expect_grep "OU = node, CN = snuh" "$O"
expect_grep "TLS Web Client Authentication" "$O"
expect_grep "DNS:snuh" "$O"
! grep -q "localhost" "$O" || fail "node has localhost"
days=$(( ($(date -d "$(openssl x509 -in "$D/snuh.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$days" -ge 29 ] && [ "$days" -le 30 ] || fail "--days 30 gave $days days"
x509 kim.jh; expect_grep "OU = researcher, CN = kim.jh" "$O"; expect_grep "Client Authentication" "$O"
x509 ops; expect_grep "OU = operator, CN = ops" "$O"; expect_grep "Client Authentication" "$O"
x509 drb
expect_grep "OU = drb, CN = drb" "$O"
expect_grep "ED25519" "$O"
expect_grep "1.3.6.1.5.5.7.3.36" "$O"
! grep -q "TLS Web" "$O" || fail "drb certificate has a TLS EKU"
openssl pkey -in "$D/drb.key" -noout -text >"$O"; expect_grep "ED25519 Private-Key" "$O"
# Two certificates never share a serial.
s1=$(openssl x509 -in "$D/snuh.crt" -noout -serial)
s2=$(openssl x509 -in "$D/kims-eye.crt" -noout -serial)
[ "$s1" != "$s2" ] || fail "equal serials"

# issue errors
expect_exit 2 "$T" pki issue --dir "$D" --role admin --name x 2>"$E"; expect_grep "unknown role 'admin'" "$E"
expect_exit 2 "$T" pki issue --dir "$D" --role node --name 'Bad Name' 2>"$E"; expect_grep "invalid node name 'Bad Name'" "$E"
expect_exit 2 "$T" pki issue --dir "$D" --role node --name kim.jh 2>/dev/null
expect_exit 2 "$T" pki issue --dir "$D" --role researcher --name '../evil' 2>/dev/null
expect_exit 2 "$T" pki issue --dir "$D" --role operator --name ca 2>/dev/null
expect_exit 2 "$T" pki issue --dir "$D" --name x 2>"$E"; expect_grep "\-\-role is required" "$E"
expect_exit 2 "$T" pki issue --dir "$D" --role node 2>"$E"; expect_grep "\-\-name is required" "$E"
expect_exit 1 "$T" pki issue --dir "$D" --role node --name snuh 2>"$E"; expect_grep "revoke it first" "$E"
expect_exit 1 "$T" pki issue --dir "$D" --role node --name amc --days 101 2>"$E"; expect_grep "outlive the CA" "$E"
[ ! -e "$D/amc.key" ] || fail "a refused issue left a key"
expect_exit 1 "$T" pki issue --dir "$TALLY_TMP/nowhere" --role node --name snuh 2>"$E"; expect_grep "no CA here" "$E"
# A CA key that others can read is refused, not used.
chmod 644 "$D/ca.key"
expect_exit 1 "$T" pki issue --dir "$D" --role node --name amc 2>"$E"; expect_grep "chmod 600" "$E"
chmod 600 "$D/ca.key"
# One tally pki at a time.
flock "$D/.lock" "$T" pki issue --dir "$D" --role node --name amc >/dev/null 2>"$E" && fail "ran under a held lock"
expect_grep "another 'tally pki'" "$E"

# revoke
cp "$D/snuh.crt" "$TALLY_TMP/snuh-old.crt"
"$T" pki revoke --dir "$D" --name snuh >"$O"; expect_grep "revoked snuh" "$O"
serial=$(openssl x509 -in "$TALLY_TMP/snuh-old.crt" -noout -serial | cut -d= -f2)
openssl crl -in "$D/crl.pem" -noout -text >"$O"
expect_grep "Serial Number: $serial" "$O"
grep -A1 "CRL Number" "$O" | grep -q " 2$" || fail "CRL number did not advance to 2"
openssl crl -in "$D/crl.pem" -CAfile "$D/ca.crt" -noout 2>/dev/null || fail "new CRL does not verify"
openssl verify -CAfile "$D/ca.crt" -CRLfile "$D/crl.pem" -crl_check "$D/snuh.crt" >"$O" 2>&1 && fail "revoked certificate verifies"
expect_grep "certificate revoked" "$O"
openssl verify -CAfile "$D/ca.crt" -CRLfile "$D/crl.pem" -crl_check "$D/kims-eye.crt" >/dev/null || fail "kims-eye no longer verifies"
[ ! -e "$D/.crl.pem.tmp" ] || fail "temp CRL left behind"
expect_exit 1 "$T" pki revoke --dir "$D" --name snuh 2>"$E"; expect_grep "revoked already" "$E"
expect_exit 1 "$T" pki revoke --dir "$D" --name nobody 2>"$E"; expect_grep "no certificate issued to 'nobody'" "$E"
expect_exit 2 "$T" pki revoke --dir "$D" --name '../ca' 2>"$E"; expect_grep "invalid name" "$E"
expect_exit 2 "$T" pki revoke --dir "$D" 2>"$E"; expect_grep "\-\-name is required" "$E"
expect_exit 2 "$T" pki revoke --dir "$D" --name snuh --role node 2>/dev/null

# A revoked name can be issued again: new key, new serial, old one stays revoked.
oldkey=$(openssl pkey -in "$D/snuh.key" -pubout)
"$T" pki issue --dir "$D" --role node --name snuh >/dev/null
[ "$(openssl pkey -in "$D/snuh.key" -pubout)" != "$oldkey" ] || fail "re-issue kept the old key"
[ "$(stat -c %a "$D/snuh.key")" = 600 ] || fail "re-issued key mode"
openssl verify -CAfile "$D/ca.crt" -CRLfile "$D/crl.pem" -crl_check "$D/snuh.crt" >/dev/null || fail "re-issued snuh does not verify"

# crl: re-sign with new dates, entries kept.
"$T" pki crl --dir "$D" --crl-days 3 >"$O"; expect_grep "re-signed" "$O"
openssl crl -in "$D/crl.pem" -noout -text >"$O"
expect_grep "Serial Number: $serial" "$O"
grep -A1 "CRL Number" "$O" | grep -q " 3$" || fail "CRL number did not advance to 3"
next=$(date -d "$(openssl crl -in "$D/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)
[ $(( (next - $(date +%s) + 3600) / 86400 )) = 3 ] || fail "--crl-days 3 not honoured"
echo ok
