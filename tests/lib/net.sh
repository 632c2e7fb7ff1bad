# net.sh — sourced by end-to-end tests after common.sh: a small real
# network on loopback (PKI, Baseline DBs, configs, a broker and nodes as
# real processes), torn down when the test exits.
#
#   net_init                 PKI + data + configs for the sites in $NET_SITES
#   net_broker_start         starts tally-broker (net_broker_stop, _kill)
#   net_node_start SITE      starts a node (net_node_stop SITE, _kill SITE)
#   net_wait_nodes N         waits until the broker reports N connected
#   net_approve FILE ARGS..  signs an approval (DRB "drb") to stdout
#   net_submit ARGS..        tally submit as researcher "kim"

NET=$TALLY_TMP/net
NET_SITES=${NET_SITES:-"snuh amc ncc kumc kims-eye"}
NET_PORT=$(free_port)
while [ "$NET_PORT" = "${NET_HTTP:-}" ]; do NET_PORT=$(free_port); done
NET_PIDS=""

net_cleanup() {
	for p in $NET_PIDS; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
	rm -rf "$TALLY_TMP"
}
trap net_cleanup EXIT
[ -n "${NET_KEEP:-}" ] && trap "for p in \$NET_PIDS; do kill -9 \$p 2>/dev/null || true; done" EXIT

net_init() {
	mkdir -p "$NET/conf" "$NET/state" "$NET/log" "$NET/db"
	head -1 "$TALLY_TOP/deploy/network/hospitals.csv" >"$NET/network.csv"
	for s in $NET_SITES; do
		grep "^[0-9]*,$s," "$TALLY_TOP/deploy/network/hospitals.csv" \
		    >>"$NET/network.csv"
	done
	"$T" pki init --dir "$NET/pki" --consortium test >/dev/null
	for n in broker:broker researcher:kim researcher:lee operator:ops \
	    drb:drb drb:rogue-drb; do
		"$T" pki issue --dir "$NET/pki" --role "${n%%:*}" \
		    --name "${n#*:}" >/dev/null
	done
	for s in $NET_SITES; do
		"$T" pki issue --dir "$NET/pki" --role node --name "$s" >/dev/null
	done
	"$T" gen --out "$NET/db" --network "$NET/network.csv" \
	    --patients "${NET_PATIENTS:-2000}" --seed 7 >/dev/null 2>&1
	P=$NET/pki
	cat >"$NET/conf/broker.conf" <<EOF
listen = tcp://127.0.0.1:$NET_PORT
http = 127.0.0.1:${NET_HTTP:-0}
state = $NET/state/broker.db
network = $NET/network.csv
ca = $P/ca.crt
crl = $P/crl.pem
cert = $P/broker.crt
key = $P/broker.key
drb_certs = $P/drb.crt
query_deadline_s = ${NET_DEADLINE:-20}
heartbeat_ms = 500
heartbeat_timeout_ms = 2000
EOF
	for s in $NET_SITES; do
		c=$(grep "^[0-9]*,$s," "$NET/network.csv" | cut -d, -f1)
		cat >"$NET/conf/node-$s.conf" <<EOF
site = $s
consortium = $c
broker = tcp://127.0.0.1:$NET_PORT
db = $NET/db/$s.db
state = $NET/state/node-$s.db
ca = $P/ca.crt
crl = $P/crl.pem
cert = $P/$s.crt
key = $P/$s.key
drb_certs = $P/drb.crt
min_cell = ${NET_MIN_CELL:-10}
heartbeat_ms = 500
heartbeat_timeout_ms = 2000
EOF
	done
	for who in kim lee ops; do
		cat >"$NET/conf/$who.conf" <<EOF
broker = tcp://127.0.0.1:$NET_PORT
ca = $P/ca.crt
crl = $P/crl.pem
cert = $P/$who.crt
key = $P/$who.key
EOF
	done
}

net_broker_start() {
	"$TALLY_BIN/tally-broker" -d -v -c "$NET/conf/broker.conf" \
	    >>"$NET/log/broker.log" 2>&1 &
	NET_BROKER=$!
	NET_PIDS="$NET_PIDS $NET_BROKER"
}

net_broker_kill() { kill -9 "$NET_BROKER" 2>/dev/null || true; wait "$NET_BROKER" 2>/dev/null || true; }
# Stops a daemon the way an operator does (SIGTERM) and fails unless it
# exits 0 on its own within 10 s (under the sanitizers, a leak found at
# exit makes the status non-zero).
net_stop_pid() {
	kill -TERM "$1"
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$1" 2>/dev/null && fail "$2 did not stop on SIGTERM"
	rc=0; wait "$1" || rc=$?
	[ $rc = 0 ] || fail "$2 exited $rc on SIGTERM"
}
net_broker_stop() { net_stop_pid "$NET_BROKER" tally-broker; }

net_node_start() {
	"$TALLY_BIN/tally-node" -d -v -c "$NET/conf/node-$1.conf" \
	    >>"$NET/log/node-$1.log" 2>&1 &
	eval "NET_NODE_$(echo "$1" | tr -- - _)=$!"
	NET_PIDS="$NET_PIDS $!"
}

net_node_pid() { eval "echo \$NET_NODE_$(echo "$1" | tr -- - _)"; }
net_node_stop() { net_stop_pid "$(net_node_pid "$1")" "tally-node $1"; }
net_node_kill() { p=$(net_node_pid "$1"); kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; }

net_start_all() {
	net_broker_start
	for s in $NET_SITES; do net_node_start "$s"; done
}

# Waits until the broker reports at least N registered nodes.
net_wait_nodes() {
	i=0
	while [ $i -lt 150 ]; do
		up=$("$T" status -c "$NET/conf/ops.conf" --json 2>/dev/null |
		    grep -c '"connected": true') || up=0
		[ "$up" -ge "$1" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	cat "$NET/log/broker.log" >&2
	fail "only $up of $1 nodes registered"
}

net_approve() {
	_nq=$1
	shift
	"$T" approve --key "$NET/pki/drb.key" --researcher kim --project p1 \
	    "$@" "$_nq" 2>/dev/null
}

net_submit() { "$T" submit -c "$NET/conf/kim.conf" "$@"; }

# Sum of the released total of a result document (count, or low..high).
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
