# tally gen is a pure function of (seed, hospital, --patients): the same
# seed gives the same content, --only X gives what a full run gives for X
# (whatever -j), another seed gives other data; DBs appear only whole.
. "$(dirname "$0")/../lib/common.sh"
NET=$TALLY_TOP/deploy/network/hospitals.csv

# ordered dump of every table, hashed
dumphash() {
	sqlite3 "$1" "SELECT * FROM person ORDER BY person_id;
	    SELECT * FROM visit ORDER BY visit_id;
	    SELECT * FROM diagnosis ORDER BY rowid;
	    SELECT * FROM lab ORDER BY rowid;
	    SELECT * FROM drug ORDER BY rowid;
	    SELECT * FROM procedure ORDER BY rowid;
	    SELECT * FROM meta ORDER BY key;" | sha256sum | cut -d' ' -f1
}

A=$TALLY_TMP/a B=$TALLY_TMP/b C=$TALLY_TMP/c
"$T" gen --out "$A" --network "$NET" --patients 200 --seed 5 -j 2 \
    >"$TALLY_TMP/out" 2>"$TALLY_TMP/err" || { cat "$TALLY_TMP/err"; fail "full run"; }
expect_grep "43 hospitals" "$TALLY_TMP/out"
expect_grep "rows/s" "$TALLY_TMP/out"

# One DB per hospital of the network file, named by its id; no temp files.
tail -n +2 "$NET" | cut -d, -f2 | sort >"$TALLY_TMP/ids"
ls "$A" | sed 's/\.db$//' | sort >"$TALLY_TMP/files"
cmp -s "$TALLY_TMP/ids" "$TALLY_TMP/files" || fail "DB files do not match the network"
[ -z "$(ls -A "$A" | grep '^\.' || true)" ] || fail "temp files left in $A"

"$T" gen --out "$B" --network "$NET" --patients 200 --seed 5 -j 1 \
    --only ncc,kims-eye,kumc >/dev/null 2>&1 || fail "--only run"
[ "$(ls "$B" | wc -l)" = 3 ] || fail "--only wrote $(ls "$B" | wc -l) DBs, expected 3"
"$T" gen --out "$TALLY_TMP/d" --network "$NET" --patients 200 --seed 5 \
    --only kumc,kumc -j 3 >/dev/null 2>&1 || fail "--only kumc,kumc"
[ "$(ls "$TALLY_TMP/d")" = kumc.db ] || fail "--only kumc,kumc: $(ls "$TALLY_TMP/d")"
[ "$(dumphash "$TALLY_TMP/d/kumc.db")" = "$(dumphash "$A/kumc.db")" ] ||
	fail "kumc with -j 3 differs"
"$T" gen --out "$C" --network "$NET" --patients 200 --seed 6 -j 1 \
    --only kumc >/dev/null 2>&1 || fail "seed 6 run"
for h in kumc kims-eye ncc; do
	ha=$(dumphash "$A/$h.db") hb=$(dumphash "$B/$h.db")
	[ "$ha" = "$hb" ] || fail "$h: --only run differs from the full run"
done
[ "$(dumphash "$A/kumc.db")" != "$(dumphash "$C/kumc.db")" ] ||
	fail "seed 5 and seed 6 give the same kumc"
# Other hospitals do not share a site's data.
[ "$(dumphash "$A/kumc.db")" != "$(dumphash "$A/snuh.db")" ] ||
	fail "kumc and snuh are identical"

# Regenerating replaces the DB whole.
"$T" gen --out "$B" --network "$NET" --patients 200 --seed 6 --only kumc \
    >/dev/null 2>&1 || fail "regenerate"
[ "$(dumphash "$B/kumc.db")" = "$(dumphash "$C/kumc.db")" ] ||
	fail "regenerated kumc differs from a fresh seed-6 kumc"
[ -z "$(ls -A "$B" | grep '^\.' || true)" ] || fail "temp files left in $B"
echo ok
