# make install honours PREFIX and DESTDIR: lists what arrived (and
# nothing else), with the right modes; the installed programs run, the
# man pages render, and the units point at the installed daemons (and
# pass systemd-analyze verify where it is installed).
. "$(dirname "$0")/../lib/common.sh"
command -v make >/dev/null || skip "make not installed"

# Install the variant under test as built (no rebuild): its O and BIN.
O=${TALLY_PROGS#"$TALLY_TOP"/}
O=${O%/progs}
B=${TALLY_BIN#"$TALLY_TOP"/}
san=
[ "$O" = build/san ] && san=SAN=1
inst() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TALLY_TOP" -s \
	    O="$O" BIN="$B" $san "$@" install >"$TALLY_TMP/make.log" 2>&1 ||
		{ cat "$TALLY_TMP/make.log" >&2; fail "make install $*"; }
}

root=$TALLY_TMP/root
inst PREFIX=/opt/tally DESTDIR="$root"
(cd "$root" && find . -type f -printf '%m %p\n' | sort -k2) >"$TALLY_TMP/got"
cat >"$TALLY_TMP/want" <<'LIST'
755 ./opt/tally/bin/tally
755 ./opt/tally/sbin/tally-broker
755 ./opt/tally/sbin/tally-node
644 ./opt/tally/share/man/man1/tally.1
644 ./opt/tally/share/man/man5/tally.conf.5
644 ./opt/tally/share/man/man8/tally-broker.8
644 ./opt/tally/share/man/man8/tally-node.8
644 ./opt/tally/share/tally/broker.conf
644 ./opt/tally/share/tally/client.conf
644 ./opt/tally/share/tally/hospitals.csv
644 ./opt/tally/share/tally/node.conf
644 ./opt/tally/share/tally/systemd/tally-broker.service
644 ./opt/tally/share/tally/systemd/tally-node.service
644 ./opt/tally/share/tally/systemd/tally.sysusers
LIST
diff "$TALLY_TMP/want" "$TALLY_TMP/got" >&2 || fail "installed files differ"
echo "installed:"; sed 's/^/  /' "$TALLY_TMP/got"

p=$root/opt/tally
"$p/bin/tally" --version | grep -qx 'tally [0-9.]*' || fail "tally --version"
"$p/sbin/tally-broker" --version | grep -q '^tally-broker ' ||
	fail "tally-broker --version"
"$p/sbin/tally-node" --help | grep -q '^usage: tally-node' ||
	fail "tally-node --help"
cmp -s "$TALLY_TOP/deploy/broker.conf" "$p/share/tally/broker.conf" ||
	fail "broker.conf differs"

# Units name the installed daemons, nothing under /usr/local.
for u in tally-broker tally-node; do
	f=$p/share/tally/systemd/$u.service
	expect_grep "^ExecStart=/opt/tally/sbin/$u -d -c /etc/tally/" "$f"
	expect_grep "^ExecStartPre=/opt/tally/sbin/$u -n -c /etc/tally/" "$f"
	if grep -q /usr/local "$f"; then fail "$f still names /usr/local"; fi
done

# Man pages render without warnings.
for m in "$p"/share/man/man*/*; do
	if command -v mandoc >/dev/null; then
		mandoc -Tlint -W warning "$m" >"$TALLY_TMP/lint" 2>&1 || {
			cat "$TALLY_TMP/lint" >&2; fail "mandoc -Tlint $m"; }
	elif command -v groff >/dev/null; then
		groff -mandoc -Tutf8 -ww -z "$m" 2>"$TALLY_TMP/lint"
		[ ! -s "$TALLY_TMP/lint" ] || {
			cat "$TALLY_TMP/lint" >&2; fail "groff $m"; }
	fi
done

# systemd-analyze verify, with the daemons at their DESTDIR place.
if command -v systemd-analyze >/dev/null; then
	mkdir "$TALLY_TMP/units"
	for u in tally-broker tally-node; do
		sed "s|/opt/tally/sbin/|$p/sbin/|g" \
		    "$p/share/tally/systemd/$u.service" \
		    >"$TALLY_TMP/units/$u.service"
	done
	MANPATH=$p/share/man: systemd-analyze verify \
	    "$TALLY_TMP/units/tally-broker.service" \
	    "$TALLY_TMP/units/tally-node.service" >"$TALLY_TMP/verify" 2>&1 || {
		cat "$TALLY_TMP/verify" >&2; fail "systemd-analyze verify"; }
	echo "systemd-analyze verify: OK"
fi

# The default PREFIX is /usr/local.
inst DESTDIR="$TALLY_TMP/root2"
[ -x "$TALLY_TMP/root2/usr/local/bin/tally" ] &&
	[ -x "$TALLY_TMP/root2/usr/local/sbin/tally-broker" ] &&
	[ -f "$TALLY_TMP/root2/usr/local/share/man/man8/tally-node.8" ] ||
	fail "default PREFIX is not /usr/local"
expect_grep '^ExecStart=/usr/local/sbin/tally-broker ' \
    "$TALLY_TMP/root2/usr/local/share/tally/systemd/tally-broker.service"
