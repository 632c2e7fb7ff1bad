# End to end under faults, with real processes and kill -9:
# - a node that is down: its site times out, the result is partial and
#   names it;
# - a node killed while it holds a task: the same;
# - the broker killed with a query in flight: after a restart the query
#   resumes and completes, nothing is lost, no node spends a second run,
#   and nodes that had answered before answer again from their cache.
. "$(dirname "$0")/../lib/common.sh"
NET_DEADLINE=6
. "$(dirname "$0")/../lib/net.sh"

net_init
net_start_all
net_wait_nodes 5
q=$TALLY_TOP/docs/examples/osa_psg.json
net_approve "$q" --runs 10 >"$TALLY_TMP/a.json"

# A node that is down when the query runs.
net_node_kill kims-eye
net_submit --approval "$TALLY_TMP/a.json" --wait --json "$q" >"$TALLY_TMP/r1.json" 2>/dev/null
[ "$(json_field "$TALLY_TMP/r1.json" 'd["status"]')" = partial ] || fail "not partial"
[ "$(json_field "$TALLY_TMP/r1.json" 'd["sites"]["timed_out"]')" = "['kims-eye']" ] || fail "kims-eye not listed"
[ "$(json_field "$TALLY_TMP/r1.json" 'd["sites"]["answered"]')" = 4 ] || fail "not 4 answered"
net_node_start kims-eye
net_wait_nodes 5

# A node killed while it holds the task: stopped first so that it cannot
# answer, then killed once the task was delivered.
kill -STOP "$(net_node_pid ncc)"
net_submit --approval "$TALLY_TMP/a.json" --json "$q" >"$TALLY_TMP/s2.json" 2>/dev/null
id2=$(json_field "$TALLY_TMP/s2.json" 'd["query_id"]')
sleep 1
net_node_kill ncc
"$T" results -c "$NET/conf/kim.conf" --wait --json "$id2" >"$TALLY_TMP/r2.json" 2>/dev/null || true
[ "$(json_field "$TALLY_TMP/r2.json" 'd["status"]')" = partial ] || fail "killed node: not partial"
[ "$(json_field "$TALLY_TMP/r2.json" 'd["sites"]["timed_out"]')" = "['ncc']" ] || fail "ncc not listed"
net_node_start ncc
net_wait_nodes 5

# The broker killed with a query in flight: one node holds its answer
# back (stopped), the others answer, then the broker dies.
kill -STOP "$(net_node_pid amc)"
net_submit --approval "$TALLY_TMP/a.json" --json "$q" >"$TALLY_TMP/s3.json" 2>/dev/null
id3=$(json_field "$TALLY_TMP/s3.json" 'd["query_id"]')
sleep 1
net_broker_kill
net_broker_start
kill -CONT "$(net_node_pid amc)"
net_wait_nodes 5
"$T" results -c "$NET/conf/kim.conf" --wait --json "$id3" >"$TALLY_TMP/r3.json" 2>/dev/null
[ "$(json_field "$TALLY_TMP/r3.json" 'd["status"]')" = complete ] || fail "resumed query not complete"
[ "$(json_field "$TALLY_TMP/r3.json" 'd["sites"]["answered"]')" = 5 ] || fail "resumed: not 5 answered"
expect_grep "resuming 1 unfinished query" "$NET/log/broker.log"
# Runs: queries 1 and 3 everywhere; none counted twice.
for s in snuh kumc; do
	r=$(sqlite3 "$NET/state/node-$s.db" "SELECT runs FROM approval_runs")
	[ "$r" = 3 ] || fail "$s counted $r runs for 3 queries"
done

# The broker stopped as soon as it has dispatched, then killed: nodes
# answer into the void; after the restart the re-sent tasks are answered
# from the nodes' caches, without spending runs.
net_submit --approval "$TALLY_TMP/a.json" --json "$q" >"$TALLY_TMP/s4.json" 2>/dev/null
kill -STOP "$NET_BROKER"
id4=$(json_field "$TALLY_TMP/s4.json" 'd["query_id"]')
sleep 2
answered=$(cat "$NET"/log/node-*.log | grep -c "task $id4/.* done") || answered=0
net_broker_kill
# Read once it is dead: a stopped process may hold the database's locks.
recorded=$(sqlite3 "$NET/state/broker.db" "SELECT count(*) FROM task WHERE query_id='$id4' AND state=3")
net_broker_start
net_wait_nodes 5
"$T" results -c "$NET/conf/kim.conf" --wait --json "$id4" >"$TALLY_TMP/r4.json" 2>/dev/null
[ "$(json_field "$TALLY_TMP/r4.json" 'd["status"]')" = complete ] || fail "query 4 not complete"
cached=$(sqlite3 "$NET/state/broker.db" "SELECT count(*) FROM task WHERE query_id='$id4' AND cached=1")
echo "query 4: $answered answered before the kill, $recorded recorded, $cached from cache"
[ "$cached" -ge $((answered - recorded)) ] || fail "answers lost with the broker did not come from cache"
for s in snuh kumc; do
	r=$(sqlite3 "$NET/state/node-$s.db" "SELECT runs FROM approval_runs")
	[ "$r" = 4 ] || fail "$s counted $r runs for 4 queries"
done
"$T" audit verify --db "$NET/state/broker.db" >/dev/null || fail "audit"
echo ok
