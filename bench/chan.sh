#!/bin/sh
# chan.sh — the secure channel (mutual TLS 1.3 in ZeroMQ) against plain
# ZeroMQ, same sockets and sizes, in one run (bench/chan.c). Sizes:
#   CHAN_BENCH_N       round trips per measurement   [20000]
#   CHAN_BENCH_SIZE    bytes per request and reply   [256]
#   CHAN_BENCH_WINDOW  requests in flight (throughput) [64]
#   CHAN_BENCH_HS      connections / handshakes timed [100]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/rel/bench/chan
[ -x "$bin" ] || { echo "chan: $bin not built (make bench-progs)"; exit 1; }
tmp=$(mktemp -d /tmp/tally-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$top/bin/tally" pki init --dir "$tmp/pki" --consortium bench >/dev/null
"$top/bin/tally" pki issue --dir "$tmp/pki" --role broker --name broker >/dev/null
"$top/bin/tally" pki issue --dir "$tmp/pki" --role node --name bench >/dev/null
"$bin" "$tmp/pki"
