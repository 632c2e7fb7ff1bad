# End to end: a broker and five nodes as real processes with real
# certificates and Baseline DBs. An approved query comes back complete,
# its pooled total equals what the sites release locally, a query scoped
# to one consortium reaches only its hospitals, per-site columns appear
# when asked, results can be fetched again, status shows the work.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"

net_init
net_start_all
net_wait_nodes 5

q=$TALLY_TOP/docs/examples/ibd.json
net_approve "$q" --sites all >"$TALLY_TMP/a1.json"
net_submit --approval "$TALLY_TMP/a1.json" --wait --json "$q" \
    >"$TALLY_TMP/r1.json" 2>"$TALLY_TMP/err" || { cat "$TALLY_TMP/err"; fail "submit"; }
[ "$(json_field "$TALLY_TMP/r1.json" 'd["status"]')" = complete ] || fail "not complete"
[ "$(json_field "$TALLY_TMP/r1.json" 'd["sites"]["answered"]')" = 5 ] || fail "not 5 answered"
[ "$(json_field "$TALLY_TMP/r1.json" 'd["strata"]')" = "['sex', 'age_band']" ] || fail "strata"

# The pooled total is the sum of what each site releases on its own
# (when every site's total is released exactly).
printf 'min_cell = %s\n' "${NET_MIN_CELL:-10}" >"$TALLY_TMP/policy.conf"
sum=0 exact=1
for s in $NET_SITES; do
	"$T" local --db "$NET/db/$s.db" --policy "$TALLY_TMP/policy.conf" --json "$q" \
	    >"$TALLY_TMP/l.json" || fail "tally local on $s"
	c=$(json_field "$TALLY_TMP/l.json" 'd["total"].get("count", "x")')
	[ "$c" = x ] && exact=0 || sum=$((sum + c))
done
if [ $exact = 1 ]; then
	got=$(json_field "$TALLY_TMP/r1.json" 'd["total"]["count"]')
	[ "$got" = "$sum" ] || fail "pooled total $got, sites released $sum"
fi
id=$(json_field "$TALLY_TMP/r1.json" 'd["query_id"]')

# The same document again, later.
"$T" results -c "$NET/conf/kim.conf" --json "$id" >"$TALLY_TMP/r1b.json"
cmp -s "$TALLY_TMP/r1.json" "$TALLY_TMP/r1b.json" || fail "results differ from submit"
# Another researcher cannot see it.
expect_exit 1 "$T" results -c "$NET/conf/lee.conf" "$id" 2>"$TALLY_TMP/err"
expect_grep "no such query" "$TALLY_TMP/err"

# Scoped to consortium 5: amc and ncc only.
net_approve "$q" --sites consortium:5 >"$TALLY_TMP/a2.json"
net_submit --approval "$TALLY_TMP/a2.json" --wait --json "$q" >"$TALLY_TMP/r2.json" 2>/dev/null
[ "$(json_field "$TALLY_TMP/r2.json" 'd["sites"]["total"]')" = 2 ] || fail "scope: not 2 sites"
id2=$(json_field "$TALLY_TMP/r2.json" 'd["query_id"]')
for s in snuh kumc kims-eye; do
	! grep -q "$id2" "$NET/log/node-$s.log" || fail "$s saw an out-of-scope task"
done

# Per-site columns when the query asks for them.
sed 's/"strata":   \["sex", "age_band"\]/"strata": ["sex"], "by_site": true/' "$q" >"$TALLY_TMP/bysite.json"
net_approve "$TALLY_TMP/bysite.json" >"$TALLY_TMP/a3.json"
net_submit --approval "$TALLY_TMP/a3.json" --wait --json "$TALLY_TMP/bysite.json" >"$TALLY_TMP/r3.json" 2>/dev/null
[ "$(json_field "$TALLY_TMP/r3.json" 'len(d.get("by_site", []))')" = 5 ] || fail "by_site missing"

# A readable table on stdout without --json.
net_submit --approval "$TALLY_TMP/a1.json" --wait "$q" >"$TALLY_TMP/table.txt" 2>/dev/null
expect_grep "sites: 5 of 5 answered" "$TALLY_TMP/table.txt"
expect_grep "^total" "$TALLY_TMP/table.txt"

# Operators see the work, never counts.
"$T" status -c "$NET/conf/ops.conf" --json >"$TALLY_TMP/st.json"
[ "$(json_field "$TALLY_TMP/st.json" 'sum(n["served"] for n in d["nodes"])')" -ge 12 ] || fail "served"
"$T" audit verify --db "$NET/state/broker.db" >"$TALLY_TMP/audit" || fail "broker audit"
for s in $NET_SITES; do
	"$T" audit verify --db "$NET/state/node-$s.db" >/dev/null || fail "$s audit"
done
echo ok
