# End to end: the daemons stop cleanly on SIGTERM (what systemd and
# `make demo-stop` send) after real work: a query answered, one refused
# for its budget, a status request. Each logs that it is stopping and
# exits 0; under the sanitizers a leak found at exit fails the test.
# (A worker or HTTP thread that did not block SIGTERM used to take the
# signal's default action and kill the process with status 143.)
. "$(dirname "$0")/../lib/common.sh"
NET_SITES="snuh amc"
. "$(dirname "$0")/../lib/net.sh"

net_init
net_start_all
net_wait_nodes 2

q=$TALLY_TOP/docs/examples/ibd.json
net_approve "$q" --sites all --runs 1 >"$TALLY_TMP/a.json"
net_submit --approval "$TALLY_TMP/a.json" --wait --json "$q" \
    >"$TALLY_TMP/r1.json" 2>"$TALLY_TMP/err" || { cat "$TALLY_TMP/err"; fail "submit"; }
[ "$(json_field "$TALLY_TMP/r1.json" 'd["status"]')" = complete ] || fail "not complete"
expect_exit 1 net_submit --approval "$TALLY_TMP/a.json" --wait --json "$q" \
    >"$TALLY_TMP/r2.json" 2>/dev/null
"$T" status -c "$NET/conf/ops.conf" >/dev/null || fail "status"

for s in $NET_SITES; do
	net_node_stop "$s"
	expect_grep "signal 15: stopping" "$NET/log/node-$s.log"
done
net_broker_stop
expect_grep "signal 15: stopping" "$NET/log/broker.log"
echo ok
