# tally gen refuses bad arguments (exit 2) and bad network files (exit 1)
# with a message that names the problem.
. "$(dirname "$0")/../lib/common.sh"
NET=$TALLY_TOP/deploy/network/hospitals.csv
O=$TALLY_TMP/out E=$TALLY_TMP/err

"$T" gen --help >"$O" || fail "--help"
expect_grep "usage: tally gen" "$O"
expect_grep "patients at a lead hospital" "$O"

expect_exit 2 "$T" gen --network "$NET" 2>"$E"
expect_grep "out DIR is required" "$E"
for a in abc 0 -5 100000001 12x; do
	expect_exit 2 "$T" gen --out "$TALLY_TMP/x" --patients "$a" 2>"$E"
	expect_grep "patients '$a'" "$E"
done
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" --seed -1 2>"$E"
expect_grep "seed '-1'" "$E"
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" -j 0 2>"$E"
expect_grep "\-j '0'" "$E"
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" stray 2>"$E"
expect_grep "unexpected argument 'stray'" "$E"
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" --bogus 2>"$E"
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" --network "$NET" --only kumc,nosuch 2>"$E"
expect_grep "no hospital 'nosuch'" "$E"
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" --network "$NET" --only 'kumc,' 2>"$E"
expect_grep "empty hospital id" "$E"
expect_exit 2 "$T" gen --out "$TALLY_TMP/x" --network "$NET" --only 'Bad Id' 2>"$E"
expect_grep "not a hospital id" "$E"
[ ! -e "$TALLY_TMP/x" ] || fail "a refused run created its --out folder"

# The default network file is relative to the current folder.
(cd "$TALLY_TMP" && expect_exit 1 "$T" gen --out "$TALLY_TMP/x" 2>"$E")
expect_grep "deploy/network/hospitals.csv" "$E"
expect_grep "\-\-network" "$E"
expect_exit 1 "$T" gen --out "$TALLY_TMP/x" --network "$TALLY_TMP/none.csv" 2>"$E"
expect_grep "none.csv" "$E"

# Bad network files: the line and the reason.
printf 'consortium,hospital_id,name_ko,name_en\n1,a,x,y\n' >"$TALLY_TMP/nolead.csv"
expect_exit 1 "$T" gen --out "$TALLY_TMP/x" --network "$TALLY_TMP/nolead.csv" 2>"$E"
expect_grep "nolead.csv:1: no column lead" "$E"
printf 'consortium,hospital_id,lead,name_ko,name_en\n1,a,1,x,y\n1,a,0,x,y\n' >"$TALLY_TMP/dup.csv"
expect_exit 1 "$T" gen --out "$TALLY_TMP/x" --network "$TALLY_TMP/dup.csv" 2>"$E"
expect_grep "dup.csv:3: duplicate hospital_id a" "$E"
printf 'consortium,hospital_id,lead,name_ko,name_en\n1,../etc,1,x,y\n' >"$TALLY_TMP/path.csv"
expect_exit 1 "$T" gen --out "$TALLY_TMP/x" --network "$TALLY_TMP/path.csv" 2>"$E"
expect_grep "path.csv:2: hospital_id" "$E"
[ ! -e "$TALLY_TMP/x" ] || fail "a refused run created its --out folder"

# --out must be a folder we can write.
: >"$TALLY_TMP/file"
expect_exit 1 "$T" gen --out "$TALLY_TMP/file" --network "$NET" --only kumc --patients 10 2>"$E"
expect_grep "not a directory" "$E"
expect_exit 1 "$T" gen --out "$TALLY_TMP/no/such/dir" --network "$NET" --only kumc --patients 10 2>"$E"
expect_grep "no/such/dir" "$E"

# A network file of our own: unknown ids get a size and a kind.
printf 'consortium,hospital_id,lead,name_ko,name_en\n1,alpha,1,a,Alpha\n1,beta-eye,0,b,Beta Eye Hospital\n' >"$TALLY_TMP/own.csv"
"$T" gen --out "$TALLY_TMP/own" --network "$TALLY_TMP/own.csv" --patients 100 -q >/dev/null ||
	fail "own network"
[ "$(sqlite3 "$TALLY_TMP/own/alpha.db" 'SELECT count(*) FROM person')" = 100 ] ||
	fail "alpha (lead) should have 100 patients"
n=$(sqlite3 "$TALLY_TMP/own/beta-eye.db" "SELECT 100 * sum(code GLOB 'H*') / count(*) FROM diagnosis")
[ "$n" -ge 90 ] || fail "beta-eye: only $n% eye diagnoses"
echo ok
