# tally audit verify detects an edit, an insertion, a deletion and (with
# --head) a truncation, on a real SQLite file tampered with by the
# sqlite3 command-line tool; the append-only triggers refuse plain edits.
. "$(dirname "$0")/../lib/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI not installed"

db=$TALLY_TMP/audit.db
fresh() { rm -f "$db"; "$TALLY_PROGS/audit_fill" "$db" 10; }

fresh
"$T" audit verify --db "$db" >"$TALLY_TMP/out"
expect_grep "audit OK: 10 records, head " "$TALLY_TMP/out"
head=$(sed 's/.*head //' "$TALLY_TMP/out")

# Triggers refuse edits made through SQLite.
if sqlite3 "$db" "UPDATE audit SET detail='x' WHERE seq=3" 2>"$TALLY_TMP/err"; then
	fail "the trigger let an UPDATE through"
fi
expect_grep "append-only" "$TALLY_TMP/err"

untrigger="DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"

# An edit.
sqlite3 "$db" "$untrigger UPDATE audit SET detail='query q-999' WHERE seq=4"
expect_exit 1 "$T" audit verify --db "$db" >"$TALLY_TMP/out"
expect_grep "BROKEN at record 4: record content does not match its hash" "$TALLY_TMP/out"

# A deletion in the middle.
fresh
sqlite3 "$db" "$untrigger DELETE FROM audit WHERE seq=6"
expect_exit 1 "$T" audit verify --db "$db" >"$TALLY_TMP/out"
expect_grep "BROKEN at record 6: record missing" "$TALLY_TMP/out"

# An insertion: a copied record renumbered into the chain's place.
fresh
sqlite3 "$db" "$untrigger UPDATE audit SET seq=-(seq+1) WHERE seq>=8; UPDATE audit SET seq=-seq WHERE seq<0;
  INSERT INTO audit SELECT 8, ts, actor, event, 'forged', prev, hash FROM audit WHERE seq=2;"
expect_exit 1 "$T" audit verify --db "$db" >"$TALLY_TMP/out"
expect_grep "BROKEN at record 8" "$TALLY_TMP/out"

# Truncation is caught against the recorded head.
fresh
head=$("$T" audit verify --db "$db" | sed 's/.*head //')
sqlite3 "$db" "$untrigger DELETE FROM audit WHERE seq=10"
"$T" audit verify --db "$db" >/dev/null || fail "truncated chain should still link"
expect_exit 1 "$T" audit verify --db "$db" --head "$head" >"$TALLY_TMP/out"
expect_grep "not the recorded" "$TALLY_TMP/out"

# Not a database / no such file.
echo junk >"$TALLY_TMP/junk.db"
expect_exit 1 "$T" audit verify --db "$TALLY_TMP/junk.db" 2>/dev/null
expect_exit 1 "$T" audit verify --db "$TALLY_TMP/none.db" 2>/dev/null
expect_exit 2 "$T" audit 2>/dev/null
echo ok
